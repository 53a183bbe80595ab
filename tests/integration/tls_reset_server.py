#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A TLS server that resets every connection (TCP RST, SO_LINGER 0), for tests.

  tls_reset_server.py MODE CERT KEY CA

Listens on 127.0.0.1, a port the kernel picks; prints "listening PORT" first,
then one line per connection ("closed handshake", "reset request").

MODE handshake: read the ClientHello, send the server's first flight (TLS 1.3:
  ServerHello ... CertificateRequest, Finished) and close. The client's
  Certificate meets a closed socket, whose kernel answers with a reset; the
  reset finds the client half-closed (our FIN), which turns the client's next
  write, CertificateVerify (written after a signature, so the reset is there
  by then), into EPIPE: SIGPIPE for a process that does not ignore it.
MODE request: complete the handshake, read the first bytes of the request,
  then reset without a response.
"""
import socket
import ssl
import struct
import sys


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def mid_handshake(ctx, conn):
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=True)
    while True:
        data = conn.recv(65536)
        if not data:
            return False
        inc.write(data)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        flight = out.read()
        if flight:
            conn.sendall(flight)
            return True


def mid_request(ctx, conn):
    tls = ctx.wrap_socket(conn, server_side=True)
    data = tls.recv(8)
    # Reset the TCP connection under the TLS layer (no close_notify).
    reset(socket.socket(fileno=tls.detach()))
    return bool(data)


def main():
    mode, cert, key, ca = sys.argv[1:5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    # Ask for a client certificate: the client's flight is then several writes.
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    print("listening", srv.getsockname()[1], flush=True)
    while True:
        conn, _ = srv.accept()
        try:
            if mode == "handshake":
                ok = mid_handshake(ctx, conn)
                conn.close()
            else:
                ok = mid_request(ctx, conn)
        except (OSError, ssl.SSLError) as e:
            print("error", e, flush=True)
            conn.close()
            continue
        print(("closed" if mode == "handshake" else "reset") if ok else "eof", mode, flush=True)


if __name__ == "__main__":
    main()
