#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ipsec (flannel.md §7.6) with userspace ESP (this kernel has XFRM but no
# ESP type: strongSwan's kernel-libipsec carries ESP in UDP through its TUN
# ipsec0), 3 hosts x 2 pods, each weftd with its own charon:
#   - charon is weftd's child, with weft's strongswan.conf, VICI socket and
#     pid file in the host's own --ipsec-run-dir; FLANNEL_MTU = 1400 (what
#     kernel-libipsec carries: MTU - 85 would be more);
#     the lease is upstream's ({"BackendType":"ipsec"}, no BackendData);
#   - one connection per peer, named as upstream, established (swanctl);
#   - all pod pairs; TCP iperf3; the underlay carries only IKE and
#     ESP-in-UDP (500, 4500), never a ping's payload in the clear;
#   - charon killed (-9): restarted, its connections reloaded, traffic back
#     within 10 s; weftd killed and started again: subnet and tunnels back;
#   - a host with another PSK gets nothing through and the log names it;
#   - a lease that comes, changes its public IP and goes: its connection is
#     loaded, replaced and unloaded;
#   - a host removed from etcd: its connection and SAs leave the others;
#   - the engine in /status, weftctl status and /metrics; no PSK anywhere;
#   - weftd stopped: charon stopped with it.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/ipsec_lib.sh

PSK=$(ipsec_psk)
OTHER_PSK=$(ipsec_psk)
backend() { echo "{\"Type\":\"ipsec\",\"PSK\":\"${1:-$PSK}\"}"; }

weftd_host_start() { ipsec_weftd "$@" --metrics-port 9402; }

# Peers host N has an established IKE SA with. Both sides start their
# connection (start_action start, as upstream), so a pair often holds two
# IKE SAs, one from each side, and one CHILD_SA pair.
established() { swan "$1" --list-sas | grep "ESTABLISHED" | cut -d: -f1 | sort -u | grep -c .; }
installed() { swan "$1" --list-sas | grep -c "INSTALLED"; } # CHILD_SAs on host N
charon_pid() { cat "$(ipsec_dir "$1")/charon.pid" 2>/dev/null; }
conn_name() { # N M: host N's connection to host M, as upstream names it
	echo "$(host_ip "$1")-$(subnet_net "$1")-$(subnet_net "$2")-$(host_ip "$2")"
}

check_objects() { # N
	local n=$1 m conns
	# MTU - 77 - 8 (ESP in UDP) would be 1415; kernel-libipsec carries 1400.
	tap_eq "h$n: FLANNEL_MTU is 1400, what kernel-libipsec carries" 1400 "$(host_env "$n" FLANNEL_MTU)"
	tap_eq "h$n: lease is upstream's ipsec lease" \
		"{\"PublicIP\":\"$(host_ip "$n")\",\"PublicIPv6\":null,\"BackendType\":\"ipsec\"}" \
		"$(etcd_get "$(lease_key "$n")")"
	tap_ok "h$n: charon runs with weft's config" grep -q "kernel-libipsec" "$(ipsec_dir "$n")/strongswan.conf"
	tap_ok "h$n: charon's pid file is in weft's directory" test -n "$(charon_pid "$n")"
	tap_ok "h$n: no charon pid file in the machine's /var/run from us" \
		eval "! grep -qx '$(charon_pid "$n")' /var/run/charon.pid 2>/dev/null"
	tap_ok "h$n: strongswan.conf has no bypass-lan" eval "! grep -q bypass-lan '$(ipsec_dir "$n")/strongswan.conf'"
	conns=$(swan "$n" --list-conns)
	for m in $(seq 1 "$HOSTS"); do
		[ "$m" = "$n" ] && continue
		tap_ok "h$n: connection $(conn_name "$n" "$m") loaded" grep -qF "$(conn_name "$n" "$m"):" <<<"$conns"
	done
	tap_ok "h$n: IKE SAs with its $((HOSTS - 1)) peers, one CHILD_SA each" \
		wait_until 15 eval "[ \$(established $n) = $((HOSTS - 1)) ] && [ \$(installed $n) = $((HOSTS - 1)) ]"
	tap_ok "h$n: logs userspace ESP" grep -q "userspace ESP" "$RUN_DIR/h$n.log"
	tap_eq "h$n: an unreachable route for the Network: nothing leaves in the clear" \
		"unreachable 10.244.0.0/16" "$(host_exec "$n" ip route show proto 151 | sed 's/ *$//')"
	tap_ok "h$n: ipsec0 MTU is FLANNEL_MTU" wait_until 10 eval "host_exec $n ip link show ipsec0 | grep -q 'mtu 1400'"
}

iperf_case() {
	local out bps
	run_bg iperf ip netns exec "$(pod_ns 2 1)" iperf3 -s
	wait_until 10 eval "ip netns exec $(pod_ns 2 1) ss -Hltn 'sport = :5201' | grep -q ."
	out=$(pod_exec 1 1 iperf3 -c "${POD_IP[2.1]}" -t 3 -J 2>&1 | sed -n '/^{/,$p')
	grep -i error <<<"$out" | sed 's/^/# /'
	bps=$(python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))' <<<"$out" 2>/dev/null)
	bps=${bps:-0}
	tap_ok "TCP iperf3 pod 1.1 -> pod 2.1 through ESP ($((bps / 1000000)) Mbit/s)" test "$bps" -gt 1000000
	stop_bg iperf
}

observe_case() {
	local st wc m
	st=$(host_exec 1 curl -s http://127.0.0.1:9402/status)
	wc=$(host_exec 1 "$WEFT_BUILD/weftctl" status --metrics http://127.0.0.1:9402 2>&1)
	m=$(host_exec 1 curl -s http://127.0.0.1:9402/metrics)
	tap_ok "/status says the userspace engine" grep -q '"engine":"userspace"' <<<"$st"
	tap_ok "weftctl status says the userspace engine" grep -q "ipsec (userspace engine)" <<<"$wc"
	tap_ok "/metrics: weft_ipsec_engine for userspace is 1" \
		grep -q '^weft_ipsec_engine{engine="userspace"} 1' <<<"$m"
	tap_ok "/metrics: 2 connections loaded" grep -q '^weft_ipsec_connections 2' <<<"$m"
	tap_ok "/metrics: 2 peers up" grep -q '^weft_ipsec_peers_up 2' <<<"$m"
	tap_ok "/metrics: 2 CHILD_SAs installed" grep -q '^weft_ipsec_child_sas 2' <<<"$m"
	tap_eq "the PSK appears in no log, /status or /metrics" 0 \
		"$(cat "$RUN_DIR"/h*.log "$(ipsec_dir 1)/charon.log" <(echo "$st$wc$m") | grep -cF -- "$PSK")"
}

# charon killed: weftd starts it again and loads the connections again.
charon_kill_case() {
	local pid n0 t
	pid=$(charon_pid 2)
	n0=$(grep -c "ipsec: started" "$RUN_DIR/h2.log")
	kill -KILL "$pid"
	t=$(time_until 10 eval "pod_ping 1 1 ${POD_IP[2.1]} && pod_ping 2 1 ${POD_IP[3.1]}")
	tap_ok "charon killed: h2 reaches h1 and h3 again within 10 s ($t ms)" test "$t" != timeout
	tap_ok "charon killed: h2 says so and started it again" \
		eval "grep -q 'charon was killed by signal 9' '$RUN_DIR/h2.log' && [ \$(grep -c 'ipsec: started' '$RUN_DIR/h2.log') -gt $n0 ]"
	tap_ok "charon killed: a new charon" eval "[ \"\$(charon_pid 2)\" != $pid ]"
}

restart_case() {
	local before n0 t
	before=$(host_env 2 FLANNEL_SUBNET)
	n0=$(grep -c "held; wrote" "$RUN_DIR/h2.log")
	weftd_host_stop 2 KILL
	weftd_host_start 2 --iface eth0
	tap_ok "restart: weftd on h2 holds its lease again" \
		wait_until 10 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h2.log") -gt $n0 ]'
	tap_eq "restart: same subnet" "$before" "$(host_env 2 FLANNEL_SUBNET)"
	t=$(time_until 15 eval "pod_ping 1 1 ${POD_IP[2.1]} && pod_ping 2 2 ${POD_IP[3.2]}")
	tap_ok "restart: tunnels back ($t ms)" test "$t" != timeout
}

psk_case() {
	net_config "{\"Network\":\"10.244.0.0/16\",\"Backend\":$(backend "$OTHER_PSK")}"
	weftd_host_stop 3
	weftd_host_start 3 --iface eth0
	tap_ok "psk: h3 holds its lease again" wait_until 10 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h3.log") -ge 2 ]'
	tap_ok "psk: pod 3.1 cannot reach pod 1.1" eval "! pod_exec 3 1 ping -c 3 -i 0.3 -W 1 -q ${POD_IP[1.1]} >/dev/null 2>&1"
	tap_ok "psk: pod 1.1 still reaches pod 2.1" pod_ping 1 1 "${POD_IP[2.1]}"
	tap_ok "psk: h3's log names the peer whose authentication failed" \
		wait_until 15 grep -q "ipsec: peer $(subnet_net 1 | tr / -) .*authentication failed" "$RUN_DIR/h3.log"
	tap_ok "psk: h1's log names h3" \
		wait_until 15 grep -q "ipsec: peer $(subnet_net 3 | tr / -) .*authentication failed" "$RUN_DIR/h1.log"
	tap_eq "psk: no PSK in any log" 0 "$(cat "$RUN_DIR"/h*.log | grep -cF -e "$PSK" -e "$OTHER_PSK")"
	net_config "{\"Network\":\"10.244.0.0/16\",\"Backend\":$(backend)}"
	weftd_host_stop 3
	weftd_host_start 3 --iface eth0
	tap_ok "psk: h3 with the cluster's PSK reaches pod 1.1 again" wait_until 20 pod_ping 3 1 "${POD_IP[1.1]}"
}

leave_case() {
	local key t n
	key=$(lease_key 3)
	weftd_host_stop 3
	tap_ok "leave: h3's charon stopped with weftd" eval "! kill -0 $(charon_pid 3) 2>/dev/null"
	tap_ok "leave: without charon, h3 routes pod traffic nowhere, not in the clear" \
		eval "host_exec 3 ip route get ${POD_IP[1.1]} 2>&1 | grep -q 'No route to host'"
	tap_ok "leave: ... and pod 3.1's ping to pod 1.1 fails" eval "! pod_ping 3 1 ${POD_IP[1.1]}"
	etcd_del "$key"
	for n in 1 2; do
		t=$(time_until 10 eval "! swan $n --list-conns | grep -qF '$(conn_name "$n" 3):' && ! swan $n --list-sas | grep -qF -e '$(conn_name "$n" 3):' -e '$(subnet_net 3)'")
		tap_ok "leave: h3's connection and SAs gone from h$n ($t ms)" test "$t" != timeout
		[ "$t" != timeout ] || swan "$n" --list-sas | sed 's/^/# /'
		tap_ok "leave: h$n still reaches the other host" eval "[ \$(established $n) = 1 ]"
	done
}

# A lease written by another host (here by hand): its connection is loaded;
# its public IP changes: the connection is replaced (upstream's name carries
# the IP); it goes: the connection goes.
lease_change_case() {
	local key=$P/subnets/10.244.250.0-24 old new
	old="$(host_ip 1)-$(subnet_net 1)-10.244.250.0/24-10.200.0.99"
	new="$(host_ip 1)-$(subnet_net 1)-10.244.250.0/24-10.200.0.98"
	etcd_put "$key" '{"PublicIP":"10.200.0.99","PublicIPv6":null,"BackendType":"ipsec"}'
	tap_ok "lease: a new peer's connection is loaded" wait_until 5 eval "swan 1 --list-conns | grep -qF '$old:'"
	etcd_put "$key" '{"PublicIP":"10.200.0.98","PublicIPv6":null,"BackendType":"ipsec"}'
	tap_ok "lease: its public IP changed: the connection is replaced" \
		wait_until 5 eval "swan 1 --list-conns | grep -qF '$new:' && ! swan 1 --list-conns | grep -qF '$old:'"
	etcd_del "$key"
	tap_ok "lease: it went: so did its connection" wait_until 5 eval "! swan 1 --list-conns | grep -qF '10.244.250.0/24'"
	tap_ok "lease: pod 1.1 still reaches pod 2.1" pod_ping 1 1 "${POD_IP[2.1]}"
}

cluster_up "$(backend)" || { tap_ok "cluster up" false; tap_done; exit 1; }
for n in 1 2 3; do check_objects "$n"; done
all_pairs_ping "ipsec"
iperf_case
capture_case "ESP in UDP (4500) and IKE" ipsec0 "udp port 500 or udp port 4500"
observe_case
lease_change_case
charon_kill_case
restart_case
all_pairs_ping "ipsec, after the restarts"
psk_case
leave_case
weftd_host_stop 1
tap_eq "h1: weftd exits 0 on SIGTERM" 0 "$?"
tap_ok "h1: said it stopped charon" grep -q "ipsec: stopping charon" "$RUN_DIR/h1.log"
tap_done
