//! The toolbar popup: whether the current site is enabled, switches to enable or disable it and
//! its number detection, the agent's presence (shown, and set with a click), and the way to the
//! options page.
//!
//! `popup.html?tab=<id>` shows the popup for a given tab instead of the active one (how the
//! e2e tests, which cannot click the toolbar, open it).

use crate::managed;
use crate::util::{by_id, load_config, set_text};
use gloo_events::EventListener;
use protocol::config::{match_pattern, parse_site, Config};
use protocol::ext::{self, OneShot, PresenceChoice};
use protocol::presence::{self, PresenceRecord};
use std::cell::RefCell;
use std::future::Future;
use web_sys::{Element, HtmlInputElement};
use webext::storage::{self, Area};

#[derive(Default)]
struct State {
    origin: Option<String>,
    listeners: Vec<EventListener>,
    /// The presence buttons' listeners, replaced with the buttons.
    option_listeners: Vec<EventListener>,
    storage_listener: Option<webext::Listener>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn on(id: &str, event: &'static str, f: impl FnMut(&web_sys::Event) + 'static) {
    if let Some(el) = by_id::<Element>(id) {
        let l = EventListener::new(&el, event, f);
        STATE.with(|s| s.borrow_mut().listeners.push(l));
    }
}

fn checkbox(id: &str) -> Option<HtmlInputElement> {
    by_id::<HtmlInputElement>(id)
}

pub fn start() {
    on("open-options", "click", |_| {
        wasm_bindgen_futures::spawn_local(async {
            let _ = webext::runtime::open_options_page().await;
        });
    });
    on("site-enabled", "change", |_| {
        let on = checkbox("site-enabled").is_some_and(|c| c.checked());
        let Some(origin) = STATE.with(|s| s.borrow().origin.clone()) else {
            return;
        };
        // Asked here, in the change handler itself: see `permissions::request`.
        let granted = on.then(|| webext::permissions::request(&[match_pattern(&origin)]));
        wasm_bindgen_futures::spawn_local(set_enabled(origin, granted));
    });
    on("site-detection", "change", |_| {
        let on = checkbox("site-detection").is_some_and(|c| c.checked());
        wasm_bindgen_futures::spawn_local(set_detection(on));
    });
    wasm_bindgen_futures::spawn_local(refresh());
    match storage::on_changed(|area, key, value| {
        if area == "local" && key == presence::STORAGE_KEY {
            show_presence(value.as_string().as_deref());
        }
    }) {
        Ok(l) => STATE.with(|s| s.borrow_mut().storage_listener = Some(l)),
        Err(e) => crate::util::warn(&format!("presence changes not followed: {e}")),
    }
    wasm_bindgen_futures::spawn_local(async {
        let text = storage::get_text(Area::Local, presence::STORAGE_KEY)
            .await
            .ok()
            .flatten();
        show_presence(text.as_deref());
    });
}

/// Shows the stored presence and one button per option (the driver's list, or the base
/// statuses when none is known). An unusable record shows as unknown.
fn show_presence(text: Option<&str>) {
    let record = match text.map(PresenceRecord::from_stored) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            crate::util::warn(&format!("stored presence ignored: {e}"));
            None
        }
        None => None,
    };
    set_text(
        "presence-now",
        &record.as_ref().map_or("Not known yet".to_owned(), |r| {
            format!("You are {}", r.text)
        }),
    );
    let (Some(doc), Some(list)) = (
        crate::util::document(),
        by_id::<Element>("presence-options"),
    ) else {
        return;
    };
    list.set_text_content(None);
    let mut listeners = Vec::new();
    for option in PresenceRecord::offered(record.as_ref()) {
        let Ok(button) = doc.create_element("button") else {
            continue;
        };
        let _ = button.set_attribute("type", "button");
        let _ = button.set_attribute("data-presence-id", &option.id);
        let current = record.as_ref().is_some_and(|r| r.presence_id == option.id);
        let _ = button.set_attribute("aria-pressed", if current { "true" } else { "false" });
        if let Ok(swatch) = doc.create_element("span") {
            let _ = swatch.set_attribute("class", "swatch");
            let _ = swatch.set_attribute("aria-hidden", "true");
            // A validated `#rgb`/`#rrggbb` colour (see `presence::is_hex_color`).
            let _ = swatch.set_attribute("style", &format!("background:{}", option.color));
            let _ = button.append_child(&swatch);
        }
        let _ = button.append_child(&doc.create_text_node(&option.text));
        let _ = list.append_child(&button);
        let (id, base) = if option.id.starts_with(presence::BASE_ID_PREFIX) {
            (None, Some(option.base_status))
        } else {
            (Some(option.id.clone()), None)
        };
        listeners.push(EventListener::new(&button, "click", move |_| {
            let msg = ext::encode(&OneShot::SetPresence(PresenceChoice {
                presence_id: id.clone(),
                base_status: base,
            }));
            set_text("presence-status", "Changing\u{2026}");
            wasm_bindgen_futures::spawn_local(async move {
                let answer = webext::runtime::send_message(&msg).await;
                let text = match answer {
                    Ok(v) => v.as_string().unwrap_or_default(),
                    Err(e) => format!("Not changed: {e}"),
                };
                set_text("presence-status", &text);
            });
        }));
    }
    STATE.with(|s| s.borrow_mut().option_listeners = listeners);
}

/// The origin of the tab the popup is about.
async fn tab_origin() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let wanted: Option<i32> = search.strip_prefix("?tab=").and_then(|t| t.parse().ok());
    let url = match wanted {
        Some(id) => webext::tabs::get(id).await.ok().flatten(),
        None => webext::tabs::active_tab()
            .await
            .ok()
            .flatten()
            .and_then(|(_, u)| u),
    }?;
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    parse_site(&format!(
        "{scheme}://{}",
        rest.split(['/', '?', '#']).next()?
    ))
    .ok()
}

async fn refresh() {
    let origin = tab_origin().await;
    STATE.with(|s| s.borrow_mut().origin = origin.clone());
    let config = load_config().await.ok().flatten();
    let policy = managed::load().await;
    let (enabled, detection) = (checkbox("site-enabled"), checkbox("site-detection"));
    let (Some(enabled), Some(detection)) = (enabled, detection) else {
        return;
    };
    let (text, on, det, can_toggle) = match (&config, &origin) {
        (None, _) => (
            "Not configured yet: set the widget URL in the options.".to_owned(),
            false,
            false,
            false,
        ),
        (Some(_), None) => (
            "The softphone cannot run on this page.".to_owned(),
            false,
            false,
            false,
        ),
        (Some(c), Some(o)) => {
            let listed = c.sites.contains(o);
            let on = c.covers(o);
            let text = match (on, c.all_sites && !listed) {
                (true, true) => format!("Enabled on {o} (all sites are enabled in the options)"),
                (true, false) => format!("Enabled on {o}"),
                (false, _) => format!("Not enabled on {o}"),
            };
            let lockable = policy.sites.is_none() && (!c.all_sites || listed);
            (text, on, on && c.settings_for(o).detection, lockable)
        }
    };
    set_text("site-status", &text);
    enabled.set_checked(on);
    enabled.set_disabled(!can_toggle);
    detection.set_checked(det);
    detection.set_disabled(!on);
}

async fn save(config: &Config, status: &str) {
    match storage::set_text(Area::Local, "config", &config.to_text()).await {
        Ok(()) => {
            let _ = webext::runtime::send_message(&ext::encode(&OneShot::ConfigSaved)).await;
            set_text("popup-error", "");
            set_text("site-status", status);
        }
        Err(e) => set_text("popup-error", &format!("Not saved: {e}")),
    }
    refresh().await;
}

/// Enables the site `origin` once `granted` (the permission request made in the change handler)
/// resolves, or disables it when there is none.
async fn set_enabled(
    origin: String,
    granted: Option<impl Future<Output = Result<bool, webext::ExtError>>>,
) {
    let Ok(Some(mut config)) = load_config().await else {
        return;
    };
    if let Some(granted) = granted {
        match granted.await {
            Ok(true) => {}
            _ => {
                set_text(
                    "popup-error",
                    "The browser did not grant access to this site.",
                );
                return refresh().await;
            }
        }
        if !config.sites.contains(&origin) {
            config.sites.push(origin.clone());
        }
        save(&config, &format!("Enabled on {origin}")).await;
    } else {
        config.sites.retain(|s| *s != origin);
        config.site_settings.remove(&origin);
        save(
            &config,
            &format!("Disabled on {origin}: it stops on the next page load"),
        )
        .await;
    }
}

async fn set_detection(on: bool) {
    let origin = STATE.with(|s| s.borrow().origin.clone());
    let (Some(origin), Ok(Some(mut config))) = (origin, load_config().await) else {
        return;
    };
    if !config.sites.contains(&origin) {
        return;
    }
    config
        .site_settings
        .entry(origin.clone())
        .or_default()
        .detection = on;
    config
        .site_settings
        .retain(|_, v| *v != protocol::config::SiteSettings::default());
    let word = if on { "on" } else { "off" };
    save(&config, &format!("Number detection {word} for {origin}")).await;
}
