#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# weft's userspace WireGuard against an independent implementation: h1 and
# h2 run weftd (wireguard backend), h3 runs no weft at all, only Debian's
# wireguard-go configured with wg(8) from the weft hosts' leases, and its own
# lease written in upstream flannel's exact JSON (what a flannel node on the
# kernel module writes). Handshakes both ways (weftd initiating, and
# wireguard-go initiating to h2 after it forgot h2), traffic both ways, and a continuous ping
# across rekeys (weftd started with WEFT_WG_TEST_REKEY_MS: its sessions are
# renewed every few seconds instead of every 2 minutes).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/wg_go.sh
. tests/netns/wg_lib.sh

HOSTS=2
export WEFT_WG_TEST_REKEY_MS=4000

cluster_up '{"Type":"wireguard"}' || { tap_ok "cluster up" false; tap_done; exit 1; }

# h3: wireguard-go, as an upstream flannel node's data path would be.
G_SUBNET=10.244.200.0/24 G_POD=10.244.200.10
host_add 3
wg_go_start g "$(host_ns 3)" wg0 # (not inside tap_ok: a subshell would lose its pid)
tap_ok "h3: wireguard-go up (its own mount namespace)" bg_alive wg-g
gpub=$(wg_go_keys g)
wg_go_wg g set wg0 private-key "$RUN_DIR/wg-g.key" listen-port 51820
for n in 1 2; do
	wg_go_wg g set wg0 peer "$(pubkey_of "$n")" endpoint "$(host_ip "$n"):51820" \
		allowed-ips "$(subnet_net "$n")"
done
host_exec 3 ip addr add 10.244.200.0/32 dev wg0
host_exec 3 ip link set wg0 mtu 1420 up
host_exec 3 ip route add 10.244.0.0/16 dev wg0
host_exec 3 ip addr add $G_POD/32 dev lo # the "pod" (no dummy module here)
# The lease an upstream flannel node writes, byte for byte.
etcd_put "$P/subnets/10.244.200.0-24" \
	"{\"PublicIP\":\"$(host_ip 3)\",\"PublicIPv6\":null,\"BackendType\":\"wireguard\",\"BackendData\":{\"PublicKey\":\"$gpub\",\"Port\":51820}}"
for n in 1 2; do
	tap_ok "h$n: wireguard-go's lease became a peer" \
		wait_until 5 eval "host_wg $n show flannel-wg peers | grep -qF '$gpub'"
	tap_eq "h$n: its endpoint and allowed IPs" "$(host_ip 3):51820 $G_SUBNET" \
		"$(host_wg "$n" show flannel-wg endpoints | awk -v k="$gpub" '$1 == k {print $2}') $(host_wg "$n" show flannel-wg allowed-ips | awk -v k="$gpub" '$1 == k {print $2}')"
done

# weftd initiates (at once, for a new peer with an endpoint) ...
tap_ok "pod 1.1 -> wireguard-go host (h1 initiated)" wait_until 10 pod_ping 1 1 $G_POD
tap_ok "wireguard-go -> pod 2.1 (h2 initiated)" wait_until 10 host_exec 3 ping -c 1 -W 1 -I $G_POD "${POD_IP[2.1]}"
# ... and answers wireguard-go's initiation: h2 forgotten and re-added on
# wireguard-go, whose next packet to h2 then starts a handshake.
wg_go_wg g set wg0 peer "$(pubkey_of 2)" remove
wg_go_wg g set wg0 peer "$(pubkey_of 2)" endpoint "$(host_ip 2):51820" allowed-ips "$(subnet_net 2)"
hs0=$(counter 2 handshake_received)
tap_ok "wireguard-go -> pod 2.2 (wireguard-go initiates)" wait_until 10 host_exec 3 ping -c 1 -W 1 -I $G_POD "${POD_IP[2.2]}"
tap_ok "h2 consumed wireguard-go's initiation" test "$(counter 2 handshake_received)" -gt "$hs0"
tap_ok "pod 2.2 -> wireguard-go host" pod_ping 2 2 $G_POD
tap_ok "wireguard-go -> pod 1.2" host_exec 3 ping -c 1 -W 1 -I $G_POD "${POD_IP[1.2]}"
tap_ok "wg show on wireguard-go: a handshake with both weft hosts" \
	eval "[ \$(wg_go_wg g show wg0 latest-handshakes | awk '\$2 > 0' | wc -l) = 2 ]"
tap_ok "TCP through both implementations: 2 MB pod 1.1 -> wireguard-go host" eval "
	run_bg nc-g ip netns exec $(host_ns 3) python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"$G_POD\", 7000)); s.listen(1); c, _ = s.accept(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    n += len(b)
print(\"got\", n)'
	wait_until 5 eval \"host_exec 3 ss -Hltn 'sport = :7000' | grep -q .\"
	pod_exec 1 1 python3 -c 'import socket; s = socket.create_connection((\"$G_POD\", 7000)); s.sendall(b\"x\" * 2000000); s.close()'
	wait_until 5 grep -q 'got 2000000' '$RUN_DIR/nc-g.log'"

# Rekeys: h1 renews its session with wireguard-go every 4 s while pod 1.1
# pings it every 50 ms for 14 s.
hs0=$(counter 1 handshake_done)
pod_exec 1 1 ping -i 0.05 -c 280 -W 1 $G_POD >"$RUN_DIR/rekey-ping.out" 2>&1
hs1=$(counter 1 handshake_done)
out=$(grep -o '[0-9]* packets transmitted, [0-9]* received' "$RUN_DIR/rekey-ping.out")
echo "# rekey: $out; h1 completed $((hs1 - hs0)) handshakes meanwhile"
tap_ok "rekey: h1 made at least 2 new sessions during the ping ($((hs1 - hs0)))" test $((hs1 - hs0)) -ge 2
tap_ok "rekey: no more than 1 of 280 pings lost ($out)" test "$(awk '{print $1 - $4}' <<<"$out")" -le 1
tap_ok "rekey: wireguard-go -> pod 1.1 still works" host_exec 3 ping -c 1 -W 1 -I $G_POD "${POD_IP[1.1]}"
tap_ok "rekey: h1 logs the test knob" grep -q "test knob WEFT_WG_TEST_REKEY_MS=4000 in effect" "$RUN_DIR/h1.log"

# The wireguard-go node leaves: its peer goes.
etcd_del "$P/subnets/10.244.200.0-24"
for n in 1 2; do
	tap_ok "h$n: wireguard-go's peer removed with its lease" \
		wait_until 3 eval "! host_wg $n show flannel-wg peers | grep -qF '$gpub'"
done
tap_done
