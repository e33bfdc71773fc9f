#!/usr/bin/env bash
# scripts/run.sh — `make run`: start an Ember server (embedded storage in ./data) and an agent on
# this host, and print the UI address. Stops both on Ctrl-C.
set -u
EMBER=${1:-build/ember}
PORT=${EMBER_PORT:-4040}
if ! "$EMBER" help server >/dev/null 2>&1; then
	echo "make run: this build of ember has no 'server' command yet (it lands with the server issue)."
	echo "Available now: $("$EMBER" --help 2>&1 | grep -E '^  [a-z]' | awk '{print $1}' | tr '\n' ' ')"
	exit 1
fi
mkdir -p data
"$EMBER" server --data-dir data --listen "127.0.0.1:$PORT" &
server=$!
trap 'kill $server ${agent:-} 2>/dev/null; wait' INT TERM EXIT
if "$EMBER" agent --help 2>&1 | grep -q -- '--server'; then
	"$EMBER" agent --server "http://127.0.0.1:$PORT" &
	agent=$!
else
	echo "make run: this build's agent cannot push to a server yet; started the server only."
fi
echo "Ember UI: http://127.0.0.1:$PORT/  (open it in a browser; the flame graph of this host appears within a minute)"
wait $server
