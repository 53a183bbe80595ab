#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pod-to-pod TCP throughput between two hosts (network namespaces on one
# underlay), through weft's data path and through the same topology built by
# hand with ip(8), for each backend; prints each figure and the ratio
# weft / hand-built, which should be about 1.0 (it is the same kernel path).
#
#   bench/datapath.sh [-t SECONDS] [BACKEND...]     BACKEND: vxlan host-gw (default: both)
#
# Root required. Builds the binaries first if needed. A benchmark, not a test:
# it prints figures and asserts nothing.
set -u
cd "$(dirname "$0")/.."
SECS=5
while getopts t: o; do
	case $o in
	t) SECS=$OPTARG ;;
	*) echo "usage: $0 [-t SECONDS] [BACKEND...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
BACKENDS=("$@")
[ ${#BACKENDS[@]} -gt 0 ] || BACKENDS=(vxlan host-gw)
[ "$(id -u)" = 0 ] || { echo "bench/datapath.sh: needs root (network namespaces)" >&2; exit 1; }
export WEFT_BUILD=${WEFT_BUILD:-build}
[ -x "$WEFT_BUILD/weftd" ] || make -s all >/dev/null

# One measurement in a fresh cluster: MODE is weft or hand. Prints Gbit/s.
measure() { # BACKEND MODE
	(
		backend=$1 mode=$2
		NS=wb$$${mode:0:1}
		. tests/lib/common.sh
		. tests/lib/etcd.sh
		. tests/lib/tap.sh
		. tests/netns/lib.sh
		HOSTS=2 PODS=1
		if [ "$mode" = weft ]; then
			. tests/netns/cases.sh
			cluster_up "{\"Type\":\"$backend\"}" >/dev/null || exit 1
		else
			ip netns add "$UL" && ip -n "$UL" link set lo up
			ip -n "$UL" link add br0 type bridge
			ip -n "$UL" addr add $UNDERLAY_PREFIX.1/24 dev br0
			ip -n "$UL" link set br0 up
			on_cleanup ns_cleanup
			for n in 1 2; do host_add "$n"; done
			for n in 1 2; do
				m=$((3 - n))
				if [ "$backend" = vxlan ]; then
					mtu=1450
					host_exec $n ip link add flannel.1 type vxlan id 1 local "$(host_ip $n)" \
						dev eth0 dstport 8472 nolearning
					host_exec $n ip link set flannel.1 mtu $mtu address "02:00:00:00:00:0$n" up
					host_exec $n ip addr add "10.244.$n.0/32" dev flannel.1
					host_exec $n ip neigh replace "10.244.$m.0" lladdr "02:00:00:00:00:0$m" \
						dev flannel.1 nud permanent
					host_exec $n bridge fdb replace "02:00:00:00:00:0$m" dev flannel.1 \
						dst "$(host_ip $m)" self permanent
					host_exec $n ip route replace "10.244.$m.0/24" via "10.244.$m.0" \
						dev flannel.1 onlink
				else
					mtu=1500
					host_exec $n ip route replace "10.244.$m.0/24" via "$(host_ip $m)" dev eth0
				fi
				printf 'FLANNEL_SUBNET=10.244.%d.1/24\nFLANNEL_MTU=%d\n' $n $mtu >"$RUN_DIR/h$n.env"
			done
			pod_add 1 1 >/dev/null && pod_add 2 1 >/dev/null
		fi
		run_bg iperf ip netns exec "$(pod_ns 2 1)" iperf3 -s -1
		wait_until 10 eval "ip netns exec $(pod_ns 2 1) ss -Hltn 'sport = :5201' | grep -q ." || exit 1
		pod_exec 1 1 iperf3 -c "${POD_IP[2.1]}" -t "$SECS" -J 2>/dev/null |
			python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
	)
}

printf '%-9s %14s %14s %8s\n' backend "weft Gbit/s" "by hand" ratio
for b in "${BACKENDS[@]}"; do
	w=$(measure "$b" weft)
	h=$(measure "$b" hand)
	r=$(awk -v w="$w" -v h="$h" 'BEGIN { if (h > 0) printf "%.2f", w / h; else print "n/a" }')
	printf '%-9s %14s %14s %8s\n' "$b" "${w:-fail}" "${h:-fail}" "$r"
done
