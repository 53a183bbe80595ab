#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# weftctl leases / reserve / unreserve against a real etcd: the listing (text
# and JSON), the exact bytes and lease state of what reserve and unreserve
# write, every refusal (with nothing written), the etcd options and their
# FLANNELD_* fallbacks, an unreachable etcd, then the same over TLS.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh

W=$WEFT_BUILD/weftctl
P=/weft-test/network
S=$P/subnets

if [ ! -x "$W" ]; then
	tap_not_ok "weftctl is built ($W)"
	tap_done
	exit
fi

# run ARGS... -- weftctl with the test's etcd and prefix; sets $rc, $out, $err
run() {
	"$W" "$@" >"$RUN_DIR/out" 2>"$RUN_DIR/err" && rc=0 || rc=$?
	out=$(cat "$RUN_DIR/out")
	err=$(cat "$RUN_DIR/err")
}
wctl() { run "$@" --etcd-endpoints "$ETCD_ENDPOINT" --etcd-prefix "$P"; }

# contains DESCRIPTION HAYSTACK NEEDLE
contains() {
	case $2 in
	*"$3"*) tap_ok "$1" true ;;
	*) tap_not_ok "$1" "wanted '$3' in: $2" ;;
	esac
}

# refused DESCRIPTION MESSAGE ARGS...: exit 1, MESSAGE on stderr
refused() {
	local d=$1 msg=$2
	shift 2
	wctl "$@"
	tap_eq "$d: exit 1" 1 "$rc"
	contains "$d: message" "$err" "$msg"
}

# The etcd lease id (decimal, 0 for none) of KEY.
lease_of() {
	etcdctl3 get "$1" -w json | python3 -c '
import json, sys
kvs = json.load(sys.stdin).get("kvs", [])
print(kvs[0].get("lease", 0) if kvs else "absent")'
}

# Grant an etcd lease of TTL seconds; prints its id in hex.
grant() { etcdctl3 lease grant "$1" | awk '{print $2}'; }

# Seconds of a duration as weftctl prints it (1h2m, 9m58s, 42s); -1 if malformed.
dur_secs() {
	if [[ $1 =~ ^([0-9]+)h([0-9]+)m$ ]]; then
		echo $((BASH_REMATCH[1] * 3600 + BASH_REMATCH[2] * 60))
	elif [[ $1 =~ ^([0-9]+)m([0-9]+)s$ ]]; then
		echo $((BASH_REMATCH[1] * 60 + BASH_REMATCH[2]))
	elif [[ $1 =~ ^([0-9]+)s$ ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo -1
	fi
}

# A remaining TTL is right when it lies between TTL minus the seconds since
# SINCE (plus the display's rounding down to GRAIN) and TTL: a loaded machine
# stretches the time between grant and listing, so no fixed window is safe.
ttl_ok() { # REMAINING TTL SINCE [GRAIN]
	local el=$(($(date +%s) - $3 + 1))
	[ "$1" -le "$2" ] && [ "$1" -ge $(($2 - el - ${4:-1})) ]
}

etcd_start || exit 1

# ---- help and usage errors (no etcd needed) ----
for c in leases reserve unreserve; do
	run "$c" --help
	tap_eq "$c --help: exit 0" 0 "$rc"
	contains "$c --help: usage and etcd options" "$out" "usage: weftctl $c"
	contains "$c --help: documents --etcd-endpoints" "$out" "--etcd-endpoints"
done
run help reserve
contains "weftctl help reserve" "$out" "usage: weftctl reserve"
run --help
contains "weftctl --help lists leases" "$out" "leases"
for h in --help -h; do
	run help "$h"
	tap_eq "weftctl help $h: exit 0" 0 "$rc"
	contains "weftctl help $h: the command list" "$out" "unreserve"
done

refused "unknown option" "unknown option '--bogus'" leases --bogus
refused "unknown option, secret not echoed" "unknown option '--etcd-pasword'" \
	leases --etcd-pasword=hunter2
tap_lacks "unknown option: value not echoed" hunter2 "unknown option '--etcd-pasword'" cat "$RUN_DIR/err"
refused "stray argument" "unexpected argument 'x'" leases x
refused "flag with a value" "option '--json' takes no value" leases --json=1
run reserve 10.5.1.0/24 10.0.0.1 --backend-type
tap_eq "option without value: exit 1" 1 "$rc"
contains "option without value: message" "$err" "option '--backend-type' needs a value"
refused "reserve: missing argument" "missing argument" reserve 10.5.1.0/24
refused "reserve: too many arguments" "too many arguments" reserve 10.5.1.0/24 10.0.0.1 x
refused "unreserve: missing argument" "missing argument" unreserve
refused "host bits" "SUBNET '10.5.34.1/24': host bits set (the network address is 10.5.34.0/24)" \
	reserve 10.5.34.1/24 10.0.0.9
refused "host bits (IPv6 part)" "'fd00::1/64': host bits set" \
	reserve 10.5.34.0/24,fd00::1/64 10.0.0.9
refused "host bits (key form)" "SUBNET '10.5.34.1-24'" reserve 10.5.34.1-24 10.0.0.9
refused "bad CIDR" "SUBNET '10.5.300.0/24': not an IPv4 CIDR" reserve 10.5.300.0/24 10.0.0.9
refused "no prefix length" "SUBNET '10.5.0.0'" reserve 10.5.0.0 10.0.0.9
refused "a /32" "a /32" reserve 10.5.0.1/32 10.0.0.9
refused "unreserve: bad CIDR" "SUBNET 'nonsense/8'" unreserve nonsense/8
refused "bad public IP" "PUBLIC_IP '10.0.0': not an IPv4 address" reserve 10.5.1.0/24 10.0.0
refused "IPv6 public IP" "PUBLIC_IP 'fd00::9': not an IPv4 address" reserve 10.5.1.0/24 fd00::9
refused "bad backend data" "--backend-data '{': not exactly one JSON value" \
	reserve 10.5.1.0/24 10.0.0.9 --backend-data '{'
tap_eq "usage errors wrote nothing" 0 "$(lines_of etcdctl3 get --prefix "$P" --keys-only)"

# ---- listing ----
wctl leases
tap_eq "empty: exit 0" 0 "$rc"
tap_eq "empty: header only" "SUBNET  PUBLIC-IP  BACKEND  EXPIRES" "$out"
wctl leases --json
tap_eq "empty --json" "[]" "$out"

t_grant=$(date +%s)
l24=$(grant 86400)
l10=$(grant 600)
vx='{"PublicIP":"10.0.0.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}}'
etcdctl3 put "$S/10.5.34.0-24" "$vx" --lease="$l24" >/dev/null
etcdctl3 put "$S/10.5.10.0-24&fd00:5:a::-64" \
	'{"PublicIP":"10.0.0.3","PublicIPv6":"fd00::3","BackendType":"host-gw"}' --lease="$l10" >/dev/null
etcd_put "$S/10.5.2.0-24" '{"PublicIP":"10.0.0.2","PublicIPv6":null}'
etcd_put "$S/bogus" '{"PublicIP":"10.0.0.7","PublicIPv6":null}'
etcd_put "$S/10.5.40.0-24" 'not json'

wctl leases
tap_eq "list: exit 0 despite invalid entries" 0 "$rc"
printf '%s\n' "$out" >"$RUN_DIR/list"
tap_eq "list: header" "SUBNET                      PUBLIC-IP         BACKEND  EXPIRES" \
	"$(sed -n 1p "$RUN_DIR/list")"
tap_eq "list: sorted subnets" "10.5.2.0/24
10.5.10.0/24,fd00:5:a::/64
10.5.34.0/24" "$(sed -n '2,4p' "$RUN_DIR/list" | awk '{print $1}')"
tap_eq "list: public IPs" "10.0.0.2
10.0.0.3,fd00::3
10.0.0.1" "$(sed -n '2,4p' "$RUN_DIR/list" | awk '{print $2}')"
tap_eq "list: backends" "-
host-gw
vxlan" "$(sed -n '2,4p' "$RUN_DIR/list" | awk '{print $3}')"
tap_eq "list: reservation" "reserved" "$(sed -n 2p "$RUN_DIR/list" | awk '{print $4}')"
exp10=$(sed -n 3p "$RUN_DIR/list" | awk '{print $4}')
tap_ok "list: 600 s lease shows minutes and seconds ($exp10)" \
	ttl_ok "$(dur_secs "$exp10")" 600 "$t_grant"
exp24=$(sed -n 4p "$RUN_DIR/list" | awk '{print $4}')
tap_ok "list: 24 h lease shows hours and minutes ($exp24)" \
	ttl_ok "$(dur_secs "$exp24")" 86400 "$t_grant" 60
tap_eq "list: invalid entries last" \
	"invalid: $S/10.5.40.0-24: bad lease value
invalid: $S/bogus: bad subnet key" \
	"$(sed -n '5,$p' "$RUN_DIR/list" | sed -E 's/^(invalid: [^:]*: bad [a-z ]*): .*/\1/')"
tap_eq "list: nothing on stderr" "" "$err"

wctl leases --json
tap_eq "--json: exit 0" 0 "$rc"
tap_ok "--json: parses" python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$out"
tap_eq "--json: contents" "ok" "$(python3 -c '
import json, sys
a = json.load(sys.stdin)
S = sys.argv[1]
assert [x["subnet"] for x in a] == ["10.5.2.0/24", "10.5.10.0/24", "10.5.34.0/24"], a
r, d, v = a
assert r["key"] == S + "/10.5.2.0-24" and r["ttl_seconds"] is None and r["lease"] is None, r
assert r["public_ip"] == "10.0.0.2" and r["public_ipv6"] is None, r
assert r["backend_type"] is None and r["backend_data"] is None, r
assert d["ipv6_subnet"] == "fd00:5:a::/64" and d["public_ipv6"] == "fd00::3", d
el = int(sys.argv[2]) + 1
assert d["backend_type"] == "host-gw" and 600 - el <= d["ttl_seconds"] <= 600, d
assert v["backend_data"] == {"VNI": 1, "VtepMAC": "c6:d2:32:6f:8f:44"}, v
assert v["ipv6_subnet"] is None and 86400 - el <= v["ttl_seconds"] <= 86400, v
assert int(v["lease"], 16) > 0, v
print("ok")' "$S" $(($(date +%s) - t_grant)) <<<"$out" 2>&1)"
contains "--json: invalid keys on stderr" "$err" "invalid: $S/bogus: bad subnet key"
etcd_del "$S/bogus"
etcd_del "$S/10.5.40.0-24"

# ---- reserve ----
wctl reserve 10.5.50.0/24 10.0.0.9
tap_eq "reserve: exit 0" 0 "$rc"
contains "reserve: says what it did" "$out" "reserved 10.5.50.0/24 for 10.0.0.9 (key $S/10.5.50.0-24)"
contains "reserve: warns that no config was checked" "$err" "$P/config does not exist"
tap_eq "reserve: upstream's bytes" '{"PublicIP":"10.0.0.9","PublicIPv6":null}' \
	"$(etcd_get "$S/10.5.50.0-24")"
tap_eq "reserve: no etcd lease" 0 "$(lease_of "$S/10.5.50.0-24")"
wctl reserve 10.5.50.0/24 10.0.0.9
tap_eq "reserve again: exit 0" 0 "$rc"
contains "reserve again: nothing to do" "$out" "already reserved"
refused "reserve again, other value" "different value" \
	reserve 10.5.50.0/24 10.0.0.9 --backend-type vxlan

wctl reserve 10.5.51.0-24 10.0.0.10 --backend-type=host-gw
tap_eq "key form + --backend-type=: exit 0" 0 "$rc"
tap_eq "key form + --backend-type=: bytes" \
	'{"PublicIP":"10.0.0.10","PublicIPv6":null,"BackendType":"host-gw"}' \
	"$(etcd_get "$S/10.5.51.0-24")"
wctl reserve --backend-type vxlan --backend-data '{"VNI": 1, "VtepMAC": "aa:bb:cc:dd:ee:ff"}' \
	10.5.52.0/24,fd00:5:52::/64 10.0.0.11 --public-ipv6 fd00::11
tap_eq "dual stack + backend data: exit 0" 0 "$rc"
tap_eq "dual stack + backend data: bytes (compacted)" \
	'{"PublicIP":"10.0.0.11","PublicIPv6":"fd00::11","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}}' \
	"$(etcd_get "$S/10.5.52.0-24&fd00:5:52::-64")"
wctl reserve fd00:5:53::/64 10.0.0.0 --force
tap_eq "IPv6 only: exit 0" 0 "$rc"
tap_eq "IPv6 only: key with the 0.0.0.0-0 placeholder" '{"PublicIP":"10.0.0.0","PublicIPv6":null}' \
	"$(etcd_get "$S/0.0.0.0-0&fd00:5:53::-64")"
wctl leases
tap_eq "IPv6 only: listed last" "fd00:5:53::/64 reserved" "$(tail -n1 <<<"$out" | awk '{print $1, $4}')"
etcd_del "$S/0.0.0.0-0&fd00:5:53::-64"

# A live lease of the same node becomes a reservation, value untouched.
wctl reserve 10.5.34.0/24 10.0.0.1
tap_eq "convert live lease: exit 0" 0 "$rc"
contains "convert live lease: says so" "$out" "into a reservation"
tap_eq "convert live lease: value unchanged" "$vx" "$(etcd_get "$S/10.5.34.0-24")"
tap_eq "convert live lease: etcd lease gone" 0 "$(lease_of "$S/10.5.34.0-24")"
wctl leases
tap_eq "convert live lease: listed as reserved" "reserved" \
	"$(awk '$1 == "10.5.34.0/24" {print $4}' <<<"$out")"

refused "other node's lease: message" "of public IP 10.0.0.3, not 10.0.0.99" \
	reserve 10.5.10.0/24,fd00:5:a::/64 10.0.0.99
tap_eq "other node's lease: lease kept" "$((16#$l10))" "$(lease_of "$S/10.5.10.0-24&fd00:5:a::-64")"
refused "reservation of another node" "is a reservation of public IP 10.0.0.2" \
	reserve 10.5.2.0/24 10.0.0.99
refused "overlap (bigger)" "10.5.0.0/16 overlaps 10.5." reserve 10.5.0.0/16 10.0.0.9
refused "overlap (smaller)" "overlaps 10.5.50.0/24 (key $S/10.5.50.0-24)" \
	reserve 10.5.50.128/25 10.0.0.9
refused "overlap (IPv6 part)" "overlaps 10.5.10.0/24,fd00:5:a::/64" \
	reserve 10.5.11.0/24,fd00:5:a::/64 10.0.0.9
tap_eq "refusals wrote nothing" "" \
	"$(etcdctl3 get --prefix "$S" --keys-only | grep -E '10\.5\.0\.0|10\.5\.50\.128|10\.5\.11\.')"

# With a network config: SubnetLen and [SubnetMin, SubnetMax] are enforced.
etcd_put "$P/config" \
	'{"Network":"10.5.0.0/16","SubnetLen":24,"SubnetMin":"10.5.20.0","SubnetMax":"10.5.200.0","Backend":{"Type":"vxlan"}}'
refused "below SubnetMin" "IPv4 subnet 10.5.1.0/24 lies outside $P/config's range 10.5.20.0 - 10.5.200.0" \
	reserve 10.5.1.0/24 10.0.0.9
refused "outside Network" "lies outside" reserve 10.6.0.0/24 10.0.0.9
refused "wrong SubnetLen" "prefix length /25, but $P/config sets SubnetLen 24" \
	reserve 10.5.60.0/25 10.0.0.9
refused "IPv6 part without EnableIPv6" "does not enable IPv6" \
	reserve 10.5.60.0/24,fd00:60::/64 10.0.0.9
tap_eq "config refusals wrote nothing" "absent" "$(lease_of "$S/10.5.1.0-24")"
wctl reserve 10.5.60.0/24 10.0.0.12
tap_eq "inside the config range: exit 0" 0 "$rc"
tap_eq "inside the config range: no warning" "" "$err"
wctl reserve 10.5.1.0/24 10.0.0.13 --force
tap_eq "--force skips the config check" 0 "$rc"
tap_eq "--force: written" '{"PublicIP":"10.0.0.13","PublicIPv6":null}' "$(etcd_get "$S/10.5.1.0-24")"
etcd_put "$P/config" '{"Network":"nonsense"}'
wctl reserve 10.5.3.0/24 10.0.0.14
tap_eq "invalid config: reserve proceeds" 0 "$rc"
contains "invalid config: warning" "$err" "is not a valid network config"
etcd_del "$P/config"

# ---- unreserve ----
t_unres=$(date +%s)
wctl unreserve 10.5.50.0/24
tap_eq "unreserve: exit 0" 0 "$rc"
contains "unreserve: says so" "$out" "is no longer reserved"
lid=$(lease_of "$S/10.5.50.0-24")
tap_ok "unreserve: key has an etcd lease" test "$lid" -gt 0
rem=$(etcdctl3 lease timetolive "$(printf %x "$lid")" | sed -nE 's/.*remaining\(([0-9]+)s\).*/\1/p')
tap_ok "unreserve: lease TTL about 24 h (${rem}s)" ttl_ok "${rem:--1}" 86400 "$t_unres"
tap_eq "unreserve: value unchanged" '{"PublicIP":"10.0.0.9","PublicIPv6":null}' \
	"$(etcd_get "$S/10.5.50.0-24")"
wctl leases
exp=$(awk '$1 == "10.5.50.0/24" {print $4}' <<<"$out")
tap_ok "unreserve: leases shows a time ($exp)" ttl_ok "$(dur_secs "$exp")" 86400 "$t_unres" 60
refused "unreserve a lease" "10.5.50.0/24 is a lease (etcd lease" unreserve 10.5.50.0/24
refused "unreserve --delete a lease" "not a reservation" unreserve --delete 10.5.50.0/24
tap_eq "unreserve of a lease: kept" "$lid" "$(lease_of "$S/10.5.50.0-24")"
wctl unreserve --delete 10.5.51.0-24
tap_eq "unreserve --delete: exit 0" 0 "$rc"
tap_eq "unreserve --delete: key gone" "absent" "$(lease_of "$S/10.5.51.0-24")"
refused "unreserve a missing key" "no reservation for 10.5.51.0/24" unreserve 10.5.51.0/24
wctl unreserve 10.5.52.0/24,fd00:5:52::/64
tap_eq "unreserve dual stack: exit 0" 0 "$rc"
tap_ok "unreserve dual stack: leased" test "$(lease_of "$S/10.5.52.0-24&fd00:5:52::-64")" -gt 0

# ---- etcd options ----
FLANNELD_ETCD_ENDPOINTS=$ETCD_ENDPOINT FLANNELD_ETCD_PREFIX=$P run leases
tap_eq "FLANNELD_ETCD_*: exit 0" 0 "$rc"
contains "FLANNELD_ETCD_*: lists the test prefix" "$out" "10.5.34.0/24"
FLANNELD_ETCD_ENDPOINTS=http://127.0.0.1:1 FLANNELD_ETCD_PREFIX=/elsewhere \
	run leases --etcd-endpoints="$ETCD_ENDPOINT" -etcd-prefix "$P"
tap_eq "command line wins over FLANNELD_ETCD_*" 0 "$rc"
contains "command line wins: test prefix" "$out" "10.5.34.0/24"
FLANNEL_ETCD_ENDPOINTS=$ETCD_ENDPOINT FLANNEL_ETCD_PREFIX=$P FLANNELD_ETCD_ENDPOINTS=http://127.0.0.1:1 \
	FLANNELD_ETCD_PREFIX=/elsewhere run leases
tap_eq "FLANNEL_ETCD_ENDPOINTS/PREFIX (distribution file) win over FLANNELD_ETCD_*" 0 "$rc"
contains "FLANNEL_ETCD_*: lists the test prefix" "$out" "10.5.34.0/24"
FLANNEL_ETCD=$ETCD_ENDPOINT FLANNEL_ETCD_KEY=$P run leases
tap_eq "FLANNEL_ETCD/FLANNEL_ETCD_KEY (older names): exit 0" 0 "$rc"
contains "FLANNEL_ETCD_KEY: lists the test prefix" "$out" "10.5.34.0/24"
FLANNELD_ETCD_ENDPOINTS=$ETCD_ENDPOINT FLANNELD_ETCD_PREFIX= run reserve 10.9.1.0/24 10.0.0.20
tap_eq "default prefix: exit 0" 0 "$rc"
tap_eq "default prefix: /coreos.com/network" '{"PublicIP":"10.0.0.20","PublicIPv6":null}' \
	"$(etcd_get /coreos.com/network/subnets/10.9.1.0-24)"

dead=http://127.0.0.1:$(free_port)
for c in "leases" "reserve 10.5.90.0/24 10.0.0.9" "unreserve 10.5.90.0/24"; do
	# shellcheck disable=SC2086
	run $c --etcd-endpoints "$dead"
	tap_eq "unreachable etcd, $c: exit 1" 1 "$rc"
	contains "unreachable etcd, $c: names the endpoint" "$err" "cannot reach etcd ($dead)"
done
run leases --etcd-endpoints "$dead,$ETCD_ENDPOINT" --etcd-prefix "$P"
tap_eq "dead endpoint first: fails over" 0 "$rc"

# User/password (etcd v3 auth), also from FLANNELD_ETCD_USERNAME/PASSWORD.
etcdctl3 user add root:rootpw >/dev/null && etcdctl3 user grant-role root root >/dev/null &&
	etcdctl3 auth enable >/dev/null
wctl leases
tap_eq "auth: refused without credentials" 1 "$rc"
wctl leases --etcd-username root --etcd-password rootpw
tap_eq "auth: --etcd-username/--etcd-password" 0 "$rc"
FLANNELD_ETCD_USERNAME=root FLANNELD_ETCD_PASSWORD=rootpw wctl leases
tap_eq "auth: FLANNELD_ETCD_USERNAME/PASSWORD" 0 "$rc"
etcd_stop

# ---- TLS ----
ETCD_CLIENT_PORT= ETCD_PEER_PORT= ETCD_DIR=$RUN_DIR/etcd-tls
etcd_start tls || exit 1
C=$ETCD_DIR/certs
tls=(--etcd-cafile "$C/ca.crt" --etcd-certfile "$C/client.crt" --etcd-keyfile "$C/client.key")
etcdctl3 put "$S/10.5.70.0-24" '{"PublicIP":"10.0.0.70","PublicIPv6":null}' \
	--lease="$(grant 600)" >/dev/null
wctl leases "${tls[@]}"
tap_eq "tls: leases exit 0" 0 "$rc"
tap_eq "tls: leases row" "10.5.70.0/24 10.0.0.70 -" \
	"$(sed -n 2p <<<"$out" | awk '{print $1, $2, $3}')"
wctl reserve 10.5.71.0/24 10.0.0.71 "${tls[@]}"
tap_eq "tls: reserve exit 0" 0 "$rc"
tap_eq "tls: reserve bytes" '{"PublicIP":"10.0.0.71","PublicIPv6":null}' \
	"$(etcd_get "$S/10.5.71.0-24")"
tap_eq "tls: reserve without etcd lease" 0 "$(lease_of "$S/10.5.71.0-24")"
FLANNELD_ETCD_CAFILE=$C/ca.crt FLANNELD_ETCD_CERTFILE=$C/client.crt \
	FLANNELD_ETCD_KEYFILE=$C/client.key wctl unreserve 10.5.71.0/24
tap_eq "tls: unreserve via FLANNELD_ETCD_*FILE" 0 "$rc"
wctl leases --etcd-cafile "$C/ca.crt"
tap_eq "tls: no client certificate: exit 1" 1 "$rc"
contains "tls: no client certificate: names the endpoint" "$err" "$ETCD_ENDPOINT"
tap_done
