//! Bindings for the `chrome.*` extension APIs the project uses — here and nowhere else.
//!
//! Every call looks the API up at run time and returns `Result<_, ExtError>` instead of
//! throwing: an API missing in this context (content scripts have no `chrome.scripting`), a
//! permission not granted or an extension context invalidated by a reload all become values.
//! Listeners are owned by [`Listener`], which removes the JS callback when dropped.

use js_sys::{Array, Function, Object, Promise, Reflect};
use std::fmt;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub mod action;
pub mod menus;
pub mod permissions;
pub mod runtime;
pub mod scripting;
pub mod storage;
pub mod tabs;

/// Why an extension API call did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtError {
    /// The API does not exist in this context or browser (or the extension was reloaded).
    Unavailable(String),
    /// The API threw or its promise rejected, with the browser's message.
    Failed(String),
}

impl fmt::Display for ExtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtError::Unavailable(p) => write!(f, "extension API {p} is not available here"),
            ExtError::Failed(m) => write!(f, "extension API call failed: {m}"),
        }
    }
}

impl std::error::Error for ExtError {}

/// A readable message out of whatever JavaScript threw.
pub fn js_error_text(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

// Read as names in scope, not as properties of `js_sys::global()`: in a Firefox content script
// that is the page's window, and the extension API (and `cloneInto`) live on the content
// script's sandbox, which only a plain name reaches. There the bridge never started.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = chrome)]
    static CHROME: Option<JsValue>;
    #[wasm_bindgen(thread_local_v2, js_name = browser)]
    static BROWSER: Option<JsValue>;
    #[wasm_bindgen(thread_local_v2, js_name = cloneInto)]
    static CLONE_INTO: Option<JsValue>;
}

/// The extension namespace: `chrome`, or Firefox's `browser` where `chrome` is missing.
fn namespace() -> Result<JsValue, ExtError> {
    [&CHROME, &BROWSER]
        .into_iter()
        .find_map(|k| k.with(Option::clone).filter(JsValue::is_object))
        .ok_or_else(|| ExtError::Unavailable("chrome".into()))
}

/// True in a Firefox content script (it alone has `cloneInto`).
pub fn firefox_content_script() -> bool {
    CLONE_INTO.with(|f| f.as_ref().is_some_and(JsValue::is_function))
}

/// Looks up `chrome.<path...>`.
pub(crate) fn api(path: &[&str]) -> Result<JsValue, ExtError> {
    let mut v = namespace()?;
    for key in path {
        v = Reflect::get(&v, &JsValue::from_str(key))
            .map_err(|_| ExtError::Unavailable(path.join(".")))?;
        if v.is_undefined() || v.is_null() {
            return Err(ExtError::Unavailable(path.join(".")));
        }
    }
    Ok(v)
}

/// Calls `chrome.<path>.<method>(...args)` and awaits the result if it is a promise.
pub(crate) async fn call(
    path: &[&str],
    method: &str,
    args: &[JsValue],
) -> Result<JsValue, ExtError> {
    settle(call_sync(path, method, args)?).await
}

/// Awaits `out`, a call's result, if it is a promise or any other thenable. Not only an
/// `instanceof Promise`: in an extension page framed by a web page, Firefox's API hands back
/// promises of another compartment, which that test rejects; the panel then read the promise
/// itself as the result (an empty storage, no configuration).
pub(crate) async fn settle(out: JsValue) -> Result<JsValue, ExtError> {
    let promise = match out.dyn_into::<Promise>() {
        Ok(p) => p,
        Err(v) if get(&v, "then").is_function() => Promise::resolve(&v),
        Err(v) => return Ok(v),
    };
    JsFuture::from(promise)
        .await
        .map_err(|e| ExtError::Failed(js_error_text(&e)))
}

/// Calls `chrome.<path>.<method>(...args)` without waiting.
pub(crate) fn call_sync(
    path: &[&str],
    method: &str,
    args: &[JsValue],
) -> Result<JsValue, ExtError> {
    let target = api(path)?;
    let f: Function = Reflect::get(&target, &JsValue::from_str(method))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| ExtError::Unavailable(format!("{}.{method}", path.join("."))))?;
    let arr: Array = args.iter().collect();
    f.apply(&target, &arr)
        .map_err(|e| ExtError::Failed(js_error_text(&e)))
}

/// Builds a plain object from key/value pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        // Defining a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

/// Reads `obj[key]`, `undefined` if absent or unreadable.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

type Callback = Closure<dyn FnMut(JsValue, JsValue, JsValue)>;

/// A callback registered on a `chrome.*` event; dropping it removes the callback.
pub struct Listener {
    event: JsValue,
    closure: Callback,
}

impl Listener {
    /// Adds `f` to the event at `chrome.<path>` (e.g. `["storage", "onChanged"]`).
    pub fn on(
        path: &[&str],
        f: impl FnMut(JsValue, JsValue, JsValue) + 'static,
    ) -> Result<Listener, ExtError> {
        Self::on_value(api(path)?, f)
    }

    /// Adds `f` to an event object obtained elsewhere (a port's `onMessage`).
    pub fn on_value(
        event: JsValue,
        f: impl FnMut(JsValue, JsValue, JsValue) + 'static,
    ) -> Result<Listener, ExtError> {
        let closure: Callback = Closure::new(f);
        let add: Function = Reflect::get(&event, &JsValue::from_str("addListener"))
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(|| ExtError::Unavailable("addListener".into()))?;
        add.call1(&event, closure.as_ref())
            .map_err(|e| ExtError::Failed(js_error_text(&e)))?;
        Ok(Listener { event, closure })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Ok(remove) = Reflect::get(&self.event, &JsValue::from_str("removeListener")) {
            if let Some(remove) = remove.dyn_ref::<Function>() {
                // Fails only when the extension context is already gone; nothing to undo then.
                let _ = remove.call1(&self.event, self.closure.as_ref());
            }
        }
    }
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Listener")
    }
}

/// True while this context's extension is alive. After the extension is reloaded or updated a
/// content script keeps running but `chrome.runtime.id` disappears: it must clean up and stop.
pub fn context_alive() -> bool {
    runtime::id().is_some()
}
