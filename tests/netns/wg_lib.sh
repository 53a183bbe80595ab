# SPDX-License-Identifier: Apache-2.0
# weftd hosts on the wireguard backend (requires lib.sh, cases.sh):
#
#   wg_weftd N ARGS...      weftd ARGS in host N, in a mount namespace of its own
#                           with a tmpfs on /var/run/wireguard (the userspace
#                           engine's socket directory is the machine's, not the
#                           network namespace's), key file $RUN_DIR/hN.wgkey;
#                           WG_ENV=(VAR=value ...) is added to its environment
#   weftd_host_start N ...  lib.sh's, through wg_weftd
#   host_wg N ARGS...       wg(8) as an operator on host N runs it
#   wg_peers_of N [DEV]     how many peers wg shows on DEV (flannel-wg)
#   pubkey_of N             host N's public key, from its lease
#   wg_stats N              its counters line, after a SIGUSR1
#   counter N NAME          one counter of that line
WG_ENV=()
[ -d /var/run/wireguard ] || { mkdir -p /var/run/wireguard && on_cleanup rmdir /var/run/wireguard; }

wg_weftd() {
	local n=$1
	shift
	run_bg "h$n" ip netns exec "$(host_ns "$n")" unshare --mount --propagation private \
		env "${WG_ENV[@]}" WIREGUARD_KEY_FILE="$RUN_DIR/h$n.wgkey" WEFTD="$WEFT_BUILD/weftd" \
		sh -c 'mount -t tmpfs -o mode=0755 tmpfs /var/run/wireguard && exec "$WEFTD" "$@"' \
		weftd "$@"
}

weftd_host_start() {
	local n=$1
	shift
	wg_weftd "$n" --etcd-endpoints "$ETCD_ENDPOINT" --subnet-file "$RUN_DIR/h$n.env" "$@"
}

host_wg() {
	local n=$1
	shift
	nsenter -t "$(bg_pid "h$n")" -m -n wg "$@"
}

wg_peers_of() { host_wg "$1" show "${2:-flannel-wg}" peers 2>/dev/null | grep -c .; }

pubkey_of() {
	etcd_get "$(lease_key "$1")" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["BackendData"]["PublicKey"])'
}

wg_stats() {
	local log=$RUN_DIR/h$1.log before
	before=$(grep -c 'wireguard: flannel-wg: .* engine, ' "$log")
	kill -USR1 "$(bg_pid "h$1")"
	wait_until 5 eval "[ \$(grep -c 'wireguard: flannel-wg: .* engine, ' '$log') -gt $before ]"
	grep 'wireguard: flannel-wg: .* engine, ' "$log" | tail -1
}

counter() { wg_stats "$1" | grep -o " $2=[0-9]*" | cut -d= -f2; }
