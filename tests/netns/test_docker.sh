#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Docker as the flannel design runs it, on two netns hosts (runtime_lib.sh:
# each with its own mount and PID namespaces) on vxlan, a real etcd:
#   - hosts start with IP forwarding off, as fresh nodes do; weftd (--ip-masq)
#     writes subnet.env; mk-docker-opts.sh (weftctl docker-opts) turns it into
#     DOCKER_OPTS; each host's dockerd (Debian docker.io, its own data root,
#     exec root, socket, pid file, config file and cgroup parent) starts with
#     them, turns forwarding on and sets the FORWARD policy to DROP: weftd's
#     forward rules are what lets the other host's traffic in (and with
#     weftd --iptables-forward-rules=false on one host, the other host's new
#     flows stop there);
#   - an image imported from busybox-static (no registry is reachable; its
#     wget crashes with -T, so timeouts are busybox's timeout applet);
#   - containers on the two hosts ping each other both ways across vxlan,
#     reach the outside (an address of the underlay namespace) masqueraded by
#     weftd as their host's address (Docker's own masquerade is off), and move
#     64 MiB over TCP (busybox httpd -> wget; the figure is printed);
#   - dockerd stops cleanly, and nothing of the hosts is left (processes,
#     cgroups, folders; the keyring limits dockerd raises are put back).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/runtime_lib.sh

T0=$(now_ms)
rt_skip_unless dockerd docker nsenter unshare readelf
rt_skip_unless_busybox_static "docker test"

# dockerd raises two machine-wide limits (kernel.keys.root_maxkeys to 1000000,
# root_maxbytes to 25000000) when they are lower: put them back after.
KEYS=(/proc/sys/kernel/keys/root_maxkeys /proc/sys/kernel/keys/root_maxbytes)
KEYS0=$(cat "${KEYS[@]}" | tr '\n' ' ')
keys_restore() {
	local v
	read -r -a v <<<"$KEYS0"
	echo "${v[0]}" >"${KEYS[0]}" && echo "${v[1]}" >"${KEYS[1]}"
}
on_cleanup keys_restore

IMAGE=weft/busybox:test
BLOB_MIB=64
dk() { # N docker-args...: the docker CLI against host N's dockerd
	local n=$1
	shift
	DOCKER_CONFIG=$RT_DIR/docker-cli docker -H "unix://$RT_DIR/h$n/docker.sock" "$@"
}
up() { tap_ok "$1" false; tap_done; exit 1; }

cluster_init || up "cluster up"
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}'
for n in 1 2; do
	host_add "$n" || up "host $n"
	rt_host_up "$n" || up "host $n: its mount and PID namespaces"
done
tap_eq "hosts start with IP forwarding off" "0 0" \
	"$(host_exec 1 sysctl -n net.ipv4.ip_forward) $(host_exec 2 sysctl -n net.ipv4.ip_forward)"
for n in 1 2; do rt_weftd_start "$n" --iface eth0 --ip-masq; done
for n in 1 2; do host_held "$n" || up "h$n holds a lease"; done
tap_ok "weftd warns that forwarding is off" grep -q 'IPv4 forwarding is disabled' "$RUN_DIR/h1.log"

# mk-docker-opts.sh next to weftctl, as `make install` puts them.
mkdir -p "$RT_DIR/bin"
install -m 0755 "$WEFT_BUILD/weftctl" contrib/mk-docker-opts.sh "$RT_DIR/bin/"
rt_busybox_tar || up "busybox root file system"

for n in 1 2; do
	d=$RT_DIR/h$n
	mkdir -p "$d/data"
	tap_ok "h$n: mk-docker-opts.sh -c writes DOCKER_OPTS" rt_exec "$n" env -u DOCKER_OPTS \
		"$RT_DIR/bin/mk-docker-opts.sh" -c -f "$RUN_DIR/h$n.env" -d "$d/docker_opts.env"
	DOCKER_OPTS=
	. "$d/docker_opts.env"
	tap_eq "h$n: DOCKER_OPTS from subnet.env" \
		" --bip=$(host_env "$n" FLANNEL_SUBNET) --ip-masq=false --mtu=$(host_env "$n" FLANNEL_MTU)" \
		"$DOCKER_OPTS"
	echo '{}' >"$d/daemon.json"
	# shellcheck disable=SC2086 # DOCKER_OPTS is a word list, as in docker's unit
	rt_bg "dockerd$n" "$n" dockerd $DOCKER_OPTS --data-root "$d/data/docker" \
		--exec-root "$d/data/exec" -H "unix://$d/docker.sock" --pidfile "$d/docker.pid" \
		--config-file "$d/daemon.json" --cgroup-parent "$(rt_cgroup_parent "$n")" \
		--exec-opt native.cgroupdriver=cgroupfs || up "h$n: dockerd started"
done
for n in 1 2; do
	if ! wait_until 60 dk "$n" version; then
		echo "# h$n: dockerd did not answer:"
		tail -15 "$RUN_DIR/dockerd$n.log" | sed 's/^/#   /'
		up "h$n: dockerd answers"
	fi
	tap_ok "h$n: dockerd answers on its own socket ($(dk "$n" info --format '{{.Driver}}') storage)" true
done
echo "# dockerd: $(dk 1 version --format '{{.Server.Version}}'), up after $(($(now_ms) - T0)) ms"
echo "# keyring limits (root_maxkeys, root_maxbytes): ${KEYS0}before dockerd, $(cat "${KEYS[@]}" | tr '\n' ' ')with it"

for n in 1 2; do
	tap_eq "h$n: docker0 holds FLANNEL_SUBNET" "$(host_env "$n" FLANNEL_SUBNET)" \
		"$(host_exec "$n" ip -4 -o addr show dev docker0 | awk '{print $4}')"
	tap_eq "h$n: dockerd turned IP forwarding on" 1 "$(host_exec "$n" sysctl -n net.ipv4.ip_forward)"
	tap_eq "h$n: and set the FORWARD policy to DROP" "-P FORWARD DROP" \
		"$(rt_exec "$n" iptables -S FORWARD | head -1)"
	tap_ok "h$n: weftd's forward rules accept the cluster network" wait_until 10 eval \
		"rt_exec $n iptables -S FLANNEL-FWD | grep -q -- '-s 10.244.0.0/16 .*-j ACCEPT'"
	tap_lacks "h$n: only weftd masquerades (Docker's --ip-masq=false)" \
		"MASQUERADE" "FLANNEL-POSTRTG" rt_exec "$n" iptables -t nat -S POSTROUTING
	tap_ok "h$n: import the busybox-static image" dk "$n" import \
		--change 'CMD ["/bin/sh"]' "$RT_DIR/busybox.tar" "$IMAGE"
done

# One container per host: busybox httpd serving a blob and a hello file.
serve="mkdir -p /www && echo hello from \$(hostname) >/www/hello &&
	dd if=/dev/zero of=/www/blob bs=1048576 count=$BLOB_MIB 2>/dev/null && exec httpd -f -p 80 -h /www"
declare -A CIP=()
for n in 1 2; do
	tap_ok "h$n: docker run" dk "$n" run -d --name "c$n" --hostname "c$n" "$IMAGE" sh -c "$serve"
	CIP[$n]=$(dk "$n" inspect -f '{{.NetworkSettings.IPAddress}}' "c$n")
	tap_ok "h$n: c$n (${CIP[$n]}) is in the host's subnet" python3 -c 'import ipaddress,sys
assert ipaddress.ip_address(sys.argv[2]) in ipaddress.ip_interface(sys.argv[1]).network' \
		"$(host_env "$n" FLANNEL_SUBNET)" "${CIP[$n]:-x}"
	tap_eq "h$n: c$n's MTU is FLANNEL_MTU" "$(host_env "$n" FLANNEL_MTU)" \
		"$(dk "$n" exec "c$n" cat /sys/class/net/eth0/mtu)"
	tap_ok "h$n: c$n runs under the host's cgroup parent $(rt_cgroup_parent "$n")" grep -q \
		":$(rt_cgroup_parent "$n")/" <<<"$(dk "$n" exec "c$n" cat /proc/1/cgroup)"
done
for n in 1 2; do
	wait_until 20 dk "$n" exec "c$n" test -s /www/blob || echo "# c$n: no blob yet"
done

tap_ok "c1 on h1 pings c2 on h2 (vxlan)" wait_until 10 dk 1 exec c1 ping -c 1 -W 1 "${CIP[2]}"
tap_ok "c2 on h2 pings c1 on h1" dk 2 exec c2 ping -c 3 -W 2 "${CIP[1]}"
tap_eq "c1 fetches c2's page across hosts" "hello from c2" \
	"$(dk 1 exec c1 timeout 10 wget -q -O - "http://${CIP[2]}/hello")"
# FORWARD's policy is DROP and Docker's rules accept only what leaves docker0
# or answers it: a new flow from the other host is let in by FLANNEL-FWD.
fwd_in() { # N: packets FLANNEL-FWD accepted from the cluster network
	rt_exec "$1" iptables -L FLANNEL-FWD -n -v -x | awk '$3 == "ACCEPT" && $8 == "10.244.0.0/16" { print $1; exit }'
}
for n in 1 2; do
	p=$(fwd_in "$n")
	tap_ok "h$n: the other host's flows came in through weftd's forward rule (${p:-?} packets)" \
		test "${p:-0}" -gt 0
done

# And without them it stops there: h2's weftd again, now with
# --iptables-forward-rules=false (its jump to FLANNEL-FWD, if left, removed by
# hand): c1's new flows to c2 are dropped, c2's to c1 still pass (h1 has the
# rules); with the rules back, c1 reaches c2 again.
helds() { grep -c 'held; wrote' "$RUN_DIR/h$1.log"; }
weftd_restart_h2() { # ARGS...: restart h2's weftd and wait for its lease
	local k
	k=$(helds 2)
	rt_bg_stop h2 || echo "# h2's weftd exited with $?"
	# Its lease stays (24 h): the new weftd takes the same subnet back.
	rt_weftd_start 2 --iface eth0 --ip-masq "$@" &&
		wait_until 20 eval '[ "$(helds 2)" -gt '"$k"' ]'
}
# (Not through tap_ok, whose subshell would lose the new pid.)
weftd_restart_h2 --iptables-forward-rules=false && rc=0 || rc=$?
tap_eq "h2: weftd restarted with --iptables-forward-rules=false, holds its lease" 0 "$rc"
if rt_exec 2 iptables -S FORWARD | grep -q -- '-j FLANNEL-FWD'; then
	echo "# h2: the jump to FLANNEL-FWD is still there; removed by hand"
	rt_exec 2 iptables -D FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
fi
tap_lacks "h2: no forward rule of weftd's" 'FLANNEL-FWD' '^-P FORWARD DROP' rt_exec 2 iptables -S FORWARD
tap_fail_with "c1 no longer reaches c2: FORWARD DROP on h2" 1 ' 0 packets received' \
	dk 1 exec c1 ping -c 2 -W 1 "${CIP[2]}"
tap_ok "c2 still reaches c1" dk 2 exec c2 ping -c 1 -W 2 "${CIP[1]}"
weftd_restart_h2 && rc=0 || rc=$?
tap_eq "h2: weftd restarted with its forward rules" 0 "$rc"
tap_ok "h2: they are back" wait_until 10 eval "rt_exec 2 iptables -S FORWARD | grep -q -- '-j FLANNEL-FWD'"
tap_ok "c1 reaches c2 again" wait_until 10 dk 1 exec c1 ping -c 1 -W 1 "${CIP[2]}"

# The outside: a web server in the underlay namespace standing for the
# internet; its log shows the address each request came from.
mkdir -p "$RT_DIR/www"
echo outside >"$RT_DIR/www/index.html"
port=$(free_port)
run_bg outside ip netns exec "$UL" python3 -m http.server "$port" --bind "$UNDERLAY_PREFIX.1" \
	--directory "$RT_DIR/www"
wait_until 10 ip netns exec "$UL" curl -s -o /dev/null "http://$UNDERLAY_PREFIX.1:$port/" ||
	echo "# the outside web server did not start"
for n in 1 2; do
	tap_ok "c$n pings the outside ($UNDERLAY_PREFIX.1)" dk "$n" exec "c$n" ping -c 1 -W 2 "$UNDERLAY_PREFIX.1"
	tap_eq "c$n fetches a page from the outside" outside \
		"$(dk "$n" exec "c$n" timeout 10 wget -q -O - "http://$UNDERLAY_PREFIX.1:$port/?from=c$n")"
	tap_ok "the outside saw c$n's request from h$n's address $(host_ip "$n") (weftd's masquerade)" \
		grep -q "^$(host_ip "$n") .*GET /?from=c$n " "$RUN_DIR/outside.log"
done
stop_bg outside

# TCP across hosts: c1 fetches c2's blob.
# wget's time, measured in the container by busybox's time applet.
tx0=$(host_exec 2 cat /sys/class/net/flannel.1/statistics/tx_bytes)
out=$(timeout 60 docker -H "unix://$RT_DIR/h1/docker.sock" exec c1 sh -c \
	"time -f %e wget -q -O - http://${CIP[2]}/blob 2>/tmp/t | wc -c; cat /tmp/t")
tx1=$(host_exec 2 cat /sys/class/net/flannel.1/statistics/tx_bytes)
got=$(head -1 <<<"$out")
secs=$(tail -1 <<<"$out")
tap_eq "c1 received c2's $BLOB_MIB MiB over TCP" $((BLOB_MIB * 1048576)) "$got"
tap_ok "and h2 sent it through flannel.1 ($(((tx1 - tx0) / 1048576)) MiB)" \
	test $((tx1 - tx0)) -ge $((BLOB_MIB * 1048576))
echo "# TCP c2 (h2) -> c1 (h1) across vxlan: $BLOB_MIB MiB in $secs s" \
	"($(python3 -c "import sys; print(round($BLOB_MIB * 8.388608 / max(float(sys.argv[1]), 0.01)))" "$secs") Mbit/s, HTTP, one stream)"

for n in 1 2; do
	tap_ok "h$n: docker rm -f c$n" dk "$n" rm -f "c$n"
	rt_bg_stop "dockerd$n" && rc=0 || rc=$?
	tap_eq "h$n: dockerd stops cleanly on SIGTERM" 0 "$rc"
	tap_no_file "h$n: and removes its pid file and socket" "$RT_DIR/h$n/docker.pid" \
		"$RT_DIR/h$n/docker.sock"
	rt_bg_stop "h$n"
	# Left: the init and its sleep.
	tap_eq "h$n: no process left in the host (containerd, shims, containers)" "" "$(rt_leftovers "$n")"
	cg=$(rt_cgroups "$n" | grep -c .)
	rt_host_down "$n"
	tap_eq "h$n: its cgroups ($cg left by the runtime) are removed when it goes" "" "$(rt_cgroups "$n")"
done
keys_restore
tap_eq "the keyring limits dockerd raised are back" "$KEYS0" "$(cat "${KEYS[@]}" | tr '\n' ' ')"
echo "# took $(($(now_ms) - T0)) ms"
tap_done
