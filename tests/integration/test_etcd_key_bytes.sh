#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# etcd keys are bytes (issue 14, item 3): a key that is our lease's key plus a
# NUL byte and a tail, written and deleted next to our lease through etcd's
# JSON gateway (etcdctl cannot write a NUL), must not alias the lease. weftd
# keeps its lease, renews it, notes the key once as a bad entry, never calls
# its lease a reservation, and does not take the key's deletion for its own. weftctl leases lists the key as
# invalid. A peer lease outside the network (128.0.0.0-1) is refused once.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

P=/coreos.com/network
# SubnetMax keeps the daemons' random subnets clear of the peers this test writes (77, 78).
CONFIG='{"Network":"10.5.0.0/16","SubnetMax":"10.5.49.0","Backend":{"Type":"alloc"}}'
WEFTCTL=$WEFT_BUILD/weftctl

b64() { printf "$1" | base64 -w0; } # FORMAT (printf escapes: \0 is a NUL byte)
# A request to etcd's JSON gateway; prints its answer.
gw() { curl -sS -X POST "$ETCD_ENDPOINT/v3/$1" -d "$2"; } # PATH BODY

etcd_start || exit 1
etcd_put $P/config "$CONFIG"

export WEFT_TEST_LEASE_TTL=4 WEFT_TEST_RENEW_MARGIN=2
weftd_start a 127.0.0.11
tap_ok "a holds a lease" weftd_wait_held a
name=$(weftd_subnet a | sed 's|\.1/|.0-|')
K=$P/subnets/$name
tap_ok "a's key has an etcd lease" test "$(etcd_lease_id "$K")" != 0 -a "$(etcd_lease_id "$K")" != missing
tap_ok "a renews its lease" wait_until 10 eval '[ $(weftd_count a "renewed lease") -ge 1 ]'

# 1. "<our key>\0x" without an etcd lease: before the fix, weftd read the key as
# a C string, took it for its own and called its lease a reservation.
out=$(gw kv/put "{\"key\":\"$(b64 "$K\\0x")\",\"value\":\"$(b64 '{"PublicIP":"127.0.0.99","PublicIPv6":null}')\"}")
tap_ok "the gateway stored the NUL key" grep -q '"revision"' <<<"$out"
tap_eq "etcd holds two distinct keys" 2 \
	"$(etcdctl3 get --prefix --keys-only $P/subnets/ | grep -c "^$K")"
tap_ok "a logs the NUL key as a bad entry, escaped" wait_until 5 \
	grep -qF "ignoring $K\\x00x (revision " "$RUN_DIR/a.log"
tap_ok "the reason names the NUL byte" grep -qF 'subnet key contains a NUL byte' "$RUN_DIR/a.log"
tap_eq "a does not call its lease a reservation" 0 "$(weftd_count a 'is now a reservation')"
tap_ok "a answers and has no peer from it" eval 'v=$(weftd_peer_view a) && [ -z "$v" ]'
before=$(weftd_count a "renewed lease")
tap_ok "a keeps renewing its lease (2 more renewals)" \
	wait_until 15 eval '[ $(weftd_count a "renewed lease") -ge $((before + 2)) ]'
tap_ok "a's key still has an etcd lease" test "$(etcd_lease_id "$K")" != 0
tap_eq "the bad entry is logged once" 1 "$(grep -cF "ignoring $K\\x00x" "$RUN_DIR/a.log")"

# weftctl leases: one row for the real lease, the NUL key reported as invalid.
"$WEFTCTL" leases --etcd-endpoints "$ETCD_ENDPOINT" >"$RUN_DIR/leases.txt" 2>&1
tap_eq "weftctl leases: exit 0" 0 "$?"
tap_eq "weftctl leases: the real lease listed once" 1 "$(grep -c '^10\.5\.' "$RUN_DIR/leases.txt")"
tap_ok "weftctl leases: the NUL key is invalid, escaped" grep -qF \
	"invalid: $K\\x00x: bad subnet key: subnet key contains a NUL byte" "$RUN_DIR/leases.txt"
# weftctl reserve of our subnet must look at the real key, not the NUL one.
"$WEFTCTL" reserve --etcd-endpoints "$ETCD_ENDPOINT" "$(weftd_subnet a | sed 's|\.1/|.0/|')" \
	127.0.0.12 >"$RUN_DIR/reserve.txt" 2>&1
tap_eq "weftctl reserve for another IP: refused (exit 1)" 1 "$?"
tap_ok "weftctl reserve: refusal names the live lease of 127.0.0.11" \
	grep -qF "of public IP 127.0.0.11, not 127.0.0.12; refusing" "$RUN_DIR/reserve.txt"

# 2. A peer lease outside the network is refused, once, while a good one is taken.
etcd_put $P/subnets/128.0.0.0-1 '{"PublicIP":"127.0.0.21","PublicIPv6":null}'
etcd_put $P/subnets/10.5.77.0-24 '{"PublicIP":"127.0.0.22","PublicIPv6":null}'
tap_ok "a takes the good peer" wait_until 5 eval 'weftd_peer_view a | grep -qx 10.5.77.0-24'
tap_eq "a's peers: only the good one" "10.5.77.0-24" "$(weftd_peer_view a)"
tap_ok "a logs why 128.0.0.0-1 is refused" grep -qF \
	"ignoring $P/subnets/128.0.0.0-1 (revision" "$RUN_DIR/a.log"
tap_ok "the reason names the network" grep -qF \
	"subnet 128.0.0.0/1 is outside the network 10.5.0.0/16" "$RUN_DIR/a.log"
# Later events on the watch must not log it again.
etcd_put $P/subnets/10.5.78.0-24 '{"PublicIP":"127.0.0.23","PublicIPv6":null}'
tap_ok "a sees a later peer" wait_until 5 eval 'weftd_peer_view a | grep -q 10.5.78.0-24'
tap_eq "the refused peer is logged once" 1 "$(grep -cF "ignoring $P/subnets/128.0.0.0-1" "$RUN_DIR/a.log")"

# 3. Deleting "<a key>\0x": before the fix, weftd took it for the deletion of its
# own lease and exited with "lease revoked". A fresh daemon, and the NUL key on an
# etcd lease of its own (so that writing it is not mistaken for a reservation).
weftd_start b 127.0.0.12
tap_ok "b holds a lease" weftd_wait_held b
KB=$P/subnets/$(weftd_subnet b | sed 's|\.1/|.0-|')
id=$(gw lease/grant '{"TTL":600}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["ID"])')
out=$(gw kv/put "{\"key\":\"$(b64 "$KB\\0x")\",\"value\":\"$(b64 '{"PublicIP":"127.0.0.98","PublicIPv6":null}')\",\"lease\":\"$id\"}")
tap_ok "the gateway stored the NUL key on an etcd lease" grep -q '"revision"' <<<"$out"
tap_ok "b notes it as a bad entry" wait_until 5 grep -qF "ignoring $KB\\x00x (revision " "$RUN_DIR/b.log"
out=$(gw kv/deleterange "{\"key\":\"$(b64 "$KB\\0x")\"}")
tap_ok "the gateway deleted one key" grep -q '"deleted":"1"' <<<"$out"
before=$(weftd_count b "renewed lease")
tap_ok "b keeps renewing after the delete (2 more renewals)" \
	wait_until 15 eval '[ $(weftd_count b "renewed lease") -ge $((before + 2)) ]'
tap_ok "b is still running" bg_alive b
tap_eq "b did not take it for its lease's deletion" 0 "$(weftd_count b 'lease .* revoked')"
tap_ok "b's key is still there with an etcd lease" test "$(etcd_lease_id "$KB")" != 0 -a \
	"$(etcd_lease_id "$KB")" != missing
stop_bg b
tap_eq "b: SIGTERM: exit 0" 0 "$?"

stop_bg a
tap_eq "SIGTERM: exit 0" 0 "$?"
tap_done
