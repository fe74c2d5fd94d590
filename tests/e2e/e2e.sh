#!/bin/sh
# End-to-end checks of `runsc-c run` with real programs, as a user runs it.
# usage: e2e.sh RUNSC PLATFORM CASE [HELPER]
set -u
R=$1
P=$2
case_name=$3
helper=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
BB=/bin/busybox

fail() { echo "FAIL [$case_name on $P]: $*" >&2; exit 1; }
# runsc ARGS...: runsc-c ARGS, on platform $P when ARGS is a run command.
runsc() {
	if [ "${1:-}" = run ]; then
		shift
		"$R" run --platform="$P" "$@"
	else
		"$R" "$@"
	fi
}
# run EXPECTED_STATUS ARGS...: runs runsc-c ARGS, stdout to $tmp/out, stderr to $tmp/err
run() {
	want=$1
	shift
	runsc "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" -eq "$want" ] || fail "runsc-c $* exited $got, want $want; stderr: $(head -c 2000 "$tmp/err")"
}
expect_out() { [ "$(cat "$tmp/out")" = "$1" ] || fail "stdout was '$(cat "$tmp/out")', want '$1'"; }

[ -x "$BB" ] || { echo "SKIP: $BB is missing (Debian package busybox-static)"; exit 77; }

case $case_name in
echo)
	run 0 run -- $BB echo hello
	expect_out hello ;;
echo-path)
	# A program found on PATH, with arguments containing spaces.
	PATH=/bin:/usr/bin run 0 run -- busybox echo "a b" c
	expect_out "a b c" ;;
uname)
	run 0 run -- $BB uname -a
	grep -q '^Linux runsc-c .* x86_64' "$tmp/out" || fail "uname -a printed '$(cat "$tmp/out")'"
	run 0 run --hostname=box1 -- $BB uname -n
	expect_out box1 ;;
true)
	run 0 run -- $BB true ;;
false)
	run 1 run -- $BB false ;;
stdin)
	# Reading the host stdin the CLI hands over.
	printf 'one\ntwo\n' | runsc run -- $BB wc -l >"$tmp/out" 2>"$tmp/err" ||
		fail "wc failed: $(cat "$tmp/err")"
	[ "$(tr -d ' ' <"$tmp/out")" = 2 ] || fail "wc -l printed '$(cat "$tmp/out")'" ;;
strace)
	run 0 run --strace -- $BB echo hello
	expect_out hello
	grep -q '^\[1:1\] write(1, "hello\\n", 6) = 6 ' "$tmp/err" ||
		fail "no decoded write line in: $(head -c 3000 "$tmp/err")"
	grep -q '^\[1:1\] mprotect(0x[0-9a-f]*, [0-9]*, PROT_READ) = 0 ' "$tmp/err" ||
		fail "no decoded mprotect line"
	grep -q '^\[1:1\] readlink("/proc/self/exe", "/usr/bin/busybox", 4096) = 16 ' "$tmp/err" ||
		fail "no decoded readlink line"
	grep -q '^\[1:1\] rseq(.*) = -38 (ENOSYS) ' "$tmp/err" || fail "no errno name shown"
	grep -q 'exit_group(0) = ?' "$tmp/err" || fail "no exit_group line" ;;
bad-elf)
	# A file that is not a valid executable: one line of error, non-zero.
	printf '\177ELF\002\001\001garbage' >"$tmp/bad"
	chmod +x "$tmp/bad"
	run 126 run -- "$tmp/bad"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "want one line of error, got: $(cat "$tmp/err")"
	grep -q "cannot run $tmp/bad: " "$tmp/err" || fail "error does not name the file: $(cat "$tmp/err")"
	# A truncated copy of a real program.
	head -c 100 $BB >"$tmp/trunc"
	chmod +x "$tmp/trunc"
	run 126 run -- "$tmp/trunc"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "want one line of error, got: $(cat "$tmp/err")"
	# A script is not an ELF file (#! comes with execve).
	printf '#!/bin/sh\necho hi\n' >"$tmp/script"
	chmod +x "$tmp/script"
	run 126 run -- "$tmp/script" ;;
not-found)
	run 127 run -- /nonexistent/program
	grep -q 'No such file' "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
	PATH=/bin run 127 run -- no-such-command-xyz
	grep -q 'command not found' "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
	printf 'x' >"$tmp/noexec"
	run 126 run -- "$tmp/noexec" ;;
bad-flags)
	run 2 run --platform=nosuch -- $BB true
	grep -q "unknown platform 'nosuch'" "$tmp/err" || fail "stderr: $(cat "$tmp/err")"
	run 2 run
	run 2 run --no-such-flag -- $BB true
	run 2 no-such-command ;;
signal-sleep)
	# kill -TERM of runsc-c reaches the program: blocked in the sentry.
	"$R" run --platform="$P" -- $BB sleep 60 &
	pid=$!
	sleep 0.5
	kill -TERM $pid
	wait $pid
	st=$?
	[ $st -eq 143 ] || fail "want 143 after SIGTERM, got $st" ;;
signal-spin)
	# ... and running application code that never traps.
	"$R" run --platform="$P" -- "$helper" &
	pid=$!
	sleep 0.5
	kill -INT $pid
	wait $pid
	st=$?
	[ $st -eq 130 ] || fail "want 130 after SIGINT, got $st" ;;
*)
	fail "unknown case" ;;
esac
exit 0
