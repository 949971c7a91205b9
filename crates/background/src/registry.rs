//! Keeps the dynamic content-script registrations in step with the configuration: the bridge on
//! the CRM sites the agent enabled, and the probe plus its page-world hook in the widget's frame.

use crate::{load_config, log};
use js_sys::Promise;
use protocol::config::{match_pattern, Config, ManagedPolicy};
use std::cell::RefCell;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use webext::scripting::{self, ContentScript, World};
use webext::storage::{self, Area};

/// Writes the administrator's policy over the stored configuration (field by field), so that
/// every context, which reads only `storage.local`, follows it.
async fn apply_policy() {
    let Ok(Some(text)) = storage::get_all_text(Area::Managed).await else {
        return;
    };
    let Ok(v) = protocol::json::parse_bounded(&text) else {
        return;
    };
    let (policy, warnings) = ManagedPolicy::from_value(&v);
    for w in warnings {
        log(&w);
    }
    if policy.is_empty() {
        return;
    }
    let local = load_config().await;
    let base = match (&local, &policy.widget_url) {
        (Some(c), _) => c.clone(),
        (None, Some(url)) => match Config::new(url, &[]) {
            Ok(c) => c,
            Err(_) => return,
        },
        (None, None) => return,
    };
    let merged = policy.apply(base);
    if local.as_ref() != Some(&merged) {
        match storage::set_text(Area::Local, "config", &merged.to_text()).await {
            Ok(()) => log("configuration updated from the administrator's policy"),
            Err(e) => log(&format!(
                "the administrator's policy could not be applied: {e}"
            )),
        }
    }
}

thread_local! {
    /// The sync that runs or ran last: each new one waits for it, so that two never interleave
    /// their unregister/register calls (a save brings both `storage.onChanged` and
    /// `ConfigSaved`, and the panel asks too before it loads a new widget origin).
    static LAST: RefCell<Option<Promise>> = const { RefCell::new(None) };
}

/// Brings the registrations in step with the configuration; resolves once they are.
pub async fn sync() {
    let previous = LAST.with(|l| l.borrow_mut().take());
    let run = future_to_promise(async move {
        if let Some(p) = previous {
            let _ = JsFuture::from(p).await;
        }
        sync_now().await;
        Ok(JsValue::UNDEFINED)
    });
    LAST.with(|l| *l.borrow_mut() = Some(run.clone()));
    let _ = JsFuture::from(run).await;
}

async fn sync_now() {
    apply_policy().await;
    let config = load_config().await;
    crate::scan::forget_options();
    sync_menu(config.as_ref()).await;
    let scripts = match &config {
        Some(c) => {
            let mut list = Vec::new();
            let crm = c.crm_patterns();
            if !crm.is_empty() {
                // At document_start, not document_idle: Chrome runs an idle (or end) script only
                // once the page has rendered for the first time, and holds the page's load event
                // until it has run. On a big CRM list that moved the load event from 1.2 s to
                // 3-4 s even for a script that does nothing. The loader compiles the wasm at once
                // and starts the bridge at DOMContentLoaded (see content.js).
                list.push(ContentScript {
                    id: "crm".into(),
                    matches: crm,
                    js: vec!["content.js".into()],
                    all_frames: false,
                    run_at: "document_start",
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
    let before = match scripting::replace_all(&scripts).await {
        Ok(before) => {
            // Only when something changed: a restarted worker (in Firefox every 30 s idle)
            // finds them as they were.
            if before.replaced() {
                log(&format!(
                    "content scripts registered: {}",
                    scripts
                        .iter()
                        .map(|s| s.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            before
        }
        Err(e) => {
            log(&format!("content scripts could not be registered: {e}"));
            return;
        }
    };
    let fresh = first_start().await;
    if fresh {
        crate::owner::release_earlier_instance().await;
    }
    if let Some(c) = &config {
        // After the extension was turned off and on again, its registrations are still there,
        // but the open tabs lost their content script when it went off: all of them count.
        start_in_open_tabs(c, if fresh { &[] } else { before.matches("crm") }).await;
    }
}

/// Marks, in `storage.session`, that this instance of the extension has started (in the open
/// tabs, and with the tab an earlier instance kept loaded released). The browser empties that
/// storage when the extension is turned off, reloaded or updated and when it restarts, so the
/// mark is missing exactly once per instance: true then.
async fn first_start() -> bool {
    const KEY: &str = "startedInOpenTabs";
    match storage::get_text(Area::Session, KEY).await {
        Ok(None) => {
            let _ = storage::set_text(Area::Session, KEY, "1").await;
            true
        }
        _ => false,
    }
}

/// A site just added to the list (`before` holds the sites listed until now) starts in the tabs
/// already open on it, as the agent expects after pressing Save, not only after a reload. Only
/// listed sites: turning on "all sites" does not inject into every open tab at once (those
/// start on their next load). A tab that already runs the bridge is left alone by the loader's
/// guard.
async fn start_in_open_tabs(c: &Config, before: &[String]) {
    let added: Vec<String> = c
        .sites
        .iter()
        .map(|s| match_pattern(s))
        .filter(|p| !before.contains(p))
        .collect();
    if added.is_empty() {
        return;
    }
    let tabs = match webext::tabs::query_urls(&added).await {
        Ok(t) => t,
        Err(e) => return log(&format!("open tabs of the added sites not found: {e}")),
    };
    // Not awaited, and each tab on its own: the worker's start waits for this function, and
    // every port and message waits for that start.
    for tab in tabs {
        wasm_bindgen_futures::spawn_local(async move {
            match scripting::execute_file(tab, "content.js").await {
                Ok(()) => log(&format!("started in the open tab {tab} of a listed site")),
                Err(e) => log(&format!("could not start in the open tab {tab}: {e}")),
            }
        });
    }
}

/// The context menu's "Call <selection>" item, on the CRM sites only.
async fn sync_menu(config: Option<&Config>) {
    let patterns = config.map(Config::crm_patterns).unwrap_or_default();
    if let Err(e) = webext::menus::set_selection_item(crate::MENU_CALL, "Call %s", &patterns).await
    {
        log(&format!("the context menu could not be set: {e}"));
    }
}
