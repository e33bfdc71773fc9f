# tests/integration/lib/ui.bash — what the browser tests share: the preflight (node, Chromium and
# playwright-core present: SKIP otherwise; the ember binary built), filling the server with
# tests/ui/fill.mjs, and running one playwright script. Source after common.bash; ui_fill and
# ui_run need $BASE (lib/server.bash).

ROOT=$(cd "$INTEG_DIR/../.." && pwd)

# ui_preflight NAME: skips (exit 0) without node or a usable browser, fails without ember.
ui_preflight() {
	local reason
	if ! command -v node >/dev/null 2>&1; then
		skip "$1" "node is not installed (scripts/deps.sh installs nodejs)"
		exit 0
	fi
	reason=$(cd "$ROOT" && node --input-type=module -e \
		"import { why } from './tests/ui/browser.mjs'; console.log(why() || '')" 2>&1)
	if [ -n "$reason" ]; then
		skip "$1" "$reason"
		exit 0
	fi
	if [ ! -x "$EMBER" ]; then
		fail "$1" "no ember binary at $EMBER"
		exit 1
	fi
}

# ui_fill PREFIX: fills the server; PREFIX/fill passes with the profile count, or fails and exits.
ui_fill() {
	local n
	if n=$(node "$ROOT/tests/ui/fill.mjs" "$BASE" 2>"$T/fill.err"); then
		pass "$1/fill ($n profiles)"
	else
		fail "$1/fill" "$(head -c 300 "$T/fill.err")"
		exit 1
	fi
}

# ui_run PREFIX SECONDS SCRIPT [ARGS...]: runs tests/ui/SCRIPT against $BASE with a time limit,
# shows its stderr when it failed, and sets UI_RC to its exit status (124: timed out, a failure).
ui_run() {
	local prefix=$1 secs=$2 script=$3
	shift 3
	timeout "$secs" node "$ROOT/tests/ui/$script" "$BASE" "$@" 2>"$T/ui.err"
	UI_RC=$?
	if [ $UI_RC -ne 0 ] && [ -s "$T/ui.err" ]; then
		echo "$script stderr:"
		head -c 2000 "$T/ui.err"
	fi
	if [ $UI_RC -eq 124 ]; then fail "$prefix/browser" "the browser test timed out"; fi
}
