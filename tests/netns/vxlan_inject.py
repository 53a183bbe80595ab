#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Send one VXLAN datagram carrying an Ethernet frame with an IPv4/UDP packet,
as a node (or an attacker) on the underlay would: tests/netns/test_overlay_filter.sh.

  vxlan_inject.py DST PORT VNI INNER_DST_MAC INNER_SRC INNER_DST INNER_PORT PAYLOAD
"""
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    dst, port, vni, mac, isrc, idst, iport, payload = sys.argv[1:9]
    data = payload.encode()
    udp = struct.pack("!HHHH", 40000, int(iport), 8 + len(data), 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(isrc), socket.inet_aton(idst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes.fromhex(mac.replace(":", "")) + bytes.fromhex("02000000beef") + b"\x08\x00"
    vx = struct.pack("!B3sI", 0x08, b"\0\0\0", int(vni) << 8)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(vx + eth + ip + udp, (dst, int(port)))


if __name__ == "__main__":
    main()
