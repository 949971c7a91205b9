//! The toolbar popup: whether the current site is enabled, and the way to the options page.

use crate::util::{by_id, load_config, set_text};
use gloo_events::EventListener;
use std::cell::RefCell;
use web_sys::Element;

thread_local! {
    static LISTENERS: RefCell<Vec<EventListener>> = const { RefCell::new(Vec::new()) };
}

pub fn start() {
    if let Some(b) = by_id::<Element>("open-options") {
        let l = EventListener::new(&b, "click", |_| {
            wasm_bindgen_futures::spawn_local(async {
                let _ = webext::runtime::open_options_page().await;
            });
        });
        LISTENERS.with(|ls| ls.borrow_mut().push(l));
    }
    wasm_bindgen_futures::spawn_local(async {
        let tab = webext::tabs::active_tab().await.ok().flatten();
        let origin = tab.and_then(|(_, url)| url).and_then(|u| {
            let (scheme, rest) = u.split_once("://")?;
            Some(format!("{scheme}://{}", rest.split('/').next()?))
        });
        let config = load_config().await.ok().flatten();
        let text = match (config, origin) {
            (None, _) => "Not configured yet: set the widget URL in the options.".to_owned(),
            (Some(c), Some(o)) if c.covers(&o) => format!("Softphone enabled on {o}"),
            (Some(_), Some(o)) => format!("Not enabled on {o}"),
            (Some(_), None) => "No site in this tab.".to_owned(),
        };
        set_text("site-status", &text);
    });
}
