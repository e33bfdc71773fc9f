#!/usr/bin/env bash
# server_load.sh — `ember server` under bounded concurrent load, then kill -9 and restart:
#   1. LOAD_SECONDS (default 20) of 6 pushers (keep-alive connections, Pyroscope /ingest of
#      folded CPU profiles, each push with a unique leaf function push_<P>_<K> and value, so its
#      total is known) and 2 queriers (/pyroscope/render of what was pushed): every answer is
#      200, or 429 for a push (rate limit); no transport errors; every render parses.
#   2. The same load again; once 200 of its pushes were acknowledged the server is killed with
#      SIGKILL while pushes are in flight; the pushers stop at their first transport error.
#   3. A restart on the same data directory, then one render per (pusher, batch of 200 pushes):
#      every push that was answered 200 in either phase is there with its exact total
#      (value x 10 ms in ns). Pushes in flight at the kill may or may not be there.
source "$(dirname "$0")/lib/common.bash"

for tool in curl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip server_load "$tool is not installed"
		exit 0
	fi
done
if [ ! -x "$EMBER" ]; then
	fail server_load "no ember binary at $EMBER"
	exit 1
fi
source "$(dirname "$0")/lib/server.bash"
LOAD_SECONDS=${LOAD_SECONDS:-20}

cat >"$T/load.py" <<'PY'
# load.py run BASE SECONDS PHASE ACKS | verify BASE ACKS
import http.client, json, random, sys, threading, time, urllib.parse

PUSHERS, QUERIERS, BATCH = 6, 2, 200
QTYPE = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"


def conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def query_of(p, b):
    return '%s{service_name="loadapp",pusher="%d",batch="%d"}' % (QTYPE, p, b)


def render(c, p, b):
    qs = urllib.parse.urlencode({"query": query_of(p, b), "from": "0",
                                 "until": str(int(time.time()) + 86400), "format": "json"})
    c.request("GET", "/pyroscope/render?" + qs)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        return r.status, None
    fb = json.loads(body)["flamebearer"]
    names, totals = fb["names"], {}
    for level in fb["levels"]:
        for i in range(0, len(level), 4):  # [offset, total, self, name] per node
            n = names[level[i + 3]]
            totals[n] = totals.get(n, 0) + level[i + 1]
    return 200, totals


def run(base, seconds, phase, acks_path):
    stop = time.time() + seconds
    lock = threading.Lock()
    acks = open(acks_path, "a")
    st = {"ok": 0, "429": 0, "bad": [], "neterr": 0, "q_ok": 0, "q_bad": []}
    t0 = int(time.time())

    def pusher(p):
        c = conn(base)
        k = 0
        while time.time() < stop:
            k += 1
            seq = phase * 1000000 + k
            v = seq % 97 + 1
            body = "main;pusher_%d;push_%d_%d %d\n" % (p, p, seq, v)
            name = "loadapp.cpu{pusher=%d,batch=%d}" % (p, seq // BATCH)
            qs = urllib.parse.urlencode({"name": name, "from": str(t0 - 10 + k % 10),
                                         "until": str(t0 + k % 10), "sampleRate": "100",
                                         "spyName": "loadtest"})
            try:
                c.request("POST", "/ingest?" + qs, body=body.encode())
                r = c.getresponse()
                r.read()
            except Exception as e:
                with lock:
                    st["neterr"] += 1
                    st.setdefault("neterr_msg", repr(e))
                return
            with lock:
                if r.status == 200:
                    st["ok"] += 1
                    acks.write("%d %d %d\n" % (p, seq, v))
                    acks.flush()
                elif r.status == 429:
                    st["429"] += 1
                    time.sleep(0.01)
                elif len(st["bad"]) < 5:
                    st["bad"].append(r.status)

    def querier(i):
        c = conn(base)
        rnd = random.Random(i)
        while time.time() < stop:
            try:
                s, totals = render(c, rnd.randrange(PUSHERS), phase * 1000000 // BATCH)
            except Exception as e:
                with lock:
                    st["neterr"] += 1
                    st.setdefault("neterr_msg", repr(e))
                return
            with lock:
                if s == 200:
                    st["q_ok"] += 1
                elif len(st["q_bad"]) < 5:
                    st["q_bad"].append(s)
            time.sleep(0.05)

    th = [threading.Thread(target=pusher, args=(p,)) for p in range(PUSHERS)]
    th += [threading.Thread(target=querier, args=(i,)) for i in range(QUERIERS)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    acks.close()
    print(json.dumps(st))


def verify(base, acks_path):
    want = {}
    for line in open(acks_path):
        p, seq, v = map(int, line.split())
        want.setdefault((p, seq // BATCH), []).append((seq, v))
    c = conn(base)
    missing, wrong, queries = [], [], 0
    for (p, b), pushes in sorted(want.items()):
        s, totals = render(c, p, b)
        queries += 1
        if s != 200:
            print(json.dumps({"error": "render status %d for pusher %d batch %d" % (s, p, b)}))
            return
        for seq, v in pushes:
            got = totals.get("push_%d_%d" % (p, seq))
            if got is None:
                missing.append(seq)
            elif got != v * 10000000:
                wrong.append((seq, got, v * 10000000))
    print(json.dumps({"acked": sum(len(x) for x in want.values()), "queries": queries,
                      "missing": len(missing), "missing_first": missing[:5],
                      "wrong": len(wrong), "wrong_first": wrong[:5]}))


if sys.argv[1] == "run":
    run(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
else:
    verify(sys.argv[2], sys.argv[3])
PY

# field JSON KEY: a value of the driver's one-line JSON summary
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }

start_server_or_exit server_load/start
ACKS=$T/acks

# --- 1. steady load ---------------------------------------------------------------------
out=$(python3 "$T/load.py" run "$BASE" "$LOAD_SECONDS" 1 "$ACKS" 2>"$T/load1.err" | tail -1)
ok=$(field "$out" ok)
if [ -z "$ok" ]; then
	fail server_load/steady "the load driver failed: $(head -c 300 "$T/load1.err")"
elif [ "$ok" -lt 100 ]; then
	fail server_load/steady "only $ok pushes acknowledged in ${LOAD_SECONDS}s: $out"
elif [ "$(field "$out" bad)" != "[]" ] || [ "$(field "$out" q_bad)" != "[]" ] ||
	[ "$(field "$out" neterr)" != 0 ] || [ "$(field "$out" q_ok)" -lt 1 ]; then
	fail server_load/steady "statuses other than 200/429 or transport errors: $out"
else
	pass server_load/steady
	echo "    steady: ${LOAD_SECONDS}s: $ok pushes acknowledged, $(field "$out" 429) answered 429, $(field "$out" q_ok) renders"
fi
if curl -s -m 2 "$BASE/ready" | grep -q ready; then pass server_load/alive_after_load; else
	fail server_load/alive_after_load "/ready does not answer"
fi

# --- 2. kill -9 mid-load ----------------------------------------------------------------
python3 "$T/load.py" run "$BASE" 60 2 "$ACKS" >"$T/load2.out" 2>"$T/load2.err" &
LOADER=$!
# Kill once this phase's pushes are being acknowledged (at least 200 of them), not after a fixed
# time: on a busy machine the driver may take seconds to start.
n0=$(wc -l <"$ACKS")
for i in $(seq 1 300); do
	[ "$(wc -l <"$ACKS")" -ge $((n0 + 200)) ] && break
	kill -0 "$LOADER" 2>/dev/null || break
	sleep 0.1
done
n_before=$(wc -l <"$ACKS")
kill -KILL "$PID" 2>/dev/null
wait "$PID" 2>/dev/null
st=$?
PID=
wait "$LOADER"
if [ "$st" != 137 ]; then
	fail server_load/no_crash "the server ended by itself (status $st) before the kill: $(tail -c 300 "$T/server.err")"
fi
out=$(tail -1 "$T/load2.out")
ok2=$(field "$out" ok)
if [ -z "$ok2" ] || [ "$ok2" -lt 1 ]; then
	fail server_load/kill9_under_load "no push acknowledged before the kill: $out $(head -c 300 "$T/load2.err")"
elif [ "$(field "$out" bad)" != "[]" ]; then
	fail server_load/kill9_under_load "statuses other than 200/429 before the kill: $out"
else
	pass server_load/kill9_under_load
	echo "    killed with $ok2 pushes of this phase acknowledged ($n_before acknowledged in all at the kill signal)"
fi

# --- 3. restart: every acknowledged push is there, with its total -----------------------
t_restart=$(date +%s.%N)
if ! start_server "$PORT" && ! start_server; then
	fail server_load/restart "the server did not restart: $(head -c 300 "$T/server.err")"
	exit 1
fi
BASE="http://127.0.0.1:$PORT"
t_ready=$(date +%s.%N)
out=$(python3 "$T/load.py" verify "$BASE" "$ACKS" 2>"$T/verify.err" | tail -1)
acked=$(field "$out" acked)
if [ -z "$acked" ]; then
	fail server_load/acked_pushes_survive "verification failed: $out $(head -c 300 "$T/verify.err")"
elif [ "$(field "$out" missing)" != 0 ] || [ "$(field "$out" wrong)" != 0 ]; then
	fail server_load/acked_pushes_survive "$out"
else
	pass server_load/acked_pushes_survive
	echo "    all $acked acknowledged pushes found with their exact totals ($(field "$out" queries) renders; restart $(awk -v a="$t_restart" -v b="$t_ready" 'BEGIN { printf "%.1f", b - a }') s, check $(awk -v a="$t_ready" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"
fi
if grep -qi "truncat" "$T/server.err"; then
	echo "    the WAL tail was torn by the kill and truncated at replay, as designed"
fi
kill -TERM "$PID"
wait "$PID"
PID=

echo "server_load: $n_fail failed"
[ "$n_fail" -eq 0 ]
