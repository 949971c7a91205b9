//! The popup's presence choice: sent to the softphone's panel, which asks the driver (and the
//! driver's report is what gets stored); with no softphone open it is stored here directly, as
//! the agent's newest choice, and the next softphone restores it.

use crate::{owner, router};
use protocol::ext::{BackgroundToPanel, PresenceChoice};
use protocol::presence::{self, PresenceRecord};
use webext::storage::{self, Area};

/// Handles `OneShot::SetPresence`; the answer is a short status line for the popup.
pub async fn set(choice: PresenceChoice) -> String {
    if let Some(tab) = owner::owner().await.filter(|t| router::has_panel(*t)) {
        router::to_panel(tab, BackgroundToPanel::SetPresence(choice));
        return "Asked the softphone to change your presence.".to_owned();
    }
    let key = presence::STORAGE_KEY;
    let stored = match storage::get_text(Area::Local, key).await {
        Ok(Some(text)) => PresenceRecord::from_stored(&text).unwrap_or_else(|e| {
            crate::log(&format!("stored presence replaced: {e}"));
            None
        }),
        _ => None,
    };
    let now = js_sys::Date::now() as u64;
    let id = choice.presence_id.as_deref();
    let record = match PresenceRecord::choose(stored.as_ref(), id, choice.base_status, now) {
        Ok(r) => r,
        Err(e) => return format!("Not changed: {e}."),
    };
    match storage::set_text(Area::Local, key, &record.to_text()).await {
        Ok(()) => format!(
            "Saved \u{201c}{}\u{201d}: the softphone will be set to it when it opens.",
            record.text
        ),
        Err(e) => format!("Not saved: {e}"),
    }
}
