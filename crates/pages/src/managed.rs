//! Reads the administrator's policy (`chrome.storage.managed`) for the options page.

use protocol::config::ManagedPolicy;
use webext::storage::{self, Area};

pub type Managed = ManagedPolicy;

/// Reads the policy; empty when there is none (or no managed storage in this browser).
pub async fn load() -> Managed {
    let Ok(Some(text)) = storage::get_all_text(Area::Managed).await else {
        return Managed::default();
    };
    let Ok(v) = protocol::json::parse_bounded(&text) else {
        return Managed::default();
    };
    let (policy, warnings) = ManagedPolicy::from_value(&v);
    for w in warnings {
        crate::util::warn(&w);
    }
    policy
}
