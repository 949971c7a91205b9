//! `chrome.scripting`: content scripts registered at run time for the sites the agent enabled.

use crate::{call, object, ExtError};
use js_sys::Array;
use wasm_bindgen::JsValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    Isolated,
    Main,
}

/// One dynamic content script registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentScript {
    pub id: String,
    pub matches: Vec<String>,
    pub js: Vec<String>,
    pub all_frames: bool,
    pub run_at: &'static str,
    pub world: World,
}

fn strings(v: &[String]) -> Array {
    v.iter().map(|s| JsValue::from_str(s)).collect()
}

/// Replaces every registration of this extension with `scripts`.
pub async fn replace_all(scripts: &[ContentScript]) -> Result<(), ExtError> {
    call(&["scripting"], "unregisterContentScripts", &[]).await?;
    if scripts.is_empty() {
        return Ok(());
    }
    let list: Array = scripts
        .iter()
        .map(|s| {
            JsValue::from(object(&[
                ("id", JsValue::from_str(&s.id)),
                ("matches", strings(&s.matches).into()),
                ("js", strings(&s.js).into()),
                ("allFrames", JsValue::from_bool(s.all_frames)),
                ("runAt", JsValue::from_str(s.run_at)),
                ("persistAcrossSessions", JsValue::TRUE),
                (
                    "world",
                    JsValue::from_str(if s.world == World::Main {
                        "MAIN"
                    } else {
                        "ISOLATED"
                    }),
                ),
            ]))
        })
        .collect();
    call(&["scripting"], "registerContentScripts", &[list.into()])
        .await
        .map(|_| ())
}
