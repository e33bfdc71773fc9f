#!/usr/bin/env bash
# server_scrape.sh — pull scraping of a real Go service: builds tests/integration/go/scrapetarget
# (net/http/pprof; burns CPU in main.hotLoop, allocates, parks goroutines, contends a mutex) with
# Debian's Go, starts it on loopback, and starts `ember server --config` with two jobs scraping
# every 3 s: the Go service (all Go profile kinds) and a closed port. Checks:
#   - main.hotLoop carries > 50% of the scraped CPU flame graph (/pyroscope/render);
#   - heap (memory inuse_space and alloc_space deltas), goroutine (main.parked x16), mutex and
#     block profiles arrived under the Pyroscope profile type ids, with non-negative values;
#   - the series carry service_name, job, instance and the static label;
#   - /metrics and /api/v1/targets show up=1 for the Go service and up=0 with an error for the
#     closed port; after the Go service is stopped its targets go down with errors counted;
#   - the server stays healthy and exits 0 promptly on SIGTERM.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_scrape "$tool is not installed"
		exit 0
	fi
done
if reason=$(go_missing_reason); then
	skip server_scrape "$reason"
	exit 0
fi
if [ ! -x "$EMBER" ]; then
	fail server_scrape "no ember binary at $EMBER"
	exit 1
fi
if ! "$EMBER" server --help 2>&1 | grep -q -- '--config'; then
	skip server_scrape "ember server has no --config option yet"
	exit 0
fi

source "$(dirname "$0")/lib/server.bash"

# --- the Go service ---------------------------------------------------------------------------
SRC=$INTEG_DIR/go/scrapetarget/main.go
BIN=$GO_DIR/scrapetarget
mkdir -p "$GO_DIR"
if [ ! -x "$BIN" ] || [ "$SRC" -nt "$BIN" ]; then
	if ! go build -o "$BIN.tmp" "$SRC" 2>"$T/gobuild.err"; then
		fail server_scrape/go_build "$(head -c 300 "$T/gobuild.err")"
		exit 1
	fi
	mv "$BIN.tmp" "$BIN"
fi
GOPID=
stop_go() {
	if [ -n "$GOPID" ] && kill -0 "$GOPID" 2>/dev/null; then
		kill -TERM "$GOPID" 2>/dev/null
		wait "$GOPID" 2>/dev/null
	fi
	GOPID=
}
trap 'stop_go; cleanup_server; rm -rf "$T"' EXIT
"$BIN" 127.0.0.1:0 >"$T/go.out" 2>"$T/go.err" &
GOPID=$!
TARGET=
for i in $(seq 1 50); do
	TARGET=$(sed -n 's/^listening on //p' "$T/go.out")
	[ -n "$TARGET" ] && break
	sleep 0.1
done
if [ -z "$TARGET" ]; then
	fail server_scrape/go_start "the Go service did not start: $(head -c 300 "$T/go.err")"
	exit 1
fi
pass server_scrape/go_start

# A loopback port with nothing listening.
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print("127.0.0.1:%d" % s.getsockname()[1]); s.close()')

cat >"$T/ember.yaml" <<EOF
scrape_configs:
  - job_name: goapp
    scrape_interval: 3s
    static_configs:
      - targets: ['$TARGET']
        labels: {env: itest}
  - job_name: dead
    scrape_interval: 3s
    static_configs:
      - targets: ['$DEAD']
    profiling_config:
      pprof_config:
        process_cpu: {enabled: false}
        memory: {enabled: false}
        mutex: {enabled: false}
        block: {enabled: false}
EOF

# --- the server -------------------------------------------------------------------------------
start_server_or_exit server_scrape/start --config "$T/ember.yaml"
pass server_scrape/start
FROM=$(($(date +%s) - 60))

# targets_get FIELD-CHECK: python over /api/v1/targets; prints "ok" or why not.
targets_check() { # python expression over t (list of targets); prints its value
	curl -s -m 5 "$BASE/api/v1/targets" >"$T/targets.json"
	python3 - "$T/targets.json" "$TARGET" "$DEAD" "$1" <<'PY'
import json, sys
try:
    t = json.load(open(sys.argv[1]))["targets"]
except Exception as e:
    print("ERR bad JSON: %r" % e); sys.exit(0)
go = {x["type"]: x for x in t if x["job"] == "goapp" and x["instance"] == sys.argv[2]}
dead = {x["type"]: x for x in t if x["job"] == "dead" and x["instance"] == sys.argv[3]}
print(eval(sys.argv[4]))
PY
}

# Wait for two CPU scrapes and three memory scrapes (the first of a cumulative kind primes).
# wait_targets TRIES EXPR: polls targets_check EXPR every 0.2 s until it prints True (status 0)
# or TRIES polls have failed (status 1).
wait_targets() {
	local i
	for i in $(seq 1 "$1"); do
		[ "$(targets_check "$2")" = True ] && return 0
		sleep 0.2
	done
	return 1
}
ready=
wait_targets 100 'go.get("process_cpu",{}).get("scrapes",0) >= 2 and go.get("memory",{}).get("scrapes",0) >= 3 and go.get("mutex",{}).get("scrapes",0) >= 3' && ready=1
if [ -n "$ready" ]; then pass server_scrape/scraped; else
	fail server_scrape/scraped "not enough scrapes after 20 s: $(head -c 600 "$T/targets.json")"
fi

r=$(targets_check 'all(go[k]["up"] and go[k]["last_error"] == "" for k in ("process_cpu","memory","goroutine","mutex","block")) and len(go) == 5 or go')
if [ "$r" = True ]; then pass server_scrape/targets_up; else
	fail server_scrape/targets_up "$r $(grep scrape "$T/server.err" | head -c 600)"
fi
r=$(targets_check 'dead["goroutine"]["up"] is False and dead["goroutine"]["errors"] >= 1 and "onnect" in dead["goroutine"]["last_error"] and len(dead) == 1 or dead')
if [ "$r" = True ]; then pass server_scrape/closed_port_down; else
	fail server_scrape/closed_port_down "$r"
fi
r=$(targets_check 'go["process_cpu"]["url"].endswith("/debug/pprof/profile?seconds=2") and go["memory"]["url"].endswith("/debug/pprof/heap") or go["process_cpu"]["url"]')
if [ "$r" = True ]; then pass server_scrape/urls; else fail server_scrape/urls "$r"; fi

# check_profile NAME QUERY FUNCTION MIN_TICKS [MIN_SHARE]: the flame graph of QUERY from
# /pyroscope/render has at least MIN_TICKS, FUNCTION in it with at least MIN_SHARE of the total
# (its node totals summed), and no negative value.
check_profile() {
	local out
	curl -s -m 10 -G -o "$T/render.json" -w '%{http_code}' "$BASE/pyroscope/render" \
		--data-urlencode "query=$2" --data-urlencode "from=$FROM" \
		--data-urlencode "until=$(($(date +%s) + 60))" >"$T/render.code"
	out=$(python3 - "$T/render.json" "$(cat "$T/render.code")" "$3" "$4" "${5:-0}" <<'PY'
import json, sys
path, code, want, min_ticks, min_share = sys.argv[1:6]
if code != "200":
    print("ERR status " + code + " " + open(path).read()[:200]); sys.exit(0)
try:
    fb = json.load(open(path))["flamebearer"]
except Exception as e:
    print("ERR " + repr(e)); sys.exit(0)
names, ticks = fb["names"], fb["numTicks"]
hot, mn = 0, 0
for level in fb["levels"]:
    for i in range(0, len(level), 4):
        mn = min(mn, level[i + 1], level[i + 2])
        if names[level[i + 3]] == want:
            hot += level[i + 1]
share = hot / ticks if ticks else 0
if ticks < int(min_ticks):
    print("ERR numTicks %d, want >= %s" % (ticks, min_ticks))
elif want not in names:
    print("ERR %s is not in the flame graph" % want)
elif mn < 0:
    print("ERR a negative value (%d) in the flame graph" % mn)
elif share < float(min_share):
    print("ERR %s has %.3f of the total, want >= %s" % (want, share, min_share))
else:
    print("OK numTicks %d, %s share %.3f" % (ticks, want, share))
PY
)
	case $out in
	OK*)
		pass "$1"
		echo "    $1: ${out#OK }"
		;;
	*) fail "$1" "render: ${out#ERR }" ;;
	esac
}

SEL='{service_name="goapp",job="goapp",env="itest"}'
check_profile server_scrape/cpu_hot_function "process_cpu:cpu:nanoseconds:cpu:nanoseconds$SEL" \
	main.hotLoop 500000000 0.5
check_profile server_scrape/cpu_samples "process_cpu:samples:count:cpu:nanoseconds$SEL" \
	main.hotLoop 50 0.5
check_profile server_scrape/heap_inuse "memory:inuse_space:bytes:space:bytes$SEL" \
	main.allocate 65536
check_profile server_scrape/heap_alloc_delta "memory:alloc_space:bytes:space:bytes$SEL" \
	main.allocate 65536
check_profile server_scrape/goroutine "goroutine:goroutine:count:goroutine:count$SEL" \
	main.parked 16
check_profile server_scrape/mutex_delta "mutex:delay:nanoseconds:contentions:count$SEL" \
	main.contend 1
check_profile server_scrape/mutex_contentions "mutex:contentions:count:contentions:count$SEL" \
	main.contend 1
check_profile server_scrape/block_delta "block:delay:nanoseconds:contentions:count$SEL" \
	main.contend 1

code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' "$BASE/pyroscope/label-values?label=instance")
if [ "$code" = 200 ] && grep -qF "\"$TARGET\"" "$T/body"; then
	pass server_scrape/instance_label
else
	fail server_scrape/instance_label "status $code: $(head -c 200 "$T/body")"
fi

# --- /metrics ---------------------------------------------------------------------------------
metric() { # NAME JOB INSTANCE TYPE -> value
	awk -v k="$1{job=\"$2\",instance=\"$3\",type=\"$4\"}" '$1 == k { print $2 }' "$T/metrics"
}
curl -s -m 5 "$BASE/metrics" >"$T/metrics"
up_cpu=$(metric ember_scrape_up goapp "$TARGET" process_cpu)
up_dead=$(metric ember_scrape_up dead "$DEAD" goroutine)
err_dead=$(metric ember_scrape_errors_total dead "$DEAD" goroutine)
dur_cpu=$(metric ember_scrape_duration_seconds goapp "$TARGET" process_cpu)
dur_ms=$(awk -v d="${dur_cpu:-0}" 'BEGIN { printf "%d", d * 1000 }')
if [ "$up_cpu" = 1 ] && [ "$up_dead" = 0 ] && [ "${err_dead:-0}" -ge 1 ] &&
	[ "$dur_ms" -ge 1900 ] && [ "$dur_ms" -le 3000 ]; then
	pass server_scrape/metrics
	echo "    metrics: cpu scrape took ${dur_cpu}s (seconds=2)"
else
	fail server_scrape/metrics "up cpu '$up_cpu' dead '$up_dead' errors '$err_dead' duration '$dur_cpu': $(grep ember_scrape "$T/metrics" | head -c 400)"
fi

# --- the Go service goes away -----------------------------------------------------------------
stop_go
down=
wait_targets 60 'go["goroutine"]["up"] is False and go["goroutine"]["errors"] >= 1 and go["goroutine"]["last_error"] != ""' && down=1
curl -s -m 5 "$BASE/metrics" >"$T/metrics"
if [ -n "$down" ] && [ "$(metric ember_scrape_up goapp "$TARGET" goroutine)" = 0 ]; then
	pass server_scrape/target_stopped_down
else
	fail server_scrape/target_stopped_down "$(head -c 600 "$T/targets.json")"
fi
if curl -s -m 2 "$BASE/ready" | grep -q ready; then pass server_scrape/server_healthy; else
	fail server_scrape/server_healthy "/ready does not answer"
fi

# --- shutdown ---------------------------------------------------------------------------------
stop_server 50
rc=$STOP_RC ms=$STOP_MS
if [ "$rc" = 0 ] && [ "$ms" -lt 3000 ]; then
	pass server_scrape/sigterm_exit_0
	echo "    shutdown took ${ms} ms"
else
	fail server_scrape/sigterm_exit_0 "exit status '${rc:-still running}' after ${ms} ms"
fi

# --- a bad scrape config: the server does not start, the message names the key and line -------
printf 'scrape_configs:\n  - job_name: x\n    scrape_interval: 3 s\n' >"$T/bad.yaml"
if timeout 10 "$EMBER" server --listen "127.0.0.1:$PORT" --data-dir "$T/data2" --config "$T/bad.yaml" \
	>"$T/bad.out" 2>"$T/bad.err"; then
	fail server_scrape/bad_config "the server started with a bad scrape_interval"
elif grep -q 'bad.yaml:3: scrape_configs\[0\].scrape_interval' "$T/bad.err"; then
	pass server_scrape/bad_config
else
	fail server_scrape/bad_config "message: $(head -c 300 "$T/bad.err")"
fi

echo "server_scrape: $n_fail failed"
[ "$n_fail" -eq 0 ]
