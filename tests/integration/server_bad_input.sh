#!/usr/bin/env bash
# server_bad_input.sh — hostile requests against the ingest and query endpoints of `ember
# server`: malformed pprof (/ingest, Push), malformed OTLP, malformed Connect JSON, a gzip bomb
# (Push and OTLP), an oversized body, a series with 10k labels (Push JSON, OTLP attributes,
# /ingest tags), a huge label value, an unknown content type, an invalid matcher in a query.
# Each must get the right 4xx with a JSON error saying what was wrong, and the server must
# stay up (/ready after each).
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3 gzip; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_bad_input "$tool is not installed"
		exit 0
	fi
done
if [ ! -x "$EMBER" ]; then
	fail server_bad_input "no ember binary at $EMBER"
	exit 1
fi
source "$(dirname "$0")/lib/server.bash"
TOOLS=$INTEG_DIR/../tools

start_server_or_exit bad/start
PUSH="$BASE/push.v1.PusherService/Push"
OTLP="$BASE/v1development/profiles"

# check NAME WANT-STATUS STATUS: the status, a JSON error body, and /ready afterwards
check() {
	local msg
	msg=$(grep -oE '"(message|error)":"[^"]+' "$T/body" | head -1 | cut -d'"' -f4)
	if [ "$3" != "$2" ]; then
		fail "$1" "status $3, want $2: $(head -c 200 "$T/body")"
	elif [ -z "$msg" ]; then
		fail "$1" "no JSON error: $(head -c 200 "$T/body")"
	elif ! curl -s -m 2 "$BASE/ready" | grep -q ready; then
		fail "$1" "the server no longer answers /ready"
	else
		pass "$1 ($2: ${msg:0:70})"
	fi
}
post() { # url content-type file [curl args]
	local url=$1 ct=$2 f=$3
	shift 3
	curl -s -m 30 -o "$T/body" -w '%{http_code}' -H "Content-Type: $ct" "$@" --data-binary @"$f" "$url"
}

# --- malformed bodies -------------------------------------------------------------------------
printf '\x0a\xff\xff\xff\xff\x0f garbage' >"$T/garbage"
check bad/ingest_malformed_pprof 422 "$(post "$BASE/ingest?name=a&format=pprof" application/octet-stream "$T/garbage")"
python3 "$TOOLS/push_encode.py" -l __name__=process_cpu -l service_name=a "$T/garbage" >"$T/push_bad.bin"
check bad/push_malformed_pprof 422 "$(post "$PUSH" application/proto "$T/push_bad.bin")"
check bad/push_malformed_proto 400 "$(post "$PUSH" application/proto "$T/garbage")"
check bad/otlp_malformed 400 "$(post "$OTLP" application/x-protobuf "$T/garbage")"
printf '{"series": [{"labels": [{"name": "a", "value": ' >"$T/bad.json"
check bad/push_malformed_json 400 "$(post "$PUSH" application/json "$T/bad.json")"
printf '{"series": [{"samples": [{"rawProfile": "!!!not base64!!!"}]}]}' >"$T/b64.json"
check bad/push_bad_base64 400 "$(post "$PUSH" application/json "$T/b64.json")"
printf '{"series": {"labels": 7}}' >"$T/shape.json"
check bad/push_wrong_json_shape 400 "$(post "$PUSH" application/json "$T/shape.json")"
python3 -c 'print("[" * 100000)' >"$T/deep.json"
check bad/push_deep_json 400 "$(post "$PUSH" application/json "$T/deep.json")"
check bad/push_unknown_content_type 415 "$(post "$PUSH" text/plain "$T/bad.json")"
check bad/otlp_unknown_content_type 415 "$(post "$OTLP" text/plain "$T/garbage")"
check bad/push_unknown_encoding 415 "$(post "$PUSH" application/proto "$T/garbage" -H 'Content-Encoding: br')"
check bad/push_bad_gzip 400 "$(post "$PUSH" application/proto "$T/garbage" -H 'Content-Encoding: gzip')"

# --- gzip bomb: 256 MiB of zeros in ~250 KiB ----------------------------------------------------
head -c $((256 << 20)) /dev/zero | gzip -1 >"$T/bomb.gz"
check bad/push_gzip_bomb 413 "$(post "$PUSH" application/proto "$T/bomb.gz" -H 'Content-Encoding: gzip')"
check bad/otlp_gzip_bomb 413 "$(post "$OTLP" application/x-protobuf "$T/bomb.gz" -H 'Content-Encoding: gzip')"
# a bomb inside a raw profile of a well-formed push
python3 "$TOOLS/push_encode.py" -l __name__=process_cpu -l service_name=a "$T/bomb.gz" >"$T/push_bomb.bin"
check bad/push_raw_profile_bomb 413 "$(post "$PUSH" application/proto "$T/push_bomb.bin")"

# --- oversized body (the default limit is 16 MiB) ---------------------------------------------
head -c $((17 << 20)) /dev/zero >"$T/big"
check bad/push_too_large 413 "$(post "$PUSH" application/proto "$T/big")"
check bad/otlp_too_large 413 "$(post "$OTLP" application/x-protobuf "$T/big")"

# --- too many labels, huge label values ---------------------------------------------------------
printf 'main;work 5\n' >"$T/p.folded"
"$EMBER" convert "$T/p.folded" -o "$T/p.pb.gz" 2>/dev/null
python3 - "$T/p.pb.gz" >"$T/many.json" <<'PY'
import base64, json, sys
raw = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
labels = [{"name": "__name__", "value": "process_cpu"}, {"name": "service_name", "value": "many"}]
labels += [{"name": "l%d" % i, "value": "v%d" % i} for i in range(10000)]
print(json.dumps({"series": [{"labels": labels, "samples": [{"rawProfile": raw}]}]}))
PY
check bad/push_10k_labels 400 "$(post "$PUSH" application/json "$T/many.json")"
python3 - "$T/p.pb.gz" >"$T/huge.json" <<'PY'
import base64, json, sys
raw = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
labels = [{"name": "__name__", "value": "process_cpu"}, {"name": "service_name", "value": "huge"},
          {"name": "big", "value": "x" * (1 << 20)}]
print(json.dumps({"series": [{"labels": labels, "samples": [{"rawProfile": raw}]}]}))
PY
check bad/push_huge_label_value 400 "$(post "$PUSH" application/json "$T/huge.json")"
python3 - >"$T/otlp_many.json" <<'PY'
import json
res = {"service.name": "otel-many"}
res.update({"attr.%d" % i: "v" for i in range(10000)})
print(json.dumps({"resource": res, "profiles": [{"samples": [{"stack": ["main"], "value": 1}]}]}))
PY
python3 "$TOOLS/otlp_encode.py" "$T/otlp_many.json" >"$T/otlp_many.pb"
check bad/otlp_10k_attributes 400 "$(post "$OTLP" application/x-protobuf "$T/otlp_many.pb")"
python3 - >"$T/otlp_huge.json" <<'PY'
import json
print(json.dumps({"resource": {"service.name": "otel-huge", "big": "y" * (1 << 20)},
                  "profiles": [{"samples": [{"stack": ["main"], "value": 1}]}]}))
PY
python3 "$TOOLS/otlp_encode.py" "$T/otlp_huge.json" >"$T/otlp_huge.pb"
check bad/otlp_huge_attribute 400 "$(post "$OTLP" application/x-protobuf "$T/otlp_huge.pb")"
TAGS=$(python3 -c 'print(",".join("t%d=v" % i for i in range(500)))')
check bad/ingest_500_tags 400 "$(curl -s -m 10 -o "$T/body" -w '%{http_code}' --data-binary @"$T/p.folded" \
	"$BASE/ingest?name=app.cpu%7B$TAGS%7D")"

# --- queries --------------------------------------------------------------------------------------
check bad/render_invalid_matcher 400 "$(curl -s -m 10 -o "$T/body" -w '%{http_code}' -G "$BASE/pyroscope/render" \
	--data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=~"(unclosed"}' \
	--data-urlencode from=now-1h --data-urlencode until=now)"
check bad/render_bad_selector_syntax 400 "$(curl -s -m 10 -o "$T/body" -w '%{http_code}' -G "$BASE/pyroscope/render" \
	--data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="x"' \
	--data-urlencode from=now-1h --data-urlencode until=now)"

# nothing of the refused requests was stored
code=$(curl -s -m 5 -o "$T/svc" -w '%{http_code}' "$BASE/pyroscope/label-values?label=service_name")
if [ "$code" = 200 ] && ! grep -qE 'many|huge|otel' "$T/svc"; then pass bad/nothing_stored; else
	fail bad/nothing_stored "status $code, services $(head -c 200 "$T/svc")"
fi
if kill -0 "$PID" 2>/dev/null && curl -s -m 2 "$BASE/ready" | grep -q ready; then pass bad/alive; else
	fail bad/alive "the server died: $(tail -c 300 "$T/server.err")"
fi

echo "server_bad_input: $n_fail failed"
[ "$n_fail" -eq 0 ]
