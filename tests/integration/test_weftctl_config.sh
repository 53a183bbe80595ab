#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# weftctl config check: upstream's example configs give upstream's values,
# every refusal exits 1 naming the file and the field, and the command-line
# surface (help, version, unknown commands) behaves. Run from the repo root.
set -u
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

W=$WEFT_BUILD/weftctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$W" ]; then
	tap_not_ok "weftctl is built ($W)"
	tap_done
	exit
fi

# run ARGS... -- sets $rc, $out (stdout) and $err (stderr)
run() {
	"$W" "$@" >"$tmp/out" 2>"$tmp/err" && rc=0 || rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# accept DESCRIPTION JSON EXPECTED-STDOUT
accept() {
	printf '%s' "$2" >"$tmp/net-conf.json"
	run config check "$tmp/net-conf.json"
	tap_eq "$1: exit 0" 0 "$rc"
	tap_eq "$1: values" "$3" "$out"
}

# refuse DESCRIPTION JSON MESSAGE: exit 1 and "weftctl: FILE: ...MESSAGE..." on stderr
refuse() {
	printf '%s' "$2" >"$tmp/net-conf.json"
	run config check "$tmp/net-conf.json"
	tap_eq "$1: exit 1" 1 "$rc"
	case $err in
	"weftctl: $tmp/net-conf.json: "*"$3"*) tap_ok "$1: says '$3'" true ;;
	*) tap_not_ok "$1: says '$3'" "got: $err" ;;
	esac
	tap_eq "$1: nothing on stdout" "" "$out"
}

# ---- upstream's examples ----

accept "10.3.0.0/16 (upstream TestConfigDefaults)" '{ "network": "10.3.0.0/16" }' \
"Network: 10.3.0.0/16
SubnetLen: 24
SubnetMin: 10.3.1.0
SubnetMax: 10.3.255.0
EnableIPv4: true
EnableIPv6: false
EnableNFTables: false
Backend: udp"
tap_eq "missing Backend warns" \
	"weftctl: warning: $tmp/net-conf.json: Backend not set; flannel defaults to udp" "$err"

accept "10.5.0.0/24" '{"Network":"10.5.0.0/24","Backend":{"Type":"vxlan"}}' \
"Network: 10.5.0.0/24
SubnetLen: 26
SubnetMin: 10.5.0.64
SubnetMax: 10.5.0.192
EnableIPv4: true
EnableIPv6: false
EnableNFTables: false
Backend: vxlan"
tap_eq "Backend given: no warning" "" "$err"

accept "fc00::/48 IPv6-only (upstream TestIPv6ConfigDefaults)" \
	'{ "enableIPv6": true, "ipv6Network": "fc00::/48", "enableIPv4": false }' \
"IPv6Network: fc00::/48
IPv6SubnetLen: 64
IPv6SubnetMin: fc00:0:0:1::
IPv6SubnetMax: fc00:0:0:ffff::
EnableIPv4: false
EnableIPv6: true
EnableNFTables: false
Backend: udp"

accept "dual-stack fc00::/48" \
	'{"Network":"10.244.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48","Backend":{"Type":"vxlan"}}' \
"Network: 10.244.0.0/16
SubnetLen: 24
SubnetMin: 10.244.1.0
SubnetMax: 10.244.255.0
IPv6Network: fc00::/48
IPv6SubnetLen: 64
IPv6SubnetMin: fc00:0:0:1::
IPv6SubnetMax: fc00:0:0:ffff::
EnableIPv4: true
EnableIPv6: true
EnableNFTables: false
Backend: vxlan"

accept "dual-stack docs example" \
	'{"Network":"10.244.0.0/16","EnableNFTables":true,"Backend":{"Type":"vxlan"},"EnableIPv6":true,"IPv6Network":"2001:cafe:42:0::/56"}' \
"Network: 10.244.0.0/16
SubnetLen: 24
SubnetMin: 10.244.1.0
SubnetMax: 10.244.255.0
IPv6Network: 2001:cafe:42::/56
IPv6SubnetLen: 64
IPv6SubnetMin: 2001:cafe:42:1::
IPv6SubnetMax: 2001:cafe:42:ff::
EnableIPv4: true
EnableIPv6: true
EnableNFTables: true
Backend: vxlan"

accept "overrides (upstream TestConfigOverrides)" \
	'{ "Network": "10.3.0.0/16", "SubnetMin": "10.3.5.0", "SubnetMax": "10.3.8.0", "SubnetLen": 28, "Backend": {"Type": "host-gw"} }' \
"Network: 10.3.0.0/16
SubnetLen: 28
SubnetMin: 10.3.5.0
SubnetMax: 10.3.8.0
EnableIPv4: true
EnableIPv6: false
EnableNFTables: false
Backend: host-gw"

accept "IPv6 overrides (upstream TestIPv6ConfigOverrides)" \
	'{ "EnableIPv6": true, "IPv6Network": "fc00::/48", "IPv6SubnetMin": "fc00:0:0:1::", "IPv6SubnetMax": "fc00:0:0:f::", "IPv6SubnetLen": 124, "enableIPv4": false }' \
"IPv6Network: fc00::/48
IPv6SubnetLen: 124
IPv6SubnetMin: fc00:0:0:1::
IPv6SubnetMax: fc00:0:0:f::
EnableIPv4: false
EnableIPv6: true
EnableNFTables: false
Backend: udp"

accept "docs example" \
	'{"Network":"10.0.0.0/8","SubnetLen":20,"SubnetMin":"10.10.0.0","SubnetMax":"10.99.0.0","Backend":{"Type":"udp","Port":7890}}' \
"Network: 10.0.0.0/8
SubnetLen: 20
SubnetMin: 10.10.0.0
SubnetMax: 10.99.0.0
EnableIPv4: true
EnableIPv6: false
EnableNFTables: false
Backend: udp"

accept "host bits dropped, type lower-cased" '{"Network":"10.0.0.5/8","Backend":{"type":"VXLAN"}}' \
"Network: 10.0.0.0/8
SubnetLen: 24
SubnetMin: 10.0.1.0
SubnetMax: 10.255.255.0
EnableIPv4: true
EnableIPv6: false
EnableNFTables: false
Backend: vxlan"

# ---- stdin ----

"$W" config check - >"$tmp/out" 2>"$tmp/err" <<'EOF' && rc=0 || rc=$?
{
  "Network": "10.244.0.0/16",
  "EnableNFTables": false,
  "Backend": {
    "Type": "vxlan"
  }
}
EOF
tap_eq "stdin (default manifest): exit 0" 0 "$rc"
tap_eq "stdin (default manifest): values" "Network: 10.244.0.0/16
SubnetLen: 24
SubnetMin: 10.244.1.0
SubnetMax: 10.244.255.0
EnableIPv4: true
EnableIPv6: false
EnableNFTables: false
Backend: vxlan" "$(cat "$tmp/out")"

printf '{"Network":"10.3.0.0/16","SubnetLen":31}' | "$W" config check - >"$tmp/out" 2>"$tmp/err" &&
	rc=0 || rc=$?
tap_eq "stdin error: exit 1" 1 "$rc"
tap_eq "stdin error: names <stdin> and the field" \
	"weftctl: <stdin>: SubnetLen must be less than /31" "$(cat "$tmp/err")"

# ---- refusals: each names the field ----

refuse "SubnetLen too long" '{"Network":"10.3.0.0/16","SubnetLen":31}' "SubnetLen must be less than /31"
refuse "SubnetLen as a string" '{"Network":"10.3.0.0/16","SubnetLen":"24"}' "SubnetLen"
refuse "SubnetLen negative" '{"Network":"10.3.0.0/16","SubnetLen":-24}' "SubnetLen"
refuse "SubnetLen too short" '{"Network":"10.3.0.0/16","SubnetLen":17}' \
	"SubnetLen: network must be able to accommodate at least four subnets"
refuse "no Network" '{"Backend":{"Type":"vxlan"}}' \
	"please define a correct Network parameter in the flannel config"
refuse "Network too small" '{"Network":"10.3.0.0/29"}' \
	"Network: network is too small. Minimum useful network prefix is /28"
refuse "Network not a CIDR" '{"Network":"10.3.0.0"}' "Network: invalid CIDR address: 10.3.0.0"
refuse "Network is IPv6" '{"Network":"fc00::/48"}' "Network: fc00::/48 is not an IPv4 network"
refuse "Network leading zero" '{"Network":"010.3.0.0/16"}' "Network: invalid CIDR address"
refuse "SubnetMin outside" '{"Network":"10.3.0.0/16","SubnetMin":"10.4.0.0"}' \
	"SubnetMin is not in the range of the Network"
refuse "SubnetMax outside" '{"Network":"10.3.0.0/16","SubnetMax":"10.4.0.0"}' \
	"SubnetMax is not in the range of the Network"
refuse "SubnetMin misaligned" '{"Network":"10.3.0.0/16","SubnetMin":"10.3.1.1"}' \
	"SubnetMin is not on a SubnetLen boundary: 10.3.1.1"
refuse "SubnetMax misaligned" '{"Network":"10.3.0.0/16","SubnetMax":"10.3.8.1"}' \
	"SubnetMax is not on a SubnetLen boundary: 10.3.8.1"
refuse "SubnetMin not an address" '{"Network":"10.3.0.0/16","SubnetMin":"bogus"}' \
	"SubnetMin: invalid IP address: bogus"
refuse "EnableIPv6 as a string" '{"Network":"10.3.0.0/16","EnableIPv6":"true"}' "EnableIPv6"
refuse "no IPv6Network" '{"EnableIPv4":false,"EnableIPv6":true}' \
	"please define a correct IPv6Network parameter in the flannel config"
refuse "IPv6SubnetLen too long" \
	'{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48","IPv6SubnetLen":127}' \
	"IPv6SubnetLen: SubnetLen must be less than /127"
refuse "IPv6SubnetLen too short" \
	'{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48","IPv6SubnetLen":49}' \
	"IPv6SubnetLen: network must be able to accommodate at least four subnets"
refuse "IPv6Network too small" '{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/125"}' \
	"IPv6Network is too small. Minimum useful network prefix is /124"
refuse "IPv6Network is IPv4" '{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"10.0.0.0/8"}' \
	"IPv6Network: 10.0.0.0/8 is not an IPv6 network"
refuse "IPv6SubnetMin outside" \
	'{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48","IPv6SubnetMin":"fd00::"}' \
	"IPv6SubnetMin is not in the range of the IPv6Network"
refuse "IPv6SubnetMax misaligned" \
	'{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48","IPv6SubnetMax":"fc00:0:0:2::1"}' \
	"IPv6SubnetMax is not on a SubnetLen boundary: fc00:0:0:2::1"
refuse "no family" '{"EnableIPv4":false,"Network":"10.3.0.0/16"}' "none defined stack"
refuse "Backend a string" '{"Network":"10.3.0.0/16","Backend":"vxlan"}' \
	"error decoding Backend property of config"
refuse "Backend Type a number" '{"Network":"10.3.0.0/16","Backend":{"Type":1}}' "Type"
refuse "malformed JSON" '{"Network":"10.3.0.0/16",}' "invalid JSON"
refuse "empty file" '' "invalid JSON"
refuse "top-level array" '[{"Network":"10.3.0.0/16"}]' "config must be a JSON object"

# ---- the Backend, with the validator weftd runs before creating a backend ----
N='"Network":"10.3.0.0/16"'
refuse "Backend without a Type" "{$N,\"Backend\":{}}" "Backend: unknown backend type ''"
refuse "unknown Type" "{$N,\"Backend\":{\"Type\":\"vxlam\"}}" "unknown backend type 'vxlam'"
refuse "vxlan VNI a string" "{$N,\"Backend\":{\"Type\":\"vxlan\",\"VNI\":\"1\"}}" \
	"Backend.VNI must be an integer between 0 and 16777215"
refuse "vxlan VNI too large" "{$N,\"Backend\":{\"Type\":\"vxlan\",\"VNI\":16777216}}" "Backend.VNI"
refuse "vxlan Port out of range" "{$N,\"Backend\":{\"Type\":\"vxlan\",\"Port\":70000}}" "Backend.Port"
refuse "vxlan DirectRouting not a bool" \
	"{$N,\"Backend\":{\"Type\":\"vxlan\",\"DirectRouting\":\"yes\"}}" "Backend.DirectRouting"
refuse "udp Port a string" "{$N,\"Backend\":{\"Type\":\"udp\",\"Port\":\"8285\"}}" "Backend.Port"
refuse "wireguard bad PSK" "{$N,\"Backend\":{\"Type\":\"wireguard\",\"PSK\":\"nope\"}}" \
	"Backend.PSK must be a WireGuard key"
refuse "wireguard Mode unknown" "{$N,\"Backend\":{\"Type\":\"wireguard\",\"Mode\":\"both\"}}" "Mode"
refuse "ipsec short PSK" "{$N,\"Backend\":{\"Type\":\"ipsec\",\"PSK\":\"short\"}}" \
	"Backend.PSK must have at least 96 characters"
refuse "ipsec with IPv6" \
	"{$N,\"EnableIPv6\":true,\"IPv6Network\":\"fd00::/48\",\"Backend\":{\"Type\":\"ipsec\",\"PSK\":\"$(printf 'a%.0s' $(seq 96))\"}}" \
	"the ipsec backend supports IPv4 only"
refuse "ipip with IPv6" "{$N,\"EnableIPv6\":true,\"IPv6Network\":\"fd00::/48\",\"Backend\":{\"Type\":\"ipip\"}}" \
	"the ipip backend supports IPv4 only"
refuse "extension blank command" \
	"{$N,\"Backend\":{\"Type\":\"extension\",\"SubnetAddCommand\":\"  \"}}" \
	"Backend.SubnetAddCommand has no program to run"
for t in vxlan host-gw udp alloc wireguard ipip extension; do
	printf '{%s,"Backend":{"Type":"%s"}}' "$N" "$t" >"$tmp/net-conf.json"
	run config check "$tmp/net-conf.json"
	tap_eq "Type $t with its defaults: accepted" 0 "$rc"
done
printf '{%s,"Backend":{"Type":"vxlan","VNI":"1"}}' "$N" >"$tmp/net-conf.json"
run config put --dry-run "$tmp/net-conf.json"
tap_eq "config put refuses a bad Backend too" 1 "$rc"

head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$tmp/big.json"
run config check "$tmp/big.json"
tap_eq "over 1 MiB: exit 1" 1 "$rc"
tap_eq "over 1 MiB: says so" "weftctl: $tmp/big.json: config is larger than 1 MiB (1048577 bytes)" "$err"

# ---- files and the command line ----

run config check "$tmp/does-not-exist.json"
tap_eq "missing file: exit 1" 1 "$rc"
tap_eq "missing file: names it" "weftctl: $tmp/does-not-exist.json: No such file or directory" "$err"

run config check "$tmp"
tap_eq "directory: exit 1" 1 "$rc"
tap_eq "directory: names it" "weftctl: $tmp: Is a directory" "$err"

run config check
tap_eq "config check without FILE: exit 1" 1 "$rc"
tap_ok "config check without FILE: usage on stderr" grep -q '^usage: weftctl config' "$tmp/err"

run config check a b
tap_eq "config check with two files: exit 1" 1 "$rc"

run config frobnicate
tap_eq "unknown config subcommand: exit 1" 1 "$rc"
tap_ok "unknown config subcommand: named" grep -q "unknown subcommand 'frobnicate'" "$tmp/err"

run config
tap_eq "config alone: exit 1" 1 "$rc"

run frobnicate
tap_eq "unknown command: exit 1" 1 "$rc"
tap_ok "unknown command: named" grep -q "weftctl: unknown command 'frobnicate'" "$tmp/err"
tap_ok "unknown command: usage on stderr" grep -q '^usage: weftctl' "$tmp/err"
tap_eq "unknown command: nothing on stdout" "" "$out"

run
tap_eq "no command: exit 1" 1 "$rc"
tap_ok "no command: usage on stderr" grep -q '^usage: weftctl' "$tmp/err"

for args in "--help" "-h" "help" "config --help" "help config" "config check --help"; do
	# shellcheck disable=SC2086 # split on purpose
	run $args
	tap_eq "weftctl $args: exit 0" 0 "$rc"
	tap_ok "weftctl $args: usage on stdout" grep -q '^usage: weftctl' "$tmp/out"
done
run --help
tap_ok "--help lists config" grep -qE '^  config +' "$tmp/out"

run help frobnicate
tap_eq "help for an unknown command: exit 1" 1 "$rc"

run --version
tap_eq "--version: exit 0" 0 "$rc"
case $out in
"weftctl "?*) tap_ok "--version: prints 'weftctl VERSION'" true ;;
*) tap_not_ok "--version: prints 'weftctl VERSION'" "got: $out" ;;
esac

tap_done
