#!/usr/bin/env bash
# server_shutdown.sh — graceful shutdown: a slow ingest (a ~74 KB body uploaded at 20 KB/s) is
# in flight when the server gets SIGTERM; the server stops accepting new connections, finishes
# that request (200), exits with status 0, and a restart on the same data dir sees the profile
# (the WAL was closed cleanly). Also checks that /metrics carries the request latency
# histograms and the in-flight gauge.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_shutdown "$tool is not installed"
		exit 0
	fi
done
source "$(dirname "$0")/lib/server.bash"
source "$(dirname "$0")/lib/server_ops.bash"

python3 - "$T/big.folded" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(4000):
        f.write("main;f%d;g%d %d\n" % (i, i % 7, i + 1))
PY
want_total=$(awk '{ s += $NF } END { print s }' "$T/big.folded")
if ! start_server_with; then
	fail server_shutdown/start "the server did not start: $(head -c 300 "$T/server.err")"
	exit 1
fi
pass server_shutdown/start
NOW=$(date +%s)
FROM=$((NOW - 10))
curl -s -m 30 --limit-rate 20k -o "$T/slow.body" -w '%{http_code}' --data-binary @"$T/big.folded" \
	"$BASE/ingest?name=slowapp&from=$FROM&until=$NOW" >"$T/slow.code" &
CURL=$!
for i in $(seq 1 30); do # until the upload shows (3 s at most)
	curl -s -m 5 "$BASE/metrics" >"$T/metrics"
	inflight=$(awk '$1 == "ember_http_requests_in_flight" { print $2 }' "$T/metrics")
	[ "${inflight:-0}" -ge 2 ] && break
	sleep 0.1
done
if [ "${inflight:-0}" -ge 2 ]; then pass server_shutdown/in_flight_gauge; else
	fail server_shutdown/in_flight_gauge "in flight '$inflight' while an upload runs"
fi
kill -TERM "$PID"
sleep 0.3
if curl -s -m 2 "$BASE/ready" >/dev/null 2>&1; then
	fail server_shutdown/stops_accepting "a new connection was answered after SIGTERM"
else
	pass server_shutdown/stops_accepting
fi
if kill -0 "$PID" 2>/dev/null; then pass server_shutdown/waits_for_request; else
	fail server_shutdown/waits_for_request "the server exited while the upload was running"
fi
wait "$CURL"
expect server_shutdown/slow_request_finished 200 "$(cat "$T/slow.code")" \
	"$(head -c 200 "$T/slow.body")"
stop_server
expect server_shutdown/exit_0 0 "$STOP_RC"
if grep -q 'signal 15' "$T/server.err"; then pass server_shutdown/logged; else
	fail server_shutdown/logged "no shutdown line in stderr"
fi

if ! start_server_with; then
	fail server_shutdown/restart "the server did not restart: $(head -c 300 "$T/server.err")"
	exit 1
fi
code=$(http_code -G "$BASE/pyroscope/render" \
	--data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="slowapp"}' \
	--data-urlencode "from=$((FROM - 60))" --data-urlencode "until=$((NOW + 60))")
names=$(python3 -c 'import json,sys
try:
    fb = json.load(open(sys.argv[1]))["flamebearer"]
    print(len([n for n in fb["names"] if n.startswith("f")]), fb["numTicks"] > 0)
except Exception as e: print("ERR", e)' "$T/body")
if [ "$code" = 200 ] && [ "$names" = "4000 True" ]; then pass server_shutdown/restart_sees_data; else
	fail server_shutdown/restart_sees_data "status $code: $names (want 4000 functions; total $want_total samples sent)"
fi
curl -s -m 5 "$BASE/metrics" >"$T/metrics"
for m in 'ember_request_duration_seconds_bucket{scope="query",le="+Inf"}' \
	'ember_request_duration_seconds_count{scope="ingest"}' ember_http_unauthorized_total \
	ember_http_forbidden_total ember_http_rate_limited_total ember_http_requests_in_flight \
	'ember_tenant_series{tenant="anonymous"}'; do
	if awk -v m="$m" '$1 == m { found = 1 } END { exit !found }' "$T/metrics"; then
		pass "server_shutdown/metric $m"
	else
		fail "server_shutdown/metric $m" "missing from /metrics"
	fi
done
q=$(awk '$1 == "ember_request_duration_seconds_count{scope=\"query\"}" { print $2 }' "$T/metrics")
if [ "${q:-0}" -ge 1 ]; then pass server_shutdown/query_latency_counted; else
	fail server_shutdown/query_latency_counted "query count '$q'"
fi
stop_server
expect server_shutdown/exit_0_again 0 "$STOP_RC"
exit $((n_fail > 0))
