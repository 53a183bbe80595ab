# SPDX-License-Identifier: Apache-2.0
# A cluster of hosts built from network namespaces (requires common.sh, etcd.sh,
# tap.sh). Every name carries the per-run prefix $NS; everything is removed on
# exit, also on failure. Nothing is created in the root namespace.
#
#                 +------------------- $NS-ul (underlay) --------------------+
#                 |  br0 10.200.0.1/24     etcd on 10.200.0.1:2379           |
#                 |   |  veth h1        |  veth h2        |  veth hN         |
#                 +---|-----------------|-----------------|------------------+
#        $NS-h1  eth0 10.200.0.11   $NS-h2 eth0 .12   ...  $NS-hN eth0 .(10+N)
#                 weftd, cni0 = subnet.1/24, veth pK <-> $NS-h1-pK eth0 (a pod)
#
#   cluster_init                  underlay namespace, bridge, etcd
#   host_add N                    host namespace N on the underlay
#   host_exec N cmd...            run cmd in host N
#   weftd_host_start N [args...]  weftd in host N (log $RUN_DIR/hN.log, env file hN.env)
#   pod_add N K                   pod K on host N, on cni0 (created at the first pod);
#                                 prints the pod's address
#   pod_exec N K cmd...           run cmd in pod K of host N
#   net_config JSON               write <prefix>/config

NS=${NS:-wn$$}
UL=$NS-ul
UNDERLAY_PREFIX=10.200.0
P=/coreos.com/network
declare -A POD_IP=()

ns_cleanup() {
	local n
	for n in $(ip netns list | awk '{print $1}' | grep "^$NS-"); do
		ip netns del "$n" 2>/dev/null
	done
}

cluster_init() {
	on_cleanup ns_cleanup
	ip netns add "$UL" || return 1
	ip -n "$UL" link set lo up
	ip -n "$UL" link add br0 type bridge
	ip -n "$UL" addr add $UNDERLAY_PREFIX.1/24 dev br0
	ip -n "$UL" link set br0 up
	ETCD_NETNS=$UL ETCD_HOST=$UNDERLAY_PREFIX.1 ETCD_CLIENT_PORT=2379 ETCD_PEER_PORT=2380
	etcd_start
}

host_ns() { echo "$NS-h$1"; }
host_ip() { echo "$UNDERLAY_PREFIX.$((10 + $1))"; }
host_exec() {
	local n=$1
	shift
	ip netns exec "$(host_ns "$n")" "$@"
}

host_add() {
	local n=$1 h
	h=$(host_ns "$n")
	ip netns add "$h" || return 1
	ip -n "$h" link set lo up
	ip -n "$UL" link add "h$n" type veth peer name eth0 netns "$h"
	ip -n "$UL" link set "h$n" master br0 up
	ip -n "$h" addr add "$(host_ip "$n")/24" dev eth0
	ip -n "$h" link set eth0 up
	ip -n "$h" route add default via $UNDERLAY_PREFIX.1
	host_exec "$n" sysctl -qw net.ipv4.ip_forward=1
}

net_config() { etcd_put $P/config "$1"; }

weftd_host_start() {
	local n=$1
	shift
	run_bg "h$n" ip netns exec "$(host_ns "$n")" "$WEFT_BUILD/weftd" \
		--etcd-endpoints "$ETCD_ENDPOINT" --subnet-file "$RUN_DIR/h$n.env" "$@"
}

weftd_host_stop() { stop_bg "h$1" "${2:-TERM}"; }

host_held() { wait_until "${2:-20}" grep -q "held; wrote" "$RUN_DIR/h$1.log"; }

host_env() { sed -n "s/^$2=//p" "$RUN_DIR/h$1.env"; }

pod_ns() { echo "$NS-h$1-p$2"; }
pod_exec() {
	local n=$1 k=$2
	shift 2
	ip netns exec "$(pod_ns "$n" "$k")" "$@"
}

# A pod the way the bridge CNI plugin makes one: cni0 holds subnet.1, a veth pair
# connects the pod, whose default route is cni0's address.
pod_add() {
	local n=$1 k=$2 h p subnet gw mtu addr
	h=$(host_ns "$n")
	p=$(pod_ns "$n" "$k")
	subnet=$(host_env "$n" FLANNEL_SUBNET) # e.g. 10.244.5.1/24
	mtu=$(host_env "$n" FLANNEL_MTU)
	gw=${subnet%/*}
	addr="${gw%.*}.$((10 + k))"
	if ! ip -n "$h" link show cni0 >/dev/null 2>&1; then
		ip -n "$h" link add cni0 type bridge
		ip -n "$h" addr add "$subnet" dev cni0
		ip -n "$h" link set cni0 mtu "$mtu" up
	fi
	ip netns add "$p" || return 1
	ip -n "$p" link set lo up
	ip -n "$h" link add "vp$k" mtu "$mtu" type veth peer name eth0 netns "$p"
	ip -n "$p" link set eth0 mtu "$mtu"
	ip -n "$h" link set "vp$k" master cni0 up
	ip -n "$p" addr add "$addr/${subnet#*/}" dev eth0
	ip -n "$p" link set eth0 up
	ip -n "$p" route add default via "$gw"
	POD_IP["$n.$k"]=$addr
	echo "$addr"
}

pod_ping() { # N K DST_IP: one ping, 1 s deadline
	pod_exec "$1" "$2" ping -c 1 -W 1 -q "$3" >/dev/null 2>&1
}
