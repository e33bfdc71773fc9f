#!/usr/bin/env bash
# bench/bench_agent.sh — the agent's overhead next to perf's DWARF mode, in one run (`make bench`
# runs it through bench/run.sh). A CPU-bound workload (a fixed amount of work on every CPU:
# 24-deep recursion into a hash loop, built -O2 -fomit-frame-pointer) runs
#   bare, under `ember agent -F 19` and `-F 99` (--output, 10 s interval), under
#   `perf record -a --call-graph dwarf -F 19` and `-F 99`, and bare again;
# and the script prints for each: the workload's wall and CPU time and its slowdown (by CPU
# time, user + system of the workload itself: steadier than wall time on a shared machine, and
# it includes the sampling work done in the workload's context) against the mean of the two
# bare runs; the profiler's CPU time during the workload as % of one core (utime + stime of
# /proc/PID/stat, sampled just before and after the workload, so start-up — for the agent,
# up to and including its first flush — is excluded and reported apart); its peak RSS (VmHWM); the share of complete stacks (the agent's from its log
# line, perf's from `perf script`: the workload's samples whose outermost frame is _start,
# clone3 or start_thread). perf record only stores raw 8 KiB stack copies: its stacks cost `perf report` later,
# so perf's CPU is given as record + report, and that total is compared with the agent's at
# the same frequency. Needs root (prints SKIP otherwise). Env: BUILD, BENCH_AGENT_SECONDS (bare
# workload length, default 30: the CPU counters tick every 10 ms).
set -euo pipefail
BUILD=${BUILD:-build}
BUILD_ABS=$(cd "$BUILD" && pwd)
EMBER=$BUILD_ABS/ember
SECS=${BENCH_AGENT_SECONDS:-30}
NCPU=$(nproc)
TCK=$(getconf CLK_TCK)

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP bench_agent: not root (the eBPF sampler and perf -a need root)"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-agent.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/work.c" <<'EOF'
/* A fixed amount of CPU work per thread: deep recursion into a hash loop. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
static volatile uint64_t sink;
static long iters;
__attribute__((noinline)) static uint64_t leaf(uint64_t x)
{
	for (int i = 0; i < 2000; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}
__attribute__((noinline)) static uint64_t rec(int d, uint64_t x)
{
	if (d == 0)
		return leaf(x);
	uint64_t r = rec(d - 1, x + 1);
	return r ^ (uint64_t)d;
}
static void *run(void *a)
{
	uint64_t s = 0;
	for (long i = 0; i < iters; i++)
		s += rec(24, (uint64_t)i);
	sink += s;
	return a;
}
int main(int argc, char **argv)
{
	iters = argc > 1 ? atol(argv[1]) : 1000;
	int n = argc > 2 ? atoi(argv[2]) : 1;
	pthread_t th[256];
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n && i < 256; i++)
		pthread_create(&th[i], NULL, run, NULL);
	for (int i = 0; i < n && i < 256; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("%.3f %.3f\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
	       (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		       ru.ru_stime.tv_usec / 1e6);
	return 0;
}
EOF
cc -O2 -fomit-frame-pointer -pthread -o "$T/work" "$T/work.c"

# Calibrate: iterations per thread for about SECS seconds with every CPU busy.
# (From CPU time: wall time depends on what else runs.)
cal=$("$T/work" 2000 "$NCPU" | cut -d' ' -f2)
ITERS=$(awk -v c="$cal" -v s="$SECS" -v n="$NCPU" 'BEGIN { i = int(2000 * s * n / (c > 0.001 ? c : 0.001)); print (i > 0 ? i : 1) }')

# cpu_ticks PID: utime + stime (all threads) in clock ticks.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
hwm_mb() {
	awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

bare() {
	"$T/work" "$ITERS" "$NCPU"
}

# under NAME SETTLE CMD...: starts the profiler CMD, runs a short warm-up of the workload (a
# twentieth of it: the profiler sees its binary and libc once, as it would have long before on
# a host where they run), waits until SETTLE s have passed, runs the workload, and sets globals
# wall ("wall cpu" of the workload), secs, cpu_pct, startup_s, rss_mb.
under() {
	local name=$1 settle=$2 s0
	shift 2
	s0=$(date +%s.%N)
	"$@" >"$T/$name.out" 2>"$T/$name.err" &
	local p=$!
	PIDS+=("$p")
	sleep 1
	"$T/work" $((ITERS / 20)) "$NCPU" >/dev/null
	sleep "$(awk -v s0="$s0" -v n="$(date +%s.%N)" -v w="$settle" 'BEGIN { r = w - (n - s0); printf "%.2f", (r > 0 ? r : 0) }')"
	if ! kill -0 "$p" 2>/dev/null; then
		echo "bench_agent: $name did not start: $(head -c 300 "$T/$name.err")" >&2
		exit 1
	fi
	local c0 c1 t0 t1
	c0=$(cpu_ticks "$p")
	t0=$(date +%s.%N)
	wall=$(bare)
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$p")
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	rss_mb=$(hwm_mb "$p")
	startup_s=$(awk -v c="$c0" -v k="$TCK" 'BEGIN { printf "%.2f", c / k }')
	cpu_pct=$(awk -v a="$c0" -v b="$c1" -v k="$TCK" -v t0="$t0" -v t1="$t1" \
		'BEGIN { printf "%.3f", 100 * (b - a) / k / (t1 - t0) }')
	kill -TERM "$p"
	wait "$p" 2>/dev/null || true
}

echo "bench_agent: $NCPU CPUs, workload $ITERS iterations x $NCPU threads (~${SECS} s bare); load: $(cut -d' ' -f1-3 /proc/loadavg)"
bare1=$(bare)

declare -A W CPU RSS ST COMPL
for hz in 19 99; do
	mkdir -p "$T/out$hz"
	# Settles past its first flush (12 s with a 10-s interval): that one names every process
	# already running, building their unwind tables and reading their symbols once, a
	# start-up cost reported apart (with the warm-up's: see under()).
	under "agent$hz" 12 "$EMBER" agent -F "$hz" --interval 10s --output "$T/out$hz"
	W[agent$hz]=$wall CPU[agent$hz]=$cpu_pct RSS[agent$hz]=$rss_mb ST[agent$hz]=$startup_s
	# Complete stacks among user stacks, from the agent's last log line.
	COMPL[agent$hz]=$(awk '/wrote .* profiles; samples/ { s = $0 } END {
		match(s, /samples [0-9]+/); n = substr(s, RSTART + 8, RLENGTH - 8);
		match(s, /complete stacks [0-9]+/); c = substr(s, RSTART + 16, RLENGTH - 16);
		match(s, /kernel threads [0-9]+/); k = substr(s, RSTART + 15, RLENGTH - 15);
		match(s, /unwound in the kernel [0-9]+/); u = substr(s, RSTART + 22, RLENGTH - 22);
		if (n - k > 0) printf "%.2f%% complete, %.1f%% unwound in the kernel", 100 * c / (n - k), 100 * u / n }' \
		"$T/agent$hz.err")
done
if command -v perf >/dev/null 2>&1; then
	for hz in 19 99; do
		under "perf$hz" 2 perf record -q -a -F "$hz" --call-graph dwarf -o "$T/perf$hz.data"
		W[perf$hz]=$wall RSS[perf$hz]=$rss_mb ST[perf$hz]=$startup_s
		# The stacks, from the stored copies: perf report's CPU over the same period.
		rep=$({ TIMEFORMAT='%U %S'; time perf report -i "$T/perf$hz.data" --stdio -q \
			--no-children --sort sym >/dev/null 2>&1; } 2>&1 | tail -n 1)
		CPU[perf$hz]=$(awk -v r="$cpu_pct" -v t="$rep" -v s="$secs" 'BEGIN {
			split(t, x, " "); printf "%.3f", r + 100 * (x[1] + x[2]) / s }')
		# Complete stacks: the workload's samples whose outermost frame is where a stack
		# starts (_start for the main thread, clone3/clone for the others; start_thread
		# counts too, although the agent's own measure wants clone3: perf -a stops there).
		# A sample is a header line, its frames, then a blank line.
		pc=$(perf script -i "$T/perf$hz.data" --comm work -F comm,ip,sym 2>/dev/null | awk '
			function end_sample() { if (n_fr > 0) { n++; if (last ~ /^(_start|start_thread|clone3?|__clone3?|__GI___clone3?)$/) c++ } n_fr = 0 }
			/^[[:space:]]*$/ { end_sample(); next }
			/^[[:space:]]+[0-9a-f]+ / { n_fr++; last = $2; next }
			{ end_sample() }
			END { end_sample(); if (n > 0) printf "%.2f%% complete (%d samples)", 100 * c / n, n }')
		COMPL[perf$hz]="record $cpu_pct% + report $(awk -v t="$rep" 'BEGIN { split(t, x, " "); printf "%.2f", x[1] + x[2] }') s CPU; $(du -m "$T/perf$hz.data" | cut -f1) MB of perf.data; ${pc:-no samples of the workload}"
		rm -f "$T/perf$hz.data"
	done
fi
bare2=$(bare)
# Workload CPU seconds (the second field): the baseline is the mean of the bare runs.
c1=${bare1#* } c2=${bare2#* }
base=$(awk -v a="$c1" -v b="$c2" 'BEGIN { printf "%.3f", (a + b) / 2 }')
printf "%-44s wall %7s s  CPU %7s s\n" "bare" "${bare1% *}" "$c1"
printf "%-44s wall %7s s  CPU %7s s  (the bare runs' CPU differs by %s%%: the noise)\n" \
	"bare, again" "${bare2% *}" "$c2" \
	"$(awk -v a="$c1" -v b="$c2" 'BEGIN { d = 200 * (a - b) / (a + b); printf "%.1f", d < 0 ? -d : d }')"
for k in agent19 agent99 perf19 perf99; do
	[ -n "${W[$k]:-}" ] || continue
	extra=""
	[ -n "${COMPL[$k]:-}" ] && extra="; ${COMPL[$k]}"
	w=${W[$k]}
	printf "%-44s wall %7s s  CPU %7s s  slowdown %6s%%  profiler CPU %6s%% of one core  peak RSS %6s MB  (start-up %s s CPU%s)\n" \
		"$(case $k in agent*) echo "ember agent -F ${k#agent}" ;; *) echo "perf record -a --call-graph dwarf -F ${k#perf}" ;; esac)" \
		"${w% *}" "${w#* }" "$(awk -v w="${w#* }" -v b="$base" 'BEGIN { printf "%+.2f", 100 * (w - b) / b }')" \
		"${CPU[$k]}" "${RSS[$k]}" "${ST[$k]}" "$extra"
done
for hz in 19 99; do
	[ -n "${W[perf$hz]:-}" ] || continue
	awk -v a="${CPU[agent$hz]}" -v p="${CPU[perf$hz]}" -v hz="$hz" 'BEGIN {
		if (a > 0) printf "at %d Hz: perf (record + report) uses %.1fx the CPU of ember agent (target >= 10x)\n", hz, p / a;
		else printf "at %d Hz: ember agent used no measurable CPU (below one clock tick); perf %.3f%%\n", hz, p }'
done
echo "targets at 19 Hz: agent <= 0.5% of one core, <= 64 MB peak RSS, slowdown within noise (<= 1%)"
