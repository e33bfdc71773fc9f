#!/usr/bin/env bash
# clickhouse_cluster.sh — cluster mode of the ClickHouse backend: two clickhouse-server
# processes form a 2-shard cluster (remote_servers in both configs, no ZooKeeper), two
# `ember server` processes use it (--storage clickhouse://n1,n2/db?cluster=ember2, each listing
# a different node first). Profiles are ingested through the first server; then: the schema
# (<t>_local + Distributed <t>, a version table) exists on both nodes, the rows are spread over
# both shards (each node's *_local count > 0, their sum exact), the totals read through the
# second node's Distributed tables are exact, a profile older than the second server's
# retention_days is dropped (partition drop on 18.16), and /pyroscope/render through the second server
# gives the exact total (once the backend's select-merge exists; SKIP before).
# SKIP (with the reason) when clickhouse-server is missing or does not start here.
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/clickhouse.bash"

if reason=$(ch_missing_reason); then
	skip clickhouse_cluster "$reason"
	exit 0
fi
if [ ! -x "$EMBER" ]; then
	fail clickhouse_cluster "no ember binary at $EMBER"
	exit 1
fi
source "$(dirname "$0")/lib/server.bash"
PID_A=
trap '[ -n "$PID_A" ] && kill -KILL "$PID_A" 2>/dev/null; cleanup_server; ch_cleanup; rm -rf "$T"' EXIT

ch_prepare 1 && ch_prepare 2
ch_config 1 ember2 1 2 && ch_config 2 ember2 1 2
for n in 1 2; do
	if ! ch_launch "$n"; then
		skip clickhouse_cluster "clickhouse-server $n did not start here: $(ch_start_reason "$n")"
		exit 0
	fi
done
got=$(chsql 1 "SELECT count() FROM system.clusters WHERE cluster = 'ember2'")
if [ "$got" != 2 ]; then
	fail clickhouse_cluster/config "system.clusters has $got shards of ember2, want 2"
	exit 1
fi

DB=ember_cl
H1=127.0.0.1:${CH_HTTP[1]}
H2=127.0.0.1:${CH_HTTP[2]}
DATA=$T/data_a start_server_or_exit clickhouse_cluster/start_a \
	--storage "clickhouse://$H1,$H2/$DB?cluster=ember2&flush_ms=20"
PID_A=$PID BASE_A=$BASE
PID=
pass clickhouse_cluster/start_a

# --- schema on both nodes ----------------------------------------------------------------------
want="ember_schema_version profiles profiles_local samples samples_local series series_local stacks stacks_local symbols symbols_local "
for n in 1 2; do
	tables=$(chsql "$n" "SELECT name FROM system.tables WHERE database = '$DB' ORDER BY name" | tr '\n' ' ')
	[ "$tables" = "$want" ] && pass "clickhouse_cluster/tables_node$n" ||
		fail "clickhouse_cluster/tables_node$n" "got: $tables"
	engine=$(chsql "$n" "SELECT engine FROM system.tables WHERE database = '$DB' AND name = 'samples'")
	[ "$engine" = Distributed ] && pass "clickhouse_cluster/distributed_node$n" ||
		fail "clickhouse_cluster/distributed_node$n" "samples engine: $engine"
	v=$(chsql "$n" "SELECT max(version) FROM $DB.ember_schema_version")
	[ "$v" = 2 ] && pass "clickhouse_cluster/version_node$n" ||
		fail "clickhouse_cluster/version_node$n" "schema version '$v'"
done

# --- ingest through A --------------------------------------------------------------------------
NOW=$(date +%s)
N=40
want_total=0
acked=0
for i in $(seq 1 $N); do
	printf 'main;work;f%d %d\nmain;idle 1\n' "$((i % 7))" "$i" >"$T/b"
	code=$(curl -s -m 10 -o "$T/o" -w '%{http_code}' --data-binary @"$T/b" \
		"$BASE_A/ingest?name=cl.cpu%7Bseq%3D$i%7D&from=$((NOW - 10))&until=$NOW")
	if [ "$code" = 200 ]; then
		acked=$((acked + 1))
		want_total=$((want_total + (i + 1) * 10000000))
	else
		echo "# ingest $i: $code $(head -c 200 "$T/o")"
	fi
done
[ "$acked" = $N ] && pass clickhouse_cluster/ingest ||
	fail clickhouse_cluster/ingest "$acked of $N acknowledged"

# One profile 10 days old (another service), then server B starts with retention_days=5: its
# writer drops the old days' partitions on both nodes (18.16 has no TTL) within seconds.
printf 'main;old 3\n' >"$T/b"
code=$(curl -s -m 10 -o "$T/o" -w '%{http_code}' --data-binary @"$T/b" \
	"$BASE_A/ingest?name=old.cpu&from=$((NOW - 864000))&until=$((NOW - 863990))")
old=$(chsql 2 "SELECT count() FROM $DB.profiles WHERE time_ns < $(((NOW - 86400 * 5) * 1000000000))")
[ "$code" = 200 ] && [ "$old" = 1 ] && pass clickhouse_cluster/old_ingested ||
	fail clickhouse_cluster/old_ingested "status $code, $old old profiles: $(head -c 200 "$T/o")"
# B on a port of its own (the default pick would find A's port taken and A's /ready answering).
PORT_B=$((PORT + 1))
while ! ch_port_free "$PORT_B"; do PORT_B=$((PORT_B + 1)); done
DATA=$T/data_b start_server_or_exit clickhouse_cluster/start_b --port "$PORT_B" \
	--storage "clickhouse://$H2,$H1/$DB?cluster=ember2&flush_ms=20&retention_days=5"
BASE_B=$BASE
pass clickhouse_cluster/start_b
for i in $(seq 1 50); do
	old=$(chsql 2 "SELECT count() FROM $DB.profiles WHERE time_ns < $(((NOW - 86400 * 5) * 1000000000))")
	[ "$old" = 0 ] && break
	sleep 0.2
done
[ "$old" = 0 ] && pass clickhouse_cluster/retention_drop ||
	fail clickhouse_cluster/retention_drop "$old profiles older than 5 days after 10 s: $(grep -v "level=info msg=.http" "$T/server.err" | head -c 600)"

# --- rows spread over both shards, totals exact --------------------------------------------------
sum_local=0
for n in 1 2; do
	c=$(chsql "$n" "SELECT count() FROM $DB.profiles_local")
	s=$(chsql "$n" "SELECT count() FROM $DB.samples_local")
	echo "# node $n: $c profiles, $s samples"
	[ "${c:-0}" -gt 0 ] && [ "${s:-0}" -gt 0 ] && pass "clickhouse_cluster/shard$n" ||
		fail "clickhouse_cluster/shard$n" "profiles_local $c, samples_local $s"
	sum_local=$((sum_local + ${c:-0}))
done
[ "$sum_local" = $N ] && pass clickhouse_cluster/local_sum ||
	fail clickhouse_cluster/local_sum "profiles_local rows sum to $sum_local, want $N"
for n in 1 2; do
	got=$(chsql "$n" "SELECT count(), sum(total) FROM $DB.profiles")
	[ "$got" = "$N	$want_total" ] && pass "clickhouse_cluster/totals_via_node$n" ||
		fail "clickhouse_cluster/totals_via_node$n" "want '$N<TAB>$want_total', got '$got'"
done
# The setting Ember's connections carry in cluster mode (a JOIN of two Distributed tables).
got=$(curl -sS -m 20 --data-binary "SELECT sum(value) FROM $DB.samples AS x ANY INNER JOIN
	(SELECT DISTINCT fingerprint FROM $DB.series WHERE label_values[indexOf(label_names, 'service_name')] = 'cl') AS s USING fingerprint" \
	"http://$H2/?distributed_product_mode=global")
[ "$got" = "$want_total" ] && pass clickhouse_cluster/samples_join ||
	fail clickhouse_cluster/samples_join "want $want_total, got '$got'"

# --- read through B: the render API ---------------------------------------------------------------
out=$(python3 "$INTEG_DIR/../tools/render_check.py" "$BASE_B" 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="cl"}' $((NOW - 3600)) $((NOW + 60)))
render_verdict clickhouse_cluster/render_b "$want_total" "$out" main work idle

[ "$n_fail" -eq 0 ]
