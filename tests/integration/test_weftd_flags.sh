#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# weftd's command line and FLANNELD_* environment, seen from outside: exit codes,
# which stream gets what, and the effective configuration in the start-up log line.
# Run from the repo root: tests/integration/test_weftd_flags.sh
. "$(dirname "$0")/../lib/tap.sh"

WEFTD=$WEFT_BUILD/weftd
if [ ! -x "$WEFTD" ]; then
	echo "Bail out! $WEFTD not built (make $WEFTD)"
	exit 1
fi

# The caller's environment must not leak into the cases.
unset "${!FLANNELD_@}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run [VAR=value...] -- args...: sets RC, OUT (stdout) and ERR (stderr).
# A weftd that got past its flags keeps running (retrying etcd): once it has
# logged its start-up, it gets SIGTERM, and RC is its exit status then.
run() {
	local envs=() pid i
	while [ "$1" != "--" ]; do
		envs+=("$1")
		shift
	done
	shift
	env "${envs[@]}" "$WEFTD" "$@" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		grep -qE "using etcd at|kube subnet manager" "$tmp/err" && break
		sleep 0.05
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" && RC=0 || RC=$?
	OUT=$(cat "$tmp/out")
	ERR=$(cat "$tmp/err")
}

has() { # haystack needle: exit status only, for tap_ok
	case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac
}

# --version: one line on stderr, nothing on stdout, exit 0 (flanneld prints to stderr too).
run -- --version
tap_eq "--version exits 0" 0 "$RC"
tap_ok "--version prints 'weftd <version>' on stderr" grep -qE '^weftd [^ ]+$' <<<"$ERR"
tap_eq "--version prints nothing on stdout" "" "$OUT"
run -- -version
tap_eq "-version exits 0" 0 "$RC"
run FLANNELD_VERSION=true -- -etcd-prefix=/v
tap_eq "FLANNELD_VERSION has no effect (start-up continues until SIGTERM: exit 0)" 0 "$RC"
tap_lacks "FLANNELD_VERSION does not print the version" '^weftd [^ ]+$' ' starting: ' echo "$ERR"

# --help and -h: usage on stdout listing every flanneld flag, exit 0.
run -- --help
tap_eq "--help exits 0" 0 "$RC"
tap_eq "--help starts with the usage line" "Usage: weftd [OPTION]..." "$(head -1 <<<"$OUT")"
missing=
for f in etcd-endpoints etcd-prefix etcd-keyfile etcd-certfile etcd-cafile etcd-username \
	etcd-password kube-subnet-mgr kube-api-url kubeconfig-file kube-annotation-prefix \
	iface iface-regex iface-can-reach public-ip public-ipv6 subnet-file \
	subnet-lease-renew-margin ip-masq ip-masq-fully-random-disable iptables-resync \
	iptables-forward-rules ip-blackhole-route net-config-path set-node-network-unavailable \
	healthz-ip healthz-port version v vmodule log_backtrace_at; do
	grep -qE "^  -$f( |\$)" <<<"$OUT" || missing="$missing $f"
done
tap_eq "--help lists every flanneld flag" "" "$missing"
tap_ok "--help shows defaults" has "$OUT" '(default "/coreos.com/network")'
run -- -h
tap_eq "-h exits 0" 0 "$RC"
tap_ok "-h prints the usage" has "$OUT" "Usage: weftd [OPTION]..."

# Flag errors: message naming the flag + hint on stderr, exit 1.
run -- --foo
tap_eq "unknown flag exits 1" 1 "$RC"
tap_ok "unknown flag uses Go's message" has "$ERR" "flag provided but not defined: -foo"
tap_ok "unknown flag points at --help" has "$ERR" "Try 'weftd --help'"

run -- --healthz-port=abc
tap_eq "bad int exits 1" 1 "$RC"
tap_ok "bad int names the flag and value" has "$ERR" 'invalid value "abc" for flag -healthz-port'

run FLANNELD_HEALTHZ_PORT=abc --
tap_eq "bad int from the environment exits 1" 1 "$RC"
tap_ok "bad env int names the variable" has "$ERR" "FLANNELD_HEALTHZ_PORT"

run -- --ip-masq=maybe
tap_eq "bad bool exits 1" 1 "$RC"
tap_ok "bad bool names the flag" has "$ERR" "-ip-masq"

run -- --etcd-prefix
tap_eq "missing value exits 1" 1 "$RC"
tap_ok "missing value names the flag" has "$ERR" "flag needs an argument: -etcd-prefix"

for m in 0 1440 -5; do
	run -- --subnet-lease-renew-margin=$m
	tap_eq "renew margin $m exits 1" 1 "$RC"
	tap_ok "renew margin $m names the flag" has "$ERR" "-subnet-lease-renew-margin"
done
run FLANNELD_SUBNET_LEASE_RENEW_MARGIN=1440 --
tap_eq "renew margin 1440 from the environment exits 1" 1 "$RC"

run -- foo
tap_eq "positional argument exits 1" 1 "$RC"
tap_ok "positional argument is named" has "$ERR" 'unexpected argument "foo"'
run -- --ip-masq false
tap_eq "'-ip-masq false' exits 1" 1 "$RC"
tap_ok "'-ip-masq false' suggests -ip-masq=false" has "$ERR" "-ip-masq=false"

# Valid flags: the start-up line shows the effective configuration; the daemon
# then runs (retrying etcd) until SIGTERM, which is a clean exit.
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z'
run -- --iface=eth1 --iface eth0 -iface-regex=^en --subnet-file=/tmp/s.env
tap_eq "valid flags: runs until SIGTERM, then exit 0" 0 "$RC"
tap_ok "start-up line has the log format" \
	grep -qE "^$ts I weftd\[[0-9]+\]: weftd .* starting: " <<<"$ERR"
tap_ok "start-up line shows the default endpoints" \
	has "$ERR" "etcd-endpoints=http://127.0.0.1:4001,http://127.0.0.1:2379 "
tap_ok "start-up line shows the default prefix" has "$ERR" "etcd-prefix=/coreos.com/network "
tap_ok "start-up line shows the subnet file" has "$ERR" "subnet-file=/tmp/s.env "
tap_ok "start-up line shows ifaces in order" has "$ERR" "iface=[eth1,eth0] iface-regex=[^en] "
tap_ok "etcd mode names the endpoints it uses" \
	grep -qE "^$ts I weftd\[[0-9]+\]: using etcd at http://127.0.0.1:4001,http://127.0.0.1:2379, prefix /coreos.com/network$" \
	<<<"$ERR"
run NODE_NAME= POD_NAME= -- --kube-subnet-mgr
tap_ok "kube mode without NODE_NAME names the missing variables" has "$ERR" \
	"NODE_NAME is not set, so env variables POD_NAME and POD_NAMESPACE must be set"
tap_eq "kube mode without a node name exits 1" 1 "$RC"

run FLANNELD_ETCD_PREFIX=/x FLANNELD_IFACE=eth7,eth8 FLANNELD_IP_MASQ=1 --
tap_ok "FLANNELD_ETCD_PREFIX sets the prefix" has "$ERR" "etcd-prefix=/x "
tap_ok "FLANNELD_IFACE gives one value, not split" has "$ERR" "iface=[eth7,eth8] "
tap_ok "FLANNELD_IP_MASQ=1 sets a bool" has "$ERR" "ip-masq=true "
run FLANNELD_ETCD_PREFIX=/x FLANNELD_IFACE=eth7 -- --etcd-prefix=/cli --iface=eth0
tap_ok "command line beats the environment (prefix)" has "$ERR" "etcd-prefix=/cli "
tap_ok "command line beats the environment (iface)" has "$ERR" "iface=[eth0] "
run FLANNELD_ETCD_PREFIX= --
tap_ok "empty env value is ignored" has "$ERR" "etcd-prefix=/coreos.com/network "
run FLANNELD_ETCD_PASSWORD=sekrit --
tap_lacks "passwords never reach the log" sekrit ' starting: ' echo "$ERR"

# Verbosity: -v=1 (or FLANNELD_V) turns on D lines.
run -- -vmodule=foo=3
tap_lacks "debug lines hidden at -v=0" "^$ts D " "^$ts I weftd.* starting: " echo "$ERR"
run FLANNELD_V=1 -- -vmodule=foo=3
tap_ok "FLANNELD_V=1 shows debug lines" \
	grep -qE "^$ts D weftd\[[0-9]+\]: -vmodule=foo=3 is accepted" <<<"$ERR"

# Signals: a SIGTERM already pending when the loop starts (blocked and raised
# before exec, which keeps it pending) takes the clean-exit path.
if command -v python3 >/dev/null; then
	python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
os.kill(os.getpid(), signal.SIGTERM)
os.execv(sys.argv[1], sys.argv[1:])' "$WEFTD" >"$tmp/out" 2>"$tmp/err" && RC=0 || RC=$?
	ERR=$(cat "$tmp/err")
	tap_eq "pending SIGTERM: clean exit 0" 0 "$RC"
	tap_ok "pending SIGTERM is logged" has "$ERR" "Received SIGTERM, shutting down"
	tap_ok "clean exit says so" has "$ERR" "Exiting cleanly"
else
	tap_skip "pending SIGTERM: clean exit 0" "python3 not installed"
fi

tap_done
