#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# flannel's names after `make install`: flanneld, mk-docker-opts.sh and the CNI
# plugin flannel, installed into a scratch root (never the real /usr or
# /run/flannel). The installed flanneld is run as a flanneld systemd unit runs
# it (ExecStart with FLANNELD_* from an EnvironmentFile, Type=notify) against a
# real etcd with the alloc backend (no network changes), then mk-docker-opts.sh
# as the unit's ExecStartPost does, and on upstream's test vector
# (dist/mk_docker_opts_test.go), compared byte for byte.
# Run from anywhere: WEFT_BUILD=build bash tests/integration/test_install_names.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh

if [ ! -x "$WEFT_BUILD/weftd" ] || [ ! -x "$WEFT_BUILD/weftctl" ] || [ ! -x "$WEFT_BUILD/weft-cni" ]; then
	echo "Bail out! $WEFT_BUILD/weftd, weftctl, weft-cni not built (make)"
	exit 1
fi

# The host's own flannel state, which nothing here may change.
host_state() { ls -la --time-style=full-iso /run/flannel /run/docker_opts.env 2>&1; }
host_before=$(host_state)

root=$RUN_DIR/root
BIN=$root/usr/bin
make_args=(--no-print-directory -s BUILD="$WEFT_BUILD" DESTDIR="$root" PREFIX=/usr)
case $WEFT_BUILD in *asan*) make_args+=(SANITIZE=1) ;; esac

# 1. make install: every name, executable, all under DESTDIR.
# (every absolute path in its install and ln commands is under DESTDIR)
outside=$(make -n "${make_args[@]}" install | grep -E '^[[:space:]]*(install|ln) ' |
	tr -s ' \t' '\n' | grep '^/' | grep -vF -- "$root/" || true)
tap_eq "make install writes only under DESTDIR" "" "$outside"
tap_ok "make install DESTDIR=<tmp> PREFIX=/usr" make "${make_args[@]}" install
for f in usr/bin/weftd usr/bin/weftctl usr/bin/flanneld usr/bin/mk-docker-opts.sh \
	opt/cni/bin/flannel opt/cni/bin/weft; do
	tap_ok "$f is installed and executable" test -f "$root/$f" -a -x "$root/$f"
done
tap_eq "flanneld is a relative symlink to weftd" weftd "$(readlink "$BIN/flanneld")"
tap_ok "mk-docker-opts.sh is contrib's wrapper" cmp "$BIN/mk-docker-opts.sh" contrib/mk-docker-opts.sh
tap_ok "the CNI plugin 'flannel' is weft's plugin" cmp "$root/opt/cni/bin/flannel" "$WEFT_BUILD/weft-cni"
tap_ok "the plugin answers CNI VERSION as flannel" \
	eval "CNI_COMMAND=VERSION '$root/opt/cni/bin/flannel' </dev/null | grep -q supportedVersions"

# 2. flanneld under its own name: usage, flag errors, version.
help=$("$BIN/flanneld" --help 2>&1)
tap_eq "flanneld --help: the usage line names flanneld" "Usage: flanneld [OPTION]..." "$(head -1 <<<"$help")"
tap_fail_with "flanneld: a flag error is prefixed and hinted with flanneld" 1 \
	"^flanneld: flag provided but not defined: -nope$" "$BIN/flanneld" --nope
tap_fail_with "flanneld: the hint names flanneld" 1 "^Try 'flanneld --help'" "$BIN/flanneld" --nope
tap_ok "flanneld --version says it is weftd" eval "'$BIN/flanneld' --version 2>&1 | grep -qE '^weftd [^ ]+$'"

# 3. The unit: EnvironmentFile with FLANNELD_* (KEY=value lines, not run by a
# shell), ExecStart=/usr/bin/flanneld, Type=notify. No masquerade and no
# forward rules: the root namespace's firewall stays as it is.
etcd_start || exit 1
etcd_put /coreos.com/network/config '{"Network":"10.7.0.0/16","Backend":{"Type":"alloc"}}'
subnet_env=$root/run/flannel/subnet.env
envfile=$root/etc/sysconfig/flanneld
mkdir -p "${envfile%/*}"
cat >"$envfile" <<EOF
# flanneld's environment, as /etc/sysconfig/flanneld
FLANNELD_ETCD_ENDPOINTS=$ETCD_ENDPOINT
FLANNELD_ETCD_PREFIX=/coreos.com/network
FLANNELD_IFACE=lo
FLANNELD_PUBLIC_IP=127.0.0.21
FLANNELD_SUBNET_FILE=$subnet_env
FLANNELD_IP_MASQ=false
FLANNELD_IPTABLES_FORWARD_RULES=false
FLANNELD_LOG_FORMAT=klog
EOF
mapfile -t unit_env < <(grep -vE '^(#|$)' "$envfile")

notify_sock=$RUN_DIR/notify.sock
run_bg notify python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    d = s.recv(4096)
    with open(sys.argv[2], "ab") as f:
        f.write(d + b"\n")' "$notify_sock" "$RUN_DIR/notify.msgs"
wait_until 5 test -S "$notify_sock" || tap_not_ok "notify socket is up"

# unit_start NAME [VAR=value...]: the unit's ExecStart, with a clean environment.
unit_start() {
	local name=$1
	shift
	run_bg "$name" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NOTIFY_SOCKET="$notify_sock" \
		"${unit_env[@]}" "$@" "$BIN/flanneld"
}
unit_start flanneld
tap_ok "flanneld tells systemd READY=1" wait_until 20 grep -q '^READY=1' "$RUN_DIR/notify.msgs"
tap_ok "flanneld wrote the subnet file" test -s "$subnet_env"
sub=$(sed -n 's/^FLANNEL_SUBNET=//p' "$subnet_env")
mtu=$(sed -n 's/^FLANNEL_MTU=//p' "$subnet_env")
tap_ok "it holds a lease in the network ($sub)" grep -qE '^10\.7\.[0-9]+\.1/24$' <<<"$sub"
tap_eq "the subnet file is upstream's format" "FLANNEL_NETWORK=10.7.0.0/16
FLANNEL_SUBNET=$sub
FLANNEL_MTU=$mtu
FLANNEL_IPMASQ=false" "$(cat "$subnet_env")"
tap_eq "the lease is in etcd under upstream's key" '{"PublicIP":"127.0.0.21","PublicIPv6":null}' \
	"$(etcd_get "/coreos.com/network/subnets/$(sed 's|\.1/|.0-|' <<<"$sub")")"

# FLANNELD_LOG_FORMAT=klog: every line has klog's header, naming our C files.
klog_re='^[IWEF][0-9]{4} [0-9:.]{15} +[0-9]+ [a-z_0-9]+\.c:[0-9]+\] '
log=$RUN_DIR/flanneld.log
tap_ok "klog format: the start-up line" grep -qE "${klog_re}weftd .* starting: .* log-format=klog " "$log"
tap_ok "klog format: the lease line" grep -qE "${klog_re}lease .* held; wrote " "$log"
tap_ok "klog format: the pid column is flanneld's pid" \
	grep -qE "^I[0-9]{4} [0-9:.]{15} +$(bg_pid flanneld) main\.c:[0-9]+\] " "$log"
tap_lacks "klog format: no line without klog's header" "^[^IWEF]|^.[^0-9]" "$klog_re" cat "$log"

stop_bg flanneld
tap_eq "SIGTERM: flanneld exits 0" 0 "$?"

# Restarted in the text format: the log names the program as it was run.
unit_start flanneld-text FLANNELD_LOG_FORMAT=text
tap_ok "restart: the lease is held again" \
	wait_until 20 grep -q ' held; wrote ' "$RUN_DIR/flanneld-text.log"
tap_eq "restart keeps the subnet" "$sub" "$(sed -n 's/^FLANNEL_SUBNET=//p' "$subnet_env")"
tap_ok "text format: the start-up line names flanneld[pid]" \
	grep -qE "^[0-9-]{10}T[0-9:.]{15}Z I flanneld\[[0-9]+\]: weftd .* starting: " \
	"$RUN_DIR/flanneld-text.log"
stop_bg flanneld-text

# 4. The unit's ExecStartPost: mk-docker-opts.sh -k DOCKER_NETWORK_OPTIONS -d FILE
# (with -f: the default /run/flannel/subnet.env is the host's), in the unit's
# environment.
opts=$RUN_DIR/docker
want() { printf '%s' "$1" >"$RUN_DIR/want"; }
same() { cmp "$RUN_DIR/want" "$opts"; } # byte for byte; shows where on failure
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${unit_env[@]}" "$BIN/mk-docker-opts.sh" \
	-k DOCKER_NETWORK_OPTIONS -d "$opts" -f "$subnet_env"
tap_eq "ExecStartPost (-k DOCKER_NETWORK_OPTIONS -d): exit 0" 0 "$?"
want "DOCKER_OPT_BIP=\"--bip=$sub\"
DOCKER_OPT_IPMASQ=\"--ip-masq=true\"
DOCKER_OPT_MTU=\"--mtu=$mtu\"
DOCKER_NETWORK_OPTIONS=\" --bip=$sub --ip-masq=true --mtu=$mtu\"
"
tap_ok "ExecStartPost: the Docker options, byte for byte" same

# The default-like combinations on the same file.
# mkopts WANT ARGS...: run the installed script with -f (the daemon's file) and -d.
mkopts() {
	local w=$1
	shift
	want "$w"
	rm -f "$opts"
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${mk_env[@]}" "$BIN/mk-docker-opts.sh" \
		-f "$subnet_env" -d "$opts" "$@" && same
}
mk_env=()
i_lines="DOCKER_OPT_BIP=\"--bip=$sub\"
DOCKER_OPT_IPMASQ=\"--ip-masq=true\"
DOCKER_OPT_MTU=\"--mtu=$mtu\"
"
c_value=" --bip=$sub --ip-masq=true --mtu=$mtu"
tap_ok "no options: -i and -c" mkopts "${i_lines}DOCKER_OPTS=\"$c_value\"
"
tap_ok "-c: the combined line only" mkopts "DOCKER_OPTS=\"$c_value\"
" -c
tap_ok "-i: the individual lines only" mkopts "$i_lines" -i
tap_ok "-ic (grouped): both" mkopts "${i_lines}DOCKER_OPTS=\"$c_value\"
" -ic
tap_ok "-m: no --ip-masq" mkopts "DOCKER_OPT_BIP=\"--bip=$sub\"
DOCKER_OPT_MTU=\"--mtu=$mtu\"
DOCKER_OPTS=\" --bip=$sub --mtu=$mtu\"
" -m
tap_ok "-mck KEY (grouped, value in the next word)" mkopts "KEY=\" --bip=$sub --mtu=$mtu\"
" -mck KEY
tap_ok "-ckKEY (grouped, value attached)" mkopts "KEY=\"$c_value\"
" -ckKEY
mk_env=(DOCKER_NETWORK_OPTIONS=--dns=10.0.0.10)
tap_ok "-c -k KEY with KEY in the environment: its value goes first" \
	mkopts "DOCKER_NETWORK_OPTIONS=\"--dns=10.0.0.10 $c_value\"
" -c -k DOCKER_NETWORK_OPTIONS
mk_env=()

# 5. Upstream's test vector: dist/sample_subnet.env and the expected outputs of
# dist/mk_docker_opts_test.go (flannel.md §9), byte for byte.
printf 'FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.74.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n' \
	>"$RUN_DIR/sample_subnet.env"
subnet_env=$RUN_DIR/sample_subnet.env
tap_ok "upstream: default (individual + combined)" mkopts 'DOCKER_OPT_BIP="--bip=10.1.74.1/24"
DOCKER_OPT_IPMASQ="--ip-masq=true"
DOCKER_OPT_MTU="--mtu=1472"
DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"
'
tap_ok "upstream: individual only (-i)" mkopts 'DOCKER_OPT_BIP="--bip=10.1.74.1/24"
DOCKER_OPT_IPMASQ="--ip-masq=true"
DOCKER_OPT_MTU="--mtu=1472"
' -i
tap_ok "upstream: combined only (-c)" mkopts 'DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"
' -c
tap_ok "upstream: custom key (-k CUSTOM_KEY)" mkopts 'DOCKER_OPT_BIP="--bip=10.1.74.1/24"
DOCKER_OPT_IPMASQ="--ip-masq=true"
DOCKER_OPT_MTU="--mtu=1472"
CUSTOM_KEY=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"
' -k CUSTOM_KEY
tap_ok "upstream: strip ip-masq (-m)" mkopts 'DOCKER_OPT_BIP="--bip=10.1.74.1/24"
DOCKER_OPT_MTU="--mtu=1472"
DOCKER_OPTS=" --bip=10.1.74.1/24 --mtu=1472"
' -m
printf 'FLANNEL_SUBNET=10.1.74.1/24\nFLANNEL_IPMASQ=maybe\n' >"$RUN_DIR/bad.env"
tap_fail_with "an invalid FLANNEL_IPMASQ exits 1, as the script" 1 "FLANNEL_IPMASQ" \
	"$BIN/mk-docker-opts.sh" -f "$RUN_DIR/bad.env" -d "$opts"

# 6. How the wrapper finds weftctl: next to itself, through a symlink to it,
# on PATH; and says so when there is none.
mkdir -p "$RUN_DIR/pathbin" "$RUN_DIR/elsewhere" "$RUN_DIR/lone"
ln -s "$(command -v readlink)" "$RUN_DIR/pathbin/readlink"
ln -s "$BIN/mk-docker-opts.sh" "$RUN_DIR/elsewhere/mk-docker-opts.sh"
cp contrib/mk-docker-opts.sh "$RUN_DIR/lone/"
ln -s "$BIN/weftctl" "$RUN_DIR/pathbin/weftctl.later"
run_wrapper() { # PATH SCRIPT: the upstream default case's first line
	env -i PATH="$1" "$2" -c -f "$RUN_DIR/sample_subnet.env" -d /dev/stdout
}
combined='DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"'
tap_eq "weftctl found next to the script (empty PATH)" "$combined" \
	"$(run_wrapper /nonexistent "$BIN/mk-docker-opts.sh")"
tap_eq "weftctl found through a symlink to the script" "$combined" \
	"$(run_wrapper "$RUN_DIR/pathbin" "$RUN_DIR/elsewhere/mk-docker-opts.sh")"
tap_fail_with "no weftctl anywhere: exit 1, says so" 1 "weftctl not found next to" \
	run_wrapper "$RUN_DIR/pathbin" "$RUN_DIR/lone/mk-docker-opts.sh"
mv "$RUN_DIR/pathbin/weftctl.later" "$RUN_DIR/pathbin/weftctl"
tap_eq "weftctl found on PATH" "$combined" \
	"$(run_wrapper "$RUN_DIR/pathbin" "$RUN_DIR/lone/mk-docker-opts.sh")"

tap_eq "the host's /run/flannel and /run/docker_opts.env are untouched" "$host_before" "$(host_state)"

tap_done
