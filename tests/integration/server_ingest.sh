#!/usr/bin/env bash
# server_ingest.sh — `ember server` end to end over loopback: starts a server on a free port
# with a fresh data dir, ingests a folded body and a pprof file with curl (Pyroscope /ingest),
# reads them back with /pyroscope/render (numTicks = what was sent, known function names),
# checks bad pprof (4xx + JSON error), an oversized body (413), /metrics, clean exit on SIGTERM,
# and that a restart on the same data dir still answers with the same totals.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_ingest "$tool is not installed"
		exit 0
	fi
done
if [ ! -x "$EMBER" ]; then
	fail server_ingest "no ember binary at $EMBER"
	exit 1
fi

source "$(dirname "$0")/lib/server.bash"

start_server_or_exit server/start
pass server/start
BASE="http://127.0.0.1:$PORT"

# --- ingest folded --------------------------------------------------------------------------
cat >"$T/app.folded" <<'F'
main;serve;parse 100
main;serve;render 50
main;gc 20
F
NOW=$(date +%s)
FROM=$((NOW - 60))
code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' --data-binary @"$T/app.folded" \
	"$BASE/ingest?name=app.cpu%7Benv%3Dtest%7D&from=$FROM&until=$NOW&sampleRate=100&spyName=gospy")
if [ "$code" = 200 ]; then pass server/ingest_folded; else
	fail server/ingest_folded "status $code: $(head -c 200 "$T/body")"
fi

# --- ingest pprof (gzipped, converted from folded) ------------------------------------------
cat >"$T/p.folded" <<'F'
main;work;crunch 7
main;idle 3
F
if "$EMBER" convert "$T/p.folded" -o "$T/p.pb.gz" 2>"$T/conv.err"; then
	code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' --data-binary @"$T/p.pb.gz" \
		"$BASE/pyroscope/ingest?name=papp&format=pprof&from=${FROM}000&until=${NOW}000")
	if [ "$code" = 200 ]; then pass server/ingest_pprof; else
		fail server/ingest_pprof "status $code: $(head -c 200 "$T/body")"
	fi
else
	fail server/ingest_pprof "ember convert failed: $(head -c 200 "$T/conv.err")"
fi

# render QUERY -> prints "numTicks names..." or "ERR why"
render() {
	curl -s -m 5 -G -o "$T/render.json" -w '%{http_code}' "$BASE/pyroscope/render" \
		--data-urlencode "query=$1" --data-urlencode "from=$((FROM - 60))" \
		--data-urlencode "until=$((NOW + 60))" >"$T/render.code"
	python3 - "$T/render.json" "$(cat "$T/render.code")" <<'PY'
import json, sys
if sys.argv[2] != "200":
    print("ERR status " + sys.argv[2]); sys.exit(0)
try:
    fb = json.load(open(sys.argv[1]))["flamebearer"]
    print(fb["numTicks"], " ".join(fb["names"]))
except Exception as e:
    print("ERR " + repr(e))
PY
}

check_render() { # test-name query want-ticks want-name
	render_verdict "$1" "$3" "$(render "$2")" "$4"
}

CPU_Q='process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="app",env="test"}'
PPROF_Q='process_cpu:samples:count::{service_name="papp"}'
# folded cpu: 170 samples at 100 Hz = 170 * 10 ms in nanoseconds.
CPU_TICKS=$((170 * 10000000))
check_render server/render_folded "$CPU_Q" "$CPU_TICKS" render
check_render server/render_pprof "$PPROF_Q" 10 crunch

code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' "$BASE/pyroscope/label-values?label=__name__")
if [ "$code" = 200 ] && grep -q 'process_cpu:cpu:nanoseconds:cpu:nanoseconds' "$T/body"; then
	pass server/label_values
else
	fail server/label_values "status $code: $(head -c 200 "$T/body")"
fi

# --- bad input ------------------------------------------------------------------------------
is_json_error() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("error") else 1)' "$1" 2>/dev/null
}
printf 'this is not a protobuf \xff\xff\xff' >"$T/bad.pb"
code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' --data-binary @"$T/bad.pb" \
	"$BASE/ingest?name=papp&format=pprof")
if { [ "$code" = 400 ] || [ "$code" = 422 ]; } && is_json_error "$T/body"; then
	pass server/bad_pprof
else
	fail server/bad_pprof "status $code, body $(head -c 200 "$T/body")"
fi
code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' --data-binary @"$T/app.folded" \
	"$BASE/ingest?name=app.nosuchkind")
if [ "$code" = 400 ] && is_json_error "$T/body"; then pass server/bad_name; else
	fail server/bad_name "status $code, body $(head -c 200 "$T/body")"
fi
head -c $((17 * 1024 * 1024)) /dev/zero >"$T/big"
code=$(curl -s -m 10 -o "$T/body" -w '%{http_code}' --data-binary @"$T/big" \
	"$BASE/ingest?name=app.cpu")
if [ "$code" = 413 ] && is_json_error "$T/body"; then pass server/too_large; else
	fail server/too_large "status $code, body $(head -c 200 "$T/body")"
fi
if curl -s -m 2 "$BASE/ready" | grep -q ready; then pass server/alive_after_bad_input; else
	fail server/alive_after_bad_input "/ready does not answer"
fi

# --- metrics --------------------------------------------------------------------------------
curl -s -m 5 "$BASE/metrics" >"$T/metrics"
n=$(awk '$1 == "ember_ingest_requests_total" { print $2 }' "$T/metrics")
e=$(awk '$1 == "ember_ingest_errors_total" { print $2 }' "$T/metrics")
if [ "${n:-0}" -ge 4 ] && [ "${e:-0}" -ge 2 ]; then pass server/metrics; else
	fail server/metrics "ingest requests '${n:-}' errors '${e:-}': $(head -c 300 "$T/metrics")"
fi

# --- graceful shutdown and restart ----------------------------------------------------------
stop_server 100
if [ "$STOP_RC" = 0 ]; then pass server/sigterm_exit_0; else
	fail server/sigterm_exit_0 "exit status '$STOP_RC' (137: still running after 10 s)"
fi
cleanup_server

if start_server "$PORT" || start_server; then
	BASE="http://127.0.0.1:$PORT"
	check_render server/restart_keeps_folded "$CPU_Q" "$CPU_TICKS" render
	check_render server/restart_keeps_pprof "$PPROF_Q" 10 crunch
	kill -TERM "$PID"
	wait "$PID"
	PID=
else
	fail server/restart "the server did not become ready again: $(head -c 300 "$T/server.err")"
fi

echo "server_ingest: $n_fail failed"
[ "$n_fail" -eq 0 ]
