#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# etcd 3.3 serves its JSON gateway under /v3beta/ only (issue 21, item 2).
# No 3.3 server runs here (Debian 12 ships 3.4), so a FAKE 3.3 gateway
# (etcd33_gateway.py: /v3beta/ paths forwarded to the real etcd under their
# /v3/ names, everything else 404) stands in front of the real etcd. weftd and
# weftctl must find the /v3beta/ API after one 404 and then use only it:
# lease, renewal (grant, txn, revoke), watch, time-to-live and auth. An
# endpoint that answers 404 to both is refused with a message saying so.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

P=/coreos.com/network
CONFIG='{"Network":"10.6.0.0/16","SubnetMax":"10.6.99.0","Backend":{"Type":"alloc"}}'
WEFTCTL=$WEFT_BUILD/weftctl

gateway_start() { # NAME TARGET: prints its endpoint
	local port
	port=$(free_port)
	run_bg "$1" python3 tests/integration/etcd33_gateway.py "$port" "$2"
	wait_until 10 grep -q listening "$RUN_DIR/$1.log" || return 1
	echo "http://127.0.0.1:$port"
}
seen() { grep -c -- "$2" "$RUN_DIR/$1.log" 2>/dev/null || true; } # LOG PATTERN

etcd_start || exit 1
etcd_put $P/config "$CONFIG"
GW=$(gateway_start gw33 "127.0.0.1:${ETCD_ENDPOINT##*:}") || { tap_ok "fake 3.3 gateway up" false; tap_done; exit 1; }

# ---- weftd ----
export WEFT_TEST_LEASE_TTL=4 WEFT_TEST_RENEW_MARGIN=2
ETCD_ENDPOINT_REAL=$ETCD_ENDPOINT
ETCD_ENDPOINT=$GW weftd_start a 127.0.0.21
ETCD_ENDPOINT=$ETCD_ENDPOINT_REAL
tap_ok "weftd holds a lease through the 3.3 gateway" weftd_wait_held a
tap_ok "weftd renews it (grant, txn, revoke under /v3beta/)" \
	wait_until 15 eval '[ $(weftd_count a "renewed lease") -ge 2 ]'
tap_eq "exactly one request went to /v3/ (the 404 that switched)" 1 "$(seen gw33 '^/v3/')"
for p in kv/range kv/txn lease/grant kv/lease/revoke watch; do
	tap_ok "/v3beta/$p was used" test "$(seen gw33 "^/v3beta/$p -> forwarded")" -ge 1
done
# A peer written next to it reaches weftd through the /v3beta/ watch.
etcd_put $P/subnets/10.6.200.0-24 '{"PublicIP":"127.0.0.22","PublicIPv6":null}'
tap_ok "a peer arrives through the /v3beta/ watch" \
	wait_until 10 eval 'weftd_peer_view a | grep -q 10.6.200.0-24'
name=$(weftd_subnet a | sed 's|\.1/|.0-|')
tap_ok "a's key is in etcd" test -n "$(etcdctl3 get "$P/subnets/$name" --print-value-only)"

# ---- weftctl ----
out=$("$WEFTCTL" leases --etcd-endpoints "$GW" 2>&1)
tap_eq "weftctl leases through the 3.3 gateway: exit 0" 0 "$?"
contains_line() { grep -q -- "$2" <<<"$1"; }
tap_ok "weftctl leases lists a's lease" contains_line "$out" "${name%-*}"
tap_ok "weftctl leases asked /v3beta/kv/lease/timetolive" \
	test "$(seen gw33 '^/v3beta/kv/lease/timetolive -> forwarded')" -ge 1
stop_bg a

# ---- auth, under /v3beta/auth/authenticate ----
etcdctl3 user add root:rootpw >/dev/null && etcdctl3 user grant-role root root >/dev/null &&
	etcdctl3 auth enable >/dev/null
n0=$(seen gw33 '^/v3beta/auth/authenticate -> forwarded')
out=$("$WEFTCTL" leases --etcd-endpoints "$GW" --etcd-username root --etcd-password rootpw 2>&1)
tap_eq "auth through the 3.3 gateway: exit 0" 0 "$?"
tap_ok "... authenticated under /v3beta/" \
	test "$(seen gw33 '^/v3beta/auth/authenticate -> forwarded')" -gt "$n0"

# ---- not an etcd at all ----
NOT=$(gateway_start not-etcd -) || { tap_ok "404 server up" false; tap_done; exit 1; }
out=$("$WEFTCTL" leases --etcd-endpoints "$NOT" 2>&1)
tap_eq "404 under both: exit 1" 1 "$?"
tap_ok "404 under both: says what it is" \
	contains_line "$out" "HTTP 404 under both /v3/ and /v3beta/: not an etcd v3 endpoint"
tap_done
