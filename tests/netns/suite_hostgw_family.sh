# SPDX-License-Identifier: Apache-2.0
# host-gw on an IPv6 underlay (UNDERLAY=dual or v6, set by test_hostgw_dual.sh /
# test_hostgw_v6.sh), 3 hosts x 2 pods: the lease names the IPv6 public
# address; each host has exactly one IPv6 route per peer, via the peer's IPv6
# address on eth0 (and its IPv4 routes with IPv4, as test_hostgw.sh checks
# them); all pod pairs reach each other in each family; full reconciles in a
# steady state change nothing and lose no packet; a SIGKILL + restart loses no
# packet; a lease whose IPv6 subnet lies outside the IPv6Network (8000::/1,
# half of IPv6) is refused; a deleted IPv6 route comes back; a removed host's
# IPv6 route vanishes within 2 s.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/family_lib.sh

check_hostgw6_objects() { # N
	local n=$1 m peers=0
	for m in $(seq 1 "$HOSTS"); do
		[ "$m" = "$n" ] && continue
		peers=$((peers + 1))
		tap_eq "h$n: IPv6 route to h$m's subnet via h$m" \
			"$(subnet6_net "$m") via $(host_ip6 "$m") dev eth0 proto 151 metric 1024 pref medium" \
			"$(host_exec "$n" ip -6 route show "$(subnet6_net "$m")" | sed 's/ *$//')"
	done
	tap_eq "h$n: exactly $peers IPv6 routes of ours" "$peers" "$(host_exec "$n" ip -6 route show proto 151 | grep -c .)"
}

fam_cluster_up '{"Type":"host-gw"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
for n in 1 2 3; do
	pub4=0.0.0.0 # without IPv4, as upstream writes it
	ul_v4 && pub4=$(host_ip "$n")
	tap_eq "h$n: the lease ($UNDERLAY)" \
		"{\"PublicIP\":\"$pub4\",\"PublicIPv6\":\"$(host_ip6 "$n")\",\"BackendType\":\"host-gw\"}" \
		"$(etcd_get "$(lease_key "$n")")"
	if ul_v4; then
		tap_eq "h$n: 2 IPv4 routes and nexthops of ours" "2 2" \
			"$(host_exec "$n" ip -4 route show proto 151 | grep -c .) $(host_exec "$n" ip nexthop show proto 151 | grep -c .)"
	else
		tap_eq "h$n: no IPv4 route of ours" "" "$(host_exec "$n" ip -4 route show proto 151)"
	fi
	check_hostgw6_objects "$n"
done
tap_eq "h1: FLANNEL_MTU is the interface MTU" 1500 "$(host_env 1 FLANNEL_MTU)"
failed0=$_tap_failed
ul_v4 && all_pairs_ping "host-gw $UNDERLAY, IPv4"
all_pairs_ping6 "host-gw $UNDERLAY"
df_ping_fits "host-gw $UNDERLAY"
data_path_or_stop "$failed0"
steady_state "steady state"
restart_no_loss_fam

# A pod made by the CNI plugin (weft's, as "flannel", with bridge and
# host-local) gets an address from each of the host's subnets and reaches a
# pod on another host over IPv6.
pod_add_cni 1 3 >/dev/null
tap_ok "cni: pod 1.3 got an IPv6 address in h1's subnet (${POD_IP6[1.3]:-none})" \
	test "${POD_IP6[1.3]:-}" != "" -a "${POD_IP6[1.3]%::*}::" = "$(subnet6_addr 1)"
if ul_v4; then
	tap_ok "cni: pod 1.3 got an IPv4 address in h1's subnet (${POD_IP[1.3]})" \
		test "${POD_IP[1.3]%.*}.0" = "$(subnet_addr 1)"
fi
tap_ok "cni: pod 1.3 reaches pod 2.1 over IPv6" eval \
	"pod_exec 1 3 ping -6 -c 1 -W 1 -q ${POD_IP6[2.1]} || pod_exec 1 3 ping -6 -c 2 -W 1 -q ${POD_IP6[2.1]}"

# A lease whose IPv6 subnet is outside the IPv6Network: 8000::/1 would take
# half of the node's IPv6 egress to "its" host. Refused with a log line; a good
# lease written with it (a host without weftd) is the positive probe.
if ul_v4; then
	bad=10.244.201.0-24 good=10.244.200.0-24 pub4=$(host_ip 4)
else
	bad=0.0.0.0-0 good=0.0.0.0-0 pub4=0.0.0.0
fi
bad="$bad&8000::-1" good="$good&fd10:244:0:c8::-64"
lease6="{\"PublicIP\":\"$pub4\",\"PublicIPv6\":\"$(host_ip6 4)\",\"BackendType\":\"host-gw\"}"
etcd_put "$P/subnets/$bad" "$lease6"
etcd_put "$P/subnets/$good" "$lease6"
tap_ok "outside: h1 routes the good lease written with it" wait_until 5 eval \
	"host_exec 1 ip -6 route show exact fd10:244:0:c8::/64 | grep -q 'via $(host_ip6 4) dev eth0 proto 151'"
tap_ok "outside: h1 logs why $bad is refused" wait_until 5 grep -qF \
	"ignoring $P/subnets/$bad (revision" "$RUN_DIR/h1.log"
tap_ok "outside: the reason names the IPv6 network" grep -qF \
	"IPv6 subnet 8000::/1 is outside the network $IPV6_NETWORK" "$RUN_DIR/h1.log"
tap_eq "outside: h1 has no route for 8000::/1" "" "$(host_exec 1 ip -6 route show exact 8000::/1)"
tap_eq "outside: h1's IPv6 default route untouched" "default via $UNDERLAY_PREFIX6:1 dev eth0 metric 1024 pref medium" \
	"$(host_exec 1 ip -6 route show default | sed 's/ *$//')"
etcd_del "$P/subnets/$bad"
etcd_del "$P/subnets/$good"
tap_ok "outside: the good lease's route goes with it" wait_until 5 \
	cmd_lacks . host_exec 1 ip -6 route show exact fd10:244:0:c8::/64

s2=$(subnet6_net 2)
host_exec 1 ip -6 route del "$s2"
t=$(time_until 12 eval "host_exec 1 ip -6 route show $s2 | grep -q 'via $(host_ip6 2) dev eth0 proto 151'")
tap_ok "tamper: deleted IPv6 route restored ($t ms)" test "$t" != timeout

hg6_objects_of_h3() { lines_of host_exec "$1" ip -6 route show "$(subnet6_net 3)"; }
host_removed hg6_objects_of_h3

for n in 1 2; do
	weftd_host_stop "$n"
	tap_eq "h$n: weftd exits 0 on SIGTERM" 0 "$?"
done
tap_done
