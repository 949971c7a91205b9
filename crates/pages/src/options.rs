//! The options page: the widget URL, the CRM sites and the liveness timeout.
//!
//! Saving validates every field first (with the same rules the worker and the panel apply when
//! they read the stored record); an invalid field gets its message next to it and nothing is
//! stored. Host permissions for the sites and the widget origin are requested in the click's own
//! gesture, before anything is awaited.

use crate::util::{by_id, info, load_config, set_text};
use gloo_events::EventListener;
use protocol::config::{
    match_pattern, parse_site, parse_widget_url, Config, ConfigError, CONFIG_SCHEMA,
};
use protocol::ext::{self, OneShot};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement, HtmlTextAreaElement};
use webext::storage::{self, Area};

thread_local! {
    static LISTENERS: RefCell<Vec<EventListener>> = const { RefCell::new(Vec::new()) };
}

pub fn start() {
    if let Some(form) = by_id::<Element>("options") {
        let l = EventListener::new_with_options(
            &form,
            "submit",
            gloo_events::EventListenerOptions::enable_prevent_default(),
            |e| {
                e.prevent_default();
                save();
            },
        );
        LISTENERS.with(|ls| ls.borrow_mut().push(l));
    }
    wasm_bindgen_futures::spawn_local(async {
        match load_config().await {
            Ok(Some(c)) => fill(&c),
            Ok(None) => {}
            Err(e) => set_text(
                "status",
                &format!(
                    "The stored configuration could not be read ({e}); saving will replace it."
                ),
            ),
        }
    });
}

fn fill(c: &Config) {
    if let Some(i) = by_id::<HtmlInputElement>("widget-url") {
        i.set_value(&c.widget_url);
    }
    if let Some(t) = by_id::<HtmlTextAreaElement>("sites") {
        t.set_value(&c.sites.join("\n"));
    }
    if let Some(i) = by_id::<HtmlInputElement>("liveness-timeout") {
        i.set_value(&(c.liveness_timeout_ms / 1000).to_string());
    }
}

/// Shows (or clears) the message tied to a field through `aria-describedby`.
fn field_error(field: &str, message: Option<&str>) {
    let (input_id, error_id) = match field {
        "widgetUrl" => ("widget-url", "widget-url-error"),
        "sites" => ("sites", "sites-error"),
        _ => ("liveness-timeout", "liveness-timeout-error"),
    };
    set_text(error_id, message.unwrap_or(""));
    if let Some(el) = by_id::<Element>(input_id) {
        let _ = el.set_attribute(
            "aria-invalid",
            if message.is_some() { "true" } else { "false" },
        );
        if message.is_some() {
            if let Some(h) = el.dyn_ref::<web_sys::HtmlElement>() {
                let _ = h.focus();
            }
        }
    }
}

/// Reads and validates the form; every invalid field gets its message.
fn read_form() -> Option<Config> {
    let url = by_id::<HtmlInputElement>("widget-url")
        .map(|i| i.value())
        .unwrap_or_default();
    let sites_text = by_id::<HtmlTextAreaElement>("sites")
        .map(|t| t.value())
        .unwrap_or_default();
    let timeout = by_id::<HtmlInputElement>("liveness-timeout")
        .map(|i| i.value())
        .unwrap_or_default();
    let mut ok = true;
    for f in ["widgetUrl", "sites", "livenessTimeout"] {
        field_error(f, None);
    }
    let widget = match parse_widget_url(&url) {
        Ok(w) => Some(w),
        Err(ConfigError::Field { message, .. }) => {
            field_error("widgetUrl", Some(&message));
            ok = false;
            None
        }
        Err(e) => {
            field_error("widgetUrl", Some(&e.to_string()));
            ok = false;
            None
        }
    };
    let mut sites = Vec::new();
    if sites_text.len() > 16 * 1024 {
        field_error("sites", Some("The list of sites is too long."));
        ok = false;
    } else {
        for line in sites_text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match parse_site(line) {
                Ok(s) if !sites.contains(&s) => sites.push(s),
                Ok(_) => {}
                Err(e) => {
                    let msg = match e {
                        ConfigError::Field { message, .. } => message,
                        other => other.to_string(),
                    };
                    field_error("sites", Some(&msg));
                    ok = false;
                    break;
                }
            }
        }
    }
    let secs = match timeout.trim() {
        "" => 15,
        t => match t.parse::<u32>() {
            Ok(n) if (1..=120).contains(&n) => n,
            _ => {
                field_error(
                    "livenessTimeout",
                    Some("Enter a whole number of seconds from 1 to 120."),
                );
                ok = false;
                15
            }
        },
    };
    let widget = widget?;
    ok.then(|| Config {
        schema: CONFIG_SCHEMA,
        widget_url: widget.url,
        sites,
        liveness_timeout_ms: secs * 1000,
    })
}

fn save() {
    let Some(config) = read_form() else {
        set_text("status", "Not saved: correct the fields marked above.");
        return;
    };
    let mut patterns: Vec<String> = config.sites.iter().map(|s| match_pattern(s)).collect();
    if let Some(o) = config.widget_origin() {
        patterns.push(match_pattern(&o));
    }
    set_text("status", "Saving…");
    wasm_bindgen_futures::spawn_local(async move {
        // Requested first, inside the click's gesture.
        match webext::permissions::request(&patterns).await {
            Ok(true) => {}
            Ok(false) => {
                set_text(
                    "status",
                    "Not saved: the browser did not grant access to those sites.",
                );
                return;
            }
            Err(e) => {
                set_text("status", &format!("Not saved: {e}"));
                return;
            }
        }
        let text = serde_json::to_string(&config).unwrap_or_default();
        if let Err(e) = storage::set_text(Area::Local, "config", &text).await {
            set_text("status", &format!("Not saved: {e}"));
            return;
        }
        let _ = webext::runtime::send_message(&ext::encode(&OneShot::ConfigSaved)).await;
        info("configuration saved");
        set_text(
            "status",
            "Saved. Open CRM tabs follow the new configuration now.",
        );
    });
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn form(url: &str, sites: &str, timeout: &str) {
        let Some(doc) = crate::util::document() else {
            return;
        };
        if let Some(old) = doc.get_element_by_id("t-form") {
            old.remove();
        }
        let div = doc.create_element("div").unwrap_or_else(|_| unreachable!());
        div.set_id("t-form");
        div.set_inner_html(
            r#"<input id="widget-url"><p id="widget-url-error"></p><textarea id="sites"></textarea>
               <p id="sites-error"></p><input id="liveness-timeout"><p id="liveness-timeout-error"></p>"#,
        );
        let _ = doc.body().map(|b| b.append_child(&div));
        by_id::<HtmlInputElement>("widget-url").map(|i| i.set_value(url));
        by_id::<HtmlTextAreaElement>("sites").map(|t| t.set_value(sites));
        by_id::<HtmlInputElement>("liveness-timeout").map(|i| i.set_value(timeout));
    }

    fn text(id: &str) -> String {
        by_id::<Element>(id)
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    }

    const URL: &str = "https://ccaas-embed-prod.azureedge.net/widget/index.html?dynamicsUrl=https://o.crm.dynamics.com&msdynembedmode=3";

    #[wasm_bindgen_test]
    fn a_valid_form_gives_a_config() {
        form(
            URL,
            "https://crm.example.com\n\nhttps://crm.example.com/\nhttp://crm.localhost:8130",
            "20",
        );
        let c = read_form().unwrap_or_else(|| unreachable!("{}", text("widget-url-error")));
        assert_eq!(
            c.sites,
            vec!["https://crm.example.com", "http://crm.localhost:8130"]
        );
        assert_eq!(c.liveness_timeout_ms, 20_000);
        assert_eq!(text("widget-url-error"), "");
    }

    #[wasm_bindgen_test]
    fn each_invalid_field_says_what_is_wrong() {
        let cases = [
            (
                "http://ccaas.example.com/widget/index.html?dynamicsUrl=https://o.crm.dynamics.com",
                "widget-url-error",
                "https",
            ),
            ("javascript:alert(1)", "widget-url-error", "javascript"),
            ("no url here", "widget-url-error", "not a URL"),
            (
                "https://ccaas.example.com/widget/index.html",
                "widget-url-error",
                "dynamicsUrl",
            ),
        ];
        for (url, field, needle) in cases {
            form(url, "", "");
            assert!(read_form().is_none(), "{url}");
            assert!(text(field).contains(needle), "{url}: {}", text(field));
            let invalid =
                by_id::<Element>("widget-url").and_then(|e| e.get_attribute("aria-invalid"));
            assert_eq!(invalid.as_deref(), Some("true"));
        }
        form(&"x".repeat(10_000), "", "");
        assert!(read_form().is_none());
        assert!(text("widget-url-error").contains("longer"));
        form(URL, "http://crm.example.com", "");
        assert!(read_form().is_none());
        assert!(text("sites-error").contains("https"));
        form(URL, "", "0");
        assert!(read_form().is_none());
        assert!(text("liveness-timeout-error").contains("1 to 120"));
    }
}
