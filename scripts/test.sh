#!/usr/bin/env bash
# Runs every check a change must pass, then prints one line: "N passed, N failed".
#   formatting, clippy (-D warnings, native and wasm), native cargo tests, wasm-bindgen-test in
#   headless Chromium, the e2e tests with the built extension (Chromium, and Firefox ESR for the
#   Firefox build), web-ext lint on the Firefox build.
# Installs what it needs first (scripts/setup.sh) and builds (scripts/build.sh).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 failures=()
log_dir=target/test-logs
mkdir -p "$log_dir"

# Runs one step; $2 is a parser printing "passed failed" from the step's log (default 1/0).
step() {
  local name=$1 parser=$2; shift 2
  local log="$log_dir/$name.log" p f
  echo "== $name: $*"
  "$@" >"$log" 2>&1
  local rc=$?
  read -r p f < <($parser "$log" "$rc")
  passed=$((passed + p)); failed=$((failed + f))
  if ((rc != 0 || f > 0)); then
    failures+=("$name"); tail -n 40 "$log"; echo "-- $name FAILED (log: $log)"
  else
    echo "-- $name ok ($p passed)"
  fi
}

# One check per step: 1 passed or 1 failed by exit code.
one() { if [[ $2 == 0 ]]; then echo "1 0"; else echo "0 1"; fi; }

# Sums cargo's "test result: ... N passed; M failed" lines (a failing build counts as 1 failure).
cargo_counts() {
  local p f
  p=$(grep -Eo '[0-9]+ passed;' "$1" | awk '{s+=$1} END {print s+0}')
  f=$(grep -Eo '[0-9]+ failed;' "$1" | awk '{s+=$1} END {print s+0}')
  if [[ $2 != 0 && $f == 0 ]]; then f=1; fi
  echo "$p $f"
}

# node --test's "# pass N" / "# fail N".
node_counts() {
  local p f
  p=$(awk '/^# pass /{print $3}' "$1" | tail -1); f=$(awk '/^# fail /{print $3}' "$1" | tail -1)
  p=${p:-0}; f=${f:-0}
  if [[ $2 != 0 && $f == 0 ]]; then f=1; fi
  echo "$p $f"
}

export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_TIMEOUT=120
export WASM_BINDGEN_TEST_WEBDRIVER_JSON=$PWD/tests/webdriver.json

step fmt one cargo fmt --all -- --check
step clippy one cargo clippy --workspace --all-targets --locked -- -D warnings
step clippy-wasm one cargo clippy --workspace --lib --target wasm32-unknown-unknown --locked -- -D warnings
step cargo-test cargo_counts cargo test --workspace --locked
step wasm-test cargo_counts cargo test --locked --target wasm32-unknown-unknown -p webext -p content -p pages
step build one bash scripts/build.sh
step e2e node_counts node --test --test-concurrency=1 tests/e2e/
step web-ext-lint one node_modules/.bin/web-ext lint --source-dir dist/firefox --warnings-as-errors=false --self-hosted

# Each failed node test with its error, last, where a truncated CI log still shows it.
failed_tests() {
  awk '/^not ok /{on=1; n=0} on && !/duration_ms/{print; if (++n >= 25) on=0} on && /^  \.\.\.$/{on=0}' "$1"
}

echo
for name in "${failures[@]}"; do
  [[ $name == e2e ]] && { echo "-- failed in $name:"; failed_tests "$log_dir/$name.log"; }
done
((${#failures[@]})) && echo "failed steps: ${failures[*]}"
echo "$passed passed, $failed failed"
((failed == 0))
