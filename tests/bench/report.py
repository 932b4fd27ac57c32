#!/usr/bin/env python3
"""report.py — turns tests/bench/run.sh's measurements into one table.

    report.py RESULTS.tsv META.tsv [DOC.md]

RESULTS rows: group, round, variant, wall seconds, user seconds, sys seconds, peak RSS (KiB),
exit code (listing_bench adds "l_detail" rows with its own key=value line). META rows: key,
value. Every ratio is the median of per-round (per-pair) ratios, with the range over the rounds.
Prints the table; with DOC, replaces the text between <!-- bench:begin --> and
<!-- bench:end --> in DOC (appending a section with the markers when they are missing).
"""
import statistics
import sys

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def load(results):
    runs, details = [], []
    for line in open(results, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if len(f) >= 4 and f[2] == "l_detail":
            details.append(dict(kv.split("=", 1) for kv in f[3].split()))
            continue
        if len(f) != 8:
            continue
        runs.append({"group": f[0], "round": int(f[1]), "v": f[2], "wall": float(f[3]),
                     "user": float(f[4]), "sys": float(f[5]), "rss": int(f[6]),
                     "rc": int(f[7])})
    return runs, details


def secs(x):
    if x is None:
        return "—"
    if x < 0.095:
        return "%.0f ms" % (x * 1000)
    return "%.2f s" % x if x < 10 else "%.1f s" % x


def mib(kib):
    return "%.1f MiB" % (kib / 1024)


def med(xs):
    return statistics.median(xs) if xs else None


class Table:
    def __init__(self):
        self.rows = []

    def add(self, key, what, result, target="", ok=None):
        mark = "" if ok is None else ("✓" if ok else "✗")
        self.rows.append((key, what, result, target, mark))

    def markdown(self):
        out = ["| | measure | result | target | |", "|---|---|---|---|---|"]
        for r in self.rows:
            out.append("| " + " | ".join(r) + " |")
        return "\n".join(out)


def main():
    results, metafile = sys.argv[1], sys.argv[2]
    doc = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    meta = {}
    for line in open(metafile, encoding="utf-8"):
        k, _, v = line.rstrip("\n").partition("\t")
        meta[k] = v
    runs, details = load(results)

    def of(group, v, warm=False):
        return [r for r in runs if r["group"] == group and r["v"] == v and (warm or r["round"] > 0)]

    def per_round(group, num, den):
        a = {r["round"]: r["wall"] for r in of(group, num)}
        b = {r["round"]: r["wall"] for r in of(group, den)}
        return [a[k] / b[k] for k in sorted(a) if k in b and b[k] > 0]

    def ratio_text(xs):
        if not xs:
            return "—", None
        m = med(xs)
        return "**%.2f** (%.2f–%.2f, %d pairs)" % (m, min(xs), max(xs), len(xs)), m

    def time_text(group, v):
        rs = of(group, v)
        if not rs:
            return "—", None
        w = med([r["wall"] for r in rs])
        return "%s (user %s, sys %s)" % (secs(w), secs(med([r["user"] for r in rs])),
                                         secs(med([r["sys"] for r in rs]))), w

    n, nb = meta.get("main_n", "?"), meta.get("batches", "?")
    t = Table()
    txt, _ = time_text("main", "a")
    t.add("(a)", "fetch only: the client's %s × 20036 batch(es), `curl -o /dev/null`" % nb, txt)
    txt, _ = time_text("main", "b")
    t.add("(b)", "floor: the same batches `curl \\| bsdtar -xf - -C DIR`", txt)
    txt, _ = time_text("main", "cf")
    t.add("(c+f)", "naive: (b), then `sha256sum` of every file, then `sync FILE...` "
          "(fsync of each file and folder)", txt)
    txt, _ = time_text("main", "r")
    rs = of("main", "r")
    if rs:
        txt += ", peak RSS %s" % mib(max(r["rss"] for r in rs))
    t.add("(r)", "`nexo-archive run` into an empty archive, `since = 2000-01-01 00:00` "
          "(%s listing requests: one per day-window since 2000)" % meta.get("r_lists", "?"), txt)
    txt, _ = time_text("main", "r1")
    t.add("(r1)", "the same pipeline over the data's day only (`backfill` of that day: one "
          "listing, no checkpoint writes)", txt)
    a = {r["round"]: r["wall"] for r in of("main", "r")}
    b = {r["round"]: r["wall"] for r in of("main", "r1")}
    diffs = [a[k] - b[k] for k in a if k in b]
    if diffs:
        t.add("(r)−(r1)", "what `run` adds to the data path: the walk from `since` in 1-day "
              "windows, each listed and each followed by a durable checkpoint write",
              "%s (median of per-round differences)" % secs(med(diffs)))
    e_status = meta.get("e_status", "n/a")
    if e_status == "ok":
        txt, _ = time_text("main", "rE")
        t.add("(r1+E)", "(r1) with `[encryption] recipients = age1…`", txt)
    else:
        t.add("(r+E)", "with `[encryption] recipients = age1…`", e_status)

    s3_status = meta.get("s3_status", "n/a")
    if s3_status == "ok":
        txt, _ = time_text("s3", "rS")
        rs = of("s3", "rS")
        if rs:
            txt += ", peak RSS %s" % mib(max(r["rss"] for r in rs))
        t.add("(r1+S3)", "(r1) with `[offsite]` to a Ceph RGW on 127.0.0.1 (memstore OSD, "
              "`lock = off`): every recording, manifest, signature and head PUT and HEADed", txt)

    txt, m = ratio_text(per_round("main", "a", "b"))
    t.add("(a)/(b)", "fetching alone, against the floor", txt, "well under 1 (fakepbx is not "
          "the bound)", None if m is None else m < 0.7)
    for num, label in (("r", "(r)"), ("r1", "(r1)")):
        txt, m = ratio_text(per_round("main", num, "b"))
        t.add("%s/(b)" % label, "client against the floor", txt, "≤ 1.7",
              None if m is None else m <= 1.7)
        txt, m = ratio_text(per_round("main", num, "cf"))
        t.add("%s/(c+f)" % label, "client against the naive script", txt, "≤ 0.4",
              None if m is None else m <= 0.4)
    if s3_status == "ok":
        txt, _ = ratio_text(per_round("s3", "rS", "s3r1"))
        t.add("(r+S3)/(r)", "the offsite copy's cost, as (r1+S3)/(r1) in pairs of their own "
              "with the RGW up; the RGW (mon, OSD, gateway) runs on the same cores and takes "
              "the bytes into memory, so this is written down, not targeted", txt)
    else:
        t.add("(r+S3)/(r)", "the offsite copy's cost", s3_status)
    if e_status == "ok":
        txt, m = ratio_text(per_round("main", "rE", "r1"))
        t.add("(r+E)/(r)", "encryption's cost, as (r1+E)/(r1)", txt, "≤ 1.25",
              None if m is None else m <= 1.25)
    else:
        t.add("(r+E)/(r)", "encryption's cost", e_status, "≤ 1.25")

    r4, r44 = of("rss", "rss4", True), of("rss", "rss44", True)
    if r4 and r44:
        m4, m44 = med([r["rss"] for r in r4]), med([r["rss"] for r in r44])
        b4, b44 = int(meta.get("rss_bytes_4", 0)), int(meta.get("rss_bytes_44", 0))
        t.add("RSS 100 MB", "peak RSS, one %.0f MB tar (4 files; wall %s)"
              % (b4 / 1e6, secs(med([r["wall"] for r in r4]))),
              mib(m4) + " (max %s, %d runs)" % (mib(max(r["rss"] for r in r4)), len(r4)),
              "≤ 32 MiB", m4 <= 32 * 1024)
        t.add("RSS 1 GiB", "peak RSS, one %.2f GiB tar (44 files; wall %s)"
              % (b44 / 2**30, secs(med([r["wall"] for r in r44]))),
              mib(m44) + " (max %s, %d runs)" % (mib(max(r["rss"] for r in r44)), len(r44)),
              "≤ 32 MiB", m44 <= 32 * 1024)
        r44s = of("rss", "rss44S", True)
        if r44s:
            m44s = med([r["rss"] for r in r44s])
            t.add("RSS 1 GiB + S3", "peak RSS, the same 1 GiB tar with `[offsite]` (every file "
                  "streamed to the RGW; wall %s)" % secs(med([r["wall"] for r in r44s])),
                  mib(m44s) + " (max %s, %d runs)" % (mib(max(r["rss"] for r in r44s)),
                                                      len(r44s)),
                  "≤ 32 MiB", m44s <= 32 * 1024)
        d = (m44 - m4) / 1024
        t.add("RSS Δ", "1 GiB tar minus 100 MB tar (medians)", "%+.2f MiB" % d, "within 1 MiB",
              abs(d) <= 1)

    n2, n1 = of("night", "n2y"), of("night", "n1d")
    if n2 and n1:
        txt, m = ratio_text(per_round("night", "n2y", "n1d"))
        t.add("(n)", "nightly run, nothing new: %s archive / 1-day archive"
              % ("2-year" if meta.get("quick") != "1" else "%s-day" % meta.get("night_days")),
              txt, "≤ 1.2", None if m is None else m <= 1.2)
        w2 = med([r["wall"] for r in n2])
        t.add("(n) abs", "the same run over the long archive (%s); 1-day archive: %s"
              % (meta.get("night_archive", ""), secs(med([r["wall"] for r in n1]))),
              "%s (user %s, sys %s), peak RSS %s"
              % (secs(w2), secs(med([r["user"] for r in n2])), secs(med([r["sys"] for r in n2])),
                 mib(max(r["rss"] for r in n2))),
              "< 1 s", w2 < 1)

    ls = of("list", "l", True)
    if ls and details:
        parse = med([float(d["parse_s"]) for d in details])
        rows, nbytes = details[0]["rows"], int(details[0]["bytes"])
        wall = med([r["wall"] for r in ls])
        rss = max(r["rss"] for r in ls)
        before = max(int(d["rss_before_kib"]) for d in details)
        t.add("(l)", "`listing_parse` of a %s-row 20053 answer (%.1f MB): parse; whole process"
              % ("{:,}".format(int(rows)), nbytes / 1e6),
              "%s; %s" % (secs(parse), secs(wall)), "≤ 1 s", parse <= 1 and wall <= 1)
        t.add("(l) RSS", "its peak RSS (before parsing, the answer alone: %s)" % mib(before),
              mib(rss), "≤ 200 MiB", rss <= 200 * 1024)

    head = [
        "Measured %s on %s (%s cores), %s RAM, kernel %s, %s; bench dir %s on %s."
        % (meta.get("date"), meta.get("cpu"), meta.get("nproc"), meta.get("ram"),
           meta.get("kernel"), meta.get("os"), meta.get("bench_dir"), meta.get("fs")),
        "Client: commit %s. Load average %s at the start, %s at the end (other work shares "
        "the machine: the ratios are paired, the absolute times are not)."
        % (meta.get("commit"), meta.get("load_start"), meta.get("load_end")),
        "Main data set: %s, in %s batch(es) of ≤ 50; %d measured rounds after a warm-up, each "
        "running every variant once (order rotated and reversed every round); every ratio is "
        "the median of the per-round ratios (range in brackets). Total %s s."
        % (meta.get("main_set"), nb, int(meta.get("pairs", 0)), meta.get("total_s")),
        "",
        "Command: `%s`" % meta.get("command"),
        "",
        t.markdown(),
    ]
    block = "\n".join(head)
    print()
    print(block)
    print()
    if doc:
        text = open(doc, encoding="utf-8").read()
        if BEGIN in text and END in text:
            pre, rest = text.split(BEGIN, 1)
            _, post = rest.split(END, 1)
            text = pre + BEGIN + "\n" + block + "\n" + END + post
        else:
            text = text.rstrip("\n") + "\n\n## Paired benchmark (`make bench`)\n\n" + BEGIN + \
                "\n" + block + "\n" + END + "\n"
        tmp = doc + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        import os
        os.replace(tmp, doc)
        print("bench: table written to %s" % doc, file=sys.stderr)
    elif doc is None:
        print("bench: docs/performance.md left alone (QUICK=1 or BENCH_DOC=0)", file=sys.stderr)


if __name__ == "__main__":
    main()
