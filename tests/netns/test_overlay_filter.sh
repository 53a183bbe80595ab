#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Only peers may send us overlay traffic (--overlay-peers-only, on by default),
# in iptables mode and nftables mode, on a 2-host vxlan cluster with a rogue
# host on the underlay that crafts VXLAN datagrams for h1's pod
# (tests/netns/vxlan_inject.py; a UDP listener in the pod records what
# arrives):
#  - all pod pairs ping; h1's peer set is h2's public address; h2's crafted
#    datagram reaches the pod (the packet is good), the rogue's is dropped
#    and counted; h1's own datagram to itself (lo) and plain UDP to port 8472
#    forwarded through h1 to the pod are untouched;
#  - a lease written into etcd by hand in flannel's format (an upstream node)
#    makes the rogue a peer; deleting it takes that away again;
#  - a deleted peer (set element / RETURN rule) and the deleted rule itself
#    come back within the resync period;
#  - --overlay-peers-only=false removes the rules at start and the rogue's
#    datagram arrives (flanneld's behaviour);
# and, on the rules alone (tests/netns/traffic_test in a namespace pair):
#  - IPv4 and IPv6: a peer's UDP to port 8472 arrives, a non-peer's does not,
#    and a peer change (traffic_peers) moves that line; ipip (IP protocol 4)
#    the same;
#  - the time of a 1000-peer update and of a 1-peer removal, both modes.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
HOSTS=2 PODS=1
. tests/netns/cases.sh

ROGUE=$NS-rogue
ROGUE_IP=$UNDERLAY_PREFIX.100
ARGS=(--iface eth0 --iptables-resync 1)
INJECT=tests/netns/vxlan_inject.py
# A UDP listener on ports 9999 and 8472: "PORT:DATA" a line, per datagram.
LISTEN_PY='import select, socket, sys
socks = []
for p in (9999, 8472):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", p)); socks.append((s, p))
out = open(sys.argv[1], "a", buffering=1)
while True:
    for s, p in socks:
        r, _, _ = select.select([x for x, _ in socks], [], [])
        for x, q in socks:
            if x in r:
                out.write("%d:%s\n" % (q, x.recv(2048).decode(errors="replace")))'

cluster_init || exit 1
for n in 1 2; do host_add "$n"; done
ip netns add "$ROGUE"
ip -n "$UL" link add rogue type veth peer name eth0 netns "$ROGUE"
ip -n "$UL" link set rogue master br0 up
ip -n "$ROGUE" addr add "$ROGUE_IP/24" dev eth0
ip -n "$ROGUE" link set eth0 up
ip -n "$ROGUE" link set lo up
ip -n "$ROGUE" route add 10.244.0.0/16 via "$(host_ip 1)"

RX=$RUN_DIR/pod-rx.txt
: >"$RX"
got() { grep -qx "$1" "$RX"; }
# VXLAN from namespace NS to h1:8472 for pod 1.1's port 9999, payload TAG;
# the inner source is an address of h2's subnet, as a pod of h2 would send.
inject() { # NS TAG
	local s2
	s2=$(subnet_addr 2)
	ip netns exec "$1" python3 "$INJECT" "$(host_ip 1)" 8472 1 "$(vtep_mac 1)" \
		"${s2%.*}.99" "${POD_IP[1.1]}" 9999 "$2"
}
# The rogue's TAG is dropped: h2's datagram sent after it arrives, it does not.
rogue_dropped() { # LABEL TAG
	inject "$ROGUE" "$2"
	inject "$(host_ns 2)" "$2-control"
	if wait_until 5 got "9999:$2-control"; then
		tap_lacks "$1" "9999:$2\$" '' cat "$RX"
	else
		tap_ok "$1 (h2's control datagram never arrived)" false
	fi
}
rogue_passes() { # LABEL TAG
	inject "$ROGUE" "$2"
	tap_ok "$1" wait_until 5 got "9999:$2"
}

# h1's overlay peers as "A B ", sorted, in the mode's own words.
peers_ipt() {
	host_exec 1 iptables -S WEFT-OVERLAY 2>/dev/null |
		sed -n 's|^-A WEFT-OVERLAY -s \([^/]*\)/32 -j RETURN$|\1|p' | sort | tr '\n' ' '
}
peers_nft() {
	host_exec 1 nft list set ip flannel-ipv4 overlay-peers 2>/dev/null | tr -d '\n\t' |
		sed -n 's/.*elements = { \([^}]*\) }.*/\1/p' | tr -d ' ' | tr ',' '\n' | sort | tr '\n' ' '
}
drops_ipt() { host_exec 1 iptables -L WEFT-OVERLAY -v -n -x | awk '$3 == "DROP" {print $1}'; }
drops_nft() {
	host_exec 1 nft list chain ip flannel-ipv4 overlay-input | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}

starts=0
start_h1() {
	starts=$((starts + 1))
	weftd_host_start 1 "${ARGS[@]}" "$@"
	wait_until 20 eval "[ \$(grep -c 'held; wrote' '$RUN_DIR/h1.log') -ge $starts ]"
}

round=0
for mode in ipt nft; do
	round=$((round + 1))
	if [ "$mode" = nft ]; then
		net_config '{"Network":"10.244.0.0/16","EnableNFTables":true,"Backend":{"Type":"vxlan"}}'
	else
		net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}'
	fi
	start_h1
	weftd_host_start 2 "${ARGS[@]}"
	wait_until 20 eval "[ \$(grep -c 'held; wrote' '$RUN_DIR/h2.log') -ge $round ]"
	if [ "$round" = 1 ]; then
		for n in 1 2; do pod_add "$n" 1 >/dev/null; done
		run_bg listen ip netns exec "$(pod_ns 1 1)" python3 -c "$LISTEN_PY" "$RX"
		wait_until 10 eval "ip netns exec $(pod_ns 1 1) ss -Hlun 'sport = :9999' | grep -q ."
	fi
	tap_ok "$mode: weftd says the overlay is filtered" \
		grep -q "traffic rules installed (.*overlay from peers only)" "$RUN_DIR/h1.log"
	all_pairs_ping "$mode"
	tap_eq "$mode: h1's overlay peers are h2's public address" "$(host_ip 2) " "$(peers_$mode)"
	if [ "$mode" = ipt ]; then
		tap_eq "ipt: INPUT jumps to WEFT-OVERLAY first, for vxlan's port only" \
			"-A INPUT ! -i lo -p udp -m udp --dport 8472 -m comment --comment \"weft overlay peers only\" -j WEFT-OVERLAY" \
			"$(host_exec 1 iptables -S INPUT | sed -n 2p)"
	else
		tap_ok "nft: the rule drops what is not from a peer" eval \
			"host_exec 1 nft list chain ip flannel-ipv4 overlay-input | grep -q 'iif != \"lo\" udp dport 8472 ip saddr != @overlay-peers counter packets [0-9]* bytes [0-9]* drop'"
		tap_lacks "nft: iptables mode's chain removed" WEFT-OVERLAY '^:INPUT ' host_exec 1 iptables-save
	fi

	inject "$(host_ns 2)" "$mode-peer"
	tap_ok "$mode: h2's crafted VXLAN reaches pod 1.1 (the datagram is good)" wait_until 5 got "9999:$mode-peer"
	before=$(drops_$mode)
	rogue_dropped "$mode: the rogue's VXLAN is dropped, the pod never sees it" "$mode-rogue1"
	tap_ok "$mode: the drop is counted ($before -> $(drops_$mode))" test "$(drops_$mode)" -gt "$before"
	ip netns exec "$(host_ns 1)" python3 "$INJECT" "$(host_ip 1)" 8472 1 "$(vtep_mac 1)" \
		"$(subnet_addr 1 | sed 's/\.0$/.98/')" "${POD_IP[1.1]}" 9999 "$mode-local"
	tap_ok "$mode: h1's own datagram to its overlay port (lo) is untouched" wait_until 5 got "9999:$mode-local"
	ip netns exec "$ROGUE" python3 -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[2].encode(), (sys.argv[1], 8472))' \
		"${POD_IP[1.1]}" "$mode-fwd"
	tap_ok "$mode: UDP to port 8472 of a pod, forwarded by h1, is untouched" wait_until 5 got "8472:$mode-fwd"

	# An upstream node's lease, written as flanneld writes it: a peer.
	key=$P/subnets/10.244.210.0-24
	etcd_put "$key" "{\"PublicIP\":\"$ROGUE_IP\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"02:00:00:00:02:10\"}}"
	both=$(printf '%s\n' "$(host_ip 2)" "$ROGUE_IP" | sort | tr '\n' ' ')
	t=$(time_until 10 eval "[ \"\$(peers_$mode)\" = '$both' ]")
	tap_ok "$mode: a lease in etcd (flannel's format) makes its node a peer ($t ms)" test "$t" != timeout
	rogue_passes "$mode: ... and its VXLAN now arrives" "$mode-rogue2"
	etcd_del "$key"
	t=$(time_until 10 eval "[ \"\$(peers_$mode)\" = '$(host_ip 2) ' ]")
	tap_ok "$mode: its lease deleted, it is no peer any more ($t ms)" test "$t" != timeout
	rogue_dropped "$mode: ... and its VXLAN is dropped again" "$mode-rogue3"
	tap_ok "$mode: the peer updates are logged with their time" \
		grep -q "overlay peers updated in [0-9]* ms: IPv4 peers: 0 added, 1 removed" "$RUN_DIR/h1.log"

	# Tampering: a peer deleted, then the rule; both come back.
	if [ "$mode" = ipt ]; then
		host_exec 1 iptables -D WEFT-OVERLAY -s "$(host_ip 2)/32" -j RETURN
	else
		host_exec 1 nft delete element ip flannel-ipv4 overlay-peers "{ $(host_ip 2) }"
	fi
	t=$(time_until 10 eval "[ \"\$(peers_$mode)\" = '$(host_ip 2) ' ]")
	tap_ok "$mode: a deleted peer comes back within the resync period ($t ms)" test "$t" != timeout
	if [ "$mode" = ipt ]; then
		host_exec 1 iptables -D INPUT ! -i lo -p udp -m udp --dport 8472 \
			-m comment --comment "weft overlay peers only" -j WEFT-OVERLAY
		t=$(time_until 10 eval "host_exec 1 iptables -S INPUT | grep -q WEFT-OVERLAY")
	else
		host_exec 1 nft flush chain ip flannel-ipv4 overlay-input
		t=$(time_until 10 eval "host_exec 1 nft list chain ip flannel-ipv4 overlay-input | grep -q drop")
	fi
	tap_ok "$mode: the deleted rule comes back within the resync period ($t ms)" test "$t" != timeout
	rogue_dropped "$mode: after tampering the rogue is dropped again" "$mode-rogue4"

	# The flag off: flanneld's behaviour, our rules removed at start.
	weftd_host_stop 1
	tap_eq "$mode: h1's weftd exits 0 on SIGTERM" 0 "$?"
	start_h1 --overlay-peers-only=false
	if [ "$mode" = ipt ]; then
		tap_lacks "ipt: --overlay-peers-only=false: WEFT-OVERLAY removed at start" WEFT-OVERLAY \
			'^:INPUT ' host_exec 1 iptables-save
	else
		tap_lacks "nft: --overlay-peers-only=false: overlay set and chain removed at start" overlay \
			'^table ip ' host_exec 1 nft list table ip flannel-ipv4
	fi
	rogue_passes "$mode: --overlay-peers-only=false: the rogue's VXLAN arrives (as with flanneld)" "$mode-rogue5"
	all_pairs_ping "$mode, filter off"
	for n in 1 2; do
		weftd_host_stop "$n"
		tap_eq "$mode: h$n's weftd exits 0 on SIGTERM" 0 "$?"
	done
done

# ---- the rules alone: IPv4 and IPv6 data, and the 1000-peer update ----
prog=$WEFT_BUILD/tests/netns/traffic_test
B1=$NS-b1 B2=$NS-b2
ip netns add "$B1"
ip netns add "$B2"
ip -n "$B1" link add eth0 type veth peer name eth0 netns "$B2"
for b in "$B1" "$B2"; do ip -n "$b" link set lo up; ip -n "$b" link set eth0 up; done
ip -n "$B1" addr add 10.77.0.1/24 dev eth0
ip -n "$B1" addr add fd00:77::1/64 dev eth0 nodad
for a in 2 3; do
	ip -n "$B2" addr add 10.77.0.$a/24 dev eth0
	ip -n "$B2" addr add fd00:77::$a/64 dev eth0 nodad
done
RX6=$RUN_DIR/b1-rx.txt
: >"$RX6"
run_bg b1listen ip netns exec "$B1" python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); s.bind(("::", 8472))
out = open(sys.argv[1], "a", buffering=1)
while True: out.write(s.recv(2048).decode(errors="replace") + "\n")' "$RX6"
wait_until 10 eval "ip netns exec $B1 ss -Hlun 'sport = :8472' | grep -q ."
send_from() { # SRC DST TAG
	ip netns exec "$B2" python3 -c 'import socket, sys
f = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(f, socket.SOCK_DGRAM); s.bind((sys.argv[1], 0))
s.sendto(sys.argv[3].encode(), (sys.argv[2], 8472))' "$@"
}
# SRC's TAG is dropped when PEER's, sent after it, arrives and it does not.
b_line() { # LABEL PEER NONPEER DST TAG
	send_from "$3" "$4" "$5-non"
	send_from "$2" "$4" "$5-peer"
	if wait_until 5 grep -qx "$5-peer" "$RX6"; then
		tap_lacks "$1" "$5-non\$" '' cat "$RX6"
	else
		tap_ok "$1 (the peer's datagram never arrived)" false
	fi
}
# IP protocol 4 (ipip): a raw socket in b1 sees what passed the input hook.
RXI=$RUN_DIR/b1-ipip.txt
: >"$RXI"
run_bg b1ipip ip netns exec "$B1" python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)
out = open(sys.argv[1], "a", buffering=1)
while True: out.write(s.recv(2048)[20:].decode(errors="replace") + "\n")' "$RXI"
wait_until 10 eval "ip netns exec $B1 ss -Hw | grep -q ."
ipip_from() { # SRC TAG
	ip netns exec "$B2" python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4); s.bind((sys.argv[1], 0))
s.sendto(sys.argv[2].encode(), ("10.77.0.1", 0))' "$@"
}
for mode in ipt nft; do
	out=$(ip netns exec "$B1" "$prog" --mode "$mode" --net 10.244.0.0/16 --subnet 10.244.1.0/24 \
		--overlay-ipip --peer 10.77.0.2 start 2>&1)
	tap_ok "$mode rules, ipip: apply with peer .2" grep -q "^apply rc=0" <<<"$out"
	ipip_from 10.77.0.3 "$mode-ipip-non"
	ipip_from 10.77.0.2 "$mode-ipip-peer"
	if wait_until 5 grep -qx "$mode-ipip-peer" "$RXI"; then
		tap_lacks "$mode rules, ipip: a peer's IP protocol 4 arrives, a non-peer's not" \
			"$mode-ipip-non\$" '' cat "$RXI"
	else
		tap_ok "$mode rules, ipip: a peer's IP protocol 4 arrives" false
	fi
done

BASE=(--net 10.244.0.0/16 --subnet 10.244.1.0/24 --net6 2001:cafe:42::/56
	--subnet6 2001:cafe:42:1::/64 --overlay-udp 8472)
for mode in ipt nft; do
	out=$(ip netns exec "$B1" "$prog" --mode "$mode" "${BASE[@]}" --peer 10.77.0.2 --peer fd00:77::2 start 2>&1)
	tap_ok "$mode rules: apply with peers .2" grep -q "^apply rc=0" <<<"$out"
	b_line "$mode rules: IPv4 from a peer arrives, from a non-peer not" 10.77.0.2 10.77.0.3 10.77.0.1 "$mode-v4a"
	b_line "$mode rules: IPv6 from a peer arrives, from a non-peer not" fd00:77::2 fd00:77::3 fd00:77::1 "$mode-v6a"
	out=$(ip netns exec "$B1" "$prog" --mode "$mode" "${BASE[@]}" --peer 10.77.0.3 --peer fd00:77::3 peers 2>&1)
	tap_ok "$mode rules: traffic_peers swaps the peers in place" \
		grep -q "IPv4 peers: 1 added, 1 removed; IPv6 peers: 1 added, 1 removed" <<<"$out"
	b_line "$mode rules: after the swap, IPv4 .3 arrives and .2 not" 10.77.0.3 10.77.0.2 10.77.0.1 "$mode-v4b"
	b_line "$mode rules: after the swap, IPv6 ::3 arrives and ::2 not" fd00:77::3 fd00:77::2 fd00:77::1 "$mode-v6b"
	out=$(ip netns exec "$B1" "$prog" --mode "$mode" "${BASE[@]}" --peer 10.77.0.3 --peer fd00:77::3 check 2>&1)
	tap_eq "$mode rules: a check finds all in order" "new rc=0 check rc=0" "$(echo $out)"

	# 1000 peers per family: added, one removed, the chain or set as it should be.
	out=$(ip netns exec "$B1" "$prog" --mode "$mode" "${BASE[@]}" peers:1000 peers:999 check 2>&1)
	add_ms=$(sed -n 's/^peers:1000 (\([0-9]*\) ms).*/\1/p' <<<"$out")
	del_ms=$(sed -n 's/^peers:999 (\([0-9]*\) ms).*/\1/p' <<<"$out")
	echo "# $mode: 1000 peers per family added in $add_ms ms, one removed in $del_ms ms"
	tap_ok "$mode rules: 1000 peers per family in one update ($add_ms ms)" \
		grep -q "^peers:1000 (.*IPv4 peers: 1000 added, 1 removed; IPv6 peers: 1000 added, 1 removed" <<<"$out"
	tap_ok "$mode rules: one peer removed of 1000 ($del_ms ms)" \
		grep -q "^peers:999 (.*IPv4 peers: 0 added, 1 removed; IPv6 peers: 0 added, 1 removed" <<<"$out"
	tap_ok "$mode rules: the check after them finds nothing to do" grep -qx "check rc=0" <<<"$out"
	tap_ok "$mode rules: updates stay below 10 s on a loaded machine" test "${add_ms:-99999}" -lt 10000 -a "${del_ms:-99999}" -lt 10000
	if [ "$mode" = ipt ]; then
		n=$(ip netns exec "$B1" iptables -S WEFT-OVERLAY | grep -c RETURN)
	else
		n=$(ip netns exec "$B1" nft list set ip flannel-ipv4 overlay-peers | grep -o '10\.128\.[0-9.]*' | wc -l)
	fi
	tap_eq "$mode rules: 999 IPv4 peers in place" 999 "$n"
done
tap_done
