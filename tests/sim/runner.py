"""runner.py — lives a drawn life: the PBX's days, the client's nights, the oracle after each
run. Stops at the first violation and returns what happened (the trail)."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import oracle
from life import ALL_TRAITS, DAY, QUEUE_MAX, TIMED_EVENTS
from pbx import FakePBX, recording_name, sha256_file, wav_bytes, write_atomic

TAIL_RUNS = 4  # the quiet tail: no calls, no faults, a day apart (one of them reconciles)
RUN_DEADLINE = 90  # a run still going then is a hang: a finding
# Faults after which a recording may be named invalid or unavailable: the PBX never sent it
# whole, or sent it wrong, for several runs.
CAUSES = ("omit-one", "tar-missing", "wav-", "size-mismatch", "tar-duplicate", "tar-symlink",
          "tar-hardlink", "tar-device")


def stamp(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


class Violation(Exception):
    pass


class Life:
    def __init__(self, life, build, keep=False):
        self.life, self.build, self.keep = life, build, keep
        self.tdir = tempfile.mkdtemp(prefix="nexo-sim-%d-" % life["seed"])
        self.pbx = FakePBX(os.path.join(build, "fakepbx"), self.tdir, life["traits"])
        self.archive = os.path.join(self.tdir, "archive")
        self.conf = os.path.join(self.tdir, "nexo.conf")
        self.record = []  # (path, sha256, live) of every recording the simulator made
        self.late, self.live = set(), []  # paths copied in late; .live.jsonl entries
        self.trail, self.runs, self.night = [], 0, -1
        self.injected_cause = False
        self.recipient = None

    # --- the trail ---
    def say(self, text):
        self.trail.append("night %d %s: %s" % (self.night, stamp(self.pbx.now), text))

    # --- setup ---
    def setup(self):
        life, env = self.life, dict(os.environ, TZ="UTC")
        days = life["history_days"]
        # History ends a day before the first night: a PBX clock up to 12 h behind must not
        # hold recordings from its own future.
        start = time.strftime("%Y-%m-%d", time.gmtime(life["base"] - (days + 1) * DAY))
        subprocess.run([self.pbx.bin, "--generate", self.pbx.data, "--days", str(days),
                        "--per-day", str(life["history_per_day"]), "--seed", str(life["seed"]),
                        "--start", start, "--min-seconds", "1", "--max-seconds", "3"] +
                       (["--queue-percent", str(life["history_queue"]), "--queue-max",
                         str(QUEUE_MAX)] if life.get("history_queue") else []),
                       env=env, check=True, stdout=subprocess.DEVNULL)
        for path, sha in self.pbx.holds().items():
            self.record.append((path, sha, False))
        with open(os.path.join(self.tdir, "password"), "w") as f:
            f.write("admin\n")
        os.chmod(os.path.join(self.tdir, "password"), 0o600)
        if life["config"]["encryption"]:
            out = subprocess.run([os.path.join(self.build, "nexo-archive"), "keygen", "-o",
                                  os.path.join(self.tdir, "identity")], env=env, check=True,
                                 capture_output=True, text=True)
            self.recipient = next(w for w in (out.stdout + out.stderr).split() if w.startswith("age1"))
        self.pbx.set_clock(life["nights"][0]["run_at"] - DAY if life["nights"] else life["base"])
        self.pbx.start()
        self.say("history: %d days x %d recordings%s; traits %s" % (
            days, life["history_per_day"],
            " (%d%% queued)" % life["history_queue"] if life.get("history_queue") else "",
            self.trait_text()))

    def trait_text(self):
        t = self.life["traits"]
        return " ".join("%s=%s" % (k, t[k]) for k in ALL_TRAITS
                        if t[k] != ALL_TRAITS[k][0]) or "plain"

    # --- events ---
    def do_event(self, e):
        kind = e[0]
        if kind == "call":
            self.add_calls(e[1], 1, e[2] if len(e) > 2 else 0)
        elif kind == "queue":
            self.add_calls(e[1], 1, e[2], "across the " + e[3])
        elif kind == "burst":
            self.add_calls(e[1], e[2])
        elif kind == "late":
            self.copy_in_late(e[1])
        elif kind == "reuse":
            self.reuse_name(e[1])
        elif kind == "live":
            if os.environ.get("SIM_SLOW_GROWTH"):
                # 3 s of audio over hours: a recording growing slower than real time.
                self.start_live(e[1], e[1] + e[4], e[3], 3)
            else:
                self.start_live(e[1], e[1] + e[2], e[3], e[2])
        elif kind == "restart":
            self.restart()

    def add_calls(self, t, n, wait=0, why=""):
        for i in range(n):
            self.pbx.set_clock(max(self.pbx.now, t + i))
            path = self.pbx.add_call(wait)
            if path:
                self.record.append((path, sha256_file(os.path.join(self.pbx.data, path)), False))
            queued = ""
            if wait:
                queued = " (queued %d s from %s%s)" % (
                    wait, stamp(self.pbx.now - wait), ", " + why if why else "")
            self.say("call -> %s%s" % (path or "(not recorded)", queued))

    def pbx_names(self, t):
        """(local, unix) of an instant as the PBX would name a call then."""
        tr = self.life["traits"]
        unix = t + tr["clock_offset_s"]
        return unix + tr["zone_offset_s"], unix

    def copy_in_late(self, t):
        local, unix = self.pbx_names(t)
        path = recording_name(local, unix, t)
        data = wav_bytes(1 + t % 3, t)
        write_atomic(os.path.join(self.pbx.data, path), data)
        self.late.add(path)
        self.record.append((path, sha256_file(os.path.join(self.pbx.data, path)), False))
        self.say("late recording copied in: %s" % path)

    def reuse_name(self, r):
        held = self.pbx.holds()
        live = {e["path"] for e in self.live}
        gone = sorted({p for p, _ in self.pbx.deleted() if p not in held and p not in live})
        if not gone:
            self.say("re-use: nothing deleted yet")
            return
        path = gone[r % len(gone)]
        write_atomic(os.path.join(self.pbx.data, path), wav_bytes(2, r + 7))
        self.record.append((path, sha256_file(os.path.join(self.pbx.data, path)), False))
        self.say("name re-used after deletion: %s" % path)

    def start_live(self, start, until, header, seconds):
        local, unix = self.pbx_names(start)
        path = recording_name(local, unix, start + 1)
        final = ".live/" + os.path.basename(path)
        write_atomic(os.path.join(self.pbx.data, final), wav_bytes(seconds, start))
        self.live.append({"path": path, "final": final, "header": header,
                          "from": start, "until": until})
        self.record.append((path, sha256_file(os.path.join(self.pbx.data, final)), True))
        self.write_live()
        self.say("recording grows until %s (%s header): %s" % (stamp(until), header, path))

    def write_live(self):
        # A deleted live recording must not come back when a new fakepbx re-reads the sidecar.
        deleted = {p for p, _ in self.pbx.deleted()}
        self.pbx.write_live([e for e in self.live if e["path"] not in deleted])

    def restart(self, faults=()):
        self.write_live()
        self.pbx.start(faults)
        self.say("fakepbx restarted" + (" with faults %s" % " ".join(faults) if faults else ""))

    # --- runs ---
    def write_conf(self, retention, parallel):
        c, t = self.life["config"], self.life["traits"]
        lines = ["[pbx]", "url = " + self.pbx.url, "username = admin",
                 "password_file = " + os.path.join(self.tdir, "password"),
                 "timeout = 10", "connect_timeout = 5", "retries = 2"]
        if abs(t["clock_offset_s"]) > 600:
            lines.append("max_clock_skew = 13h")  # a PBX known to be off: deletions go on
        lines += ["[archive]", "dir = " + self.archive, "[sync]",
                  "lookback = " + c["lookback"], "window = " + c["window"],
                  "batch_files = %d" % c["batch_files"], "parallel = %d" % parallel,
                  "reconcile_days = %d" % c["reconcile_days"],
                  "invalid_retries = %d" % c["invalid_retries"],
                  "[retention]", "delete_from_pbx = %s" % ("true" if retention[0] else "false"),
                  "pbx_keep_days = %d" % retention[1],
                  "[cdr]", "join = %s" % ("true" if t["cdr"] == "join" else "false")]
        if self.recipient:
            lines += ["[encryption]", "recipients = " + self.recipient]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        # Every command but init refuses a folder that init did not make (issue 15).
        if not os.path.exists(os.path.join(self.archive, ".nexo-archive")):
            subprocess.run([os.path.join(self.build, "nexo-archive"), "-c", self.conf, "init"],
                           check=True, stdout=subprocess.DEVNULL)

    def present_now(self):
        """Recordings on the PBX that the walk must find (not copied in behind it, not still
        growing)."""
        live = {e["path"] for e in self.live}
        return {p for p in self.pbx.holds() if p not in self.late and p not in live}

    def nexo(self, args, crash_at=None, background=False):
        env = dict(os.environ, TZ="UTC", NEXO_TEST_CLOCK_FILE=self.pbx.clock_file,
                   NEXO_RETRY_BASE_MS="50")
        env.pop("NEXO_CRASH_AT", None)
        if crash_at:
            env["NEXO_CRASH_AT"] = crash_at
        self.runs += 1
        out = open(os.path.join(self.tdir, "run-%03d.log" % self.runs), "w")
        cmd = [os.path.join(self.build, "test", "nexo-archive"), "-c", self.conf] + args
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        if background:
            return proc, out
        return self.finish(proc, out, args, crash_at)

    def finish(self, proc, out, args, crash_at):
        try:
            rc = proc.wait(RUN_DEADLINE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise Violation("nexo-archive %s still running after %d s (a hang)" % (
                " ".join(args), RUN_DEADLINE))
        out.close()
        text = open(out.name, errors="replace").read()
        summary = next((l for l in text.splitlines() if "archived" in l and "," in l), "")
        self.say("nexo-archive %s%s -> exit %d  %s" % (
            " ".join(args), " (crash at %s)" % crash_at if crash_at else "", rc, summary.strip()[:160]))
        if "Sanitizer" in text or "runtime error:" in text:
            raise Violation("sanitizer report in run %d (%s)" % (self.runs, out.name))
        if rc >= 128 and not (crash_at and rc == 137) or rc < 0 and not (crash_at and rc == -9):
            raise Violation("nexo-archive died by signal (exit %d), run log %s" % (rc, out.name))
        return rc

    def run_and_check(self, night, args=("run",), crash_at=None, final=False):
        self.write_conf(night["retention"], night["parallel"])
        present = self.present_now()
        rc = self.nexo(list(args), crash_at)
        crashed = rc in (137, -9)
        self.verify(crashed=crashed, present=None if crashed or args[0] != "run" else present,
                    final=final)
        return rc

    def coverage(self):
        """`nexo-archive report --json` of the archive (it reads only the archive)."""
        env = dict(os.environ, TZ="UTC", NEXO_TEST_CLOCK_FILE=self.pbx.clock_file)
        p = subprocess.run([os.path.join(self.build, "test", "nexo-archive"), "-c", self.conf,
                            "report", "--json"], env=env, capture_output=True, text=True,
                           timeout=RUN_DEADLINE)
        if p.returncode != 0 or "Sanitizer" in p.stderr or "runtime error:" in p.stderr:
            raise Violation("report --json exited %d: %s" % (p.returncode, p.stderr.strip()[:300]))
        return json.loads(p.stdout)

    def verify(self, crashed=False, present=None, final=False):
        report = self.coverage() if present is not None and not crashed else None
        v = oracle.check(self.archive, self.pbx, self.record, crashed=crashed,
                         present_at_start=present, final=final,
                         injected_cause=self.injected_cause, report=report)
        if v:
            raise Violation("; ".join(v[:8]) + (" (and %d more)" % (len(v) - 8) if len(v) > 8 else ""))

    def tick(self, seconds):
        self.pbx.set_clock(self.pbx.now + seconds)

    def midrun_kill(self, night):
        """fakepbx dies while a download is stalled: the run sees a dead PBX mid-request."""
        self.write_live()
        self.pbx.start(list(night["faults"]) + ["stall=3:1@20036"])
        self.write_conf(night["retention"], night["parallel"])
        proc, out = self.nexo(["run"], background=True)
        time.sleep(0.5)
        self.pbx.kill()
        self.say("fakepbx killed mid-run")
        self.finish(proc, out, ["run"], None)
        self.verify()
        self.tick(120)

    def live_night(self, night):
        self.night = night["n"]
        for e in night["events"]:
            if len(e) > 1 and e[0] in TIMED_EVENTS:
                self.pbx.set_clock(max(self.pbx.now, e[1]))
            self.do_event(e)
        self.pbx.set_clock(night["run_at"])
        faults = night["faults"]
        if any(c in f for f in faults for c in CAUSES):
            self.injected_cause = True
        if night["outage"]:
            self.pbx.stop()
            self.say("fakepbx down (outage)")
            self.run_and_check(night)
            self.tick(120)
        if night["midrun_kill"]:
            self.midrun_kill(night)
        if faults or night["outage"] or night["midrun_kill"] or self.pbx.proc is None:
            self.restart(faults)
        if night["crash"]:
            label, hit = night["crash"]
            self.run_and_check(night, crash_at="%s:%d" % (label, hit))
            self.tick(120)
        self.run_and_check(night)
        if faults:
            self.tick(120)
            self.restart()

    def quiet_tail(self):
        last = self.life["nights"][-1] if self.life["nights"] else None
        night = {"n": len(self.life["nights"]), "retention": last["retention"] if last else (False, 0),
                 "parallel": 1}
        self.night = night["n"]
        self.restart()
        for i in range(TAIL_RUNS):
            self.pbx.set_clock(self.pbx.now + DAY)
            self.say("quiet tail, run %d" % (i + 1))
            if i == 1:
                self.run_and_check(night, args=("reconcile",))
                self.tick(300)
            self.run_and_check(night, final=(i == TAIL_RUNS - 1))

    def live_it(self):
        """Returns (violation or None, nights lived)."""
        try:
            self.setup()
            for night in self.life["nights"]:
                self.live_night(night)
            self.quiet_tail()
            return None
        except Violation as v:
            return str(v)
        finally:
            self.pbx.stop()

    def cleanup(self):
        if not self.keep:
            shutil.rmtree(self.tdir, ignore_errors=True)
