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
unset "${!FLANNEL_@}" # FLANNELD_* and the distributions' FLANNEL_*

tmp=$(mktemp -d /tmp/weft-test-flags.XXXXXX)
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
		# (kube mode is only run to fail: it exits by itself, no SIGTERM race)
		grep -q "using etcd at" "$tmp/err" && break
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
	healthz-ip healthz-port version v vmodule log_backtrace_at \
	etcd-password-file etcd-watch-idle-timeout metrics-ip metrics-port log-format; do
	grep -qE "^  -$f( |\$)" <<<"$OUT" || missing="$missing $f"
done
tap_eq "--help lists every flanneld flag (and weft's own)" "" "$missing"
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

# Every numeric flag has a range, on the command line and in FLANNELD_*: both
# ends start the daemon; 0, negative, one past either end, overflowing and
# non-numeric values exit 1 with a message naming the flag, value and range.
hint="Try 'weftd --help' for more information."
# name env min max: the listeners stay on loopback
for spec in "subnet-lease-renew-margin SUBNET_LEASE_RENEW_MARGIN 1 1439" \
	"iptables-resync IPTABLES_RESYNC 1 86400" \
	"healthz-port HEALTHZ_PORT 0 65535" \
	"metrics-port METRICS_PORT 0 65535" \
	"etcd-watch-idle-timeout ETCD_WATCH_IDLE_TIMEOUT 60 86400" \
	"v V 0 100"; do
	read -r name env min max <<<"$spec"
	for v in "$min" "$max"; do
		run -- --healthz-ip=127.0.0.1 "--$name=$v"
		tap_eq "-$name=$v (an end of its range) runs, exit 0 at SIGTERM" 0 "$RC"
		tap_ok "-$name=$v is in effect" has "$ERR" " $name=$v "
		run "FLANNELD_$env=$v" FLANNELD_HEALTHZ_IP=127.0.0.1 --
		tap_eq "FLANNELD_$env=$v runs, exit 0 at SIGTERM" 0 "$RC"
		tap_ok "FLANNELD_$env=$v is in effect" has "$ERR" " $name=$v "
	done
	seen=" "
	for bad in 0 -1 $((min - 1)) $((max + 1)) 99999999999999999999 abc; do
		why="out of range"
		case $bad in
		99999999999999999999) why="value out of range" ;;
		abc) why="parse error" ;;
		*) [ "$bad" -ge "$min" ] && continue ;; # 0 is a valid port
		esac
		case $seen in *" $bad "*) continue ;; esac
		seen="$seen$bad "
		run -- "--$name=$bad"
		tap_eq "-$name=$bad exits 1" 1 "$RC"
		tap_eq "-$name=$bad: the message names flag, value and range" \
			"weftd: invalid value \"$bad\" for flag -$name on the command line: $why (must be an integer in $min..$max)
$hint" "$ERR"
		run "FLANNELD_$env=$bad" --
		tap_eq "FLANNELD_$env=$bad exits 1" 1 "$RC"
		tap_eq "FLANNELD_$env=$bad: the message names variable, value and range" \
			"weftd: invalid value \"$bad\" for flag -$name from FLANNELD_$env: $why (must be an integer in $min..$max)
$hint" "$ERR"
	done
done

# /metrics and /status never share the health port.
run -- --healthz-port=8081 --metrics-port=8081
tap_eq "metrics port = healthz port exits 1" 1 "$RC"
tap_eq "metrics port = healthz port: says why" \
	"weftd: flag -metrics-port 8081 (on the command line) equals -healthz-port (on the command line): /metrics and /status need a port of their own
$hint" "$ERR"

# --etcd-password-file: the password stays out of argv and the log.
printf 'filesekrit\n' >"$tmp/pw"
run -- --etcd-password-file="$tmp/pw"
tap_eq "--etcd-password-file: runs, exit 0 at SIGTERM" 0 "$RC"
tap_ok "--etcd-password-file: the file's name is shown" has "$ERR" "etcd-password-file=$tmp/pw "
tap_ok "--etcd-password-file: the password is hidden" has "$ERR" "etcd-password=<hidden> "
tap_lacks "--etcd-password-file: the password never reaches the log" "filesekrit" \
	"etcd-password=<hidden> " printf '%s\n' "$ERR"
run FLANNELD_ETCD_PASSWORD_FILE="$tmp/pw" --
tap_eq "FLANNELD_ETCD_PASSWORD_FILE: runs, exit 0 at SIGTERM" 0 "$RC"
tap_ok "FLANNELD_ETCD_PASSWORD_FILE: the file's name is shown" has "$ERR" "etcd-password-file=$tmp/pw "
run -- --etcd-password-file="$tmp/pw" --etcd-password=x
tap_eq "both password flags: exit 1" 1 "$RC"
tap_eq "both password flags: says so" \
	"weftd: flags -etcd-password (on the command line) and -etcd-password-file (on the command line) are both set: give the password one way
$hint" "$ERR"
run FLANNELD_ETCD_PASSWORD=x -- --etcd-password-file="$tmp/pw"
tap_eq "password file and FLANNELD_ETCD_PASSWORD: exit 1" 1 "$RC"
tap_ok "password file and FLANNELD_ETCD_PASSWORD: names the variable" has "$ERR" \
	"flags -etcd-password (from FLANNELD_ETCD_PASSWORD) and -etcd-password-file (on the command line) are both set"
run -- --etcd-password-file="$tmp/nope"
tap_eq "missing password file: exit 1" 1 "$RC"
tap_eq "missing password file: says so" \
	"weftd: -etcd-password-file $tmp/nope: cannot open: No such file or directory
$hint" "$ERR"
: >"$tmp/empty"
run -- --etcd-password-file="$tmp/empty"
tap_eq "empty password file: exit 1" 1 "$RC"
tap_ok "empty password file: says so" has "$ERR" "-etcd-password-file $tmp/empty: the file is empty"
head -c 5000 /dev/zero | tr '\0' p >"$tmp/big"
run -- --etcd-password-file="$tmp/big"
tap_eq "oversized password file: exit 1" 1 "$RC"
tap_ok "oversized password file: says so" has "$ERR" \
	"-etcd-password-file $tmp/big: larger than 4096 bytes: not a password file"
run -- --etcd-password-file="$tmp"
tap_eq "password file is a directory: exit 1" 1 "$RC"
tap_ok "password file is a directory: says so" has "$ERR" "-etcd-password-file $tmp: not a regular file"
if [ "$(id -u)" != 0 ]; then
	chmod 000 "$tmp/pw"
	run -- --etcd-password-file="$tmp/pw"
	tap_eq "unreadable password file: exit 1" 1 "$RC"
	tap_ok "unreadable password file: says so" has "$ERR" "-etcd-password-file $tmp/pw: cannot open: Permission denied"
fi

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

# --log-format: text (default) or klog, flanneld's klog header with our C file:line.
klog_re='^[IWEF][0-9]{4} [0-9:.]{15} +[0-9]+ [a-z_0-9]+\.c:[0-9]+\] '
run -- --log-format=klog
tap_eq "--log-format=klog: runs, exit 0 at SIGTERM" 0 "$RC"
tap_ok "--log-format=klog: the start-up line is klog's" \
	grep -qE "${klog_re}weftd .* starting: .* log-format=klog " <<<"$ERR"
tap_lacks "--log-format=klog: every line is klog's" "^[^IWEF]|^.[^0-9]" "$klog_re" echo "$ERR"
tap_ok "--log-format=klog: the pid is in the header" \
	grep -qE "^I[0-9]{4} [0-9:.]{15} +[0-9]+ main\.c:[0-9]+\] weftd " <<<"$ERR"
run FLANNELD_LOG_FORMAT=klog FLANNELD_V=1 -- -vmodule=foo=3
tap_ok "FLANNELD_LOG_FORMAT=klog: klog lines; debug lines print as I, as klog's V(n)" \
	grep -qE "${klog_re}-vmodule=foo=3 is accepted" <<<"$ERR"
run FLANNELD_LOG_FORMAT=klog -- --log-format=text
tap_ok "--log-format=text beats FLANNELD_LOG_FORMAT" \
	grep -qE "^$ts I weftd\[[0-9]+\]: weftd .* log-format=text " <<<"$ERR"
run -- --log-format=json
tap_eq "--log-format=json exits 1" 1 "$RC"
tap_eq "--log-format=json: the message names flag, value and choices" \
	"weftd: invalid value \"json\" for flag -log-format on the command line: want text or klog
$hint" "$ERR"
run FLANNELD_LOG_FORMAT=KLOG --
tap_eq "FLANNELD_LOG_FORMAT=KLOG exits 1 (names are lower case)" 1 "$RC"
tap_ok "FLANNELD_LOG_FORMAT=KLOG: names the variable" has "$ERR" \
	'invalid value "KLOG" for flag -log-format from FLANNELD_LOG_FORMAT'

# Distribution environment files (FLANNEL_ETCD_ENDPOINTS or FLANNEL_ETCD,
# FLANNEL_ETCD_PREFIX or FLANNEL_ETCD_KEY, FLANNEL_OPTIONS), with their units'
# precedence: command line > FLANNEL_OPTIONS > FLANNEL_ETCD_* > FLANNELD_*.
start_has() { grep -qE " starting: .*$1" <<<"$ERR"; } # REGEX in the start-up line
run FLANNEL_ETCD_ENDPOINTS=http://127.0.0.1:1 FLANNEL_ETCD_PREFIX=/distro/net --
tap_ok "FLANNEL_ETCD_ENDPOINTS is read" start_has "etcd-endpoints=http://127.0.0.1:1 "
tap_ok "FLANNEL_ETCD_PREFIX is read" start_has "etcd-prefix=/distro/net "
run FLANNEL_ETCD=http://127.0.0.1:2 FLANNEL_ETCD_KEY=/older/net --
tap_ok "FLANNEL_ETCD (older name) is read" start_has "etcd-endpoints=http://127.0.0.1:2 "
tap_ok "FLANNEL_ETCD_KEY (older name) is read" start_has "etcd-prefix=/older/net "
run FLANNEL_ETCD_ENDPOINTS=http://127.0.0.1:3 FLANNEL_ETCD=http://127.0.0.1:4 --
tap_ok "FLANNEL_ETCD_ENDPOINTS wins over FLANNEL_ETCD" start_has "etcd-endpoints=http://127.0.0.1:3 "
run FLANNEL_ETCD_ENDPOINTS=http://127.0.0.1:3 FLANNELD_ETCD_ENDPOINTS=http://127.0.0.1:5 --
tap_ok "FLANNEL_ETCD_ENDPOINTS wins over FLANNELD_ETCD_ENDPOINTS (a flag in the units)" \
	start_has "etcd-endpoints=http://127.0.0.1:3 "
run "FLANNEL_OPTIONS=  -iface=lo	--ip-masq -etcd-endpoints=http://127.0.0.1:6  " \
	FLANNEL_ETCD_ENDPOINTS=http://127.0.0.1:3 --
tap_ok "FLANNEL_OPTIONS is split at whitespace and read (-iface)" start_has "iface=\\[lo\\] "
tap_ok "FLANNEL_OPTIONS is split at whitespace and read (--ip-masq)" start_has "ip-masq=true "
tap_ok "FLANNEL_OPTIONS wins over FLANNEL_ETCD_ENDPOINTS" start_has "etcd-endpoints=http://127.0.0.1:6 "
run "FLANNEL_OPTIONS=-etcd-prefix=/from/options -ip-masq" -- -etcd-prefix=/from/cmdline
tap_ok "the command line wins over FLANNEL_OPTIONS" start_has "etcd-prefix=/from/cmdline "
tap_ok "... and FLANNEL_OPTIONS still adds the rest" start_has "ip-masq=true "
run "FLANNEL_OPTIONS=-iface=lo --nosuch" --
tap_eq "a bad FLANNEL_OPTIONS exits 1" 1 "$RC"
tap_ok "... naming FLANNEL_OPTIONS and the flag" has "$ERR" \
	"FLANNEL_OPTIONS: flag provided but not defined: -nosuch"
run "FLANNEL_OPTIONS=-healthz-port=abc" --
tap_ok "a bad value in FLANNEL_OPTIONS names its origin" has "$ERR" \
	'invalid value "abc" for flag -healthz-port from FLANNEL_OPTIONS'
run "FLANNEL_OPTIONS=-iface lo extra" --
tap_ok "a stray word in FLANNEL_OPTIONS is refused" has "$ERR" \
	'FLANNEL_OPTIONS: unexpected argument "extra"'
run "FLANNEL_OPTIONS=--nosuch" -- --version
tap_eq "--version ignores FLANNEL_OPTIONS, as it ignores FLANNELD_*" 0 "$RC"

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
