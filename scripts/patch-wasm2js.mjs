// Patches binaryen's wasm2js output so that growing memory detaches the old ArrayBuffer.
//
// wasm2js emulates `memory.grow` by allocating a bigger ArrayBuffer, copying, and swapping its
// views; the old buffer stays attached. wasm-bindgen's glue caches a Uint8Array/DataView of
// `memory.buffer` and refreshes it only when that cached view's buffer is detached (as real
// WebAssembly memory does on growth). Without detaching, every string passed after the first
// growth is read from, or written to, the stale copy. `ArrayBuffer.prototype.transfer(0)`
// (Chrome 114, Firefox 122) detaches it. Fails loudly if binaryen's output changes shape.
// Usage: node scripts/patch-wasm2js.mjs <file.js>
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
const src = readFileSync(file, 'utf8');
const needle = /(\n\s*)buffer = newBuffer;/;
if (!needle.test(src) || !/function __wasm_memory_grow\(/.test(src)) {
  console.error(`patch-wasm2js: ${file} has no recognisable __wasm_memory_grow; binaryen's output changed`);
  process.exit(1);
}
const out = src.replace(needle, '$1var oldBuffer = buffer;$1buffer = newBuffer;$1oldBuffer.transfer(0);');
writeFileSync(file, out);
