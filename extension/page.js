// Thin loader of the Rust extension pages: starts the page named by <body data-page>.
import init, { start } from './wasm/pages.js';

await init({ module_or_path: new URL('./wasm/pages_bg.wasm', import.meta.url) });
start(document.body.dataset.page);
