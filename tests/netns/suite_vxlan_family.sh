# SPDX-License-Identifier: Apache-2.0
# vxlan on an IPv6 underlay (UNDERLAY=dual or v6, set by test_vxlan_dual.sh /
# test_vxlan_v6.sh), 3 hosts x 2 pods: the lease carries BackendV6Data (and
# BackendData with IPv4); flannel-v6.1 is vxlan over the hosts' IPv6 addresses
# with one route, neighbour and FDB entry per peer, exactly (flannel.1 as in
# test_vxlan.sh with IPv4, none without); all pod pairs reach each other in
# each family, a DF ping of the pod MTU crosses hosts; full reconciles in a
# steady state change nothing and lose no packet; a SIGKILL + restart loses no
# packet; IPv6 objects removed by hand (route, FDB entry, neighbour, the whole
# device) come back; a removed host's IPv6 objects vanish within 2 s.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/family_lib.sh

declare -A VTEP6=() # published BackendV6Data VtepMAC per host, read once (below)
vtep_mac6() {
	[ -n "${VTEP6[$1]:-}" ] || VTEP6[$1]=$(etcd_get "$(lease_key "$1")" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["BackendV6Data"]["VtepMAC"])')
	echo "${VTEP6[$1]}"
}
dev_mac() { host_exec "$1" ip -o link show "$2" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }

# The IPv6 per-peer kernel objects on host N, exactly (no more, no fewer).
check_vxlan6_objects() { # N
	local n=$1 m link peers=0
	link=$(host_exec "$n" ip -d link show flannel-v6.1)
	tap_ok "h$n: flannel-v6.1 is vxlan id 1 local $(host_ip6 "$n") dev eth0" \
		grep -q "vxlan id 1 local $(host_ip6 "$n") dev eth0 " <<<"$link"
	tap_ok "h$n: flannel-v6.1 port 8472, nolearning" grep -q "dstport 8472 nolearning" <<<"$link"
	# An IPv6 underlay costs 70 (40 IPv6 + 8 UDP + 8 VXLAN + 14 Ethernet).
	tap_ok "h$n: flannel-v6.1 MTU 1430 (1500 - 70)" grep -q " mtu 1430 " <<<"$link"
	tap_eq "h$n: flannel-v6.1 MAC is the published BackendV6Data VtepMAC" "$(vtep_mac6 "$n")" \
		"$(dev_mac "$n" flannel-v6.1)"
	tap_eq "h$n: flannel-v6.1 address is the IPv6 subnet address /128" "$(subnet6_addr "$n")/128" \
		"$(host_exec "$n" ip -6 -o addr show dev flannel-v6.1 scope global | awk '{print $4}')"
	for m in $(seq 1 "$HOSTS"); do
		[ "$m" = "$n" ] && continue
		peers=$((peers + 1))
		tap_eq "h$n: IPv6 route to h$m's subnet" \
			"$(subnet6_net "$m") via $(subnet6_addr "$m") dev flannel-v6.1 proto 151 metric 1024 onlink pref medium" \
			"$(host_exec "$n" ip -6 route show "$(subnet6_net "$m")" | sed 's/ *$//')"
		tap_eq "h$n: permanent IPv6 neighbour for h$m" \
			"$(subnet6_addr "$m") lladdr $(vtep_mac6 "$m") PERMANENT" \
			"$(host_exec "$n" ip -6 neigh show "$(subnet6_addr "$m")" dev flannel-v6.1 | sed 's/ *$//')"
		tap_eq "h$n: flannel-v6.1 fdb entry for h$m" "$(vtep_mac6 "$m") dst $(host_ip6 "$m") self permanent" \
			"$(host_exec "$n" bridge fdb show dev flannel-v6.1 | grep "^$(vtep_mac6 "$m") " | sed 's/ *$//')"
	done
	tap_eq "h$n: exactly $peers IPv6 routes of ours" "$peers" "$(host_exec "$n" ip -6 route show proto 151 | grep -c .)"
	tap_eq "h$n: exactly $peers neighbours on flannel-v6.1" "$peers" \
		"$(host_exec "$n" ip -6 neigh show dev flannel-v6.1 nud permanent | grep -c .)"
	tap_eq "h$n: exactly $peers fdb entries on flannel-v6.1" "$peers" \
		"$(host_exec "$n" bridge fdb show dev flannel-v6.1 | grep -c ' dst ')"
}

fam_cluster_up '{"Type":"vxlan"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
for n in 1 2 3; do VTEP6[$n]=$(vtep_mac6 "$n"); done

for n in 1 2 3; do
	if ul_v4; then
		want="{\"PublicIP\":\"$(host_ip "$n")\",\"PublicIPv6\":\"$(host_ip6 "$n")\",\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"$(dev_mac "$n" flannel.1)\"},\"BackendV6Data\":{\"VNI\":1,\"VtepMAC\":\"$(dev_mac "$n" flannel-v6.1)\"}}"
	else # PublicIP is "0.0.0.0" without IPv4, as upstream writes it
		want="{\"PublicIP\":\"0.0.0.0\",\"PublicIPv6\":\"$(host_ip6 "$n")\",\"BackendType\":\"vxlan\",\"BackendV6Data\":{\"VNI\":1,\"VtepMAC\":\"$(dev_mac "$n" flannel-v6.1)\"}}"
	fi
	tap_eq "h$n: the lease ($UNDERLAY)" "$want" "$(etcd_get "$(lease_key "$n")")"
	if ul_v4; then # test_vxlan.sh checks each IPv4 object; here they are counted
		tap_ok "h$n: flannel.1 is vxlan local $(host_ip "$n") next to flannel-v6.1" eval \
			"host_exec $n ip -d link show flannel.1 | grep -q 'vxlan id 1 local $(host_ip "$n") dev eth0 '"
		tap_eq "h$n: 2 IPv4 routes, nexthops, neighbours and fdb entries of ours" "2 2 2 2" \
			"$(host_exec "$n" ip -4 route show proto 151 | grep -c .) $(host_exec "$n" ip nexthop show proto 151 | grep -c .) $(host_exec "$n" ip neigh show dev flannel.1 nud permanent | grep -c .) $(host_exec "$n" bridge fdb show dev flannel.1 | grep -c ' dst ')"
	else
		tap_lacks "h$n: no flannel.1 without IPv4" ': flannel\.1[:@]' ': flannel-v6\.1[:@]' \
			host_exec "$n" ip -o link show
		tap_eq "h$n: no IPv4 route of ours" "" "$(host_exec "$n" ip -4 route show proto 151)"
	fi
	check_vxlan6_objects "$n"
done
tap_ok "h1: FLANNEL_MTU fits flannel-v6.1 (the smallest path)" \
	test "$(host_env 1 FLANNEL_MTU)" -le 1430
failed0=$_tap_failed
ul_v4 && all_pairs_ping "vxlan $UNDERLAY, IPv4"
all_pairs_ping6 "vxlan $UNDERLAY"
df_ping_fits "vxlan $UNDERLAY"
data_path_or_stop "$failed0"
steady_state "steady state"
restart_no_loss_fam

# Tampering on h1 with h2's IPv6 objects: each is restored (monitor-triggered
# reconcile; the periodic one would do it within 10 s), and stays.
s2=$(subnet6_net 2) a2=$(subnet6_addr 2) m2=$(vtep_mac6 2)
route2="$s2 via $a2 dev flannel-v6.1 proto 151 metric 1024 onlink"
host_exec 1 ip -6 route del "$s2"
t=$(time_until 12 eval "host_exec 1 ip -6 route show $s2 | grep -q '$route2'")
tap_ok "tamper: deleted IPv6 route restored ($t ms)" test "$t" != timeout
host_exec 1 bridge fdb del "$m2" dev flannel-v6.1 dst "$(host_ip6 2)" self
t=$(time_until 12 eval "host_exec 1 bridge fdb show dev flannel-v6.1 | grep -q '^$m2 dst $(host_ip6 2) self permanent'")
tap_ok "tamper: deleted flannel-v6.1 fdb entry restored ($t ms)" test "$t" != timeout
host_exec 1 ip -6 neigh del "$a2" dev flannel-v6.1
t=$(time_until 12 eval "host_exec 1 ip -6 neigh show $a2 dev flannel-v6.1 | grep -q 'lladdr $m2 PERMANENT'")
tap_ok "tamper: deleted IPv6 neighbour restored ($t ms)" test "$t" != timeout
tap_ok "tamper: the restored route is still there after the later passes" eval \
	"host_exec 1 ip -6 route show $s2 | grep -q '$route2'"
mac1=$(dev_mac 1 flannel-v6.1)
host_exec 1 ip link del flannel-v6.1
t=$(time_until 12 eval "host_exec 1 ip -6 route show proto 151 | grep -c . | grep -qx 2 && host_exec 1 bridge fdb show dev flannel-v6.1 | grep -c ' dst ' | grep -qx 2")
tap_ok "tamper: deleted flannel-v6.1 recreated and re-programmed ($t ms)" test "$t" != timeout
check_vxlan6_objects 1
tap_eq "tamper: recreated flannel-v6.1 kept its MAC" "$mac1" "$(dev_mac 1 flannel-v6.1)"
all_pairs_ping6 "after tampering"

vx6_objects_of_h3() { # N: h3's IPv6 route + neighbour + fdb entries on host N ("error" if a lookup fails)
	local r nb fdb
	r=$(lines_of host_exec "$1" ip -6 route show "$(subnet6_net 3)") &&
		nb=$(lines_of host_exec "$1" ip -6 neigh show "$(subnet6_addr 3)" dev flannel-v6.1) &&
		fdb=$(host_exec "$1" bridge fdb show dev flannel-v6.1) || { echo error; return; }
	echo $((r + nb + $(grep -c "dst $(host_ip6 3) " <<<"$fdb")))
}
host_removed vx6_objects_of_h3

for n in 1 2; do
	weftd_host_stop "$n"
	tap_eq "h$n: weftd exits 0 on SIGTERM" 0 "$?"
done
tap_done
