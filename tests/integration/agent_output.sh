#!/usr/bin/env bash
# agent_output.sh — `ember agent --output DIR` on the whole host: a workload started after the
# agent (so found through its first samples and exec) gets its own pprof files per interval,
# readable by `ember top`/`convert`, with complete stacks (>= 99% rooted at _start/clone) and
# its leaves attributed; the agent stops on --duration and on SIGTERM with exit status 0;
# --metrics-addr serves its counters to Prometheus.
# Needs root and a loadable BPF program; prints SKIP otherwise.
source "$(dirname "$0")/lib/common.bash"

EMBER_AG=${EMBER_RECORD_BIN:-$EMBER}
WL=$(cd "$INTEG_DIR/../workloads" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	skip agent "not root (the eBPF sampler needs root)"
	exit 0
fi
if ! "$EMBER_AG" agent --help >/dev/null 2>&1; then
	skip agent "this ember has no 'agent' command (not in main.c's table yet)"
	exit 0
fi
cc -O2 -fomit-frame-pointer -pthread -o "$T/burn" "$WL/burn.c" || {
	fail agent/build "cannot build burn.c"
	exit 1
}

"$EMBER_AG" agent -F 299 --interval 1s --duration 5s -o "$T/out" 2>"$T/agent.err" &
agent_pid=$!
sleep 0.5
BURN_OUT=$T/truth.txt "$T/burn" 3 1 >/dev/null &
burn_pid=$!
wait $burn_pid
wait $agent_pid
rc=$?
if [ $rc -ne 0 ] && grep -q "cannot start the BPF sampler" "$T/agent.err"; then
	skip agent "BPF cannot load here: $(head -c 200 "$T/agent.err")"
	exit 0
fi
if [ $rc -ne 0 ]; then
	fail agent/runs "exit status $rc: $(head -c 300 "$T/agent.err")"
	exit 1
fi
pass agent/runs
n_files=$(ls "$T/out"/*-$burn_pid-*.pb.gz 2>/dev/null | wc -l)
if [ "$n_files" -ge 2 ]; then
	pass agent/profile_per_interval
else
	fail agent/profile_per_interval "$n_files files for the workload, want >= 2: $(ls "$T/out" | head -5 | tr '\n' ' ')"
fi
if [ "$(grep -c 'wrote' "$T/agent.err")" -ge 3 ]; then
	pass agent/log_line
else
	fail agent/log_line "no periodic log line: $(head -c 200 "$T/agent.err")"
fi

# Merge the workload's files and check stacks and attribution.
if "$EMBER_AG" merge -o "$T/burn.pb.gz" "$T/out"/*-$burn_pid-*.pb.gz 2>"$T/merge.err" &&
	"$EMBER_AG" convert "$T/burn.pb.gz" -o "$T/burn.folded" -t samples 2>"$T/conv.err"; then
	pass agent/pprof_readable
else
	fail agent/pprof_readable "$(head -c 300 "$T/merge.err" "$T/conv.err")"
	finish
	exit 1
fi
total=$(awk '{ t += $NF } END { print t + 0 }' "$T/burn.folded")
# Complete: rooted at _start or clone, or at the dynamic loader's entry (the first frames of a
# new process; Debian's ld.so has no symbol for it). The few samples taken in the exec itself
# (the shell's image, already replaced when the maps are read) are what stays below 100%.
complete=$(awk '{ n = $NF; total += n; split($1, f, ";");
		if (f[1] == "_start" || f[1] == "__clone3" || f[1] == "clone" || f[1] ~ /^ld-linux/) ok += n }
	END { printf "%.2f", total ? 100 * ok / total : 0 }' "$T/burn.folded")
echo "    $total samples of the workload ($(awk '$1 == "total" { print $2 }' "$T/truth.txt") s CPU), $complete% unwound to _start/clone"
if [ "$total" -ge 30 ] && awk -v c="$complete" 'BEGIN { exit !(c >= 99) }'; then
	pass agent/complete_stacks
else
	fail agent/complete_stacks "$total samples, $complete% complete"
fi
a=$(awk '{ n = $NF; total += n; if (index(";" $1 ";", ";leaf_a;")) hit += n }
	END { printf "%.2f", total ? 100 * hit / total : 0 }' "$T/burn.folded")
want=$(awk '$1 == "recurse_a" { v = $2 } $1 == "total" { t = $2 } END { printf "%.2f", 100 * v / t }' "$T/truth.txt")
# On a shared machine the cpu-clock timer samples whatever runs, so the error is binomial:
# allow three standard deviations (at least 3 points).
tol=$(awk -v p="$want" -v n="$total" 'BEGIN { p /= 100; t = 300 * sqrt(p * (1 - p) / (n > 0 ? n : 1)); if (t < 3) t = 3; printf "%.1f", t }')
echo "    leaf_a: sampled $a%, true $want% (tolerance $tol points)"
if awk -v g="$a" -v w="$want" -v t="$tol" 'BEGIN { d = g - w; exit !(d <= t && d >= -t) }'; then
	pass agent/attribution
else
	fail agent/attribution "leaf_a sampled $a%, true $want%"
fi

# SIGTERM stops it cleanly, writing what it has. A busy loop gives it something to sample
# (an idle machine gives a cpu-clock sampler nothing), and the wait allows for slow start-up
# under sanitizers.
timeout 6 sh -c 'while :; do :; done' &
busy_pid=$!
"$EMBER_AG" agent -F 99 --interval 10s -o "$T/out2" 2>"$T/agent2.err" &
agent_pid=$!
sleep 5
kill -TERM $agent_pid
wait $agent_pid
rc=$?
kill $busy_pid 2>/dev/null
wait $busy_pid 2>/dev/null
if [ $rc -eq 0 ] && [ -n "$(ls "$T/out2")" ]; then
	pass agent/sigterm
else
	fail agent/sigterm "exit $rc, files: $(ls "$T/out2" | wc -l)"
fi
# --metrics-addr: Prometheus text with the agent's counters while it runs; a bad address is a
# usage error (exit 2).
mport=$((20000 + ($$ * 7 + RANDOM) % 20000))
"$EMBER_AG" agent -F 99 --interval 1s -o "$T/out3" --metrics-addr "127.0.0.1:$mport" \
	2>"$T/agent3.err" &
agent_pid=$!
"$T/burn" 2 1 >/dev/null &
busy_pid=$!
# The first exposition comes after start-up (slow under ASan or on a busy machine): up to 20 s.
for i in $(seq 1 40); do
	sleep 0.5
	curl -s -m 5 "http://127.0.0.1:$mport/metrics" >"$T/metrics.txt"
	n=$(awk '$1 == "ember_agent_samples_total" { print $2 }' "$T/metrics.txt")
	[ "${n:-0}" -gt 0 ] && [ $i -ge 4 ] && break
done
code404=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/nope")
wait $busy_pid 2>/dev/null
kill -TERM $agent_pid
wait $agent_pid
samples=$(awk '$1 == "ember_agent_samples_total" { print $2 }' "$T/metrics.txt")
complete=$(awk '$1 == "ember_agent_user_stacks_total{stop=\"complete\"}" { print $2 }' "$T/metrics.txt")
if [ "${samples:-0}" -gt 0 ] && [ "${complete:-0}" -gt 0 ] && [ "$code404" = 404 ] &&
	grep -q '^ember_agent_cpu_seconds_total [0-9.]*$' "$T/metrics.txt" &&
	grep -q '^ember_agent_symbolization_misses_total [0-9]*$' "$T/metrics.txt"; then
	pass agent/metrics
	echo "    metrics: samples $samples, complete user stacks $complete"
else
	fail agent/metrics "samples '${samples:-}', complete '${complete:-}', /nope $code404: $(head -c 300 "$T/metrics.txt") $(tail -c 200 "$T/agent3.err")"
fi
"$EMBER_AG" agent -o "$T/out4" --metrics-addr nonsense >/dev/null 2>"$T/agent4.err"
if [ $? -eq 2 ] && grep -q "HOST:PORT" "$T/agent4.err"; then
	pass agent/metrics_bad_addr
else
	fail agent/metrics_bad_addr "$(head -c 200 "$T/agent4.err")"
fi
if "$EMBER_AG" agent >/dev/null 2>&1; then
	fail agent/usage "ran without --output"
else
	pass agent/usage
fi
finish
