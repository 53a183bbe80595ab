# SPDX-License-Identifier: Apache-2.0
# Minimal TAP helpers for shell tests. Source it, call the checks, end with tap_done.
# The runner (tests/run.sh) counts "ok"/"not ok" lines; a script's exit status is
# non-zero when any check failed.
#
#   . "$(dirname "$0")/../lib/tap.sh"
#   tap_ok   "description" cmd args...      # passes when cmd exits 0
#   tap_fail_with "description" RC 'ERE' cmd args...
#                                           # passes when cmd exits RC (1..125) and
#                                           # its output (stdout+stderr) matches ERE
#   tap_lacks "description" 'ABSENT' 'PRESENT' cmd args...
#                                           # passes when cmd exits 0, its output has
#                                           # a line matching PRESENT and none ABSENT
#   tap_no_file "description" PATH...      # passes when no PATH exists but each
#                                           # one's directory does
#   tap_eq   "description" expected actual  # string equality, shows a diff on failure
#   tap_not_ok "description" [diagnostic]  # a failure found by the script itself
#   cmd_lacks 'ABSENT' cmd args...          # status only (for wait_until): cmd ok, no ABSENT
#   lines_of cmd args...                    # line count, or "failed (exit N)"
#   tap_done
#
# A negative check must be able to fail: "some non-zero exit" also holds for a
# crash, a sanitizer abort, a missing binary or a vanished network namespace.
# So tap_fail_with wants the exact code and the message, and fails on a signal
# death, an exec failure (126/127), a sanitizer report, or "Cannot open network
# namespace" (unless ERE itself names a namespace). Before a negative check
# inside a namespace, run a positive one on the same path (e.g. `ip -n NS link
# show lo` before `ip -n NS link show eth0` is expected to fail). There is no
# check that passes on "any failure".

: "${WEFT_BUILD:=build}"
_tap_n=0
_tap_failed=0

_tap_result() { # status description
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}

# What a sanitizer prints; never expected in a test's output.
_tap_sanitizer_re='(Address|Leak|Thread|Memory|UndefinedBehavior)Sanitizer|runtime error:'
# What `ip netns exec` / `ip -n` print when the namespace is gone.
_tap_netns_gone_re='Cannot open network namespace|setting the network namespace .* failed'

# _tap_abnormal RC OUT: why this exit is never a test's expected result, or
# status 1 when it is an ordinary one.
_tap_abnormal() {
	local rc=$1 out=$2 sig
	if [ "$rc" -gt 128 ] && [ "$rc" -le 192 ]; then
		sig=$(kill -l "$((rc - 128))" 2>/dev/null) || sig=$((rc - 128))
		echo "killed by signal SIG${sig#SIG} (exit $rc)"
	elif [ "$rc" -eq 126 ]; then
		echo "cannot execute the command (exit 126)"
	elif [ "$rc" -eq 127 ]; then
		echo "command not found (exit 127)"
	elif grep -qE "$_tap_sanitizer_re" <<<"$out"; then
		echo "sanitizer report in the output (exit $rc)"
	else
		return 1
	fi
}

_tap_show() { # description why output
	_tap_result 1 "$1"
	echo "#   $2"
	[ -z "$3" ] || printf '%s\n' "$3" | head -20 | sed 's/^/#   | /'
}

tap_ok() {
	local d=$1 out rc why
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if why=$(_tap_abnormal "$rc" "$out"); then
		_tap_show "$d" "$why" "$out"
	elif [ "$rc" -ne 0 ]; then
		_tap_show "$d" "exit $rc" "$out"
	else
		_tap_result 0 "$d"
	fi
	return 0
}

tap_fail_with() {
	local d=$1 want=$2 re=$3 out rc why m
	shift 3
	if ! [[ $want =~ ^[1-9][0-9]*$ ]] || [ "$want" -gt 125 ]; then
		_tap_show "$d" "tap_fail_with: expected exit code '$want' is not in 1..125" ""
		return 0
	fi
	if [ -z "$re" ]; then
		_tap_show "$d" "tap_fail_with: no expected message given" ""
		return 0
	fi
	if [ $# -eq 0 ]; then
		_tap_show "$d" "tap_fail_with: no command given" ""
		return 0
	fi
	out=$("$@" 2>&1) && rc=0 || rc=$?
	grep -qE -e "$re" <<<"$out" && m=0 || m=$?
	if [ "$rc" -eq 0 ]; then
		why="succeeded (exit 0), expected exit $want"
	elif why=$(_tap_abnormal "$rc" "$out"); then
		why="$why, expected exit $want"
	elif [ "$rc" -ne "$want" ]; then
		why="exit $rc, expected $want"
	elif [[ $re != *amespace* ]] && grep -qE "$_tap_netns_gone_re" <<<"$out"; then
		why="the network namespace is gone (exit $rc)"
	elif [ "$m" -eq 2 ]; then
		why="tap_fail_with: bad regular expression '$re'"
	elif [ "$m" -ne 0 ]; then
		why="exit $rc as expected, but the output does not match /$re/"
	else
		_tap_result 0 "$d"
		return 0
	fi
	_tap_show "$d" "$why" "$out"
	return 0
}

# cmd_lacks 'ABSENT' cmd args...: exit status only (for wait_until): 0 when cmd
# succeeds and prints no line matching ABSENT. Unlike `! cmd | grep -q X`, a
# failing cmd (a vanished namespace) is not taken for "X is gone".
cmd_lacks() {
	local re=$1 out
	shift
	out=$("$@" 2>&1) || return 1
	! grep -qE -e "$re" <<<"$out"
}

# lines_of cmd args...: how many lines cmd prints, or "failed (exit N)" (status
# 1) when it fails: a count of 0 must not come from a vanished namespace or
# device, as `cmd | grep -c .` does.
lines_of() {
	local out rc
	out=$("$@") && rc=0 || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "failed (exit $rc)"
		return 1
	fi
	if [ -z "$out" ]; then echo 0; else grep -c '' <<<"$out"; fi
}

tap_lacks() {
	local d=$1 absent=$2 present=$3 out rc why
	shift 3
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -ne 0 ]; then
		why=$(_tap_abnormal "$rc" "$out") || why="the command failed (exit $rc)"
	elif why=$(_tap_abnormal 0 "$out"); then
		:
	elif ! grep -qE -e "$present" <<<"$out"; then
		why="the output has no line matching /$present/: not the output meant"
	elif grep -qE -e "$absent" <<<"$out"; then
		why="the output has a line matching /$absent/:"
		out=$(grep -E -e "$absent" <<<"$out")
	else
		_tap_result 0 "$d"
		return 0
	fi
	_tap_show "$d" "$why" "$out"
	return 0
}

tap_no_file() {
	local d=$1 p why=
	shift
	[ $# -gt 0 ] || why="tap_no_file: no path given"
	for p in "$@"; do
		if [ ! -d "$(dirname -- "$p")" ]; then
			why="$(dirname -- "$p") is not a directory: the check could not fail"
		elif [ -e "$p" ] || [ -L "$p" ]; then
			why="$p exists"
		else
			continue
		fi
		break
	done
	if [ -z "$why" ]; then _tap_result 0 "$d"; else _tap_show "$d" "$why" ""; fi
	return 0
}

tap_not_ok() { # description [diagnostic]
	_tap_show "$1" "${2:-}" ""
	return 0
}

# The old "passes on any non-zero exit" check is gone; a script still calling
# it gets a failing line instead of a silent pass.
tap_fail() {
	_tap_show "$1" "tap_fail was removed: use tap_fail_with (exit code and message)" ""
	return 0
}

tap_eq() {
	local d=$1 want=$2 got=$3
	if [ "$want" = "$got" ]; then _tap_result 0 "$d"; else
		_tap_result 1 "$d"
		diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/#   /' | head -40
	fi
	return 0
}

tap_skip() { # description reason
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}

tap_done() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

# tap_cmocka LABEL cmd...: run a cmocka program, fold its TAP results into ours
# (renumbered, names prefixed with LABEL). A crash or a non-zero exit without a
# failing test line counts as a failure.
tap_cmocka() {
	local label=$1 out rc line failed_before=$_tap_failed
	shift
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$@" 2>&1) && rc=0 || rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok "*) _tap_result 0 "$label: ${line#ok * - }" ;;
		"not ok "*) _tap_result 1 "$label: ${line#not ok * - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <<<"$out"
	if [ "$rc" -ne 0 ] && [ "$_tap_failed" -eq "$failed_before" ]; then
		_tap_result 1 "$label: exited with status $rc"
		printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'
	fi
}
