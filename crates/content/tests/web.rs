//! The content script's boundary in a real browser: JS values a page can post, decoded.

use protocol::page::PageInput;
use protocol::DropReason;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn stringify(js: &str) -> String {
    let v = js_sys::eval(js).unwrap_or(JsValue::NULL);
    js_sys::JSON::stringify(&v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
fn a_js_object_with_an_own_proto_key_is_refused() {
    // JSON.parse makes "__proto__" an own, enumerable key: exactly what a hostile page posts.
    let text = stringify(
        r#"JSON.parse('{"channel":"ccaas-bridge","v":1,"kind":"request","id":"x","type":"getStatus","__proto__":{"admin":true}}')"#,
    );
    assert!(text.contains("__proto__"));
    assert!(
        matches!(PageInput::decode_text(&text), Err(r) if r.reason == DropReason::ForbiddenKey)
    );
}

#[wasm_bindgen_test]
fn a_posted_request_object_decodes() {
    let text = stringify(
        r#"({channel:'ccaas-bridge', v:1, kind:'request', id:'r1', type:'clickToDial', data:{number:'+1 425 555 0100'}})"#,
    );
    assert!(matches!(
        PageInput::decode_text(&text),
        Ok(PageInput::Request(_))
    ));
}

#[wasm_bindgen_test]
fn the_panel_host_is_never_created_outside_an_extension() {
    let window = web_sys::window().unwrap_or_else(|| unreachable!());
    assert!(content::panel::Panel::create(&window).is_none());
    let doc = window.document().unwrap_or_else(|| unreachable!());
    assert!(doc
        .query_selector(content::panel::HOST_TAG)
        .ok()
        .flatten()
        .is_none());
    // A panel left by an earlier instance is removed.
    let stale = doc
        .create_element(content::panel::HOST_TAG)
        .unwrap_or_else(|_| unreachable!());
    let _ = doc.body().map(|b| b.append_child(&stale));
    content::panel::Panel::remove_stale(&window);
    assert!(doc
        .query_selector(content::panel::HOST_TAG)
        .ok()
        .flatten()
        .is_none());
}

#[wasm_bindgen_test]
fn the_top_page_is_not_a_widget_frame() {
    let window = web_sys::window().unwrap_or_else(|| unreachable!());
    assert!(!content::probe::is_our_widget_frame(&window));
}
