# SPDX-License-Identifier: Apache-2.0
# wireguard-go (Debian's /usr/bin/wireguard-go) in a network namespace, for
# benchmarks and interop tests next to weft hosts (requires common.sh).
#
# wireguard-go's UAPI socket lives in /var/run/wireguard, which is the whole
# machine's; so each instance runs in a mount namespace of its own with its
# own tmpfs there, and every wg(8) command for it runs in that same mount
# namespace (nsenter by the process's pid). The process is run in the
# foreground (-f, WG_PROCESS_FOREGROUND=1), so it is the pid tracked by
# run_bg: stopped by pid on exit, also on failure; its TUN goes with it.
#
#   wg_go_start NAME NETNS [IFNAME]  start it in NETNS (interface IFNAME, default
#                                    wg0; log $RUN_DIR/wg-NAME.log); waits for its
#                                    socket
#   wg_go_wg NAME ARGS...            wg ARGS for it, e.g. wg_go_wg a set wg0 listen-port 51820
#   wg_go_exec NAME CMD...           any command in its mount and network namespaces
#   wg_go_keys NAME                  a key pair: $RUN_DIR/wg-NAME.key (private) and
#                                    .pub; prints the public key
#   wg_go_if NAME                    its interface name
#   wg_go_stop NAME                  TERM, wait; its exit status
#
# /var/run/wireguard must exist as a mount point: if it does not, the first
# start makes it (an empty directory) and the cleanup removes it again.

declare -A WG_GO_IF=()
WG_GO_BIN=${WG_GO_BIN:-wireguard-go}
_wg_go_made_dir=0
_wg_go_hooked=0

_wg_go_cleanup() {
	local name
	for name in "${!WG_GO_IF[@]}"; do
		wg_go_stop "$name"
	done
	# Only the directory we made, and only if no other wireguard-go would
	# lose its mount point with it (a read-only look, nothing is signalled).
	if [ "$_wg_go_made_dir" = 1 ] && ! pgrep -x wireguard-go >/dev/null; then
		rmdir /var/run/wireguard 2>/dev/null
	fi
	return 0
}

wg_go_start() {
	local name=$1 netns=$2 ifname=${3:-wg0} pid
	if [ "$_wg_go_hooked" = 0 ]; then
		on_cleanup _wg_go_cleanup
		_wg_go_hooked=1
	fi
	if [ ! -d /var/run/wireguard ]; then
		mkdir -p /var/run/wireguard || return 1
		_wg_go_made_dir=1
	fi
	# ip netns exec, unshare and sh each exec the next: the pid is wireguard-go's.
	run_bg "wg-$name" ip netns exec "$netns" unshare --mount --propagation private \
		env WG_PROCESS_FOREGROUND=1 IFNAME="$ifname" WG_GO_BIN="$WG_GO_BIN" sh -c \
		'mount -t tmpfs -o mode=0755 tmpfs /var/run/wireguard && exec "$WG_GO_BIN" -f "$IFNAME"'
	WG_GO_IF[$name]=$ifname
	pid=$(bg_pid "wg-$name")
	# Up once it is wireguard-go itself (so the tmpfs is mounted: before that,
	# nsenter could still look at the machine's directory) and its socket is there.
	wait_until 10 _wg_go_ready_or_gone "$pid" "$ifname"
	if ! _wg_go_ready "$pid" "$ifname"; then
		echo "# wg_go_start $name: wireguard-go did not come up; $RUN_DIR/wg-$name.log:" >&2
		sed 's/^/#   /' "$RUN_DIR/wg-$name.log" >&2
		wg_go_stop "$name"
		return 1
	fi
}

_wg_go_ready() { # PID IFNAME
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = wireguard-go ] &&
		nsenter -t "$1" -m test -S "/var/run/wireguard/$2.sock"
}

_wg_go_ready_or_gone() { _wg_go_ready "$@" || ! kill -0 "$1" 2>/dev/null; }

wg_go_exec() {
	local name=$1 pid
	shift
	pid=$(bg_pid "wg-$name")
	[ -n "$pid" ] || {
		echo "# wg_go: no wireguard-go named $name" >&2
		return 1
	}
	nsenter -t "$pid" -m -n "$@"
}

wg_go_wg() {
	local name=$1
	shift
	wg_go_exec "$name" wg "$@"
}

wg_go_if() { echo "${WG_GO_IF[$1]:-}"; }

wg_go_keys() {
	local name=$1
	(umask 077 && wg genkey >"$RUN_DIR/wg-$name.key") || return 1
	wg pubkey <"$RUN_DIR/wg-$name.key" >"$RUN_DIR/wg-$name.pub" || return 1
	cat "$RUN_DIR/wg-$name.pub"
}

wg_go_stop() {
	local name=$1 rc
	unset "WG_GO_IF[$name]"
	stop_bg "wg-$name" TERM && rc=0 || rc=$?
	return "$rc"
}
