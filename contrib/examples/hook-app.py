#!/usr/bin/env python3
"""A demo application for courier-hook: prints every event it is posted,
after checking the request's signature (courier-hook(8), Signing).

    hook-app.py PORT SECRET_FILE

Listens on 127.0.0.1:PORT; add it with
    courier-ctl hook add --url http://127.0.0.1:PORT/events | tail -1 > SECRET_FILE
Prints one line an event, "seq topic uuid text-or-status", and answers 200;
a request whose signature does not check out is answered 401 and printed
as "refused: ...". Standard library only.
"""
import hashlib
import hmac
import http.server
import json
import sys
import time


def valid(header: str, body: bytes, secret: str) -> bool:
    parts = [p.strip().split("=", 1) for p in header.split(",")]
    t = next((v for k, v in parts if k == "t"), "")
    sigs = [v for k, v in parts if k == "v1"]
    if not t.isdigit() or abs(time.time() - int(t)) > 300:
        return False
    mac = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(mac, s) for s in sigs)


def main():
    port, secret = int(sys.argv[1]), open(sys.argv[2]).read().strip()

    class App(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if not valid(self.headers.get("X-Courier-Signature", ""), body, secret):
                print("refused: bad signature", flush=True)
                self.answer(401)
                return
            for e in json.loads(body):
                data = e.get("data", {})
                what = data.get("text") if "text" in data else data.get("status", data.get("urn", ""))
                print(e["seq"], e["topic"], e["uuid"], what, flush=True)
            self.answer(200)

        def do_GET(self):  # a health check: it is up
            self.answer(200)

        def answer(self, code):
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), App).serve_forever()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
