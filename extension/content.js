// Thin loader of the Rust content script. It picks how to run the one wasm module — compiled,
// or translated to JavaScript by wasm2js where the page's CSP forbids compiling wasm (Chromium
// compiles content-script wasm under the page's CSP) — and hands over to Rust's start().
(async () => {
  if (globalThis.__ccaasBridgeLoaded) return; // injected twice into one page: keep the first
  globalThis.__ccaasBridgeLoaded = true;
  // What the page asks of the bridge before it is up (it starts at DOMContentLoaded, on a heavy
  // page only after the page's first rendering) is kept, in order, and handed to it: at most 64
  // `ccaas-bridge` events and messages addressed to it by the page itself (so that a framed
  // third party cannot crowd them out). Rust checks each like any other.
  const top = window === window.top;
  const early = [];
  const keep = (e) => {
    if (early.length >= 64) return;
    if (e.type !== 'message' || (e.source === window && e.origin === location.origin && e.data?.channel === 'ccaas-bridge')) early.push(e);
  };
  if (top) {
    addEventListener('message', keep);
    addEventListener('ccaas-bridge', keep);
  }
  const url = (path) => chrome.runtime.getURL(path);
  const glue = await import(url('wasm/content_bg.js'));
  let route = 'wasm';
  let exports;
  try {
    const imports = { './content_bg.js': glue };
    ({ instance: { exports } } = await WebAssembly.instantiateStreaming(fetch(url('wasm/content_bg.wasm')), imports));
  } catch {
    route = 'wasm2js';
    exports = await import(url('wasm/content_bg.wasm.js'));
  }
  glue.__wbg_set_wasm(exports);
  exports.__wbindgen_start?.();
  // Injected at document_start: the module is compiled while the page parses, and the bridge
  // starts once the DOM is there. Widget frames (the probe) start at once, as before.
  if (top && document.readyState === 'loading') {
    await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
  }
  if (top) {
    removeEventListener('message', keep);
    removeEventListener('ccaas-bridge', keep);
  }
  glue.start(route, early);
})().catch((e) => console.warn('[ccaas-bridge] content script could not start:', e));
