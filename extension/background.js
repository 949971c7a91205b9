// Thin loader of the Rust background worker. Every listener is registered synchronously, at the
// top level, so that Chrome can wake a stopped worker for its events; each one waits for the
// wasm to be ready and hands over to Rust.
import init, * as bg from './wasm/background.js';

const ready = init({ module_or_path: chrome.runtime.getURL('wasm/background_bg.wasm') }).then(() => bg.start());
ready.catch((e) => console.error('[ccaas-bridge] the background worker failed to start', e));
const later = (f) => (...args) => { ready.then(() => f(...args)); };

// A port's messages are not held for listeners added later: those posted before the wasm is
// ready (a content script's Hello and its resent dials, right after it woke this worker) would be
// lost, and the sender would wait a second for a Welcome. So they are kept here until Rust
// takes the port; both steps happen within one task, so none slips between them.
chrome.runtime.onConnect.addListener((port) => {
  const early = [];
  let gone = false;
  const keep = (msg) => { early.push(msg); };
  const lost = () => { gone = true; void chrome.runtime.lastError; }; // read: else Chrome logs it
  port.onMessage.addListener(keep);
  port.onDisconnect.addListener(lost);
  ready.then(() => {
    port.onMessage.removeListener(keep);
    port.onDisconnect.removeListener(lost);
    bg.on_connect(port, early, gone);
  });
});
chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  ready.then(() => bg.on_message(msg, sender)).then(reply, () => reply(null));
  return true; // the reply comes asynchronously
});
chrome.storage.onChanged.addListener(later(bg.on_storage_changed));
chrome.tabs.onRemoved.addListener(later(bg.on_tab_removed));
chrome.tabs.onActivated.addListener(later(bg.on_tab_activated));
chrome.commands?.onCommand.addListener(later(bg.on_command));
chrome.contextMenus?.onClicked.addListener(later(bg.on_menu_click));
// The same handler, for the e2e tests: headless Chromium has no context menu to click. Only
// extension contexts can reach this worker's global scope.
globalThis.ccaasMenuClicked = (info, tab) => ready.then(() => bg.on_menu_click(info, tab));
chrome.runtime.onStartup.addListener(() => {}); // waking on browser start runs start() above
