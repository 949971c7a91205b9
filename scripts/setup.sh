#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need, from the package registries only.
# Safe to run twice: each step checks first and does nothing when its tool is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

# Rust target for the extension's wasm.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen CLI at exactly the version in Cargo.lock (the glue must match the library).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" != "$want" ]]; then
  say "installing wasm-bindgen-cli $want (a few minutes)"
  # --locked first; the CLI's own lock file can name a dependency version the registry no
  # longer serves, and then the unlocked install (same CLI version) is the way through.
  cargo install wasm-bindgen-cli --version "=$want" --locked \
    || cargo install wasm-bindgen-cli --version "=$want"
fi

# geckodriver, for the Firefox e2e test (WebDriver to Debian's Firefox ESR).
if ! command -v geckodriver >/dev/null; then
  say "installing geckodriver (a few minutes)"
  cargo install geckodriver --version 0.37.1 --locked
fi

# Debian's Chromium and ChromeDriver, and Firefox ESR (the tests never download a browser), zip,
# and X tools.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
command -v zip >/dev/null || missing+=(zip)
# A private X display and real key events, for the one e2e test of the keyboard shortcut.
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v xauth >/dev/null || missing+=(xauth)
command -v xdotool >/dev/null || missing+=(xdotool)
if ((${#missing[@]})); then
  say "installing ${missing[*]} from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# npm tooling, exactly as locked: playwright-core (never playwright), binaryen, web-ext.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "ready: $(rustc --version), wasm-bindgen $want, $(chromium --version 2>/dev/null | head -1), $(firefox-esr --version 2>/dev/null | head -1)"
