#!/usr/bin/env python3
"""querier_proto.py - a Connect client for querier.v1.QuerierService in the tests (stdlib only).

It holds a protobuf codec with the request and response schemas of Grafana Pyroscope's
api/querier/v1/querier.proto, api/types/v1/types.proto and api/google/v1/profile.proto, so a
test can call a method in application/proto and read the answer as protojson.

  querier_proto.py call URL METHOD REQUEST_JSON [--proto|--json] [--gzip] [--raw FILE]
      one call; prints the response as canonical protojson (sorted keys), or
      "HTTP <status> <body>" and exits 1. --raw writes the proto response bytes to FILE.
  querier_proto.py both URL METHOD REQUEST_JSON
      calls in both encodings and exits 2 when the proto answer (decoded to protojson) and
      the JSON answer differ; prints the answer.
  querier_proto.py encode METHOD REQUEST_JSON FILE
      writes the binary request (for fuzz seeds).
  querier_proto.py span-pprof FILE
      writes a pprof (cpu/nanoseconds) whose samples carry span_id labels:
      a;b span 00000000000000a1 = 100, a;c span 00000000000000b2 = 30, a;d no span = 7.
"""
import gzip
import json
import struct
import sys
import urllib.error
import urllib.request

# Schemas: message -> {field number: (json name, type, repeated)}; type is a scalar name or a
# message name. Scalars: string, int64, uint64, int32, double, bool, enum.
S = {
    "ProfileTypesRequest": {1: ("start", "int64", 0), 2: ("end", "int64", 0)},
    "LabelNamesRequest": {1: ("matchers", "string", 1), 2: ("start", "int64", 0),
                          3: ("end", "int64", 0)},
    "LabelValuesRequest": {1: ("name", "string", 0), 2: ("matchers", "string", 1),
                           3: ("start", "int64", 0), 4: ("end", "int64", 0)},
    "SeriesRequest": {1: ("matchers", "string", 1), 2: ("labelNames", "string", 1),
                      3: ("start", "int64", 0), 4: ("end", "int64", 0)},
    "SelectMergeStacktracesRequest": {
        1: ("profileTypeID", "string", 0), 2: ("labelSelector", "string", 0),
        3: ("start", "int64", 0), 4: ("end", "int64", 0), 5: ("maxNodes", "int64", 0),
        6: ("format", "enum", 0), 7: ("stackTraceSelector", "StackTraceSelector", 0)},
    "SelectMergeSpanProfileRequest": {
        1: ("profileTypeID", "string", 0), 2: ("labelSelector", "string", 0),
        3: ("spanSelector", "string", 1), 4: ("start", "int64", 0), 5: ("end", "int64", 0),
        6: ("maxNodes", "int64", 0), 7: ("format", "enum", 0)},
    "SelectMergeProfileRequest": {
        1: ("profileTypeID", "string", 0), 2: ("labelSelector", "string", 0),
        3: ("start", "int64", 0), 4: ("end", "int64", 0), 5: ("maxNodes", "int64", 0),
        6: ("stackTraceSelector", "StackTraceSelector", 0)},
    "SelectSeriesRequest": {
        1: ("profileTypeID", "string", 0), 2: ("labelSelector", "string", 0),
        3: ("start", "int64", 0), 4: ("end", "int64", 0), 5: ("groupBy", "string", 1),
        6: ("step", "double", 0), 7: ("aggregation", "enum", 0), 9: ("limit", "int64", 0)},
    "DiffRequest": {1: ("left", "SelectMergeStacktracesRequest", 0),
                    2: ("right", "SelectMergeStacktracesRequest", 0)},
    "GetProfileStatsRequest": {},
    "StackTraceSelector": {1: ("callSite", "Location", 1)},
    "Location": {1: ("name", "string", 0)},
    # responses
    "ProfileTypesResponse": {1: ("profileTypes", "ProfileType", 1)},
    "ProfileType": {1: ("ID", "string", 0), 2: ("name", "string", 0),
                    4: ("sampleType", "string", 0), 5: ("sampleUnit", "string", 0),
                    6: ("periodType", "string", 0), 7: ("periodUnit", "string", 0)},
    "NamesResponse": {1: ("names", "string", 1)},
    "SeriesResponse": {2: ("labelsSet", "Labels", 1)},
    "Labels": {1: ("labels", "LabelPair", 1)},
    "LabelPair": {1: ("name", "string", 0), 2: ("value", "string", 0)},
    "SelectMergeStacktracesResponse": {1: ("flamegraph", "FlameGraph", 0)},
    "FlameGraph": {1: ("names", "string", 1), 2: ("levels", "Level", 1),
                   3: ("total", "int64", 0), 4: ("maxSelf", "int64", 0)},
    "Level": {1: ("values", "int64", 1)},
    "SelectSeriesResponse": {1: ("series", "Series", 1)},
    "Series": {1: ("labels", "LabelPair", 1), 2: ("points", "Point", 1)},
    "Point": {1: ("value", "double", 0), 2: ("timestamp", "int64", 0)},
    "DiffResponse": {1: ("flamegraph", "FlameGraphDiff", 0)},
    "FlameGraphDiff": {1: ("names", "string", 1), 2: ("levels", "Level", 1),
                       3: ("total", "int64", 0), 4: ("maxSelf", "int64", 0),
                       5: ("leftTicks", "int64", 0), 6: ("rightTicks", "int64", 0)},
    "GetProfileStatsResponse": {1: ("dataIngested", "bool", 0),
                                2: ("oldestProfileTime", "int64", 0),
                                3: ("newestProfileTime", "int64", 0)},
    # google.v1.Profile
    "Profile": {1: ("sampleType", "ValueType", 1), 2: ("sample", "Sample", 1),
                3: ("mapping", "Mapping", 1), 4: ("location", "PLocation", 1),
                5: ("function", "Function", 1), 6: ("stringTable", "string", 1),
                7: ("dropFrames", "int64", 0), 8: ("keepFrames", "int64", 0),
                9: ("timeNanos", "int64", 0), 10: ("durationNanos", "int64", 0),
                11: ("periodType", "ValueType", 0), 12: ("period", "int64", 0),
                13: ("comment", "int64", 1), 14: ("defaultSampleType", "int64", 0)},
    "ValueType": {1: ("type", "int64", 0), 2: ("unit", "int64", 0)},
    "Sample": {1: ("locationId", "uint64", 1), 2: ("value", "int64", 1),
               3: ("label", "PLabel", 1)},
    "PLabel": {1: ("key", "int64", 0), 2: ("str", "int64", 0), 3: ("num", "int64", 0),
               4: ("numUnit", "int64", 0)},
    "Mapping": {1: ("id", "uint64", 0), 2: ("memoryStart", "uint64", 0),
                3: ("memoryLimit", "uint64", 0), 4: ("fileOffset", "uint64", 0),
                5: ("filename", "int64", 0), 6: ("buildId", "int64", 0),
                7: ("hasFunctions", "bool", 0), 8: ("hasFilenames", "bool", 0),
                9: ("hasLineNumbers", "bool", 0), 10: ("hasInlineFrames", "bool", 0)},
    "PLocation": {1: ("id", "uint64", 0), 2: ("mappingId", "uint64", 0),
                  3: ("address", "uint64", 0), 4: ("line", "Line", 1),
                  5: ("isFolded", "bool", 0)},
    "Line": {1: ("functionId", "uint64", 0), 2: ("line", "int64", 0), 3: ("column", "int64", 0)},
    "Function": {1: ("id", "uint64", 0), 2: ("name", "int64", 0), 3: ("systemName", "int64", 0),
                 4: ("filename", "int64", 0), 5: ("startLine", "int64", 0)},
}

METHODS = {  # method -> (request, response)
    "ProfileTypes": ("ProfileTypesRequest", "ProfileTypesResponse"),
    "LabelNames": ("LabelNamesRequest", "NamesResponse"),
    "LabelValues": ("LabelValuesRequest", "NamesResponse"),
    "Series": ("SeriesRequest", "SeriesResponse"),
    "SelectMergeStacktraces": ("SelectMergeStacktracesRequest", "SelectMergeStacktracesResponse"),
    "SelectMergeSpanProfile": ("SelectMergeSpanProfileRequest", "SelectMergeStacktracesResponse"),
    "SelectMergeProfile": ("SelectMergeProfileRequest", "Profile"),
    "SelectSeries": ("SelectSeriesRequest", "SelectSeriesResponse"),
    "Diff": ("DiffRequest", "DiffResponse"),
    "GetProfileStats": ("GetProfileStatsRequest", "GetProfileStatsResponse"),
}

ENUMS = {"PROFILE_FORMAT_UNSPECIFIED": 0, "PROFILE_FORMAT_FLAMEGRAPH": 1, "PROFILE_FORMAT_TREE": 2,
         "TIME_SERIES_AGGREGATION_TYPE_SUM": 0, "TIME_SERIES_AGGREGATION_TYPE_AVERAGE": 1}
INT_TYPES = ("int64", "uint64", "int32", "enum", "bool")


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def key(num, wt):
    return varint((num << 3) | wt)


def encode(msg, obj):
    out = bytearray()
    byname = {v[0]: (num, v[1], v[2]) for num, v in S[msg].items()}
    for name, val in obj.items():
        if name not in byname:
            raise SystemExit("encode %s: unknown field %s" % (msg, name))
        num, typ, rep = byname[name]
        for v in (val if rep else [val]):
            if typ == "string":
                b = v.encode()
                out += key(num, 2) + varint(len(b)) + b
            elif typ == "double":
                out += key(num, 1) + struct.pack("<d", float(v))
            elif typ in INT_TYPES:
                if typ == "enum" and isinstance(v, str):
                    v = ENUMS[v]
                out += key(num, 0) + varint(int(v))
            else:
                b = encode(typ, v)
                out += key(num, 2) + varint(len(b)) + b
    return bytes(out)


def read_varint(b, i):
    v = shift = 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint")
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def scalar(typ, v):
    if typ == "int64" or typ == "int32":
        return str(v - (1 << 64) if v >= 1 << 63 else v)
    if typ == "uint64":
        return str(v)
    if typ == "bool":
        return bool(v)
    return v


def decode(msg, b):
    """Protobuf bytes -> protojson dict (lowerCamel names, int64 as strings, defaults omitted)."""
    out, i, schema = {}, 0, S[msg]
    while i < len(b):
        k, i = read_varint(b, i)
        num, wt = k >> 3, k & 7
        if wt == 0:
            v, i = read_varint(b, i)
            raw = ("varint", v)
        elif wt == 1:
            raw = ("i64", b[i:i + 8])
            i += 8
        elif wt == 2:
            n, i = read_varint(b, i)
            raw = ("len", b[i:i + n])
            if i + n > len(b):
                raise ValueError("truncated field %d of %s" % (num, msg))
            i += n
        elif wt == 5:
            i += 4
            continue
        else:
            raise ValueError("bad wire type %d in %s" % (wt, msg))
        if num not in schema:
            continue
        name, typ, rep = schema[num]
        vals = []
        if raw[0] == "len" and typ in INT_TYPES:  # packed
            j, p = 0, raw[1]
            while j < len(p):
                v, j = read_varint(p, j)
                vals.append(scalar(typ, v))
        elif raw[0] == "varint":
            vals.append(scalar(typ, raw[1]))
        elif raw[0] == "i64":
            vals.append(struct.unpack("<d", raw[1])[0])
        elif typ == "string":
            vals.append(raw[1].decode())
        else:
            vals.append(decode(typ, raw[1]))
        if rep:
            out.setdefault(name, []).extend(vals)
        else:
            out[name] = vals[-1]
    # proto3 defaults are omitted in protojson
    return {k: v for k, v in out.items() if v not in ("0", 0, 0.0, False, "", [])}


def call(url, method, req, use_json, gz=False, raw=None):
    rq, rs = METHODS[method]
    if use_json:
        body, ctype = json.dumps(req).encode(), "application/json"
    else:
        body, ctype = encode(rq, req), "application/proto"
    headers = {"Content-Type": ctype, "Connect-Protocol-Version": "1"}
    if gz:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    r = urllib.request.Request(url.rstrip("/") + "/querier.v1.QuerierService/" + method,
                               data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(r, timeout=20) as resp:
            data = resp.read()
            ct = resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        print("HTTP %d %s" % (e.code, e.read().decode(errors="replace")))
        sys.exit(1)
    if raw:
        with open(raw, "wb") as f:
            f.write(data)
    if use_json:
        if not ct.startswith("application/json"):
            raise SystemExit("JSON call answered with Content-Type %s" % ct)
        return json.loads(data)
    if not ct.startswith("application/proto"):
        raise SystemExit("proto call answered with Content-Type %s" % ct)
    return decode(rs, data)


def span_pprof(path):
    strings = ["", "cpu", "nanoseconds", "span_id", "a", "b", "c", "d",
               "00000000000000a1", "00000000000000b2"]
    prof = {
        "sampleType": [{"type": 1, "unit": 2}],
        "sample": [
            {"locationId": [2, 1], "value": [100], "label": [{"key": 3, "str": 8}]},
            {"locationId": [3, 1], "value": [30], "label": [{"key": 3, "str": 9}]},
            {"locationId": [4, 1], "value": [7]},
        ],
        "location": [{"id": i, "line": [{"functionId": i}]} for i in range(1, 5)],
        "function": [{"id": i, "name": 3 + i} for i in range(1, 5)],
        "stringTable": strings,
        "periodType": {"type": 1, "unit": 2},
        "period": 1,
    }
    with open(path, "wb") as f:
        f.write(encode("Profile", prof))


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd = argv[1]
    if cmd == "span-pprof":
        span_pprof(argv[2])
        return 0
    if cmd == "encode":
        with open(argv[4], "wb") as f:
            f.write(encode(METHODS[argv[2]][0], json.loads(argv[3])))
        return 0
    url, method, req = argv[2], argv[3], json.loads(argv[4])
    opts = argv[5:]
    raw = opts[opts.index("--raw") + 1] if "--raw" in opts else None
    if cmd == "call":
        out = call(url, method, req, "--proto" not in opts, "--gzip" in opts, raw)
        print(json.dumps(out, sort_keys=True))
        return 0
    if cmd == "both":
        pj = call(url, method, req, False, False, raw)
        js = call(url, method, req, True)
        if pj != js:
            print("proto and JSON answers differ:\nproto %s\njson  %s" %
                  (json.dumps(pj, sort_keys=True)[:2000], json.dumps(js, sort_keys=True)[:2000]))
            return 2
        print(json.dumps(js, sort_keys=True))
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
