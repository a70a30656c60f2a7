"""A loopback webhook receiver for the tests: an implementation of Standard Webhooks
verification independent of ytcaption's (Python's hmac, hashlib and base64).

    python3 webhook_receiver.py PORT SECRET LOG PLAN

PLAN is the comma-separated statuses to answer, one per request; the last one repeats
("503,503,503,200", "410"). Each request is appended to LOG as one JSON line; "ready" is
printed on stdout once the port is listening.
"""
import base64
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, secret, log_path, plan = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
key = base64.b64decode(secret.removeprefix("whsec_"))
statuses = [int(s) for s in plan.split(",")]
seen = 0


def verify(headers, body):
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    if not msg_id or not ts.isdigit() or abs(time.time() - int(ts)) > 300:
        return False
    signed = f"{msg_id}.{ts}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for sig in headers.get("webhook-signature", "").split():
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        status = statuses[min(seen, len(statuses) - 1)]
        seen += 1
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        record = {
            "path": self.path,
            "webhook_id": self.headers.get("webhook-id"),
            "webhook_timestamp": self.headers.get("webhook-timestamp"),
            "signature_valid": verify(self.headers, body),
            "user_agent": self.headers.get("user-agent"),
            "content_type": self.headers.get("content-type"),
            "body": payload,
            "answered": status,
        }
        with open(log_path, "a") as f:
            f.write(json.dumps(record) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", port), Handler)
print("ready", flush=True)
server.serve_forever()
