#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Many vxlan leases at once, through etcd's JSON gateway, and the kernel
# objects a vxlan host must then hold for them (as iproute2 prints them).
#
#   leases.py put ENDPOINT FIRST COUNT [SALT]   write leases FIRST..FIRST+COUNT-1
#                                               (host-gw ones when LEASE_TYPE=host-gw)
#   leases.py del ENDPOINT FIRST COUNT          delete them
#   leases.py expect KIND FIRST COUNT [SALT]    print the expected objects, KIND one of
#                                               routes, nexthops, neighbours, fdb
#
# Lease i is 10.A.B.0/24 with A = 1 + i / 256, B = i % 256, public IP
# 172.16.(1 + i / 250).(1 + i % 250) and VtepMAC 0e:2a:AA:AA:BB:SALT (SALT, a
# byte, lets a test change the MACs). Puts go out in transactions of 100.
import base64
import http.client
import json
import os
import sys
import urllib.parse

PREFIX = "/coreos.com/network/subnets/"


def lease(i, salt):
    a, b = 1 + i // 256, i % 256
    subnet = "10.%d.%d.0" % (a, b)
    mac = "0e:2a:%02x:%02x:%02x:%02x" % (a >> 8, a & 255, b, salt)
    pub = "172.16.%d.%d" % (1 + i // 250, 1 + i % 250)
    return subnet, mac, pub


def b64(s):
    return base64.b64encode(s.encode()).decode()


def txn(conn, ops):
    conn.request("POST", "/v3/kv/txn", json.dumps({"success": ops}))
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("leases.py: txn failed: %d %s" % (r.status, body[:200]))


def write(endpoint, first, count, salt, delete):
    u = urllib.parse.urlparse(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    ops = []
    for i in range(first, first + count):
        subnet, mac, pub = lease(i, salt)
        key = b64(PREFIX + subnet + "-24")
        if delete:
            ops.append({"request_delete_range": {"key": key}})
        elif os.environ.get("LEASE_TYPE") == "host-gw":
            val = '{"PublicIP":"%s","PublicIPv6":null,"BackendType":"host-gw"}' % pub
            ops.append({"request_put": {"key": key, "value": b64(val)}})
        else:
            val = ('{"PublicIP":"%s","PublicIPv6":null,"BackendType":"vxlan",'
                   '"BackendData":{"VNI":1,"VtepMAC":"%s"}}' % (pub, mac))
            ops.append({"request_put": {"key": key, "value": b64(val)}})
        if len(ops) == 100:
            txn(conn, ops)
            ops = []
    if ops:
        txn(conn, ops)


def ip_int(addr):
    a = [int(x) for x in addr.split(".")]
    return a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]


def expect(kind, first, count, salt):
    for i in range(first, first + count):
        subnet, mac, pub = lease(i, salt)
        nhid = ip_int(subnet)
        if kind == "routes":
            print("%s/24 nhid %d via %s dev flannel.1 proto 151 onlink" % (subnet, nhid, subnet))
        elif kind == "nexthops":
            print("id %d via %s dev flannel.1 scope link proto 151 onlink" % (nhid, subnet))
        elif kind == "neighbours":
            print("%s lladdr %s PERMANENT" % (subnet, mac))
        elif kind == "fdb":
            print("%s dst %s self permanent" % (mac, pub))
        else:
            sys.exit("leases.py: unknown kind %s" % kind)


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__ or "usage: leases.py put|del|expect ...")
    cmd = argv[1]
    if cmd in ("put", "del"):
        salt = int(argv[5]) if len(argv) > 5 else 1
        write(argv[2], int(argv[3]), int(argv[4]), salt, cmd == "del")
    elif cmd == "expect":
        salt = int(argv[5]) if len(argv) > 5 else 1
        expect(argv[2], int(argv[3]), int(argv[4]), salt)
    else:
        sys.exit("leases.py: unknown command %s" % cmd)


if __name__ == "__main__":
    main(sys.argv)
