#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The test runner: runs every layer and ends with "N passed, N failed, N skipped".
#
#   tests/run.sh [LAYER...]      LAYER: unit docs asan integration netns fuzz demo (default: all)
#
# Every test program speaks TAP ("ok N - name" / "not ok N - name"); cmocka does so
# through CMOCKA_MESSAGE_OUTPUT=TAP, the shell tests through tests/lib/tap.sh.
# Each test line counts once. A program that exits non-zero without reporting a
# failing test, or reports no test at all, counts as one failure. Full output of
# every program is kept under build/test-logs/.
set -u
cd "$(dirname "$0")/.."

FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-10}
logdir=build/test-logs
mkdir -p "$logdir"

passed=0 failed=0 skipped=0
failures=()

# What the root namespace holds before the tests, so that the hygiene check at
# the end blames only what this run left behind.
root_state() {
	command -v iptables-save >/dev/null && iptables-save 2>/dev/null | grep -q FLANNEL && echo iptables-chains
	command -v nft >/dev/null && nft list tables 2>/dev/null | grep -q flannel && echo nft-tables
	ip -o link show 2>/dev/null | grep -qE ': flannel[.0-9-]' && echo flannel-devices
	ip route show proto 151 2>/dev/null | grep -q . && echo routes
	ip nexthop show proto 151 2>/dev/null | grep -q . && echo nexthops
	ip netns list 2>/dev/null | awk '{print "netns:" $1}'
}
[ "$(id -u)" -eq 0 ] && root_before=$(root_state | sort)

# run_prog LAYER NAME CMD...
run_prog() {
	local layer=$1 name=$2 log rc ok notok skip t0 secs
	shift 2
	log="$logdir/$layer-$name.log"
	printf '%-12s %-32s ' "$layer" "$name"
	t0=$(date +%s%N)
	"$@" >"$log" 2>&1 </dev/null && rc=0 || rc=$?
	secs=$(( ($(date +%s%N) - t0) / 100000000 ))
	secs="$((secs / 10)).$((secs % 10))s"
	ok=$(grep -cE '^ok [0-9]+' "$log" | head -1)
	skip=$(grep -cE '^ok [0-9]+.*# SKIP' "$log" | head -1)
	notok=$(grep -cE '^not ok [0-9]+' "$log" | head -1)
	ok=$((ok - skip))
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		notok=1 # crashed or failed outside any test
		echo "# $name exited with status $rc without a failing test line" >>"$log"
	elif [ "$rc" -eq 0 ] && [ $((ok + notok + skip)) -eq 0 ]; then
		notok=1
		echo "# $name ran no test" >>"$log"
	fi
	passed=$((passed + ok))
	failed=$((failed + notok))
	skipped=$((skipped + skip))
	if [ "$notok" -eq 0 ]; then
		printf '%7s  ok (%d passed%s)\n' "$secs" "$ok" "$([ "$skip" -gt 0 ] && echo ", $skip skipped")"
	else
		printf '%7s  FAILED (%d failed, %d passed; log: %s)\n' "$secs" "$notok" "$ok" "$log"
		failures+=("$log")
		sed 's/^/    | /' "$log" | grep -vE '^    \| ok ' | tail -40
	fi
}

layer_unit() { # LAYER BUILD_DIR
	local b
	for b in "$2"/tests/unit/test_*; do
		[ -x "$b" ] || continue
		run_prog "$1" "$(basename "$b")" env CMOCKA_MESSAGE_OUTPUT=TAP "$b"
	done
}

# The docs drift check: what README.md, docs/ and contrib/ name exists in the
# binaries and the code, and what they offer is documented.
layer_docs() {
	run_prog docs check_docs env WEFT_BUILD=build bash tests/docs/check_docs.sh
}

layer_integration() { # LAYER BUILD_DIR [SCRIPT...]
	local layer=$1 build=$2 t
	shift 2
	[ $# -gt 0 ] || set -- tests/integration/*.sh
	for t in "$@"; do
		[ -e "$t" ] || continue
		run_prog "$layer" "$(basename "$t" .sh)" env WEFT_BUILD="$build" bash "$t"
	done
}

# The daemon-level scripts that also run against the sanitizer build (leaks and
# undefined behaviour on the real code paths; the rest would only repeat).
ASAN_INTEGRATION=(tests/integration/test_etcd_client.sh tests/integration/test_lease_lifecycle.sh
	tests/integration/test_lease_regain.sh tests/integration/test_duplicate_ip.sh
	tests/integration/test_weftctl_leases.sh
	tests/integration/test_weftctl_config.sh)
# And the kernel-programming paths (reconcile, batches, lease events) at scale.
ASAN_NETNS=(tests/netns/test_vxlan.sh tests/netns/test_scale_leases.sh tests/netns/test_hostgw.sh
	tests/netns/test_wireguard.sh tests/netns/test_ipsec.sh tests/netns/test_extension.sh
	tests/netns/test_underlay_change.sh tests/netns/test_hostgw_dual.sh)

layer_netns() { # LAYER BUILD_DIR [SCRIPT...]
	local layer=$1 build=$2 t
	shift 2
	[ $# -gt 0 ] || set -- tests/netns/test_*.sh
	for t in "$@"; do
		[ -e "$t" ] || continue
		if [ "$(id -u)" -ne 0 ]; then
			printf '%-12s %-40s skipped (needs root)\n' "$layer" "$(basename "$t" .sh)"
			skipped=$((skipped + 1))
			continue
		fi
		run_prog "$layer" "$(basename "$t" .sh)" env WEFT_BUILD="$build" bash "$t"
	done
}

layer_demo() {
	local t
	for t in tests/demo/test_*.sh; do
		[ -e "$t" ] || continue
		if [ "$(id -u)" -ne 0 ]; then
			printf '%-12s %-32s skipped (needs root)\n' demo "$(basename "$t" .sh)"
			skipped=$((skipped + 1))
			continue
		fi
		run_prog demo "$(basename "$t" .sh)" bash "$t"
	done
}

# Every target in the source tree: one not built, or without a seed corpus,
# fails (tests/fuzz/run.sh says which).
layer_fuzz() {
	local s f
	for s in tests/fuzz/fuzz_*.c; do
		f=build/fuzz/$(basename "$s" .c)
		run_prog fuzz "$(basename "$f")" tests/fuzz/run.sh --tap "$FUZZ_SMOKE_SECONDS" "$f"
	done
}

layers=("$@")
[ ${#layers[@]} -gt 0 ] || layers=(unit docs asan integration netns fuzz demo)
for l in "${layers[@]}"; do
	case "$l" in
	unit) layer_unit unit build ;;
	docs) layer_docs ;;
	asan)
		layer_unit asan build/asan
		layer_integration asan build/asan "${ASAN_INTEGRATION[@]}"
		layer_netns asan build/asan "${ASAN_NETNS[@]}"
		;;
	integration) layer_integration integration build ;;
	netns) layer_netns netns build ;;
	fuzz) layer_fuzz ;;
	demo) layer_demo ;;
	*)
		echo "run.sh: unknown layer '$l'" >&2
		exit 2
		;;
	esac
done

# Hygiene: tests build their hosts in namespaces; the root namespace must end
# as it began: no flannel chains, tables, devices or routes of ours, and no
# namespace that was not there before.
if [ "$(id -u)" -eq 0 ]; then
	dirty=$(comm -13 <(echo "$root_before") <(root_state | sort) | tr '\n' ' ')
	printf '%-12s %-32s ' hygiene root-namespace
	if [ -z "$dirty" ]; then
		echo "     ok (1 passed)"
		passed=$((passed + 1))
	else
		echo "     FAILED: left behind: $dirty"
		failed=$((failed + 1))
		failures+=("(root namespace: $dirty)")
	fi
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "Failing logs:"
	printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
