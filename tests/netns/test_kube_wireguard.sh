#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kube mode, wireguard (userspace engine), 3 hosts x 2 pods against a FAKE API
# server (kube_lib.sh): each node's annotations carry flanneld's wireguard
# backend-type and backend-data ({"PublicKey":"...","Port":51820}, the key of
# the node's key file), and all pod pairs reach each other through
# flannel-wg, whose peers come from the other nodes' annotations.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/kube_lib.sh
. tests/netns/wg_lib.sh

# kube_lib.sh's, through wg_lib.sh's wg_weftd.
weftd_host_start() {
	local n=$1
	shift
	kube_auth "$n"
	WG_ENV=("${KUBE_ENV[@]}")
	wg_weftd "$n" --kube-subnet-mgr --net-config-path "$RUN_DIR/net-conf.json" \
		--subnet-file "$RUN_DIR/h$n.env" "${KUBE_ARGS[@]}" "$@"
}

kube_cluster_up '{"Type":"wireguard"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
for n in 1 2 3; do
	tap_eq "node$n: wireguard annotations as flanneld writes them" \
		"wireguard {\"PublicKey\":\"$(wg pubkey <"$RUN_DIR/h$n.wgkey")\",\"Port\":51820} $(host_ip "$n")" \
		"$(node_annot "node$n" "$A/backend-type") $(node_annot "node$n" "$A/backend-data") $(node_annot "node$n" "$A/public-ip")"
	tap_eq "h$n: flannel-wg has the 2 other nodes as peers" 2 \
		"$(wg_peers_of "$n")"
done
all_pairs_ping "kube wireguard"
for n in 1 2 3; do
	weftd_host_stop "$n"
	tap_eq "h$n: weftd exits 0 on SIGTERM" 0 "$?"
done
tap_done
