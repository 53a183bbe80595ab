# SPDX-License-Identifier: Apache-2.0
# Real container runtimes (dockerd, podman) on the netns hosts of lib.sh.
# Requires common.sh, etcd.sh, tap.sh and lib.sh, sourced before this file.
#
# A runtime host is a lib.sh host (its network namespace, made by host_add)
# plus a mount and a PID namespace of its own, made by rt_host_up and held by
# a small init process (PID 1 there):
#   - /sys is a sysfs of the host's network namespace with the machine's cgroup
#     mounts kept (`ip netns exec` mounts a sysfs without them, and dockerd
#     then fails: "Devices cgroup isn't mounted");
#   - /run and /dev/shm are fresh tmpfs (what the runtimes write to /run/docker,
#     /run/containerd, /run/runc, /run/containers, /run/libpod, /run/netns
#     stays in the host and goes with it);
#   - the fixed paths under /var/lib and /etc that the runtimes write to
#     (RT_BIND_PATHS: all of /var/lib, so /var/lib/docker, /var/lib/containers
#     and /var/lib/cni, and /etc/docker, /etc/cni) are bound to per-run
#     folders, $RT_DIR/hN/fs<path> (empty at the start; a path that is not
#     there is left alone: its package is not installed);
#   - every process started in the host (weftd, dockerd and what it starts,
#     podman's conmon and the containers) is in its PID namespace: when the
#     init ends, the kernel ends them all. Nothing is ever killed by name.
# Commands run there with absolute paths: entering a mount namespace moves
# the working directory to its root.
#
#   rt_host_up N               namespaces of host N (after host_add N), with
#                              IP forwarding off, as on a fresh node
#   rt_exec N cmd...           run cmd in host N (network, mount, PID namespaces)
#   rt_bg NAME N cmd...        cmd in host N in the background, log $RUN_DIR/NAME.log
#   rt_bg_stop NAME [SIG]      signal it (default TERM), wait (60 s); its exit status
#   rt_weftd_start N args...   weftd in host N (log $RUN_DIR/hN.log, subnet file
#                              $RUN_DIR/hN.env: host_held and host_env work)
#   rt_pids N                  the host's processes, as the root namespace numbers them
#   rt_leftovers N             "pid command" of each but the init and its sleep
#   rt_busybox_tar             $RT_DIR/busybox.tar: a root file system of Debian's
#                              busybox-static (/bin/busybox and its applets)
#   rt_skip_unless CMD...      TAP skip (and exit 0) naming the first missing command
#   rt_cgroup_parent N         the cgroup parent for the host's containers
#   rt_cgroups N               the cgroups under it that exist, one a line
#   rt_host_down N             end the host: below
# Cleanup (rt_host_down, for every host on exit, also on failure): the host's
# init is ended by pid (which ends its namespaces and everything in them), the
# cgroups under its cgroup parent are removed, and so are the runtimes' folders
# (data roots, storage: $RT_DIR/hN/{fs,data}); logs stay with $RUN_DIR, which
# common.sh removes unless a check failed.

RT_DIR=$RUN_DIR/rt
RT_BIND_PATHS=(/var/lib /etc/docker /etc/cni)
declare -A RT_INIT=() RT_PID=()
WEFT_BUILD=$(cd "$WEFT_BUILD" && pwd)

rt_cgroup_parent() { echo "/weft-$NS-h$1"; }

rt_skip_unless() { # CMD...: skip the whole test when one is missing
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		tap_skip "container runtime test" "$c is not installed (scripts/deps.sh installs it)"
		tap_done
		exit 0
	done
}

# The init of a host's namespaces: mounts, then PID 1 (reaps orphans, such as
# the shims and conmon that runtimes double-fork, until SIGTERM).
_rt_init_script() {
	cat <<'EOF'
set -eu
d=$1
shift
mount -t proc proc /proc
# A sysfs for this network namespace; the cgroup mounts move onto it.
mkdir -p "$d/cg"
mount --rbind /sys/fs/cgroup "$d/cg"
mount -t sysfs sysfs /sys
mount --move "$d/cg" /sys/fs/cgroup
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/lock /run/netns
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
for p in "$@"; do
	# Not there: the package that writes it is not installed.
	[ -d "$p" ] || continue
	mkdir -p "$d/fs$p"
	mount --bind "$d/fs$p" "$p"
done
trap 'exit 0' TERM
: >"$d/ready"
while :; do
	sleep 3600 &
	wait $! || true
done
EOF
}

rt_host_up() { # N
	local n=$1 d p u
	d=$RT_DIR/h$n
	[ ${#RT_INIT[@]} -gt 0 ] || on_cleanup rt_cleanup
	mkdir -p "$d"
	_rt_init_script >"$RT_DIR/init.sh"
	host_exec "$n" sysctl -qw net.ipv4.ip_forward=0 || return 1
	run_bg "rt-h$n" nsenter --net="/run/netns/$(host_ns "$n")" -- \
		unshare --mount --pid --fork --propagation private \
		bash "$RT_DIR/init.sh" "$d" "${RT_BIND_PATHS[@]}"
	u=$(bg_pid "rt-h$n")
	if ! wait_until 10 test -e "$d/ready"; then
		echo "# host $n: its namespaces did not come up:"
		sed 's/^/#   /' "$RUN_DIR/rt-h$n.log" | tail -20
		return 1
	fi
	# unshare forked the init: its only child.
	RT_INIT[$n]=$(_rt_child_of "$u")
}

rt_exec() { # N cmd...
	local n=$1
	shift
	nsenter -t "${RT_INIT[$n]}" -m -n -p -- "$@"
}

rt_bg() { # NAME N cmd...
	local name=$1 n=$2 p
	shift 2
	run_bg "$name" nsenter -t "${RT_INIT[$n]}" -m -n -p -- "$@"
	p=$(bg_pid "$name")
	# nsenter forks into the PID namespace and waits: the command is its child.
	wait_until 5 _rt_child_of "$p" || return 1
	RT_PID[$name]=$(_rt_child_of "$p")
}

_rt_child_of() { # PID: its child's pid (status 1 while it has none)
	local c
	c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || return 1
	c=${c// /}
	[ -n "$c" ] && echo "$c"
}

rt_bg_stop() { # NAME [SIG]
	local name=$1 sig=${2:-TERM} rc
	[ -n "${RT_PID[$name]:-}" ] || return 0
	kill -"$sig" "${RT_PID[$name]}" 2>/dev/null
	wait_bg "$name" 60 && rc=0 || rc=$?
	[ "$rc" -ne 124 ] || stop_bg "$name" KILL
	unset "RT_PID[$name]"
	return "$rc"
}

rt_weftd_start() { # N args...
	local n=$1
	shift
	rt_bg "h$n" "$n" "$WEFT_BUILD/weftd" --etcd-endpoints "$ETCD_ENDPOINT" \
		--subnet-file "$RUN_DIR/h$n.env" "$@"
}

# The host's processes, as pids of the root PID namespace, one a line.
rt_pids() { # N
	local want p
	want=$(readlink "/proc/${RT_INIT[$1]}/ns/pid") || return 1
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$want" ] && echo "${p#/proc/}"
	done
	return 0
}

# What is left in host N besides its init and the init's sleep: "pid command"
# lines (nothing when the host is clean).
rt_leftovers() { # N
	local p
	for p in $(rt_pids "$1"); do
		[ "$p" = "${RT_INIT[$1]}" ] && continue
		[ "$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)" = "${RT_INIT[$1]}" ] &&
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && continue
		echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
	return 0
}

rt_busybox_tar() {
	local r=$RT_DIR/busybox-root a
	[ -e "$RT_DIR/busybox.tar" ] && return 0
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev"
	install -m 0755 /bin/busybox "$r/bin/busybox" || return 1
	for a in $("$r/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
	done
	chmod 1777 "$r/tmp"
	tar -C "$r" -cf "$RT_DIR/busybox.tar" . && rm -rf "$r"
}

# Is /bin/busybox Debian's busybox-static (no dynamic loader)?
rt_busybox_static() {
	[ -x /bin/busybox ] && ! LC_ALL=C readelf -l /bin/busybox 2>/dev/null | grep -q 'INTERP'
}

# rt_skip_unless_busybox_static NAME: skip the whole test NAME without it.
rt_skip_unless_busybox_static() {
	rt_busybox_static && return 0
	tap_skip "$1" "/bin/busybox is not Debian's busybox-static (scripts/deps.sh installs it)"
	tap_done
	exit 0
}

# rt_host_down N: end host N's init, which ends every process of the host and
# its mount namespace, then remove its cgroups and the runtimes' folders.
# Idempotent; rt_cleanup does it for every host.
rt_host_down() { # N
	local n=$1 i u c
	i=${RT_INIT[$n]:-}
	u=$(bg_pid "rt-h$n")
	if [ -n "$i" ] && [ -n "$u" ]; then
		kill -TERM "$i" 2>/dev/null
		# unshare returns once its init is gone, and the kernel ends the rest
		# of the PID namespace before that.
		if ! wait_bg "rt-h$n" 20; then
			kill -KILL "$i" 2>/dev/null
			wait_bg "rt-h$n" 20
		fi
	fi
	for c in /sys/fs/cgroup"$(rt_cgroup_parent "$n")" /sys/fs/cgroup/*"$(rt_cgroup_parent "$n")"; do
		[ -d "$c" ] || continue
		# Children first; a cgroup whose last task just died may still be busy.
		wait_until 10 eval "find '$c' -depth -type d -exec rmdir {} + 2>/dev/null; ! test -d '$c'" ||
			echo "# could not remove the cgroup $c"
	done
	rm -rf "$RT_DIR/h$n/fs" "$RT_DIR/h$n/data"
}

# The host's cgroups (under its cgroup parent, in every hierarchy), one a line.
rt_cgroups() { # N
	local c
	for c in /sys/fs/cgroup"$(rt_cgroup_parent "$1")" /sys/fs/cgroup/*"$(rt_cgroup_parent "$1")"; do
		[ -d "$c" ] && echo "$c"
	done
	return 0
}

rt_cleanup() {
	local n
	for n in "${!RT_INIT[@]}"; do rt_host_down "$n"; done
	rm -f "$RT_DIR/busybox.tar"
}
