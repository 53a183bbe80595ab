#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A vxlan host started against 2,000 existing leases programs every one of
# them exactly: the kernel's routes, nexthops, neighbours and FDB entries are
# compared, line by line, with what the leases call for. Then, while it runs,
# 300 leases go, 100 come and 50 change their MAC; then it is stopped, 100
# more go while it is down, and the restarted daemon adopts what is there and
# removes exactly the stale ones. A nexthop id that another program took is
# never touched.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

N=2000
leases() { ip netns exec "$UL" python3 tests/netns/leases.py "$@"; }

# The kernel's objects of KIND on host 1, as iproute2 prints them, sorted.
kernel() {
	case $1 in
	routes) host_exec 1 ip route show | grep " proto 151 " ;; # (a proto filter hides it)
	nexthops) host_exec 1 ip nexthop show proto 151 ;;
	neighbours) host_exec 1 ip neigh show dev flannel.1 nud permanent ;;
	fdb) host_exec 1 bridge fdb show dev flannel.1 | grep ' dst ' ;;
	esac | sed 's/ *$//' | sort
}

# expected KIND then RANGE... (FIRST COUNT SALT triples), sorted
expected() {
	local kind=$1
	shift
	while [ $# -ge 3 ]; do
		python3 tests/netns/leases.py expect "$kind" "$1" "$2" "$3"
		shift 3
	done | sort
}

# A nexthop id that another program took (BLOCKED_SUBNET's, see below): weft
# leaves that object alone and routes that peer by its gateway instead.
BLOCKED_SUBNET=
blocked() {
	local id
	[ -n "$BLOCKED_SUBNET" ] || { cat; return; }
	id=$(ip_int "$BLOCKED_SUBNET")
	sed -e "s|^\($BLOCKED_SUBNET/24\) nhid $id via|\1 via|" -e "/^id $id via/d"
}

# check_exact WHAT RANGE...: every kind equal to the leases' expectation.
check_exact() {
	local what=$1 kind want got
	shift
	for kind in routes nexthops neighbours fdb; do
		want=$(expected "$kind" "$@" | blocked)
		got=$(kernel "$kind")
		if [ "$want" = "$got" ]; then
			tap_ok "$what: $kind exactly as the leases say ($(grep -c . <<<"$want"))" true
		else
			tap_ok "$what: $kind exactly as the leases say" false
			diff <(echo "$want") <(echo "$got") | head -10 | sed 's/^/#   /'
		fi
	done
}

count_is() { [ "$(host_exec 1 ip route show proto 151 | grep -c .)" = "$1" ]; }

cluster_init >/dev/null || { tap_ok "cluster up" false; tap_done; exit 1; }
host_add 1
net_config '{"Network":"10.0.0.0/8","Backend":{"Type":"vxlan"}}'
tap_ok "$N leases written through the gateway" leases put "$ETCD_ENDPOINT" 0 "$N" 1

t0=$(now_ms)
weftd_host_start 1 --iface eth0
tap_ok "host 1 programmed $N peers" wait_until 60 count_is "$N"
echo "# $N peers programmed $(($(now_ms) - t0)) ms after weftd started"
check_exact "start" 0 "$N" 1
tap_ok "log: the lease set summed up, not one line per peer" \
	grep -q "peers: $N added or changed, 0 removed" "$RUN_DIR/h1.log"
tap_ok "log: one line for the whole first programming" \
	grep -q "vxlan: programmed $((4 * N)) kernel objects for the lease set in .*routes +$N -0, neighbours +$N -0, fdb entries +$N -0, nexthops +$N -0" \
	"$RUN_DIR/h1.log"

# Changes while running: 300 go, 100 come, 50 change their MAC (salt 2).
# Lease 2050's nexthop id (its subnet address, 10.9.2.0) is taken by another
# program before the lease comes.
BLOCKED_SUBNET=10.9.2.0
host_exec 1 ip nexthop add id "$(ip_int $BLOCKED_SUBNET)" via 10.200.0.99 dev eth0 proto static
foreign=$(host_exec 1 ip nexthop show id "$(ip_int $BLOCKED_SUBNET)")
leases del "$ETCD_ENDPOINT" 0 300
leases put "$ETCD_ENDPOINT" "$N" 100 1
leases put "$ETCD_ENDPOINT" 300 50 2
same_as_leases() {
	[ "$(kernel fdb)" = "$(expected fdb 300 50 2 350 $((N - 350 + 100)) 1)" ] &&
		[ "$(kernel routes | grep -c .)" = $((N - 300 + 100)) ]
}
tap_ok "changes while running reach the kernel" wait_until 30 same_as_leases
check_exact "running" 300 50 2 350 $((N - 350 + 100)) 1
tap_eq "running: the foreign nexthop is untouched" "$foreign" \
	"$(host_exec 1 ip nexthop show id "$(ip_int $BLOCKED_SUBNET)")"

# Stopped; 100 more go while it is down; the restart adopts the rest.
weftd_host_stop 1
tap_eq "weftd exited cleanly on SIGTERM" 0 "$?"
tap_eq "kernel state kept while weftd is down" $((N - 200)) "$(kernel routes | grep -c .)"
leases del "$ETCD_ENDPOINT" 300 100
mv "$RUN_DIR/h1.log" "$RUN_DIR/h1-first.log"
weftd_host_start 1 --iface eth0
tap_ok "restart: stale peers removed" wait_until 60 count_is $((N - 300))
check_exact "restart" 400 $((N - 400 + 100)) 1
tap_eq "restart: the foreign nexthop is untouched" "$foreign" \
	"$(host_exec 1 ip nexthop show id "$(ip_int $BLOCKED_SUBNET)")"
tap_ok "restart: adopted what was there, removed exactly the 100 stale ones" \
	grep -q "vxlan: programmed .* for the lease set in .*routes +0 -100, neighbours +0 -100, fdb entries +0 -100, nexthops +0 -100" \
	"$RUN_DIR/h1.log"
tap_lacks "no netlink change failed" failed ' starting: ' cat "$RUN_DIR/h1.log" "$RUN_DIR/h1-first.log"
tap_done
