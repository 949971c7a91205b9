//! The bridge in a CRM page: the page API on one side, the background worker's port on the
//! other, and the docked panel in between.
//!
//! Trust: a page message counts only if it comes from this very window (`event.source`), with
//! this page's origin, on a site the agent enabled, and decodes as a v1 request. Anything else
//! addressed to the bridge is dropped with one debug line and counted; traffic that is not
//! addressed to the bridge is ignored at the cost of one property read.

use crate::bar::{Bar, BarAction};
use crate::detect::Detector;
use crate::log;
use crate::panel::Panel;
use crate::toast::Toast;
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use gloo_utils::format::JsValueSerdeExt;
use protocol::config::{Numbering, PageView};
use protocol::drop::DropCounters;
use protocol::ext::{
    self, BackgroundToContent, BackgroundToPanel, ContentToBackground, DialId, DialOutcome,
    PanelToBackground, Role,
};
use protocol::page::{
    page_events_for, BridgeStatus, BridgeToPage, PageError, PageEvent, PageInput, PageToBridge,
    Refused,
};
use protocol::{DropReason, E164, PAGE_CHANNEL};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, Window};
use webext::runtime::Port;
use webext::storage::{self, Area};
use webext::Listener;

/// A click-to-dial waiting for its outcome. Kept until answered, and sent again after the port
/// reconnects (the panel delivers each [`DialId`] once, so a resend cannot dial twice).
struct Pending {
    /// The page request to answer; `None` for a number the agent clicked in the page.
    page_id: Option<String>,
    number: E164,
    /// When it was last sent (ms since the epoch).
    sent_at: f64,
}

/// An unanswered dial is sent again after this long. A port can be replaced (its watchdog, a
/// worker restart) just as a message to it is in flight, and such a message is gone; the panel
/// delivers each dial id once, so a resend never dials twice.
const RESEND_MS: u32 = 2_000;

pub struct Bridge {
    window: Window,
    origin: String,
    session: String,
    /// This page's view of the configuration, `None` until read (or when it is unusable).
    view: Option<PageView>,
    port: Option<Port>,
    port_listeners: Vec<Listener>,
    /// The panel's direct port (dials and their results skip the worker).
    direct: Option<Port>,
    direct_listeners: Vec<Listener>,
    pending: BTreeMap<u64, Pending>,
    next_seq: u64,
    status: Option<BridgeStatus>,
    drops: DropCounters,
    stats_timer: Option<Timeout>,
    /// Runs while dials are unanswered, to send them again.
    resend_timer: Option<gloo_timers::callback::Interval>,
    reconnect_timer: Option<Timeout>,
    /// Runs while a new port waits for the worker's `Welcome`, and reconnects if none comes.
    watchdog: Option<Timeout>,
    panel: Option<Panel>,
    /// The bar shown instead of the panel while the softphone lives in another tab.
    bar: Option<Bar>,
    /// A message for the agent in a tab with neither panel nor bar (see [`Toast`]).
    toast: Option<Toast>,
    /// Whether this tab wants a softphone (the panel is enabled for its site); the worker
    /// answers with the [`Role`] that decides between panel and bar.
    wants_softphone: bool,
    role: Option<Role>,
    /// Whether the configuration was read (`view` stays `None` when there is none).
    config_read: bool,
    /// `showPanel`/`hidePanel` requests (page id, show) that came before this tab knew whether
    /// it shows the panel, the bar or neither: a page that asks on load must not hear "not on
    /// this site" from a tab that is about to show the panel. Answered once it knows, or after
    /// [`HELD_PANEL_MS`].
    held_panel: Vec<HeldPanel>,
    held_timer: Option<Timeout>,
    /// Asks the browser to confirm leaving while a conversation is active in this tab's panel.
    unload_guard: Option<EventListener>,
    /// Phone-number detection, while it is switched on for this site.
    detector: Option<Rc<Detector>>,
    listeners: Vec<EventListener>,
    ext_listeners: Vec<Listener>,
    /// When the agent last clicked, or pressed Enter or Space outside a text field, in this
    /// page (trusted events only); taken by the `showPanel` it allows. A `Cell` apart from the
    /// bridge's `RefCell`: the listener must work while the bridge is borrowed.
    gesture: Rc<Cell<Option<f64>>>,
    welcomed: bool,
    to_page: Rc<ToPage>,
}

/// Replies and events on their way to the page, delivered in order as `message` events on its
/// window once the current task's own work is done (in a microtask).
///
/// In Chromium they are dispatched as `MessageEvent`s made by the content script, with this
/// page's origin and window as origin and source: the page's listeners receive them exactly as
/// the posted messages of the page API's contract, without a task and a structured clone each.
/// A `window.postMessage` per event was the relay's main cost on the page's thread (a burst of
/// driver events becomes one port message, then one page message per event). Chromium hands
/// the data to the page's world as a copy. Firefox's content scripts cannot hand their objects
/// to the page that way, so there the messages are posted.
///
/// Never dispatched while the bridge is borrowed: a page listener may answer synchronously
/// (a `ccaas-bridge` event), and that runs the bridge again.
struct ToPage {
    window: Window,
    origin: String,
    dispatch: bool,
    queue: RefCell<Vec<JsValue>>,
    scheduled: std::cell::Cell<bool>,
    /// The message being dispatched (our own listener skips it).
    current: RefCell<Option<JsValue>>,
}

impl ToPage {
    fn new(window: &Window, origin: &str) -> Rc<ToPage> {
        let firefox = webext::firefox_content_script();
        Rc::new(ToPage {
            window: window.clone(),
            origin: origin.to_owned(),
            dispatch: !firefox,
            queue: RefCell::new(Vec::new()),
            scheduled: std::cell::Cell::new(false),
            current: RefCell::new(None),
        })
    }

    fn push(self: &Rc<Self>, value: JsValue) {
        self.queue.borrow_mut().push(value);
        self.schedule();
    }

    /// Queues several messages, made into page objects with one `JSON.parse`.
    fn push_all(self: &Rc<Self>, values: Vec<serde_json::Value>) {
        if values.is_empty() {
            return;
        }
        let array = <JsValue as JsValueSerdeExt>::from_serde(&serde_json::Value::Array(values))
            .unwrap_or(JsValue::NULL);
        let Some(array) = array.dyn_ref::<js_sys::Array>() else {
            return log::debug("events for the page could not be converted");
        };
        self.queue.borrow_mut().extend(array.iter());
        self.schedule();
    }

    /// Flushes in a microtask, once per batch.
    fn schedule(self: &Rc<Self>) {
        if self.scheduled.replace(true) {
            return;
        }
        let me = self.clone();
        wasm_bindgen_futures::spawn_local(async move { me.flush() });
    }

    fn flush(&self) {
        self.scheduled.set(false);
        // Taken first: what a page listener causes meanwhile goes into a new batch.
        let batch = std::mem::take(&mut *self.queue.borrow_mut());
        for value in batch {
            if let Err(e) = self.deliver(&value) {
                log::debug(&format!(
                    "cannot deliver to the page: {}",
                    webext::js_error_text(&e)
                ));
            }
        }
    }

    fn deliver(&self, value: &JsValue) -> Result<(), JsValue> {
        if !self.dispatch {
            // Target this page's own origin: the message never leaves this window.
            return self.window.post_message(value, &self.origin);
        }
        let init = web_sys::MessageEventInit::new();
        init.set_data(value);
        init.set_origin(&self.origin);
        init.set_source(Some(self.window.as_ref()));
        let event = MessageEvent::new_with_event_init_dict("message", &init)?;
        let previous = self.current.replace(Some(event.clone().into()));
        let done = self.window.dispatch_event(&event).map(|_| ());
        *self.current.borrow_mut() = previous;
        done
    }

    /// Whether `e` is the message this bridge is dispatching right now.
    fn is_current(&self, e: &web_sys::Event) -> bool {
        self.current
            .borrow()
            .as_ref()
            .is_some_and(|c| js_sys::Object::is(c, e))
    }
}

type Shared = Rc<RefCell<Bridge>>;

thread_local! {
    /// The one bridge of this page. Owning it here (rather than leaking closures) is what lets
    /// [`teardown`] remove every listener and the panel when the extension goes away.
    static BRIDGE: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

/// Starts the bridge on `window`; `early` holds the page's messages and `ccaas-bridge` events
/// that the loader kept before (a request the page made while the bridge loaded), handled now
/// as if they had just come.
pub fn start(window: Window, early: js_sys::Array) {
    let origin = window.location().origin().unwrap_or_default();
    Panel::remove_stale(&window);
    Bar::remove_stale(&window);
    Toast::remove_stale(&window);
    let bridge = Rc::new(RefCell::new(Bridge {
        window: window.clone(),
        origin: origin.clone(),
        session: log::random_id(),
        view: None,
        port: None,
        port_listeners: Vec::new(),
        direct: None,
        direct_listeners: Vec::new(),
        pending: BTreeMap::new(),
        next_seq: 1,
        status: None,
        drops: DropCounters::default(),
        stats_timer: None,
        resend_timer: None,
        reconnect_timer: None,
        watchdog: None,
        panel: None,
        bar: None,
        toast: None,
        wants_softphone: false,
        role: None,
        config_read: false,
        held_panel: Vec::new(),
        held_timer: None,
        unload_guard: None,
        detector: None,
        listeners: Vec::new(),
        ext_listeners: Vec::new(),
        gesture: Rc::new(Cell::new(None)),
        welcomed: false,
        to_page: ToPage::new(&window, &origin),
    }));
    BRIDGE.with(|b| *b.borrow_mut() = Some(bridge.clone()));

    // The page listener goes in first so that a request sent while the configuration loads is
    // queued (as a pending dial) rather than lost.
    let weak = Rc::downgrade(&bridge);
    let out = Rc::downgrade(&bridge.borrow().to_page);
    let l = EventListener::new(&window, "message", move |e| {
        // Our own replies and events pass here too: known by identity, at no cost.
        if out.upgrade().is_some_and(|o| o.is_current(e)) {
            return;
        }
        if let (Some(b), Some(e)) = (weak.upgrade(), e.dyn_ref::<MessageEvent>()) {
            on_page_message(&b, e);
        }
    });
    bridge.borrow_mut().listeners.push(l);
    // The synchronous form of the same requests: a `CustomEvent` dispatched on this window runs
    // this listener inside the page's own click handler. A `postMessage` to the page's own
    // window waits for a task, and Chromium runs a rendering update first when it comes right
    // after an agent's click (about 6 ms).
    let weak = Rc::downgrade(&bridge);
    let l = EventListener::new(&window, PAGE_CHANNEL, move |e| {
        if let (Some(b), Some(e)) = (weak.upgrade(), e.dyn_ref::<web_sys::CustomEvent>()) {
            on_page_event(&b, e);
        }
    });
    bridge.borrow_mut().listeners.push(l);
    let gestures = watch_gestures(&window, &bridge.borrow().gesture);
    bridge.borrow_mut().listeners.extend(gestures);

    let weak = Rc::downgrade(&bridge);
    match storage::on_changed(move |area, key, value| {
        if let Some(b) = weak.upgrade() {
            on_storage_changed(&b, area, key, value);
        }
    }) {
        Ok(l) => bridge.borrow_mut().ext_listeners.push(l),
        Err(e) => log::warn(&format!("cannot follow configuration changes: {e}")),
    }

    let weak = Rc::downgrade(&bridge);
    match webext::runtime::on_connect(move |port| {
        if let Some(b) = weak.upgrade() {
            on_connect(&b, port);
        }
    }) {
        Ok(l) => bridge.borrow_mut().ext_listeners.push(l),
        Err(e) => log::debug(&format!("no direct port from the panel: {e}")),
    }

    connect(&bridge);
    for e in early.iter() {
        if let Some(m) = e.dyn_ref::<MessageEvent>() {
            on_page_message(&bridge, m);
        } else if let Some(c) = e.dyn_ref::<web_sys::CustomEvent>() {
            on_page_event(&bridge, c);
        }
    }
    let torn_down = BRIDGE.with(|x| !x.borrow().as_ref().is_some_and(|c| Rc::ptr_eq(c, &bridge)));
    if torn_down {
        // The extension went away as this started (`connect` found it gone): what the page
        // asked meanwhile is answered before this bridge is dropped.
        if let Ok(mut me) = bridge.try_borrow_mut() {
            answer_waiting(&mut me);
        }
        return;
    }
    let weak = Rc::downgrade(&bridge);
    let origin = bridge.borrow().origin.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let view = load_config(&origin).await;
        if let Some(b) = weak.upgrade() {
            apply_config(&b, view);
        }
    });
}

async fn load_config(origin: &str) -> Option<PageView> {
    let text = storage::get_text(Area::Local, "config")
        .await
        .ok()
        .flatten()?;
    parse_view(&text, origin)
}

fn parse_view(text: &str, origin: &str) -> Option<PageView> {
    let value = protocol::json::parse_bounded(text).ok()?;
    match PageView::from_stored(&value, origin) {
        Ok(v) => Some(v),
        Err(e) => {
            log::warn(&format!("ignoring the stored configuration: {e}"));
            None
        }
    }
}

fn apply_config(b: &Shared, view: Option<PageView>) {
    let detect = view.as_ref().filter(|v| v.enabled && v.settings.detection);
    let running = b.borrow().detector.clone();
    match (detect, running) {
        (Some(v), None) => {
            let detector = start_detector(b, v.numbering.clone());
            b.borrow_mut().detector = detector;
        }
        (Some(v), Some(d)) => {
            let same = b.borrow().view.as_ref().map(|old| &old.numbering) == Some(&v.numbering);
            if !same {
                // Text already read, and marks made, under the old region: all of it is read
                // again under the new one. The old detector restores the page first (in its
                // Drop, outside the borrow).
                b.borrow_mut().detector = None;
                drop(d);
                let detector = start_detector(b, v.numbering.clone());
                b.borrow_mut().detector = detector;
                log::info("the region or area code changed: numbers are read again");
            }
        }
        (None, Some(d)) => {
            b.borrow_mut().detector = None;
            // The last owner, dropped outside the borrow: restoring the page's text runs in its
            // Drop.
            drop(d);
            log::info("number detection is switched off for this site: marks removed");
        }
        (None, None) => {}
    }
    let mut me = b.borrow_mut();
    let enabled = view.as_ref().is_some_and(|v| v.enabled && v.settings.panel);
    me.view = view;
    me.config_read = true;
    if enabled != me.wants_softphone {
        me.wants_softphone = enabled;
        me.send_softphone();
    }
    if !enabled {
        me.role = None;
        me.bar = None;
        me.unload_guard = None;
        if me.panel.take().is_some() {
            log::info("the panel is switched off for this site: removed");
        }
    }
    drop(me);
    answer_held(b, false);
}

/// Shows the panel (this tab hosts the softphone) or the bar (another tab does).
fn apply_role(b: &Shared, role: Role) {
    let mut me = b.borrow_mut();
    if !me.wants_softphone || me.role.as_ref() == Some(&role) {
        return;
    }
    // A tab with the panel or the bar needs no message of its own, nor one an earlier instance
    // of the extension left (its notice that the extension went away may have shown before this
    // one knew its part).
    me.toast = None;
    Toast::remove_stale(&me.window);
    match &role {
        Role::Owner => {
            me.bar = None;
            if me.panel.is_none() {
                me.panel = Panel::create(&me.window);
                if let (Some(p), Some(s)) = (&me.panel, &me.status) {
                    p.show_status(s);
                }
            }
        }
        Role::Elsewhere { title } => {
            if me.panel.take().is_some() {
                log::info("the softphone moved to another tab: panel removed");
            }
            me.unload_guard = None;
            match &me.bar {
                Some(bar) => bar.set_title(title),
                None => {
                    let weak = Rc::downgrade(b);
                    me.bar = Bar::create(&me.window, title, move |action| {
                        if let Some(b) = weak.upgrade() {
                            let msg = match action {
                                BarAction::OpenHere => ContentToBackground::TakeSoftphone,
                                BarAction::Show => ContentToBackground::ShowSoftphone,
                            };
                            b.borrow().send(&msg);
                        }
                    });
                }
            }
        }
    }
    me.role = Some(role);
    drop(me);
    answer_held(b, false);
}

/// How long a held `showPanel`/`hidePanel` waits for this tab to know its part (the worker's
/// answer takes tens of ms, a second or two when it has to start first).
const HELD_PANEL_MS: u32 = 5_000;

/// At most this many are held; more are refused at once.
const MAX_HELD_PANEL: usize = 8;

/// Whether this tab does not know yet if it shows the panel, the bar or neither.
fn undecided(me: &Bridge) -> bool {
    !me.config_read || (me.wants_softphone && me.role.is_none())
}

/// A `showPanel` (`show`) or `hidePanel` held until the tab knows its part. `gesture`: whether it
/// came within the agent's gesture, judged when it came (a click made while it waits is not
/// its own).
struct HeldPanel {
    id: String,
    show: bool,
    gesture: bool,
}

/// Holds a panel request until this tab knows its part.
fn hold_panel_request(b: &Shared, id: String, show: bool) {
    let mut me = b.borrow_mut();
    if me.held_panel.len() >= MAX_HELD_PANEL {
        let e = PageError::new(
            "queueFull",
            "too many panel requests before the bridge started",
        );
        return me.reply(&id, Err(e));
    }
    let gesture = show && take_gesture(&me.gesture);
    me.held_panel.push(HeldPanel { id, show, gesture });
    if me.held_timer.is_none() {
        let weak = Rc::downgrade(b);
        me.held_timer = Some(Timeout::new(HELD_PANEL_MS, move || {
            if let Some(b) = weak.upgrade() {
                answer_held(&b, true);
            }
        }));
    }
}

/// Answers the held panel requests, in order, as a request coming now would be answered (see
/// [`on_page_data`]) once the tab knows its part; or, when `timed_out` and it still does not,
/// with `noSoftphone`.
fn answer_held(b: &Shared, timed_out: bool) {
    let held = {
        let Ok(mut me) = b.try_borrow_mut() else {
            return;
        };
        if me.held_panel.is_empty() || (undecided(&me) && !timed_out) {
            return;
        }
        me.held_timer = None;
        std::mem::take(&mut me.held_panel)
    };
    for h in held {
        if undecided(&b.borrow()) {
            let e = PageError::new(
                "noSoftphone",
                "the softphone has not started in this tab yet; try again",
            );
            b.borrow().reply(&h.id, Err(e));
        } else if !refused_here(b, &h.id) {
            panel_request(b, h.id, h.show, Some(h.gesture));
        }
    }
}

/// While a conversation is active in this tab's softphone, leaving the page asks first.
fn set_busy(b: &Shared, active: bool) {
    let mut me = b.borrow_mut();
    if !active || me.role != Some(Role::Owner) {
        me.unload_guard = None;
        return;
    }
    if me.unload_guard.is_none() {
        let opts = gloo_events::EventListenerOptions::enable_prevent_default();
        me.unload_guard = Some(EventListener::new_with_options(
            &me.window,
            "beforeunload",
            opts,
            |e| {
                e.prevent_default();
                if let Some(e) = e.dyn_ref::<web_sys::BeforeUnloadEvent>() {
                    e.set_return_value("A conversation is active in the softphone.");
                }
            },
        ));
    }
}

fn start_detector(b: &Shared, numbering: Numbering) -> Option<Rc<Detector>> {
    let window = b.borrow().window.clone();
    let weak = Rc::downgrade(b);
    let send = move |scan: &protocol::ext::Scan| {
        weak.upgrade().is_some_and(|b| {
            b.try_borrow()
                .is_ok_and(|me| me.send_checked(&ContentToBackground::Scan(scan.clone())))
        })
    };
    let weak = Rc::downgrade(b);
    let dial = move |number: E164| {
        if let Some(b) = weak.upgrade() {
            dial_number(&b, None, number);
        }
    };
    Detector::start(&window, numbering, send, dial).map(Rc::new)
}

/// Starts a click-to-dial: kept as pending until the panel answers, and the panel restored.
fn dial_number(b: &Shared, page_id: Option<String>, number: E164) {
    let Ok(mut me) = b.try_borrow_mut() else {
        return;
    };
    let seq = me.next_seq;
    me.next_seq += 1;
    let id = DialId {
        session: me.session.clone(),
        seq,
    };
    me.pending.insert(
        seq,
        Pending {
            page_id,
            number: number.clone(),
            sent_at: js_sys::Date::now(),
        },
    );
    me.dial(id, number);
    if let Some(p) = &me.panel {
        p.set_minimized(false);
    }
    if me.resend_timer.is_none() {
        let weak = Rc::downgrade(b);
        me.resend_timer = Some(gloo_timers::callback::Interval::new(RESEND_MS, move || {
            if let Some(b) = weak.upgrade() {
                resend_unanswered(&b);
            }
        }));
    }
}

/// Sends again every dial that has waited [`RESEND_MS`]; stops when none is left.
fn resend_unanswered(b: &Shared) {
    let Ok(mut me) = b.try_borrow_mut() else {
        return;
    };
    if me.pending.is_empty() {
        me.resend_timer = None;
        return;
    }
    let now = js_sys::Date::now();
    let due: Vec<(u64, E164)> = me
        .pending
        .iter_mut()
        .filter(|(_, p)| now - p.sent_at >= f64::from(RESEND_MS))
        .map(|(seq, p)| {
            p.sent_at = now;
            (*seq, p.number.clone())
        })
        .collect();
    for (seq, number) in due {
        let id = DialId {
            session: me.session.clone(),
            seq,
        };
        me.send(&ContentToBackground::Dial { id, number });
    }
}

fn on_storage_changed(b: &Shared, area: &str, key: &str, value: JsValue) {
    if area != "local" {
        return;
    }
    match key {
        "config" => {
            let origin = b.borrow().origin.clone();
            apply_config(b, value.as_string().and_then(|t| parse_view(&t, &origin)));
        }
        "panel" => {
            let me = b.borrow();
            if let Some(p) = &me.panel {
                p.apply_stored(value.as_string().as_deref());
            }
        }
        _ => {}
    }
}

impl Bridge {
    /// Sends a dial to the panel: over the direct port when it is up, else through the worker.
    /// (A dial that goes both ways after a reconnect is still delivered once: the panel
    /// remembers dial ids.)
    fn dial(&self, id: DialId, number: E164) {
        if let Some(d) = &self.direct {
            if d.post(&ext::encode(&BackgroundToPanel::Dial {
                id: id.clone(),
                number: number.clone(),
            }))
            .is_ok()
            {
                return;
            }
        }
        self.send(&ContentToBackground::Dial { id, number });
    }

    fn send(&self, msg: &ContentToBackground) {
        self.send_checked(msg);
    }

    fn send_softphone(&self) {
        let title = self
            .window
            .document()
            .map(|d| d.title())
            .unwrap_or_default();
        self.send(&ContentToBackground::Softphone {
            wanted: self.wants_softphone,
            title,
        });
    }

    /// Like [`Bridge::send`], saying whether the message left.
    fn send_checked(&self, msg: &ContentToBackground) -> bool {
        let Some(port) = &self.port else {
            return false;
        };
        match port.post(&ext::encode(msg)) {
            Ok(()) => true,
            Err(e) => {
                log::debug(&format!(
                    "background unreachable, will retry on reconnect: {e}"
                ));
                false
            }
        }
    }

    fn post_to_page(&self, msg: &BridgeToPage) {
        let value =
            <JsValue as JsValueSerdeExt>::from_serde(&msg.to_value()).unwrap_or(JsValue::NULL);
        self.to_page.push(value);
    }

    fn reply(&self, id: &str, result: Result<serde_json::Value, PageError>) {
        self.post_to_page(&BridgeToPage::Reply {
            id: id.to_owned(),
            result,
        });
    }

    fn enabled(&self) -> bool {
        self.view.as_ref().is_some_and(|v| v.enabled)
    }
}

/// Records a drop: one debug line, one count, and a report to the worker shortly after.
fn drop_message(b: &Shared, reason: &DropReason, what: &str) {
    log::debug(&format!("dropped {what}: {reason}"));
    let mut me = b.borrow_mut();
    me.drops.record(reason);
    if me.stats_timer.is_none() {
        let weak = Rc::downgrade(b);
        me.stats_timer = Some(Timeout::new(100, move || {
            if let Some(b) = weak.upgrade() {
                let mut me = b.borrow_mut();
                me.stats_timer = None;
                let drops = me.drops.iter().map(|(k, n)| (k.to_owned(), n)).collect();
                me.send(&ContentToBackground::Stats { drops });
            }
        }));
    }
}

fn on_page_message(b: &Shared, e: &MessageEvent) {
    let data = e.data();
    // Fast path: most messages on a busy page belong to someone else.
    if !addressed(&data) {
        return;
    }
    let (window, origin) = {
        let me = b.borrow();
        (me.window.clone(), me.origin.clone())
    };
    let same_window = e.source().is_some_and(|s| js_sys::Object::is(&s, &window));
    if !same_window {
        return drop_message(
            b,
            &DropReason::WrongSource,
            "page message from another window",
        );
    }
    if e.origin() != origin {
        return drop_message(b, &DropReason::WrongOrigin, "page message");
    }
    on_page_data(b, data);
}

/// A request dispatched as `CustomEvent(PAGE_CHANNEL, {detail})` on this window. Only a script of
/// this page's origin can dispatch on this window (other origins cannot reach it), which is what
/// the source and origin checks establish for a message; the detail is the same envelope.
fn on_page_event(b: &Shared, e: &web_sys::CustomEvent) {
    let data = e.detail();
    if !addressed(&data) {
        return drop_message(
            b,
            &DropReason::WrongShape("not a bridge envelope".into()),
            "page event",
        );
    }
    on_page_data(b, data);
}

/// Whether a page message or event detail is meant for the bridge (one property read at most).
fn addressed(data: &JsValue) -> bool {
    match data.as_string() {
        Some(s) => s.contains(PAGE_CHANNEL),
        None => {
            data.is_object()
                && webext::get(data, "channel").as_string().as_deref() == Some(PAGE_CHANNEL)
        }
    }
}

/// Decodes and handles a page request whose source is established.
fn on_page_data(b: &Shared, data: JsValue) {
    // Our own replies and events come back to this listener too (posted to this very window,
    // they pass the checks above): skip them before any stringify and decode, which would
    // double the relay's work.
    if !data.is_string() {
        let kind = webext::get(&data, "kind").as_string();
        if matches!(kind.as_deref(), Some("event" | "reply")) {
            return;
        }
    }
    let text = match data.as_string() {
        Some(s) => s,
        None => match js_sys::JSON::stringify(&data) {
            Ok(s) => s.as_string().unwrap_or_default(),
            Err(_) => return drop_message(b, &DropReason::NotJson, "page message"),
        },
    };
    let request = match PageInput::decode_text(&text) {
        Ok(PageInput::Request(r)) => r,
        Ok(PageInput::NotForUs | PageInput::OwnEcho) => return,
        Err(Refused { id, reason }) => {
            drop_message(b, &reason, "page request");
            if let Some(id) = id {
                b.borrow().reply(&id, Err(PageError::from_drop(&reason)));
            }
            return;
        }
    };
    // Checked after decoding so that an own echo on a not-yet-configured page is not counted.
    if refused_here(b, &request.id) {
        return;
    }
    handle_request(b, request.id, request.body);
}

/// Refuses (counts and answers) the request `id` if a configuration says the bridge is off on
/// this site; true if it did.
fn refused_here(b: &Shared, id: &str) -> bool {
    let refused = {
        let me = b.borrow();
        !me.enabled() && me.view.is_some()
    };
    if refused {
        drop_message(b, &DropReason::SiteNotEnabled, "page request");
        let e = PageError::from_drop(&DropReason::SiteNotEnabled);
        b.borrow().reply(id, Err(e));
    }
    refused
}

fn handle_request(b: &Shared, page_id: String, body: PageToBridge) {
    match body {
        PageToBridge::ClickToDial { number } => dial_number(b, Some(page_id), number),
        PageToBridge::GetStatus => {
            let me = b.borrow();
            let status = me.status.clone().unwrap_or(BridgeStatus {
                widget: protocol::page::WidgetState::Off,
                driver: protocol::page::DriverKind::Unknown,
                widget_origin: None,
                queued: 0,
            });
            me.reply(
                &page_id,
                Ok(serde_json::to_value(status).unwrap_or_default()),
            );
        }
        PageToBridge::ShowPanel => panel_request(b, page_id, true, None),
        PageToBridge::HidePanel => panel_request(b, page_id, false, None),
    }
}

/// `showPanel` (`show`) or `hidePanel`. `gesture`: for a held request, whether it came within
/// the agent's gesture; `None` to judge that now.
fn panel_request(b: &Shared, page_id: String, show: bool, gesture: Option<bool>) {
    if undecided(&b.borrow()) {
        return hold_panel_request(b, page_id, show);
    }
    let me = b.borrow();
    let elsewhere = matches!(me.role, Some(Role::Elsewhere { .. }));
    let result = match &me.panel {
        Some(p) => {
            p.set_minimized(!show);
            Ok(serde_json::Value::Null)
        }
        // The softphone lives in another tab: this one shows only the bar, so there is nothing
        // to hide here, and showing it means bringing that tab forward, as the bar's Show does.
        // Not at a page script's whim: only within the agent's gesture.
        None if elsewhere && !show => Ok(serde_json::Value::Null),
        None if elsewhere && gesture.unwrap_or_else(|| take_gesture(&me.gesture)) => {
            if me.send_checked(&ContentToBackground::ShowSoftphone) {
                Ok(serde_json::Value::Null)
            } else {
                Err(PageError::new(
                    "noSoftphone",
                    "the softphone's tab cannot be reached just now; try again",
                ))
            }
        }
        None if elsewhere => Err(PageError::new(
            "noPanel",
            "the softphone is open in another tab; showPanel brings it forward only right \
             after the agent's click or key press in this page",
        )),
        None => Err(PageError::new(
            "noPanel",
            "the panel is not shown on this site",
        )),
    };
    me.reply(&page_id, result);
}

/// How long after the agent's gesture a `showPanel` may use it.
const GESTURE_MS: f64 = 2_000.0;

/// Notes the agent's clicks, and Enter or Space pressed outside a text field, in this page.
/// Only trusted events count (a script cannot make one), and only this document's: not its
/// frames', unlike the browser's user activation, which also stays on for seconds while typing.
fn watch_gestures(window: &web_sys::Window, gesture: &Rc<Cell<Option<f64>>>) -> Vec<EventListener> {
    let opts = gloo_events::EventListenerOptions::run_in_capture_phase;
    let g = gesture.clone();
    let click = EventListener::new_with_options(window, "click", opts(), move |e| {
        if e.is_trusted() {
            g.set(Some(js_sys::Date::now()));
        }
    });
    let g = gesture.clone();
    let key = EventListener::new_with_options(window, "keydown", opts(), move |e| {
        let Some(k) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
            return;
        };
        if e.is_trusted() && matches!(k.key().as_str(), "Enter" | " ") && !in_text_field(e) {
            g.set(Some(js_sys::Date::now()));
        }
    });
    vec![click, key]
}

/// The event's target takes text input (typing there is not a request to show anything).
fn in_text_field(e: &web_sys::Event) -> bool {
    let Some(el) = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return false;
    };
    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.is_content_editable()
}

/// Uses up the agent's last gesture if it is recent enough: one gesture, one `showPanel`.
fn take_gesture(gesture: &Cell<Option<f64>>) -> bool {
    gesture
        .take()
        .is_some_and(|at| js_sys::Date::now() - at <= GESTURE_MS)
}

/// How long a new port may wait for the worker's `Welcome` before it is replaced. A port opened
/// while Chrome is stopping the worker can be left orphaned, with no `onDisconnect` ever.
const WELCOME_TIMEOUT_MS: u32 = 1_000;

/// Connects again shortly: right after a disconnect the worker may still be shutting down.
fn reconnect_soon(b: &Shared, delay_ms: u32) {
    let weak = Rc::downgrade(b);
    b.borrow_mut().reconnect_timer = Some(Timeout::new(delay_ms, move || {
        if let Some(b) = weak.upgrade() {
            b.borrow_mut().reconnect_timer = None;
            connect(&b);
        }
    }));
}

/// Opens the port to the worker and (re)sends what is still pending.
fn connect(b: &Shared) {
    if !webext::context_alive() {
        return teardown();
    }
    let port = match webext::runtime::connect("content") {
        Ok(p) => p,
        Err(e) => {
            log::warn(&format!(
                "cannot reach the background worker, retrying: {e}"
            ));
            return reconnect_soon(b, 500);
        }
    };
    let weak = Rc::downgrade(b);
    let on_msg = port.on_message(move |text| {
        if let Some(b) = weak.upgrade() {
            on_port_message(&b, &text);
        }
    });
    let weak: Weak<RefCell<Bridge>> = Rc::downgrade(b);
    let on_disc = port.on_disconnect(move || {
        if let Some(b) = weak.upgrade() {
            on_disconnect(&b);
        }
    });
    let weak = Rc::downgrade(b);
    let watchdog = Timeout::new(WELCOME_TIMEOUT_MS, move || {
        let Some(b) = weak.upgrade() else { return };
        let stale = {
            let mut me = b.borrow_mut();
            me.watchdog = None;
            me.port_listeners.clear();
            me.port.take()
        };
        if let Some(port) = stale {
            log::debug("no answer on the port: reconnecting");
            port.disconnect();
        }
        reconnect_soon(&b, 0);
    });
    let mut me = b.borrow_mut();
    me.port_listeners = [on_msg, on_disc].into_iter().flatten().collect();
    me.port = Some(port);
    me.watchdog = Some(watchdog);
    let url = me.window.location().href().unwrap_or_default();
    if !me.pending.is_empty() {
        log::debug(&format!(
            "port to the background worker open; {} dial(s) to resend",
            me.pending.len()
        ));
    }
    me.send(&ContentToBackground::Hello {
        session: me.session.clone(),
        url,
    });
    for (seq, p) in &me.pending {
        let id = DialId {
            session: me.session.clone(),
            seq: *seq,
        };
        me.send(&ContentToBackground::Dial {
            id,
            number: p.number.clone(),
        });
    }
    if me.wants_softphone {
        me.send_softphone();
    }
    if let Some(d) = &me.detector {
        for scan in d.unanswered() {
            me.send(&ContentToBackground::Scan(scan));
        }
    }
}

fn on_disconnect(b: &Shared) {
    log::debug("port to the background worker closed");
    {
        let mut me = b.borrow_mut();
        me.port = None;
        me.port_listeners.clear();
    }
    if !webext::context_alive() {
        // The extension was reloaded or removed: leave the page as we found it.
        teardown();
        return;
    }
    // The worker was stopped (Chrome does that when idle): reconnect, which restarts it.
    b.borrow_mut().watchdog = None;
    reconnect_soon(b, 50);
}

fn on_port_message(b: &Shared, text: &str) {
    match ext::decode::<BackgroundToContent>(text) {
        Ok(m) => handle(b, m),
        Err(reason) => drop_message(b, &reason, "message from the worker"),
    }
}

/// Accepts the panel's direct port (see `crates/pages/src/panel.rs`): only from this
/// extension's own panel page, which `chrome.tabs.connect` from the panel opens.
fn on_connect(b: &Shared, port: Port) {
    let sender = port.sender();
    let panel_url = webext::runtime::get_url("panel.html").unwrap_or_default();
    let ours = port.name() == "panel-direct"
        && sender.extension_id == webext::runtime::id()
        && sender
            .url
            .as_deref()
            .is_some_and(|u| !panel_url.is_empty() && u.starts_with(&panel_url));
    if !ours {
        port.disconnect();
        return;
    }
    let weak = Rc::downgrade(b);
    let on_msg = port.on_message(move |text| {
        let Some(b) = weak.upgrade() else { return };
        match ext::decode::<PanelToBackground>(&text) {
            Ok(PanelToBackground::DialResult { id, outcome }) => {
                handle(&b, BackgroundToContent::DialResult { id, outcome })
            }
            Ok(PanelToBackground::DriverEvent { event }) => {
                for event in page_events_for(&event) {
                    handle(&b, BackgroundToContent::Event { event });
                }
            }
            Ok(PanelToBackground::DriverEvents { events }) => {
                // A burst: converted for the page in one go (one JSON.parse, not one per event).
                let values = events
                    .iter()
                    .flat_map(page_events_for)
                    .map(|e| BridgeToPage::Event(e).to_value())
                    .collect();
                let out = b.borrow().to_page.clone();
                out.push_all(values);
            }
            Ok(PanelToBackground::Status { status }) => {
                handle(&b, BackgroundToContent::Status { status })
            }
            Ok(PanelToBackground::ShowPanel { visible: true }) => {
                handle(&b, BackgroundToContent::ShowPanel)
            }
            Ok(PanelToBackground::Busy { active }) => set_busy(&b, active),
            Ok(_) => {}
            Err(reason) => drop_message(&b, &reason, "message from the panel"),
        }
    });
    let weak = Rc::downgrade(b);
    let on_disc = port.on_disconnect(move || {
        if let Some(b) = weak.upgrade() {
            let mut me = b.borrow_mut();
            me.direct = None;
            me.direct_listeners.clear();
        }
    });
    let mut me = b.borrow_mut();
    me.direct_listeners = [on_msg, on_disc].into_iter().flatten().collect();
    me.direct = Some(port);
}

fn handle(b: &Shared, msg: BackgroundToContent) {
    match msg {
        BackgroundToContent::Welcome { version } => {
            let mut me = b.borrow_mut();
            me.watchdog = None;
            if !me.welcomed {
                me.welcomed = true;
                log::info(&format!("background worker answered (version {version})"));
            }
        }
        BackgroundToContent::DialResult { id, outcome } => {
            let mut me = b.borrow_mut();
            if id.session != me.session {
                return;
            }
            if let Some(p) = me.pending.remove(&id.seq) {
                let result = match outcome {
                    DialOutcome::Delivered => Ok(serde_json::json!({"delivered": true})),
                    DialOutcome::Accepted => {
                        Ok(serde_json::json!({"delivered": true, "accepted": true}))
                    }
                    DialOutcome::Failed(e) => Err(e),
                };
                if let Some(page_id) = &p.page_id {
                    me.reply(page_id, result);
                } else if let Err(e) = result {
                    log::warn(&format!("the number could not be dialled: {}", e.message));
                }
            }
        }
        BackgroundToContent::Event { event } => {
            b.borrow().post_to_page(&BridgeToPage::Event(event));
        }
        BackgroundToContent::Status { status } => {
            let mut me = b.borrow_mut();
            if me.status.as_ref() != Some(&status) {
                me.status = Some(status.clone());
                if let Some(p) = &me.panel {
                    p.show_status(&status);
                }
                me.post_to_page(&BridgeToPage::Event(PageEvent::StatusChanged(status)));
            }
        }
        BackgroundToContent::TogglePanel => {
            let me = b.borrow();
            if let Some(p) = &me.panel {
                p.toggle();
            }
        }
        BackgroundToContent::ShowPanel => {
            let me = b.borrow();
            if let Some(p) = &me.panel {
                p.set_minimized(false);
            }
        }
        BackgroundToContent::Found {
            batch,
            hits,
            links,
            last,
        } => {
            let detector = b.borrow().detector.clone();
            if let Some(d) = detector {
                d.on_found(batch, &hits, &links, last);
            }
        }
        BackgroundToContent::DialNumber { number } => dial_number(b, None, number),
        BackgroundToContent::Notice { text } => {
            log::info(&text);
            let mut me = b.borrow_mut();
            if let Some(p) = &me.panel {
                p.notice(&text);
            } else if let Some(bar) = &me.bar {
                bar.notice(&text);
            } else {
                // Replaced, not stacked: the newest message is the one that matters.
                me.toast = None;
                me.toast = Toast::show(&me.window, &text);
            }
        }
        BackgroundToContent::Role(role) => apply_role(b, role),
        BackgroundToContent::Busy { active } => set_busy(b, active),
    }
}

thread_local! {
    /// The notice a torn-down bridge leaves (see [`teardown`]); it removes itself.
    static LAST_NOTICE: RefCell<Option<Toast>> = const { RefCell::new(None) };
}

/// Answers what the page asked and is still waiting for, now that the extension is gone, rather
/// than leaving it to time out: dials not confirmed yet (they may not have been placed), and
/// panel requests held until the tab knew its part.
fn answer_waiting(me: &mut Bridge) {
    let stopped = "the softphone extension stopped in this tab (turned off, updated or \
                   reloaded) before this was done";
    let pending = std::mem::take(&mut me.pending);
    let held = std::mem::take(&mut me.held_panel);
    me.held_timer = None;
    me.resend_timer = None;
    let ids = pending.into_values().filter_map(|p| p.page_id);
    for id in ids.chain(held.into_iter().map(|h| h.id)) {
        me.reply(&id, Err(PageError::new("noSoftphone", stopped)));
    }
}

/// How long the notice of a torn-down bridge stays: long enough for an agent who looked away.
const UNLOADED_NOTICE_MS: u32 = 60_000;

/// How long that notice waits for the extension to come back before it shows: after an update
/// or a reload the worker starts the new version in the open tabs of the listed sites within a
/// second or two, and its start removes the notice.
const UNLOADED_NOTICE_DELAY_MS: u32 = 5_000;

/// Removes the panel and every listener. Called when the extension context is gone. On a site
/// where the bridge was on and the extension does not come back by itself (it was turned off,
/// or the site is covered by "all sites" only), the agent is told why the softphone went and
/// what brings it back.
pub fn teardown() {
    let bridge = BRIDGE.with(|b| b.borrow_mut().take());
    if let Some(b) = bridge {
        if let Ok(mut me) = b.try_borrow_mut() {
            if me.enabled() {
                let text = "The contact-center softphone extension stopped in this tab (it was \
                            turned off, updated or reloaded). If it is on, reload this tab to \
                            use it again.";
                // This bridge's panel and bar are gone by then: one in the page is a newer
                // instance's.
                let doc = me.window.document();
                let successor = move || {
                    doc.as_ref().is_some_and(|d| {
                        let sel = format!("{}, {}", crate::panel::HOST_TAG, crate::bar::BAR_TAG);
                        d.query_selector(&sel).ok().flatten().is_some()
                    })
                };
                LAST_NOTICE.with(|n| {
                    *n.borrow_mut() = Toast::show_later(
                        &me.window,
                        text,
                        UNLOADED_NOTICE_DELAY_MS,
                        UNLOADED_NOTICE_MS,
                        successor,
                    )
                });
            }
            answer_waiting(&mut me);
            me.listeners.clear();
            me.ext_listeners.clear();
            me.port_listeners.clear();
            me.direct_listeners.clear();
            me.direct = None;
            me.watchdog = None;
            me.reconnect_timer = None;
            me.resend_timer = None;
            me.panel = None;
            me.bar = None;
            me.toast = None;
            me.unload_guard = None;
            me.detector = None;
            me.port = None;
        }
        log::info("extension unloaded: bridge removed from the page");
    }
}
