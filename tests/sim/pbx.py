"""pbx.py — the fake PBX of one life: its process, its clock file, its disk.

fakepbx and the test build of nexo-archive read the same clock file, so the simulator
decides what "now" is for both. Everything listens on 127.0.0.1 only.
"""
import hashlib
import json
import math
import os
import signal
import struct
import subprocess
import time


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def wav_bytes(seconds, pitch):
    """A 8 kHz 16-bit mono tone; `pitch` makes recordings differ."""
    freq = 200 + 37 * (pitch % 97)
    second = b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * freq * i / 8000)))
                      for i in range(8000))
    data = second * int(seconds) + second[:2 * int(8000 * (seconds % 1))]
    head = (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" +
            struct.pack("<I", len(data)))
    return head + data


def write_atomic(path, data):
    """As a PBX writes a finished file: a dot-named temp in the same folder, then a rename."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def recording_name(local_epoch, unix_epoch, tag):
    """YYYYMMDD/YYYYMMDD-HHMMSS-unix-Outbound-96-202-DST.wav at the PBX's local time."""
    day = time.strftime("%Y%m%d", time.gmtime(local_epoch))
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(local_epoch))
    return "%s/%s-%d-Outbound-96-202-5%03d.wav" % (day, stamp, unix_epoch, tag % 1000)


class FakePBX:
    def __init__(self, fakepbx, tdir, traits):
        self.bin = fakepbx
        self.tdir = tdir
        self.data = os.path.join(tdir, "pbx")
        self.log = os.path.join(tdir, "fakepbx.log")
        self.delete_log = os.path.join(tdir, "deleted.log")
        self.clock_file = os.path.join(tdir, "clock")
        self.queue_file = os.path.join(tdir, "queue")  # the next added call's queue wait
        self.traits = traits
        self.proc = None
        self.port = None
        self.faults = []

    # --- the clock ---
    def set_clock(self, t):
        tmp = self.clock_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % t)
        os.rename(tmp, self.clock_file)
        self.now = t

    # --- the process ---
    def trait_args(self):
        t, a = self.traits, []
        a += ["--end-bound", t["end_bound"], "--start-bound", t["start_bound"]]
        a += ["--list-style", t["list_style"], "--tar-names", t["tar_names"]]
        a += ["--download-key", t["download_key"], "--delete-key", t["delete_key"]]
        a += ["--login-style", t["login_style"], "--no-session", t["no_session"]]
        a += ["--cdr-style", t["cdr_style"], "--cdr-recording-name", t["cdr_recording_name"]]
        if t["int_values"]:
            a += ["--int-values", "--cdr-int-values"]
        if t["max_rows"]:
            a += ["--max-rows", str(t["max_rows"])]
        if t["totalcount"] == "missing":
            a.append("--totalcount-missing")
        elif t["totalcount"] == "capped":
            a.append("--totalcount-capped")
        if t["clock_offset_s"]:
            a += ["--clock-offset", "%+d" % t["clock_offset_s"]]
        if t["zone_offset_s"]:
            a += ["--zone-offset", "%+d" % t["zone_offset_s"]]
        if t["expire_after"]:
            a += ["--fault", "expire-after=%d" % t["expire_after"]]
        if t["delete_no_session"]:
            a += ["--delete-no-session", str(t["delete_no_session"])]
        if t["max_url"]:
            a += ["--max-url", str(t["max_url"])]
        if t["long_fields"]:
            a += ["--long-fields", str(t["long_fields"])]
        if t.get("list_call_start"):
            a.append("--list-call-start")
        return a

    def start(self, faults=()):
        self.stop()
        self.faults = list(faults)
        port_file = os.path.join(self.tdir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        args = [self.bin, "--data", self.data, "--listen", "127.0.0.1:0",
                "--port-file", port_file, "--delete-log", self.delete_log,
                "--clock-file", self.clock_file, "--queue-file", self.queue_file]
        args += self.trait_args()
        for f in self.faults:
            args += ["--fault", f]
        self.log_fd = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log_fd,
                                     env=dict(os.environ, TZ="UTC"))
        for _ in range(400):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                self.port = int(open(port_file).read())
                return
            if self.proc.poll() is not None:
                raise RuntimeError("fakepbx exited at start: " + " ".join(args))
            time.sleep(0.01)
        raise RuntimeError("fakepbx did not write its port")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None
            self.log_fd.close()

    def kill(self):
        """An outage that strikes mid-request: no goodbye."""
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.log_fd.close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    # --- the disk ---
    def added_lines(self):
        with open(self.log, "rb") as f:
            return [l.decode(errors="replace") for l in f if l.startswith(b"fakepbx: call added: ")]

    def add_call(self, wait=0):
        """SIGUSR1 at the clock's now, answered now; `wait` > 0: the call waited that many
        seconds in a queue first (--queue-file: its CDR starts that much earlier). Returns the
        recording's path, or None for an unrecorded call."""
        before = len(self.added_lines())
        if wait:
            tmp = self.queue_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % wait)
            os.rename(tmp, self.queue_file)
        self.proc.send_signal(signal.SIGUSR1)
        for _ in range(1000):
            lines = self.added_lines()
            if len(lines) > before:
                if os.path.exists(self.queue_file):
                    raise RuntimeError("fakepbx added a call without taking its queue wait")
                last = lines[before].strip()
                return last.split()[-1] if last.endswith(".wav") else None
            time.sleep(0.005)
        raise RuntimeError("fakepbx did not add a call")

    def holds(self):
        """{path: sha256} of every recording on the PBX's disk (no dot files or folders)."""
        out = {}
        for d, dirs, files in os.walk(self.data):
            dirs[:] = [x for x in dirs if not x.startswith(".")]
            for f in files:
                if f.endswith(".wav") and not f.startswith("."):
                    p = os.path.join(d, f)
                    out[os.path.relpath(p, self.data)] = sha256_file(p)
        return out

    def deleted(self):
        """[(path, sha256)] of every file the PBX really deleted, in order."""
        if not os.path.exists(self.delete_log):
            return []
        return [tuple(l.split()) for l in open(self.delete_log) if l.strip()]

    def write_live(self, entries):
        """Rewrites DIR/.live.jsonl (temp + rename: fakepbx re-reads it on a new inode)."""
        path = os.path.join(self.data, ".live.jsonl")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            for e in entries:
                f.write(json.dumps(e) + "\n")
        os.rename(tmp, path)
