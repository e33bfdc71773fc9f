#!/usr/bin/env bash
# server_config.sh — `ember server --config FILE`: the file's listen and data_dir are used;
# flags win over the file (--listen, --max-body); scrape_configs is accepted; log.format json
# gives one JSON object per stderr line; a bad file (unknown key, wrong type, bad value, YAML
# syntax, missing file, tls cert without key) exits with status 2 and a FILE:LINE message
# naming the key.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_config "$tool is not installed"
		exit 0
	fi
done
source "$(dirname "$0")/lib/server.bash"
source "$(dirname "$0")/lib/server_ops.bash"

P1=$((20000 + ($$ * 3 + 101) % 10000))
P2=$((20000 + ($$ * 3 + 4101) % 10000))
cat >"$T/ember.yaml" <<Y
# comments are fine
server:
  listen: 127.0.0.1:$P1
  data_dir: $T/cfgdata
  max_body: 1MiB
  threads: 2
storage:
  retention: 30d
  retention_bytes: 10GiB
  block_duration: 1h
limits:
  defaults:
    max_series: 5000
log:
  level: info
  format: json
scrape_configs:
  - job_name: nothing
    static_configs: []
Y

# 1. The file alone: its listen address and data dir.
if NO_LISTEN=1 start_server_with --port "$P1" --config "$T/ember.yaml"; then
	pass server_config/file_listen
	if [ -d "$T/cfgdata" ]; then pass server_config/file_data_dir; else
		fail server_config/file_data_dir "$T/cfgdata was not created"
	fi
	stop_server
	expect server_config/exit_0 0 "$STOP_RC"
	if python3 - "$T/server.err" <<'PY'; then
import json, sys
n = 0
for line in open(sys.argv[1]):
    if line.startswith("{"):
        o = json.loads(line)
        assert {"ts", "level", "msg"} <= set(o), o
        n += 1
sys.exit(0 if n >= 2 else 1)
PY
		pass server_config/log_json
	else
		fail server_config/log_json "stderr: $(head -c 300 "$T/server.err")"
	fi
else
	fail server_config/file_listen "did not start on $P1: $(head -c 300 "$T/server.err")"
fi

# 2. Flags win: --listen moves it, --max-body lowers the file's 1MiB; the store's limits
# have flags too (--max-stack-depth).
if NO_LISTEN=1 start_server_with --port "$P2" --config "$T/ember.yaml" \
	--listen "127.0.0.1:$P2" --max-body 2KiB --max-stack-depth 3 --commit-delay 1ms \
	--no-compaction; then
	pass server_config/flag_listen_wins
	if curl -s -m 1 "http://127.0.0.1:$P1/ready" >/dev/null 2>&1; then
		fail server_config/file_port_unused "something answers on the file's port $P1"
	else
		pass server_config/file_port_unused
	fi
	head -c 4000 /dev/zero | tr '\0' 'x' | sed 's/^/main;/; s/$/ 1/' >"$T/big"
	NOW=$(date +%s)
	expect server_config/flag_max_body_wins 413 "$(http_code --data-binary @"$T/big" \
		"$BASE/ingest?name=a&from=$((NOW - 5))&until=$NOW")"
	expect server_config/small_body_ok 200 "$(http_code --data-binary 'main;x 1' \
		"$BASE/ingest?name=a&from=$((NOW - 5))&until=$NOW")"
	expect server_config/flag_max_stack_depth 422 "$(http_code --data-binary 'a;b;c;d 1' \
		"$BASE/ingest?name=a&from=$((NOW - 5))&until=$NOW")"
	stop_server
else
	fail server_config/flag_listen_wins "did not start on $P2: $(head -c 300 "$T/server.err")"
fi

# 3. The sample configuration of deploy/ starts (its paths replaced by flags).
SAMPLE=$INTEG_DIR/../../deploy/ember.yaml
if [ ! -f "$SAMPLE" ]; then
	fail server_config/sample "no $SAMPLE"
elif start_server_with --config "$SAMPLE"; then
	pass server_config/sample
	stop_server
else
	fail server_config/sample "did not start: $(head -c 300 "$T/server.err")"
fi

# 4. Bad files: exit 2 and FILE:LINE: key: why.
bad() { # name expected-regex yaml
	printf '%s\n' "$3" >"$T/bad.yaml"
	"$EMBER" server --config "$T/bad.yaml" --data-dir "$T/never" >/dev/null 2>"$T/err" &
	local p=$! i
	for i in $(seq 1 50); do
		kill -0 $p 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $p 2>/dev/null; then
		kill -KILL $p
		wait $p 2>/dev/null
		fail "server_config/$1" "the server started"
		return
	fi
	wait $p
	local rc=$?
	if [ $rc = 2 ] && grep -Eq "$2" "$T/err"; then pass "server_config/$1"; else
		fail "server_config/$1" "rc $rc: $(head -c 300 "$T/err")"
	fi
}
bad unknown_key 'bad\.yaml:3: server\.lisen: unknown key' $'server:\n  threads: 2\n  lisen: 1.2.3.4:5'
bad unknown_top_key 'bad\.yaml:3: serverz: unknown key' $'log:\n  level: info\nserverz:\n  a: 1'
bad wrong_type 'bad\.yaml:2: server\.threads: .*whole number' $'server:\n  threads: many'
bad out_of_range 'bad\.yaml:2: server\.threads: 0 is out of range' $'server:\n  threads: 0'
bad bad_listen 'bad\.yaml:2: server\.listen: .*not an IPv4' $'server:\n  listen: nowhere:80'
bad bad_size 'bad\.yaml:3: limits\.defaults\.max_body: .*not a size' \
	$'limits:\n  defaults:\n    max_body: lots'
bad bad_duration 'bad\.yaml:2: storage\.retention: .*not a duration' $'storage:\n  retention: forever'
bad bad_scope 'bad\.yaml:5: auth\.tokens\[0\]\.scopes: unknown scope' \
	$'auth:\n  tokens:\n    - token: abcdefghijk\n      tenant: a\n      scopes: [ingest, root]'
bad short_token 'bad\.yaml:3: auth\.tokens\[0\]\.token: token must be' \
	$'auth:\n  tokens:\n    - token: abc\n      tenant: a\n      scopes: [query]'
bad duplicate_key 'bad\.yaml:3: server\.threads: duplicate key \(first on line 2\)' \
	$'server:\n  threads: 2\n  threads: 3'
bad yaml_syntax 'bad\.yaml:[0-9]+: YAML: ' $'server:\n  listen: [1, 2\n  x: y'
bad tls_half 'server\.tls needs both cert and key' $'server:\n  tls:\n    cert: /etc/x.pem'
bad bad_log 'bad\.yaml:2: log\.format: .*not text or json' $'log:\n  format: xml'
bad not_mapping 'bad\.yaml:1: .*mapping' '- a list'
"$EMBER" server --config "$T/does-not-exist.yaml" >/dev/null 2>"$T/err"
rc=$?
if [ $rc = 2 ] && grep -q 'does-not-exist.yaml' "$T/err"; then pass server_config/missing_file; else
	fail server_config/missing_file "rc $rc: $(head -c 200 "$T/err")"
fi
"$EMBER" server --retention forever >/dev/null 2>"$T/err"
expect server_config/bad_flag_exit_2 2 $? "$(head -c 200 "$T/err")"
exit $((n_fail > 0))
