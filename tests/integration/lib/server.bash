# server.bash — start and stop an `ember server` for an integration test: sourced after
# common.bash. start_server [PORT] runs it on loopback with data in $DATA ($T/data by default)
# and waits for /ready, setting PID and PORT; cleanup_server kills it. The EXIT trap removes $T.
DATA=${DATA:-$T/data}
PID=
PORT=
cleanup_server() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	PID=
}
trap 'cleanup_server; rm -rf "$T"' EXIT

# start_server: on $PORT if set, else a free port picked from 20000 + $$ % 10000 (retried).
start_server() {
	local tries=0 want_port=${1:-}
	while [ $tries -lt 10 ]; do
		PORT=${want_port:-$((20000 + ($$ + tries * 7) % 10000))}
		"$EMBER" server --listen "127.0.0.1:$PORT" --data-dir "$DATA" >"$T/server.out" 2>"$T/server.err" &
		PID=$!
		local i
		for i in $(seq 1 50); do
			if curl -s -m 1 "http://127.0.0.1:$PORT/ready" 2>/dev/null | grep -q ready; then
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

