#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 20 daemons started at once against a real etcd, in a network with only 31
# subnets (so creation races happen): 20 distinct subnets, every daemon running.
# Then the peer-view latency of lease events across all 20 is measured and
# printed (not asserted: figures only).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

N=20
P=/coreos.com/network
etcd_start || exit 1
etcd_put $P/config '{"Network":"10.6.0.0/19","Backend":{"Type":"alloc"}}'

for i in $(seq 1 $N); do
	weftd_start "d$i" "127.0.1.$i"
done
held=0
for i in $(seq 1 $N); do
	weftd_wait_held "d$i" && held=$((held + 1))
done
tap_eq "all $N daemons hold a lease" $N $held
subnets=$(for i in $(seq 1 $N); do weftd_subnet "d$i"; done | sort -u | grep -c .)
tap_eq "$N distinct subnets in the subnet files" $N "$subnets"
tap_eq "$N keys in etcd" $N "$(etcd_lease_names | grep -c .)"
ok=0
for i in $(seq 1 $N); do
	key=$P/subnets/$(weftd_subnet "d$i" | sed 's|\.1/|.0-|')
	[ "$(etcd_get "$key")" = "{\"PublicIP\":\"127.0.1.$i\",\"PublicIPv6\":null}" ] && ok=$((ok + 1))
done
tap_eq "every key carries its daemon's public address" $N $ok
alive=0
for i in $(seq 1 $N); do bg_alive "d$i" && alive=$((alive + 1)); done
tap_eq "every daemon is still running" $N $alive
races=$(cat "$RUN_DIR"/d*.log | grep -c "taken by another node meanwhile")
echo "# creation races lost and retried: $races"
views=0
for i in $(seq 1 $N); do
	[ "$(weftd_peer_view "d$i" | wc -w)" -eq $((N - 1)) ] && views=$((views + 1))
done
tap_eq "every daemon sees the $((N - 1)) others" $N $views

# Latency from a put/delete (through the JSON gateway, timestamped just before)
# to the log line of the LAST of the 20 daemons to see it.
log_ns() { date -d "$1" +%s%N; }
gw() { curl -s -X POST "$ETCD_ENDPOINT/v3/kv/$1" -d "$2" >/dev/null; }
b64() { printf '%s' "$1" | base64 -w0; }
lat_add=() lat_del=()
measure() { # KIND KEYNAME T0 -> prints latency in us of the slowest daemon, or "miss"
	local kind=$1 name=$2 t0=$3 worst=0 i line t
	for i in $(seq 1 $N); do
		wait_until 5 grep -qE "peer $kind: $name( |$)" "$RUN_DIR/d$i.log" || { echo miss; return; }
		line=$(grep -E "peer $kind: $name( |$)" "$RUN_DIR/d$i.log" | tail -1)
		t=$(log_ns "${line%% *}")
		[ $((t - t0)) -gt $worst ] && worst=$((t - t0))
	done
	echo $((worst / 1000))
}
# The measured leases are free subnets of the Network: weftd refuses a peer
# outside it (or over its own subnet), and such a lease would never be seen.
taken=" $(etcd_lease_names | tr '\n' ' ') "
free=()
for x in $(seq 1 31); do
	case "$taken" in *" 10.6.$x.0-24 "*) ;; *) free+=("10.6.$x.0-24") ;; esac
done
tap_ok "free subnets left for the measurement (${#free[@]})" test ${#free[@]} -gt 0
[ ${#free[@]} -gt 0 ] || free=(none-free)
misses=0
for k in $(seq 1 20); do
	name=${free[$((k % ${#free[@]}))]}
	t0=$(date +%s%N)
	gw put "{\"key\":\"$(b64 $P/subnets/$name)\",\"value\":\"$(b64 '{"PublicIP":"127.0.2.1","PublicIPv6":null}')\"}"
	r=$(measure added "$name" "$t0")
	[ "$r" = miss ] && misses=$((misses + 1)) || lat_add+=("$r")
	t0=$(date +%s%N)
	gw deleterange "{\"key\":\"$(b64 $P/subnets/$name)\"}"
	r=$(measure removed "$name" "$t0")
	[ "$r" = miss ] && misses=$((misses + 1)) || lat_del+=("$r")
done
tap_eq "all 20 daemons saw all 40 events" 0 $misses
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, max %.1f ms (n=%d)", a[int((NR+1)/2)]/1000, a[NR]/1000, NR}'; }
echo "# peer-view latency, put -> last of $N daemons: $(stats "${lat_add[@]}")"
echo "# peer-view latency, delete -> last of $N daemons: $(stats "${lat_del[@]}")"

for i in $(seq 1 $N); do stop_bg "d$i"; done
tap_done
