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
#   net_config JSON               write <prefix>/config (10.244.0.0/16: SubnetMax
#                                 10.244.199.0 added, see net_config)
#
# The underlay family: UNDERLAY=v4 (default), dual or v6, set before lib.sh is
# sourced (or before cluster_init). dual: br0 also holds fd00:200::1/64, each
# host's eth0 also fd00:200::(10+N)/64 (host_ip6) with an IPv6 default route;
# net_config enables IPv6 (IPv6Network fd10:244::/56) and pods get an IPv6
# address too (POD_IP6). v6: the same without any IPv4 on the underlay (etcd
# listens on [fd00:200::1]), EnableIPv4 false, pods IPv6 only (POD_IP holds
# their IPv6 address as well). host_pub N is the address backends use.

NS=${NS:-wn$$}
UL=$NS-ul
UNDERLAY_PREFIX=10.200.0
P=/coreos.com/network
declare -A POD_IP=()
UNDERLAY=${UNDERLAY:-v4}
case $UNDERLAY in
v4 | dual | v6) ;;
*) echo "lib.sh: UNDERLAY must be v4, dual or v6, not '$UNDERLAY'" >&2 && exit 2 ;;
esac
UNDERLAY_PREFIX6=fd00:200: # the underlay's IPv6 /64 (dual, v6)
IPV6_NETWORK=fd10:244::/56     # net_config's IPv6Network (dual, v6)
IPV6_SUBNET_MAX=fd10:244:0:c7:: # and its IPv6SubnetMax (hosts at 199 at most)
declare -A POD_IP6=()
ul_v4() { [ "$UNDERLAY" != v6 ]; } # the underlay has IPv4
ul_v6() { [ "$UNDERLAY" != v4 ]; } # the underlay has IPv6

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
	# A fixed MAC: a bridge otherwise takes its lowest port's, which changes as
	# hosts join and leaves hosts with a stale ARP entry for the etcd address.
	ip -n "$UL" link add br0 address 02:00:0a:c8:00:01 type bridge
	ETCD_NETNS=$UL ETCD_HOST=$UNDERLAY_PREFIX.1 ETCD_CLIENT_PORT=2379 ETCD_PEER_PORT=2380
	ul_v4 && ip -n "$UL" addr add $UNDERLAY_PREFIX.1/24 dev br0
	if ul_v6; then
		ip -n "$UL" addr add "$UNDERLAY_PREFIX6:1/64" dev br0 nodad
		[ "$UNDERLAY" = v6 ] && ETCD_HOST="[$UNDERLAY_PREFIX6:1]"
	fi
	ip -n "$UL" link set br0 up
	etcd_start
}

host_ns() { echo "$NS-h$1"; }
host_ip() { echo "$UNDERLAY_PREFIX.$((10 + $1))"; }
host_ip6() { echo "$UNDERLAY_PREFIX6:$((10 + $1))"; } # fd00:200::11 for host 1
host_pub() { if [ "$UNDERLAY" = v6 ]; then host_ip6 "$1"; else host_ip "$1"; fi; }
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
	ul_v4 && ip -n "$h" addr add "$(host_ip "$n")/24" dev eth0
	ul_v6 && ip -n "$h" addr add "$(host_ip6 "$n")/64" dev eth0 nodad
	ip -n "$h" link set eth0 up
	ul_v4 && ip -n "$h" route add default via $UNDERLAY_PREFIX.1
	if ul_v6; then
		ip -n "$h" -6 route add default via "$UNDERLAY_PREFIX6:1" dev eth0
		host_exec "$n" sysctl -qw net.ipv6.conf.all.forwarding=1
	fi
	host_exec "$n" sysctl -qw net.ipv4.ip_forward=1
}

# Hosts pick their subnets at random; leases a test writes by hand live at
# 10.244.200.0 and above, so that no host can hold them already (a put there
# would overwrite the host's own lease and make it a reservation). The same for
# IPv6: hosts stay at or below fd10:244:0:c7::/64 (199), hand-written leases
# start at fd10:244:0:c8::/64.
# With UNDERLAY=dual or v6, a config that does not say EnableIPv6 gets
# "EnableIPv6":true and the IPv6Network (and with v6 "EnableIPv4":false, the
# IPv4 fields left as upstream's IPv6-only setup leaves them).
net_config() {
	local c=$1
	case $c in
	*SubnetMax*) ;;
	*'"Network":"10.244.0.0/16"'*) c=${c/'"Network":"10.244.0.0/16"'/'"Network":"10.244.0.0/16","SubnetMax":"10.244.199.0"'} ;;
	esac
	if ul_v6 && [[ $c == '{'* && $c != *EnableIPv6* ]]; then
		c="{\"EnableIPv6\":true,\"IPv6Network\":\"$IPV6_NETWORK\",\"IPv6SubnetMax\":\"$IPV6_SUBNET_MAX\",${c#\{}"
		[ "$UNDERLAY" = v6 ] && c="{\"EnableIPv4\":false,${c#\{}"
	fi
	etcd_put $P/config "$c"
}

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
# connects the pod, whose default route is cni0's address. With an IPv6 underlay
# (UNDERLAY=dual, v6) the same for FLANNEL_IPV6_SUBNET: cni0 holds its ::1, the
# pod ::(10+K) (POD_IP6), an IPv6 default route to cni0; with v6 only that, and
# POD_IP is the IPv6 address. Prints POD_IP.
pod_add() {
	local n=$1 k=$2 h p subnet gw mtu addr sub6 new=0
	h=$(host_ns "$n")
	p=$(pod_ns "$n" "$k")
	mtu=$(host_env "$n" FLANNEL_MTU)
	if ! ip -n "$h" link show cni0 >/dev/null 2>&1; then
		ip -n "$h" link add cni0 type bridge
		ip -n "$h" link set cni0 mtu "$mtu" up
		new=1
	fi
	ip netns add "$p" || return 1
	ip -n "$p" link set lo up
	ip -n "$h" link add "vp$k" mtu "$mtu" type veth peer name eth0 netns "$p"
	ip -n "$p" link set eth0 mtu "$mtu"
	ip -n "$h" link set "vp$k" master cni0 up
	ip -n "$p" link set eth0 up
	if ul_v4; then
		subnet=$(host_env "$n" FLANNEL_SUBNET) # e.g. 10.244.5.1/24
		gw=${subnet%/*}
		addr="${gw%.*}.$((10 + k))"
		[ "$new" = 0 ] || ip -n "$h" addr add "$subnet" dev cni0
		ip -n "$p" addr add "$addr/${subnet#*/}" dev eth0
		ip -n "$p" route add default via "$gw"
		POD_IP["$n.$k"]=$addr
	fi
	if ul_v6; then
		sub6=$(host_env "$n" FLANNEL_IPV6_SUBNET) # e.g. fd10:244:0:5::1/64
		[ "$new" = 0 ] || ip -n "$h" addr add "$sub6" dev cni0 nodad
		POD_IP6["$n.$k"]="${sub6%::*}::$((10 + k))"
		ip -n "$p" addr add "${POD_IP6[$n.$k]}/${sub6#*/}" dev eth0 nodad
		ip -n "$p" -6 route add default via "${sub6%/*}" dev eth0
		ul_v4 || POD_IP["$n.$k"]=${POD_IP6[$n.$k]}
	fi
	echo "${POD_IP[$n.$k]}"
}

pod_ping() { # N K DST_IP: one ping, 1 s deadline
	pod_exec "$1" "$2" ping -c 1 -W 1 -q "$3" >/dev/null 2>&1
}

# pod_add_cni N K: pod K on host N made the way a container runtime makes it:
# the conflist flannel (weft's plugin, installed as "flannel") + portmap run by
# a minimal libcni (CNI_* environment, config on stdin, prevResult chaining,
# runtimeConfig from capabilities, results cached for DEL), inside host N, with
# CNI_PATH a per-run directory holding our binary and the Debian reference
# plugins. All plugin state stays in $RUN_DIR (flannel dataDir h<N>-flannel,
# host-local dataDir h<N>-ipam). Sets POD_IP like pod_add (and POD_IP6 to
# the first IPv6 address, if any) and prints the address. Optional: PORTMAPS='[{"hostPort":8080,"containerPort":80,
# "protocol":"tcp"}]' (runtimeConfig for portmap), CNI_LIST_VERSION (0.3.1).
pod_add_cni() {
	local n=$1 k=$2 h p bin list rt="" out
	h=$(host_ns "$n")
	p=$(pod_ns "$n" "$k")
	bin=$RUN_DIR/cni-bin
	if [ ! -e "$RUN_DIR/cni-runtime.py" ]; then
		mkdir -p "$bin" "$RUN_DIR/cni-cache"
		install -m 0755 "$WEFT_BUILD/weft-cni" "$bin/flannel"
		for t in bridge host-local portmap loopback; do ln -sf "/usr/lib/cni/$t" "$bin/$t"; done
		cat >"$RUN_DIR/cni-runtime.py" <<'EOF'
# cni-runtime.py CMD CONFLIST ID NETNS IFNAME CNI_PATH CACHE_DIR [RUNTIME_JSON]
# What libcni does for a network configuration list, and nothing more.
import json, os, subprocess, sys
cmd, listf, cid, netns, ifname, path, cache = sys.argv[1:8]
rt = json.loads(sys.argv[8]) if len(sys.argv) > 8 and sys.argv[8] else None
conf = json.load(open(listf))
ver = conf["cniVersion"]
def gte(a, b):
    return tuple(map(int, a.split("."))) >= tuple(map(int, b.split(".")))
cfile = os.path.join(cache, cid + "-" + ifname + ".json")
cached = json.load(open(cfile)) if os.path.exists(cfile) else None
if cmd != "ADD" and rt is None and cached:
    rt = cached.get("runtime")
plugins = conf["plugins"] if cmd in ("ADD", "CHECK") else conf["plugins"][::-1]
prev = None
if cmd == "CHECK" or (cmd == "DEL" and gte(ver, "0.4.0")):
    prev = cached["result"] if cached else None
for p in plugins:
    c = dict(p, name=conf["name"], cniVersion=ver)
    caps = {k: v for k, v in (rt or {}).items() if p.get("capabilities", {}).get(k)}
    if caps:
        c["runtimeConfig"] = caps
    if prev is not None:
        c["prevResult"] = prev
    env = {"PATH": os.environ["PATH"], "CNI_COMMAND": cmd, "CNI_CONTAINERID": cid,
           "CNI_IFNAME": ifname, "CNI_PATH": path}
    if netns:
        env["CNI_NETNS"] = netns
    exe = [os.path.join(d, p["type"]) for d in path.split(":")
           if os.path.exists(os.path.join(d, p["type"]))][0]
    r = subprocess.run([exe], input=json.dumps(c).encode(), env=env, capture_output=True)
    sys.stderr.write(r.stderr.decode(errors="replace"))
    if r.returncode != 0:
        sys.stdout.write(r.stdout.decode(errors="replace"))
        sys.exit(1)
    if cmd == "ADD":
        prev = json.loads(r.stdout)
if cmd == "ADD":
    json.dump({"result": prev, "runtime": rt}, open(cfile, "w"))
    print(json.dumps(prev))
elif cmd == "DEL" and cached:
    os.unlink(cfile)
EOF
	fi
	list=$RUN_DIR/h$n-cni.conflist
	[ -e "$list" ] || cat >"$list" <<EOF
{"name":"cbr0","cniVersion":"${CNI_LIST_VERSION:-0.3.1}","plugins":[
 {"type":"flannel","subnetFile":"$RUN_DIR/h$n.env","dataDir":"$RUN_DIR/h$n-flannel",
  "delegate":{"hairpinMode":true,"isDefaultGateway":true},"ipam":{"dataDir":"$RUN_DIR/h$n-ipam"}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
EOF
	[ -z "${PORTMAPS:-}" ] || rt="{\"portMappings\":$PORTMAPS}"
	ip netns add "$p" || return 1
	ip -n "$p" link set lo up
	out=$(ip netns exec "$h" python3 "$RUN_DIR/cni-runtime.py" ADD "$list" "$p" \
		"/var/run/netns/$p" eth0 "$bin" "$RUN_DIR/cni-cache" "$rt" 2>>"$RUN_DIR/cni.log") || {
		echo "# pod_add_cni $n $k failed: $out" >&2
		return 1
	}
	POD_IP["$n.$k"]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ips"][0]["address"].split("/")[0])' "$out")
	# The first IPv6 address too, when the plugin gave one (FLANNEL_IPV6_SUBNET).
	POD_IP6["$n.$k"]=$(python3 -c 'import json,sys; print(next((i["address"].split("/")[0] for i in json.loads(sys.argv[1])["ips"] if ":" in i["address"]), ""))' "$out")
	[ -n "${POD_IP6[$n.$k]}" ] || unset "POD_IP6[$n.$k]"
	echo "${POD_IP[$n.$k]}"
}

# pod_del_cni N K: CNI DEL of pod K on host N through the same conflist (in
# reverse order, runtimeConfig and, from 0.4.0 on, prevResult from the cache),
# as a runtime does when the pod goes; the pod's namespace stays.
pod_del_cni() {
	local n=$1 k=$2 p out
	p=$(pod_ns "$n" "$k")
	out=$(ip netns exec "$(host_ns "$n")" python3 "$RUN_DIR/cni-runtime.py" DEL \
		"$RUN_DIR/h$n-cni.conflist" "$p" "/var/run/netns/$p" eth0 "$RUN_DIR/cni-bin" \
		"$RUN_DIR/cni-cache" 2>>"$RUN_DIR/cni.log") || {
		echo "# pod_del_cni $n $k failed: $out" >&2
		return 1
	}
	unset "POD_IP[$n.$k]"
}
