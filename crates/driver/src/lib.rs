//! The project's CTI driver for the Dynamics 365 Contact Center widget: the file an admin uploads
//! as the `msdyn_CustomCTIDriver.js` web resource (used with `useCustomCTI=1`).
//!
//! Built by `scripts/build-driver.sh` into one classic script, `dist/ccaas-cti-driver.js`
//! (wasm2js: no `.wasm` to host, nothing fetched, runs where the widget's CSP forbids compiling
//! WebAssembly), which sets `window.CCaaS.CTIDriver` to [`cti::CtiDriver`].
//!
//! - [`allow`]: which parent origins are trusted, and where that list comes from.
//! - [`logic`]: every decision (judging a message, mapping SDK payloads, choosing a presence),
//!   pure and tested natively.
//! - [`cti`]: the class itself, between the Embed SDK, `window.parent` and [`logic`].

pub mod allow;
pub mod cti;
pub mod logic;

use wasm_bindgen::prelude::*;

/// Called once by the file's wrapper with the settings block at the top of the file
/// (`{allowedOrigins: [...]}`), before it publishes the class. Not reachable by other scripts:
/// the module's exports stay inside the wrapper.
#[wasm_bindgen]
pub fn configure(settings: JsValue) {
    cti::configure(&settings);
}
