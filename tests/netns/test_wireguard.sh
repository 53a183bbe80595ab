#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# wireguard (flannel.md §7.7) on weft's userspace engine (this kernel has no
# wireguard module), 3 hosts x 2 pods:
#   - flannel-wg is a TUN with the subnet address /32, MTU = interface MTU - 80
#     (FLANNEL_MTU too), the Network routed through it; the lease is upstream's
#     {"PublicKey":"...","Port":51820}; the key file is mode 0400 and reused;
#   - wg(8) reads the device through /var/run/wireguard/flannel-wg.sock;
#   - all pod pairs, TCP iperf3; the underlay carries only UDP to 51820 and
#     never a ping's payload in the clear;
#   - weftd killed (-9) and restarted: sessions back within one handshake;
#   - a peer removed by hand with wg comes back within 10 s;
#   - a host removed from etcd leaves the others' peers;
#   - a host with another PSK gets nothing through and says so;
#   - the engine in /status, weftctl status and /metrics, no key anywhere;
#   - MTU changed or flannel-wg deleted by hand: restored;
#   - shutdown leaves the device; WEFT_WIREGUARD_REMOVE_ON_EXIT=1 removes it.
# Dual stack: test_wireguard_dual.sh; wireguard-go: test_wireguard_interop.sh.
# Each weftd runs in a mount namespace of its own (a tmpfs on
# /var/run/wireguard): the socket directory is the machine's otherwise.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/wg_lib.sh

# weftd with /metrics and /status on 127.0.0.1:9402 too.
weftd_host_start() {
	local n=$1
	shift
	wg_weftd "$n" --etcd-endpoints "$ETCD_ENDPOINT" --subnet-file "$RUN_DIR/h$n.env" \
		--metrics-port 9402 "$@"
}

check_wg_objects() { # N
	local n=$1 link lease mode
	link=$(host_exec "$n" ip -d link show flannel-wg)
	tap_ok "h$n: flannel-wg is a TUN (userspace engine)" grep -q "tun type tun" <<<"$link"
	tap_ok "h$n: flannel-wg MTU 1420, up" grep -q "mtu 1420 .*state UNKNOWN" <<<"$link"
	tap_eq "h$n: flannel-wg address is the subnet address /32" "$(subnet_addr "$n")/32" \
		"$(host_exec "$n" ip -4 -o addr show dev flannel-wg | awk '{print $4}')"
	tap_eq "h$n: one route of ours: the Network via flannel-wg" "10.244.0.0/16 dev flannel-wg scope link " \
		"$(host_exec "$n" ip route show proto 151)"
	tap_eq "h$n: FLANNEL_MTU is the interface MTU - 80" 1420 "$(host_env "$n" FLANNEL_MTU)"
	lease=$(etcd_get "$(lease_key "$n")")
	tap_eq "h$n: lease is upstream's wireguard lease" \
		"{\"PublicIP\":\"$(host_ip "$n")\",\"PublicIPv6\":null,\"BackendType\":\"wireguard\",\"BackendData\":{\"PublicKey\":\"$(wg pubkey <"$RUN_DIR/h$n.wgkey")\",\"Port\":51820}}" \
		"$lease"
	mode=$(stat -c %a "$RUN_DIR/h$n.wgkey")
	tap_eq "h$n: key file mode 0400" 400 "$mode"
	tap_eq "h$n: wg show sees $((HOSTS - 1)) peers" $((HOSTS - 1)) "$(wg_peers_of "$n")"
	tap_eq "h$n: wg show: our public key and port" "$(wg pubkey <"$RUN_DIR/h$n.wgkey") 51820" \
		"$(host_wg "$n" show flannel-wg public-key) $(host_wg "$n" show flannel-wg listen-port)"
	tap_ok "h$n: logs the userspace engine" grep -q "flannel-wg: userspace engine" "$RUN_DIR/h$n.log"
}

iperf_case() {
	local out bps
	run_bg iperf ip netns exec "$(pod_ns 2 1)" iperf3 -s
	wait_until 10 eval "ip netns exec $(pod_ns 2 1) ss -Hltn 'sport = :5201' | grep -q ."
	out=$(pod_exec 1 1 iperf3 -c "${POD_IP[2.1]}" -t 3 -J 2>/dev/null | sed -n '/^{/,$p')
	bps=$(python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))' <<<"$out" 2>/dev/null)
	bps=${bps:-0}
	tap_ok "TCP iperf3 pod 1.1 -> pod 2.1 through WireGuard ($((bps / 1000000)) Mbit/s)" test "$bps" -gt 1000000
	tap_eq "no TCP checksum errors in pod 2.1" 0 \
		"$(pod_exec 2 1 nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ {print $2}')"
	stop_bg iperf
	tap_eq "h1 sent UDP_SEGMENT trains, h2 coalesced TCP segments" "1 1" \
		"$(( $(counter 1 tx_gso_sends) > 0 )) $(( $(counter 2 rx_coalesced) > 0 ))"
}

# weftd on h2 killed (-9) and started again while pod 1.1 pings pod 2.1 every
# 20 ms: the TUN stays (persistent), the new weftd attaches to it, and the
# sessions come back within one handshake.
restart_case() {
	local before n0 out outage
	before=$(host_env 2 FLANNEL_SUBNET)
	n0=$(grep -c "held; wrote" "$RUN_DIR/h2.log")
	pod_exec 1 1 ping -i 0.02 -c 300 -W 1 "${POD_IP[2.1]}" >"$RUN_DIR/restart-ping.out" 2>&1 &
	local ping_pid=$!
	wait_until 5 grep -q "bytes from" "$RUN_DIR/restart-ping.out"
	weftd_host_stop 2 KILL
	tap_ok "restart: flannel-wg stays after SIGKILL (persistent TUN)" host_exec 2 ip link show flannel-wg
	weftd_host_start 2 --iface eth0
	tap_ok "restart: weftd on h2 holds its lease again" \
		wait_until 10 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h2.log") -gt $n0 ]'
	wait "$ping_pid"
	out=$(grep -o '[0-9]* packets transmitted, [0-9]* received' "$RUN_DIR/restart-ping.out")
	outage=$(ping_outage_ms "$RUN_DIR/restart-ping.out" 20 290)
	echo "# restart: 20 ms ping across SIGKILL + start of weftd on h2: $out; longest outage ${outage} ms"
	tap_ok "restart: connectivity back within 2 s of the restart (outage ${outage} ms)" test "$outage" -le 2000
	tap_eq "restart: same subnet" "$before" "$(host_env 2 FLANNEL_SUBNET)"
	tap_ok "restart: h2 logs the adopted device" grep -q "flannel-wg: userspace engine, existing device adopted" "$RUN_DIR/h2.log"
	tap_eq "restart: h2 kept its key" "$(pubkey_of 2)" "$(wg pubkey <"$RUN_DIR/h2.wgkey")"
}

# A peer removed by hand, and one altered, come back within 10 s.
tamper_case() {
	local pub t n
	pub=$(pubkey_of 2)
	# Counted by h1's log line for each correction: the reconcile may undo
	# the change before a check of the device could see it.
	corrections() { grep -c "flannel-wg: 1 peer(s) added or corrected" "$RUN_DIR/h1.log"; }
	n=$(corrections)
	tap_ok "tamper: wg set ... remove h2's peer on h1" host_wg 1 set flannel-wg peer "$pub" remove
	t=$(time_until 10 eval "[ \$(corrections) -gt $n ] && [ \$(wg_peers_of 1) = 2 ]")
	tap_ok "tamper: h1 logs the correction, the removed peer is back within 10 s ($t ms)" test "$t" != timeout
	n=$(corrections)
	host_wg 1 set flannel-wg peer "$pub" allowed-ips 10.99.0.0/16
	t=$(time_until 10 eval "[ \$(corrections) -gt $n ] && host_wg 1 show flannel-wg allowed-ips | grep '^$pub' | grep -q '$(subnet_net 2)'")
	tap_ok "tamper: the altered allowed IPs are corrected within 10 s ($t ms)" test "$t" != timeout
	tap_ok "tamper: pod 1.1 reaches pod 2.1 again" wait_until 5 pod_ping 1 1 "${POD_IP[2.1]}"
	host_exec 1 ip link set flannel-wg mtu 1300
	t=$(time_until 12 eval "host_exec 1 ip link show flannel-wg | grep -q 'mtu 1420'")
	tap_ok "tamper: flannel-wg MTU restored ($t ms)" test "$t" != timeout
	host_exec 1 ip link del flannel-wg
	t=$(time_until 12 eval "host_exec 1 ip route show proto 151 | grep -q 'dev flannel-wg' && pod_ping 1 1 ${POD_IP[2.1]}")
	tap_ok "tamper: deleted flannel-wg recreated, pod 1.1 reaches pod 2.1 again ($t ms)" test "$t" != timeout
	tap_ok "tamper: wg show works on the new device" eval "[ \$(wg_peers_of 1) = 2 ]"
}

# A lease whose BackendData is not WireGuard's: a clear error naming the
# lease, the other peers untouched.
bad_lease_case() {
	local key=$P/subnets/10.244.251.0-24
	etcd_put "$key" '{"PublicIP":"10.200.0.99","BackendType":"wireguard","BackendData":{"PublicKey":"not-a-key","Port":51820}}'
	tap_ok "bad lease: h1 names it and what is wrong" \
		wait_until 5 grep -q "ignoring lease 10.244.251.0-24: BackendData: .*PublicKey" "$RUN_DIR/h1.log"
	tap_eq "bad lease: h1 still has its 2 peers" 2 "$(wg_peers_of 1)"
	tap_ok "bad lease: pod 1.1 still reaches pod 3.1" pod_ping 1 1 "${POD_IP[3.1]}"
	etcd_del "$key"
}

# The engine in /status, weftctl status and /metrics; no key or PSK in any
# of them (public keys may appear).
observe_case() {
	local st wc m priv
	st=$(host_exec 1 curl -s http://127.0.0.1:9402/status)
	wc=$(host_exec 1 "$WEFT_BUILD/weftctl" status --metrics http://127.0.0.1:9402)
	m=$(host_exec 1 curl -s http://127.0.0.1:9402/metrics)
	tap_ok "/status says the userspace engine" grep -q '"engine":"userspace"' <<<"$st"
	tap_ok "weftctl status says the userspace engine" grep -q "wireguard (userspace engine)" <<<"$wc"
	tap_ok "/metrics: weft_wireguard_engine for userspace is 1" \
		grep -q '^weft_wireguard_engine{device="flannel-wg",engine="userspace"} 1$' <<<"$m"
	tap_ok "/metrics: 2 peers, 2 sessions" \
		eval "grep -q '^weft_wireguard_peers{device=\"flannel-wg\"} 2\$' <<<\"\$m\" && grep -q '^weft_wireguard_sessions{device=\"flannel-wg\"} 2\$' <<<\"\$m\""
	tap_ok "/metrics: packets counted" grep -qE '^weft_wireguard_packets_total\{device="flannel-wg",direction="tx"\} [1-9]' <<<"$m"
	for n in 1 2 3; do
		priv=$(cat "$RUN_DIR/h$n.wgkey")
		tap_eq "h$n's private key appears in no log, /status or /metrics" 0 \
			"$( (cat "$RUN_DIR"/h*.log; echo "$st$wc$m") | grep -cF -- "$priv")"
	done
}

cluster_up '{"Type":"wireguard"}' || { tap_ok "cluster up" false; tap_done; exit 1; }
for n in 1 2 3; do check_wg_objects "$n"; done
all_pairs_ping "v4"
observe_case
iperf_case
capture_case "WireGuard datagrams" flannel-wg "udp port 51820"
bad_lease_case
tamper_case
restart_case
all_pairs_ping "v4, after the restart"

# Another PSK on h3 (the config changed, only h3 restarted and read it):
# nothing gets through between h3 and the others, and h3 says why.
psk_case() {
	local psk
	psk=$(wg genpsk)
	net_config "{\"Network\":\"10.244.0.0/16\",\"Backend\":{\"Type\":\"wireguard\",\"PSK\":\"$psk\"}}"
	weftd_host_stop 3
	weftd_host_start 3 --iface eth0
	tap_ok "psk: h3 holds its lease again" wait_until 10 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h3.log") -ge 2 ]'
	tap_ok "psk: pod 3.1 cannot reach pod 1.1" eval "! pod_exec 3 1 ping -c 3 -i 0.3 -W 1 -q ${POD_IP[1.1]} >/dev/null 2>&1"
	tap_ok "psk: pod 1.1 still reaches pod 2.1" pod_ping 1 1 "${POD_IP[2.1]}"
	tap_ok "psk: h3 logs the failed handshakes" \
		wait_until 12 grep -q "handshake message(s) failed authentication" "$RUN_DIR/h3.log"
	tap_eq "psk: the PSK never appears in a log" 0 "$(cat "$RUN_DIR"/h*.log | grep -cF -- "$psk")"
	net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"wireguard"}}'
	weftd_host_stop 3
	weftd_host_start 3 --iface eth0
	tap_ok "psk: h3 with the cluster's PSK reaches pod 1.1 again" wait_until 10 pod_ping 3 1 "${POD_IP[1.1]}"
}
psk_case

# A host leaves: its peer leaves the others' devices.
leave_case() {
	local key t n
	key=$(lease_key 3)
	weftd_host_stop 3
	etcd_del "$key"
	for n in 1 2; do
		t=$(time_until 3 eval "[ \$(wg_peers_of $n) = 1 ]")
		tap_ok "removal: h3 gone from h$n's peers ($t ms)" test "$t" != timeout
	done
}
leave_case
weftd_host_stop 1
tap_eq "h1: weftd exits 0 on SIGTERM" 0 "$?"
tap_ok "h1: flannel-wg stays configured after a clean stop" eval "host_exec 1 ip route show proto 151 dev flannel-wg | grep -q 10.244.0.0/16"
# Removal on exit, for operators who want upstream's behaviour.
weftd_host_stop 2
WEFT_WIREGUARD_REMOVE_ON_EXIT=1 weftd_host_start 2 --iface eth0
tap_ok "h2: weftd with WEFT_WIREGUARD_REMOVE_ON_EXIT=1 holds its lease" \
	wait_until 10 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h2.log") -ge 3 ]'
weftd_host_stop 2
tap_eq "h2: weftd exits 0 on SIGTERM" 0 "$?"
tap_ok "h2: ... and flannel-wg is gone" eval "! host_exec 2 ip link show flannel-wg >/dev/null 2>&1"
tap_ok "h2: ... it said so" grep -q "wireguard: removing flannel-wg" "$RUN_DIR/h2.log"
tap_done
