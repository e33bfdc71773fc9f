# server_ops.bash — helpers for the server operations tests (auth, TLS, config, limits,
# shutdown): sourced after common.bash and server.bash. start_server_with ARGS... starts
# `ember server` with extra arguments (a config file, TLS flags) on a free loopback port and
# waits for /ready over $SCHEME (http, or https with $CACERT), setting PID, PORT and BASE.
SCHEME=${SCHEME:-http}
CACERT=${CACERT:-}
BASE=

ready_probe() { # url
	if [ "$SCHEME" = https ]; then
		curl -s -m 1 --cacert "$CACERT" "$1" 2>/dev/null
	else
		curl -s -m 1 "$1" 2>/dev/null
	fi
}

# start_server_with [--port P] ARGS...: --listen and --data-dir are added unless ARGS has
# NO_LISTEN=1 in the environment (the config file then names them).
start_server_with() {
	local tries=0 want_port=
	if [ "${1:-}" = --port ]; then
		want_port=$2
		shift 2
	fi
	while [ $tries -lt 10 ]; do
		PORT=${want_port:-$((20000 + ($$ + tries * 13 + 5) % 10000))}
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

# stop_server: SIGTERM, wait (15 s at most); sets STOP_RC to the exit status (KILL and 137
# when it does not exit). Not in a subshell: wait needs the server to be our child.
STOP_RC=
stop_server() {
	local i
	kill -TERM "$PID" 2>/dev/null
	for i in $(seq 1 150); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	STOP_RC=$?
	PID=
}

# http_code ARGS...: curl's status code only (body in $T/body, headers in $T/headers).
http_code() {
	curl -s -m 10 -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@"
}

# expect NAME WANT GOT [DETAIL]
expect() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want $2, got $3 ${4:-}"; fi
}
