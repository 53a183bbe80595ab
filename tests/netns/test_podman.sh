#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# podman (Debian, its CNI network backend) with weft's CNI plugin on two netns
# hosts (runtime_lib.sh: each with its own mount and PID namespaces) on vxlan,
# a real etcd, weftd --ip-masq on each host:
#   - the network is contrib/cni/10-flannel.conflist with a per-host
#     subnetFile and dataDir; the plugin is installed as `flannel` in a per-run
#     CNI bin directory next to Debian's reference plugins; podman's storage,
#     run root, configuration and cgroup parent are per host and per run;
#   - an image imported from busybox-static (no registry is reachable);
#   - containers on the two hosts ping each other both ways, reach the
#     outside masqueraded by weftd;
#   - a published port (-p 8080:80) through portmap chained after flannel,
#     reached from the other host at the host's address;
#   - `podman restart` (CNI DEL + ADD) keeps one address reservation and one
#     stored configuration for the container, and the network working;
#   - `podman rm` releases the address (host-local's file), the plugin's
#     stored configuration (its dataDir) and the port mapping.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/runtime_lib.sh

T0=$(now_ms)
rt_skip_unless podman conmon nsenter unshare readelf
rt_skip_unless_busybox_static "podman test"
for t in bridge host-local portmap loopback; do
	[ -x /usr/lib/cni/$t ] || {
		tap_skip "podman test" "no /usr/lib/cni/$t (containernetworking-plugins)"
		tap_done
		exit 0
	}
done

IMAGE=localhost/weft/busybox:test
NET=cbr0
up() { tap_ok "$1" false; tap_done; exit 1; }

# pm N podman-args...: podman in host N with that host's configuration.
pm() {
	local n=$1
	shift
	rt_exec "$n" env CONTAINERS_CONF="$RT_DIR/h$n/containers.conf" \
		CONTAINERS_STORAGE_CONF="$RT_DIR/h$n/storage.conf" podman "$@"
}

# The per-run CNI bin directory: our plugin as flannel, the reference plugins.
cni_bin=$RT_DIR/cni-bin
mkdir -p "$cni_bin"
install -m 0755 "$WEFT_BUILD/weft-cni" "$cni_bin/flannel"
for p in /usr/lib/cni/*; do
	[ -e "$cni_bin/${p##*/}" ] || ln -s "$p" "$cni_bin/${p##*/}"
done

# What the environment allows: containers get the session's hard limits. With
# a default_ulimits that names nofile only, podman 4.3 asks for 1048576
# processes and runc fails here: "error setting rlimit type 6: operation not
# permitted" (without default_ulimits it takes the session's limits). The soft
# open-file limit is 1024, so that the check below sees containers.conf's
# values, not a default. (`podman exec` sessions get podman's own limits:
# the check reads the container's PID 1.)
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nofile" != unlimited ] || nofile=1048576
[ "$nproc" != unlimited ] || nproc=4194304

host_conf() { # N
	local n=$1 d=$RT_DIR/h$1
	mkdir -p "$d/cni-conf" "$d/data"
	python3 - contrib/cni/10-flannel.conflist "$RUN_DIR/h$n.env" "$d/flannel" \
		>"$d/cni-conf/10-flannel.conflist" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["plugins"][0]["subnetFile"] = sys.argv[2]
c["plugins"][0]["dataDir"] = sys.argv[3]
print(json.dumps(c, indent=2))
EOF
	cat >"$d/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[network]
network_backend = "cni"
cni_plugin_dirs = ["$cni_bin"]
network_config_dir = "$d/cni-conf"
default_network = "$NET"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
	cat >"$d/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$d/data/storage"
runroot = "$d/data/run"
EOF
}

cluster_init || up "cluster up"
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}'
for n in 1 2; do
	host_add "$n" || up "host $n"
	rt_host_up "$n" || up "host $n: its mount and PID namespaces"
	rt_weftd_start "$n" --iface eth0 --ip-masq
done
for n in 1 2; do host_held "$n" || up "h$n holds a lease"; done
rt_busybox_tar || up "busybox root file system"
for n in 1 2; do host_conf "$n"; done
echo "# $(pm 1 --version): $(pm 1 info --format 'network backend {{.Host.NetworkBackend}}, OCI runtime {{.Host.OCIRuntime.Name}}, cgroups {{.Host.CgroupsVersion}}, storage {{.Store.GraphDriverName}}')"

serve="mkdir -p /www && echo hello from \$(hostname) >/www/hello && exec httpd -f -p 80 -h /www"
declare -A CID=() CIP=()
ipam_dir() { echo "$RT_DIR/h$1/fs/var/lib/cni/networks/$NET"; }
stored() { # N: the plugin's stored configurations (file names in its dataDir)
	local f
	for f in "$RT_DIR/h$1/flannel"/*; do [ -e "$f" ] && echo "${f##*/}"; done | sort | tr '\n' ' '
}
reserved() { # N: "IP=container-id" for every host-local reservation
	local f
	for f in "$(ipam_dir "$1")"/*; do
		case ${f##*/} in [0-9]*) echo "${f##*/}=$(head -1 "$f" | tr -d '\r')" ;; esac
	done | sort | tr '\n' ' '
}
cip() { pm "$1" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$2"; }

for n in 1 2; do
	tap_ok "h$n: podman import the busybox-static image" pm "$n" import \
		--change 'CMD ["/bin/sh"]' "$RT_DIR/busybox.tar" "$IMAGE"
	ports=()
	[ "$n" = 1 ] && ports=(-p 8080:80)
	out=$(pm "$n" run -d --name "c$n" --hostname "c$n" --network "$NET" \
		--cgroup-parent "$(rt_cgroup_parent "$n")" "${ports[@]}" "$IMAGE" sh -c "$serve" 2>&1) &&
		rc=0 || rc=$?
	if [ "$rc" -ne 0 ]; then
		tap_not_ok "h$n: podman run c$n through the flannel network" "exit $rc"
		printf '%s\n' "$out" | tail -15 | sed 's/^/#   | /'
		up "h$n: a container"
	fi
	CID[$n]=$(tail -1 <<<"$out")
	CIP[$n]=$(cip "$n" "c$n")
	tap_ok "h$n: podman run c$n through the flannel network (${CIP[$n]})" python3 -c 'import ipaddress,sys
assert ipaddress.ip_address(sys.argv[2]) in ipaddress.ip_interface(sys.argv[1]).network' \
		"$(host_env "$n" FLANNEL_SUBNET)" "${CIP[$n]:-x}"
	tap_eq "h$n: the plugin stored c$n's delegate configuration" "${CID[$n]} " "$(stored "$n")"
	tap_ok "h$n: a bridge delegate with the host's MTU" grep -q \
		"\"mtu\":$(host_env "$n" FLANNEL_MTU),\"name\":\"$NET\",\"type\":\"bridge\"" \
		"$RT_DIR/h$n/flannel/${CID[$n]}"
	tap_eq "h$n: host-local reserved c$n's address" "${CIP[$n]}=${CID[$n]} " "$(reserved "$n")"
	tap_eq "h$n: cni0 holds FLANNEL_SUBNET" "$(host_env "$n" FLANNEL_SUBNET)" \
		"$(host_exec "$n" ip -4 -o addr show dev cni0 | awk '{print $4}')"
	tap_eq "h$n: c$n's MTU is FLANNEL_MTU" "$(host_env "$n" FLANNEL_MTU)" \
		"$(pm "$n" exec "c$n" cat /sys/class/net/eth0/mtu)"
	tap_ok "h$n: c$n runs under the host's cgroup parent $(rt_cgroup_parent "$n")" grep -q \
		":$(rt_cgroup_parent "$n")/" <<<"$(pm "$n" exec "c$n" cat /proc/1/cgroup)"
	tap_eq "h$n: c$n's limits are containers.conf's default_ulimits" "1024 $nofile $nproc $nproc" \
		"$(pm "$n" exec "c$n" cat /proc/1/limits | awk '/^Max open files/ { f = $4 " " $5 }
			/^Max processes/ { p = $3 " " $4 } END { print f, p }')"
done

tap_ok "c1 on h1 pings c2 on h2 (vxlan)" wait_until 10 pm 1 exec c1 ping -c 1 -W 1 "${CIP[2]}"
tap_ok "c2 on h2 pings c1 on h1" pm 2 exec c2 ping -c 3 -W 2 "${CIP[1]}"
tap_eq "c2 fetches c1's page across hosts" "hello from c1" \
	"$(pm 2 exec c2 timeout 10 wget -q -O - "http://${CIP[1]}/hello")"

mkdir -p "$RT_DIR/www"
echo outside >"$RT_DIR/www/index.html"
port=$(free_port)
run_bg outside ip netns exec "$UL" python3 -m http.server "$port" --bind "$UNDERLAY_PREFIX.1" \
	--directory "$RT_DIR/www"
wait_until 10 ip netns exec "$UL" curl -s -o /dev/null "http://$UNDERLAY_PREFIX.1:$port/" ||
	echo "# the outside web server did not start"
tap_eq "c2 fetches a page from the outside" outside \
	"$(pm 2 exec c2 timeout 10 wget -q -O - "http://$UNDERLAY_PREFIX.1:$port/?from=c2")"
tap_ok "the outside saw it from h2's address $(host_ip 2) (weftd's masquerade)" \
	grep -q "^$(host_ip 2) .*GET /?from=c2 " "$RUN_DIR/outside.log"
stop_bg outside

hostport() { # FROM_HOST: c1's page through h1's published port 8080
	host_exec "$1" curl -s -m 5 "http://$(host_ip 1):8080/hello"
}
tap_eq "h2 reaches c1's port 80 at h1's address:8080 (portmap after flannel)" "hello from c1" \
	"$(hostport 2)"
tap_eq "and so does c2 on h2" "hello from c1" \
	"$(pm 2 exec c2 timeout 10 wget -q -O - "http://$(host_ip 1):8080/hello")"

# restart: CNI DEL, then ADD
old=${CIP[1]}
tap_ok "podman restart c1" pm 1 restart -t 0 c1
CIP[1]=$(cip 1 c1)
echo "# c1's address: $old before the restart, ${CIP[1]} after"
tap_eq "after the restart: one stored configuration, c1's" "${CID[1]} " "$(stored 1)"
tap_eq "after the restart: one reservation, c1's new address" "${CIP[1]}=${CID[1]} " "$(reserved 1)"
tap_ok "c2 pings c1 at its address after the restart" wait_until 10 pm 2 exec c2 ping -c 1 -W 1 "${CIP[1]}"
tap_ok "h2 reaches c1's published port after the restart" wait_until 10 eval \
	'[ "$(hostport 2)" = "hello from c1" ]'

# rm: CNI DEL for good
for n in 1 2; do
	tap_ok "h$n: podman rm -f c$n" pm "$n" rm -f -t 0 "c$n"
	tap_ok "h$n: the plugin's dataDir is there" test -d "$RT_DIR/h$n/flannel"
	tap_eq "h$n: no stored configuration left" "" "$(stored "$n")"
	tap_ok "h$n: host-local's directory is there" test -d "$(ipam_dir "$n")"
	tap_eq "h$n: no address reservation left" "" "$(reserved "$n")"
done
tap_lacks "h1: the port mapping is gone" 'dport 8080' '^-P PREROUTING ' \
	rt_exec 1 iptables -t nat -S
for n in 1 2; do
	tap_ok "h$n: no container left" eval "[ -z \"\$(pm $n ps -aq)\" ]"
	rt_bg_stop "h$n"
	tap_eq "h$n: no process left in the host (conmon, containers)" "" "$(rt_leftovers "$n")"
	cg=$(rt_cgroups "$n" | grep -c .)
	rt_host_down "$n"
	tap_eq "h$n: its cgroups ($cg left by the runtime) are removed when it goes" "" "$(rt_cgroups "$n")"
done
echo "# took $(($(now_ms) - T0)) ms"
tap_done
