#!/usr/bin/env python3
"""make-seeds.py — regenerates the seed corpora in tests/fuzz/corpus/ (committed; run this only
to change them). Real-looking inputs first: the vendor guide's listing and CDR (9006) shapes,
our 9005 CSV layout, WAVs made by sox in the formats Asterisk writes, tars made by GNU tar and
bsdtar, the shipped configs, manifest lines as docs/manifest.md shows them with a valid hash
chain; then the hostile variants each module must refuse (truncated, torn, traversal, links).
Needs python3, sox, tar, bsdtar, gzip.

Run with target names (`make-seeds.py cdr csv`) to regenerate only those.

Input layouts (see each harness): unpack seeds start with 1 flag byte and 4 piece bytes, wav
seeds with 4 piece bytes, answer seeds with 2 status bytes, config seeds put -o overrides
after NUL bytes. Everything else is the raw input."""
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

P1 = "20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav"
P2 = "20210330/20210330-080000-1617091200-Internal-202-203.wav"
P3 = "20210329/20210329-000719-1617005239-Outbound-44-202-0049301234567.wav"
B1 = P1.split("/")[1]
B2 = P2.split("/")[1]
# GNU tar's pax headers without the pid in their names and without atime/ctime, so that the
# seeds do not change when regenerated (two still do: bsdtar's pax seed carries the files'
# ctime, GNU tar's pax sparse seed a pid).
PAX_FIXED = "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime"


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def run(*cmd, cwd=None):
    if cwd:  # same times every time: the seeds do not change when regenerated
        for d, dirs, files in os.walk(cwd):
            for n in dirs + files:
                os.utime(os.path.join(d, n), (1617005404, 1617005404), follow_symlinks=False)
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------- listing

def row(path, calldate="2021-03-29 00:10:04", src="202", dst="820(102)", trunk="44",
        duration="4", calltype="CallBack", **extra):
    r = {"calldate": calldate, "src": src, "dst": dst, "trunk": trunk, "duration": duration,
         "calltype": calltype, "path": path}
    r.update(extra)
    return r


def listing():
    guide = ('{"25":{"calldate":"2021-03-29 00:10:04","src":"202","dst":"820(102)","trunk":"44",'
             '"duration":"4","calltype":"CallBack","path":"' + P1 + '"},\n'
             '"26":{"calldate":"2021-03-29 00:07:19","src":"202","dst":"820(601)","trunk":"44",'
             '"duration":"11","calltype":"CallBack",'
             '"path":"20210329/20210329-000719-1617005239-CallBack-44-202-820(601).wav"},\n'
             '"json_obj_filter":{"startdate":"2021-03-28 00:00","enddate":"2021-04-14 23:59",'
             '"totalcount":27}}\n')
    put("listing", "guide-numbered.json", guide)
    flt = {"startdate": "2021-03-28 00:00", "enddate": "2021-04-14 23:59", "totalcount": "2"}
    rows = [row(P1), row(P3, calldate="2021-03-29 00:07:19", dst="0049301234567",
                          calltype="Outbound", duration="11")]
    put("listing", "array-json_array_recordings.json",
        json.dumps({"json_array_recordings": rows, "json_obj_filter": flt}))
    put("listing", "array-other-key.json", json.dumps({"data": rows}, indent=1))
    put("listing", "bare-array.json", json.dumps(rows))
    put("listing", "int-values.json", json.dumps(
        {"0": dict(row(P1), duration=4, src=202, trunk=44),
         "1": dict(row(P2, calldate="2021-03-30 08:00:00", calltype="Internal"), duration=4.7,
                   size=176044),
         "json_obj_filter": {"totalcount": 2}}))
    put("listing", "loose-names.json", json.dumps(
        [{"Path": P1, "CallDate": "2021-03-29 00:10", "Duration": "4s", "SRC": "202"},
         {"path": P2}, {"path": "x/recording.wav", "calldate": ""},
         {"PATH": "d/wrong.wav", "path": "d/20210329-001004-b.wav"}]))
    put("listing", "cdr-shape.json", json.dumps(
        {"json_array_astcdrs": [{"calldate": "2021-05-07 01:05:02", "src": "506", "dst": "820(202)",
                                 "channel": "96", "duration": "6", "billsec": "3",
                                 "disposition": "ANSWERED", "userfield": "CallBack",
                                 "Recording filename": "20210507/20210507-010506-1620378306-"
                                                       "CallBack-96-506-820(202).wav",
                                 "UniqueID": "1620378302.28", "port": 0}],
         "calltypes": ["Inbound", "Outbound"]}))
    put("listing", "two-sources.json",
        '{"0":' + json.dumps(row(P1)) + ',"json_array_recordings":' + json.dumps(rows) +
        ',"rows":' + json.dumps(rows) + ',"1":' + json.dumps(row(P2)) + '}')
    put("listing", "error-object.json", '{"status":"fail","message":"not logged in"}')
    put("listing", "error-object-escape.json",
        '{"errcode":-1,"error":"\\u001b[31msession expired\\u001b[0m","retry":null,"x":1.5e3}')
    put("listing", "empty-object.json", "{}")
    put("listing", "empty-array.json", "\n[\n]\n")
    put("listing", "empty-recordings.json",
        '{"json_array_recordings":[],"json_obj_filter":{"totalcount":0}}')
    put("listing", "filter-negative.json", '{"0":' + json.dumps(row(P1)) +
        ',"json_obj_filter":{"totalcount":-1}}')
    put("listing", "filter-only.json", '{"json_obj_filter":{"totalcount":"0"}}')
    put("listing", "filter-says-more.json", '{"rows":{"a":' + json.dumps(row(P1)) +
        '},"json_obj_filter":{"totalcount":1}}')
    put("listing", "html-login.json",
        "<!DOCTYPE html>\n<html><head><title>Login</title></head><body></body></html>\n")
    put("listing", "truncated.json", guide[:200])
    put("listing", "trailing-garbage.json", json.dumps(rows) + " x")
    put("listing", "unicode-escapes.json", json.dumps(
        [row("20210329\\/20210329-001004-\u00e9\u4e2d-820(102).wav", src="\u00e9"),
         row(P1, dst="a\\u0000b")], ensure_ascii=False).replace("\\\\u0000", "\\u0000"))
    put("listing", "bad-dates.json", json.dumps(
        [{"path": "x/20210329-001004-a.wav", "calldate": "2021-02-30 00:11:00"},
         {"path": "x/20210231-001004-d.wav"}, {"path": "x/20210329-0010041-e.wav"},
         {"path": "20210329-235959.wav"}, {"path": ""}, {"path": 42},
         {"path": "x/recording.wav", "calldate": "2024-02-29 23:59:59"},
         {"path": "a/19691231-235959-x.wav"}, "text", None, []]))
    put("listing", "big-numbers.json", json.dumps(
        [row(P1, duration="99999999999999999999", size="18446744073709551616"),
         dict(row(P2), duration=1e308, size=-1, totalcount=9223372036854775808)]) +
        "")
    put("listing", "numbers-raw.json",
        '{"0":{"path":"' + P1 + '","duration":18446744073709551615,"size":-0.0,'
        '"src":1e400},"json_obj_filter":{"totalcount":9223372036854775807}}')
    put("listing", "deep.json", "[" * 20 + "]" * 20)
    many = {str(i): row("20210329/20210329-%06d-16170%05d-Inbound-44-%d-820(102).wav"
                        % (i, i, 200 + i), calldate="2021-03-29 %02d:%02d:%02d"
                        % (i // 3600, i // 60 % 60, i % 60)) for i in range(60)}
    many["json_obj_filter"] = {"totalcount": 60}
    put("listing", "sixty-rows.json", json.dumps(many))
    put("listing", "long-fields.json", json.dumps(
        [row("d/20210329-001004-" + "x" * 250 + ".wav"), row(P1, src="9" * 64),
         row(P1, calltype="C" * 63)]))


# ---------------------------------------------------------------- recpath

def recpath():
    for i, p in enumerate([
            P1, P2, B1, "./" + P1, "/var/spool/asterisk/monitor/" + P1,
            "20210229/20210229-001004-x.wav", "20240229/x.wav", "../20210329/" + B1,
            "20210329/../" + B1, "20210329/.hidden.wav", "20210329/x.WAV", "20210329/.wav",
            "20210329/" + "a" * 201 + ".wav", "20210329/a\\b.wav", "20210329/a\tb.wav",
            "2021032/x.wav", "x/20210329-x.wav", "19691231/19691231-x.wav", "20211301/a.wav",
            "20210329/", "", "20210329/x..wav", "a//20210329/x.wav", "20210329-1.wav",
            "20210329/20210329-001004-\u00e9.wav"]):
        put("recpath", "path-%02d.txt" % i, p)


# ---------------------------------------------------------------- WAV

def sox_wav(path, *args, secs="0.05"):
    run("sox", "-R", "-n", "-r", "8000", "-c", "1", *args, path, "synth", secs, "sine", "440")


def wav_bytes(tmp):
    """name → bytes of WAVs sox writes in the formats Asterisk's MixMonitor uses."""
    out = {}
    specs = {
        "pcm16": ("-e", "signed-integer", "-b", "16"),
        "pcm8": ("-e", "unsigned-integer", "-b", "8"),
        "alaw": ("-e", "a-law",),
        "ulaw": ("-e", "u-law",),
        "gsm": ("-e", "gsm-full-rate",),
        "pcm24-extensible": ("-e", "signed-integer", "-b", "24"),
    }
    for name, args in specs.items():
        p = os.path.join(tmp, name + ".wav")
        sox_wav(p, *args, secs="0.1" if name == "gsm" else "0.05")
        with open(p, "rb") as f:
            out[name] = f.read()
    p = os.path.join(tmp, "stereo.wav")
    run("sox", "-R", "-n", "-r", "8000", "-c", "2", "-e", "signed-integer", "-b", "16", p, "synth",
        "0.02", "sine", "440")
    out["stereo"] = open(p, "rb").read()
    p = os.path.join(tmp, "comment.wav")
    run("sox", "-R", "-n", "-r", "8000", "-c", "1", "-e", "signed-integer", "-b", "16", "--comment",
        "Asterisk MixMonitor", p, "synth", "0.02", "sine", "440")
    out["list-comment"] = open(p, "rb").read()
    return out


def chunk(cid, body):
    pad = b"\0" if len(body) & 1 else b""
    return cid + struct.pack("<I", len(body)) + body + pad


def riff(chunks, size=None):
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if size is None else size) + body


def fmt_pcm(ch=1, rate=8000, bits=16):
    ba = ch * bits // 8
    return struct.pack("<HHIIHH", 1, ch, rate, rate * ba, ba, bits)


def wav(tmp):
    real = wav_bytes(tmp)
    crafted = {
        # Asterisk's wav49: fmt of 20 bytes (cbSize 2, 320 samples per block), fact, data.
        "wav49-asterisk": riff([chunk(b"fmt ", struct.pack("<HHIIHHHH", 0x31, 1, 8000, 1625, 65,
                                                          0, 2, 320)),
                                chunk(b"fact", struct.pack("<I", 640)),
                                chunk(b"data", bytes(range(65)) * 2)]),
        "fmt18": riff([chunk(b"fmt ", fmt_pcm() + b"\0\0"), chunk(b"data", b"\1\2" * 40)]),
        "odd-list-pad": riff([chunk(b"fmt ", fmt_pcm()), chunk(b"LIST", b"INFOISFT\3\0\0\0ab\0"),
                              chunk(b"data", b"\0\1" * 30)]),
        "odd-data-last": riff([chunk(b"fmt ", struct.pack("<HHIIHH", 6, 1, 8000, 8000, 1, 8)),
                               chunk(b"data", b"\xd5" * 33)]),
        "zero-data-header": riff([chunk(b"fmt ", fmt_pcm())]) + b"data" + b"\0\0\0\0" +
        b"\0\1" * 50,
        "riff-size-zero": riff([chunk(b"fmt ", fmt_pcm()), chunk(b"data", b"\0\1" * 40)], 0),
        "data-before-fmt": riff([chunk(b"data", b"\0\1" * 4), chunk(b"fmt ", fmt_pcm())]),
        "two-fmt": riff([chunk(b"fmt ", fmt_pcm()), chunk(b"fmt ", fmt_pcm()),
                         chunk(b"data", b"\0\1")]),
        "bad-block-align": riff([chunk(b"fmt ", struct.pack("<HHIIHH", 1, 2, 8000, 32000, 3, 16)),
                                 chunk(b"data", b"\0" * 12)]),
        "trailing-bytes": riff([chunk(b"fmt ", fmt_pcm()), chunk(b"data", b"\0\1" * 8)]) + b"JUNK",
        "not-riff": b"RIFX" + b"\0" * 40,
        "empty": b"",
    }
    variants = {}
    for name, b in real.items():
        variants[name] = b
        variants[name + "-cut-header"] = b[:30]
        variants[name + "-cut-data"] = b[:len(b) - 7]
    variants.update(crafted)
    ctl = [b"\x7f\x7f\x7f\x7f", b"\x01\x02\x03\x04", b"\x04\x08\x0c\x80", b"\x00\x05\x81\x10",
           b"\x0b\x0c\x07\x90"]
    for i, (name, b) in enumerate(sorted(variants.items())):
        put("wav", name + ".bin", ctl[i % len(ctl)] + b)
    return real


# ---------------------------------------------------------------- unpack

def tar_bytes(members, fmt=tarfile.PAX_FORMAT, gz=False):
    """members: (name, kind, data/target). A tar built byte for byte with Python's tarfile,
    for the hostile shapes GNU tar and bsdtar will not write."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w:gz" if gz else "w", format=fmt) as t:
        for name, kind, payload in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1617005404
            if kind == "file":
                ti.size = len(payload)
                t.addfile(ti, io.BytesIO(payload))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = payload
                t.addfile(ti)
            elif kind == "hardlink":
                ti.type = tarfile.LNKTYPE
                ti.linkname = payload
                t.addfile(ti)
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
                t.addfile(ti)
            elif kind == "chr":
                ti.type = tarfile.CHRTYPE
                t.addfile(ti)
    return bio.getvalue()


def gnu_sparse_tar(name, regions, realsize):
    """A GNU sparse entry (type 'S', map in the header) written by hand: the smallest tar
    with a hole, which GNU tar only makes for holes of a filesystem block or more."""
    stored = b"".join(data for _, data in regions)
    ti = tarfile.TarInfo(name)
    ti.size = len(stored)
    ti.mtime = 1617005404
    h = bytearray(ti.tobuf(format=tarfile.GNU_FORMAT))

    def octal(n, w):
        return ("%0*o" % (w - 1, n)).encode() + b"\0"
    h[156:157] = b"S"
    for i, (off, data) in enumerate(regions[:4]):
        h[386 + 24 * i:398 + 24 * i] = octal(off, 12)
        h[398 + 24 * i:410 + 24 * i] = octal(len(data), 12)
    h[483:495] = octal(realsize, 12)
    h[148:156] = b"        "
    h[148:156] = ("%06o\0 " % sum(h)).encode()
    pad = b"\0" * (-len(stored) % 512)
    return bytes(h) + stored + pad + b"\0" * 1024


def unpack(tmp, real):
    w1, w2 = real["alaw"], real["gsm"]
    # Flag byte: n = 1 + (b & 3); bit 2 breaks the transfer; bits 3-7 a failing callback.
    n1, n2, n3, n4 = b"\x00", b"\x01", b"\x02", b"\x03"
    pieces = [b"\x80\x80\x80\x80", b"\x04\x05\x07\x83", b"\x01\x01\x01\x01", b"\x90\x03\x88\x0c"]
    seeds = {}

    # With the real tools, in the PBX's layout: YYYYMMDD/ folders.
    src = os.path.join(tmp, "pbx")
    for p, data in ((P1, w1), (P2, w2), (P3, w1[:200])):
        os.makedirs(os.path.join(src, os.path.dirname(p)), exist_ok=True)
        with open(os.path.join(src, p), "wb") as f:
            f.write(data)
    for i, (tool, args) in enumerate((("tar", ("--format=ustar", "-b1")),
                                      ("tar", ("--format=gnu", "-b1")),
                                      ("tar", ("--format=pax", "-b1", PAX_FIXED)),
                                      ("bsdtar", ("--format=ustar", "-b1")),
                                      ("bsdtar", ("--format=pax",)))):
        out = os.path.join(tmp, "t%d.tar" % i)
        owner = ("--owner=0", "--group=0") if tool == "tar" else ("--uid", "0", "--gid", "0")
        run(tool, "-c", "-f", out, *args, *owner, "20210329", "20210330", cwd=src)
        seeds["%s-%s" % (tool, args[0].split("=")[1])] = (n3, open(out, "rb").read())
    # Flat names, as some PBXs send; "./" prefixes.
    flat = os.path.join(tmp, "flat")
    os.makedirs(flat)
    shutil.copy(os.path.join(src, P1), flat)
    shutil.copy(os.path.join(src, P2), flat)
    out = os.path.join(tmp, "flat.tar")
    run("tar", "-c", "-f", out, "-b1", B1, B2, cwd=flat)
    seeds["tar-flat-names"] = (n2, open(out, "rb").read())
    out = os.path.join(tmp, "dot.tar")
    run("bsdtar", "-c", "-f", out, "-b1", "./" + B1, cwd=flat)
    seeds["bsdtar-dot-slash"] = (n1, open(out, "rb").read())
    # A symlink under a requested name (tar keeps it as a link).
    ln = os.path.join(tmp, "ln")
    os.makedirs(os.path.join(ln, "20210329"))
    os.symlink("/etc/passwd", os.path.join(ln, P1))
    out = os.path.join(tmp, "ln.tar")
    run("tar", "-c", "-f", out, "-b1", "20210329", cwd=ln)
    seeds["tar-symlink"] = (n1, open(out, "rb").read())
    # "../" names kept by GNU tar -P (absolute ones: py-unrequested-absolute).
    out = os.path.join(tmp, "dotdot.tar")
    run("tar", "-c", "-P", "-f", out, "-b1", "../flat/" + B1, "../flat/../flat/" + B2,
        cwd=os.path.join(tmp, "pbx"))
    seeds["tar-P-dotdot"] = (n2, open(out, "rb").read())
    # Long names: a full disk path above the day folder (pax and GNU longlink headers).
    deep = os.path.join(tmp, "deep")
    long_dir = "var/spool/asterisk/monitor/" + "/".join(["archive-of-the-pbx"] * 4)
    os.makedirs(os.path.join(deep, long_dir, "20210329"))
    shutil.copy(os.path.join(src, P1), os.path.join(deep, long_dir, P1))
    for fmt in ("pax", "gnu"):
        out = os.path.join(tmp, "long-%s.tar" % fmt)
        run("tar", "-c", "-f", out, "-b1", "--format=" + fmt,
            *((PAX_FIXED,) if fmt == "pax" else ()), "var", cwd=deep)
        seeds["tar-%s-long-name" % fmt] = (n1, open(out, "rb").read())
    # A sparse entry under a requested name.
    sp = os.path.join(tmp, "sparse")
    os.makedirs(os.path.join(sp, "20210329"))
    with open(os.path.join(sp, P1), "wb") as f:
        f.write(b"RIFF")
        f.seek(8192)
        f.write(b"data")
    for fmt in ("gnu", "pax"):
        out = os.path.join(tmp, "sparse-%s.tar" % fmt)
        run("tar", "-c", "-S", "-f", out, "-b1", "--format=" + fmt,
            *((PAX_FIXED,) if fmt == "pax" else ()), "20210329", cwd=sp)
        seeds["tar-%s-sparse" % fmt] = (n1, open(out, "rb").read())
    # Gzipped, as a PBX behind a compressing proxy might send.
    out = os.path.join(tmp, "t.tar.gz")
    run("tar", "-c", "-z", "-f", out, "20210329", cwd=src)
    seeds["tar-gzip"] = (n3, open(out, "rb").read())
    # Hostile shapes, byte for byte.
    seeds["py-hardlink-device-fifo"] = (n3, tar_bytes([
        (P1, "file", w1), (P2, "hardlink", P1), (P3, "fifo", None),
        ("20210330/" + B1, "chr", None)]))
    seeds["py-duplicate"] = (n2, tar_bytes([(P1, "file", w1), ("x/" + B1, "file", w2),
                                            (P2, "file", w2)]))
    seeds["py-unrequested-absolute"] = (n3, tar_bytes([
        ("/tmp/" + B1, "file", w1), ("20210329/other.wav", "file", w1), ("", "file", b"x"),
        ("20210329/./" + B1, "file", w1), ("./20210330/../20210330/" + B2, "file", w2),
        (P3, "file", w1)], fmt=tarfile.USTAR_FORMAT))
    seeds["py-gnu-sparse-small"] = (n1, gnu_sparse_tar(P1, [(0, b"RIFF"), (1024, b"data")], 1028))
    seeds["py-ambiguous-basename"] = (n4, tar_bytes([(B1, "file", w1), (P2, "file", w2)]))
    seeds["py-gnu-longlink"] = (n1, tar_bytes([("a" * 120 + "/" + P1, "file", w1)],
                                              fmt=tarfile.GNU_FORMAT))
    whole = tar_bytes([(P1, "file", w1), (P2, "file", w2)], fmt=tarfile.USTAR_FORMAT)
    seeds["py-truncated-in-entry"] = (n2, whole[:512 + 300])
    seeds["py-truncated-header"] = (n2, whole[:200])
    seeds["py-break-after-end"] = (b"\x05", whole)  # n = 2, the transfer breaks at the end
    seeds["py-sink-fails-data"] = (b"\x31", whole)  # n = 2, data fails on its 2nd call
    seeds["py-size-lies"] = (n2, whole[:124] + b"77777777777" + whole[135:])
    seeds["garbage"] = (n1, b"<html><body>Login</body></html>\n")
    seeds["bare-wav"] = (n1, real["pcm16"])
    seeds["bare-wav-for-two"] = (n2, real["ulaw"])
    seeds["bare-wav-breaks"] = (b"\x04", real["gsm"])
    seeds["empty"] = (n1, b"")
    for i, (name, (flags, data)) in enumerate(sorted(seeds.items())):
        put("unpack", name + ".bin", flags + pieces[i % len(pieces)] + data)


# ---------------------------------------------------------------- config

def config():
    with open(os.path.join(TOP, "conf", "nexo-archive.conf")) as f:
        example = f.read()
    with open(os.path.join(TOP, "conf", "demo.conf")) as f:
        demo = f.read()
    put("config", "shipped-example.conf", example)  # password_file absent: must fail
    put("config", "shipped-example-pw.conf",
        example.replace("/etc/nexo-archive/pbx-password", "pw"))
    put("config", "shipped-demo.conf", demo)
    put("config", "demo-pw-overrides.conf",
        demo.replace("../build/demo/password", "pw") +
        "\0pbx.url=http://127.0.0.1:43210/\0sync.window=6h\0retention.max_delete=0")
    good = demo.replace("../build/demo/password", "pw")
    put("config", "finish-require-https.conf", good + "\0pbx.require_https=yes")
    put("config", "finish-recipients-both.conf", good + "[encryption]\nrecipients_file = r.txt\n"
        "recipients = age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj\n")
    put("config", "finish-keep-below-min.conf", good + "archive_keep_days = 3\n"
        "archive_min_days = 7\n")
    put("config", "demo-pw-open.conf", demo.replace("../build/demo/password", "pw-open"))
    put("config", "demo-pw-empty.conf", demo.replace("../build/demo/password", "pw-empty"))
    full = """[pbx]
url = https://pbx.example:4430/
username = monitor
password_md5 = 08B5411F848A2581A41672A759C87380
ca_file = ca.pem
insecure = no
timeout = 86400
connect_timeout = 1
retries = 20
timezone = Europe/Berlin
pinned_pubkey = sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=
require_https = on
max_clock_skew = 1h
max_rate = 1.5M

[archive]
dir = /srv/nexo-archive

[sync]
since = 2024-02-29 23:59
lookback = 2w
window = 1
batch_files = 10000
batch_url_bytes = 256
invalid_retries = 1000
max_duration = 7h30m

[retention]
delete_from_pbx = true
pbx_keep_days = 0
max_delete = 100000000
archive_keep_days = 365
archive_min_days = 30

[encryption]
recipients = age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj

[signing]
secret_key_file = keys/nexo.key
public_key_file = /etc/nexo.pub
"""
    put("config", "every-key.conf", full)
    put("config", "inline-password.conf",
        "[pbx]\nurl=http://10.0.0.1\nusername=admin\npassword = s3cret ; not a comment?\n"
        "[archive]\ndir=a\n[retention]\narchive_keep_days=off\n[encryption]\n"
        "recipients_file = recipients.txt\n")
    put("config", "override-password.conf",
        demo.replace("../build/demo/password", "pw") + "\0pbx.password=hunter2")
    put("config", "override-bad.conf",
        demo.replace("../build/demo/password", "pw") +
        "\0pbx.timeout\0nosuch.key=1\0.=\0pbx.url=ftp://x")
    put("config", "errors.conf",
        "[pbx]\nurl = http://\nusername =\ntimeout = 0\nretries = 21\n[nosuch]\nkey = v\n"
        "[archive]\ndir =\nfoo = bar\nthis line has no equals sign\n")
    put("config", "two-passwords.conf",
        "[pbx]\nurl=https://h\nusername=u\npassword=a\npassword_file=pw\n[archive]\ndir=/x\n"
        "[retention]\narchive_keep_days = 3\narchive_min_days = 7\n")
    put("config", "crlf-bom.conf",
        "\ufeff[pbx]\r\nurl = http://h:8080\r\nusername = u\r\npassword_file = pw\r\n"
        "[archive]\r\ndir = .\r\n[sync]\r\nsince = 2021-02-29 00:00\r\n")
    put("config", "long-line.conf", "[pbx]\nurl = http://" + "h" * 600 + "\n" +
        "username = " + "u" * 300 + "\n[archive]\ndir = " + "d/" * 2500 + "\n")


# ---------------------------------------------------------------- manifest

def manifest_lines(events):
    prev = hashlib.sha256(b"").hexdigest()
    out = []
    for e in events:
        e = dict(e, prev=prev)
        line = json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode()
        out.append(line)
        prev = hashlib.sha256(line).hexdigest()
    return out


def archived(path, size=176044, **extra):
    e = {"event": "archived", "pbx_path": path,
         "file": "2021/03/29/" + path.split("/")[-1], "size": size,
         "sha256": hashlib.sha256(path.encode()).hexdigest(),
         "calldate": "2021-03-29 00:10:04", "src": "202", "dst": "820(102)", "trunk": "44",
         "calltype": "CallBack", "duration": 4, "audio_seconds": 4.02,
         "archived_at": "2026-11-26T02:30:12Z"}
    e.update(extra)
    return e


def mark(event, path, at):
    return {"event": event, "pbx_path": path, "file": "2021/03/29/" + path.split("/")[-1],
            "sha256": hashlib.sha256(path.encode()).hexdigest(), at: "2026-12-06T02:31:40Z"}


def manifest():
    base = [archived(P1), archived(P3, size=800, duration=None),
            mark("pbx_deleted", P1, "deleted_at")]
    good = manifest_lines(base)
    put("manifest", "valid.jsonl", b"\n".join(good) + b"\n")
    put("manifest", "torn-no-newline.jsonl", b"\n".join(good) + b"\n" + good[0][:57])
    put("manifest", "torn-whole-line-no-newline.jsonl", b"\n".join(good))
    put("manifest", "torn-bad-json-last.jsonl", b"\n".join(good) + b"\n{\"event\":\"arch\n")
    put("manifest", "corrupt-middle.jsonl",
        good[0] + b"\n" + good[1][:40] + b"\n" + good[2] + b"\n")
    put("manifest", "chain-broken.jsonl", good[1] + b"\n" + good[0] + b"\n")
    put("manifest", "empty.jsonl", b"")
    put("manifest", "blank-line.jsonl", good[0] + b"\n\n" + good[1] + b"\n")
    full = manifest_lines([
        archived(P1, stored_sha256="ab" * 32, encryption="age"),
        archived(P2, calldate="2021-03-30 08:00:00"),
        mark("pruned", P2, "pruned_at"),
        dict(mark("forgotten", P1, "forgotten_at"), reason="erasure request #12"),
        {"event": "verified", "pbx_path": P1, "note": "from a newer version"},
        {"event": "unavailable", "pbx_path": P3, "calldate": "2021-03-29 00:07:19",
         "attempts": 3},
        archived(P3, invalid="data chunk runs past end of file"),
        archived(P1, size=0),
        mark("pbx_deleted", "20210329/never-archived.wav", "deleted_at"),
    ])
    put("manifest", "every-event.jsonl", b"\n".join(full) + b"\n")
    bad = manifest_lines([
        archived(P1, size=-1), {"event": "archived", "pbx_path": P2},
        archived(P3, stored_sha256=5), {"pbx_path": P1}, archived("x" * 300),
    ])
    for i, line in enumerate(bad):
        put("manifest", "bad-line-%d.jsonl" % i, line + b"\n")
    odd = manifest_lines([archived(P1, sha256="", file="../../etc/passwd", calldate=None),
                          dict(archived(P2), prev2="x", event="archived")])
    put("manifest", "odd-values.jsonl", b"\n".join(odd) + b"\n")
    put("manifest", "prev-types.jsonl",
        b'{"event":"archived","pbx_path":"a","prev":5}\n{"prev":{}}\n')
    many = manifest_lines([archived("20210329/20210329-%06d-x.wav" % i) for i in range(70)])
    put("manifest", "seventy-lines.jsonl", b"\n".join(many) + b"\n")


# ---------------------------------------------------------------- answer

def answer():
    cases = {
        "200-tar": (200, 1, b"20210329/20210329-001004\0\0\0"),
        "200-json": (200, 0, b'{"0":{"path":"x"}}'),
        "200-html": (200, 0, b"\r\n  <!DOCTYPE html><html>"),
        "200-bom-html": (200, 1, b"\xef\xbb\xbf\n<html>"),
        "200-json-for-tar": (200, 1, b' \t{"status":"fail"}'),
        "200-array-for-tar": (200, 1, b"[]"),
        "200-empty": (200, 1, b""),
        "204": (204, 0, b""),
        "302": (302, 0, b"<a href=/login>"),
        "401": (401, 1, b""),
        "403": (403, 0, b"Forbidden"),
        "408": (408, 0, b""),
        "414": (414, 1, b"<html>URI Too Long"),
        "429": (429, 0, b""),
        "500": (500, 1, b"<html>"),
        "501": (501, 0, b""),
        "503": (503, 0, b""),
        "505": (505, 0, b""),
        "599": (599, 0, b""),
        "404": (404, 1, b"<html>Not Found"),
        "199": (199, 0, b"<"),
        "0": (0, 0, b""),
    }
    for name, (status, want_tar, body) in cases.items():
        put("answer", name + ".bin", bytes([(want_tar << 7) | (status >> 8), status & 255]) + body)


# ---------------------------------------------------------------- cdr

CDR_COLUMNS = ["calldate", "src", "contact", "groupname", "dst", "channel", "dstchannel",
               "duration", "billsec", "disposition", "userfield", "accountcode", "cidname",
               "in_route", "IVR", "Recording filename", "UniqueID", "port"]
R1 = "20210507/20210507-010506-1620378306-CallBack-96-506-820(202).wav"
R2 = "20210507/20210507-010257-1620378177-CallBack-96-506-820(202).wav"


def cdr_row(calldate="2021-05-07 01:05:02", src="506", dst="820(202)", duration="6",
            billsec="3", disposition="ANSWERED", rec=R1, uid="1620378302.28", port=0, **extra):
    r = {"calldate": calldate, "src": src, "contact": "", "groupname": "", "dst": dst,
         "channel": "96", "dstchannel": "", "duration": duration, "billsec": billsec,
         "disposition": disposition, "userfield": "CallBack", "accountcode": "", "cidname": "",
         "in_route": "", "IVR": "", "Recording filename": rec, "UniqueID": uid, "port": port}
    r.update(extra)
    return r


def cdr():
    rows = [cdr_row(), cdr_row(calldate="2021-05-07 01:02:51", billsec="2", rec=R2,
                               uid="1620378171.24")]
    # The guide's Example 2 (9006) as the PBX sends it: numbered objects, string values,
    # port 0.
    put("cdr", "guide-numbered.json",
        '{"json_array_astcdrs":{' +
        ",\n".join('"%d":%s' % (i, json.dumps(r, separators=(",", ":")))
                   for i, r in enumerate(rows)) + "}}\n")
    flt = {"startdate": "2021-05-07 00:00", "enddate": "2021-05-07 23:59", "totalcount": "2"}
    put("cdr", "guide-array.json", json.dumps({"json_array_astcdrs": rows, "json_obj_filter": flt}))
    put("cdr", "bare-array.json", json.dumps(rows))
    put("cdr", "other-key.json", json.dumps({"data": rows}, indent=1))
    put("cdr", "top-numbered.json", json.dumps(
        {"0": rows[0], "1": rows[1], "json_obj_filter": {"totalcount": 2}}))
    put("cdr", "ami-full-path.json", json.dumps({"json_array_astcdrs": [cdr_row(
        rec="/media/usbStorage/monitor/20210507/"
            "20210507-010506-1620378306-CallBack-96-506-820(202)")]}))
    put("cdr", "other-spellings.json", json.dumps([
        {"CallDate": "2021-05-07 01:05", "uniqueid": "1.1", "Recording File Name": R1,
         "DURATION": 6, "BillSec": 3.5, "Port": "2", "ivr": "x"},
        {"calldate": "2021-05-07 01:05:02", "UniqueID": "1.2", "recordingfile": "a.wav",
         "uniqueid": "1.3", "duration": "6s", "port": -1},
        {"calldate": "2021-05-07 01:05:02", "UniqueID": 7, "recording": "../x.wav",
         "src": 506, "dst": 820, "duration": 1e400}]))
    # Joined by time: no recording, the guide recording's src/dst and a window around it.
    put("cdr", "time-join.json", json.dumps([
        cdr_row(rec="", uid="1.1", calldate="2021-05-07 01:05:00", duration="30"),
        cdr_row(rec="", uid="1.2", calldate="2021-05-07 01:04:00", duration="3",
                disposition="NO ANSWER"),
        cdr_row(rec="", uid="1.3", src="", calldate="2021-05-07 01:05:01")]))
    put("cdr", "legs.json", json.dumps([
        cdr_row(uid="1.1", disposition="NO ANSWER", billsec="0"),
        cdr_row(uid="1.2", billsec="3"), cdr_row(uid="1.3", billsec="9"),
        cdr_row(uid="1.4", billsec="9", calldate="2021-05-07 01:05:01")]))
    put("cdr", "escapes.json", json.dumps(
        [cdr_row(cidname="\u00e9\u4e2d\U0001f600", userfield="a\"b\\c/d\x01\x1f",
                 accountcode="\u2028")], ensure_ascii=False))
    put("cdr", "bad-utf8.json",
        b'[{"calldate":"2021-05-07 01:05:02","UniqueID":"1","cidname":"\xed\xa0\x80"}]')
    put("cdr", "nul.json", '[{"calldate":"2021-05-07 01:05:02","UniqueID":"1\\u0000"}]')
    put("cdr", "long-fields.json", json.dumps(
        [cdr_row(channel="c" * 79, uid="9" * 63, rec="d/" + "x" * 249 + ".wav")]))
    put("cdr", "too-long.json", json.dumps([cdr_row(channel="c" * 80)]))
    put("cdr", "bad-dates.json", json.dumps(
        [cdr_row(calldate="2021-02-30 00:00:00"), {"calldate": "", "UniqueID": "1"},
         {"UniqueID": "1"}, {"calldate": "2021-05-07 01:05:02"}, "text", None]))
    put("cdr", "big-numbers.json",
        '[{"calldate":"2021-05-07 01:05:02","UniqueID":18446744073709551615,'
        '"duration":"99999999999999999999","billsec":-3,"port":2147483648,"src":-0.0}]')
    put("cdr", "error-object.json", '{"status":"fail","message":"\\u001b[31mnot logged in"}')
    put("cdr", "filter-says-more.json", '{"json_obj_filter":{"totalcount":5},"x":{"a":1}}')
    put("cdr", "filter-negative.json", json.dumps(
        {"json_array_astcdrs": rows[:1], "json_obj_filter": {"totalcount": -1}}))
    put("cdr", "empty.json", '{"json_array_astcdrs":"","json_obj_filter":{"totalcount":0}}')
    put("cdr", "rows-key-number.json", '{"json_array_astcdrs":5}')
    put("cdr", "deep.json", "[" * 20 + "]" * 20)
    put("cdr", "truncated.json", json.dumps(rows)[:150])
    put("cdr", "trailing-garbage.json", json.dumps(rows) + " x")
    put("cdr", "html.json", "<html><body>Login</body></html>\n")


# ---------------------------------------------------------------- csv

def csv_line(row):
    out = []
    for k in CDR_COLUMNS:
        v = str(row.get(k, ""))
        if any(c in v for c in ',"\r\n'):
            v = '"' + v.replace('"', '""') + '"'
        out.append(v)
    return ",".join(out)


def csv():
    rows = [cdr_row(), cdr_row(calldate="2021-05-07 01:02:51", billsec="2", rec=R2,
                               uid="1620378171.24")]
    header = ",".join(CDR_COLUMNS)
    body = "\n".join(csv_line(r) for r in rows)
    put("csv", "header.csv", header + "\n" + body + "\n")
    put("csv", "no-header.csv", body + "\n")
    put("csv", "crlf-bom.csv", "\ufeff" + header + "\r\n" + body.replace("\n", "\r\n") + "\r\n")
    put("csv", "quoted.csv", header + "\n" + csv_line(cdr_row(
        cidname='Smith, "Bob"', userfield="two\nlines", accountcode="cr\r\nlf", IVR="")) +
        "\n" + '"","",,\n')
    put("csv", "no-line-end.csv", " CallDate ,a,b\n1,2,3")
    put("csv", "empty-lines.csv", "\n\r\na,b,\n\n,\n\n")
    put("csv", "unclosed.csv", 'a,"b\nc,d\n')
    put("csv", "quote-inside.csv", 'a,b"c\n')
    put("csv", "after-quote.csv", 'a,"b"c\n')
    put("csv", "stray-cr.csv", "a,b\rc\n")
    put("csv", "nul.csv", b"a,b\x00c\n")
    put("csv", "caps.csv", ",".join(["x"] * 65) + "\n" + "y" * 1025 + "\n" +
        ",".join(["z" * 1000] * 9) + "\n")


# ---------------------------------------------------------------- ami

AMI_BANNER = "Asterisk Call Manager/1.1\r\n"
# The vendor guide's events, verbatim as tests/unit/test_ami.c has them: 3.2 with recording on
# and off, 3.3.
AMI_CDR_ON = (
    "Event: Cdr\r\nPrivilege: cdr,all\r\nAccountCode:\r\nSource: 205\r\nDestination: 204\r\n"
    "DestinationContext: from-ext-205\r\nCallerID: \"205\" <205>\r\n"
    "Channel: SIP/205-00000000\r\nDestinationChannel: SIP/204-00000001\r\n"
    "LastApplication: Dial\r\nLastData: SIP/204,30,TtKkWwXx\r\n"
    "StartTime: 2021-04-22 01:01:50\r\nAnswerTime: 2021-04-22 01:01:52\r\n"
    "EndTime: 2021-04-22 01:01:55\r\nDuration: 5\r\nBillableSeconds: 3\r\n"
    "Disposition: ANSWERED\r\nAMAFlags: DOCUMENTATION\r\nUniqueID: 1619082110.0\r\n"
    "UserField:\r\nRecording File Name: "
    "/media/usbStorage/monitor/20210422/20210422-010152-1619082112-Internal-205-204\r\n\r\n")
AMI_CDR_OFF = (
    "Event: Cdr\r\nPrivilege: cdr,all\r\nAccountCode:\r\nSource: 205\r\nDestination: 204\r\n"
    "DestinationContext: from-ext-205\r\nCallerID: \"205\" <205>\r\n"
    "Channel: SIP/205-00000002\r\nDestinationChannel: SIP/204-00000003\r\n"
    "LastApplication: Dial\r\nLastData: SIP/204,30,TtKkWwXx\r\n"
    "StartTime: 2021-04-22 01:09:10\r\nAnswerTime: 2021-04-22 01:09:13\r\n"
    "EndTime: 2021-04-22 01:09:16\r\nDuration: 6\r\nBillableSeconds: 3\r\n"
    "Disposition: ANSWERED\r\nAMAFlags: DOCUMENTATION\r\nUniqueID: 1619082550.2\r\n"
    "UserField:\r\nRecording File Name:\r\n\r\n")
AMI_MIXEND = (
    "Event: AutoMixMonitorEnd\r\nPrivilege: agent,all\r\nFile Name: "
    "/media/usbStorage/monitor/20210422/20210422-010152-1619082112-Internal-205-204\r\n"
    "Source Number: 205\r\nDestination Number: 204\r\n\r\n")
AMI_LOGIN_OK = ("Response: Success\r\nActionID: nexo-1\r\n"
                "Message: Authentication accepted\r\n\r\n"
                "Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")


def ami_event(event, name_key, name):
    return "Event: %s\r\n%s: %s\r\n\r\n" % (event, name_key, name)


def ami():
    """Layout (fuzz_ami.c): 1 flag byte (bits 0-1: 1-4 piece bytes follow; bit 2: 0-byte
    feeds; bit 3: a piece also ends after each CR), the piece bytes, then the server's bytes."""
    ctl = [b"\x03\x7f\x7f\x7f\x7f", b"\x00\x01", b"\x0b\x01\x02\x03\x10",
           b"\x07\x00\x05\x81\x0c", b"\x02\x80\x02\x11", b"\x08\xff"]
    seeds = {
        "guide-cdr-on": AMI_BANNER + AMI_CDR_ON,
        "guide-cdr-off": AMI_BANNER + AMI_CDR_OFF,
        "guide-mixend": AMI_BANNER + AMI_MIXEND,
        "guide-all": AMI_BANNER + AMI_LOGIN_OK + AMI_MIXEND + AMI_CDR_ON + AMI_CDR_OFF,
        "banner-login": AMI_BANNER + AMI_LOGIN_OK,
        "login-refused": AMI_BANNER + "Response: Error\r\nActionID: nexo-1\r\n"
                         "Message: Authentication failed\r\n\r\n",
        "lf-only": (AMI_BANNER + AMI_MIXEND + AMI_CDR_ON).replace("\r\n", "\n"),
        "mixed-endings": AMI_BANNER.replace("\r\n", "\n") + AMI_MIXEND.replace(
            "\r\nSource", "\nSource") + "  \t\r\n\n" + AMI_CDR_OFF,
        "lone-cr": AMI_BANNER + "Event: Cdr\rRecording File Name: 20210422/a\rb\r\n"
                   "Key:\r\r\n\r \r\n\r\n",
        "blanks": AMI_BANNER + "\r\n \r\n\t\r\n" + "Event  :   Cdr \t\r\n"
                  "Recording File Name:\t 20210422-010152-x.WAV \t\r\n \t \r\n",
        "no-colon": AMI_BANNER + "this line has no colon\r\n: no key\r\nA:\r\n:\r\n\r\n",
        "long-line": AMI_BANNER + "Event: Cdr\r\nLastData: " + "x" * 9000 + "\r\n"
                     "Recording File Name: 20210422/20210422-a\r\n\r\n" + AMI_MIXEND,
        "line-at-limit": "Event: Cdr\r\nK: " + "y" * (8192 - 3) + "\r\nL: " + "z" * 8190 +
                         "\r\n\r\n" + AMI_MIXEND,
        "big-message": "Event: Cdr\r\n" + "".join("F%d: %s\r\n" % (i, "v" * 7990)
                                                 for i in range(9)) + "\r\n" + AMI_MIXEND,
        "many-fields": AMI_BANNER + "Event: Cdr\r\n" + "".join(
            "Field%d: %d\r\n" % (i, i) for i in range(140)) +
            "Recording File Name: 20210422/20210422-b\r\n\r\n" + "Event: Other\r\n" +
            "".join("F: %d\r\n" % i for i in range(127)) + "\r\n",
        "long-banner": "Asterisk Call Manager/" + "9" * 400 + "\r\n" + AMI_MIXEND,
        "not-ami": "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        "ssh-banner": "SSH-2.0-OpenSSH_8.4\r\n",
        "empty": "",
        "banner-only-no-end": "Asterisk Call Manager/1.1",
        "cdr-empty-name": AMI_CDR_OFF + ami_event("Cdr", "Recording File Name", "  \t") +
                          "Event: Cdr\r\nRecording File Name\r\n\r\n",
        "hostile-names": AMI_BANNER + "".join(
            ami_event(e, k, n) for e, k in (("Cdr", "Recording File Name"),
                                            ("AutoMixMonitorEnd", "File Name"))
            for n in ("../../etc/passwd", "20210422/../../etc/passwd",
                      "/media/usbStorage/monitor/20210422/..", "20210422/a\x1b[31mb",
                      "20210422/a\\b", "20210422/a\x7fb", "20210422/a\tb",
                      "20210422-x/../../x", "/20210422/", "20210422/.wav",
                      "20210422/20210422-ok.wav", "x", "20210422/" + "k" * 300,
                      "2021042/x", "20210422//", "caf\xe9/20210422-\xe9")),
        "case-and-dups": AMI_BANNER + "EVENT: cdr\r\nrecording file name: 20210422/first\r\n"
                         "Recording File Name: 20210422/second\r\n\r\n"
                         "event: automixmonitorend\r\nFILE NAME: 20210422-010152-c\r\n\r\n"
                         "Event: AutoMixMonitorEndX\r\nFile Name: 20210422/d\r\n\r\n",
        "both-events": AMI_BANNER + AMI_MIXEND + AMI_CDR_ON + AMI_MIXEND,
    }
    raw = {
        "nul-in-line": (AMI_BANNER + "Event: Cdr\r\nRecording File Name: 20210422/a").encode() +
        b"\0b\r\nMore: x\r\n\r\n" + AMI_MIXEND.encode(),
        "binary-junk": bytes((i * 167 + 13) % 256 for i in range(3000)),
        "junk-then-event": b"\xff\xfe\x00\x01\r\r\n\n\x80:\x81\r\n\r\n" + AMI_MIXEND.encode(),
        "utf8": (AMI_BANNER + "Event: Cdr\r\nCallerID: \u00e9\u4e2d <205>\r\n"
                 "Recording File Name: 20210422/20210422-\u00e9\u4e2d\r\n\r\n").encode(),
    }
    items = [(k, v.encode("latin-1") if k == "hostile-names" else v.encode())
             for k, v in seeds.items()] + list(raw.items())
    for i, (name, b) in enumerate(sorted(items)):
        put("ami", name + ".bin", ctl[i % len(ctl)] + b)


ALL = ("listing", "recpath", "unpack", "wav", "config", "manifest", "answer", "cdr", "csv",
       "ami")


def main():
    # Only the targets named (e.g. `make-seeds.py cdr csv`), else all of them.
    targets = sys.argv[1:] or ALL
    for d in targets:
        if d not in ALL:
            sys.exit("make-seeds.py: no target " + d)
        shutil.rmtree(os.path.join(CORPUS, d), ignore_errors=True)
    tmp = tempfile.mkdtemp(prefix="nexo-seeds.")
    try:
        for d in ALL:
            if d not in targets:
                continue
            if d == "wav":
                real = wav(tmp)
            elif d == "unpack":
                unpack(tmp, real if "wav" in targets else wav_bytes(tmp))
            else:
                globals()[d]()
    finally:
        shutil.rmtree(tmp)
    for d in sorted(os.listdir(CORPUS)):
        print("%-9s %3d seeds" % (d, len(os.listdir(os.path.join(CORPUS, d)))))


if __name__ == "__main__":
    sys.exit(main())
