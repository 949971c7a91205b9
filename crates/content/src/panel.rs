//! The docked softphone panel in the CRM page.
//!
//! A guest in someone else's page: one custom element on `<html>`, fixed-positioned (so the
//! page's layout never moves), styled from a closed shadow root (so neither side's CSS leaks),
//! placed inside the page's own vertical scrollbar. It frames `panel.html`, the extension page
//! that hosts the widget: a frame the page's CSP cannot refuse and whose content the page's
//! scripts cannot read. Minimizing hides the panel but keeps the frame, so a call never drops.

use crate::log;
use gloo_events::{EventListener, EventListenerOptions};
use protocol::page::{BridgeStatus, WidgetState};
use protocol::prefs::{clamp_width, PanelPrefs, Side};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{
    Element, HtmlElement, HtmlIFrameElement, PointerEvent, ShadowRoot, ShadowRootInit,
    ShadowRootMode, Window,
};
use webext::storage::{self, Area};

/// The custom element's tag; also how a panel left behind by a reloaded extension is found.
pub const HOST_TAG: &str = "ccaas-softphone";

const CSS: &str = include_str!("panel.css");

type Handler = Box<dyn Fn(&Rc<RefCell<Inner>>, &web_sys::Event)>;

/// A change of the prefs, kept until the stored prefs are read (see `Inner::loaded`).
type Change = Box<dyn FnOnce(&mut PanelPrefs)>;

struct Inner {
    window: Window,
    host: HtmlElement,
    root: ShadowRoot,
    prefs: PanelPrefs,
    /// Whether `prefs` are the stored ones yet. Until then a change (a `showPanel` on load, the
    /// shortcut) is kept in `early` and made on top of them when they come: made on the
    /// defaults, it would be undone by the stored prefs, and storing it would overwrite the
    /// agent's width and side with the defaults.
    loaded: bool,
    early: Vec<Change>,
    /// Set while the resize grip is dragged.
    drag_start: Option<(i32, u32)>,
    /// Hides the notice shown last.
    notice_timer: Option<gloo_timers::callback::Timeout>,
}

/// The panel; dropping it removes the element and its listeners from the page.
pub struct Panel {
    inner: Rc<RefCell<Inner>>,
    _listeners: Vec<EventListener>,
}

impl Panel {
    /// Removes panels left by an earlier instance of the extension (reloaded or updated).
    pub fn remove_stale(window: &Window) {
        remove_all(window, HOST_TAG);
    }

    pub fn create(window: &Window) -> Option<Panel> {
        let doc = window.document()?;
        let (host, root) = shadow_host(window, HOST_TAG)?;
        root.set_inner_html(&format!(
            r#"<style>{CSS}</style>
<div class="panel" role="complementary" aria-label="Softphone">
  <div class="grip" role="separator" aria-orientation="vertical" aria-label="Resize softphone" tabindex="0"></div>
  <header>
    <span class="dot" aria-hidden="true"></span>
    <span class="title">Softphone</span>
    <button class="dock" type="button" aria-label="Dock softphone on the other side" title="Dock on the other side">⇄</button>
    <button class="min" type="button" aria-label="Minimize softphone" title="Minimize (Alt+Shift+K)">–</button>
  </header>
  <iframe title="Contact Center softphone" allow="microphone; camera; autoplay; clipboard-write; fullscreen; encrypted-media"></iframe>
</div>
<button class="tab" type="button" aria-label="Restore softphone" title="Restore softphone (Alt+Shift+K)">☎</button>
<div class="notice" role="status" aria-live="polite" hidden></div>"#
        ));
        let frame: HtmlIFrameElement = root.query_selector("iframe").ok()??.dyn_into().ok()?;
        frame.set_src(&webext::runtime::get_url("panel.html").ok()?);
        doc.document_element()?.append_child(&host).ok()?;

        let inner = Rc::new(RefCell::new(Inner {
            window: window.clone(),
            host,
            root: root.clone(),
            prefs: PanelPrefs::default(),
            loaded: false,
            early: Vec::new(),
            drag_start: None,
            notice_timer: None,
        }));
        inner.borrow().layout();
        let mut listeners = Vec::new();
        let on = |sel: &str, ev: &'static str, f: Handler| {
            let el = root.query_selector(sel).ok().flatten()?;
            let weak = Rc::downgrade(&inner);
            Some(EventListener::new_with_options(
                &el,
                ev,
                EventListenerOptions::enable_prevent_default(),
                move |e| {
                    if let Some(i) = weak.upgrade() {
                        f(&i, e);
                    }
                },
            ))
        };
        listeners.extend(on(
            ".min",
            "click",
            Box::new(|i, _| Inner::update(i, |p| p.minimized = true)),
        ));
        listeners.extend(on(
            ".tab",
            "click",
            Box::new(|i, _| Inner::update(i, |p| p.minimized = false)),
        ));
        listeners.extend(on(
            ".dock",
            "click",
            Box::new(|i, _| {
                Inner::update(i, |p| {
                    p.side = if p.side == Side::Right {
                        Side::Left
                    } else {
                        Side::Right
                    }
                })
            }),
        ));
        listeners.extend(on(".grip", "pointerdown", Box::new(Inner::drag_begin)));
        listeners.extend(on(".grip", "pointermove", Box::new(Inner::drag_move)));
        listeners.extend(on(".grip", "pointerup", Box::new(Inner::drag_end)));
        listeners.extend(on(".grip", "pointercancel", Box::new(Inner::drag_end)));
        listeners.extend(on(".grip", "keydown", Box::new(Inner::grip_key)));
        let weak = Rc::downgrade(&inner);
        listeners.push(EventListener::new(window, "resize", move |_| {
            if let Some(i) = weak.upgrade() {
                i.borrow().layout();
            }
        }));

        let weak = Rc::downgrade(&inner);
        wasm_bindgen_futures::spawn_local(async move {
            let stored = storage::get_text(Area::Local, "panel").await.ok().flatten();
            if let Some(i) = weak.upgrade() {
                Inner::take_stored(&i, PanelPrefs::from_stored(stored.as_deref()));
            }
        });
        Some(Panel {
            inner,
            _listeners: listeners,
        })
    }

    /// Applies prefs another tab (or this one) stored.
    pub fn apply_stored(&self, text: Option<&str>) {
        if let Ok(mut me) = self.inner.try_borrow_mut() {
            let p = PanelPrefs::from_stored(text);
            if !me.loaded {
                drop(me);
                return Inner::take_stored(&self.inner, p);
            }
            if p != me.prefs {
                me.prefs = p;
                me.layout();
            }
        }
    }

    pub fn set_minimized(&self, minimized: bool) {
        Inner::update(&self.inner, move |p| p.minimized = minimized);
    }

    pub fn toggle(&self) {
        Inner::update(&self.inner, |p| p.minimized = !p.minimized);
    }

    /// Shows a short message to the agent at the bottom of the panel for a few seconds,
    /// restoring the panel if it was minimized (the agent just asked it for something). Set as
    /// text, never as HTML.
    pub fn notice(&self, text: &str) {
        self.set_minimized(false);
        let Ok(mut me) = self.inner.try_borrow_mut() else {
            return;
        };
        let Some(el) = me.root.query_selector(".notice").ok().flatten() else {
            return;
        };
        el.set_text_content(Some(text));
        let _ = el.remove_attribute("hidden");
        me.notice_timer = Some(gloo_timers::callback::Timeout::new(6_000, move || {
            let _ = el.set_attribute("hidden", "");
        }));
    }

    /// Colours the header's dot and the minimized tab after the widget's state.
    pub fn show_status(&self, status: &BridgeStatus) {
        let state = match status.widget {
            WidgetState::Ready => "ready",
            WidgetState::Alive | WidgetState::Loading => "loading",
            WidgetState::Unreachable => "error",
            WidgetState::Off => "off",
        };
        if let Ok(me) = self.inner.try_borrow() {
            let _ = me.host.set_attribute("data-state", state);
        }
    }
}

/// A new `<tag>` element with a closed shadow root (not yet in the page): neither the page's CSS
/// nor its scripts reach inside.
pub fn shadow_host(window: &Window, tag: &str) -> Option<(HtmlElement, ShadowRoot)> {
    let host: HtmlElement = window
        .document()?
        .create_element(tag)
        .ok()?
        .dyn_into()
        .ok()?;
    let root = host
        .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Closed))
        .ok()?;
    Some((host, root))
}

/// Removes every `<tag>` element an earlier instance of the extension left. Hosts are appended to
/// the root element, so only its children and the body's (where a page that rebuilds its root
/// may have moved them) are looked at: a query over the whole document would cost a traversal of
/// every element on every page load (about 5 ms on a 10,000-row page).
pub fn remove_all(window: &Window, tag: &str) {
    let Some(doc) = window.document() else { return };
    let parents = [doc.document_element(), doc.body().map(Element::from)];
    let stale: Vec<Element> = parents
        .iter()
        .flatten()
        .flat_map(|p| {
            let children = p.children();
            (0..children.length()).filter_map(move |i| children.item(i))
        })
        .filter(|el| el.local_name() == tag)
        .collect();
    for el in stale {
        el.remove();
    }
}

impl Drop for Panel {
    fn drop(&mut self) {
        if let Ok(me) = self.inner.try_borrow() {
            me.host.remove();
        }
    }
}

impl Inner {
    /// The stored prefs, the first time they are known (read at creation, or changed by another
    /// tab before that read came back, which is then the older of the two and ignored): taken,
    /// laid out, and the changes asked meanwhile made on top of them.
    fn take_stored(this: &Rc<RefCell<Inner>>, prefs: PanelPrefs) {
        let early = {
            let Ok(mut me) = this.try_borrow_mut() else {
                return;
            };
            if me.loaded {
                return;
            }
            me.prefs = prefs;
            me.loaded = true;
            me.layout();
            std::mem::take(&mut me.early)
        };
        for f in early {
            Inner::update(this, f);
        }
    }

    /// Changes the prefs, lays out and persists them.
    fn update(this: &Rc<RefCell<Inner>>, f: impl FnOnce(&mut PanelPrefs) + 'static) {
        let Ok(mut me) = this.try_borrow_mut() else {
            return;
        };
        if !me.loaded {
            me.early.push(Box::new(f));
            return;
        }
        let before = me.prefs;
        f(&mut me.prefs);
        if me.prefs == before {
            return;
        }
        me.layout();
        let text = me.prefs.to_text();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = storage::set_text(Area::Local, "panel", &text).await {
                log::warn(&format!("cannot remember the panel layout: {e}"));
            }
        });
    }

    /// Width of the page's own vertical scrollbar, which the panel must never cover.
    fn scrollbar_width(&self) -> i32 {
        let inner = self
            .window
            .inner_width()
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as i32;
        let client = self
            .window
            .document()
            .and_then(|d| d.document_element())
            .map_or(inner, |e| e.client_width());
        (inner - client).max(0)
    }

    fn viewport_width(&self) -> u32 {
        self.window
            .inner_width()
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(1024.0)
            .max(0.0) as u32
    }

    /// Writes the host's position: all reads first, then all writes.
    fn layout(&self) {
        let sb = self.scrollbar_width();
        let width = clamp_width(self.prefs.width, self.viewport_width());
        let s = self.host.style();
        let set = |k: &str, v: &str| {
            let _ = s.set_property_with_priority(k, v, "important");
        };
        set("all", "initial");
        set("position", "fixed");
        set("z-index", "2147483646");
        set("display", "block");
        set("contain", "strict");
        let (near, far) = match self.prefs.side {
            Side::Right => ("right", "left"),
            Side::Left => ("left", "right"),
        };
        set(
            near,
            &if near == "right" {
                format!("{sb}px")
            } else {
                "0px".into()
            },
        );
        set(far, "auto");
        if self.prefs.minimized {
            set("top", "calc(50% - 28px)");
            set("bottom", "auto");
            set("height", "56px");
            set("width", "36px");
        } else {
            set("top", "0px");
            set("bottom", "0px");
            set("height", "auto");
            set("width", &format!("{width}px"));
        }
        let _ = self.host.set_attribute("data-side", near);
        let _ = self.host.set_attribute(
            "data-minimized",
            if self.prefs.minimized {
                "true"
            } else {
                "false"
            },
        );
        if let Ok(Some(min)) = self.root.query_selector(".min") {
            let _ = min.set_attribute(
                "aria-expanded",
                if self.prefs.minimized {
                    "false"
                } else {
                    "true"
                },
            );
        }
    }

    fn drag_begin(this: &Rc<RefCell<Inner>>, e: &web_sys::Event) {
        let Some(pe) = e.dyn_ref::<PointerEvent>() else {
            return;
        };
        let Ok(mut me) = this.try_borrow_mut() else {
            return;
        };
        me.drag_start = Some((pe.client_x(), me.prefs.width));
        if let Some(t) = pe.target().and_then(|t| t.dyn_into::<Element>().ok()) {
            // Capture keeps the drag alive when the pointer crosses the widget's frame.
            let _ = t.set_pointer_capture(pe.pointer_id());
        }
        e.prevent_default();
    }

    fn drag_move(this: &Rc<RefCell<Inner>>, e: &web_sys::Event) {
        let Some(pe) = e.dyn_ref::<PointerEvent>() else {
            return;
        };
        let Ok(mut me) = this.try_borrow_mut() else {
            return;
        };
        let Some((x0, w0)) = me.drag_start else {
            return;
        };
        let dx = pe.client_x() - x0;
        let grown = if me.prefs.side == Side::Right {
            -dx
        } else {
            dx
        };
        let w = (i64::from(w0) + i64::from(grown)).clamp(0, i64::from(u32::MAX)) as u32;
        me.prefs.width = clamp_width(w, me.viewport_width());
        me.layout();
    }

    fn drag_end(this: &Rc<RefCell<Inner>>, _e: &web_sys::Event) {
        let started = this
            .try_borrow_mut()
            .ok()
            .and_then(|mut me| me.drag_start.take());
        if let Some((_, w0)) = started {
            // Persist once, at the end of the drag.
            let width = this.try_borrow().map(|me| me.prefs.width).unwrap_or(w0);
            if let Ok(mut me) = this.try_borrow_mut() {
                me.prefs.width = w0;
            }
            Inner::update(this, move |p| p.width = width);
        }
    }

    /// Arrow keys resize from the keyboard, 20 px a step.
    fn grip_key(this: &Rc<RefCell<Inner>>, e: &web_sys::Event) {
        let Some(ke) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
            return;
        };
        let (side, vw) = match this.try_borrow() {
            Ok(me) => (me.prefs.side, me.viewport_width()),
            Err(_) => return,
        };
        let grow: i64 = match (ke.key().as_str(), side) {
            ("ArrowLeft", Side::Right) | ("ArrowRight", Side::Left) => 20,
            ("ArrowRight", Side::Right) | ("ArrowLeft", Side::Left) => -20,
            _ => return,
        };
        e.prevent_default();
        Inner::update(this, move |p| {
            p.width = clamp_width((i64::from(p.width) + grow).clamp(0, 4000) as u32, vw);
        });
    }
}
