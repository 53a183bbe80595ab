#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The underlay changes while weftd runs (issue 20 item 1), on 3 hosts x 1 pod
# with the backend UNDERLAY_BACKEND (vxlan unless set; test_underlay_change_hostgw.sh
# runs host-gw):
#  - h1's eth0 deleted and created again with the same name and address (a VM
#    NIC replug): the log says it is gone, that it was selected again and the
#    backend recreated on it; every pod pair works again within 30 s of the
#    interface being back, and h1's kernel objects are in place again;
#  - h1's eth0 created again with another address: h1's lease in etcd says the
#    new PublicIP, h2's and h3's FDB entries / routes point at it, pods work;
#  - h2's link down and up, and its address deleted and added back: pods work
#    again as before, and weftd redoes nothing;
#  - h3 (weftd restarted with --iface-regex) loses eth0 and gets ens4 with
#    another address: ens4 is selected, the lease follows, pods work.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
PODS=${PODS:-1}
. tests/netns/cases.sh

BE=${UNDERLAY_BACKEND:-vxlan}
BOUND_S=30 # pods work again at most this long after the interface is back
# Short leases, renewed every 10 s: a renewal after the update must carry
# the new address too.
export WEFT_TEST_LEASE_TTL=20
# A renewal that fails while an interface is away is retried soon (not in
# 60 s, past the short TTL).
export WEFT_TEST_RENEW_RETRY=2

cluster_up "{\"Type\":\"$BE\"}" || { tap_ok "cluster up" false; tap_done; exit 1; }
all_pairs_ping "$BE"

pairs_ok() { # every pod reaches every pod (one ping each)
	local n m
	for n in $(seq 1 "$HOSTS"); do for m in $(seq 1 "$HOSTS"); do
		pod_ping "$n" 1 "${POD_IP[$m.1]}" || return 1
	done; done
}

# eth0 of host N deleted; the log shows weftd noticed.
eth0_delete() { # N
	local n=$1
	host_exec "$n" ip link del eth0
	tap_ok "h$n: eth0 deleted: logged as gone" wait_until 10 grep -q \
		"underlay: interface eth0 (index [0-9]*) was deleted" "$RUN_DIR/h$n.log"
}

# eth0 of host N created again (a new veth on the underlay bridge) with ADDR.
eth0_create() { # N ADDR
	local n=$1 h
	h=$(host_ns "$n")
	ip -n "$UL" link add "h$n" type veth peer name eth0 netns "$h"
	ip -n "$UL" link set "h$n" master br0 up
	ip -n "$h" addr add "$2/24" dev eth0
	ip -n "$h" link set eth0 up
	ip -n "$h" route add default via $UNDERLAY_PREFIX.1
}

log_has() { # N ERE: a line of host N's log matches
	grep -Eq "$2" "$RUN_DIR/h$1.log"
}

check_objects() { # N PUBLIC_IP_OF_EACH_HOST...: host N's per-peer objects
	local n=$1 m want link
	shift
	local pub=("" "$@")
	for m in $(seq 1 "$HOSTS"); do
		[ "$m" = "$n" ] && continue
		if [ "$BE" = vxlan ]; then
			want="$(vtep_mac "$m") dst ${pub[$m]} self permanent"
			tap_eq "h$n: fdb entry for h$m points at ${pub[$m]}" "$want" \
				"$(host_exec "$n" bridge fdb show dev flannel.1 | grep "^$(vtep_mac "$m") " | sed 's/ *$//')"
		else
			tap_ok "h$n: route to h$m's subnet via ${pub[$m]} dev eth0" wait_until 5 eval \
				"host_exec $n ip route show $(subnet_net "$m") | grep -q 'via ${pub[$m]} dev eth0 proto 151'"
		fi
	done
	if [ "$BE" = vxlan ]; then
		link=$(host_exec "$n" ip -d link show flannel.1)
		tap_ok "h$n: flannel.1 is vxlan local ${pub[$n]} dev eth0" \
			grep -q "vxlan id 1 local ${pub[$n]} dev eth0 " <<<"$link"
		tap_eq "h$n: flannel.1 kept the published VtepMAC" "$(vtep_mac "$n")" \
			"$(grep -o 'link/ether [0-9a-f:]*' <<<"$link" | cut -d' ' -f2)"
	fi
}

# ---- 1. the same interface, the same address, a new link ----
ip1=$(host_ip 1) ip2=$(host_ip 2) ip3=$(host_ip 3)
mac1=$([ "$BE" = vxlan ] && vtep_mac 1)
eth0_delete 1
# While it is missing weftd waits (and keeps running).
tap_ok "h1: waiting is logged" wait_until 10 grep -q "underlay: waiting for the external interface" "$RUN_DIR/h1.log"
tap_ok "h1: weftd still runs without eth0" bg_alive h1
eth0_create 1 "$ip1"
t=$(time_until "$BOUND_S" pairs_ok)
echo "# same address: pods reach each other again $t ms after eth0 is back"
tap_ok "replug, same address: all pod pairs work again within ${BOUND_S}s ($t ms)" test "$t" != timeout
tap_ok "h1: logged: selected eth0 again, with why and the new index" \
	log_has 1 "underlay: selected eth0 again \(--iface eth0.*\): index [0-9]+ -> [0-9]+"
tap_ok "h1: logged: backend $BE recreated on eth0" \
	log_has 1 "underlay: backend $BE now uses eth0 \(index [0-9]+\): devices and routes recreated"
if [ "$BE" = vxlan ]; then
	tap_ok "h1: logged: flannel.1 recreated" log_has 1 "vxlan: flannel.1 (was missing|exists with other settings)"
	tap_eq "h1: the lease still publishes the same VtepMAC" "$mac1" "$(vtep_mac 1)"
fi
tap_lacks "h1: same address: the lease is not rewritten" 'updating lease' 'selected eth0 again' \
	cat "$RUN_DIR/h1.log"
check_objects 1 "$ip1" "$ip2" "$ip3"
all_pairs_ping "after replug, same address"

# ---- 2. a new link with another address ----
new1=$UNDERLAY_PREFIX.61
eth0_delete 1
wait_until 5 log_has 1 "underlay: waiting for the external interface" || true
eth0_create 1 "$new1"
t=$(time_until "$BOUND_S" eval "etcd_get '$(lease_key 1)' | grep -q '\"PublicIP\":\"$new1\"'")
echo "# new address: lease updated in etcd after $t ms"
tap_ok "replug, new address: h1's lease in etcd says PublicIP $new1 ($t ms)" test "$t" != timeout
tap_ok "h1: logged: lease updated in etcd" wait_until 5 log_has 1 "lease [0-9.-]+ updated in etcd: PublicIP $new1"
tap_ok "h1: logged: why it was selected and what changed" \
	log_has 1 "underlay: selected eth0 again \(--iface eth0.*\): index [0-9]+ -> [0-9]+, address $ip1 -> $new1, public address $ip1 -> $new1"
t=$(time_until "$BOUND_S" pairs_ok)
echo "# new address: pods reach each other again $t ms after eth0 is back"
tap_ok "replug, new address: all pod pairs work again within ${BOUND_S}s ($t ms)" test "$t" != timeout
tap_ok "h1: the lease watch resumed on a new connection (the old one was from $ip1)" \
	log_has 1 "resuming the lease watch from revision [0-9]+ on a new connection"
renewals=$(grep -c "renewed lease" "$RUN_DIR/h1.log")
tap_ok "h1: a renewal after the update" wait_until 25 eval \
	"[ \$(grep -c 'renewed lease' '$RUN_DIR/h1.log') -gt $renewals ]"
tap_ok "h1: the renewed lease still says PublicIP $new1" eval \
	"etcd_get '$(lease_key 1)' | grep -q '\"PublicIP\":\"$new1\"'"
for n in 2 3; do
	tap_ok "h$n: logged h1's lease with the new PublicIP" wait_until 5 \
		log_has "$n" "peer added: $(subnet_net 1 | tr / -) public $new1 backend $BE"
done
check_objects 1 "$new1" "$ip2" "$ip3"
check_objects 2 "$new1" "$ip2" "$ip3"
check_objects 3 "$new1" "$ip2" "$ip3"
if [ "$BE" = vxlan ]; then
	tap_eq "h2: no fdb entry left for h1's old address" "" \
		"$(host_exec 2 bridge fdb show dev flannel.1 | grep " dst $ip1 ")"
fi
all_pairs_ping "after replug, new address"

# ---- 3. link down/up and address delete/re-add keep working ----
host_exec 2 ip link set eth0 down
wait_until 2 false || true # the link stays down a moment (no condition to poll for)
host_exec 2 ip link set eth0 up
host_exec 2 ip route replace default via $UNDERLAY_PREFIX.1
t=$(time_until "$BOUND_S" pairs_ok)
echo "# link down/up: pods reach each other again after $t ms"
tap_ok "h2: link down/up: all pod pairs work again within ${BOUND_S}s ($t ms)" test "$t" != timeout
host_exec 2 ip addr del "$ip2/24" dev eth0
tap_ok "h2: address deleted: logged" wait_until 10 log_has 2 "underlay: address $ip2 was removed from eth0"
host_exec 2 ip addr add "$ip2/24" dev eth0
host_exec 2 ip route replace default via $UNDERLAY_PREFIX.1
tap_ok "h2: address back: logged as unchanged" wait_until 10 log_has 2 "underlay: eth0 is back as it was"
t=$(time_until "$BOUND_S" pairs_ok)
echo "# address deleted and added back: pods reach each other again after $t ms"
tap_ok "h2: address delete/re-add: all pod pairs work again within ${BOUND_S}s ($t ms)" test "$t" != timeout
tap_lacks "h2: weftd redid nothing for it" 'underlay: (selected|backend|updating)' 'underlay: following' \
	cat "$RUN_DIR/h2.log"
all_pairs_ping "after link down/up and address re-add"

# ---- 4. another interface, another name, matching --iface-regex ----
weftd_host_stop 3
tap_eq "h3: weftd exits 0 on SIGTERM (to restart it with --iface-regex)" 0 "$?"
: >"$RUN_DIR/h3.log"
weftd_host_start 3 --iface-regex '^10\.200\.0\.'
tap_ok "h3: holds its lease again with --iface-regex" host_held 3
tap_ok "h3: follows eth0" wait_until 5 log_has 3 "underlay: following eth0"
new3=$UNDERLAY_PREFIX.63
host_exec 3 ip link del eth0
tap_ok "h3: waiting is logged" wait_until 10 log_has 3 "underlay: waiting for the external interface"
h=$(host_ns 3)
ip -n "$UL" link add h3 type veth peer name ens4 netns "$h"
ip -n "$UL" link set h3 master br0 up
ip -n "$h" addr add "$new3/24" dev ens4
ip -n "$h" link set ens4 up
ip -n "$h" route add default via $UNDERLAY_PREFIX.1
t=$(time_until "$BOUND_S" eval "etcd_get '$(lease_key 3)' | grep -q '\"PublicIP\":\"$new3\"'")
tap_ok "ens4 instead of eth0: h3's lease says PublicIP $new3 ($t ms)" test "$t" != timeout
tap_ok "h3: logged: ens4 selected by the regex, and what changed" log_has 3 \
	"underlay: selected ens4 again \(--iface-regex .*ens4.*\): interface eth0 -> ens4, index [0-9]+ -> [0-9]+, address $ip3 -> $new3, public address $ip3 -> $new3"
t=$(time_until "$BOUND_S" pairs_ok)
echo "# ens4 instead of eth0: pods reach each other again $t ms after ens4 is up"
tap_ok "ens4 instead of eth0: all pod pairs work again within ${BOUND_S}s ($t ms)" test "$t" != timeout
if [ "$BE" = vxlan ]; then
	tap_ok "h3: flannel.1 is vxlan local $new3 dev ens4" eval \
		"host_exec 3 ip -d link show flannel.1 | grep -q 'vxlan id 1 local $new3 dev ens4 '"
else
	tap_ok "h3: route to h1's subnet via $new1 dev ens4" eval \
		"host_exec 3 ip route show $(subnet_net 1) | grep -q 'via $new1 dev ens4 proto 151'"
fi
all_pairs_ping "after ens4 replaced eth0"

for n in 1 2 3; do
	weftd_host_stop "$n"
	tap_eq "h$n: weftd exits 0 on SIGTERM" 0 "$?"
done
tap_done
