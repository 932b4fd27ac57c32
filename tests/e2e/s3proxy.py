#!/usr/bin/env python3
"""s3proxy.py — a fault-injecting pass-through in front of the test RGW (tests/e2e/rgw.sh).

    s3proxy.py UPSTREAM_PORT PORT_FILE FAULT_FILE LOG_FILE

Listens on a free port of 127.0.0.1 (written to PORT_FILE) and forwards each request as it came
(method, path, headers, Host included, so the SigV4 signature still holds) to the RGW on
127.0.0.1:UPSTREAM_PORT. FAULT_FILE, read at every request, holds at most one fault:

    slowdown N   the next N PUTs answer 503 SlowDown (S3's "reduce your request rate")
    500 N        the next N PUTs answer 500 InternalError
    skew         every request answers 403 RequestTimeTooSkewed
    cut N        the next N PUTs: half the body is read, then the connection is closed
    slow S       every request waits S seconds before it is forwarded

(N counts down in the file.) LOG_FILE gets "METHOD PATH STATUS" per request, "-" for a cut.
"""
import http.client
import http.server
import os
import sys
import threading
import time

UPSTREAM, PORT_FILE, FAULT_FILE, LOG_FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
lock = threading.Lock()


def take_fault(method):
    """The fault for this request, counting it down in FAULT_FILE."""
    with lock:
        try:
            words = open(FAULT_FILE).read().split()
        except FileNotFoundError:
            return None, 0
        if not words:
            return None, 0
        kind, arg = words[0], int(words[1]) if len(words) > 1 else 0
        if kind in ("slowdown", "500", "cut") and method != "PUT":
            return None, 0
        if kind in ("slowdown", "500", "cut"):
            if arg <= 0:
                return None, 0
            with open(FAULT_FILE, "w") as f:
                f.write(f"{kind} {arg - 1}\n")
        return kind, arg


def log(line):
    with lock, open(LOG_FILE, "a") as f:
        f.write(line + "\n")


ERROR = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>{}</Code>'
         '<Message>injected by s3proxy</Message></Error>')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, code):
        body = ERROR.format(code).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log(f"{self.command} {self.path} {status}")

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        kind, arg = take_fault(self.command)
        if kind == "cut":
            self.rfile.read(length // 2)
            log(f"{self.command} {self.path} -")
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else None
        if kind == "slow":
            time.sleep(arg)
        if kind == "slowdown":
            return self.answer(503, "SlowDown")
        if kind == "500":
            return self.answer(500, "InternalError")
        if kind == "skew":
            return self.answer(403, "RequestTimeTooSkewed")
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in ("expect", "connection"):
                conn.putheader(k, v)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length",
                         resp.getheader("Content-Length", "0") if self.command == "HEAD"
                         else str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()
        log(f"{self.command} {self.path} {resp.status}")

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
