#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The docs drift check (tests/run.sh's docs layer): what README.md, docs/*.md,
# docs/man/*.8 and contrib/** name must exist, and what the binaries and the
# code offer must be documented. Against the built binaries in $WEFT_BUILD
# (default build/) and the source in src/, tools/, cni/:
#
#   flags      every --flag the docs give weftd/flanneld (or weftctl COMMAND)
#              is in `weftd --help` (`weftctl COMMAND --help`); one with no
#              program named before it must be some weft binary's; every flag
#              in `weftd --help` is in docs/man/weftd.8, every one of each
#              `weftctl COMMAND --help` in docs/man/weftctl.8;
#   env        every FLANNELD_*, FLANNEL_*, WEFT_* name (and the env: entries
#              of weftd's containers in contrib/) is read by the code (getenv
#              and its helpers, the FLANNELD_<FLAG> rule); every variable the
#              code reads is named in some doc, but the tests' knobs
#              (WEFT_TEST_*, WEFT_*_TEST_*) and the CNI protocol's CNI_*;
#   metrics    every weft_*/flannel_* name is emitted (string literals of
#              src/**/*.c), every one emitted is named in some doc;
#   endpoints  every path of weftd's health/metrics server the docs name
#              (/healthz-like words, /metrics, /status, URLs with a port,
#              httpGet paths) is in status.c's route tables, on the listener
#              whose port the URL names; every route is documented;
#   commands   every `weftctl COMMAND` (and `weftctl config SUB`) is in
#              `weftctl --help`; every command has a .SS section in weftctl.8.
#
# Other programs' flags (dockerd, iptables, kubeadm, swanctl ...) are told by
# context: the program named before the flag on the line or the code span (or
# right before the span in prose), a YAML container's command, the man page
# and its section; where context cannot tell, a commented allowlist. Exactly
# what is recognised, and the allowlists with their reasons, are in
# tests/docs/check_docs.py's header. One TAP line per item (a flag of a
# program, a variable, a metric, an endpoint, a command); a failure names
# every doc FILE:LINE and what is wrong there. The self-test at the end feeds
# the check made-up names and expects it to fail on each.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh

py=tests/docs/check_docs.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for b in weftd weftctl; do
	if [ ! -x "$WEFT_BUILD/$b" ]; then
		tap_not_ok "the binaries are built" "no $WEFT_BUILD/$b: run make all"
		tap_done
		exit 1
	fi
done

# tap_verdicts FILE: check_docs.py's verdicts as TAP lines.
tap_verdicts() {
	local verdict desc problems p f
	while IFS=$'\t' read -r -a f; do
		[ ${#f[@]} -gt 0 ] || continue
		verdict=${f[0]} desc=${f[1]:-}
		case "$verdict" in
		ok) tap_ok "$desc" true ;;
		"not ok")
			problems=
			for p in "${f[@]:2}"; do problems+=${problems:+$'\n#   '}$p; done
			tap_not_ok "$desc" "$problems"
			;;
		*) echo "# ${f[*]}" ;;
		esac
	done <"$1"
}

# run_check OUT ARGS...: run the check; a crash or a usage error is a failure.
run_check() {
	local out=$1 rc
	shift
	python3 "$py" "$@" >"$out" 2>"$out.err" && rc=0 || rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$out" ]; then
		tap_not_ok "check_docs.py $* runs" "exit $rc: $(head -c 2000 "$out.err")"
		return 1
	fi
}

# --- the docs as they are
if run_check "$tmp/verdicts" --build "$WEFT_BUILD"; then
	tap_verdicts "$tmp/verdicts"
fi

# --- self-test: the check fails on drift, naming the doc and the line.
# expect_verdict DESC OUTPUT 'ERE': a "not ok" verdict line of OUTPUT matches.
expect_verdict() {
	if grep -qE -e "^not ok	.*$3" "$2"; then
		tap_ok "self-test: $1" true
	else
		tap_not_ok "self-test: $1" "no failing verdict matches /$3/ in: $(tr '\n' '|' <"$2" | head -c 1500)"
	fi
}

mkdir -p "$tmp/docs"
bad=$tmp/docs/bad.md
cat >"$bad" <<'EOF'
# made-up drift
Run `weftd --iface=eth0 --no-such-flag` and `weftctl leases --no-such-option`,
then `weftctl frobnicate` and `weftctl config frob x.json`.
Watch `weft_no_such_metric` and set `WEFT_NO_SUCH_VAR` or `FLANNELD_NO_SUCH_FLAG`.
With `--healthz-port=8081`, `curl http://127.0.0.1:8081/nosuchz` and
`curl http://127.0.0.1:8081/metrics` answer; so does `--no-such-unowned`.

| flag | meaning |
| `-no-such-dash` | made up |
EOF
mkdir -p "$tmp/man"
printf '%s\n' '.SH OPTIONS' '.B weftd' '.BR \-\-no\-such\-man ,' 'or' \
	'.B \-\-no\-such\-item' >"$tmp/man/weftd.8"
cat >"$tmp/docs/bad.yml" <<'EOF'
      containers:
      - name: agent
        command:
        - /opt/bin/weftd
        args:
        - --no-such-yaml
        env:
        - name: NO_SUCH_ENV_READ
      - name: tool
        command:
        - /opt/bin/weftctl
        - leases
        - --no-such-leases-option
      - name: other
        command:
        - /bin/other
        args:
        - --whatever
        env:
        - name: OTHER_ENV
EOF
if run_check "$tmp/bad" --build "$WEFT_BUILD" --docs "$bad" "$tmp/man/weftd.8" \
	"$tmp/docs/bad.yml" --no-reverse; then
	expect_verdict "a manifest's weftd argument fails" "$tmp/bad" \
		"bad\.yml:6: --no-such-yaml is not in weftd --help"
	expect_verdict "a manifest's weftctl argument fails" "$tmp/bad" \
		"bad\.yml:13: --no-such-leases-option is not in 'weftctl leases --help'"
	expect_verdict "a variable set for weftd but not read fails" "$tmp/bad" \
		"bad\.yml:8: the manifest sets NO_SUCH_ENV_READ, which weft reads nowhere"
	expect_verdict "an unknown weftd flag fails at file:line" "$tmp/bad" \
		"flag weftd --no-such-flag.*bad\.md:2: --no-such-flag is not in weftd --help"
	expect_verdict "an unknown option of a weftctl command fails" "$tmp/bad" \
		"bad\.md:2: --no-such-option is not in 'weftctl leases --help'"
	expect_verdict "a flag named with no program must be weft's" "$tmp/bad" \
		"bad\.md:6: --no-such-unowned is no flag of weftd or of any weftctl command"
	expect_verdict "an unknown weftctl command fails" "$tmp/bad" \
		"bad\.md:3: 'weftctl frobnicate' is not in weftctl --help"
	expect_verdict "an unknown config subcommand fails" "$tmp/bad" \
		"bad\.md:3: 'weftctl config frob' is not in"
	expect_verdict "an unknown metric fails" "$tmp/bad" \
		"metric weft_no_such_metric.*bad\.md:4: weft_no_such_metric is emitted nowhere"
	expect_verdict "an unknown WEFT_ variable fails" "$tmp/bad" \
		"env WEFT_NO_SUCH_VAR.*bad\.md:4: WEFT_NO_SUCH_VAR is read nowhere"
	expect_verdict "an unknown FLANNELD_ variable fails" "$tmp/bad" \
		"bad\.md:4: FLANNELD_NO_SUCH_FLAG is read nowhere"
	expect_verdict "an unknown endpoint fails" "$tmp/bad" \
		"endpoint /nosuchz.*bad\.md:5: weftd serves no /nosuchz"
	expect_verdict "an endpoint on the wrong listener fails" "$tmp/bad" \
		"bad\.md:6: /metrics is served on the metrics listener, not on port 8081"
	expect_verdict "a one-dash flag in a table of flags must be weft's" "$tmp/bad" \
		"bad\.md:9: -no-such-dash is no flag of weftd"
	expect_verdict "a flag after a bold weftd in a man page fails" "$tmp/bad" \
		"man/weftd\.8:3: --no-such-man is not in weftd --help"
	expect_verdict "a flag in weftd.8 is weftd's" "$tmp/bad" \
		"man/weftd\.8:5: --no-such-item is not in weftd --help"
	tap_eq "self-test: the made-up docs fail exactly 16 items" 16 \
		"$(grep -c '^not ok' "$tmp/bad")"
fi

# Other programs' flags and weft's own names must not fail.
good=$tmp/docs/good.md
cat >"$good" <<'EOF'
```
dockerd --bip=10.1.2.1/24 --mtu=1450 --containerd=/run/containerd/containerd.sock
iptables -t nat -A POSTROUTING --random-fully -j MASQUERADE
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
kubeadm init --pod-network-cidr=10.244.0.0/16
/opt/bin/flanneld -etcd-endpoints=http://10.0.0.5:2379 --iface=eth0 -v=2
weftctl status --metrics 127.0.0.1:8082
```
Like iptables `--wait`, and Docker's options (`--bip`); `systemctl enable --now weftd`.
`weft_ready` and `FLANNELD_IFACE` and `/readyz`; weftd: flag provided but not defined: -bogus
The kubelet's `--cni-bin-dir`; `kubectl get --raw /livez`; etcd's `/health`;
`curl http://127.0.0.1:10248/healthz` and `curl http://10.0.0.5:2379/version`.
EOF
if run_check "$tmp/good" --build "$WEFT_BUILD" --docs "$good" --no-reverse; then
	tap_eq "self-test: other programs' flags and weft's own names pass" "" \
		"$(grep '^not ok' "$tmp/good")"
fi

# The reverse: a flag, a metric and a variable that no doc names.
mkdir -p "$tmp/build" "$tmp/src"
build_abs=$(cd "$WEFT_BUILD" && pwd)
cat >"$tmp/build/weftd" <<EOF
#!/bin/sh
"$build_abs/weftd" "\$@"
[ "\$1" = --help ] && printf '  -no-such-documented-flag\n    \tmade up\n'
exit 0
EOF
cat >"$tmp/build/weftctl" <<EOF
#!/bin/sh
"$build_abs/weftctl" "\$@" || exit
[ "\$1 \$2" = "leases --help" ] && printf '  --no-such-documented-option  made up\n'
exit 0
EOF
chmod +x "$tmp/build/weftd" "$tmp/build/weftctl"
cat >"$tmp/src/made_up.c" <<'EOF'
static void made_up(struct metrics *m)
{
	metrics_gauge_func_new(m, "weft_no_such_documented_metric", "made up", read_x, NULL);
	const char *v = getenv("WEFT_NO_SUCH_DOCUMENTED_VAR");
}
EOF
if run_check "$tmp/rev" --build "$tmp/build" --src src tools cni "$tmp/src"; then
	expect_verdict "an undocumented weftd flag fails" "$tmp/rev" \
		"flag weftd --no-such-documented-flag	in weftd --help but not in docs/man/weftd\.8"
	expect_verdict "an undocumented weftctl option fails" "$tmp/rev" \
		"flag weftctl --no-such-documented-option	in 'weftctl leases --help' but not in docs/man/weftctl\.8"
	expect_verdict "an undocumented metric fails" "$tmp/rev" \
		"metric weft_no_such_documented_metric	.*made_up\.c emits it, no doc names it"
	expect_verdict "an undocumented variable fails" "$tmp/rev" \
		"env WEFT_NO_SUCH_DOCUMENTED_VAR	.*made_up\.c reads it, no doc names it"
	tap_eq "self-test: the made-up code fails exactly 4 items more" \
		$(($(grep -c '^not ok' "$tmp/verdicts") + 4)) "$(grep -c '^not ok' "$tmp/rev")"
fi

tap_done
