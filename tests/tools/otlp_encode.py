#!/usr/bin/env python3
"""otlp_encode.py — builds an OTLP ExportProfilesServiceRequest for Ember's tests (stdlib only).

Written from opentelemetry-proto (v1development, dictionary layout of v1.10+):
  ExportProfilesServiceRequest { repeated ResourceProfiles resource_profiles = 1;
                                 ProfilesDictionary dictionary = 2; }
  ProfilesDictionary { mapping_table = 1; location_table = 2; function_table = 3;
                       link_table = 4; string_table = 5; attribute_table = 6 (KeyValueAndUnit);
                       stack_table = 7; }   (every table's entry 0 is the zero value)
  ResourceProfiles { Resource resource = 1; repeated ScopeProfiles scope_profiles = 2; }
  Resource { repeated KeyValue attributes = 1; }
  ScopeProfiles { InstrumentationScope scope = 1; repeated Profile profiles = 2; }
  InstrumentationScope { name = 1; version = 2; repeated KeyValue attributes = 3; }
  KeyValue { string key = 1; AnyValue value = 2; }
  AnyValue { string_value = 1; bool_value = 2; int_value = 3; double_value = 4;
             string_value_strindex = 8; }
  Profile { ValueType sample_type = 1; repeated Sample samples = 2; fixed64 time_unix_nano = 3;
            uint64 duration_nano = 4; ValueType period_type = 5; int64 period = 6;
            repeated int32 attribute_indices = 11; }
  ValueType { int32 type_strindex = 1; int32 unit_strindex = 2; }
  Sample { int32 stack_index = 1; repeated int32 attribute_indices = 2; int32 link_index = 3;
           repeated int64 values = 4; repeated fixed64 timestamps_unix_nano = 5; }
  Stack { repeated int32 location_indices = 1; }   (leaf first)
  Location { int32 mapping_index = 1; uint64 address = 2; repeated Line lines = 3; }
  Line { int32 function_index = 1; int64 line = 2; }
  Function { int32 name_strindex = 1; int32 system_name_strindex = 2;
             int32 filename_strindex = 3; }
  Mapping { uint64 memory_start = 1; uint64 memory_limit = 2; int32 filename_strindex = 4;
            repeated int32 attribute_indices = 5; }
  KeyValueAndUnit { int32 key_strindex = 1; AnyValue value = 2; int32 unit_strindex = 3; }
  Link { bytes trace_id = 1; bytes span_id = 2; }

Usage: otlp_encode.py SPEC.json [--bad KIND] > request.pb
SPEC: {"resource": {"service.name": "app", ...}, "scope": {"name": "s", "attrs": {...}},
       "profiles": [{"sample_type": ["cpu", "nanoseconds"], "period_type": [...], "period": N,
                     "time_ns": N, "duration_ns": N, "attrs": {...},
                     "samples": [{"stack": ["main", "work"] (root first), "value": N
                                  | "timestamps": N, "attrs": {...}, "span_id": "16 hex"}]}]}
Every function lives in one mapping "/app/bin" whose attribute process.executable.build_id.gnu
is "abc123". --bad: stack-index, function-index, string-index, attr-index, link-index,
location-index, truncated, values-timestamps (values and timestamps of different counts).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pbwire as pb  # noqa: E402


class Dict:
    def __init__(self):
        self.strings = [""]
        self.sidx = {"": 0}
        self.functions = [b""]
        self.fidx = {}
        self.locations = [b""]
        self.lidx = {}
        self.stacks = [b""]
        self.stidx = {}
        self.attrs = [b""]
        self.aidx = {}
        self.links = [pb.lenf(1, bytes(16)) + pb.lenf(2, bytes(8))]
        self.mappings = [b""]

    def s(self, text):
        if text not in self.sidx:
            self.sidx[text] = len(self.strings)
            self.strings.append(text)
        return self.sidx[text]

    def attr(self, k, v):
        if (k, v) not in self.aidx:
            self.aidx[(k, v)] = len(self.attrs)
            self.attrs.append(pb.uint(1, self.s(k)) + pb.lenf(2, any_value(v, self)))
        return self.aidx[(k, v)]

    def location(self, name):
        if name not in self.lidx:
            if len(self.mappings) == 1:
                self.mappings.append(pb.uint(1, 0x400000) + pb.uint(2, 0x800000) +
                                     pb.uint(4, self.s("/app/bin")) +
                                     pb.packed(5, [self.attr(
                                         "process.executable.build_id.gnu", "abc123")]))
            self.fidx[name] = len(self.functions)
            self.functions.append(pb.uint(1, self.s(name)) + pb.uint(3, self.s("app.c")))
            self.lidx[name] = len(self.locations)
            addr = 0x401000 + 16 * len(self.locations)
            self.locations.append(pb.uint(1, 1) + pb.uint(2, addr) +
                                  pb.lenf(3, pb.uint(1, self.fidx[name]) + pb.uint(2, 10)))
        return self.lidx[name]

    def stack(self, names):
        key = tuple(names)
        if key not in self.stidx:
            leaf_first = [self.location(n) for n in reversed(names)]
            self.stidx[key] = len(self.stacks)
            self.stacks.append(pb.packed(1, leaf_first))
        return self.stidx[key]

    def link(self, span_hex):
        self.links.append(pb.lenf(1, bytes(range(1, 17))) + pb.lenf(2, bytes.fromhex(span_hex)))
        return len(self.links) - 1

    def encode(self):
        out = b"".join(pb.lenf(1, m) for m in self.mappings)
        out += b"".join(pb.lenf(2, m) for m in self.locations)
        out += b"".join(pb.lenf(3, m) for m in self.functions)
        out += b"".join(pb.lenf(4, m) for m in self.links)
        out += b"".join(pb.lenf(5, m) for m in self.strings)
        out += b"".join(pb.lenf(6, m) for m in self.attrs)
        out += b"".join(pb.lenf(7, m) for m in self.stacks)
        return out


def any_value(v, d=None):
    if isinstance(v, bool):
        return pb.uint(2, int(v))
    if isinstance(v, int):
        return pb.uint(3, v)
    if isinstance(v, float):
        return pb.double(4, v)
    if d is not None and isinstance(v, str) and v.startswith("@"):
        return pb.uint(8, d.s(v[1:]))  # string_value_strindex
    return pb.lenf(1, str(v))


def key_values(field, attrs):
    return b"".join(pb.lenf(field, pb.lenf(1, k) + pb.lenf(2, any_value(v)))
                    for k, v in attrs.items())


def main(argv):
    spec = json.load(open(argv[0]))
    bad = argv[2] if len(argv) > 2 and argv[1] == "--bad" else ""
    d = Dict()
    profiles = b""
    for p in spec["profiles"]:
        st = p.get("sample_type", ["cpu", "nanoseconds"])
        body = pb.lenf(1, pb.uint(1, d.s(st[0])) + pb.uint(2, d.s(st[1])))
        for s in p["samples"]:
            sb = pb.uint(1, d.stack(s["stack"]))
            ai = [d.attr(k, v) for k, v in s.get("attrs", {}).items()]
            if ai:
                sb += pb.packed(2, ai)
            if "span_id" in s:
                sb += pb.uint(3, d.link(s["span_id"]))
            if "value" in s:
                sb += pb.packed(4, [s["value"]])
            if "timestamps" in s:
                sb += pb.packed_fixed64(5, [p.get("time_ns", 1) + i
                                            for i in range(s["timestamps"])])
            if bad == "values-timestamps":
                sb += pb.packed(4, [1, 2]) + pb.packed_fixed64(5, [1, 2, 3])
            body += pb.lenf(2, sb)
        body += pb.fixed64(3, p.get("time_ns", 0))
        body += pb.uint(4, p.get("duration_ns", 0))
        if "period_type" in p:
            pt = p["period_type"]
            body += pb.lenf(5, pb.uint(1, d.s(pt[0])) + pb.uint(2, d.s(pt[1])))
        body += pb.uint(6, p.get("period", 0))
        ai = [d.attr(k, v) for k, v in p.get("attrs", {}).items()]
        if ai:
            body += pb.packed(11, ai)
        profiles += pb.lenf(2, body)
    if bad == "stack-index":
        profiles += pb.lenf(2, pb.lenf(2, pb.uint(1, len(d.stacks) + 5) + pb.packed(4, [1])))
    elif bad == "attr-index":
        profiles += pb.lenf(2, pb.lenf(2, pb.packed(2, [len(d.attrs) + 7]) + pb.packed(4, [1])))
    elif bad == "link-index":
        profiles += pb.lenf(2, pb.lenf(2, pb.uint(3, len(d.links) + 2) + pb.packed(4, [1])))
    elif bad == "function-index":
        d.locations.append(pb.lenf(3, pb.uint(1, len(d.functions) + 3)))
    elif bad == "string-index":
        d.functions.append(pb.uint(1, len(d.strings) + 100))
    elif bad == "location-index":
        d.stacks.append(pb.packed(1, [1, len(d.locations) + 9]))
    scope = spec.get("scope", {})
    sc = pb.lenf(1, scope.get("name", "")) + pb.lenf(2, scope.get("version", ""))
    sc += key_values(3, scope.get("attrs", {}))
    res = pb.lenf(1, key_values(1, spec.get("resource", {})))
    res += pb.lenf(2, pb.lenf(1, sc) + profiles)
    out = pb.lenf(1, res) + pb.lenf(2, d.encode())
    if bad == "truncated":
        out = out[:len(out) * 2 // 3]
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main(sys.argv[1:])
