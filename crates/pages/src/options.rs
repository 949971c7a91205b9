//! The options page: the widget URL and its parts, the CRM sites with their per-site switches,
//! the dialing region, the liveness timeout, import and export, and the fields an administrator
//! locked by policy.
//!
//! Saving validates every field first (with the same rules the worker, the panel and the content
//! scripts apply when they read the stored record); an invalid field gets its message next to it
//! and nothing is stored, so the previous configuration stays in force. Host permissions for the
//! sites and the widget origin are requested first, inside the click's own gesture.

use crate::managed::{self, Managed};
use crate::util::{by_id, info, load_config, set_text};
use gloo_events::{EventListener, EventListenerOptions};
use protocol::config::{
    parse_area_code, parse_region, parse_site, parse_widget_url, widget_parts, with_parts, Config,
    ConfigError, SiteSettings, WidgetParts, CONFIG_SCHEMA,
};
use protocol::ext::{self, OneShot};
use protocol::regions::{self, REGIONS};
use std::cell::RefCell;
use std::collections::BTreeMap;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};
use webext::storage::{self, Area};

/// The site list being edited (saved only with the rest of the form).
#[derive(Default)]
struct State {
    sites: Vec<String>,
    settings: BTreeMap<String, SiteSettings>,
    managed: Managed,
    listeners: Vec<EventListener>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn input(id: &str) -> Option<HtmlInputElement> {
    by_id::<HtmlInputElement>(id)
}

fn value(id: &str) -> String {
    if let Some(i) = input(id) {
        return i.value();
    }
    by_id::<HtmlSelectElement>(id)
        .map(|s| s.value())
        .unwrap_or_default()
}

fn set_value(id: &str, v: &str) {
    if let Some(i) = input(id) {
        i.set_value(v);
    } else if let Some(s) = by_id::<HtmlSelectElement>(id) {
        s.set_value(v);
    }
}

fn checked(id: &str) -> bool {
    input(id).is_some_and(|i| i.checked())
}

fn on(id: &str, event: &'static str, f: impl FnMut(&web_sys::Event) + 'static) {
    if let Some(el) = by_id::<Element>(id) {
        let l = EventListener::new_with_options(
            &el,
            event,
            EventListenerOptions::enable_prevent_default(),
            f,
        );
        STATE.with(|s| s.borrow_mut().listeners.push(l));
    }
}

pub fn start() {
    fill_regions();
    on("options", "submit", |e| {
        e.prevent_default();
        save();
    });
    on("widget-url", "input", |_| show_parts());
    for id in ["part-origin", "part-dynamics", "part-tenant"] {
        on(id, "input", |_| rewrite_from_parts());
    }
    for id in ["part-mode", "part-custom"] {
        on(id, "change", |_| rewrite_from_parts());
    }
    on("add-site", "click", |_| {
        add_pending_site();
    });
    on("new-site", "keydown", |e| {
        if e.dyn_ref::<web_sys::KeyboardEvent>()
            .is_some_and(|k| k.key() == "Enter")
        {
            e.prevent_default();
            add_pending_site();
        }
    });
    on("site-list", "change", on_site_switch);
    on("site-list", "click", on_site_remove);
    on("region", "change", |_| show_area_code());
    on("export", "click", |_| {
        wasm_bindgen_futures::spawn_local(export())
    });
    on("import", "change", |e| {
        let file = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0));
        if let Some(file) = file {
            wasm_bindgen_futures::spawn_local(import(file));
        }
    });
    wasm_bindgen_futures::spawn_local(async {
        let m = managed::load().await;
        match load_config().await {
            Ok(Some(c)) => fill(&c),
            Ok(None) => {
                show_parts();
                show_area_code();
            }
            Err(e) => set_text(
                "status",
                &format!(
                    "The stored configuration could not be read ({e}); saving will replace it."
                ),
            ),
        }
        lock(&m);
        STATE.with(|s| s.borrow_mut().managed = m);
        render_sites();
        // Lets a script (and the e2e tests) know the stored values are in the form.
        if let Some(b) = crate::util::document().and_then(|d| d.body()) {
            let _ = b.set_attribute("data-ready", "true");
        }
    });
}

fn fill_regions() {
    let Some(select) = by_id::<HtmlSelectElement>("region") else {
        return;
    };
    let Some(doc) = crate::util::document() else {
        return;
    };
    for r in REGIONS {
        if let Ok(o) = doc.create_element("option") {
            o.set_text_content(Some(&format!("{} (+{})", r.name, r.calling_code)));
            let _ = o.set_attribute("value", r.code);
            let _ = select.append_child(&o);
        }
    }
    select.set_value("US");
}

fn fill(c: &Config) {
    set_value("widget-url", &c.widget_url);
    show_parts();
    if let Some(i) = input("all-sites") {
        i.set_checked(c.all_sites);
    }
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.sites = c.sites.clone();
        s.settings = c.site_settings.clone();
    });
    render_sites();
    set_value("region", &c.region);
    set_value("area-code", &c.area_code);
    show_area_code();
    set_value(
        "liveness-timeout",
        &(c.liveness_timeout_ms / 1000).to_string(),
    );
}

/// Disables what policy sets, and says so next to each field.
fn lock(m: &Managed) {
    let mut any = false;
    let mut lock_ids = |ids: &[&str], label: &str| {
        any = true;
        for id in ids {
            if let Some(el) = by_id::<Element>(id) {
                let _ = el.set_attribute("disabled", "");
            }
        }
        if let Some(l) = crate::util::document().and_then(|d| {
            d.query_selector(&format!("label[for={label}]"))
                .ok()
                .flatten()
        }) {
            let _ = l.class_list().add_1("locked");
        }
    };
    if m.widget_url.is_some() {
        lock_ids(
            &[
                "widget-url",
                "part-origin",
                "part-dynamics",
                "part-tenant",
                "part-mode",
                "part-custom",
            ],
            "widget-url",
        );
    }
    if m.sites.is_some() {
        lock_ids(&["new-site", "add-site"], "new-site");
    }
    if m.all_sites.is_some() {
        lock_ids(&["all-sites"], "all-sites");
    }
    if m.region.is_some() {
        lock_ids(&["region"], "region");
    }
    if m.area_code.is_some() {
        lock_ids(&["area-code"], "area-code");
    }
    if any {
        if let Some(n) = by_id::<HtmlElement>("managed-note") {
            n.set_hidden(false);
        }
    }
}

/// Shows the parts of whatever URL is in the field.
fn show_parts() {
    let url = value("widget-url");
    let parts = widget_parts(&url).unwrap_or_default();
    set_value("part-origin", &parts.origin);
    set_value("part-dynamics", &parts.dynamics_url);
    set_value("part-tenant", &parts.tenant_id);
    set_value("part-mode", &parts.embed_mode);
    if let Some(i) = input("part-custom") {
        i.set_checked(parts.custom_cti);
    }
}

/// Writes the URL from its edited parts.
fn rewrite_from_parts() {
    let parts = WidgetParts {
        origin: value("part-origin"),
        dynamics_url: value("part-dynamics"),
        tenant_id: value("part-tenant"),
        embed_mode: value("part-mode"),
        custom_cti: checked("part-custom"),
    };
    match with_parts(&value("widget-url"), &parts) {
        Ok(url) => {
            set_value("widget-url", &url);
            field_error("widgetUrl", None, false);
        }
        Err(e) => field_error("widgetUrl", Some(&message(e)), false),
    }
}

fn show_area_code() {
    let uses = regions::find(&value("region")).is_some_and(|r| r.uses_area_code);
    if let Some(f) = by_id::<HtmlElement>("area-code-field") {
        f.set_hidden(!uses);
    }
}

fn render_sites() {
    let (sites, settings, locked) = STATE.with(|s| {
        let s = s.borrow();
        (
            s.sites.clone(),
            s.settings.clone(),
            s.managed.sites.is_some(),
        )
    });
    let Some(list) = by_id::<Element>("site-list") else {
        return;
    };
    let Some(doc) = crate::util::document() else {
        return;
    };
    list.set_text_content(None);
    for site in &sites {
        let set = settings.get(site).copied().unwrap_or_default();
        let Ok(li) = doc.create_element("li") else {
            continue;
        };
        let _ = li.set_attribute("data-origin", site);
        if let Ok(span) = doc.create_element("span") {
            span.set_class_name("origin");
            span.set_text_content(Some(site));
            let _ = li.append_child(&span);
        }
        for (class, text, on) in [
            ("panel", "Panel", set.panel),
            ("detection", "Number detection", set.detection),
        ] {
            if let (Ok(label), Ok(cb)) = (doc.create_element("label"), doc.create_element("input"))
            {
                label.set_class_name("check");
                let _ = cb.set_attribute("type", "checkbox");
                cb.set_class_name(class);
                let _ = cb.set_attribute("aria-label", &format!("{text} on {site}"));
                if let Some(cb) = cb.dyn_ref::<HtmlInputElement>() {
                    cb.set_checked(on);
                }
                let _ = label.append_child(&cb);
                let _ = label.append_with_str_1(&format!(" {text}"));
                let _ = li.append_child(&label);
            }
        }
        if let Ok(b) = doc.create_element("button") {
            let _ = b.set_attribute("type", "button");
            b.set_class_name("remove");
            b.set_text_content(Some("Remove"));
            let _ = b.set_attribute("aria-label", &format!("Remove {site}"));
            if locked {
                let _ = b.set_attribute("disabled", "");
            }
            let _ = li.append_child(&b);
        }
        let _ = list.append_child(&li);
    }
}

/// Adds what is typed in "Add a site"; `false` (with the message shown) when it is invalid.
fn add_pending_site() -> bool {
    let raw = value("new-site");
    if raw.trim().is_empty() {
        field_error("sites", None, false);
        return true;
    }
    match parse_site(&raw) {
        Ok(site) => {
            STATE.with(|s| {
                let mut s = s.borrow_mut();
                if !s.sites.contains(&site) {
                    s.sites.push(site);
                }
            });
            set_value("new-site", "");
            field_error("sites", None, false);
            render_sites();
            true
        }
        Err(e) => {
            field_error("sites", Some(&message(e)), true);
            false
        }
    }
}

fn row_origin(e: &web_sys::Event) -> Option<(Element, String)> {
    let target = e.target()?.dyn_into::<Element>().ok()?;
    let li = target.closest("li").ok()??;
    let origin = li.get_attribute("data-origin")?;
    Some((target, origin))
}

fn on_site_switch(e: &web_sys::Event) {
    let Some((target, origin)) = row_origin(e) else {
        return;
    };
    let on = target
        .dyn_ref::<HtmlInputElement>()
        .is_some_and(|i| i.checked());
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let entry = s.settings.entry(origin).or_default();
        if target.class_list().contains("panel") {
            entry.panel = on;
        } else if target.class_list().contains("detection") {
            entry.detection = on;
        }
    });
}

fn on_site_remove(e: &web_sys::Event) {
    let Some((target, origin)) = row_origin(e) else {
        return;
    };
    if !target.class_list().contains("remove") {
        return;
    }
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.sites.retain(|x| *x != origin);
        s.settings.remove(&origin);
    });
    render_sites();
    if let Some(i) = by_id::<HtmlElement>("new-site") {
        let _ = i.focus();
    }
}

fn message(e: ConfigError) -> String {
    match e {
        ConfigError::Field { message, .. } => message,
        other => other.to_string(),
    }
}

/// Shows (or clears) the message tied to a field through `aria-describedby`.
fn field_error(field: &str, message: Option<&str>, focus: bool) {
    let (input_id, error_id) = match field {
        "widgetUrl" => ("widget-url", "widget-url-error"),
        "sites" => ("new-site", "sites-error"),
        "region" => ("region", "region-error"),
        "areaCode" => ("area-code", "area-code-error"),
        _ => ("liveness-timeout", "liveness-timeout-error"),
    };
    set_text(error_id, message.unwrap_or(""));
    if let Some(el) = by_id::<Element>(input_id) {
        let _ = el.set_attribute(
            "aria-invalid",
            if message.is_some() { "true" } else { "false" },
        );
        if message.is_some() && focus {
            if let Some(h) = el.dyn_ref::<HtmlElement>() {
                let _ = h.focus();
            }
        }
    }
}

/// Reads and validates the whole form; every invalid field gets its message, the first one
/// gets the focus.
pub(crate) fn read_form() -> Option<Config> {
    for f in [
        "widgetUrl",
        "sites",
        "region",
        "areaCode",
        "livenessTimeout",
    ] {
        field_error(f, None, false);
    }
    let first_error = std::cell::Cell::new(true);
    let fail = |field: &str, msg: String| {
        field_error(field, Some(&msg), first_error.get());
        first_error.set(false);
    };
    let widget = parse_widget_url(&value("widget-url"))
        .map_err(|e| fail("widgetUrl", message(e)))
        .ok();
    let sites_ok = add_pending_site();
    if !sites_ok {
        first_error.set(false);
    }
    let region = parse_region(&value("region"))
        .map_err(|e| fail("region", message(e)))
        .ok();
    let area = parse_area_code(&value("area-code"))
        .map_err(|e| fail("areaCode", message(e)))
        .ok();
    let secs = match value("liveness-timeout").trim() {
        "" => Some(15),
        t => match t.parse::<u32>() {
            Ok(n) if (1..=120).contains(&n) => Some(n),
            _ => {
                fail(
                    "livenessTimeout",
                    "Enter a whole number of seconds from 1 to 120.".into(),
                );
                None
            }
        },
    };
    let (widget, region, area_code, secs) = (widget?, region?, area?, secs?);
    if !sites_ok {
        return None;
    }
    let (sites, mut site_settings) = STATE.with(|s| {
        let s = s.borrow();
        (s.sites.clone(), s.settings.clone())
    });
    site_settings.retain(|k, v| sites.contains(k) && *v != SiteSettings::default());
    Some(Config {
        schema: CONFIG_SCHEMA,
        widget_url: widget.url,
        sites,
        all_sites: checked("all-sites"),
        site_settings,
        region,
        area_code,
        liveness_timeout_ms: secs * 1000,
    })
}

fn save() {
    let Some(config) = read_form() else {
        set_text("status", "Not saved: correct the fields marked above. The previous configuration stays in force.");
        return;
    };
    let managed = STATE.with(|s| s.borrow().managed.clone());
    let config = managed.apply(config);
    let patterns = config.host_patterns();
    set_text("status", "Saving…");
    // Asked here, in the submit handler itself: see `permissions::request`.
    let granted = webext::permissions::request(&patterns);
    wasm_bindgen_futures::spawn_local(async move {
        match granted.await {
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
        if let Err(e) = storage::set_text(Area::Local, "config", &config.to_text()).await {
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

/// Downloads the configuration in force as a JSON file.
async fn export() {
    let config = match load_config().await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return set_text(
                "status",
                "Nothing to export yet: save a configuration first.",
            )
        }
        Err(e) => return set_text("status", &format!("Cannot export: {e}")),
    };
    let text = serde_json::to_string_pretty(&config).unwrap_or_default();
    let parts: js_sys::Array = std::iter::once(JsValue::from_str(&text)).collect();
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type("application/json");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(a) = crate::util::document()
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download("ccaas-bridge-config.json");
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
    set_text("status", "Exported ccaas-bridge-config.json.");
}

/// Reads a configuration file, validated like the form; fills the form when it is valid.
async fn import(file: web_sys::File) {
    set_text("import-error", "");
    if file.size() > protocol::MAX_MESSAGE_BYTES as f64 {
        return set_text(
            "import-error",
            "This file is too large to be a configuration (over 64 KiB); nothing was imported.",
        );
    }
    let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
        Ok(t) => t.as_string().unwrap_or_default(),
        Err(_) => {
            return set_text(
                "import-error",
                "The file could not be read; nothing was imported.",
            )
        }
    };
    let parsed = protocol::json::parse_bounded(&text)
        .map_err(|e| format!("The file is not a configuration ({e}); nothing was imported."))
        .and_then(|v| {
            Config::from_stored(&v).map_err(|e| {
                format!("The file's configuration is invalid: {e}. Nothing was imported.")
            })
        });
    match parsed {
        Ok(c) => {
            fill(&c);
            set_text("status", "Imported into the form: press Save to keep it.");
        }
        Err(msg) => set_text("import-error", &msg),
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn form(url: &str, site: &str, timeout: &str, area: &str) {
        let Some(doc) = crate::util::document() else {
            return;
        };
        if let Some(old) = doc.get_element_by_id("t-form") {
            old.remove();
        }
        let div = doc.create_element("div").unwrap_or_else(|_| unreachable!());
        div.set_id("t-form");
        div.set_inner_html(
            r#"<input id="widget-url"><p id="widget-url-error"></p><input id="new-site"><p id="sites-error"></p>
               <ul id="site-list"></ul><input id="all-sites" type="checkbox"><select id="region"></select>
               <p id="region-error"></p><input id="area-code"><p id="area-code-error"></p>
               <input id="liveness-timeout"><p id="liveness-timeout-error"></p>"#,
        );
        let _ = doc.body().map(|b| b.append_child(&div));
        fill_regions();
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            s.sites.clear();
            s.settings.clear();
        });
        set_value("widget-url", url);
        set_value("new-site", site);
        set_value("liveness-timeout", timeout);
        set_value("area-code", area);
    }

    fn text(id: &str) -> String {
        by_id::<Element>(id)
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    }

    const URL: &str = "https://ccaas-embed-prod.azureedge.net/widget/index.html?dynamicsUrl=https://o.crm.dynamics.com&msdynembedmode=3";

    #[wasm_bindgen_test]
    fn a_valid_form_gives_a_config() {
        form(URL, "https://crm.example.com/", "20", "425");
        let c = read_form().unwrap_or_else(|| unreachable!("{}", text("widget-url-error")));
        assert_eq!(c.sites, vec!["https://crm.example.com"]);
        assert_eq!(c.liveness_timeout_ms, 20_000);
        assert_eq!((c.region.as_str(), c.area_code.as_str()), ("US", "425"));
        assert_eq!(text("widget-url-error"), "");
    }

    #[wasm_bindgen_test]
    fn each_invalid_field_says_what_is_wrong() {
        let cases = [
            (
                "http://ccaas.example.com/widget/index.html?dynamicsUrl=https://o.crm.dynamics.com",
                "https",
            ),
            ("javascript:alert(1)", "javascript"),
            ("no url here", "not a URL"),
            ("https://ccaas.example.com/widget/index.html", "dynamicsUrl"),
        ];
        for (url, needle) in cases {
            form(url, "", "", "");
            assert!(read_form().is_none(), "{url}");
            assert!(
                text("widget-url-error").contains(needle),
                "{url}: {}",
                text("widget-url-error")
            );
            let invalid =
                by_id::<Element>("widget-url").and_then(|e| e.get_attribute("aria-invalid"));
            assert_eq!(invalid.as_deref(), Some("true"));
        }
        form(&"x".repeat(10_000), "", "", "");
        assert!(read_form().is_none());
        assert!(text("widget-url-error").contains("longer"));
        form(URL, "http://crm.example.com", "", "");
        assert!(read_form().is_none());
        assert!(text("sites-error").contains("https"));
        form(URL, "", "0", "");
        assert!(read_form().is_none());
        assert!(text("liveness-timeout-error").contains("1 to 120"));
        form(URL, "", "", "+1 425");
        assert!(read_form().is_none());
        assert!(text("area-code-error").contains("digits"));
    }
}
