#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make demo-down: remove the cluster that 'KEEP=1 make demo' left up: its
# processes (by the pids it recorded) and its namespaces (by its run prefix).
set -u
STATE=/run/weft-demo/state
if [ ! -e "$STATE" ]; then
	echo "demo-down: no demo cluster is up (no $STATE)"
	exit 0
fi
ns=$(sed -n 's/^NS=//p' "$STATE")
run_dir=$(sed -n 's/^RUN_DIR=//p' "$STATE")
case "$ns" in wd[0-9]*) ;; *) echo "demo-down: $STATE names no demo prefix" >&2; exit 1 ;; esac
for pid in $(sed -n 's/^PID=//p' "$STATE"); do
	kill -TERM "$pid" 2>/dev/null
done
for pid in $(sed -n 's/^PID=//p' "$STATE"); do
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null
done
for n in $(ip netns list | awk '{print $1}' | grep "^$ns-"); do
	ip netns del "$n"
done
rm -f "$STATE"
[ -n "$run_dir" ] && [ -d "$run_dir" ] && rm -rf "$run_dir"
echo "demo-down: removed namespaces $ns-* and the demo's processes"
