#!/usr/bin/env bash
# ui_unit_js.sh — the web UI's JavaScript unit tests (tests/unit/js/*.test.mjs, node --test):
# the flame graph layout code, search, tables, sandwich trees, query and time helpers. Turns
# node's TAP output into one PASS/FAIL line per test. SKIP when node is not installed.
source "$(dirname "$0")/lib/common.bash"

if ! command -v node >/dev/null 2>&1; then
	skip ui_js "node is not installed (scripts/deps.sh installs nodejs)"
	exit 0
fi
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
node --experimental-detect-module --no-warnings --test --test-reporter=tap \
	"$ROOT"/tests/unit/js/*.test.mjs >"$T/tap" 2>&1
rc=$?
n=0
while IFS= read -r line; do
	case $line in
	"ok "*)
		pass "ui_js/${line#ok * - }"
		n=$((n + 1))
		;;
	"not ok "*)
		fail "ui_js/${line#not ok * - }" "see the assertion below"
		n=$((n + 1))
		;;
	esac
done < <(grep -E '^(not )?ok [0-9]+ - ' "$T/tap")
if [ "$n" -eq 0 ]; then
	fail ui_js "node --test ran no test (status $rc): $(head -c 400 "$T/tap")"
fi
if [ "$n_fail" -gt 0 ]; then
	grep -E -A12 '^not ok' "$T/tap" | head -60
fi
echo "ui_unit_js: $n tests, $n_fail failed"
[ "$n_fail" -eq 0 ] && [ $rc -eq 0 ]
