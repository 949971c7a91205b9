//! `chrome.action`: the toolbar icon's badge and title (no permission needed).

use crate::{call, object, ExtError};
use wasm_bindgen::JsValue;

/// `chrome.action.setBadgeText({text})`; an empty text clears the badge.
pub async fn set_badge_text(text: &str) -> Result<(), ExtError> {
    let details = object(&[("text", JsValue::from_str(text))]);
    call(&["action"], "setBadgeText", &[details.into()])
        .await
        .map(|_| ())
}

/// `chrome.action.setBadgeBackgroundColor({color})`, with a CSS colour string such as `#92C353`.
pub async fn set_badge_color(color: &str) -> Result<(), ExtError> {
    let details = object(&[("color", JsValue::from_str(color))]);
    call(&["action"], "setBadgeBackgroundColor", &[details.into()])
        .await
        .map(|_| ())
}

/// `chrome.action.setTitle({title})`: the icon's tooltip.
pub async fn set_title(title: &str) -> Result<(), ExtError> {
    let details = object(&[("title", JsValue::from_str(title))]);
    call(&["action"], "setTitle", &[details.into()])
        .await
        .map(|_| ())
}
