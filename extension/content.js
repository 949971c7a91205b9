// Thin loader of the Rust content script. It picks how to run the one wasm module — compiled,
// or translated to JavaScript by wasm2js where the page's CSP forbids compiling wasm (Chromium
// compiles content-script wasm under the page's CSP) — and hands over to Rust's start().
(async () => {
  if (globalThis.__ccaasBridgeLoaded) return; // injected twice into one page: keep the first
  globalThis.__ccaasBridgeLoaded = true;
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
  if (window === window.top && document.readyState === 'loading') {
    await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
  }
  glue.start(route);
})().catch((e) => console.warn('[ccaas-bridge] content script could not start:', e));
