//! `chrome.permissions`: optional host permissions, asked for one site at a time.

use crate::{call_sync, object, settle, ExtError};
use js_sys::Array;
use std::future::Future;
use wasm_bindgen::JsValue;

fn origins(patterns: &[String]) -> JsValue {
    let list: Array = patterns.iter().map(|p| JsValue::from_str(p)).collect();
    object(&[("origins", list.into())]).into()
}

/// Asks the agent for host permissions; `Ok(false)` if refused.
///
/// The browser call is made here, before the future is first polled, so the caller must call
/// this synchronously inside the user's input handler: Firefox honours the request only while
/// the handler itself runs (a task or microtask later it fails with "may only be called from a
/// user input handler"); Chromium would allow a few seconds.
pub fn request(patterns: &[String]) -> impl Future<Output = Result<bool, ExtError>> {
    let started = call_sync(&["permissions"], "request", &[origins(patterns)]);
    async move { Ok(settle(started?).await?.is_truthy()) }
}
