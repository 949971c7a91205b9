//! The extension's own pages, one wasm module for all of them: `extension/page.js` starts the
//! page named by `<body data-page="...">`.

mod managed;
pub mod options;
pub mod panel;
pub mod popup;
mod util;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub fn start(page: &str) {
    console_error_panic_hook::set_once();
    match page {
        "panel" => panel::start(),
        "options" => options::start(),
        "popup" => popup::start(),
        other => util::warn(&format!("unknown page {other:?}")),
    }
}
