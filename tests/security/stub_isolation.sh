#!/bin/sh
# Invariants 1 and 5 from the host's side: what the stub processes hold,
# and that nothing an application tries reaches the host.
# usage: stub_isolation.sh RUNSC ESCAPE_PROGRAM PLATFORM CASE
set -u
R=$1
ESC=$2
P=$3
case_name=$4
tmp=$(mktemp -d)
trap '[ -n "$cli" ] && kill $cli 2>/dev/null; rm -rf "$tmp"' EXIT
cli=""
fail() { echo "FAIL [$case_name on $P]: $*" >&2; exit 1; }
runsc() { "$R" run --platform="$P" "$@"; }
BASE=$((0x7e0000000000))
SLOTS=$((BASE + 0x10000))
SLOTS_END=$((SLOTS + 512 * 0x8000))

# check_stub PID ALLOW_APP FILTERS: seccomp (at least FILTERS filters on
# systrap), tracer, fds, maps of one stub process.
check_stub() {
	pid=$1
	allow_app=$2
	st=/proc/$pid/status
	grep -q '^Seccomp:[[:space:]]*2' $st || fail "stub $pid has no seccomp filter"
	grep -q '^NoNewPrivs:[[:space:]]*1' $st || fail "stub $pid lacks no_new_privs"
	tracer=$(awk '/^TracerPid/ {print $2}' $st)
	case $P in
	ptrace)
		[ "$tracer" != 0 ] && [ -d /proc/$sentry/task/$tracer ] ||
			fail "stub $pid is traced by $tracer, not a sentry thread" ;;
	systrap)
		# Untraced: the filters do all the work. The factory carries its
		# own; a stub adds the stub filter on top.
		[ "$tracer" = 0 ] || fail "systrap stub $pid is traced by $tracer"
		filters=$(awk '/^Seccomp_filters/ {print $2}' $st)
		[ "${filters:-0}" -ge "$3" ] || fail "stub $pid has ${filters:-0} filters, want $3" ;;
	esac
	fds=$(ls /proc/$pid/fd)
	[ "$fds" = 0 ] || fail "stub $pid holds fds: $fds"
	readlink /proc/$pid/fd/0 | grep -q '^socket:' || fail "stub $pid fd 0 is not its channel"
	while read -r range perms off dev ino name; do
		lo=$((0x${range%-*}))
		hi=$((0x${range#*-}))
		case $name in
		"[vvar]"|"[vvar_vclock]"|"[vdso]"|"[vsyscall]") continue ;;
		esac
		if [ "$lo" -ge $BASE ] && [ "$hi" -le $((BASE + 0x2000)) ]; then
			continue # the stub code and data pages
		fi
		if [ "$P" = systrap ] && [ "$lo" -ge $SLOTS ] && [ "$hi" -le $SLOTS_END ] &&
			[ "$allow_app" = yes ]; then
			continue # a thread slot, shared with the sentry
		fi
		if [ "$allow_app" = yes ] && [ "$hi" -le $((0x7e0000000000)) ]; then
			continue # application memory, below the stub
		fi
		fail "stub $pid maps $range $perms $name"
	done </proc/$pid/maps
	if [ "$(id -u)" = 0 ]; then
		[ "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)" ] ||
			fail "stub $pid shares the host network namespace"
	fi
}

case $case_name in
stubs)
	"$R" run --platform="$P" -- /bin/busybox sleep 30 &
	cli=$!
	stub=""
	for _ in $(seq 100); do
		# The sentry is the CLI's `boot` child (a gofer may run beside it).
		sentry=$(pgrep -P $cli -f ' boot( |$)' | head -1)
		[ -n "$sentry" ] && factory=$(pgrep -P "$sentry" | head -1)
		[ -n "${factory:-}" ] && stub=$(pgrep -P "$factory" | head -1)
		[ -n "$stub" ] &&
			grep -q 'sleep\|busybox' /proc/$stub/maps 2>/dev/null && break
		stub=""
		sleep 0.1
	done
	[ -n "$stub" ] || fail "no stub process appeared"
	check_stub "$factory" no 1
	check_stub "$stub" yes 2
	# The sentry itself is confined too.
	grep -q '^Seccomp:[[:space:]]*2' /proc/$sentry/status || fail "sentry has no seccomp filter"
	kill $cli
	wait $cli 2>/dev/null
	# Gone, or a zombie waiting for whoever inherited it.
	alive() { [ -d /proc/$1 ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null; }
	for _ in $(seq 50); do
		alive $stub || alive $factory || alive $sentry || break
		sleep 0.1
	done
	alive $stub && fail "stub $stub outlived the sandbox"
	alive $factory && fail "factory $factory outlived the sandbox"
	alive $sentry && fail "sentry $sentry outlived the sandbox"
	;;
paths)
	runsc -- "$ESC" paths "$tmp" || fail "escape attempts: see above"
	[ -z "$(ls -A "$tmp")" ] || fail "the sandbox created on the host: $(ls -A "$tmp")"
	;;
stubjump)
	runsc -- "$ESC" stubjump "$tmp" 2>"$tmp/err"
	st=$?
	# ptrace intercepts the call like any other; the int3 after it ends
	# the program. The systrap stub filter kills a stub that makes a call
	# it is not built to make (SIGSYS): the sentry sees its stub die and
	# ends the process with SIGKILL.
	case $P in
	ptrace) want=133 ;;
	systrap) want=137 ;;
	esac
	[ $st -eq $want ] || fail "want death by signal $((want - 128)) ($want), got $st: $(cat "$tmp/err")"
	[ -z "$(ls -A "$tmp" | grep -v '^err$')" ] || fail "a syscall through the stub code reached the host"
	[ $P = ptrace ] || grep -q 'stub process died' "$tmp/err" || fail "the stub did not die: $(cat "$tmp/err")"
	;;
stubmmap)
	# Mapping over the stub code through its own syscall instruction: the
	# stub filter kills the stub.
	runsc -- "$ESC" stubmmap "$tmp" 2>"$tmp/err"
	st=$?
	[ $st -eq 137 ] || fail "want death by SIGKILL (137), got $st: $(cat "$tmp/err")"
	grep -q 'stub process died' "$tmp/err" || fail "the stub did not die: $(cat "$tmp/err")"
	;;
stubclone)
	# The stub's clone instructions with the sentry's own registers: the
	# filter traces clone, so untraced they fail (ENOSYS) and no thread or
	# process appears that the sentry did not make.
	runsc -- "$ESC" stubclone "$tmp" >"$tmp/out" 2>&1 ||
		fail "$(cat "$tmp/out")"
	;;
stubmask)
	# A forged frame through the stub's rt_sigreturn blocks every signal,
	# then spins: SIGINT must still end the program.
	"$R" run --platform="$P" -- "$ESC" stubmask "$tmp" >"$tmp/out" 2>&1 &
	cli=$!
	for _ in $(seq 100); do
		grep -q spinning "$tmp/out" 2>/dev/null && break
		if ! kill -0 $cli 2>/dev/null; then
			wait $cli
			fail "exited $? before spinning: $(cat "$tmp/out")"
		fi
		sleep 0.1
	done
	kill -INT $cli
	wait $cli
	st=$?
	cli=""
	[ $st -eq 130 ] || fail "want 130 after SIGINT, got $st: $(cat "$tmp/out")"
	;;
*)
	fail "unknown case" ;;
esac
exit 0
