#!/usr/bin/env bash
# clickhouse_kill.sh — `ember server --storage clickhouse://...` while ClickHouse dies: a stream
# of profiles (one series each, seq=i, total (i+1) x 10 ms at the default 100 Hz) is ingested through the server; after 30 of
# them are acknowledged clickhouse-server gets SIGKILL, the ingest answers must be 503 with
# Retry-After (never 200) and /ready 503 while it is down; it is restarted on the same data and
# the stream goes on. Then every profile acknowledged with 200 must be in ClickHouse exactly
# once with its total (profiles and samples), and the server recovered on its own.
# SKIP (with the reason) when clickhouse-server is missing or does not start here.
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/clickhouse.bash"

if reason=$(ch_missing_reason); then
	skip clickhouse_kill "$reason"
	exit 0
fi
if [ ! -x "$EMBER" ]; then
	fail clickhouse_kill "no ember binary at $EMBER"
	exit 1
fi
source "$(dirname "$0")/lib/server.bash"
ING_PID=
trap 'touch "$T/stop"; [ -n "$ING_PID" ] && wait "$ING_PID" 2>/dev/null; cleanup_server; ch_cleanup; rm -rf "$T"' EXIT

ch_prepare 1 && ch_config 1
if ! ch_launch 1; then
	skip clickhouse_kill "clickhouse-server did not start here: $(ch_start_reason 1)"
	exit 0
fi
DB=ember_kill
start_server_or_exit clickhouse_kill/start \
	--storage "clickhouse://127.0.0.1:${CH_HTTP[1]}/$DB?flush_ms=20&retry_ms=1000&timeout_ms=5000"
pass clickhouse_kill/start

# The ingest stream: one line "i status retry-after" per request in $T/codes.
NOW=$(date +%s)
ingest_stream() {
	local i=0 code
	while [ ! -e "$T/stop" ] && [ $i -lt 2000 ]; do
		i=$((i + 1))
		printf 'main;a %d\nmain;b 1\n' "$i" >"$T/body.$i"
		code=$(curl -s -m 10 -o /dev/null -D "$T/hdr" -w '%{http_code}' --data-binary @"$T/body.$i" \
			"$BASE/ingest?name=app.cpu%7Bseq%3D$i%7D&from=$((NOW - 10))&until=$NOW")
		echo "$i $code $(tr -d '\r' <"$T/hdr" | awk -F': ' 'tolower($1)=="retry-after"{print $2}')" >>"$T/codes"
		rm -f "$T/body.$i"
	done
}
: >"$T/codes"
ingest_stream &
ING_PID=$!

# wait_for SECONDS CONDITION...: polls the condition every 0.1 s.
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
acked() { awk '$2 == 200' "$T/codes" | wc -l; }
at_least_acked() { [ "$(acked)" -ge "$1" ]; }
n503() { awk '$2 == 503' "$T/codes" | wc -l; }
ready_is() { [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$BASE/ready")" = "$1" ]; }

if ! wait_for 20 at_least_acked 30; then
	fail clickhouse_kill/ingest "fewer than 30 profiles acknowledged in 20 s: $(tail -3 "$T/codes")"
	exit 1
fi
ch_kill 1
before_kill=$(acked)
pass clickhouse_kill/ingest_before_kill

if wait_for 15 eval '[ "$(n503)" -ge 3 ]'; then
	pass clickhouse_kill/503_while_down
else
	fail clickhouse_kill/503_while_down "no 503s while ClickHouse is down: $(tail -3 "$T/codes")"
fi
if wait_for 5 ready_is 503; then pass clickhouse_kill/ready_503; else
	fail clickhouse_kill/ready_503 "/ready does not say 503 while ClickHouse is down"
fi
down_last=$(tail -1 "$T/codes" | cut -d' ' -f1)

if ! ch_launch 1; then
	fail clickhouse_kill/restart "clickhouse-server did not restart: $(ch_start_reason 1)"
	exit 1
fi
if wait_for 10 ready_is 200; then pass clickhouse_kill/ready_again; else
	fail clickhouse_kill/ready_again "/ready is not 200 again 10 s after the restart"
fi
if wait_for 20 at_least_acked $((before_kill + 30)); then
	pass clickhouse_kill/recovered
else
	fail clickhouse_kill/recovered "ingest did not recover: $(tail -3 "$T/codes")"
fi
touch "$T/stop"
wait "$ING_PID"
ING_PID=

# While down: only 503 (with Retry-After); overall only 200 and 503.
bad=$(awk '$2 != 200 && $2 != 503' "$T/codes" | head -3 | tr '\n' ';')
[ -z "$bad" ] && pass clickhouse_kill/only_200_503 || fail clickhouse_kill/only_200_503 "$bad"
noretry=$(awk '$2 == 503 && $3 == ""' "$T/codes" | head -3 | tr '\n' ';')
[ -z "$noretry" ] && pass clickhouse_kill/retry_after ||
	fail clickhouse_kill/retry_after "503 without Retry-After: $noretry"
echo "# $(wc -l <"$T/codes") requests: $(acked) acknowledged, $(n503) 503 (last down-time request $down_last)"

# Every acknowledged profile is there exactly once with its total, in profiles and samples.
got=$(chsql 1 "SELECT toUInt64(seq), count(), sum(total) FROM $DB.profiles AS p ANY INNER JOIN
	(SELECT DISTINCT fingerprint, label_values[indexOf(label_names, 'seq')] AS seq
	 FROM $DB.series) AS s USING fingerprint GROUP BY seq ORDER BY toUInt64(seq)")
printf '%s\n' "$got" >"$T/profiles.tsv"
got=$(chsql 1 "SELECT toUInt64(seq), count(), sum(value) FROM $DB.samples AS p ANY INNER JOIN
	(SELECT DISTINCT fingerprint, label_values[indexOf(label_names, 'seq')] AS seq
	 FROM $DB.series) AS s USING fingerprint GROUP BY seq ORDER BY toUInt64(seq)")
printf '%s\n' "$got" >"$T/samples.tsv"
check_acked() { # NAME FILE ROWS-PER-PROFILE
	local missing
	missing=$(awk -v rows="$3" 'NR == FNR { n[$1] = $2; v[$1] = $3; next }
		$2 == 200 && (n[$1] != rows || v[$1] != ($1 + 1) * 10000000) {
			printf "seq %s: %s rows, total %s; ", $1, n[$1] + 0, v[$1] + 0 }' \
		"$2" "$T/codes" | head -c 400)
	[ -z "$missing" ] && pass "$1" || fail "$1" "$missing"
}
check_acked clickhouse_kill/acked_profiles "$T/profiles.tsv" 1
check_acked clickhouse_kill/acked_samples "$T/samples.tsv" 2
# Nothing duplicated, acknowledged or not (a retried batch is never inserted twice).
dups=$(awk '$2 > 1' "$T/profiles.tsv" | head -3 | tr '\n' ';')
[ -z "$dups" ] && pass clickhouse_kill/no_duplicates || fail clickhouse_kill/no_duplicates "$dups"
kill -0 "$PID" 2>/dev/null && pass clickhouse_kill/server_alive ||
	fail clickhouse_kill/server_alive "ember server died: $(tail -c 300 "$T/server.err")"

[ "$n_fail" -eq 0 ]
