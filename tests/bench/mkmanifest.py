#!/usr/bin/env python3
"""mkmanifest.py — synthesize an archive's manifest history for the nightly-run benchmark.

    mkmanifest.py MANIFEST_DIR FIRST_DAY LAST_DAY PER_DAY

Writes MANIFEST_DIR/YYYY-MM-DD.jsonl for every day FIRST_DAY..LAST_DAY (inclusive, YYYY-MM-DD),
PER_DAY "archived" lines each, in the format of docs/manifest.md: the same keys in the same
order as nexo-archive writes them (json-c, plain, "/" not escaped), a correct "prev" hash chain
per file, lines in call order. The recordings' files are not written (a nightly run with
nothing new does not read them). Deterministic: the same arguments give the same bytes
(archived_at is fixed). Each file is written to a temp name and renamed, so an interrupted run
leaves no half file under its final name.
"""
import datetime
import hashlib
import os
import sys

CALLTYPES = ("Inbound", "Outbound", "Internal", "CallBack", "Conference")
EXTS = ("202", "204", "205", "102", "105")
OUTSIDE = ("506", "513", "569", "155", "9506")
TRUNKS = ("42", "44", "96")
EMPTY = hashlib.sha256(b"").hexdigest()


def day_lines(day, per_day):
    """Yields the lines (bytes, no newline) of one day, prev chain included."""
    midnight = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc)
    base = int(midnight.timestamp())
    ymd = day.strftime("%Y%m%d")
    ydir = day.strftime("%Y/%m/%d")
    ydash = day.strftime("%Y-%m-%d")
    archived_at = (day + datetime.timedelta(days=1)).strftime("%Y-%m-%dT02:30:12Z")
    step = 86400 / per_day
    prev = EMPTY
    for i in range(per_day):
        sec = int(i * step)
        h, m, s = sec // 3600, sec // 60 % 60, sec % 60
        ctype = CALLTYPES[i % 5]
        ext = EXTS[i % 5]
        other = OUTSIDE[(i // 5) % 5]
        if ctype == "Inbound":
            src, dst, trunk = other, "620(%s)" % ext, TRUNKS[i % 3]
        elif ctype == "Outbound":
            src, dst, trunk = ext, other, TRUNKS[i % 3]
        elif ctype == "Internal":
            src, dst, trunk = ext, EXTS[(i + 1) % 5], ""
        elif ctype == "CallBack":
            src, dst, trunk = other, "820(%s)" % ext, TRUNKS[i % 3]
        else:
            src, dst, trunk = ext, "6300", TRUNKS[i % 3]
        secs = 1 + (i * 7919) % 300
        size = 44 + secs * 16000
        name = "%s-%02d%02d%02d-%d-%s-%s%s%s-%s.wav" % (
            ymd, h, m, s, base + sec, ctype, trunk, "-" if trunk else "", src, dst)
        pbx_path = ymd + "/" + name
        sha = hashlib.sha256(pbx_path.encode()).hexdigest()
        line = (
            '{"event":"archived","pbx_path":"%s","file":"%s/%s","size":%d,"sha256":"%s",'
            '"calldate":"%s %02d:%02d:%02d","src":"%s","dst":"%s","trunk":"%s",'
            '"calltype":"%s","duration":%d,"audio_seconds":%d.00,"archived_at":"%s",'
            '"prev":"%s"}' % (pbx_path, ydir, name, size, sha, ydash, h, m, s, src, dst, trunk,
                              ctype, secs + 3, secs, archived_at, prev)
        ).encode()
        prev = hashlib.sha256(line).hexdigest()
        yield line


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    out, first, last, per_day = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    d = datetime.date.fromisoformat(first)
    end = datetime.date.fromisoformat(last)
    os.makedirs(out, exist_ok=True)
    days = lines = 0
    while d <= end:
        final = os.path.join(out, d.isoformat() + ".jsonl")
        tmp = final + ".tmp"
        with open(tmp, "wb") as f:
            data = b"\n".join(day_lines(d, per_day)) + b"\n"
            f.write(data)
        os.replace(tmp, final)
        days += 1
        lines += per_day
        d += datetime.timedelta(days=1)
    print("mkmanifest: %d days, %d lines under %s" % (days, lines, out))


if __name__ == "__main__":
    main()
