#!/usr/bin/env bash
# server_querier.sh — the Connect querier.v1.QuerierService of `ember server` end to end: a server
# on loopback is filled through /ingest (folded bodies, a pprof with span_id labels, a pprof made
# by `ember convert`), then every method is called in application/proto (tests/tools/
# querier_proto.py encodes and decodes) and in application/json, the two answers must be equal,
# and exact totals are checked. `go tool pprof -top` reads SelectMergeProfile's answer and its
# total must equal SelectMergeStacktraces' total and /pyroscope/render's numTicks. Errors: Connect
# codes and HTTP statuses for bad selectors, bad bodies, unknown methods, wrong content types.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_querier "$tool is not installed"
		exit 0
	fi
done
if [ ! -x "$EMBER" ]; then
	fail server_querier "no ember binary at $EMBER"
	exit 1
fi
QP="python3 $INTEG_DIR/../tools/querier_proto.py"

source "$(dirname "$0")/lib/server.bash"
start_server_or_exit querier/start
NOW=$(date +%s)
FROM=$((NOW - 60))

printf 'main;serve;parse 100\nmain;serve;render 50\nmain;gc 20\n' >"$T/test.folded"
printf 'main;serve;parse 30\n' >"$T/prod.folded"
printf 'main;work 10\n' >"$T/avg1.folded"
printf 'main;work 30\n' >"$T/avg2.folded"
ingest_body querier/ingest_test "name=app.cpu%7Benv%3Dtest%7D&from=$FROM&until=$NOW&sampleRate=100" "$T/test.folded"
ingest_body querier/ingest_prod "name=app.cpu%7Benv%3Dprod%7D&from=$FROM&until=$NOW&sampleRate=100" "$T/prod.folded"
ingest_body querier/ingest_avg1 "name=avg.cpu&from=$((NOW - 30))&until=$((NOW - 20))&sampleRate=100" "$T/avg1.folded"
ingest_body querier/ingest_avg2 "name=avg.cpu&from=$((NOW - 20))&until=$((NOW - 10))&sampleRate=100" "$T/avg2.folded"
$QP span-pprof "$T/span.pb"
ingest_body querier/ingest_spans "name=spans&format=pprof&from=$FROM&until=$NOW" "$T/span.pb"
printf 'main;work;crunch 7\nmain;idle 3\n' >"$T/p.folded"
"$EMBER" convert "$T/p.folded" -o "$T/p.pb.gz" 2>/dev/null &&
	ingest_body querier/ingest_pprof "name=papp&format=pprof&from=$FROM&until=$NOW" "$T/p.pb.gz"

CPU=process_cpu:cpu:nanoseconds:cpu:nanoseconds
S=$(((NOW - 3600) * 1000))
E=$(((NOW + 60) * 1000))
sel() { # profile-type selector [extra json fields]
	printf '{"profileTypeID":"%s","labelSelector":%s,"start":"%s","end":%s%s}' "$1" \
		"$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$2")" "$S" "$E" "${3:-}"
}

# both NAME METHOD REQUEST PY-EXPR: calls in proto and JSON (answers must be equal) and checks
# the Python expression on the answer d.
both() { # NAME METHOD REQUEST PY-EXPR
	local out rc
	out=$($QP both "$BASE" "$2" "$3" 2>&1)
	rc=$?
	if [ $rc != 0 ]; then
		fail "$1" "rc $rc: $(echo "$out" | head -c 600)"
		return
	fi
	check_expr "$1" "$out" "$4"
}
check_expr() { # NAME JSON PY-EXPR
	if python3 - "$2" "$3" <<'PY'; then pass "$1"; else fail "$1" "$3 is false for $(echo "$2" | head -c 600)"; fi
import json, sys
d = json.loads(sys.argv[1])
def flame_self(fg):  # name -> summed self, from names + delta-encoded levels
    out = {}
    for lv in fg.get("levels", []):
        v = [int(x) for x in lv.get("values", [])]
        for i in range(0, len(v), 4):
            n = fg["names"][v[i + 3]]
            out[n] = out.get(n, 0) + v[i + 2]
    return out
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}
# err NAME METHOD CTYPE BODY WANT-STATUS WANT-CODE
err() {
	local code
	code=$(curl -s -m 5 -o "$T/err.out" -w '%{http_code}' -H "Content-Type: $3" \
		--data-binary "$4" "$BASE/querier.v1.QuerierService/$2")
	if [ "$code" = "$5" ] && grep -q "\"code\":\"$6\"" "$T/err.out" && grep -q '"message":"..' "$T/err.out"; then
		pass "$1"
	else
		fail "$1" "status $code (want $5, code $6): $(head -c 300 "$T/err.out")"
	fi
}

# --- metadata -------------------------------------------------------------------------------
both querier/profile_types ProfileTypes '{}' \
	"any(t['ID']=='$CPU' and t['name']=='process_cpu' and t['sampleType']=='cpu' and t['sampleUnit']=='nanoseconds' and t['periodType']=='cpu' and t['periodUnit']=='nanoseconds' for t in d['profileTypes']) and any(t['ID'].startswith('process_cpu:samples:count') for t in d['profileTypes'])"
both querier/label_names LabelNames "{\"start\":\"$S\",\"end\":\"$E\"}" \
	"{'service_name','env','__profile_type__'} <= set(d['names']) and d['names']==sorted(d['names'])"
both querier/label_values LabelValues '{"name":"service_name"}' "d['names']==['app','avg','papp','spans']"
both querier/label_values_matchers LabelValues '{"name":"service_name","matchers":["{env=\"prod\"}","{service_name=~\"sp.*\"}"]}' \
	"d['names']==['app','spans']"
both querier/series Series '{"labelNames":["service_name","env"],"matchers":["{service_name=\"app\"}"]}' \
	"d['labelsSet']==[{'labels':[{'name':'env','value':'prod'},{'name':'service_name','value':'app'}]},{'labels':[{'name':'env','value':'test'},{'name':'service_name','value':'app'}]}]"
both querier/series_all Series '{}' \
	"len(d['labelsSet'])==5 and all(any(l['name']=='__profile_type__' for l in s['labels']) for s in d['labelsSet'])"
both querier/profile_stats GetProfileStats '{}' "d=={'dataIngested':True}"

# --- flame graphs ---------------------------------------------------------------------------
APP='{service_name="app"}'
both querier/merge_stacktraces SelectMergeStacktraces "$(sel $CPU "$APP")" \
	"d['flamegraph']['total']=='2000000000' and d['flamegraph']['maxSelf']=='1300000000' and flame_self(d['flamegraph'])=={'total':0,'main':0,'serve':0,'parse':1300000000,'render':500000000,'gc':200000000} and d['flamegraph']['names'][0]=='total'"
both querier/merge_stacktraces_max_nodes SelectMergeStacktraces "$(sel $CPU "$APP" ',"maxNodes":"3"')" \
	"d['flamegraph']['total']=='2000000000' and 'other' in d['flamegraph']['names'] and sum(flame_self(d['flamegraph']).values())==2000000000"
both querier/merge_stacktraces_call_site SelectMergeStacktraces "$(sel $CPU "$APP" ',"stackTraceSelector":{"callSite":[{"name":"main"},{"name":"serve"}]}')" \
	"d['flamegraph']['total']=='1800000000' and 'gc' not in d['flamegraph']['names']"
both querier/merge_stacktraces_empty SelectMergeStacktraces "$(sel $CPU '{service_name="nobody"}')" \
	"d['flamegraph'].get('total','0')=='0'"
both querier/span_profile SelectMergeSpanProfile "$(sel $CPU '{service_name="spans"}' ',"spanSelector":["00000000000000a1"]')" \
	"d['flamegraph']['total']=='100' and flame_self(d['flamegraph'])['b']==100"
both querier/span_profile_two SelectMergeSpanProfile "$(sel $CPU '{}' ',"spanSelector":["00000000000000a1","00000000000000b2"]')" \
	"d['flamegraph']['total']=='130' and 'd' not in d['flamegraph']['names']"
both querier/diff Diff "{\"left\":$(sel $CPU '{env="test"}'),\"right\":$(sel $CPU '{env="prod"}')}" \
	"d['flamegraph']['leftTicks']=='1700000000' and d['flamegraph']['rightTicks']=='300000000' and d['flamegraph']['total']=='2000000000' and all(len(l['values'])%7==0 for l in d['flamegraph']['levels'])"

# snake_case names, int64 as numbers and strings, enum by name and number
out=$(curl -s -m 5 -H 'Content-Type: application/json' --data-binary \
	"{\"profile_typeID\":\"$CPU\",\"label_selector\":\"{env=\\\"test\\\"}\",\"start\":$S,\"end\":\"$E\",\"max_nodes\":100,\"format\":\"PROFILE_FORMAT_FLAMEGRAPH\"}" \
	"$BASE/querier.v1.QuerierService/SelectMergeStacktraces")
check_expr querier/json_snake_case "$out" "d['flamegraph']['total']=='1700000000'"
out=$(printf '%s' "$(sel $CPU '{env="test"}' ',"format":1')" | gzip -c | curl -s -m 5 -H 'Content-Type: application/json' \
	-H 'Content-Encoding: gzip' --data-binary @- "$BASE/querier.v1.QuerierService/SelectMergeStacktraces")
check_expr querier/json_gzip_body "$out" "d['flamegraph']['total']=='1700000000'"
out=$($QP call "$BASE" SelectMergeStacktraces "$(sel $CPU '{env="prod"}')" --proto --gzip 2>&1)
check_expr querier/proto_gzip_body "$out" "d['flamegraph']['total']=='300000000'"

# --- series ---------------------------------------------------------------------------------
both querier/select_series_sum SelectSeries "$(sel $CPU "$APP" ',"step":7200')" \
	"len(d['series'])==1 and 'labels' not in d['series'][0] and sum(p['value'] for p in d['series'][0]['points'])==2000000000 and all(int(p['timestamp'])%1000==0 for p in d['series'][0]['points'])"
both querier/select_series_group_by SelectSeries "$(sel $CPU "$APP" ',"step":15,"groupBy":["env"]')" \
	"sorted((s['labels'][0]['value'], sum(p['value'] for p in s['points'])) for s in d['series'])==[('prod',300000000),('test',1700000000)]"
both querier/select_series_limit SelectSeries "$(sel $CPU "$APP" ',"step":15,"groupBy":["env"],"limit":"1"')" \
	"len(d['series'])==1 and d['series'][0]['labels']==[{'name':'env','value':'test'}]"
both querier/select_series_avg SelectSeries "$(sel $CPU '{service_name="avg"}' ',"step":3600,"aggregation":"TIME_SERIES_AGGREGATION_TYPE_AVERAGE"')" \
	"[p['value'] for s in d['series'] for p in s['points']]==[200000000]"
both querier/select_series_avg_sum SelectSeries "$(sel $CPU '{service_name="avg"}' ',"step":3600')" \
	"[p['value'] for s in d['series'] for p in s['points']]==[400000000]"
both querier/select_series_points SelectSeries "$(sel $CPU '{service_name="avg"}' ',"step":1')" \
	"len(d['series'][0]['points'])==2 and all((int(p['timestamp'])-$S)%1000==0 for p in d['series'][0]['points'])"

# --- SelectMergeProfile: go tool pprof agrees ----------------------------------------------
both querier/merge_profile SelectMergeProfile "$(sel $CPU "$APP")" \
	"sum(int(s['value'][0]) for s in d['sample'])==2000000000 and d['stringTable'][0]==''" >/dev/null
$QP call "$BASE" SelectMergeProfile "$(sel $CPU "$APP")" --proto --raw "$T/merged.pb" >/dev/null
render_ticks=$(curl -s -m 5 -G "$BASE/pyroscope/render" --data-urlencode "query=$CPU$APP" \
	--data-urlencode "from=$((NOW - 3600))" --data-urlencode "until=$((NOW + 60))" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["flamebearer"]["numTicks"])')
if [ "$render_ticks" = 2000000000 ]; then pass querier/render_agrees; else
	fail querier/render_agrees "render numTicks $render_ticks, want 2000000000"
fi
if reason=$(go_missing_reason); then
	skip querier/go_pprof_reads_merge_profile "$reason"
else
	total=$(go tool pprof "${PPROF_FLAGS[@]}" -unit=ns -top "$T/merged.pb" 2>"$T/pprof.err" |
		sed -n 's/.*% of \([0-9]*\)ns total.*/\1/p')
	if [ "$total" = 2000000000 ] && [ "$total" = "$render_ticks" ]; then
		pass querier/go_pprof_reads_merge_profile
	else
		fail querier/go_pprof_reads_merge_profile "go tool pprof total '$total' (want 2000000000 = render): $(head -c 300 "$T/pprof.err")"
	fi
fi

# --- errors ---------------------------------------------------------------------------------
J=application/json
err querier/err_unknown_method NoSuchMethod $J '{}' 404 unimplemented
err querier/err_bad_selector SelectMergeStacktraces $J "$(sel $CPU '{a=}')" 400 invalid_argument
err querier/err_missing_type SelectMergeStacktraces $J '{"labelSelector":"{}"}' 400 invalid_argument
err querier/err_bad_json LabelNames $J '{"matchers":[1]}' 400 invalid_argument
err querier/err_not_json LabelNames $J '{"matchers":' 400 invalid_argument
err querier/err_bad_proto SelectSeries application/proto $'\x0a\xff\xff' 400 invalid_argument
err querier/err_wire_type SelectSeries application/proto $'\x08\x01' 400 invalid_argument
err querier/err_bad_step SelectSeries $J "$(sel $CPU '{}' ',"step":0')" 400 invalid_argument
err querier/err_bad_span SelectMergeSpanProfile $J "$(sel $CPU '{}' ',"spanSelector":["xyz"]')" 400 invalid_argument
err querier/err_no_span SelectMergeSpanProfile $J "$(sel $CPU '{}')" 400 invalid_argument
err querier/err_label_values_name LabelValues $J '{}' 400 invalid_argument
err querier/err_bad_enum SelectMergeStacktraces $J "$(sel $CPU '{}' ',"format":"PROFILE_FORMAT_NOPE"')" 400 invalid_argument
err querier/err_tree_format SelectMergeStacktraces $J "$(sel $CPU '{}' ',"format":2')" 501 unimplemented
err querier/err_content_type ProfileTypes text/plain '{}' 415 invalid_argument
code=$(printf 'not gzip' | curl -s -m 5 -o "$T/err.out" -w '%{http_code}' -H 'Content-Type: application/json' \
	-H 'Content-Encoding: gzip' --data-binary @- "$BASE/querier.v1.QuerierService/LabelNames")
if [ "$code" = 400 ]; then pass querier/err_bad_gzip; else fail querier/err_bad_gzip "status $code"; fi
code=$(head -c 20000000 /dev/zero | gzip -c | curl -s -m 10 -o "$T/err.out" -w '%{http_code}' \
	-H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary @- \
	"$BASE/querier.v1.QuerierService/LabelNames")
if [ "$code" = 429 ] && grep -q resource_exhausted "$T/err.out"; then pass querier/err_gzip_bomb; else
	fail querier/err_gzip_bomb "status $code: $(head -c 200 "$T/err.out")"
fi
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/querier.v1.QuerierService/ProfileTypes")
if [ "$code" = 405 ]; then pass querier/err_get; else fail querier/err_get "GET answered $code"; fi
# tenants are separate
out=$(curl -s -m 5 -H 'Content-Type: application/json' -H 'X-Scope-OrgID: other' \
	--data-binary '{"name":"service_name"}' "$BASE/querier.v1.QuerierService/LabelValues")
check_expr querier/tenant_isolated "$out" "d=={}"
if kill -0 "$PID" 2>/dev/null; then pass querier/server_alive; else fail querier/server_alive "the server died"; fi

echo "$n_fail failed"
[ "$n_fail" = 0 ]
