#!/usr/bin/env python3
"""Loads an HTML file in headless Chromium with the network shut: every request would go to a
proxy on 127.0.0.1 that counts connections (it must see none), and no host name resolves.
Writes the DOM Chromium built (--dump-dom) and a screenshot; exits 1 when a connection
arrived, the screenshot is missing or trivial, or Chromium failed; 77 when Chromium is absent.

usage: browser.py PAGE.html DOM_OUT PNG_OUT [WIDTH,HEIGHT]
Only the standard library; never sends a byte beyond 127.0.0.1."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


def main():
    page, dom_out, png_out = sys.argv[1:4]
    size = sys.argv[4] if len(sys.argv) > 4 else "1400,1100"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium is not installed (make deps-dev)", file=sys.stderr)
        return 77
    sink = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sink.bind(("127.0.0.1", 0))
    sink.listen(16)
    port = sink.getsockname()[1]
    hits = []

    def accept():
        while True:
            try:
                c, _ = sink.accept()
            except OSError:
                return
            try:
                c.settimeout(1)
                hits.append(c.recv(200))
            except OSError:
                hits.append(b"?")
            c.close()

    threading.Thread(target=accept, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="nexo-chromium.")
    url = "file://" + os.path.abspath(page)
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--user-data-dir=" + profile, "--proxy-server=http://127.0.0.1:%d" % port,
              "--proxy-bypass-list=<-loopback>", "--host-resolver-rules=MAP * ~NOTFOUND",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-default-apps", "--disable-extensions",
              "--no-default-browser-check", "--metrics-recording-only",
              "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
              "--window-size=" + size]
    t0 = time.monotonic()
    try:
        with open(dom_out, "wb") as out:
            r1 = subprocess.run(common + ["--dump-dom", url], stdout=out,
                                stderr=subprocess.DEVNULL, timeout=60)
        r2 = subprocess.run(common + ["--screenshot=" + os.path.abspath(png_out),
                                      "--hide-scrollbars", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    time.sleep(0.2)
    print("browser: %.1f s, %d connection(s) to the proxy" % (time.monotonic() - t0, len(hits)))
    if r1.returncode or r2.returncode:
        print("chromium failed: dump-dom %d, screenshot %d" % (r1.returncode, r2.returncode))
        return 1
    if hits:
        print("the page made requests: %r" % hits[:5])
        return 1
    if not os.path.exists(png_out) or os.path.getsize(png_out) < 5000:
        print("no screenshot, or a trivial one")
        return 1
    with open(png_out, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            print("the screenshot is not a PNG")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
