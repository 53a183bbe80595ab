#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make demo: a local weft cluster built from network namespaces.
#
#   HOSTS hosts on one underlay bridge, an etcd, weftd on every host, PODS pods per
#   host created through the CNI plugin (as a container runtime does), an
#   "outside" host; then a connectivity matrix, egress through masquerade,
#   throughput per path, the leases, and teardown.
#
# Options (environment): BACKEND=vxlan|host-gw|udp (vxlan), HOSTS=N (3), PODS=N (2),
# KEEP=1 (leave the cluster up; `make demo-down` removes it), IPERF_SECONDS (2).
# Exit status: 0 when every pod reaches every pod and the outside, else 1.
set -u
cd "$(dirname "$0")/.."

BACKEND=${BACKEND:-vxlan}
HOSTS=${HOSTS:-3}
PODS=${PODS:-2}
KEEP=${KEEP:-0}
IPERF_SECONDS=${IPERF_SECONDS:-2}
STATE=/run/weft-demo/state
export WEFT_BUILD=${WEFT_BUILD:-build}

if [ -t 1 ]; then
	bold() { printf '\033[1m%s\033[0m\n' "$*"; }
else
	bold() { printf '%s\n' "$*"; }
fi
step_no=0
step() { step_no=$((step_no + 1)); echo; bold "[$step_no/8] $*"; }
say() { echo "      $*"; }
die() { echo "demo: $*" >&2; exit 1; }

case "$BACKEND" in vxlan | host-gw | udp) ;; *) die "BACKEND must be vxlan, host-gw or udp (got '$BACKEND')" ;; esac
[[ "$HOSTS" =~ ^[0-9]+$ ]] && [ "$HOSTS" -ge 1 ] && [ "$HOSTS" -le 50 ] || die "HOSTS must be 1..50"
[[ "$PODS" =~ ^[0-9]+$ ]] && [ "$PODS" -ge 1 ] && [ "$PODS" -le 20 ] || die "PODS must be 1..20"
[ "$(id -u)" = 0 ] || die "run as root (it creates network namespaces)"
if [ -e "$STATE" ]; then
	die "a demo cluster from 'KEEP=1 make demo' is still up; remove it with 'make demo-down'"
fi

bold "weft demo: $HOSTS hosts, $BACKEND backend, $PODS pods per host"
step "Installing what the demo needs (Debian packages, only if missing)"
scripts/deps.sh all || die "installing packages failed"
say "done"
step "Building weftd, weftctl and the CNI plugin"
make -s all >/dev/null || die "build failed"
say "$(build/weftd --version 2>&1)"

NS=wd$$
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
if [ "$KEEP" = 1 ]; then
	KEEP_CLUSTER=1
	KEEP_RUN_DIR=1
fi

step "Underlay, etcd and the network config"
cluster_init >/dev/null || die "etcd did not start (log: $RUN_DIR/etcd.log)"
net_config "{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"$BACKEND\"}}"
say "underlay bridge $UNDERLAY_PREFIX.1/24 in namespace $UL, etcd at $ETCD_ENDPOINT"
say "config: {\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"$BACKEND\"}}"

step "Hosts and weftd"
for n in $(seq 1 "$HOSTS"); do
	host_add "$n" || die "creating host $n failed"
	weftd_host_start "$n" --iface eth0 --ip-masq --healthz-port 8081 --metrics-port 8082
done
for n in $(seq 1 "$HOSTS"); do
	host_held "$n" 30 || die "weftd on h$n got no lease (log: $RUN_DIR/h$n.log)"
	say "h$n  $(host_ip "$n")  subnet $(host_env "$n" FLANNEL_SUBNET)  MTU $(host_env "$n" FLANNEL_MTU)"
done

step "Pods, created by the CNI plugin (bridge + host-local + portmap)"
for n in $(seq 1 "$HOSTS"); do
	line="h$n:"
	for k in $(seq 1 "$PODS"); do
		# Not in $(...): pod_add_cni records the address in POD_IP.
		pod_add_cni "$n" "$k" >/dev/null || die "CNI ADD for pod $k on h$n failed (log: $RUN_DIR/cni.log)"
		line+="  p$k=${POD_IP[$n.$k]}"
	done
	say "$line"
done

# The outside: a host on the underlay that echoes back the source address it sees.
OUT=$NS-out
OUT_IP=$UNDERLAY_PREFIX.100
ip netns add "$OUT"
ip -n "$UL" link add out type veth peer name eth0 netns "$OUT"
ip -n "$UL" link set out master br0 up
ip -n "$OUT" addr add "$OUT_IP/24" dev eth0
ip -n "$OUT" link set eth0 up
ip -n "$OUT" link set lo up
run_bg echo ip netns exec "$OUT" python3 -c 'import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000)); s.listen(64)
while True:
    c, a = s.accept(); c.sendall((a[0] + "\n").encode()); c.close()'
wait_until 10 eval "ip netns exec $OUT ss -Hltn 'sport = :7000' | grep -q ." || die "echo server did not start"

step "Connectivity: every pod to every pod, and to the outside"
# Host namespaces may need a moment for the first ARP on a new bridge: ping
# answers within 2 tries or the pair counts as unreachable.
reach() { pod_exec "$1" "$2" ping -c 1 -W 1 -q "$3" >/dev/null 2>&1 || pod_exec "$1" "$2" ping -c 2 -W 1 -q "$3" >/dev/null 2>&1; }
header=$(printf '%-8s' "from\\to")
for m in $(seq 1 "$HOSTS"); do for j in $(seq 1 "$PODS"); do header+=$(printf '%-7s' "h${m}p$j"); done; done
header+="outside"
say "$header"
pairs=0 pairs_ok=0 egress=0 egress_ok=0
for n in $(seq 1 "$HOSTS"); do for k in $(seq 1 "$PODS"); do
	row=$(printf '%-8s' "h${n}p$k")
	for m in $(seq 1 "$HOSTS"); do for j in $(seq 1 "$PODS"); do
		pairs=$((pairs + 1))
		if reach "$n" "$k" "${POD_IP[$m.$j]}"; then
			pairs_ok=$((pairs_ok + 1))
			row+=$(printf '%-7s' ok)
		else
			row+=$(printf '%-7s' FAIL)
		fi
	done; done
	egress=$((egress + 1))
	seen=$(pod_exec "$n" "$k" timeout 5 bash -c "exec 3<>/dev/tcp/$OUT_IP/7000 && head -1 <&3" 2>/dev/null)
	if [ "$seen" = "$(host_ip "$n")" ]; then
		egress_ok=$((egress_ok + 1))
		row+="ok (seen as $seen)"
	else
		row+="FAIL (seen as ${seen:-nothing})"
	fi
	say "$row"
done; done

step "Throughput (iperf3, $IPERF_SECONDS s each)"
iperf() { # N K DST -> Gbit/s
	pod_exec "$1" "$2" iperf3 -c "$3" -t "$IPERF_SECONDS" -J 2>/dev/null |
		python3 -c 'import json,sys
try: print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print("n/a")'
}
serve() { # N K: a one-shot iperf3 server in that pod
	run_bg "iperf-$1-$2" ip netns exec "$(pod_ns "$1" "$2")" iperf3 -s -1
	wait_until 10 eval "ip netns exec $(pod_ns "$1" "$2") ss -Hltn 'sport = :5201' | grep -q ."
}
declare -A tput=()
if [ "$PODS" -ge 2 ]; then
	serve 1 2 && tput[same]=$(iperf 1 1 "${POD_IP[1.2]}")
	say "pod to pod, same host:      ${tput[same]} Gbit/s"
fi
if [ "$HOSTS" -ge 2 ]; then
	serve 2 1 && tput[cross]=$(iperf 1 1 "${POD_IP[2.1]}")
	say "pod to pod, across hosts:   ${tput[cross]} Gbit/s  ($BACKEND)"
fi
run_bg iperf-out ip netns exec "$OUT" iperf3 -s -1
wait_until 10 eval "ip netns exec $OUT ss -Hltn 'sport = :5201' | grep -q ."
tput[out]=$(iperf 1 1 "$OUT_IP")
say "pod to outside (masquerade): ${tput[out]} Gbit/s"

step "Leases in etcd (weftctl leases)"
ip netns exec "$UL" "$WEFT_BUILD/weftctl" leases --etcd-endpoints "$ETCD_ENDPOINT" | sed 's/^/      /'
say ""
say "weftctl status on h1:"
host_exec 1 "$WEFT_BUILD/weftctl" status | sed 's/^/        /'

# Logs outlive the teardown (KEEP=1 leaves them in the run directory).
LOGS=$RUN_DIR
if [ "$KEEP" != 1 ]; then
	LOGS=$PWD/build/demo-logs
	rm -rf "$LOGS" && mkdir -p "$LOGS" && cp "$RUN_DIR"/*.log "$LOGS"/ 2>/dev/null
fi
echo
bold "Summary"
printf '      %-34s %s\n' "backend" "$BACKEND" "hosts / pods per host" "$HOSTS / $PODS" \
	"pod pairs reachable" "$pairs_ok/$pairs" "egress masqueraded" "$egress_ok/$egress" \
	"throughput same host" "${tput[same]:-n/a} Gbit/s" "throughput across hosts" "${tput[cross]:-n/a} Gbit/s" \
	"throughput to outside" "${tput[out]:-n/a} Gbit/s" "logs" "$LOGS/h*.log (weftd), etcd.log, cni.log"
ok=0
[ "$pairs_ok" = "$pairs" ] && [ "$egress_ok" = "$egress" ] && ok=1
echo "DEMO RESULT: pairs $pairs_ok/$pairs reachable, egress $egress_ok/$egress masqueraded, $([ $ok = 1 ] && echo PASS || echo FAIL)"

if [ "$KEEP" = 1 ]; then
	mkdir -p "$(dirname "$STATE")"
	{
		echo "NS=$NS"
		echo "RUN_DIR=$RUN_DIR"
		for name in "${!BG_PIDS[@]}"; do echo "PID=${BG_PIDS[$name]}"; done
	} >"$STATE"
	echo
	bold "The cluster stays up (KEEP=1)"
	say "enter a pod:     ip netns exec $(pod_ns 1 1) bash"
	say "a host's view:   ip netns exec $(host_ns 1) ip route; ip netns exec $(host_ns 1) bridge fdb show dev flannel.1"
	say "weft's state:    ip netns exec $(host_ns 1) $WEFT_BUILD/weftctl status"
	say "logs:            $RUN_DIR"
	say "remove it:       make demo-down"
else
	echo
	say "tearing down (namespaces $NS-*, processes by pid)"
fi
[ $ok = 1 ]
