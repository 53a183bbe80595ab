#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# etcd goes away for 30 s while three daemons run. Leases are added and removed
# by another client before, during (through a second etcd process on the same
# data but a port the daemons don't know) and after the outage. When etcd is
# back, every daemon keeps its subnet and its peer view converges to exactly the
# keys in etcd. Then the same with a compaction past the daemons' resume
# revision, which forces a re-list and diff.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

P=/coreos.com/network
OUTAGE=${OUTAGE_SECONDS:-30}
peer() { echo "{\"PublicIP\":\"$1\",\"PublicIPv6\":null}"; }

etcd_start || exit 1
etcd_put $P/config '{"Network":"10.7.0.0/16","Backend":{"Type":"alloc"}}'
for i in 1 2 3; do weftd_start "d$i" "127.0.3.$i"; done
for i in 1 2 3; do weftd_wait_held "d$i"; done
declare -A own
for i in 1 2 3; do own[$i]=$(weftd_subnet "d$i"); done

expected_view() { # daemon index -> etcd's lease names without its own
	etcd_lease_names | grep -vx "$(echo "${own[$1]}" | sed 's|\.1/|.0-|')" | tr '\n' ' ' | sed 's/ $//'
}
converged() { [ "$(weftd_peer_view "d$1")" = "$2" ]; }
check_converged() { # LABEL T0_MS: every daemon's view equals etcd's keys; prints times
	local label=$1 t0=$2 i want took=()
	for i in 1 2 3; do
		want=$(expected_view "$i")
		if wait_until 30 converged "$i" "$want"; then
			took+=("$(($(now_ms) - t0))")
			tap_ok "$label: d$i's peer view equals etcd ($(echo "$want" | wc -w) peers)" true
		else
			tap_ok "$label: d$i's peer view equals etcd" false
			echo "#   want: $want"
			echo "#   got:  $(weftd_peer_view "d$i")"
		fi
	done
	echo "# $label: views verified equal ${took[*]} ms after the reference point (d1 d2 d3)"
}
check_kept() { # label: subnets and keys unchanged, daemons alive
	local label=$1 i key
	for i in 1 2 3; do
		key=$P/subnets/$(echo "${own[$i]}" | sed 's|\.1/|.0-|')
		tap_ok "$label: d$i alive" bg_alive "d$i"
		tap_eq "$label: d$i keeps its subnet" "${own[$i]}" "$(weftd_subnet "d$i")"
		tap_eq "$label: d$i's key is intact" "$(peer 127.0.3.$i)" "$(etcd_get "$key")"
	done
}

t0=$(now_ms)
etcd_put $P/subnets/10.7.201.0-24 "$(peer 127.0.4.1)" # before
check_converged "before the outage" "$t0"

# Outage.
main_port=$ETCD_CLIENT_PORT
etcd_put $P/subnets/10.7.202.0-24 "$(peer 127.0.4.2)" # right before
etcd_stop
t_down=$(date +%s)
ETCD_CLIENT_PORT=$(free_port) etcd_start || exit 1 # the side door
etcd_put $P/subnets/10.7.203.0-24 "$(peer 127.0.4.3)"
etcd_del $P/subnets/10.7.201.0-24
etcd_stop
# The outage lasts OUTAGE seconds; meanwhile the daemons must stay up.
down_ok=1
while [ $(($(date +%s) - t_down)) -lt "$OUTAGE" ]; do
	for i in 1 2 3; do bg_alive "d$i" || down_ok=0; done
	sleep 1
done
tap_eq "all daemons stayed up through ${OUTAGE}s without etcd" 1 $down_ok
ETCD_CLIENT_PORT=$main_port
etcd_start || exit 1
t_up=$(now_ms)
etcd_put $P/subnets/10.7.204.0-24 "$(peer 127.0.4.4)" # right after
etcd_del $P/subnets/10.7.202.0-24
check_converged "after the outage" "$t_up"
check_kept "after the outage"

# Compaction: changes made while the daemons can't see etcd, then history up to
# now is compacted, so that resuming the watch fails and they must re-list.
etcd_stop
ETCD_CLIENT_PORT=$(free_port) etcd_start || exit 1
etcd_put $P/subnets/10.7.205.0-24 "$(peer 127.0.4.5)"
etcd_del $P/subnets/10.7.203.0-24
etcd_put $P/subnets/10.7.204.0-24 "$(peer 127.0.4.44)" # changed attributes
rev=$(etcdctl3 get $P/config -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
etcdctl3 compact "$rev" >/dev/null
etcd_stop
ETCD_CLIENT_PORT=$main_port
etcd_start || exit 1
t_up=$(now_ms)
check_converged "after compaction" "$t_up"
check_kept "after compaction"
for i in 1 2 3; do
	tap_ok "d$i re-listed after the compaction" grep -q "re-listing leases" "$RUN_DIR/d$i.log"
	tap_ok "d$i saw the changed attributes" wait_until 5 grep -q "peer added: 10.7.204.0-24 public 127.0.4.44" "$RUN_DIR/d$i.log"
done

for i in 1 2 3; do
	stop_bg "d$i"
	tap_eq "d$i exits 0 on SIGTERM" 0 "$?"
done
tap_done
