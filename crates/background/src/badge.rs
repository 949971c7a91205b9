//! The toolbar badge shows the agent's presence: a short label and the colour of its base
//! status, read from the `presence` record in `storage.local` (written by the panel frame) at
//! worker start and whenever it changes. An unusable record is logged and clears the badge.

use crate::log;
use protocol::presence::{self, PresenceRecord};
use webext::action;
use webext::storage::{self, Area};

/// The icon's tooltip when no presence is known (the manifest's `default_title`).
const DEFAULT_TITLE: &str = "CCaaS Bridge";

/// Reads the stored presence and shows it on the badge (or clears the badge).
pub async fn sync() {
    let text = match storage::get_text(Area::Local, presence::STORAGE_KEY).await {
        Ok(t) => t,
        Err(e) => {
            log(&format!("presence not read: {e}"));
            None
        }
    };
    let record = match text.as_deref().map(PresenceRecord::from_stored) {
        None => None,
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            log(&format!("stored presence ignored: {e}"));
            None
        }
    };
    let result = match &record {
        Some(r) => show(r).await,
        None => clear().await,
    };
    if let Err(e) = result {
        log(&format!("badge not updated: {e}"));
    }
}

async fn show(r: &PresenceRecord) -> Result<(), webext::ExtError> {
    action::set_badge_color(&r.color).await?;
    action::set_badge_text(presence::badge_label(r.base_status)).await?;
    action::set_title(&format!("{DEFAULT_TITLE} \u{2014} {}", r.text)).await
}

async fn clear() -> Result<(), webext::ExtError> {
    action::set_badge_text("").await?;
    action::set_title(DEFAULT_TITLE).await
}
