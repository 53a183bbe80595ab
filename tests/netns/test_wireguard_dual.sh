#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# wireguard in separate mode on a dual-stack underlay, 3 hosts x 2 pods, on
# weft's userspace engine: flannel-wg (IPv4, port 51820) and flannel-wg-v6
# (IPv6, port 51821, endpoints at the hosts' IPv6 addresses), each with its
# address, MTU and Network route; the lease carries BackendData and
# BackendV6Data; all pod pairs reach each other over IPv4 and over IPv6.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/wg_lib.sh

V6=fd00:200:: # the underlay's IPv6 prefix (/64)
declare -A POD_IP6=()

host_ip6() { echo "${V6}$((10 + $1))"; }
# A dual-stack lease's key: 10.244.5.0-24&fd10:244:0:5::-64
lease_key() { echo "$P/subnets/$(subnet_net "$1" | tr / -)&$(host_env "$1" FLANNEL_IPV6_SUBNET | sed 's|::1/|::-|')"; }

cluster_init || { tap_ok "cluster up" false; tap_done; exit 1; }
ip -n "$UL" addr add "${V6}1/64" dev br0 nodad
net_config '{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fd10:244::/56","Backend":{"Type":"wireguard"}}'
for n in 1 2 3; do
	host_add "$n"
	host_exec "$n" ip addr add "$(host_ip6 "$n")/64" dev eth0 nodad
	host_exec "$n" sysctl -qw net.ipv6.conf.all.forwarding=1
	weftd_host_start "$n" --iface eth0
done
for n in 1 2 3; do
	tap_ok "h$n holds a dual-stack lease" host_held "$n"
done
# Pods with both families: cni0 holds the subnets' first addresses.
for n in 1 2 3; do
	sub6=$(host_env "$n" FLANNEL_IPV6_SUBNET) # e.g. fd10:244:0:5::1/64
	for k in 1 2; do
		pod_add "$n" "$k" >/dev/null
		[ "$k" = 1 ] && host_exec "$n" ip addr add "$sub6" dev cni0 nodad
		POD_IP6[$n.$k]="${sub6%::*}::$((10 + k))"
		pod_exec "$n" "$k" ip addr add "${POD_IP6[$n.$k]}/64" dev eth0 nodad
		pod_exec "$n" "$k" ip route add default via "${sub6%/*}"
	done
done

for n in 1 2 3; do
	lease=$(etcd_get "$(lease_key "$n")")
	pub=$(wg pubkey <"$RUN_DIR/h$n.wgkey")
	tap_eq "h$n: lease has both families' WireGuard data" \
		"{\"PublicIP\":\"$(host_ip "$n")\",\"PublicIPv6\":\"$(host_ip6 "$n")\",\"BackendType\":\"wireguard\",\"BackendData\":{\"PublicKey\":\"$pub\",\"Port\":51820},\"BackendV6Data\":{\"PublicKey\":\"$pub\",\"Port\":51821}}" \
		"$lease"
	tap_ok "h$n: flannel-wg-v6 MTU 1420, up" eval "host_exec $n ip link show flannel-wg-v6 | grep -q 'mtu 1420 .*state UNKNOWN'"
	tap_eq "h$n: flannel-wg-v6 address is the IPv6 subnet address /128" \
		"$(host_env "$n" FLANNEL_IPV6_SUBNET | sed 's|::1/64|::/128|')" \
		"$(host_exec "$n" ip -6 -o addr show dev flannel-wg-v6 scope global | awk '{print $4}')"
	tap_eq "h$n: the IPv6 Network via flannel-wg-v6" "fd10:244::/56 dev flannel-wg-v6 metric 1024 pref medium" \
		"$(host_exec "$n" ip -6 route show proto 151)"
	tap_eq "h$n: flannel-wg-v6 listens on 51821" 51821 "$(host_wg "$n" show flannel-wg-v6 listen-port)"
	tap_eq "h$n: flannel-wg-v6 peers at the hosts' IPv6 addresses" \
		"$(for m in 1 2 3; do [ "$m" = "$n" ] || echo "[$(host_ip6 "$m")]:51821"; done | sort | tr '\n' ' ')" \
		"$(host_wg "$n" show flannel-wg-v6 endpoints | awk '{print $2}' | sort | tr '\n' ' ')"
	tap_eq "h$n: flannel-wg peers at the hosts' IPv4 addresses" \
		"$(for m in 1 2 3; do [ "$m" = "$n" ] || echo "$(host_ip "$m"):51820"; done | sort | tr '\n' ' ')" \
		"$(host_wg "$n" show flannel-wg endpoints | awk '{print $2}' | sort | tr '\n' ' ')"
done
all_pairs_ping "dual-stack, IPv4"
bad=0 total=0
for n in 1 2 3; do for k in 1 2; do for m in 1 2 3; do for j in 1 2; do
	total=$((total + 1))
	pod_exec "$n" "$k" ping -6 -c 1 -W 1 -q "${POD_IP6[$m.$j]}" >/dev/null 2>&1 ||
		pod_exec "$n" "$k" ping -6 -c 2 -W 1 -q "${POD_IP6[$m.$j]}" >/dev/null 2>&1 || {
		bad=$((bad + 1))
		echo "# pod $n.$k cannot reach ${POD_IP6[$m.$j]}"
	}
done; done; done; done
tap_eq "dual-stack, IPv6: all $total pod pairs reach each other" 0 "$bad"
tap_done
