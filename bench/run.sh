#!/usr/bin/env bash
# bench/run.sh — `make bench`: Ember's profile merge against `go tool pprof` in the same run.
# Generates (once, cached in $BUILD/bench/data) 1000 realistic gzipped CPU profiles with
# bench/gen_profiles, then:
#   (a) `ember merge -o out.pb.gz` of the 1000 files vs `go tool pprof -proto files > out.pb.gz`,
#       BENCH_ROUNDS (default 5) alternated runs of each, two ways: free to use every core as
#       each tool does by itself (the ratio of wall times, how much sooner a user has the
#       result: go runs its GC and runtime on other threads, ember reads, gunzips and parses
#       the next input on a second thread while it merges the previous one), the target
#       (>= 20x); and pinned to one core (taskset -c 0; the ratio of CPU times, user + sys),
#       the work each does per input. Both ratios are of the best runs, with the medians'
#       next to them;
#   (b) bench_merge, pinned: in-process decode MB/s of uncompressed pprof (target >= 300 MB/s)
#       and decode+merge time;
# and checks that both merged outputs have the same totals per function (ember top --raw); then
# (c) bench_store, (c') bench_ch (ClickHouse next to the embedded store), (d) bench_server:
# server ingest over loopback against GET /ready (wrk), the agent and the UI benchmarks.
# Env: BUILD (build dir), BENCH_N (files, default 1000), BENCH_PIN (default "taskset -c 0"),
# BENCH_ROUNDS (default 5), BENCH_STORE_HOURS (default 6), BENCH_CH_HOURS (default 2),
# BENCH_SERVER_SECONDS (default 10), BENCH_ONLY=merge (stop after (b): the merge and decode
# figures only).
set -euo pipefail
BUILD=${BUILD:-build}
BUILD_ABS=$(cd "$BUILD" && pwd)
EMBER=$BUILD_ABS/ember
N=${BENCH_N:-1000}
DATA=$BUILD_ABS/bench/data/n$N
T=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

PIN=()
if [ -n "${BENCH_PIN-taskset -c 0}" ] && command -v taskset >/dev/null 2>&1; then
	read -r -a PIN <<<"${BENCH_PIN-taskset -c 0}"
fi

# timed OUT_VAR CMD...: runs CMD (stdout to $T/stdout) and sets OUT_VAR to "wall cpu" seconds,
# cpu = user + sys of CMD and its children (steadier than wall time on a shared machine).
timed() {
	local __var=$1 __t
	shift
	__t=$({
		TIMEFORMAT='%R %U %S'
		time "$@" >"$T/stdout" 2>"$T/stderr"
	} 2>&1) || {
		echo "bench: $* failed: $(head -c 300 "$T/stderr")" >&2
		exit 1
	}
	printf -v "$__var" '%s' "$(awk '{ printf "%.3f %.3f", $1, $2 + $3 }' <<<"$__t")"
}

# Regenerated only when the generator's source changes (not on every relink of the library).
GEN_SRC=$(cd "$(dirname "$0")" && pwd)/gen_profiles.c
if [ ! -f "$DATA/.done" ] || [ "$GEN_SRC" -nt "$DATA/.done" ]; then
	rm -rf "$DATA"
	mkdir -p "$(dirname "$DATA")"
	"$BUILD_ABS/bench/gen_profiles" "$DATA" "$N" 1
	touch "$DATA/.done"
fi
files=("$DATA"/profile-*.pb.gz)
echo "bench: ${#files[@]} profiles, $(du -sm "$DATA" | cut -f1) MB on disk; pinned: ${PIN[*]:-no}"

# Page the files in so neither tool pays for the first read.
cat "${files[@]}" >/dev/null

have_go=false
if command -v go >/dev/null 2>&1; then
	have_go=true
	export GOCACHE=$BUILD_ABS/tests/go/cache GOPATH=$BUILD_ABS/tests/go/path GO111MODULE=off
	export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GOTELEMETRY=off PPROF_TMPDIR=$T
fi

# (a) ROUNDS alternated runs of each tool, pinned and free (the shared VM's speed drifts by a
# third between minutes): each tool's best time compared, and the median next to it.
ROUNDS=${BENCH_ROUNDS:-5}
ember_cpus=()
go_cpus=()
ember_walls=()
go_walls=()
for ((r = 1; r <= ROUNDS; r++)); do
	timed ember_t "${PIN[@]}" "$EMBER" merge -o "$T/ember.pb.gz" "${files[@]}"
	read -r ember_wall ember_c <<<"$ember_t"
	ember_cpus+=("$ember_c")
	echo "ember merge (pinned), round $r:             ${ember_wall} s wall, ${ember_c} s CPU"
	# free: as each tool runs by itself
	timed ember_f "$EMBER" merge -o "$T/ember.pb.gz" "${files[@]}"
	read -r ember_fwall ember_fcpu <<<"$ember_f"
	ember_walls+=("$ember_fwall")
	echo "ember merge (all cores), round $r:          ${ember_fwall} s wall, ${ember_fcpu} s CPU"
	if $have_go; then
		timed go_t "${PIN[@]}" go tool pprof -symbolize=none -proto "${files[@]}"
		mv "$T/stdout" "$T/go.pb.gz"
		read -r go_wall go_c <<<"$go_t"
		go_cpus+=("$go_c")
		echo "go tool pprof -proto (pinned), round $r:    ${go_wall} s wall, ${go_c} s CPU"
		timed go_f go tool pprof -symbolize=none -proto "${files[@]}"
		read -r go_fwall go_fcpu <<<"$go_f"
		go_walls+=("$go_fwall")
		echo "go tool pprof -proto (all cores), round $r: ${go_fwall} s wall, ${go_fcpu} s CPU"
	fi
done

# best and median of a list of numbers
best() { printf '%s\n' "$@" | sort -g | head -1; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if $have_go; then
	awk -v ec="$(best "${ember_cpus[@]}")" -v gc="$(best "${go_cpus[@]}")" \
		-v ecm="$(median "${ember_cpus[@]}")" -v gcm="$(median "${go_cpus[@]}")" \
		-v ew="$(best "${ember_walls[@]}")" -v gw="$(best "${go_walls[@]}")" \
		-v ewm="$(median "${ember_walls[@]}")" -v gwm="$(median "${go_walls[@]}")" \
		-v rounds="$ROUNDS" -v n="${#files[@]}" -v pin="${PIN[*]:-not pinned}" -v nc="$(nproc)" 'BEGIN {
		printf "ember is %.1fx faster than go tool pprof by wall time (merge of %d files, " \
			"both free on %d cores, best of %d alternated runs each: %.3f s vs %.3f s; " \
			"medians %.3f s vs %.3f s: %.1fx; target >= 20x)\n", gw / ew, n, nc, rounds, ew,
			gw, ewm, gwm, gwm / ewm
		printf "ember is %.1fx faster than go tool pprof by CPU time (merge of %d files, " \
			"both pinned: %s, best of %d alternated runs each: %.3f s vs %.3f s; " \
			"medians %.3f s vs %.3f s: %.1fx)\n", gc / ec, n, pin, rounds, ec, gc, ecm, gcm,
			gcm / ecm
	}'
	# Same totals per function in both merged outputs.
	for ty in samples cpu; do
		"$EMBER" top --raw -n 0 -t "$ty" "$T/ember.pb.gz" >"$T/ember.top"
		"$EMBER" top --raw -n 0 -t "$ty" "$T/go.pb.gz" >"$T/go.top"
		if cmp -s "$T/ember.top" "$T/go.top"; then
			echo "check: $ty per-function flat/cum identical in both merged profiles ($(sed -nE 's/.* of ([0-9]+) total$/\1/p' "$T/ember.top") total)"
		else
			echo "check FAILED: $ty tables differ between ember's and go tool pprof's merge"
			diff "$T/go.top" "$T/ember.top" | head -10
			exit 1
		fi
	done
else
	echo "go tool pprof: skipped (go is not installed)"
fi

# (b) in-process decode and decode+merge
"${PIN[@]}" "$BUILD_ABS/bench/bench_merge" "${files[@]}"
echo "bench: decode target >= 300 MB/s (one core)"
if [ "${BENCH_ONLY-}" = merge ]; then
	exit 0
fi

# (c) the storage engine: BENCH_STORE_HOURS (default 6) of generated agent data; ingest rate,
# bytes per sample at rest next to the same profiles as gzipped pprof, query latencies.
"$BUILD_ABS/bench/bench_store" "${BENCH_STORE_HOURS:-6}"

# (c') the ClickHouse backend next to the embedded store on the same data (bench/bench_ch.sh
# starts its own clickhouse-server on loopback): ingest, bytes at rest, query latencies.
BUILD=$BUILD bash "$(dirname "$0")/bench_ch.sh" || echo "bench: bench_ch failed (see above)"

# (d) the server (bench/bench_server.c): its own `ember server` on a loopback port; 32 clients
# push Go-SDK-sized profiles (multipart /ingest) while a querier renders; requests/s, samples/s,
# p50/p99 latency, and GET /ready (the same lean HTTP/1.1 clients, and wrk) as the transport
# ceiling, in the same run; bench_server --curl uses libcurl clients instead.
# BENCH_SERVER_THREADS: the server's --threads (default 32, one per client, so that group
# commit can batch; 0 = the server's own default).
"$BUILD_ABS/bench/bench_server" --ember "$EMBER" --seconds "${BENCH_SERVER_SECONDS:-10}" \
	--threads "${BENCH_SERVER_THREADS:-32}"

# (d) the agent's overhead next to perf --call-graph dwarf (bench/bench_agent.sh; needs root).
BUILD=$BUILD bash "$(dirname "$0")/bench_agent.sh"

# (e) the web UI's flame graph on a 100k-node profile in headless Chromium (bench/ui_flame.mjs).
node "$(dirname "$0")/ui_flame.mjs" "$EMBER" || echo "bench: ui_flame failed (see above)"
