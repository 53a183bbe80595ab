# SPDX-License-Identifier: Apache-2.0
# Shared helpers for shell tests: a per-run scratch directory, processes started
# by the test (stopped by pid on exit, also on failure) and polling.
#
#   . tests/lib/common.sh
#   run_bg NAME cmd...        start cmd in the background, log in $RUN_DIR/NAME.log
#   stop_bg NAME [SIGNAL]     signal it (default TERM) and wait for it
#   wait_until SECONDS cmd... poll cmd every 50 ms until it succeeds (status 1 on timeout)

RUN_ID=${RUN_ID:-wt$$}
RUN_DIR=$(mktemp -d "/tmp/weft-test.$RUN_ID.XXXXXX")
declare -A BG_PIDS=()
_cleanup_hooks=()

on_cleanup() { _cleanup_hooks+=("$*"); }

_common_cleanup() {
	local rc=$? name pid h i
	# KEEP_CLUSTER=1 (the demo's KEEP=1): leave namespaces and processes up;
	# whoever set it recorded them for a later teardown.
	if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
		return "$rc"
	fi
	for ((i = ${#_cleanup_hooks[@]} - 1; i >= 0; i--)); do
		eval "${_cleanup_hooks[$i]}" >/dev/null 2>&1 || true
	done
	for name in "${!BG_PIDS[@]}"; do
		pid=${BG_PIDS[$name]}
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	if [ "${KEEP_RUN_DIR:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
		echo "# run directory kept: $RUN_DIR"
	else
		rm -rf "$RUN_DIR"
	fi
	return "$rc"
}
trap _common_cleanup EXIT
trap 'exit 130' INT TERM

run_bg() {
	local name=$1
	shift
	"$@" >>"$RUN_DIR/$name.log" 2>&1 &
	BG_PIDS[$name]=$!
}

bg_pid() { echo "${BG_PIDS[$1]:-}"; }

bg_alive() { local p=${BG_PIDS[$1]:-}; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# stop_bg NAME [SIGNAL]: returns the process's exit status.
stop_bg() {
	local name=$1 sig=${2:-TERM} pid rc
	pid=${BG_PIDS[$name]:-}
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null && rc=0 || rc=$?
	unset "BG_PIDS[$name]"
	return "$rc"
}

# wait_bg NAME TIMEOUT: wait for a process to exit by itself; its status, or 124.
wait_bg() {
	local name=$1 t=$2 pid rc
	pid=${BG_PIDS[$name]:-}
	wait_until "$t" eval "! kill -0 $pid 2>/dev/null" || return 124
	wait "$pid" 2>/dev/null && rc=0 || rc=$?
	unset "BG_PIDS[$name]"
	return "$rc"
}

wait_until() {
	local t=$1 deadline
	shift
	deadline=$(($(date +%s%N) + t * 1000000000))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# A port on 127.0.0.1 that no TCP or UDP socket uses right now, below the
# kernel's ephemeral range: a port inside it can be taken at any moment as the
# source port of some client's connection (etcd once failed to start with
# "bind: address already in use" on such a port).
free_port() {
	local p lo=10000 hi=32767 eph
	read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph=32768
	[ "$eph" -gt $((lo + 1000)) ] && hi=$((eph - 1))
	while :; do
		p=$((lo + RANDOM % (hi - lo + 1)))
		ss -Htuan "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
