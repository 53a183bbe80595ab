#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The MTU chain (issue 20, item 4) and vxlan's TX checksum offload (item 5),
# for each backend that runs here (vxlan, host-gw, udp, wireguard on the
# userspace engine, ipsec on strongSwan's userspace ESP engine, extension with
# commands that build a host-gw-like data path; ipip where the kernel has it):
#   - FLANNEL_MTU is the interface MTU less the backend's overhead, and pods
#     (veth at FLANNEL_MTU) send a DF ping of exactly that size to a pod on
#     another host; one byte more gets "message too long" back in the pod;
#   - TCP between pods across an underlay hop that carries less than the
#     hosts' MTU (a router namespace forwarding at most 1400 bytes: the
#     outer packets are fragmented there, or the sender learns the path MTU);
#   - TCP between pods when the receiving host's bridge has a lower MTU than
#     the pod's: the sender's pod must learn it by PMTU discovery through the
#     tunnel (ICMP "fragmentation needed" back through the overlay);
#   - ipsec (WEFT_IPSEC_ENGINE=userspace: charon's kernel-libipsec, ESP
#     always in UDP): 1500 - 77 - 8 = 1415 is more than kernel-libipsec's
#     TUN ipsec0 carries, so FLANNEL_MTU and ipsec0's MTU are 1400, and weftd
#     says so with both numbers;
#   - extension: FLANNEL_MTU is the interface's MTU (upstream); its data
#     path is whatever its commands build (here `ip route ... via` the peer,
#     on one L2, so no router hop);
#   - a Backend.MTU above the interface's MTU is refused with the numbers;
#   - vxlan on a dual-stack underlay: flannel.1 at MTU 1450, flannel-v6.1 at
#     1430 (IPv6 underlay: 70 bytes of overhead), FLANNEL_MTU 1430, no EINVAL
#     at any reconcile, DF pings of the pod MTU in both families;
#   - vxlan's Backend.DisableTxChecksumOffload: true leaves tx-checksumming
#     off on flannel.1 and flannel-v6.1, also on a device deleted and
#     re-created by the reconcile; false turns it back on on a device adopted
#     with it off.
#
#   $NS-ul 10.200.0.1 (etcd) --- br0 --- h1 10.200.0.11, h2 10.200.0.12
#                                 `--- $NS-r 10.200.0.254 --- h3 10.203.0.13
#   $NS-r forwards at most NARROW (1400) bytes either way (locked route MTU).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/wg_lib.sh
. tests/netns/ipsec_lib.sh

R=$NS-r
NARROW=1400
FAR_PREFIX=10.203.0
V6=fd00:200::
BACKEND=
declare -A POD_IP6=()

have_iperf=1
command -v iperf3 >/dev/null || have_iperf=0
have_ethtool=1
command -v ethtool >/dev/null || have_ethtool=0

# weftd on the current phase's etcd prefix; wireguard's in its own mount
# namespace (wg_lib.sh), ipsec's with its own charon (ipsec_lib.sh).
weftd_host_start() {
	local n=$1
	shift
	if [ "$BACKEND" = wireguard ]; then
		mkdir -p /var/run/wireguard # another test's cleanup may have removed it
		wg_weftd "$n" --etcd-endpoints "$ETCD_ENDPOINT" --etcd-prefix "$P" \
			--subnet-file "$RUN_DIR/h$n.env" --iface eth0 "$@"
	elif [ "$BACKEND" = ipsec ]; then
		ipsec_weftd "$n" --etcd-prefix "$P" --iface eth0 "$@"
	else
		run_bg "h$n" ip netns exec "$(host_ns "$n")" "$WEFT_BUILD/weftd" \
			--etcd-endpoints "$ETCD_ENDPOINT" --etcd-prefix "$P" \
			--subnet-file "$RUN_DIR/h$n.env" --iface eth0 "$@"
	fi
}

router_init() {
	ip netns add "$R" || return 1
	ip -n "$R" link set lo up
	ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$UL" link add ur type veth peer name ul netns "$R"
	ip -n "$UL" link set ur master br0 up
	ip -n "$R" addr add $UNDERLAY_PREFIX.254/24 dev ul
	ip -n "$R" link set ul up
	# The narrow hop: what R forwards towards the hosts on br0.
	ip -n "$R" route replace $UNDERLAY_PREFIX.0/24 dev ul src $UNDERLAY_PREFIX.254 mtu lock $NARROW
	ip -n "$UL" route add $FAR_PREFIX.0/24 via $UNDERLAY_PREFIX.254 # etcd's way back
}

# host N behind R, on $FAR_PREFIX.0/24; R forwards at most NARROW bytes to it.
host_add_far() {
	local n=$1 h
	h=$(host_ns "$n")
	ip netns add "$h" || return 1
	ip -n "$h" link set lo up
	ip -n "$R" link add "h$n" type veth peer name eth0 netns "$h"
	ip -n "$R" addr add $FAR_PREFIX.1/24 dev "h$n"
	ip -n "$R" link set "h$n" up
	ip -n "$R" route replace $FAR_PREFIX.0/24 dev "h$n" src $FAR_PREFIX.1 mtu lock $NARROW
	ip -n "$h" addr add "$FAR_PREFIX.$((10 + n))/24" dev eth0
	ip -n "$h" link set eth0 up
	ip -n "$h" route add default via $FAR_PREFIX.1
	host_exec "$n" sysctl -qw net.ipv4.ip_forward=1
}

host_add_near() {
	host_add "$1" || return 1
	host_exec "$1" ip route add $FAR_PREFIX.0/24 via $UNDERLAY_PREFIX.254
}

# The end of a phase: its weftds stopped, its hosts and pods gone, their
# logs kept as hN-<prefix>.log (host_held reads hN.log), their env files gone.
phase_end() {
	local n ns rc
	for n in 1 2 3; do
		if bg_alive "h$n"; then
			stop_bg "h$n" TERM && rc=0 || rc=$?
			tap_eq "$(echo "$P" | cut -d/ -f2): weftd on h$n exits 0 on SIGTERM" 0 "$rc"
		fi
		[ ! -e "$RUN_DIR/h$n.log" ] || mv "$RUN_DIR/h$n.log" "$RUN_DIR/h$n-$(echo "$P" | cut -d/ -f2).log"
		rm -f "$RUN_DIR/h$n.env"
	done
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^$NS-h[0-9]+(-p[0-9]+)?$"); do
		ip netns del "$ns"
	done
	# The veths' other ends go with the namespaces, but asynchronously: the
	# next phase's host_add would find h1..h3 still there.
	wait_until 10 eval "! ip -n '$UL' -o link show | grep -qE ': h[0-9]+@' &&
		! ip -n '$R' -o link show 2>/dev/null | grep -qE ': h[0-9]+@'"
	POD_IP=() POD_IP6=()
}

# phase_start NAME BACKEND_JSON [FAR]: config under its own prefix, h1 and h2
# on br0 (and h3 behind R with FAR), weftd on each, a pod on each; a phase
# that cannot be set up is a failed test, never a silent skip.
phase_start() {
	phase_setup "$@" && return 0
	tap_ok "$1: hosts, leases and pods set up" false
	return 1
}

phase_setup() {
	local name=$1 json=$2 far=${3:-} n hosts="1 2"
	P=/mtu-$name/network
	net_config "{\"Network\":\"10.244.0.0/16\",\"Backend\":$json}"
	host_add_near 1 && host_add_near 2 || return 1
	if [ -n "$far" ]; then
		host_add_far 3 || return 1
		hosts="1 2 3"
	fi
	for n in $hosts; do weftd_host_start "$n"; done
	for n in $hosts; do
		host_held "$n" 30 || {
			echo "# $name: host $n has no lease:"
			tail -5 "$RUN_DIR/h$n.log" | sed 's/^/#   /'
			return 1
		}
	done
	for n in $hosts; do pod_add "$n" 1 >/dev/null || return 1; done
}

# The first ping may wait for ARP or a WireGuard handshake: 3 tries.
df_ping() { # N DST SIZE [-6]: a DF echo of SIZE payload bytes from pod N.1
	local i
	for i in 1 2 3; do
		pod_exec "$1" 1 ping ${4:-} -M do -s "$3" -c 1 -W 2 -q "$2" >/dev/null 2>&1 && return 0
	done
	return 1
}

# check_pod_mtu LABEL MTU [-6]: pod 1.1 -> pod 2.1 with a DF ping of exactly
# MTU bytes (IPv4: 20 + 8 bytes of headers, IPv6: 40 + 8), and one byte more.
check_pod_mtu() {
	local label=$1 mtu=$2 v=${3:-} hdr=28 dst=${POD_IP[2.1]} out
	if [ "$v" = -6 ]; then
		hdr=48 dst=${POD_IP6[2.1]}
	fi
	tap_ok "$label: DF ping of exactly the pod MTU $mtu crosses hosts ($((mtu - hdr)) bytes of payload)" \
		df_ping 1 "$dst" $((mtu - hdr)) "$v"
	out=$(pod_exec 1 1 ping $v -M do -s $((mtu - hdr + 1)) -c 1 -W 1 "$dst" 2>&1)
	tap_ok "$label: one byte more gets \"message too long\" back in the pod" \
		grep -qi "message too long" <<<"$out"
	grep -qi "message too long" <<<"$out" || echo "$out" | sed 's/^/# /'
}

# tcp_across LABEL N M: 4 MB from pod N.1 to pod M.1 over TCP, within 60 s.
tcp_across() {
	local label=$1 n=$2 m=$3 dst out
	dst=${POD_IP[$m.1]}
	if [ "$have_iperf" = 0 ]; then
		tap_skip "$label" "no iperf3"
		return
	fi
	run_bg "iperf-$m" ip netns exec "$(pod_ns "$m" 1)" iperf3 -s -1 -B "$dst"
	wait_until 10 eval "pod_exec $m 1 ss -Hltn 'sport = :5201' | grep -q ."
	out=$(pod_exec "$n" 1 timeout 60 iperf3 -c "$dst" -n 4M -f m 2>&1)
	local rc=$?
	stop_bg "iperf-$m" TERM
	tap_ok "$label" test "$rc" = 0
	[ "$rc" = 0 ] || echo "$out" | tail -5 | sed 's/^/# /'
	echo "# $label: $(grep -E 'receiver$' <<<"$out" | awk '{print $7, $8}')"
}

# Over the narrow underlay hop: h1's pod to h3's pod (behind R). A full-sized
# packet alone (no TCP to shrink it) must cross too: its outer packet is
# fragmented at R, as the kernel's tunnels have it (no DF outside).
check_narrow_hop() { # LABEL MTU
	tap_ok "$1: DF ping of the pod MTU $2 from pod h1 to pod h3 across an underlay hop of MTU $NARROW" \
		df_ping 1 "${POD_IP[3.1]}" $(($2 - 28))
	tap_ok "$1: and from pod h3 to pod h1" df_ping 3 "${POD_IP[1.1]}" $(($2 - 28))
	tcp_across "$1: TCP pod h1 -> pod h3 across an underlay hop of MTU $NARROW" 1 3
	tcp_across "$1: TCP pod h3 -> pod h1 across an underlay hop of MTU $NARROW" 3 1
}

# PMTU discovery through the tunnel: h2's bridge carries 100 bytes less
# than the pods' MTU; h1's pod learns that from h2's ICMP and TCP flows.
check_overlay_pmtu() { # LABEL MTU
	local label=$1 mtu=$2 low=$(($2 - 100))
	host_exec 2 ip link set cni0 mtu "$low"
	tcp_across "$label: TCP pod h1 -> pod h2 whose bridge has MTU $low (PMTU discovery)" 1 2
	tap_ok "$label: h1's pod learned the path MTU $low" eval \
		"pod_exec 1 1 ip route get ${POD_IP[2.1]} | grep -q 'mtu $low'"
	host_exec 2 ip link set cni0 mtu "$mtu"
}

tx_csum() { host_exec "$1" ethtool -k "$2" | sed -n 's/^tx-checksumming: //p'; }

# MTU_PHASES="udp dual" runs only those (refused vxlan hostgw udp wireguard ipip ipsec
# extension dual).
phase() { [ -z "${MTU_PHASES:-}" ] || [[ " $MTU_PHASES " == *" $1 "* ]]; }

cluster_init || { tap_ok "cluster up" false; tap_done; exit 1; }
router_init || { tap_ok "router up" false; tap_done; exit 1; }

# ---- Backend.MTU above the interface's: refused before any device exists.
run_refused() {
	BACKEND=vxlan
	P=/mtu-refused/network
	net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","MTU":9000}}'
	host_add_near 1
	out=$(timeout 30 ip netns exec "$(host_ns 1)" "$WEFT_BUILD/weftd" --etcd-endpoints "$ETCD_ENDPOINT" \
		--etcd-prefix "$P" --subnet-file "$RUN_DIR/refused.env" --iface eth0 2>&1)
	rc=$?
	tap_ok "vxlan: Backend.MTU 9000 on a 1500 interface: weftd exits with an error" \
		test "$rc" != 0 -a "$rc" != 124
	tap_ok "vxlan: the error gives the numbers" grep -qF \
		"Backend.MTU 9000 is above what eth0 allows for vxlan: 1500 (eth0 MTU 1500; pods then get 1500 - 50 = 1450)" \
		<<<"$out"
	echo "$out" | grep -i 'error\|MTU' | tail -2 | sed 's/^/# /'
	tap_lacks "vxlan: no flannel.1 was made" 'flannel\.1' 'eth0' host_exec 1 ip -o link show
	P=/mtu-refused-wg/network
	net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"wireguard","MTU":1501}}'
	out=$(timeout 30 ip netns exec "$(host_ns 1)" env WIREGUARD_KEY_FILE="$RUN_DIR/refused.wgkey" \
		"$WEFT_BUILD/weftd" --etcd-endpoints "$ETCD_ENDPOINT" --etcd-prefix "$P" \
		--subnet-file "$RUN_DIR/refused.env" --iface eth0 2>&1)
	tap_ok "wireguard: Backend.MTU 1501 refused with the numbers" grep -qF \
		"Backend.MTU 1501 is above what eth0 allows for wireguard: 1500 (eth0 MTU 1500; pods then get 1500 - 80 = 1420)" \
		<<<"$out"
	echo "$out" | grep -i 'error\|MTU' | tail -2 | sed 's/^/# /'
	phase_end
}

# ---- vxlan, IPv4; TX checksum offload forced on (DisableTxChecksumOffload false).
run_vxlan() {
	BACKEND=vxlan
	if phase_start vxlan '{"Type":"vxlan","DisableTxChecksumOffload":false}' far; then
		tap_eq "vxlan: FLANNEL_MTU 1450 (1500 - 50)" 1450 "$(host_env 1 FLANNEL_MTU)"
		tap_ok "vxlan: flannel.1 MTU 1450" eval "host_exec 1 ip link show flannel.1 | grep -q 'mtu 1450 '"
		check_pod_mtu vxlan 1450
		check_narrow_hop vxlan 1450
		check_overlay_pmtu vxlan 1450
		if [ "$have_ethtool" = 1 ]; then
			tap_eq "vxlan, DisableTxChecksumOffload false: tx-checksumming on" on "$(tx_csum 1 flannel.1)"
			# Off by hand, then a restart: the adopted device gets it back on.
			host_exec 1 ethtool -K flannel.1 tx off >/dev/null 2>&1
			tap_eq "vxlan: tx-checksumming off by hand" off "$(tx_csum 1 flannel.1)"
			weftd_host_stop 1
			weftd_host_start 1
			tap_ok "vxlan: restarted weftd turns it on again on adopting flannel.1" wait_until 20 \
				eval "[ \"\$(tx_csum 1 flannel.1)\" = on ]"
			tap_ok "vxlan: and says so" wait_until 5 grep -q \
				"turned TX checksum offload of flannel.1 on on adopting it (Backend.DisableTxChecksumOffload is false)" \
				"$RUN_DIR/h1.log"
		else
			tap_skip "vxlan: TX checksum offload" "no ethtool (scripts/deps.sh test)"
		fi
	fi
	phase_end
}

# ---- host-gw: no overhead; its peers must share our L2, so no router hop.
run_hostgw() {
	BACKEND=host-gw
	if phase_start hostgw '{"Type":"host-gw"}'; then
		tap_eq "host-gw: FLANNEL_MTU is the interface MTU" 1500 "$(host_env 1 FLANNEL_MTU)"
		check_pod_mtu host-gw 1500
		tap_skip "host-gw: TCP across an underlay router hop" "host-gw's peers are on our L2: no router between them"
		check_overlay_pmtu host-gw 1500
	fi
	phase_end
}

# ---- udp: 28 bytes (IPv4 + UDP) in user space.
run_udp() {
	BACKEND=udp
	if phase_start udp '{"Type":"udp"}' far; then
		tap_eq "udp: FLANNEL_MTU 1472 (1500 - 28)" 1472 "$(host_env 1 FLANNEL_MTU)"
		check_pod_mtu udp 1472
		check_narrow_hop udp 1472
		check_overlay_pmtu udp 1472
	fi
	phase_end
}

# ---- wireguard (userspace engine): 80 bytes, as upstream.
run_wireguard() {
	BACKEND=wireguard
	if phase_start wireguard '{"Type":"wireguard"}' far; then
		tap_eq "wireguard: FLANNEL_MTU 1420 (1500 - 80)" 1420 "$(host_env 1 FLANNEL_MTU)"
		check_pod_mtu wireguard 1420
		check_narrow_hop wireguard 1420
		check_overlay_pmtu wireguard 1420
	fi
	phase_end
}

# ---- ipip, where the kernel has it: 20 bytes.
run_ipip() {
	BACKEND=ipip
	if ip -n "$R" link add mtuprobe type ipip local 10.9.9.9 2>/dev/null; then
		ip -n "$R" link del mtuprobe
		if phase_start ipip '{"Type":"ipip"}' far; then
			tap_eq "ipip: FLANNEL_MTU 1480 (1500 - 20)" 1480 "$(host_env 1 FLANNEL_MTU)"
			check_pod_mtu ipip 1480
			check_narrow_hop ipip 1480
			check_overlay_pmtu ipip 1480
		fi
		phase_end
	else
		tap_skip "ipip" "this kernel has no ipip module"
	fi
}

# ---- ipsec on strongSwan's userspace ESP (kernel-libipsec), forced so that
# the figure does not depend on whether this kernel has esp4: 77 bytes of ESP
# and 8 of UDP (that engine always carries ESP in UDP) would leave 1415, but
# kernel-libipsec's TUN ipsec0 carries at most 1400 (its TUN_DEFAULT_MTU,
# the size of its read buffer).
have_charon() {
	local p
	command -v charon >/dev/null && return 0
	for p in /usr/lib/strongswan/charon /usr/lib/ipsec/charon /usr/libexec/strongswan/charon \
		/usr/libexec/ipsec/charon; do
		[ -x "$p" ] && return 0
	done
	return 1
}

# A CHILD_SA negotiated while the node's bridge holds no address of its
# subnet fails with userspace ESP (charon.log: "error installing route with
# policy ...", then "failed to establish CHILD_SA, keeping IKE_SA"), and
# charon never tries it again: weftd initiates a missing child after two
# looks (10 s). Pods come after the leases here, as on a real node.
ipsec_children() { # how many pairs of hosts have a CHILD_SA installed
	local n m k=0
	for n in 1 2 3; do for m in $(seq $((n + 1)) 3); do
		swan "$n" --list-sas | grep -q "^  $(subnet_net "$n")-$(subnet_net "$m"): .*INSTALLED" && k=$((k + 1))
	done; done
	echo "$k"
}

run_ipsec() {
	local t
	BACKEND=ipsec
	if ! have_charon; then
		tap_skip "ipsec" "no strongSwan charon (Debian: strongswan-charon)"
		return
	fi
	IPSEC_WEFTD_ENV=(WEFT_IPSEC_ENGINE=userspace)
	if phase_start ipsec "{\"Type\":\"ipsec\",\"PSK\":\"$(ipsec_psk)\"}" far; then
		tap_eq "ipsec: FLANNEL_MTU 1400 (1500 - 77 - 8 = 1415, above kernel-libipsec's 1400)" \
			1400 "$(host_env 1 FLANNEL_MTU)"
		tap_eq "ipsec: FLANNEL_MTU 1400 on h3 too" 1400 "$(host_env 3 FLANNEL_MTU)"
		tap_ok "ipsec: h1 says why, with both numbers" grep -qF \
			"ipsec: FLANNEL_MTU 1400, not 1415: strongSwan's kernel-libipsec carries packets of at most 1400 bytes" \
			"$RUN_DIR/h1.log"
		tap_ok "ipsec: h1's ipsec0 MTU 1400" wait_until 15 eval \
			"host_exec 1 ip link show ipsec0 | grep -q 'mtu 1400 '"
		t=$(time_until 45 eval '[ "$(ipsec_children)" = 3 ]')
		tap_ok "ipsec: every pair of hosts gets its CHILD_SA without help ($t ms)" test "$t" != timeout
		echo "# ipsec: children weftd initiated again: $(grep -c 'initiating it again' "$RUN_DIR/h1.log" "$RUN_DIR/h2.log" "$RUN_DIR/h3.log" | paste -sd' ')"
		# Each pair's SAs come up in their own time: poll until pods cross.
		t=$(time_until 60 eval "pod_ping 1 1 ${POD_IP[2.1]} && pod_ping 1 1 ${POD_IP[3.1]} &&
			pod_ping 3 1 ${POD_IP[2.1]}")
		tap_ok "ipsec: SAs up, pods h1, h2 and h3 reach each other ($t ms)" test "$t" != timeout
		if [ "$t" != timeout ]; then
			check_pod_mtu ipsec 1400
			check_narrow_hop ipsec 1400
			echo "# ipsec: h1's route to h3 after: $(host_exec 1 ip route get $FAR_PREFIX.13 | tr -s ' \n' ' ')"
			check_overlay_pmtu ipsec 1400
		else
			swan 1 --list-sas | sed 's/^/# /'
		fi
	fi
	IPSEC_WEFTD_ENV=()
	phase_end
}

# ---- extension: upstream gives pods the interface's MTU; the data path is
# the commands'. Here host-gw's made by `ip`: peers on our L2, no router hop.
run_extension() {
	BACKEND=extension
	if phase_start extension '{"Type":"extension","SubnetAddCommand":"ip route replace $SUBNET via $PUBLIC_IP","SubnetRemoveCommand":"ip route del $SUBNET via $PUBLIC_IP"}'; then
		tap_eq "extension: FLANNEL_MTU is the interface MTU" 1500 "$(host_env 1 FLANNEL_MTU)"
		tap_ok "extension: SubnetAddCommand made the route to h2's subnet" wait_until 15 eval \
			"host_exec 1 ip route show $(subnet_net 2) | grep -q 'via $(host_ip 2)'"
		check_pod_mtu extension 1500
		tap_skip "extension: TCP across an underlay router hop" \
			"the data path is its commands'; these build host-gw's, whose peers are on our L2"
		check_overlay_pmtu extension 1500
	fi
	phase_end
}

# ---- vxlan on a dual-stack underlay: flannel-v6.1 over IPv6 (70 bytes).
run_dual() {
	BACKEND=vxlan
	P=/mtu-dual/network
	ip -n "$UL" addr add "${V6}1/64" dev br0 nodad 2>/dev/null
	net_config '{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fd10:244::/56","Backend":{"Type":"vxlan","DisableTxChecksumOffload":true}}'
	for n in 1 2; do
		host_add_near "$n"
		host_exec "$n" ip addr add "${V6}$((10 + n))/64" dev eth0 nodad
		host_exec "$n" sysctl -qw net.ipv6.conf.all.forwarding=1
		weftd_host_start "$n"
	done
	ok=1
	for n in 1 2; do tap_ok "dual: h$n holds a dual-stack lease" host_held "$n" 30 || ok=0; done
	if [ "$ok" = 1 ]; then
		for n in 1 2; do
			sub6=$(host_env "$n" FLANNEL_IPV6_SUBNET)
			pod_add "$n" 1 >/dev/null
			host_exec "$n" ip addr add "$sub6" dev cni0 nodad
			POD_IP6[$n.1]="${sub6%::*}::11"
			pod_exec "$n" 1 ip addr add "${POD_IP6[$n.1]}/64" dev eth0 nodad
			pod_exec "$n" 1 ip route add default via "${sub6%/*}"
		done
		for n in 1 2; do
			tap_ok "dual: h$n flannel.1 MTU 1450 (IPv4 underlay, 50)" eval \
				"host_exec $n ip link show flannel.1 | grep -q 'mtu 1450 '"
			tap_ok "dual: h$n flannel-v6.1 MTU 1430 (IPv6 underlay, 70)" eval \
				"host_exec $n ip link show flannel-v6.1 | grep -q 'mtu 1430 '"
			tap_eq "dual: h$n FLANNEL_MTU 1430, the smaller" 1430 "$(host_env "$n" FLANNEL_MTU)"
		done
		check_pod_mtu "dual, IPv4" 1430
		check_pod_mtu "dual, IPv6" 1430 -6
		# A reconcile (the device's MTU changed by hand) sets 1430 back, never 1450.
		host_exec 1 ip link set flannel-v6.1 mtu 1400
		tap_ok "dual: flannel-v6.1's MTU changed by hand is set back to 1430" wait_until 15 eval \
			"host_exec 1 ip link show flannel-v6.1 | grep -q 'mtu 1430 '"
		if [ "$have_ethtool" = 1 ]; then
			for d in flannel.1 flannel-v6.1; do
				tap_eq "dual, DisableTxChecksumOffload true: $d tx-checksumming off" off "$(tx_csum 1 "$d")"
			done
			host_exec 1 ip link del flannel-v6.1
			tap_ok "dual: flannel-v6.1 deleted by hand comes back" wait_until 15 eval \
				"host_exec 1 ip link show flannel-v6.1 | grep -q 'UP.*mtu 1430 '"
			tap_eq "dual: the re-created flannel-v6.1 has tx-checksumming off again" off \
				"$(tx_csum 1 flannel-v6.1)"
			tap_ok "dual: h1 says so" grep -q \
				"turned TX checksum offload of flannel-v6.1 off on creating it (Backend.DisableTxChecksumOffload is true)" \
				"$RUN_DIR/h1.log"
			tap_ok "dual, IPv6: pods reach each other after the re-creation" \
				df_ping 1 "${POD_IP6[2.1]}" 56 -6
		else
			tap_skip "dual: TX checksum offload" "no ethtool (scripts/deps.sh test)"
		fi
		for n in 1 2; do
			tap_lacks "dual: h$n never failed a reconcile" 'first reconcile failed|Invalid argument' \
				'held; wrote' cat "$RUN_DIR/h$n.log"
		done
	fi
	phase_end
}

for ph in refused vxlan hostgw udp wireguard ipip ipsec extension dual; do
	phase "$ph" && "run_$ph"
done
tap_done
