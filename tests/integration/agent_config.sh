#!/usr/bin/env bash
# agent_config.sh — `ember agent --config FILE` against `ember server` over loopback: the
# include selector keeps only the test's workloads, the exclude selector drops one of them,
# relabel_configs rename the service from the comm, add a label and drop pid, so that the two
# processes of one program are merged into one series (the log counts them); flags win over
# the file; a bad file is refused with file:line and the key path.
# Needs root and a loadable BPF program for the sampling part; prints SKIP otherwise.
source "$(dirname "$0")/lib/common.bash"
source "$INTEG_DIR/lib/server.bash"

EMBER_AG=${EMBER_RECORD_BIN:-$EMBER}
WL=$(cd "$INTEG_DIR/../workloads" && pwd)
WPIDS=()
cleanup_all() {
	local p
	for p in "${WPIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	cleanup_server
	rm -rf "$T"
}
trap cleanup_all EXIT

# 1. Bad files are refused before anything starts (no root needed).
bad() { # NAME WANT-REGEX YAML
	printf '%s\n' "$3" >"$T/bad.yaml"
	"$EMBER_AG" agent --config "$T/bad.yaml" --output "$T/none" 2>"$T/bad.err"
	local rc=$?
	if [ $rc -eq 2 ] && grep -qE "$2" "$T/bad.err"; then
		pass "agent_config/bad_$1"
	else
		fail "agent_config/bad_$1" "exit $rc: $(head -c 300 "$T/bad.err")"
	fi
}
bad unknown_key 'bad\.yaml:3: relabel_configs\[0\]\.regx: unknown key' \
	$'interval: 1s\nrelabel_configs:\n  - regx: a\n    target_label: b'
bad regex 'bad\.yaml:2: relabel_configs\[0\]: regex: bad regex "\(a"' \
	$'relabel_configs:\n  - regex: "(a"\n    target_label: b'
bad action "bad\.yaml:2: relabel_configs\[0\]: action: 'hashmod' is not" \
	$'relabel_configs:\n  - action: hashmod\n    target_label: b'
bad selector 'bad\.yaml:2: include\[0\]: expected a mapping of label: regex' \
	$'include:\n  - comm'
bad top_key 'bad\.yaml:1: frequncy: unknown key \(known keys: server' $'frequncy: 19'
bad frequency 'bad\.yaml:1: frequency: 0 is out of range' $'frequency: 0'
bad yaml 'bad\.yaml:2: YAML' $'interval: 1s\n  x: [\n'
# The sample of deploy/ is valid.
if "$EMBER_AG" agent --config "$INTEG_DIR/../../deploy/agent.yaml" --check-config >"$T/sample.out" 2>&1 &&
	grep -q "ok (3 selectors and relabel rules)" "$T/sample.out"; then
	pass agent_config/deploy_sample
else
	fail agent_config/deploy_sample "$(head -c 300 "$T/sample.out")"
fi
if "$EMBER_AG" agent --config "$T/missing.yaml" --output "$T/none" 2>"$T/miss.err"; then
	fail agent_config/missing_file "accepted a missing file"
elif grep -q "missing.yaml" "$T/miss.err"; then
	pass agent_config/missing_file
else
	fail agent_config/missing_file "$(head -c 200 "$T/miss.err")"
fi

if [ "$(id -u)" -ne 0 ]; then
	skip agent_config/sampling "not root (the eBPF sampler needs root)"
	finish
	exit
fi
if ! command -v curl >/dev/null || ! command -v python3 >/dev/null; then
	skip agent_config/sampling "curl or python3 is not installed"
	finish
	exit
fi
cc -O2 -fomit-frame-pointer -pthread -o "$T/alpha" "$WL/burn.c" && cp "$T/alpha" "$T/beta" || {
	fail agent_config/build "cannot build burn.c"
	exit 1
}
start_server_or_exit agent_config/server

# 2. Selectors and relabeling. --interval on the command line wins over the file's 1h (the
# run would otherwise write nothing in its 6 s).
cat >"$T/agent.yaml" <<EOF
server: $BASE
interval: 1h
frequency: 99
include:
  - comm: "alpha|beta"
exclude:
  - comm: beta
relabel_configs:
  - action: labeldrop
    regex: pid
  - source_labels: [comm]
    regex: "al(.*)"
    target_label: service_name
    replacement: "svc-\${1}"
  - source_labels: [hostname]
    target_label: team
    replacement: perf
EOF
"$EMBER_AG" agent --config "$T/agent.yaml" --interval 2s 2>"$T/agent.err" &
apid=$!
WPIDS+=("$apid")
sleep 0.5
for w in alpha alpha beta; do
	"$T/$w" 5 1 >/dev/null &
	WPIDS+=("$!")
done
sleep 6
kill -TERM $apid
wait $apid
rc=$?
if [ $rc -ne 0 ] && grep -q "cannot start the BPF sampler" "$T/agent.err"; then
	skip agent_config/sampling "BPF cannot load here: $(head -c 200 "$T/agent.err")"
	finish
	exit
fi
[ $rc -eq 0 ] || fail agent_config/exit "exit status $rc: $(tail -c 300 "$T/agent.err")"

lv() { curl -s -m 5 -G "$BASE/pyroscope/label-values" --data-urlencode "label=$1"; }
services=$(lv service_name)
if [ "$services" = '["svc-pha"]' ]; then
	pass agent_config/include_exclude_and_rename
else
	fail agent_config/include_exclude_and_rename "service_name values: $services (want only svc-pha)"
fi
pids=$(lv pid)
team=$(lv team)
if [ "$pids" = '[]' ] && [ "$team" = '["perf"]' ]; then
	pass agent_config/labels_dropped_and_added
else
	fail agent_config/labels_dropped_and_added "pid values: $pids (want none), team values: $team"
fi
merged=$(grep -o '[0-9]* merged into a group' "$T/agent.err" | awk '{ s += $1 } END { print s + 0 }')
left=$(grep -o '[0-9]* left out by the config' "$T/agent.err" | tail -1 | awk '{ print $1 }')
series=$(curl -s -m 5 -X POST -H 'Content-Type: application/json' \
	"$BASE/querier.v1.QuerierService/Series" \
	-d '{"matchers":["{service_name=\"svc-pha\"}"],"labelNames":["service_name"]}' |
	python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("labelsSet", [])))')
if [ "${merged:-0}" -ge 1 ] && [ "${left:-0}" -ge 1 ] && [ "$series" = 1 ]; then
	pass agent_config/processes_merged
else
	fail agent_config/processes_merged "merged $merged, left out $left, series $series: $(grep processes: "$T/agent.err" | tail -2)"
fi
curl -s -m 5 -G "$BASE/pyroscope/render" \
	--data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="svc-pha"}' \
	--data-urlencode 'from=now-1h' --data-urlencode 'until=now' >"$T/render.json"
if python3 - "$T/render.json" <<'PY'; then
import json, sys
fb = json.load(open(sys.argv[1])).get("flamebearer", {})
sys.exit(0 if "leaf_a" in fb.get("names", []) and fb.get("numTicks", 0) > 0 else 1)
PY
	pass agent_config/render
else
	fail agent_config/render "leaf_a or ticks missing: $(head -c 300 "$T/render.json")"
fi
echo "agent_config: $n_fail failed"
finish
