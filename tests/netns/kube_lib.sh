# SPDX-License-Identifier: Apache-2.0
# The netns cluster of lib.sh in kube mode: the same underlay and hosts, but a
# FAKE Kubernetes API server (tests/fake-kube/fake_kube.py) on the underlay
# instead of etcd. Requires common.sh, tap.sh, lib.sh and cases.sh, sourced
# before this file (it replaces weftd_host_start and vtep_mac for cases.sh).
#
#   $NS-ul: br0 10.200.0.1, the fake's API on https://10.200.0.1:6443 (TLS,
#           client certificates or bearer tokens), its control API on
#           http://127.0.0.1:6080 inside $NS-ul only
#   host N: node "node<N>", podCIDR 10.244.N.0/24, weftd --kube-subnet-mgr
#           reaching the fake as kube_auth N says:
#             1: kubeconfig (YAML), client certificate and CA files, relative paths
#             2: kubeconfig (YAML), CA and token inline (certificate-authority-data)
#             3: in-cluster service account (token + ca.crt, WEFT_SERVICEACCOUNT_DIR),
#                node name from its Pod (POD_NAME / POD_NAMESPACE)
#             other: kubeconfig with a client certificate, like 1
#
#   kube_cluster_up BACKEND_JSON     underlay, fake, HOSTS hosts with nodes, weftd, pods
#   kube_cluster_init                underlay + fake only
#   kube_node_create N [CIDR]        node<N> in the fake ("" CIDR: none)
#   kctl METHOD PATH [JSON]          the fake's control API
#   node_json NAME                   the node as stored
#   node_annot NAME KEY              one annotation ("" if absent)
#   node_condition NAME TYPE         "status reason message" of a condition

KUBE_API=https://$UNDERLAY_PREFIX.1:6443
KUBE_CTL=http://127.0.0.1:6080
KUBE_DIR=$RUN_DIR/kube
KUBE_TOKEN=weft-test-token-$RANDOM$RANDOM
A=flannel.alpha.coreos.com

kctl() { # METHOD PATH [JSON]
	ip netns exec "$UL" curl -sS --max-time 10 -X "$1" -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"} "$KUBE_CTL$2"
}

jq_py() { # PYTHON_EXPR (on j, the JSON read from stdin)
	python3 -c "import json,sys; j=json.load(sys.stdin); r=($1); print(r if isinstance(r,str) else json.dumps(r,separators=(',',':')))"
}

node_json() { kctl GET "/fake/nodes/$1"; }
node_annot() { node_json "$1" | jq_py "j['metadata'].get('annotations',{}).get('$2','')"; }
node_condition() {
	node_json "$1" | jq_py "' '.join(next(([c.get('status',''),c.get('reason',''),c.get('message','')] for c in j['status']['conditions'] if c['type']=='$2'), []))"
}

kube_make_certs() {
	local d=$KUBE_DIR/pki n
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=weft-fake-kube-ca" \
			-keyout ca.key -out ca.crt
		openssl req -newkey rsa:2048 -nodes -subj "/CN=fake-kube-apiserver" \
			-keyout server.key -out server.csr
		printf 'subjectAltName=IP:%s.1,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
			"$UNDERLAY_PREFIX" >server.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.crt
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		for n in $(seq 1 9); do
			openssl req -newkey rsa:2048 -nodes -subj "/O=system:nodes/CN=system:node:node$n" \
				-keyout "node$n.key" -out "node$n.csr"
			openssl x509 -req -in "node$n.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
				-days 2 -extfile client.ext -out "node$n.crt"
		done
	) >"$KUBE_DIR/openssl.log" 2>&1
}

kube_fake_start() {
	run_bg fake-kube ip netns exec "$UL" python3 tests/fake-kube/fake_kube.py \
		--listen "$UNDERLAY_PREFIX.1:6443" --control 127.0.0.1:6080 \
		--cert "$KUBE_DIR/pki/server.crt" --key "$KUBE_DIR/pki/server.key" \
		--client-ca "$KUBE_DIR/pki/ca.crt" --token "$KUBE_TOKEN"
	wait_until 10 kctl GET /fake/state || {
		echo "# the fake API server did not start:"
		sed 's/^/#   /' "$RUN_DIR/fake-kube.log" | tail -20
		return 1
	}
}

kube_cluster_init() {
	on_cleanup ns_cleanup
	ip netns add "$UL" || return 1
	ip -n "$UL" link set lo up
	# A fixed MAC: otherwise the bridge takes its lowest port's, which changes
	# as hosts join, and a host that resolved 10.200.0.1 earlier loses it.
	ip -n "$UL" link add br0 address 02:00:0a:c8:00:01 type bridge
	ip -n "$UL" addr add $UNDERLAY_PREFIX.1/24 dev br0
	ip -n "$UL" link set br0 up
	mkdir -p "$KUBE_DIR"
	kube_make_certs || return 1
	kube_fake_start
}

net_conf() { printf '%s\n' "$1" >"$RUN_DIR/net-conf.json"; }

# kube_node_create N [CIDR]: CIDR defaults to 10.244.N.0/24; "" = no podCIDR.
kube_node_create() {
	local n=$1 cidr=${2-10.244.$1.0/24} spec='{}'
	[ -n "$cidr" ] && spec="{\"podCIDR\":\"$cidr\",\"podCIDRs\":[\"$cidr\"]}"
	kctl POST /fake/nodes "{\"metadata\":{\"name\":\"node$n\"},\"spec\":$spec,
		\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$(host_ip "$n")\"},
		{\"type\":\"Hostname\",\"address\":\"node$n\"}]}}" >/dev/null
}

# The credentials host N uses (see the header): fills KUBE_ENV (environment)
# and KUBE_ARGS (weftd arguments).
kube_auth() {
	local n=$1 d=$KUBE_DIR/h$n
	mkdir -p "$d"
	KUBE_ENV=(NODE_NAME=node$n)
	KUBE_ARGS=()
	case $n in
	2)
		cat >"$d/kubeconfig" <<EOF
# weft test: CA and token inline
apiVersion: v1
kind: Config
clusters:
- name: "fake"
  cluster:
    server: $KUBE_API   # the fake on the underlay
    certificate-authority-data: $(base64 -w0 "$KUBE_DIR/pki/ca.crt")
contexts:
- context: {cluster: fake, user: 'weft'}
  name: weft@fake
current-context: weft@fake
preferences: {}
users:
- name: weft
  user:
    token: "$KUBE_TOKEN"
EOF
		KUBE_ARGS=("--kubeconfig-file=$d/kubeconfig")
		;;
	3)
		mkdir -p "$d/sa"
		printf '%s\n' "$KUBE_TOKEN" >"$d/sa/token"
		cp "$KUBE_DIR/pki/ca.crt" "$d/sa/ca.crt"
		KUBE_ENV=(POD_NAME=kube-weft-ds-h3 POD_NAMESPACE=kube-flannel
			WEFT_SERVICEACCOUNT_DIR="$d/sa" KUBERNETES_SERVICE_HOST=$UNDERLAY_PREFIX.1
			KUBERNETES_SERVICE_PORT=6443)
		kctl POST /fake/pods '{"metadata":{"name":"kube-weft-ds-h3","namespace":"kube-flannel"},
			"spec":{"nodeName":"node3","hostNetwork":true}}' >/dev/null
		;;
	*)
		cp "$KUBE_DIR/pki/node$n.crt" "$KUBE_DIR/pki/node$n.key" "$KUBE_DIR/pki/ca.crt" "$d/"
		cat >"$d/kubeconfig" <<EOF
apiVersion: v1
clusters:
- cluster:
    certificate-authority: ca.crt
    server: $KUBE_API
  name: fake
contexts:
- context:
    cluster: fake
    user: system:node:node$n
  name: default
current-context: default
kind: Config
users:
- name: system:node:node$n
  user:
    client-certificate: node$n.crt
    client-key: node$n.key
EOF
		KUBE_ARGS=("--kubeconfig-file=$d/kubeconfig")
		;;
	esac
}

# Replaces lib.sh's: weftd in kube mode (cases.sh's restart_no_loss calls it).
weftd_host_start() {
	local n=$1
	shift
	kube_auth "$n"
	run_bg "h$n" ip netns exec "$(host_ns "$n")" env "${KUBE_ENV[@]}" "$WEFT_BUILD/weftd" \
		--kube-subnet-mgr --net-config-path "$RUN_DIR/net-conf.json" \
		--subnet-file "$RUN_DIR/h$n.env" "${KUBE_ARGS[@]}" "${KUBE_WEFTD_EXTRA[@]}" "$@"
}
KUBE_WEFTD_EXTRA=() # a test's own weftd arguments, for every host

# Replaces cases.sh's (etcd): the MAC our node's backend-data publishes.
vtep_mac() { node_annot "node$1" "$A/backend-data" | jq_py "j['VtepMAC']"; }

kube_cluster_up() { # BACKEND_JSON
	local n
	kube_cluster_init || return 1
	net_conf "{\"Network\":\"10.244.0.0/16\",\"Backend\":$1}"
	for n in $(seq 1 "$HOSTS"); do
		host_add "$n"
		kube_node_create "$n"
		weftd_host_start "$n" --iface eth0
	done
	cluster_settle
}

# An upstream-looking flannel node with no host behind it (annotations as
# flanneld writes them): kube_phantom N PUBLIC_IP [MAC]
kube_phantom() {
	local n=$1 ip=$2 mac=${3:-0e:5a:00:00:00:$(printf %02x "$1")}
	printf '{"metadata":{"name":"node%s","annotations":{"%s/kube-subnet-manager":"true",
		"%s/backend-type":"vxlan","%s/backend-data":"{\\"VNI\\":1,\\"VtepMAC\\":\\"%s\\"}",
		"%s/public-ip":"%s"}},"spec":{"podCIDR":"10.244.%s.0/24","podCIDRs":["10.244.%s.0/24"]}}' \
		"$n" "$A" "$A" "$A" "$mac" "$A" "$ip" "$n" "$n"
}

# Routes of ours on host N (one per programmed peer).
our_routes() { host_exec "$1" ip route show proto 151 | grep -c .; }
