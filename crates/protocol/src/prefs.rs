//! The panel's remembered layout: dock side, width and minimized state.

use serde::{Deserialize, Serialize};

pub const MIN_WIDTH: u32 = 280;
pub const MAX_WIDTH: u32 = 900;
pub const DEFAULT_WIDTH: u32 = 380;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Side {
    Left,
    Right,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PanelPrefs {
    pub side: Side,
    pub width: u32,
    pub minimized: bool,
}

impl Default for PanelPrefs {
    fn default() -> Self {
        PanelPrefs {
            side: Side::Right,
            width: DEFAULT_WIDTH,
            minimized: false,
        }
    }
}

impl PanelPrefs {
    /// Reads stored prefs; anything unreadable falls back to the defaults, field by field.
    pub fn from_stored(text: Option<&str>) -> PanelPrefs {
        let d = PanelPrefs::default();
        let Some(v) = text.and_then(|t| crate::json::parse_bounded(t).ok()) else {
            return d;
        };
        PanelPrefs {
            side: match v.get("side").and_then(|s| s.as_str()) {
                Some("left") => Side::Left,
                _ => Side::Right,
            },
            width: v
                .get("width")
                .and_then(|w| w.as_u64())
                .map_or(d.width, |w| {
                    clamp_width(w.min(u64::from(u32::MAX)) as u32, u32::MAX)
                }),
            minimized: v
                .get("minimized")
                .and_then(|m| m.as_bool())
                .unwrap_or(false),
        }
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Keeps a width inside the allowed range and within 90% of the viewport.
pub fn clamp_width(w: u32, viewport: u32) -> u32 {
    let cap = (viewport.saturating_mul(9) / 10).clamp(MIN_WIDTH, MAX_WIDTH);
    w.clamp(MIN_WIDTH, cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_prefs_are_validated() {
        assert_eq!(PanelPrefs::from_stored(None), PanelPrefs::default());
        assert_eq!(PanelPrefs::from_stored(Some("{{{")), PanelPrefs::default());
        let p = PanelPrefs::from_stored(Some(r#"{"side":"left","width":99999,"minimized":true}"#));
        assert_eq!(
            p,
            PanelPrefs {
                side: Side::Left,
                width: MAX_WIDTH,
                minimized: true
            }
        );
        assert_eq!(clamp_width(100, 1000), MIN_WIDTH);
        assert_eq!(clamp_width(800, 600), 540);
    }
}
