#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CNI ADD and DEL latency of weft's plugin (installed as "flannel", delegating
# to the reference bridge + host-local plugins) against the bridge plugin run
# directly with the very delegate configuration our plugin stores and sends.
# The difference is the meta-plugin's own cost: reading subnet.env, building
# the configuration, the state file (renamed into place, not fsync'ed) and one
# more fork+exec.
#
#   bench/cni.sh [-n RUNS] [-d DATADIR_PARENT] [-t]
#
# Prints median and p99 (nearest rank) per operation, the ratio of the
# medians, and the median (with quartiles) of the per-round differences: the
# overhead (our process, our work, and the extra fork+exec of the delegate).
# Two more arms run the bridge through static C programs that do nothing else,
# and their overheads over the bridge alone are the floors any meta-plugin pays
# on this machine: "exec" only execs the bridge in place (the floor of being a
# process of its own: exec and libc start-up); "spawn" starts the bridge and
# waits for it (the floor of a plugin that acts after its delegate ends, as DEL
# must, to keep the state file when the delegate's DEL fails). How far ours is
# above each floor is printed too. The runs alternate (ours, bridge, exec,
# spawn; ADD then DEL) so that drift hits all alike.
# -d puts the state files on another file system (default: the run directory
# under /tmp). -t puts a trivial static program in the bridge's place (it reads
# stdin and prints a fixed result): without the bridge's own variance of
# several ms, the overhead and the floors move by a few tenths of a ms from run
# to run.
# Root required; everything happens in two namespaces of our own, removed on
# exit. A benchmark, not a test: it asserts nothing.
set -u
cd "$(dirname "$0")/.."
RUNS=100
PARENT=
TRIVIAL=
while getopts n:d:t o; do
	case $o in
	n) RUNS=$OPTARG ;;
	d) PARENT=$OPTARG ;;
	t) TRIVIAL=1 ;;
	*) echo "usage: $0 [-n RUNS] [-d DATADIR_PARENT] [-t]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench/cni.sh: needs root (network namespaces)" >&2; exit 1; }
for t in bridge host-local; do
	[ -x /usr/lib/cni/$t ] || { echo "bench/cni.sh: /usr/lib/cni/$t missing (containernetworking-plugins)" >&2; exit 1; }
done
export WEFT_BUILD=${WEFT_BUILD:-build}
[ -x "$WEFT_BUILD/weft-cni" ] || make -s all >/dev/null

. tests/lib/common.sh
NS=wbc$$
H=$NS-h
P=$NS-p
ns_cleanup_bench() { ip netns del "$H" 2>/dev/null; ip netns del "$P" 2>/dev/null; }
on_cleanup ns_cleanup_bench
ip netns add "$H" && ip netns add "$P" || exit 1
ip -n "$H" link set lo up
ip -n "$P" link set lo up

BIN=$RUN_DIR/bin
STATE=${PARENT:+$(mktemp -d "$PARENT/weft-bench-cni.XXXXXX")}
STATE=${STATE:-$RUN_DIR}
[ -z "$PARENT" ] || on_cleanup "rm -rf '$STATE'"
mkdir -p "$BIN"
install -m 0755 "$WEFT_BUILD/weft-cni" "$BIN/flannel"
# The floors: static programs that do nothing but exec the bridge in place
# (shim), or start it and wait for it (waiter); stdin and stdout are the bridge's.
cat >"$RUN_DIR/shim.c" <<'C'
#include <unistd.h>
int main(int c, char **v)
{
	(void)c;
	v[0] = BRIDGE;
	execv(v[0], v);
	return 127;
}
C
cat >"$RUN_DIR/waiter.c" <<'C'
#include <spawn.h>
#include <sys/wait.h>
extern char **environ;
int main(int c, char **v)
{
	pid_t pid;
	int st;

	(void)c;
	v[0] = BRIDGE;
	if (posix_spawn(&pid, v[0], NULL, NULL, v, environ) != 0 || waitpid(pid, &st, 0) < 0)
		return 127;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}
C
for f in shim waiter; do
	${CC:-cc} -O2 -static -DBRIDGE="\"$BIN/bridge\"" -o "$BIN/$f" "$RUN_DIR/$f.c" ||
		{ echo "bench/cni.sh: cannot build the static $f (cc -static)" >&2; exit 1; }
done
if [ -n "$TRIVIAL" ]; then
	cat >"$RUN_DIR/trivial.c" <<'C'
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	char b[4096];

	while (read(0, b, sizeof(b)) > 0)
		;
	fputs("{\"cniVersion\":\"0.3.1\",\"interfaces\":[],\"ips\":[]}\n", stdout);
	return 0;
}
C
	${CC:-cc} -O2 -static -o "$BIN/bridge" "$RUN_DIR/trivial.c" || exit 1
	ln -s /usr/lib/cni/host-local "$BIN/"
else
	ln -s /usr/lib/cni/bridge /usr/lib/cni/host-local "$BIN/"
fi
printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n' \
	>"$RUN_DIR/subnet.env"
cat >"$RUN_DIR/flannel.json" <<EOF
{"name":"cbr0","cniVersion":"0.3.1","type":"flannel","subnetFile":"$RUN_DIR/subnet.env",
 "dataDir":"$STATE/flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true},
 "ipam":{"dataDir":"$STATE/ipam"}}
EOF

# One loop inside the host namespace; bash's $EPOCHREALTIME around each
# plugin run (the fork+exec a runtime pays is in both figures).
cat >"$RUN_DIR/loop.sh" <<'EOF'
runs=$1 dir=$2 bin=$3 pod=$4 state=$5
export CNI_NETNS=/var/run/netns/$pod CNI_IFNAME=eth0 CNI_PATH=$bin
us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
one() { # FILE CMD ID PLUGIN CONF
	local t0 t1
	t0=$(us)
	CNI_COMMAND=$2 CNI_CONTAINERID=$3 "$bin/$4" <"$5" >"$dir/out" 2>/dev/null || {
		echo "bench: $4 $2 $3 failed: $(cat "$dir/out")" >&2
		exit 1
	}
	t1=$(us)
	echo $((t1 - t0)) >>"$dir/$1"
}
# The delegate configuration, as stored by our plugin's first ADD.
one warm ADD ref flannel "$dir/flannel.json"
cp "$state/ref" "$dir/bridge.json"
one warm DEL ref flannel "$dir/flannel.json"
# One round: ADD then DEL through each arm in turn (the file names and the
# arms' names are what the report below reads).
round() { # ID FILE (FILE empty: ARM-add and ARM-del)
	local id=$1 file=$2 arm plugin conf
	for arm in weft bridge shim waiter; do
		plugin=$arm conf=$dir/bridge.json
		if [ "$arm" = weft ]; then plugin=flannel conf=$dir/flannel.json; fi
		one "${file:-$arm-add}" ADD "$arm-$id" "$plugin" "$conf"
		one "${file:-$arm-del}" DEL "$arm-$id" "$plugin" "$conf"
	done
}
for i in $(seq 1 5); do round "warm$i" warm; done # not counted
for i in $(seq 1 "$runs"); do round "$i" ""; done
EOF
ip netns exec "$H" bash "$RUN_DIR/loop.sh" "$RUNS" "$RUN_DIR" "$BIN" "$P" "$STATE/flannel" || exit 1

left=$(find "$STATE/flannel" -type f | grep -c .)
[ "$left" = 0 ] || echo "# warning: $left state file(s) left in $STATE/flannel" >&2

python3 - "$RUN_DIR" "$RUNS" "$(df -T "$STATE" | awk 'NR==2{print $2}')" "$TRIVIAL" <<'EOF'
import math, statistics, sys
d, runs, fs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
trivial = " (-t: a trivial static program as the bridge)" if sys.argv[4] else ""
def load(name): # in run order: round i of each arm ran back to back
    return [int(x) / 1000 for x in open(f"{d}/{name}")]
def p99(v):
    v = sorted(v)
    return v[max(0, math.ceil(0.99 * len(v)) - 1)]
def paired(a, b): # median and quartiles of the per-round differences
    q = statistics.quantiles([x - y for x, y in zip(a, b)], n=4)
    return f"{q[1]:6.2f} [{q[0]:5.2f},{q[2]:5.2f}]"
print(f"CNI latency, {runs} rounds, ms (state on {fs}; weft = weft+bridge, bridge = bridge alone{trivial})")
print(f"{'op':<4} {'weft median':>12} {'weft p99':>9} {'bridge median':>14} {'bridge p99':>11} {'ratio':>6}")
arms = {}
for op in ("add", "del"):
    arms[op] = [load(f"{a}-{op}") for a in ("weft", "bridge", "shim", "waiter")]
    w, b = arms[op][0], arms[op][1]
    mw, mb = statistics.median(w), statistics.median(b)
    print(f"{op.upper():<4} {mw:12.2f} {p99(w):9.2f} {mb:14.2f} {p99(b):11.2f} {mw / mb:6.2f}")
print()
print("Per-round differences, ms, median [quartiles]. overhead = weft - bridge; the floors are the")
print("static programs' overheads over the bridge: exec = exec it in place, spawn = start it and wait.")
print(f"{'op':<4} {'overhead':>20} {'floor: exec':>20} {'floor: spawn':>20} {'weft - exec':>20} {'weft - spawn':>20}")
for op in ("add", "del"):
    w, b, s, p = arms[op]
    print(f"{op.upper():<4} {paired(w, b):>20} {paired(s, b):>20} {paired(p, b):>20} "
          f"{paired(w, s):>20} {paired(w, p):>20}")
EOF
