#!/usr/bin/env python3
"""ch_load.py — ingest load for an Ember server (used to measure the ClickHouse backend):
THREADS keep-alive connections post folded CPU profiles of STACKS distinct stacks each to
/ingest for SECONDS, every profile its own series value; prints
"profiles N ok M other K profiles_per_s P rows_per_s R" (rows = sample rows written).
Test helper (stdlib only). Usage: ch_load.py BASE THREADS SECONDS STACKS
"""
import http.client
import sys
import threading
import time
import urllib.parse


def worker(host, port, tid, seconds, stacks, out):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    body = "".join("main;svc;handler_%d;leaf_%d %d\n" % (k % 50, k, k + 1)
                   for k in range(stacks)).encode()
    end = time.time() + seconds
    n = ok = other = 0
    while time.time() < end:
        now = int(time.time())
        q = urllib.parse.urlencode({"name": "load.cpu{t=%d,k=%d}" % (tid, n % 20),
                                    "from": now - 10, "until": now})
        try:
            conn.request("POST", "/ingest?" + q, body)
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                ok += 1
            else:
                other += 1
        except Exception:  # noqa: BLE001 - counted, connection renewed
            other += 1
            conn = http.client.HTTPConnection(host, port, timeout=30)
        n += 1
    out.append((n, ok, other))


def main(base, threads, seconds, stacks):
    u = urllib.parse.urlparse(base)
    out = []
    ts = [threading.Thread(target=worker, args=(u.hostname, u.port, t, float(seconds),
                                                int(stacks), out))
          for t in range(int(threads))]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.time() - t0
    n = sum(x[0] for x in out)
    ok = sum(x[1] for x in out)
    other = sum(x[2] for x in out)
    print("profiles %d ok %d other %d profiles_per_s %.0f rows_per_s %.0f"
          % (n, ok, other, ok / dt, ok * int(stacks) / dt))


if __name__ == "__main__":
    main(*sys.argv[1:5])
