#!/usr/bin/env python3
"""batches.py — the 20036 URLs nexo-archive would request for a 20053 answer.

    batches.py BASE_URL BATCH_FILES BATCH_URL_BYTES < listing.json > urls.txt

Reads the JSON answer of POST /cgi/webserve/20053 (rows under "json_array_recordings", or any
array of objects carrying "path"), orders the recordings the way the client does (oldest call
first, then path), and cuts them into batches the way src/run/batch.c batch_len() does: at most
BATCH_FILES paths and at most BATCH_URL_BYTES bytes of URL per request (at least one path).
Paths are percent-encoded as pbx.c does (kept: unreserved characters and / ( ) : * ! '), ";"
separates them.
Prints one URL per line; "N recordings, M batches" goes to stderr.
"""
import json
import sys
import urllib.parse


def rows_of(doc):
    if isinstance(doc, list):
        return [r for r in doc if isinstance(r, dict) and "path" in r]
    if isinstance(doc, dict):
        for v in doc.values():
            if isinstance(v, list) and any(isinstance(r, dict) and "path" in r for r in v):
                return [r for r in v if isinstance(r, dict) and "path" in r]
        return [v for k, v in sorted(doc.items()) if isinstance(v, dict) and "path" in v]
    return []


def main():
    base, nfiles, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rows = rows_of(json.load(sys.stdin))
    seen, recs = set(), []
    for r in rows:
        if r["path"] not in seen:
            seen.add(r["path"])
            recs.append((r.get("calldate", ""), r["path"]))
    recs.sort()
    prefix = base.rstrip("/") + "/cgi/webserve/20036?&wavefiles="
    urls, cur, length = [], [], len(prefix)
    for _, path in recs:
        enc = urllib.parse.quote(path, safe="/():*!'")  # pbx.c VALUE_CHARS
        add = len(enc) + (1 if cur else 0)
        if cur and (len(cur) >= nfiles or length + add > nbytes):
            urls.append(prefix + ";".join(cur))
            cur, length = [], len(prefix)
            add = len(enc)
        cur.append(enc)
        length += add
    if cur:
        urls.append(prefix + ";".join(cur))
    for u in urls:
        print(u)
    print("%d recordings, %d batches" % (len(recs), len(urls)), file=sys.stderr)


if __name__ == "__main__":
    main()
