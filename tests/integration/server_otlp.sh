#!/usr/bin/env bash
# server_otlp.sh — OTLP/HTTP profiles end to end: tests/tools/otlp_encode.py (written from the
# opentelemetry-proto v1development protos) builds an ExportProfilesServiceRequest with two
# profiles (cpu as samples/count × period, and alloc_space) sharing one dictionary, resource,
# scope, profile and sample attributes, a span link, and samples given as values or as
# timestamps. Posted raw and gzipped to /v1development/profiles; /pyroscope/render must show
# the exact totals and function names, the attributes must be labels, and hostile requests
# (indices out of range) must get a 400 naming the field and store nothing. The exported pprof
# read by `ember top --raw` must show the exact per-function values.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3 gzip; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_otlp "$tool is not installed"
		exit 0
	fi
done
if [ ! -x "$EMBER" ]; then
	fail server_otlp "no ember binary at $EMBER"
	exit 1
fi
source "$(dirname "$0")/lib/server.bash"
TOOLS=$INTEG_DIR/../tools

start_server_or_exit otlp/start
URL="$BASE/v1development/profiles"
NOW=$(date +%s)
NOW_NS=$((NOW * 1000000000))

spec() { # service -> a request spec on stdout
	cat <<J
{"resource": {"service.name": "$1", "host.name": "node-7", "process.pid": 4242},
 "scope": {"name": "ebpf-profiler", "version": "1.0", "attrs": {"scope.kind": "ebpf"}},
 "profiles": [
  {"sample_type": ["samples", "count"], "period_type": ["cpu", "nanoseconds"],
   "period": 10000000, "time_ns": $NOW_NS, "duration_ns": 10000000000,
   "attrs": {"deployment.environment": "prod"},
   "samples": [
     {"stack": ["main", "serve", "parse_request"], "value": 5, "attrs": {"thread.name": "@worker-1"}},
     {"stack": ["main", "serve", "render_page"], "timestamps": 3, "span_id": "0102030405060708"},
     {"stack": ["main", "gc_mark"], "value": 2}]},
  {"sample_type": ["alloc_space", "bytes"], "period_type": ["space", "bytes"], "period": 524288,
   "time_ns": $NOW_NS,
   "samples": [{"stack": ["main", "serve", "alloc_buffer"], "value": 4096},
               {"stack": ["main", "load_config"], "value": 1024}]}
 ]}
J
}
spec otel_raw >"$T/raw.json"
spec otel_gz >"$T/gz.json"
python3 "$TOOLS/otlp_encode.py" "$T/raw.json" >"$T/raw.pb"
python3 "$TOOLS/otlp_encode.py" "$T/gz.json" | gzip >"$T/gz.pb.gz"

post() { # file [curl args] -> status; body in $T/body
	local f=$1
	shift
	curl -s -m 10 -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/x-protobuf' "$@" \
		--data-binary @"$f" "$URL"
}
code=$(post "$T/raw.pb")
if [ "$code" = 200 ] && [ ! -s "$T/body" ]; then pass otlp/post; else
	fail otlp/post "status $code, body $(head -c 300 "$T/body")"
fi
code=$(post "$T/gz.pb.gz" -H 'Content-Encoding: gzip')
if [ "$code" = 200 ]; then pass otlp/post_gzip; else
	fail otlp/post_gzip "status $code, body $(head -c 300 "$T/body")"
fi

check_render() { # test-name query want-ticks want-name...
	local name=$1 q=$2 want=$3
	shift 3
	render_verdict "$name" "$want" "$(python3 "$TOOLS/render_check.py" "$BASE" "$q" $((NOW - 3600)) $((NOW + 60)))" "$@"
}
CPU='process_cpu:cpu:nanoseconds:cpu:nanoseconds'
MEM='memory:alloc_space:bytes:space:bytes'
# cpu: (5 + 3 timestamps + 2) samples × 10 ms period
check_render otlp/render_cpu "$CPU{service_name=\"otel_raw\"}" $((10 * 10000000)) main serve parse_request render_page gc_mark
check_render otlp/render_cpu_gzip "$CPU{service_name=\"otel_gz\"}" $((10 * 10000000)) parse_request
check_render otlp/render_alloc "$MEM{service_name=\"otel_raw\"}" 5120 alloc_buffer load_config
check_render otlp/render_labels "$CPU{service_name=\"otel_raw\",host.name=\"node-7\",deployment.environment=\"prod\",scope.kind=\"ebpf\",process.pid=\"4242\"}" $((10 * 10000000)) render_page

code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' "$BASE/pyroscope/labels")
if [ "$code" = 200 ] && python3 - "$T/body" <<'PY'; then pass otlp/label_names; else fail otlp/label_names "status $code: $(head -c 300 "$T/body")"; fi
import json, sys
names = set(json.load(open(sys.argv[1])))
want = {"service_name", "host.name", "process.pid", "deployment.environment", "scope.kind"}
sys.exit(0 if want <= names else 1)
PY

# exported as pprof, `ember top --raw` sees the exact per-function values
code=$(curl -s -m 10 -G -o "$T/export.pb.gz" -w '%{http_code}' "$BASE/api/v1/export" \
	--data-urlencode "query=$CPU{service_name=\"otel_raw\"}" \
	--data-urlencode "from=$((NOW - 3600))" --data-urlencode "until=$((NOW + 60))")
if [ "$code" != 200 ]; then
	fail otlp/ember_top "export: status $code: $(head -c 200 "$T/export.pb.gz")"
elif ! "$EMBER" top --raw "$T/export.pb.gz" >"$T/top.txt" 2>&1; then
	fail otlp/ember_top "ember top: $(head -c 200 "$T/top.txt")"
else
	got=$(awk '$NF == "parse_request" || $NF == "render_page" || $NF == "gc_mark" { print $NF "=" $1 }' "$T/top.txt" | sort | tr '\n' ' ')
	want="gc_mark=20000000 parse_request=50000000 render_page=30000000 "
	if [ "$got" = "$want" ]; then pass otlp/ember_top; else
		fail otlp/ember_top "flat values '$got', want '$want'"
	fi
fi

# --- hostile requests: 400 naming the field, nothing stored -----------------------------------
spec otel_bad >"$T/bad.json"
for kind in stack-index function-index string-index attr-index link-index location-index truncated values-timestamps; do
	python3 "$TOOLS/otlp_encode.py" "$T/bad.json" --bad "$kind" >"$T/bad.pb"
	code=$(post "$T/bad.pb")
	msg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error",""))' "$T/body" 2>/dev/null)
	case $kind in
	stack-index) want=stack_index ;;
	function-index) want=function_index ;;
	string-index) want=name_strindex ;;
	attr-index) want=attribute_indices ;;
	link-index) want=link_index ;;
	location-index) want=location_indices ;;
	truncated) want=malformed ;;
	values-timestamps) want=timestamps ;;
	esac
	if [ "$code" = 400 ] && echo "$msg" | grep -q "$want"; then pass "otlp/bad_$kind"; else
		fail "otlp/bad_$kind" "status $code, error '$msg' (want one naming $want)"
	fi
done
out=$(python3 "$TOOLS/render_check.py" "$BASE" "$CPU{service_name=\"otel_bad\"}" $((NOW - 3600)) $((NOW + 60)))
if [ "${out%% *}" = 0 ]; then pass otlp/bad_stores_nothing; else
	fail otlp/bad_stores_nothing "render: $out"
fi
code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' --data '{}' "$URL")
if [ "$code" = 415 ] && grep -q error "$T/body"; then pass otlp/json_415; else
	fail otlp/json_415 "status $code, body $(head -c 200 "$T/body")"
fi
if curl -s -m 2 "$BASE/ready" | grep -q ready; then pass otlp/alive; else
	fail otlp/alive "/ready does not answer"
fi

echo "server_otlp: $n_fail failed"
[ "$n_fail" -eq 0 ]
