#!/usr/bin/env python3
"""A ping receiver for t_monitoring.sh on 127.0.0.1: writes its port to PORTFILE and one JSON
line per request to LOG (method, path, headers, body). With --hang it accepts connections and
never answers (a monitoring endpoint that hangs)."""
import http.server
import json
import socket
import sys
import threading
import time

portfile, log = sys.argv[1], sys.argv[2]
hang = "--hang" in sys.argv[3:]

if hang:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    open(portfile, "w").write(str(s.getsockname()[1]))
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)  # never answered

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        with open(log, "a") as f:
            f.write(json.dumps({"method": "POST", "path": self.path,
                                "headers": dict(self.headers), "body": body}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
open(portfile, "w").write(str(srv.server_address[1]))
srv.serve_forever()
