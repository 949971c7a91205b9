//! One softphone across all tabs: the worker decides which tab hosts the widget and tells every
//! tab that wants one (see `protocol::softphone` for the rules).
//!
//! The decision is kept in `storage.session`, so a worker Chrome stopped recovers it when the
//! tabs' ports reconnect; it is cached here in between. A tab whose port closed (reload,
//! navigation) keeps the softphone while it still shows an enabled site, checked by its URL,
//! so that reloading the owner does not move the softphone; a closed tab hands it over at once.

use crate::router::{self, Candidate};
use crate::{debug, load_config, log};
use gloo_timers::callback::Timeout;
use protocol::ext::{BackgroundToContent, BackgroundToPanel, DialId, DialOutcome, Role};
use protocol::page::PageError;
use protocol::softphone::{Ownership, STORAGE_KEY};
use protocol::E164;
use std::cell::RefCell;
use webext::storage::{self, Area};

/// How long after the owner's port closed its tab is checked again (a reload reconnects sooner).
const GRACE_MS: u32 = 1_500;
/// Checks before an owner whose tab still shows an enabled site, but never reconnects, loses it.
const MAX_GRACE_CHECKS: u32 = 8;

thread_local! {
    static CACHE: RefCell<Option<Ownership>> = const { RefCell::new(None) };
    static GRACE: RefCell<Option<Timeout>> = const { RefCell::new(None) };
}

async fn load() -> Ownership {
    if let Some(o) = CACHE.with(|c| c.borrow().clone()) {
        return o;
    }
    let o = match storage::get_text(Area::Session, STORAGE_KEY).await {
        Ok(Some(text)) => Ownership::from_stored(&text).unwrap_or_else(|e| {
            log(&format!("stored softphone owner ignored: {e}"));
            Ownership::default()
        }),
        Ok(None) => Ownership::default(),
        Err(e) => {
            log(&format!("softphone owner not readable: {e}"));
            Ownership::default()
        }
    };
    // Another task may have decided while this one read: the cache wins.
    CACHE.with(|c| c.borrow_mut().get_or_insert(o).clone())
}

fn save(o: &Ownership) {
    let before = CACHE.with(|c| c.borrow_mut().replace(o.clone()).and_then(|b| b.owner));
    if before != o.owner {
        keep_loaded(before);
    }
    let text = o.to_text();
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = storage::set_text(Area::Session, STORAGE_KEY, &text).await {
            log(&format!("softphone owner not saved: {e}"));
        }
    });
}

/// The softphone's tab is one the browser must not discard to save memory (Chrome's Memory
/// Saver does that to tabs left in the background): discarded, it would take the widget with
/// it, and the agent, still shown as available, would miss every call. The tab that stops
/// hosting it is left to the browser again. Every change of owner goes through [`save`], after
/// [`load`] filled the cache, so `before` is known even in a restarted worker. Each call is
/// decided on the owner as it is when it is made, so changes in quick succession, whose tasks
/// interleave, still leave only the last owner protected.
fn keep_loaded(before: Option<i32>) {
    let current = || CACHE.with(|c| c.borrow().as_ref().and_then(|o| o.owner));
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(tab) = before.filter(|t| current() != Some(*t)) {
            // Fails for a closed tab, which is fine.
            let _ = webext::tabs::set_auto_discardable(tab, true).await;
        }
        let now = current();
        if let Some(tab) = now {
            if let Err(e) = webext::tabs::set_auto_discardable(tab, false).await {
                debug(&format!(
                    "the softphone's tab {tab} may still be discarded: {e}"
                ));
            }
        }
        let text = now.map(|t| t.to_string()).unwrap_or_default();
        let _ = storage::set_text(Area::Local, KEPT_KEY, &text).await;
    });
}

/// The tab kept loaded, remembered in `storage.local`: the owner itself is in `storage.session`,
/// which the browser empties when the extension is turned off, reloaded or updated, while the
/// tab keeps the flag.
const KEPT_KEY: &str = "keptLoadedTab";

/// Leaves the tab an earlier instance of the extension kept loaded to the browser again (this
/// instance chooses its own owner, and protects that one). Called once per instance, before any
/// port is taken, so before this instance has an owner.
pub async fn release_earlier_instance() {
    let Ok(Some(text)) = storage::get_text(Area::Local, KEPT_KEY).await else {
        return;
    };
    let Ok(tab) = text.parse::<i32>() else {
        return;
    };
    // After a browser restart the id may be another tab's (ids are per session): only a tab
    // still kept loaded is released, so a tab nobody protected is never touched.
    let kept = matches!(webext::tabs::auto_discardable(tab).await, Ok(Some(false)));
    if kept && owner().await != Some(tab) {
        let _ = webext::tabs::set_auto_discardable(tab, true).await;
    }
}

/// The tab that hosts the softphone, if any.
pub async fn owner() -> Option<i32> {
    load().await.owner
}

/// Tells every tab that wants a softphone who hosts it, and the owner's panel where events go.
fn tell_all(o: &Ownership) {
    for c in router::candidates() {
        tell(o, c.tab);
    }
    update_events_target();
}

/// Tells the owner's panel whether conversation events stay in its own tab or go through the
/// worker to the tab the agent works in (see [`router::events_target`]).
pub fn update_events_target() {
    wasm_bindgen_futures::spawn_local(async {
        if let Some(o) = owner().await {
            let here = router::events_target(o) == o;
            router::to_panel(o, BackgroundToPanel::EventsHere { here });
        }
    });
}

fn tell(o: &Ownership, tab: i32) {
    let role = if o.owner == Some(tab) {
        Role::Owner
    } else {
        Role::Elsewhere {
            title: o.title.clone(),
        }
    };
    router::to_content(tab, &BackgroundToContent::Role(role));
}

/// Whether tab `tab` still shows a site where the panel is enabled (it may be reloading).
async fn still_enabled(tab: i32) -> bool {
    let Ok(Some(url)) = webext::tabs::get(tab).await else {
        return false;
    };
    let Some(origin) = crate::router::url_origin(&url) else {
        return false;
    };
    load_config()
        .await
        .is_some_and(|c| c.covers(&origin) && c.settings_for(&origin).panel)
}

/// A tab said whether it wants a softphone (on load, after a configuration change, and after
/// every reconnect).
pub async fn on_softphone(tab: i32, wanted: bool, title: String) {
    if !wanted {
        if owner().await == Some(tab) {
            hand_over(tab).await;
        }
        return;
    }
    let first = owner().await;
    let mut alive = match first {
        Some(t) if t != tab => router::wants(t) || still_enabled(t).await,
        _ => false,
    };
    // Decided on the cache as it is after the awaits: another tab may have taken it meanwhile.
    let mut o = load().await;
    if o.owner != first {
        alive = o.owner.is_some_and(|t| t != tab && router::wants(t));
    }
    let changed = o.want(tab, &title, alive);
    if o.owner == Some(tab) {
        GRACE.with(|g| g.borrow_mut().take());
        save(&o);
    }
    if changed {
        log(&format!("softphone now hosted by tab {tab}"));
        tell_all(&o);
    } else {
        tell(&o, tab);
        // This tab may be the one the agent activated before it could take events.
        update_events_target();
    }
    // The newcomer's page API learns the softphone's status (the panel reports it to all).
    if let Some(owner) = o.owner.filter(|t| *t != tab && router::has_panel(*t)) {
        router::to_panel(owner, BackgroundToPanel::GetStatus);
    }
}

/// "Open here": moves the softphone unless a conversation is active.
pub async fn on_take(tab: i32) {
    let mut o = load().await;
    let title = router::title(tab).unwrap_or_default();
    match o.take(tab, &title) {
        Ok(true) => {
            log(&format!("softphone moved to tab {tab} by the agent"));
            save(&o);
            tell_all(&o);
        }
        Ok(false) => tell(&o, tab),
        Err(why) => {
            router::to_content(
                tab,
                &BackgroundToContent::Notice {
                    text: why.to_string(),
                },
            );
        }
    }
}

/// "Show": brings the owner's tab (and its window) to the front.
pub async fn on_show(tab: i32) {
    if let Some(owner) = owner().await.filter(|o| *o != tab) {
        if let Err(e) = webext::tabs::activate(owner).await {
            debug(&format!("cannot show the softphone's tab: {e}"));
        }
        router::to_content(owner, &BackgroundToContent::ShowPanel);
    }
}

/// The owner's panel reported whether a conversation is active.
pub async fn on_busy(tab: i32, active: bool) {
    let mut o = load().await;
    if o.owner == Some(tab) && o.busy != active {
        o.busy = active;
        save(&o);
    }
    router::to_content(tab, &BackgroundToContent::Busy { active });
}

/// The content script of `tab` disconnected (reload, navigation, or its tab is closing).
pub fn on_content_gone(tab: i32) {
    wasm_bindgen_futures::spawn_local(async move {
        if owner().await == Some(tab) {
            arm_grace(tab, 0);
        } else {
            // Events that went to this tab go back to the owner's.
            update_events_target();
        }
    });
}

fn arm_grace(tab: i32, checks: u32) {
    let t = Timeout::new(GRACE_MS, move || {
        GRACE.with(|g| g.borrow_mut().take());
        wasm_bindgen_futures::spawn_local(async move {
            if owner().await != Some(tab) || router::wants(tab) {
                return;
            }
            if checks + 1 < MAX_GRACE_CHECKS && still_enabled(tab).await {
                return arm_grace(tab, checks + 1);
            }
            hand_over(tab).await;
        });
    });
    GRACE.with(|g| *g.borrow_mut() = Some(t));
}

/// The tab was closed; `held` is what was waiting for its panel.
pub async fn on_tab_removed(tab: i32, held: Vec<BackgroundToPanel>) {
    if owner().await == Some(tab) {
        hand_over(tab).await;
        if let Some(next) = owner().await {
            for msg in held {
                router::to_panel(next, msg);
            }
        }
    }
}

async fn hand_over(gone: i32) {
    let mut o = load().await;
    let candidates: Vec<(i32, String)> = router::candidates()
        .into_iter()
        .map(|Candidate { tab, title }| (tab, title))
        .collect();
    if o.hand_over(gone, &candidates) {
        match o.owner {
            Some(t) => log(&format!("softphone handed over from tab {gone} to tab {t}")),
            None => log(&format!(
                "softphone closed with tab {gone}: no other tab wants one"
            )),
        }
        save(&o);
        tell_all(&o);
        // Dials that waited for the old owner's panel go to the new one.
        if let Some(next) = o.owner {
            for msg in router::take_held(gone) {
                router::to_panel(next, msg);
            }
        }
    }
}

/// Where a dial from `tab` goes: the owner's panel (told to come forward), or the tab's own.
pub async fn route_dial(tab: i32, msg: BackgroundToPanel) {
    let owner = owner().await;
    if owner.is_none() && !panel_expected(tab).await {
        // No tab hosts the softphone and this one never will (its site has the panel off):
        // held here, the dial would wait for nobody. The agent is told what to do instead.
        if let BackgroundToPanel::Dial { id, number } = msg {
            refuse_dial(tab, id, &number);
        }
        return;
    }
    // The owner's panel may not have reconnected yet (after a worker restart): the dial waits
    // for it there, and moves with the softphone if it is handed over meanwhile.
    let target = owner.unwrap_or(tab);
    if target != tab {
        router::to_content(target, &BackgroundToContent::ShowPanel);
        if let BackgroundToPanel::Dial { number, .. } = &msg {
            let title = load().await.title;
            router::to_content(
                tab,
                &BackgroundToContent::Notice {
                    text: format!(
                        "Calling {} on the softphone in \u{201c}{title}\u{201d}.",
                        number.as_str()
                    ),
                },
            );
        }
    }
    router::to_panel(target, msg);
}

/// Whether `tab` will show a softphone panel of its own: its site has the panel on (or what its
/// site is, or the configuration, is not known yet: then the dial waits as before).
async fn panel_expected(tab: i32) -> bool {
    let Some(origin) = router::origin(tab) else {
        return true;
    };
    load_config()
        .await
        .is_none_or(|c| c.settings_for(&origin).panel)
}

/// Answers a dial that no softphone can take: the page API gets `noSoftphone`, the agent a
/// notice in the tab.
fn refuse_dial(tab: i32, id: DialId, number: &E164) {
    let e = PageError::new(
        "noSoftphone",
        "no softphone is open: open a CRM site that has the softphone panel, then call again",
    );
    router::to_content(
        tab,
        &BackgroundToContent::DialResult {
            id,
            outcome: DialOutcome::Failed(e),
        },
    );
    router::to_content(
        tab,
        &BackgroundToContent::Notice {
            text: format!(
                "{} was not called: no softphone is open. Open a CRM site that has the softphone \
                 panel, then call again.",
                number.as_str()
            ),
        },
    );
}
