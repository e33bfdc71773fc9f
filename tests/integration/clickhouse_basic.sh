#!/usr/bin/env bash
# clickhouse_basic.sh — the ClickHouse store backend against a real clickhouse-server: starts
# one on loopback ports with a temporary data dir and a minimal config (ClickHouse 18.16
# syntax; no systemd), builds tests/integration/clickhouse/ch_tool.c against Ember's objects,
# lets it create the schema and append profiles through the store interface, then checks the
# schema version, row counts and totals with SQL. SKIP (with the reason) when clickhouse-server
# is missing or does not start here.
source "$(dirname "$0")/lib/common.bash"

CH_PID=
trap '[ -n "$CH_PID" ] && kill -KILL "$CH_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

if ! command -v clickhouse-server >/dev/null 2>&1; then
	skip clickhouse_basic "clickhouse-server is not installed (scripts/deps.sh installs it)"
	exit 0
fi

# --- build the driver ----------------------------------------------------------------------
objs=()
for d in base profile format store store/clickhouse; do
	for f in src/$d/*.c; do objs+=("$BUILD/${f%.c}.o"); done
done
if ! make -s CI="${CI:-}" "${objs[@]}" >"$T/make.out" 2>&1; then
	fail clickhouse_build "objects do not build: $(tail -3 "$T/make.out")"
	exit 1
fi
if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 -g ${SAN:-} -Isrc -o "$T/ch_tool" \
	"$INTEG_DIR/clickhouse/ch_tool.c" "${objs[@]}" \
	-lzstd -ldeflate -lz -lpcre2-8 -lcurl -lyaml -lm -lpthread >"$T/cc.out" 2>&1; then
	fail clickhouse_build "ch_tool does not link: $(head -5 "$T/cc.out")"
	exit 1
fi

# --- start clickhouse-server ----------------------------------------------------------------
CH=$T/ch
mkdir -p "$CH/data" "$CH/tmp" "$CH/user_files" "$CH/log"
start_ch() {
	local tries=0
	while [ $tries -lt 5 ]; do
		HTTP_PORT=$((30000 + ($$ + tries * 13) % 10000))
		TCP_PORT=$((HTTP_PORT + 1))
		cat >"$CH/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$CH/log/server.log</log><errorlog>$CH/log/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$HTTP_PORT</http_port>
  <tcp_port>$TCP_PORT</tcp_port>
  <path>$CH/data/</path>
  <tmp_path>$CH/tmp/</tmp_path>
  <user_files_path>$CH/user_files/</user_files_path>
  <users_config>$CH/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <max_concurrent_queries>20</max_concurrent_queries>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
</yandex>
XML
		cat >"$CH/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
XML
		(cd "$CH" && exec clickhouse-server --config-file="$CH/config.xml") >"$CH/stdout" 2>&1 &
		CH_PID=$!
		local i
		for i in $(seq 1 150); do
			if [ "$(curl -s -m 1 "http://127.0.0.1:$HTTP_PORT/ping" 2>/dev/null)" = "Ok." ]; then
				return 0
			fi
			kill -0 "$CH_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$CH_PID" 2>/dev/null
		wait "$CH_PID" 2>/dev/null
		CH_PID=
		tries=$((tries + 1))
	done
	return 1
}
if ! start_ch; then
	reason=$(tail -c 300 "$CH/log/error.log" "$CH/stdout" 2>/dev/null | tr '\n' ' ')
	skip clickhouse_basic "clickhouse-server did not start here: ${reason:-no output}"
	exit 0
fi
sql() { curl -sS -m 20 --data-binary "$1" "http://127.0.0.1:$HTTP_PORT/"; }
VERSION=$(sql "SELECT version()")
echo "# clickhouse-server $VERSION on 127.0.0.1:$HTTP_PORT"

URL="clickhouse://127.0.0.1:$HTTP_PORT/ember_it"
N=3

# --- bad URLs fail with a message ----------------------------------------------------------
if "$T/ch_tool" "clickhouse://127.0.0.1:$HTTP_PORT/bad-db;drop" 1 >"$T/bad.out" 2>&1 ||
	! grep -q "database name" "$T/bad.out"; then
	fail clickhouse_bad_url "bad db name accepted or no message: $(cat "$T/bad.out")"
else
	pass clickhouse_bad_url
fi
if "$T/ch_tool" "clickhouse://127.0.0.1:1/x" 1 >"$T/down.out" 2>&1 ||
	! grep -q "cannot connect" "$T/down.out"; then
	fail clickhouse_down "no clear error when ClickHouse is unreachable: $(cat "$T/down.out")"
else
	pass clickhouse_down
fi

# --- schema + appends ------------------------------------------------------------------------
if ! out=$("$T/ch_tool" "$URL" $N 2>"$T/tool.err"); then
	fail clickhouse_append "ch_tool failed: $(cat "$T/tool.err")"
	exit 1
fi
read -r _ n t0 t1 <<<"$out"
pass clickhouse_append

# Schema created once, version recorded once even when opened again.
"$T/ch_tool" "$URL" 0 >/dev/null 2>"$T/tool2.err" || fail clickhouse_reopen "$(cat "$T/tool2.err")"
got=$(sql "SELECT count(), max(version) FROM ember_it.ember_schema_version")
[ "$got" = "1	2" ] && pass clickhouse_schema_version ||
	fail clickhouse_schema_version "want '1<TAB>2', got '$got'"

tables=$(sql "SELECT name FROM system.tables WHERE database = 'ember_it' ORDER BY name" | tr '\n' ' ')
[ "$tables" = "ember_schema_version profiles samples series stacks symbols " ] &&
	pass clickhouse_tables || fail clickhouse_tables "got: $tables"

# Two series (one per sample type), N profiles each, 3 samples per profile except zero values.
got=$(sql "SELECT count(), uniqExact(fingerprint) FROM ember_it.profiles WHERE tenant = 't1'")
[ "$got" = "$((2 * N))	2" ] && pass clickhouse_profiles ||
	fail clickhouse_profiles "want '$((2 * N))<TAB>2', got '$got'"

got=$(sql "SELECT s.profile_type, sum(p.total) FROM ember_it.profiles AS p ANY INNER JOIN
	(SELECT DISTINCT fingerprint, profile_type FROM ember_it.series) AS s USING fingerprint
	GROUP BY s.profile_type ORDER BY s.profile_type" | tr '\t\n' ' |')
want="process_cpu:cpu:nanoseconds:cpu:nanoseconds $t1|process_cpu:samples:count:cpu:nanoseconds $t0|"
[ "$got" = "$want" ] && pass clickhouse_totals || fail clickhouse_totals "want '$want', got '$got'"

got=$(sql "SELECT sum(value), count() FROM ember_it.samples")
[ "$got" = "$((t0 + t1))	$((3 * N + 2 * N))" ] && pass clickhouse_samples ||
	fail clickhouse_samples "want '$((t0 + t1))<TAB>$((5 * N))', got '$got'"

got=$(sql "SELECT sum(value) FROM ember_it.samples WHERE span_id = 255")
[ "$got" = "$((5 * N + 500 * N + N * (N - 1) / 2))" ] && pass clickhouse_span ||
	fail clickhouse_span "got '$got'"

# Labels round-trip (quotes, sorted by name, __name__ and __profile_type__ added).
got=$(sql "SELECT DISTINCT label_names, label_values FROM ember_it.series
	WHERE profile_type LIKE '%:samples:%'")
want="['__name__','__profile_type__','env','service_name']	['process_cpu','process_cpu:samples:count:cpu:nanoseconds','it\\'s \"prod\"','svc-a']"
[ "$got" = "$want" ] && pass clickhouse_labels || fail clickhouse_labels "got '$got'"

# Stacks resolve to symbol names (leaf first), the tab in a name survives.
got=$(sql "SELECT st.stack_id, arrayMap(x -> tupleElement(x, 2), arraySort(groupArray((idx, sy.name)))) AS names FROM
	(SELECT DISTINCT stack_id, symbol_id, idx FROM ember_it.stacks
	 ARRAY JOIN symbols AS symbol_id, arrayEnumerate(symbols) AS idx) AS st
	ANY LEFT JOIN (SELECT DISTINCT symbol_id, name FROM ember_it.symbols) AS sy USING symbol_id
	GROUP BY st.stack_id ORDER BY length(names)" 2>&1 | cut -f2 | tr '\n' '|')
want="['main']|['work','main']|['it\\'s\\ttab','work','main']|"
[ "$got" = "$want" ] && pass clickhouse_stacks || fail clickhouse_stacks "want '$want', got '$got'"

[ "$n_fail" -eq 0 ]
