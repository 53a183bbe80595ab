#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# docs/uninstall.md, run: 2 vxlan hosts with --ip-masq (overlay filter on, as by
# default), a pod on each, first in iptables mode, then in nftables mode:
#  (a) upgrade: weftd on h2 stopped (SIGTERM) and a copy of the binary started
#      while pod 1.1 pings pod 2.1 every 10 ms: no packet lost; what weftd left
#      in the kernel while it was down (device, route, nexthop, neighbour, FDB
#      entry, rules, overlay filter, subnet file, lease) is checked;
#  (b) uninstall: the pod drained (CNI DEL), weftd stopped, then
#      contrib/uninstall-weft.sh overlay-filter kernel rules cni files, exactly
#      as the guide says: no flannel device, no cni0, no route or nexthop of
#      protocol 151, no FLANNEL-*/WEFT-OVERLAY chain, no flannel-ipv4 table, no
#      subnet file or CNI state remain; the lease stays in etcd;
#  (c) rollback: weftd started again (standing in for flanneld, which Debian
#      does not ship) takes the same lease, by its public address, and a new
#      pod on h2 reaches pod 1.1 and back;
#  in iptables mode also the guide's in-place hand-over: weftd stopped, the
#  overlay filter removed, each peer's route replaced the way flanneld writes
#  it (no nexthop object), the nexthops flushed, while pods ping: no loss;
#  at the end h2 leaves for good (the etcd step): its lease and owner record
#  are gone from etcd and h1 drops its route to h2; then on host-gw the
#  kernel step removes the peer routes through nexthops on eth0.
# The guide's step list and the script's must be the same (no drift).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

HOSTS=2 PODS=1
ARGS=(--iface eth0 --ip-masq --ip-blackhole-route)
UNINSTALL=contrib/uninstall-weft.sh
# Every path the script would remove is the test's own, never the machine's.
H2_ENV=(FLANNELD_SUBNET_FILE="$RUN_DIR/h2.env" FLANNELD_ETCD_PREFIX="$P"
	WEFT_CNI_DATA_DIR="$RUN_DIR/h2-flannel" WEFT_CNI_IPAM_DIR="$RUN_DIR/h2-ipam/cbr0"
	WIREGUARD_KEY_FILE="$RUN_DIR/h2-wgkey" WEFT_IPSEC_RUN_DIR="$RUN_DIR/h2-ipsec")
uninstall_h2() { # STEP...: the guide's command on h2, its output in uninstall.log
	echo "## uninstall-weft.sh $*" >>"$RUN_DIR/uninstall.log"
	host_exec 2 env "${H2_ENV[@]}" FLANNELD_ETCD_ENDPOINTS="$ETCD_ENDPOINT" \
		"$UNINSTALL" "$@" >>"$RUN_DIR/uninstall.log" 2>&1
}
helds() { cat "$RUN_DIR/h$1.log" 2>/dev/null | grep -c "held; wrote"; }
start_h() { # N [weftd directory]: start weftd, wait for one more "held"
	local n=$1 before
	before=$(helds "$n")
	WEFT_BUILD=${2:-$WEFT_BUILD} weftd_host_start "$n" "${ARGS[@]}"
	wait_until 20 eval "[ \$(helds $n) -gt $before ]"
}
ping_both() { # LABEL: pod 1.1 <-> pod 2.1, each way (3 tries: ARP on the bridge)
	tap_ok "$1: pod 1.1 reaches pod 2.1" eval "pod_ping 1 1 ${POD_IP[2.1]} || pod_ping 1 1 ${POD_IP[2.1]} || pod_ping 1 1 ${POD_IP[2.1]}"
	tap_ok "$1: pod 2.1 reaches pod 1.1" eval "pod_ping 2 1 ${POD_IP[1.1]} || pod_ping 2 1 ${POD_IP[1.1]} || pod_ping 2 1 ${POD_IP[1.1]}"
}
# A continuous ping pod 1.1 -> pod 2.1 every 10 ms (COUNT packets) while CMD
# runs (in this shell: it may start processes and print TAP lines); sets
# SENT, RECV and GAP (the longest run without answers, ms).
ping_across() { # LABEL COUNT cmd...
	local label=$1 count=$2 pid out
	shift 2
	pod_exec 1 1 ping -i 0.01 -c "$count" -W 1 "${POD_IP[2.1]}" >"$RUN_DIR/ping-$label.out" 2>&1 &
	pid=$!
	wait_until 5 grep -q "bytes from" "$RUN_DIR/ping-$label.out"
	"$@"
	wait "$pid"
	out=$(grep -o '[0-9]* packets transmitted, [0-9]* received' "$RUN_DIR/ping-$label.out")
	read -r SENT RECV <<<"$(awk '{print $1, $4}' <<<"$out")"
	GAP=$(ping_outage_ms "$RUN_DIR/ping-$label.out" 10 $((count - 1)))
}

# What weftd leaves on h2 when it stops (docs/uninstall.md, "What weft leaves").
left_in_place() { # MODE
	local sub1
	sub1=$(subnet_net 1)
	tap_ok "$1: stopped: flannel.1 stays" host_exec 2 ip link show flannel.1
	tap_ok "$1: stopped: route to h1 (protocol 151, nexthop) stays" eval \
		"host_exec 2 ip route show $sub1 | grep -q 'nhid .* dev flannel.1 proto 151 onlink'"
	tap_ok "$1: stopped: nexthop object stays" eval "host_exec 2 ip nexthop show proto 151 | grep -q flannel.1"
	tap_ok "$1: stopped: neighbour and FDB entry stay" eval \
		"host_exec 2 ip neigh show dev flannel.1 nud permanent | grep -q . && host_exec 2 bridge fdb show dev flannel.1 | grep -q ' dst $(host_ip 1) self permanent'"
	if [ "$1" = iptables ]; then
		tap_ok "$1: stopped: FLANNEL-POSTRTG, FLANNEL-FWD, WEFT-OVERLAY stay" eval \
			"host_exec 2 iptables -t nat -S FLANNEL-POSTRTG >/dev/null && host_exec 2 iptables -S FLANNEL-FWD >/dev/null && host_exec 2 iptables -S INPUT | grep -q -- '-j WEFT-OVERLAY'"
	else
		tap_ok "$1: stopped: table flannel-ipv4 with postrtg, forward, overlay-input stays" eval \
			"host_exec 2 nft list table ip flannel-ipv4 | grep -c 'chain \(postrtg\|forward\|overlay-input\) ' | grep -qx 3"
	fi
	tap_eq "$1: stopped: blackhole route stays" "blackhole $(subnet_net 2) proto 151 metric 1000 " \
		"$(host_exec 2 ip route show type blackhole)"
	tap_ok "$1: stopped: subnet file stays" test -s "$RUN_DIR/h2.env"
	tap_ok "$1: stopped: lease and owner record stay in etcd" eval \
		"[ -n \"\$(etcd_get $(lease_key 2))\" ] && [ -n \"\$(etcd_get $P/weft/owners/$(lease_key 2 | sed 's|.*/||'))\" ]"
}

upgrade() { # MODE: (a)
	local m=$1 sub
	sub=$(subnet_net 2)
	mkdir -p "$RUN_DIR/new"
	cp "$WEFT_BUILD/weftd" "$RUN_DIR/new/weftd" # the "new version"
	ping_across "upgrade-$m" 600 upgrade_h2 "$m"
	echo "# $m: upgrade of weftd on h2 during a 10 ms ping: $SENT sent, $RECV received, $((SENT - RECV)) lost, longest gap $GAP ms"
	tap_eq "$m: upgrade: no packet lost ($RECV of $SENT answered)" "$SENT" "$RECV"
	tap_eq "$m: upgrade: same subnet" "$sub" "$(subnet_net 2)"
}
upgrade_h2() {
	weftd_host_stop 2
	tap_eq "$1: upgrade: SIGTERM, exit 0" 0 "$?"
	left_in_place "$1"
	start_h 2 "$RUN_DIR/new"
	tap_ok "$1: upgrade: the new weftd holds the lease" test "$?" = 0
}

# (b) Nothing of the guide's list remains on h2.
uninstall() { # MODE
	local m=$1 key out
	key=$(lease_key 2)
	pod_del_cni 2 1 && ip netns del "$(pod_ns 2 1)" # drain the node
	weftd_host_stop 2
	tap_eq "$m: uninstall: weftd exits 0" 0 "$?"
	uninstall_h2 overlay-filter kernel rules cni files
	tap_eq "$m: uninstall: uninstall-weft.sh exits 0" 0 "$?"
	tap_lacks "$m: uninstall: no flannel device, no cni0" ': (flannel|cni0)' ': lo:' host_exec 2 ip -o link show
	tap_eq "$m: uninstall: no route of protocol 151 (IPv4, IPv6), no nexthop object" "0 0 0" \
		"$(lines_of host_exec 2 ip -4 route show table all proto 151) $(lines_of host_exec 2 ip -6 route show table all proto 151) $(lines_of host_exec 2 ip nexthop show proto 151)"
	tap_lacks "$m: uninstall: iptables-save has no FLANNEL-*, WEFT-OVERLAY" 'FLANNEL|WEFT' '.' \
		eval "host_exec 2 iptables-save; host_exec 2 ip6tables-save; echo end"
	out=$(host_exec 2 nft list ruleset) || out="nft failed"
	tap_eq "$m: uninstall: nft list ruleset: nothing of flannel's or weft's" "" \
		"$(grep -iE 'flannel|weft|overlay|nft failed' <<<"$out")"
	tap_no_file "$m: uninstall: no subnet file, no CNI state" "$RUN_DIR/h2.env" \
		"$RUN_DIR/h2-flannel" "$RUN_DIR/h2-ipam/cbr0"
	tap_ok "$m: uninstall: the lease stays in etcd for the rollback" test -n "$(etcd_get "$key")"
	tap_ok "$m: uninstall: running it again finds nothing to do" eval \
		"uninstall_h2 overlay-filter kernel rules cni files && [ \"\$(tail -1 $RUN_DIR/uninstall.log)\" = '## uninstall-weft.sh overlay-filter kernel rules cni files' ]"
}

# (c) The node goes back (weftd standing in for flanneld): same lease, pods ping.
rollback() { # MODE
	local m=$1 key=$H2_KEY
	start_h 2
	tap_ok "$m: rollback: weftd on h2 holds a lease again" test "$?" = 0
	tap_eq "$m: rollback: the same lease, found by public address" "$key" "$(lease_key 2)"
	tap_ok "$m: rollback: the log says how it was found" grep -q \
		"acquired lease ${key##*/} (reused, matched by public address)" "$RUN_DIR/h2.log"
	pod_add_cni 2 1 >/dev/null
	ping_both "$m: rollback"
}

# The in-place hand-over to flanneld, as docs/uninstall.md gives it, with
# flanneld's per-peer route written by hand (no flanneld binary here).
handover() {
	ping_across handover 400 handover_h2
	echo "# hand-over in place during a 10 ms ping: $SENT sent, $RECV received, $((SENT - RECV)) lost, longest gap $GAP ms"
	tap_eq "hand-over: no packet lost ($RECV of $SENT answered)" "$SENT" "$RECV"
	start_h 2
}
handover_h2() {
	local sub1
	sub1=$(subnet_net 1)
	weftd_host_stop 2
	uninstall_h2 overlay-filter
	tap_eq "hand-over: overlay-filter step exits 0" 0 "$?"
	tap_lacks "hand-over: WEFT-OVERLAY gone, flanneld's chains stay" 'WEFT' 'FLANNEL-FWD' \
		host_exec 2 iptables-save
	# flanneld: ip route replace <subnet> via <subnet address> dev flannel.1 onlink
	host_exec 2 ip route replace "$sub1" via "${sub1%/*}" dev flannel.1 onlink
	tap_eq "hand-over: flanneld's route replaced weft's" "$sub1 via ${sub1%/*} dev flannel.1 onlink " \
		"$(host_exec 2 ip route show "$sub1")"
	tap_eq "hand-over: no route uses a nexthop (the guide's check)" "" \
		"$(host_exec 2 ip route show proto 151 | grep nhid)"
	host_exec 2 ip nexthop flush proto 151 >>"$RUN_DIR/uninstall.log"
	tap_eq "hand-over: the unused nexthops flushed, the route stays" "0 1" \
		"$(lines_of host_exec 2 ip nexthop show proto 151) $(lines_of host_exec 2 ip route show "$sub1")"
}

cluster_init || { tap_ok "cluster up" false; tap_done; exit 1; }
for n in 1 2; do host_add "$n"; done

# The guide names the steps the script has, and no others.
tap_eq "docs/uninstall.md lists the script's steps" \
	"$(sed -n 's/^STEPS="\(.*\)"$/\1/p' "$UNINSTALL" | tr ' ' '\n' | sort)" \
	"$(sed -n 's/^| `\([a-z-]*\)` | .*/\1/p' docs/uninstall.md | sort -u)"

net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}'
for n in 1 2; do start_h "$n" || { tap_ok "h$n holds a lease" false; tap_done; exit 1; }; done
H2_KEY=$(lease_key 2) # h2's lease, to be found again after each uninstall
H2_NET=$(subnet_net 2)
pod_add 1 1 >/dev/null
pod_add_cni 2 1 >/dev/null
ping_both "iptables: cluster up"
upgrade iptables
handover
ping_both "iptables: after the hand-over"
uninstall iptables
rollback iptables

# nftables mode: both hosts restarted on the changed config.
net_config '{"Network":"10.244.0.0/16","EnableNFTables":true,"Backend":{"Type":"vxlan"}}'
for n in 1 2; do
	weftd_host_stop "$n"
	start_h "$n"
done
tap_ok "nftables: h2 has the table flannel-ipv4" host_exec 2 nft list table ip flannel-ipv4
ping_both "nftables: after the switch"
upgrade nftables
uninstall nftables
rollback nftables

# h2 leaves for good: the etcd step too (before files: it reads the subnet file).
key=$(lease_key 2)
pod_del_cni 2 1 && ip netns del "$(pod_ns 2 1)"
weftd_host_stop 2
uninstall_h2 overlay-filter kernel rules cni etcd files
tap_eq "leave: uninstall-weft.sh with etcd exits 0" 0 "$?"
tap_eq "leave: lease and owner record gone from etcd" "" \
	"$(etcdctl3 get --prefix --keys-only "$P" | grep -F "${key##*/}")"
t=$(time_until 5 eval "[ \"\$(lines_of host_exec 1 ip route show $H2_NET)\" = 0 ]")
tap_ok "leave: h1 drops its route to h2's subnet within 5 s (gone $t ms after the script ended)" \
	test "$t" != timeout

# host-gw: the peer route goes through a nexthop on eth0, which no device
# deletion takes along: the kernel step's nexthop flush (before the route
# flush, which fails on such a route) has to.
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}'
weftd_host_stop 1
for n in 1 2; do start_h "$n" || tap_not_ok "host-gw: h$n holds a lease"; done
tap_ok "host-gw: h2 routes h1's subnet through a nexthop on eth0" eval \
	"host_exec 2 ip route show $(subnet_net 1) | grep -q 'nhid .* via $(host_ip 1) dev eth0 proto 151'"
weftd_host_stop 2
uninstall_h2 kernel rules files
tap_eq "host-gw: uninstall-weft.sh kernel rules files exits 0" 0 "$?"
tap_eq "host-gw: no route of protocol 151, no nexthop object left" "0 0" \
	"$(lines_of host_exec 2 ip -4 route show table all proto 151) $(lines_of host_exec 2 ip nexthop show proto 151)"
weftd_host_stop 1
tap_eq "the last node gone: etcdctl del <prefix>/config removes the config" 1 "$(etcdctl3 del "$P/config")"
sed 's/^/# /' "$RUN_DIR/uninstall.log"
tap_done
