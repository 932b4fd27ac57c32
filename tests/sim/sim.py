#!/usr/bin/env python3
"""sim.py — "a thousand PBX lives a minute": a deterministic simulator for nexo-archive.

From an integer seed it draws a PBX (a combination of fakepbx's traits) and a life of M nights
(calls, late and re-used recordings, growing ones, restarts, outages, faults, crashes, nightly
runs), lives it against build/fakepbx and build/test/nexo-archive on one shared clock file, and
checks the oracle (oracle.py) after every run. See tests/sim/README.md.

    sim.py --seeds 1-50 [--nights 6] [--jobs 2]     many lives, a summary table
    sim.py --seed 7 --nights 6 [--off a,b] [--keep] one life, its trail on a violation
    sim.py --seed 7 --nights 6 --shrink             the smallest trail that still fails
"""
import argparse
import concurrent.futures
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from life import ALL_TRAITS, EVENT_KINDS, drawn_features, make_life  # noqa: E402
from runner import Life  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def replay_command(seed, nights, off):
    cmd = "python3 tests/sim/sim.py --seed %d --nights %d" % (seed, nights)
    return cmd + (" --off " + ",".join(sorted(off)) if off else "")


def live_one(seed, nights, off=(), build=None, keep=False):
    """Lives one life; returns a dict: seed, nights, violation (or None), trail, features."""
    life = make_life(seed, nights, off)
    sim = Life(life, build or os.path.join(TOP, "build"), keep=keep)
    t0 = time.time()
    violation = sim.live_it()
    result = {"seed": seed, "nights": nights, "off": sorted(off), "violation": violation,
              "night": sim.night, "trail": sim.trail, "features": drawn_features(life),
              "runs": sim.runs, "seconds": time.time() - t0, "dir": sim.tdir}
    if violation is None:
        sim.cleanup()
    return result


def report(r, out=sys.stdout):
    if r["violation"] is None:
        return
    print("VIOLATION seed %d, night %d: %s" % (r["seed"], r["night"], r["violation"]), file=out)
    print("  trail:", file=out)
    for line in r["trail"]:
        print("    " + line, file=out)
    print("  files: %s" % r["dir"], file=out)
    print("  replay: " + replay_command(r["seed"], r["nights"], r["off"]), file=out)


def fails(seed, nights, off, build):
    r = live_one(seed, nights, off, build)
    if r["violation"] is None:
        return None
    return r


def shrink(seed, nights, build):
    """Fewer nights (halving while it still fails), then each trait and event kind switched
    off in turn (kept off when it still fails). Returns the smallest failing result."""
    best = fails(seed, nights, (), build)
    if not best:
        print("seed %d with %d nights does not fail" % (seed, nights))
        return None
    print("fails: " + replay_command(seed, nights, ()), flush=True)
    while nights > 1:
        r = fails(seed, nights // 2, (), build)
        if not r:
            break
        nights, best = nights // 2, r
        print("fails: " + replay_command(seed, nights, ()), flush=True)
    # The failing night bounds the nights that matter.
    if 0 <= best["night"] < nights - 1:
        r = fails(seed, best["night"] + 1, (), build)
        if r:
            nights, best = best["night"] + 1, r
    off = []
    for name in list(ALL_TRAITS) + EVENT_KINDS:
        r = fails(seed, nights, off + [name], build)
        if r:
            off.append(name)
            best = r
            print("fails: " + replay_command(seed, nights, off), flush=True)
    print("smallest failing life:")
    report(best)
    return best


def cover(upto, nights):
    """A small set of seeds among 1..upto whose lives draw every trait value, fault, crash
    label and event kind that any of them draws (greedy: the seed adding most, in turn)."""
    drawn = {s: set(drawn_features(make_life(s, nights))) for s in range(1, upto + 1)}
    left, chosen = set().union(*drawn.values()), []
    while left:
        best = max(drawn, key=lambda s: (len(drawn[s] & left), -s))
        chosen.append(best)
        left -= drawn[best]
    return sorted(chosen)


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            seeds += range(int(a), int(b) + 1)
        elif part:
            seeds.append(int(part))
    return seeds


def summary(results, wall):
    counts = {}
    for r in results:
        for k, v in r["features"].items():
            counts[k] = counts.get(k, 0) + v
    nights = sum(r["nights"] for r in results)
    bad = [r for r in results if r["violation"]]
    print("%-44s %s" % ("drawn (lives with the trait / times an event)", "count"))
    for k in sorted(counts):
        print("  %-42s %d" % (k, counts[k]))
    print("lives %d x nights %d = %d nights (+ quiet tails), %d runs of nexo-archive, %.0f s"
          % (len(results), results[0]["nights"] if results else 0, nights,
             sum(r["runs"] for r in results), wall))
    print("violations: %d%s" % (len(bad), (" (seeds %s)" % " ".join(str(r["seed"]) for r in bad))
                                if bad else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--seed", type=int)
    ap.add_argument("--seeds", help="e.g. 1-50 or 3,8,12")
    ap.add_argument("--nights", type=int, default=6)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--off", default="", help="traits/event kinds switched off, comma-separated")
    ap.add_argument("--shrink", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the life's directory")
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--cover", type=int, metavar="N",
                    help="print a seed set among 1..N that draws everything once")
    a = ap.parse_args()
    if a.cover:
        print(",".join(str(s) for s in cover(a.cover, a.nights)))
        return 0
    off = [x for x in a.off.split(",") if x]
    if a.seed is not None and a.shrink:
        return 1 if shrink(a.seed, a.nights, a.build) else 0
    if a.seed is not None:
        r = live_one(a.seed, a.nights, off, a.build, a.keep)
        if r["violation"]:
            report(r)
            return 1
        print("seed %d: %d nights, %d runs, no violation (%.1f s)" % (
            a.seed, a.nights, r["runs"], r["seconds"]))
        if a.keep:
            print("files: " + r["dir"])
        return 0
    seeds = parse_seeds(a.seeds or "1-10")
    t0 = time.time()
    results = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=a.jobs) as pool:
        futures = [pool.submit(live_one, s, a.nights, off, a.build) for s in seeds]
        for f in futures:
            r = f.result()
            results.append(r)
            print("seed %d: %s (%d runs, %.1f s)" % (
                r["seed"], "VIOLATION at night %d" % r["night"] if r["violation"] else "ok",
                r["runs"], r["seconds"]), flush=True)
    for r in results:
        report(r)
    summary(results, time.time() - t0)
    return 1 if any(r["violation"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
