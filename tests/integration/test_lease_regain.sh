#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A lost lease comes back by itself (issue 20, item 2). etcd keeps running; the
# daemons under test reach it only through a TCP proxy on loopback
# (stall_proxy.py), which the test stops for longer than their short test TTL
# (etcd then expires their keys) and starts again on the same port:
#   a: its subnet still free: weftd keeps running, takes the same key back
#      (a new etcd lease, its owner record beside it), logs the episode,
#      counts it in /metrics, renews again; a peer that never lost etcd sees it
#      come back;
#   b: another node took its subnet meanwhile: exit 1 naming the taker, and a
#      restart acquires another subnet;
#   c: an operator revokes its etcd lease while it is valid: exit 0, "lease
#      revoked; shutting down", as documented.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

P=/coreos.com/network
TTL=5
export WEFT_TEST_LEASE_TTL=$TTL WEFT_TEST_RENEW_MARGIN=2 WEFT_TEST_RENEW_RETRY=1

# The etcd leases of a subnet key and of its owner record, read in one
# transaction (a renewal moves both at once): "KEY_LEASE OWNER_LEASE".
pair_leases() { # SUBNET
	printf '\nget %s\nget %s\n\n\n' "$(etcd_key_of "$1")" "$(etcd_owner_of "$1")" |
		etcdctl3 txn -w json | python3 -c '
import json, sys
out = []
for r in json.load(sys.stdin)["responses"]:
    kvs = r["Response"]["ResponseRange"].get("kvs") or []
    out.append(str(kvs[0].get("lease", 0)) if kvs else "missing")
print(" ".join(out))'
}
same_lease() { # SUBNET: both on one etcd lease
	local l
	l=$(pair_leases "$1") || return 1
	set -- $l
	[ "$1" = "$2" ] && [ "$1" != 0 ] && [ "$1" != missing ]
}
metric() { # PORT NAME -> its value
	curl -s "http://127.0.0.1:$1/metrics" | sed -n "s/^$2 //p"
}
proxy_up() {
	run_bg proxy python3 tests/integration/stall_proxy.py 127.0.0.1:"$pport" \
		127.0.0.1:"$ETCD_CLIENT_PORT"
	wait_until 10 eval '[ "$(grep -cx listening "$RUN_DIR/proxy.log")" -ge '"$1"' ]'
}
# (Both run in this shell, not under tap_ok: they start and stop the proxy.)
# Stop the proxy; wait until etcd has expired KEY (it runs on) and more than a
# TTL has passed since.
partition() { # KEY
	local t0
	stop_bg proxy
	t0=$(date +%s)
	wait_until 30 eval '[ "$(etcd_lease_id '"$1"')" = missing ]' || return 1
	echo "# $1 expired in etcd $(($(date +%s) - t0))s after the proxy stopped"
	wait_until $((TTL + 5)) eval '[ $(($(date +%s) - t0)) -gt '"$TTL"' ]'
}

etcd_start || exit 1
etcd_put $P/config '{"Network":"10.6.0.0/16","SubnetMax":"10.6.99.0","Backend":{"Type":"alloc"}}'
pport=$(free_port)
proxy_up 1
tap_eq "the proxy listens" 0 "$?"
PROXY=http://127.0.0.1:$pport

# ---- a: the subnet is still free ----
mport=$(free_port)
weftd_start p 127.0.0.20 # the peer: talks to etcd directly
ETCD_ENDPOINT=$PROXY weftd_start a 127.0.0.21 --metrics-port "$mport"
tap_ok "a holds a lease (through the proxy)" weftd_wait_held a
tap_ok "p holds a lease" weftd_wait_held p
sa=$(weftd_subnet a) sp=$(weftd_subnet p)
ka=$(etcd_key_of "$sa")
first=$(etcd_lease_id "$ka")
tap_ok "a renews through the proxy" wait_until 10 grep -q "renewed lease" "$RUN_DIR/a.log"
tap_ok "a's owner record rides on its etcd lease ($(pair_leases "$sa"))" same_lease "$sa"
tap_ok "p sees a" wait_until 10 eval 'weftd_peer_view p | grep -qw "$(basename "$ka")"'

partition "$ka"
tap_eq "partition: a's key expires in etcd" 0 "$?"
tap_ok "a still runs while cut off" bg_alive a
tap_ok "a's renewals failed meanwhile" grep -q "renewing lease $(basename "$ka"): .*retrying in 1s" "$RUN_DIR/a.log"
tap_ok "p saw a's lease go" wait_until 10 eval '! weftd_peer_view p | grep -qw "$(basename "$ka")"'
t_up=$(now_ms)
proxy_up 2
tap_eq "the proxy is back" 0 "$?"
tap_ok "a logs the expiry" wait_until 30 grep -q \
	"lease $(basename "$ka") expired in etcd ([a-z ]*; [0-9]*s past its expiry, renewals failing for [0-9]*s): etcd was out of reach for longer than the lease TTL (${TTL}s); taking the same subnet back, the data path stays up" \
	"$RUN_DIR/a.log"
tap_ok "a regains its lease" wait_until 30 grep -q "regained lease $(basename "$ka"): the same subnet, a new etcd lease" "$RUN_DIR/a.log"
echo "# a regained its lease $(($(now_ms) - t_up)) ms after the proxy came back"
tap_ok "a still runs" bg_alive a
tap_eq "a keeps its subnet" "$sa" "$(weftd_subnet a)"
tap_eq "a's key holds upstream's bytes again" '{"PublicIP":"127.0.0.21","PublicIPv6":null}' "$(etcd_get "$ka")"
la=$(etcd_lease_id "$ka")
tap_ok "a's key has an etcd lease again ($la, was $first)" eval '[ "$la" != 0 ] && [ "$la" != missing ] && [ "$la" != "$first" ]'
tap_ok "a's owner record is back on the same etcd lease ($(pair_leases "$sa"))" same_lease "$sa"
tap_ok "a's owner record names it" eval 'etcd_get "$(etcd_owner_of "$sa")" | grep -q "\"NodeID\":"'
n=$(weftd_count a "renewed lease")
tap_ok "a renews again after the regain" wait_until 10 eval '[ $(weftd_count a "renewed lease") -gt '"$n"' ]'
tap_eq "metrics: weft_lease_lost_total" 1 "$(metric "$mport" weft_lease_lost_total)"
tap_eq "metrics: weft_lease_regained_total" 1 "$(metric "$mport" weft_lease_regained_total)"
tap_eq "the agent was not disturbed: no revoke, one 'held'" "0 1" \
	"$(weftd_count a 'lease revoked') $(weftd_count a ' held; wrote ')"
tap_eq "a still sees p" "$(basename "$(etcd_key_of "$sp")")" "$(weftd_peer_view a)"
tap_ok "p sees a again" wait_until 10 eval 'weftd_peer_view p | grep -qw "$(basename "$ka")"'
stop_bg a
tap_eq "a: SIGTERM: exit 0" 0 "$?"

# ---- b: another node took the subnet meanwhile ----
ETCD_ENDPOINT=$PROXY weftd_start b 127.0.0.22
tap_ok "b holds a lease (through the proxy)" weftd_wait_held b
sb=$(weftd_subnet b)
kb=$(etcd_key_of "$sb")
partition "$kb"
tap_eq "partition: b's key expires in etcd" 0 "$?"
id=$(etcdctl3 lease grant 120 | awk '{print $2}')
etcdctl3 put --lease="$id" "$kb" '{"PublicIP":"127.0.9.9","PublicIPv6":null}' >/dev/null
etcdctl3 put --lease="$id" "$(etcd_owner_of "$sb")" '{"NodeID":"thief","Hostname":"thief.example"}' >/dev/null
proxy_up 3
tap_eq "the proxy is back" 0 "$?"
wait_bg b 30
tap_eq "b exits 1" 1 "$?"
tap_ok "b names the taker" grep -q \
	"lease $(basename "$kb") expired while etcd was out of reach, and its subnet was taken meanwhile by another node (public IP 127.0.9.9, node ID thief, host thief.example); exiting with 1 so that a restart acquires a fresh subnet" \
	"$RUN_DIR/b.log"
tap_eq "the taker's key is untouched" '{"PublicIP":"127.0.9.9","PublicIPv6":null}' "$(etcd_get "$kb")"
ETCD_ENDPOINT=$PROXY weftd_start b 127.0.0.22
tap_ok "b restarted holds a lease" weftd_wait_held b 2
tap_ok "b restarted: another subnet ($(weftd_subnet b), not $sb)" \
	eval '[ -n "$(weftd_subnet b)" ] && [ "$(weftd_subnet b)" != "$sb" ]'
stop_bg b

# ---- c: an operator revokes the etcd lease while it is valid ----
ETCD_ENDPOINT=$PROXY weftd_start c 127.0.0.23 --metrics-port "$mport"
tap_ok "c holds a lease" weftd_wait_held c
kc=$(etcd_key_of "$(weftd_subnet c)")
etcdctl3 lease revoke "$(printf '%x' "$(etcd_lease_id "$kc")")" >/dev/null
wait_bg c 20
tap_eq "revoked: c exits 0" 0 "$?"
tap_ok "c logs 'lease revoked; shutting down'" grep -q "lease revoked; shutting down" "$RUN_DIR/c.log"
tap_eq "c did not try to take it back" 0 "$(weftd_count c 'taking the same subnet back')"

stop_bg p
tap_eq "p: SIGTERM: exit 0" 0 "$?"
tap_done
