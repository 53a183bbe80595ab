#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A firewall tool that hangs must not stall weftd's control loop (issue 14,
# item 2). weftd (host-gw, iptables mode, --ip-masq, --iptables-resync 1) gets
# an `iptables` early on its PATH: a script in the run directory that execs the
# real tool, but first waits 20 s while the file $RUN_DIR/stall exists (in
# bash's `read -t`, so that the script stays one process, the one weftd
# started). Then:
#  - at start-up, while the rules cannot be installed: /healthz answers within
#    100 ms, /readyz is 503 and subnet.env is not written (the order stays:
#    rules first); once the tool answers again, the lease is held and ready;
#  - later, while a resync check hangs: /healthz answers within 100 ms every
#    time, a new peer's lease becomes a route within seconds, the next resync
#    says the check is still running and starts no second one (the wrapper
#    records any overlap of two runs);
#  - afterwards the rules equal the golden set and tampering is repaired;
#  - SIGTERM while the tool hangs: exit 0 within 3 s, the hung tool killed.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

PATH=$PATH:/usr/sbin:/sbin
if [ "$(id -u)" -ne 0 ]; then
	tap_skip "tool stall" "needs root"
	tap_done
	exit
fi
REAL_IPT=$(command -v iptables) || {
	tap_skip "tool stall" "iptables not installed"
	tap_done
	exit
}
HOSTS=1
# flanneld's rule sets (the overlay filter: test_overlay_filter.sh).
ARGS=(--iface eth0 --healthz-port 8081 --iptables-resync 1 --ip-masq --overlay-peers-only=false)
PEER_KEY=$P/subnets/10.244.200.0-24
PEER_NET=10.244.200.0/24
PEER_IP=$UNDERLAY_PREFIX.50

# The wrapper, and weftd's PATH with it in front.
mkdir -p "$RUN_DIR/bin"
mkfifo "$RUN_DIR/never"
cat >"$RUN_DIR/bin/iptables" <<EOF
#!/bin/bash
# The real iptables, 20 s late while $RUN_DIR/stall exists. The lock (held
# by the exec'd tool too, through fd 9) catches two runs at once.
exec 9>>"$RUN_DIR/ipt.lock"
flock -n 9 || echo "overlap \$\$ \$*" >>"$RUN_DIR/ipt-overlap"
if [ -e "$RUN_DIR/stall" ]; then
	echo "\$\$ \$*" >>"$RUN_DIR/ipt-stalled"
	read -r -t 20 <>"$RUN_DIR/never"
fi
exec $REAL_IPT "\$@"
EOF
chmod 0755 "$RUN_DIR/bin/iptables"
WEFTD_PATH=$RUN_DIR/bin:$PATH

stalled_runs() { grep -c . "$RUN_DIR/ipt-stalled" 2>/dev/null || echo 0; }
last_stalled_pid() { tail -1 "$RUN_DIR/ipt-stalled" | cut -d' ' -f1; }
# stall_begin: from now on every run hangs; returns once one does.
stall_begin() {
	local before
	before=$(stalled_runs)
	touch "$RUN_DIR/stall"
	wait_until 10 eval "[ \$(stalled_runs) -gt $before ]"
}
# /healthz N times, 100 ms apart: every answer 200 within 100 ms (curl's
# time_total). The machine is shared by parallel test runs: one answer in 20
# may take up to 500 ms, never more; a stalled loop misses them all (curl
# gives up after 2 s). Prints every answer that was not fast.
healthz_fast() {
	local i r slow=0 bad=0
	for i in $(seq 1 "$1"); do
		r=$(host_exec 1 curl -s -o /dev/null --max-time 2 -w '%{http_code} %{time_total}' \
			http://127.0.0.1:8081/healthz)
		case $(awk -v r="$r" 'BEGIN { split(r, f, " ");
			print f[1] != "200" ? "bad" : f[2] < 0.1 ? "fast" : f[2] < 0.5 ? "slow" : "bad" }') in
		fast) ;;
		slow) slow=$((slow + 1)); echo "slow answer: $r" ;;
		*) bad=$((bad + 1)); echo "bad answer: $r" ;;
		esac
		sleep 0.1 # pacing: the probes span more than one resync period
	done
	[ "$bad" -eq 0 ] && [ $((slow * 20)) -le "$1" ]
}
readyz() { host_exec 1 curl -s -o /dev/null --max-time 2 -w '%{http_code}' http://127.0.0.1:8081/readyz; }


cluster_init || { tap_ok "cluster up" false; tap_done; exit 1; }
host_add 1
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}'

# ---- start-up with the tool hung ----
touch "$RUN_DIR/stall"
PATH=$WEFTD_PATH weftd_host_start 1 "${ARGS[@]}"
tap_ok "start-up: the rules setup reaches the hung tool" wait_until 20 eval '[ $(stalled_runs) -ge 1 ]'
tap_ok "start-up: /healthz answers within 100 ms, 20 times, while the tool hangs" healthz_fast 20
tap_eq "start-up: /readyz is 503 while the rules are not in" 503 "$(readyz)"
tap_eq "start-up: subnet.env not written before the rules" \
	"cat: $RUN_DIR/h1.env: No such file or directory" "$(cat "$RUN_DIR/h1.env" 2>&1)"
tap_eq "start-up: weftd still running" 0 "$(bg_alive h1; echo $?)"
rm -f "$RUN_DIR/stall"
tap_ok "start-up: lease held and subnet.env written once the tool answers" host_held 1 40
tap_eq "start-up: /readyz is 200 then" 200 "$(readyz)"
tap_ok "start-up: the log says the rules went in before subnet.env" eval \
	"grep -n 'traffic rules installed\|held; wrote' '$RUN_DIR/h1.log' | head -1 | grep -q 'traffic rules installed'"
POD=$(subnet_net 1)
tap_eq "rules: nat is the golden set" "$(golden_nat 10.244.0.0/16 "$POD")" "$(host_exec 1 iptables -t nat -S)"

# ---- a resync check hangs ----
tap_ok "resync: a check reaches the hung tool" stall_begin
tap_ok "resync: /healthz answers within 100 ms, 20 times in a row, while the tool hangs" healthz_fast 20
etcd_put "$PEER_KEY" "{\"PublicIP\":\"$PEER_IP\",\"BackendType\":\"host-gw\"}"
t=$(time_until 5 eval "host_exec 1 ip route show $PEER_NET | grep -q 'via $PEER_IP dev eth0'")
tap_ok "resync: a new peer is routed while the tool hangs ($t ms)" test "$t" != timeout
tap_ok "resync: the next period says the check is still running" \
	wait_until 5 grep -q "check started .* is still running .* not starting another" "$RUN_DIR/h1.log"
tap_eq "resync: weftd still running" 0 "$(bg_alive h1; echo $?)"
rm -f "$RUN_DIR/stall"
tap_ok "resync: the slow check ends once the tool answers" \
	wait_until 30 grep -q "the slow check ended after" "$RUN_DIR/h1.log"
tap_eq "resync: never two tool runs at once" "" "$(cat "$RUN_DIR/ipt-overlap" 2>/dev/null)"

# ---- afterwards ----
tap_eq "after: nat rules are the golden set" "$(golden_nat 10.244.0.0/16 "$POD")" \
	"$(host_exec 1 iptables -t nat -S)"
tap_eq "after: filter rules are the golden set" "$(golden_filter 10.244.0.0/16)" \
	"$(host_exec 1 iptables -S)"
host_exec 1 iptables -t nat -F FLANNEL-POSTRTG
t=$(time_until 5 eval "[ \"\$(host_exec 1 iptables -t nat -S)\" = \"\$(golden_nat 10.244.0.0/16 $POD)\" ]")
tap_ok "after: a flushed chain is restored within the resync period again ($t ms)" test "$t" != timeout

# ---- SIGTERM while the tool hangs ----
tap_ok "shutdown: a check reaches the hung tool" stall_begin
hung=$(last_stalled_pid)
tap_ok "shutdown: the hung tool is running ($hung)" kill -0 "$hung"
t0=$(now_ms)
weftd_host_stop 1
rc=$?
took=$(($(now_ms) - t0))
tap_eq "shutdown: SIGTERM exits 0" 0 "$rc"
tap_ok "shutdown: within 3 s ($took ms)" test "$took" -lt 3000
tap_ok "shutdown: the hung tool was killed" eval "kill -0 $hung 2>&1 | grep -q 'No such process'"
tap_ok "shutdown: a clean exit is logged" grep -q "Exiting cleanly" "$RUN_DIR/h1.log"
rm -f "$RUN_DIR/stall"
tap_eq "shutdown: rules still in place" "$(golden_nat 10.244.0.0/16 "$POD")" \
	"$(host_exec 1 iptables -t nat -S)"
tap_done
