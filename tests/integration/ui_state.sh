#!/usr/bin/env bash
# ui_state.sh — every flame graph's zoom is in the URL (sandwich callers/callees, compare's diff
# graph): starts `ember server` on loopback, fills it with tests/ui/fill.mjs and runs
# tests/ui/ui_state.test.mjs in headless Chromium. SKIP when node, chromium or playwright-core
# is missing (same checks as ui_browser.sh).
source "$(dirname "$0")/lib/common.bash"

ROOT=$(cd "$INTEG_DIR/../.." && pwd)
if ! command -v node >/dev/null 2>&1; then
	skip ui_state "node is not installed (scripts/deps.sh installs nodejs)"
	exit 0
fi
reason=$(cd "$ROOT" && node --input-type=module -e \
	"import { why } from './tests/ui/browser.mjs'; console.log(why() || '')" 2>&1)
if [ -n "$reason" ]; then
	skip ui_state "$reason"
	exit 0
fi
if [ ! -x "$EMBER" ]; then
	fail ui_state "no ember binary at $EMBER"
	exit 1
fi

source "$(dirname "$0")/lib/server.bash"
start_server_or_exit ui_state/server_start

if n=$(node "$ROOT/tests/ui/fill.mjs" "$BASE" 2>"$T/fill.err"); then
	pass "ui_state/fill ($n profiles)"
else
	fail ui_state/fill "$(head -c 300 "$T/fill.err")"
	exit 1
fi
timeout 120 node "$ROOT/tests/ui/ui_state.test.mjs" "$BASE" 2>"$T/ui.err"
rc=$?
if [ $rc -ne 0 ] && [ -s "$T/ui.err" ]; then
	echo "ui_state.test.mjs stderr:"
	head -c 2000 "$T/ui.err"
fi
if [ $rc -eq 124 ]; then fail ui_state/browser "the browser test timed out"; fi
echo "ui_state: $n_fail failed"
[ "$n_fail" -eq 0 ] && [ $rc -eq 0 ]
