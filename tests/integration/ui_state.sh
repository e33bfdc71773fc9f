#!/usr/bin/env bash
# ui_state.sh — every flame graph's zoom is in the URL (sandwich callers/callees, compare's diff
# graph): starts `ember server` on loopback, fills it with tests/ui/fill.mjs and runs
# tests/ui/ui_state.test.mjs in headless Chromium. SKIP when node, chromium or playwright-core
# is missing (same checks as ui_browser.sh).
source "$(dirname "$0")/lib/common.bash"

source "$(dirname "$0")/lib/ui.bash"
ui_preflight ui_state

source "$(dirname "$0")/lib/server.bash"
start_server_or_exit ui_state/server_start

ui_fill ui_state
ui_run ui_state 120 ui_state.test.mjs
echo "ui_state: $n_fail failed"
[ "$n_fail" -eq 0 ] && [ $UI_RC -eq 0 ]
