# server.bash — start and stop an `ember server` for an integration test: sourced after
# common.bash. start_server [PORT] runs it on loopback with data in $DATA ($T/data by default)
# and waits for /ready, setting PID, PORT and BASE; start_server_with [--port P] ARGS... does
# the same with extra server arguments (a config file, TLS flags: $SCHEME https with $CACERT);
# stop_server sends SIGTERM and records the exit status; cleanup_server kills it. The EXIT
# trap removes $T.
DATA=${DATA:-$T/data}
SCHEME=${SCHEME:-http}
CACERT=${CACERT:-}
PID=
PORT=
BASE=
cleanup_server() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	PID=
}
trap 'cleanup_server; rm -rf "$T"' EXIT

ready_probe() { # url
	if [ "$SCHEME" = https ]; then
		curl -s -m 1 --cacert "$CACERT" "$1" 2>/dev/null
	else
		curl -s -m 1 "$1" 2>/dev/null
	fi
}

# start_server_with [--port P] ARGS...: on port P if given, else a free port picked from
# 20000 + $$ % 10000 (retried). --listen and --data-dir are added unless NO_LISTEN=1 is in
# the environment (a config file then names them).
start_server_with() {
	local tries=0 want_port=
	if [ "${1:-}" = --port ]; then
		want_port=$2
		shift 2
	fi
	while [ $tries -lt 10 ]; do
		PORT=${want_port:-$((20000 + ($$ + tries * 7) % 10000))}
		if [ "${NO_LISTEN:-0}" = 1 ]; then
			"$EMBER" server "$@" >"$T/server.out" 2>"$T/server.err" &
		else
			"$EMBER" server --listen "127.0.0.1:$PORT" --data-dir "$DATA" "$@" \
				>"$T/server.out" 2>"$T/server.err" &
		fi
		PID=$!
		BASE="$SCHEME://127.0.0.1:$PORT"
		local i
		for i in $(seq 1 50); do
			if ready_probe "$BASE/ready" | grep -q ready; then
				return 0
			fi
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.1
		done
		cleanup_server
		[ -n "$want_port" ] && return 1
		tries=$((tries + 1))
	done
	return 1
}

# start_server [PORT]: start_server_with no extra arguments.
start_server() {
	if [ -n "${1:-}" ]; then
		start_server_with --port "$1"
	else
		start_server_with
	fi
}

# stop_server [TENTHS]: SIGTERM, wait (TENTHS x 0.1 s, 15 s by default); sets STOP_RC to the
# exit status (KILL and 137 when it does not exit) and STOP_MS to the time taken. Not in a
# subshell: wait needs the server to be our child.
STOP_RC=
STOP_MS=
stop_server() {
	local i t0
	t0=$(date +%s%N)
	kill -TERM "$PID" 2>/dev/null
	for i in $(seq 1 "${1:-150}"); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	STOP_RC=$?
	STOP_MS=$((($(date +%s%N) - t0) / 1000000))
	PID=
}

# render_verdict NAME WANT_TICKS OUTPUT WANT_NAME...: OUTPUT is "numTicks name1 name2 ..." or
# "ERR why" (tests/tools/render_check.py prints it); PASS NAME when the total is WANT_TICKS
# and every WANT_NAME is among the names, else FAIL with the reason.
render_verdict() {
	local name=$1 want=$2 out=$3 ticks a
	shift 3
	ticks=${out%% *}
	if [ "$ticks" = ERR ]; then
		fail "$name" "render: ${out#ERR}"
		return
	fi
	if [ "$ticks" != "$want" ]; then
		fail "$name" "numTicks $ticks, want $want"
		return
	fi
	for a in "$@"; do
		if ! printf '%s\n' ${out#* } | grep -qxF -- "$a"; then
			fail "$name" "'$a' not among the names: ${out#* }"
			return
		fi
	done
	pass "$name"
}

# start_server_or_exit NAME [ARGS...]: start_server_with ARGS, or FAIL NAME with the server's
# stderr and exit 1.
start_server_or_exit() {
	local name=$1
	shift
	if ! start_server_with "$@"; then
		fail "$name" "the server did not become ready: $(head -c 300 "$T/server.err")"
		exit 1
	fi
}

# ingest_body NAME QUERY-STRING BODY-FILE: POST the file to $BASE/ingest?QUERY-STRING; FAIL
# NAME unless the answer is 200.
ingest_body() {
	local code
	code=$(curl -s -m 10 -o "$T/ing.out" -w '%{http_code}' --data-binary @"$3" "$BASE/ingest?$2")
	[ "$code" = 200 ] || fail "$1" "ingest status $code: $(head -c 200 "$T/ing.out")"
}
