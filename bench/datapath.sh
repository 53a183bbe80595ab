#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pod-to-pod TCP throughput between two hosts (network namespaces on one
# underlay), through weft's data path and through the same topology built by
# hand with ip(8), for each backend; prints each figure and the ratio
# weft / hand-built, which should be about 1.0 (it is the same kernel path).
#
# Then the paths against each other on the same 2-host topology: the raw
# underlay (host to host over the veths and bridge), host-gw, vxlan, and the
# udp backend with its fast path and with the plain path forced
# (WEFT_UDP_PLAIN=1), the wireguard backend (weft's userspace engine when the
# kernel has no wireguard module; each weftd in a mount namespace of its own
# with a tmpfs on /var/run/wireguard and its own key file), and userspace
# WireGuard for comparison (Debian's wireguard-go on each host, pods routed
# through it: tests/netns/wg_go.sh; in the default list when installed),
# and the ipsec backend (strongSwan's charon as each weftd's child, each with
# its own --ipsec-run-dir; userspace ESP where the kernel has no ESP type; a
# PSK of 128 characters; WEFT_IPSEC_ENGINE in the environment passes on to
# weftd; measured once a pod ping has crossed, i.e. the SAs are up; in the
# default list when charon is installed);
# TCP with 1 and 4 streams and a small-packet rate (iperf3 UDP, 64-byte
# payloads, unlimited offered rate: received kpps), each with its ratio to
# kernel vxlan and to the raw underlay, weft's wireguard against vxlan,
# udp and wireguard-go, and ipsec against vxlan and weft's wireguard.
# Medians of REPS runs, each in a fresh cluster.
#
#   bench/datapath.sh [-t SECONDS] [-r REPS] [-C CC] [-o WHAT] [-p PATHS] [BACKEND...]
#       BACKEND: vxlan host-gw (weft vs hand-built; default: both)
#       WHAT:    all (default), hand (the first table only), paths (the second only)
#       CC:      TCP congestion control for iperf3 -C (default: the system's)
#       PATHS:   the paths compared (default "veth host-gw vxlan udp udp-plain
#                wireguard wireguard-go ipsec", the last two when installed;
#                ratios need vxlan and veth among them)
#
# Root required. Builds the binaries first if needed. A benchmark, not a test:
# it prints figures and asserts nothing.
set -u
cd "$(dirname "$0")/.."
SECS=5 REPS=1 CC= WHAT=all PATH_LIST="veth host-gw vxlan udp udp-plain wireguard"
command -v wireguard-go >/dev/null && PATH_LIST+=" wireguard-go"
# charon where weftd looks for it without --charon-path (src/ipsec/charon.c)
for c in "$(command -v charon)" /usr/lib/strongswan/charon /usr/lib/ipsec/charon \
	/usr/libexec/strongswan/charon /usr/libexec/ipsec/charon; do
	[ -n "$c" ] && [ -x "$c" ] && { PATH_LIST+=" ipsec"; break; }
done
while getopts t:r:C:o:p: o; do
	case $o in
	t) SECS=$OPTARG ;;
	r) REPS=$OPTARG ;;
	C) CC=$OPTARG ;;
	o) WHAT=$OPTARG ;;
	p) PATH_LIST=$OPTARG ;;
	*) echo "usage: $0 [-t SECONDS] [-r REPS] [-C CC] [-o all|hand|paths] [-p PATHS] [BACKEND...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
BACKENDS=("$@")
[ ${#BACKENDS[@]} -gt 0 ] || BACKENDS=(vxlan host-gw)
[ "$(id -u)" = 0 ] || { echo "bench/datapath.sh: needs root (network namespaces)" >&2; exit 1; }
export WEFT_BUILD=${WEFT_BUILD:-build}
[ -x "$WEFT_BUILD/weftd" ] || make -s all >/dev/null

# One measurement in a fresh cluster: MODE is weft or hand. Prints Gbit/s.
measure() { # BACKEND MODE
	(
		backend=$1 mode=$2
		NS=wb$$${mode:0:1}
		. tests/lib/common.sh
		. tests/lib/etcd.sh
		. tests/lib/tap.sh
		. tests/netns/lib.sh
		HOSTS=2 PODS=1
		if [ "$mode" = weft ]; then
			. tests/netns/cases.sh
			cluster_up "{\"Type\":\"$backend\"}" >/dev/null || exit 1
		else
			ip netns add "$UL" && ip -n "$UL" link set lo up
			ip -n "$UL" link add br0 type bridge
			ip -n "$UL" addr add $UNDERLAY_PREFIX.1/24 dev br0
			ip -n "$UL" link set br0 up
			on_cleanup ns_cleanup
			for n in 1 2; do host_add "$n"; done
			for n in 1 2; do
				m=$((3 - n))
				if [ "$backend" = vxlan ]; then
					mtu=1450
					host_exec $n ip link add flannel.1 type vxlan id 1 local "$(host_ip $n)" \
						dev eth0 dstport 8472 nolearning
					host_exec $n ip link set flannel.1 mtu $mtu address "02:00:00:00:00:0$n" up
					host_exec $n ip addr add "10.244.$n.0/32" dev flannel.1
					host_exec $n ip neigh replace "10.244.$m.0" lladdr "02:00:00:00:00:0$m" \
						dev flannel.1 nud permanent
					host_exec $n bridge fdb replace "02:00:00:00:00:0$m" dev flannel.1 \
						dst "$(host_ip $m)" self permanent
					host_exec $n ip route replace "10.244.$m.0/24" via "10.244.$m.0" \
						dev flannel.1 onlink
				else
					mtu=1500
					host_exec $n ip route replace "10.244.$m.0/24" via "$(host_ip $m)" dev eth0
				fi
				printf 'FLANNEL_SUBNET=10.244.%d.1/24\nFLANNEL_MTU=%d\n' $n $mtu >"$RUN_DIR/h$n.env"
			done
			pod_add 1 1 >/dev/null && pod_add 2 1 >/dev/null
		fi
		run_bg iperf ip netns exec "$(pod_ns 2 1)" iperf3 -s -1
		wait_until 10 eval "ip netns exec $(pod_ns 2 1) ss -Hltn 'sport = :5201' | grep -q ." || exit 1
		pod_exec 1 1 iperf3 -c "${POD_IP[2.1]}" -t "$SECS" -J 2>/dev/null |
			python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
	)
}

if [ "$WHAT" != paths ]; then
	printf '%-9s %14s %14s %8s\n' backend "weft Gbit/s" "by hand" ratio
	for b in "${BACKENDS[@]}"; do
		w=$(measure "$b" weft)
		h=$(measure "$b" hand)
		r=$(awk -v w="$w" -v h="$h" 'BEGIN { if (h > 0) printf "%.2f", w / h; else print "n/a" }')
		printf '%-9s %14s %14s %8s\n' "$b" "${w:-fail}" "${h:-fail}" "$r"
	done
fi
[ "$WHAT" = hand ] && exit 0

# ---- the paths against each other ----

# wireguard-go on both hosts (listen port 51820, interface wg0, MTU 1420 as
# flannel's wireguard backend), each host's pod subnet routed through it to
# the other, and a pod on each; the first ping makes the handshake.
wg_go_hosts() {
	local n m
	for n in 1 2; do
		wg_go_start "h$n" "$(host_ns $n)" wg0 || return 1
		wg_go_keys "h$n" >/dev/null || return 1
	done
	for n in 1 2; do
		m=$((3 - n))
		wg_go_wg "h$n" set wg0 private-key "$RUN_DIR/wg-h$n.key" listen-port 51820 \
			peer "$(cat "$RUN_DIR/wg-h$m.pub")" endpoint "$(host_ip $m):51820" \
			allowed-ips "10.244.$m.0/24" || return 1
		host_exec $n ip addr add "10.244.$n.0/32" dev wg0 || return 1
		host_exec $n ip link set wg0 mtu 1420 up || return 1
		host_exec $n ip route replace "10.244.$m.0/24" dev wg0 || return 1
		printf 'FLANNEL_SUBNET=10.244.%d.1/24\nFLANNEL_MTU=1420\n' $n >"$RUN_DIR/h$n.env"
	done
	pod_add 1 1 >/dev/null && pod_add 2 1 >/dev/null || return 1
	wait_until 10 pod_ping 1 1 "${POD_IP[2.1]}"
}

# The wireguard backend's weftd: in a mount namespace of its own with a tmpfs
# on /var/run/wireguard (its UAPI socket directory is the machine's otherwise)
# and its own key file (the default /run/flannel/wgkey would be shared). ip
# netns exec, unshare and sh each exec the next: the pid tracked is weftd's.
weftd_wg_host_start() { # N ARGS...
	local n=$1
	shift
	run_bg "h$n" ip netns exec "$(host_ns "$n")" unshare --mount --propagation private \
		env WIREGUARD_KEY_FILE="$RUN_DIR/h$n.wgkey" WEFTD="$WEFT_BUILD/weftd" sh -c \
		'mount -t tmpfs -o mode=0755 tmpfs /var/run/wireguard && exec "$WEFTD" "$@"' weftd \
		--etcd-endpoints "$ETCD_ENDPOINT" --subnet-file "$RUN_DIR/h$n.env" "$@"
}

# The ipsec backend's weftd, as tests/netns/test_ipsec.sh starts it: charon's
# config, VICI socket, pid file and log in a directory of this host's own
# (--ipsec-run-dir; weftd runs charon in a mount namespace of its own, so two
# charons on one machine keep their pid files apart).
ipsec_dir() { echo "$RUN_DIR/h$1-ipsec"; }
weftd_ipsec_host_start() { # N ARGS...
	local n=$1
	shift
	run_bg "h$n" ip netns exec "$(host_ns "$n")" "$WEFT_BUILD/weftd" \
		--etcd-endpoints "$ETCD_ENDPOINT" --subnet-file "$RUN_DIR/h$n.env" \
		--ipsec-run-dir "$(ipsec_dir "$n")" "$@"
}
# Cleanup of an ipsec cluster (a hook, run before the common cleanup signals
# the remaining processes): each weftd stopped (SIGTERM: it stops its charon,
# SIGKILL after 3 s), then any charon still alive whose pid its directory
# names (one whose weftd was killed) stopped by that pid.
ipsec_cleanup() {
	local n pid
	for n in 1 2; do
		stop_bg "h$n"
		pid=$(cat "$(ipsec_dir "$n")/charon.pid" 2>/dev/null) || continue
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = charon ] || continue
		kill -TERM "$pid"
		wait_until 3 eval "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid"
	done
}

# One fresh 2-host cluster for PATH; prints "tcp1 tcp4 kpps" (Gbit/s, Gbit/s,
# received kpps) or fails.
measure_path() { # PATH: veth host-gw vxlan udp udp-plain wireguard wireguard-go ipsec
	(
		path=$1
		NS=wb$$p
		. tests/lib/common.sh
		. tests/lib/etcd.sh
		. tests/lib/tap.sh
		. tests/netns/lib.sh
		. tests/netns/cases.sh
		. tests/netns/wg_go.sh
		HOSTS=2 PODS=1
		case $path in
		veth)
			ip netns add "$UL" && ip -n "$UL" link set lo up
			ip -n "$UL" link add br0 type bridge
			ip -n "$UL" link set br0 up
			on_cleanup ns_cleanup
			for n in 1 2; do host_add "$n"; done
			srv_ns=$(host_ns 2)
			cli() { host_exec 1 "$@"; }
			dst=$(host_ip 2)
			;;
		wireguard-go)
			ip netns add "$UL" && ip -n "$UL" link set lo up
			ip -n "$UL" link add br0 type bridge
			ip -n "$UL" link set br0 up
			on_cleanup ns_cleanup
			for n in 1 2; do host_add "$n"; done
			wg_go_hosts || exit 1
			srv_ns=$(pod_ns 2 1)
			cli() { pod_exec 1 1 "$@"; }
			dst=${POD_IP[2.1]}
			;;
		wireguard)
			weftd_host_start() { weftd_wg_host_start "$@"; }
			cluster_up '{"Type":"wireguard"}' >/dev/null || exit 1
			# The first ping makes the handshake (as for wireguard-go).
			wait_until 10 pod_ping 1 1 "${POD_IP[2.1]}" || exit 1
			srv_ns=$(pod_ns 2 1)
			cli() { pod_exec 1 1 "$@"; }
			dst=${POD_IP[2.1]}
			;;
		ipsec)
			weftd_host_start() { weftd_ipsec_host_start "$@"; }
			on_cleanup ipsec_cleanup
			psk=$(python3 -c 'import secrets; print(secrets.token_hex(64))') # 128 characters
			cluster_up "{\"Type\":\"ipsec\",\"PSK\":\"$psk\"}" >/dev/null || exit 1
			# Both charons start their connection (start_action start): the
			# first ping to cross means the CHILD_SAs are installed.
			wait_until 30 pod_ping 1 1 "${POD_IP[2.1]}" || exit 1
			srv_ns=$(pod_ns 2 1)
			cli() { pod_exec 1 1 "$@"; }
			dst=${POD_IP[2.1]}
			;;
		*)
			[ "$path" = udp-plain ] && export WEFT_UDP_PLAIN=1
			b=${path%-plain}
			cluster_up "{\"Type\":\"$b\"}" >/dev/null || exit 1
			srv_ns=$(pod_ns 2 1)
			cli() { pod_exec 1 1 "$@"; }
			dst=${POD_IP[2.1]}
			;;
		esac
		# The server by its own pid (not through a shell function, whose
		# subshell would be killed while the server lived on).
		run_bg iperf ip netns exec "$srv_ns" iperf3 -s
		wait_until 10 eval "ip netns exec $srv_ns ss -Hltn 'sport = :5201' | grep -q ." || exit 1
		iperf() { # ARGS...: one client run (retried while the server is busy), JSON
			local out i
			for i in 1 2 3 4 5; do
				out=$(cli iperf3 -c "$dst" -J ${CC:+-C "$CC"} "$@" 2>/dev/null | sed -n '/^{/,$p')
				grep -q '"error"' <<<"$out" || break
				sleep 0.5
			done
			echo "$out"
		}
		tcp() { python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'; }
		t1=$(iperf -t "$SECS" -P 1 | tcp)
		t4=$(iperf -t "$SECS" -P 4 | tcp)
		pps=$(iperf -t "$SECS" -u -b 0 -l 64 | python3 -c '
import json, sys
s = json.load(sys.stdin)["end"]["sum"]
print("%.0f" % ((s["packets"] - s["lost_packets"]) / s["seconds"] / 1e3))')
		echo "${t1:-0} ${t4:-0} ${pps:-0}"
	)
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

read -r -a PATHS <<<"$PATH_LIST"
# The wireguard path mounts a tmpfs on /var/run/wireguard in weftd's own mount
# namespace: it must exist. Made before each such run if missing, and removed
# at the end only if we made it and no weftd or wireguard-go is left that could
# have it as its mount point (a read-only look, nothing is signalled).
WG_DIR_MADE=0
wg_dir() {
	[ -d /var/run/wireguard ] && return 0
	mkdir -p /var/run/wireguard && WG_DIR_MADE=1
}
wg_dir_cleanup() {
	[ "$WG_DIR_MADE" = 1 ] || return 0
	pgrep -x weftd >/dev/null || pgrep -x wireguard-go >/dev/null || rmdir /var/run/wireguard 2>/dev/null
	return 0
}
trap wg_dir_cleanup EXIT
trap 'exit 130' INT TERM
declare -A T1 T4 PPS RAW
for rep in $(seq 1 "$REPS"); do
	for p in "${PATHS[@]}"; do # interleaved, so that drifts hit every path alike
		[ "$p" = wireguard ] && wg_dir
		# The figures' line only (KEEP_RUN_DIR=1 adds one naming the directory).
		r=$(measure_path "$p" | grep -m1 -xE '[0-9.]+ [0-9.]+ [0-9.]+') || r="0 0 0"
		RAW[$p]+="$r;"
	done
done
for p in "${PATHS[@]}"; do
	T1[$p]=$(tr ';' '\n' <<<"${RAW[$p]}" | awk 'NF { print $1 }' | median)
	T4[$p]=$(tr ';' '\n' <<<"${RAW[$p]}" | awk 'NF { print $2 }' | median)
	PPS[$p]=$(tr ';' '\n' <<<"${RAW[$p]}" | awk 'NF { print $3 }' | median)
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "paths, 2 hosts x 1 pod, ${SECS}s per figure, median of $REPS run(s), TCP cc ${CC:-system default}"
printf '%-12s %8s %7s %7s %8s %7s %7s %8s %7s %7s\n' path "TCP1" "xvxlan" "xveth" "TCP4" "xvxlan" \
	"xveth" "kpps64" "xvxlan" "xveth"
for p in "${PATHS[@]}"; do
	printf '%-12s %8s %7s %7s %8s %7s %7s %8s %7s %7s\n' "$p" "${T1[$p]}" "$(ratio "${T1[$p]}" "${T1[vxlan]:-0}")" \
		"$(ratio "${T1[$p]}" "${T1[veth]:-0}")" "${T4[$p]}" "$(ratio "${T4[$p]}" "${T4[vxlan]:-0}")" \
		"$(ratio "${T4[$p]}" "${T4[veth]:-0}")" "${PPS[$p]}" "$(ratio "${PPS[$p]}" "${PPS[vxlan]:-0}")" \
		"$(ratio "${PPS[$p]}" "${PPS[veth]:-0}")"
done
echo "(TCP in Gbit/s; kpps64: iperf3 UDP 64-byte payloads received, thousands per second)"
[ -n "${T1[udp]:-}" ] && [ -n "${T1[udp-plain]:-}" ] &&
	echo "udp fast / plain: TCP1 $(ratio "${T1[udp]}" "${T1[udp-plain]}")x, TCP4 $(ratio "${T4[udp]}" "${T4[udp-plain]}")x, kpps64 $(ratio "${PPS[udp]}" "${PPS[udp-plain]}")x"
[ -n "${T1[wireguard-go]:-}" ] && [ -n "${T1[vxlan]:-}" ] &&
	echo "wireguard-go ($(wireguard-go --version 2>/dev/null | sed -n '1s/^wireguard-go //p')) / vxlan: TCP1 $(ratio "${T1[wireguard-go]}" "${T1[vxlan]}")x, TCP4 $(ratio "${T4[wireguard-go]}" "${T4[vxlan]}")x, kpps64 $(ratio "${PPS[wireguard-go]}" "${PPS[vxlan]}")x"
# weft's wireguard against the others (issue 16's targets: >= 5x wireguard-go
# in single-stream TCP, toward >= 0.4x kernel vxlan).
for q in vxlan udp wireguard-go; do
	[ -n "${T1[wireguard]:-}" ] && [ -n "${T1[$q]:-}" ] &&
		echo "wireguard / $q: TCP1 $(ratio "${T1[wireguard]}" "${T1[$q]}")x, TCP4 $(ratio "${T4[wireguard]}" "${T4[$q]}")x, kpps64 $(ratio "${PPS[wireguard]}" "${PPS[$q]}")x"
done
# ipsec (charon's userspace ESP on a kernel without ESP) against vxlan and
# weft's wireguard.
for q in vxlan wireguard; do
	[ -n "${T1[ipsec]:-}" ] && [ -n "${T1[$q]:-}" ] &&
		echo "ipsec / $q: TCP1 $(ratio "${T1[ipsec]}" "${T1[$q]}")x, TCP4 $(ratio "${T4[ipsec]}" "${T4[$q]}")x, kpps64 $(ratio "${PPS[ipsec]}" "${PPS[$q]}")x"
done
if [ "$REPS" -gt 1 ]; then
	echo "per run (TCP1 TCP4 kpps64):"
	for p in "${PATHS[@]}"; do echo "  $p: ${RAW[$p]}"; done
fi
