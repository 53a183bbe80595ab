#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS endpoints that reset connections (issue 14, item 1). weftd is given two
# resetting TLS servers before a real TLS etcd: one resets in the middle of the
# handshake (the client's next write meets the reset: SIGPIPE, which killed
# weftd, as OpenSSL writes with write()), one after reading part of the
# request. weftd must survive both, fail over to etcd and hold a lease; so must
# weftctl.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

P=/coreos.com/network
C=$RUN_DIR/etcd/certs

etcd_start tls || exit 1
etcd_put $P/config '{"Network":"10.9.0.0/16","Backend":{"Type":"alloc"}}'

# resetter MODE: start one, echo its port once it listens.
resetter() {
	run_bg "reset-$1" python3 tests/integration/tls_reset_server.py "$1" "$C/server.crt" "$C/server.key" "$C/ca.crt"
	wait_until 10 grep -q '^listening ' "$RUN_DIR/reset-$1.log" || return 1
	sed -n 's/^listening //p' "$RUN_DIR/reset-$1.log"
}
hs_port=$(resetter handshake) || { echo "# handshake resetter did not start"; exit 1; }
rq_port=$(resetter request) || { echo "# request resetter did not start"; exit 1; }
endpoints=https://127.0.0.1:$hs_port,https://127.0.0.1:$rq_port,$ETCD_ENDPOINT
tlsargs=(--etcd-cafile "$C/ca.crt" --etcd-certfile "$C/client.crt" --etcd-keyfile "$C/client.key")

# weftd_start passes $ETCD_ENDPOINT first; ours come last and win.
WEFTD_ETCD_ARGS=("${tlsargs[@]}")
weftd_start d1 127.0.9.1 --etcd-endpoints "$endpoints"
# Until it holds a lease or dies (the old weftd died of SIGPIPE at once).
wait_until 20 eval "[ \$(weftd_count d1 ' held; wrote ') -ge 1 ] || ! bg_alive d1"
tap_ok "weftd is still running after the resets" bg_alive d1
tap_ok "weftd fails over past both resetting endpoints and holds a lease" weftd_wait_held d1
tap_ok "the handshake server did close a connection mid-handshake" \
	grep -q '^closed handshake' "$RUN_DIR/reset-handshake.log"
tap_ok "the request resetter did reset a connection mid-request" \
	grep -q '^reset request' "$RUN_DIR/reset-request.log"
key=$P/subnets/$(weftd_subnet d1 | sed 's|\.1/|.0-|')
tap_eq "its lease is in etcd" '{"PublicIP":"127.0.9.1","PublicIPv6":null}' "$(etcd_get "$key")"
stop_bg d1
tap_eq "weftd exits 0 on SIGTERM (not killed by a signal)" 0 "$?"

# weftctl talks to etcd through the same client.
out=$("${WEFTCTL:-$WEFT_BUILD/weftctl}" leases --etcd-endpoints "$endpoints" "${tlsargs[@]}" 2>&1) && rc=0 || rc=$?
tap_eq "weftctl leases fails over too (exit status)" 0 "$rc"
tap_ok "weftctl leases lists the lease" grep -q "127.0.9.1" <<<"$out"
tap_done
