#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Control plane at scale: one host namespace running weftd (vxlan, or host-gw
# with BACKEND=host-gw) against an etcd holding N other leases (distinct MACs
# and public IPs), written through the JSON gateway. Prints, one line per figure:
#   - time from weftd's start until all N peers are programmed (read from the
#     kernel: onlink routes, permanent neighbours and FDB entries on flannel.1;
#     for host-gw the routes via the peers' public IPs)
#   - VmRSS and RssAnon after that
#   - a new lease's put to its route appearing (ip -ts monitor route; 20 samples),
#     and how long etcd took to acknowledge those puts (etcd's data is on tmpfs
#     unless ETCD_ON_DISK=1, so that this is not mostly the disk's fsync)
#   - the cost of one full reconcile (weftd's own debug line)
#   - CPU used while idle (IDLE_SECONDS, default 30)
# If FLANNELD=/path/to/flanneld is set, the same is measured for it and ratios
# are printed. A benchmark: it prints figures, it asserts nothing.
#
#   bench/scale.sh [N...]          default: 1000 5000 20000
#   SMAPS=1      also where the resident memory is (per mapping)
#   WRAP="..."   run weftd under a tool (perf record ...; RSS is then the tool's)
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
		# etcd's data on tmpfs unless ETCD_ON_DISK=1: the new-lease figure should
		# show the daemon's share, not the disk's fsync (printed as etcd_put_ack).
		if [ "${ETCD_ON_DISK:-0}" != 1 ]; then
			ETCD_DIR=$(mktemp -d /dev/shm/weft-bench-etcd.XXXXXX) || exit 1
			on_cleanup "rm -rf '$ETCD_DIR'"
		fi
		cluster_init >/dev/null || exit 1
		host_add 1
		backend=${BACKEND:-vxlan}
		net_config '{"Network":"10.0.0.0/8","Backend":{"Type":"'"$backend"'"}}'
		# host-gw routes need their gateways on our L2: the peers' public
		# addresses (172.16.0.0/12) are made on-link.
		[ "$backend" = host-gw ] && ip -n "$(host_ns 1)" addr add 172.16.0.254/12 dev eth0
		export LEASE_TYPE=$backend
		# N leases in transactions of 100 puts through the gateway, from
		# inside the underlay namespace: that is where etcd's address is.
		ip netns exec "$UL" python3 tests/netns/leases.py put "$ETCD_ENDPOINT" 0 "$N" || exit 1
		# Routes are programmed last (after their neighbours and FDB entries),
		# so they are polled alone, and the others counted once they are done.
		# (Any onlink route on flannel.1: flanneld's carry another protocol.)
		count() {
			if [ "$backend" = host-gw ]; then
				[ "$(host_exec 1 ip route show | grep -c 'via 172\.')" -ge "$N" ]
				return
			fi
			[ "$(host_exec 1 ip route show | grep -c 'dev flannel.1 .*onlink')" -ge "$N" ] || return 1
			[ "$(host_exec 1 ip neigh show dev flannel.1 nud permanent 2>/dev/null | grep -c .)" -ge "$N" ] &&
				[ "$(host_exec 1 bridge fdb show dev flannel.1 2>/dev/null | grep -c ' dst ')" -ge "$N" ]
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
import base64, http.client, os, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
b64 = lambda s: base64.b64encode(s.encode()).decode()
for k in range(1, 21):
    key = b64("/coreos.com/network/subnets/10.250.%d.0-24" % k)
    if os.environ.get("LEASE_TYPE") == "host-gw":
        val = b64('{"PublicIP":"172.31.0.%d","PublicIPv6":null,"BackendType":"host-gw"}' % k)
    else:
        val = b64('{"PublicIP":"172.31.0.%d","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0e:2b:00:00:00:%02x"}}' % (k, k))
    body = '{"key":"%s","value":"%s"}' % (key, val)
    t = time.time_ns()
    c.request("POST", "/v3/kv/put", body)
    c.getresponse().read()
    print(k, t, time.time_ns(), flush=True)
    time.sleep(0.3)
PY
		lat=() putlat=()
		while read -r k t_put t_ack; do
			putlat+=($(( (t_ack - t_put) / 1000 )))
			if wait_until 5 grep -q "10.250.$k.0/24 " "$RUN_DIR/mon.txt"; then
				ts=$(grep "10.250.$k.0/24 " "$RUN_DIR/mon.txt" | head -1 | sed 's/^\[\([^]]*\)\].*/\1/')
				lat+=($(( ($(date -d "$ts" +%s%N) - t_put) / 1000 )))
			fi
		done <"$RUN_DIR/puts.txt"
		kill "$mon" 2>/dev/null
		wait "$mon" 2>/dev/null
		printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {if (NR) printf "new_lease_route_ms median %.2f max %.2f (n=%d)\n", a[int((NR+1)/2)]/1000, a[NR]/1000, NR; else print "new_lease_route_ms none"}'
		# For scale: how long etcd itself took to answer each put (commit + fsync).
		printf '%s\n' "${putlat[@]}" | sort -n | awk '{a[NR]=$1} END {if (NR) printf "etcd_put_ack_ms median %.2f max %.2f (n=%d)\n", a[int((NR+1)/2)]/1000, a[NR]/1000, NR}'

		# Idle CPU over IDLE_SECONDS (default 30: three periodic reconciles),
		# and one periodic full reconcile's cost (weft only).
		idle=${IDLE_SECONDS:-30}
		cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
		sleep "$idle"
		cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
		echo "idle_cpu_percent $(awk -v d=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v s="$idle" 'BEGIN{printf "%.2f", d / hz / s * 100}') (over ${idle} s)"
		if [ "$which" = weft ]; then
			line=$(grep 'reconcile took' "$RUN_DIR/d.log" | tail -1)
			echo "full_reconcile ${line#*reconcile took }"
		fi
	)
}

# ratios WEFT_FIGURES FLANNELD_FIGURES: flanneld's figure over weft's, per line.
ratios() {
	awk 'function v() { return $2 == "median" ? $3 : $2 }
		NR == FNR { w[$1] = v(); if ($2 == "median") wmax[$1] = $5; next }
		$1 in w && w[$1] + 0 > 0 && v() ~ /^[0-9.]+$/ {
			printf "ratio %s flanneld/weft %.1f\n", $1 ($2 == "median" ? "_median" : ""), v() / w[$1]
			if ($2 == "median" && wmax[$1] + 0 > 0)
				printf "ratio %s_max flanneld/weft %.1f\n", $1, $5 / wmax[$1]
		}' "$1" "$2"
}

out=$(mktemp -d /tmp/weft-scale.XXXXXX)
trap 'rm -rf "$out"' EXIT
for n in "${SIZES[@]}"; do
	echo "== N=$n weft"
	run_one "$n" weft | tee "$out/weft-$n"
	if [ -n "${FLANNELD:-}" ]; then
		echo "== N=$n flanneld ($FLANNELD)"
		run_one "$n" flannel | tee "$out/flannel-$n"
		ratios "$out/weft-$n" "$out/flannel-$n"
	fi
done
