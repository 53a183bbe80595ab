#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The etcd watch watchdog (issue 14, item 9): a watch that brings neither
# events nor progress notifications is re-established. etcd notifies idle
# watches every second here (--experimental-watch-progress-notify-interval),
# weftd's bound is 3 s (WEFT_TEST_WATCH_IDLE). Between weftd and etcd sits a
# TCP proxy on loopback (stall_proxy.py) that stalls like a stuck gateway: its
# connections stay open and carry nothing, so TCP never notices.
#   a: endpoints proxy,etcd: re-establishes the watch on the other endpoint;
#   c: endpoint proxy only: re-establishes it once the proxy recovers.
# Both must then see a lease written while they were stalled.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

P=/coreos.com/network
ETCD_ARGS=(--experimental-watch-progress-notify-interval 1s)
etcd_start || exit 1
# SubnetMax keeps the daemons' random subnets clear of the peers this test writes (50, 51).
etcd_put $P/config '{"Network":"10.5.0.0/16","SubnetMax":"10.5.49.0","Backend":{"Type":"alloc"}}'

pport=$(free_port)
run_bg proxy python3 tests/integration/stall_proxy.py 127.0.0.1:"$pport" 127.0.0.1:"$ETCD_CLIENT_PORT"
tap_ok "the stalling proxy listens" wait_until 10 grep -qx listening "$RUN_DIR/proxy.log"
PROXY=http://127.0.0.1:$pport

export WEFT_TEST_WATCH_IDLE=3
daemon() { # NAME PUBLIC_IP ENDPOINTS
	run_bg "$1" "$WEFTD" --etcd-endpoints "$3" --iface lo --public-ip "$2" \
		--subnet-file "$RUN_DIR/$1.env" --iptables-forward-rules=false
}
daemon a 127.0.0.11 "$PROXY,$ETCD_ENDPOINT"
daemon c 127.0.0.13 "$PROXY"
tap_ok "a holds a lease (through the proxy)" weftd_wait_held a
tap_ok "c holds a lease (through the proxy)" weftd_wait_held c

# Healthy: an event gets through, and progress notifications keep an idle
# watch alive past the 3 s bound (a window of 8 s without events).
etcd_put $P/subnets/10.5.50.0-24 '{"PublicIP":"127.0.0.50","PublicIPv6":null}'
tap_ok "a sees a peer through the proxy" wait_until 5 grep -q "peer added: 10.5.50.0-24" "$RUN_DIR/a.log"
tap_ok "c sees a peer through the proxy" wait_until 5 grep -q "peer added: 10.5.50.0-24" "$RUN_DIR/c.log"
wait_until 8 grep -q "nothing received" "$RUN_DIR/a.log" "$RUN_DIR/c.log"
tap_eq "healthy idle watch: no watchdog in 8 s (wait_until timed out)" 1 "$?"

# Stalled: a lease written now reaches nobody through the proxy.
kill -USR1 "$(bg_pid proxy)"
tap_ok "the proxy stalls" wait_until 5 grep -qx stalled "$RUN_DIR/proxy.log"
etcd_put $P/subnets/10.5.51.0-24 '{"PublicIP":"127.0.0.51","PublicIPv6":null}'
tap_ok "a: the watchdog ends the stuck watch, naming the proxy" wait_until 10 grep -qE \
	"lease watch interrupted: $PROXY: watch: nothing received for [0-9]+s \(no event, no progress notification\)" \
	"$RUN_DIR/a.log"
tap_ok "a sees the new lease through the other endpoint" \
	wait_until 10 grep -q "peer added: 10.5.51.0-24" "$RUN_DIR/a.log"
tap_ok "c: the watchdog ends its stuck watch" wait_until 10 grep -q \
	"lease watch interrupted: $PROXY: watch: nothing received" "$RUN_DIR/c.log"
tap_eq "c: nothing gets through while stalled" 0 "$(weftd_count c 'peer added: 10.5.51.0-24')"

# Recovered: c's next attempt gets through and resumes where it stopped.
kill -USR2 "$(bg_pid proxy)"
tap_ok "the proxy recovers" wait_until 5 grep -qx resumed "$RUN_DIR/proxy.log"
tap_ok "c sees the lease written while it was stalled" \
	wait_until 20 grep -q "peer added: 10.5.51.0-24" "$RUN_DIR/c.log"
tap_ok "a and c still run" eval 'bg_alive a && bg_alive c'
for n in a c; do
	stop_bg "$n"
	tap_eq "$n: SIGTERM: exit 0" 0 "$?"
done
tap_done
