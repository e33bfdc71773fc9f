# clickhouse.bash — clickhouse-server processes for the ClickHouse integration tests, sourced
# after common.bash: loopback only, a temporary data dir under $T/chN, a minimal config in the
# 18.16 syntax (no systemd). ch_missing_reason echoes why the tests cannot run (exit 0) or
# returns 1; ch_prepare N picks free HTTP/TCP ports for node N (CH_HTTP[N], CH_TCP[N]);
# ch_config N [CLUSTER-NAME N1 N2 ...] writes its config (remote_servers: one shard per listed
# node); ch_launch N starts it (again after a kill: same ports, same data) and waits for /ping;
# ch_kill N kills it with SIGKILL; chsql N SQL runs a statement over HTTP. ch_cleanup (call it
# from the EXIT trap) kills what is left.
declare -a CH_HTTP CH_TCP CH_PIDS

ch_missing_reason() {
	if ! command -v clickhouse-server >/dev/null 2>&1; then
		echo "clickhouse-server is not installed (scripts/deps.sh installs it)"
		return 0
	fi
	if ! command -v curl >/dev/null 2>&1; then
		echo "curl is not installed"
		return 0
	fi
	return 1
}

ch_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ch_prepare N: two free consecutive ports, different from the other nodes'.
ch_prepare() {
	local n=$1 tries=0 p
	while [ $tries -lt 50 ]; do
		p=$((30000 + ($$ * 7 + n * 211 + tries * 13) % 9000))
		if ch_port_free "$p" && ch_port_free $((p + 1)) &&
			[[ " ${CH_HTTP[*]:-} ${CH_TCP[*]:-} " != *" $p "* ]] &&
			[[ " ${CH_HTTP[*]:-} ${CH_TCP[*]:-} " != *" $((p + 1)) "* ]]; then
			CH_HTTP[$n]=$p
			CH_TCP[$n]=$((p + 1))
			mkdir -p "$T/ch$n/data" "$T/ch$n/tmp" "$T/ch$n/user_files" "$T/ch$n/log"
			return 0
		fi
		tries=$((tries + 1))
	done
	return 1
}

ch_config() {
	local n=$1 remote="" k
	local dir=$T/ch$n
	shift
	if [ $# -gt 0 ]; then
		local name=$1
		shift
		remote="<remote_servers><$name>"
		for k in "$@"; do
			remote+="<shard><replica><host>127.0.0.1</host><port>${CH_TCP[$k]}</port></replica></shard>"
		done
		remote+="</$name></remote_servers>"
	fi
	cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${CH_HTTP[$n]}</http_port>
  <tcp_port>${CH_TCP[$n]}</tcp_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <max_concurrent_queries>20</max_concurrent_queries>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  $remote
</yandex>
XML
	cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
XML
}

ch_launch() {
	local n=$1 i
	local dir=$T/ch$n
	(cd "$dir" && exec clickhouse-server --config-file="$dir/config.xml") >>"$dir/stdout" 2>&1 &
	CH_PIDS[$n]=$!
	for i in $(seq 1 150); do
		if [ "$(curl -s -m 1 "http://127.0.0.1:${CH_HTTP[$n]}/ping" 2>/dev/null)" = "Ok." ]; then
			return 0
		fi
		kill -0 "${CH_PIDS[$n]}" 2>/dev/null || break
		sleep 0.2
	done
	ch_kill "$n"
	return 1
}

# ch_start_reason N: why node N did not start (the tail of its logs).
ch_start_reason() {
	tail -c 300 "$T/ch$1/log/error.log" "$T/ch$1/stdout" 2>/dev/null | tr '\n' ' '
}

ch_kill() {
	local pid=${CH_PIDS[$1]:-}
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	CH_PIDS[$1]=
}

ch_cleanup() {
	local n
	for n in "${!CH_PIDS[@]}"; do ch_kill "$n"; done
}

chsql() { curl -sS -m 20 --data-binary "$2" "http://127.0.0.1:${CH_HTTP[$1]}/"; }
