#!/usr/bin/env bash
# bench/bench_ch.sh — the ClickHouse backend next to the embedded store (bench/bench_ch.c):
# starts a clickhouse-server on loopback ports with a temporary data dir (the integration
# tests' tests/integration/lib/clickhouse.bash), runs bench_ch against it and the embedded
# store on the same generated data, stops the server. Env: BUILD, BENCH_CH_HOURS (default 2),
# BENCH_CH_THREADS (default 256: like many agents pushing at once, which is what fills the backend's batches). Prints a skip line when clickhouse-server is missing.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/integration/lib/common.bash"
source "$ROOT/tests/integration/lib/clickhouse.bash"
trap 'ch_cleanup; rm -rf "$T"' EXIT

if reason=$(ch_missing_reason); then
	echo "bench_ch: skipped: $reason"
	exit 0
fi
ch_prepare 1 && ch_config 1
if ! ch_launch 1; then
	echo "bench_ch: skipped: clickhouse-server did not start: $(ch_start_reason 1)"
	exit 0
fi
echo "bench_ch: clickhouse-server $(chsql 1 'SELECT version()') on 127.0.0.1:${CH_HTTP[1]}"
"$BUILD_ABS/bench/bench_ch" --url "clickhouse://127.0.0.1:${CH_HTTP[1]}/ember_bench${BENCH_CH_PARAMS:-}" \
	--hours "${BENCH_CH_HOURS:-2}" --threads "${BENCH_CH_THREADS:-256}" \
	--ch-pid "${CH_PIDS[1]}" --dir "$T"
