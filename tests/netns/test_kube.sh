#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kube mode, vxlan, 3 hosts x 2 pods against a FAKE API server (kube_lib.sh):
# all pairs reach each other; the annotations and the NetworkUnavailable
# condition are flanneld's, byte for byte; an upstream-looking node (no host
# behind it) is programmed and re-programmed when its public-ip changes;
# public-ip-overwrite is honoured live; watches cut and resumed, and 410 Gone
# (as an ERROR event and as an HTTP status) lose and duplicate nothing; a
# deleted node vanishes from every peer within 2 s; a restart loses no packet
# and keeps the VXLAN MAC, also when flannel.1 is gone (reboot).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/kube_lib.sh

KUBE_WEFTD_EXTRA=(--metrics-port 8082) # for weftctl status
kube_cluster_up '{"Type":"vxlan"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
all_pairs_ping "kube vxlan"
for n in 1 2 3; do check_vxlan_objects "$n"; done

# ---- what we wrote, as flanneld writes it ----
for n in 1 2 3; do
	mac=$(host_exec "$n" ip -o link show flannel.1 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
	tap_eq "node$n: backend-data" "{\"VNI\":1,\"VtepMAC\":\"$mac\"}" "$(node_annot "node$n" "$A/backend-data")"
	tap_eq "node$n: backend-type" vxlan "$(node_annot "node$n" "$A/backend-type")"
	tap_eq "node$n: kube-subnet-manager" true "$(node_annot "node$n" "$A/kube-subnet-manager")"
	tap_eq "node$n: public-ip" "$(host_ip "$n")" "$(node_annot "node$n" "$A/public-ip")"
	tap_eq "node$n: no IPv6 annotations" "" "$(node_annot "node$n" "$A/backend-v6-data")$(node_annot "node$n" "$A/public-ipv6")"
	tap_ok "node$n: NetworkUnavailable=False FlannelIsUp" wait_until 5 eval \
		"[ \"\$(node_condition node$n NetworkUnavailable)\" = 'False FlannelIsUp Flannel is running on this node' ]"
	tap_eq "h$n: FLANNEL_SUBNET from spec.podCIDR" "10.244.$n.1/24" "$(host_env "$n" FLANNEL_SUBNET)"
	# Cleared once ready (rules, subnet.env, peers), as the docs say.
	tap_eq "node$n: condition patched after readiness" "held; wrote|NetworkUnavailable=False" \
		"$(grep -oE 'held; wrote|NetworkUnavailable=False' "$RUN_DIR/h$n.log" | head -2 | paste -sd'|')"
done
# weftctl status speaks of the Node, not of etcd or a reservation.
st=$(host_exec 1 "$WEFT_BUILD/weftctl" status 2>&1)
tap_eq "weftctl status in kube mode: lease and watch lines" \
	"Lease:          10.244.1.0/24|Lease expires:  never (the Node's podCIDR)|Node watch:     healthy" \
	"$(grep -E '^(Lease|Lease expires|Node watch|etcd watch):' <<<"$st" | paste -sd'|')"
patches=$(kctl GET /fake/patches)
tap_eq "every patch is a strategic merge on nodes/<name>/status" "[]" \
	"$(jq_py "[p for p in j if p['subresource']!='status' or p['content_type']!='application/strategic-merge-patch+json']" <<<"$patches")"
tap_eq "one annotation patch and one condition patch per node" \
	'{"node1":[["metadata"],["status"]],"node2":[["metadata"],["status"]],"node3":[["metadata"],["status"]]}' \
	"$(jq_py "{n:[sorted(p['body']) for p in j if p['node']==n] for n in ['node1','node2','node3']}" <<<"$patches")"
tap_eq "the condition patch has flanneld's fields" \
	'["type","status","lastHeartbeatTime","lastTransitionTime","reason","message"]' \
	"$(jq_py "list([p['body'] for p in j if 'status' in p['body']][0]['status']['conditions'][0])" <<<"$patches")"
reqs=$(kctl GET /fake/requests)
tap_eq "authentication: node1 client cert, node2 kubeconfig token, node3 service account" \
	'["cert:system:node:node1","token"]' \
	"$(jq_py "sorted(set(r['auth'] for r in j))" <<<"$reqs")"
tap_ok "h3 found its node through its Pod" grep -q "pod kube-flannel/kube-weft-ds-h3 runs on node node3" "$RUN_DIR/h3.log"
tap_eq "watches ask for bookmarks and resume from a resourceVersion" true \
	"$(jq_py "all('allowWatchBookmarks=true' in r['query'] and 'resourceVersion=' in r['query'] and 'resourceVersion=0&' not in r['query'] for r in j if 'watch=1' in r['query'])" <<<"$reqs")"

# ---- an upstream-looking peer: programmed, then re-programmed ----
kctl POST /fake/nodes "$(kube_phantom 9 10.200.0.99)" >/dev/null
fdb9() { host_exec "$1" bridge fdb show dev flannel.1 | grep "^0e:5a:00:00:00:09 " | sed 's/ *$//'; }
for n in 1 2 3; do
	tap_ok "h$n: upstream-looking node9 programmed" wait_until 2 eval \
		"[ \"\$(fdb9 $n)\" = '0e:5a:00:00:00:09 dst 10.200.0.99 self permanent' ] && host_exec $n ip route show 10.244.9.0/24 | grep -q 'via 10.244.9.0 dev flannel.1'"
done
kctl PATCH /fake/nodes/node9 "{\"metadata\":{\"annotations\":{\"$A/public-ip\":\"10.200.0.98\"}}}" >/dev/null
for n in 1 2 3; do
	t=$(time_until 2 eval "[ \"\$(fdb9 $n)\" = '0e:5a:00:00:00:09 dst 10.200.0.98 self permanent' ]")
	tap_ok "h$n: node9's changed public-ip re-programs its fdb entry ($t ms)" test "$t" != timeout
done

# ---- public-ip-overwrite on a real node: republished, peers follow ----
mac1=$(vtep_mac 1)
fdb1() { host_exec "$1" bridge fdb show dev flannel.1 | grep "^$mac1 " | sed 's/ *$//'; }
kctl PATCH /fake/nodes/node1 "{\"metadata\":{\"annotations\":{\"$A/public-ip-overwrite\":\"10.200.0.111\"}}}" >/dev/null
tap_ok "node1: public-ip follows public-ip-overwrite" wait_until 5 eval "[ \"\$(node_annot node1 $A/public-ip)\" = 10.200.0.111 ]"
for n in 2 3; do
	tap_ok "h$n: fdb entry of h1 now points at the overwrite" wait_until 3 eval \
		"[ \"\$(fdb1 $n)\" = '$mac1 dst 10.200.0.111 self permanent' ]"
done
kctl PATCH /fake/nodes/node1 "{\"metadata\":{\"annotations\":{\"$A/public-ip-overwrite\":null}}}" >/dev/null
tap_ok "node1: public-ip back to the detected address" wait_until 5 eval "[ \"\$(node_annot node1 $A/public-ip)\" = $(host_ip 1) ]"
for n in 2 3; do
	tap_ok "h$n: fdb entry of h1 restored" wait_until 3 eval "[ \"\$(fdb1 $n)\" = '$mac1 dst $(host_ip 1) self permanent' ]"
done
# An annotation removed by hand is written again; the first write fails and
# is retried, saying why.
kctl POST /fake/fail '{"status":503,"count":1,"match":"/api/v1/nodes/node1/status"}' >/dev/null
kctl PATCH /fake/nodes/node1 "{\"metadata\":{\"annotations\":{\"$A/backend-type\":null}}}" >/dev/null
tap_ok "node1: a removed annotation is written again" wait_until 15 eval "[ \"\$(node_annot node1 $A/backend-type)\" = vxlan ]"
tap_ok "h1: the failed write was retried, saying why" grep -q \
	"writing the annotations of node node1 again: HTTP 503 (InternalError: failure injected by the fake); retrying in [0-9]*ms" \
	"$RUN_DIR/h1.log"

# Exactly: two real peers + node9 on each host, one fdb entry each.
exact() { # LABEL WANT
	local n
	for n in 1 2 3; do
		tap_ok "$1: h$n has exactly $2 routes, neighbours and fdb entries" wait_until 3 eval \
			"[ \$(our_routes $n) = $2 ] && [ \$(host_exec $n ip neigh show dev flannel.1 nud permanent | grep -c .) = $2 ] && [ \$(host_exec $n bridge fdb show dev flannel.1 | grep -c ' dst ') = $2 ]"
	done
}
exact "before the cut" 3

# ---- watches cut; changes made while nobody watches; resumed ----
lists_before=$(kctl GET /fake/requests | jq_py "len([r for r in j if r['path']=='/api/v1/nodes' and 'watch=1' not in r['query']])")
kctl POST /fake/cut "{\"mode\":\"abrupt\",\"ops\":[{\"op\":\"delete\",\"name\":\"node9\"},
	{\"op\":\"create\",\"node\":$(kube_phantom 8 10.200.0.88)}]}" >/dev/null
for n in 1 2 3; do
	tap_ok "cut: h$n learns node8 and forgets node9 from the resumed watch" wait_until 3 eval \
		"host_exec $n ip route show 10.244.8.0/24 | grep -q . && ! host_exec $n ip route show 10.244.9.0/24 | grep -q ."
done
exact "after the cut" 3
tap_eq "cut: resumed without a re-list" "$lists_before" \
	"$(kctl GET /fake/requests | jq_py "len([r for r in j if r['path']=='/api/v1/nodes' and 'watch=1' not in r['query']])")"
tap_ok "cut: the interruption is logged with the resume point" grep -q "node watch interrupted: .*resuming from resourceVersion" "$RUN_DIR/h1.log"

# ---- 410 Gone: as an ERROR event, then as an HTTP status ----
relist_410() { # MODE DEL ADD
	local n
	kctl POST /fake/config "{\"gone\":\"$1\"}" >/dev/null
	kctl POST /fake/compact "{\"cut\":true,\"mode\":\"clean\",\"ops\":[{\"op\":\"delete\",\"name\":\"node$2\"},
		{\"op\":\"create\",\"node\":$(kube_phantom "$3" "10.200.0.$3$3")}]}" >/dev/null
	for n in 1 2 3; do
		tap_ok "410 ($1): h$n re-lists: node$3 in, node$2 out" wait_until 4 eval \
			"host_exec $n ip route show 10.244.$3.0/24 | grep -q . && ! host_exec $n ip route show 10.244.$2.0/24 | grep -q ."
	done
	exact "after 410 ($1)" 3
}
relist_410 event 8 7
tap_ok "410 (event): logged" grep -q "410 Gone.*re-listing nodes" "$RUN_DIR/h2.log"
relist_410 http 7 6
tap_eq "410: two re-lists on h3" 2 "$(grep -c "410 Gone.*re-listing nodes" "$RUN_DIR/h3.log")"
all_pairs_ping "after cuts and re-lists"

# ---- a deleted node disappears everywhere within 2 s ----
t0=$(now_ms)
kctl DELETE /fake/nodes/node6 >/dev/null
for n in 1 2 3; do
	if wait_until 2 eval "cmd_lacks . host_exec $n ip route show 10.244.6.0/24 && cmd_lacks . host_exec $n ip neigh show 10.244.6.0 dev flannel.1 && cmd_lacks 'dst 10.200.0.66 ' host_exec $n bridge fdb show dev flannel.1"; then
		tap_ok "delete: node6 gone from h$n within 2 s ($(($(now_ms) - t0)) ms)" true
	else
		tap_ok "delete: node6 gone from h$n within 2 s" false
	fi
done
exact "after the delete" 2

# ---- restarts keep the MAC: SIGKILL + restart, then a "reboot" ----
mac2=$(vtep_mac 2)
restart_no_loss
dev_mac() { host_exec "$1" ip -o link show flannel.1 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }
tap_eq "restart: flannel.1 kept its MAC" "$mac2" "$(dev_mac 2)"
tap_eq "restart: the annotation kept the MAC" "$mac2" "$(vtep_mac 2)"

weftd_host_stop 2
host_exec 2 ip link del flannel.1
weftd_host_start 2 --iface eth0
tap_ok "reboot: h2 holds its lease again" wait_until 20 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h2.log") -ge 3 ]'
tap_eq "reboot: flannel.1 recreated with the published MAC" "$mac2" "$(dev_mac 2)"
tap_ok "reboot: logged" grep -q "creating flannel.1 with MAC $mac2, as published before" "$RUN_DIR/h2.log"
tap_eq "reboot: the annotation is unchanged" "$mac2" "$(vtep_mac 2)"
for n in 1 3; do check_vxlan_objects "$n"; done
all_pairs_ping "after the reboot"

# ---- a host leaves: its node is deleted ----
vx_objects_of_h3() { # ("error" if a lookup fails: the namespace or flannel.1 gone)
	local r nb fdb
	r=$(lines_of host_exec "$1" ip route show "$(subnet_net 3)") &&
		nb=$(lines_of host_exec "$1" ip neigh show "$(subnet_addr 3)" dev flannel.1) &&
		fdb=$(host_exec "$1" bridge fdb show dev flannel.1) || { echo error; return; }
	echo $((r + nb + $(grep -c "dst $(host_ip 3) " <<<"$fdb")))
}
weftd_host_stop 3
t0=$(now_ms)
kctl DELETE /fake/nodes/node3 >/dev/null
for n in 1 2; do
	if wait_until 2 eval "[ \$(vx_objects_of_h3 $n) = 0 ]"; then
		tap_ok "removal: node3's objects gone from h$n within 2 s ($(($(now_ms) - t0)) ms)" true
	else
		tap_ok "removal: node3's objects gone from h$n within 2 s ($(vx_objects_of_h3 "$n") left)" false
	fi
done

tap_lacks "no weftd logged an error" ' E ' ' I weftd\[' cat "$RUN_DIR"/h1.log "$RUN_DIR"/h2.log "$RUN_DIR"/h3.log
for n in 1 2; do
	weftd_host_stop "$n"
	tap_eq "h$n: weftd exits 0 on SIGTERM" 0 "$?"
done
tap_done
