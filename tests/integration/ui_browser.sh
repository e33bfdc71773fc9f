#!/usr/bin/env bash
# ui_browser.sh — the web UI in real headless Chromium against a real `ember server`: starts a
# server on loopback with a fresh data dir, checks the embedded assets are served (types, ETag
# and 304, index.html for app paths, 404 JSON for unknown assets and API paths), fills the
# server with tests/ui/fill.mjs (several services, labels, versions, two time windows), then
# runs tests/ui/ui.test.mjs, which clicks through every view and saves screenshots in
# $BUILD/screenshots/. SKIP when node, chromium or playwright-core is missing.
source "$(dirname "$0")/lib/common.bash"

source "$(dirname "$0")/lib/ui.bash"
ui_preflight ui_browser

source "$(dirname "$0")/lib/server.bash"
start_server_or_exit ui/server_start

# --- serving ----------------------------------------------------------------------------------
hdr() { curl -s -m 5 -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@"; }
header() { tr -d '\r' <"$T/hdr" | awk -v k="$1" 'tolower($1) == tolower(k) ":" { $1 = ""; sub(/^ /, ""); print }'; }
code=$(hdr "$BASE/")
etag=$(header ETag)
if [ "$code" = 200 ] && header Content-Type | grep -q '^text/html' && grep -q 'assets/js/main.js' "$T/body" &&
	[ -n "$etag" ] && header Cache-Control | grep -q no-cache; then
	pass ui/serve_index
else
	fail ui/serve_index "status $code, type '$(header Content-Type)', etag '$etag'"
fi
code=$(hdr -H "If-None-Match: $etag" "$BASE/")
if [ "$code" = 304 ]; then pass ui/serve_304; else fail ui/serve_304 "status $code"; fi
code=$(hdr "$BASE/compare?lquery=x")
if [ "$code" = 200 ] && grep -q 'assets/js/main.js' "$T/body"; then pass ui/serve_app_path; else
	fail ui/serve_app_path "status $code"
fi
ok=1
for a in assets/js/main.js:text/javascript assets/app.css:text/css \
	assets/vendor/uPlot.iife.min.js:text/javascript assets/favicon.svg:image/svg+xml; do
	code=$(hdr "$BASE/${a%%:*}")
	if [ "$code" != 200 ] || ! header Content-Type | grep -q "^${a#*:}" || [ ! -s "$T/body" ]; then
		fail ui/serve_assets "/${a%%:*}: status $code, type '$(header Content-Type)'"
		ok=0
	fi
done
[ $ok = 1 ] && pass ui/serve_assets
code=$(hdr "$BASE/assets/nope.js")
if [ "$code" = 404 ] && grep -q '"error"' "$T/body"; then pass ui/serve_unknown_asset; else
	fail ui/serve_unknown_asset "status $code: $(head -c 100 "$T/body")"
fi
code=$(hdr "$BASE/pyroscope/nope")
if [ "$code" = 404 ] && grep -q '"error"' "$T/body"; then pass ui/serve_unknown_api; else
	fail ui/serve_unknown_api "status $code: $(head -c 100 "$T/body")"
fi

# --- the browser: an empty server, then one with data -------------------------------------------
SHOTS=$BUILD_ABS/screenshots
rm -rf "$SHOTS"
timeout 120 node "$ROOT/tests/ui/ui.test.mjs" "$BASE" "$SHOTS" --empty 2>"$T/ui.err" ||
	echo "ui.test.mjs --empty stderr: $(head -c 1000 "$T/ui.err")"
ui_fill ui
ui_run ui 300 ui.test.mjs "$SHOTS"
echo "ui_browser: $n_fail failed (screenshots in $SHOTS)"
[ "$n_fail" -eq 0 ] && [ $UI_RC -eq 0 ]
