#!/bin/sh
# Invariants 1 and 5 from the host's side: what the stub processes hold,
# and that nothing an application tries reaches the host.
# usage: stub_isolation.sh RUNSC ESCAPE_PROGRAM CASE
set -u
R=$1
ESC=$2
case_name=$3
tmp=$(mktemp -d)
trap 'kill $cli 2>/dev/null; rm -rf "$tmp"' EXIT
cli=""
fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }

# check_stub PID ALLOW_APP: seccomp, tracer, fds, maps of one stub process.
check_stub() {
	pid=$1
	allow_app=$2
	st=/proc/$pid/status
	grep -q '^Seccomp:[[:space:]]*2' $st || fail "stub $pid has no seccomp filter"
	grep -q '^NoNewPrivs:[[:space:]]*1' $st || fail "stub $pid lacks no_new_privs"
	tracer=$(awk '/^TracerPid/ {print $2}' $st)
	[ "$tracer" != 0 ] && [ -d /proc/$sentry/task/$tracer ] ||
		fail "stub $pid is traced by $tracer, not a sentry thread"
	fds=$(ls /proc/$pid/fd)
	[ "$fds" = 0 ] || fail "stub $pid holds fds: $fds"
	readlink /proc/$pid/fd/0 | grep -q '^socket:' || fail "stub $pid fd 0 is not its channel"
	while read -r range perms off dev ino name; do
		lo=$((0x${range%-*}))
		hi=$((0x${range#*-}))
		case $name in
		"[vvar]"|"[vvar_vclock]"|"[vdso]"|"[vsyscall]") continue ;;
		esac
		if [ "$lo" -ge $((0x7e0000000000)) ] && [ "$hi" -le $((0x7e0000002000)) ]; then
			continue # the stub code and data pages
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
	"$R" run -- /bin/busybox sleep 30 &
	cli=$!
	stub=""
	for _ in $(seq 100); do
		sentry=$(pgrep -P $cli | head -1)
		[ -n "$sentry" ] && factory=$(pgrep -P "$sentry" | head -1)
		[ -n "${factory:-}" ] && stub=$(pgrep -P "$factory" | head -1)
		[ -n "$stub" ] &&
			grep -q 'sleep\|busybox' /proc/$stub/maps 2>/dev/null && break
		stub=""
		sleep 0.1
	done
	[ -n "$stub" ] || fail "no stub process appeared"
	check_stub "$factory" no
	check_stub "$stub" yes
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
	"$R" run -- "$ESC" paths "$tmp" || fail "escape attempts: see above"
	[ -z "$(ls -A "$tmp")" ] || fail "the sandbox created on the host: $(ls -A "$tmp")"
	;;
stubjump)
	"$R" run -- "$ESC" stubjump "$tmp"
	st=$?
	[ $st -eq 133 ] || fail "want death by SIGTRAP (133) at the stub's int3, got $st"
	[ -z "$(ls -A "$tmp")" ] || fail "a syscall through the stub code reached the host"
	;;
*)
	fail "unknown case" ;;
esac
exit 0
