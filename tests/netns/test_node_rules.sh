#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Node integration on a 2-host vxlan cluster with an "outside" host on the
# underlay running an echo server that answers with the source address it sees:
#  - /readyz is 503 until the rules are in place and subnet.env is written;
#  - with --ip-masq a pod reaches the outside from its host's underlay address,
#    pod-to-pod traffic keeps pod addresses; without --ip-masq the outside sees
#    the pod address;
#  - iptables -S / nft list table equal the golden text for the host's subnet;
#  - flushed chain / deleted table are restored within the resync period;
#  - a network change between runs removes the old rules;
#  - /metrics (on the metrics port) is valid Prometheus text and counts the peers;
#  - SIGTERM exits 0 and leaves lease, routes and rules in place.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

HOSTS=2 PODS=1
OUT=$NS-out
OUT_IP=$UNDERLAY_PREFIX.100
# flanneld's rule sets, compared whole with the golden text; weft's overlay
# filter has its own test (test_overlay_filter.sh).
ARGS=(--iface eth0 --healthz-port 8081 --metrics-port 8082 --iptables-resync 1 --overlay-peers-only=false)

cluster_init || exit 1
for n in 1 2; do host_add "$n"; done

# The outside host and its echo server (prints the peer address, then closes).
ip netns add "$OUT"
ip -n "$UL" link add out type veth peer name eth0 netns "$OUT"
ip -n "$UL" link set out master br0 up
ip -n "$OUT" addr add "$OUT_IP/24" dev eth0
ip -n "$OUT" link set eth0 up
ip -n "$OUT" link set lo up
ECHO_PY='import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000)); s.listen(16)
while True:
    c, a = s.accept(); c.sendall((a[0] + "\n").encode()); c.close()'
run_bg echo ip netns exec "$OUT" python3 -c "$ECHO_PY"
wait_until 10 eval "ip netns exec $OUT ss -Hltn 'sport = :7000' | grep -q ."
# Source address seen by a server at DST:7000 when pod K of host N connects.
seen_from() { # N K DST
	pod_exec "$1" "$2" timeout 5 bash -c "exec 3<>/dev/tcp/$3/7000 && head -1 <&3" 2>/dev/null
}
readyz() { host_exec "$1" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:8081/readyz"; }

# Readiness: weftd up before the network config exists.
weftd_host_start 1 "${ARGS[@]}" --ip-masq
tap_ok "healthz answers while not ready" wait_until 10 eval \
	"[ \"\$(host_exec 1 curl -s http://127.0.0.1:8081/healthz)\" = 'flanneld is running' ]"
tap_eq "/readyz is 503 before the lease and rules" 503 "$(readyz 1)"
tap_eq "/readyz body says not ready" "flanneld is not ready yet" \
	"$(host_exec 1 curl -s http://127.0.0.1:8081/readyz)"
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}'
# h2 runs as under systemd (Type=notify): READY=1 arrives on NOTIFY_SOCKET.
NOTIFY_PY='import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
open(sys.argv[2], "w").write(s.recv(4096).decode())'
run_bg notify python3 -c "$NOTIFY_PY" "$RUN_DIR/notify.sock" "$RUN_DIR/notify.msg"
wait_until 5 test -S "$RUN_DIR/notify.sock"
NOTIFY_SOCKET=$RUN_DIR/notify.sock weftd_host_start 2 "${ARGS[@]}" --ip-masq --ip-blackhole-route
host_held 1 && host_held 2
tap_eq "/readyz is 200 once ready" 200 "$(readyz 1)"
tap_ok "sd_notify: READY=1 received on NOTIFY_SOCKET" wait_until 5 grep -qx "READY=1" "$RUN_DIR/notify.msg"
tap_eq "blackhole route for h2's own subnet" "blackhole $(subnet_net 2) proto 151 metric 1000 " \
	"$(host_exec 2 ip route show type blackhole)"
host_exec 2 ip route del blackhole "$(subnet_net 2)" metric 1000
t=$(time_until 5 eval "host_exec 2 ip route show type blackhole | grep -q '$(subnet_net 2)'")
tap_ok "deleted blackhole route restored within the resync period ($t ms)" test "$t" != timeout
for n in 1 2; do pod_add "$n" 1 >/dev/null; done
ip -n "$OUT" route add 10.244.0.0/16 via "$(host_ip 1)" # replies to unmasqueraded pods of h1


# iptables mode, --ip-masq.
tap_eq "h1: iptables -t nat -S is the golden rule set" "$(golden_nat 10.244.0.0/16 "$(subnet_net 1)")" \
	"$(host_exec 1 iptables -t nat -S)"
tap_eq "h1: iptables -S is the golden rule set" "$(golden_filter 10.244.0.0/16)" "$(host_exec 1 iptables -S)"
tap_eq "masquerade: the outside sees h1's underlay address" "$(host_ip 1)" "$(seen_from 1 1 "$OUT_IP")"
run_bg podecho ip netns exec "$(pod_ns 2 1)" python3 -c "$ECHO_PY"
wait_until 10 eval "ip netns exec $(pod_ns 2 1) ss -Hltn 'sport = :7000' | grep -q ."
tap_eq "pod to pod: no NAT (pod 2.1 sees pod 1.1's address)" "${POD_IP[1.1]}" \
	"$(seen_from 1 1 "${POD_IP[2.1]}")"

# Tampering: the chain flushed, then the POSTROUTING jump deleted.
host_exec 1 iptables -t nat -F FLANNEL-POSTRTG
t=$(time_until 5 eval "[ \"\$(host_exec 1 iptables -t nat -S)\" = \"\$(golden_nat 10.244.0.0/16 $(subnet_net 1))\" ]")
tap_ok "flushed FLANNEL-POSTRTG restored within the resync period ($t ms)" test "$t" != timeout
tap_ok "a log line names what was restored" grep -q "restored: .*FLANNEL-POSTRTG" "$RUN_DIR/h1.log"
host_exec 1 iptables -t nat -D POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
t=$(time_until 5 eval "host_exec 1 iptables -t nat -S POSTROUTING | grep -q FLANNEL-POSTRTG")
tap_ok "deleted POSTROUTING jump restored ($t ms)" test "$t" != timeout

# /metrics: valid Prometheus text; the peer count equals the other hosts.
host_exec 1 curl -s http://127.0.0.1:8082/metrics >"$RUN_DIR/metrics.txt"
tap_ok "/metrics parses as Prometheus text" python3 tests/netns/prom_check.py "$RUN_DIR/metrics.txt"
tap_eq "weft_peers_known equals the other hosts" 1 "$(awk '$1 == "weft_peers_known" {print $2}' "$RUN_DIR/metrics.txt")"
tap_eq "weft_peers_programmed equals the other hosts" 1 "$(awk '$1 == "weft_peers_programmed" {print $2}' "$RUN_DIR/metrics.txt")"
tap_ok "rule re-applications are counted" \
	eval "awk '\$1 == \"weft_rules_reapplied_total\" && \$2 >= 2' $RUN_DIR/metrics.txt | grep -q ."
cp "$RUN_DIR/metrics.txt" "$RUN_DIR/metrics-sample.txt"
status=$(host_exec 1 curl -s http://127.0.0.1:8082/status)
tap_eq "/status: ready, subnet, backend, peers" "True $(subnet_net 1) vxlan 1" \
	"$(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["ready"], j["subnet"], j["backend"], j["peers_known"])' "$status")"

# SIGTERM: exit 0; lease, routes and rules stay.
key=$(lease_key 1)
weftd_host_stop 1
tap_eq "SIGTERM: exit 0" 0 "$?"
tap_ok "SIGTERM: lease still in etcd" test -n "$(etcd_get "$key")"
tap_ok "SIGTERM: route to h2 still in place" eval "host_exec 1 ip route show proto 151 | grep -q flannel.1"
tap_eq "SIGTERM: rules still in place" "$(golden_nat 10.244.0.0/16 "$(subnet_net 1)")" "$(host_exec 1 iptables -t nat -S)"

# Without --ip-masq the outside sees the pod address, and our nat chain is gone.
weftd_host_start 1 "${ARGS[@]}"
wait_until 20 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h1.log") -ge 2 ]'
tap_eq "no --ip-masq: the outside sees the pod address" "${POD_IP[1.1]}" "$(seen_from 1 1 "$OUT_IP")"
tap_lacks "no --ip-masq: FLANNEL-POSTRTG removed" FLANNEL '^-P POSTROUTING ' host_exec 1 iptables -t nat -S
tap_eq "no --ip-masq: forward rules kept" "$(golden_filter 10.244.0.0/16)" "$(host_exec 1 iptables -S)"
weftd_host_stop 1

# A network change between runs: the old rules go, the new ones come.
net_config '{"Network":"10.245.0.0/16","Backend":{"Type":"vxlan"}}'
weftd_host_start 1 "${ARGS[@]}" --ip-masq
wait_until 20 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h1.log") -ge 3 ]'
new_pod=$(subnet_net 1)
tap_ok "new network: new subnet $new_pod" eval "[[ $new_pod == 10.245.* ]]"
tap_eq "new network: nat rules are the new golden set" "$(golden_nat 10.245.0.0/16 "$new_pod")" \
	"$(host_exec 1 iptables -t nat -S)"
tap_eq "new network: forward rules are the new golden set" "$(golden_filter 10.245.0.0/16)" \
	"$(host_exec 1 iptables -S)"
weftd_host_stop 1

# nftables mode: the golden table, restored when deleted; iptables leftovers removed.
net_config '{"Network":"10.245.0.0/16","EnableNFTables":true,"Backend":{"Type":"vxlan"}}'
weftd_host_start 1 "${ARGS[@]}" --ip-masq
wait_until 20 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h1.log") -ge 4 ]'
pod=$(subnet_net 1)
tap_eq "nftables: nft list table ip flannel-ipv4 is the golden table" "$(golden_nft ip 10.245.0.0/16 "$pod")" \
	"$(host_exec 1 nft list table ip flannel-ipv4)"
tap_lacks "nftables: iptables chains of iptables mode removed" FLANNEL '^:FORWARD ' \
	host_exec 1 iptables-save
host_exec 1 nft delete table ip flannel-ipv4
t=$(time_until 5 eval "[ \"\$(host_exec 1 nft list table ip flannel-ipv4 2>/dev/null)\" = \"\$(golden_nft ip 10.245.0.0/16 $pod)\" ]")
tap_ok "nftables: deleted table restored within the resync period ($t ms)" test "$t" != timeout
tap_ok "nftables: a log line names it" grep -q "restored: .*flannel-ipv4" "$RUN_DIR/h1.log"
weftd_host_stop 1
tap_eq "nftables: SIGTERM exit 0" 0 "$?"
weftd_host_stop 2
tap_done
