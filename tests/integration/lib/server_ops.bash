# server_ops.bash — helpers for the server operations tests (auth, TLS, config, limits,
# shutdown): sourced after common.bash and server.bash (which starts and stops the server:
# start_server_with, stop_server). http_code runs curl and keeps only the status code; expect
# compares a value with the wanted one and prints PASS or FAIL.

# http_code ARGS...: curl's status code only (body in $T/body, headers in $T/headers).
http_code() {
	curl -s -m 10 -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@"
}

# expect NAME WANT GOT [DETAIL]
expect() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want $2, got $3 ${4:-}"; fi
}
