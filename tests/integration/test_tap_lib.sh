#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Self-test of tests/lib/tap.sh: its negative checks must be able to fail. Each
# case runs one check in a subshell (its own counters) and looks at the TAP
# line and diagnostic it printed: tap_fail_with reports "not ok" for a crash,
# a sanitizer report, a missing binary, a wrong code, wrong text and a vanished
# network namespace, and "ok" only for the right code and text.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A command that prints MSG on stderr and exits CODE.
say() { # CODE MSG
	echo "$2" >&2
	return "$1"
}
# A real process that dies of SIGSEGV (bash reports 139).
segv() { bash -c 'echo "about to crash" >&2; kill -SEGV $$'; }
# What an ASan/UBSan build prints before exiting with the code it was given.
sanitized() {
	echo "prog: refused" >&2
	echo "==1234==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020" >&2
	return 1
}
ubsan() {
	echo "src/x.c:10:5: runtime error: signed integer overflow" >&2
	return 1
}

# verdict WANT(ok|not ok) DESC DIAG_ERE CHECK ARGS...: run CHECK in a subshell;
# its one TAP line must be WANT, and its diagnostic must match DIAG_ERE.
verdict() {
	local want=$1 d=$2 diag=$3 out line
	shift 3
	out=$("$@")
	line=$(head -1 <<<"$out")
	case $line in
	"$want 1 - "*) ;;
	*)
		tap_not_ok "$d: '$want' expected" "got: $line"
		printf '%s\n' "$out" | sed 's/^/#     /'
		return
		;;
	esac
	if [ -n "$diag" ]; then
		tap_ok "$d: $want, saying why" grep -qE -e "$diag" <<<"$out"
	else
		tap_ok "$d: $want" true
	fi
}
one() { # CHECK ARGS...: the check alone, in a subshell, with fresh counters
	(
		_tap_n=0 _tap_failed=0
		"$@"
	)
}

# ---- tap_fail_with ----
verdict "ok" "right code and text" "" \
	one tap_fail_with "x" 3 'no such thing' say 3 "error: no such thing"
verdict "ok" "text matched on stdout too" "" \
	one tap_fail_with "x" 2 '^usage:' sh -c 'echo "usage: x"; exit 2'
verdict "not ok" "crash (SIGSEGV)" "killed by signal SIGSEGV \(exit 139\)" \
	one tap_fail_with "x" 1 'about to crash' segv
verdict "not ok" "crash, even when 139 is asked for" "not in 1..125" \
	one tap_fail_with "x" 139 'about to crash' segv
verdict "not ok" "missing binary" "command not found \(exit 127\)" \
	one tap_fail_with "x" 1 'not found' "$tmp/no-such-program"
verdict "not ok" "not executable" "cannot execute" \
	one tap_fail_with "x" 1 'denied' "$tmp"
verdict "not ok" "wrong code" "exit 2, expected 1" \
	one tap_fail_with "x" 1 'bad' say 2 "bad"
verdict "not ok" "wrong text" "does not match /no such thing/" \
	one tap_fail_with "x" 1 'no such thing' say 1 "permission denied"
verdict "not ok" "success" "succeeded \(exit 0\)" \
	one tap_fail_with "x" 1 'x' say 0 "x"
verdict "not ok" "AddressSanitizer report with the expected code and text" "sanitizer report" \
	one tap_fail_with "x" 1 'refused' sanitized
verdict "not ok" "UBSan runtime error" "sanitizer report" \
	one tap_fail_with "x" 1 'overflow' ubsan
verdict "not ok" "vanished namespace, same code" "network namespace is gone" \
	one tap_fail_with "x" 1 '.' say 1 'Cannot open network namespace "wx-h1": No such file or directory'
verdict "ok" "a namespace error that is the expected one" "" \
	one tap_fail_with "x" 1 'Cannot open network namespace' \
	say 1 'Cannot open network namespace "wx-h1": No such file or directory'
verdict "not ok" "no message given" "no expected message" \
	one tap_fail_with "x" 1 '' say 1 "x"
verdict "not ok" "code 0 asked for" "not in 1..125" \
	one tap_fail_with "x" 0 'x' say 0 "x"
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null; then
	verdict "not ok" "ip -n on a namespace that does not exist" "exit 255, expected 1" \
		one tap_fail_with "x" 1 'does not exist' ip -n "wtap$$-none" link show eth0
else
	tap_skip "ip -n on a namespace that does not exist" "needs root and ip"
fi

# ---- the other checks ----
verdict "not ok" "tap_ok: crash" "killed by signal SIGSEGV" one tap_ok "x" segv
verdict "not ok" "tap_ok: sanitizer report on exit 0" "sanitizer report" \
	one tap_ok "x" sh -c 'echo "ERROR: LeakSanitizer: detected memory leaks" >&2'
verdict "ok" "tap_lacks: present and absent as wanted" "" \
	one tap_lacks "x" 'dport 8080' '^-P ' printf '%s\n' '-P PREROUTING ACCEPT' '-A X --dport 9090'
verdict "not ok" "tap_lacks: the absent line is there" "matching /dport 8080/" \
	one tap_lacks "x" 'dport 8080' '^-P ' printf '%s\n' '-P PREROUTING ACCEPT' '-A X --dport 8080'
verdict "not ok" "tap_lacks: command failed (empty output would have passed)" "failed \(exit 1\)" \
	one tap_lacks "x" 'dport 8080' '.' say 1 ""
verdict "not ok" "tap_lacks: not the output meant" "no line matching /\^-P /" \
	one tap_lacks "x" 'dport 8080' '^-P ' say 0 "something else"
mkdir "$tmp/d"
touch "$tmp/d/f"
verdict "ok" "tap_no_file: gone, directory there" "" one tap_no_file "x" "$tmp/d/g"
verdict "not ok" "tap_no_file: file there" "exists" one tap_no_file "x" "$tmp/d/g" "$tmp/d/f"
verdict "not ok" "tap_no_file: directory gone too" "not a directory" \
	one tap_no_file "x" "$tmp/nodir/f"
verdict "not ok" "tap_fail (removed) never passes" "was removed" one tap_fail "x" false
tap_ok "cmd_lacks: ok when absent" cmd_lacks 'b' echo a
lacks() { # ABSENT CMD...: cmd_lacks in a child bash, saying its status
	bash -c '. tests/lib/tap.sh; cmd_lacks "$@" || { echo "cmd_lacks: status $?"; exit 1; }' \
		lacks "$@"
}
tap_fail_with "cmd_lacks: fails when present" 1 '^cmd_lacks: status 1$' lacks b echo b
tap_fail_with "cmd_lacks: fails when the command fails, though it printed nothing" \
	1 '^cmd_lacks: status 1$' lacks b false

tap_eq "lines_of: counts lines" 2 "$(lines_of printf 'a\nb\n')"
tap_eq "lines_of: no output is 0" 0 "$(lines_of true)"
tap_eq "lines_of: a failing command is no count" "failed (exit 1)" "$(lines_of false)"

# Nobody calls the removed check any more.
tap_eq "no script calls tap_fail" "" \
	"$(grep -rnE '(^|[^_[:alnum:]])tap_fail([^_[:alnum:]]|$)' tests --include='*.sh' |
		grep -vE '^tests/lib/tap\.sh:|^tests/integration/test_tap_lib\.sh:')"
tap_done
