#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# weftd's lease life cycle against a real etcd (alloc backend, daemons on lo
# with distinct public addresses): distinct subnets and upstream's exact bytes,
# reuse on restart (by public address, and by subnet.env after expiry),
# reservations, revocation, renewal with a short TTL, malformed keys, TLS.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

P=/coreos.com/network
CONFIG='{"Network":"10.5.0.0/16","Backend":{"Type":"alloc"}}'

# The first N third octets X (from 200 down) with no key 10.5.X.0-24: daemons
# pick their subnets at random, and a key written by hand over a live lease
# would take it away from its daemon.
free_octets() { # N
	local used x n=0
	used=$(etcdctl3 get --prefix --keys-only $P/subnets/ | sed -n 's|.*/10\.5\.\([0-9]*\)\.0-24$|\1|p')
	for x in $(seq 200 -1 1); do
		grep -qx "$x" <<<"$used" && continue
		echo "$x"
		n=$((n + 1))
		[ "$n" -lt "$1" ] || return 0
	done
}

etcd_start || exit 1
etcd_put $P/config "$CONFIG"

# 1. Two daemons: distinct subnets, upstream's key names and value bytes.
weftd_start a 127.0.0.11
weftd_start b 127.0.0.12
tap_ok "daemon a holds a lease" weftd_wait_held a
tap_ok "daemon b holds a lease" weftd_wait_held b
# OpenSSL is loaded only for TLS: plain HTTP leaves its 1.7 MB unmapped.
tap_lacks "plain http: OpenSSL not loaded" libssl '/libc\.so' cat "/proc/$(bg_pid a)/maps"
sa=$(weftd_subnet a) sb=$(weftd_subnet b)
tap_ok "subnets are distinct ($sa, $sb)" test -n "$sa" -a "$sa" != "$sb"
tap_eq "a's key holds upstream's bytes" '{"PublicIP":"127.0.0.11","PublicIPv6":null}' \
	"$(etcd_get "$(etcd_key_of "$sa")")"
tap_eq "b's key holds upstream's bytes" '{"PublicIP":"127.0.0.12","PublicIPv6":null}' \
	"$(etcd_get "$(etcd_key_of "$sb")")"
tap_ok "a's key name is <net>-<len>" grep -qE '^10\.5\.[0-9]+\.0-24$' <<<"$(basename "$(etcd_key_of "$sa")")"
tap_eq "subnet.env is upstream's format" \
	"FLANNEL_NETWORK=10.5.0.0/16
FLANNEL_SUBNET=$sa
FLANNEL_MTU=65536
FLANNEL_IPMASQ=false" "$(cat "$RUN_DIR/a.env")"
tap_ok "a's key has a TTL (etcd lease)" test "$(etcd_lease_id "$(etcd_key_of "$sa")")" != 0
tap_ok "a sees b as a peer" eval '[ "$(weftd_peer_view a)" = "$(basename "$(etcd_key_of "$sb")")" ]'

# 2. Restart keeps the subnet (matched by public address); the key survives the stop.
stop_bg a
tap_eq "SIGTERM: exit 0" 0 "$?"
tap_ok "the key stays in etcd after a clean exit" test -n "$(etcd_get "$(etcd_key_of "$sa")")"
rm -f "$RUN_DIR/a.env" # prove the match is by public address, not by the file
weftd_start a 127.0.0.11
weftd_wait_held a 2
tap_eq "restart by public address keeps the subnet" "$sa" "$(weftd_subnet a)"
tap_ok "log says it was reused" grep -q "reused, matched by public address" "$RUN_DIR/a.log"

# 3. Deleting a daemon's key makes it exit 0 with "lease revoked".
etcd_del "$(etcd_key_of "$sb")"
wait_bg b 10
tap_eq "key deleted: b exits 0" 0 "$?"
tap_ok "b logs 'lease revoked'" grep -q "lease revoked" "$RUN_DIR/b.log"
tap_ok "a drops b from its peers" wait_until 5 eval '[ -z "$(weftd_peer_view a)" ]'

# 4. Renewal with a short TTL (test knobs): the key moves to new etcd leases and
# outlives several TTLs; the old etcd leases are revoked.
export WEFT_TEST_LEASE_TTL=4 WEFT_TEST_RENEW_MARGIN=2
weftd_start c 127.0.0.13
weftd_wait_held c
sc=$(weftd_subnet c)
first=$(etcd_lease_id "$(etcd_key_of "$sc")")
tap_ok "short TTL: renewed at least twice" \
	wait_until 15 eval '[ $(weftd_count c "renewed lease") -ge 2 ]'
tap_ok "short TTL: key still present after > 2 TTLs" test -n "$(etcd_get "$(etcd_key_of "$sc")")"
tap_ok "short TTL: key moved to a new etcd lease" test "$(etcd_lease_id "$(etcd_key_of "$sc")")" != "$first"

# 5. Restart after the key expired: the previous subnet comes from subnet.env.
stop_bg c
tap_ok "stopped daemon's key expires" wait_until 15 eval '[ -z "$(etcd_get "$(etcd_key_of "$sc")")" ]'
weftd_start c 127.0.0.23 # a new public address: no lease to match
weftd_wait_held c 2
tap_eq "expired key: subnet.env's subnet is reused" "$sc" "$(weftd_subnet c)"
tap_ok "log names the subnet file" grep -q "reusing the previous subnet" "$RUN_DIR/c.log"
stop_bg c
unset WEFT_TEST_LEASE_TTL WEFT_TEST_RENEW_MARGIN

# 6. A reservation (no etcd lease) is honoured and stays TTL-less while the daemon
# runs and renews (upstream issue #1329 re-attaches a TTL).
R=10.5.$(free_octets 1).0
etcd_put $P/subnets/$R-24 '{"PublicIP":"127.0.0.14","PublicIPv6":null}'
WEFT_TEST_LEASE_TTL=4 WEFT_TEST_RENEW_MARGIN=2 weftd_start d 127.0.0.14
weftd_wait_held d
tap_eq "reservation honoured" "${R%.0}.1/24" "$(weftd_subnet d)"
tap_ok "log says reservation" grep -q "(reservation)" "$RUN_DIR/d.log"
# Wait longer than two short TTLs, by polling a's view of d (it must stay there).
tap_ok "a sees the reserved node" wait_until 5 eval 'weftd_peer_view a | grep -q $R-24'
t_end=$(($(date +%s) + 9))
while [ "$(date +%s)" -lt "$t_end" ]; do
	[ "$(etcd_lease_id $P/subnets/$R-24)" = 0 ] || break
	sleep 0.5
done
tap_eq "reservation still has no TTL after 9s of a 4s-TTL daemon" 0 "$(etcd_lease_id $P/subnets/$R-24)"
tap_eq "reserved daemon never renewed" 0 "$(weftd_count d 'renewed lease')"
stop_bg d

# 7. 100 malformed keys and values written by others: skipped, logged, no harm.
i=0
for x in $(free_octets 50); do
	i=$((i + 1))
	etcdctl3 put "$P/subnets/bad-key-$i" '{"PublicIP":"1.1.1.1","PublicIPv6":null}' >/dev/null
	etcdctl3 put "$P/subnets/10.5.$x.0-24" "garbage $i" >/dev/null
done
tap_eq "50 garbage values written, none over a live lease" 50 "$i"
tap_ok "a logs each malformed key" wait_until 10 eval '[ $(weftd_count a "ignoring $P/subnets/") -ge 100 ]'
tap_ok "a is still running" bg_alive a
weftd_start e 127.0.0.15
tap_ok "a new daemon starts among the garbage" weftd_wait_held e
se=$(weftd_subnet e)
tap_ok "and gets a subnet no garbage key names (${se})" \
	test -z "$(etcd_get "$(etcd_key_of "$se")" | grep garbage)"
tap_eq "each bad key logged once by the new daemon" 100 "$(weftd_count e "ignoring $P/subnets/")"
stop_bg e

# 8. A renewal that fails (etcd down) is retried (every WEFT_TEST_RENEW_RETRY s
# here; a minute by default) until it succeeds; the daemon never gives up.
WEFT_TEST_LEASE_TTL=8 WEFT_TEST_RENEW_MARGIN=5 WEFT_TEST_RENEW_RETRY=1 weftd_start r 127.0.0.18
weftd_wait_held r
etcd_stop
tap_ok "renewal failure is logged with its retry" \
	wait_until 15 grep -q "renewing lease .* retrying in 1s" "$RUN_DIR/r.log"
tap_ok "retried more than once while etcd is down" \
	wait_until 10 eval '[ $(weftd_count r "retrying in 1s") -ge 2 ]'
etcd_start || exit 1
tap_ok "renewal succeeds once etcd is back" wait_until 15 grep -q "renewed lease" "$RUN_DIR/r.log"
tap_ok "daemon r still running" bg_alive r
stop_bg r
stop_bg a
tap_eq "a exits 0 on SIGTERM" 0 "$?"
etcd_stop

# 9. TLS with a client certificate generated here.
ETCD_CLIENT_PORT= ETCD_DIR=$RUN_DIR/etcd-tls
etcd_start tls || exit 1
etcd_put $P/config "$CONFIG"
WEFTD_ETCD_ARGS=(--etcd-cafile "$ETCD_DIR/certs/ca.crt" --etcd-certfile "$ETCD_DIR/certs/client.crt"
	--etcd-keyfile "$ETCD_DIR/certs/client.key")
weftd_start t 127.0.0.16
tap_ok "TLS: lease acquired over https with a client certificate" weftd_wait_held t
tap_ok "TLS: OpenSSL loaded on demand" grep -q libssl.so.3 "/proc/$(bg_pid t)/maps"
st=$(weftd_subnet t)
tap_eq "TLS: stored bytes" '{"PublicIP":"127.0.0.16","PublicIPv6":null}' "$(etcd_get "$(etcd_key_of "$st")")"
stop_bg t
WEFTD_ETCD_ARGS=(--etcd-cafile "$ETCD_DIR/certs/ca.crt")
weftd_start u 127.0.0.17
tap_ok "TLS: without a client certificate it keeps retrying, logging why" \
	wait_until 10 grep -q "cannot read $P/config" "$RUN_DIR/u.log"
tap_ok "TLS: and holds no lease" eval '[ $(weftd_count u " held; wrote ") = 0 ]'
stop_bg u

tap_done
