#!/usr/bin/env bash
# server_api.sh — Ember's JSON API (/api/v1/profile-types, series, top, function, export) and the
# focus/ignore arguments of /pyroscope/render, end to end: a server on loopback filled with folded
# bodies through /ingest, exact totals checked on every endpoint, exports read back (pprof by
# `ember top`, folded sums, speedscope JSON, SVG), and bad arguments answered 4xx with
# {"error": "..."}.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_api "$tool is not installed"
		exit 0
	fi
done
if [ ! -x "$EMBER" ]; then
	fail server_api "no ember binary at $EMBER"
	exit 1
fi
source "$(dirname "$0")/lib/server.bash"
start_server_or_exit api/start
NOW=$(date +%s)
FROM=$((NOW - 60))

printf 'main;serve;parse 100\nmain;serve;render 50\nmain;gc 20\n' >"$T/test.folded"
printf 'main;serve;parse 30\n' >"$T/prod.folded"
ingest_body api/ingest_test "name=app.cpu%7Benv%3Dtest%7D&from=$FROM&until=$NOW&sampleRate=100" "$T/test.folded"
ingest_body api/ingest_prod "name=app.cpu%7Benv%3Dprod%7D&from=$((FROM + 10))&until=$NOW&sampleRate=100" "$T/prod.folded"

CPU=process_cpu:cpu:nanoseconds:cpu:nanoseconds
Q="$CPU{service_name=\"app\"}"
RANGE=(--data-urlencode "from=$((NOW - 3600))" --data-urlencode "until=$((NOW + 60))")

# get NAME PATH PY-EXPR [curl args...]: GET, status 200, JSON answer d satisfies the expression.
get() {
	local name=$1 path=$2 expr=$3 code
	shift 3
	code=$(curl -s -m 10 -G -o "$T/get.out" -w '%{http_code}' "$BASE$path" "$@")
	if [ "$code" != 200 ]; then
		fail "$name" "status $code: $(head -c 300 "$T/get.out")"
		return
	fi
	if python3 - "$T/get.out" "$expr" <<'PY'; then pass "$name"; else fail "$name" "$expr is false for $(head -c 600 "$T/get.out")"; fi
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}
# bad NAME STATUS PATH [curl args...]: the status and a JSON {"error": "..."} body.
bad() {
	local name=$1 want=$2 path=$3 code
	shift 3
	code=$(curl -s -m 10 -o "$T/bad.out" -w '%{http_code}' "$BASE$path" "$@")
	if [ "$code" = "$want" ] && python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(0 if len(e) > 5 else 1)' "$T/bad.out" 2>/dev/null; then
		pass "$name"
	else
		fail "$name" "status $code (want $want): $(head -c 300 "$T/bad.out")"
	fi
}

# --- profile-types ------------------------------------------------------------------------------
get api/profile_types /api/v1/profile-types \
	"d['types']==[{'id':'$CPU','name':'process_cpu','sample_type':'cpu','sample_unit':'nanoseconds','period_type':'cpu','period_unit':'nanoseconds'}]"

# --- series -------------------------------------------------------------------------------------
get api/series /api/v1/series \
	"d['unit']=='nanoseconds' and d['step']==12 and len(d['series'])==1 and d['series'][0]['labels']=={} and sum(p[1] for p in d['series'][0]['points'])==2000000000 and all(isinstance(p[0], int) and p[0] > 10**12 for p in d['series'][0]['points'])" \
	--data-urlencode "query=$Q" "${RANGE[@]}"
get api/series_group_by /api/v1/series \
	"d['step']==60 and sorted((s['labels']['env'], sum(p[1] for p in s['points'])) for s in d['series'])==[('prod',300000000),('test',1700000000)]" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode step=60 --data-urlencode group_by=env
get api/series_limit /api/v1/series "len(d['series'])==1 and d['series'][0]['labels']=={'env':'test'}" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode group_by=env --data-urlencode limit=1
get api/series_avg /api/v1/series "[p[1] for p in d['series'][0]['points']]==[1000000000]" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode step=7200 --data-urlencode agg=avg
get api/series_sum /api/v1/series "[p[1] for p in d['series'][0]['points']]==[2000000000]" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode step=7200 --data-urlencode agg=sum

# --- top ----------------------------------------------------------------------------------------
get api/top /api/v1/top \
	"d['unit']=='nanoseconds' and d['total']==2000000000 and d['rows'][0]=={'name':'parse','self':1300000000,'total':1300000000} and {r['name']:r['total'] for r in d['rows']}['main']==2000000000 and [r['self'] for r in d['rows']]==sorted([r['self'] for r in d['rows']], reverse=True)" \
	--data-urlencode "query=$Q" "${RANGE[@]}"
get api/top_limit /api/v1/top "len(d['rows'])==2 and d['total']==2000000000" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode limit=2
get api/top_focus /api/v1/top \
	"d['total']==500000000 and {r['name'] for r in d['rows']}=={'main','serve','render'}" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode focus=rend
get api/top_ignore /api/v1/top "d['total']==200000000 and [r['name'] for r in d['rows']][0]=='gc'" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode ignore='^serve$'
get api/top_focus_ignore /api/v1/top "d['total']==1300000000" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode focus=serve --data-urlencode ignore=render

# --- function -----------------------------------------------------------------------------------
get api/function /api/v1/function \
	"d['function']=='serve' and d['unit']=='nanoseconds' and sum(p['total'] for p in d['points'])==1800000000 and sum(p['self'] for p in d['points'])==0 and sum(p['all'] for p in d['points'])==2000000000" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode function=serve
get api/function_leaf /api/v1/function \
	"d['step']==7200 and [(p['self'],p['total'],p['all']) for p in d['points']]==[(1300000000,1300000000,2000000000)]" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode function=parse --data-urlencode step=7200

# --- export -------------------------------------------------------------------------------------
export_to() { # NAME FORMAT OUT [curl args...]
	local name=$1 fmt=$2 out=$3 code
	shift 3
	code=$(curl -s -m 10 -G -D "$T/headers" -o "$out" -w '%{http_code}' "$BASE/api/v1/export" \
		--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode "format=$fmt" "$@")
	[ "$code" = 200 ] || fail "$name" "status $code: $(head -c 300 "$out")"
}
export_to api/export_pprof pprof "$T/e.pb.gz"
if grep -qi '^Content-Disposition: attachment; filename="ember-process_cpu.pb.gz"' "$T/headers"; then
	pass api/export_disposition
else
	fail api/export_disposition "$(grep -i disposition "$T/headers")"
fi
if "$EMBER" top --raw "$T/e.pb.gz" >"$T/top.txt" 2>&1 && grep -q parse "$T/top.txt" &&
	[ "$(head -c 2 "$T/e.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
	pass api/export_pprof_readable
else
	fail api/export_pprof_readable "$(head -c 300 "$T/top.txt")"
fi
if [ "$(go_missing_reason)" = "" ]; then
	t=$(go tool pprof "${PPROF_FLAGS[@]}" -unit=ns -top "$T/e.pb.gz" 2>/dev/null | sed -n 's/.*% of \([0-9]*\)ns total.*/\1/p')
	if [ "$t" = 2000000000 ]; then pass api/export_pprof_go; else fail api/export_pprof_go "go tool pprof total '$t'"; fi
fi
export_to api/export_folded folded "$T/e.folded"
sum=$(awk '{ s += $NF } END { print s }' "$T/e.folded")
if [ "$sum" = 2000000000 ] && grep -qx 'main;serve;parse 1300000000' "$T/e.folded" &&
	grep -qi 'filename="ember-process_cpu.folded"' "$T/headers"; then
	pass api/export_folded_sum
else
	fail api/export_folded_sum "sum $sum: $(head -c 300 "$T/e.folded")"
fi
export_to api/export_folded_focus folded "$T/f.folded" --data-urlencode focus=gc
if [ "$(cat "$T/f.folded")" = "main;gc 200000000" ]; then pass api/export_focus; else
	fail api/export_focus "$(head -c 300 "$T/f.folded")"
fi
export_to api/export_speedscope speedscope "$T/e.speedscope.json"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if "speedscope" in d["$schema"] and sum(sum(p["weights"]) for p in d["profiles"])==2000000000 else 1)' "$T/e.speedscope.json"; then
	pass api/export_speedscope_valid
else
	fail api/export_speedscope_valid "$(head -c 300 "$T/e.speedscope.json")"
fi
export_to api/export_svg svg "$T/e.svg"
if grep -q '<svg' "$T/e.svg" && grep -q 'parse' "$T/e.svg" && grep -qi 'Content-Type: image/svg+xml' "$T/headers"; then
	pass api/export_svg_valid
else
	fail api/export_svg_valid "$(head -c 300 "$T/e.svg")"
fi

# --- /pyroscope/render focus/ignore -------------------------------------------------------------
get api/render_focus /pyroscope/render \
	"d['flamebearer']['numTicks']==1300000000 and 'gc' not in d['flamebearer']['names'] and d['timeline'] is not None" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode focus=parse
get api/render_ignore /pyroscope/render \
	"d['flamebearer']['numTicks']==1800000000 and 'gc' not in d['flamebearer']['names']" \
	--data-urlencode "query=$Q" "${RANGE[@]}" --data-urlencode ignore=gc
get api/render_plain /pyroscope/render "d['flamebearer']['numTicks']==2000000000" \
	--data-urlencode "query=$Q" "${RANGE[@]}"
get api/render_diff_focus /pyroscope/render-diff \
	"d['metadata']['format']=='double' and d['flamebearer']['leftTicks']==1000000000 and d['flamebearer']['rightTicks']==300000000" \
	--data-urlencode "leftQuery=$CPU{env=\"test\"}" --data-urlencode "rightQuery=$CPU{env=\"prod\"}" \
	--data-urlencode "leftFrom=$((NOW - 3600))" --data-urlencode "rightFrom=$((NOW - 3600))" \
	--data-urlencode "leftUntil=$((NOW + 60))" --data-urlencode "rightUntil=$((NOW + 60))" --data-urlencode focus=parse
bad api/render_bad_regex 400 "/pyroscope/render" -G --data-urlencode "query=$Q" --data-urlencode 'focus=(unclosed'

# --- errors -------------------------------------------------------------------------------------
bad api/err_no_query 400 /api/v1/top
bad api/err_bad_query 400 /api/v1/top -G --data-urlencode "query=$CPU{service_name=}"
bad api/err_no_type 400 /api/v1/series -G --data-urlencode 'query={service_name="app"}'
bad api/err_bad_from 400 /api/v1/top -G --data-urlencode "query=$Q" --data-urlencode from=yesterday
bad api/err_bad_limit 400 /api/v1/top -G --data-urlencode "query=$Q" --data-urlencode limit=-1
bad api/err_bad_step 400 /api/v1/series -G --data-urlencode "query=$Q" --data-urlencode step=0
bad api/err_too_many_points 400 /api/v1/series -G --data-urlencode "query=$Q" --data-urlencode from=now-30d --data-urlencode step=1
bad api/err_bad_agg 400 /api/v1/series -G --data-urlencode "query=$Q" --data-urlencode agg=max
bad api/err_no_function 400 /api/v1/function -G --data-urlencode "query=$Q"
bad api/err_bad_format 400 /api/v1/export -G --data-urlencode "query=$Q" --data-urlencode format=png
bad api/err_bad_regex 400 /api/v1/top -G --data-urlencode "query=$Q" --data-urlencode 'ignore=a{2,1}'
bad api/err_unknown 404 /api/v1/nothing
bad api/err_post 405 /api/v1/top -X POST -d x
if kill -0 "$PID" 2>/dev/null; then pass api/server_alive; else fail api/server_alive "the server died"; fi

echo "$n_fail failed"
[ "$n_fail" = 0 ]
