#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kube mode, host-gw, 3 hosts x 2 pods against a FAKE API server (kube_lib.sh),
# and bad input: all pairs reach each other with flanneld's annotations; nodes
# with malformed annotations, podCIDRs or types, or a podCIDR outside the
# Network or over our subnet, are logged once and skipped (no route);
# our own node without a podCIDR is retried (with a log line) until one is
# assigned, with three podCIDRs or one outside Network it is retried and
# logged, never fatal; node-public-ip replaces --public-ip; an API that fails or refuses our token is retried
# (and a rotated token file is picked up); local configuration errors
# (kubeconfig, node name, in-cluster variables) end weftd with 1 and a
# message naming the file or field; a deleted node's route vanishes in 2 s.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/kube_lib.sh

kube_cluster_up '{"Type":"host-gw"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
all_pairs_ping "kube host-gw"
for n in 1 2 3; do
	check_hostgw_objects "$n"
	tap_eq "node$n: host-gw annotations" "host-gw null $(host_ip "$n") true" \
		"$(node_annot "node$n" "$A/backend-type") $(node_annot "node$n" "$A/backend-data") $(node_annot "node$n" "$A/public-ip") $(node_annot "node$n" "$A/kube-subnet-manager")"
done

# ---- peers with bad input: one log line each, nothing programmed, no crash ----
bad() { # NAME ANNOTATIONS_JSON SPEC_JSON
	kctl POST /fake/nodes "{\"metadata\":{\"name\":\"$1\",\"annotations\":$2},\"spec\":$3}" >/dev/null
}
ok_ann() { # PUBLIC_IP [extra "k":"v" pairs]
	echo "{\"$A/kube-subnet-manager\":\"true\",\"$A/backend-type\":\"host-gw\",\"$A/backend-data\":\"null\",\"$A/public-ip\":\"$1\"${2:+,$2}}"
}
bad bad-ip "{\"$A/kube-subnet-manager\":\"true\",\"$A/backend-type\":\"host-gw\",\"$A/public-ip\":\"not-an-ip\"}" \
	'{"podCIDR":"10.244.71.0/24"}'
bad bad-data "$(ok_ann 10.200.0.72 "\"$A/backend-data\":\"{bad json\"")" '{"podCIDR":"10.244.72.0/24"}'
bad three-cidrs "$(ok_ann 10.200.0.73)" \
	'{"podCIDR":"10.244.73.0/24","podCIDRs":["10.244.73.0/24","fd00:73::/64","10.244.173.0/24"]}'
bad no-cidr "$(ok_ann 10.200.0.74)" '{}'
bad bad-cidr "$(ok_ann 10.200.0.75)" '{"podCIDR":"10.244.75.0/99"}'
bad not-a-string "{\"$A/kube-subnet-manager\":\"true\",\"$A/public-ip\":42}" '{"podCIDR":"10.244.76.0/24"}'
bad same-subnet "$(ok_ann 10.200.0.77)" '{"podCIDR":"10.244.2.0/24"}'
bad unmanaged '{}' '{"podCIDR":"10.244.78.0/24"}'
# Outside the Network (half of IPv4: the node's egress), and over our subnets.
bad outside "$(ok_ann 10.200.0.79)" '{"podCIDR":"128.0.0.0/1","podCIDRs":["128.0.0.0/1"]}'
bad overlap "$(ok_ann 10.200.0.80)" '{"podCIDR":"10.244.0.0/22","podCIDRs":["10.244.0.0/22"]}'
declare -A WHY=([bad-ip]='public-ip "not-an-ip" is not an IPv4 address' [bad-data]='backend-data is not JSON'
	[three-cidrs]='spec.podCIDRs has 3 entries' [no-cidr]='pod cidr not assigned'
	[bad-cidr]='"10.244.75.0/99" is not a CIDR' [not-a-string]='public-ip is not a string'
	[same-subnet]='node node2 already has subnet 10.244.2.0-24'
	[outside]='subnet 128.0.0.0/1 is outside the network 10.244.0.0/16' [overlap]='overlaps our subnet')
for n in 1 2 3; do
	for b in "${!WHY[@]}"; do
		why=${WHY[$b]}
		[ "$b" = same-subnet ] && [ "$n" = 2 ] && why="its subnet 10.244.2.0-24 is ours"
		[ "$b" = overlap ] && why="subnet 10.244.0.0/22 overlaps our subnet $(subnet_net "$n")"
		tap_ok "h$n: node $b ignored with a reason" wait_until 3 grep -qF "ignoring node $b: " "$RUN_DIR/h$n.log"
		tap_ok "h$n: node $b: $why" grep -qF "$why" "$RUN_DIR/h$n.log"
	done
	tap_eq "h$n: unmanaged node ignored silently" 0 "$(grep -c 'unmanaged' "$RUN_DIR/h$n.log")"
	tap_eq "h$n: still exactly 2 routes" 2 "$(our_routes "$n")"
	tap_eq "h$n: no route for 128.0.0.0/1" "" "$(host_exec "$n" ip route show exact 128.0.0.0/1)"
	tap_ok "h$n: egress still leaves by the default route" eval \
		"host_exec $n ip route get 192.0.2.1 | grep -q 'via $UNDERLAY_PREFIX.1 dev eth0'"
	tap_ok "h$n: weftd alive" bg_alive "h$n"
done
# The same bad node again (a MODIFIED event with the same problem): no new line.
kctl PATCH /fake/nodes/bad-ip '{"metadata":{"labels":{"touched":"yes"}}}' >/dev/null
kctl PATCH /fake/nodes/outside '{"metadata":{"labels":{"touched":"yes"}}}' >/dev/null
# Fixed: it becomes a peer (and, events being delivered in order, the touches
# above were seen once it is programmed).
kctl PATCH /fake/nodes/bad-ip "{\"metadata\":{\"annotations\":{\"$A/public-ip\":\"10.200.0.71\"}}}" >/dev/null
for n in 1 2 3; do
	tap_ok "h$n: the fixed node is programmed" wait_until 2 eval \
		"host_exec $n ip route show 10.244.71.0/24 | grep -q 'via 10.200.0.71'"
done
tap_eq "h1: a bad node is logged once per reason" 1 "$(grep -c 'ignoring node bad-ip:' "$RUN_DIR/h1.log")"
tap_eq "h1: a node outside the Network is logged once" 1 "$(grep -c 'ignoring node outside:' "$RUN_DIR/h1.log")"
all_pairs_ping "with bad nodes around"

# ---- our own node: no podCIDR yet, behind an API that fails at first ----
host_add 4
kube_node_create 4 ""
# node-public-ip replaces --public-ip (and picks the interface: no --iface here).
kctl PATCH /fake/nodes/node4 "{\"metadata\":{\"annotations\":{\"$A/node-public-ip\":\"$(host_ip 4)\"}}}" >/dev/null
kctl POST /fake/fail '{"status":503,"count":2,"match":"/api/v1/nodes/node4"}' >/dev/null
weftd_host_start 4
tap_ok "h4: API failures are retried with the reason" wait_until 10 grep -q "cannot get node node4: HTTP 503 (InternalError: failure injected by the fake); retrying" "$RUN_DIR/h4.log"
tap_ok "h4: a node without podCIDR is retried with a log line" wait_until 10 grep -q 'cannot take our subnet: node "node4" pod cidr not assigned .*retrying' "$RUN_DIR/h4.log"
sleep 2
tap_ok "h4: still running without a subnet" bg_alive h4
kctl PATCH /fake/nodes/node4 '{"spec":{"podCIDR":"10.244.4.0/24","podCIDRs":["10.244.4.0/24"]}}' >/dev/null
tap_ok "h4: takes the podCIDR once assigned" wait_until 30 grep -q "held; wrote" "$RUN_DIR/h4.log"
tap_eq "h4: FLANNEL_SUBNET" 10.244.4.1/24 "$(host_env 4 FLANNEL_SUBNET)"
tap_ok "h4: node-public-ip used as the public address" grep -q "node node4: using $A/node-public-ip=$(host_ip 4) as the public address" "$RUN_DIR/h4.log"
tap_eq "h4: public-ip annotation" "$(host_ip 4)" "$(node_annot node4 "$A/public-ip")"
p4=$(pod_add 4 1)
tap_ok "h4's pod reaches h1's pod" eval "pod_ping 4 1 ${POD_IP[1.1]} || pod_ping 4 1 ${POD_IP[1.1]}"
tap_ok "h1's pod reaches h4's pod" eval "pod_ping 1 1 $p4 || pod_ping 1 1 $p4"

# ---- our own node: three podCIDRs, then outside Network ----
host_add 5
kctl POST /fake/nodes '{"metadata":{"name":"node5"},"spec":{"podCIDR":"10.244.5.0/24","podCIDRs":["10.244.5.0/24","fd00:5::/64","10.244.105.0/24"]}}' >/dev/null
weftd_host_start 5 --iface eth0
tap_ok "h5: three podCIDRs: logged, retried" wait_until 10 grep -q 'cannot take our subnet: node "node5" pod cidrs should be IPv4/IPv6 only or dualstack (spec.podCIDRs has 3 entries); retrying' "$RUN_DIR/h5.log"
kctl PATCH /fake/nodes/node5 '{"spec":{"podCIDR":"192.168.5.0/24","podCIDRs":["192.168.5.0/24"]}}' >/dev/null
tap_ok "h5: podCIDR outside Network: logged, retried" wait_until 20 grep -q 'cannot take our subnet: subnet "10.244.0.0/16" specified in the flannel net config doesn.t contain "192.168.5.0/24" PodCIDR of the "node5" node; retrying' "$RUN_DIR/h5.log"
tap_ok "h5: still running" bg_alive h5
weftd_host_stop 5
tap_eq "h5: exits 0 on SIGTERM while waiting" 0 "$?"

# ---- credentials: a wrong token is retried; the rotated token file is read ----
mkdir -p "$KUBE_DIR/h5/sa"
cp "$KUBE_DIR/pki/ca.crt" "$KUBE_DIR/h5/sa/"
echo wrong-token >"$KUBE_DIR/h5/sa/token"
kctl PATCH /fake/nodes/node5 '{"spec":{"podCIDR":"10.244.5.0/24","podCIDRs":["10.244.5.0/24"]}}' >/dev/null
run_bg h5b ip netns exec "$(host_ns 5)" env NODE_NAME=node5 WEFT_SERVICEACCOUNT_DIR="$KUBE_DIR/h5/sa" \
	KUBERNETES_SERVICE_HOST=$UNDERLAY_PREFIX.1 KUBERNETES_SERVICE_PORT=6443 "$WEFT_BUILD/weftd" \
	--kube-subnet-mgr --net-config-path "$RUN_DIR/net-conf.json" --subnet-file "$RUN_DIR/h5.env" --iface eth0
tap_ok "h5: 401 with a wrong token: logged, retried" wait_until 10 grep -q "cannot get node node5: HTTP 401 (Unauthorized: Unauthorized); retrying" "$RUN_DIR/h5b.log"
printf '%s\n' "$KUBE_TOKEN" >"$KUBE_DIR/h5/sa/token"
tap_ok "h5: the rotated token file is used" wait_until 30 grep -q "held; wrote" "$RUN_DIR/h5b.log"
stop_bg h5b

# ---- local configuration errors: exit 1, naming the culprit ----
fatal() { # LABEL WANT_MESSAGE ENV... -- ARGS...
	local label=$1 want=$2 envs=() rc
	shift 2
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	host_exec 5 env -u NODE_NAME "${envs[@]}" timeout 10 "$WEFT_BUILD/weftd" --kube-subnet-mgr \
		--net-config-path "$RUN_DIR/net-conf.json" --subnet-file "$RUN_DIR/h5-fatal.env" "$@" \
		>"$RUN_DIR/fatal.log" 2>&1 && rc=0 || rc=$?
	tap_eq "$label: exit status 1" 1 "$rc"
	tap_ok "$label: says \"$want\"" grep -qF "$want" "$RUN_DIR/fatal.log"
}
kc=$KUBE_DIR/h1/kubeconfig
fatal "missing kubeconfig" "cannot read kubeconfig /nonexistent/kubeconfig: No such file or directory" \
	NODE_NAME=node5 -- --kubeconfig-file=/nonexistent/kubeconfig
sed 's/client-key: node1.key/client-key: missing.key/' "$kc" >"$KUBE_DIR/h1/kc-nokey"
fatal "missing client key" "client-key $KUBE_DIR/h1/missing.key: No such file or directory" \
	NODE_NAME=node5 -- --kubeconfig-file="$KUBE_DIR/h1/kc-nokey"
printf 'apiVersion: v1\nclusters:\n\t- cluster: {}\n' >"$KUBE_DIR/h1/kc-tab"
fatal "tab in YAML" "line 3: tab in indentation" NODE_NAME=node5 -- --kubeconfig-file="$KUBE_DIR/h1/kc-tab"
sed 's/current-context: default/current-context: other/' "$kc" >"$KUBE_DIR/h1/kc-ctx"
fatal "unknown context" 'current-context "other": no entry named "other" in contexts' \
	NODE_NAME=node5 -- --kubeconfig-file="$KUBE_DIR/h1/kc-ctx"
sed '/client-certificate:/,$d' "$kc" >"$KUBE_DIR/h1/kc-exec"
printf '    exec:\n      command: aws\n      args: ["eks", "get-token"]\n' >>"$KUBE_DIR/h1/kc-exec"
fatal "exec plugin" "exec credential plugins are not supported" NODE_NAME=node5 -- --kubeconfig-file="$KUBE_DIR/h1/kc-exec"
fatal "no node name" "NODE_NAME is not set, so env variables POD_NAME and POD_NAMESPACE must be set" \
	-- --kubeconfig-file="$kc"
fatal "not in a cluster" "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined" NODE_NAME=node5 --
fatal "no service account" "cannot read the token file /nonexistent-sa/token" NODE_NAME=node5 \
	KUBERNETES_SERVICE_HOST=10.200.0.1 KUBERNETES_SERVICE_PORT=6443 WEFT_SERVICEACCOUNT_DIR=/nonexistent-sa --
fatal "bad annotation prefix" 'annotation prefix "a/b/c" may contain at most one' NODE_NAME=node5 -- \
	--kubeconfig-file="$kc" --kube-annotation-prefix=a/b/c

# ---- TLS is verified: a wrong CA is refused (and retried, not fatal) ----
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=other-ca" -keyout "$KUBE_DIR/other.key" \
	-out "$KUBE_DIR/h1/other-ca.crt" >/dev/null 2>&1
sed 's/certificate-authority: ca.crt/certificate-authority: other-ca.crt/' "$kc" >"$KUBE_DIR/h1/kc-otherca"
run_bg h5c ip netns exec "$(host_ns 5)" env NODE_NAME=node5 "$WEFT_BUILD/weftd" --kube-subnet-mgr \
	--net-config-path "$RUN_DIR/net-conf.json" --subnet-file "$RUN_DIR/h5c.env" \
	--kubeconfig-file="$KUBE_DIR/h1/kc-otherca" --iface eth0
tap_ok "wrong CA: the server certificate is refused, retried" wait_until 10 grep -qi "cannot get node node5: .*certificate verify failed.*retrying" "$RUN_DIR/h5c.log"
stop_bg h5c

# ---- a host leaves: its node is deleted ----
weftd_host_stop 3
t0=$(now_ms)
kctl DELETE /fake/nodes/node3 >/dev/null
for n in 1 2; do
	if wait_until 2 cmd_lacks . host_exec "$n" ip route show "$(subnet_net 3)"; then
		tap_ok "removal: node3's route gone from h$n within 2 s ($(($(now_ms) - t0)) ms)" true
	else
		tap_ok "removal: node3's route gone from h$n within 2 s" false
	fi
done

tap_lacks "h1, h2: no error logged" ' E ' ' I weftd\[' cat "$RUN_DIR"/h1.log "$RUN_DIR"/h2.log
for n in 1 2 4; do
	weftd_host_stop "$n"
	tap_eq "h$n: weftd exits 0 on SIGTERM" 0 "$?"
done
tap_done
