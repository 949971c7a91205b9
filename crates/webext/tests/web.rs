//! In a plain web page (no extension context) every binding must fail softly: values, not throws.

use wasm_bindgen_test::*;
use webext::storage::{self, Area};
use webext::{ExtError, Listener};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn ids_and_urls_are_absent_outside_an_extension() {
    assert_eq!(webext::runtime::id(), None);
    assert!(!webext::context_alive());
    assert!(matches!(
        webext::runtime::get_url("panel.html"),
        Err(ExtError::Unavailable(_))
    ));
    assert!(webext::runtime::connect("content").is_err());
}

#[wasm_bindgen_test]
async fn async_calls_resolve_to_errors() {
    assert!(matches!(
        storage::get_text(Area::Local, "config").await,
        Err(ExtError::Unavailable(_))
    ));
    assert!(storage::set_text(Area::Local, "k", "v").await.is_err());
    assert!(
        webext::permissions::request(&["https://x.example/*".into()])
            .await
            .is_err()
    );
    assert!(webext::scripting::replace_all(&[]).await.is_err());
}

#[wasm_bindgen_test]
fn listeners_on_missing_events_are_errors() {
    assert!(Listener::on(&["storage", "onChanged"], |_, _, _| {}).is_err());
    assert!(Listener::on_value(wasm_bindgen::JsValue::NULL, |_, _, _| {}).is_err());
}

#[wasm_bindgen_test]
fn a_listener_is_removed_when_dropped() {
    // A stand-in event object with the chrome.Event shape, to observe add/remove.
    let event = js_sys::eval(
        "({ fns: [], addListener(f) { this.fns.push(f) }, removeListener(f) { this.fns = this.fns.filter(g => g !== f) } })",
    )
    .unwrap_or(wasm_bindgen::JsValue::NULL);
    let count = || {
        js_sys::Reflect::get(&webext::get(&event, "fns"), &"length".into())
            .ok()
            .and_then(|v| v.as_f64())
    };
    let l = Listener::on_value(event.clone(), |_, _, _| {});
    assert!(l.is_ok());
    assert_eq!(count(), Some(1.0));
    drop(l);
    assert_eq!(count(), Some(0.0));
}
