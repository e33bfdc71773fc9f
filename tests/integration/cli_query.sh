#!/usr/bin/env bash
# cli_query.sh — `ember query` against a live `ember server` on loopback: top agrees row for row
# with `ember top` of the exported pprof, folded/pprof exports sum to what was ingested, series,
# labels, label-values and types list what was sent, --tenant isolates, --tenant/--token reach
# the server as headers (checked by a tiny recording HTTP server), and errors give the right
# exit codes with the server's message: bad matchers (2), unreachable server (1), usage (2).
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip cli_query "$tool is not installed"
		exit 0
	fi
done
if [ ! -x "$EMBER" ]; then
	fail cli_query "no ember binary at $EMBER"
	exit 1
fi
source "$(dirname "$0")/lib/server.bash"
start_server_or_exit cli_query/start
export EMBER_SERVER="http://127.0.0.1:$PORT"
NOW=$(date +%s)
printf 'main;serve;parse 100\nmain;serve;render 50\nmain;gc 20\n' >"$T/a.folded"
code=$(curl -s -m 10 -o "$T/ing" -w '%{http_code}' --data-binary @"$T/a.folded" \
	"$EMBER_SERVER/ingest?name=app.cpu%7Benv%3Dtest%7D&from=$((NOW - 60))&until=$NOW&sampleRate=100")
[ "$code" = 200 ] || fail cli_query/ingest "status $code"

Q='process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="app"}'
q() { "$EMBER" query "$@" >"$T/out" 2>"$T/err"; }
expect() { # NAME RC WANT-RC GREP-IN-OUT-OR-ERR
	if [ "$2" = "$3" ] && grep -q -- "$4" "$T/out" "$T/err"; then pass "$1"; else
		fail "$1" "exit $2 (want $3), out: $(head -c 200 "$T/out") err: $(head -c 200 "$T/err")"
	fi
}

# --- top: the same rows as `ember top` of the exported pprof ------------------------------------
q top --raw -n 0 "$Q"
expect cli_query/top $? 0 '^ *1000000000 .*  parse$'
top_rows <"$T/out" >"$T/q.rows"
q pprof -o "$T/e.pb.gz" "$Q"
rc=$?
if [ $rc = 0 ] && [ -s "$T/e.pb.gz" ]; then pass cli_query/pprof; else fail cli_query/pprof "exit $rc: $(cat "$T/err")"; fi
"$EMBER" top --raw -n 0 "$T/e.pb.gz" | top_rows >"$T/t.rows"
compare_rows cli_query/top_equals_ember_top "$T/q.rows" "$T/t.rows" && pass cli_query/top_equals_ember_top
total=$("$EMBER" top --raw "$T/e.pb.gz" | top_total)
if [ "$total" = 1700000000 ]; then pass cli_query/pprof_total; else fail cli_query/pprof_total "total $total"; fi
q top --raw -n 1 --focus render "$Q"
expect cli_query/top_focus $? 0 'accounting for 500000000, 100% of 500000000 total'
q top --raw --ignore serve "$Q"
expect cli_query/top_ignore $? 0 'of 200000000 total'
q top --json "$Q"
expect cli_query/top_json $? 0 '"total":1700000000'

# --- folded, series, labels ---------------------------------------------------------------------
q folded "$Q"
sum=$(awk '{ s += $NF } END { print s }' "$T/out")
if [ "$sum" = 1700000000 ] && grep -qx 'main;serve;parse 1000000000' "$T/out"; then
	pass cli_query/folded
else
	fail cli_query/folded "sum $sum: $(head -c 200 "$T/out")"
fi
q folded -o "$T/f.folded" --focus gc "$Q"
if [ "$(cat "$T/f.folded")" = "main;gc 200000000" ]; then pass cli_query/folded_file; else
	fail cli_query/folded_file "$(head -c 200 "$T/f.folded") $(cat "$T/err")"
fi
q series --step 7200 "$Q"
expect cli_query/series $? 0 'Z 1700000000$'
q series --group-by env --step 60 "$Q"
expect cli_query/series_group_by $? 0 '# series {env="test"}'
q labels
expect cli_query/labels $? 0 '^service_name$'
q labels '{service_name="nobody"}'
if [ ! -s "$T/out" ]; then pass cli_query/labels_matchers; else fail cli_query/labels_matchers "$(cat "$T/out")"; fi
q label-values service_name
expect cli_query/label_values $? 0 '^app$'
q label-values env "$Q"
expect cli_query/label_values_query $? 0 '^test$'
q types
expect cli_query/types $? 0 '^process_cpu:cpu:nanoseconds:cpu:nanoseconds$'
q top --raw --tenant other "$Q"
expect cli_query/tenant_isolated $? 0 'of 0 total'

# --- errors -------------------------------------------------------------------------------------
q top 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=}'
expect cli_query/bad_matcher $? 2 'HTTP 400: query: selector'
q series --step 0 "$Q"
expect cli_query/bad_step $? 2 'HTTP 400: step'
q top --focus '(' "$Q"
expect cli_query/bad_regex $? 2 'HTTP 400'
q top "$Q" --server http://127.0.0.1:1
expect cli_query/unreachable $? 1 'cannot reach http://127.0.0.1:1'
q nonsense
expect cli_query/unknown_subcommand $? 2 "unknown subcommand 'nonsense'"
q top
expect cli_query/missing_query $? 2 'top takes 1 to 1 arguments'
q --help
expect cli_query/help $? 0 'usage: ember query'
q top -n x "$Q"
expect cli_query/bad_n $? 2 '-n'

# --- --tenant and --token as headers ------------------------------------------------------------
cat >"$T/rec.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[2], "w") as f:
            f.write("tenant=%s\nauth=%s\npath=%s\n" % (self.headers.get("X-Scope-OrgID"),
                                                      self.headers.get("Authorization"), self.path))
        body = json.dumps({"types": [{"id": "x:y:z:a:b"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.handle_request()
PY
python3 "$T/rec.py" x "$T/rec.txt" >"$T/rec.port" &
REC=$!
for _ in $(seq 1 50); do [ -s "$T/rec.port" ] && break; sleep 0.1; done
q types --server "http://127.0.0.1:$(cat "$T/rec.port")" --tenant team-a --token s3cret --from now-2h
wait $REC 2>/dev/null
if grep -qx 'tenant=team-a' "$T/rec.txt" && grep -qx 'auth=Bearer s3cret' "$T/rec.txt" &&
	grep -q 'path=/api/v1/profile-types?from=now-2h' "$T/rec.txt" && grep -qx 'x:y:z:a:b' "$T/out"; then
	pass cli_query/headers
else
	fail cli_query/headers "$(tr '\n' ' ' <"$T/rec.txt" 2>/dev/null) out: $(cat "$T/out") err: $(cat "$T/err")"
fi

echo "$n_fail failed"
[ "$n_fail" = 0 ]
