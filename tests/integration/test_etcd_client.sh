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
tap_fail "auth: wrong password is refused" env ETCD_ENDPOINT="$ETCD_ENDPOINT" \
	ETCD_USERNAME=root ETCD_PASSWORD=wrong "$prog"
tap_fail "auth: no credentials are refused" env ETCD_ENDPOINT="$ETCD_ENDPOINT" "$prog"
etcd_stop

ETCD_CLIENT_PORT= ETCD_DIR=$RUN_DIR/etcd-tls
etcd_start tls || exit 1
tap_cmocka tls env ETCD_ENDPOINT="$ETCD_ENDPOINT" ETCD_CAFILE="$ETCD_DIR/certs/ca.crt" \
	ETCD_CERTFILE="$ETCD_DIR/certs/client.crt" ETCD_KEYFILE="$ETCD_DIR/certs/client.key" "$prog"

# Without a client certificate the TLS etcd must refuse us.
tap_fail "tls: no client certificate is refused" env \
	ETCD_ENDPOINT=$ETCD_ENDPOINT ETCD_CAFILE=$ETCD_DIR/certs/ca.crt "$prog"
tap_done
