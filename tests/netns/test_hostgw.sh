#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# host-gw between 3 hosts x 2 pods: all pairs reach each other, each host has
# exactly one route per peer (via the peer's public IP), a SIGKILL + restart
# loses no packet, a removed host's route vanishes within 2 s, a deleted route
# comes back, and a stale route of ours left for a peer without a lease is
# removed at start.
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

restart_no_loss

s2=$(subnet_net 2)
host_exec 1 ip route del "$s2"
t=$(time_until 12 eval "host_exec 1 ip route show $s2 | grep -q 'via $(host_ip 2) dev eth0 proto 151'")
tap_ok "tamper: deleted route restored ($t ms)" test "$t" != timeout

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
