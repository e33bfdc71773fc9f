#!/usr/bin/env bash
# clickhouse_parity.sh — the ClickHouse backend gives the embedded store's answers: builds
# tests/integration/clickhouse/ch_parity.c against Ember's objects, starts a clickhouse-server
# on loopback ports with a temporary data dir, and lets ch_parity write the same generated
# profiles to both stores and compare every query type exactly (it prints the PASS/FAIL lines).
# SKIP (with the reason) when clickhouse-server is missing or does not start here.
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/clickhouse.bash"
trap 'ch_cleanup; rm -rf "$T"' EXIT

if reason=$(ch_missing_reason); then
	skip clickhouse_parity "$reason"
	exit 0
fi
objs=()
for d in base profile format store store/clickhouse; do
	for f in src/$d/*.c; do objs+=("$BUILD/${f%.c}.o"); done
done
if ! make -s CI="${CI:-}" "${objs[@]}" >"$T/make.out" 2>&1; then
	fail clickhouse_parity/build "objects do not build: $(tail -3 "$T/make.out")"
	exit 1
fi
if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 -g ${SAN:-} -Isrc -o "$T/ch_parity" \
	"$INTEG_DIR/clickhouse/ch_parity.c" "${objs[@]}" \
	-lzstd -ldeflate -lz -lpcre2-8 -lcurl -lyaml -lm -lpthread >"$T/cc.out" 2>&1; then
	fail clickhouse_parity/build "ch_parity does not link: $(head -5 "$T/cc.out")"
	exit 1
fi
ch_prepare 1 && ch_config 1
if ! ch_launch 1; then
	skip clickhouse_parity "clickhouse-server did not start here: $(ch_start_reason 1)"
	exit 0
fi
"$T/ch_parity" "clickhouse://127.0.0.1:${CH_HTTP[1]}/ember_parity" "$T/local" 2>"$T/err"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
	fail clickhouse_parity "ch_parity exited $rc: $(head -c 300 "$T/err")"
elif [ -s "$T/err" ]; then
	echo "    $(head -c 300 "$T/err")"
fi
