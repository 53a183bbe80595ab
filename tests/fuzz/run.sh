#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run libFuzzer targets for a bounded time each, on a scratch copy of their seed
# corpus (tests/fuzz/corpus/<name without fuzz_>/), so the repository is never written.
# A target without seeds (no such directory, or an empty one) fails: it would
# start from nothing and its short CI run would prove little. A dictionary
# tests/fuzz/<name without fuzz_>.dict, when there is one, is passed to libFuzzer.
#
#   tests/fuzz/run.sh [--tap] SECONDS TARGET...
# With --tap, print one TAP line per target (used by tests/run.sh).
set -u
tap=0
if [ "${1:-}" = "--tap" ]; then
	tap=1
	shift
fi
secs=${1:?usage: run.sh [--tap] SECONDS TARGET...}
shift
n=0 bad=0
for target in "$@"; do
	n=$((n + 1))
	name=$(basename "$target")
	seeds=tests/fuzz/corpus/${name#fuzz_}
	dict=tests/fuzz/${name#fuzz_}.dict
	if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
		bad=$((bad + 1))
		echo "# $name: no seed corpus: add inputs to $seeds/"
		[ $tap -eq 1 ] && echo "not ok $n - $name has a seed corpus ($seeds/)"
		continue
	fi
	if [ ! -x "$target" ]; then
		bad=$((bad + 1))
		echo "# $name: $target is not built (make fuzz-build)"
		[ $tap -eq 1 ] && echo "not ok $n - $name is built"
		continue
	fi
	work=$(mktemp -d)
	cp -r "$seeds"/. "$work"/
	opts=()
	[ -f "$dict" ] && opts+=(-dict="$dict")
	artifacts=build/fuzz/artifacts/$name
	mkdir -p "$artifacts"
	echo "# $name: ${secs}s on $(find "$work" -type f | wc -l) seed(s)"
	if "$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 "${opts[@]}" \
		-artifact_prefix="$artifacts/" -print_final_stats=1 "$work" >"$work.log" 2>&1; then
		grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$work.log" | sed 's/^/# /'
		[ $tap -eq 1 ] && echo "ok $n - $name ran ${secs}s clean"
	else
		bad=$((bad + 1))
		tail -40 "$work.log" | sed 's/^/# /'
		[ $tap -eq 1 ] && echo "not ok $n - $name found a crash (artifacts in $artifacts)"
	fi
	rm -rf "$work" "$work.log"
done
[ $tap -eq 1 ] && echo "1..$n"
[ $bad -eq 0 ]
