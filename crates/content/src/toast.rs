//! A short message for the agent in a tab that shows neither the softphone panel nor the bar
//! (a site with click-to-dial but no panel): e.g. that a clicked number was not called because no
//! softphone is open anywhere.
//!
//! Like the panel and the bar, a guest in the page: one fixed-positioned custom element on
//! `<html>` with a closed shadow root, so the page's layout never moves and its styles never
//! reach it. It leaves the page after a few seconds; dropping it removes it at once.

use gloo_timers::callback::Timeout;
use web_sys::{HtmlElement, ShadowRoot, Window};

/// The custom element's tag; also how a message left behind by a reloaded extension is found.
pub const TOAST_TAG: &str = "ccaas-softphone-notice";

/// How long a message stays.
const SHOW_MS: u32 = 6_000;

const CSS: &str = r#"
:host { all: initial; }
.notice {
  max-width: 360px; padding: 8px 12px; border-radius: 6px; background: #1b1b1b; color: #fff;
  font: 13px/1.3 system-ui, sans-serif; box-shadow: 0 4px 18px rgba(0,0,0,.3);
}
"#;

pub struct Toast {
    host: HtmlElement,
    root: ShadowRoot,
    _timer: Timeout,
    /// For [`Toast::show_later`]: shows the host when it is time.
    _reveal: Option<Timeout>,
}

impl Toast {
    /// Removes messages left by an earlier instance of the extension (reloaded or updated).
    pub fn remove_stale(window: &Window) {
        crate::panel::remove_all(window, TOAST_TAG);
    }

    /// Shows `text` (as text, never HTML) at the bottom right of the viewport.
    pub fn show(window: &Window, text: &str) -> Option<Toast> {
        Toast::show_for(window, text, SHOW_MS)
    }

    /// The same, for `ms` milliseconds.
    pub fn show_for(window: &Window, text: &str, ms: u32) -> Option<Toast> {
        Toast::build(window, text, ms, true)
    }

    /// The same, shown only after `delay` ms and only if it is still in the page then (it is
    /// there at once, hidden, and stays `ms` once shown). A newer instance of the extension
    /// removes what an earlier one left when it starts ([`Toast::remove_stale`]), so a message
    /// about the extension going away is withdrawn, unseen, when it comes back by itself. Not
    /// shown either if `moot()` says so then (a newer instance that started before this one
    /// went away, and so before the message was there to remove).
    pub fn show_later(
        window: &Window,
        text: &str,
        delay: u32,
        ms: u32,
        moot: impl Fn() -> bool + 'static,
    ) -> Option<Toast> {
        let mut toast = Toast::build(window, text, delay.saturating_add(ms), false)?;
        let host = toast.host.clone();
        toast._reveal = Some(Timeout::new(delay, move || {
            if !host.is_connected() {
                return;
            }
            if moot() {
                host.remove();
            } else {
                let _ = host
                    .style()
                    .set_property_with_priority("display", "block", "important");
            }
        }));
        Some(toast)
    }

    fn build(window: &Window, text: &str, ms: u32, visible: bool) -> Option<Toast> {
        let doc = window.document()?;
        let (host, root) = crate::panel::shadow_host(window, TOAST_TAG)?;
        root.set_inner_html(&format!(
            r#"<style>{CSS}</style><div class="notice" role="status" aria-live="polite"></div>"#
        ));
        let s = host.style();
        for (k, v) in [
            ("all", "initial"),
            ("position", "fixed"),
            ("z-index", "2147483646"),
            ("display", if visible { "block" } else { "none" }),
            ("bottom", "16px"),
            ("right", "32px"),
        ] {
            let _ = s.set_property_with_priority(k, v, "important");
        }
        doc.document_element()?.append_child(&host).ok()?;
        let gone = host.clone();
        let toast = Toast {
            host,
            root,
            _timer: Timeout::new(ms, move || gone.remove()),
            _reveal: None,
        };
        toast.set_text(text);
        Some(toast)
    }

    fn set_text(&self, text: &str) {
        if let Some(el) = self.root.query_selector(".notice").ok().flatten() {
            el.set_text_content(Some(text));
        }
        let _ = self.host.set_attribute("data-notice", text);
    }
}

impl Drop for Toast {
    fn drop(&mut self) {
        self.host.remove();
    }
}
