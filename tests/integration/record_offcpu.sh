#!/usr/bin/env bash
# record_offcpu.sh — off-CPU time (--off-cpu, sched_switch) of a workload whose blocked time
# is known: tests/workloads/sleeper.c, built -O2 -fomit-frame-pointer, sleeps 30 ms under
# wait_long and 10 ms under wait_short in turn (75% / 25% of its blocked time). With `ember
# record --off-cpu` and `ember agent --off-cpu --output DIR`: the off_cpu sample type is
# there, the shares are within 2 points of the truth, the total is the time the program ran,
# the stacks reach _start through libc's nanosleep and show the kernel's schedule path; pushed
# to `ember server`, the off-CPU time is a profile type of its own in the query API.
# Needs root and a loadable BPF program; prints SKIP otherwise.
source "$(dirname "$0")/lib/common.bash"
source "$INTEG_DIR/lib/server.bash"

EMBER_AG=${EMBER_RECORD_BIN:-$EMBER}
WL=$(cd "$INTEG_DIR/../workloads" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	skip record_offcpu "not root (the eBPF sampler needs root)"
	exit 0
fi
cc -O2 -fomit-frame-pointer -o "$T/sleeper" "$WL/sleeper.c" || {
	fail record_offcpu/build "cannot build sleeper.c"
	exit 1
}

# check NAME FOLDED-FILE SECONDS: the verdicts on one off-CPU profile (folded, values in ns).
check() {
	local name=$1 f=$2 secs=$3 out
	if out=$(python3 - "$f" "$secs" <<'PY'
import sys
total = long_ = short = complete = 0
kernel = False
for line in open(sys.argv[1]):
    stack, _, v = line.rstrip("\n").rpartition(" ")
    v = int(v)
    frames = stack.split(";")
    if "wait_long" not in frames and "wait_short" not in frames:
        continue
    total += v
    long_ += v if "wait_long" in frames else 0
    short += v if "wait_short" in frames else 0
    complete += v if frames[0] == "_start" else 0
    kernel = kernel or "schedule_[k]" in frames
secs = float(sys.argv[2])
if total == 0:
    print("no off-CPU time under wait_long/wait_short"); sys.exit(1)
share = 100.0 * long_ / total
print("    wait_long %.2f%% of %.3f s blocked (true 75%%), %.2f%% complete, kernel %s" %
      (share, total / 1e9, 100.0 * complete / total, kernel))
ok = abs(share - 75) <= 2 and complete >= 0.99 * total and kernel and \
     0.85 * secs <= total / 1e9 <= 1.15 * secs
sys.exit(0 if ok else 1)
PY
	); then
		echo "$out"
		pass "$name"
	else
		fail "$name" "$out"
	fi
}

# 1. ember record --off-cpu: folded output shows the off-CPU time.
"$EMBER_AG" record --off-cpu -o "$T/rec.folded" -- "$T/sleeper" 3 >/dev/null 2>"$T/rec.err"
rc=$?
if [ $rc -ne 0 ] && grep -q "cannot load the BPF sampler" "$T/rec.err"; then
	skip record_offcpu "BPF cannot load here: $(head -c 200 "$T/rec.err")"
	exit 0
fi
if [ $rc -ne 0 ]; then
	fail record_offcpu/record "exit $rc: $(tail -c 300 "$T/rec.err")"
else
	grep -q "off-CPU stacks" "$T/rec.err" || fail record_offcpu/summary "$(cat "$T/rec.err")"
	check record_offcpu/record "$T/rec.folded" 3
fi
"$EMBER_AG" record --off-cpu -o "$T/rec.pb.gz" -- "$T/sleeper" 1 >/dev/null 2>&1
if "$EMBER" top -t off_cpu "$T/rec.pb.gz" >/dev/null && "$EMBER" top -t cpu "$T/rec.pb.gz" >/dev/null; then
	pass record_offcpu/pprof_has_both_types
else
	fail record_offcpu/pprof_has_both_types "$("$EMBER" top -t off_cpu "$T/rec.pb.gz" 2>&1 | head -3)"
fi

# agent_with_sleeper ERRFILE LINGER ARG...: `ember agent --off-cpu ARG...` (stderr to ERRFILE)
# while the sleeper runs 3 s, stopped with SIGTERM LINGER seconds after it.
agent_with_sleeper() {
	local err=$1 linger=$2 apid
	shift 2
	"$EMBER_AG" agent --off-cpu "$@" 2>"$err" &
	apid=$!
	sleep 1
	"$T/sleeper" 3 >/dev/null
	sleep "$linger"
	kill -TERM $apid
	wait $apid
}

# 2. ember agent --off-cpu --output DIR: the sleeper's profile.
agent_with_sleeper "$T/agent.err" 0.5 --interval 30s --output "$T/out"
f=$(ls "$T/out"/sleeper-*.pb.gz 2>/dev/null | head -1)
if [ -z "$f" ]; then
	fail record_offcpu/agent "no sleeper profile: $(ls "$T/out" | head; tail -c 300 "$T/agent.err")"
elif "$EMBER" convert "$f" -o "$T/agent.folded" --format folded --sample-type off_cpu 2>"$T/conv.err"; then
	check record_offcpu/agent "$T/agent.folded" 3
else
	fail record_offcpu/agent "$(cat "$T/conv.err")"
fi
# Without --off-cpu there is no off_cpu sample type.
if "$EMBER" top -t off_cpu "$T/rec.pb.gz" >/dev/null 2>&1 && "$EMBER_AG" record -o "$T/cpu.pb.gz" -- "$T/sleeper" 0.2 >/dev/null 2>&1 &&
	! "$EMBER" top -t off_cpu "$T/cpu.pb.gz" >/dev/null 2>&1; then
	pass record_offcpu/only_when_asked
else
	fail record_offcpu/only_when_asked "off_cpu present without --off-cpu"
fi
# 3. Pushed to a server: a profile type of its own, queryable like any other.
if start_server_with; then
	agent_with_sleeper "$T/agent2.err" 2.5 --interval 2s --server "$BASE"
	types=$(curl -s -m 5 -X POST -H 'Content-Type: application/json' -d '{}' \
		"$BASE/querier.v1.QuerierService/ProfileTypes")
	curl -s -m 5 -G "$BASE/pyroscope/render" \
		--data-urlencode 'query=process_cpu:off_cpu:nanoseconds:cpu:nanoseconds{service_name="sleeper"}' \
		--data-urlencode from=now-1h --data-urlencode until=now >"$T/render.json"
	if grep -q '"process_cpu:off_cpu:nanoseconds:cpu:nanoseconds"' <<<"$types" &&
		python3 - "$T/render.json" <<'PY'; then
import json, sys
fb = json.load(open(sys.argv[1]))["flamebearer"]
sys.exit(0 if {"wait_long", "wait_short"} <= set(fb["names"]) and fb["numTicks"] > 2e9 else 1)
PY
		pass record_offcpu/server
	else
		fail record_offcpu/server "types: $(head -c 300 <<<"$types"); render: $(head -c 200 "$T/render.json")"
	fi
	cleanup_server
else
	fail record_offcpu/server_start "$(head -c 300 "$T/server.err")"
fi
echo "record_offcpu: $n_fail failed"
finish
