#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# extension (flannel.md §7.9) between 3 hosts x 2 pods. The commands build a
# host-gw-like data path with `ip` exec'd by weftd itself (no shell):
# SubnetAddCommand `ip route replace $SUBNET via $PUBLIC_IP`, and all pod
# pairs reach each other. A recorder (weft-ext-rec, and on h3 an `ip` ahead
# of the real one on PATH) writes down the argv, the environment as exec'd,
# the stdin and the parent of every command it stands for: PreStartup sees
# no variables of ours and an empty line; PostStartup NETWORK, SUBNET,
# IPV6SUBNET, PUBLIC_IP, PUBLIC_IPV6 (last in the environment, as Go's exec
# puts them); SubnetAdd/Remove SUBNET, PUBLIC_IP and the peer's BackendData
# unquoted on stdin. PreStartup's output (stdout on h1 and h3, stderr on h2)
# is the lease's BackendData in etcd, byte for byte as flanneld writes it.
# A removed peer runs SubnetRemoveCommand (routes gone on both others); a
# failing peer command is logged with its status and output while weftd goes
# on; a failing PostStartupCommand (a missing program, logged with Go's
# words) or PreStartupCommand makes weftd exit 1, as flanneld does.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

T0=$(now_ms)
REC_DIR=$RUN_DIR/rec
REAL_IP=$(command -v ip)
mkdir -p "$RUN_DIR/bin" "$RUN_DIR/wrap" "$REC_DIR"
cat >"$RUN_DIR/bin/weft-ext-rec" <<'EOF'
#!/bin/bash
# One run of an extension command: argv, environment (as exec'd), stdin and
# parent, into $REC_DIR/$WEFT_HOST/<n>-<name>/. weftd runs one at a time.
d=$REC_DIR/$WEFT_HOST
mkdir -p "$d"
r=$d/$(printf %03d "$(find "$d" -mindepth 1 -maxdepth 1 | wc -l)")-$(basename "$0")
mkdir "$r"
printf '%s\n' "$@" >"$r/argv"
tr '\0' '\n' </proc/$$/environ >"$r/env"
cat >"$r/stdin"
cat /proc/$PPID/comm >"$r/parent"
[ "$(basename "$0")" = ip ] && exec "$REAL_IP" "$@"
case "$1" in
pre)
	if [ "$WEFT_HOST" = h2 ]; then
		printf '  <mac-%s>&"q"\n' "$WEFT_HOST" >&2
	else
		printf '  <mac-%s>&"q"\n' "$WEFT_HOST"
	fi
	;;
fail)
	echo "boom on $WEFT_HOST"
	exit 5
	;;
esac
exit 0
EOF
chmod +x "$RUN_DIR/bin/weft-ext-rec"
ln -s "$RUN_DIR/bin/weft-ext-rec" "$RUN_DIR/wrap/ip"

ext_start() { # N: weftd on host N with the recorder on PATH (h3: and its `ip`)
	local n=$1 path=$RUN_DIR/bin:$PATH
	[ "$n" = 3 ] && path=$RUN_DIR/wrap:$path
	run_bg "h$n" ip netns exec "$(host_ns "$n")" env PATH="$path" REC_DIR="$REC_DIR" \
		WEFT_HOST="h$n" REAL_IP="$REAL_IP" "$WEFT_BUILD/weftd" \
		--etcd-endpoints "$ETCD_ENDPOINT" --subnet-file "$RUN_DIR/h$n.env" --iface eth0
}

# The run of host N whose argv starts with WORD (the first, or the last with "last").
rec_of() { # N WORD [last]
	local d pick=head
	[ "${3:-}" = last ] && pick=tail
	for d in "$REC_DIR/h$1"/*; do
		[ "$(head -1 "$d/argv")" = "$2" ] && echo "$d"
	done | $pick -1
}
rec_ip() { # N ARGV-AS-ONE-LINE: the run of `ip` with exactly that argv
	local d
	for d in "$REC_DIR/h$1"/*-ip; do
		[ "$(tr '\n' ' ' <"$d/argv")" = "$2 " ] && echo "$d"
	done | head -1
}

CONF='{"Type":"extension","PreStartupCommand":"weft-ext-rec pre","PostStartupCommand":"weft-ext-rec post $NETWORK ${SUBNET}","SubnetAddCommand":"ip route replace $SUBNET via $PUBLIC_IP","SubnetRemoveCommand":"ip route del $SUBNET via $PUBLIC_IP"}'
up() {
	local n k
	cluster_init || return 1
	net_config "{\"Network\":\"10.244.0.0/16\",\"Backend\":$CONF}"
	for n in 1 2 3; do
		host_add "$n"
		ext_start "$n"
	done
	for n in 1 2 3; do
		host_held "$n" || { echo "# host $n has no lease:"; tail -5 "$RUN_DIR/h$n.log" | sed 's/^/#   /'; return 1; }
	done
	for n in 1 2 3; do for k in 1 2; do pod_add "$n" "$k" >/dev/null; done; done
}
up || { tap_ok "cluster up" false; tap_done; exit 1; }
HOSTS=3 PODS=2

# ---- the lease: BackendData = PreStartup's trimmed output as a JSON string ----
for n in 1 2 3; do
	tap_eq "h$n: lease value in etcd, byte for byte as flanneld writes it" \
		"{\"PublicIP\":\"$(host_ip "$n")\",\"PublicIPv6\":null,\"BackendType\":\"extension\",\"BackendData\":\"\\u003cmac-h$n\\u003e\\u0026\\\"q\\\"\"}" \
		"$(etcd_get "$(lease_key "$n")")"
done
tap_eq "h1: FLANNEL_MTU is the interface MTU" 1500 "$(host_env 1 FLANNEL_MTU)"

# ---- the data path the commands built ----
all_pairs_ping "extension"
for n in 1 2 3; do
	for m in 1 2 3; do
		[ "$m" = "$n" ] && continue
		tap_eq "h$n: route to h$m's subnet via h$m, made by SubnetAddCommand" \
			"$(subnet_net "$m") via $(host_ip "$m") dev eth0 " \
			"$(host_exec "$n" ip route show "$(subnet_net "$m")")"
	done
done

# ---- what each command saw (h3 records all four kinds) ----
pre=$(rec_of 3 pre)
tap_ok "PreStartup ran on h3" test -n "$pre"
tap_eq "PreStartup: argv" "pre" "$(cat "$pre/argv")"
tap_eq "PreStartup: stdin is an empty line" "0a" "$(od -An -tx1 "$pre/stdin" | tr -d ' \n')"
tap_eq "PreStartup: no variables of ours" "" \
	"$(grep -E '^(NETWORK|SUBNET|IPV6SUBNET|PUBLIC_IP|PUBLIC_IPV6)=' "$pre/env")"
tap_eq "PreStartup: the daemon's environment passes through" "WEFT_HOST=h3" "$(grep '^WEFT_HOST=' "$pre/env")"
tap_eq "PreStartup: exec'd by weftd itself (no shell)" weftd "$(cat "$pre/parent")"
post=$(rec_of 3 post)
tap_eq "PostStartup: argv expanded after the split" \
	"post 10.244.0.0/16 $(subnet_net 3) " "$(tr '\n' ' ' <"$post/argv")"
tap_eq "PostStartup: its five variables, last in the environment, upstream's values" \
	"NETWORK=10.244.0.0/16 SUBNET=$(subnet_net 3) IPV6SUBNET=::/0 PUBLIC_IP=$(host_ip 3) PUBLIC_IPV6=<nil> " \
	"$(tail -5 "$post/env" | tr '\n' ' ')"
tap_eq "PostStartup: stdin is an empty line" "0a" "$(od -An -tx1 "$post/stdin" | tr -d ' \n')"
for m in 1 2; do
	add=$(rec_ip 3 "route replace $(subnet_net "$m") via $(host_ip "$m")")
	tap_ok "SubnetAdd for h$m on h3: ip exec'd with the expanded argv" test -n "$add"
	[ -n "$add" ] || continue
	tap_eq "SubnetAdd for h$m: SUBNET and PUBLIC_IP last in the environment" \
		"SUBNET=$(subnet_net "$m") PUBLIC_IP=$(host_ip "$m") " "$(tail -2 "$add/env" | tr '\n' ' ')"
	tap_eq "SubnetAdd for h$m: no NETWORK (upstream gives SubnetAdd none)" "" "$(grep '^NETWORK=' "$add/env")"
	tap_eq "SubnetAdd for h$m: stdin is h$m's BackendData string and a newline" \
		"$(printf '<mac-h%s>&"q"\n' "$m" | od -An -tx1)" "$(od -An -tx1 "$add/stdin")"
	tap_eq "SubnetAdd for h$m: exec'd by weftd itself" weftd "$(cat "$add/parent")"
	tap_ok "SubnetAdd for h$m ran after PostStartup" test "$(basename "$add")" \> "$(basename "$post")"
done
tap_ok "h1 logs SubnetAddCommand's run" grep -qF \
	"extension: SubnetAddCommand for $(lease_key 2 | sed 's|.*/||'): ran command: ip route replace \$SUBNET via \$PUBLIC_IP" \
	"$RUN_DIR/h1.log"

# ---- a peer goes: SubnetRemoveCommand with the attributes it was added with ----
key2=$(lease_key 2)
sub2=$(subnet_net 2)
weftd_host_stop 2
etcd_del "$key2"
for n in 1 3; do
	tap_ok "removal: h$n's route to h2 gone" wait_until 10 cmd_lacks . host_exec "$n" ip route show "$sub2"
done
del=$(rec_ip 3 "route del $sub2 via $(host_ip 2)")
tap_ok "removal: h3 ran ip route del for h2" test -n "$del"
[ -n "$del" ] && tap_eq "removal: stdin is h2's BackendData string (it came from stderr)" \
	"$(printf '<mac-h2>&"q"\n' | od -An -tx1)" "$(od -An -tx1 "$del/stdin")"
[ -n "$del" ] && tap_eq "removal: SUBNET and PUBLIC_IP of h2" \
	"SUBNET=$sub2 PUBLIC_IP=$(host_ip 2) " "$(tail -2 "$del/env" | tr '\n' ' ')"
tap_ok "removal: h1 logs SubnetRemoveCommand's run" grep -qF \
	"extension: SubnetRemoveCommand for ${key2##*/}: ran command: ip route del" "$RUN_DIR/h1.log"

# ---- failing commands: logged with status and output, weftd goes on ----
FAILCONF='{"Type":"extension","PreStartupCommand":"weft-ext-rec pre","SubnetAddCommand":"ip route add $SUBNET via $PUBLIC_IP","SubnetRemoveCommand":"ip route del $SUBNET via $PUBLIC_IP"}'
net_config "{\"Network\":\"10.244.0.0/16\",\"Backend\":$FAILCONF}"
weftd_host_stop 1
ext_start 1
tap_ok "failing: h1 holds its lease again" wait_until 20 eval '[ $(grep -c "held; wrote" "$RUN_DIR/h1.log") -ge 2 ]'
key3=$(lease_key 3)
tap_ok "failing: a failing command is logged with its exit status and output" wait_until 10 grep -qF \
	"extension: SubnetAddCommand for ${key3##*/}: failed to run command: ip route add \$SUBNET via \$PUBLIC_IP; error: exit status 2; output: RTNETLINK answers: File exists" \
	"$RUN_DIR/h1.log"
tap_ok "failing: weftd on h1 keeps running" bg_alive h1
t=$(time_until 10 eval "pod_exec 1 1 ping -c 1 -W 1 -q ${POD_IP[3.1]} >/dev/null 2>&1")
tap_ok "failing: pod 1.1 still reaches pod 3.1 ($t ms)" test "$t" != timeout

# ---- a failing PostStartupCommand ends weftd with 1, as flanneld ----
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"extension","PostStartupCommand":"weft-no-such-program $SUBNET"}}'
weftd_host_stop 1
ext_start 1
wait_bg h1 20
tap_eq "post-startup failure: weftd exits 1" 1 "$?"
tap_ok "post-startup failure: a missing program is logged with Go's words" grep -qF \
	"extension: PostStartupCommand: failed to run command: weft-no-such-program \$SUBNET; error: exec: \"weft-no-such-program\": executable file not found in \$PATH" \
	"$RUN_DIR/h1.log"
tap_ok "post-startup failure: the agent says it stops" grep -qF \
	"backend extension failed; exiting" "$RUN_DIR/h1.log"

# ---- a failing PreStartupCommand fails start-up, as flanneld's RegisterNetwork ----
net_config '{"Network":"10.244.0.0/16","Backend":{"Type":"extension","PreStartupCommand":"weft-ext-rec fail"}}'
weftd_host_stop 1
ext_start 1
wait_bg h1 20
tap_eq "pre-startup failure: weftd exits 1" 1 "$?"
tap_ok "pre-startup failure: the command, its exit status and output are logged" grep -qF \
	"extension: PreStartupCommand: failed to run command: weft-ext-rec fail; error: exit status 5; output: boom on h1" \
	"$RUN_DIR/h1.log"
tap_ok "pre-startup failure: the agent says why it stops" grep -qF \
	"backend extension: PreStartupCommand failed: exit status 5" "$RUN_DIR/h1.log"

weftd_host_stop 3
tap_eq "h3: weftd exits 0 on SIGTERM" 0 "$?"
echo "# extension netns test took $(($(now_ms) - T0)) ms"
tap_done
