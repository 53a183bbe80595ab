#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The etcd client (src/etcd) against a real etcd: plain HTTP, then TLS with a
# client certificate generated here.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh

prog=$WEFT_BUILD/tests/integration/etcd_client_test

etcd_start || exit 1
tap_cmocka plain env ETCD_ENDPOINT="$ETCD_ENDPOINT" "$prog"

# User/password authentication (etcd v3 auth: a token per session).
etcdctl3 user add root:rootpw >/dev/null && etcdctl3 user grant-role root root >/dev/null &&
	etcdctl3 auth enable >/dev/null
tap_cmocka auth env ETCD_ENDPOINT="$ETCD_ENDPOINT" ETCD_USERNAME=root ETCD_PASSWORD=rootpw "$prog"
# The refusals, through weftctl (same client, and a message to check), after
# the same command with the right password succeeded.
W=$WEFT_BUILD/weftctl
tap_ok "auth: weftctl leases as root" \
	"$W" leases --etcd-endpoints "$ETCD_ENDPOINT" --etcd-username root --etcd-password rootpw
tap_fail_with "auth: wrong password is refused" 1 \
	"^weftctl: leases: etcd: $ETCD_ENDPOINT: authentication as 'root' failed: etcdserver: authentication failed, invalid user ID or password\$" \
	"$W" leases --etcd-endpoints "$ETCD_ENDPOINT" --etcd-username root --etcd-password wrong
tap_fail_with "auth: no credentials are refused" 1 \
	"^weftctl: leases: etcd: $ETCD_ENDPOINT: HTTP 400: etcdserver: user name is empty\$" \
	"$W" leases --etcd-endpoints "$ETCD_ENDPOINT"
etcd_stop

ETCD_CLIENT_PORT= ETCD_DIR=$RUN_DIR/etcd-tls
etcd_start tls || exit 1
tap_cmocka tls env ETCD_ENDPOINT="$ETCD_ENDPOINT" ETCD_CAFILE="$ETCD_DIR/certs/ca.crt" \
	ETCD_CERTFILE="$ETCD_DIR/certs/client.crt" ETCD_KEYFILE="$ETCD_DIR/certs/client.key" "$prog"

# Without a client certificate the TLS etcd must refuse us (the TLS 1.3 alert
# is "certificate required", older ones say "bad certificate").
tap_ok "tls: weftctl leases with the client certificate" \
	"$W" leases --etcd-endpoints "$ETCD_ENDPOINT" --etcd-cafile "$ETCD_DIR/certs/ca.crt" \
	--etcd-certfile "$ETCD_DIR/certs/client.crt" --etcd-keyfile "$ETCD_DIR/certs/client.key"
tap_fail_with "tls: no client certificate is refused" 1 \
	"^weftctl: leases: cannot reach etcd \($ETCD_ENDPOINT\): .*alert (bad certificate|certificate required)" \
	"$W" leases --etcd-endpoints "$ETCD_ENDPOINT" --etcd-cafile "$ETCD_DIR/certs/ca.crt"
tap_done
