#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS server names in kube mode, against FAKE API servers (tests/fake-kube)
# on the underlay, all with certificates from the same CA, weftd in host 1:
#   :6443  IP:10.200.0.1 (kube_lib's)   as https://10.200.0.1  accepted
#   :6445  DNS:kube.test                as https://kube.test   accepted (the
#          name comes from /etc/netns/<host 1>/hosts, looked up off the loop)
#   :6444  DNS:other.invalid            as https://10.200.0.1  refused: IP
#          address mismatch; as https://kube.test  refused: hostname mismatch
# Refused means: weftd logs why and retries, holds no lease, and that fake
# never saw an API request.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/kube_lib.sh

kube_cluster_init || { tap_ok "underlay and fake API server up" false; tap_done; exit 1; }
net_conf '{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}'
host_add 1 || exit 1
kube_node_create 1
n=1 kube_auth 1 # kubeconfig with node1's client certificate in $KUBE_DIR/h1 (it reads $n)

# Name look-ups in host 1 (ip netns exec bind-mounts this over /etc/hosts).
on_cleanup "rm -rf /etc/netns/$(host_ns 1)"
mkdir -p "/etc/netns/$(host_ns 1)"
printf '127.0.0.1 localhost\n%s.1 kube.test\n' "$UNDERLAY_PREFIX" >"/etc/netns/$(host_ns 1)/hosts"

cert() { # NAME SAN: a server certificate from the fake's CA
	(
		cd "$KUBE_DIR/pki" || exit 1
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" &&
			printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$2" >"$1.ext" &&
			openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
				-extfile "$1.ext" -out "$1.crt"
	) >>"$KUBE_DIR/openssl.log" 2>&1
}
fake() { # NAME PORT CONTROL_PORT CERT
	run_bg "fake-$1" ip netns exec "$UL" python3 tests/fake-kube/fake_kube.py \
		--listen "$UNDERLAY_PREFIX.1:$2" --control "127.0.0.1:$3" \
		--cert "$KUBE_DIR/pki/$4.crt" --key "$KUBE_DIR/pki/$4.key" --client-ca "$KUBE_DIR/pki/ca.crt"
	KUBE_CTL=http://127.0.0.1:$3 wait_until 10 kctl GET /fake/state
}
cert other DNS:other.invalid || exit 1
cert named DNS:kube.test || exit 1
fake other 6444 6081 other || { echo "# fake (other) did not start"; exit 1; }
fake named 6445 6082 named || { echo "# fake (named) did not start"; exit 1; }
KUBE_CTL=http://127.0.0.1:6082 kube_node_create 1

# weftd in host 1 against SERVER_URL; its log is $RUN_DIR/LABEL.log.
run_weftd() { # LABEL SERVER_URL
	sed "s|server: .*|server: $2|" "$KUBE_DIR/h1/kubeconfig" >"$KUBE_DIR/h1/kc-$1"
	run_bg "$1" ip netns exec "$(host_ns 1)" env NODE_NAME=node1 "$WEFT_BUILD/weftd" --kube-subnet-mgr \
		--net-config-path "$RUN_DIR/net-conf.json" --subnet-file "$RUN_DIR/$1.env" \
		--kubeconfig-file="$KUBE_DIR/h1/kc-$1" --iface eth0
}
api_requests() { # CONTROL_PORT: API requests the fake received
	KUBE_CTL=http://127.0.0.1:$1 kctl GET /fake/requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
accepted() { # LABEL URL
	run_weftd "$1" "$2"
	tap_ok "$2 (the certificate's name): accepted, weftd holds a lease" \
		wait_until 20 grep -q "held; wrote" "$RUN_DIR/$1.log"
	stop_bg "$1"
	tap_eq "$1: weftd exits 0 on SIGTERM" 0 "$?"
}
refused() { # LABEL URL WHY
	local host=${2#https://}
	host=${host%:*}
	run_weftd "$1" "$2"
	tap_ok "$2 (not the certificate's name): refused, \"$3\", retried" wait_until 15 grep -q \
		"cannot get node node1: .*TLS handshake with $host: certificate verify failed: $3.*retrying" \
		"$RUN_DIR/$1.log"
	tap_ok "$1: weftd still running" bg_alive "$1"
	tap_eq "$1: no lease held" 0 "$(grep -c 'held; wrote' "$RUN_DIR/$1.log")"
	stop_bg "$1"
	tap_eq "$1: weftd exits 0 on SIGTERM" 0 "$?"
}

accepted by-ip "https://$UNDERLAY_PREFIX.1:6443"
accepted by-name "https://kube.test:6445"
tap_ok "the fake for kube.test served weftd" test "$(api_requests 6082)" -gt 0
refused other-ip "https://$UNDERLAY_PREFIX.1:6444" "IP address mismatch"
refused other-name "https://kube.test:6444" "hostname mismatch"
tap_eq "the fake with the other name never saw an API request" 0 "$(api_requests 6081)"
tap_done
