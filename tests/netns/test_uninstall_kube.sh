#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# docs/uninstall.md in kube mode (--kube-subnet-mgr, vxlan, 2 hosts, the FAKE
# API server of kube_lib.sh): after SIGTERM the node keeps flannel's
# annotations and NetworkUnavailable=False; contrib/uninstall-weft.sh
# overlay-filter kernel rules cni files leaves nothing in the host; weftd
# started again recreates flannel.1 with the MAC its node still publishes and
# the pods reach each other; removed for good: the annotations deleted with
# one JSON merge patch of the Node (what `kubectl annotate NODE key-` does,
# made directly), after which the other node drops its route to it.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/kube_lib.sh

HOSTS=2 PODS=1
UNINSTALL=contrib/uninstall-weft.sh
ANNOTS="kube-subnet-manager backend-type backend-data public-ip"
annots_of() { # NODE: our annotations, "key=value" sorted
	node_json "$1" | jq_py "' '.join(sorted(k.split('/')[1] + '=' + v for k, v in j['metadata'].get('annotations', {}).items() if k.startswith('$A/')))"
}
dev_mac() { host_exec "$1" ip -o link show flannel.1 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }

kube_cluster_up '{"Type":"vxlan"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
tap_ok "pod 1.1 reaches pod 2.1" pod_ping 1 1 "${POD_IP[2.1]}"
before=$(annots_of node2)
mac=$(vtep_mac 2)
tap_ok "node2 carries flannel's four annotations" eval \
	"[ \$(wc -w <<<'$before') = 4 ] && grep -q 'kube-subnet-manager=true' <<<'$before'"

weftd_host_stop 2
tap_eq "SIGTERM: exit 0" 0 "$?"
tap_eq "SIGTERM: the annotations stay" "$before" "$(annots_of node2)"
tap_eq "SIGTERM: NetworkUnavailable stays False" "False FlannelIsUp Flannel is running on this node" \
	"$(node_condition node2 NetworkUnavailable)"

host_exec 2 env FLANNELD_SUBNET_FILE="$RUN_DIR/h2.env" WEFT_CNI_DATA_DIR="$RUN_DIR/h2-flannel" \
	WEFT_CNI_IPAM_DIR="$RUN_DIR/h2-ipam/cbr0" WIREGUARD_KEY_FILE="$RUN_DIR/h2-wgkey" \
	WEFT_IPSEC_RUN_DIR="$RUN_DIR/h2-ipsec" "$UNINSTALL" overlay-filter kernel rules cni files \
	>"$RUN_DIR/uninstall.log" 2>&1
tap_eq "uninstall-weft.sh exits 0" 0 "$?"
tap_lacks "no flannel device, no cni0" ': (flannel|cni0)' ': lo:' host_exec 2 ip -o link show
tap_eq "no route or nexthop of protocol 151" "0 0" \
	"$(lines_of host_exec 2 ip route show table all proto 151) $(lines_of host_exec 2 ip nexthop show proto 151)"
tap_lacks "no FLANNEL-*, WEFT-OVERLAY" 'FLANNEL|WEFT' '^\*filter' host_exec 2 iptables-save
tap_no_file "no subnet file" "$RUN_DIR/h2.env"

# Back (weftd standing in for flanneld, which reads the same annotation).
weftd_host_start 2 --iface eth0
tap_ok "rollback: h2 holds its lease again" wait_until 20 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h2.log") -ge 2 ]'
tap_eq "rollback: flannel.1 recreated with the MAC node2 publishes" "$mac" "$(dev_mac 2)"
pod_add 2 2 >/dev/null
tap_ok "rollback: a new pod on h2 reaches pod 1.1" eval \
	"pod_ping 2 2 ${POD_IP[1.1]} || pod_ping 2 2 ${POD_IP[1.1]} || pod_ping 2 2 ${POD_IP[1.1]}"

# For good: weftd stopped, the host cleaned, the annotations removed.
weftd_host_stop 2
host_exec 2 env FLANNELD_SUBNET_FILE="$RUN_DIR/h2.env" WEFT_CNI_DATA_DIR="$RUN_DIR/h2-flannel" \
	WEFT_CNI_IPAM_DIR="$RUN_DIR/h2-ipam/cbr0" WIREGUARD_KEY_FILE="$RUN_DIR/h2-wgkey" \
	WEFT_IPSEC_RUN_DIR="$RUN_DIR/h2-ipsec" "$UNINSTALL" overlay-filter kernel rules cni files \
	>>"$RUN_DIR/uninstall.log" 2>&1
patch='{"metadata":{"annotations":{'
for a in $ANNOTS; do patch+="\"$A/$a\":null,"; done
patch="${patch%,}}}}"
code=$(host_exec 2 curl -sS -o "$RUN_DIR/patch.out" -w '%{http_code}' --max-time 10 \
	--cacert "$KUBE_DIR/pki/ca.crt" -H "Authorization: Bearer $KUBE_TOKEN" -X PATCH \
	-H 'Content-Type: application/merge-patch+json' --data-binary "$patch" "$KUBE_API/api/v1/nodes/node2")
tap_eq "leave: the merge patch is accepted" 200 "$code"
tap_eq "leave: node2 has no annotation of flannel's left" "" "$(annots_of node2)"
t=$(time_until 5 eval "[ \"\$(lines_of host_exec 1 ip route show 10.244.2.0/24)\" = 0 ]")
tap_ok "leave: h1 drops its route to node2's subnet ($t ms)" test "$t" != timeout
weftd_host_stop 1
sed 's/^/# /' "$RUN_DIR/uninstall.log"
tap_done
