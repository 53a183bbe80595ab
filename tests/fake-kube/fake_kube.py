#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A FAKE Kubernetes API server for weft's tests. Not an API server.

It implements only what weftd's kube subnet manager uses, with the JSON shapes
of the real API (core/v1 Node, NodeList, Pod, Status, watch events):

  GET   /api/v1/nodes                   NodeList (limit/continue paging; a
                                        continue token older than the
                                        compaction point gives 410 Expired)
  GET   /api/v1/nodes?watch=1&resourceVersion=N[&allowWatchBookmarks=true]
                                        [&timeoutSeconds=T]
                                        chunked stream of {"type","object"} lines;
                                        N older than the compaction point: 410
                                        (an ERROR event with a Status, or an HTTP
                                        410, see /fake/config); N absent or "0":
                                        ADDED for every node first
  GET   /api/v1/nodes/NAME
  GET   /api/v1/namespaces/NS/pods/NAME
  PATCH /api/v1/nodes/NAME/status       strategic merge (metadata and status;
                                        status.conditions and status.addresses
                                        merged by "type"; null deletes) or JSON
                                        merge patch; spec is left alone, as the
                                        status subresource does
  PATCH /api/v1/nodes/NAME              the same, applied to the whole object

Authentication over TLS: a client certificate signed by --client-ca, or a
bearer token from --token (the list can be changed at run time). Anything else
gets 401.

A control API on a second, plain-HTTP listener (tests only, no auth):

  GET    /fake/nodes[/NAME]             the objects as stored
  POST   /fake/nodes                    create (ADDED)
  PUT    /fake/nodes/NAME               replace (MODIFIED)
  PATCH  /fake/nodes/NAME               JSON merge patch (MODIFIED)
  DELETE /fake/nodes/NAME               delete (DELETED)
  POST   /fake/pods                     create a pod
  POST   /fake/cut      {"mode":"abrupt|clean","ops":[...]}
                                        end every watch, then apply ops (same
                                        shape as /fake/batch) before any watch
                                        can see them
  POST   /fake/compact  {"cut":true,"ops":[...]}
                                        like cut (if asked), apply ops, then move
                                        the compaction point to now: every older
                                        resourceVersion gets 410 Gone
  POST   /fake/batch    {"ops":[{"op":"create","node":{...}},
                                {"op":"patch","name":N,"patch":{...}},
                                {"op":"delete","name":N}]}
  POST   /fake/config   {"gone":"event|http","bookmark_interval":SECONDS}
  POST   /fake/fail     {"status":503,"count":N,"match":"SUBSTRING"}
                                        the next N API requests whose path
                                        contains SUBSTRING fail with that status
  POST   /fake/tokens   {"tokens":[...]}
  GET    /fake/patches  patches received (node, subresource, content type, body)
  GET    /fake/requests requests received (method, path, auth, status)
  DELETE /fake/patches, /fake/requests   forget them
  GET    /fake/watches  {"active": N, "started": N}
  GET    /fake/state    {"resourceVersion": N, "compacted": N}
"""
import argparse
import base64
import copy
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status_obj(code, reason, message, name=None, kind="nodes"):
    o = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason, "code": code}
    if name is not None:
        o["details"] = {"name": name, "kind": kind}
    return o


MERGE_KEYS = {("status", "conditions"): "type", ("status", "addresses"): "type"}


def strategic_merge(orig, patch, path=()):
    out = copy.deepcopy(orig) if isinstance(orig, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):
            raise ValueError("patch directive %s is not supported by the fake" % k)
        key = path + (k,)
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = strategic_merge(out[k], v, key)
        elif isinstance(v, list) and key in MERGE_KEYS:
            mk = MERGE_KEYS[key]
            lst = copy.deepcopy(out.get(k) or [])
            for item in v:
                if not isinstance(item, dict) or mk not in item:
                    raise ValueError("%s entries need %r" % (".".join(key), mk))
                for i, e in enumerate(lst):
                    if e.get(mk) == item[mk]:
                        lst[i] = strategic_merge(e, item, key)
                        break
                else:
                    lst.append({a: b for a, b in item.items() if b is not None})
            out[k] = lst
        else:
            out[k] = copy.deepcopy(v)
    return out


def json_merge(orig, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(orig) if isinstance(orig, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = json_merge(out.get(k), v)
    return out


class State:
    def __init__(self, tokens):
        self.cv = threading.Condition()
        self.rv = 1
        self.compacted = 0
        self.nodes = {}
        self.pods = {}
        self.events = []  # (rv, type, object)
        self.patches = []
        self.requests = []
        self.cut_gen = 0
        self.cut_mode = "abrupt"
        self.active = 0
        self.started = 0
        self.gone = "event"
        self.bookmark_interval = 0.0
        self.fail = None
        self.tokens = set(tokens)
        self.snapshots = {}

    # All of these run with self.cv held.
    def _bump(self, typ, obj):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.events.append((self.rv, typ, copy.deepcopy(obj)))
        self.cv.notify_all()

    def create(self, node):
        node = copy.deepcopy(node)
        meta = node.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            raise ValueError("metadata.name is required")
        if name in self.nodes:
            raise KeyError("exists")
        node.setdefault("apiVersion", "v1")
        node.setdefault("kind", "Node")
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", now_rfc3339())
        meta.setdefault("labels", {"kubernetes.io/hostname": name})
        node.setdefault("spec", {})
        st = node.setdefault("status", {})
        st.setdefault("conditions", [{"type": "Ready", "status": "True",
                                      "lastHeartbeatTime": now_rfc3339(),
                                      "lastTransitionTime": now_rfc3339(),
                                      "reason": "KubeletReady",
                                      "message": "kubelet is posting ready status"}])
        self.nodes[name] = node
        self._bump("ADDED", node)
        return node

    def replace(self, name, node, merge=None, subresource=None):
        old = self.nodes[name]
        if merge is not None:
            new = merge(old)
        else:
            new = copy.deepcopy(node)
        if subresource == "status":
            new["spec"] = copy.deepcopy(old.get("spec", {}))
        new["metadata"]["name"] = name
        new["metadata"]["uid"] = old["metadata"]["uid"]
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if new == old:
            return old  # no write, no new resourceVersion
        self.nodes[name] = new
        self._bump("MODIFIED", new)
        return new

    def delete(self, name):
        node = self.nodes.pop(name)
        self._bump("DELETED", node)
        return node

    def apply_ops(self, ops):
        for op in ops or []:
            if op["op"] == "create":
                self.create(op["node"])
            elif op["op"] == "patch":
                self.replace(op["name"], None, merge=lambda o, p=op["patch"]: json_merge(o, p))
            elif op["op"] == "delete":
                self.delete(op["name"])
            else:
                raise ValueError("unknown op %r" % op["op"])

    def cut(self, mode):
        self.cut_mode = mode or "abrupt"
        self.cut_gen += 1
        self.cv.notify_all()

    def node_list(self):
        return [copy.deepcopy(self.nodes[n]) for n in sorted(self.nodes)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube/1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    @property
    def st(self):
        return self.server.state

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_json(self, code, obj, record=None):
        data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if record is not None:
            record["status"] = code

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


class ApiHandler(Handler):
    def auth(self):
        try:
            cert = self.connection.getpeercert()
        except (ValueError, AttributeError):
            cert = None
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        return "cert:" + v
            return "cert"
        h = self.headers.get("Authorization", "")
        if h.startswith("Bearer ") and h[7:] in self.st.tokens:
            return "token"
        return None

    def handle_api(self, method):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        who = self.auth()
        rec = {"method": method, "path": url.path, "query": url.query,
               "auth": who or "none", "time": time.time()}
        with self.st.cv:
            self.st.requests.append(rec)
            f = self.st.fail
            if f and f["count"] > 0 and f.get("match", "") in self.path:
                f["count"] -= 1
                self.send_json(f["status"], status_obj(f["status"], "InternalError",
                                                       "failure injected by the fake"), rec)
                return
        if not who:
            self.send_json(401, status_obj(401, "Unauthorized", "Unauthorized"), rec)
            return
        body = self.body() if method in ("PATCH", "PUT", "POST") else b""
        if parts[:2] != ["api", "v1"]:
            self.send_json(404, status_obj(404, "NotFound", "the fake only serves /api/v1"), rec)
            return
        parts = parts[2:]
        if method == "GET" and parts == ["nodes"]:
            if q.get("watch", [""])[0] in ("1", "true"):
                self.watch(q, rec)
            else:
                self.list_nodes(q, rec)
            return
        if method == "GET" and len(parts) == 2 and parts[0] == "nodes":
            with self.st.cv:
                n = self.st.nodes.get(parts[1])
                n = copy.deepcopy(n)
            if n is None:
                self.send_json(404, status_obj(404, "NotFound", 'nodes "%s" not found' % parts[1],
                                               parts[1]), rec)
            else:
                self.send_json(200, n, rec)
            return
        if method == "GET" and len(parts) == 4 and parts[0] == "namespaces" and parts[2] == "pods":
            with self.st.cv:
                p = copy.deepcopy(self.st.pods.get((parts[1], parts[3])))
            if p is None:
                self.send_json(404, status_obj(404, "NotFound", 'pods "%s" not found' % parts[3],
                                               parts[3], "pods"), rec)
            else:
                self.send_json(200, p, rec)
            return
        if method == "PATCH" and parts[0] == "nodes" and len(parts) in (2, 3):
            sub = parts[2] if len(parts) == 3 else None
            if sub not in (None, "status"):
                self.send_json(404, status_obj(404, "NotFound", "no such subresource"), rec)
                return
            self.patch_node(parts[1], sub, body, rec)
            return
        self.send_json(405, status_obj(405, "MethodNotAllowed",
                                       "the fake does not implement %s %s" % (method, url.path)),
                       rec)

    def patch_node(self, name, sub, body, rec):
        ct = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ct not in ("application/strategic-merge-patch+json", "application/merge-patch+json"):
            self.send_json(415, status_obj(415, "UnsupportedMediaType",
                                           "the body of the request was in an unknown format - "
                                           "accepted media types include: application/json-patch"
                                           "+json, application/merge-patch+json, application/"
                                           "apply-patch+yaml, application/strategic-merge-patch"
                                           "+json"), rec)
            return
        try:
            patch = json.loads(body)
            if not isinstance(patch, dict):
                raise ValueError("not an object")
        except ValueError as e:
            self.send_json(400, status_obj(400, "BadRequest", "bad patch: %s" % e), rec)
            return
        with self.st.cv:
            self.st.patches.append({"node": name, "subresource": sub or "", "content_type": ct,
                                    "body": patch, "time": time.time()})
            if name not in self.st.nodes:
                self.send_json(404, status_obj(404, "NotFound", 'nodes "%s" not found' % name,
                                               name), rec)
                return
            merge = strategic_merge if ct.startswith("application/strategic") else json_merge
            try:
                n = self.st.replace(name, None, merge=lambda o: merge(o, patch), subresource=sub)
            except ValueError as e:
                self.send_json(422, status_obj(422, "Invalid", str(e), name), rec)
                return
            n = copy.deepcopy(n)
        self.send_json(200, n, rec)

    def list_nodes(self, q, rec):
        limit = int(q.get("limit", ["0"])[0] or 0)
        cont = q.get("continue", [""])[0]
        with self.st.cv:
            if cont:
                try:
                    tok = json.loads(base64.b64decode(cont))
                    snap_rv, items = self.st.snapshots[tok["id"]]
                    off = tok["offset"]
                except (ValueError, KeyError):
                    self.send_json(400, status_obj(400, "BadRequest", "bad continue token"), rec)
                    return
                if snap_rv < self.st.compacted:
                    self.send_json(410, status_obj(410, "Expired",
                                                   "The provided continue parameter is too old "
                                                   "to display a consistent list result. You can "
                                                   "start a new list without the continue "
                                                   "parameter."), rec)
                    return
            else:
                snap_rv, items, off = self.st.rv, self.st.node_list(), 0
            page = items[off:off + limit] if limit else items[off:]
            meta = {"resourceVersion": str(snap_rv)}
            if limit and off + limit < len(items):
                sid = uuid.uuid4().hex
                self.st.snapshots[sid] = (snap_rv, items)
                meta["continue"] = base64.b64encode(json.dumps(
                    {"id": sid, "offset": off + limit}).encode()).decode()
                meta["remainingItemCount"] = len(items) - off - limit
        self.send_json(200, {"kind": "NodeList", "apiVersion": "v1", "metadata": meta,
                             "items": page}, rec)

    def watch(self, q, rec):
        st = self.st
        rv_s = q.get("resourceVersion", [""])[0]
        bookmarks = q.get("allowWatchBookmarks", [""])[0] == "true"
        timeout = float(q.get("timeoutSeconds", ["1800"])[0])
        deadline = time.time() + timeout
        with st.cv:
            gen = st.cut_gen
            if rv_s in ("", "0"):
                sent = st.rv
                initial = [("ADDED", n) for n in st.node_list()]
            else:
                try:
                    sent = int(rv_s)
                except ValueError:
                    self.send_json(400, status_obj(400, "BadRequest", "bad resourceVersion"), rec)
                    return
                initial = []
                if sent < st.compacted:
                    gone = status_obj(410, "Expired", "too old resource version: %d (%d)"
                                      % (sent, st.compacted))
                    if st.gone == "http":
                        self.send_json(410, gone, rec)
                        return
                    initial = [("ERROR", gone)]
            st.active += 1
            st.started += 1
        rec["status"] = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        last_bm = time.time()
        try:
            for typ, obj in initial:
                self.chunk((json.dumps({"type": typ, "object": obj},
                                       separators=(",", ":")) + "\n").encode())
            if initial and initial[-1][0] == "ERROR":
                self.chunk(b"")
                return
            while True:
                with st.cv:
                    while True:
                        if st.cut_gen != gen:
                            mode = st.cut_mode
                            break
                        pending = [e for e in st.events if e[0] > sent]
                        now = time.time()
                        if pending or now >= deadline:
                            mode = None
                            break
                        if bookmarks and st.bookmark_interval and \
                                now - last_bm >= st.bookmark_interval:
                            mode = "bookmark"
                            break
                        wait = deadline - now
                        if bookmarks and st.bookmark_interval:
                            wait = min(wait, st.bookmark_interval - (now - last_bm))
                        st.cv.wait(max(0.01, min(wait, 1.0)))
                    cur_rv = st.rv
                if mode in ("abrupt", "clean"):
                    if mode == "abrupt":
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                    else:
                        self.chunk(b"")
                    return
                if mode == "bookmark":
                    last_bm = time.time()
                    sent = max(sent, cur_rv)
                    self.chunk((json.dumps({"type": "BOOKMARK", "object": {
                        "kind": "Node", "apiVersion": "v1",
                        "metadata": {"resourceVersion": str(sent)}}},
                        separators=(",", ":")) + "\n").encode())
                    continue
                if not pending:
                    self.chunk(b"")  # timeoutSeconds: a clean end
                    return
                for erv, typ, obj in pending:
                    self.chunk((json.dumps({"type": typ, "object": obj},
                                           separators=(",", ":")) + "\n").encode())
                    sent = erv
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            with st.cv:
                st.active -= 1

    def do_GET(self):
        self.handle_api("GET")

    def do_PATCH(self):
        self.handle_api("PATCH")

    def do_PUT(self):
        self.handle_api("PUT")

    def do_POST(self):
        self.handle_api("POST")

    def do_DELETE(self):
        self.handle_api("DELETE")


class ControlHandler(Handler):
    def ctl(self, method):
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        raw = self.body() if method in ("POST", "PUT", "PATCH") else b""
        try:
            arg = json.loads(raw) if raw.strip() else {}
        except ValueError as e:
            self.send_json(400, {"error": "bad JSON: %s" % e})
            return
        st = self.st
        if not parts or parts[0] != "fake":
            self.send_json(404, {"error": "not found"})
            return
        what = parts[1] if len(parts) > 1 else ""
        name = parts[2] if len(parts) > 2 else None
        try:
            with st.cv:
                if what == "nodes":
                    if method == "GET":
                        out = st.nodes[name] if name else st.node_list()
                    elif method == "POST":
                        out = st.create(arg)
                    elif method == "PUT":
                        out = st.replace(name, arg)
                    elif method == "PATCH":
                        out = st.replace(name, None, merge=lambda o: json_merge(o, arg))
                    elif method == "DELETE":
                        out = st.delete(name)
                    out = copy.deepcopy(out)
                elif what == "pods" and method == "POST":
                    meta = arg.setdefault("metadata", {})
                    arg.setdefault("apiVersion", "v1")
                    arg.setdefault("kind", "Pod")
                    st.pods[(meta.get("namespace", "default"), meta["name"])] = arg
                    out = arg
                elif what == "batch" and method == "POST":
                    st.apply_ops(arg.get("ops"))
                    out = {"resourceVersion": st.rv}
                elif what == "cut" and method == "POST":
                    st.cut(arg.get("mode"))
                    st.apply_ops(arg.get("ops"))
                    out = {"resourceVersion": st.rv}
                elif what == "compact" and method == "POST":
                    if arg.get("cut"):
                        st.cut(arg.get("mode"))
                    st.apply_ops(arg.get("ops"))
                    st.compacted = st.rv
                    st.events = [e for e in st.events if e[0] >= st.compacted]
                    out = {"resourceVersion": st.rv, "compacted": st.compacted}
                elif what == "config" and method == "POST":
                    if "gone" in arg:
                        st.gone = arg["gone"]
                    if "bookmark_interval" in arg:
                        st.bookmark_interval = float(arg["bookmark_interval"])
                    out = {"gone": st.gone, "bookmark_interval": st.bookmark_interval}
                elif what == "fail" and method == "POST":
                    st.fail = {"status": int(arg.get("status", 503)),
                               "count": int(arg.get("count", 1)), "match": arg.get("match", "")}
                    out = st.fail
                elif what == "tokens" and method == "POST":
                    st.tokens = set(arg.get("tokens", []))
                    out = {"tokens": len(st.tokens)}
                elif what in ("patches", "requests") and method in ("GET", "DELETE"):
                    lst = getattr(st, what)
                    out = copy.deepcopy(lst)
                    if method == "DELETE":
                        lst.clear()
                elif what == "watches" and method == "GET":
                    out = {"active": st.active, "started": st.started}
                elif what == "state" and method == "GET":
                    out = {"resourceVersion": st.rv, "compacted": st.compacted}
                else:
                    self.send_json(404, {"error": "no such control endpoint"})
                    return
        except KeyError as e:
            self.send_json(404 if method != "POST" else 409, {"error": "not found or exists: %s"
                                                                       % e})
            return
        except ValueError as e:
            self.send_json(400, {"error": str(e)})
            return
        self.send_json(200, out)

    def do_GET(self):
        self.ctl("GET")

    def do_POST(self):
        self.ctl("POST")

    def do_PUT(self):
        self.ctl("PUT")

    def do_PATCH(self):
        self.ctl("PATCH")

    def do_DELETE(self):
        self.ctl("DELETE")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, state, tls=None):
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        super().__init__(addr, handler)
        self.state = state
        if tls:
            # The handshake happens in the handler's thread, on the first read.
            self.socket = tls.wrap_socket(self.socket, server_side=True,
                                          do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        sys.stderr.write("connection from %s: %s\n" % (client_address, sys.exc_info()[1]))


def hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def main():
    ap = argparse.ArgumentParser(description="fake Kubernetes API server for weft tests")
    ap.add_argument("--listen", required=True, help="API address HOST:PORT (TLS)")
    ap.add_argument("--control", required=True, help="control address HOST:PORT (plain HTTP)")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca", help="CA for client certificates")
    ap.add_argument("--token", action="append", default=[], help="accepted bearer token")
    a = ap.parse_args()

    state = State(a.token)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(a.cert, a.key)
    if a.client_ca:
        ctx.load_verify_locations(a.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    api = Server(hostport(a.listen), ApiHandler, state, ctx)
    ctl = Server(hostport(a.control), ControlHandler, state)
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    sys.stderr.write("fake-kube: API on https://%s, control on http://%s\n" % (a.listen, a.control))
    sys.stderr.flush()
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
