#!/usr/bin/env bash
# tests/integration/store_bench_smoke.sh — runs the storage benchmark on a few minutes of
# generated agent data (ingest through the WAL, hourly-cut path, block write, reopen, queries)
# and checks it completes and reports the figures; the full run is `make bench`.
# Prints PASS/FAIL/SKIP lines like every integration script.
set -u
: "${BUILD:=build}"
B="$BUILD/bench/bench_store"
name=store/bench_smoke
if [ ! -x "$B" ]; then
	echo "SKIP $name: $B not built (make $B)"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/ember-store-smoke.XXXXXX")
trap 'rm -rf "$T"' EXIT
if ! BENCH_STORE_DIR="$T" "$B" 0.05 >"$T/out" 2>&1; then
	echo "FAIL $name: bench_store exited with an error: $(tail -n 3 "$T/out" | tr '\n' ' ')"
	exit 0
fi
missing=
for want in "ingest:" "head:" "at rest:" "blocks flame graph"; do
	grep -q "$want" "$T/out" || missing="$missing '$want'"
done
if [ -n "$missing" ]; then
	echo "FAIL $name: output lacks$missing"
elif [ -n "$(ls -A "$T")" ] && [ "$(ls -A "$T")" != out ]; then
	echo "FAIL $name: left files behind: $(ls "$T" | tr '\n' ' ')"
else
	echo "PASS $name"
fi
