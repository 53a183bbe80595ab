#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Re-record the fuzz_nl_reply seeds (tests/fuzz/corpus/nl_reply/) from a real
# kernel: a scratch network namespace gets a vxlan device, a nexthop, routes,
# a neighbour, an FDB entry and addresses; its rtnetlink answers to weft's
# requests (dumps, gets, ACKs with extended ACK text) are written as seeds in
# the target's input format. Root; the namespace is removed on exit.
# Hand-made seeds (batch ACKs, interrupted dump) are written too; the
# regression seeds nlmsg_len_* are not touched.
set -eu
cd "$(dirname "$0")/../.."
ns=wfz$$
trap 'ip netns del $ns 2>/dev/null' EXIT
ip netns add $ns
ip netns exec $ns sh -e <<'SH'
ip link set lo up
ip link add dummy0 type veth peer name dummy1
ip addr add 10.200.0.11/24 dev dummy0
ip link set dummy0 up; ip link set dummy1 up
ip link add flannel.1 type vxlan id 1 local 10.200.0.11 dev dummy0 dstport 8472 nolearning
ip link set flannel.1 address 0e:00:00:00:01:01 mtu 1450 up
ip addr add 10.244.1.0/32 dev flannel.1
ip addr add fd00::1/64 dev dummy0
ip nexthop add id 168036864 via 10.244.2.0 dev flannel.1 onlink proto 151
ip route add 10.244.2.0/24 nhid 168036864 proto 151
ip route add 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink proto 151
ip route add blackhole 10.244.9.0/24
ip neigh add 10.244.2.0 lladdr 0e:00:00:00:02:02 dev flannel.1 nud permanent
bridge fdb add 0e:00:00:00:02:02 dev flannel.1 dst 10.200.0.12 self permanent
ip link add cni0 type bridge; ip link set cni0 up
SH
ip netns exec $ns python3 - tests/fuzz/corpus/nl_reply <<'PY'
# Record real rtnetlink answers from a scratch namespace as fuzz_nl_reply seeds.
import os, socket, struct, sys
out = sys.argv[1]
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
def nlsock():
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.setsockopt(270, 11, 1)  # NETLINK_EXT_ACK
    s.setsockopt(270, 10, 1)  # NETLINK_CAP_ACK
    s.bind((0, 0))
    return s
seq = 100
def talk(s, typ, flags, body):
    global seq
    seq += 1
    s.send(struct.pack('=IHHII', 16 + len(body), typ, flags | NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body)
    grams = []
    while True:
        d = s.recv(65536)
        grams.append(d)
        off, done = 0, False
        while off + 16 <= len(d):
            l, t = struct.unpack_from('=IH', d, off)
            if t in (2, 3): done = True
            off += (l + 3) & ~3
        if done: return grams
def save(name, op, grams, flags=1):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes([op, flags]))
        for g in grams: f.write(struct.pack('<H', len(g)) + g)
def attr(t, payload):
    a = struct.pack('=HH', 4 + len(payload), t) + payload
    return a + b'\0' * ((4 - len(a) % 4) % 4)
s = nlsock()
ifi = struct.pack('=BxHiII', 0, 0, 0, 0, 0) + attr(29, struct.pack('=I', 8))  # IFLA_EXT_MASK skip stats
links = talk(s, 18, NLM_F_DUMP, ifi)
save('link_dump', 0, links)
rtm = struct.pack('=BBBBBBBBI', 2, 0, 0, 0, 0, 0, 0, 0, 0)
routes = talk(s, 26, NLM_F_DUMP, rtm)
save('route_dump', 1, routes)
ndm = lambda fam, idx: struct.pack('=BxxxiHBB', fam, idx, 0, 0, 0)
save('neigh_dump', 2, talk(s, 30, NLM_F_DUMP, ndm(2, 0)))
save('fdb_dump', 3, talk(s, 30, NLM_F_DUMP, ndm(7, 0)))
nhm = struct.pack('=BBBBI', 2, 0, 0, 0, 0)
save('nexthop_dump', 4, talk(s, 106, NLM_F_DUMP, nhm))
ifa = struct.pack('=BBBBI', 0, 0, 0, 0, 0)
save('addr_dump', 5, talk(s, 22, NLM_F_DUMP, ifa))
idx = socket.if_nametoindex('flannel.1')
one = talk(s, 18, 0, struct.pack('=BxHiII', 0, 0, idx, 0, 0) + attr(29, struct.pack('=I', 8)))
save('link_get', 6, one)
save('link_get_name', 7, talk(s, 18, 0, struct.pack('=BxHiII', 0, 0, 0, 0, 0) + attr(3, b'flannel.1\0')))
save('link_get_nodev', 7, talk(s, 18, 0, struct.pack('=BxHiII', 0, 0, 0, 0, 0) + attr(3, b'nosuchdev\0')))
rget = struct.pack('=BBBBBBBBI', 2, 32, 0, 0, 0, 0, 0, 0, 0) + attr(1, socket.inet_aton('10.244.2.5'))
save('route_get', 8, talk(s, 26, 0, rget))
# an error ACK with the kernel's extended ACK text: an address on a missing link
bad = struct.pack('=BBBBI', 2, 32, 0, 0, 99999) + attr(2, socket.inet_aton('10.244.1.0')) + attr(1, socket.inet_aton('10.244.1.0'))
save('addr_add_error', 9, talk(s, 20, 0x400 | 0x200, bad))
# a nexthop refused with an extended ACK message (gateway without device)
badnh = struct.pack('=BBBBI', 2, 0, 0, 0, 0) + attr(1, struct.pack('=I', 7)) + attr(6, socket.inet_aton('10.9.9.9'))
save('nexthop_error', 9, talk(s, 104, 0x400, badnh))
ok = talk(s, 20, 0x400 | 0x100, struct.pack('=BBBBI', 2, 32, 0, 0, idx) + attr(2, socket.inet_aton('10.244.1.0')) + attr(1, socket.inet_aton('10.244.1.0')))
save('addr_add_ack', 9, ok)
# batch ACKs: ok, error, ok (the fuzzer stamps them with the requests' numbers)
def ack(code):
    return struct.pack('=IHHII', 36, 2, 0x100, 0, 0) + struct.pack('=i', code) + struct.pack('=IHHII', 16, 24, 5, 0, 0)
save('batch_acks', 10, [ack(0) + ack(-17) + ack(0)])
save('batch_acks_split', 10, [ack(0), ack(-22), ack(0)])
# everything through every parser, as notifications would come
save('notifications', 11, links + routes, flags=0)
# dumps interrupted (NLM_F_DUMP_INTR) once, then whole
intr = bytearray(routes[0]); struct.pack_into('=H', intr, 6, struct.unpack_from('=H', intr, 6)[0] | 0x10)
save('route_dump_intr', 1, [bytes(intr)] + routes)
PY
