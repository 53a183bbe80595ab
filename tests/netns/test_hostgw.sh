#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# host-gw between 3 hosts x 2 pods: all pairs reach each other, each host has
# exactly one route per peer (via the peer's public IP), a SIGKILL + restart
# loses no packet, a removed host's route vanishes within 2 s, a deleted route
# comes back, a stale route of ours left for a peer without a lease is removed
# at start, and leases outside the Network (128.0.0.0-1, 0.0.0.0-1) are refused.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

cluster_up '{"Type":"host-gw"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
all_pairs_ping "host-gw"
for n in 1 2 3; do check_hostgw_objects "$n"; done
tap_eq "h1: FLANNEL_MTU is the interface MTU" 1500 "$(host_env 1 FLANNEL_MTU)"

# Peers outside the Network (issue 14, item 4): a lease for 128.0.0.0/1 or
# 0.0.0.0/1 would take half of the node's egress to "its" host. They are
# refused with one log line each; a good lease written with them (same public
# address, a host without weftd) is the positive probe that they were seen.
lease_v='{"PublicIP":"10.200.0.14","PublicIPv6":null,"BackendType":"host-gw"}'
for k in 128.0.0.0-1 0.0.0.0-1 10.244.200.0-24; do etcd_put "$P/subnets/$k" "$lease_v"; done
tap_ok "outside: h1 routes the good lease written with them" wait_until 5 eval \
	"host_exec 1 ip route show exact 10.244.200.0/24 | grep -q 'via 10.200.0.14 dev eth0 proto 151'"
for k in 128.0.0.0-1 0.0.0.0-1; do
	tap_ok "outside: h1 logs why $k is refused" wait_until 5 grep -qF \
		"ignoring $P/subnets/$k (revision" "$RUN_DIR/h1.log"
	tap_ok "outside: the reason names the network ($k)" grep -qF \
		"subnet $(tr - / <<<"$k") is outside the network 10.244.0.0/16" "$RUN_DIR/h1.log"
	tap_eq "outside: h1 has no route for $k" "" "$(host_exec 1 ip route show exact "$(tr - / <<<"$k")")"
done
tap_eq "outside: h1's default route untouched" "default via 10.200.0.1 dev eth0 " \
	"$(host_exec 1 ip route show default)"
tap_ok "outside: h1's egress still leaves by the default route" eval \
	"host_exec 1 ip route get 192.0.2.1 | grep -q 'via 10.200.0.1 dev eth0'"
etcd_del $P/subnets/10.244.200.0-24
tap_ok "outside: the good lease's route goes with it" wait_until 5 eval \
	"! host_exec 1 ip route show exact 10.244.200.0/24 | grep -q ."

restart_no_loss

s2=$(subnet_net 2)
host_exec 1 ip route del "$s2"
t=$(time_until 12 eval "host_exec 1 ip route show $s2 | grep -q 'via $(host_ip 2) dev eth0 proto 151'")
tap_ok "tamper: deleted route restored ($t ms)" test "$t" != timeout

tap_eq "outside: each refused lease logged once by h1, whatever came later" "1 1" \
	"$(grep -cF "ignoring $P/subnets/128.0.0.0-1 " "$RUN_DIR/h1.log") $(grep -cF "ignoring $P/subnets/0.0.0.0-1 " "$RUN_DIR/h1.log")"

# Startup GC: a route of ours to a subnet nobody leases is removed when weftd
# starts (flannel leaves such routes behind forever: upstream #2554).
weftd_host_stop 1
host_exec 1 ip route add 10.244.250.0/24 via "$(host_ip 2)" dev eth0 proto 151
weftd_host_start 1 --iface eth0
t=$(time_until 10 cmd_lacks . host_exec 1 ip route show 10.244.250.0/24)
tap_ok "startup: stale route of ours removed ($t ms)" test "$t" != timeout
tap_ok "startup: log names it" wait_until 5 grep -q "10.244.250.0/24 via $(host_ip 2).*no lease wants it" "$RUN_DIR/h1.log"
all_pairs_ping "after restart"

hg_objects_of_h3() { lines_of host_exec "$1" ip route show "$(subnet_net 3)"; }
host_removed hg_objects_of_h3

for n in 1 2; do
	weftd_host_stop "$n"
	tap_eq "h$n: weftd exits 0 on SIGTERM" 0 "$?"
done
tap_done
