#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kube mode, vxlan, 3 hosts x 1 pod against the FAKE API server (kube_lib.sh):
# h1's eth0 deleted and created again with another address. Our Node's
# public-ip annotation says the new address (its backend-data, the VtepMAC,
# stays), h2's and h3's FDB entries point at it, every pod pair works again
# within 30 s, and the log says what was done.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
PODS=${PODS:-1}
. tests/netns/cases.sh
. tests/netns/kube_lib.sh

BOUND_S=30

kube_cluster_up '{"Type":"vxlan"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
all_pairs_ping "kube vxlan"

pairs_ok() {
	local n m
	for n in $(seq 1 "$HOSTS"); do for m in $(seq 1 "$HOSTS"); do
		pod_ping "$n" 1 "${POD_IP[$m.1]}" || return 1
	done; done
}

ip1=$(host_ip 1) new1=$UNDERLAY_PREFIX.61
data1=$(node_annot node1 "$A/backend-data")
mac1=$(vtep_mac 1)
tap_eq "node1: public-ip annotation before" "$ip1" "$(node_annot node1 "$A/public-ip")"
host_exec 1 ip link del eth0
tap_ok "h1: eth0 deleted: logged as gone" wait_until 10 grep -q \
	"underlay: interface eth0 (index [0-9]*) was deleted" "$RUN_DIR/h1.log"
h=$(host_ns 1)
ip -n "$UL" link add h1 type veth peer name eth0 netns "$h"
ip -n "$UL" link set h1 master br0 up
ip -n "$h" addr add "$new1/24" dev eth0
ip -n "$h" link set eth0 up
ip -n "$h" route add default via $UNDERLAY_PREFIX.1
t=$(time_until "$BOUND_S" eval "[ \"\$(node_annot node1 '$A/public-ip')\" = '$new1' ]")
echo "# node1's public-ip annotation updated after $t ms"
tap_ok "node1: public-ip annotation says $new1 ($t ms)" test "$t" != timeout
tap_eq "node1: backend-data (VtepMAC) unchanged" "$data1" "$(node_annot node1 "$A/backend-data")"
tap_ok "h1: the node watch resumed on a new connection" wait_until 5 grep -q \
	"resuming the node watch from resourceVersion .* on a new connection" "$RUN_DIR/h1.log"
tap_ok "h1: logged: the annotations are patched" \
	grep -q "node node1: our lease now publishes $new1; patching its annotations" "$RUN_DIR/h1.log"
t=$(time_until "$BOUND_S" pairs_ok)
echo "# pods reach each other again $t ms after eth0 is back"
tap_ok "all pod pairs work again within ${BOUND_S}s ($t ms)" test "$t" != timeout
for n in 2 3; do
	tap_eq "h$n: fdb entry for h1 points at $new1" "$mac1 dst $new1 self permanent" \
		"$(host_exec "$n" bridge fdb show dev flannel.1 | grep "^$mac1 " | sed 's/ *$//')"
done
tap_ok "h1: flannel.1 is vxlan local $new1 dev eth0" eval \
	"host_exec 1 ip -d link show flannel.1 | grep -q 'vxlan id 1 local $new1 dev eth0 '"
all_pairs_ping "kube, after replug with a new address"

for n in 1 2 3; do
	weftd_host_stop "$n"
	tap_eq "h$n: weftd exits 0 on SIGTERM" 0 "$?"
done
tap_done
