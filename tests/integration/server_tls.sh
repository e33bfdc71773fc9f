#!/usr/bin/env bash
# server_tls.sh — HTTPS: a self-signed certificate made with `openssl req`; the server started
# with --tls-cert/--tls-key answers curl --cacert over https (ready, ingest, query), plain HTTP
# to the same port fails, the config file's server.tls section works too, and a key that does
# not match the certificate or a missing key file stops the server at start with a message.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3 openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_tls "$tool is not installed (scripts/deps.sh installs openssl)"
		exit 0
	fi
done
source "$(dirname "$0")/lib/server.bash"
source "$(dirname "$0")/lib/server_ops.bash"

mkcert() { # name
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.crt" -days 2 \
		-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
		>"$T/openssl.log" 2>&1
}
if ! mkcert srv || ! mkcert other; then
	fail server_tls/cert "openssl req failed: $(head -c 300 "$T/openssl.log")"
	exit 1
fi
SCHEME=https
CACERT=$T/srv.crt
if ! start_server_with --tls-cert "$T/srv.crt" --tls-key "$T/srv.key"; then
	fail server_tls/start "the server did not start: $(head -c 300 "$T/server.err")"
	exit 1
fi
pass server_tls/start

expect server_tls/https_ready 200 "$(http_code --cacert "$CACERT" "$BASE/ready")"
NOW=$(date +%s)
expect server_tls/https_ingest 200 "$(http_code --cacert "$CACERT" \
	--data-binary $'main;tls;work 9' "$BASE/ingest?name=tlsapp&from=$((NOW - 10))&until=$NOW")"
code=$(http_code --cacert "$CACERT" "$BASE/pyroscope/label-values?label=service_name")
if [ "$code" = 200 ] && grep -q tlsapp "$T/body"; then pass server_tls/https_query; else
	fail server_tls/https_query "status $code: $(head -c 200 "$T/body")"
fi
# A client that does not trust the certificate refuses it.
if curl -s -m 5 -o /dev/null "$BASE/ready" 2>/dev/null; then
	fail server_tls/untrusted_refused "curl accepted an unknown self-signed certificate"
else
	pass server_tls/untrusted_refused
fi
code=$(curl -s -m 5 -o "$T/plain" -w '%{http_code}' "http://127.0.0.1:$PORT/ready" 2>/dev/null)
if [ "$code" != 200 ] && ! grep -q ready "$T/plain" 2>/dev/null; then
	pass server_tls/plain_http_fails
else
	fail server_tls/plain_http_fails "plain HTTP got $code"
fi
stop_server
expect server_tls/exit_0 0 "$STOP_RC"

# server.tls in the config file.
cat >"$T/tls.yaml" <<Y
server:
  tls:
    cert: $T/srv.crt
    key: $T/srv.key
Y
if start_server_with --config "$T/tls.yaml"; then
	expect server_tls/config_https 200 "$(http_code --cacert "$CACERT" "$BASE/ready")"
	stop_server
else
	fail server_tls/config_https "the server did not start: $(head -c 300 "$T/server.err")"
fi

# A key of another certificate, a missing key, a key without a certificate.
"$EMBER" server --listen 127.0.0.1:1 --data-dir "$T/d2" --tls-cert "$T/srv.crt" \
	--tls-key "$T/other.key" >/dev/null 2>"$T/err" &
p=$!
for i in $(seq 1 20); do # 2 s at most: it should exit at once
	kill -0 $p 2>/dev/null || break
	sleep 0.1
done
if kill -0 $p 2>/dev/null; then
	kill -KILL $p
	wait $p 2>/dev/null
	fail server_tls/mismatched_key "the server started with a key of another certificate"
else
	wait $p
	rc=$?
	if [ $rc -ne 0 ] && grep -qi 'tls' "$T/err"; then pass server_tls/mismatched_key; else
		fail server_tls/mismatched_key "rc $rc: $(head -c 200 "$T/err")"
	fi
fi
"$EMBER" server --listen 127.0.0.1:1 --data-dir "$T/d3" --tls-cert "$T/srv.crt" \
	--tls-key "$T/nope.key" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'nope.key' "$T/err"; then pass server_tls/missing_key; else
	fail server_tls/missing_key "rc $rc: $(head -c 200 "$T/err")"
fi
"$EMBER" server --data-dir "$T/d4" --tls-cert "$T/srv.crt" >/dev/null 2>"$T/err"
expect server_tls/cert_without_key_usage 2 $? "$(head -c 200 "$T/err")"
exit $((n_fail > 0))
