"""life.py — draws a PBX and a life of M nights from a seed.

Everything here is a pure function of (seed, nights, disabled): every draw comes from one
random.Random(seed) in a fixed order, and switching a trait or an event kind off (shrinking)
drops it *after* drawing, so the rest of the life stays the same draws. What came later (the
`--list-call-start` trait and calls that queue) is drawn afterwards from a stream of its own,
random.Random("SEED:queue") (draw_queues): the life's own draws, on which the fixed seed set of
tests/e2e/t_sim.sh was chosen, are unchanged, and with `queue` and `list_call_start` switched
off a life is exactly what it was before them.
"""
import random

DAY = 86400
# A fixed start instant per seed (never the wall clock): 2026-02-02 00:00 UTC plus seed days.
BASE_EPOCH = 1769990400

# PBX traits: the first value of each list is the plain PBX (what "switched off" means).
TRAITS = {
    "end_bound": ["through", "minute", "exclusive"],
    "start_bound": ["inclusive", "exclusive"],
    "list_style": ["array", "numbered", "keyed", "bare"],
    "int_values": [False, True],
    "download_key": ["both", "wavefiles", "wavfiles"],
    "delete_key": ["both", "wavefiles", "wavfiles"],
    "tar_names": ["full", "base", "dotslash"],
    "max_rows": [0, 5, 25],
    "totalcount": ["normal", "missing", "capped"],
    "clock_offset": [0, "small", "large"],
    "zone_offset": [0, "large"],
    "login_style": ["any", "post", "query"],
    "no_session": ["json", "html", "401", "redirect", "status6"],
    "expire_after": [0, 4, 9],
    "delete_no_session": [0, 1],
    "max_url": [0, 700, 1500],
    "long_fields": [0, 200],
    "cdr": ["join", "off"],
    "cdr_style": ["array", "numbered"],
    "cdr_recording_name": ["relative", "full", "none"],
}

# Traits drawn after the life, from the queue stream (draw_queues): the plain value first.
LATE_TRAITS = {
    "list_call_start": [False, True],
}
ALL_TRAITS = dict(TRAITS, **LATE_TRAITS)

# A queue's wait, in seconds: a caller waits 1 to 40 minutes before an agent answers (under
# the client's hour, WINDOW_EARLIER in src/run/window.h, that a re-list reaches back).
QUEUE_MIN, QUEUE_MAX = 60, 2400
WINDOW_SECONDS = {"1h": 3600, "6h": 6 * 3600, "1d": DAY}
LOOKBACK_SECONDS = {"1h": 3600, "2h": 2 * 3600, "6h": 6 * 3600}

# Faults for one night: each drawn with a small count so that the night can recover.
FAULTS = [
    "status=503:2", "status=500:1@20036", "status=502:1@20054", "redirect-login:1",
    "html-200:1@20053", "json-truncated:1@20053", "totalcount-lie=3:1", "tar-cut-mid:1",
    "tar-cut-boundary:1", "reset-mid-body:1", "omit-one:2", "tar-extra:1", "tar-duplicate:1",
    "tar-symlink:1", "wav-lying-header:1", "wav-zero-header:1", "size-mismatch:2",
    "delete-noop:1", "delete-error-but-deletes:1", "stall=2:1@20036", "header-flood:1",
    "evil-names:1", "expire-after=2", "json-wrong-types:1", "clock-skew=7200",
]

# Failpoint labels of src/base/failpoint.h.
CRASH_LABELS = ["store.write", "store.fsync", "store.rename", "store.dirfsync",
                "manifest.append", "manifest.fsync", "checkpoint.write", "retention.delete",
                "retention.relist", "retention.record", "readback.check"]

# Event kinds a life may hold (each can be switched off when shrinking).
EVENT_KINDS = ["burst", "late", "reuse", "live", "restart", "outage", "midrun_kill",
               "faults", "crash", "retention", "parallel", "encryption", "small_batches",
               "queue"]
# Events at an instant of their own (e[1]); the others come just before the runs.
TIMED_EVENTS = ("call", "burst", "late", "live", "queue")


def event_time(e, run_at):
    return e[1] if len(e) > 1 and e[0] in TIMED_EVENTS else run_at - 1


def pick(rng, values, weights=None):
    return rng.choices(values, weights)[0] if weights else rng.choice(values)


def draw_offset(rng, kind):
    """A clock or zone offset in seconds (within ±12 h)."""
    if kind == "small":
        return rng.randint(-300, 300)
    if kind == "large":
        return rng.choice([-1, 1]) * rng.randint(1800, 12 * 3600)
    return 0


def draw_pbx(rng):
    traits = {}
    for name, values in TRAITS.items():
        # The plain value is drawn as often as all the others together: most PBXs are plain
        # in most respects, and a life with every oddity at once finds less per oddity.
        weights = [len(values) - 1] + [1] * (len(values) - 1)
        traits[name] = pick(rng, values, weights)
    traits["clock_offset_s"] = draw_offset(rng, traits["clock_offset"])
    traits["zone_offset_s"] = draw_offset(rng, traits["zone_offset"])
    return traits


def draw_config(rng):
    """The client's settings for the whole life (per-night ones are drawn per night)."""
    return {
        "reconcile_days": pick(rng, [7, 1, 30]),
        "window": pick(rng, ["1d", "1h", "6h"]),
        "lookback": pick(rng, ["6h", "1h", "2h"]),
        "batch_files": pick(rng, [50, 2, 3]),
        "encryption": rng.random() < 0.3,
        "invalid_retries": 3,
    }


def draw_calls(rng, start, end):
    """Call instants in (start, end): bursts (several calls within a minute or a few) and
    lulls (hours with none). Sorted, whole seconds."""
    calls, t = [], start
    while True:
        t += int(rng.expovariate(1 / 5400))  # a lull: about 1.5 h between bursts
        if t >= end - 5:
            break
        n = pick(rng, [1, 2, 3], [3, 2, 1])
        for _ in range(n):
            calls.append(t)
            t += rng.randint(3, 40)
    return [c for c in calls if c < end - 2]


def draw_night(rng, n, prev_run, run_at, traits):
    """One night: the events between the previous run and this night's runs, and the runs."""
    ev = []
    calls = draw_calls(rng, prev_run + 30, run_at)
    # Calls in the very minute of the run (a window's last minute) catch minute-bound readings.
    if rng.random() < 0.5:
        calls.append(run_at - rng.randint(1, 25))
    ev += [("call", t) for t in sorted(set(calls))]
    if rng.random() < 0.3:
        ev.append(("burst", run_at - rng.randint(600, 3000), rng.randint(2, 3)))
    if rng.random() < 0.25:
        ev.append(("late", run_at - rng.randint(1, 6) * DAY - rng.randint(0, 80000)))
    if rng.random() < 0.3:
        ev.append(("reuse", rng.randint(0, 10 ** 6)))
    if rng.random() < 0.25:
        # A call still going when the run comes: it grows a second per second, as MixMonitor
        # writes it, and ends minutes later.
        seconds = rng.randint(30, 240)
        start = run_at - rng.randint(5, seconds - 5)
        ev.append(("live", start, seconds, pick(rng, ["valid", "zero"]),
                   rng.randint(2, 30) * 3600))
    if rng.random() < 0.2:
        ev.append(("restart",))
    ev.sort(key=lambda e: event_time(e, run_at))
    night = {"n": n, "run_at": run_at, "events": ev, "runs": []}
    retention = rng.random() < 0.6
    keep = rng.randint(0, 3)
    parallel = pick(rng, [1, 2])
    faults = []
    if rng.random() < 0.35:
        faults = rng.sample(FAULTS, rng.randint(1, 2))
    night["faults"] = faults
    night["outage"] = rng.random() < 0.1
    night["midrun_kill"] = rng.random() < 0.1
    crash = None
    if rng.random() < 0.3:
        crash = (pick(rng, CRASH_LABELS), rng.randint(1, 3))
    night["crash"] = crash
    night["retention"] = (retention, keep)
    night["parallel"] = parallel
    # Runs after the events and a crashed run (if any) each a few minutes apart: a
    # recording still growing changes between them, as it would on a real PBX.
    return night


def queue_wait(q, across=None):
    """A queue's wait for a call answered `across` seconds after an instant it should have
    started before (None: any wait)."""
    if across is None or across + 1 > QUEUE_MAX:
        return q.randint(QUEUE_MIN, QUEUE_MAX)
    return max(QUEUE_MIN, across + q.randint(1, min(600, QUEUE_MAX - across)))


def edges(life, n, lo, hi):
    """The instants in (lo, hi) (true time) a queued call may start before and be answered
    after: the PBX's local midnights ("midnight") and where the night's run will likely lay
    its window boundaries ("window"): from the previous run's minute less [sync] lookback, in
    steps of [sync] window (empty windows widen, so later ones are guesses)."""
    t, cfg = life["traits"], life["config"]
    shift = t["clock_offset_s"] + t["zone_offset_s"]  # the PBX's local time = true + shift
    out = []
    m = (lo + shift) // DAY * DAY + DAY
    while m - shift < hi:
        out.append((m - shift, "midnight"))
        m += DAY
    if n > 0:
        prev = life["nights"][n - 1]["run_at"]
        b = (prev + shift) // 60 * 60 - LOOKBACK_SECONDS[cfg["lookback"]] - shift
        step = WINDOW_SECONDS[cfg["window"]]
        while b < hi:
            if b > lo:
                out.append((b, "window"))
            b += step
    return sorted(out)


def draw_queues(life):
    """The late draws, from their own stream: the late traits, then calls that waited in a
    queue. Some of the night's calls are marked ("call", t, wait): answered at t, as before,
    their CDR's start `wait` seconds earlier, most of them across a midnight or a window
    boundary when one lies within a wait before them. Added ("queue", t, wait, why): a call
    that started before the previous night's runs and was answered minutes after them, and a
    call that started before a midnight no marked call crosses. An added call takes a place in
    the fake's own sequence of calls (every 4th is unrecorded): the calls after it shift."""
    q = random.Random("%d:queue" % life["seed"])
    for name, values in LATE_TRAITS.items():
        life["traits"][name] = pick(q, values, [len(values) - 1] + [1] * (len(values) - 1))
    # Of the history's recorded calls, the percentage that queued (fakepbx --generate
    # --queue-percent, waits up to QUEUE_MAX): the oldest recordings are the first a retention
    # deletes, and its re-list must still show one whose call started before it.
    life["history_queue"] = pick(q, [0, 40], [1, 2])
    prev = None
    for n, night in enumerate(life["nights"]):
        run_at = night["run_at"]
        lo = prev + 3630 if prev is not None else run_at - DAY
        marks = q.random() < 0.8  # most nights have queued calls, some none
        crossed = set()
        ev = []
        for e in night["events"]:
            if e[0] == "call" and marks and q.random() < 0.35:
                t = e[1]
                near = [b for b in edges(life, n, t - QUEUE_MAX, t - QUEUE_MIN + 1)]
                if near and q.random() < 0.75:
                    b = q.choice(near)
                    wait = queue_wait(q, t - b[0])
                    crossed.add(b[1] + str(b[0]))
                else:
                    wait = queue_wait(q)
                e = ("call", t, wait)
            ev.append(e)
        if prev is not None and q.random() < 0.35:
            t = prev + q.randint(600, 2100)
            ev.append(("queue", t, queue_wait(q, t - prev), "run"))
        for b, kind in edges(life, n, lo + 60, run_at - 1800):
            if kind == "midnight" and kind + str(b) not in crossed and q.random() < 0.6:
                t = b + q.randint(30, 1500)
                ev.append(("queue", t, queue_wait(q, t - b), "midnight"))
        ev.sort(key=lambda e: event_time(e, run_at))
        night["events"] = ev
        prev = run_at
    return life


def draw_life(seed, nights):
    rng = random.Random(seed)
    traits = draw_pbx(rng)
    config = draw_config(rng)
    base = BASE_EPOCH + (seed % 200) * DAY
    run_hour = rng.randint(0, 23) * 3600 + rng.randint(0, 59) * 60
    life = {"seed": seed, "traits": traits, "config": config, "base": base,
            "history_days": rng.randint(1, 3), "history_per_day": rng.randint(2, 5),
            "nights": []}
    prev = base + run_hour - DAY
    for n in range(nights):
        run_at = base + n * DAY + run_hour + rng.randint(-1800, 1800)
        life["nights"].append(draw_night(rng, n, prev, run_at, traits))
        prev = run_at + 3600
    return draw_queues(life)


def disable(life, off):
    """Switches the named traits and event kinds off (after drawing)."""
    for name in off:
        if name in ALL_TRAITS:
            life["traits"][name] = ALL_TRAITS[name][0]
            if name in ("clock_offset", "zone_offset"):
                life["traits"][name + "_s"] = 0
    cfg = life["config"]
    if "queue" in off:
        life["history_queue"] = 0
    if "encryption" in off:
        cfg["encryption"] = False
    if "small_batches" in off:
        cfg["batch_files"] = 50
    for night in life["nights"]:
        night["events"] = [e for e in night["events"] if e[0] not in off]
        if "queue" in off:  # the marked calls ring as they were drawn
            night["events"] = [e[:2] if e[0] == "call" else e for e in night["events"]]
        if "faults" in off:
            night["faults"] = []
        if "outage" in off:
            night["outage"] = False
        if "midrun_kill" in off:
            night["midrun_kill"] = False
        if "crash" in off:
            night["crash"] = None
        if "retention" in off:
            night["retention"] = (False, 0)
        if "parallel" in off:
            night["parallel"] = 1
    return life


def make_life(seed, nights, off=()):
    return disable(draw_life(seed, nights), set(off))


def drawn_features(life):
    """What a life drew, for the summary table: trait=value and event kinds with counts."""
    out = {}
    for name, value in life["traits"].items():
        if name in ALL_TRAITS and value != ALL_TRAITS[name][0]:
            out["trait %s=%s" % (name, value)] = 1
    if life["config"]["encryption"]:
        out["config encryption"] = 1
    if life.get("history_queue"):
        out["event queue in the history"] = 1
    for key in ("reconcile_days", "window", "lookback", "batch_files"):
        out["config %s=%s" % (key, life["config"][key])] = 1
    for night in life["nights"]:
        for e in night["events"]:
            out["event " + e[0]] = out.get("event " + e[0], 0) + 1
            if e[0] == "call" and len(e) > 2:
                out["event queue"] = out.get("event queue", 0) + 1
            if e[0] == "queue":
                k = "event queue across the %s" % e[3]
                out[k] = out.get(k, 0) + 1
        for f in night["faults"]:
            name = "fault " + f
            out[name] = out.get(name, 0) + 1
        for key in ("outage", "midrun_kill"):
            if night[key]:
                out["event " + key] = out.get("event " + key, 0) + 1
        if night["crash"]:
            k = "crash " + night["crash"][0]
            out[k] = out.get(k, 0) + 1
        if night["retention"][0]:
            k = "retention keep_days=%d" % night["retention"][1]
            out[k] = out.get(k, 0) + 1
        if night["parallel"] == 2:
            out["config parallel=2"] = out.get("config parallel=2", 0) + 1
    return out
