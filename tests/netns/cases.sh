# SPDX-License-Identifier: Apache-2.0
# Test cases shared by the netns scripts (backends, node rules, tool stalls).
# Requires lib.sh and a started cluster of HOSTS hosts with PODS pods each.

HOSTS=${HOSTS:-3}
PODS=${PODS:-2}

cluster_up() { # BACKEND_JSON [WEFTD_ARG...] (default: --iface eth0)
	local n backend=$1
	shift
	[ $# -gt 0 ] || set -- --iface eth0
	cluster_init || return 1
	net_config "{\"Network\":\"10.244.0.0/16\",\"Backend\":$backend}"
	for n in $(seq 1 "$HOSTS"); do
		host_add "$n"
		weftd_host_start "$n" "$@"
	done
	cluster_settle
}

# Every host holds its lease (else its log's tail and 1), then PODS pods each.
cluster_settle() {
	local n k
	for n in $(seq 1 "$HOSTS"); do
		host_held "$n" || { echo "# host $n has no lease:"; tail -5 "$RUN_DIR/h$n.log" | sed 's/^/#   /'; return 1; }
	done
	for n in $(seq 1 "$HOSTS"); do
		for k in $(seq 1 "$PODS"); do pod_add "$n" "$k" >/dev/null; done
	done
}

subnet_net() { host_env "$1" FLANNEL_SUBNET | sed 's|\.1/|.0/|'; } # 10.244.5.0/24
subnet_addr() { subnet_net "$1" | cut -d/ -f1; }                    # 10.244.5.0
lease_key() { echo "$P/subnets/$(subnet_net "$1" | tr / -)"; }
vtep_mac() { etcd_get "$(lease_key "$1")" | python3 -c 'import json,sys; print(json.load(sys.stdin)["BackendData"]["VtepMAC"])'; }

# The iptables rule sets weftd installs with --ip-masq (flannel spec 8.1, 8.2), as
# `iptables -t nat -S` and `iptables -S` print them in a host that has no others.
# IPv6 (upstream's masqIP6Rules): golden_nat CLUSTER6 POD6 ff00::/8.
golden_nat() { # CLUSTER POD [MULTICAST]
	cat <<EOF
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N FLANNEL-POSTRTG
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s $2 -d $1 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s $1 -d $2 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG ! -s $1 -d $2 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s $1 ! -d ${3:-224.0.0.0/4} -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
-A FLANNEL-POSTRTG ! -s $1 -d $1 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
EOF
}
golden_filter() { # CLUSTER
	cat <<EOF
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N FLANNEL-FWD
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
-A FLANNEL-FWD -s $1 -m comment --comment "flanneld forward" -j ACCEPT
-A FLANNEL-FWD -d $1 -m comment --comment "flanneld forward" -j ACCEPT
EOF
}
# The same in nftables mode, as `nft list table ip|ip6 flannel-ipv4|6` prints it.
golden_nft() { # ip|ip6 CLUSTER POD
	local f=$1 table=flannel-ipv4 mcast=224.0.0.0/4
	[ "$f" = ip6 ] && table=flannel-ipv6 mcast=ff00::/8
	cat <<EOF
table $f $table {
	comment "rules for $table"
	chain postrtg {
		comment "chain to manage traffic masquerading by flannel"
		type nat hook postrouting priority srcnat; policy accept;
		meta mark 0x00004000 return
		$f saddr $3 $f daddr $2 return
		$f saddr $2 $f daddr $3 return
		$f saddr != $3 $f daddr $2 return
		$f saddr $2 $f daddr != $mcast masquerade fully-random
		$f saddr != $2 $f daddr $2 masquerade fully-random
	}

	chain forward {
		comment "chain to accept flannel traffic"
		type filter hook forward priority filter; policy accept;
		$f saddr $2 accept
		$f daddr $2 accept
	}
}
EOF
}

all_pairs_ping() { # LABEL
	local n k m j bad=0 total=0
	for n in $(seq 1 "$HOSTS"); do for k in $(seq 1 "$PODS"); do
		for m in $(seq 1 "$HOSTS"); do for j in $(seq 1 "$PODS"); do
			total=$((total + 1))
			# The first packet may wait for ARP on the bridge: allow 3 tries.
			pod_exec "$n" "$k" ping -c 1 -W 1 -q "${POD_IP[$m.$j]}" >/dev/null 2>&1 ||
				pod_exec "$n" "$k" ping -c 2 -W 1 -q "${POD_IP[$m.$j]}" >/dev/null 2>&1 || {
				bad=$((bad + 1))
				echo "# $1: pod $n.$k (${POD_IP[$n.$k]}) cannot reach pod $m.$j (${POD_IP[$m.$j]})"
			}
		done; done
	done; done
	tap_eq "$1: all $total pod pairs reach each other" 0 "$bad"
}

# The per-peer kernel objects on host n, exactly (no more, no fewer).
check_vxlan_objects() { # N [direct]
	local n=$1 m link want got peers=0
	link=$(host_exec "$n" ip -d link show flannel.1)
	tap_ok "h$n: flannel.1 is vxlan id 1 local $(host_ip "$n") dev eth0" \
		grep -q "vxlan id 1 local $(host_ip "$n") dev eth0 " <<<"$link"
	tap_ok "h$n: flannel.1 port 8472, nolearning" grep -q "dstport 8472 nolearning" <<<"$link"
	tap_ok "h$n: flannel.1 MTU 1450" grep -q " mtu 1450 " <<<"$link"
	tap_eq "h$n: flannel.1 MAC is the published VtepMAC" "$(vtep_mac "$n")" \
		"$(grep -o 'link/ether [0-9a-f:]*' <<<"$link" | cut -d' ' -f2)"
	tap_eq "h$n: flannel.1 address is the subnet address /32" "$(subnet_addr "$n")/32" \
		"$(host_exec "$n" ip -4 -o addr show dev flannel.1 | awk '{print $4}')"
	for m in $(seq 1 "$HOSTS"); do
		[ "$m" = "$n" ] && continue
		peers=$((peers + 1))
		if [ "${2:-}" = direct ]; then
			tap_eq "h$n: direct route to h$m's subnet" \
				"$(subnet_net "$m") via $(host_ip "$m") dev eth0 proto 151 " \
				"$(host_exec "$n" ip route show "$(subnet_net "$m")")"
			continue
		fi
		# Through a nexthop object whose id is the subnet address (docs/backends.md).
		tap_eq "h$n: route to h$m's subnet" \
			"$(subnet_net "$m") nhid $(ip_int "$(subnet_addr "$m")") via $(subnet_addr "$m") dev flannel.1 proto 151 onlink " \
			"$(host_exec "$n" ip route show "$(subnet_net "$m")")"
		tap_eq "h$n: nexthop for h$m's subnet" \
			"id $(ip_int "$(subnet_addr "$m")") via $(subnet_addr "$m") dev flannel.1 scope link proto 151 onlink " \
			"$(host_exec "$n" ip nexthop show id "$(ip_int "$(subnet_addr "$m")")")"
		tap_eq "h$n: permanent neighbour for h$m" \
			"$(subnet_addr "$m") lladdr $(vtep_mac "$m") PERMANENT" \
			"$(host_exec "$n" ip neigh show "$(subnet_addr "$m")" dev flannel.1 | sed 's/ *$//')"
		tap_eq "h$n: fdb entry for h$m" "$(vtep_mac "$m") dst $(host_ip "$m") self permanent" \
			"$(host_exec "$n" bridge fdb show dev flannel.1 | grep "^$(vtep_mac "$m") " | sed 's/ *$//')"
	done
	if [ "${2:-}" = direct ]; then
		want=0
	else
		want=$peers
	fi
	tap_eq "h$n: exactly $peers routes of ours" "$peers" "$(host_exec "$n" ip route show proto 151 | grep -c .)"
	tap_eq "h$n: exactly $want nexthops of ours" "$want" \
		"$(host_exec "$n" ip nexthop show proto 151 | grep -c .)"
	tap_eq "h$n: exactly $want neighbours on flannel.1" "$want" \
		"$(host_exec "$n" ip neigh show dev flannel.1 nud permanent | grep -c .)"
	tap_eq "h$n: exactly $want fdb entries on flannel.1" "$want" \
		"$(host_exec "$n" bridge fdb show dev flannel.1 | grep -c ' dst ')"
}

ip_int() { # A.B.C.D -> its value as an unsigned 32-bit number
	local IFS=.
	set -- $1
	echo $((($1 << 24) | ($2 << 16) | ($3 << 8) | $4))
}

check_hostgw_objects() { # N
	local n=$1 m peers=0
	for m in $(seq 1 "$HOSTS"); do
		[ "$m" = "$n" ] && continue
		peers=$((peers + 1))
		tap_eq "h$n: route to h$m's subnet via h$m" \
			"$(subnet_net "$m") nhid $(ip_int "$(subnet_addr "$m")") via $(host_ip "$m") dev eth0 proto 151 " \
			"$(host_exec "$n" ip route show "$(subnet_net "$m")")"
		tap_eq "h$n: nexthop for h$m's subnet" \
			"id $(ip_int "$(subnet_addr "$m")") via $(host_ip "$m") dev eth0 scope link proto 151 " \
			"$(host_exec "$n" ip nexthop show id "$(ip_int "$(subnet_addr "$m")")")"
	done
	tap_eq "h$n: exactly $peers routes of ours" "$peers" "$(host_exec "$n" ip route show proto 151 | grep -c .)"
	tap_eq "h$n: exactly $peers nexthops of ours" "$peers" "$(host_exec "$n" ip nexthop show proto 151 | grep -c .)"
	tap_lacks "h$n: no flannel.1 device" ': flannel\.1[:@]' ': lo:' host_exec "$n" ip -o link show
}

# Continuous ping pod 1.1 -> pod 2.1 while weftd on host 2 is SIGKILLed and
# restarted: no packet may be lost, and the subnet must stay the same.
restart_no_loss() {
	local before after out lost
	before=$(host_env 2 FLANNEL_SUBNET)
	pod_exec 1 1 ping -i 0.02 -c 300 -W 1 "${POD_IP[2.1]}" >"$RUN_DIR/restart-ping.out" 2>&1 &
	local ping_pid=$!
	wait_until 5 grep -q "bytes from" "$RUN_DIR/restart-ping.out"
	weftd_host_stop 2 KILL
	weftd_host_start 2 --iface eth0
	tap_ok "restart: weftd on h2 holds its lease again" wait_until 20 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h2.log") -ge 2 ]'
	wait "$ping_pid"
	after=$(host_env 2 FLANNEL_SUBNET)
	tap_eq "restart: same subnet" "$before" "$after"
	out=$(grep -o '[0-9]* packets transmitted, [0-9]* received' "$RUN_DIR/restart-ping.out")
	lost=$(awk '{print $1 - $4}' <<<"$out")
	echo "# restart: continuous ping across SIGKILL + restart: $out"
	tap_eq "restart: zero packets lost" 0 "$lost"
}

# A host leaves (daemon stopped, key deleted): its objects vanish everywhere.
host_removed() { # CHECK_CMD_FOR_OBJECTS: prints the count of h3 objects on host N
	local key t0 n left took
	key=$(lease_key 3)
	weftd_host_stop 3
	t0=$(now_ms)
	etcd_del "$key"
	for n in 1 2; do
		if wait_until 2 eval "[ \$($1 $n) = 0 ]"; then
			took=$(($(now_ms) - t0))
			tap_ok "removal: h3's objects gone from h$n within 2 s (${took} ms)" true
		else
			left=$($1 "$n")
			tap_ok "removal: h3's objects gone from h$n within 2 s ($left left)" false
		fi
	done
}

# The longest run of lost pings in ping's output FILE, in ms (pings every
# INTERVAL ms), or 99999 when the answers stop before sequence LAST.
ping_outage_ms() { # FILE INTERVAL LAST
	python3 -c '
import re, sys
seqs = sorted({int(m) for m in re.findall(r"icmp_seq=(\d+) ttl", open(sys.argv[1]).read())})
gaps = [b - a - 1 for a, b in zip(seqs, seqs[1:])] or [0]
print(max(gaps) * int(sys.argv[2]) if seqs and seqs[-1] >= int(sys.argv[3]) else 99999)' "$@"
}

# Time until cmd succeeds, in ms (or "timeout").
time_until() { # SECONDS cmd...
	local t0=$(now_ms) s=$1
	shift
	if wait_until "$s" "$@"; then echo $(($(now_ms) - t0)); else echo timeout; fi
}

# The underlay sees only the encrypted tunnel: a capture on the bridge while
# pods ping with a unique payload holds no ping payload and no packet between
# hosts other than TUNNEL_FILTER's (etcd's TCP 2379 and ARP aside), while the
# payload does show up on h2's decrypting device DEV (the capture would have
# seen it).
capture_case() { # WHAT DEV TUNNEL_FILTER
	local what=$1 dev=$2 tunnel=$3 pat=77656674746573746e6f636c656172 # "wefttestnoclear"
	run_bg cap-ul ip netns exec "$UL" tcpdump -i br0 -nn -U -w "$RUN_DIR/ul.pcap" 'not arp and not port 2379'
	run_bg cap-h2 ip netns exec "$(host_ns 2)" tcpdump -i "$dev" -nn -U -w "$RUN_DIR/dev.pcap"
	wait_until 5 eval "grep -q 'listening on br0' '$RUN_DIR/cap-ul.log' && grep -q 'listening on $dev' '$RUN_DIR/cap-h2.log'"
	pod_exec 1 1 ping -c 5 -i 0.1 -p "$pat" "${POD_IP[2.1]}" >/dev/null 2>&1
	pod_exec 3 2 ping -c 5 -i 0.1 -p "$pat" "${POD_IP[2.2]}" >/dev/null 2>&1
	has() { python3 -c 'import sys; print(1 if bytes.fromhex(sys.argv[1]) in open(sys.argv[2],"rb").read() else 0)' "$pat" "$1"; }
	tunnelled() { tcpdump -r "$RUN_DIR/ul.pcap" -nn "$tunnel" 2>/dev/null | wc -l; }
	# tcpdump writes what it has read; let it catch up before it stops.
	wait_until 5 eval '[ "$(has "$RUN_DIR/dev.pcap")" = 1 ] && [ "$(tunnelled)" -ge 10 ]'
	stop_bg cap-ul INT
	stop_bg cap-h2 INT
	tap_eq "capture: the ping payload is on h2's $dev (decrypted)" 1 "$(has "$RUN_DIR/dev.pcap")"
	tap_eq "capture: the ping payload never crosses the underlay" 0 "$(has "$RUN_DIR/ul.pcap")"
	tap_ok "capture: the underlay carried $what" test "$(tunnelled)" -ge 10
	tap_eq "capture: nothing else between the hosts" 0 \
		"$(tcpdump -r "$RUN_DIR/ul.pcap" -nn "not ($tunnel) and not icmp6" 2>/dev/null | wc -l)"
}
