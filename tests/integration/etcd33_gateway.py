#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A FAKE etcd 3.3 JSON gateway, in front of the real etcd of the test.

    etcd33_gateway.py LISTEN_PORT TARGET_HOST:PORT

etcd 3.3's gateway serves the v3 API under /v3beta/ only (lease revoke and
time-to-live under /v3beta/kv/lease/); 3.4 added /v3/, 3.5 dropped /v3beta/.
Debian 12 ships 3.4, so this fake answers as 3.3 does at the HTTP level: a
/v3beta/ path is forwarded to the real etcd under its /v3/ name (bodies and
streams unchanged: the messages are the same protobuf JSON), anything else is
a 404 "Not Found" (Go's mux). Each request is logged as "PATH -> STATUS" on
stdout, so a test can see what a client asked for. Prints "listening" once
ready. TARGET "-": no etcd behind, every path is a 404 (not an etcd).
"""
import http.client
import http.server
import sys

V3BETA = {
    "/v3beta/kv/range": "/v3/kv/range",
    "/v3beta/kv/put": "/v3/kv/put",
    "/v3beta/kv/deleterange": "/v3/kv/deleterange",
    "/v3beta/kv/txn": "/v3/kv/txn",
    "/v3beta/kv/compaction": "/v3/kv/compaction",
    "/v3beta/lease/grant": "/v3/lease/grant",
    "/v3beta/kv/lease/revoke": "/v3/lease/revoke",
    "/v3beta/kv/lease/timetolive": "/v3/lease/timetolive",
    "/v3beta/watch": "/v3/watch",
    "/v3beta/auth/authenticate": "/v3/auth/authenticate",
}

if sys.argv[2] == "-":
    V3BETA = {}
else:
    target_host, target_port = sys.argv[2].rsplit(":", 1)


class Gateway(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path = V3BETA.get(self.path)
        print(f"{self.path} -> {'forwarded' if path else 404}", flush=True)
        if path is None:
            msg = b"Not Found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        conn = http.client.HTTPConnection(target_host, int(target_port))
        headers = {"Content-Type": "application/json"}
        if self.headers.get("Authorization"):
            headers["Authorization"] = self.headers["Authorization"]
        conn.request("POST", path, body, headers)
        resp = conn.getresponse()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.getheader("Content-Type", "application/json"))
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            while True:
                chunk = resp.read1(65536)
                if not chunk:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            conn.close()


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Gateway)
server.daemon_threads = True
print("listening", flush=True)
server.serve_forever()
