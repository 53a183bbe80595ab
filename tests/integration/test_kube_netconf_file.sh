#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kube mode reads its network config from --net-config-path before it asks the
# API server anything: a file it cannot use is named, with why, and retried
# (never a hang on a FIFO, never a crash). No API server is needed: the URL
# given is never reached before the config is read.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/tap.sh"

WEFTD=$WEFT_BUILD/weftd
[ -x "$WEFTD" ] || { echo "Bail out! $WEFTD not built"; exit 1; }

mkdir "$RUN_DIR/dir"
mkfifo "$RUN_DIR/fifo"
head -c 1048600 /dev/zero | tr '\0' ' ' >"$RUN_DIR/big.json"
echo '{"EnableIPv4": false}' >"$RUN_DIR/nostack.json"

# case NAME PATH EXPECTED: weftd in kube mode must log EXPECTED, with a retry.
case_netconf() {
	local name=$1 path=$2 want=$3
	run_bg "$name" env NODE_NAME=node1 "$WEFTD" --kube-subnet-mgr \
		--kube-api-url=http://127.0.0.1:9 --net-config-path="$path" --healthz-port=0
	tap_ok "$name: says so, and retries" wait_until 10 \
		grep -qF "$want; retrying in" "$RUN_DIR/$name.log"
	tap_ok "$name: still running (no crash, no exit)" bg_alive "$name"
	stop_bg "$name"
}

case_netconf missing "$RUN_DIR/nope.json" \
	"cannot read the net-conf file $RUN_DIR/nope.json: No such file or directory"
case_netconf directory "$RUN_DIR/dir" \
	"cannot read the net-conf file $RUN_DIR/dir: Is a directory"
case_netconf fifo "$RUN_DIR/fifo" \
	"cannot read the net-conf file $RUN_DIR/fifo: not a regular file"
case_netconf too-large "$RUN_DIR/big.json" \
	"net-conf file $RUN_DIR/big.json: config is larger than 1 MiB (1048577 bytes)"
case_netconf no-stack "$RUN_DIR/nostack.json" \
	"net-conf file $RUN_DIR/nostack.json: none defined stack (EnableIPv4 and EnableIPv6 are both false)"

tap_done
