//! The panel frame (`panel.html`): hosts the widget and is the bridge's end towards the driver.
//!
//! Trust: a message from the widget counts only if `event.source` is our widget frame's window
//! and `event.origin` is the configured widget origin; we post only to that origin, never `"*"`.
//! Liveness: the widget is alive only when the probe inside its frame says so — never because
//! the frame fired `load` — and ready only when the probe saw the driver bound.
//! Queue: dials that arrive before the driver is ready wait here, bounded, and are delivered
//! once each, in order. A widget reload does not replay what was already delivered.

use crate::util::{self, by_id, debug, info, load_config, warn};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use protocol::config::Config;
use protocol::driver::{
    BridgeToDriver, DriverEvent, DriverRequest, DriverToBridge, Presence, PresenceChange,
    OUR_DRIVER_NAME,
};
use protocol::drop::DropCounters;
use protocol::ext::{
    self, BackgroundToPanel, DialId, DialOutcome, OneShot, PanelToBackground, PresenceChoice,
    ProbeReport,
};
use protocol::page::{BridgeStatus, DriverKind, PageError, WidgetState};
use protocol::presence::{self, PresenceRecord};
use protocol::softphone::Conversations;
use protocol::{DropReason, E164};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement, HtmlIFrameElement, MessageEvent};
use webext::runtime::Port;
use webext::storage::{self, Area};
use webext::Listener;

/// Most dials held while the driver is not ready.
pub const MAX_QUEUE: usize = 32;
/// How many delivered dial ids are remembered to refuse duplicates.
const REMEMBERED: usize = 512;
/// How long a request to the driver may go unanswered.
const REQUEST_TIMEOUT_MS: u32 = 5_000;
/// Driver events per port message to the page in a burst (see [`queue_event`]).
const OUTBOX_BATCH: usize = 100;
/// The most messages held for the worker while its port is down (see [`Panel::held`]).
const MAX_HELD: usize = 256;

/// Which port a dial came in on, and so which one its result goes back on: the direct port
/// from this tab's page, or the worker (a dial from another tab, or a resend).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Direct,
    Worker,
}

/// What an id posted to the driver is waiting for.
enum Awaiting {
    Dial(DialId, Route),
    /// A request of the panel's own: resolves its promise with the reply, or on timeout.
    Request {
        resolve: js_sys::Function,
        _timer: Timeout,
    },
}

/// Restoring the stored presence into a widget that just became ready (see [`restore_presence`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Restore {
    NotYet,
    Started,
}

struct Panel {
    port: Option<Port>,
    port_listeners: Vec<Listener>,
    /// A port straight to this tab's content script: dials, results and events skip the worker
    /// (one hop instead of two). The worker's port stays for everything else and as fallback.
    direct: Option<Port>,
    direct_listeners: Vec<Listener>,
    config: Option<Config>,
    origin: Option<String>,
    frame: Option<HtmlIFrameElement>,
    /// The frame's window, the one source widget messages are accepted from. Kept rather than
    /// asked for on every message (a burst of events is thousands of them).
    frame_win: Option<web_sys::Window>,
    state: WidgetState,
    doc: Option<String>,
    driver: DriverKind,
    queue: VecDeque<(DialId, E164, Route)>,
    delivered: VecDeque<DialId>,
    awaiting: HashMap<String, Awaiting>,
    next_wire_id: u64,
    timer: Option<Timeout>,
    stats_timer: Option<Timeout>,
    /// Driver events waiting to go to the page, sent together at the end of the task.
    outbox: Vec<DriverEvent>,
    outbox_timer: Option<Timeout>,
    /// Runs while a new port waits for the worker's `Welcome`, and reconnects if none comes.
    watchdog: Option<Timeout>,
    reconnect_timer: Option<Timeout>,
    drops: DropCounters,
    listeners: Vec<EventListener>,
    ext_listeners: Vec<Listener>,
    /// Conversations the widget has open: while one is, the softphone stays in this tab.
    conversations: Conversations,
    /// Presence changes the widget reported since it loaded (a restore must not undo one).
    presence_events: u64,
    restore: Restore,
    /// A `DriverReady` that came before its document's `Alive`.
    early_ready: Option<String>,
    /// The status the worker last passed on to the other tabs (a repeat is not sent again).
    broadcast: Option<BridgeStatus>,
    /// Conversation events go to this tab's page (else through the worker to where the agent
    /// works).
    events_here: bool,
    /// The worker answered this port's `Hello`: messages posted on it arrive.
    welcomed: bool,
    /// Messages for the worker while no welcomed port is up (the worker restarts): sent in
    /// order once one is. Posted on a dead or orphaned port they would be lost, and with them
    /// a conversation event for the page or the news that a conversation is active.
    held: RefCell<VecDeque<String>>,
}

type Shared = Rc<RefCell<Panel>>;

thread_local! {
    /// The panel page's state lives as long as the page; owned here, not leaked.
    static PANEL: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

pub fn start() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let p = Rc::new(RefCell::new(Panel {
        port: None,
        port_listeners: Vec::new(),
        direct: None,
        direct_listeners: Vec::new(),
        config: None,
        origin: None,
        frame: None,
        frame_win: None,
        state: WidgetState::Off,
        doc: None,
        driver: DriverKind::Unknown,
        queue: VecDeque::new(),
        delivered: VecDeque::new(),
        awaiting: HashMap::new(),
        next_wire_id: 1,
        timer: None,
        stats_timer: None,
        outbox: Vec::new(),
        outbox_timer: None,
        watchdog: None,
        reconnect_timer: None,
        drops: DropCounters::default(),
        listeners: Vec::new(),
        ext_listeners: Vec::new(),
        conversations: Conversations::default(),
        presence_events: 0,
        restore: Restore::NotYet,
        early_ready: None,
        broadcast: None,
        events_here: true,
        welcomed: false,
        held: RefCell::new(VecDeque::new()),
    }));
    PANEL.with(|s| *s.borrow_mut() = Some(p.clone()));

    let weak = Rc::downgrade(&p);
    let on_msg = EventListener::new(&window, "message", move |e| {
        if let (Some(p), Some(e)) = (weak.upgrade(), e.dyn_ref::<MessageEvent>()) {
            on_widget_message(&p, e);
        }
    });
    let weak = Rc::downgrade(&p);
    let retry = by_id::<Element>("retry").map(|b| {
        EventListener::new(&b, "click", move |_| {
            if let Some(p) = weak.upgrade() {
                load_widget(&p);
            }
        })
    });
    let options = by_id::<Element>("open-options").map(|b| {
        EventListener::new(&b, "click", move |_| {
            wasm_bindgen_futures::spawn_local(async {
                let _ = webext::runtime::open_options_page().await;
            });
        })
    });
    p.borrow_mut()
        .listeners
        .extend([Some(on_msg), retry, options].into_iter().flatten());

    let weak = Rc::downgrade(&p);
    if let Ok(l) = storage::on_changed(move |area, key, _| {
        if area == "local" && key == "config" {
            if let Some(p) = weak.upgrade() {
                wasm_bindgen_futures::spawn_local(reload_config(p));
            }
        }
    }) {
        p.borrow_mut().ext_listeners.push(l);
    }
    connect(&p);
    wasm_bindgen_futures::spawn_local(reload_config(p));
}

async fn reload_config(p: Shared) {
    let config = match load_config().await {
        Ok(c) => c,
        Err(e) => {
            warn(&format!("configuration unusable: {e}"));
            None
        }
    };
    let new_url = config.as_ref().map(|c| c.widget_url.clone());
    let old_url = p.borrow().config.as_ref().map(|c| c.widget_url.clone());
    let had_frame = p.borrow().frame.is_some();
    let changed = new_url != old_url || !had_frame;
    if changed && had_frame {
        // A new widget URL: the probe must be registered for its origin before its frame
        // loads, or that frame never reports. The worker answers once its registrations are.
        let _ = webext::runtime::send_message(&ext::encode(&OneShot::ConfigSaved)).await;
    }
    p.borrow_mut().config = config;
    if changed {
        load_widget(&p);
    }
}

/// (Re)creates the widget frame for the configured URL and starts waiting for proof of life.
fn load_widget(p: &Shared) {
    let Some(doc) = util::document() else { return };
    let Some(host) = by_id::<Element>("widget") else {
        return;
    };
    let mut me = p.borrow_mut();
    me.frame_win = None;
    if let Some(old) = me.frame.take() {
        old.remove();
    }
    me.doc = None;
    me.driver = DriverKind::Unknown;
    me.awaiting.clear();
    me.widget_replaced();
    let Some((url, origin, timeout)) = me.config.as_ref().and_then(|c| {
        c.widget_origin()
            .map(|o| (c.widget_url.clone(), o, c.liveness_timeout_ms))
    }) else {
        me.origin = None;
        me.set_state(WidgetState::Off);
        show_view("unconfigured", "");
        return;
    };
    let Some(frame) = doc
        .create_element("iframe")
        .ok()
        .and_then(|f| f.dyn_into::<HtmlIFrameElement>().ok())
    else {
        return;
    };
    let _ = frame.set_attribute(
        "allow",
        "microphone; camera; autoplay; clipboard-write; fullscreen; encrypted-media",
    );
    let _ = frame.set_attribute("title", "Dynamics 365 Contact Center");
    frame.set_src(&url);
    let _ = host.append_child(&frame);
    me.frame_win = frame.content_window();
    me.frame = Some(frame);
    me.origin = Some(origin.clone());
    me.set_state(WidgetState::Loading);
    show_view("loading", &url);
    util::set_text("origin", &origin);
    let weak = Rc::downgrade(p);
    me.timer = Some(Timeout::new(timeout, move || {
        if let Some(p) = weak.upgrade() {
            on_timeout(&p);
        }
    }));
}

fn on_timeout(p: &Shared) {
    let mut me = p.borrow_mut();
    me.timer = None;
    match me.state {
        WidgetState::Loading => {
            let url = me
                .config
                .as_ref()
                .map(|c| c.widget_url.clone())
                .unwrap_or_default();
            warn(&format!("the widget at {url} did not answer"));
            me.set_state(WidgetState::Unreachable);
            show_view("error", &url);
        }
        WidgetState::Alive => {
            // Alive but never bound a driver: keep waiting (dials stay queued), but say so.
            util::set_text("note", "The softphone loaded, but its CTI driver has not started yet. Calls you place are kept until it does.");
        }
        _ => {}
    }
}

/// Shows one of the panel's views: `loading`, `error`, `unconfigured` or `widget`.
fn show_view(view: &str, url: &str) {
    if let Some(body) = util::document().and_then(|d| d.body()) {
        let _ = body.set_attribute("data-view", view);
    }
    util::set_text("url", url);
    util::set_text("note", "");
    if view == "error" {
        if let Some(b) = by_id::<HtmlElement>("retry") {
            let _ = b.focus();
        }
    }
}

impl Panel {
    fn status(&self) -> BridgeStatus {
        BridgeStatus {
            widget: self.state,
            driver: self.driver.clone(),
            widget_origin: self.origin.clone(),
            queued: self.queue.len() as u32,
        }
    }

    fn set_state(&mut self, s: WidgetState) {
        self.state = s;
        self.report_status();
    }

    fn report_status(&mut self) {
        let status = self.status();
        let driver = match &status.driver {
            DriverKind::Unknown => "driver: not started".to_owned(),
            DriverKind::Stock => {
                "driver: stock (click-to-dial and conversation-loaded only)".to_owned()
            }
            DriverKind::Extended { name, version } if name == OUR_DRIVER_NAME => {
                format!("driver: ours ({name} {version})")
            }
            DriverKind::Extended { name, version } => format!("driver: {name} {version}"),
        };
        util::set_text("driver", &driver);
        if let Some(body) = util::document().and_then(|d| d.body()) {
            let _ = body.set_attribute(
                "data-driver",
                match status.driver {
                    DriverKind::Unknown => "unknown",
                    DriverKind::Stock => "stock",
                    DriverKind::Extended { .. } => "extended",
                },
            );
        }
        let changed = self.broadcast.as_ref() != Some(&status);
        let msg = PanelToBackground::Status {
            status: status.clone(),
        };
        self.send_to_tab(&msg);
        if changed && self.direct.is_some() {
            // A change also goes through the worker, which tells the other tabs' page API.
            self.send(&msg);
        }
        self.broadcast = Some(status);
    }

    fn send(&self, msg: &PanelToBackground) {
        self.post_to_worker(&ext::encode(msg));
    }

    /// Posts on the worker's port once it is welcomed and nothing is held before; else holds.
    fn post_to_worker(&self, text: &str) {
        let mut held = self.held.borrow_mut();
        if self.welcomed && held.is_empty() {
            if let Some(port) = &self.port {
                if port.post(text).is_ok() {
                    return;
                }
            }
        }
        if held.len() >= MAX_HELD {
            held.pop_front();
            warn("too many messages waiting for the background worker: the oldest is dropped");
        }
        held.push_back(text.to_owned());
    }

    /// The worker welcomed the port: what was held goes, in order.
    fn on_welcome(&mut self) {
        self.welcomed = true;
        let Some(port) = &self.port else { return };
        let mut held = self.held.borrow_mut();
        while let Some(text) = held.pop_front() {
            if port.post(&text).is_err() {
                held.push_front(text);
                break;
            }
        }
    }

    /// Sends what the content script consumes: straight to it when the direct port is up.
    fn send_to_tab(&self, msg: &PanelToBackground) {
        self.send_text_to_tab(&ext::encode(msg));
    }

    fn send_text_to_tab(&self, text: &str) {
        if let Some(d) = &self.direct {
            if d.post(text).is_ok() {
                return;
            }
        }
        self.post_to_worker(text);
    }

    fn finish(&mut self, id: DialId, outcome: DialOutcome, route: Route) {
        let msg = PanelToBackground::DialResult { id, outcome };
        match route {
            Route::Direct => self.send_to_tab(&msg),
            Route::Worker => self.send(&msg),
        }
    }

    /// The widget's document is gone or replaced: its conversations with it, and the stored
    /// presence is restored again into the next one.
    fn widget_replaced(&mut self) {
        if let Some(active) = self.conversations.clear() {
            self.report_busy(active);
        }
        self.restore = Restore::NotYet;
        self.presence_events = 0;
    }

    /// Tells the worker (which keeps the softphone in this tab meanwhile) and this tab's page
    /// (which warns before unload) whether a conversation is active.
    fn flush_outbox(&mut self) {
        let events = std::mem::take(&mut self.outbox);
        for text in ext::encode_batches(&events) {
            if self.events_here {
                self.send_text_to_tab(&text);
            } else {
                self.post_to_worker(&text);
            }
        }
    }

    fn report_busy(&self, active: bool) {
        let msg = PanelToBackground::Busy { active };
        self.send(&msg);
        if let Some(d) = &self.direct {
            let _ = d.post(&ext::encode(&msg));
        }
    }

    fn ready_extended(&self) -> bool {
        self.state == WidgetState::Ready && matches!(self.driver, DriverKind::Extended { .. })
    }

    fn remember(&mut self, id: DialId) {
        if self.delivered.len() >= REMEMBERED {
            self.delivered.pop_front();
        }
        self.delivered.push_back(id);
    }

    /// Posts one dial into the widget, with the configured origin as the only allowed target.
    fn deliver(&mut self, id: DialId, number: E164, route: Route) {
        let (Some(frame), Some(origin)) = (&self.frame, &self.origin) else {
            return;
        };
        let Some(win) = frame.content_window() else {
            return;
        };
        let extended = matches!(self.driver, DriverKind::Extended { .. });
        let wire_id = format!("d{}", self.next_wire_id);
        self.next_wire_id += 1;
        let wire = BridgeToDriver::ClickToDial {
            number,
            id: Some(wire_id.clone()),
        }
        .to_wire(extended);
        match win.post_message(&JsValue::from_str(&wire), origin) {
            Ok(()) => {
                self.remember(id.clone());
                if extended {
                    self.awaiting.insert(wire_id, Awaiting::Dial(id, route));
                } else {
                    self.finish(id, DialOutcome::Delivered, route);
                }
            }
            Err(e) => {
                let msg = format!(
                    "could not post to the widget: {}",
                    webext::js_error_text(&e)
                );
                self.finish(
                    id,
                    DialOutcome::Failed(PageError::new("postFailed", msg)),
                    route,
                );
            }
        }
    }

    fn flush(&mut self) {
        while self.state == WidgetState::Ready {
            let Some((id, number, route)) = self.queue.pop_front() else {
                break;
            };
            self.deliver(id, number, route);
        }
        self.report_status();
    }
}

fn drop_message(p: &Shared, reason: &DropReason, what: &str) {
    debug(&format!("dropped {what}: {reason}"));
    let mut me = p.borrow_mut();
    me.drops.record(reason);
    if me.stats_timer.is_none() {
        let weak = Rc::downgrade(p);
        me.stats_timer = Some(Timeout::new(100, move || {
            if let Some(p) = weak.upgrade() {
                let mut me = p.borrow_mut();
                me.stats_timer = None;
                let drops = me.drops.iter().map(|(k, n)| (k.to_owned(), n)).collect();
                me.send(&PanelToBackground::Stats { drops });
            }
        }));
    }
}

fn on_widget_message(p: &Shared, e: &MessageEvent) {
    let (frame_win, origin) = {
        let me = p.borrow();
        (me.frame_win.clone(), me.origin.clone())
    };
    let from_widget = match (e.source(), &frame_win) {
        (Some(src), Some(w)) => js_sys::Object::is(&src, w),
        _ => false,
    };
    if !from_widget {
        return drop_message(
            p,
            &DropReason::WrongSource,
            "message from a window that is not the widget",
        );
    }
    if origin.as_deref() != Some(e.origin().as_str()) {
        return drop_message(
            p,
            &DropReason::WrongOrigin,
            &format!("widget message from {}", e.origin()),
        );
    }
    let data = e.data();
    let text = match data.as_string() {
        Some(s) => s,
        None => match js_sys::JSON::stringify(&data) {
            Ok(s) => s.as_string().unwrap_or_default(),
            Err(_) => return drop_message(p, &DropReason::NotJson, "widget message"),
        },
    };
    let msg = match DriverToBridge::decode_text(&text) {
        Ok(m) => m,
        Err(reason) => return drop_message(p, &reason, "widget message"),
    };
    let mut me = p.borrow_mut();
    match msg {
        DriverToBridge::Hello { driver, version } => {
            info(&format!(
                "widget driver introduced itself: {driver} {version}"
            ));
            me.driver = DriverKind::Extended {
                name: driver,
                version,
            };
            me.report_status();
            drop(me);
            maybe_restore(p);
        }
        DriverToBridge::StockConversationLoaded(_)
            if matches!(me.driver, DriverKind::Extended { .. }) =>
        {
            // The project's driver also posts the stock copy for other bridges; its extended
            // `conversationLoaded` event carries the same, so the page gets it once.
        }
        DriverToBridge::StockConversationLoaded(c) => {
            me.send(&PanelToBackground::DriverEvent {
                event: DriverEvent::ConversationLoaded(c),
            });
        }
        DriverToBridge::Event(event) => {
            match &event {
                DriverEvent::PanelVisibility(v) => {
                    me.send_to_tab(&PanelToBackground::ShowPanel { visible: v.visible });
                }
                // The panel's size is the agent's (drag to resize): a request is only noted.
                DriverEvent::PanelWidth(px) => debug(&format!("widget asked for width {}", px.px)),
                DriverEvent::PanelHeight(px) => {
                    debug(&format!("widget asked for height {}", px.px))
                }
                DriverEvent::PresenceChanged(change) => {
                    me.presence_events += 1;
                    let record = PresenceRecord::from_change(change, js_sys::Date::now() as u64);
                    wasm_bindgen_futures::spawn_local(store_presence(record));
                }
                _ => {}
            }
            if let Some(active) = me.conversations.apply(&event) {
                me.report_busy(active);
            }
            queue_event(p, &mut me, event);
        }
        DriverToBridge::Reply { id, result } => match me.awaiting.remove(&id) {
            Some(Awaiting::Dial(dial, route)) => {
                let outcome = match result {
                    Ok(_) => DialOutcome::Accepted,
                    Err(e) => DialOutcome::Failed(PageError::new(&e.code, e.message)),
                };
                me.finish(dial, outcome, route);
            }
            Some(Awaiting::Request { resolve, .. }) => {
                drop(me);
                let reply = match result {
                    Ok(v) => serde_json::json!({ "ok": v }),
                    Err(e) => serde_json::json!({ "err": format!("{}: {}", e.code, e.message) }),
                };
                let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(&reply.to_string()));
            }
            None => {}
        },
    }
}

/// Keeps the presence the driver reported in `storage.local` (for the worker's badge), unless
/// the stored record is newer: the newest choice wins. An unreadable stored record is replaced.
async fn store_presence(record: PresenceRecord) {
    if let Err(e) = record.validate() {
        return warn(&format!("presence not stored: {e}"));
    }
    let key = presence::STORAGE_KEY;
    match storage::get_text(Area::Local, key).await {
        Ok(Some(text)) => match PresenceRecord::from_stored(&text) {
            Ok(Some(stored)) if stored.newer(&record) => {
                return debug("presence not stored: the stored one is newer");
            }
            Ok(_) => {}
            Err(e) => warn(&format!("stored presence replaced: {e}")),
        },
        Ok(None) => {}
        Err(e) => return warn(&format!("presence not stored: {e}")),
    }
    if let Err(e) = storage::set_text(Area::Local, key, &record.to_text()).await {
        warn(&format!("presence not stored: {e}"));
    }
}

/// Queues a driver event for the page; a burst of events becomes one port message per
/// [`OUTBOX_BATCH`] events, in order. A full batch leaves at once: a burst of widget messages
/// would hold a timer back until it has all been received, and then the page could only start
/// on it after the panel is done, where a batch on its way lets both work at the same time.
/// It goes straight to this tab's page, or through the worker when the agent works in another
/// tab (the worker routes it there).
fn queue_event(p: &Shared, me: &mut Panel, event: DriverEvent) {
    me.outbox.push(event);
    if me.outbox.len() >= OUTBOX_BATCH {
        me.outbox_timer = None;
        me.flush_outbox();
    } else if me.outbox_timer.is_none() {
        let weak = Rc::downgrade(p);
        me.outbox_timer = Some(Timeout::new(0, move || {
            let Some(p) = weak.upgrade() else { return };
            let mut me = p.borrow_mut();
            me.outbox_timer = None;
            me.flush_outbox();
        }));
    }
}

/// Asks the driver something and waits for its reply (or [`REQUEST_TIMEOUT_MS`]). Only the
/// project's driver answers requests, so this is only called once it said hello.
async fn request(p: &Shared, request: DriverRequest) -> Result<serde_json::Value, String> {
    let promise = {
        let mut me = p.borrow_mut();
        let (Some(win), Some(origin)) = (
            me.frame.as_ref().and_then(|f| f.content_window()),
            me.origin.clone(),
        ) else {
            return Err("no widget".to_owned());
        };
        let wire_id = format!("r{}", me.next_wire_id);
        me.next_wire_id += 1;
        let wire = BridgeToDriver::Request {
            id: wire_id.clone(),
            request,
        }
        .to_wire(true);
        let mut resolve = None;
        let promise = js_sys::Promise::new(&mut |res, _rej| resolve = Some(res));
        let resolve = resolve.ok_or("no promise")?;
        win.post_message(&JsValue::from_str(&wire), &origin)
            .map_err(|e| webext::js_error_text(&e))?;
        let weak = Rc::downgrade(p);
        let id = wire_id.clone();
        let timer = Timeout::new(REQUEST_TIMEOUT_MS, move || {
            let Some(p) = weak.upgrade() else { return };
            let entry = p.borrow_mut().awaiting.remove(&id);
            if let Some(Awaiting::Request { resolve, .. }) = entry {
                let timeout = serde_json::json!({ "err": "the driver did not answer" });
                let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(&timeout.to_string()));
            }
        });
        me.awaiting.insert(
            wire_id,
            Awaiting::Request {
                resolve,
                _timer: timer,
            },
        );
        promise
    };
    let text = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let mut reply: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match reply.get("err").and_then(|e| e.as_str()) {
        Some(e) => Err(e.to_owned()),
        None => Ok(reply
            .get_mut("ok")
            .map(serde_json::Value::take)
            .unwrap_or_default()),
    }
}

/// Starts restoring the stored presence once the widget is ready and its driver is ours (the
/// stock driver cannot set presence), once per widget document.
fn maybe_restore(p: &Shared) {
    let mut me = p.borrow_mut();
    if me.restore == Restore::NotYet && me.ready_extended() {
        me.restore = Restore::Started;
        wasm_bindgen_futures::spawn_local(restore_presence(p.clone()));
    }
}

async fn stored_presence() -> Option<PresenceRecord> {
    match storage::get_text(Area::Local, presence::STORAGE_KEY).await {
        Ok(Some(text)) => PresenceRecord::from_stored(&text).unwrap_or_else(|e| {
            warn(&format!("stored presence ignored: {e}"));
            None
        }),
        Ok(None) => None,
        Err(e) => {
            warn(&format!("stored presence not read: {e}"));
            None
        }
    }
}

/// Brings the widget to the presence the agent chose last (see `protocol::presence`): unless the
/// widget already shows it, or reported a change of its own since it loaded (that one is newer
/// and was stored). With nothing stored yet, the widget's presence and options are stored (as
/// chosen at time 0, so that any real choice is newer) for the badge and the popup.
async fn restore_presence(p: Shared) {
    let seen = p.borrow().presence_events;
    let stored = stored_presence().await;
    let current: Option<Presence> = match request(&p, DriverRequest::GetPresence).await {
        Ok(v) => serde_json::from_value(v).ok(),
        Err(e) => {
            debug(&format!("presence not read from the widget: {e}"));
            None
        }
    };
    let Some(stored) = stored else {
        let Some(current) = current else { return };
        let options = request(&p, DriverRequest::GetPresenceOptions)
            .await
            .ok()
            .and_then(|v| serde_json::from_value::<Vec<Presence>>(v).ok());
        let change = PresenceChange {
            presence: current,
            options,
        };
        return store_presence(PresenceRecord::from_change(&change, 0)).await;
    };
    if current
        .as_ref()
        .is_some_and(|c| c.presence_id == stored.presence_id)
    {
        return debug("the widget already shows the stored presence");
    }
    if p.borrow().presence_events != seen {
        return info("presence not restored: the widget reported a newer one");
    }
    let (presence_id, base_status) = stored.restore_request();
    let ask = DriverRequest::SetPresence {
        presence_id,
        base_status,
    };
    match request(&p, ask).await {
        Ok(_) => info(&format!("presence restored: {}", stored.text)),
        Err(e) => warn(&format!("presence {:?} not restored: {e}", stored.text)),
    }
}

/// The agent chose a presence in the popup: asked of the driver when it can set presence (its
/// report is then stored), else stored here as the agent's choice.
async fn set_presence(p: Shared, choice: PresenceChoice) {
    if p.borrow().ready_extended() {
        if let Err(e) = request(&p, choice.request()).await {
            warn(&format!("presence not changed: {e}"));
        }
        return;
    }
    let stored = stored_presence().await;
    let now = js_sys::Date::now() as u64;
    let id = choice.presence_id.as_deref();
    match PresenceRecord::choose(stored.as_ref(), id, choice.base_status, now) {
        Ok(record) => store_presence(record).await,
        Err(e) => warn(&format!("presence not changed: {e}")),
    }
}

fn on_probe(p: &Shared, report: ProbeReport) {
    let mut me = p.borrow_mut();
    match report {
        ProbeReport::Alive { doc } => {
            // The probe's report travels through the worker, the driver's `hello` straight
            // here: the hello of this very document may have come first. Forget the driver
            // only when this report replaces another document we knew (its `gone` was lost).
            if me.doc.as_ref().is_some_and(|d| *d != doc) {
                me.driver = DriverKind::Unknown;
            }
            let ready = me.early_ready.take().filter(|d| *d == doc);
            me.doc = Some(doc);
            me.timer = None;
            me.set_state(WidgetState::Alive);
            show_view("widget", "");
            // Give the driver the same time to bind before saying it did not.
            let timeout = me.config.as_ref().map_or(15_000, |c| c.liveness_timeout_ms);
            let weak = Rc::downgrade(p);
            me.timer = Some(Timeout::new(timeout, move || {
                if let Some(p) = weak.upgrade() {
                    on_timeout(&p);
                }
            }));
            if let Some(doc) = ready {
                drop(me);
                on_probe(p, ProbeReport::DriverReady { doc });
            }
        }
        ProbeReport::DriverReady { doc } => {
            if me.doc.as_deref() != Some(doc.as_str()) {
                // The worker forwards each report after an await of its own, so this document's
                // `Alive` may still be on its way: keep the news for it.
                me.early_ready = Some(doc);
                return;
            }
            me.early_ready = None;
            me.timer = None;
            if me.driver == DriverKind::Unknown {
                me.driver = DriverKind::Stock;
            }
            util::set_text("note", "");
            me.state = WidgetState::Ready;
            info(&format!(
                "widget driver ready; delivering {} queued dial(s)",
                me.queue.len()
            ));
            me.flush();
            drop(me);
            maybe_restore(p);
        }
        ProbeReport::Gone { doc } => {
            if me.doc.as_deref() != Some(doc.as_str()) {
                return;
            }
            me.doc = None;
            me.driver = DriverKind::Unknown;
            me.widget_replaced();
            me.set_state(WidgetState::Loading);
            let timeout = me.config.as_ref().map_or(15_000, |c| c.liveness_timeout_ms);
            let weak = Rc::downgrade(p);
            me.timer = Some(Timeout::new(timeout, move || {
                if let Some(p) = weak.upgrade() {
                    on_timeout(&p);
                }
            }));
        }
    }
}

fn on_dial(p: &Shared, id: DialId, number: E164, route: Route) {
    let mut me = p.borrow_mut();
    if me.delivered.contains(&id) || me.queue.iter().any(|(q, _, _)| *q == id) {
        // A resend after the worker restarted: it was (or will be) delivered once already.
        if me.delivered.contains(&id) {
            me.finish(id, DialOutcome::Delivered, route);
        }
        return;
    }
    if me.state == WidgetState::Ready {
        me.deliver(id, number, route);
    } else if me.queue.len() < MAX_QUEUE {
        me.queue.push_back((id, number, route));
        me.report_status();
    } else {
        warn(&format!(
            "dial queue full ({MAX_QUEUE}); refusing a dial until the softphone is ready"
        ));
        let e = PageError::new(
            "queueFull",
            format!("{MAX_QUEUE} calls are already waiting for the softphone to start"),
        );
        me.finish(id, DialOutcome::Failed(e), route);
    }
}

/// Opens the direct port to the content script of the top frame of `tab_id`, once.
fn connect_direct(p: &Shared, tab_id: i32) {
    if p.borrow().direct.is_some() {
        return;
    }
    let port = match webext::tabs::connect(tab_id, "panel-direct", 0) {
        Ok(port) => port,
        Err(e) => {
            return debug(&format!(
                "no direct port to the page ({e}); going through the worker"
            ))
        }
    };
    let weak = Rc::downgrade(p);
    let on_msg = port.on_message(move |text| {
        let Some(p) = weak.upgrade() else { return };
        match ext::decode::<BackgroundToPanel>(&text) {
            Ok(BackgroundToPanel::Dial { id, number }) => on_dial(&p, id, number, Route::Direct),
            Ok(BackgroundToPanel::GetStatus) => p.borrow_mut().report_status(),
            Ok(_) => {}
            Err(reason) => drop_message(&p, &reason, "message from the page's content script"),
        }
    });
    let weak = Rc::downgrade(p);
    let on_disc = port.on_disconnect(move || {
        if let Some(p) = weak.upgrade() {
            let mut me = p.borrow_mut();
            me.direct = None;
            me.direct_listeners.clear();
        }
    });
    let mut me = p.borrow_mut();
    me.direct_listeners = [on_msg, on_disc].into_iter().flatten().collect();
    me.direct = Some(port);
    me.send_to_tab(&PanelToBackground::Hello);
    me.report_status();
}

/// How long a new port may wait for the worker's `Welcome` before it is replaced. A port opened
/// while Chrome is stopping the worker can be left orphaned, with no `onDisconnect` ever.
const WELCOME_TIMEOUT_MS: u32 = 1_000;

/// Connects again shortly: right after a disconnect the worker may still be shutting down.
fn reconnect_soon(p: &Shared, delay_ms: u32) {
    let weak = Rc::downgrade(p);
    p.borrow_mut().reconnect_timer = Some(Timeout::new(delay_ms, move || {
        if let Some(p) = weak.upgrade() {
            p.borrow_mut().reconnect_timer = None;
            connect(&p);
        }
    }));
}

fn connect(p: &Shared) {
    if !webext::context_alive() {
        return;
    }
    let port = match webext::runtime::connect("panel") {
        Ok(port) => port,
        Err(e) => {
            warn(&format!(
                "cannot reach the background worker, retrying: {e}"
            ));
            return reconnect_soon(p, 500);
        }
    };
    let weak = Rc::downgrade(p);
    let on_msg = port.on_message(move |text| {
        let Some(p) = weak.upgrade() else { return };
        match ext::decode::<BackgroundToPanel>(&text) {
            Ok(BackgroundToPanel::Welcome { tab_id }) => {
                {
                    let mut me = p.borrow_mut();
                    me.watchdog = None;
                    me.on_welcome();
                }
                connect_direct(&p, tab_id);
            }
            Ok(BackgroundToPanel::Dial { id, number }) => on_dial(&p, id, number, Route::Worker),
            Ok(BackgroundToPanel::Probe { report }) => on_probe(&p, report),
            Ok(BackgroundToPanel::GetStatus) => {
                // The worker asks for a tab that just joined: send even an unchanged status.
                let mut me = p.borrow_mut();
                me.broadcast = None;
                me.report_status();
            }
            Ok(BackgroundToPanel::SetPresence(choice)) => {
                wasm_bindgen_futures::spawn_local(set_presence(p, choice))
            }
            Ok(BackgroundToPanel::EventsHere { here }) => p.borrow_mut().events_here = here,
            Err(reason) => drop_message(&p, &reason, "message from the worker"),
        }
    });
    let weak = Rc::downgrade(p);
    let on_disc = port.on_disconnect(move || {
        let Some(p) = weak.upgrade() else { return };
        debug("panel port to the background worker closed");
        {
            let mut me = p.borrow_mut();
            me.port = None;
            me.welcomed = false;
            me.port_listeners.clear();
            me.watchdog = None;
        }
        // The worker stopped; connecting again restarts it.
        reconnect_soon(&p, 50);
    });
    let weak = Rc::downgrade(p);
    let watchdog = Timeout::new(WELCOME_TIMEOUT_MS, move || {
        let Some(p) = weak.upgrade() else { return };
        let stale = {
            let mut me = p.borrow_mut();
            me.watchdog = None;
            me.welcomed = false;
            me.port_listeners.clear();
            me.port.take()
        };
        if let Some(port) = stale {
            debug("no answer on the panel port: reconnecting");
            port.disconnect();
        }
        reconnect_soon(&p, 0);
    });
    let mut me = p.borrow_mut();
    me.port_listeners = [on_msg, on_disc].into_iter().flatten().collect();
    // The one message that does not wait for a welcome: it asks for it.
    let _ = port.post(&ext::encode(&PanelToBackground::Hello));
    me.port = Some(port);
    me.welcomed = false;
    me.watchdog = Some(watchdog);
    me.report_status();
}
