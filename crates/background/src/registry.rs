//! Keeps the dynamic content-script registrations in step with the configuration: the bridge on
//! the CRM sites the agent enabled, and the probe plus its page-world hook in the widget's frame.

use crate::{load_config, log};
use protocol::config::match_pattern;
use webext::scripting::{self, ContentScript, World};

pub async fn sync() {
    let scripts = match load_config().await {
        Some(c) => {
            let mut list = Vec::new();
            if !c.sites.is_empty() {
                list.push(ContentScript {
                    id: "crm".into(),
                    matches: c.sites.iter().map(|s| match_pattern(s)).collect(),
                    js: vec!["content.js".into()],
                    all_frames: false,
                    run_at: "document_idle",
                    world: World::Isolated,
                });
            }
            if let Some(origin) = c.widget_origin() {
                let matches = vec![match_pattern(&origin)];
                list.push(ContentScript {
                    id: "widget-hook".into(),
                    matches: matches.clone(),
                    js: vec!["widget-hook.js".into()],
                    all_frames: true,
                    run_at: "document_start",
                    world: World::Main,
                });
                list.push(ContentScript {
                    id: "widget-probe".into(),
                    matches,
                    js: vec!["content.js".into()],
                    all_frames: true,
                    run_at: "document_start",
                    world: World::Isolated,
                });
            }
            list
        }
        None => Vec::new(),
    };
    match scripting::replace_all(&scripts).await {
        Ok(()) => log(&format!(
            "content scripts registered: {}",
            scripts
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Err(e) => log(&format!("content scripts could not be registered: {e}")),
    }
}
