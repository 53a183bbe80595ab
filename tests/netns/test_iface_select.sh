#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# External interface selection (flannel.md §6) against real kernel state, in a
# namespace of our own. Needs root. Nothing is created in the root namespace.
#
#   netns weft-$$-if (every NAME is a veth whose peer NAMEp is up, no address;
#   no automatic IPv6 link-local addresses; this kernel may lack dummy)
#   +----------------------------------------------------------------------+
#   | aa   10.3.0.1/24                              (lowest index)          |
#   | d1   mtu 1500  10.8.0.6/24  2001:db8:8::6/64                          |
#   | d0   mtu 1400  10.9.0.2/24  10.9.0.3/24 (secondary)  2001:db8:9::2/64 |
#   |      default via 10.9.0.1, default via 2001:db8:9::1                  |
#   |      203.0.113.0/24 src 10.9.0.3                                      |
#   | pf   169.254.7.1/16 (added first)  10.7.0.1/24  fe80::7/64            |
#   |      198.51.100.0/24 via 10.7.0.254                                   |
#   | dp   10.6.0.1/24 + 2001:db8:6::1/64 deprecated (added first),         |
#   |      10.6.1.1/24 + 2001:db8:6::2/64                                   |
#   | dn   10.5.0.1/24 dynamic (valid_lft 1000, added first)  10.5.1.1/24   |
#   | v6   2001:db8:66::1/64 only                                           |
#   | lo   127.0.0.1, ::1                                                   |
#   +----------------------------------------------------------------------+
#   netns weft-$$-if2: lo with MTU 0; m1 10.1.0.1/24
#
# Most cases call tests/netns/iface_select_test (iface_select() with weftd's
# flag parser); the last ones run weftd itself against an etcd in the namespace.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
. tests/lib/common.sh
. tests/lib/etcd.sh

DRIVER=$WEFT_BUILD/tests/netns/iface_select_test
WEFTD=$WEFT_BUILD/weftd
NS=weft-$$-if
NS2=weft-$$-if2

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	tap_skip "interface selection" "needs root and iproute2"
	tap_done
	exit
fi
if [ ! -x "$DRIVER" ]; then
	tap_skip "interface selection" "$DRIVER not built"
	tap_done
	exit
fi

# Every command below runs inside $NS: `ipn` for iproute2, `nsx` for programs.
ipn() { echo "# ip $*" >>"$RUN_DIR/setup.log"; ip -n "$NS" "$@" >>"$RUN_DIR/setup.log" 2>&1; }
nsx() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" || { echo "Bail out! cannot create namespace $NS"; exit 1; }
on_cleanup ip netns del "$NS"

# mk NAME [MTU]: a veth NAME (peer NAMEp), both up, without IPv6 autoconfiguration.
mk() {
	ipn link add name "$1" ${2:+mtu "$2"} type veth peer name "$1p" &&
		ipn link set "$1" addrgenmode none && ipn link set "$1p" addrgenmode none &&
		ipn link set "$1" up && ipn link set "$1p" up
}
setup() {
	ipn link set lo up &&
		mk aa && ipn addr add 10.3.0.1/24 dev aa &&
		mk d1 1500 && ipn addr add 10.8.0.6/24 dev d1 &&
		ipn addr add 2001:db8:8::6/64 dev d1 nodad &&
		mk d0 1400 && ipn addr add 10.9.0.2/24 dev d0 && ipn addr add 10.9.0.3/24 dev d0 &&
		ipn addr add 2001:db8:9::2/64 dev d0 nodad &&
		ipn route add default via 10.9.0.1 dev d0 &&
		ipn -6 route add default via 2001:db8:9::1 dev d0 &&
		ipn route add 203.0.113.0/24 dev d0 src 10.9.0.3 &&
		mk pf && ipn addr add 169.254.7.1/16 dev pf && ipn addr add 10.7.0.1/24 dev pf &&
		ipn addr add fe80::7/64 dev pf nodad &&
		ipn route add 198.51.100.0/24 via 10.7.0.254 dev pf &&
		mk dp && ipn addr add 10.6.0.1/24 dev dp preferred_lft 0 &&
		ipn addr add 2001:db8:6::1/64 dev dp nodad preferred_lft 0 &&
		ipn addr add 10.6.1.1/24 dev dp && ipn addr add 2001:db8:6::2/64 dev dp nodad &&
		mk dn && ipn addr add 10.5.0.1/24 dev dn valid_lft 1000 preferred_lft 1000 &&
		ipn addr add 10.5.1.1/24 dev dn &&
		mk v6 && ipn addr add 2001:db8:66::1/64 dev v6 nodad &&
		ip netns add "$NS2" && on_cleanup ip netns del "$NS2" &&
		ip -n "$NS2" link set lo up && ip -n "$NS2" link set lo mtu 0 &&
		ip -n "$NS2" link add name m1 type veth peer name m1p &&
		ip -n "$NS2" addr add 10.1.0.1/24 dev m1 && ip -n "$NS2" link set m1 up
}
if ! setup; then
	echo "Bail out! namespace setup failed:"
	sed 's/^/#   /' "$RUN_DIR/setup.log" | tail -20
	exit 1
fi

# sel FAMILIES FLAGS...: run the driver; OUT holds its output, RC its status.
sel() {
	OUT=$(nsx "$DRIVER" "$@" 2>&1) && RC=0 || RC=$?
	echo "# sel $* -> rc $RC"
	printf '%s\n' "$OUT" | sed 's/^/#   /'
}
field() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p"; }
has() { case "$1" in *"$2"*) return 0 ;; esac; return 1; }
# pick "description" FAMILIES FLAGS... -- NAME ADDR [ADDR6]: success on NAME with that address
pick() {
	local d=$1 fam=$2 args=() want
	shift 2
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	sel "$fam" "${args[@]}"
	want="0 $1 $2"
	[ $# -ge 3 ] && want="$want $3"
	local got="$RC $(field name) $(field addr)"
	[ $# -ge 3 ] && got="$got $(field addr6)"
	tap_eq "$d" "$want" "$got"
}
# refuse "description" FAMILIES FLAGS... -- TEXT: error whose message contains TEXT
refuse() {
	local d=$1 fam=$2 args=()
	shift 2
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	sel "$fam" "${args[@]}"
	tap_eq "$d: exit 1" 1 "$RC"
	tap_ok "$d: says '$2'" has "$(field error)" "$2"
}

# ---- rule 1: no --iface* option ----
pick "default route (IPv4)" 4 -- d0 10.9.0.2
tap_eq "default route: MTU of d0" 1400 "$(field mtu)"
tap_eq "default route: public address is the interface address" 10.9.0.2 "$(field public)"
tap_eq "default route: no public IPv6 for an IPv4 network" "" "$(field public6)"
tap_ok "default route: why names the rule" has "$(field why)" "IPv4 default route"
tap_eq "index is d0's" "$(nsx cat /sys/class/net/d0/ifindex)" "$(field index)"

pick "default routes (dual-stack, same interface)" 46 -- d0 10.9.0.2 2001:db8:9::2
tap_eq "dual-stack: public IPv6" 2001:db8:9::2 "$(field public6)"
tap_ok "dual-stack: why names both routes" has "$(field why)" "IPv4 and IPv6 default routes"
pick "default route (IPv6 only)" 6 -- d0 10.9.0.2 2001:db8:9::2
tap_eq "IPv6 only: no public IPv4" "" "$(field public)"

pick "--public-ip owner" 4 --public-ip 10.7.0.1 -- pf 10.7.0.1
tap_eq "--public-ip owner: public" 10.7.0.1 "$(field public)"
tap_ok "--public-ip owner: why" has "$(field why)" "--public-ip 10.7.0.1: address of pf"
pick "--public-ip owner (secondary address)" 4 --public-ip 10.9.0.3 -- d0 10.9.0.3
refuse "--public-ip not local" 4 --public-ip 192.0.2.44 -- "not an address of any local interface"
refuse "--public-ip not IPv4" 4 --public-ip abc -- "not an IPv4 address"
pick "--public-ipv6 owner" 46 --public-ipv6 2001:db8:8::6 -- d1 10.8.0.6 2001:db8:8::6
refuse "--public-ipv6 not local" 6 --public-ipv6 2001:db8:77::1 -- "not an address of any local"
refuse "--public-ip owner lacks IPv6 (dual-stack)" 46 --public-ip 10.3.0.1 -- \
	"--public-ip 10.3.0.1 is on aa, but aa has no usable IPv6 address"

# Dual-stack with the IPv6 default route elsewhere.
ipn -6 route replace default via 2001:db8:8::1 dev d1
refuse "dual-stack default routes on different interfaces" 46 -- \
	"IPv4 default route leaves through d0 but the IPv6 one through d1"
pick "same routes, IPv4 only: fine" 4 -- d0 10.9.0.2
pick "--iface settles dual-stack" 46 --iface d0 -- d0 10.9.0.2 2001:db8:9::2
ipn -6 route replace default via 2001:db8:9::1 dev d0

ipn route del default
refuse "no IPv4 default route" 4 -- "no IPv4 default route"
pick "no default route, --public-ip" 4 --public-ip 10.8.0.6 -- d1 10.8.0.6
ipn route add default via 10.9.0.1 dev d0

# ---- rule 2: --iface ----
pick "--iface by name" 4 --iface d1 -- d1 10.8.0.6
tap_eq "--iface by name: MTU" 1500 "$(field mtu)"
tap_eq "--iface by name: why" "--iface d1" "$(field why)"
pick "--iface by IP (secondary)" 4 --iface 10.9.0.3 -- d0 10.9.0.3
tap_ok "--iface by IP: why" has "$(field why)" "--iface 10.9.0.3: address of d0"
pick "--iface by IPv6 (dual-stack)" 46 --iface 2001:db8:8::6 -- d1 10.8.0.6 2001:db8:8::6
pick "--iface: first match wins, non-matching skipped" 4 --iface nosuch --iface 10.99.0.1 \
	--iface d1 --iface d0 -- d1 10.8.0.6
tap_ok "--iface order: why lists the skipped values" has "$(field why)" \
	"--iface d1 (skipped: --iface nosuch: no such interface; --iface 10.99.0.1: not a local address)"
pick "--iface wins over --public-ip owner" 4 --iface d1 --public-ip 10.9.0.2 -- d1 10.8.0.6
tap_eq "--iface + --public-ip: public is --public-ip" 10.9.0.2 "$(field public)"
pick "--public-ip need not be local with --iface (NAT)" 4 --iface d1 --public-ip 203.0.113.5 \
	-- d1 10.8.0.6
tap_eq "NAT: public" 203.0.113.5 "$(field public)"
pick "--iface without a usable IPv4 address is skipped" 4 --iface v6 --iface d1 -- d1 10.8.0.6
tap_ok "... and the reason is kept" has "$(field why)" "--iface v6: v6 has no usable IPv4 address"
OUT=$(ip netns exec "$NS2" "$DRIVER" 4 --iface lo --iface m1 2>&1) && RC=0 || RC=$?
printf '%s\n' "$OUT" | sed 's/^/#   /'
tap_eq "--iface with MTU 0 is skipped" "0 m1 10.1.0.1" "$RC $(field name) $(field addr)"
tap_ok "... and the reason is kept" has "$(field why)" "--iface lo: lo has MTU 0"
pick "--iface lo: loopback address allowed when named" 4 --iface lo -- lo 127.0.0.1
pick "--iface 127.0.0.1: lo" 4 --iface 127.0.0.1 -- lo 127.0.0.1
pick "--iface lo dual-stack" 46 --iface lo -- lo 127.0.0.1 ::1

# ---- rule 3: --iface-regex ----
pick "--iface-regex on an address" 4 --iface-regex '^10\.8\.' -- d1 10.8.0.6
tap_eq "--iface-regex: why" '--iface-regex ^10\.8\.: address 10.8.0.6 of d1' "$(field why)"
pick "--iface-regex: the matching secondary address" 4 --iface-regex '^10\.9\.0\.3$' -- d0 10.9.0.3
pick "--iface-regex: addresses before names" 4 --iface-regex '^aa$|^10\.9\.0\.2$' -- d0 10.9.0.2
pick "--iface-regex on a name" 4 --iface-regex '^d1$' -- d1 10.8.0.6
tap_eq "--iface-regex name: why" '--iface-regex ^d1$: name of d1' "$(field why)"
pick "--iface-regex: \\d works (RE2 habit)" 4 --iface-regex '^10\.8\.0\.\d+$' -- d1 10.8.0.6
pick "--iface-regex: [\\d.] bracket" 4 --iface-regex '^10\.8[\d.]+6$' -- d1 10.8.0.6
pick "--iface-regex: IPv6 address (dual-stack)" 46 --iface-regex '^2001:db8:8::' -- \
	d1 10.8.0.6 2001:db8:8::6
pick "--iface-regex: IPv6 addresses not matched for IPv4" 4 --iface-regex '^2001:db8:8::|^d0$' \
	-- d0 10.9.0.2
pick "--iface-regex: in order, after --iface" 4 --iface nosuch --iface-regex '^nomatch$' \
	--iface-regex '^d1$' -- d1 10.8.0.6
tap_ok "--iface-regex order: why lists the misses" has "$(field why)" \
	"--iface-regex ^nomatch$: no address or interface name matches"
pick "--iface-regex: unusable match skipped, next one taken" 46 --iface-regex '^(aa|d1)$' \
	-- d1 10.8.0.6 2001:db8:8::6
tap_ok "... reason kept" has "$(field why)" "name aa: aa has no usable IPv6 address"
pick "--iface-regex: deprecated address not matched" 4 --iface-regex '^10\.6\.0\.1$|^d1$' \
	-- d1 10.8.0.6
pick "--iface-regex: loopback address not matched" 4 --iface-regex '^127\.|^d1$' -- d1 10.8.0.6
refuse "--iface-regex ^lo$: loopback is not usable unless named" 4 --iface-regex '^lo$' -- \
	"lo has no usable IPv4 address"
refuse "--iface-regex invalid" 4 --iface-regex '(' -- "invalid"
# RE2 forms operators copy from flannel's docs (Go regexp syntax)
pick "--iface-regex: (?i) matches names case-insensitively" 4 --iface-regex '(?i)^D1$' -- d1 10.8.0.6
pick "--iface-regex: (?:...) and \\w" 4 --iface-regex '^(?:x|d)\w$' -- d1 10.8.0.6
refuse "--iface-regex: \\p refused by name" 4 --iface-regex '^\pL+$' -- \
	"unsupported RE2 syntax '\\p': Unicode classes"
refuse "--iface-regex: an inner (?i) refused by name" 4 --iface-regex '^d(?i)1$' -- \
	"unsupported RE2 syntax '(?i)'"

# ---- rule 4: --iface-can-reach ----
pick "--iface-can-reach: via gateway, route source" 4 --iface-can-reach 198.51.100.7 -- pf 10.7.0.1
tap_eq "--iface-can-reach: why" "--iface-can-reach 198.51.100.7: route via pf src 10.7.0.1" \
	"$(field why)"
pick "--iface-can-reach: route with src" 4 --iface-can-reach 203.0.113.9 -- d0 10.9.0.3
pick "--iface-can-reach: connected" 4 --iface-can-reach 10.8.0.77 -- d1 10.8.0.6
pick "--iface-can-reach: IPv6" 46 --iface-can-reach 2001:db8:8::99 -- d1 10.8.0.6 2001:db8:8::6
pick "--iface-can-reach: last, after --iface and --iface-regex" 4 --iface nosuch \
	--iface-regex '^zzz$' --iface-can-reach 198.51.100.7 -- pf 10.7.0.1
pick "--iface-can-reach: --iface first" 4 --iface d1 --iface-can-reach 198.51.100.7 -- d1 10.8.0.6
refuse "--iface-can-reach: not an address" 4 --iface-can-reach nowhere -- "not an IP address"
ipn route del default
refuse "--iface-can-reach: no route" 4 --iface-can-reach 192.0.2.1 -- "--iface-can-reach 192.0.2.1: no route"
ipn route add default via 10.9.0.1 dev d0

# ---- rule 5: nothing matched ----
refuse "nothing matches" 4 --iface nosuch --iface 10.99.0.1 --iface-regex '^zzz$' -- \
	"no interface matches --iface, --iface-regex or --iface-can-reach: --iface nosuch: no such interface; --iface 10.99.0.1: not a local address; --iface-regex ^zzz$: no address or interface name matches"

# ---- interface address preference ----
pick "global before link-local (IPv4)" 4 --iface pf -- pf 10.7.0.1
pick "link-local IPv6 is last resort" 46 --iface pf --public-ipv6 2001:db8:1::1 -- \
	pf 10.7.0.1 fe80::7
tap_eq "... while the public IPv6 is --public-ipv6" 2001:db8:1::1 "$(field public6)"
pick "deprecated excluded (IPv4 and IPv6)" 46 --iface dp -- dp 10.6.1.1 2001:db8:6::2
pick "permanent before dynamic" 4 --iface dn -- dn 10.5.1.1
pick "primary before secondary" 4 --iface d0 -- d0 10.9.0.2
refuse "no usable IPv4 (only IPv6 on the interface)" 4 --iface v6 -- "v6 has no usable IPv4 address"

# ---- weftd end to end, inside the namespace ----
if ! command -v etcd >/dev/null || [ ! -x "$WEFTD" ]; then
	tap_skip "weftd end to end" "etcd or weftd missing"
	tap_done
	exit
fi
# etcd and etcdctl in the namespace (its loopback is its own: any port is free).
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$ETCD_BIN" >"$RUN_DIR/etcd-ns"
chmod +x "$RUN_DIR/etcd-ns"
ETCD_BIN=$RUN_DIR/etcd-ns
etcdctl() { ip netns exec "$NS" env ETCDCTL_API=3 /usr/bin/etcdctl "$@"; }
etcd_start || { echo "Bail out! etcd did not start"; exit 1; }
P=/coreos.com/network
etcd_put $P/config '{"Network":"10.50.0.0/16","Backend":{"Type":"alloc"}}'

# e2e NAME FLAGS...: weftd until its lease is held (or it exits); its log in $RUN_DIR/NAME.log
e2e() {
	local name=$1
	shift
	run_bg "$name" ip netns exec "$NS" "$WEFTD" --etcd-endpoints "$ETCD_ENDPOINT" \
		--subnet-file "$RUN_DIR/$name.env" "$@"
	wait_until 20 e2e_settled "$name"
}
e2e_settled() { grep -qE ' held; wrote | E ' "$RUN_DIR/$1.log" || ! bg_alive "$1"; }
log_of() { cat "$RUN_DIR/$1.log"; }
lease_of() { # the stored lease value whose PublicIP is $1
	etcdctl3 get --prefix --print-value-only $P/subnets/ | grep -F "\"PublicIP\":\"$1\"" | head -1
}

nsx sysctl -qw net.ipv4.ip_forward=0
e2e w1 --iface-regex '^10\.8\.'
tap_ok "weftd: using-interface line explains the regex" has "$(log_of w1)" \
	'using interface d1 (--iface-regex ^10\.8\.: address 10.8.0.6 of d1), MTU 1500, public address 10.8.0.6'
tap_ok "weftd: lease PublicIP is the regex-matched address" test -n "$(lease_of 10.8.0.6)"
tap_ok "weftd: loud warning when IPv4 forwarding is off" has "$(log_of w1)" \
	"W weftd"
tap_ok "weftd: the warning says how to fix it" has "$(grep ' W ' "$RUN_DIR/w1.log")" \
	"sysctl -w net.ipv4.ip_forward=1"
stop_bg w1

nsx sysctl -qw net.ipv4.ip_forward=1
e2e w2
tap_ok "weftd: default route rule logged" has "$(log_of w2)" \
	"using interface d0 (the IPv4 default route), MTU 1400, public address 10.9.0.2"
tap_ok "weftd: lease PublicIP from the default route" test -n "$(lease_of 10.9.0.2)"
tap_eq "weftd: no forwarding warning when it is on" 0 "$(grep -c 'ip_forward' "$RUN_DIR/w2.log")"
stop_bg w2

e2e w3 --iface nosuch --iface-regex '^zzz$'
wait_bg w3 10 && rc=0 || rc=$?
tap_eq "weftd: nothing matches exits 1" 1 "$rc"
tap_ok "weftd: and names what was tried" has "$(log_of w3)" \
	"cannot pick the external interface: no interface matches --iface, --iface-regex or --iface-can-reach: --iface nosuch: no such interface; --iface-regex ^zzz$"

e2e w4 --iface-can-reach 203.0.113.9
tap_ok "weftd: --iface-can-reach is supported" has "$(log_of w4)" \
	"using interface d0 (--iface-can-reach 203.0.113.9: route via d0 src 10.9.0.3)"
tap_ok "weftd: lease PublicIP is the route source" test -n "$(lease_of 10.9.0.3)"
stop_bg w4

tap_done
