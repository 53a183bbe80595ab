#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Control plane at scale: one host namespace running weftd (vxlan) against an
# etcd holding N other leases (distinct MACs and public IPs), written through
# the JSON gateway. Prints, one line per figure:
#   - time from weftd's start until all N peers are programmed (read from the
#     kernel: routes of ours, permanent neighbours and FDB entries on flannel.1)
#   - VmRSS and RssAnon after that
#   - a new lease's put to its route appearing (ip -ts monitor route; 20 samples)
#   - the cost of one full reconcile (weftd's own debug line)
#   - CPU used while idle for 10 s
# If FLANNELD=/path/to/flanneld is set, the same is measured for it and ratios
# are printed. A benchmark: it prints figures, it asserts nothing.
#
#   bench/scale.sh [N...]          default: 1000 5000 20000
set -u
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/scale.sh: needs root (network namespaces)" >&2; exit 1; }
export WEFT_BUILD=${WEFT_BUILD:-build}
[ -x "$WEFT_BUILD/weftd" ] || make -s all >/dev/null
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 5000 20000)

run_one() { # N DAEMON(weft|flannel) -> figure lines
	(
		N=$1 which=$2
		NS=ws$$${which:0:1}$N
		. tests/lib/common.sh
		. tests/lib/etcd.sh
		. tests/lib/tap.sh
		. tests/netns/lib.sh
		cluster_init >/dev/null || exit 1
		host_add 1
		net_config '{"Network":"10.0.0.0/8","Backend":{"Type":"vxlan"}}'
		# N leases in transactions of 100 puts through the gateway.
		# Inside the underlay namespace: that is where etcd's address is.
		ip netns exec "$UL" python3 - "$ETCD_ENDPOINT" "$N" <<'PY' || exit 1
import base64, http.client, json, sys, urllib.parse
ep, n = sys.argv[1], int(sys.argv[2])
u = urllib.parse.urlparse(ep)
c = http.client.HTTPConnection(u.hostname, u.port)
b64 = lambda s: base64.b64encode(s.encode()).decode()
ops = []
def flush():
    global ops
    if not ops:
        return
    c.request("POST", "/v3/kv/txn", json.dumps({"success": ops}))
    r = c.getresponse(); r.read()
    if r.status != 200:
        sys.exit("txn failed: %d" % r.status)
    ops = []
for i in range(n):
    a, b = 1 + i // 256, i % 256
    key = "/coreos.com/network/subnets/10.%d.%d.0-24" % (a, b)
    mac = "0e:2a:%02x:%02x:%02x:01" % (a >> 8, a & 255, b)
    pub = "172.16.%d.%d" % (1 + i // 250, 1 + i % 250)
    val = '{"PublicIP":"%s","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"%s"}}' % (pub, mac)
    ops.append({"request_put": {"key": b64(key), "value": b64(val)}})
    if len(ops) == 100:
        flush()
flush()
PY
		count() {
			local r nb f
			r=$(host_exec 1 ip route show proto 151 | grep -c .)
			nb=$(host_exec 1 ip neigh show dev flannel.1 nud permanent 2>/dev/null | grep -c .)
			f=$(host_exec 1 bridge fdb show dev flannel.1 2>/dev/null | grep -c ' dst ')
			[ "$r" -ge "$N" ] && [ "$nb" -ge "$N" ] && [ "$f" -ge "$N" ]
		}
		t0=$(now_ms)
		if [ "$which" = weft ]; then
			run_bg d ip netns exec "$(host_ns 1)" ${WRAP:-} "$WEFT_BUILD/weftd" -v=1 \
				--etcd-endpoints "$ETCD_ENDPOINT" --subnet-file "$RUN_DIR/h1.env" --iface eth0
		else
			run_bg d ip netns exec "$(host_ns 1)" "$FLANNELD" \
				--etcd-endpoints "$ETCD_ENDPOINT" --subnet-file "$RUN_DIR/h1.env" --iface eth0
		fi
		if wait_until 600 count; then
			echo "programmed_seconds $(awk -v ms=$(($(now_ms) - t0)) 'BEGIN{printf "%.3f", ms/1000}')"
		else
			echo "programmed_seconds timeout"
		fi
		pid=$(bg_pid d)
		echo "vmrss_kb $(awk '/^VmRSS/ {print $2}' /proc/$pid/status)"
		echo "rssanon_kb $(awk '/^RssAnon/ {print $2}' /proc/$pid/status)"
		if [ -n "${SMAPS:-}" ]; then # where the resident memory is, largest first
			awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6)} /^Rss:/ {rss[name] += $2}
				END {for (n in rss) if (rss[n] >= 64) printf "  smaps %6d kB %s\n", rss[n], n}' \
				/proc/$pid/smaps | sort -k2 -nr | head -25
		fi

		# New lease -> route: ip -ts monitor timestamps against the put's time.
		host_exec 1 ip -ts monitor route >"$RUN_DIR/mon.txt" 2>&1 &
		mon=$!
		wait_until 5 test -e "$RUN_DIR/mon.txt"
		# One client process makes the 20 puts (keep-alive), stamping the wall
		# clock right before each request; 300 ms apart so that each route
		# appears before the next put.
		ip netns exec "$UL" python3 - "$ETCD_ENDPOINT" >"$RUN_DIR/puts.txt" <<'PY'
import base64, http.client, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
b64 = lambda s: base64.b64encode(s.encode()).decode()
for k in range(1, 21):
    key = b64("/coreos.com/network/subnets/10.250.%d.0-24" % k)
    val = b64('{"PublicIP":"172.31.0.%d","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0e:2b:00:00:00:%02x"}}' % (k, k))
    body = '{"key":"%s","value":"%s"}' % (key, val)
    t = time.time_ns()
    c.request("POST", "/v3/kv/put", body)
    c.getresponse().read()
    print(k, t, flush=True)
    time.sleep(0.3)
PY
		lat=()
		while read -r k t_put; do
			if wait_until 5 grep -q "10.250.$k.0/24 " "$RUN_DIR/mon.txt"; then
				ts=$(grep "10.250.$k.0/24 " "$RUN_DIR/mon.txt" | head -1 | sed 's/^\[\([^]]*\)\].*/\1/')
				lat+=($(( ($(date -d "$ts" +%s%N) - t_put) / 1000 )))
			fi
		done <"$RUN_DIR/puts.txt"
		kill "$mon" 2>/dev/null
		wait "$mon" 2>/dev/null
		printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {if (NR) printf "new_lease_route_ms median %.2f max %.2f (n=%d)\n", a[int((NR+1)/2)]/1000, a[NR]/1000, NR; else print "new_lease_route_ms none"}'

		# Idle CPU over 10 s, and one periodic full reconcile's cost (weft only).
		cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
		sleep 10
		cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
		echo "idle_cpu_percent $(awk -v d=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", d / hz / 10 * 100}')"
		if [ "$which" = weft ]; then
			line=$(grep 'reconcile took' "$RUN_DIR/d.log" | tail -1)
			echo "full_reconcile ${line#*reconcile took }"
		fi
	)
}

for n in "${SIZES[@]}"; do
	echo "== N=$n weft"
	run_one "$n" weft
	if [ -n "${FLANNELD:-}" ]; then
		echo "== N=$n flanneld ($FLANNELD)"
		run_one "$n" flannel
	fi
done
