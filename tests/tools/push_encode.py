#!/usr/bin/env python3
"""push_encode.py — builds a Pyroscope push.v1 PushRequest for Ember's tests (stdlib only).

Proto (grafana/pyroscope api/push/v1/push.proto, api/types/v1/types.proto):
  PushRequest { repeated RawProfileSeries series = 1; }
  RawProfileSeries { repeated LabelPair labels = 1; repeated RawSample samples = 2; }
  LabelPair { string name = 1; string value = 2; }
  RawSample { bytes raw_profile = 1; string ID = 2; }

Usage: push_encode.py [--json] [--snake] [--series] -l NAME=VALUE... PROFILE... > request
  --json    Connect JSON (camelCase: rawProfile, base64) instead of binary proto
  --snake   JSON with proto field names (raw_profile)
  --series  start a new series: labels and profiles after it go to the next series
Each PROFILE file (pprof, gzipped or not) becomes one RawSample of the current series.
"""
import base64
import json
import sys
import uuid

sys.path.insert(0, __import__("os").path.dirname(__file__))
import pbwire as pb  # noqa: E402


def main(argv):
    js = snake = False
    series = [{"labels": [], "samples": []}]
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--json":
            js = True
        elif a == "--snake":
            js = snake = True
        elif a == "--series":
            series.append({"labels": [], "samples": []})
        elif a == "-l":
            i += 1
            k, _, v = argv[i].partition("=")
            series[-1]["labels"].append((k, v))
        else:
            with open(a, "rb") as f:
                series[-1]["samples"].append((f.read(), str(uuid.uuid4())))
        i += 1
    if js:
        rp = "raw_profile" if snake else "rawProfile"
        doc = {"series": [{"labels": [{"name": k, "value": v} for k, v in s["labels"]],
                           "samples": [{rp: base64.b64encode(raw).decode(), "ID": sid}
                                       for raw, sid in s["samples"]]} for s in series]}
        sys.stdout.write(json.dumps(doc))
        return
    out = b""
    for s in series:
        body = b"".join(pb.lenf(1, pb.lenf(1, k) + pb.lenf(2, v)) for k, v in s["labels"])
        body += b"".join(pb.lenf(2, pb.lenf(1, raw) + pb.lenf(2, sid))
                         for raw, sid in s["samples"])
        out += pb.lenf(1, body)
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main(sys.argv[1:])
