#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# weftd's two HTTP listeners, seen from inside and outside the host:
#  - the health listener (--healthz-ip 0.0.0.0 by default, --healthz-port) serves
#    /healthz and /readyz as flanneld does, and nothing else: /metrics and
#    /status (node addresses, subnet, version) are 404 there;
#  - /metrics and /status have their own listener (--metrics-port), bound to
#    127.0.0.1 unless --metrics-ip says otherwise: another host cannot reach it;
#  - without --metrics-port nothing but the health port listens.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh

cluster_init >/dev/null || { tap_ok "cluster up" false; tap_done; exit 1; }
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}'
for n in 1 2; do host_add "$n"; done
H1=$(host_ip 1)

# get N URL: "<HTTP code> <body>" as host N sees it; curl's exit status on failure.
get() {
	local out rc
	out=$(host_exec "$1" curl -sS --max-time 3 -w ' %{http_code}' "$2" 2>/dev/null) && rc=0 || rc=$?
	[ "$rc" = 0 ] || { echo "curl-exit-$rc"; return; }
	echo "${out##* } ${out% *}"
}
# held K: h1's K-th run holds its lease (the log is appended to across runs).
held() { wait_until 20 eval "[ \$(grep -c 'held; wrote' $RUN_DIR/h1.log) -ge $1 ]"; }
# TCP listeners of host N: "address:port" lines, sorted.
listeners() {
	host_exec "$1" ss -Hltn | awk '{print $4}' | sort
}

# 1. The health port alone (what flanneld offers): /healthz and /readyz only.
weftd_host_start 1 --iface eth0 --healthz-port 8081
held 1 || { tap_ok "h1 holds a lease" false; tap_done; exit 1; }
tap_eq "health port: /healthz answers (from the host)" "200 flanneld is running" \
	"$(get 1 http://127.0.0.1:8081/healthz)"
tap_eq "health port: /readyz answers" "200 flanneld is ready" "$(get 1 http://127.0.0.1:8081/readyz)"
tap_eq "health port: /healthz answers another host, on all addresses as upstream" \
	"200 flanneld is running" "$(get 2 "http://$H1:8081/healthz")"
tap_eq "health port: /metrics is not there (404)" "404 404 page not found" \
	"$(get 1 http://127.0.0.1:8081/metrics)"
tap_eq "health port: /status is not there (404)" "404 404 page not found" \
	"$(get 1 http://127.0.0.1:8081/status)"
tap_eq "health port: /status is not there for another host either" "404 404 page not found" \
	"$(get 2 "http://$H1:8081/status")"
tap_eq "no --metrics-port: only the health port listens" "0.0.0.0:8081" "$(listeners 1)"
weftd_host_stop 1
tap_eq "SIGTERM: exit 0" 0 "$?"

# 2. --metrics-port with the default address: 127.0.0.1 only.
weftd_host_start 1 --iface eth0 --healthz-port 8081 --metrics-port 8082
held 2 || { tap_ok "h1 holds a lease again" false; tap_done; exit 1; }
tap_ok "log names both listeners" eval "grep -q 'serving /healthz and /readyz on 0.0.0.0:8081' $RUN_DIR/h1.log &&
	grep -q 'serving /metrics and /status on 127.0.0.1:8082' $RUN_DIR/h1.log"
tap_eq "metrics listener is bound to 127.0.0.1 by default (ss)" \
	"0.0.0.0:8081
127.0.0.1:8082" "$(listeners 1)"
host_exec 1 curl -sS --max-time 3 http://127.0.0.1:8082/metrics >"$RUN_DIR/metrics.txt"
tap_ok "metrics port: /metrics is Prometheus text" python3 tests/netns/prom_check.py "$RUN_DIR/metrics.txt"
tap_eq "metrics port: /metrics has weft_ready 1" 1 \
	"$(awk '$1 == "weft_ready" {print $2}' "$RUN_DIR/metrics.txt")"
status=$(host_exec 1 curl -sS --max-time 3 http://127.0.0.1:8082/status)
tap_eq "metrics port: /status says ready, with our subnet" "True $(host_env 1 FLANNEL_SUBNET | sed 's/\.1\//.0\//')" \
	"$(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["ready"], j["subnet"])' "$status")"
tap_eq "metrics port: /healthz is not there (404)" "404 404 page not found" \
	"$(get 1 http://127.0.0.1:8082/healthz)"
tap_eq "health port: /metrics still 404 with a metrics listener" "404 404 page not found" \
	"$(get 1 http://127.0.0.1:8081/metrics)"
# Positive probe from h2 first (h1's health port), then the metrics port: refused.
tap_eq "another host reaches the health port" "200 flanneld is running" \
	"$(get 2 "http://$H1:8081/healthz")"
tap_eq "another host cannot reach the metrics port (connection refused: curl exit 7)" \
	"curl-exit-7" "$(get 2 "http://$H1:8082/metrics")"
weftd_host_stop 1
tap_eq "SIGTERM: exit 0" 0 "$?"

# 3. --metrics-ip set to the node address (a Prometheus scrape from outside).
weftd_host_start 1 --iface eth0 --healthz-port 8081 --healthz-ip 127.0.0.1 \
	--metrics-ip "$H1" --metrics-port 8082
held 3 || { tap_ok "h1 holds a lease a third time" false; tap_done; exit 1; }
tap_eq "--healthz-ip/--metrics-ip are honoured (ss)" "$H1:8082
127.0.0.1:8081" "$(listeners 1)"
tap_eq "another host scrapes /metrics on the node address" 200 \
	"$(get 2 "http://$H1:8082/metrics" | head -c 3)"
tap_eq "... and the health port is now local only (curl exit 7)" "curl-exit-7" \
	"$(get 2 "http://$H1:8081/healthz")"
weftd_host_stop 1
tap_eq "SIGTERM: exit 0" 0 "$?"

# 4. The same port for both is refused before anything listens.
weftd_host_start 1 --iface eth0 --healthz-port 8081 --metrics-port 8081
wait_bg h1 10
tap_eq "--metrics-port = --healthz-port: exit 1" 1 "$?"
tap_ok "... saying why" grep -q "flag -metrics-port 8081 (on the command line) equals -healthz-port" \
	"$RUN_DIR/h1.log"
tap_done
