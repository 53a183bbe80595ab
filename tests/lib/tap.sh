# SPDX-License-Identifier: Apache-2.0
# Minimal TAP helpers for shell tests. Source it, call the checks, end with tap_done.
# The runner (tests/run.sh) counts "ok"/"not ok" lines; a script's exit status is
# non-zero when any check failed.
#
#   . "$(dirname "$0")/../lib/tap.sh"
#   tap_ok   "description" cmd args...      # passes when cmd exits 0
#   tap_fail "description" cmd args...      # passes when cmd exits non-zero
#   tap_eq   "description" expected actual  # string equality, shows a diff on failure
#   tap_done

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

tap_ok() {
	local d=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	_tap_result "$rc" "$d"
	[ "$rc" -eq 0 ] || printf '%s\n' "$out" | sed 's/^/#   /' | head -20
	return 0
}

tap_fail() {
	local d=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -ne 0 ]; then _tap_result 0 "$d"; else
		_tap_result 1 "$d"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -20
	fi
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
