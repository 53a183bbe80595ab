#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The udp backend's data-path counters and active fast-path features on
# /metrics: valid Prometheus text, traffic counted in both directions.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

HOSTS=2 PODS=1
cluster_init >/dev/null || { tap_ok "cluster up" false; tap_done; exit 1; }
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}'
for n in 1 2; do
	host_add "$n"
	weftd_host_start "$n" --iface eth0 --metrics-port 8082
done
for n in 1 2; do host_held "$n" || { tap_ok "h$n holds a lease" false; tap_done; exit 1; }; done
for n in 1 2; do pod_add "$n" 1 >/dev/null; done
tap_ok "pod 1.1 reaches pod 2.1 over udp" wait_until 5 pod_ping 1 1 "${POD_IP[2.1]}"
host_exec 1 curl -s http://127.0.0.1:8082/metrics >"$RUN_DIR/m.txt"
tap_ok "/metrics parses as Prometheus text" python3 tests/netns/prom_check.py "$RUN_DIR/m.txt"
val() { awk -v k="$1" '$1 == k {print $2}' "$RUN_DIR/m.txt"; }
tap_ok "tx packets counted" test "$(val 'weft_udp_packets_total{direction="tx"}')" -ge 1
tap_ok "rx packets counted" test "$(val 'weft_udp_packets_total{direction="rx"}')" -ge 1
tap_ok "tx bytes counted" test "$(val 'weft_udp_bytes_total{direction="tx"}')" -ge 84
tap_eq "drop reasons exported" 9 "$(grep -c '^weft_udp_drops_total{' "$RUN_DIR/m.txt")"
tap_eq "inner destinations outside our subnet are a drop reason" 0 \
	"$(val 'weft_udp_drops_total{reason="foreign_destination"}')"
tap_eq "the virtio-header fast path is reported active" 1 "$(val 'weft_udp_fastpath_feature{feature="vnet"}')"
for n in 1 2; do weftd_host_stop "$n"; done
tap_done
