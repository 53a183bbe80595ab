#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A TCP proxy on loopback that can stall, for the etcd watch watchdog test.

    stall_proxy.py LISTEN_HOST:PORT TARGET_HOST:PORT

Forwards every connection to TARGET. SIGUSR1 stalls it the way a stuck
gateway or a NAT that lost its state does: every connection open at that
moment, and every one accepted while stalled, stays open but never carries
another byte (nothing is closed, so TCP notices nothing). SIGUSR2 ends the
stall: connections accepted from then on work again; the stuck ones stay
stuck. Prints "listening" once ready, and one line per state change.
"""
import signal
import socket
import sys
import threading

state_lock = threading.Lock()
generation = 0  # bumped by each stall; a connection lives while its generation is current
stalled = False


def current(gen):
    with state_lock:
        return gen == generation and not stalled


def pump(src, dst, gen, stuck):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if not current(gen):
                stuck.wait()  # forever: the flow is dead, the socket stays open
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def handle(client, target, gen, stuck):
    if not current(gen):
        stuck.wait()
    try:
        upstream = socket.create_connection(target)
    except OSError:
        client.close()
        return
    threading.Thread(target=pump, args=(client, upstream, gen, stuck), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, gen, stuck), daemon=True).start()


def main():
    global generation, stalled
    lhost, lport = sys.argv[1].rsplit(":", 1)
    thost, tport = sys.argv[2].rsplit(":", 1)
    target = (thost, int(tport))
    stuck = threading.Event()  # never set
    held = []  # stuck client sockets: kept referenced so they stay open

    def on_stall(signo, frame):
        global generation, stalled
        with state_lock:
            generation += 1
            stalled = True
        print("stalled", flush=True)

    def on_resume(signo, frame):
        global stalled
        with state_lock:
            stalled = False
        print("resumed", flush=True)

    signal.signal(signal.SIGUSR1, on_stall)
    signal.signal(signal.SIGUSR2, on_resume)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((lhost, int(lport)))
    srv.listen(64)
    print("listening", flush=True)
    while True:
        try:
            client, _ = srv.accept()
        except InterruptedError:
            continue
        held.append(client)
        with state_lock:
            gen = generation if not stalled else -1
        threading.Thread(target=handle, args=(client, target, gen, stuck), daemon=True).start()


if __name__ == "__main__":
    main()
