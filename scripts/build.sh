#!/usr/bin/env bash
# Builds the extension: dist/chrome/ (load unpacked), dist/firefox/, a zip of each, and
# dist/chrome-e2e/ (the e2e tests' build; see scripts/manifest.mjs).
#
# One wasm module per context, size-optimised. The content script's module is also translated
# to JavaScript by wasm2js, for pages whose CSP forbids compiling wasm (see ARCHITECTURE.md):
#   1. cargo builds for the MVP feature set (-C target-cpu=mvp);
#   2. wasm-opt strips the target-features section, so wasm-bindgen keeps one table
#      (wasm2js refuses modules with an externref table);
#   3. wasm-bindgen writes the glue; 4. wasm-opt -Oz; 5. wasm2js for the content script,
#      minified by esbuild.
# Usage: scripts/build.sh [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
[[ "${1:-}" == "--debug" ]] && profile=debug
bin=node_modules/.bin
features=(--enable-bulk-memory --enable-sign-ext --enable-mutable-globals
  --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types)
version=$(node -p "require('./manifest.json').version")

cargo_flags=(--target wasm32-unknown-unknown -p content -p background -p pages)
[[ $profile == release ]] && cargo_flags+=(--release)
# Set here rather than in .cargo/config.toml: the browser tests need wasm-bindgen's default
# (reference-types) build, which this flag would break for them.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-cpu=mvp" cargo build "${cargo_flags[@]}"

target=target/wasm32-unknown-unknown/$profile
work=target/ext-build
rm -rf "$work" dist/chrome dist/chrome-e2e dist/firefox
mkdir -p "$work" dist/chrome/wasm

bindgen() { # crate, wasm-bindgen target
  local crate=$1 kind=$2
  "$bin/wasm-opt" "${features[@]}" --strip-target-features "$target/$crate.wasm" -o "$work/$crate.wasm"
  wasm-bindgen --target "$kind" --out-dir "$work/$crate" "$work/$crate.wasm"
  local opt=(-Oz)
  [[ $profile == debug ]] && opt=(-O0)
  "$bin/wasm-opt" "${features[@]}" "${opt[@]}" "$work/$crate/${crate}_bg.wasm" -o "dist/chrome/wasm/${crate}_bg.wasm"
}

bindgen background web
cp "$work/background/background.js" dist/chrome/wasm/
bindgen pages web
cp "$work/pages/pages.js" dist/chrome/wasm/
bindgen content bundler
cp "$work/content/content_bg.js" dist/chrome/wasm/
# The detector's hot loop in JavaScript (crates/content/src/walk.js), imported by the glue.
cp -r "$work/content/snippets" dist/chrome/wasm/
"$bin/wasm2js" "${features[@]}" --enable-bulk-memory-opt -Oz \
  dist/chrome/wasm/content_bg.wasm -o "$work/content_bg.wasm.js"
# wasm2js grows memory by copying into a new ArrayBuffer and leaves the old one intact, but
# wasm-bindgen's glue only notices a grown memory when its cached view's buffer is detached:
# without this patch every string crossing after the first growth reads stale memory.
node scripts/patch-wasm2js.mjs "$work/content_bg.wasm.js"
# Minified: the fallback route's weight per page load drops to about a third.
if [[ $profile == release ]]; then
  "$bin/esbuild" "$work/content_bg.wasm.js" --minify --format=esm --log-level=warning \
    --outfile=dist/chrome/wasm/content_bg.wasm.js
else
  cp "$work/content_bg.wasm.js" dist/chrome/wasm/
fi

cp -r extension/. dist/chrome/
node scripts/manifest.mjs chrome > dist/chrome/manifest.json

# The e2e test build (see scripts/manifest.mjs): not shipped, not zipped.
rm -rf dist/chrome-e2e
cp -r dist/chrome dist/chrome-e2e
node scripts/manifest.mjs chrome-e2e > dist/chrome-e2e/manifest.json

# Firefox: the same files, its own manifest.
cp -r dist/chrome dist/firefox
node scripts/manifest.mjs firefox > dist/firefox/manifest.json

rm -f dist/*.zip
(cd dist/chrome && zip -qr -X "../ccaas-bridge-chrome-$version.zip" .)
(cd dist/firefox && zip -qr -X "../ccaas-bridge-firefox-$version.zip" .)
bash scripts/build-driver.sh ${1:+"$1"} # the CTI driver web resource: dist/ccaas-cti-driver.js

echo "built dist/chrome and dist/firefox ($profile):"
for f in dist/chrome/wasm/*; do printf '  %8d  %s\n' "$(stat -c %s "$f")" "$f"; done
printf '  %8d  %s\n' "$(stat -c %s dist/ccaas-bridge-chrome-$version.zip)" "dist/ccaas-bridge-chrome-$version.zip"
