#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ipip: what can be checked on a kernel without the ipip module (the test
# machines' kernels have CONFIG_NET_IPIP unset): weftd refuses to start with
# an error naming the module, takes no lease and leaves no half-made device;
# a device named flannel.ipip of another kind is refused and left alone; and
# EnableIPv6 is refused. On a kernel with ipip the first part is skipped and a
# two-host check of the device and routes runs instead (never run here: see
# docs/backends.md, "ipip").
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

cluster_init || { tap_ok "cluster up" false; tap_done; exit 1; }
host_add 1
host_add 2
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"ipip","DirectRouting":true}}'

leases() {
	local out
	out=$(etcdctl3 get --prefix --keys-only "$P/subnets/") || { echo "etcdctl failed"; return; }
	grep -c . <<<"$out"
}
# Run weftd on host N to its end (a fresh log); its exit status.
weftd_run_out() {
	local n=$1
	shift
	: >"$RUN_DIR/h$n.log"
	weftd_host_start "$n" --iface eth0 "$@"
	wait_bg "h$n" 20
}

if host_exec 1 ip link add weftprobe0 type ipip local "$(host_ip 1)" 2>/dev/null; then
	host_exec 1 ip link del weftprobe0
	HAVE_IPIP=1
else
	HAVE_IPIP=0
fi

if [ "$HAVE_IPIP" = 0 ]; then
	weftd_run_out 1
	tap_eq "no module: weftd exits 1" 1 "$?"
	tap_ok "no module: the error names the missing ipip support and the module" grep -qF \
		"backend ipip: cannot create flannel.ipip: the kernel has no ipip support: Operation not supported (kernel: Unknown device type); load the ipip module (modprobe ipip)" \
		"$RUN_DIR/h1.log"
	tap_fail_with "no module: no flannel.ipip left" 1 "does not exist" \
		host_exec 1 ip link show flannel.ipip
	tap_eq "no module: no lease taken" 0 "$(leases)"
	tap_no_file "no module: no subnet file" "$RUN_DIR/h1.env"
else
	tap_skip "no module: weftd refuses to start" "this kernel has ipip"
fi

# Somebody else's device of that name: refused, untouched (also where the
# kernel has ipip: the check comes before any creation).
host_exec 1 ip link add flannel.ipip type bridge
host_exec 1 ip link set flannel.ipip mtu 1234 up
weftd_run_out 1
tap_eq "foreign device: weftd exits 1" 1 "$?"
tap_ok "foreign device: the error says it is not an ipip device" grep -qF \
	"flannel.ipip isn't an ipip mode device (kind 'bridge'), please remove device and try again" \
	"$RUN_DIR/h1.log"
tap_ok "foreign device: still a bridge, up" eval \
	"host_exec 1 ip -d link show flannel.ipip | grep -qw bridge && host_exec 1 ip link show flannel.ipip | grep -q '<.*,UP'"
tap_eq "foreign device: its MTU untouched" 1234 "$(host_exec 1 cat /sys/class/net/flannel.ipip/mtu)"
tap_eq "foreign device: no lease taken" 0 "$(leases)"
host_exec 1 ip link del flannel.ipip

# IPv6: refused before anything is made.
net_config '{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fd10::/56","Backend":{"Type":"ipip"}}'
weftd_run_out 1 --public-ipv6 fd00::11
tap_eq "IPv6: weftd exits 1" 1 "$?"
tap_ok "IPv6: the error says ipip is IPv4 only" grep -qF \
	"the ipip backend supports IPv4 only; EnableIPv6 must be false" "$RUN_DIR/h1.log"
tap_eq "IPv6: no lease taken" 0 "$(leases)"

# A bad option names its key.
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"ipip","directrouting":"yes"}}'
weftd_run_out 1
tap_eq "config: weftd exits 1" 1 "$?"
tap_ok "config: the error names Backend.DirectRouting" grep -qF \
	"Backend.DirectRouting must be true or false" "$RUN_DIR/h1.log"

# The lease count above could see one.
etcd_put "$P/subnets/10.244.99.0-24" '{"PublicIP":"10.200.0.99","PublicIPv6":null,"BackendType":"ipip"}'
tap_eq "probe: a lease is counted" 1 "$(leases)"
etcd_del "$P/subnets/10.244.99.0-24"

if [ "$HAVE_IPIP" = 1 ]; then
	# Written blind: no kernel with ipip was at hand.
	net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"ipip"}}'
	for n in 1 2; do weftd_host_start "$n" --iface eth0; done
	for n in 1 2; do tap_ok "ipip: h$n holds a lease" host_held "$n"; done
	tap_eq "ipip: FLANNEL_MTU is the interface's - 20" 1480 "$(host_env 1 FLANNEL_MTU)"
	tap_ok "ipip: h1's device has local $(host_ip 1), no remote" eval \
		"host_exec 1 ip -d link show flannel.ipip | grep -q 'ipip remote any local $(host_ip 1)'"
	tap_ok "ipip: h1 routes h2's subnet through the tunnel" wait_until 5 eval \
		"host_exec 1 ip route show exact $(subnet_net 2) | grep -q 'via $(host_ip 2) dev flannel.ipip proto 151 onlink'"
	for n in 1 2; do weftd_host_stop "$n"; done
fi
tap_done
