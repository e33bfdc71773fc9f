#!/usr/bin/env bash
# agent_push.sh — `ember agent --server URL` against `ember server` over loopback: a CPU burn
# workload sampled by the agent (pushed as multipart `profile` parts) shows up in
# /pyroscope/render under its executable's name as service_name with its leaf function and
# ticks, with hostname, pid, comm, executable and build_id labels; with --push-batch one push
# per interval gives the same series; an agent started while the server is down keeps sampling,
# retries, and delivers once the server comes up; a 4xx answer is dropped, not retried; SIGTERM
# flushes and exits 0.
# Needs root and a loadable BPF program; prints SKIP otherwise.
source "$(dirname "$0")/lib/common.bash"

EMBER_AG=${EMBER_RECORD_BIN:-$EMBER}
WL=$(cd "$INTEG_DIR/../workloads" && pwd)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	skip agent_push "not root (the eBPF sampler needs root)"
	exit 0
fi
if ! "$EMBER_AG" agent --help 2>/dev/null | grep -q -- --server; then
	skip agent_push "this ember's agent has no --server"
	exit 0
fi
if ! command -v curl >/dev/null || ! command -v python3 >/dev/null; then
	skip agent_push "curl or python3 is not installed"
	exit 0
fi
cc -O2 -fomit-frame-pointer -pthread -o "$T/burn" "$WL/burn.c" || {
	fail agent_push/build "cannot build burn.c"
	exit 1
}

# start_server PORT: waits for /ready (5 s); sets SPID.
start_server() {
	"$EMBER" server --listen "127.0.0.1:$1" --data-dir "$T/data" >"$T/server.out" 2>>"$T/server.err" &
	SPID=$!
	PIDS+=("$SPID")
	local i
	for i in $(seq 1 50); do
		curl -s -m 1 "http://127.0.0.1:$1/ready" 2>/dev/null | grep -q ready && return 0
		kill -0 "$SPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# free_port: a loopback port nothing listens on.
free_port() {
	local tries p
	for tries in $(seq 0 20); do
		p=$((20000 + ($$ + tries * 13 + RANDOM) % 20000))
		if ! curl -s -m 1 -o /dev/null "http://127.0.0.1:$p/" 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

PORT=$(free_port) && start_server "$PORT" || {
	fail agent_push/server "the server did not become ready: $(head -c 300 "$T/server.err")"
	exit 1
}
BASE="http://127.0.0.1:$PORT"

# agent_with_burn ERRFILE [ARG...]: the agent pushing to BASE every 2 s (stderr to ERRFILE)
# while a burn workload runs 4 s, then SIGTERM; sets rc (the agent's status) and bpid.
agent_with_burn() {
	local err=$1 apid
	shift
	"$EMBER_AG" agent -F 99 --interval 2s --server "$BASE" "$@" 2>"$err" &
	apid=$!
	PIDS+=("$apid")
	sleep 0.5
	"$T/burn" 4 1 >/dev/null &
	bpid=$!
	PIDS+=("$bpid")
	sleep 5.5
	kill -TERM $apid
	wait $apid
	rc=$?
	kill $bpid 2>/dev/null
	wait $bpid 2>/dev/null
}

# 1. Push while the server is up.
agent_with_burn "$T/agent.err"
if [ $rc -ne 0 ] && grep -q "cannot start the BPF sampler" "$T/agent.err"; then
	skip agent_push "BPF cannot load here: $(head -c 200 "$T/agent.err")"
	exit 0
fi
if [ $rc -eq 0 ]; then
	pass agent_push/sigterm
else
	fail agent_push/sigterm "exit status $rc: $(head -c 300 "$T/agent.err")"
fi
pushed=$(grep -o 'pushed [0-9]*' "$T/agent.err" | tail -1 | awk '{ print $2 }')
if [ "${pushed:-0}" -gt 0 ] && ! grep -q 'dropped_rejected [1-9]' "$T/agent.err"; then
	pass agent_push/pushed
else
	fail agent_push/pushed "$(tail -c 300 "$T/agent.err")"
fi
curl -s -m 5 -G "$BASE/pyroscope/render" \
	--data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="burn"}' \
	--data-urlencode 'from=now-1h' --data-urlencode 'until=now' >"$T/render.json"
if python3 - "$T/render.json" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
fb = d.get("flamebearer", {})
names, ticks = fb.get("names", []), fb.get("numTicks", 0)
print("    render: %d names, numTicks %s" % (len(names), ticks))
sys.exit(0 if "leaf_a" in names and ticks > 0 else 1)
PY
	pass agent_push/render
else
	fail agent_push/render "leaf_a or ticks missing: $(head -c 300 "$T/render.json"); services: $(curl -s "$BASE/pyroscope/label-values?label=service_name")"
fi

# The series labels: hostname, pid, comm, executable (and build id, cgroup facts when known).
lv() { curl -s -m 5 -G "$BASE/pyroscope/label-values" --data-urlencode "label=$1"; }
host=$(hostname)
missing=
lv hostname | grep -qF "\"$host\"" || missing+=" hostname=$host"
lv pid | grep -qF "\"$bpid\"" || missing+=" pid=$bpid"
lv comm | grep -qF '"burn"' || missing+=" comm=burn"
lv executable | grep -qF "\"$T/burn\"" || missing+=" executable=$T/burn"
lv build_id | grep -qE '"[0-9a-f]{40}"' || missing+=" build_id"
if [ -z "$missing" ]; then
	pass agent_push/labels
else
	fail agent_push/labels "missing:$missing; label names: $(curl -s -m 5 "$BASE/pyroscope/label-names")"
fi

# 1b. --push-batch: one push per interval for the whole host; the server splits it by the
# samples' labels into the same series (the burn process under its own pid).
agent_with_burn "$T/agentb.err" --push-batch
pushed=$(grep -o 'pushed [0-9]*' "$T/agentb.err" | tail -1 | awk '{ print $2 }')
curl -s -m 5 -G "$BASE/pyroscope/render" \
	--data-urlencode "query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=\"burn\",pid=\"$bpid\"}" \
	--data-urlencode 'from=now-1h' --data-urlencode 'until=now' >"$T/renderb.json"
if [ "${pushed:-0}" -ge 1 ] && [ "${pushed:-0}" -le 4 ] &&
	! lv service_name | grep -q ember-agent &&
	python3 -c 'import json,sys; fb=json.load(open(sys.argv[1]))["flamebearer"]; sys.exit(0 if "leaf_a" in fb["names"] and fb["numTicks"] > 0 else 1)' "$T/renderb.json"; then
	pass agent_push/batch
else
	fail agent_push/batch "pushed ${pushed:-none} (want 1..4, one per interval); services: $(lv service_name); render: $(head -c 200 "$T/renderb.json")"
fi

# 2. The server is down when the agent starts: it keeps sampling, retries, then delivers.
kill $SPID
wait $SPID 2>/dev/null
"$T/burn" 8 1 >/dev/null &
bpid=$!
PIDS+=("$bpid")
"$EMBER_AG" agent -F 99 --interval 1s --server "$BASE" 2>"$T/agent2.err" &
apid=$!
PIDS+=("$apid")
# Up to 20 s for the first intervals to be logged (start-up is slow under ASan).
for i in $(seq 1 40); do
	sleep 0.5
	grep -q 'retried [1-9]' "$T/agent2.err" && grep -q 'samples [1-9]' "$T/agent2.err" && break
done
if grep -q 'retried [1-9]' "$T/agent2.err" && grep -q 'samples [1-9]' "$T/agent2.err"; then
	pass agent_push/retries_while_down
else
	fail agent_push/retries_while_down "$(tail -c 300 "$T/agent2.err")"
fi
start_server "$PORT" || fail agent_push/server_restart "$(tail -c 300 "$T/server.err")"
ok=0
for i in $(seq 1 80); do
	if grep -q 'pushed [1-9]' "$T/agent2.err"; then
		ok=1
		break
	fi
	sleep 0.1
done
kill -TERM $apid
wait $apid
kill $bpid 2>/dev/null
wait $bpid 2>/dev/null
if [ $ok -eq 1 ]; then
	pass agent_push/delivers_after_outage
else
	fail agent_push/delivers_after_outage "$(tail -c 400 "$T/agent2.err")"
fi
# 3. A 4xx answer (here 404 from a wrong path) is dropped and counted, not retried.
timeout 3 sh -c 'while :; do :; done' &
PIDS+=("$!")
"$EMBER_AG" agent -F 99 --interval 1s --duration 2s --server "$BASE/nope" 2>"$T/agent3.err"
if grep -q 'dropped_rejected [1-9]' "$T/agent3.err" && grep -q 'retried 0,' "$T/agent3.err"; then
	pass agent_push/rejected_dropped
else
	fail agent_push/rejected_dropped "$(tail -c 300 "$T/agent3.err")"
fi
if "$EMBER_AG" agent --server ftp://x 2>/dev/null; then
	fail agent_push/bad_url "accepted ftp://"
else
	pass agent_push/bad_url
fi
echo "agent_push: $n_fail failed"
finish
