#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# uninstall-weft.sh STEP...: remove what weftd leaves on a node once it has
# stopped (docs/uninstall.md says what each step removes and when to run it;
# tests/netns/test_uninstall.sh runs exactly these steps). Run as root, on the
# node, with weftd stopped: a running weftd puts back what is removed.
#
#   overlay-filter  weft's own filter (--overlay-peers-only): the iptables and
#                   ip6tables chain WEFT-OVERLAY with its INPUT jump, and the
#                   chain overlay-input and set overlay-peers inside the nft
#                   tables flannel-ipv4/flannel-ipv6. flanneld knows neither:
#                   run this step before handing a node back to flanneld.
#   kernel          the devices (flannel.<VNI>, flannel-v6.<VNI>, flannel.ipip,
#                   flannel-wg, flannel-wg-v6, the udp backend's flannel<N>),
#                   every route and nexthop object of protocol 151 (weft's:
#                   peers, host-gw, the blackhole and ipsec's unreachable
#                   route), and the ipsec kernel engine's XFRM policies
#                   (reqid 11). Neighbours and FDB entries go with the devices.
#   rules           flanneld's rules as weftd installs them: the iptables and
#                   ip6tables chains FLANNEL-POSTRTG (nat) and FLANNEL-FWD
#                   (filter) with their jumps, the nft tables flannel-ipv4 and
#                   flannel-ipv6 (overlay-filter included).
#   cni             the CNI bridge and the CNI plugins' state: cni0,
#                   /var/lib/cni/flannel (the flannel plugin's saved delegate
#                   configurations), /var/lib/cni/networks/cbr0 (host-local's
#                   addresses). Only once no pod of the node is left.
#   etcd            this node's lease <prefix>/subnets/<key> and weft's owner
#                   record <prefix>/weft/owners/<key>, with etcdctl; the key is
#                   taken from FLANNEL_SUBNET in the subnet file (IPv4 and dual
#                   stack; IPv6-only: set WEFT_LEASE_KEY). Only when the node
#                   leaves the network for good: a node going back to flanneld
#                   keeps its lease (and its subnet).
#   files           the subnet file (/run/flannel/subnet.env), the WireGuard
#                   key (/run/flannel/wgkey) and ipsec's run directory
#                   (/run/weft/ipsec).
#
# Steps run in the order given. Paths and etcd settings come from the
# variables weftd reads (FLANNELD_SUBNET_FILE, FLANNELD_ETCD_ENDPOINTS,
# FLANNELD_ETCD_PREFIX, FLANNELD_ETCD_CAFILE/_CERTFILE/_KEYFILE), so the
# node's weftd environment file can be sourced first; WEFT_CNI_BRIDGE,
# WEFT_CNI_DATA_DIR, WEFT_CNI_IPAM_DIR, WIREGUARD_KEY_FILE, WEFT_IPSEC_RUN_DIR
# and WEFT_LEASE_KEY override the other defaults. Every removal is printed;
# what is absent is skipped, so a step can be run again. Exit status 1 when a
# removal failed.

# shellcheck disable=SC2317 # the steps are called as step_$name
set -u
SUBNET_FILE=${FLANNELD_SUBNET_FILE:-/run/flannel/subnet.env}
ETCD_PREFIX=${FLANNELD_ETCD_PREFIX:-/coreos.com/network}
CNI_BRIDGE=${WEFT_CNI_BRIDGE:-cni0}
CNI_DATA_DIR=${WEFT_CNI_DATA_DIR:-/var/lib/cni/flannel}
CNI_IPAM_DIR=${WEFT_CNI_IPAM_DIR:-/var/lib/cni/networks/cbr0}
WG_KEY_FILE=${WIREGUARD_KEY_FILE:-/run/flannel/wgkey}
IPSEC_RUN_DIR=${WEFT_IPSEC_RUN_DIR:-/run/weft/ipsec}
WEFT_PROTO=151 # rtm_protocol of weft's routes and nexthop objects
IPSEC_REQID=11 # reqid of the ipsec backend's XFRM policies (flannel's)
failed=0

say() { echo "uninstall-weft: $*"; }
run() { # cmd...: run it, print it, count a failure
	say "${*/#etcdctl_/etcdctl}"
	"$@" || { failed=1; say "FAILED: $*"; }
}

# Every rule of TABLE that jumps to CHAIN, then the chain itself (iptables or
# ip6tables as CMD). A rule is deleted by its own text: iptables -S prints
# it quoted as the shell reads it.
ipt_chain_del() { # CMD TABLE CHAIN
	local cmd=$1 t=$2 c=$3 rule
	command -v "$cmd" >/dev/null || return 0
	"$cmd" -w 10 -t "$t" -S "$c" >/dev/null 2>&1 || return 0
	while read -r rule; do
		say "$cmd -w 10 -t $t ${rule/#-A /-D }"
		eval "$cmd -w 10 -t $t ${rule/#-A /-D }" || { failed=1; say "FAILED"; }
	done < <("$cmd" -w 10 -t "$t" -S | grep -E -e "^-A .* -j $c( |\$)")
	run "$cmd" -w 10 -t "$t" -F "$c"
	run "$cmd" -w 10 -t "$t" -X "$c"
}

nft_has() { nft list "$@" >/dev/null 2>&1; } # OBJECT FAMILY TABLE [NAME]

step_overlay_filter() {
	local cmd fam tbl
	for cmd in iptables ip6tables; do ipt_chain_del "$cmd" filter WEFT-OVERLAY; done
	command -v nft >/dev/null || return 0
	for fam in "ip flannel-ipv4" "ip6 flannel-ipv6"; do
		tbl=${fam#* }
		fam=${fam% *}
		nft_has chain "$fam" "$tbl" overlay-input && run nft delete chain "$fam" "$tbl" overlay-input
		nft_has set "$fam" "$tbl" overlay-peers && run nft delete set "$fam" "$tbl" overlay-peers
	done
	return 0
}

# The ipsec kernel engine's policies: one delete per policy with reqid 11,
# by its selector and direction (ip xfrm policy deleteall has no reqid).
xfrm_del() {
	local sel
	ip xfrm policy list >/dev/null 2>&1 || return 0
	while read -r sel; do
		# shellcheck disable=SC2086 # the selector is words
		run ip xfrm policy delete $sel
	done < <(ip xfrm policy list | awk -v want="reqid $IPSEC_REQID " '
		/^src / { sel = $0; dir = ""; hit = 0; next }
		/^\tdir / { dir = $2; next }
		/^\t\ttmpl / { next }
		index($0 " ", want) { if (dir != "" && !hit) { hit = 1; sub(/ *$/, "", sel); print sel " dir " dir } }')
}

step_kernel() {
	local dev
	for dev in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		case $dev in
		flannel.[0-9]* | flannel-v6.[0-9]* | flannel.ipip | flannel-wg | flannel-wg-v6 | flannel[0-9]*)
			run ip link del "$dev" ;;
		esac
	done
	# Nexthops first: deleting one deletes the routes through it, and
	# `ip route flush` fails on a route with a nexthop id (iproute2 6.1:
	# "Failed to send flush request: Invalid argument").
	[ -z "$(ip nexthop show proto "$WEFT_PROTO" 2>/dev/null)" ] ||
		run ip nexthop flush proto "$WEFT_PROTO"
	[ -z "$(ip -4 route show table all proto "$WEFT_PROTO")" ] ||
		run ip -4 route flush table all proto "$WEFT_PROTO"
	[ -z "$(ip -6 route show table all proto "$WEFT_PROTO")" ] ||
		run ip -6 route flush table all proto "$WEFT_PROTO"
	xfrm_del
}

step_rules() {
	local cmd
	for cmd in iptables ip6tables; do
		ipt_chain_del "$cmd" nat FLANNEL-POSTRTG
		ipt_chain_del "$cmd" filter FLANNEL-FWD
		ipt_chain_del "$cmd" filter WEFT-OVERLAY
	done
	command -v nft >/dev/null || return 0
	nft_has table ip flannel-ipv4 && run nft delete table ip flannel-ipv4
	nft_has table ip6 flannel-ipv6 && run nft delete table ip6 flannel-ipv6
	return 0
}

step_cni() {
	ip link show "$CNI_BRIDGE" >/dev/null 2>&1 && run ip link del "$CNI_BRIDGE"
	[ ! -e "$CNI_DATA_DIR" ] || run rm -rf -- "$CNI_DATA_DIR"
	[ ! -e "$CNI_IPAM_DIR" ] || run rm -rf -- "$CNI_IPAM_DIR"
}

etcdctl_() {
	local a=(--endpoints "${FLANNELD_ETCD_ENDPOINTS:-http://127.0.0.1:2379}")
	[ -z "${FLANNELD_ETCD_CAFILE:-}" ] || a+=(--cacert "$FLANNELD_ETCD_CAFILE")
	[ -z "${FLANNELD_ETCD_CERTFILE:-}" ] || a+=(--cert "$FLANNELD_ETCD_CERTFILE")
	[ -z "${FLANNELD_ETCD_KEYFILE:-}" ] || a+=(--key "$FLANNELD_ETCD_KEYFILE")
	ETCDCTL_API=3 etcdctl "${a[@]}" "$@"
}

ipv4_net() { # A.B.C.D/LEN -> its network address and length as a key, A.B.C.0-LEN
	local a b c d len n
	[[ $1 =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)/([0-9]+)$ ]] || return 1
	read -r a b c d len <<<"${BASH_REMATCH[*]:1}"
	[ "$len" -le 32 ] || return 1
	n=$(((a << 24 | b << 16 | c << 8 | d) & (0xffffffff << (32 - len)) & 0xffffffff))
	echo "$((n >> 24)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))-$len"
}

step_etcd() {
	local sub net key keys=()
	if [ -n "${WEFT_LEASE_KEY:-}" ]; then
		keys=("$WEFT_LEASE_KEY")
	else
		sub=$(sed -n 's/^FLANNEL_SUBNET=//p' "$SUBNET_FILE" 2>/dev/null)
		if [ -z "$sub" ]; then
			say "no FLANNEL_SUBNET in $SUBNET_FILE: set WEFT_LEASE_KEY=<subnet key>"
			failed=1
			return
		fi
		# 10.244.49.1/24 -> 10.244.49.0-24: the network address of the subnet.
		net=$(ipv4_net "$sub") || {
			say "FLANNEL_SUBNET=$sub in $SUBNET_FILE is not an IPv4 prefix"
			failed=1
			return
		}
		# The IPv4-only key, or the dual-stack one that starts with it.
		while read -r key; do
			key=${key#"$ETCD_PREFIX/subnets/"}
			[ "$key" = "$net" ] || [[ $key == "$net&"* ]] && keys+=("$key")
		done < <(etcdctl_ get --prefix --keys-only "$ETCD_PREFIX/subnets/$net" | grep .)
		[ ${#keys[@]} -gt 0 ] || say "no lease $ETCD_PREFIX/subnets/$net in etcd"
	fi
	for key in "${keys[@]}"; do
		run etcdctl_ del "$ETCD_PREFIX/subnets/$key"
		run etcdctl_ del "$ETCD_PREFIX/weft/owners/$key"
	done
}

step_files() {
	local f
	for f in "$SUBNET_FILE" "$WG_KEY_FILE"; do
		[ ! -e "$f" ] || run rm -f -- "$f"
	done
	[ ! -e "$IPSEC_RUN_DIR" ] || run rm -rf -- "$IPSEC_RUN_DIR"
}

STEPS="overlay-filter kernel rules cni etcd files"
if [ $# -eq 0 ]; then
	echo "usage: $0 STEP... (steps: $STEPS; see docs/uninstall.md)" >&2
	exit 2
fi
for s in "$@"; do
	case " $STEPS " in
	*" $s "*) ;;
	*) echo "$0: unknown step '$s' (steps: $STEPS)" >&2 && exit 2 ;;
	esac
done
for s in "$@"; do "step_${s//-/_}"; done
exit $failed
