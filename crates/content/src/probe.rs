//! The liveness probe: this content script running inside the widget's own frame.
//!
//! Microsoft's stock driver says nothing until a conversation loads, and a frame whose framing
//! was refused fires `load` all the same, so the panel cannot learn from the widget whether it
//! is alive. The probe can: it runs only when the widget's document really runs, and it reports
//! (over `chrome.runtime`, which the page cannot forge) three facts — alive, driver bound
//! (signalled by `extension/widget-hook.js` in the page's world once `bindEvents()` returned),
//! and gone (the document unloads).

use crate::log;
use gloo_events::EventListener;
use protocol::ext::{self, OneShot, ProbeReport};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use web_sys::Window;

/// The DOM event the page-world hook dispatches when the driver is bound, and the attribute it
/// leaves behind in case the probe starts later.
pub const READY_EVENT: &str = "ccaas-bridge:driver-ready";
pub const READY_ATTR: &str = "data-ccaas-driver-ready";

thread_local! {
    /// The probe's listeners live as long as the widget's document, which is as long as this
    /// wasm instance: owning them here keeps them without leaking closures.
    static LISTENERS: RefCell<Vec<EventListener>> = const { RefCell::new(Vec::new()) };
}

/// True in a frame whose parent is one of this extension's pages (the panel).
pub fn is_our_widget_frame(window: &Window) -> bool {
    let is_top = window.top().ok().flatten().is_some_and(|t| t == *window);
    if is_top {
        return false;
    }
    // `ancestorOrigins` is not in web-sys; where a browser lacks it, the worker's origin check
    // on every report is what stands. The extension's origin is asked for, not spelled out:
    // `moz-extension://<uuid>` in Firefox (whose ESR 153 has `ancestorOrigins`), where the probe
    // never started while this said `chrome-extension://<id>`.
    let ancestors = webext::get(&window.location(), "ancestorOrigins");
    if ancestors.is_undefined() {
        return true;
    }
    let parent = webext::get(&ancestors, "0").as_string().unwrap_or_default();
    webext::runtime::get_url("")
        .is_ok_and(|own| !parent.is_empty() && own.trim_end_matches('/') == parent)
}

fn report(r: ProbeReport) {
    let text = ext::encode(&OneShot::Probe { report: r });
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = webext::runtime::send_message(&text).await {
            log::debug(&format!("probe report not delivered: {e}"));
        }
    });
}

pub fn start() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(doc) = window.document() else { return };
    let id = log::random_id();
    report(ProbeReport::Alive { doc: id.clone() });

    let already = doc
        .document_element()
        .is_some_and(|e| e.has_attribute(READY_ATTR));
    if already {
        report(ProbeReport::DriverReady { doc: id.clone() });
    }
    let doc_id = id.clone();
    let on_ready = EventListener::new(&doc, READY_EVENT, move |_| {
        report(ProbeReport::DriverReady {
            doc: doc_id.clone(),
        });
    });
    let doc_id = id;
    let on_hide = EventListener::new(&window, "pagehide", move |e| {
        // A page kept in the back/forward cache comes back; only a real unload is "gone".
        let persisted = e
            .dyn_ref::<web_sys::PageTransitionEvent>()
            .is_some_and(|p| p.persisted());
        if !persisted {
            report(ProbeReport::Gone {
                doc: doc_id.clone(),
            });
        }
    });
    LISTENERS.with(|l| l.borrow_mut().extend([on_ready, on_hide]));
}
