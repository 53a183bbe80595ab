# SPDX-License-Identifier: Apache-2.0
# A real etcd (Debian etcd-server) for tests, on loopback with random ports.
# Requires tests/lib/common.sh.
#
#   etcd_start [tls]      start (or restart on the same ports and data); sets ETCD_ENDPOINT
#   etcd_stop             stop it (SIGTERM, by pid)
#   etcdctl3 ARGS...      etcdctl against it (v3 API)
#   etcd_put KEY VALUE / etcd_get KEY / etcd_del KEY
#   etcd_make_certs DIR   CA, server (127.0.0.1) and client certificates with openssl

ETCD_BIN=${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}
# Set ETCD_NETNS (and ETCD_HOST, an address in it) to run etcd inside a namespace.
ETCD_NETNS=${ETCD_NETNS:-}
ETCD_HOST=${ETCD_HOST:-127.0.0.1}
# Extra etcd flags, e.g. ETCD_ARGS=(--experimental-watch-progress-notify-interval 1s).
[ -n "${ETCD_ARGS+x}" ] || ETCD_ARGS=()
ETCD_DIR=$RUN_DIR/etcd
ETCD_TLS=
ETCD_CLIENT_PORT=
ETCD_PEER_PORT=

etcd_make_certs() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=weft-test-ca" \
			-keyout ca.key -out ca.crt
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
			-keyout server.key -out server.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.crt
		openssl req -newkey rsa:2048 -nodes -subj "/CN=weft-client" \
			-keyout client.key -out client.csr
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile client.ext -out client.crt
	) >"$d/openssl.log" 2>&1
}

etcd_start() {
	local scheme=http tlsargs=()
	[ "${1:-}" = tls ] && ETCD_TLS=1
	[ -n "$ETCD_CLIENT_PORT" ] || ETCD_CLIENT_PORT=$(free_port)
	[ -n "$ETCD_PEER_PORT" ] || ETCD_PEER_PORT=$(free_port)
	mkdir -p "$ETCD_DIR"
	if [ -n "$ETCD_TLS" ]; then
		[ -f "$ETCD_DIR/certs/ca.crt" ] || etcd_make_certs "$ETCD_DIR/certs"
		scheme=https
		tlsargs=(--cert-file "$ETCD_DIR/certs/server.crt" --key-file "$ETCD_DIR/certs/server.key"
			--trusted-ca-file "$ETCD_DIR/certs/ca.crt" --client-cert-auth)
	fi
	ETCD_ENDPOINT=$scheme://$ETCD_HOST:$ETCD_CLIENT_PORT
	run_bg etcd ${ETCD_NETNS:+ip netns exec "$ETCD_NETNS"} "$ETCD_BIN" --name weft-test --data-dir "$ETCD_DIR/data" \
		--listen-client-urls "$ETCD_ENDPOINT" --advertise-client-urls "$ETCD_ENDPOINT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "weft-test=http://127.0.0.1:$ETCD_PEER_PORT" \
		--log-level warn "${tlsargs[@]}" "${ETCD_ARGS[@]}"
	wait_until 30 etcdctl3 endpoint health || {
		echo "# etcd did not become healthy; log:" && sed 's/^/#   /' "$RUN_DIR/etcd.log" | tail -20
		return 1
	}
}

etcd_stop() { stop_bg etcd TERM; }

etcdctl3() {
	local tls=()
	[ -n "$ETCD_TLS" ] && tls=(--cacert "$ETCD_DIR/certs/ca.crt" --cert "$ETCD_DIR/certs/client.crt"
		--key "$ETCD_DIR/certs/client.key")
	ETCDCTL_API=3 ${ETCD_NETNS:+ip netns exec "$ETCD_NETNS"} etcdctl --endpoints "$ETCD_ENDPOINT" --dial-timeout 2s --command-timeout 5s \
		"${tls[@]}" "$@"
}

etcd_put() { etcdctl3 put "$1" "$2" >/dev/null; }
etcd_get() { etcdctl3 get --print-value-only "$1"; }
etcd_del() { etcdctl3 del "$1" >/dev/null; }
# Under the prefix $P: a subnet's lease key and weft's owner record beside it
# (10.8.3.1/24 -> $P/subnets/10.8.3.0-24), and the etcd lease id a key is
# attached to (0 for none, "missing" when the key is absent).
etcd_key_of() { echo "$P/subnets/$(echo "$1" | sed 's|\.1/|.0-|')"; }
etcd_owner_of() { echo "$P/weft/owners/$(echo "$1" | sed 's|\.1/|.0-|')"; }
etcd_lease_id() { # KEY
	etcdctl3 get "$1" -w json | python3 -c '
import json, sys
kvs = json.load(sys.stdin).get("kvs", [])
print(kvs[0].get("lease", 0) if kvs else "missing")'
}
