#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# src/nl/xfrm against the kernel, inside a network namespace made for this run
# (removed on exit, also on failure). Nothing outside it is touched.
#
# What the ESP probe must answer is found out first with iproute2, which asks
# the kernel independently of our code:
#   - an ESP SA with rfc4106(gcm(aes)) goes in: ESP is there (1);
#   - "Requested type not found": no ESP (0);
#   - "Requested AEAD algorithm not found": the kernel attaches algorithms
#     before it looks up the type, so ask again with cbc(aes)/hmac(sha256):
#     type not found means no ESP (0), success means ESP without GCM (-ENOSYS).
#
#   XFRM_MANY=N  peers in the many-policies test (default 300, at most 1000)
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh

PATH=$PATH:/usr/sbin:/sbin
prog=$WEFT_BUILD/tests/netns/xfrm_kernel_test

if [ "$(id -u)" -ne 0 ]; then
	tap_skip "xfrm kernel tests" "needs root"
	tap_done
	exit
fi
if [ ! -x "$prog" ]; then
	tap_not_ok "$prog is built (make unit)"
	tap_done
	exit
fi

ns=weft-$$-xfrm
on_cleanup "ip netns del $ns"
inns() { ip netns exec "$ns" "$@"; }

setup() {
	ip netns add "$ns" && inns ip link set lo up
}
tap_ok "namespace $ns" setup

# esp_sa ALGORITHM-ARGS...: ok, notype, noalg or "other: ..." for an ESP SA in
# documentation space, deleted again at once.
esp_sa() {
	local out
	if out=$(inns ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x00000301 \
		mode tunnel "$@" 2>&1); then
		inns ip xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x00000301
		echo ok
		return
	fi
	case $out in
	*"type not found"*) echo notype ;;
	*"algorithm not found"*) echo noalg ;;
	*) echo "other: $out" ;;
	esac
}

gcm=$(esp_sa aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128)
cbc=-
case $gcm in
ok) want=1 ;;
notype) want=0 ;;
noalg)
	cbc=$(esp_sa enc 'cbc(aes)' 0x0102030405060708090a0b0c0d0e0f10 \
		auth-trunc 'hmac(sha256)' \
		0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 128)
	case $cbc in
	ok) want=-38 ;;
	notype) want=0 ;;
	noalg) want=-38 ;;
	*) want=unknown ;;
	esac
	;;
*) want=unknown ;;
esac
echo "# iproute2: ESP SA with rfc4106(gcm(aes)): $gcm; with cbc(aes)/hmac(sha256): $cbc;" \
	"the probe must answer $want"
tap_eq "iproute2 left no probe SA" 0 "$(lines_of inns ip xfrm state list)"

tap_cmocka xfrm inns env XFRM_PROBE_WANT="$want" XFRM_MANY="${XFRM_MANY:-300}" "$prog"

# The program cleans up after itself: no policy, no SA.
tap_eq "no xfrm policy left" 0 "$(lines_of inns ip xfrm policy list)"
tap_eq "no xfrm state left" 0 "$(lines_of inns ip xfrm state list)"
tap_done
