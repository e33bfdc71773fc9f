#!/usr/bin/env bash
# server_push.sh — Connect `POST /push.v1.PusherService/Push` end to end: the same pprof pushed
# as binary proto (tests/tools/push_encode.py), as Connect JSON with curl (camelCase and
# snake_case names, base64 rawProfile), with a gzip request body, and as two series in one
# request; each must appear in /pyroscope/render with its exact total and function names, with
# the series labels (__name__ picks the profile name, service_name and others kept). Also the
# answers: empty proto body / {} for JSON, and Connect errors for bad content.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3 gzip; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_push "$tool is not installed"
		exit 0
	fi
done
if [ ! -x "$EMBER" ]; then
	fail server_push "no ember binary at $EMBER"
	exit 1
fi
source "$(dirname "$0")/lib/server.bash"
TOOLS=$INTEG_DIR/../tools

start_server_or_exit push/start
URL="$BASE/push.v1.PusherService/Push"

cat >"$T/p.folded" <<'F'
main;work;crunch 7
main;idle 3
F
if ! "$EMBER" convert "$T/p.folded" -o "$T/p.pb.gz" 2>"$T/conv.err"; then
	fail push/convert "ember convert: $(head -c 200 "$T/conv.err")"
	exit 1
fi
gunzip -c "$T/p.pb.gz" >"$T/p.pb" # a raw (not gzipped) pprof too

post() { # content-type file [extra curl args] -> prints the status, body in $T/body
	local ct=$1 f=$2
	shift 2
	curl -s -m 10 -o "$T/body" -w '%{http_code}' -H "Content-Type: $ct" "$@" \
		--data-binary @"$f" "$URL"
}

expect_ok() { # name status want-body('' = empty)
	local body
	body=$(cat "$T/body")
	if [ "$2" = 200 ] && [ "$body" = "$3" ]; then pass "$1"; else
		fail "$1" "status $2, body '$(head -c 200 "$T/body")'"
	fi
}

# proto, raw pprof gzipped
python3 "$TOOLS/push_encode.py" -l __name__=process_cpu -l service_name=p_proto -l env=test \
	"$T/p.pb.gz" >"$T/req.bin"
expect_ok push/proto "$(post application/proto "$T/req.bin")" ""
# proto with a gzip body, raw pprof not gzipped
python3 "$TOOLS/push_encode.py" -l __name__=process_cpu -l service_name=p_gzip "$T/p.pb" |
	gzip >"$T/req.bin.gz"
expect_ok push/proto_gzip_body "$(post application/proto "$T/req.bin.gz" -H 'Content-Encoding: gzip')" ""
# Connect JSON, camelCase
python3 "$TOOLS/push_encode.py" --json -l __name__=process_cpu -l service_name=p_json \
	"$T/p.pb.gz" >"$T/req.json"
expect_ok push/json "$(post application/json "$T/req.json")" "{}"
# Connect JSON, proto names, gzip body
python3 "$TOOLS/push_encode.py" --snake -l __name__=process_cpu -l service_name=p_snake \
	"$T/p.pb.gz" | gzip >"$T/req.json.gz"
expect_ok push/json_snake_gzip "$(post application/json "$T/req.json.gz" -H 'Content-Encoding: gzip')" "{}"
# hand-written JSON with curl: the documented shape, URL-safe base64 without padding
B64=$(base64 -w0 "$T/p.pb.gz" | tr '+/' '-_' | tr -d '=')
code=$(curl -s -m 10 -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-raw "{\"series\":[{\"labels\":[{\"name\":\"__name__\",\"value\":\"process_cpu\"},{\"name\":\"service_name\",\"value\":\"p_curl\"}],\"samples\":[{\"rawProfile\":\"$B64\",\"ID\":\"x\"}]}]}" \
	"$URL")
expect_ok push/json_curl "$code" "{}"
# two series, the second with two raw profiles (totals add up)
python3 "$TOOLS/push_encode.py" -l __name__=process_cpu -l service_name=p_multi_a "$T/p.pb.gz" \
	--series -l __name__=process_cpu -l service_name=p_multi_b "$T/p.pb.gz" "$T/p.pb" >"$T/multi.bin"
expect_ok push/two_series "$(post application/proto "$T/multi.bin")" ""

NOW=$(date +%s)
check_render() { # test-name query want-ticks want-name
	render_verdict "$1" "$3" "$(python3 "$TOOLS/render_check.py" "$BASE" "$2" $((NOW - 3600)) $((NOW + 60)))" "$4"
}
PT='process_cpu:samples:count::'
check_render push/render_proto "$PT{service_name=\"p_proto\",env=\"test\"}" 10 crunch
check_render push/render_proto_gzip "$PT{service_name=\"p_gzip\"}" 10 crunch
check_render push/render_json "$PT{service_name=\"p_json\"}" 10 crunch
check_render push/render_json_snake "$PT{service_name=\"p_snake\"}" 10 idle
check_render push/render_json_curl "$PT{service_name=\"p_curl\"}" 10 work
check_render push/render_series_a "$PT{service_name=\"p_multi_a\"}" 10 crunch
check_render push/render_series_b "$PT{service_name=\"p_multi_b\"}" 20 crunch
check_render push/render_all "$PT{service_name=~\"p_.*\"}" 80 main

# --- errors are Connect errors ----------------------------------------------------------------
is_connect_error() { # file code
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("code")==sys.argv[2] and d.get("message") else 1)' "$1" "$2" 2>/dev/null
}
printf '\x0a\x05\x0a\x03\x0a\x01' >"$T/trunc.bin"
code=$(post application/proto "$T/trunc.bin")
if [ "$code" = 400 ] && is_connect_error "$T/body" invalid_argument; then pass push/bad_proto; else
	fail push/bad_proto "status $code, body $(head -c 200 "$T/body")"
fi
printf 'not a pprof' >"$T/junk"
python3 "$TOOLS/push_encode.py" -l __name__=process_cpu -l service_name=p_junk "$T/junk" >"$T/junk.bin"
code=$(post application/proto "$T/junk.bin")
if [ "$code" = 422 ] && is_connect_error "$T/body" invalid_argument; then pass push/bad_raw_profile; else
	fail push/bad_raw_profile "status $code, body $(head -c 200 "$T/body")"
fi
code=$(post text/plain "$T/req.json")
if [ "$code" = 415 ] && is_connect_error "$T/body" invalid_argument; then pass push/bad_content_type; else
	fail push/bad_content_type "status $code, body $(head -c 200 "$T/body")"
fi
# a bad raw profile in the second series: nothing of the request is stored
python3 "$TOOLS/push_encode.py" -l __name__=process_cpu -l service_name=p_half "$T/p.pb.gz" \
	--series -l __name__=process_cpu -l service_name=p_half2 "$T/junk" >"$T/half.bin"
code=$(post application/proto "$T/half.bin")
out=$(python3 "$TOOLS/render_check.py" "$BASE" "$PT{service_name=\"p_half\"}" $((NOW - 3600)) $((NOW + 60)))
if [ "$code" = 422 ] && [ "${out%% *}" = 0 ]; then pass push/nothing_half_stored; else
	fail push/nothing_half_stored "status $code, render of the first series: $out"
fi
# duplicate label names are refused before anything is stored; an empty service_name is missing
python3 "$TOOLS/push_encode.py" -l __name__=process_cpu -l service_name=p_ok "$T/p.pb.gz" \
	--series -l service_name=p_dup -l env=a -l env=b "$T/p.pb.gz" >"$T/dup.bin"
code=$(post application/proto "$T/dup.bin")
out=$(python3 "$TOOLS/render_check.py" "$BASE" "$PT{service_name=\"p_ok\"}" $((NOW - 3600)) $((NOW + 60)))
if [ "$code" = 400 ] && grep -q 'duplicate label env' "$T/body" && [ "${out%% *}" = 0 ]; then
	pass push/duplicate_label
else
	fail push/duplicate_label "status $code, body $(head -c 200 "$T/body"), render of p_ok: $out"
fi
python3 "$TOOLS/push_encode.py" -l __name__=process_cpu -l service_name= -l team=p_nosvc "$T/p.pb.gz" >"$T/nosvc.bin"
code=$(post application/proto "$T/nosvc.bin")
out=$(python3 "$TOOLS/render_check.py" "$BASE" "$PT{service_name=\"unknown_service\",team=\"p_nosvc\"}" $((NOW - 3600)) $((NOW + 60)))
if [ "$code" = 200 ] && [ "${out%% *}" = 10 ]; then pass push/unknown_service; else
	fail push/unknown_service "status $code, body $(head -c 200 "$T/body"), render: $out"
fi
code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' "$BASE/pyroscope/label-values?label=env")
if [ "$code" = 200 ] && grep -q '"test"' "$T/body"; then pass push/series_labels; else
	fail push/series_labels "status $code: $(head -c 200 "$T/body")"
fi
if curl -s -m 2 "$BASE/ready" | grep -q ready; then pass push/alive; else
	fail push/alive "/ready does not answer"
fi

echo "server_push: $n_fail failed"
[ "$n_fail" -eq 0 ]
