#!/usr/bin/env python3
"""A stand-in provider for `make run`: answers every request 200 and
prints what it received, so a demo External channel has somewhere to send.
Usage: echo-sink.py [PORT]  (default 8081, loopback only)"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        print(f"sink: {self.command} {self.path} {body}", flush=True)
        reply = b'{"status":"accepted"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
    try:
        ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()
    except KeyboardInterrupt:
        pass
