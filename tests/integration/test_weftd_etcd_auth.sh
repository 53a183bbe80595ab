#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# weftd against an etcd with authentication enabled (etcd v3 auth: user root),
# its password given by --etcd-password-file or FLANNELD_ETCD_PASSWORD_FILE so
# that it never appears in argv (ps, /proc/PID/cmdline) nor in the log; a
# wrong password in the file is refused by etcd and named in the log.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

P=/coreos.com/network
PW=weft-auth-s3cret

# shellcheck disable=SC2119 # no TLS
etcd_start || exit 1
etcd_put $P/config '{"Network":"10.6.0.0/16","Backend":{"Type":"alloc"}}'
if ! { etcdctl3 user add "root:$PW" && etcdctl3 user grant-role root root &&
	etcdctl3 auth enable; } >/dev/null; then
	tap_ok "etcd auth enabled" false
	tap_done
	exit 1
fi
authctl() { etcdctl3 --user "root:$PW" "$@"; }
tap_eq "etcd refuses a client without credentials" 1 \
	"$(etcdctl3 get $P/config >/dev/null 2>&1 && echo 0 || echo 1)"

printf '%s\n' "$PW" >"$RUN_DIR/pw"
chmod 600 "$RUN_DIR/pw"

# 1. --etcd-password-file: a lease is held through the authenticated client.
weftd_start a 127.0.0.61 --etcd-username root --etcd-password-file "$RUN_DIR/pw"
tap_ok "--etcd-password-file: lease held on an etcd with auth" weftd_wait_held a
sa=$(weftd_subnet a)
tap_eq "--etcd-password-file: the lease is in etcd" '{"PublicIP":"127.0.0.61","PublicIPv6":null}' \
	"$(authctl get --print-value-only "$P/subnets/${sa/.1\//.0-}")"
tap_lacks "the password is not in argv (/proc/PID/cmdline)" "$PW" "etcd-password-file" \
	tr '\0' '\n' <"/proc/$(bg_pid a)/cmdline"
tap_ok "the password file's name is in argv" \
	eval "tr '\\0' ' ' </proc/$(bg_pid a)/cmdline | grep -qF -- '$RUN_DIR/pw'"
tap_lacks "the password is not in the log" "$PW" "etcd-password=<hidden>" cat "$RUN_DIR/a.log"
stop_bg a
tap_eq "SIGTERM: exit 0" 0 "$?"

# 2. FLANNELD_ETCD_PASSWORD_FILE does the same.
FLANNELD_ETCD_USERNAME=root FLANNELD_ETCD_PASSWORD_FILE=$RUN_DIR/pw weftd_start b 127.0.0.62
tap_ok "FLANNELD_ETCD_PASSWORD_FILE: lease held" weftd_wait_held b
tap_lacks "FLANNELD_ETCD_PASSWORD_FILE: the password is not in the log" "$PW" \
	"etcd-password=<hidden>" cat "$RUN_DIR/b.log"
stop_bg b

# 3. A wrong password in the file: etcd refuses it, the log says so, no lease.
printf 'not-the-password\n' >"$RUN_DIR/badpw"
weftd_start c 127.0.0.63 --etcd-username root --etcd-password-file "$RUN_DIR/badpw"
tap_ok "wrong password: authentication failure logged" \
	wait_until 20 grep -q "authentication as 'root' failed" "$RUN_DIR/c.log"
tap_eq "wrong password: no lease held" 0 "$(weftd_count c ' held; wrote ')"
tap_ok "wrong password: still running, retrying" bg_alive c
stop_bg c

# 4. A password file and --etcd-password together: refused at start.
"$WEFTD" --etcd-endpoints "$ETCD_ENDPOINT" --etcd-username root --etcd-password x \
	--etcd-password-file "$RUN_DIR/pw" >"$RUN_DIR/d.out" 2>"$RUN_DIR/d.err" && rc=0 || rc=$?
tap_eq "both password flags: exit 1" 1 "$rc"
tap_ok "both password flags: says so" grep -qF \
	"flags -etcd-password (on the command line) and -etcd-password-file (on the command line) are both set" \
	"$RUN_DIR/d.err"
# 5. weftctl takes the password from a file too (argv stays clean).
W=${WEFTCTL:-$WEFT_BUILD/weftctl}
"$W" leases --etcd-endpoints "$ETCD_ENDPOINT" --etcd-username root \
	--etcd-password-file "$RUN_DIR/pw" >"$RUN_DIR/e.out" 2>"$RUN_DIR/e.err" && rc=0 || rc=$?
tap_eq "weftctl --etcd-password-file: exit 0" 0 "$rc"
tap_ok "weftctl --etcd-password-file: lists the lease" grep -qF "127.0.0.61" "$RUN_DIR/e.out"
FLANNELD_ETCD_PASSWORD_FILE=$RUN_DIR/badpw "$W" leases --etcd-endpoints "$ETCD_ENDPOINT" \
	--etcd-username root >"$RUN_DIR/f.out" 2>"$RUN_DIR/f.err" && rc=0 || rc=$?
tap_eq "weftctl, wrong password file: exit 1" 1 "$rc"
tap_ok "weftctl, wrong password file: etcd's refusal named" \
	grep -q "authentication as 'root' failed" "$RUN_DIR/f.err"
"$W" leases --etcd-endpoints "$ETCD_ENDPOINT" --etcd-username root --etcd-password x \
	--etcd-password-file "$RUN_DIR/pw" >"$RUN_DIR/g.out" 2>"$RUN_DIR/g.err" && rc=0 || rc=$?
tap_eq "weftctl, both password options: exit 1" 1 "$rc"
tap_ok "weftctl, both password options: says so" grep -qF -- \
	"--etcd-password and --etcd-password-file are both set" "$RUN_DIR/g.err"
"$W" leases --etcd-endpoints "$ETCD_ENDPOINT" --etcd-username root \
	--etcd-password-file "$RUN_DIR/nonexistent" >"$RUN_DIR/h.out" 2>"$RUN_DIR/h.err" && rc=0 || rc=$?
tap_eq "weftctl, missing password file: exit 1" 1 "$rc"
tap_ok "weftctl, missing password file: names it" grep -qF -- \
	"--etcd-password-file $RUN_DIR/nonexistent: cannot open: No such file or directory" "$RUN_DIR/h.err"

# A role scoped as flannel needs it (read the config, readwrite subnets/):
# weft's owner records under <prefix>/weft/owners/ are refused, and weftd
# goes on without them, as flannel would, saying so once.
authctl role add flannel-only >/dev/null &&
	authctl role grant-permission flannel-only read "$P/config" >/dev/null &&
	authctl role grant-permission flannel-only readwrite "$P/subnets/" --prefix=true >/dev/null &&
	authctl user add "fl:flpw" >/dev/null && authctl user grant-role fl flannel-only >/dev/null
printf 'flpw\n' >"$RUN_DIR/flpw"
WEFT_TEST_LEASE_TTL=6 WEFT_TEST_RENEW_MARGIN=3 \
	weftd_start i 127.0.0.69 --etcd-username fl --etcd-password-file "$RUN_DIR/flpw"
tap_ok "subnets-only role: lease held" weftd_wait_held i
tap_eq "subnets-only role: says once that owner records are off" 1 \
	"$(weftd_count i "leases are written without owner records")"
si=$(weftd_subnet i)
tap_eq "subnets-only role: the lease is flannel's bytes" '{"PublicIP":"127.0.0.69","PublicIPv6":null}' \
	"$(authctl get --print-value-only "$P/subnets/${si/.1\//.0-}")"
tap_eq "subnets-only role: no owner record" "" \
	"$(authctl get --print-value-only "$P/weft/owners/${si/.1\//.0-}")"
tap_ok "subnets-only role: renewals go on" \
	wait_until 20 eval '[ $(weftd_count i "renewed lease") -ge 1 ]'
stop_bg i
tap_eq "subnets-only role: SIGTERM exit 0" 0 "$?"
etcd_stop
tap_done
