#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS server names against a real etcd whose certificate names only
# IP:127.0.0.1. Reached as https://127.0.0.1 it is accepted (weftd holds a
# lease, weftctl lists it); reached as https://localhost, a name the
# certificate does not carry (though it resolves to that address), it is
# refused with "hostname mismatch", by weftd (which keeps retrying, no lease)
# and by weftctl (exit 1). The other way round (an address missing from the
# certificate: "IP address mismatch") is in tests/unit/test_http_client.c.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

P=/coreos.com/network
WEFTCTL=${WEFTCTL:-$WEFT_BUILD/weftctl}
C=$ETCD_DIR/certs

# etcd_start uses the certificates it finds there.
mkdir -p "$C"
(
	cd "$C" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=weft-test-ca" -keyout ca.key -out ca.crt &&
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr &&
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >server.ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.crt &&
		openssl req -newkey rsa:2048 -nodes -subj "/CN=weft-client" -keyout client.key -out client.csr &&
		printf 'extendedKeyUsage=clientAuth\n' >client.ext &&
		openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile client.ext -out client.crt
) >"$RUN_DIR/openssl.log" 2>&1 || { echo "# openssl failed"; cat "$RUN_DIR/openssl.log"; exit 1; }
etcd_start tls || exit 1
port=$ETCD_CLIENT_PORT
etcd_put $P/config '{"Network":"10.11.0.0/16","Backend":{"Type":"alloc"}}'

tlsargs=(--etcd-cafile "$C/ca.crt" --etcd-certfile "$C/client.crt" --etcd-keyfile "$C/client.key")
WEFTD_ETCD_ARGS=("${tlsargs[@]}")

# The name matches: accepted.
weftd_start good 127.0.11.1 --etcd-endpoints "https://127.0.0.1:$port"
tap_ok "weftd via https://127.0.0.1 (the certificate's name) holds a lease" weftd_wait_held good
out=$("$WEFTCTL" leases --etcd-endpoints "https://127.0.0.1:$port" "${tlsargs[@]}" 2>&1) && rc=0 || rc=$?
tap_eq "weftctl leases via https://127.0.0.1: exit status" 0 "$rc"
tap_ok "weftctl leases via https://127.0.0.1 lists the lease" grep -q "127.0.11.1" <<<"$out"

# Another name for the same address, not in the certificate: refused.
weftd_start bad 127.0.11.2 --etcd-endpoints "https://localhost:$port"
tap_ok "weftd via https://localhost refuses the certificate (hostname mismatch)" \
	wait_until 15 grep -q "TLS handshake with localhost: certificate verify failed: hostname mismatch" \
	"$RUN_DIR/bad.log"
tap_eq "... and holds no lease" 0 "$(weftd_count bad ' held; wrote ')"
tap_ok "... and keeps running (retrying)" bg_alive bad
out=$("$WEFTCTL" leases --etcd-endpoints "https://localhost:$port" "${tlsargs[@]}" 2>&1) && rc=0 || rc=$?
tap_eq "weftctl leases via https://localhost: exit status" 1 "$rc"
tap_ok "weftctl says why: hostname mismatch" \
	grep -q "TLS handshake with localhost: certificate verify failed: hostname mismatch" <<<"$out"
echo "$out" | head -3 | sed 's/^/# weftctl: /'
stop_bg good
tap_eq "weftd (good) exits 0 on SIGTERM" 0 "$?"
stop_bg bad
tap_eq "weftd (bad) exits 0 on SIGTERM" 0 "$?"
tap_done
