//! `chrome.runtime`: ids, URLs, ports and one-shot messages.

use crate::{api, call, call_sync, get, js_error_text, object, ExtError, Listener};
use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};

/// The extension's id, `None` once the extension context is invalidated.
pub fn id() -> Option<String> {
    api(&["runtime"])
        .ok()
        .and_then(|r| get(&r, "id").as_string())
}

/// `chrome.runtime.getURL(path)`.
pub fn get_url(path: &str) -> Result<String, ExtError> {
    call_sync(&["runtime"], "getURL", &[JsValue::from_str(path)])?
        .as_string()
        .ok_or_else(|| ExtError::Failed("getURL returned no string".into()))
}

/// Who sent a message, as the browser (not the sender) says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sender {
    pub tab_id: Option<i32>,
    pub tab_title: Option<String>,
    pub frame_id: Option<i32>,
    pub url: Option<String>,
    pub origin: Option<String>,
    /// Set when the sender is one of this extension's own contexts.
    pub extension_id: Option<String>,
}

impl Sender {
    pub fn from_js(s: &JsValue) -> Sender {
        let tab = get(s, "tab");
        let num = |v: JsValue| v.as_f64().map(|n| n as i32);
        Sender {
            tab_id: num(get(&tab, "id")),
            tab_title: get(&tab, "title").as_string(),
            frame_id: num(get(s, "frameId")),
            url: get(s, "url").as_string(),
            origin: get(s, "origin").as_string(),
            extension_id: get(s, "id").as_string(),
        }
    }
}

/// A `chrome.runtime.Port`. Messages are JSON text, decoded by the receiver with `protocol`.
#[derive(Clone, Debug)]
pub struct Port {
    inner: JsValue,
}

impl Port {
    pub fn from_js(inner: JsValue) -> Port {
        Port { inner }
    }

    pub fn as_js(&self) -> &JsValue {
        &self.inner
    }

    pub fn name(&self) -> String {
        get(&self.inner, "name").as_string().unwrap_or_default()
    }

    pub fn sender(&self) -> Sender {
        Sender::from_js(&get(&self.inner, "sender"))
    }

    /// Posts text; fails (softly) when the other end is gone.
    pub fn post(&self, text: &str) -> Result<(), ExtError> {
        let f: Function = get(&self.inner, "postMessage")
            .dyn_into()
            .map_err(|_| ExtError::Unavailable("Port.postMessage".into()))?;
        f.call1(&self.inner, &JsValue::from_str(text))
            .map(|_| ())
            .map_err(|e| ExtError::Failed(js_error_text(&e)))
    }

    /// Calls `f` with each message's text; non-text messages are ignored.
    pub fn on_message(&self, mut f: impl FnMut(String) + 'static) -> Result<Listener, ExtError> {
        Listener::on_value(get(&self.inner, "onMessage"), move |msg, _, _| {
            if let Some(text) = msg.as_string() {
                f(text);
            }
        })
    }

    /// Calls `f` when the other end goes. Chrome reports why in `runtime.lastError` and prints
    /// "Unchecked runtime.lastError" in the page's console unless a listener reads it: this one
    /// does, since a port that finds the worker stopped is expected and handled by reconnecting.
    /// (Firefox puts the reason in `port.error` and logs nothing; reading `lastError` is harmless.)
    pub fn on_disconnect(&self, mut f: impl FnMut() + 'static) -> Result<Listener, ExtError> {
        Listener::on_value(get(&self.inner, "onDisconnect"), move |_, _, _| {
            let _read = api(&["runtime"]).map(|r| get(&r, "lastError"));
            f()
        })
    }

    pub fn disconnect(&self) {
        if let Ok(f) = get(&self.inner, "disconnect").dyn_into::<Function>() {
            let _ = f.call0(&self.inner);
        }
    }
}

/// `chrome.runtime.connect({name})`.
pub fn connect(name: &str) -> Result<Port, ExtError> {
    let info = object(&[("name", JsValue::from_str(name))]);
    call_sync(&["runtime"], "connect", &[info.into()]).map(Port::from_js)
}

/// `chrome.runtime.sendMessage(text)`; resolves with the reply, if any.
pub async fn send_message(text: &str) -> Result<JsValue, ExtError> {
    call(&["runtime"], "sendMessage", &[JsValue::from_str(text)]).await
}

/// `chrome.runtime.onConnect`.
pub fn on_connect(mut f: impl FnMut(Port) + 'static) -> Result<Listener, ExtError> {
    Listener::on(&["runtime", "onConnect"], move |p, _, _| {
        f(Port::from_js(p))
    })
}

/// `chrome.runtime.openOptionsPage()`.
pub async fn open_options_page() -> Result<(), ExtError> {
    call(&["runtime"], "openOptionsPage", &[]).await.map(|_| ())
}
