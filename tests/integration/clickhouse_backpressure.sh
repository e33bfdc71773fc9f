#!/usr/bin/env bash
# clickhouse_backpressure.sh — the ClickHouse writer's memory bound seen from the ingest API:
# `ember server --storage clickhouse://...?max_pending=6000&flush_ms=1500` (a tiny queue, slow
# flushes) gets 30 concurrent ingests: the ones that do not fit answer 429 with Retry-After
# (never 500), the others 200 once their batch is written, and each 200 is in ClickHouse. After
# the burst, an ingest gets 200 again; one profile larger than the whole bound gets 422.
# Before that, the server's open migrates a schema-version-1 database (batch column added, old
# rows kept). SKIP (with the reason) when clickhouse-server is missing or does not start here.
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/clickhouse.bash"

if reason=$(ch_missing_reason); then
	skip clickhouse_backpressure "$reason"
	exit 0
fi
if [ ! -x "$EMBER" ]; then
	fail clickhouse_backpressure "no ember binary at $EMBER"
	exit 1
fi
source "$(dirname "$0")/lib/server.bash"
trap 'cleanup_server; ch_cleanup; rm -rf "$T"' EXIT

ch_prepare 1 && ch_config 1
if ! ch_launch 1; then
	skip clickhouse_backpressure "clickhouse-server did not start here: $(ch_start_reason 1)"
	exit 0
fi
DB=ember_bp
# The database starts at schema version 1 (no batch column), with one row: the server's open
# migrates it to version 2 and keeps the row.
chsql 1 "CREATE DATABASE $DB"
chsql 1 "CREATE TABLE $DB.ember_schema_version (version UInt32, applied_at DateTime,
	server_version String) ENGINE = MergeTree() ORDER BY version"
chsql 1 "INSERT INTO $DB.ember_schema_version VALUES (1, now(), '18.16.1')"
chsql 1 "CREATE TABLE $DB.profiles (tenant String, fingerprint UInt64, time_ns Int64,
	duration_ns Int64, period Int64, total Int64, n_samples UInt32) ENGINE = MergeTree()
	PARTITION BY toYYYYMMDD(toDateTime(intDiv(time_ns, 1000000000)))
	ORDER BY (tenant, fingerprint, time_ns)"
chsql 1 "INSERT INTO $DB.profiles VALUES ('v1', 1, $(($(date +%s) * 1000000000)), 1, 1, 7, 1)"
start_server_or_exit clickhouse_backpressure/start \
	--storage "clickhouse://127.0.0.1:${CH_HTTP[1]}/$DB?max_pending=6000&flush_ms=1500"

got=$(chsql 1 "SELECT max(version), count() FROM $DB.ember_schema_version")
cols=$(chsql 1 "SELECT name FROM system.columns WHERE database = '$DB' AND table = 'samples'
	OR database = '$DB' AND table = 'profiles' AND name = 'batch' ORDER BY table, name" | tr '\n' ' ')
v1=$(chsql 1 "SELECT total, batch FROM $DB.profiles WHERE tenant = 'v1'")
if [ "$got" = "2	2" ] && [ "$v1" = "7	0" ] &&
	[ "$cols" = "batch batch fingerprint span_id stack_id tenant time_ns value " ]; then
	pass clickhouse_backpressure/migrate_v1
else
	fail clickhouse_backpressure/migrate_v1 "versions '$got', v1 row '$v1', columns '$cols'"
fi

NOW=$(date +%s)
one() { # i: one ingest; prints "i status retry-after"
	local i=$1 code
	printf 'main;work;f%d 5\nmain;idle 1\n' "$i" >"$T/b.$i"
	code=$(curl -s -m 20 -o "$T/o.$i" -D "$T/h.$i" -w '%{http_code}' --data-binary @"$T/b.$i" \
		"$BASE/ingest?name=bp.cpu%7Bseq%3D$i%7D&from=$((NOW - 10))&until=$NOW")
	echo "$i $code $(tr -d '\r' <"$T/h.$i" | awk -F': ' 'tolower($1)=="retry-after"{print $2}')"
}
export -f one
export T BASE NOW
seq 1 30 | xargs -P 30 -I{} bash -c 'one {}' >"$T/codes"

n200=$(awk '$2 == 200' "$T/codes" | wc -l)
n429=$(awk '$2 == 429' "$T/codes" | wc -l)
echo "# 30 concurrent ingests: $n200 x 200, $n429 x 429"
other=$(awk '$2 != 200 && $2 != 429' "$T/codes" | head -3 | tr '\n' ';')
[ -z "$other" ] && pass clickhouse_backpressure/only_200_429 ||
	fail clickhouse_backpressure/only_200_429 "$other"
[ "$n429" -ge 1 ] && pass clickhouse_backpressure/429 ||
	fail clickhouse_backpressure/429 "no 429 with max_pending=6000: $(tr '\n' ';' <"$T/codes")"
[ "$n200" -ge 1 ] && pass clickhouse_backpressure/some_200 ||
	fail clickhouse_backpressure/some_200 "no ingest fit in the queue"
noretry=$(awk '$2 == 429 && $3 != 1' "$T/codes" | head -3 | tr '\n' ';')
[ -z "$noretry" ] && pass clickhouse_backpressure/retry_after ||
	fail clickhouse_backpressure/retry_after "429 without Retry-After: 1: $noretry"
i429=$(awk '$2 == 429 {print $1; exit}' "$T/codes")
if [ -n "$i429" ] && grep -q "max_pending" "$T/o.$i429"; then
	pass clickhouse_backpressure/message
else
	fail clickhouse_backpressure/message "429 body: $(head -c 200 "$T/o.${i429:-0}" 2>/dev/null)"
fi

# Each acknowledged profile is in ClickHouse (with its total), the refused ones are not.
got=$(chsql 1 "SELECT seq, sum(total) FROM $DB.profiles AS p ANY INNER JOIN
	(SELECT DISTINCT fingerprint, label_values[indexOf(label_names, 'seq')] AS seq
	 FROM $DB.series) AS s USING fingerprint GROUP BY seq")
printf '%s\n' "$got" >"$T/stored"
bad=$(awk 'NR == FNR { v[$1] = $2; next }
	$2 == 200 && v[$1] != 60000000 { printf "acked %s: %s; ", $1, v[$1] + 0 }
	$2 == 429 && ($1 in v) { printf "refused %s stored; ", $1 }' "$T/stored" "$T/codes")
[ -z "$bad" ] && pass clickhouse_backpressure/stored || fail clickhouse_backpressure/stored "$bad"

# The queue drains: a single ingest is accepted again.
line=$(one 100)
[ "$(cut -d' ' -f2 <<<"$line")" = 200 ] && pass clickhouse_backpressure/drained ||
	fail clickhouse_backpressure/drained "after the burst: $line $(head -c 200 "$T/o.100")"

# A profile larger than the whole bound can never fit: 422, not 429 (retrying cannot help).
awk 'BEGIN { for (i = 0; i < 400; i++) printf "main;function_with_a_long_name_%d 1\n", i }' >"$T/big"
code=$(curl -s -m 20 -o "$T/big.out" -w '%{http_code}' --data-binary @"$T/big" \
	"$BASE/ingest?name=bp.cpu%7Bseq%3Dbig%7D&from=$((NOW - 10))&until=$NOW")
[ "$code" = 422 ] && pass clickhouse_backpressure/too_big_422 ||
	fail clickhouse_backpressure/too_big_422 "status $code: $(head -c 200 "$T/big.out")"

[ "$n_fail" -eq 0 ]
