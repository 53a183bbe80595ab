#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# contrib/prometheus: the scrape configuration and the alert rules pass
# promtool (check config, check rules, and the rules' unit tests in
# weft-alerts.test.yml), and every weft_* metric the rules name is served by a
# live weftd's /metrics. The weftd runs the udp backend (weft_udp_drops_total
# exists only there) in a netns host of tests/netns/lib.sh against a real etcd.
# promtool runs in a network namespace of its own (unshare -n): it cannot
# reach any network. Skipped, with the reason, without promtool (Debian:
# prometheus) or without root.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
. tests/lib/common.sh
. tests/lib/etcd.sh

D=contrib/prometheus
RULES=$D/weft-alerts.yml

if ! command -v promtool >/dev/null; then
	tap_skip "prometheus rules and scrape configuration" \
		"promtool not installed (Debian package prometheus; scripts/deps.sh installs it)"
	tap_done
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null; then
	tap_skip "prometheus rules and scrape configuration" \
		"needs root: promtool runs in a network namespace of its own, weftd in a netns host"
	tap_done
	exit 0
fi
echo "# $(promtool --version 2>&1 | head -1)"

# promtool without any network: a namespace with only a loopback that is down.
pt() { unshare -n promtool "$@"; }

tap_eq "the namespace promtool runs in has no network: only a loopback, down" "lo DOWN" \
	"$(unshare -n ip -br link | awk '{print $1, $2}')"
tap_ok "promtool check config $D/prometheus.yml (and its rule file)" pt check config "$D/prometheus.yml"
tap_ok "promtool check rules $RULES" pt check rules "$RULES"
tap_ok "promtool test rules $D/weft-alerts.test.yml: each alert fires on its failure, none on a healthy node" \
	pt test rules "$D/weft-alerts.test.yml"

# The checks can fail: a broken expression and an alert test that expects
# the wrong thing are refused.
sed 's/expr: weft_ready == 0/expr: weft_ready ==/' "$RULES" >"$RUN_DIR/bad-rules.yml"
tap_fail_with "promtool refuses a rule with a broken expression" 1 'parse error|unexpected' \
	pt check rules "$RUN_DIR/bad-rules.yml"
cp "$RULES" "$RUN_DIR/weft-alerts.yml"
sed 's/exp_labels: { severity: critical, job: weft, instance: "n2:8082" }/exp_labels: { severity: warning, job: weft, instance: "n2:8082" }/' \
	"$D/weft-alerts.test.yml" >"$RUN_DIR/bad.test.yml"
tap_fail_with "promtool test rules fails when an alert's labels differ" 1 'FAILED' \
	pt test rules "$RUN_DIR/bad.test.yml"

# The metric names the rules use (Prometheus' own "up" aside).
mapfile -t names < <(grep -v '^ *#' "$RULES" | grep -oE '\bweft_[a-z0-9_]+' | sort -u)
tap_ok "the rules name at least 10 weft metrics (${#names[@]})" test "${#names[@]}" -ge 10

# A live weftd: udp backend, metrics listener on its netns host's loopback.
. tests/netns/lib.sh
cluster_init >/dev/null || {
	tap_not_ok "cluster up"
	tap_done
	exit 1
}
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}'
host_add 1
weftd_host_start 1 --iface eth0 --metrics-port 8082
host_held 1 || {
	tap_not_ok "weftd holds a lease" "$(tail -5 "$RUN_DIR/h1.log")"
	tap_done
	exit 1
}
M=$RUN_DIR/metrics.txt
fetch() { host_exec 1 curl -sf http://127.0.0.1:8082/metrics >"$M"; }
# weft_ready turns 1 once the subnet file is written; the lease line comes then.
# shellcheck disable=SC2016 # expanded by eval
tap_ok "weftd serves /metrics, ready" wait_until 20 eval 'fetch && grep -q "^weft_ready 1$" "$M"'
tap_ok "/metrics parses as Prometheus text" python3 tests/netns/prom_check.py "$M"
for n in "${names[@]}"; do
	tap_ok "$n is in a live weftd's /metrics" grep -qE "^$n(\{| )" "$M"
done
grep -E '^weft_udp_drops_total' "$M" | sed 's/^/#   /'
weftd_host_stop 1
tap_done
