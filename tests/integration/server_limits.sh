#!/usr/bin/env bash
# server_limits.sh — per-tenant limits: tenant "slow" (ingest_rate 0.25/s, burst 2) gets 429 with a
# Retry-After header on its third quick ingest while tenant "fast" (the defaults: unlimited)
# keeps getting 200 at the same moment; after waiting Retry-After seconds "slow" is let through
# again. Tenant "tiny" (max_body 2KiB) gets 413 for a 4 KiB body that "fast" may send, and 422
# for a 1.5 KiB gzipped pprof that inflates beyond its max_decompressed 4KiB; tenant "dense"
# (max_ratio 2) gets 422 for the same body (ratio > 2); tenant "few" (max_series 2) gets 422 on
# the ingest that would make a third series. /metrics
# counts the 429s in total and per tenant.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_limits "$tool is not installed"
		exit 0
	fi
done
source "$(dirname "$0")/lib/server.bash"
source "$(dirname "$0")/lib/server_ops.bash"

cat >"$T/ember.yaml" <<'Y'
limits:
  defaults:
    max_body: 1MiB
  tenants:
    slow:
      ingest_rate: 0.25
      ingest_burst: 2
    tiny:
      max_body: 2KiB
      max_decompressed: 4KiB
    dense:
      max_ratio: 2
    few:
      max_series: 2
Y
if ! start_server_with --config "$T/ember.yaml"; then
	fail server_limits/start "the server did not start: $(head -c 300 "$T/server.err")"
	exit 1
fi
pass server_limits/start

NOW=$(date +%s)
ingest() { # tenant app [curl args]
	local tenant=$1 app=$2
	shift 2
	http_code -H "X-Scope-OrgID: $tenant" --data-binary $'main;work 5' "$@" \
		"$BASE/ingest?name=$app&from=$((NOW - 10))&until=$NOW"
}

codes=""
for i in 1 2 3; do codes="$codes $(ingest slow app$i)"; done
expect server_limits/slow_burst_then_429 " 200 200 429" "$codes"
retry=$(awk 'tolower($1) == "retry-after:" { gsub("\r", "", $2); print $2 }' "$T/headers")
if [ -n "$retry" ] && [ "$retry" -ge 1 ] 2>/dev/null && [ "$retry" -le 4 ]; then
	pass server_limits/retry_after
else
	fail server_limits/retry_after "Retry-After '$retry'"
fi
if grep -q 'ingest rate' "$T/body"; then pass server_limits/429_message; else
	fail server_limits/429_message "body: $(head -c 200 "$T/body")"
fi
codes=""
for i in 1 2 3 4 5 6; do codes="$codes $(ingest fast fapp$i)"; done
expect server_limits/other_tenant_unaffected " 200 200 200 200 200 200" "$codes"
expect server_limits/slow_still_limited 429 "$(ingest slow app4)"
sleep "${retry:-1}"
sleep 0.2
expect server_limits/slow_after_retry_after 200 "$(ingest slow app5)"

head -c 4096 /dev/zero | tr '\0' 'x' | sed 's/^/main;/; s/$/ 1/' >"$T/big.folded"
expect server_limits/tiny_body_413 413 "$(http_code -H 'X-Scope-OrgID: tiny' \
	--data-binary @"$T/big.folded" "$BASE/ingest?name=t&from=$((NOW - 10))&until=$NOW")"
expect server_limits/fast_body_ok 200 "$(http_code -H 'X-Scope-OrgID: fast' \
	--data-binary @"$T/big.folded" "$BASE/ingest?name=t&from=$((NOW - 10))&until=$NOW")"

python3 - "$T/gz.folded" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(40):
        f.write("main;%s_%d %d\n" % ("x" * 150, i, i + 1))
PY
if "$EMBER" convert "$T/gz.folded" -o "$T/gz.pb.gz" 2>"$T/conv.err"; then
	size=$(wc -c <"$T/gz.pb.gz")
	url="$BASE/ingest?name=gz&format=pprof&from=$((NOW - 10))&until=$NOW"
	if [ "$size" -lt 2048 ]; then
		expect server_limits/tiny_decompressed_422 422 "$(http_code -H 'X-Scope-OrgID: tiny' \
			--data-binary @"$T/gz.pb.gz" "$url")" "$(head -c 200 "$T/body")"
	else
		fail server_limits/tiny_decompressed_422 "the test body is $size bytes, not < 2 KiB"
	fi
	expect server_limits/dense_ratio_422 422 "$(http_code -H 'X-Scope-OrgID: dense' \
		--data-binary @"$T/gz.pb.gz" "$url")" "$(head -c 200 "$T/body")"
	expect server_limits/fast_gzip_ok 200 "$(http_code -H 'X-Scope-OrgID: fast' \
		--data-binary @"$T/gz.pb.gz" "$url")" "$(head -c 200 "$T/body")"
else
	fail server_limits/gzip_body "ember convert failed: $(head -c 200 "$T/conv.err")"
fi

codes=""
for i in 1 2 3; do codes="$codes $(ingest few fewapp$i)"; done
expect server_limits/few_series_422 " 200 200 422" "$codes" "$(head -c 200 "$T/body")"
if grep -q 'max_series' "$T/body"; then pass server_limits/series_message; else
	fail server_limits/series_message "body: $(head -c 200 "$T/body")"
fi
expect server_limits/other_tenant_new_series 200 "$(ingest fast newapp)"

curl -s -m 5 "$BASE/metrics" >"$T/metrics"
n429=$(awk '$1 == "ember_http_rate_limited_total" { print $2 }' "$T/metrics")
slow429=$(awk '$1 == "ember_tenant_rate_limited_total{tenant=\"slow\"}" { print $2 }' "$T/metrics")
fast429=$(awk '$1 == "ember_tenant_rate_limited_total{tenant=\"fast\"}" { print $2 }' "$T/metrics")
fastok=$(awk '$1 == "ember_tenant_ingest_requests_total{tenant=\"fast\"}" { print $2 }' "$T/metrics")
if [ "$n429" = 2 ] && [ "$slow429" = 2 ] && [ "$fast429" = 0 ] && [ "$fastok" = 9 ]; then
	pass server_limits/metrics
else
	fail server_limits/metrics "total=$n429 slow=$slow429 fast=$fast429 fast_ok=$fastok"
fi
fastseries=$(awk '$1 == "ember_tenant_series{tenant=\"fast\"}" { print $2 }' "$T/metrics")
if [ "${fastseries:-0}" -ge 7 ]; then pass server_limits/tenant_series_gauge; else
	fail server_limits/tenant_series_gauge "fast series '$fastseries'"
fi
stop_server
expect server_limits/exit_0 0 "$STOP_RC"
exit $((n_fail > 0))
