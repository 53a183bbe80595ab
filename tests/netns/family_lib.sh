# SPDX-License-Identifier: Apache-2.0
# Cases for the IPv6 suites (suite_*_family.sh, run by test_*_dual.sh and
# test_*_v6.sh): a cluster on an IPv6 underlay (lib.sh's UNDERLAY=dual or v6)
# and what is checked per IPv6 peer. Requires lib.sh and cases.sh.
#
#   fam_cluster_up BACKEND_JSON   HOSTS hosts x PODS pods, weftd with /metrics on 8082
#   subnet6_net N / subnet6_addr N   fd10:244:0:5::/64 / fd10:244:0:5::
#   all_pairs_ping6 LABEL         every pod pair over IPv6
#   steady_state LABEL            pods keep talking across full reconciles that change nothing
#   restart_no_loss_fam           SIGKILL + restart of h2's weftd loses no packet, either family
#   df_ping_fits LABEL            a DF ping of exactly the pod MTU crosses hosts, either family
#   data_path_or_stop FAILED      end the script when the pings since then failed

FAM_ARGS=(--iface eth0 --metrics-port 8082)

fam_cluster_up() { cluster_up "$1" "${FAM_ARGS[@]}"; } # BACKEND_JSON

subnet6_net() { host_env "$1" FLANNEL_IPV6_SUBNET | sed 's|::1/|::/|'; } # fd10:244:0:5::/64
subnet6_addr() { subnet6_net "$1" | cut -d/ -f1; }                        # fd10:244:0:5::

# The lease key as weftd writes it: 10.244.5.0-24&fd10:244:0:5::-64 (dual),
# 0.0.0.0-0&fd10:244:0:5::-64 (IPv6 only). Replaces cases.sh's.
lease_key() {
	local v4=0.0.0.0-0
	ul_v4 && v4=$(subnet_net "$1" | tr / -)
	echo "$P/subnets/$v4&$(subnet6_net "$1" | tr / -)"
}

# A value of h N's /metrics (first sample whose name and labels match).
metric() { # N NAME_WITH_LABELS
	host_exec "$1" curl -s http://127.0.0.1:8082/metrics | awk -v m="$2" '$1 == m {print $2; exit}'
}
corrections() { # N: all kernel objects h N has corrected so far
	host_exec "$1" curl -s http://127.0.0.1:8082/metrics |
		awk '$1 ~ /^weft_reconcile_corrections_total/ {s += $2} END {print s + 0}'
}

all_pairs_ping6() { # LABEL
	local n k m j bad=0 total=0
	for n in $(seq 1 "$HOSTS"); do for k in $(seq 1 "$PODS"); do
		for m in $(seq 1 "$HOSTS"); do for j in $(seq 1 "$PODS"); do
			total=$((total + 1))
			# The first packet may wait for neighbour discovery: allow 3 tries.
			pod_exec "$n" "$k" ping -6 -c 1 -W 1 -q "${POD_IP6[$m.$j]}" >/dev/null 2>&1 ||
				pod_exec "$n" "$k" ping -6 -c 2 -W 1 -q "${POD_IP6[$m.$j]}" >/dev/null 2>&1 || {
				bad=$((bad + 1))
				echo "# $1: pod $n.$k (${POD_IP6[$n.$k]}) cannot reach pod $m.$j (${POD_IP6[$m.$j]})"
			}
		done; done
	done; done
	tap_eq "$1: all $total pod pairs reach each other over IPv6" 0 "$bad"
}

# The addresses pod 1.1 pings in the continuous cases: pod 2.1 in each family.
fam_targets() {
	ul_v4 && echo "${POD_IP[2.1]}"
	echo "${POD_IP6[2.1]}"
}

# Lost pings in the output of a finished ping, or "?" without a summary.
ping_lost() { # FILE
	local out
	out=$(grep -o '[0-9]* packets transmitted, [0-9]* received' "$1") || { echo "?"; return; }
	awk '{print $1 - $4}' <<<"$out"
}

# Nothing changes while nothing changes: pod 1.1 pings pod 2.1 (each family)
# every 20 ms while h1 and h2 each run a full reconcile (the periodic one,
# every 10 s); no packet may be lost and no kernel object corrected.
steady_state() { # LABEL
	local n r0=() c0=() pids=() dst i=0 t
	for n in 1 2; do
		r0[n]=$(metric "$n" weft_reconcile_runs_total)
		c0[n]=$(corrections "$n")
	done
	for dst in $(fam_targets); do
		# ip netns exec execs ping: $! is ping's pid, for the SIGINT below.
		ip netns exec "$(pod_ns 1 1)" ping -i 0.02 -w 40 "$dst" >"$RUN_DIR/steady-$i.out" 2>&1 &
		pids+=($!)
		i=$((i + 1))
	done
	t=$(time_until 25 eval "[ \"\$(metric 1 weft_reconcile_runs_total)\" -gt ${r0[1]} ] &&
		[ \"\$(metric 2 weft_reconcile_runs_total)\" -gt ${r0[2]} ]")
	tap_ok "$1: h1 and h2 each ran a full reconcile ($t ms)" test "$t" != timeout
	kill -INT "${pids[@]}" 2>/dev/null
	wait "${pids[@]}"
	for n in 1 2; do
		tap_eq "$1: h$n corrected no kernel object meanwhile" "${c0[n]}" "$(corrections "$n")"
	done
	i=0
	for dst in $(fam_targets); do
		echo "# $1: pod 1.1 -> $dst: $(grep -o '[0-9]* packets transmitted, [0-9]* received' "$RUN_DIR/steady-$i.out")"
		tap_eq "$1: no ping to $dst lost" 0 "$(ping_lost "$RUN_DIR/steady-$i.out")"
		i=$((i + 1))
	done
}

# restart_no_loss (cases.sh) in each family at once.
restart_no_loss_fam() {
	local before pids=() dst i=0
	before=$(cat "$RUN_DIR/h2.env")
	for dst in $(fam_targets); do
		pod_exec 1 1 ping -i 0.02 -c 300 -W 1 "$dst" >"$RUN_DIR/restart-$i.out" 2>&1 &
		pids+=($!)
		wait_until 5 grep -q "bytes from" "$RUN_DIR/restart-$i.out"
		i=$((i + 1))
	done
	weftd_host_stop 2 KILL
	weftd_host_start 2 "${FAM_ARGS[@]}"
	tap_ok "restart: weftd on h2 holds its lease again" wait_until 20 eval \
		'[ $(grep -c "held; wrote" "$RUN_DIR/h2.log") -ge 2 ]'
	wait "${pids[@]}"
	tap_eq "restart: same subnets" "$before" "$(cat "$RUN_DIR/h2.env")"
	i=0
	for dst in $(fam_targets); do
		echo "# restart: pod 1.1 -> $dst across SIGKILL + restart: $(grep -o '[0-9]* packets transmitted, [0-9]* received' "$RUN_DIR/restart-$i.out")"
		tap_eq "restart: zero pings to $dst lost" 0 "$(ping_lost "$RUN_DIR/restart-$i.out")"
		i=$((i + 1))
	done
}

# A ping of exactly the pod MTU (FLANNEL_MTU), don't-fragment, from pod 1.1 to
# pod 2.1 in each family: the pods' packets fit every path they take.
df_ping_fits() { # LABEL
	local mtu
	mtu=$(host_env 1 FLANNEL_MTU)
	if ul_v4; then
		tap_ok "$1: a DF ping of the pod MTU ($mtu) crosses hosts over IPv4" \
			pod_exec 1 1 ping -c 2 -W 1 -M "do" -s $((mtu - 28)) "${POD_IP[2.1]}"
	fi
	tap_ok "$1: a DF ping of the pod MTU ($mtu) crosses hosts over IPv6" \
		pod_exec 1 1 ping -6 -c 2 -W 1 -M "do" -s $((mtu - 48)) "${POD_IP6[2.1]}"
}

# The cases after the first pings need a working data path: when those pings
# failed (_tap_failed grew past FAILED_BEFORE), end here rather than spend
# minutes on timeouts that say nothing new.
data_path_or_stop() { # FAILED_BEFORE
	[ "$_tap_failed" -gt "$1" ] || return 0
	echo "# the data path is broken; the remaining cases need it: stopping here"
	tap_done
	exit 1
}
