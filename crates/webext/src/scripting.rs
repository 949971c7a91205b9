//! `chrome.scripting`: content scripts registered at run time for the sites the agent enabled.

use crate::{call, get, object, ExtError};
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

/// What tells two registrations apart here: id, when the script runs, and where.
type Key = (String, String, Vec<String>);

/// The registrations in force, as [`Key`]s sorted by id.
async fn registered() -> Result<Vec<Key>, ExtError> {
    let list = call(&["scripting"], "getRegisteredContentScripts", &[]).await?;
    let mut out: Vec<Key> = Array::from(&list)
        .iter()
        .map(|s| {
            let matches = Array::from(&get(&s, "matches"))
                .iter()
                .filter_map(|m| m.as_string())
                .collect();
            (
                get(&s, "id").as_string().unwrap_or_default(),
                get(&s, "runAt").as_string().unwrap_or_default(),
                matches,
            )
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Replaces every registration of this extension with `scripts`, and leaves them alone when
/// they are already the same: unregistering, even for a moment, would let a frame that loads in
/// between (the widget reloading after a save) start without its script. Resolves with the
/// registrations found before (none if they could not be read).
pub async fn replace_all(scripts: &[ContentScript]) -> Result<Previous, ExtError> {
    // The run time is compared too: an update that changes it must replace what an earlier
    // version registered (registrations persist across sessions).
    let mut wanted: Vec<Key> = scripts
        .iter()
        .map(|s| (s.id.clone(), s.run_at.to_owned(), s.matches.clone()))
        .collect();
    wanted.sort();
    let read = registered().await;
    let same = read.as_ref().is_ok_and(|r| *r == wanted);
    let mut before = Previous {
        found: read.unwrap_or_default(),
        replaced: false,
    };
    if same {
        return Ok(before);
    }
    before.replaced = true;
    call(&["scripting"], "unregisterContentScripts", &[]).await?;
    if scripts.is_empty() {
        return Ok(before);
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
        .map(|_| before)
}

/// The registrations [`replace_all`] found, and whether it replaced them.
pub struct Previous {
    found: Vec<Key>,
    replaced: bool,
}

impl Previous {
    /// False when the registrations were already the wanted ones and were left alone.
    pub fn replaced(&self) -> bool {
        self.replaced
    }

    /// The sites the registration `id` ran on (empty when there was none).
    pub fn matches(&self, id: &str) -> &[String] {
        self.found
            .iter()
            .find(|(i, _, _)| i == id)
            .map_or(&[], |(_, _, matches)| matches.as_slice())
    }
}

/// Runs the extension file `file` in the top frame of `tab_id` (isolated world), as a
/// registration would have on the next load. At once, not when the tab's page has finished
/// loading (the default), which for a tab still loading, or held by a dialog, could be never.
pub async fn execute_file(tab_id: i32, file: &str) -> Result<(), ExtError> {
    let target = object(&[("tabId", JsValue::from(tab_id))]);
    let files: Array = std::iter::once(JsValue::from_str(file)).collect();
    let details = object(&[
        ("target", target.into()),
        ("files", files.into()),
        ("injectImmediately", JsValue::TRUE),
    ]);
    call(&["scripting"], "executeScript", &[details.into()])
        .await
        .map(|_| ())
}
