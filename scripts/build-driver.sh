#!/usr/bin/env bash
# Builds the project's CTI driver (crates/driver) into ONE classic script,
# dist/ccaas-cti-driver.js: the file an admin uploads as the msdyn_CustomCTIDriver.js web
# resource. Same route as the content script's wasm2js build (see scripts/build.sh):
#   1. cargo builds for the MVP feature set (-C target-cpu=mvp);
#   2. wasm-opt strips the target-features section (wasm2js refuses an externref table);
#   3. wasm-bindgen writes the glue (bundler target); 4. wasm-opt -Oz; 5. wasm2js;
#   6. scripts/driver-bundle.mjs wraps glue + translated module in one IIFE: no module syntax,
#      no fetch, no eval/new Function, so it runs under a CSP without 'wasm-unsafe-eval';
#      release builds are minified by esbuild, all but the settings block at the top.
# Also copies it to dist/driver-test/, which tests/support/server.mjs serves to the widget
# emulator (`?driver=ours`).
# Usage: scripts/build-driver.sh [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
[[ "${1:-}" == "--debug" ]] && profile=debug
bin=node_modules/.bin
features=(--enable-bulk-memory --enable-sign-ext --enable-mutable-globals
  --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types)
cargo_flags=(--target wasm32-unknown-unknown -p driver)
[[ $profile == release ]] && cargo_flags+=(--release)
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-cpu=mvp" cargo build "${cargo_flags[@]}"

work=target/driver-build
rm -rf "$work"
mkdir -p "$work" dist/driver-test
"$bin/wasm-opt" "${features[@]}" --strip-target-features \
  "target/wasm32-unknown-unknown/$profile/driver.wasm" -o "$work/driver.wasm"
wasm-bindgen --target bundler --out-dir "$work/bindgen" "$work/driver.wasm"
opt=(-Oz)
[[ $profile == debug ]] && opt=(-O0)
"$bin/wasm-opt" "${features[@]}" "${opt[@]}" "$work/bindgen/driver_bg.wasm" -o "$work/driver_bg.wasm"
"$bin/wasm2js" "${features[@]}" --enable-bulk-memory-opt "${opt[@]}" \
  "$work/driver_bg.wasm" -o "$work/driver_bg.wasm.js"

version=$(cargo metadata --no-deps --format-version 1 \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).packages.find(p=>p.name==="driver").version))')
minify=()
[[ $profile == release ]] && minify=(--minify)
node scripts/driver-bundle.mjs --glue "$work/bindgen/driver_bg.js" \
  --module "$work/driver_bg.wasm.js" --version "$version" --out dist/ccaas-cti-driver.js "${minify[@]}"
cp dist/ccaas-cti-driver.js dist/driver-test/ccaas-cti-driver.js
printf '  %8d  %s\n' "$(stat -c %s dist/ccaas-cti-driver.js)" dist/ccaas-cti-driver.js
