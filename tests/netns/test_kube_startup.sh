#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kube mode start-up as flanneld's (flannel.md §1.3, §5.3), against a FAKE API
# server (kube_lib.sh):
#  - the first list of nodes must complete in time (flanneld: 10 min, here
#    WEFT_TEST_KUBE_SYNC_TIMEOUT=3 s): when every list fails, weftd exits 1 with
#    flanneld's message; with CONT_WHEN_CACHE_NOT_READY=true it logs flanneld's
#    "Continuing anyway.", takes its lease, and programs the peers once a list
#    goes through;
#  - EVENT_QUEUE_DEPTH: a malformed value stops start-up with flanneld's
#    message; a depth of 1 still programs every peer (one event per call);
#  - the alloc backend lists and watches no nodes (flanneld turns its informer
#    off) and still takes its lease from our Node;
#  - flanneld's DaemonSet command line and environment work unchanged on weftd
#    installed as flanneld.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/kube_lib.sh

kube_cluster_init || { tap_ok "fake API server up" false; tap_done; exit 1; }
host_add 1
kube_node_create 1
# Two upstream-looking host-gw peers on the underlay (no host behind them).
for n in 5 6; do
	kctl POST /fake/nodes "$(printf '{"metadata":{"name":"node%s","annotations":{
		"%s/kube-subnet-manager":"true","%s/backend-type":"host-gw",
		"%s/backend-data":"null","%s/public-ip":"10.200.0.%s"}},
		"spec":{"podCIDR":"10.244.%s.0/24","podCIDRs":["10.244.%s.0/24"]}}' \
		"$n" "$A" "$A" "$A" "$A" "$((50 + n))" "$n" "$n")" >/dev/null
done
net_conf '{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}'
peer_routes() { host_exec 1 ip route show proto 151 | grep -c 'via 10\.200\.0\.5[56] dev eth0'; }
# list (and watch) requests of all nodes, as the fake recorded them
node_lists() {
	kctl GET /fake/requests | jq_py "len([r for r in j if r['path'] == '/api/v1/nodes'])"
}
fail_lists() { kctl POST /fake/fail "{\"status\":503,\"count\":$1,\"match\":\"/api/v1/nodes?\"}" >/dev/null; }
MSG_GIVE_UP='Failed to create SubnetManager: error waiting for nodeController to sync state: context deadline exceeded'
MSG_GO_ON='Timed out waiting for node controller sync. Continuing anyway.'
export WEFT_TEST_KUBE_SYNC_TIMEOUT=3

# 1. Every list fails: flanneld's message, exit 1, no subnet file.
fail_lists 100000
weftd_host_start 1 --iface eth0
wait_bg h1 30
tap_eq "no list within the sync timeout: exit 1" 1 "$?"
tap_ok "flanneld's message" grep -qF "$MSG_GIVE_UP" "$RUN_DIR/h1.log"
tap_ok "the lists were tried meanwhile (503s)" test "$(node_lists)" -ge 2
tap_ok "no subnet file" test ! -e "$RUN_DIR/h1.env"
tap_eq "no peer route" 0 "$(peer_routes)"

# 2. The same with CONT_WHEN_CACHE_NOT_READY=true: go on, and catch up later.
mv "$RUN_DIR/h1.log" "$RUN_DIR/h1.giveup.log"
CONT_WHEN_CACHE_NOT_READY=true weftd_host_start 1 --iface eth0
tap_ok "CONT_WHEN_CACHE_NOT_READY=true: flanneld's message" \
	wait_until 20 grep -qF "$MSG_GO_ON" "$RUN_DIR/h1.log"
tap_ok "the lease is held without the list" host_held 1
tap_eq "our subnet from our Node" "10.244.1.1/24" "$(host_env 1 FLANNEL_SUBNET)"
tap_eq "no peer yet" 0 "$(peer_routes)"
tap_ok "still running" bg_alive h1
fail_lists 0
tap_ok "once a list goes through, both peers are programmed" \
	wait_until 40 eval '[ "$(peer_routes)" = 2 ]'
weftd_host_stop 1
tap_eq "SIGTERM: exit 0" 0 "$?"

# 3. EVENT_QUEUE_DEPTH as flanneld reads it.
mv "$RUN_DIR/h1.log" "$RUN_DIR/h1.cont.log"
EVENT_QUEUE_DEPTH=12x weftd_host_start 1 --iface eth0
wait_bg h1 20
tap_eq "EVENT_QUEUE_DEPTH=12x: exit 1" 1 "$?"
tap_ok "flanneld's message names the value" \
	grep -qF 'env EVENT_QUEUE_DEPTH=12x format error' "$RUN_DIR/h1.log"
mv "$RUN_DIR/h1.log" "$RUN_DIR/h1.badq.log"
host_exec 1 ip route show proto 151 >"$RUN_DIR/routes.txt"; while read -r r; do host_exec 1 ip route del "${r%% *}" proto 151 || echo "# cannot delete $r"; done <"$RUN_DIR/routes.txt"
tap_eq "the previous run's routes removed" 0 "$(peer_routes)"
EVENT_QUEUE_DEPTH=1 weftd_host_start 1 --iface eth0
tap_ok "EVENT_QUEUE_DEPTH=1: the lease" host_held 1
tap_ok "and every peer, one event per call" wait_until 20 eval '[ "$(peer_routes)" = 2 ]'
weftd_host_stop 1
tap_eq "SIGTERM: exit 0" 0 "$?"

# 4. alloc: no informer, no list or watch of nodes; the lease from our Node.
mv "$RUN_DIR/h1.log" "$RUN_DIR/h1.depth.log"
rm -f "$RUN_DIR/h1.env"
net_conf '{"Network":"10.244.0.0/16","Backend":{"Type":"alloc"}}'
kctl DELETE /fake/requests >/dev/null
weftd_host_start 1 --iface eth0
tap_ok "alloc: the lease" host_held 1
tap_eq "alloc: our subnet from our Node" "10.244.1.1/24" "$(host_env 1 FLANNEL_SUBNET)"
tap_ok "alloc: says the informer is off" grep -qF "Node controller skips sync" "$RUN_DIR/h1.log"
tap_ok "alloc: NetworkUnavailable=False set" \
	wait_until 10 eval '[ "$(node_condition node1 NetworkUnavailable)" = "False FlannelIsUp Flannel is running on this node" ]'
tap_eq "alloc: no list or watch of the nodes" 0 "$(node_lists)"
tap_ok "alloc: our Node was read" test "$(kctl GET /fake/requests |
	jq_py "len([r for r in j if r['path'] == '/api/v1/nodes/node1'])")" -ge 1
weftd_host_stop 1
tap_eq "SIGTERM: exit 0" 0 "$?"

# 5. flanneld's DaemonSet after swapping binaries: upstream's kube-flannel.yml
# runs `/opt/bin/flanneld --ip-masq --kube-subnet-mgr` in-cluster, with
# POD_NAME/POD_NAMESPACE, EVENT_QUEUE_DEPTH=5000 and
# CONT_WHEN_CACHE_NOT_READY=false; the net-conf and subnet file paths (host
# paths there) come through flanneld's FLANNELD_* variables here.
host_add 3
kube_node_create 3
net_conf '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}'
mkdir -p "$RUN_DIR/opt/bin"
ln -s "$(realpath "$WEFT_BUILD/weftd")" "$RUN_DIR/opt/bin/flanneld"
kube_auth 3 # in-cluster: service account, node name from our Pod
run_bg h3 ip netns exec "$(host_ns 3)" env "${KUBE_ENV[@]}" EVENT_QUEUE_DEPTH=5000 \
	CONT_WHEN_CACHE_NOT_READY=false FLANNELD_NET_CONFIG_PATH="$RUN_DIR/net-conf.json" \
	FLANNELD_SUBNET_FILE="$RUN_DIR/h3.env" "$RUN_DIR/opt/bin/flanneld" --ip-masq --kube-subnet-mgr
tap_ok "DaemonSet: flanneld holds node3's lease" host_held 3
tap_eq "DaemonSet: subnet.env as flanneld writes it" "FLANNEL_NETWORK=10.244.0.0/16
FLANNEL_SUBNET=10.244.3.1/24
FLANNEL_MTU=1450
FLANNEL_IPMASQ=true" "$(cat "$RUN_DIR/h3.env")"
tap_eq "DaemonSet: node3's annotations" "vxlan true $(host_ip 3)" \
	"$(node_annot node3 "$A/backend-type") $(node_annot node3 "$A/kube-subnet-manager") $(node_annot node3 "$A/public-ip")"
tap_ok "DaemonSet: NetworkUnavailable=False" \
	wait_until 10 eval '[ "$(node_condition node3 NetworkUnavailable)" = "False FlannelIsUp Flannel is running on this node" ]'
tap_ok "DaemonSet: --ip-masq installed the masquerade chain" \
	wait_until 10 eval 'host_exec 3 iptables -t nat -S FLANNEL-POSTRTG | grep -q MASQUERADE'
tap_ok "DaemonSet: the peers of node3 (host-gw phantoms are another type: none)" \
	test "$(host_exec 3 ip route show dev flannel.1 | grep -c .)" = 0
tap_ok "DaemonSet: the log names itself flanneld" grep -q ' flanneld\[' "$RUN_DIR/h3.log"
stop_bg h3
tap_eq "DaemonSet: SIGTERM: exit 0" 0 "$?"

tap_done
