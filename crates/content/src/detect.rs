//! Phone numbers in the CRM page: found, marked and made dialable, as a guest in the page.
//!
//! The content script does only the DOM side; the matching (Google's libphonenumber matcher,
//! over a megabyte of wasm) runs in the background worker, which gets page text in
//! [`Scan`] batches and answers with UTF-16 offsets. The DOM side is built to stay cheap:
//! - text nodes are walked with a native `TreeWalker`, and a node is looked at more closely only
//!   if a native regular expression finds a digit in it (no string crosses into wasm before);
//! - work runs in slices of at most [`SLICE_MS`], yielding to the page in between, with at most
//!   [`MAX_IN_FLIGHT`] batches waiting for the worker;
//! - text nodes of one block (a table cell, a paragraph) are read as one run, so a number split
//!   across inline elements (`<b>(425)</b> 555-0100`) is still one number;
//! - a run goes to the worker only if it has the shape of a number for the agent's region
//!   ([`protocol::candidate`]): dates, amounts and ids never leave the page;
//! - writes (splitting a text node and wrapping the number) happen only when the worker answers,
//!   never interleaved with layout reads, and no `Range` is kept;
//! - a `MutationObserver` queues what the page adds or changes; records caused by our own
//!   writes are taken and discarded right after them.
//!
//! Every number becomes a `<ccaas-dial data-ccaas-dial="+E164">` element (inline, inheriting
//! the page's font and colour, with a dotted underline), focusable, with an accessible name
//! "Call …"; an existing `tel:`/`callto:`/`sip:` link gets the attribute instead. Text is only
//! ever split and moved, never parsed as HTML. Dropping the [`Detector`] undoes all of it.

use crate::log;
use crate::runs::{self, RunText};
use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
use gloo_timers::callback::Timeout;
use js_sys::{Array, JsString, RegExp, WeakSet};
use protocol::candidate::{self, Shape};
use protocol::config::Numbering;
use protocol::ext::{json_cost, Hit, LinkHit, Scan, MAX_SCAN_BYTES};
use protocol::E164;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Document, Element, HtmlElement, KeyboardEvent, MutationObserver, MutationObserverInit,
    MutationRecord, Node, Text, TreeWalker, Window,
};

/// The element a found number is wrapped in. A custom name, so that the page's own rules for
/// `span` or `a` (display, margins, colours) never apply to it.
pub const DIAL_TAG: &str = "ccaas-dial";
/// The public attribute: the E.164 number an element dials (documented in the README).
pub const DIAL_ATTR: &str = "data-ccaas-dial";

/// Where numbers are never looked for: code, form fields, editable text, interactive elements
/// (a number inside a link or button belongs to that control), the panel, and what is already
/// marked. `data-ccaas-skip` lets a page opt an element out.
const SKIP: &str = "script,style,noscript,template,textarea,input,select,option,pre,code,kbd,\
samp,svg,math,iframe,object,button,a[href],[role=button],[role=link],[role=textbox],\
[contenteditable]:not([contenteditable=false]),[data-ccaas-dial],[data-ccaas-skip],\
ccaas-softphone,ccaas-dial";

/// The elements [`SKIP`] names by their tag alone (lower-case local names). An element with no
/// attributes is skipped exactly when its tag is one of these, which spares the whole selector
/// match (a few µs each, once per text node that holds a digit) for most table cells.
#[rustfmt::skip]
const SKIP_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "textarea", "input", "select", "option", "pre",
    "code", "kbd", "samp", "svg", "math", "iframe", "object", "button", "ccaas-softphone",
    "ccaas-dial",
];

/// The tags of [`BLOCK`], for the same reason.
#[rustfmt::skip]
const BLOCK_TAGS: &[&str] = &[
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hgroup", "li", "main", "nav", "ol", "p", "section", "summary",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
];

/// Elements that hold one run of text: the nearest one around a text node is its container.
const BLOCK: &str = "address,article,aside,blockquote,body,caption,dd,details,dialog,div,dl,dt,\
fieldset,figcaption,figure,footer,form,h1,h2,h3,h4,h5,h6,header,hgroup,li,main,nav,ol,p,\
section,summary,table,tbody,td,tfoot,th,thead,tr,ul";

/// Inside a container, these end the current line of text.
const BREAK: &str = "br,hr,img,wbr";

/// The schemes of the links that dial.
const DIAL_SCHEMES: &[&str] = &["tel", "callto", "sip", "sips"];

/// The longest a slice of work may run before yielding to the page (a long task is 50 ms).
const SLICE_MS: f64 = 8.0;
/// Batches waiting for the worker before the walk pauses (bounds memory and worker backlog).
const MAX_IN_FLIGHT: usize = 3;
/// The longest a slice of writes may run.
const WRITE_SLICE_MS: f64 = 30.0;
/// The longest marks found after the first answer wait to be written while the scan goes on.
const WRITE_DELAY_MS: u32 = 3_000;
/// How often (in nodes) a slice looks at the clock.
const CLOCK_EVERY: u32 = 32;
/// The most candidates one call of the JavaScript walk hands over (then the in-flight limit
/// and the batch size are looked at again).
const WALK_MAX_FOUND: u32 = 256;

#[wasm_bindgen(module = "/src/walk.js")]
extern "C" {
    /// See `walk.js`: true when the walker has ended.
    #[wasm_bindgen(js_name = walkTexts)]
    fn walk_texts(
        walker: &TreeWalker,
        deadline: f64,
        filter: &JsValue,
        out: &Array,
        max: u32,
    ) -> bool;

    /// See `walk.js`: true if `node` was pushed onto `out` as a candidate.
    #[wasm_bindgen(js_name = textCandidate)]
    fn text_candidate(node: &Node, filter: &JsValue, out: &Array) -> bool;

    /// See `walk.js`: the walk over what `root` (added by the page) holds, if any.
    #[wasm_bindgen(js_name = prepareRoot)]
    fn prepare_root(
        root: &Node,
        filter: &JsValue,
        links: &Array,
        texts: bool,
    ) -> Option<TreeWalker>;

    /// See `walk.js`: `new RegExp(source, flags)`, `None` if the engine refuses it.
    fn regexp(source: &str, flags: &str) -> Option<RegExp>;

    /// See `walk.js`: the index to go on from.
    #[wasm_bindgen(js_name = walkLinks)]
    fn walk_links_js(
        links: &web_sys::HtmlCollection,
        from: u32,
        deadline: f64,
        filter: &JsValue,
        out: &Array,
        max: u32,
    ) -> u32;
}

/// What `walk.js` needs to decide, made once from this file's rules: `digit` (the regular
/// expression that finds a digit), `phone` (see [`phone_regexp`]), `skip` ([`SKIP`]) and
/// `skipTags` (a `Set` of [`SKIP_TAGS`]), `block` (a `Set` of [`BLOCK_TAGS`]), `clear` (see
/// [`forget_clear`]), and for links `mark` ([`DIAL_ATTR`]) and `dial` (an `href` starting with
/// one of [`DIAL_SCHEMES`]).
fn walk_filter(phone: &RegExp) -> JsValue {
    let o = js_sys::Object::new();
    let set = |tags: &[&str]| {
        let set = js_sys::Set::new(&JsValue::UNDEFINED);
        for t in tags {
            set.add(&JsValue::from_str(t));
        }
        set
    };
    for (k, v) in [
        ("digit", digit_regexp().into()),
        ("phone", phone.into()),
        ("skip", JsValue::from_str(SKIP)),
        ("skipTags", set(SKIP_TAGS).into()),
        ("block", set(BLOCK_TAGS).into()),
        ("mark", JsValue::from_str(DIAL_ATTR)),
        (
            "dial",
            RegExp::new(&format!(r"^\s*(?:{}):", DIAL_SCHEMES.join("|")), "i").into(),
        ),
    ] {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
    }
    forget_clear(&o);
    o.into()
}

/// The test a run of text must pass to go to the matcher: the shape of a number for the agent's
/// region ([`protocol::candidate`]), which no text holding a number fails. Should this engine
/// refuse the pattern, any digit will do (every run then goes to the matcher, as it would
/// without the test).
fn phone_regexp(shape: Shape) -> RegExp {
    regexp(&candidate::pattern(shape), "u").unwrap_or_else(|| {
        log::warn("the number pattern was refused: every text with a digit goes to the matcher");
        digit_regexp()
    })
}

/// Gives `walk.js` a new, empty set of the elements it found outside every skipped context:
/// a page change may have moved one of them into one.
fn forget_clear(filter: &JsValue) {
    let _ = js_sys::Reflect::set(filter, &JsValue::from_str("clear"), &WeakSet::new());
}

/// Finds a digit: ASCII, Arabic-Indic, extended Arabic-Indic or fullwidth.
fn digit_regexp() -> RegExp {
    RegExp::new(r"[\d\u0660-\u0669\u06F0-\u06F9\uFF10-\uFF19]", "")
}

/// Where the next text comes from: the current walk, or a text node queued by itself.
enum Next {
    Walk(TreeWalker),
    Text(Node),
}

const SHOW_ELEMENT: u32 = 0x1;
const SHOW_TEXT: u32 = 0x4;

struct Piece {
    node: Text,
    /// The node's text as read, kept as the page's own string: a write compares it with the
    /// node's text then without copying either into wasm.
    text: JsString,
}

struct Run {
    pieces: Vec<Piece>,
    starts: Vec<u32>,
    lens: Vec<u32>,
}

#[derive(Default)]
struct Building {
    texts: Vec<String>,
    runs: Vec<Run>,
    links: Vec<String>,
    link_els: Vec<Element>,
    /// Estimated bytes of the batch's JSON (see [`json_cost`]).
    bytes: usize,
}

/// A write waiting for its turn: parts of a text node to wrap (last part first, so earlier
/// offsets stay valid), or a link to mark.
enum Write {
    Wrap {
        node: Text,
        /// The node's text when it was read; the write is skipped if it changed since.
        text: JsString,
        parts: Vec<(u32, u32, E164, String)>,
    },
    Link {
        a: Element,
        number: E164,
    },
}

struct Sent {
    scan: Scan,
    runs: Vec<Run>,
    links: Vec<Element>,
}

type SendScan = Rc<dyn Fn(&Scan) -> bool>;

thread_local! {
    /// The next batch number, for every detector of this page: an answer to a batch of a
    /// detector that was replaced (the region changed, detection went off and on) then matches
    /// no batch of the new one.
    static NEXT_BATCH: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

/// A part of one text node to wrap: `(from, to, hit)` in the node's UTF-16 units.
type Part<'a> = (u32, u32, &'a Hit);

struct Inner {
    doc: Document,
    /// False when the page asked for no telephone detection: links are still marked.
    text_detection: bool,
    roots: VecDeque<Node>,
    /// How many of the first `roots` are walks of the whole page (the body, at start): their
    /// links are gone through `document.links` in slices.
    page_roots: usize,
    walker: Option<TreeWalker>,
    /// Text nodes already sent as part of a run (so a container is read once per change).
    seen: WeakSet,
    perf: Option<web_sys::Performance>,
    sel: Selectors,
    /// A dial element with its fixed attributes, cloned for each number.
    template: Option<Element>,
    building: Building,
    in_flight: BTreeMap<u32, Sent>,
    /// The region and area code every batch is read under.
    numbering: Numbering,
    timer: Option<Timeout>,
    send: SendScan,
    /// See [`walk_filter`].
    filter: JsValue,
    /// The filter's `phone`, the same object: fixed for a detector's life (a new region
    /// replaces the detector).
    phone: RegExp,
    data_key: JsValue,
    observer: Option<MutationObserver>,
    writes: VecDeque<Write>,
    write_timer: Option<Timeout>,
    written_once: bool,
    /// The page's links (`document.links`) still to look at for dial links, and the next index:
    /// gone through in slices when the whole page is walked.
    link_cursor: Option<(web_sys::HtmlCollection, u32)>,
    /// Where the first walk starts (the top of the viewport), if not at its root.
    first_from: Option<Node>,
}

/// Number detection on one page; dropping it stops it and restores the page's text.
pub struct Detector {
    inner: Rc<RefCell<Inner>>,
    _on_mutation: Option<Closure<dyn FnMut(Array, MutationObserver)>>,
    _listeners: Vec<EventListener>,
}

/// True when the page opted out with `<meta name="format-detection" content="telephone=no">`.
fn page_opted_out(doc: &Document) -> bool {
    let Ok(list) = doc.query_selector_all("meta[name='format-detection' i]") else {
        return false;
    };
    (0..list.length()).any(|i| {
        list.item(i)
            .and_then(|n| n.dyn_into::<Element>().ok())
            .and_then(|m| m.get_attribute("content"))
            .is_some_and(|c| {
                c.to_ascii_lowercase()
                    .replace(' ', "")
                    .contains("telephone=no")
            })
    })
}

impl Detector {
    /// Starts detection on `window`'s document, for numbers read under `numbering` (the agent's
    /// region and area code; a change of it starts a new detector). `send` hands a batch to the
    /// worker (false if it could not be sent now: it is kept and resent by
    /// [`Detector::unanswered`]); `dial` is called with the number of a clicked element.
    pub fn start(
        window: &Window,
        numbering: Numbering,
        send: impl Fn(&Scan) -> bool + 'static,
        dial: impl Fn(E164) + 'static,
    ) -> Option<Detector> {
        let doc = window.document()?;
        let text_detection = !page_opted_out(&doc);
        if !text_detection {
            log::info("the page asked for no telephone detection (format-detection meta): only tel: links are marked");
        }
        let sel = Selectors::new()?;
        let phone = phone_regexp(numbering.shape());
        let inner = Rc::new(RefCell::new(Inner {
            sel,
            doc: doc.clone(),
            text_detection,
            roots: VecDeque::new(),
            page_roots: 0,
            walker: None,
            seen: WeakSet::new(),
            perf: window.performance(),
            template: dial_template(&doc),
            building: Building::default(),
            in_flight: BTreeMap::new(),
            timer: None,
            send: Rc::new(send),
            filter: walk_filter(&phone),
            phone,
            numbering,
            data_key: JsValue::from_str("data"),
            observer: None,
            writes: VecDeque::new(),
            write_timer: None,
            written_once: false,
            first_from: None,
            link_cursor: None,
        }));

        let weak = Rc::downgrade(&inner);
        let on_mutation: Closure<dyn FnMut(Array, MutationObserver)> =
            Closure::new(move |records: Array, _: MutationObserver| {
                if let Some(i) = weak.upgrade() {
                    Inner::on_mutations(&i, &records);
                }
            });
        let observer = MutationObserver::new(on_mutation.as_ref().unchecked_ref()).ok();
        if let (Some(o), Some(root)) = (&observer, doc.document_element()) {
            let init = MutationObserverInit::new();
            init.set_child_list(true);
            init.set_subtree(true);
            init.set_character_data(true);
            if let Err(e) = o.observe_with_options(&root, &init) {
                log::warn(&format!(
                    "page changes will not be scanned: {}",
                    webext::js_error_text(&e)
                ));
            }
        }

        let dial: Rc<dyn Fn(E164)> = Rc::new(dial);
        let capture = EventListenerOptions {
            phase: EventListenerPhase::Capture,
            passive: false,
        };
        let d = dial.clone();
        let on_click = EventListener::new_with_options(&doc, "click", capture, move |e| {
            if let Some((number, ours)) = dial_target(e.target()) {
                // Also keeps a tel: link from leaving for the operating system's handler.
                e.prevent_default();
                if ours {
                    e.stop_propagation();
                }
                d(number);
            }
        });
        let on_key = EventListener::new_with_options(&doc, "keydown", capture, move |e| {
            let Some(k) = e.dyn_ref::<KeyboardEvent>() else {
                return;
            };
            if k.key() != "Enter" || k.repeat() {
                return;
            }
            // Links dial through the click that Enter already makes; our elements need this.
            if let Some((number, true)) = dial_target(e.target()) {
                e.prevent_default();
                e.stop_propagation();
                dial(number);
            }
        });

        {
            let mut me = inner.borrow_mut();
            me.observer = observer;
            if let Some(body) = doc.body() {
                // Visible rows first: on a page restored scrolled down, walk from the top of the
                // viewport to the end, then the whole page (runs already sent are skipped). The
                // one layout read happens before any write of ours.
                let scrolled = window.scroll_y().is_ok_and(|y| y > 0.0);
                let width = window.inner_width().ok().and_then(|w| w.as_f64());
                if let (true, Some(w)) = (scrolled, width) {
                    let anchor = doc.element_from_point((w / 3.0) as f32, 1.0);
                    if let Some(a) =
                        anchor.filter(|a| body.contains(Some(a)) && a.local_name() != "body")
                    {
                        me.first_from = Some(a.into());
                        me.roots.push_back(body.clone().into());
                        me.page_roots += 1;
                    }
                }
                me.roots.push_back(body.into());
                me.page_roots += 1;
            }
        }
        Inner::schedule(&inner);
        Some(Detector {
            inner,
            _on_mutation: Some(on_mutation),
            _listeners: vec![on_click, on_key],
        })
    }

    /// The worker's answer to a batch, or one part of it (`last` says it is the final part).
    pub fn on_found(&self, batch: u32, hits: &[Hit], links: &[LinkHit], last: bool) {
        Inner::apply(&self.inner, batch, hits, links, last);
    }

    /// Batches sent but not answered: after the worker's port reconnects they are sent again.
    pub fn unanswered(&self) -> Vec<Scan> {
        self.inner
            .try_borrow()
            .map(|me| me.in_flight.values().map(|s| s.scan.clone()).collect())
            .unwrap_or_default()
    }
}

impl Drop for Detector {
    fn drop(&mut self) {
        if let Ok(mut me) = self.inner.try_borrow_mut() {
            if let Some(o) = me.observer.take() {
                o.disconnect();
            }
            me.timer = None;
            me.write_timer = None;
            me.writes.clear();
            me.walker = None;
            me.link_cursor = None;
            me.roots.clear();
            me.page_roots = 0;
            me.in_flight.clear();
            restore(&me.doc);
        }
    }
}

/// The number an event target dials, and whether the element is one of ours (rather than a
/// page link we marked).
fn dial_target(target: Option<web_sys::EventTarget>) -> Option<(E164, bool)> {
    let el: Element = target?.dyn_into().ok()?;
    let marked = el.closest("[data-ccaas-dial]").ok()??;
    let number = E164::parse(&marked.get_attribute(DIAL_ATTR)?).ok()?;
    let ours = marked.local_name() == DIAL_TAG;
    Some((number, ours))
}

/// Puts the page back as it was: our elements replaced by their text, link marks removed.
fn restore(doc: &Document) {
    if let Ok(list) = doc.query_selector_all(DIAL_TAG) {
        for i in 0..list.length() {
            let Some(el) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            if let Some(parent) = el.parent_node() {
                while let Some(child) = el.first_child() {
                    let _ = parent.insert_before(&child, Some(&el));
                }
            }
            el.remove();
        }
    }
    if let Ok(list) = doc.query_selector_all("a[data-ccaas-dial]") {
        for i in 0..list.length() {
            if let Some(el) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                let _ = el.remove_attribute(DIAL_ATTR);
            }
        }
    }
}

fn now(perf: &Option<web_sys::Performance>) -> f64 {
    perf.as_ref().map_or(0.0, |p| p.now())
}

/// A text node's `data` as the page's string (empty if it has none).
fn js_text(node: &Node, data_key: &JsValue) -> JsString {
    js_sys::Reflect::get(node, data_key)
        .ok()
        .and_then(|v| v.dyn_into::<JsString>().ok())
        .unwrap_or_else(|| JsString::from(""))
}

/// `Element.prototype.matches` and `closest` called with selector strings
/// made once: the selectors are long, and web-sys would convert them from Rust for every call,
/// which on a big page costs more than the matching itself.
struct Selectors {
    matches: js_sys::Function,
    closest: js_sys::Function,
    skip: JsValue,
    block: JsValue,
    brk: JsValue,
    dial: JsValue,
    own: JsValue,
}

impl Selectors {
    fn new() -> Option<Selectors> {
        let element =
            js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("Element")).ok()?;
        let proto = js_sys::Reflect::get(&element, &JsValue::from_str("prototype")).ok()?;
        let f = |name: &str| {
            js_sys::Reflect::get(&proto, &JsValue::from_str(name))
                .ok()?
                .dyn_into::<js_sys::Function>()
                .ok()
        };
        Some(Selectors {
            matches: f("matches")?,
            closest: f("closest")?,
            skip: JsValue::from_str(SKIP),
            block: JsValue::from_str(BLOCK),
            brk: JsValue::from_str(BREAK),
            dial: JsValue::from_str("[data-ccaas-dial]"),
            own: JsValue::from_str("ccaas-dial,ccaas-softphone"),
        })
    }

    fn is(&self, el: &Element, sel: &JsValue) -> bool {
        self.matches.call1(el, sel).is_ok_and(|v| v.is_truthy())
    }

    fn closest(&self, el: &Element, sel: &JsValue) -> Option<Element> {
        let v = self.closest.call1(el, sel).ok()?;
        v.dyn_into::<Element>().ok()
    }
}

/// Moves a tree walker past the current node's subtree.
fn skip_subtree(w: &TreeWalker) -> Option<Node> {
    loop {
        if let Ok(Some(n)) = w.next_sibling() {
            return Some(n);
        }
        match w.parent_node() {
            Ok(Some(_)) => continue,
            _ => return None,
        }
    }
}

impl Inner {
    fn schedule(this: &Rc<RefCell<Inner>>) {
        let Ok(mut me) = this.try_borrow_mut() else {
            return;
        };
        if me.timer.is_some() || me.in_flight.len() >= MAX_IN_FLIGHT || !me.has_work() {
            return;
        }
        let weak = Rc::downgrade(this);
        me.timer = Some(Timeout::new(0, move || {
            if let Some(i) = weak.upgrade() {
                Inner::slice(&i);
            }
        }));
    }

    fn has_work(&self) -> bool {
        self.walker.is_some() || !self.roots.is_empty() || self.link_cursor.is_some()
    }

    /// One slice of the walk: at most [`SLICE_MS`], then the batch so far goes to the worker.
    fn slice(this: &Rc<RefCell<Inner>>) {
        {
            let Ok(mut me) = this.try_borrow_mut() else {
                return;
            };
            me.timer = None;
            let t0 = now(&me.perf);
            let mut n = 0u32;
            // The page's links first, once a walk of the whole page has set them going.
            while me.in_flight.len() < MAX_IN_FLIGHT && me.walk_links(t0) {
                match me.next_source() {
                    None => break,
                    Some(Next::Walk(w)) => me.walk_some(&w, t0),
                    Some(Next::Text(node)) => {
                        me.visit(&node);
                        n += 1;
                        if !n.is_multiple_of(CLOCK_EVERY) {
                            continue;
                        }
                    }
                }
                if now(&me.perf) - t0 > SLICE_MS {
                    break;
                }
            }
            me.flush();
        }
        Inner::schedule(this);
    }

    /// The walk to go on with, or the next queued root: a walk over an element, or a text node.
    fn next_source(&mut self) -> Option<Next> {
        loop {
            if let Some(w) = &self.walker {
                return Some(Next::Walk(w.clone()));
            }
            let root = self.roots.pop_front()?;
            let whole_page = self.page_roots > 0;
            self.page_roots = self.page_roots.saturating_sub(1);
            if !whole_page {
                if root.node_type() == Node::TEXT_NODE {
                    if self.text_detection && root.is_connected() {
                        return Some(Next::Text(root));
                    }
                    continue;
                }
                // Something the page added: one call for its links and its walk (see walk.js),
                // since a page adding a list adds each row as a root of its own.
                let found = Array::new();
                self.walker = prepare_root(&root, &self.filter, &found, self.text_detection);
                self.take_links(&found);
                continue;
            }
            let Some(el) = root.dyn_ref::<Element>().filter(|_| root.is_connected()) else {
                continue;
            };
            let from = self.first_from.take();
            if from.is_none() {
                // One selector query over a whole big page is one long task (about 50 ms for
                // 10,000 rows): the page's links are gone through in slices instead.
                self.link_cursor = Some((self.doc.links(), 0));
            }
            if !self.text_detection || self.sel.closest(el, &self.sel.skip).is_some() {
                continue;
            }
            self.walker = self
                .doc
                .create_tree_walker_with_what_to_show(&root, SHOW_TEXT)
                .ok();
            if let (Some(w), Some(from)) = (&self.walker, from) {
                w.set_current_node(&from);
            }
        }
    }

    /// Goes on through `document.links` (see [`Inner::link_cursor`]) until it ends or the slice
    /// that started at `t0` is over; false if the slice is over.
    fn walk_links(&mut self, t0: f64) -> bool {
        let Some((links, mut i)) = self.link_cursor.take() else {
            return true;
        };
        let n = links.length();
        while i < n {
            if self.in_flight.len() >= MAX_IN_FLIGHT {
                // Like the text walk: wait for the worker before sending more.
                self.link_cursor = Some((links, i));
                return false;
            }
            let found = Array::new();
            i = walk_links_js(
                &links,
                i,
                t0 + SLICE_MS,
                &self.filter,
                &found,
                WALK_MAX_FOUND,
            );
            self.take_links(&found);
            if i < n && now(&self.perf) - t0 > SLICE_MS {
                self.link_cursor = Some((links, i));
                return false;
            }
        }
        true
    }

    /// Considers the links a `walk.js` call pushed onto `found` (link elements only).
    fn take_links(&mut self, found: &Array) {
        for a in found.iter() {
            self.consider_link(a.unchecked_into());
        }
    }

    /// Queues `a` for the worker to parse if it is an unmarked dial link.
    fn consider_link(&mut self, a: Element) {
        if a.has_attribute(DIAL_ATTR) {
            return;
        }
        let Some(href) = a.get_attribute("href") else {
            return;
        };
        let Some((scheme, rest)) = href.trim_start().split_once(':') else {
            return;
        };
        if !DIAL_SCHEMES.iter().any(|s| scheme.eq_ignore_ascii_case(s)) {
            return;
        }
        let target = rest.trim_start_matches('/');
        if target.is_empty() || target.len() > 256 {
            return;
        }
        self.make_room(json_cost(target));
        self.building.links.push(target.to_owned());
        self.building.link_els.push(a);
    }

    /// Goes on with the walk `w` until the slice that started at `t0` is over, taking what
    /// `walk.js` found. Every candidate it hands over is taken, even past the in-flight limit
    /// (by at most one batch): they are behind the walker already.
    fn walk_some(&mut self, w: &TreeWalker, t0: f64) {
        let found = Array::new();
        if walk_texts(w, t0 + SLICE_MS, &self.filter, &found, WALK_MAX_FOUND) {
            self.walker = None;
        }
        self.take_texts(&found);
    }

    /// Looks at one text node queued by itself (the page added or changed it), with the test
    /// `walk.js` makes in a walk, then at its whole run.
    fn visit(&mut self, node: &Node) {
        let found = Array::new();
        if text_candidate(node, &self.filter, &found) {
            self.take_texts(&found);
        }
    }

    /// Takes the candidates a `walk.js` call pushed onto `found`.
    fn take_texts(&mut self, found: &Array) {
        let n = found.length();
        let mut i = 0;
        while i + 2 < n {
            // walk.js pushes (text node, its data, alone) and nothing else.
            let node: Node = found.get(i).unchecked_into();
            let data: JsString = found.get(i + 1).unchecked_into();
            let alone = found.get(i + 2).is_truthy();
            self.candidate(&node, data, alone);
            i += 3;
        }
    }

    /// A text node with a digit, outside every skipped context: its run goes into the batch if
    /// it can hold a number ([`phone_regexp`]). A node `alone` in its container is its own run,
    /// already tested by `walk.js`.
    fn candidate(&mut self, node: &Node, data: JsString, alone: bool) {
        let (text, pieces) = if alone {
            single(node, data)
        } else {
            if self.seen.has(node.unchecked_ref()) {
                return;
            }
            let Some(parent) = node.parent_element() else {
                return;
            };
            let container = self.sel.closest(&parent, &self.sel.block);
            let run = container
                .and_then(|c| self.collect_run(&c, node))
                .unwrap_or_else(|| single(node, data));
            for p in &run.1 {
                self.seen.add(p.node.unchecked_ref());
            }
            if !self.can_hold_a_number(&run.0.text) {
                return;
            }
            run
        };
        let RunText { text, starts, lens } = text;
        self.make_room(json_cost(&text));
        self.building.texts.push(text);
        self.building.runs.push(Run {
            pieces,
            starts,
            lens,
        });
    }

    /// Whether a run's `text` passes `walk.js`'s test of a number's shape (see
    /// [`phone_regexp`]).
    fn can_hold_a_number(&self, text: &str) -> bool {
        self.phone.test(text)
    }

    /// The text of `container` that reads as one, as pieces; `None` if it is too big to treat
    /// as one (the caller then takes the node alone).
    fn collect_run(&self, container: &Element, node: &Node) -> Option<(RunText, Vec<Piece>)> {
        let w = self
            .doc
            .create_tree_walker_with_what_to_show(container, SHOW_ELEMENT | SHOW_TEXT)
            .ok()?;
        let mut text = RunText::default();
        let mut pieces = Vec::new();
        let mut brk = false;
        let mut cur = w.next_node().ok().flatten();
        while let Some(n) = cur {
            if n.node_type() == Node::TEXT_NODE {
                let js = js_text(&n, &self.data_key);
                text.push(&String::from(&js), brk);
                brk = false;
                pieces.push(Piece {
                    node: n.clone().unchecked_into(),
                    text: js,
                });
                if pieces.len() > runs::MAX_RUN_PIECES || text.len_units() > runs::MAX_RUN_UNITS {
                    return None;
                }
                cur = w.next_node().ok().flatten();
            } else {
                let el: &Element = n.unchecked_ref();
                if self.sel.is(el, &self.sel.skip) || self.sel.is(el, &self.sel.block) {
                    brk = true;
                    cur = skip_subtree(&w);
                } else {
                    if self.sel.is(el, &self.sel.brk) {
                        brk = true;
                    }
                    cur = w.next_node().ok().flatten();
                }
            }
        }
        // The node itself may sit in a skipped part (then it is not ours to read).
        if !pieces
            .iter()
            .any(|p| p.node.unchecked_ref::<Node>() == node)
        {
            return None;
        }
        Some((text, pieces))
    }

    /// Flushes the batch first if `cost` more bytes would not fit in it.
    fn make_room(&mut self, cost: usize) {
        if self.building.bytes + cost > MAX_SCAN_BYTES {
            self.flush();
        }
        self.building.bytes += cost;
    }

    /// Sends what was collected as one batch.
    fn flush(&mut self) {
        let b = std::mem::take(&mut self.building);
        if b.texts.is_empty() && b.links.is_empty() {
            return;
        }
        let batch = NEXT_BATCH.with(|n| n.replace(n.get().wrapping_add(1)));
        let scan = Scan {
            batch,
            texts: b.texts,
            links: b.links,
            numbering: self.numbering.clone(),
        };
        if !(self.send)(&scan) {
            log::debug("a scan batch waits for the worker's port");
        }
        self.in_flight.insert(
            batch,
            Sent {
                scan,
                runs: b.runs,
                links: b.link_els,
            },
        );
    }

    /// Marks what the worker found in one batch.
    /// Takes the worker's answer: what to write goes to the write queue (see [`Inner::write`]).
    fn apply(this: &Rc<RefCell<Inner>>, batch: u32, hits: &[Hit], links: &[LinkHit], last: bool) {
        {
            let Ok(mut me) = this.try_borrow_mut() else {
                return;
            };
            let Some(mut sent) = me.in_flight.remove(&batch) else {
                return;
            };
            // Per piece, the parts to wrap: (run, piece) -> [(from, to, hit)].
            let mut plan: BTreeMap<(usize, usize), Vec<Part>> = BTreeMap::new();
            for hit in hits {
                let r = hit.text as usize;
                let Some(run) = sent.runs.get(r) else {
                    continue;
                };
                for (p, from, to) in runs::split_range(&run.starts, &run.lens, hit.start, hit.end) {
                    plan.entry((r, p)).or_default().push((from, to, hit));
                }
            }
            for ((r, p), mut parts) in plan {
                let Some(piece) = sent.runs.get_mut(r).and_then(|run| run.pieces.get_mut(p)) else {
                    continue;
                };
                parts.sort_by_key(|p| std::cmp::Reverse(p.0));
                let parts = parts
                    .into_iter()
                    .map(|(from, to, hit)| (from, to, hit.number.clone(), hit.label.clone()))
                    .collect();
                me.writes.push_back(Write::Wrap {
                    node: piece.node.clone(),
                    text: piece.text.clone(),
                    parts,
                });
            }
            for l in links {
                if let Some(a) = sent.links.get(l.link as usize) {
                    me.writes.push_back(Write::Link {
                        a: a.clone(),
                        number: l.number.clone(),
                    });
                }
            }
            if !last {
                me.in_flight.insert(batch, sent);
            }
        }
        Inner::schedule_write(this);
        Inner::schedule(this);
    }

    /// Decides when queued writes happen. Every task that changes the page makes the browser
    /// lay it out again before the next frame, and on a big table one layout costs more than all
    /// of our script: so the first answer (the visible part) is written at once, and the rest in
    /// one go when the scan is idle, or after [`WRITE_DELAY_MS`] at the latest.
    fn schedule_write(this: &Rc<RefCell<Inner>>) {
        let Ok(mut me) = this.try_borrow_mut() else {
            return;
        };
        if me.writes.is_empty() {
            return;
        }
        let idle = !me.has_work() && me.in_flight.is_empty();
        let now_please = !me.written_once || idle;
        if now_please {
            me.write_timer = None;
        } else if me.write_timer.is_some() {
            return;
        }
        let weak = Rc::downgrade(this);
        let delay = if now_please { 0 } else { WRITE_DELAY_MS };
        me.write_timer = Some(Timeout::new(delay, move || {
            if let Some(i) = weak.upgrade() {
                Inner::write(&i);
            }
        }));
    }

    /// Writes queued marks for at most [`WRITE_SLICE_MS`], then yields and goes on.
    fn write(this: &Rc<RefCell<Inner>>) {
        let more = {
            let Ok(mut me) = this.try_borrow_mut() else {
                return;
            };
            me.write_timer = None;
            me.written_once = true;
            let t0 = now(&me.perf);
            let mut n = 0u32;
            let mut marked = 0usize;
            while let Some(w) = me.writes.pop_front() {
                marked += me.write_one(w);
                n += 1;
                if n.is_multiple_of(CLOCK_EVERY) && now(&me.perf) - t0 > WRITE_SLICE_MS {
                    break;
                }
            }
            // Our own writes are not page changes: take their records before they are delivered.
            if marked > 0 {
                if let Some(o) = &me.observer {
                    let _ = o.take_records();
                }
            }
            !me.writes.is_empty()
        };
        if more {
            let weak = Rc::downgrade(this);
            if let Ok(mut me) = this.try_borrow_mut() {
                me.write_timer = Some(Timeout::new(0, move || {
                    if let Some(i) = weak.upgrade() {
                        Inner::write(&i);
                    }
                }));
            }
        }
    }

    /// One queued write; returns how many marks it made.
    fn write_one(&self, w: Write) -> usize {
        match w {
            Write::Wrap { node, text, parts } => {
                let n: &Node = node.unchecked_ref();
                // The page may have changed the text since it was read: then the observer has
                // queued it again, and these offsets mean nothing. And a node read twice (the
                // first walk and the observer can both reach what the page added meanwhile) is
                // wrapped once.
                if !n.is_connected() || js_text(n, &self.data_key) != text {
                    return 0;
                }
                let marked = n
                    .parent_element()
                    .is_some_and(|p| self.sel.closest(&p, &self.sel.dial).is_some());
                if marked {
                    return 0;
                }
                parts
                    .iter()
                    .filter(|(from, to, number, label)| self.wrap(&node, *from, *to, number, label))
                    .count()
            }
            Write::Link { a, number } => {
                if a.is_connected() && !a.has_attribute(DIAL_ATTR) {
                    let _ = a.set_attribute(DIAL_ATTR, number.as_str());
                    1
                } else {
                    0
                }
            }
        }
    }

    /// Wraps `from..to` of `node` in a dial element. The node keeps the text before it.
    fn wrap(&self, node: &Text, from: u32, to: u32, number: &E164, label: &str) -> bool {
        let mid = if from > 0 {
            match node.split_text(from) {
                Ok(t) => t,
                Err(_) => return false,
            }
        } else {
            node.clone()
        };
        let len = to - from;
        if mid.length() > len && mid.split_text(len).is_err() {
            return false;
        }
        let Some(parent) = mid.parent_node() else {
            return false;
        };
        let Some(el) = self
            .template
            .as_ref()
            .and_then(|t| t.clone_node().ok())
            .and_then(|n| n.dyn_into::<Element>().ok())
        else {
            return false;
        };
        let _ = el.set_attribute(DIAL_ATTR, number.as_str());
        let _ = el.set_attribute("aria-label", label);
        if parent.insert_before(&el, Some(&mid)).is_err() {
            return false;
        }
        el.append_child(&mid).is_ok()
    }

    fn on_mutations(this: &Rc<RefCell<Inner>>, records: &Array) {
        {
            let Ok(mut me) = this.try_borrow_mut() else {
                return;
            };
            forget_clear(&me.filter);
            // No string crosses into wasm here: a page that renders a long list in one go
            // delivers thousands of records at once.
            for r in records.iter() {
                let Ok(r) = r.dyn_into::<MutationRecord>() else {
                    continue;
                };
                let added = r.added_nodes();
                let n_added = added.length();
                if n_added == 0 {
                    // characterData (or a removal, whose target is harmless to look at again).
                    if let Some(t) = r.target().filter(|t| t.node_type() == Node::TEXT_NODE) {
                        me.seen.delete(t.unchecked_ref());
                        me.roots.push_back(t);
                    }
                    continue;
                }
                for i in 0..n_added {
                    let Some(n) = added.item(i) else { continue };
                    let ours = n
                        .dyn_ref::<Element>()
                        .is_some_and(|e| me.sel.is(e, &me.sel.own));
                    if !ours {
                        me.roots.push_back(n);
                    }
                }
            }
        }
        Inner::schedule(this);
    }
}

/// The dial element without its number: focusable, a link to assistive technology, and styled
/// through the CSSOM (which a page's `style-src` CSP does not block) with an underline that
/// changes neither line height nor wrapping.
fn dial_template(doc: &Document) -> Option<Element> {
    let el = doc.create_element(DIAL_TAG).ok()?;
    el.set_attribute("role", "link").ok()?;
    el.set_attribute("tabindex", "0").ok()?;
    let s = el.dyn_ref::<HtmlElement>()?.style();
    s.set_property("text-decoration", "underline dotted").ok()?;
    s.set_property("text-underline-offset", "2px").ok()?;
    s.set_property("cursor", "pointer").ok()?;
    Some(el)
}

/// A run of one text node. Only its first [`runs::MAX_RUN_UNITS`] are read: a text node that
/// long is a dump, not a CRM field, and a bounded run keeps every batch within its bound.
fn single(node: &Node, data: JsString) -> (RunText, Vec<Piece>) {
    let s = String::from(&data);
    let mut text = RunText::default();
    text.push(runs::head(&s, runs::MAX_RUN_UNITS), false);
    let piece = Piece {
        node: node.clone().unchecked_into(),
        text: data,
    };
    (text, vec![piece])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The selector list's plain tag names, in order.
    fn tags_of(selectors: &str) -> Vec<&str> {
        selectors
            .split(',')
            .filter(|s| !s.contains(['[', ':', ' ']))
            .collect()
    }

    #[test]
    fn tag_lists_match_their_selectors() {
        // An element without attributes matches SKIP exactly when its tag is in SKIP_TAGS.
        assert_eq!(tags_of(SKIP), SKIP_TAGS);
        assert_eq!(tags_of(BLOCK), BLOCK_TAGS);
        assert_eq!(BLOCK.split(',').count(), BLOCK_TAGS.len());
        // Every other SKIP selector needs an attribute.
        for s in SKIP.split(',').filter(|s| s.contains(['[', ':'])) {
            assert!(
                s.contains('['),
                "{s} would match an element without attributes"
            );
        }
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod browser {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// The filter for a US agent.
    fn us_filter() -> JsValue {
        walk_filter(&phone_regexp(candidate::shape("US", false)))
    }

    /// What `walk.js` hands over from a small page: (text, alone) of each candidate.
    fn candidates(html: &str, max: u32) -> Option<(bool, Vec<(String, bool)>)> {
        let doc = web_sys::window()?.document()?;
        let host = doc.create_element("div").ok()?;
        host.set_inner_html(html);
        doc.body()?.append_child(&host).ok()?;
        let walker = doc
            .create_tree_walker_with_what_to_show(&host, SHOW_TEXT)
            .ok()?;
        let out = Array::new();
        let ended = walk_texts(&walker, f64::MAX, &us_filter(), &out, max);
        host.remove();
        let mut found = Vec::new();
        for i in (0..out.length()).step_by(3) {
            found.push((out.get(i + 1).as_string()?, out.get(i + 2).is_truthy()));
        }
        Some((ended, found))
    }

    #[wasm_bindgen_test]
    fn the_walk_hands_over_candidates_only() {
        let got = candidates(
            "<table><tr><td>+1 425 555 0100</td><td>Room 12</td><td>05/10/1986</td>\
             <td>98052-6399</td><td>310-1234</td></tr></table>\
             <pre>425 555 0100</pre><p>Call <b>425</b> 555-0100</p>\
             <div data-ccaas-skip><span>425 555 0100</span></div>\
             <div contenteditable>425 555 0100</div><div contenteditable=false>425 555 0101</div>\
             <button>425 555 0102</button><p>no digits</p>",
            100,
        );
        let own = |s: &str, alone| (s.to_owned(), alone);
        assert_eq!(
            got,
            Some((
                true,
                vec![
                    own("+1 425 555 0100", true),
                    // "Room 12", a date and a ZIP+4 code are alone in their cells and cannot be
                    // US numbers; Canada's 310 numbers can.
                    own("310-1234", true),
                    own("425", false),
                    own(" 555-0100", false),
                    own("425 555 0101", true),
                ]
            ))
        );
    }

    #[wasm_bindgen_test]
    fn the_link_walk_hands_over_unmarked_dial_links_only() {
        let got = (|| {
            let doc = web_sys::window()?.document()?;
            let host = doc.create_element("div").ok()?;
            host.set_inner_html(
                "<a href='tel:+14255550100'>a</a><a href='https://example.com/tel:1'>b</a>\
                 <a href=' TEL:4255550101'>c</a><a href='telx:1'>d</a>\
                 <a href='callto:4255550102'>e</a><a href='sips:x@example.com'>f</a>\
                 <a href='tel:1' data-ccaas-dial='+1'>g</a><a>h</a>",
            );
            let links = host.get_elements_by_tag_name("a");
            let filter = us_filter();
            let out = Array::new();
            let next = walk_links_js(&links, 0, f64::MAX, &filter, &out, 100);
            let texts: Vec<String> = out
                .iter()
                .filter_map(|a| a.unchecked_into::<Element>().text_content())
                .collect();
            let first_two = Array::new();
            let after_two = walk_links_js(&links, 0, f64::MAX, &filter, &first_two, 2);
            Some((next, texts, after_two))
        })();
        let texts = ["a", "c", "e", "f"].map(String::from).to_vec();
        // All eight gone through; with room for two, it stops after the second (at "c").
        assert_eq!(got, Some((8, texts, 3)));
    }

    #[wasm_bindgen_test]
    fn an_added_root_gives_its_links_and_a_walk_unless_skipped() {
        // (walker given, links found) for a root made from `html` (its first element), placed
        // in the page or not, inside `<pre>` or not, with text detection on or off.
        let prepare = |html: &str, placed: bool, in_pre: bool, texts: bool| {
            let doc = web_sys::window()?.document()?;
            let host = doc
                .create_element(if in_pre { "pre" } else { "div" })
                .ok()?;
            host.set_inner_html(html);
            let root = host.first_element_child()?;
            if placed {
                doc.body()?.append_child(&host).ok()?;
            }
            let links = Array::new();
            let walker = prepare_root(&root, &us_filter(), &links, texts);
            host.remove();
            Some((walker.is_some(), links.length()))
        };
        let row = "<p><a href='tel:+14255550100'>a</a> <a href='tel:1' data-ccaas-dial='+1'>b</a> \
                   425 555 0101</p>";
        assert_eq!(prepare(row, true, false, true), Some((true, 1)));
        assert_eq!(prepare(row, true, false, false), Some((false, 1)));
        assert_eq!(prepare(row, true, true, true), Some((false, 1)));
        assert_eq!(prepare(row, false, false, true), Some((false, 0)));
        let link = "<a href='callto:4255550102'>c</a>";
        assert_eq!(prepare(link, true, false, true), Some((false, 1)));
    }

    #[wasm_bindgen_test]
    fn every_region_s_pattern_runs_in_javascript_as_in_the_matcher_s_tests() {
        for r in protocol::regions::REGIONS {
            for area_code in [false, true] {
                let source = candidate::pattern(candidate::shape(r.code, area_code));
                assert!(regexp(&source, "u").is_some(), "{}: {source}", r.code);
            }
        }
        // The cases of the phone crate's candidate tests, with the `regex` crate there.
        let us = phone_regexp(candidate::shape("US", false));
        for decoy in [
            "98052-6399",
            "05/10/1986",
            "$123,456.78",
            "SO-123456",
            "#123456789",
        ] {
            assert!(!us.test(decoy), "{decoy}");
        }
        for number in [
            "(425) 555-0100",
            "+43 1 2345",
            "011 44 20 7946 0123",
            "٤٢٥٥٥٥٠١٠٠",
        ] {
            assert!(us.test(number), "{number}");
        }
    }

    #[wasm_bindgen_test]
    fn the_walk_stops_after_max_candidates() {
        let page = "<p>425 555 0100</p><p>425 555 0101</p><p>425 555 0102</p>";
        let got = |max| candidates(page, max).map(|(ended, f)| (ended, f.len()));
        assert_eq!(got(2), Some((false, 2)));
        assert_eq!(got(3), Some((false, 3)));
        assert_eq!(got(4), Some((true, 3)));
    }
}
