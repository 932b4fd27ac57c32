"""oracle.py — what must hold after every run, judged without the client's code.

It reads only the archive (files + manifest JSONL), the fake PBX's disk and delete log, and the
simulator's own record of the recordings it made. Adapted from check_invariant
(tests/e2e/lib.sh).
"""
import glob
import hashlib
import json
import os

from pbx import sha256_file


class Manifest:
    """The manifest as lines; `problems` holds what does not parse or breaks the chain."""

    def __init__(self, root, crashed):
        self.archived, self.deleted_marks, self.unavailable = {}, [], set()
        self.files, self.problems = set(), []
        for mf in sorted(glob.glob(os.path.join(root, "manifest", "*.jsonl"))):
            self.load_day(mf, crashed)

    def load_day(self, mf, crashed):
        prev = hashlib.sha256(b"").hexdigest()
        lines = open(mf, "rb").read().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        elif crashed:
            lines.pop()  # a torn tail a crash may leave; the next run cuts it
        for n, raw in enumerate(lines, 1):
            try:
                o = json.loads(raw)
            except ValueError:
                self.problems.append("%s:%d does not parse" % (mf, n))
                return
            if o.get("prev") != prev:
                self.problems.append("%s:%d breaks the hash chain" % (mf, n))
            prev = hashlib.sha256(raw).hexdigest()
            self.take(o)

    def take(self, o):
        ev = o.get("event")
        if ev == "archived":
            versions = self.archived.setdefault(o["pbx_path"], [])
            if any(v["sha256"] == o["sha256"] for v in versions):
                self.problems.append("archived twice with the same bytes: " + o["pbx_path"])
            if o["file"] in self.files:
                self.problems.append("two archived lines name " + o["file"])
            self.files.add(o["file"])
            versions.append(o)
        elif ev == "pbx_deleted":
            self.deleted_marks.append(o)
        elif ev == "unavailable":
            self.unavailable.add(o["pbx_path"])

    def has(self, path, sha):
        return any(v["sha256"] == sha for v in self.archived.get(path, []))

    def flagged(self, path):
        """Named as not archivable: flagged invalid, or unavailable."""
        return path in self.unavailable or any(v.get("invalid") for v in self.archived.get(path, []))


def check_deletions(m, root, deleted):
    """(a) Every file the PBX deleted has an archived line with exactly its sha256 and a file
    in the archive that still hashes to it (to stored_sha256 when encrypted)."""
    out = []
    for path, sha in deleted:
        o = next((v for v in m.archived.get(path, []) if v["sha256"] == sha), None)
        if not o:
            out.append("DELETED WITHOUT AN ARCHIVED COPY OF THOSE BYTES: %s %s" % (path, sha[:12]))
            continue
        f = os.path.join(root, o["file"])
        if not os.path.exists(f) or sha256_file(f) != o.get("stored_sha256", o["sha256"]):
            out.append("DELETED, AND ITS ARCHIVED FILE IS BAD: " + path)
    return out


def check_archive_shape(m, root, held, crashed):
    """(b) No orphan file, no temp file after a finished run, and no pbx_deleted line for
    bytes the PBX still holds at that path."""
    out = []
    if not crashed:
        for f in sorted(glob.glob(os.path.join(root, "[0-9]" * 4, "[0-9][0-9]", "[0-9][0-9]", "*"))):
            rel = os.path.relpath(f, root)
            if rel not in m.files:
                out.append("orphan file (no archived line names it): " + rel)
        tmp = os.path.join(root, ".state", "tmp")
        if os.path.isdir(tmp) and os.listdir(tmp):
            out.append("temp files left: %s" % os.listdir(tmp))
    for o in m.deleted_marks:
        if held.get(o["pbx_path"]) == o.get("sha256"):
            out.append("pbx_deleted, yet the PBX still holds those bytes: " + o["pbx_path"])
    return out


def name_minute(path):
    """'YYYY-MM-DD HH:MM' of a recording's name (the PBX's local time of its call)."""
    n = os.path.basename(path)
    return "%s-%s-%s %s:%s" % (n[0:4], n[4:6], n[6:8], n[9:11], n[11:13])


def check_checkpoint(m, root, present_at_start):
    """The checkpoint is never ahead of the manifest: a recording that was on the PBX when a
    run started (not one copied in late behind the walk) and whose call started before the
    checkpoint minute is archived (or named unavailable) once that run is done."""
    cpf = os.path.join(root, ".state", "checkpoint")
    if not os.path.exists(cpf):
        return []
    cp = open(cpf).read().strip()
    # A recording named "unavailable" (never delivered, after [sync] invalid_retries runs) is
    # accounted for: the walk may pass it; check_complete judges whether that was earned.
    return ["checkpoint %s ahead of the manifest: %s" % (cp, p)
            for p in sorted(present_at_start)
            if name_minute(p) < cp and p not in m.archived and p not in m.unavailable]


def check_record(record, held, deleted, final):
    """The simulator's record: every recording it made is still on the PBX with its bytes or
    was deleted by the PBX (nothing vanished from the fake's disk behind everyone's back)."""
    gone = set(deleted)
    deleted_paths = {p for p, _ in deleted}
    out = []
    for path, sha, live in record:
        if held.get(path) == sha or (path, sha) in gone or (live and path in deleted_paths):
            continue
        if live and not final:
            continue  # fakepbx writes a growing file only when a request comes
        if held.get(path) is not None or path in deleted_paths:
            continue  # replaced later by the simulator itself (a re-used name)
        out.append("the simulator's recording vanished from the PBX: " + path)
    return out


def check_complete(m, held, injected_cause):
    """(c) After the quiet tail: every recording the PBX holds is archived with its final
    bytes, or named invalid/unavailable when the life injected a cause for it."""
    out = []
    for path, sha in sorted(held.items()):
        if m.has(path, sha):
            continue
        if injected_cause and m.flagged(path):
            continue
        why = "not archived" if path not in m.archived else "archived, but not its final bytes"
        out.append("INCOMPLETE after the quiet tail: %s (%s)" % (path, why))
    return out


def check_report(report, m, present_at_start):
    """(d) The coverage report (`nexo-archive report --json`) never calls a day complete that
    is not: a day it says was listed through, with nothing only on the PBX, in progress or
    vanished, holds every recording that was on the PBX when the run started, archived (or
    named unavailable)."""
    out = []
    for d in report.get("days", []):
        if not d.get("listed") or d.get("only_on_pbx") or d.get("in_progress") or d.get("vanished"):
            continue
        day = d["day"].replace("-", "")
        for p in sorted(present_at_start):
            if p.startswith(day + "/") and p not in m.archived and p not in m.unavailable:
                out.append("the report calls %s complete, and %s is not archived" % (d["day"], p))
    return out


def check_vanished(root, held):
    """(e) A recording the pending list calls vanished (listed once, then no longer listed,
    never archived) is not on the PBX."""
    f = os.path.join(root, ".state", "pending.json")
    if not os.path.exists(f):
        return []
    recs = json.load(open(f)).get("recordings", {})
    return ["called vanished, yet the PBX holds it: " + p
            for p, e in sorted(recs.items()) if e.get("state") == "vanished" and p in held]


def check(root, pbx, record, crashed=False, present_at_start=None, final=False,
          injected_cause=False, report=None):
    """All checks of one instant; returns the list of violations (empty = holds). `report`:
    the coverage report's JSON after the run, when one was made."""
    m = Manifest(root, crashed)
    held, deleted = pbx.holds(), pbx.deleted()
    out = list(m.problems)
    out += check_deletions(m, root, deleted)
    out += check_archive_shape(m, root, held, crashed)
    out += check_record(record, held, deleted, final)
    if present_at_start is not None and not crashed:
        out += check_checkpoint(m, root, present_at_start)
        if report is not None:
            out += check_report(report, m, present_at_start)
            out += check_vanished(root, held)
    if final:
        out += check_complete(m, held, injected_cause)
    return out
