#!/usr/bin/env bash
# server_auth.sh — bearer tokens and tenants: with tokens in the config, open routes (/ready,
# /metrics) need none; ingest and query need a token (401 missing/unknown, with
# WWW-Authenticate), the right scope (403) and their own tenant (an X-Scope-OrgID naming another
# tenant → 403). Tenant A's token cannot read or write tenant B's data. token_file and Basic auth
# (password = token) work; /metrics counts 401 and 403.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_auth "$tool is not installed"
		exit 0
	fi
done
source "$(dirname "$0")/lib/server.bash"
source "$(dirname "$0")/lib/server_ops.bash"

TA=tokA-ingest-query-0123456789
TB=tokB-ingest-query-9876543210
TQ=tokA-query-only-5555555555
TX=tokAdmin-all-777777777777
printf '%s\n' "$TB" >"$T/b.token"
cat >"$T/ember.yaml" <<Y
auth:
  tokens:
    - token: $TA
      tenant: team-a
      scopes: [ingest, query]
    - token_file: b.token
      tenant: team-b
      scopes: [ingest, query]
    - token: "$TQ"
      tenant: team-a
      scopes: [query]
    - token: $TX
      tenant: ops
      scopes: [admin]
Y
if ! start_server_with --config "$T/ember.yaml"; then
	fail server_auth/start "the server did not start: $(head -c 300 "$T/server.err")"
	exit 1
fi
pass server_auth/start
if grep -q -e "$TA" -e "$TB" -e "$TQ" "$T/server.err" "$T/server.out"; then
	fail server_auth/no_token_in_logs "a token appears in the server's output"
else
	pass server_auth/no_token_in_logs
fi

NOW=$(date +%s)
ingest() { # token tenant-header app [extra curl args]
	local tok=$1 hdr=$2 app=$3
	shift 3
	local args=(--data-binary $'main;work 5\nmain;idle 1')
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	[ -n "$hdr" ] && args+=(-H "X-Scope-OrgID: $hdr")
	http_code "${args[@]}" "$@" "$BASE/ingest?name=$app&from=$((NOW - 10))&until=$NOW"
}
services() { # token -> service names (sorted, space-separated) or ERR<code>
	local code
	code=$(http_code -H "Authorization: Bearer $1" "$BASE/pyroscope/label-values?label=service_name")
	if [ "$code" != 200 ]; then
		echo "ERR$code"
		return
	fi
	python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1])))))' "$T/body"
}

expect server_auth/open_ready 200 "$(http_code "$BASE/ready")"
expect server_auth/open_metrics 200 "$(http_code "$BASE/metrics")"
expect server_auth/missing_token_401 401 "$(ingest "" "" noauth)"
if grep -qi '^WWW-Authenticate: Bearer' "$T/headers"; then pass server_auth/www_authenticate; else
	fail server_auth/www_authenticate "no WWW-Authenticate header on 401"
fi
expect server_auth/unknown_token_401 401 "$(ingest not-a-known-token-000 "" unknown)"
expect server_auth/query_without_token_401 401 \
	"$(http_code "$BASE/pyroscope/label-values?label=service_name")"
expect server_auth/wrong_scope_403 403 "$(ingest "$TQ" "" queryonly)"
expect server_auth/a_ingests 200 "$(ingest "$TA" "" appa)"
expect server_auth/a_ingests_own_header 200 "$(ingest "$TA" team-a appa2)"
expect server_auth/b_ingests_token_file 200 "$(ingest "$TB" "" appb)"
expect server_auth/a_writes_b_403 403 "$(ingest "$TA" team-b intruder)"
expect server_auth/a_reads_b_403 403 "$(http_code -H "Authorization: Bearer $TA" \
	-H 'X-Scope-OrgID: team-b' "$BASE/pyroscope/label-values?label=service_name")"
expect server_auth/a_sees_own "appa appa2" "$(services "$TA")"
expect server_auth/b_sees_own "appb" "$(services "$TB")"
expect server_auth/query_token_sees_a "appa appa2" "$(services "$TQ")"
expect server_auth/admin_sees_none_of_others "" "$(services "$TX")"
# An unauthenticated-looking tenant (anonymous) has nothing either, and the intruder's write
# went nowhere.
expect server_auth/no_intruder_in_b "appb" "$(services "$TB")"
basic=$(printf 'anyuser:%s' "$TA" | base64 -w0)
expect server_auth/basic_auth 200 "$(http_code -H "Authorization: Basic $basic" \
	"$BASE/pyroscope/label-values?label=service_name")"
bad_basic=$(printf 'anyuser:%s' wrong-password-xyz | base64 -w0)
expect server_auth/basic_auth_wrong_401 401 "$(http_code -H "Authorization: Basic $bad_basic" \
	"$BASE/pyroscope/label-values?label=service_name")"
# B's render of A's app finds nothing.
# render_appa TOKEN: renders appa's CPU with TOKEN; sets code and ticks (numTicks or "ERR why").
render_appa() {
	code=$(http_code -H "Authorization: Bearer $1" -G "$BASE/pyroscope/render" \
		--data-urlencode 'query=process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="appa"}' \
		--data-urlencode "from=$((NOW - 100))" --data-urlencode "until=$((NOW + 100))")
	ticks=$(python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1]))["flamebearer"]["numTicks"])
except Exception as e: print("ERR", e)' "$T/body")
}
render_appa "$TB"
if [ "$code" = 200 ] && [ "$ticks" = 0 ]; then pass server_auth/b_renders_a_empty; else
	fail server_auth/b_renders_a_empty "status $code numTicks $ticks"
fi
render_appa "$TA"
if [ "$code" = 200 ] && [ "$ticks" != 0 ] && [ "${ticks%% *}" != ERR ]; then
	pass server_auth/a_renders_a
else
	fail server_auth/a_renders_a "status $code numTicks $ticks"
fi

curl -s -m 5 "$BASE/metrics" >"$T/metrics"
n401=$(awk '$1 == "ember_http_unauthorized_total" { print $2 }' "$T/metrics")
n403=$(awk '$1 == "ember_http_forbidden_total" { print $2 }' "$T/metrics")
if [ "${n401:-0}" -ge 4 ] && [ "${n403:-0}" -ge 3 ]; then pass server_auth/metrics_counters; else
	fail server_auth/metrics_counters "401=$n401 403=$n403"
fi
stop_server
expect server_auth/exit_0 0 "$STOP_RC"
exit $((n_fail > 0))
