#!/usr/bin/env bash
# server_node_sdk.sh — the real @pyroscope/nodejs SDK (node_modules, installed by
# scripts/deps.sh) against `ember server`: a small Node program burns CPU in emberBurnCpu for
# ~3.5 s with a 1 s flush interval and stops the SDK (a final flush). The SDK posts gzipped
# pprof to /ingest?format=pprof (wall and heap profiles). The wall profile's merged flame
# graph (/pyroscope/render, and querier SelectMergeStacktraces JSON unless that answers 501)
# must attribute most of the time to emberBurnCpu; the app name and tags become labels.
source "$(dirname "$0")/lib/common.bash"

ROOT=$(cd "$INTEG_DIR/../.." && pwd)
SDK=$ROOT/node_modules/@pyroscope/nodejs
for tool in curl python3 node; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_node_sdk "$tool is not installed"
		exit 0
	fi
done
if [ ! -f "$SDK/package.json" ]; then
	skip server_node_sdk "@pyroscope/nodejs is not in node_modules (run scripts/deps.sh)"
	exit 0
fi
if [ ! -x "$EMBER" ]; then
	fail server_node_sdk "no ember binary at $EMBER"
	exit 1
fi
source "$(dirname "$0")/lib/server.bash"
TOOLS=$INTEG_DIR/../tools

start_server_or_exit node_sdk/start

cat >"$T/app.js" <<'JS'
const Pyroscope = require(process.env.PYRO_MODULE);
// The SDK's flush timer can race with stop() (a round starting after the profilers stopped
// rejects with "... is not started/enabled"); that is the SDK's business, not the server's.
process.on('unhandledRejection', (e) => console.error('sdk:', e && e.message));
Pyroscope.init({serverAddress: process.env.SERVER, appName: 'node-burner',
	flushIntervalMs: 1000, tags: {env: 'sdk-test'}});
Pyroscope.start();
function emberBurnCpu(ms) {
	const end = Date.now() + ms;
	let x = 0;
	while (Date.now() < end)
		for (let i = 0; i < 10000; i++) x += Math.sqrt(i);
	return x;
}
let total = 0;
const t0 = Date.now();
function loop() {
	total += emberBurnCpu(50);
	if (Date.now() - t0 < 3500) setImmediate(loop);
	else Pyroscope.stop().then(() => {
		console.log('stopped', total > 0);
		process.exit(0); // a raced flush timer may still be armed
	});
}
loop();
JS
NOW=$(date +%s)
if PYRO_MODULE=$SDK SERVER=$BASE timeout 60 node "$T/app.js" >"$T/node.out" 2>&1 &&
	grep -q 'stopped true' "$T/node.out"; then
	pass node_sdk/run
else
	fail node_sdk/run "node: $(head -c 300 "$T/node.out")"
fi

curl -s -m 5 "$BASE/metrics" >"$T/metrics"
n=$(awk '$1 == "ember_ingest_profiles_total" { print $2 }' "$T/metrics")
e=$(awk '$1 == "ember_ingest_errors_total" { print $2 }' "$T/metrics")
if [ "${n:-0}" -ge 2 ] && [ "${e:-1}" = 0 ]; then pass node_sdk/ingested; else
	fail node_sdk/ingested "profiles stored '${n:-}', ingest errors '${e:-}'"
fi
curl -s -m 5 "$BASE/pyroscope/label-values?label=__profile_type__" >"$T/types"
if grep -q '"wall:wall:nanoseconds:wall:nanoseconds"' "$T/types"; then pass node_sdk/wall_type; else
	fail node_sdk/wall_type "profile types: $(head -c 300 "$T/types")"
fi
curl -s -m 5 "$BASE/pyroscope/label-values?label=env" >"$T/env"
if grep -q '"sdk-test"' "$T/env"; then pass node_sdk/tags; else
	fail node_sdk/tags "env values: $(head -c 200 "$T/env")"
fi

WALL='wall:wall:nanoseconds:wall:nanoseconds'
SEL='{service_name="node-burner",env="sdk-test"}'
share_ok() { # name "TOTAL MATCHED": emberBurnCpu must hold >= 50% of a non-empty graph
	local total=${2%% *} matched=${2##* }
	if [ -n "$total" ] && [ "$total" -gt 0 ] 2>/dev/null && [ $((matched * 2)) -ge "$total" ]; then
		pass "$1"
	else
		fail "$1" "total '$total', emberBurnCpu '$matched' (want >= 50%)"
	fi
}
out=$(curl -s -m 10 -G "$BASE/pyroscope/render" --data-urlencode "query=$WALL$SEL" \
	--data-urlencode "from=$((NOW - 60))" --data-urlencode "until=$((NOW + 120))" |
	python3 "$TOOLS/flame_share.py" emberBurnCpu 2>&1)
share_ok node_sdk/render_flame "$out"

req="{\"profile_typeID\":\"$WALL\",\"label_selector\":\"{service_name=\\\"node-burner\\\"}\",\"start\":$(((NOW - 60) * 1000)),\"end\":$(((NOW + 120) * 1000))}"
code=$(curl -s -m 10 -o "$T/merge.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data "$req" "$BASE/querier.v1.QuerierService/SelectMergeStacktraces")
if [ "$code" = 501 ]; then
	skip node_sdk/select_merge_stacktraces "SelectMergeStacktraces answers 501"
elif [ "$code" = 200 ]; then
	share_ok node_sdk/select_merge_stacktraces "$(python3 "$TOOLS/flame_share.py" emberBurnCpu <"$T/merge.json" 2>&1)"
else
	fail node_sdk/select_merge_stacktraces "status $code: $(head -c 200 "$T/merge.json")"
fi

echo "server_node_sdk: $n_fail failed"
[ "$n_fail" -eq 0 ]
