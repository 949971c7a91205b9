//! The bridge's protocol: every message that crosses a boundary, as typed values.
//!
//! Boundaries and their enums (named by direction, as in Dark Reader):
//! - CRM page ⇄ content script: [`page::PageToBridge`] / [`page::BridgeToPage`] — the public,
//!   versioned `window.postMessage` contract documented in the README.
//! - panel frame ⇄ widget (CTI driver): [`driver::BridgeToDriver`] / [`driver::DriverToBridge`] —
//!   both Microsoft's stock wire format and the extended, versioned one.
//! - between extension contexts: [`ext`] — content script, background worker, panel frame and the
//!   widget probe, carried over `chrome.runtime` ports that page scripts cannot reach.
//!
//! Every decoder here takes untrusted input and returns `Result<_, DropReason>`; none panics.
//! Decoding happens once, at the boundary; everything behind it works with typed values.

pub mod candidate;
pub mod config;
pub mod driver;
pub mod drop;
pub mod ext;
pub mod json;
pub mod number;
pub mod page;
pub mod prefs;
pub mod presence;
pub mod regions;
pub mod softphone;

pub use drop::DropReason;
pub use number::E164;

/// Version of every envelope this crate defines. A peer that speaks another version is refused
/// with [`DropReason::UnsupportedVersion`] rather than guessed at.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest message any boundary accepts, measured as UTF-8 JSON text.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The `channel` field that marks a page-API envelope.
pub const PAGE_CHANNEL: &str = "ccaas-bridge";

/// The `channel` field that marks an extended-format envelope from or to the CTI driver.
pub const DRIVER_CHANNEL: &str = "ccaas-driver";
