#!/usr/bin/env bash
# The demo command: installs what is missing, builds, serves the sandbox CRM and the widget
# emulator on loopback, and opens Chromium with the extension pointed at them.
#   scripts/demo.sh              a browser window (needs a display; otherwise runs headless)
#   scripts/demo.sh --headless   screenshots of what the agent sees, into demo-screenshots/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec node scripts/demo.mjs "$@"
