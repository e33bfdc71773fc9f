#!/usr/bin/env python3
"""render_check.py — asks an Ember server's /pyroscope/render for a query and prints
"numTicks name1 name2 ..." (the flame graph's total and function names), or "ERR why".
Test helper (stdlib only). Usage: render_check.py BASE_URL QUERY FROM UNTIL
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


def main(base, query, frm, until):
    url = base + "/pyroscope/render?" + urllib.parse.urlencode(
        {"query": query, "from": frm, "until": until})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            fb = json.load(r)["flamebearer"]
    except urllib.error.HTTPError as e:
        print("ERR status %d: %s" % (e.code, e.read()[:200]))
        return
    except Exception as e:  # noqa: BLE001 - any failure is reported to the test
        print("ERR " + repr(e))
        return
    print(fb["numTicks"], " ".join(fb["names"]))


if __name__ == "__main__":
    main(*sys.argv[1:5])
