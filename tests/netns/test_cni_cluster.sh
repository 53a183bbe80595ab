#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A 3-host cluster (tests/netns/lib.sh topology, a real etcd, weftd on each
# host) whose pods are made by weft's CNI plugin the way a runtime makes them
# (pod_add_cni: conflist flannel + portmap, reference bridge/host-local/
# portmap), once on vxlan and once on host-gw:
#   - every pod reaches every other pod;
#   - hostPort: pod 1.1 serves TCP port 80 published as hostPort 8080 by
#     portmap; other hosts reach it at host 1's underlay address:8080;
#   - DEL removes the pod's interface and frees its address; a second DEL
#     succeeds; in the end no state is left (files, veths, reservations).
#
#   test_cni_cluster.sh            both backends, one after the other
#   test_cni_cluster.sh BACKEND    one backend (vxlan or host-gw)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh

if [ $# -eq 0 ]; then
	# Each backend in a fresh process: own namespaces, etcd and run directory.
	for b in vxlan host-gw; do
		tap_cmocka "$b" env NS="wk$$${b:0:1}" bash "$0" "$b"
	done
	tap_done
	exit
fi

BACKEND=$1
. tests/lib/etcd.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

for t in bridge host-local portmap loopback; do
	[ -x /usr/lib/cni/$t ] || { tap_skip "CNI cluster" "no /usr/lib/cni/$t"; tap_done; exit 0; }
done

cluster_init || { tap_ok "cluster up" false; tap_done; exit 1; }
net_config "{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"$BACKEND\"}}"
for n in $(seq 1 "$HOSTS"); do
	host_add "$n"
	weftd_host_start "$n" --iface eth0
done
up=0
for n in $(seq 1 "$HOSTS"); do host_held "$n" && up=$((up + 1)); done
tap_eq "every host holds a lease" "$HOSTS" "$up"

bad=0
for n in $(seq 1 "$HOSTS"); do
	for k in $(seq 1 "$PODS"); do
		if [ "$n.$k" = 1.1 ]; then
			PORTMAPS='[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]' \
				pod_add_cni "$n" "$k" >/dev/null || bad=$((bad + 1))
		else
			pod_add_cni "$n" "$k" >/dev/null || bad=$((bad + 1))
		fi
	done
done
tap_eq "$((HOSTS * PODS)) pods added through CNI" 0 "$bad"
for n in $(seq 1 "$HOSTS"); do
	subnet=$(subnet_net "$n")
	tap_eq "h$n: cni0 holds the first address of its subnet" "$(host_env "$n" FLANNEL_SUBNET)" \
		"$(host_exec "$n" ip -4 -o addr show dev cni0 | awk '{print $4}')"
	tap_ok "h$n: pod addresses in $subnet" python3 -c 'import ipaddress,sys
net = ipaddress.ip_network(sys.argv[1])
assert all(ipaddress.ip_address(a) in net for a in sys.argv[2:])' "$subnet" \
		"${POD_IP[$n.1]:-x}" "${POD_IP[$n.2]:-x}"
done
tap_eq "pod MTU is FLANNEL_MTU" "$(host_env 1 FLANNEL_MTU)" \
	"$(pod_exec 1 1 ip -o link show dev eth0 | grep -o 'mtu [0-9]*' | cut -d' ' -f2)"

all_pairs_ping "$BACKEND (CNI pods)"

# hostPort through portmap: a TCP listener on port 80 in pod 1.1.
run_bg web ip netns exec "$(pod_ns 1 1)" python3 -m http.server 80 --bind 0.0.0.0
if wait_until 10 eval "pod_exec 1 1 ss -Hltn 'sport = :80' | grep -q ."; then
	for n in 2 3; do
		tap_eq "h$n reaches pod 1.1's port 80 at $(host_ip 1):8080 (hostPort)" 200 \
			"$(host_exec "$n" curl -s -o /dev/null -w '%{http_code}' -m 5 "http://$(host_ip 1):8080/")"
	done
	tap_eq "and the pod's own address still answers on 80" 200 \
		"$(pod_exec 2 1 curl -s -o /dev/null -w '%{http_code}' -m 5 "http://${POD_IP[1.1]}:80/")"
else
	tap_ok "listener in pod 1.1 on port 80" false
fi
stop_bg web

# DEL
ip22=${POD_IP[2.2]}
tap_ok "DEL pod 2.2" pod_del_cni 2 2
tap_ok "pod 2.2's namespace is still there" pod_exec 2 2 ip link show lo
tap_fail_with "pod 2.2's interface is gone" 1 '^Device "eth0" does not exist\.$' \
	pod_exec 2 2 ip link show eth0
tap_no_file "pod 2.2's address is free" "$RUN_DIR/h2-ipam/cbr0/$ip22"
tap_ok "a second DEL succeeds" pod_del_cni 2 2
tap_ok "pod 2.1 still reaches pod 1.1" pod_ping 2 1 "${POD_IP[1.1]}"
tap_ok "DEL pod 1.1 (portmap and flannel)" pod_del_cni 1 1
tap_lacks "hostPort 8080 is gone from h1" '--dport 8080' '^-P PREROUTING ' \
	host_exec 1 iptables -t nat -S

bad=0
for n in $(seq 1 "$HOSTS"); do
	for k in $(seq 1 "$PODS"); do
		[ -n "${POD_IP[$n.$k]:-}" ] || continue
		pod_del_cni "$n" "$k" || bad=$((bad + 1))
	done
done
tap_eq "DEL of the remaining pods" 0 "$bad"
# Zero counts, but not because the place looked at is gone.
count() { grep -c . || true; }
left_in() { local l; if l=$(find "$@" 2>&1); then count <<<"$l"; else echo "$l"; fi; }
tap_eq "no stored configuration left" 0 "$(left_in "$RUN_DIR"/h*-flannel -type f)"
tap_eq "no address reservation left" 0 "$(left_in "$RUN_DIR"/h*-ipam -name '10.*')"
left=0 nocni=
for n in $(seq 1 "$HOSTS"); do
	if l=$(host_exec "$n" ip -o link show master cni0); then
		left=$((left + $(count <<<"$l")))
	else
		nocni="$nocni (no cni0 on h$n)"
	fi
done
tap_eq "no pod veth left on any cni0" 0 "$left$nocni"
for n in $(seq 1 "$HOSTS"); do weftd_host_stop "$n"; done
tap_done
