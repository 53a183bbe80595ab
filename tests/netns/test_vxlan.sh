#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vxlan between 3 hosts x 2 pods (network namespaces on one underlay, a real etcd):
# all pairs reach each other, each host's kernel objects are exactly flannel's
# (§7.2), a SIGKILL + restart of weftd loses no packet, a removed host's objects
# vanish within 2 s, objects removed by hand (route, FDB entry, neighbour,
# the whole device) come back, and a peer's all-zero or multicast VtepMAC is
# refused.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

cluster_up '{"Type":"vxlan"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
all_pairs_ping "vxlan"
for n in 1 2 3; do check_vxlan_objects "$n"; done

restart_no_loss

# Tampering on h1 with h2's objects: each is restored (monitor-triggered
# reconcile; the periodic one would do it within 10 s).
s2=$(subnet_net 2) a2=$(subnet_addr 2) m2=$(vtep_mac 2)
host_exec 1 ip route del "$s2"
t=$(time_until 12 eval "host_exec 1 ip route show $s2 | grep -q 'via $a2 dev flannel.1 proto 151 onlink'")
tap_ok "tamper: deleted route restored ($t ms)" test "$t" != timeout
host_exec 1 bridge fdb del "$m2" dev flannel.1 dst "$(host_ip 2)" self
t=$(time_until 12 eval "host_exec 1 bridge fdb show dev flannel.1 | grep -q '^$m2 dst $(host_ip 2) self permanent'")
tap_ok "tamper: deleted fdb entry restored ($t ms)" test "$t" != timeout
host_exec 1 ip neigh del "$a2" dev flannel.1
t=$(time_until 12 eval "host_exec 1 ip neigh show $a2 dev flannel.1 | grep -q 'lladdr $m2 PERMANENT'")
tap_ok "tamper: deleted neighbour restored ($t ms)" test "$t" != timeout
mac1=$(vtep_mac 1)
host_exec 1 ip link del flannel.1
t=$(time_until 12 eval "host_exec 1 ip route show proto 151 | grep -c . | grep -qx 2 && host_exec 1 bridge fdb show dev flannel.1 | grep -c ' dst ' | grep -qx 2")
tap_ok "tamper: deleted flannel.1 recreated and re-programmed ($t ms)" test "$t" != timeout
check_vxlan_objects 1
tap_eq "tamper: recreated flannel.1 kept its MAC" "$mac1" \
	"$(host_exec 1 ip -o link show flannel.1 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)"
all_pairs_ping "after tampering"

# Peer leases whose VtepMAC is all-zero (it would become flannel.1's default
# destination) or multicast are refused, logged, and make no kernel object; a
# valid one written with them is programmed (the check is fair).
bad_vtep_macs() {
	local n fdb lease='{"PublicIP":"%s","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"%s"}}'
	etcd_put $P/subnets/10.244.250.0-24 "$(printf "$lease" 10.200.0.97 00:00:00:00:00:00)"
	etcd_put $P/subnets/10.244.251.0-24 "$(printf "$lease" 10.200.0.98 01:00:5e:00:00:01)"
	etcd_put $P/subnets/10.244.252.0-24 "$(printf "$lease" 10.200.0.99 02:00:00:00:00:99)"
	tap_ok "VtepMAC 02:00:00:00:00:99: h1 programs its fdb entry" wait_until 5 eval \
		"host_exec 1 bridge fdb show dev flannel.1 | grep -q '^02:00:00:00:00:99 dst 10.200.0.99 self permanent'"
	for n in 250 251; do
		tap_ok "VtepMAC of 10.244.$n.0/24 refused: h1 logs why" wait_until 5 grep -q \
			"ignoring peer 10.244.$n.0-24: its VtepMAC is multicast or all-zero" "$RUN_DIR/h1.log"
	done
	fdb=$(host_exec 1 bridge fdb show dev flannel.1)
	tap_eq "no fdb entry for the all-zero or multicast VtepMAC" "" \
		"$(grep -E '^00:00:00:00:00:00 |^01:00:5e:00:00:01 |dst 10\.200\.0\.9[78] ' <<<"$fdb")"
	tap_eq "no neighbour with either MAC" "" \
		"$(host_exec 1 ip neigh show dev flannel.1 | grep -E '00:00:00:00:00:00|01:00:5e:00:00:01')"
	tap_eq "no route to their subnets" "" \
		"$(host_exec 1 ip route show proto 151 | grep -E '^10\.244\.25[01]\.0/24')"
	etcd_del $P/subnets/10.244.250.0-24
	etcd_del $P/subnets/10.244.251.0-24
	etcd_del $P/subnets/10.244.252.0-24
	tap_ok "the valid one's fdb entry leaves with its lease" wait_until 5 \
		cmd_lacks '^02:00:00:00:00:99 ' host_exec 1 bridge fdb show dev flannel.1
}
bad_vtep_macs

vx_objects_of_h3() { # N: h3's route + neighbour + fdb entries on host N ("error" if a lookup fails)
	local r nb fdb
	r=$(lines_of host_exec "$1" ip route show "$(subnet_net 3)") &&
		nb=$(lines_of host_exec "$1" ip neigh show "$(subnet_addr 3)" dev flannel.1) &&
		fdb=$(host_exec "$1" bridge fdb show dev flannel.1) || { echo error; return; }
	echo $((r + nb + $(grep -c "dst $(host_ip 3) " <<<"$fdb")))
}
host_removed vx_objects_of_h3

for n in 1 2; do
	weftd_host_stop "$n"
	tap_eq "h$n: weftd exits 0 on SIGTERM" 0 "$?"
done
tap_done
