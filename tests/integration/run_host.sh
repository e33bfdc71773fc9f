#!/usr/bin/env bash
# run_host.sh — `make run` as a new user meets it: scripts/run.sh (what `make run` runs after
# building) started in an empty directory on a free loopback port prints the UI address; that
# address opened at once in headless Chromium shows, within a minute of the start and without a
# reload, a flame graph of this host's processes (a CPU workload's leaf function among them).
# Then Ctrl-C (SIGINT) stops the server and the agent. Needs root (the agent) and Chromium.
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/ui.bash"
ui_preflight run_host
if [ "$(id -u)" -ne 0 ]; then
	skip run_host "not root (make run starts the eBPF agent)"
	exit 0
fi
WL=$(cd "$INTEG_DIR/../workloads" && pwd)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
cc -O2 -fomit-frame-pointer -pthread -o "$T/hostburn" "$WL/burn.c" || {
	fail run_host/build "cannot build burn.c"
	exit 1
}
"$T/hostburn" 60 1 >/dev/null &
PIDS+=("$!")

port=$((20000 + ($$ * 7 + RANDOM) % 20000))
mkdir -p "$T/cwd"
start_ms=$(date +%s%3N)
# In its own process group, with SIGINT not ignored (job control on), as in a terminal where
# Ctrl-C reaches make, the script, the server and the agent at once.
set -m
(cd "$T/cwd" && EMBER_PORT=$port exec bash "$ROOT/scripts/run.sh" "$EMBER") >"$T/run.out" 2>"$T/run.err" &
rpid=$!
set +m
PIDS+=("$rpid")
url=
for i in $(seq 1 100); do
	url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$T/run.out" | head -1)
	[ -n "$url" ] && break
	sleep 0.1
done
if [ -z "$url" ]; then
	fail run_host/prints_url "$(head -c 300 "$T/run.out") $(head -c 300 "$T/run.err")"
	exit 1
fi
pass run_host/prints_url
timeout 90 node "$ROOT/tests/ui/run_host.test.mjs" "$url" "$start_ms" "$BUILD_ABS/screenshots" leaf_a ||
	fail run_host/browser "$(tail -c 400 "$T/run.err")"
[ -d "$T/cwd/data" ] && pass run_host/data_dir || fail run_host/data_dir "no ./data"
# Ctrl-C stops both (up to 30 s: the agent sends what is queued, the server finishes its
# requests and closes the WAL; slower under ASan).
kill -INT -- "-$rpid"
for i in $(seq 1 300); do
	kill -0 "$rpid" 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 "$rpid" 2>/dev/null && ! pgrep -f "ember server --data-dir data --listen 127.0.0.1:$port" >/dev/null; then
	pass run_host/ctrl_c_stops
else
	fail run_host/ctrl_c_stops "still running: $(pgrep -af "127.0.0.1:$port" | head -3)"
fi
echo "run_host: $n_fail failed"
finish
