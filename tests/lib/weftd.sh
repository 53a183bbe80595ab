# SPDX-License-Identifier: Apache-2.0
# Running weftd daemons in tests (requires common.sh and etcd.sh).
#
#   weftd_start NAME PUBLIC_IP [ARGS...]   weftd on lo with that public address, its own
#                                          subnet file $RUN_DIR/NAME.env and log NAME.log
#   weftd_wait_held NAME [N]               wait until the N-th "held" line (default: 1)
#   weftd_subnet NAME                      FLANNEL_SUBNET of its subnet file
#   weftd_peer_view NAME                   the sorted peer names it knows (SIGUSR1 dump)
#   weftd_count NAME PATTERN               lines of its log matching PATTERN

WEFTD=${WEFTD:-$WEFT_BUILD/weftd}
WEFTD_ETCD_ARGS=()

weftd_start() {
	local name=$1 ip=$2
	shift 2
	# These daemons run in the root namespace: they must not touch its
	# firewall, so no forward rules (and no tests pass --ip-masq here).
	run_bg "$name" "$WEFTD" --etcd-endpoints "$ETCD_ENDPOINT" "${WEFTD_ETCD_ARGS[@]}" \
		--iface lo --public-ip "$ip" --subnet-file "$RUN_DIR/$name.env" \
		--iptables-forward-rules=false "$@"
}

weftd_count() { grep -c -- "$2" "$RUN_DIR/$1.log" 2>/dev/null || true; }

weftd_wait_held() {
	local name=$1 n=${2:-1}
	wait_until 20 eval "[ \$(weftd_count $name ' held; wrote ') -ge $n ]"
}

weftd_subnet() { sed -n 's/^FLANNEL_SUBNET=//p' "$RUN_DIR/$1.env" 2>/dev/null; }

weftd_peer_view() {
	local name=$1 before
	before=$(weftd_count "$name" 'peer view:')
	kill -USR1 "$(bg_pid "$name")" || return 1
	wait_until 5 eval "[ \$(weftd_count $name 'peer view:') -gt $before ]" || return 1
	grep 'peer view:' "$RUN_DIR/$name.log" | tail -1 | sed 's/.*peers: *//'
}

# The lease keys in etcd, sorted, names only (for comparing with peer views).
etcd_lease_names() {
	etcdctl3 get --prefix --keys-only /coreos.com/network/subnets/ |
		sed -n 's|^/coreos.com/network/subnets/||p' | sort
}
