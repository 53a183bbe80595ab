#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The container image (`make image`, scripts/image.sh) run by podman the way the
# DaemonSet in contrib/kubernetes/kube-weft-etcd.yml runs it, on netns hosts
# against the test etcd:
#  - the image builds (its size is printed); weftd --version through the
#    entrypoint (/opt/bin/flanneld) is the build's; the tools and libraries weftd
#    runs and loads are in it, the documentation is not;
#  - the manifest's init containers, run as written (command, args, env,
#    volumes; a ConfigMap as a folder of files, hostPaths as per-run host
#    folders): the CNI plugin lands in the host's /opt/cni/bin/flannel (over a
#    stale one), the conflist in /etc/cni/net.d/10-flannel.conflist with the
#    ConfigMap's bytes, no temporary file left; net-conf.json is put into etcd;
#  - the manifest's agent container (hostNetwork = the host's network namespace,
#    the manifest's capabilities) on two hosts: leases in etcd with the hosts'
#    addresses, subnet.env in the bound /run/flannel, flannel's iptables rules
#    (the image's iptables), readiness, `weftctl status` in the container, pods
#    on the two hosts reach each other over vxlan; `podman stop` ends weftd
#    with 0 and the lease stays;
#  - nftables mode (libnftables from the image) on a third host.
# Every podman command runs in a private mount namespace (its own /dev/shm and
# /run/crun, /run/runc, /run/containers, /run/libpod, /var/lib/containers,
# /var/lib/cni) with per-run storage and configuration, not through `ip netns
# exec` (it remounts /sys without the cgroup mounts): containers join a host's
# network namespace by path (--network ns:/run/netns/...), their cgroups are
# under a per-run parent (cgroupfs), conmon in none. Everything is removed by
# container name, process id and path, also on failure. About 30 s, plus
# about 80 s when build/image has no cached Debian base (debootstrap).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

MANIFEST=contrib/kubernetes/kube-weft-etcd.yml
PR=$RUN_DIR/podman
IMG=weft:latest

for t in podman debootstrap nsenter unshare; do
	if ! command -v "$t" >/dev/null; then
		tap_skip "container image" "$t not installed (scripts/deps.sh image)"
		tap_done
		exit 0
	fi
done
python3 -c 'import yaml' 2>/dev/null || {
	tap_skip "container image" "python3-yaml not installed (scripts/deps.sh image)"
	tap_done
	exit 0
}

# First, so that its namespaces are removed last.
cluster_init || { tap_not_ok "cluster up"; tap_done; exit 1; }
for n in 1 2 3; do host_add "$n"; done

# --- podman in its own mount namespace, with its own state -------------------
mkdir -p "$PR"/{storage,runroot,tmp,net.d,varlib,shm}
# podman asks for nofile and nproc limits of 1048576, which this machine may
# refuse ("error setting rlimits for ready process ... operation not
# permitted"): ask for the hard limits in force, nproc at most pid_max (above
# it setrlimit fails here, even below the hard limit).
nproc=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max)
[ "$nproc" != unlimited ] && [ "$nproc" -le "$pid_max" ] || nproc=$pid_max
ulimits=("\"nproc=$nproc:$nproc\"")
[ "$(ulimit -Hn)" = unlimited ] || ulimits+=("\"nofile=$(ulimit -Hn):$(ulimit -Hn)\"")
cat >"$PR/containers.conf" <<EOF
[containers]
default_ulimits = [$(IFS=,; echo "${ulimits[*]}")]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PR/events.log"
tmp_dir = "$PR/tmp"
image_copy_tmp_dir = "$PR/tmp"
volume_path = "$PR/storage/volumes"

[network]
network_config_dir = "$PR/net.d"
EOF
cat >"$PR/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PR/storage"
runroot = "$PR/runroot"
EOF
printf 'unqualified-search-registries = []\n' >"$PR/registries.conf"

# The fixed paths podman and crun use besides the configured ones, each a
# per-run folder (or tmpfs) in the namespace; mount points missing on this
# machine are made first and removed at the end.
PRIVATE_DIRS=(/run/crun /run/runc /run/containers /run/libpod /var/lib/containers /var/lib/cni)
made_dirs=()
for d in "${PRIVATE_DIRS[@]}"; do
	[ -d "$d" ] || { mkdir -p "$d" && made_dirs+=("$d"); }
done
rm_made_dirs() { local d; for d in "${made_dirs[@]}"; do rmdir "$d"; done; }
on_cleanup rm_made_dirs
run_bg podns unshare --mount --propagation private bash -c '
	set -e
	pr=$1; shift
	mount -t tmpfs -o mode=1777,size=64m weft-shm /dev/shm
	mount --bind "$pr/varlib" /var/lib/containers
	for d in "$@"; do
		[ "$d" = /var/lib/containers ] || mount -t tmpfs -o mode=0755,size=16m weft-run "$d"
	done
	touch "$pr/podns.ready"
	exec sleep 100000' podns "$PR" "${PRIVATE_DIRS[@]}"
wait_until 10 test -e "$PR/podns.ready" || {
	tap_not_ok "private mount namespace for podman" "$(cat "$RUN_DIR/podns.log")"
	tap_done
	exit 1
}

cat >"$PR/podman" <<EOF
#!/bin/sh
exec nsenter -t $(bg_pid podns) -m -- env TMPDIR="$PR/tmp" CONTAINERS_CONF="$PR/containers.conf" \\
	CONTAINERS_STORAGE_CONF="$PR/storage.conf" CONTAINERS_REGISTRIES_CONF="$PR/registries.conf" \\
	podman --root "$PR/storage" --runroot "$PR/runroot" --tmpdir "$PR/tmp" \\
	--cgroup-manager cgroupfs --events-backend file "\$@"
EOF
chmod +x "$PR/podman"
pm() { "$PR/podman" "$@"; }
# Containers in cgroups under a per-run parent (cgroupfs), conmon in ours.
CGP=weft-test-$NS
pm_run() { pm run --cgroups=no-conmon --cgroup-parent="/$CGP" "$@"; }
CTRS=()
# Containers by name, then their conmon processes by pid, if still there,
# then the per-run cgroups.
pm_cleanup() {
	local c pid
	for c in "${CTRS[@]}"; do
		pm rm -f -t 0 "$c"
		pid=$(cat "$PR/$c.conmon.pid" 2>/dev/null) && kill -KILL "$pid"
	done
	for c in /sys/fs/cgroup/*/"$CGP" /sys/fs/cgroup/"$CGP"; do
		[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} +
	done
}
on_cleanup pm_cleanup

# --- the image ------------------------------------------------------------------
t0=$(now_ms)
if PODMAN="$PR/podman" IMAGE_ARCHIVE='' IMAGE_TAG=test scripts/image.sh "$WEFT_BUILD" >"$RUN_DIR/image.log" 2>&1; then
	tap_ok "the image builds ($(($(now_ms) - t0)) ms)" true
else
	tap_not_ok "the image builds" "$(tail -20 "$RUN_DIR/image.log")"
	tap_done
	exit 1
fi
sed 's/^/# /' "$RUN_DIR/image.log"

tap_eq "weftd --version through the image's entrypoint (/opt/bin/flanneld)" \
	"$("$WEFT_BUILD/weftd" --version 2>&1)" "$(pm_run --rm --network none "$IMG" --version 2>&1)"

# What weftd runs (iptables mode: found on PATH), loads (dlopen) and links
# (the CNI plugin is static: it runs: without CNI_COMMAND, exit 1).
inside=$(pm_run --rm --network none --entrypoint sh "$IMG" -c '
	for t in iptables iptables-restore iptables-save ip6tables ip6tables-restore nft \
		weftctl mk-docker-opts.sh install-conf flanneld; do
		command -v "$t" >/dev/null || echo "missing tool: $t"
	done
	for l in libnftables.so.1 libssl.so.3 libcrypto.so.3 libsodium.so.23; do
		ldconfig -p | awk "{print \$1}" | grep -qxF "$l" || echo "missing library: $l"
	done
	ldd /opt/bin/weftd /opt/bin/weftctl | grep "not found"
	/flannel </dev/null >/dev/null 2>&1; [ $? -eq 1 ] || echo "/flannel does not run"
	[ "$(readlink /opt/bin/flanneld)" = weftd ] || echo "/opt/bin/flanneld is not weftd"
	[ -z "$(find /usr/share/doc -type f ! -name copyright | head -1)" ] || echo "docs left"
	[ -z "$(find /usr/share/man /var/lib/apt/lists -type f | head -1)" ] || echo "man pages or apt lists left"
	echo done' 2>&1)
tap_eq "the image holds the tools and libraries weftd needs, no docs" "done" "$inside"

# --- the manifest, as a kubelet would run it ---------------------------------------
# kubelet.py ... HOST CONTAINER ... [EXTRA_ARG...]: podman run arguments (NUL-separated)
# for one container of the DaemonSet: hostNetwork as host HOST's namespace,
# the securityContext's capabilities on top of containerd's defaults, env
# (values, ConfigMap keys, downward API), $(VAR) in command and args, volumes
# (hostPath: $PR/HOST/<path>; configMap: a folder of its keys).
cat >"$PR/kubelet.py" <<'EOF'
import json, os, re, sys, yaml
manifest, host, cname, hostns, hostdir, hostip, etcd = sys.argv[1:8]
extra = sys.argv[8:]
docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
cm = next(d for d in docs if d["kind"] == "ConfigMap")
data = dict(cm["data"])
data["etcd-endpoints"] = etcd
ds = next(d for d in docs if d["kind"] == "DaemonSet")
pod = ds["spec"]["template"]["spec"]
assert pod.get("hostNetwork") is True, "the DaemonSet is not hostNetwork"
ctrs = {c["name"]: c for c in pod.get("initContainers", []) + pod["containers"]}
c = ctrs[cname]
# The manifest names the image as `make image` tags it.
assert c["image"] == os.environ["IMG"], "container %s runs %s, not %s" % (cname, c["image"], os.environ["IMG"])
vols = {v["name"]: v for v in pod["volumes"]}
env = {}
for e in c.get("env", []):
    if "value" in e:
        env[e["name"]] = e["value"]
        continue
    vf = e["valueFrom"]
    if "configMapKeyRef" in vf:
        env[e["name"]] = data[vf["configMapKeyRef"]["key"]]
    else:
        env[e["name"]] = {"spec.nodeName": "node" + host, "metadata.name": "kube-flannel-ds-" + host,
                          "metadata.namespace": "kube-flannel", "status.hostIP": hostip}[vf["fieldRef"]["fieldPath"]]
expand = lambda s: re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), s)
caps = ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
        "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"]
sc = c.get("securityContext", {})
args = ["--network", "ns:" + hostns]
if sc.get("privileged"):
    args.append("--privileged")
else:
    args += ["--cap-drop", "ALL"]
    for cap in caps + sc.get("capabilities", {}).get("add", []):
        args += ["--cap-add", cap]
for k, v in env.items():
    args += ["--env", k + "=" + v]
for m in c.get("volumeMounts", []):
    v = vols[m["name"]]
    if "hostPath" in v:
        src = hostdir + v["hostPath"]["path"]
        if v["hostPath"].get("type") == "FileOrCreate":
            os.makedirs(os.path.dirname(src), exist_ok=True)
            open(src, "a").close()
        else:
            os.makedirs(src, exist_ok=True)
    else:
        src = os.path.join(hostdir, "configmap", v["configMap"]["name"])
        os.makedirs(src, exist_ok=True)
        for k, val in data.items():
            open(os.path.join(src, k), "w").write(val)
    ro = m.get("readOnly") or "configMap" in v  # a ConfigMap volume is read-only
    args += ["--volume", src + ":" + m["mountPath"] + (":ro" if ro else "")]
if "command" in c:
    args += ["--entrypoint", json.dumps([expand(x) for x in c["command"]])]
args.append(c["image"])
args += [expand(x) for x in c.get("args", [])] + extra
sys.stdout.write("\0".join(args) + "\0")
EOF

# pod_run HOST CONTAINER [podman run options...] -- [extra agent args]
pod_run() {
	local n=$1 c=$2 opts=() a
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	mapfile -d '' a < <(IMG=$IMG python3 "$PR/kubelet.py" "$MANIFEST" "$n" "$c" "/run/netns/$(host_ns "$n")" \
		"$PR/h$n" "$(host_ip "$n")" "$ETCD_ENDPOINT" "$@") || return 1
	[ ${#a[@]} -gt 0 ] || return 1
	pm_run "${opts[@]}" "${a[@]}"
}

# Init containers on h1. A stale plugin is there already: it is replaced.
mkdir -p "$PR/h1/opt/cni/bin"
echo stale >"$PR/h1/opt/cni/bin/flannel"
for c in install-cni-plugin install-cni put-net-conf; do
	CTRS+=("$NS-h1-$c")
	if out=$(pod_run 1 "$c" --rm --name "$NS-h1-$c" -- 2>&1); then
		tap_ok "init container $c: exit 0" true
	else
		tap_not_ok "init container $c: exit 0" "$out"
	fi
done
tap_ok "kube-weft.yml installs the same way (same image, init containers, volumes)" python3 -c '
import sys, yaml
def pod(f):
    ds = [d for d in yaml.safe_load_all(open(f)) if d and d["kind"] == "DaemonSet"][0]
    s = ds["spec"]["template"]["spec"]
    inits = {c["name"]: c for c in s["initContainers"]}
    return ([inits[n] for n in ("install-cni-plugin", "install-cni")],
            [v for v in s["volumes"] if v["name"] in ("cni-plugin", "cni")],
            s["containers"][0]["image"], s["containers"][0]["command"])
a, b = pod(sys.argv[1]), pod(sys.argv[2])
sys.exit(0 if a == b else 1)' "$MANIFEST" contrib/kubernetes/kube-weft.yml
plugin=$PR/h1/opt/cni/bin/flannel
pm_run --rm --network none --entrypoint cat "$IMG" /flannel >"$RUN_DIR/image-flannel"
tap_ok "install-cni-plugin: the image's /flannel is the host's /opt/cni/bin/flannel" \
	cmp "$RUN_DIR/image-flannel" "$plugin"
tap_eq "install-cni-plugin: mode 755" 755 "$(stat -c %a "$plugin")"
tap_ok "install-cni-plugin: the host's copy runs (CNI VERSION)" \
	eval "CNI_COMMAND=VERSION '$plugin' </dev/null | grep -q supportedVersions"
# Copied onto hosts that need not have the image's libraries, as Go's are.
tap_lacks "install-cni-plugin: statically linked (no program interpreter)" \
	"Requesting program interpreter" "Program Headers" readelf -l "$plugin"
cm_conf=$(python3 -c 'import sys, yaml
print([d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "ConfigMap"][0]["data"]["cni-conf.json"], end="")' "$MANIFEST")
tap_eq "install-cni: /etc/cni/net.d/10-flannel.conflist is the ConfigMap's cni-conf.json" \
	"$cm_conf" "$(cat "$PR/h1/etc/cni/net.d/10-flannel.conflist")"
tap_eq "install-cni: no temporary file left" "10-flannel.conflist" "$(ls -A "$PR/h1/etc/cni/net.d")"
tap_eq "install-cni-plugin: no temporary file left" "flannel" "$(ls -A "$PR/h1/opt/cni/bin")"
tap_eq "put-net-conf: etcd holds the ConfigMap's net-conf.json" \
	"$(python3 -c 'import json,sys,yaml
d=[d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "ConfigMap"][0]["data"]
print(json.dumps(json.loads(d["net-conf.json"]), sort_keys=True))' "$MANIFEST")" \
	"$(etcd_get $P/config | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')"

# The agent container on h1 and h2.
for n in 1 2; do
	name=$NS-h$n-kube-flannel
	CTRS+=("$name")
	if out=$(pod_run "$n" kube-flannel -d --name "$name" --conmon-pidfile "$PR/$name.conmon.pid" -- 2>&1); then
		tap_ok "agent container on h$n starts" true
	else
		tap_not_ok "agent container on h$n starts" "$out"
	fi
done
for n in 1 2; do
	env=$PR/h$n/run/flannel/subnet.env
	tap_ok "h$n: subnet.env written to the host's /run/flannel" wait_until 30 test -s "$env"
	ln -sf "$env" "$RUN_DIR/h$n.env"
	# Ready: the lease held, the rules installed, subnet.env written.
	tap_ok "h$n: /readyz" wait_until 10 host_exec "$n" curl -sf "http://127.0.0.1:8081/readyz"
	pm logs "$NS-h$n-kube-flannel" >"$RUN_DIR/h$n.log" 2>&1
	tap_eq "h$n: subnet.env" "FLANNEL_NETWORK=10.244.0.0/16 FLANNEL_MTU=1450 FLANNEL_IPMASQ=true" \
		"$(grep -E '^FLANNEL_(NETWORK|MTU|IPMASQ)=' "$env" | tr '\n' ' ' | sed 's/ $//')"
	tap_eq "h$n: its lease in etcd has its address" "$(host_ip "$n")" \
		"$(etcd_get "$(lease_key "$n")" | python3 -c 'import json,sys; print(json.load(sys.stdin)["PublicIP"])')"
	tap_eq "h$n: flannel's masquerade rules (the image's iptables)" \
		"$(golden_nat 10.244.0.0/16 "$(subnet_net "$n")")" "$(host_exec "$n" iptables -t nat -S)"
done
tap_ok "weftctl status in the container names h1's subnet" \
	eval "pm exec '$NS-h1-kube-flannel' weftctl status | grep -qF '$(subnet_net 1)'"
pod_add 1 1 >/dev/null && pod_add 2 1 >/dev/null
tap_ok "a pod on h1 reaches a pod on h2 (vxlan)" wait_until 10 pod_ping 1 1 "${POD_IP[2.1]}"
tap_ok "a pod on h2 reaches a pod on h1 (vxlan)" pod_ping 2 1 "${POD_IP[1.1]}"

lease1=$(lease_key 1)
pm stop -t 10 "$NS-h1-kube-flannel" >/dev/null
tap_eq "podman stop: weftd ends with 0" 0 \
	"$(pm inspect --format '{{.State.ExitCode}}' "$NS-h1-kube-flannel")"
tap_ok "podman stop: the lease stays in etcd" eval "etcd_get '$lease1' | grep -q PublicIP"
pm logs "$NS-h1-kube-flannel" >"$RUN_DIR/h1.log" 2>&1

# nftables mode on h3 (its own network under another prefix).
etcd_put /nft/network/config '{"Network":"10.245.0.0/16","EnableNFTables":true,"Backend":{"Type":"vxlan"}}'
name=$NS-h3-nft
CTRS+=("$name")
mkdir -p "$PR/h3/run/flannel"
pm_run -d --name "$name" --conmon-pidfile "$PR/$name.conmon.pid" --network "ns:/run/netns/$(host_ns 3)" \
	--cap-add NET_ADMIN,NET_RAW --volume "$PR/h3/run/flannel:/run/flannel" "$IMG" \
	--etcd-endpoints "$ETCD_ENDPOINT" --etcd-prefix /nft/network --ip-masq >/dev/null
tap_ok "h3 (nftables): subnet.env written" wait_until 30 test -s "$PR/h3/run/flannel/subnet.env"
tap_ok "h3 (nftables): table ip flannel-ipv4 with the masquerade (libnftables from the image)" \
	eval "host_exec 3 nft list table ip flannel-ipv4 | grep -q masquerade"
tap_eq "h3 (nftables): no iptables rules" "" "$(host_exec 3 iptables -t nat -S 2>&1 | grep -i flannel)"
pm logs "$name" >"$RUN_DIR/h3.log" 2>&1
for n in 1 2 3; do
	tap_eq "h$n: weftd logged no warning or error in the container" "" \
		"$(grep -E '^[0-9TZ:.-]+ [WE] ' "$RUN_DIR/h$n.log")"
done

tap_done
