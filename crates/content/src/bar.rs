//! The slim bar a tab shows while the one softphone lives in another tab: "Softphone is open in
//! <title>", with "Open here" (move it to this tab) and "Show" (switch to that tab).
//!
//! Like the panel, a guest in the page: one fixed-positioned custom element on `<html>` with a
//! closed shadow root, placed inside the page's scrollbar, so the page's layout never moves.
//! Dropping it removes the element and its listeners.

use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::{HtmlElement, ShadowRoot, Window};

/// The custom element's tag; also how a bar left behind by a reloaded extension is found.
pub const BAR_TAG: &str = "ccaas-softphone-bar";

const CSS: &str = r#"
:host { all: initial; }
.bar {
  display: flex; align-items: center; gap: 8px; height: 36px; padding: 0 6px 0 12px;
  border-radius: 8px 8px 0 0; background: #1e3a8a; color: #fff;
  font: 13px/1.2 system-ui, sans-serif; box-shadow: 0 -2px 12px rgba(0,0,0,.25);
  white-space: nowrap;
}
.text { overflow: hidden; text-overflow: ellipsis; max-width: 340px; }
button {
  all: unset; box-sizing: border-box; cursor: pointer; height: 26px; padding: 0 10px;
  border-radius: 4px; background: rgba(255,255,255,.16); font: 600 12px system-ui, sans-serif;
}
button:hover { background: rgba(255,255,255,.3); }
button:focus-visible { outline: 2px solid #fff; outline-offset: 1px; }
.notice {
  position: absolute; right: 0; bottom: 42px; max-width: 360px; padding: 8px 12px;
  border-radius: 6px; background: #1b1b1b; color: #fff; white-space: normal;
  font: 13px/1.3 system-ui, sans-serif; box-shadow: 0 4px 18px rgba(0,0,0,.3);
}
.notice[hidden] { display: none; }
"#;

/// What the bar's buttons ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarAction {
    OpenHere,
    Show,
}

struct Inner {
    host: HtmlElement,
    root: ShadowRoot,
    notice_timer: Option<Timeout>,
}

pub struct Bar {
    inner: Rc<RefCell<Inner>>,
    _listeners: Vec<EventListener>,
}

impl Bar {
    /// Removes bars left by an earlier instance of the extension (reloaded or updated).
    pub fn remove_stale(window: &Window) {
        crate::panel::remove_all(window, BAR_TAG);
    }

    pub fn create(
        window: &Window,
        title: &str,
        on_action: impl Fn(BarAction) + 'static,
    ) -> Option<Bar> {
        let doc = window.document()?;
        let (host, root) = crate::panel::shadow_host(window, BAR_TAG)?;
        root.set_inner_html(&format!(
            r#"<style>{CSS}</style>
<div class="bar" role="region" aria-label="Softphone">
  <span class="text"></span>
  <button class="here" type="button">Open here</button>
  <button class="show" type="button">Show</button>
</div>
<div class="notice" role="status" aria-live="polite" hidden></div>"#
        ));
        // The page's own scrollbar is never covered (read once: the bar does not move after).
        let inner_w = window
            .inner_width()
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as i32;
        let client_w = doc.document_element().map_or(inner_w, |e| e.client_width());
        let sb = (inner_w - client_w).max(0);
        let s = host.style();
        for (k, v) in [
            ("all", "initial".to_owned()),
            ("position", "fixed".to_owned()),
            ("z-index", "2147483646".to_owned()),
            ("display", "block".to_owned()),
            ("bottom", "0px".to_owned()),
            ("right", format!("{}px", sb + 16)),
        ] {
            let _ = s.set_property_with_priority(k, &v, "important");
        }
        doc.document_element()?.append_child(&host).ok()?;
        let inner = Rc::new(RefCell::new(Inner {
            host,
            root: root.clone(),
            notice_timer: None,
        }));
        let on_action = Rc::new(on_action);
        let mut listeners = Vec::new();
        for (sel, action) in [(".here", BarAction::OpenHere), (".show", BarAction::Show)] {
            if let Some(el) = root.query_selector(sel).ok().flatten() {
                let f = on_action.clone();
                listeners.push(EventListener::new(&el, "click", move |_| f(action)));
            }
        }
        let bar = Bar {
            inner,
            _listeners: listeners,
        };
        bar.set_title(title);
        Some(bar)
    }

    /// Names the tab that holds the softphone (as text, never HTML).
    pub fn set_title(&self, title: &str) {
        if let Ok(me) = self.inner.try_borrow() {
            if let Some(el) = me.root.query_selector(".text").ok().flatten() {
                el.set_text_content(Some(&format!(
                    "Softphone is open in \u{201c}{title}\u{201d}"
                )));
            }
            let _ = me.host.set_attribute("data-owner-title", title);
        }
    }

    /// Shows a short message above the bar for a few seconds (set as text, never HTML).
    pub fn notice(&self, text: &str) {
        let Ok(mut me) = self.inner.try_borrow_mut() else {
            return;
        };
        let Some(el) = me.root.query_selector(".notice").ok().flatten() else {
            return;
        };
        el.set_text_content(Some(text));
        let _ = el.remove_attribute("hidden");
        let _ = me.host.set_attribute("data-notice", text);
        me.notice_timer = Some(Timeout::new(6_000, move || {
            let _ = el.set_attribute("hidden", "");
        }));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Ok(me) = self.inner.try_borrow() {
            me.host.remove();
        }
    }
}
