# SPDX-License-Identifier: Apache-2.0
# Node rules on an IPv6 underlay (UNDERLAY=dual or v6, set by
# test_node_rules_dual.sh / test_node_rules_v6.sh): 2 hosts (host-gw, so that
# the rules are what is tested, not an encapsulation) and an "outside" host on
# the underlay whose echo server answers with the source address it sees:
#  - with --ip-masq, ip6tables -t nat -S / ip6tables -S equal upstream's IPv6
#    rule sets (and iptables' the IPv4 ones with IPv4); a pod reaches the
#    outside over IPv6 from its host's IPv6 address, pod-to-pod traffic keeps
#    pod addresses;
#  - a flushed IPv6 chain is restored within the resync period;
#  - without --ip-masq the outside sees the pod's IPv6 address and the IPv6
#    nat chain is gone;
#  - nftables mode: table ip6 flannel-ipv6 is the golden table, masquerades,
#    and is restored when deleted;
#  - SIGTERM exits 0.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/family_lib.sh

HOSTS=2 PODS=1
OUT=$NS-out
OUT_IP=$UNDERLAY_PREFIX.100
OUT_IP6=$UNDERLAY_PREFIX6:100
NET6=$IPV6_NETWORK
ARGS=(--iface eth0 --iptables-resync 1)

cluster_init || exit 1
for n in 1 2; do host_add "$n"; done

# The outside host and its echo server (one IPv6 socket for both families;
# prints the peer address, IPv4 without its ::ffff: prefix, then closes).
ip netns add "$OUT"
ip -n "$UL" link add out type veth peer name eth0 netns "$OUT"
ip -n "$UL" link set out master br0 up
ul_v4 && ip -n "$OUT" addr add "$OUT_IP/24" dev eth0
ip -n "$OUT" addr add "$OUT_IP6/64" dev eth0 nodad
ip -n "$OUT" link set eth0 up
ip -n "$OUT" link set lo up
ECHO_PY='import socket
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 7000)); s.listen(16)
while True:
    c, a = s.accept(); c.sendall((a[0].removeprefix("::ffff:") + "\n").encode()); c.close()'
run_bg echo ip netns exec "$OUT" python3 -c "$ECHO_PY"
wait_until 10 eval "ip netns exec $OUT ss -Hltn 'sport = :7000' | grep -q ."
# Source address seen by a server at DST:7000 when pod K of host N connects.
seen_from() { # N K DST
	pod_exec "$1" "$2" timeout 5 bash -c "exec 3<>/dev/tcp/$3/7000 && head -1 <&3" 2>/dev/null
}

nat6_is_golden() { [ "$(host_exec 1 ip6tables -t nat -S)" = "$(golden_nat "$NET6" "$(subnet6_net 1)" ff00::/8)" ]; }

net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}'
for n in 1 2; do weftd_host_start "$n" "${ARGS[@]}" --ip-masq; done
host_held 1 && host_held 2
for n in 1 2; do pod_add "$n" 1 >/dev/null; done
pod6=$(subnet6_net 1)

# iptables mode, --ip-masq.
tap_eq "h1: ip6tables -t nat -S is upstream's IPv6 rule set" "$(golden_nat "$NET6" "$pod6" ff00::/8)" \
	"$(host_exec 1 ip6tables -t nat -S)"
tap_eq "h1: ip6tables -S is upstream's IPv6 rule set" "$(golden_filter "$NET6")" "$(host_exec 1 ip6tables -S)"
if ul_v4; then
	tap_eq "h1: iptables -t nat -S is the IPv4 golden rule set" \
		"$(golden_nat 10.244.0.0/16 "$(subnet_net 1)")" "$(host_exec 1 iptables -t nat -S)"
	tap_eq "h1: iptables -S is the IPv4 golden rule set" "$(golden_filter 10.244.0.0/16)" \
		"$(host_exec 1 iptables -S)"
	tap_eq "masquerade: over IPv4 the outside sees h1's IPv4 address" "$(host_ip 1)" \
		"$(seen_from 1 1 "$OUT_IP")"
else
	tap_lacks "h1: no IPv4 nat rules of ours without IPv4" FLANNEL '^-P POSTROUTING ' host_exec 1 iptables -t nat -S
fi
tap_eq "masquerade: over IPv6 the outside sees h1's IPv6 address" "$(host_ip6 1)" \
	"$(seen_from 1 1 "$OUT_IP6")"
run_bg podecho ip netns exec "$(pod_ns 2 1)" python3 -c "$ECHO_PY"
wait_until 10 eval "ip netns exec $(pod_ns 2 1) ss -Hltn 'sport = :7000' | grep -q ."
tap_eq "pod to pod over IPv6: no NAT (pod 2.1 sees pod 1.1's address)" "${POD_IP6[1.1]}" \
	"$(seen_from 1 1 "${POD_IP6[2.1]}")"

# Tampering: the IPv6 chain flushed, then its POSTROUTING jump deleted.
host_exec 1 ip6tables -t nat -F FLANNEL-POSTRTG
t=$(time_until 5 nat6_is_golden)
tap_ok "flushed IPv6 FLANNEL-POSTRTG restored within the resync period ($t ms)" test "$t" != timeout
host_exec 1 ip6tables -t nat -D POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
t=$(time_until 5 nat6_is_golden)
tap_ok "deleted IPv6 POSTROUTING jump restored ($t ms)" test "$t" != timeout

weftd_host_stop 1
tap_eq "SIGTERM: exit 0" 0 "$?"
tap_eq "SIGTERM: IPv6 rules still in place" "$(golden_nat "$NET6" "$pod6" ff00::/8)" "$(host_exec 1 ip6tables -t nat -S)"

# Without --ip-masq the outside sees the pod's IPv6 address (it routes the
# IPv6 network to h1 for the replies), and our IPv6 nat chain is gone.
ip -n "$OUT" -6 route add "$NET6" via "$(host_ip6 1)"
weftd_host_start 1 "${ARGS[@]}"
wait_until 20 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h1.log") -ge 2 ]'
tap_eq "no --ip-masq: the outside sees the pod's IPv6 address" "${POD_IP6[1.1]}" "$(seen_from 1 1 "$OUT_IP6")"
tap_lacks "no --ip-masq: IPv6 FLANNEL-POSTRTG removed" FLANNEL '^-P POSTROUTING ' host_exec 1 ip6tables -t nat -S
tap_eq "no --ip-masq: IPv6 forward rules kept" "$(golden_filter "$NET6")" "$(host_exec 1 ip6tables -S)"
weftd_host_stop 1

# nftables mode: the golden IPv6 table, masquerading, restored when deleted.
net_config '{"Network":"10.244.0.0/16","EnableNFTables":true,"Backend":{"Type":"host-gw"}}'
weftd_host_start 1 "${ARGS[@]}" --ip-masq
wait_until 20 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h1.log") -ge 3 ]'
tap_eq "nftables: nft list table ip6 flannel-ipv6 is the golden table" "$(golden_nft ip6 "$NET6" "$pod6")" \
	"$(host_exec 1 nft list table ip6 flannel-ipv6)"
tap_lacks "nftables: ip6tables chains of iptables mode removed" FLANNEL '^:FORWARD ' \
	host_exec 1 ip6tables-save
tap_eq "nftables: over IPv6 the outside sees h1's IPv6 address" "$(host_ip6 1)" \
	"$(seen_from 1 1 "$OUT_IP6")"
host_exec 1 nft delete table ip6 flannel-ipv6
t=$(time_until 5 eval "[ \"\$(host_exec 1 nft list table ip6 flannel-ipv6 2>/dev/null)\" = \"\$(golden_nft ip6 $NET6 $pod6)\" ]")
tap_ok "nftables: deleted IPv6 table restored within the resync period ($t ms)" test "$t" != timeout
tap_ok "nftables: a log line names it" grep -q "restored: .*flannel-ipv6" "$RUN_DIR/h1.log"
if ! ul_v4; then
	tap_lacks "nftables: no IPv4 table without IPv4" 'table ip flannel-ipv4' 'table ip6 flannel-ipv6' \
		host_exec 1 nft list tables
fi
weftd_host_stop 1
tap_eq "nftables: SIGTERM exit 0" 0 "$?"
weftd_host_stop 2
tap_done
