//! Routes messages between each tab's content script and its panel frame, and delivers the
//! probe's reports to the panel of the tab they came from.
//!
//! The port map is memory only, and that is safe: ports close when the worker stops, and both
//! ends reconnect and introduce themselves again; the content script resends unanswered dials.

use crate::{debug, load_config, VERSION};
use protocol::ext::{
    self, BackgroundToContent, BackgroundToPanel, ContentToBackground, DialOutcome,
    PanelToBackground, ProbeReport,
};
use protocol::page::{page_events_for, PageError};
use std::cell::RefCell;
use std::collections::HashMap;
use webext::runtime::{Port, Sender};
use webext::storage::{self, Area};
use webext::Listener;

/// Messages for a panel that has not connected yet are held, up to this many.
const MAX_HELD: usize = 64;
/// The most conversation events held for one tab whose content script is not connected.
const MAX_HELD_EVENTS: usize = 256;

struct End {
    port: Port,
    _listeners: Vec<Listener>,
}

#[derive(Default)]
struct Tab {
    content: Option<End>,
    panel: Option<End>,
    held_for_panel: Vec<BackgroundToPanel>,
    /// Conversation events for a content script whose port is not back yet (the worker just
    /// restarted): sent when it connects.
    held_events: Vec<BackgroundToContent>,
    /// The content script's session (from `Hello`): where a dial's result goes back to.
    session: Option<String>,
    /// The origin of the page the content script runs in (from its port's sender).
    origin: Option<String>,
    /// The tab wants a softphone (its site has the panel enabled), and its title.
    wants: bool,
    title: String,
    /// When the tab last said it wants a softphone or was activated (for the hand-over order).
    touched: f64,
}

/// A tab that wants a softphone and whose content script is connected.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub tab: i32,
    pub title: String,
}

thread_local! {
    static TABS: RefCell<HashMap<i32, Tab>> = RefCell::new(HashMap::new());
    /// The tab the agent activated last (after a worker restart: the active tab then, see
    /// [`seed_working_tab`]).
    static WORKING: RefCell<Option<i32>> = const { RefCell::new(None) };
}

/// Tabs that want a softphone and are connected, the most recently used first.
pub fn candidates() -> Vec<Candidate> {
    TABS.with(|t| {
        let tabs = t.borrow();
        let mut list: Vec<(f64, Candidate)> = tabs
            .iter()
            .filter(|(_, tab)| tab.wants && tab.content.is_some())
            .map(|(id, tab)| {
                (
                    tab.touched,
                    Candidate {
                        tab: *id,
                        title: tab.title.clone(),
                    },
                )
            })
            .collect();
        list.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.tab.cmp(&b.1.tab)));
        list.into_iter().map(|(_, c)| c).collect()
    })
}

/// Whether `tab` wants a softphone and is connected.
pub fn wants(tab: i32) -> bool {
    TABS.with(|t| {
        t.borrow()
            .get(&tab)
            .is_some_and(|t| t.wants && t.content.is_some())
    })
}

pub fn has_panel(tab: i32) -> bool {
    TABS.with(|t| t.borrow().get(&tab).is_some_and(|t| t.panel.is_some()))
}

/// The origin of the page `tab`'s content script runs in, if it has connected.
pub fn origin(tab: i32) -> Option<String> {
    TABS.with(|t| t.borrow().get(&tab).and_then(|t| t.origin.clone()))
}

pub fn title(tab: i32) -> Option<String> {
    TABS.with(|t| t.borrow().get(&tab).map(|t| t.title.clone()))
}

/// The rule for conversation events: they go to the page API of the tab the agent activated
/// last, if that tab wants a softphone; otherwise to the owner's own tab.
pub fn events_target(owner: i32) -> i32 {
    WORKING
        .with(|w| *w.borrow())
        .filter(|w| wants(*w))
        .unwrap_or(owner)
}

/// At worker start: the tab the agent works in is the active tab of the focused window, until
/// the next activation (a restarted worker has no memory of the last one, and events would go
/// to the owner's tab instead).
pub async fn seed_working_tab() {
    if let Ok(Some((tab, _))) = webext::tabs::active_tab().await {
        // An activation heard meanwhile is newer: it stands.
        let seeded = WORKING.with(|w| w.borrow_mut().get_or_insert(tab) == &tab);
        if seeded {
            crate::owner::update_events_target();
        }
    }
}

/// The agent switched to `tab`.
pub fn on_tab_activated(tab: i32) {
    WORKING.with(|w| *w.borrow_mut() = Some(tab));
    TABS.with(|t| {
        if let Some(tab) = t.borrow_mut().get_mut(&tab) {
            tab.touched = js_sys::Date::now();
        }
    });
    crate::owner::update_events_target();
}

fn tab_of_session(session: &str) -> Option<i32> {
    TABS.with(|t| {
        t.borrow()
            .iter()
            .find(|(_, tab)| tab.session.as_deref() == Some(session))
            .map(|(id, _)| *id)
    })
}

fn post<T: serde::Serialize>(end: &Option<End>, msg: &T) -> bool {
    match end {
        Some(e) => e.port.post(&ext::encode(msg)).is_ok(),
        None => false,
    }
}

pub fn to_content(tab: i32, msg: &BackgroundToContent) {
    TABS.with(|t| {
        let mut tabs = t.borrow_mut();
        if tabs.get(&tab).is_some_and(|t| post(&t.content, msg)) {
            return;
        }
        // A page must not miss a conversation event because the worker restarted a moment
        // ago; anything else is either resent by the content script or stale by then.
        if let BackgroundToContent::Event { .. } = msg {
            let held = &mut tabs.entry(tab).or_default().held_events;
            if held.len() < MAX_HELD_EVENTS {
                held.push(msg.clone());
            } else {
                debug("too many conversation events wait for a tab: one is dropped");
            }
        }
    });
}

pub fn to_panel(tab_id: i32, msg: BackgroundToPanel) {
    let overflow = TABS.with(|t| {
        let mut tabs = t.borrow_mut();
        let tab = tabs.entry(tab_id).or_default();
        if post(&tab.panel, &msg) {
            return None;
        }
        // A resent dial that already waits here is not held twice.
        if let BackgroundToPanel::Dial { id, .. } = &msg {
            let held = |m: &BackgroundToPanel| matches!(m, BackgroundToPanel::Dial { id: h, .. } if h == id);
            if tab.held_for_panel.iter().any(held) {
                return None;
            }
        }
        if tab.held_for_panel.len() < MAX_HELD {
            tab.held_for_panel.push(msg);
            None
        } else {
            Some(msg)
        }
    });
    if let Some(BackgroundToPanel::Dial { id, .. }) = overflow {
        let e = PageError::new(
            "queueFull",
            format!("more than {MAX_HELD} requests are waiting for the panel"),
        );
        to_content(
            tab_id,
            &BackgroundToContent::DialResult {
                id,
                outcome: DialOutcome::Failed(e),
            },
        );
    }
}

/// A port from a content script or panel, checked here; `early` and `gone` as the loader saw
/// them before the wasm was ready (see `crate::on_connect`).
pub fn on_connect(port: Port, early: Vec<String>, gone: bool) {
    let sender = port.sender();
    let Some(tab_id) = sender.tab_id else {
        port.disconnect();
        return;
    };
    let origin = sender.url.as_deref().and_then(url_origin);
    if sender.extension_id != webext::runtime::id() {
        port.disconnect();
        return;
    }
    let name = port.name();
    let is_panel = match name.as_str() {
        "content" => false,
        "panel" => true,
        _ => {
            debug(&format!("refused a port named {name:?}"));
            port.disconnect();
            return;
        }
    };
    if gone {
        debug(&format!(
            "a {name:?} port closed before the worker was ready"
        ));
        // As when a registered content port closes: if its tab owned the softphone and does
        // not come back wanting it, the softphone is handed over.
        if !is_panel {
            crate::owner::on_content_gone(tab_id);
        }
        return;
    }
    let p2 = port.clone();
    let handle = move |text: &str| {
        if is_panel {
            from_panel(tab_id, text);
        } else {
            from_content(tab_id, &p2, text);
        }
    };
    let on_msg = port.on_message({
        let handle = handle.clone();
        move |text| handle(&text)
    });
    let p3 = port.clone();
    let on_disc = port.on_disconnect(move || {
        TABS.with(|t| {
            if let Some(tab) = t.borrow_mut().get_mut(&tab_id) {
                let slot = if is_panel {
                    &mut tab.panel
                } else {
                    &mut tab.content
                };
                // Only forget the end if it is still this port (a reconnect may have replaced it).
                if slot
                    .as_ref()
                    .is_some_and(|e| js_sys::Object::is(e.port.as_js(), p3.as_js()))
                {
                    *slot = None;
                    if !is_panel {
                        crate::owner::on_content_gone(tab_id);
                    }
                }
            }
        });
    });
    let end = End {
        port,
        _listeners: [on_msg, on_disc].into_iter().flatten().collect(),
    };
    let (held, events) = TABS.with(|t| {
        let mut tabs = t.borrow_mut();
        let tab = tabs.entry(tab_id).or_default();
        if is_panel {
            tab.panel = Some(end);
            (std::mem::take(&mut tab.held_for_panel), Vec::new())
        } else {
            tab.content = Some(end);
            tab.origin = origin;
            (Vec::new(), std::mem::take(&mut tab.held_events))
        }
    });
    for msg in held {
        to_panel(tab_id, msg);
    }
    for msg in events {
        to_content(tab_id, &msg);
    }
    // After the end is registered, as if they had arrived now: a Hello is answered on this port.
    for text in early {
        handle(&text);
    }
}

fn from_content(tab_id: i32, port: &Port, text: &str) {
    let msg = match ext::decode::<ContentToBackground>(text) {
        Ok(m) => m,
        Err(e) => return debug(&format!("dropped a content-script message: {e}")),
    };
    match msg {
        ContentToBackground::Hello { session, .. } => {
            TABS.with(|t| {
                if let Some(tab) = t.borrow_mut().get_mut(&tab_id) {
                    tab.session = Some(session);
                }
            });
            let _ = port.post(&ext::encode(&BackgroundToContent::Welcome {
                version: VERSION.into(),
            }));
            to_panel(tab_id, BackgroundToPanel::GetStatus);
            crate::scan::warm_up_once();
        }
        ContentToBackground::Scan(scan) => {
            let port = port.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let (hits, links) = crate::scan::run(&scan).await;
                for part in ext::encode_found(scan.batch, &hits, &links) {
                    let _ = port.post(&part);
                }
            });
        }
        ContentToBackground::Dial { id, number } => wasm_bindgen_futures::spawn_local(
            crate::owner::route_dial(tab_id, BackgroundToPanel::Dial { id, number }),
        ),
        ContentToBackground::Softphone { wanted, title } => {
            let title = protocol::softphone::clean_title(&title);
            TABS.with(|t| {
                if let Some(tab) = t.borrow_mut().get_mut(&tab_id) {
                    tab.wants = wanted;
                    tab.title = title.clone();
                    tab.touched = js_sys::Date::now();
                }
            });
            wasm_bindgen_futures::spawn_local(crate::owner::on_softphone(tab_id, wanted, title));
        }
        ContentToBackground::TakeSoftphone => {
            wasm_bindgen_futures::spawn_local(crate::owner::on_take(tab_id))
        }
        ContentToBackground::ShowSoftphone => {
            wasm_bindgen_futures::spawn_local(crate::owner::on_show(tab_id))
        }
        ContentToBackground::DriverRequest { id, .. } => {
            let e = PageError::new(
                "unsupported",
                "driver requests arrive with the presence feature",
            );
            let _ = port.post(&ext::encode(&BackgroundToContent::DialResult {
                id,
                outcome: DialOutcome::Failed(e),
            }));
        }
        ContentToBackground::GetStatus => to_panel(tab_id, BackgroundToPanel::GetStatus),
        ContentToBackground::Stats { drops } => save_stats(format!("content:{tab_id}"), drops),
    }
}

fn from_panel(tab_id: i32, text: &str) {
    let msg = match ext::decode::<PanelToBackground>(text) {
        Ok(m) => m,
        Err(e) => return debug(&format!("dropped a panel message: {e}")),
    };
    match msg {
        PanelToBackground::Hello => {
            to_panel(tab_id, BackgroundToPanel::Welcome { tab_id });
            crate::owner::update_events_target();
        }
        PanelToBackground::DialResult { id, outcome } => {
            // Back to the tab that placed the dial, which may not be the softphone's tab.
            let to = tab_of_session(&id.session).unwrap_or(tab_id);
            to_content(to, &BackgroundToContent::DialResult { id, outcome })
        }
        PanelToBackground::DriverEvent { event } => {
            let to = events_target(tab_id);
            for event in page_events_for(&event) {
                to_content(to, &BackgroundToContent::Event { event });
            }
        }
        PanelToBackground::DriverEvents { events } => {
            let to = events_target(tab_id);
            for event in events.iter().flat_map(page_events_for) {
                to_content(to, &BackgroundToContent::Event { event });
            }
        }
        PanelToBackground::Busy { active } => {
            wasm_bindgen_futures::spawn_local(crate::owner::on_busy(tab_id, active))
        }
        PanelToBackground::Status { status } => {
            // Every tab's page API reports the one softphone's status (a tab drops a repeat).
            let msg = BackgroundToContent::Status { status };
            to_content(tab_id, &msg);
            for c in candidates().into_iter().filter(|c| c.tab != tab_id) {
                to_content(c.tab, &msg);
            }
        }
        PanelToBackground::ShowPanel { visible } => {
            if visible {
                to_content(tab_id, &BackgroundToContent::ShowPanel);
            }
        }
        PanelToBackground::Stats { drops } => save_stats(format!("panel:{tab_id}"), drops),
    }
}

/// Diagnostics survive a worker restart in session storage (cleared when the browser closes).
fn save_stats(key: String, drops: Vec<(String, u64)>) {
    let map: serde_json::Map<String, serde_json::Value> =
        drops.into_iter().map(|(k, n)| (k, n.into())).collect();
    let text = serde_json::Value::Object(map).to_string();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = storage::set_text(Area::Session, &format!("stats:{key}"), &text).await;
    });
}

/// Delivers a probe report to the panel of the tab it came from, if it really comes from the
/// configured widget origin in a sub-frame.
pub async fn on_probe(report: ProbeReport, sender: &Sender) {
    let (Some(tab_id), Some(frame_id)) = (sender.tab_id, sender.frame_id) else {
        return;
    };
    let trusted = load_config().await.and_then(|c| c.widget_origin());
    let origin = sender
        .origin
        .clone()
        .or_else(|| sender.url.as_deref().and_then(url_origin));
    if frame_id == 0 || trusted.is_none() || origin != trusted {
        debug(&format!(
            "ignored a probe report from {origin:?} (frame {frame_id})"
        ));
        return;
    }
    to_panel(tab_id, BackgroundToPanel::Probe { report });
}

pub fn url_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{host}"))
}

pub async fn toggle_active_panel() {
    if let Ok(Some((tab_id, _))) = webext::tabs::active_tab().await {
        to_content(tab_id, &BackgroundToContent::TogglePanel);
    }
}

/// What waits for `tab`'s panel, taken out (to go to another tab's).
pub fn take_held(tab: i32) -> Vec<BackgroundToPanel> {
    TABS.with(|t| {
        t.borrow_mut()
            .get_mut(&tab)
            .map(|t| std::mem::take(&mut t.held_for_panel))
            .unwrap_or_default()
    })
}

pub fn forget_tab(tab_id: i32) {
    let held = TABS
        .with(|t| t.borrow_mut().remove(&tab_id))
        .map(|t| t.held_for_panel)
        .unwrap_or_default();
    WORKING.with(|w| {
        let mut w = w.borrow_mut();
        if *w == Some(tab_id) {
            *w = None;
        }
    });
    wasm_bindgen_futures::spawn_local(crate::owner::on_tab_removed(tab_id, held));
}
