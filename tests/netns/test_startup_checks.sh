#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Start-up checks as flanneld makes them (flannel.md §2 step 6): in iptables
# mode, a family whose /proc/sys/net/bridge/bridge-nf-call-ip(6)tables is
# missing (br_netfilter not loaded) stops weftd with flanneld's message and
# exit 1, before any device or lease; nftables mode does not need it. The
# module cannot be unloaded here, so weftd runs in a mount namespace of its
# own with a tmpfs over /proc/sys/net/bridge holding only the files a case
# keeps.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh

cluster_init >/dev/null || { tap_ok "cluster up" false; tap_done; exit 1; }
host_add 1

# run NAME KEEP...: weftd in host 1, its /proc/sys/net/bridge holding only the
# files named (bridge-nf-call-iptables, bridge-nf-call-ip6tables).
run() {
	local name=$1 keep="" f
	shift
	for f in "$@"; do keep+=" && touch /proc/sys/net/bridge/$f"; done
	run_bg "$name" ip netns exec "$(host_ns 1)" unshare -m sh -c \
		"mount --make-rprivate / && mount -t tmpfs weft-test /proc/sys/net/bridge$keep &&
		 exec \"\$0\" \"\$@\"" \
		"$WEFT_BUILD/weftd" --etcd-endpoints "$ETCD_ENDPOINT" --iface eth0 \
		--subnet-file "$RUN_DIR/$name.env"
}
MSG4='Failed to check br_netfilter: stat /proc/sys/net/bridge/bridge-nf-call-iptables: no such file or directory'
MSG6='Failed to check br_netfilter: stat /proc/sys/net/bridge/bridge-nf-call-ip6tables: no such file or directory'
held() { wait_until 20 grep -q "held; wrote" "$RUN_DIR/$1.log"; }
leases() { etcdctl3 get --prefix --keys-only $P/subnets/ | grep -c . || true; }

# 1. IPv4, iptables mode, no br_netfilter: flanneld's message, exit 1, nothing made.
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}'
run a
wait_bg a 20
tap_eq "IPv4 without bridge-nf-call-iptables: exit 1" 1 "$?"
tap_ok "the log has flanneld's message" grep -qF "$MSG4" "$RUN_DIR/a.log"
tap_ok "and says how to fix it" grep -qF "modprobe br_netfilter" "$RUN_DIR/a.log"
tap_ok "no flannel.1 was made" eval '! host_exec 1 ip link show flannel.1 >/dev/null 2>&1'
tap_eq "no lease was taken" 0 "$(leases)"
tap_ok "no subnet file was written" test ! -e "$RUN_DIR/a.env"

# 2. Only the IPv6 file present is not enough for IPv4.
run b bridge-nf-call-ip6tables
wait_bg b 20
tap_eq "IPv4 with only bridge-nf-call-ip6tables: exit 1" 1 "$?"
tap_ok "the message names the iptables file" grep -qF "$MSG4" "$RUN_DIR/b.log"

# 3. The IPv4 file alone is enough for IPv4: weftd starts and holds a lease.
run c bridge-nf-call-iptables
tap_ok "IPv4 with bridge-nf-call-iptables: a lease" held c
stop_bg c
tap_eq "SIGTERM: exit 0" 0 "$?"
tap_eq "no br_netfilter message" 0 "$(grep -c 'br_netfilter' "$RUN_DIR/c.log")"

# 4. IPv6 only: the ip6tables file is the one checked.
net_config '{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fd10:244::/56","Backend":{"Type":"vxlan"}}'
run d bridge-nf-call-iptables
wait_bg d 20
tap_eq "IPv6 without bridge-nf-call-ip6tables: exit 1" 1 "$?"
tap_ok "the message names the ip6tables file" grep -qF "$MSG6" "$RUN_DIR/d.log"

# 5. nftables mode does not use br_netfilter's iptables hooks: no check.
net_config '{"Network":"10.244.0.0/16","EnableNFTables":true,"Backend":{"Type":"vxlan"}}'
run e
tap_ok "nftables mode without br_netfilter: a lease" held e
stop_bg e
tap_eq "SIGTERM: exit 0" 0 "$?"
tap_eq "no br_netfilter message" 0 "$(grep -c 'br_netfilter' "$RUN_DIR/e.log")"

tap_done
