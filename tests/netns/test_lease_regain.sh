#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A lost lease comes back by itself, with the data path kept (issue 20, item 2):
# vxlan between 2 hosts with a 5 s test TTL. h1 is cut off from etcd (a REJECT
# rule on its etcd traffic) until etcd has expired its key and more than a TTL
# has passed; meanwhile h1's weftd runs on and its kernel objects (flannel.1,
# routes, FDB entries, neighbours) do not change. Once the rule is gone, h1
# takes the same subnet back (same key, a new etcd lease), its kernel objects
# are still the same, h2 learns it again and every pod pair reaches each other.
# The integration test test_lease_regain.sh covers the taken and revoked cases
# and the metrics.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
HOSTS=2 PODS=1
. tests/netns/cases.sh

TTL=5
export WEFT_TEST_LEASE_TTL=$TTL WEFT_TEST_RENEW_MARGIN=2 WEFT_TEST_RENEW_RETRY=1 WEFT_TEST_WATCH_IDLE=3
ETCD_ARGS=(--experimental-watch-progress-notify-interval 1s)

cluster_up '{"Type":"vxlan"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
all_pairs_ping "before"

# h1's data path as the kernel holds it (the device's index: not re-created).
snap() {
	host_exec 1 ip -o link show flannel.1 | cut -d: -f1-2
	host_exec 1 ip route show proto 151
	host_exec 1 bridge fdb show dev flannel.1 | grep ' dst '
	host_exec 1 ip neigh show dev flannel.1 nud permanent
}
key_gone() { [ -z "$(etcd_get "$key1")" ]; }
key1=$(lease_key 1)
sub1=$(host_env 1 FLANNEL_SUBNET)
before=$(snap)
tap_ok "h1 has h2's objects" grep -q "$(subnet_net 2)" <<<"$before"
REJECT=(OUTPUT -d "$UNDERLAY_PREFIX.1" -p tcp --dport 2379 -j REJECT --reject-with tcp-reset)

host_exec 1 iptables -I "${REJECT[@]}"
t0=$(date +%s)
changed=0 gone=0
# Cut off until the key expired and more than a TTL passed; h1's objects are
# compared all along.
while [ $(($(date +%s) - t0)) -le $((TTL + 30)) ]; do
	[ "$(snap)" = "$before" ] || changed=$((changed + 1))
	if [ "$gone" = 0 ] && key_gone; then
		gone=$(($(date +%s) - t0))
		echo "# h1's key expired in etcd ${gone}s after it was cut off"
	fi
	[ "$gone" != 0 ] && [ $(($(date +%s) - t0)) -gt $((gone + TTL)) ] && break
	sleep 0.2
done
tap_ok "h1's key expired in etcd while h1 was cut off" test "$gone" != 0
tap_eq "h1's devices, routes, FDB entries and neighbours stayed as they were" 0 "$changed"
tap_ok "h1's weftd still runs" bg_alive h1
tap_ok "h2 dropped h1's route" eval "! host_exec 2 ip route show proto 151 | grep -q '$(subnet_net 1)'"
host_exec 1 iptables -D "${REJECT[@]}"

t_up=$(now_ms)
tap_ok "h1 regains its lease" wait_until 40 grep -q "regained lease $(basename "$key1")" "$RUN_DIR/h1.log"
echo "# h1 regained its lease $(($(now_ms) - t_up)) ms after it could reach etcd again"
tap_eq "h1 keeps its subnet" "$sub1" "$(host_env 1 FLANNEL_SUBNET)"
tap_ok "h1's key is back" test -n "$(etcd_get "$key1")"
tap_eq "h1's kernel objects are the same after the regain" "$before" "$(snap)"
tap_ok "h2 programs h1 again" wait_until 15 eval "host_exec 2 ip route show proto 151 | grep -q '$(subnet_net 1)'"
all_pairs_ping "after the regain"
tap_eq "h1 logged the expiry once" 1 "$(grep -c 'expired in etcd (' "$RUN_DIR/h1.log")"
tap_eq "h1 never shut down nor wrote its subnet file again" "0 1" \
	"$(grep -c 'lease revoked' "$RUN_DIR/h1.log") $(grep -c 'held; wrote' "$RUN_DIR/h1.log")"
for n in 1 2; do
	weftd_host_stop "$n"
	tap_eq "h$n: SIGTERM: exit 0" 0 "$?"
done
tap_done
