#!/usr/bin/env bash
# server_multipart.sh — Pyroscope's multipart /ingest as the Go and Node SDKs send it: curl -F
# profile=@cpu.pb.gz -F sample_type_config=@cfg.json, read back with /pyroscope/render under the
# renamed sample type; then hostile forms (no boundary, unterminated part, missing profile part,
# prev_profile, bad and deep JSON) must each answer 400 with a JSON error and leave the server up.
# Also /pyroscope/render-diff over two folded profiles ingested at two times (leftTicks/rightTicks)
# and the render timeline (per-step totals) over both.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_multipart "$tool is not installed"
		exit 0
	fi
done
if [ ! -x "$EMBER" ]; then
	fail server_multipart "no ember binary at $EMBER"
	exit 1
fi

source "$(dirname "$0")/lib/server.bash"

start_server_or_exit server/start
pass server/start
BASE="http://127.0.0.1:$PORT"

cat >"$T/p.folded" <<'F'
main;handle;decode 6
main;handle;encode 4
F
NOW=$(date +%s)
FROM=$((NOW - 30))
if ! "$EMBER" convert "$T/p.folded" -o "$T/cpu.pb.gz" 2>"$T/conv.err"; then
	fail server/mp_convert "ember convert failed: $(head -c 200 "$T/conv.err")"
	exit 1
fi
cat >"$T/cfg.json" <<'J'
{"samples": {"units": "count", "display-name": "cpu", "aggregation": "sum", "cumulative": false, "sampled": true}}
J
code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' -F profile=@"$T/cpu.pb.gz" \
	-F sample_type_config=@"$T/cfg.json" \
	"$BASE/ingest?name=mapp%7Benv%3Dmp%7D&from=${FROM}000000000&until=${NOW}000000000&spyName=gospy")
if [ "$code" = 200 ]; then pass server/mp_ingest; else
	fail server/mp_ingest "status $code: $(head -c 200 "$T/body")"
fi

code=$(curl -s -m 5 -G -o "$T/render.json" -w '%{http_code}' "$BASE/pyroscope/render" \
	--data-urlencode 'query=process_cpu:cpu:count::{service_name="mapp"}' \
	--data-urlencode "from=$((FROM - 60))" --data-urlencode "until=$((NOW + 60))")
out=$(python3 - "$T/render.json" "$code" <<'PY'
import json, sys
if sys.argv[2] != "200":
    print("ERR status " + sys.argv[2] + " " + open(sys.argv[1]).read()[:200]); sys.exit(0)
fb = json.load(open(sys.argv[1]))["flamebearer"]
names = set(fb["names"])
ok = fb["numTicks"] == 10 and {"decode", "encode", "handle"} <= names
print("OK" if ok else "ERR numTicks %s names %s" % (fb["numTicks"], sorted(names)))
PY
)
if [ "$out" = OK ]; then pass server/mp_render; else fail server/mp_render "$out"; fi

# --- hostile forms: each a 400 with a JSON error ------------------------------------------
is_json_error() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("error") else 1)' "$1" 2>/dev/null
}
bad_form() { # test-name content-type body-file [curl args...]
	local name=$1 ct=$2 file=$3
	code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' -H "Content-Type: $ct" \
		--data-binary @"$file" "$BASE/ingest?name=mapp")
	if [ "$code" = 400 ] && is_json_error "$T/body"; then pass "$name"; else
		fail "$name" "status $code, body $(head -c 200 "$T/body")"
	fi
}
printf -- '--XYZ\r\nContent-Disposition: form-data; name="profile"\r\n\r\nabc' >"$T/m1"
bad_form server/mp_unterminated 'multipart/form-data; boundary=XYZ' "$T/m1"
bad_form server/mp_no_boundary 'multipart/form-data' "$T/m1"
printf -- '--XYZ\r\nContent-Disposition: form-data; name="other"\r\n\r\nabc\r\n--XYZ--\r\n' >"$T/m2"
bad_form server/mp_no_profile 'multipart/form-data; boundary=XYZ' "$T/m2"
printf -- '--XYZ\r\nX: y\r\n\r\nabc\r\n--XYZ--\r\n' >"$T/m3"
bad_form server/mp_no_disposition 'multipart/form-data; boundary=XYZ' "$T/m3"
printf 'garbage with no boundary at all' >"$T/m4"
bad_form server/mp_garbage 'multipart/form-data; boundary=XYZ' "$T/m4"
for i in $(seq 1 20); do
	printf -- '--XYZ\r\nContent-Disposition: form-data; name="p%d"\r\n\r\nx\r\n' "$i"
done >"$T/m5"
printf -- '--XYZ--\r\n' >>"$T/m5"
bad_form server/mp_too_many_parts 'multipart/form-data; boundary=XYZ' "$T/m5"

mp_code() { # args for curl -F...
	curl -s -m 5 -o "$T/body" -w '%{http_code}' "$@" "$BASE/ingest?name=mapp"
}
code=$(mp_code -F profile=@"$T/cpu.pb.gz" -F prev_profile=@"$T/cpu.pb.gz")
if [ "$code" = 400 ] && is_json_error "$T/body"; then pass server/mp_prev_profile; else
	fail server/mp_prev_profile "status $code, body $(head -c 200 "$T/body")"
fi
printf '{"samples": {"units": ' >"$T/bad.json"
code=$(mp_code -F profile=@"$T/cpu.pb.gz" -F sample_type_config=@"$T/bad.json")
if [ "$code" = 400 ] && is_json_error "$T/body"; then pass server/mp_bad_json; else
	fail server/mp_bad_json "status $code, body $(head -c 200 "$T/body")"
fi
python3 -c 'print("[" * 5000 + "]" * 5000)' >"$T/deep.json"
code=$(mp_code -F profile=@"$T/cpu.pb.gz" -F sample_type_config=@"$T/deep.json")
if [ "$code" = 400 ] && is_json_error "$T/body"; then pass server/mp_deep_json; else
	fail server/mp_deep_json "status $code, body $(head -c 200 "$T/body")"
fi
printf 'not a protobuf \xff\xff' >"$T/bad.pb"
code=$(mp_code -F profile=@"$T/bad.pb")
if { [ "$code" = 400 ] || [ "$code" = 422 ]; } && is_json_error "$T/body"; then
	pass server/mp_bad_profile
else
	fail server/mp_bad_profile "status $code, body $(head -c 200 "$T/body")"
fi
if curl -s -m 2 "$BASE/ready" | grep -q ready; then pass server/mp_alive; else
	fail server/mp_alive "/ready does not answer"
fi

# --- render-diff: two folded profiles at two times ---------------------------------------
T1=$((NOW - 600))
T2=$((NOW - 300))
printf 'main;old_path 30\nmain;shared 10\n' >"$T/left.folded"
printf 'main;new_path 50\nmain;shared 20\n' >"$T/right.folded"
c1=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' --data-binary @"$T/left.folded" \
	"$BASE/ingest?name=dapp.cpu&from=$T1&until=$((T1 + 10))")
c2=$(curl -s -m 5 -o "$T/body2" -w '%{http_code}' --data-binary @"$T/right.folded" \
	"$BASE/ingest?name=dapp.cpu&from=$T2&until=$((T2 + 10))")
if [ "$c1" = 200 ] && [ "$c2" = 200 ]; then pass server/diff_ingest; else
	fail server/diff_ingest "status $c1 $c2: $(head -c 200 "$T/body") $(head -c 200 "$T/body2")"
fi
DQ='process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="dapp"}'
code=$(curl -s -m 5 -G -o "$T/diff.json" -w '%{http_code}' "$BASE/pyroscope/render-diff" \
	--data-urlencode "leftQuery=$DQ" --data-urlencode "leftFrom=$((T1 - 5))" \
	--data-urlencode "leftUntil=$((T1 + 60))" --data-urlencode "rightQuery=$DQ" \
	--data-urlencode "rightFrom=$((T2 - 5))" --data-urlencode "rightUntil=$((T2 + 60))")
out=$(python3 - "$T/diff.json" "$code" <<'PY'
import json, sys
if sys.argv[2] != "200":
    print("ERR status " + sys.argv[2] + " " + open(sys.argv[1]).read()[:200]); sys.exit(0)
d = json.load(open(sys.argv[1]))
fb = d["flamebearer"]
fmt = d.get("metadata", {}).get("format")
lt, rt = fb.get("leftTicks"), fb.get("rightTicks")
names = set(fb["names"])
ok = (fmt == "double" and lt == 40 * 10000000 and rt == 70 * 10000000
      and {"old_path", "new_path", "shared"} <= names)
print("OK" if ok else "ERR format %s leftTicks %s rightTicks %s names %s" % (fmt, lt, rt, sorted(names)))
PY
)
if [ "$out" = OK ]; then pass server/render_diff; else fail server/render_diff "$out"; fi
code=$(curl -s -m 5 -G -o "$T/tl.json" -w '%{http_code}' "$BASE/pyroscope/render" \
	--data-urlencode "query=$DQ" --data-urlencode "from=$((T1 - 5))" \
	--data-urlencode "until=$((T2 + 60))")
out=$(python3 - "$T/tl.json" "$code" <<'PY'
import json, sys
if sys.argv[2] != "200":
    print("ERR status " + sys.argv[2] + " " + open(sys.argv[1]).read()[:200]); sys.exit(0)
d = json.load(open(sys.argv[1]))
tl = d.get("timeline") or {}
s = tl.get("samples", [])
ok = (tl.get("durationDelta") == 10 and sum(s) == 110 * 10000000
      and len([v for v in s if v]) == 2 and d["flamebearer"]["numTicks"] == 110 * 10000000)
print("OK" if ok else "ERR timeline %s" % json.dumps(tl)[:300])
PY
)
if [ "$out" = OK ]; then pass server/render_timeline; else fail server/render_timeline "$out"; fi
code=$(curl -s -m 5 -o "$T/body" -w '%{http_code}' "$BASE/pyroscope/render-diff?leftQuery=x")
if [ "$code" = 400 ] && is_json_error "$T/body"; then pass server/render_diff_bad; else
	fail server/render_diff_bad "status $code, body $(head -c 200 "$T/body")"
fi

kill -TERM "$PID"
wait "$PID"
PID=
echo "server_multipart: $n_fail failed"
[ "$n_fail" -eq 0 ]
