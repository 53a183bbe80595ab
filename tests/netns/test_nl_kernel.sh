#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# src/nl against the kernel, inside a network namespace made for this run
# (removed on exit, also on failure). Nothing outside it is touched.
#
#   NL_BIG=1  also run the batch test with 20,000 peers (60,000 messages)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh

PATH=$PATH:/usr/sbin:/sbin
prog=$WEFT_BUILD/tests/netns/nl_kernel_test

if [ "$(id -u)" -ne 0 ]; then
	tap_skip "netlink kernel tests" "needs root"
	tap_done
	exit
fi
if [ ! -x "$prog" ]; then
	tap_result_missing() { _tap_result 1 "$prog is built (make unit)"; }
	tap_result_missing
	tap_done
	exit
fi

ns=weft-$$-nl
on_cleanup "ip netns del $ns"
inns() { ip netns exec "$ns" "$@"; }

# The underlay is a veth pair: unlike dummy, veth is in every kernel config
# we have met.
setup() {
	ip netns add "$ns" &&
		inns ip link set lo up &&
		inns sysctl -qw net.ipv6.conf.all.disable_ipv6=0 &&
		inns sysctl -qw net.ipv6.conf.default.disable_ipv6=0 &&
		inns ip link add wu0 type veth peer name wu1 &&
		inns ip addr add 192.168.50.1/24 dev wu0 &&
		inns ip link set wu0 up &&
		inns ip link set wu1 up
}
tap_ok "namespace $ns with a veth underlay" setup

tap_cmocka nl inns env NL_UNDERLAY=wu0 NL_LOCAL=192.168.50.1 "$prog"

# The program cleans up after itself: only the underlay and lo remain, and
# no route or nexthop of ours.
tap_lacks "no weft link left" 'weftvx[0-9]' ': lo:' inns ip -o link show
tap_eq "no proto 151 route left" "0 0" \
	"$(lines_of inns ip route show proto 151) $(lines_of inns ip -6 route show proto 151)"
tap_eq "no proto 151 nexthop left" 0 "$(lines_of inns ip nexthop show proto 151)"

if [ "${NL_BIG:-0}" = 1 ]; then
	tap_cmocka nl-20k inns env NL_UNDERLAY=wu0 NL_LOCAL=192.168.50.1 NL_BATCH_N=20000 \
		NL_TEST_FILTER=test_batch_big "$prog"
fi
tap_done
