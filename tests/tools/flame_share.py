#!/usr/bin/env python3
"""flame_share.py — reads a flame graph JSON on stdin, either /pyroscope/render's flamebearer
or the querier's Connect FlameGraph ({"flamegraph": {names, levels[].values, total}}), and
prints "TOTAL MATCHED" where MATCHED is the summed total of the outermost nodes whose name
contains SUBSTRING. Test helper (stdlib only). Usage: flame_share.py SUBSTRING < graph.json
"""
import json
import sys


def main(sub):
    doc = json.load(sys.stdin)
    if "flamebearer" in doc:
        fb = doc["flamebearer"]
        names, levels, total = fb["names"], fb["levels"], int(fb["numTicks"])
    else:
        fg = doc.get("flamegraph", {})
        names = fg.get("names", [])
        levels = [[int(v) for v in lv.get("values", [])] for lv in fg.get("levels", [])]
        total = int(fg.get("total", 0))
    # nodes: (level, start, end, name); offsets are relative to the previous node's end
    spans = []
    for li, lv in enumerate(levels):
        x = 0
        for i in range(0, len(lv), 4):
            start = x + lv[i]
            spans.append((li, start, start + lv[i + 1], names[lv[i + 3]]))
            x = start + lv[i + 1]
    matched = 0
    covered = []
    for li, s, e, n in sorted(spans):
        if sub in n and not any(cs <= s and e <= ce for cs, ce in covered):
            matched += e - s
            covered.append((s, e))
    print(total, matched)


if __name__ == "__main__":
    main(sys.argv[1])
