#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# udp behind a NAT that rewrites source ports. The underlay bridge rewrites
# the source port of h2's datagrams to h1 (8285 -> 40000), as a port-rewriting
# NAT does to a node's outgoing traffic (h1 still sends to h2:8285, which such
# a NAT forwards). flannel accepts these (it checks no sender at all); weft by
# default matches a peer by its address only, so traffic flows; with Backend
# option "MatchPeerPort": true the port must match too, and h1 drops h2's
# datagrams as unknown_sender. A MatchPeerPort that is not a boolean is refused.
#
#   $NS-ul  br0 (nftables, bridge family: h2 -> h1 udp sport 8285 -> 40000)
#     |-- $NS-h1 10.200.0.11  weftd (udp), pod 1.1
#     `-- $NS-h2 10.200.0.12  weftd (udp), pod 2.1
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
HOSTS=2 PODS=1
. tests/netns/cases.sh

# SIGUSR1 makes weftd log its counters (as in test_udp.sh).
counter() { # N NAME
	local log=$RUN_DIR/h$1.log before
	before=$(grep -c 'udp: path' "$log")
	kill -USR1 "$(bg_pid "h$1")"
	wait_until 5 eval "[ \$(grep -c 'udp: path' '$log') -gt $before ]"
	grep 'udp: path' "$log" | tail -1 | grep -o " $2=[0-9]*" | cut -d= -f2
}

nat_on() {
	ip netns exec "$UL" nft -f - <<EOF
table bridge weft_test_nat {
	chain forward {
		type filter hook forward priority 0; policy accept;
		ip saddr $(host_ip 2) ip daddr $(host_ip 1) udp sport 8285 counter udp sport set 40000
	}
}
EOF
}
nat_off() { ip netns exec "$UL" nft delete table bridge weft_test_nat; }
nat_count() { # packets rewritten so far
	ip netns exec "$UL" nft list table bridge weft_test_nat | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}

# Ping pod 2.1 -> pod 1.1 (the request crosses the NAT): ping's exit status.
ping_21_11() { pod_exec 2 1 ping -c "${1:-3}" -i 0.2 -W 1 -q "${POD_IP[1.1]}" >"$RUN_DIR/ping.out" 2>&1; }

restart_all() {
	local n
	for n in 1 2; do
		weftd_host_stop "$n"
		mv "$RUN_DIR/h$n.log" "$RUN_DIR/h$n.log.$1"
		weftd_host_start "$n" --iface eth0
	done
	for n in 1 2; do
		tap_ok "$1: h$n holds its lease" host_held "$n"
	done
}

cluster_up '{"Type":"udp"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
tap_ok "default: h1 matches peers by address" \
	grep -q "socket $(host_ip 1):8285, peers matched by address$" "$RUN_DIR/h1.log"
tap_ok "no NAT: pod 2.1 reaches pod 1.1" wait_until 5 pod_ping 2 1 "${POD_IP[1.1]}"

nat_on
tap_eq "the NAT rule is in place" 0 "$(nat_count)"
unknown=$(counter 1 drop_unknown_sender)
ping_21_11 5
tap_eq "default, behind the NAT: pod 2.1 pings pod 1.1 (ping exits 0)" 0 "$?"
tap_ok "... and the NAT rewrote h2's source port ($(nat_count) datagrams)" test "$(nat_count)" -ge 5
tap_eq "... and h1 dropped none of them as unknown_sender" "$unknown" "$(counter 1 drop_unknown_sender)"
nat_off

# The whole cluster's config says MatchPeerPort; Backend options are read at start.
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"udp","MatchPeerPort":true}}'
restart_all matchport
tap_ok "matchport: h1 matches peers by address and port" \
	grep -q "socket $(host_ip 1):8285, peers matched by address and port$" "$RUN_DIR/h1.log"
tap_ok "matchport, no NAT: pod 2.1 reaches pod 1.1" wait_until 5 pod_ping 2 1 "${POD_IP[1.1]}"
nat_on
unknown=$(counter 1 drop_unknown_sender)
ping_21_11 3
tap_eq "matchport, behind the NAT: ping pod 2.1 -> pod 1.1 fails (exit 1)" 1 "$?"
tap_ok "... with 100% packet loss" grep -q " 0 received, 100% packet loss" "$RUN_DIR/ping.out"
tap_ok "... as h1 drops h2's rewritten datagrams as unknown_sender" \
	wait_until 3 eval "[ \$(counter 1 drop_unknown_sender) -ge $((unknown + 3)) ]"
nat_off
tap_ok "matchport, NAT removed: pod 2.1 reaches pod 1.1 again" wait_until 5 pod_ping 2 1 "${POD_IP[1.1]}"

# Not a boolean: weftd refuses the config, naming the option.
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"udp","MatchPeerPort":"yes"}}'
weftd_host_stop 1
mv "$RUN_DIR/h1.log" "$RUN_DIR/h1.log.matchport"
weftd_host_start 1 --iface eth0
wait_bg h1 20
rc=$?
tap_eq "MatchPeerPort \"yes\": weftd exits 1" 1 "$rc"
tap_ok "... saying Backend.MatchPeerPort must be true or false" \
	grep -q "Backend.MatchPeerPort must be true or false" "$RUN_DIR/h1.log"

weftd_host_stop 2
tap_eq "h2: weftd exits 0 on SIGTERM" 0 "$?"
tap_done
