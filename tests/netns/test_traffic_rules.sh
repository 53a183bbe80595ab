#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# src/nft/traffic against real iptables and nftables, inside network
# namespaces made for this run ($ns, and $ns-l for the legacy back end;
# removed on exit, also on failure). `ip netns exec` gives each its own
# iptables and nftables state; nothing outside them is touched.
#
# The driver (tests/netns/traffic_test.c) calls the API; what it did is read
# back with iptables, ip6tables and nft and compared with golden text.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh

PATH=$PATH:/usr/sbin:/sbin
prog=$WEFT_BUILD/tests/netns/traffic_test

if [ "$(id -u)" -ne 0 ]; then
	tap_skip "traffic rules" "needs root"
	tap_done
	exit
fi
for tool in iptables ip6tables iptables-restore nft; do
	if ! command -v "$tool" >/dev/null; then
		tap_skip "traffic rules" "$tool not installed"
		tap_done
		exit
	fi
done
if [ ! -x "$prog" ]; then
	_tap_result 1 "$prog is built (make unit)"
	tap_done
	exit
fi

ns=weft-$$-tr
on_cleanup "ip netns del $ns"
on_cleanup "ip netns del $ns-l"
inns() { ip netns exec "$ns" "$@"; }

V4=(--net 10.244.0.0/16 --subnet 10.244.1.0/24)
V6=(--net6 2001:cafe:42::/56 --subnet6 2001:cafe:42:1::/64)
drv() { inns "$prog" "$@" 2>&1; }
contains() { case "$1" in *"$2"*) return 0 ;; esac; echo "no '$2' in: $1"; return 1; }
lacks() { case "$1" in *"$2"*) echo "'$2' found in: $1"; return 1 ;; esac; return 0; }

# ---- golden text (spec 8.1, 8.2, 8.3) ----

C='-m comment --comment "flanneld masq"'
F='-m comment --comment "flanneld forward"'
nat_golden() { # CLUSTER POD MCAST RANDOM
	cat <<EOF
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N FLANNEL-POSTRTG
-A POSTROUTING $C -j FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 $C -j RETURN
-A FLANNEL-POSTRTG -s $2 -d $1 $C -j RETURN
-A FLANNEL-POSTRTG -s $1 -d $2 $C -j RETURN
-A FLANNEL-POSTRTG ! -s $1 -d $2 $C -j RETURN
-A FLANNEL-POSTRTG -s $1 ! -d $3 $C -j MASQUERADE$4
-A FLANNEL-POSTRTG ! -s $1 -d $1 $C -j MASQUERADE$4
EOF
}
filter_golden() { # NET
	cat <<EOF
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N FLANNEL-FWD
-A FORWARD $F -j FLANNEL-FWD
-A FLANNEL-FWD -s $1 $F -j ACCEPT
-A FLANNEL-FWD -d $1 $F -j ACCEPT
EOF
}
NAT4=$(nat_golden 10.244.0.0/16 10.244.1.0/24 224.0.0.0/4 " --random-fully")
NAT6=$(nat_golden 2001:cafe:42::/56 2001:cafe:42:1::/64 ff00::/8 " --random-fully")
FWD4=$(filter_golden 10.244.0.0/16)
FWD6=$(filter_golden 2001:cafe:42::/56)
T=$'\t'
NFT4="table ip flannel-ipv4 {
${T}comment \"rules for flannel-ipv4\"
${T}chain postrtg {
${T}${T}comment \"chain to manage traffic masquerading by flannel\"
${T}${T}type nat hook postrouting priority srcnat; policy accept;
${T}${T}meta mark 0x00004000 return
${T}${T}ip saddr 10.244.1.0/24 ip daddr 10.244.0.0/16 return
${T}${T}ip saddr 10.244.0.0/16 ip daddr 10.244.1.0/24 return
${T}${T}ip saddr != 10.244.1.0/24 ip daddr 10.244.0.0/16 return
${T}${T}ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random
${T}${T}ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade fully-random
${T}}

${T}chain forward {
${T}${T}comment \"chain to accept flannel traffic\"
${T}${T}type filter hook forward priority filter; policy accept;
${T}${T}ip saddr 10.244.0.0/16 accept
${T}${T}ip daddr 10.244.0.0/16 accept
${T}}
}"
NFT6="table ip6 flannel-ipv6 {
${T}comment \"rules for flannel-ipv6\"
${T}chain postrtg {
${T}${T}comment \"chain to manage traffic masquerading by flannel\"
${T}${T}type nat hook postrouting priority srcnat; policy accept;
${T}${T}meta mark 0x00004000 return
${T}${T}ip6 saddr 2001:cafe:42:1::/64 ip6 daddr 2001:cafe:42::/56 return
${T}${T}ip6 saddr 2001:cafe:42::/56 ip6 daddr 2001:cafe:42:1::/64 return
${T}${T}ip6 saddr != 2001:cafe:42:1::/64 ip6 daddr 2001:cafe:42::/56 return
${T}${T}ip6 saddr 2001:cafe:42::/56 ip6 daddr != ff00::/8 masquerade fully-random
${T}${T}ip6 saddr != 2001:cafe:42::/56 ip6 daddr 2001:cafe:42::/56 masquerade fully-random
${T}}

${T}chain forward {
${T}${T}comment \"chain to accept flannel traffic\"
${T}${T}type filter hook forward priority filter; policy accept;
${T}${T}ip6 saddr 2001:cafe:42::/56 accept
${T}${T}ip6 daddr 2001:cafe:42::/56 accept
${T}}
}"

ipt_all_golden() {
	tap_eq "$1: iptables -t nat -S" "$NAT4" "$(inns iptables -t nat -S)"
	tap_eq "$1: iptables -S" "$FWD4" "$(inns iptables -S)"
	tap_eq "$1: ip6tables -t nat -S" "$NAT6" "$(inns ip6tables -t nat -S)"
	tap_eq "$1: ip6tables -S" "$FWD6" "$(inns ip6tables -S)"
}
no_flannel_ipt() {
	local all
	all=$(inns iptables -t nat -S; inns iptables -S; inns ip6tables -t nat -S; inns ip6tables -S)
	lacks "$all" FLANNEL
}
no_flannel_nft() { lacks "$(inns nft list tables)" flannel; }

tap_ok "namespace $ns" ip netns add "$ns"

# ---- iptables mode ----

out=$(drv "${V4[@]}" "${V6[@]}" start check)
tap_eq "iptables mode: start on a clean namespace, check finds nothing" \
	"new rc=0
cleanup rc=0
apply rc=0
check rc=0" "$out"
ipt_all_golden "iptables mode"
tap_ok "iptables mode: no nft table of ours" no_flannel_nft

out=$(drv "${V4[@]}" "${V6[@]}" start)
ipt_all_golden "re-apply (-D then -A) is idempotent"

inns iptables -t nat -F FLANNEL-POSTRTG
out=$(drv "${V4[@]}" "${V6[@]}" check check)
tap_ok "chain flushed by hand: check restores and names it" \
	contains "$out" "check rc=1: iptables nat chain FLANNEL-POSTRTG altered (6 lines missing)"
tap_ok "second check finds nothing" contains "$out" $'\ncheck rc=0'
tap_eq "chain flushed by hand: restored" "$NAT4" "$(inns iptables -t nat -S)"

inns iptables -t nat -D POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
out=$(drv "${V4[@]}" "${V6[@]}" check)
tap_ok "POSTROUTING jump deleted: check names it" \
	contains "$out" "check rc=1: iptables nat POSTROUTING jump to FLANNEL-POSTRTG missing"
tap_eq "POSTROUTING jump deleted: restored" "$NAT4" "$(inns iptables -t nat -S)"

inns ip6tables -X FLANNEL-FWD 2>/dev/null # referenced: refused, as it should be
inns ip6tables -D FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
inns ip6tables -F FLANNEL-FWD
inns ip6tables -X FLANNEL-FWD
out=$(drv "${V4[@]}" "${V6[@]}" check)
tap_ok "ip6tables chain deleted: check names chain and jump" \
	contains "$out" "ip6tables filter chain FLANNEL-FWD missing; ip6tables filter FORWARD jump to FLANNEL-FWD missing"
tap_eq "ip6tables chain deleted: restored" "$FWD6" "$(inns ip6tables -S)"

inns iptables -A FLANNEL-FWD -s 192.0.2.0/24 -j DROP
inns iptables -I FLANNEL-FWD 1 -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT
out=$(drv "${V4[@]}" "${V6[@]}" check)
tap_ok "extra and reordered rules: check restores" \
	contains "$out" "check rc=1: iptables filter chain FLANNEL-FWD altered"
tap_eq "extra and reordered rules: restored" "$FWD4" "$(inns iptables -S)"

# Someone appends after our jump: not an alteration (we do not fight over
# position), but a new apply moves ours to the end again.
inns iptables -t nat -A POSTROUTING -s 192.0.2.0/24 -j RETURN
out=$(drv "${V4[@]}" "${V6[@]}" check)
tap_eq "foreign rule after the jump: check leaves it" "new rc=0
check rc=0" "$out"
drv "${V4[@]}" "${V6[@]}" start >/dev/null
tap_eq "re-apply: jump ends last in POSTROUTING" \
	"-A POSTROUTING -s 192.0.2.0/24 -j RETURN
-A POSTROUTING $C -j FLANNEL-POSTRTG" "$(inns iptables -t nat -S POSTROUTING | grep '^-A')"
inns iptables -t nat -D POSTROUTING -s 192.0.2.0/24 -j RETURN

inns iptables -t nat -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
out=$(drv "${V4[@]}" "${V6[@]}" check)
tap_ok "duplicate jump: check names it" contains "$out" "POSTROUTING has 2 jumps to FLANNEL-POSTRTG"
tap_eq "duplicate jump: one left" "$NAT4" "$(inns iptables -t nat -S)"

# A new network and lease after an old one (the previous subnet.env).
NEW=(--net 10.245.0.0/16 --subnet 10.245.3.0/24)
OLD=(--old-net 10.244.0.0/16 --old-subnet 10.244.1.0/24)
out=$(drv "${NEW[@]}" "${V6[@]}" "${OLD[@]}" cleanup)
tap_ok "new lease: cleanup deletes the old masquerade rules" \
	contains "$out" "deleted 6 iptables rules for the previous network 10.244.0.0/16, subnet 10.244.1.0/24"
tap_ok "new lease: cleanup deletes the old forward rules" \
	contains "$out" "deleted 2 iptables rules for the previous network 10.244.0.0/16"
tap_eq "new lease: old rules gone after cleanup, jumps kept" \
	"-A POSTROUTING $C -j FLANNEL-POSTRTG" "$(inns iptables -t nat -S | grep '^-A')"
tap_eq "new lease: IPv6 untouched (unchanged)" "$NAT6" "$(inns ip6tables -t nat -S)"
drv "${NEW[@]}" "${V6[@]}" apply >/dev/null
tap_eq "new lease: new rules present" \
	"$(nat_golden 10.245.0.0/16 10.245.3.0/24 224.0.0.0/4 " --random-fully")" \
	"$(inns iptables -t nat -S)"
tap_eq "new lease: new forward rules present" "$(filter_golden 10.245.0.0/16)" "$(inns iptables -S)"
out=$(drv "${V4[@]}" "${V6[@]}" --old-net 10.245.0.0/16 --old-subnet 10.245.3.0/24 start)
tap_eq "back to the first lease" "$NAT4" "$(inns iptables -t nat -S)"

out=$(drv "${V4[@]}" "${V6[@]}" --no-random start check)
tap_eq "--ip-masq-fully-random-disable: no --random-fully" \
	"$(nat_golden 10.244.0.0/16 10.244.1.0/24 224.0.0.0/4 "")" "$(inns iptables -t nat -S)"
tap_ok "--ip-masq-fully-random-disable: check agrees" contains "$out" "check rc=0"
drv "${V4[@]}" "${V6[@]}" start >/dev/null

out=$(drv "${V4[@]}" --no-masq start check)
tap_ok "masquerading off: its chains and jumps removed" \
	contains "$out" "removed iptables nat chain FLANNEL-POSTRTG and its jumps (IPv4 masquerading is off)"
tap_ok "IPv6 off: its chains removed" \
	contains "$out" "removed ip6tables filter chain FLANNEL-FWD and its jumps (IPv6 forwarding is off)"
tap_eq "masquerading off: nat clean" "-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT" "$(inns iptables -t nat -S)"
tap_eq "masquerading off: forward kept" "$FWD4" "$(inns iptables -S)"
drv "${V4[@]}" "${V6[@]}" start >/dev/null
ipt_all_golden "everything back on"

# Binaries missing in iptables mode: a clear error naming the binary.
out=$(inns env PATH=/nonexistent "$prog" "${V4[@]}" apply 2>&1)
tap_ok "iptables mode without iptables: error names the binary" \
	contains "$out" "iptables not found in PATH (needed for IPv4 masquerading rules)"

# ---- iptables -> nftables ----

# What upstream's nftables-mode cleanup leaves (8.4): POSTRTG flushed, its
# jump kept, FLANNEL-FWD untouched. We remove all of it.
inns iptables -t nat -F FLANNEL-POSTRTG
out=$(drv --mode nft "${V4[@]}" "${V6[@]}" start check)
tap_ok "nftables mode: iptables-mode chains removed" \
	contains "$out" "removed iptables nat chain FLANNEL-POSTRTG and its jumps (left by iptables mode); removed iptables filter chain FLANNEL-FWD and its jumps (left by iptables mode); removed ip6tables nat chain FLANNEL-POSTRTG"
tap_ok "nftables mode: check finds nothing" contains "$out" $'\ncheck rc=0'
tap_ok "nftables mode: no FLANNEL chain or jump left" no_flannel_ipt
tap_eq "nftables mode: nft list table ip flannel-ipv4" "$NFT4" "$(inns nft list table ip flannel-ipv4)"
tap_eq "nftables mode: nft list table ip6 flannel-ipv6" "$NFT6" "$(inns nft list table ip6 flannel-ipv6)"

inns nft delete table ip flannel-ipv4
out=$(drv --mode nft "${V4[@]}" "${V6[@]}" check check)
tap_ok "nft table deleted: check names it" contains "$out" "check rc=1: nft table ip flannel-ipv4 missing"
tap_ok "second check finds nothing" contains "$out" $'\ncheck rc=0'
tap_eq "nft table deleted: restored" "$NFT4" "$(inns nft list table ip flannel-ipv4)"

inns nft flush chain ip6 flannel-ipv6 postrtg
out=$(drv --mode nft "${V4[@]}" "${V6[@]}" check)
tap_ok "nft chain flushed: check names it" \
	contains "$out" "check rc=1: nft table ip6 flannel-ipv6 altered (6 lines missing)"
tap_eq "nft chain flushed: restored" "$NFT6" "$(inns nft list table ip6 flannel-ipv6)"

inns nft add rule ip flannel-ipv4 forward ip saddr 192.0.2.0/24 drop
inns nft add chain ip flannel-ipv4 foreign
out=$(drv --mode nft "${V4[@]}" "${V6[@]}" check)
tap_ok "nft rule and chain added: check restores" \
	contains "$out" "check rc=1: nft table ip flannel-ipv4 altered"
tap_eq "nft rule and chain added: foreign chain gone too" "$NFT4" \
	"$(inns nft list table ip flannel-ipv4)"

out=$(drv --mode nft "${V4[@]}" start)
tap_ok "nftables mode, IPv6 off: its table deleted" \
	contains "$out" "deleted nft table ip6 flannel-ipv6 (family disabled)"
drv --mode nft "${V4[@]}" "${V6[@]}" start >/dev/null

# Without any iptables binary: a note, not a failure.
out=$(inns env PATH=/nonexistent "$prog" --mode nft "${V4[@]}" "${V6[@]}" start check 2>&1)
tap_eq "nftables mode without iptables binaries" \
	"new rc=0
cleanup rc=1: iptables not found in PATH, not looking for iptables-mode leftovers; ip6tables not found in PATH, not looking for iptables-mode leftovers
apply rc=0
check rc=0" "$out"
tap_eq "nftables mode without iptables binaries: table intact" "$NFT4" \
	"$(inns nft list table ip flannel-ipv4)"

# ---- nftables -> iptables ----

out=$(drv "${V4[@]}" "${V6[@]}" start check)
tap_ok "iptables mode: nft tables deleted" \
	contains "$out" "cleanup rc=1: deleted nft table ip flannel-ipv4 (left by nftables mode); deleted nft table ip6 flannel-ipv6 (left by nftables mode)"
tap_ok "iptables mode: no flannel table left" no_flannel_nft
ipt_all_golden "iptables mode after nftables mode"

# ---- legacy back end (xtables-legacy-multi), in a namespace of its own ----

legacy=$(command -v xtables-legacy-multi || true)
if [ -z "$legacy" ] || ! ip netns add "$ns-l" ||
	! ip netns exec "$ns-l" "$legacy" iptables -t nat -S >/dev/null 2>&1; then
	tap_skip "legacy iptables" "xtables-legacy-multi or the ip_tables modules missing"
else
	bin=$RUN_DIR/legacy-bin
	mkdir -p "$bin"
	for t in iptables ip6tables iptables-restore ip6tables-restore; do
		ln -s "$legacy" "$bin/$t"
	done
	lg() { ip netns exec "$ns-l" env PATH="$bin" "$prog" "$@" 2>&1; }
	out=$(lg "${V4[@]}" start check)
	tap_eq "legacy: start, check" "new rc=0
cleanup rc=0
apply rc=0
check rc=0" "$out"
	tap_eq "legacy: iptables -t nat -S" "$NAT4" "$(ip netns exec "$ns-l" "$bin/iptables" -t nat -S)"
	tap_eq "legacy: iptables -S" "$FWD4" "$(ip netns exec "$ns-l" "$bin/iptables" -S)"
	ip netns exec "$ns-l" "$bin/iptables" -t nat -F FLANNEL-POSTRTG
	out=$(lg "${V4[@]}" check)
	tap_ok "legacy: flushed chain restored" \
		contains "$out" "check rc=1: iptables nat chain FLANNEL-POSTRTG altered (6 lines missing)"
	tap_eq "legacy: restored" "$NAT4" "$(ip netns exec "$ns-l" "$bin/iptables" -t nat -S)"
	out=$(lg --mode nft "${V4[@]}" start)
	tap_ok "legacy -> nftables mode: chains removed" \
		contains "$out" "removed iptables nat chain FLANNEL-POSTRTG and its jumps"
	tap_eq "legacy -> nftables mode: nat clean" "-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT" "$(ip netns exec "$ns-l" "$bin/iptables" -t nat -S)"
fi

tap_done
