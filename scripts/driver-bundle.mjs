// Wraps the driver's wasm-bindgen glue (bundler target) and its wasm2js translation into ONE
// classic script (no import/export, no fetch, no eval/new Function), with a settings block at
// the top that an administrator may edit before uploading the file. Called by
// scripts/build-driver.sh:
//   node scripts/driver-bundle.mjs --glue <driver_bg.js> --module <driver_bg.wasm.js>
//                                  --version <v> --out <file> [--minify]
// --minify (release builds) shrinks everything but the settings block with esbuild.
// The two inputs are ES modules of a known, simple shape; anything else fails the build rather
// than producing a file that would break in the widget.
import fs from 'node:fs';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--minify') args.minify = true;
  else if (a.startsWith('--')) args[a.slice(2)] = process.argv[++i];
}
for (const k of ['glue', 'module', 'version', 'out']) {
  if (!args[k]) {
    console.error(`driver-bundle: --${k} is required`);
    process.exit(2);
  }
}

function fail(msg) {
  console.error(`driver-bundle: ${msg}`);
  process.exit(1);
}

// `export function f` / `export class C` / `export const x` → the declaration, name collected.
function unexportGlue(src) {
  const names = [];
  const out = src.split('\n').map((line, i) => {
    const m = /^export (function|class|const|let|var) ([A-Za-z_$][\w$]*)/.exec(line);
    if (m) {
      names.push(m[2]);
      return line.slice('export '.length);
    }
    if (/^\s*(import|export)\b/.test(line)) fail(`glue line ${i + 1} has module syntax this script does not handle: ${line}`);
    return line;
  });
  return { code: out.join('\n'), names };
}

// wasm2js: `import * as $_x from './driver_bg.js';` → the glue object; `export var n = ...`.
function unexportModule(src) {
  const names = [];
  const out = src.split('\n').map((line, i) => {
    const imp = /^import \* as ([A-Za-z_$][\w$]*) from '\.\/driver_bg\.js';$/.exec(line);
    if (imp) return `var ${imp[1]} = glue;`;
    const m = /^export var ([A-Za-z_$][\w$]*) = /.exec(line);
    if (m) {
      names.push(m[1]);
      return line.slice('export '.length);
    }
    if (/^\s*(import|export)\b/.test(line)) fail(`module line ${i + 1} has module syntax this script does not handle: ${line}`);
    return line;
  });
  return { code: out.join('\n'), names };
}

// wasm-bindgen's glue caches typed-array views of the wasm memory and renews them only when the
// old buffer was detached, which a real WebAssembly.Memory does on growth. wasm2js's memory
// grows into a new ArrayBuffer and leaves the old one attached, so the cached view would go
// stale at the first growth (strings read back as NULs). Renew a view whenever the buffer is
// not the memory's current one.
function freshViews(src) {
  let n = 0;
  const out = src
    .replace(/(cached\w+Memory0)\.byteLength === 0/g, (_, v) => {
      n++;
      return `${v}.buffer !== wasm.memory.buffer`;
    })
    .replace(
      /(cached\w+Memory0)\.buffer\.detached === true \|\| \(\1\.buffer\.detached === undefined && \1\.buffer !== wasm\.memory\.buffer\)/g,
      (_, v) => {
        n++;
        return `${v}.buffer !== wasm.memory.buffer`;
      },
    );
  if (n === 0 || /Memory0\.byteLength === 0|\.detached/.test(out)) fail('unexpected memory-view caching in the glue');
  return out;
}

const glue = unexportGlue(freshViews(fs.readFileSync(args.glue, 'utf8')));
const mod = unexportModule(fs.readFileSync(args.module, 'utf8'));
for (const need of ['__wbg_set_wasm', 'CTIDriver', 'configure']) {
  if (!glue.names.includes(need)) fail(`the glue does not export ${need}`);
}
const ret = (names) => `return { ${names.map((n) => `${JSON.stringify(n)}: ${n}`).join(', ')} };`;

// Everything but the settings block: a function of the settings, minified when asked (the
// settings block stays readable, for an administrator to edit).
let core = `var ccaasDriverCore = function (SETTINGS) {
  'use strict';
  if (window.__ccaasBridgeDriverLoaded) return; // loaded twice into one widget: keep the first
  window.__ccaasBridgeDriverLoaded = true;
  try {
    var glue = (function () {
${glue.code}
${ret(glue.names)}
    })();
    var exports = (function (glue) {
${mod.code}
${ret(mod.names)}
    })(glue);
    glue.__wbg_set_wasm(exports);
    if (typeof exports.__wbindgen_start === 'function') exports.__wbindgen_start();
    glue.configure(SETTINGS);
    window.CCaaS = window.CCaaS || {};
    window.CCaaS.CTIDriver = glue.CTIDriver;
  } catch (e) {
    console.error('[ccaas-driver] could not start:', e);
  }
};`;
if (args.minify) {
  const { transformSync } = await import('esbuild');
  core = transformSync(core, { loader: 'js', minify: true, logLevel: 'warning' }).code.trim();
}

const file = `/*! CCaaS Bridge CTI driver ${args.version}: the msdyn_CustomCTIDriver.js web resource for the
 * Dynamics 365 Contact Center widget (used with useCustomCTI=1). Built from crates/driver by
 * scripts/build-driver.sh; see the README, "The CTI driver". Edit the settings block only. */
(function () {
  'use strict';

  // ---- Settings --------------------------------------------------------------------------
  var SETTINGS = {
    // Parent origins allowed to talk to this driver, besides those in the widget URL's
    // ccaasBridgeOrigins= parameter and the origin of its dynamicsUrl. Exact origins
    // ('chrome-extension://<extension id>', 'https://crm.contoso.com') or every subdomain
    // ('https://*.contoso.com'). '*' is refused.
    allowedOrigins: []
  };
  // ---- End of settings -------------------------------------------------------------------

${core}
  ccaasDriverCore(SETTINGS);
})();
`;

// The widget's CSP may forbid eval; the file must not need it.
if (/\beval\s*\(|new\s+Function\s*\(/.test(file)) fail('the bundle contains eval or new Function');
fs.writeFileSync(args.out, file);
