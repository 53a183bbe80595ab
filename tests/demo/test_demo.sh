#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job, as a user runs it: `make demo` (3 hosts, 2 pods each, vxlan)
# must pass and say so in its summary; `KEEP=1 make demo` leaves the cluster
# up and `make demo-down` removes every namespace and process it left.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh

out=$(make -s demo 2>&1) && rc=0 || rc=$?
echo "$out" | sed -n '/^Summary/,$p' | sed 's/^/# /'
tap_eq "make demo exits 0" 0 "$rc"
tap_eq "make demo: all pairs reachable, egress masqueraded" \
	"DEMO RESULT: pairs 36/36 reachable, egress 6/6 masqueraded, PASS" \
	"$(grep '^DEMO RESULT:' <<<"$out")"
tap_eq "make demo leaves no namespace behind" 0 "$(ip netns list | grep -c '^wd[0-9]*-')"

out=$(KEEP=1 HOSTS=2 PODS=1 BACKEND=host-gw make -s demo 2>&1) && rc=0 || rc=$?
tap_eq "KEEP=1 host-gw demo exits 0" 0 "$rc"
tap_eq "KEEP=1 host-gw demo: all pairs reachable" \
	"DEMO RESULT: pairs 4/4 reachable, egress 2/2 masqueraded, PASS" "$(grep '^DEMO RESULT:' <<<"$out")"
ns=$(sed -n 's/^NS=//p' /run/weft-demo/state 2>/dev/null)
tap_ok "KEEP=1 leaves the cluster up" eval "ip netns list | awk '{print \$1}' | grep -qx '$ns-h1'"
pids=$(sed -n 's/^PID=//p' /run/weft-demo/state 2>/dev/null)
tap_fail_with "a second demo is refused while one is up" 2 \
	"^demo: a demo cluster from 'KEEP=1 make demo' is still up; remove it with 'make demo-down'\$" \
	make -s demo
make -s demo-down >/dev/null 2>&1
tap_eq "demo-down removes the namespaces" 0 "$(ip netns list | grep -c "^$ns-")"
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
tap_eq "demo-down stops the processes it recorded" 0 "$alive"
tap_done
