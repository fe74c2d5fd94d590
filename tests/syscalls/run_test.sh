#!/bin/sh
# Runs one syscall test program and checks its exit status.
#
#   run_test.sh MODE EXPECTED PROGRAM [ARGS...]
#
# MODE is "native" (run PROGRAM directly), or the name of a platform,
# "ptrace" or "systrap" (run it in a sandbox on that platform: $RUNSC_C
# names the runsc-c binary).
# EXPECTED is the exit status the program must end with (128+N when a
# signal N must kill it). The program gets stdin from /dev/null and its
# stdout in a regular file, so tests see the same kinds of file natively
# and in the sandbox; on failure both outputs are printed.
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 native|ptrace|systrap EXPECTED PROGRAM [ARGS...]" >&2
	exit 2
fi
mode=$1
expected=$2
shift 2

case $mode in
native) ;;
ptrace|systrap)
	if [ -z "${RUNSC_C:-}" ] || [ ! -x "$RUNSC_C" ]; then
		echo "run_test.sh: RUNSC_C must name the runsc-c binary (is '${RUNSC_C:-}')" >&2
		exit 2
	fi
	set -- "$RUNSC_C" run --platform="$mode" -- "$@"
	;;
*)
	echo "run_test.sh: unknown mode '$mode'" >&2
	exit 2
	;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syscall-test.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# Tests that die by a signal must not leave core files behind.
ulimit -c 0 2>/dev/null

# A watchdog well ahead of meson's timeout (meson.build says why it is
# long): a hang prints where every process and thread of the sandbox
# waits before it is killed. It watches until we close our end of the fifo "alive" (an
# exit of ours closes it too). The program runs in the foreground: a
# background job of a script would start with SIGINT and SIGQUIT ignored.
mkfifo "$tmp/alive" || exit 2
"$(dirname "$0")/../sandbox_diag.sh" --watch $$ "${RUNSC_TEST_LIMIT:-15}" - "$tmp/alive" </dev/null &
dog=$!
# Write-only: the open waits for the watchdog to open its end, so our
# close is sure to reach it as an end of file.
exec 9>"$tmp/alive"
"$@" </dev/null >"$tmp/stdout" 2>"$tmp/stderr" 9>&-
status=$?
exec 9>&-
wait "$dog"

if [ "$status" -ne "$expected" ]; then
	echo "FAIL ($mode): $*"
	echo "exit status $status, expected $expected"
	echo "--- stderr ---"
	cat "$tmp/stderr"
	echo "--- stdout ---"
	cat "$tmp/stdout"
	exit 1
fi
# Passed; show what the program said, for the log.
cat "$tmp/stdout"
cat "$tmp/stderr" >&2
exit 0
