#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# weftctl config put / status / docker-opts. config put against a real etcd
# (the exact bytes stored, refusals and --dry-run writing nothing); status
# against a real weftd (alloc backend on lo, health and metrics listeners on
# free loopback ports): not ready while etcd has no config, ready once `config put`
# wrote one, and nothing listening; docker-opts: flannel's mk-docker-opts.sh
# test cases byte for byte, the environment, every refusal, the default paths
# (private mount namespace) and the route check (private network namespace).
# shellcheck disable=SC2016,SC2119 # sh -c scripts and $(...) in test data are literal
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh # first: it defaults WEFT_BUILD, which weftd.sh uses
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh

W=$WEFT_BUILD/weftctl
P=/weft-ops/network
T=$RUN_DIR/t
mkdir -p "$T"

if [ ! -x "$W" ]; then
	tap_not_ok "weftctl is built ($W)"
	tap_done
	exit
fi

# run ARGS... -- sets $rc, $out (stdout) and $err (stderr)
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

# The stored bytes of KEY into FILE (no trailing newline added); "absent" if none.
etcd_raw() {
	etcdctl3 get "$1" -w json | python3 -c '
import base64, json, sys
kvs = json.load(sys.stdin).get("kvs", [])
sys.stdout.buffer.write(base64.b64decode(kvs[0]["value"]) if kvs else b"absent")' >"$2"
}

# ---- help ----
run --help
tap_ok "--help lists status" grep -qE '^  status +' "$RUN_DIR/out"
tap_ok "--help lists docker-opts" grep -qE '^  docker-opts +' "$RUN_DIR/out"
contains "--help: config mentions put" "$out" "or put it into etcd"
for c in "config put" status docker-opts; do
	# shellcheck disable=SC2086 # split on purpose
	run $c --help
	tap_eq "$c --help: exit 0" 0 "$rc"
	contains "$c --help: usage" "$out" "usage: weftctl $c"
	# shellcheck disable=SC2086
	run help $c
	contains "help $c" "$out" "usage: weftctl ${c%% *}"
done
run config put --help
contains "config put --help: etcd options" "$out" "--etcd-endpoints"
contains "config put --help: --dry-run" "$out" "--dry-run"
run config --help
contains "config --help mentions put" "$out" "weftctl config put"
run docker-opts -h
tap_eq "docker-opts -h: exit 0" 0 "$rc"
contains "docker-opts -h: usage" "$out" "usage: weftctl docker-opts"

# ======================= config put =======================
etcd_start || exit 1

# A config with its own layout: the stored bytes must be these, not a re-encoding.
printf '{\n  "Network": "10.8.0.0/16",\n  "SubnetLen": 24,\n  "Backend": {"Type": "alloc"}\n}\n' \
	>"$T/net-conf.json"
wctl config put "$T/net-conf.json"
tap_eq "put: exit 0" 0 "$rc"
tap_eq "put: summary and key" "Network: 10.8.0.0/16
SubnetLen: 24
SubnetMin: 10.8.1.0
SubnetMax: 10.8.255.0
EnableIPv4: true
EnableIPv6: false
EnableNFTables: false
Backend: alloc
Wrote $(wc -c <"$T/net-conf.json") bytes to $P/config (etcd $ETCD_ENDPOINT)" "$out"
tap_eq "put: nothing on stderr" "" "$err"
etcd_raw "$P/config" "$T/stored"
tap_ok "put: stored bytes equal the file" cmp "$T/net-conf.json" "$T/stored"

# stdin, replacing the previous value
good='{"Network":"10.9.0.0/16","Backend":{"Type":"vxlan"}}'
printf '%s' "$good" | "$W" config put - --etcd-endpoints "$ETCD_ENDPOINT" --etcd-prefix "$P" \
	>"$RUN_DIR/out" 2>"$RUN_DIR/err" && rc=0 || rc=$?
tap_eq "put from stdin: exit 0" 0 "$rc"
tap_eq "put from stdin: replaced" "$good" "$(etcd_get "$P/config")"
tap_ok "put from stdin: reported" grep -q "^Wrote ${#good} bytes to $P/config" "$RUN_DIR/out"

# Refusals keep what is there; on an empty prefix they create nothing.
# refused DESCRIPTION CONTENT MESSAGE
refused() {
	printf '%s' "$2" >"$T/bad.json"
	wctl config put "$T/bad.json"
	tap_eq "$1: exit 1" 1 "$rc"
	contains "$1: names the file and the problem" "$err" "weftctl: $T/bad.json: "
	contains "$1: message" "$err" "$3"
	tap_eq "$1: nothing on stdout" "" "$out"
	tap_eq "$1: old config kept" "$good" "$(etcd_get "$P/config")"
}
refused "invalid JSON" '{"Network":"10.9.0.0/16",}' "invalid JSON"
refused "empty file" '' "invalid JSON"
refused "SubnetLen /31" '{"Network":"10.9.0.0/16","SubnetLen":31}' "SubnetLen must be less than /31"
refused "SubnetMin outside" '{"Network":"10.9.0.0/16","SubnetMin":"10.4.0.0"}' \
	"SubnetMin is not in the range of the Network"
refused "Network missing" '{"Backend":{"Type":"vxlan"}}' "please define a correct Network parameter"
refused "EnableIPv6 a string" '{"Network":"10.9.0.0/16","EnableIPv6":"yes"}' "EnableIPv6"
run config put "$T/bad.json" --etcd-endpoints "$ETCD_ENDPOINT" --etcd-prefix /weft-ops/empty
tap_eq "refused on an empty prefix: exit 1" 1 "$rc"
tap_eq "refused on an empty prefix: nothing created" "" \
	"$(etcdctl3 get --prefix /weft-ops/empty --keys-only)"

wctl config put "$T/missing.json"
tap_eq "missing file: exit 1" 1 "$rc"
tap_eq "missing file: names it" "weftctl: $T/missing.json: No such file or directory" "$err"

# --dry-run: validated and shown, nothing written, etcd not even contacted.
run config put --dry-run "$T/net-conf.json" --etcd-prefix /weft-ops/dry \
	--etcd-endpoints "http://127.0.0.1:$(free_port)"
tap_eq "dry run: exit 0" 0 "$rc"
contains "dry run: summary" "$out" "Backend: alloc"
contains "dry run: says nothing was written" "$out" \
	"Dry run: would write $(wc -c <"$T/net-conf.json") bytes to /weft-ops/dry/config"
run config put --dry-run "$T/net-conf.json" --etcd-endpoints "$ETCD_ENDPOINT" --etcd-prefix /weft-ops/dry
tap_eq "dry run with etcd up: exit 0" 0 "$rc"
tap_eq "dry run: nothing in etcd" 0 "$(lines_of etcdctl3 get --prefix /weft-ops/dry --keys-only)"
printf '{"Network":"10.9.0.0/16","SubnetLen":31}' >"$T/bad.json"
run config put --dry-run "$T/bad.json"
tap_eq "dry run of an invalid config: exit 1" 1 "$rc"
contains "dry run of an invalid config: message" "$err" "SubnetLen must be less than /31"

printf '{"Network":"10.10.0.0/16"}' >"$T/nobackend.json"
FLANNELD_ETCD_ENDPOINTS=$ETCD_ENDPOINT FLANNELD_ETCD_PREFIX=/weft-ops/env \
	"$W" config put "$T/nobackend.json" >"$RUN_DIR/out" 2>"$RUN_DIR/err" && rc=0 || rc=$?
tap_eq "FLANNELD_ETCD_* fallback: exit 0" 0 "$rc"
tap_eq "FLANNELD_ETCD_* fallback: written" '{"Network":"10.10.0.0/16"}' \
	"$(etcd_get /weft-ops/env/config)"
tap_ok "missing Backend: warned" grep -q 'Backend not set; flannel defaults to udp' "$RUN_DIR/err"

dead=http://127.0.0.1:$(free_port)
run config put "$T/net-conf.json" --etcd-endpoints "$dead" --etcd-prefix /weft-ops/dead
tap_eq "unreachable etcd: exit 1" 1 "$rc"
contains "unreachable etcd: names the endpoint" "$err" "cannot reach etcd ($dead)"
contains "unreachable etcd: nothing written" "$err" "(nothing written)"
tap_eq "unreachable etcd: nothing on stdout" "" "$out"

for bad in "config put" "config put a b" "config put --bogus x" "config put --dry-run=1 x"; do
	# shellcheck disable=SC2086
	run $bad
	tap_eq "usage error '$bad': exit 1" 1 "$rc"
done
run config put a b
contains "two files: named" "$err" "unexpected argument 'b'"
run config put
contains "no file: said" "$err" "no FILE given"

# ======================= status =======================
# Nothing listening: the URL and the reason.
port=$(free_port)
run status --metrics "127.0.0.1:$port"
tap_eq "nothing listening: exit 1" 1 "$rc"
tap_eq "nothing listening: names the URL and the reason" \
	"weftctl: status: cannot reach weftd at http://127.0.0.1:$port/status: connecting to 127.0.0.1: Connection refused" \
	"$err"
tap_eq "nothing listening: nothing on stdout" "" "$out"
run status --metrics "ftp://127.0.0.1:$port"
tap_eq "not http: exit 1" 1 "$rc"
tap_eq "not http: said" \
	"weftctl: status: ftp://127.0.0.1:$port/status: not a valid http:// or https:// URL" "$err"

# Something else listening: etcd has no /status.
run status --metrics "$ETCD_ENDPOINT"
tap_eq "not a weftd: exit 1" 1 "$rc"
contains "not a weftd: says so" "$err" "$ETCD_ENDPOINT/status: HTTP 404 (not weftd's metrics listener? /status is on weftd --metrics-port, not the health port; flanneld has none)"

# answer_server NAME PORT MODE: a loopback test server (not a weftd) for the
# answers weftd never gives. silent: takes the connection, never answers;
# big: 200 with 100000 bytes; text: 200 with a body that is not JSON;
# mistyped: 200 with weftd's field names, all but "ready" holding values of the
# wrong types (one whose "ready" is no boolean is refused as no weftd answer).
answer_server() {
	run_bg "$1" python3 -c '
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
print("listening", flush=True)
if mode == "silent":
    time.sleep(120)
body = b"x" * 100000 if mode == "big" else b"hello\x1b[31m"
if mode == "mistyped":
    body = (b"{\"ready\":false,\"subnet\":7,\"ipv6_subnet\":[],\"store\":5,\"backend\":{},"
            b"\"mtu\":\"1450\",\"peers_known\":\"many\",\"lease_expiry\":\"x\","
            b"\"watch_healthy\":\"yes\",\"version\":null}")
while True:
    c, _ = s.accept()
    c.recv(65536)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    c.close()' "$2" "$3"
	wait_until 10 grep -q listening "$RUN_DIR/$1.log"
}
port=$(free_port)
tap_ok "silent server up" answer_server silent "$port" silent
t0=$(date +%s%N)
run status --metrics "127.0.0.1:$port"
ms=$((($(date +%s%N) - t0) / 1000000))
tap_eq "no answer: exit 1" 1 "$rc"
tap_eq "no answer: times out, naming the URL" \
	"weftctl: status: cannot reach weftd at http://127.0.0.1:$port/status: request to 127.0.0.1 timed out" \
	"$err"
tap_ok "no answer: after the 5 s timeout, not much later (${ms} ms)" \
	test "$ms" -ge 4900 -a "$ms" -lt 7000
stop_bg silent
port=$(free_port)
tap_ok "big server up" answer_server big "$port" big
run status --metrics "127.0.0.1:$port"
tap_eq "oversized answer: exit 1" 1 "$rc"
tap_eq "oversized answer: refused by size" \
	"weftctl: status: http://127.0.0.1:$port/status: answer larger than 65536 bytes" "$err"
tap_eq "oversized answer: nothing on stdout" "" "$out"
stop_bg big
port=$(free_port)
tap_ok "text server up" answer_server text "$port" text
run status --metrics "127.0.0.1:$port"
tap_eq "not JSON: exit 1" 1 "$rc"
tap_eq "not JSON: said, control characters not echoed" \
	"weftctl: status: http://127.0.0.1:$port/status: not a weftd status answer: '[' or '{' expected near 'hello'" \
	"$err"
stop_bg text
port=$(free_port)
tap_ok "mistyped server up" answer_server mistyped "$port" mistyped
run status --metrics "127.0.0.1:$port"
tap_eq "mistyped fields: exit 1 (not ready)" 1 "$rc"
tap_eq "mistyped fields: each read as absent (store 5: etcd's wording)" \
	"Ready:          no|Lease:          none (no subnet held yet)|Backend:        -|MTU:            -|Peers:          0 known, 0 programmed|Lease expires:  -|etcd watch:     not healthy" \
	"$(grep -E '^(Ready|Lease|Backend|MTU|Peers|Lease expires|etcd watch|Node watch):' <<<"$out" | paste -sd'|')"
stop_bg mistyped

# A daemon waiting for its config is not ready. /status is on its metrics
# listener (127.0.0.1 by default), not on the health port.
hport=$(free_port)
mport=$(free_port)
NP=/weft-ops/late
weftd_start a 127.0.0.41 --etcd-prefix "$NP" --healthz-ip 127.0.0.1 --healthz-port "$hport" \
	--metrics-port "$mport"
status_says() { "$W" status --metrics "127.0.0.1:$mport" 2>&1 | grep -q -- "$1"; }
tap_ok "not ready: daemon answers" wait_until 20 status_says "Ready: "
run status --metrics "127.0.0.1:$hport"
tap_eq "the health port has no /status: exit 1" 1 "$rc"
tap_eq "the health port has no /status: says where it is" \
	"weftctl: status: http://127.0.0.1:$hport/status: HTTP 404 (not weftd's metrics listener? /status is on weftd --metrics-port, not the health port; flanneld has none)" \
	"$err"
run status --metrics "127.0.0.1:$mport"
tap_eq "not ready: exit 1" 1 "$rc"
contains "not ready: Ready no" "$out" "Ready:          no"
contains "not ready: no lease" "$out" "Lease:          none"
tap_eq "not ready: says so" "weftctl: status: weftd at http://127.0.0.1:$mport/status is not ready" \
	"$err"
run status --json --metrics "http://127.0.0.1:$mport"
tap_eq "not ready --json: exit 1" 1 "$rc"
tap_eq "not ready --json: ready false" "False None" \
	"$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["ready"], j["subnet"])' <<<"$out")"

# config put gives it a config: it becomes ready.
printf '{"Network":"10.11.0.0/16","Backend":{"Type":"alloc"}}' >"$T/late.json"
run config put "$T/late.json" --etcd-endpoints "$ETCD_ENDPOINT" --etcd-prefix "$NP"
tap_eq "config put for the waiting daemon: exit 0" 0 "$rc"
tap_ok "ready after config put" wait_until 30 "$W" status --metrics "127.0.0.1:$mport"
weftd_start b 127.0.0.42 --etcd-prefix "$NP"
tap_ok "second daemon holds a lease" weftd_wait_held b
tap_ok "first daemon sees the second" wait_until 20 status_says "Peers:          1 known"
tap_ok "etcd watch healthy" wait_until 20 status_says "etcd watch:     healthy"
sub=$(weftd_subnet a)
net=${sub%.1/*}.0/${sub#*/}
run status --metrics "127.0.0.1:$mport"
tap_eq "ready: exit 0" 0 "$rc"
tap_eq "ready: nothing on stderr" "" "$err"
tap_eq "ready: summary" "Ready:          yes
Lease:          $net
Public IP:      127.0.0.41
Backend:        alloc
Interface:      lo
MTU:            65536
Peers:          1 known, 0 programmed
etcd watch:     healthy" "$(grep -v -e '^Lease expires:' -e '^Version:' <<<"$out")"
tap_ok "ready: lease expires in about 24h" \
	grep -qE '^Lease expires:  in (23h5[0-9]m|24h0m)$' <<<"$out"
tap_ok "ready: version shown" grep -qE '^Version:        .+' <<<"$out"
run status --json --metrics "http://127.0.0.1:$mport/"
tap_eq "--json (URL with a trailing /): exit 0" 0 "$rc"
tap_eq "--json: the daemon's fields" "True $net 127.0.0.41 alloc lo 65536 1 True" \
	"$(python3 -c '
import json, sys
j = json.load(sys.stdin)
print(j["ready"], j["subnet"], j["public_ip"], j["backend"], j["interface"], j["mtu"],
      j["peers_known"], j["watch_healthy"])' <<<"$out")"
curl -s "http://127.0.0.1:$mport/status" >"$T/status.json"
printf '%s\n' "$out" >"$T/weftctl.json"
tap_ok "--json: the answer unchanged (but for live counters)" \
	python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for k in ("reconcile_runs", "lease_expiry"):
    a.pop(k), b.pop(k)
assert a == b, (a, b)' "$T/status.json" "$T/weftctl.json"
# Made a reservation, the lease no longer expires.
run reserve "$net" 127.0.0.41 --etcd-endpoints "$ETCD_ENDPOINT" --etcd-prefix "$NP"
tap_eq "reserve the daemon's subnet: exit 0" 0 "$rc"
tap_ok "reservation: never expires" wait_until 20 status_says "Lease expires:  never (reservation)"
stop_bg b
stop_bg a

# The default address is the manifests' --metrics-port, 127.0.0.1:8082.
if ss -Htln "sport = :8082" | grep -q .; then
	tap_skip "default address" "something listens on port 8082"
else
	run status
	contains "default address" "$err" "cannot reach weftd at http://127.0.0.1:8082/status"
fi
run status --bogus
tap_eq "unknown option: exit 1" 1 "$rc"
contains "unknown option: named" "$err" "unknown option '--bogus'"
run status extra
tap_eq "stray argument: exit 1" 1 "$rc"
contains "stray argument: named" "$err" "unexpected argument 'extra'"
run status --metrics
tap_eq "--metrics without value: exit 1" 1 "$rc"
contains "--metrics without value: said" "$err" "option '--metrics' needs a value"
run status --metrics=
tap_eq "--metrics empty: exit 1" 1 "$rc"
contains "--metrics empty: said" "$err" "weftctl: status: --metrics: empty address"
run status --healthz "127.0.0.1:$hport"
tap_eq "--healthz (gone): exit 1" 1 "$rc"
contains "--healthz (gone): points at --metrics" "$err" \
	"weftctl: status: --healthz is gone: /status moved from weftd's health port to its metrics listener (weftd --metrics-port); use --metrics"
run status --help
contains "status --help: default URL" "$out" "http://127.0.0.1:8082"

etcd_stop

# ======================= docker-opts =======================
# flannel's dist/sample_subnet.env and mk_docker_opts_test.go cases.
printf 'FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.74.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n' \
	>"$T/subnet.env"
BIP='DOCKER_OPT_BIP="--bip=10.1.74.1/24"'
MASQ='DOCKER_OPT_IPMASQ="--ip-masq=true"'
MTU='DOCKER_OPT_MTU="--mtu=1472"'
ALL='" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"'

# dopts DESCRIPTION EXPECTED-FILE-CONTENT ARGS...: exit 0 and the output byte for byte
dopts() {
	local d=$1 want=$2
	shift 2
	rm -f "$T/docker_opts.env"
	env -u DOCKER_OPTS -u CUSTOM_KEY "$W" docker-opts -f "$T/subnet.env" -d "$T/docker_opts.env" "$@" \
		>"$RUN_DIR/out" 2>"$RUN_DIR/err" && rc=0 || rc=$?
	printf '%s\n' "$want" >"$T/want"
	tap_eq "$d: exit 0" 0 "$rc"
	tap_ok "$d: output byte for byte" cmp "$T/want" "$T/docker_opts.env"
	[ -f "$T/docker_opts.env" ] && ! cmp -s "$T/want" "$T/docker_opts.env" &&
		diff -u "$T/want" "$T/docker_opts.env" | sed 's/^/#   /'
	tap_eq "$d: quiet" "" "$(cat "$RUN_DIR/out" "$RUN_DIR/err")"
}
dopts "default (individual + combined)" "$BIP
$MASQ
$MTU
DOCKER_OPTS=$ALL"
dopts "individual only (-i)" "$BIP
$MASQ
$MTU" -i
dopts "combined only (-c)" "DOCKER_OPTS=$ALL" -c
dopts "custom key (-k CUSTOM_KEY)" "$BIP
$MASQ
$MTU
CUSTOM_KEY=$ALL" -k CUSTOM_KEY
dopts "strip ip-masq (-m)" "$BIP
$MTU
DOCKER_OPTS=\" --bip=10.1.74.1/24 --mtu=1472\"" -m
dopts "grouped -ic = both" "$BIP
$MASQ
$MTU
DOCKER_OPTS=$ALL" -ic
dopts "-m -c -kKEY (attached value)" "OPTS=\" --bip=10.1.74.1/24 --mtu=1472\"" -m -c -kOPTS

# The environment: the combined key's value goes first; DOCKER_OPT_* are included, by name.
rm -f "$T/o"
DOCKER_OPTS="--debug --tls=false" "$W" docker-opts -f "$T/subnet.env" -d "$T/o" -c
tap_eq "DOCKER_OPTS from the environment prepended (as the script: two spaces)" \
	'DOCKER_OPTS="--debug --tls=false  --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"' "$(cat "$T/o")"
MYKEY="--log-level=warn" "$W" docker-opts -f "$T/subnet.env" -d "$T/o" -c -k MYKEY
tap_eq "-k KEY: KEY's environment value prepended" \
	'MYKEY="--log-level=warn  --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"' "$(cat "$T/o")"
env -u DOCKER_OPTS DOCKER_OPT_DNS="--dns=10.0.0.10" DOCKER_OPT_A_Z=--x \
	"$W" docker-opts -f "$T/subnet.env" -d "$T/o"
tap_eq "DOCKER_OPT_* from the environment, in name order" "DOCKER_OPT_A_Z=\"--x\"
$BIP
DOCKER_OPT_DNS=\"--dns=10.0.0.10\"
$MASQ
$MTU
DOCKER_OPTS=\" --x --bip=10.1.74.1/24 --dns=10.0.0.10 --ip-masq=true --mtu=1472\"" "$(cat "$T/o")"
env -u DOCKER_OPTS FLANNEL_SUBNET=10.2.3.1/24 FLANNEL_MTU=1400 FLANNEL_IPMASQ=true \
	"$W" docker-opts -f /dev/null -d "$T/o" -c
tap_eq "-f /dev/null: everything from the environment" \
	'DOCKER_OPTS=" --bip=10.2.3.1/24 --ip-masq=false --mtu=1400"' "$(cat "$T/o")"
env -u DOCKER_OPTS FLANNEL_MTU=9000 "$W" docker-opts -f "$T/subnet.env" -d "$T/o" -c
tap_eq "the file wins over the environment" "$ALL" "$(sed 's/^DOCKER_OPTS=//' "$T/o")"

# sh syntax in the file: quotes, comments, export, several assignments on a line.
cat >"$T/fancy.env" <<'EOF'
# written by hand
export FLANNEL_SUBNET="10.1.74.1/24"   # the node's subnet
FLANNEL_MTU='1472' FLANNEL_IPMASQ=true

export FLANNEL_NETWORK
EOF
env -u DOCKER_OPTS "$W" docker-opts -f "$T/fancy.env" -d "$T/o" -c
tap_eq "quotes, comments, export" 'DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=false --mtu=1472"' \
	"$(cat "$T/o")"

# The output is truncated, not appended to; a file in another directory works.
mkdir -p "$T/sub dir"
head -c 4096 /dev/zero | tr '\0' x >"$T/sub dir/out.env"
env -u DOCKER_OPTS "$W" docker-opts -f "$T/subnet.env" -d "$T/sub dir/out.env" -c
tap_eq "custom -d: truncated and rewritten" "DOCKER_OPTS=$ALL" "$(cat "$T/sub dir/out.env")"

# derr DESCRIPTION MESSAGE ARGS...: exit 1, MESSAGE on stderr
derr() {
	local d=$1 msg=$2
	shift 2
	run docker-opts "$@"
	tap_eq "$d: exit 1" 1 "$rc"
	contains "$d: message" "$err" "$msg"
}
rm -f "$T/o"
derr "missing subnet file" "weftctl: docker-opts: $T/none.env: No such file or directory" \
	-f "$T/none.env" -d "$T/o"
tap_ok "missing subnet file: nothing written" test ! -e "$T/o"
printf 'FLANNEL_SUBNET=10.1.74.1/24\nFLANNEL_IPMASQ=yes\n' >"$T/badmasq.env"
echo previous >"$T/o"
derr "invalid FLANNEL_IPMASQ" "invalid value of FLANNEL_IPMASQ: 'yes' (want true or false)" \
	-f "$T/badmasq.env" -d "$T/o"
tap_eq "invalid FLANNEL_IPMASQ: output untouched (the script exits before writing)" previous \
	"$(cat "$T/o")"
env -u DOCKER_OPTS "$W" docker-opts -f "$T/badmasq.env" -d "$T/o" -m -c && rc=0 || rc=$?
tap_eq "invalid FLANNEL_IPMASQ with -m: not looked at (exit 0)" 0 "$rc"
tap_eq "invalid FLANNEL_IPMASQ with -m: output" 'DOCKER_OPTS=" --bip=10.1.74.1/24"' "$(cat "$T/o")"
printf 'FLANNEL_SUBNET=10.1.74.1/24\nrm -rf /tmp/x\n' >"$T/cmd.env"
derr "a command in the file" "$T/cmd.env:2: not a NAME=VALUE assignment" -f "$T/cmd.env" -d "$T/o"
printf 'FLANNEL_SUBNET=$(hostname)\n' >"$T/exp.env"
derr "an expansion in the file" "$T/exp.env:1: shell expansion ('\$') is not supported" \
	-f "$T/exp.env" -d "$T/o"
printf 'FLANNEL_SUBNET="10.1.74.1/24\n' >"$T/quote.env"
derr "an unterminated quote" "$T/quote.env:1: unterminated \" quote" -f "$T/quote.env" -d "$T/o"
derr "output directory missing" "weftctl: docker-opts: $T/nodir/o: No such file or directory" \
	-f "$T/subnet.env" -d "$T/nodir/o"
derr "unknown option" "unknown option '-x'" -x
derr "unknown long option" "unknown option '--bogus'" --bogus
derr "-f without a value" "option '-f' needs a value" -f
derr "-k without a value" "option '-k' needs a value" -c -k
derr "stray argument" "unexpected argument 'extra'" -f "$T/subnet.env" -d "$T/o" extra
derr "-k not a variable name" "-k 'BAD-KEY': not a valid variable name" -k BAD-KEY

# Default paths (/run/flannel/subnet.env -> /run/docker_opts.env) in a private mount
# namespace with its own /run: the host's /run is never touched.
if unshare -m true 2>/dev/null; then
	got=$(env -u DOCKER_OPTS W="$W" SRC="$T/subnet.env" unshare -m sh -c '
		mount -t tmpfs weft-test /run && mkdir /run/flannel &&
		cp "$SRC" /run/flannel/subnet.env && "$W" docker-opts && cat /run/docker_opts.env' 2>&1)
	tap_eq "default paths" "$BIP
$MASQ
$MTU
DOCKER_OPTS=$ALL" "$got"
	got=$(W="$W" unshare -m sh -c 'mount -t tmpfs weft-test /run && "$W" docker-opts' 2>&1) &&
		rc=0 || rc=$?
	tap_eq "default subnet file missing: exit 1" 1 "$rc"
	tap_eq "default subnet file missing: named" \
		"weftctl: docker-opts: /run/flannel/subnet.env: No such file or directory" "$got"
else
	tap_skip "default paths" "no mount namespaces (unshare -m)"
	tap_skip "default subnet file missing" "no mount namespaces (unshare -m)"
fi

# The route check, in a private network namespace: a route via a gateway to the
# node's subnet (10.1.74.0/24 for FLANNEL_SUBNET=10.1.74.1/24) fails after writing.
if unshare -n true 2>/dev/null; then
	got=$(env -u DOCKER_OPTS W="$W" F="$T/subnet.env" O="$T/route.env" unshare -n sh -c '
		ip link set lo up && ip addr add 10.9.0.1/24 dev lo || exit 9
		ip route add 10.1.74.0/24 via 10.9.0.2 dev lo || exit 9
		"$W" docker-opts -f "$F" -d "$O"; echo "rc=$?"
		ip route replace 10.1.74.0/24 dev lo
		"$W" docker-opts -f "$F" -d "$O"; echo "rc=$?"
		ip route add 10.1.74.0/25 via 10.9.0.2 dev lo
		ip route add 10.1.75.0/24 via 10.9.0.2 dev lo
		"$W" docker-opts -f "$F" -d "$O"; echo "rc=$?"' 2>&1)
	tap_eq "route check" "weftctl: docker-opts: your routing table already contains the subnet: 10.1.74.0/24 via 10.9.0.2 dev lo ($T/route.env is written all the same, as by mk-docker-opts.sh)
rc=1
rc=0
rc=0" "$got"
	tap_eq "route check: output written anyway" "$BIP
$MASQ
$MTU
DOCKER_OPTS=$ALL" "$(cat "$T/route.env")"
else
	tap_skip "route check" "no network namespaces (unshare -n)"
	tap_skip "route check: output written anyway" "no network namespaces (unshare -n)"
fi

tap_done
