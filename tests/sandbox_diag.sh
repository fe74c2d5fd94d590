#!/bin/sh
# Prints what every process under PID (and its threads) is doing: state,
# the kernel function it waits in, its current system call and kernel
# stack. Run by the test runners when a sandbox outlives its time, so a
# hang in CI leaves evidence of where it hangs.
#
#   sandbox_diag.sh PID
#   sandbox_diag.sh --watch PARENT SECONDS OUT ALIVE
#       waits until the fifo ALIVE has no writer left (the runner is
#       done) or SECONDS pass; in the second case, if PARENT still has
#       children (other than this watcher), writes their report to OUT
#       ("-": stdout) and kills them. A second in which the whole
#       machine stood still (a one-second wait that took three or more:
#       the VM was not scheduled, which this host does for up to a
#       minute) does not count.
set -u
usage() {
	echo "usage: $0 PID | --watch PARENT SECONDS OUT ALIVE" >&2
	exit 2
}

descendants() {
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		descendants "$c"
	done
}

# Reads a /proc file, giving up after a second: some (cmdline, stack,
# syscall) wait on locks of the process they describe, which a hung
# process may hold.
rd() { timeout 1 cat "$1" 2>/dev/null; }

report() {
	p=$1
	[ -d /proc/"$p" ] || return
	echo "== pid $p ($(rd /proc/"$p"/comm)): $(rd /proc/"$p"/cmdline | tr '\0' ' ' | cut -c1-120)"
	for t in /proc/"$p"/task/*; do
		tid=${t##*/}
		st=$(rd "$t"/stat | sed 's/.*) //' | cut -d' ' -f1)
		echo "  tid $tid state $st wchan $(rd "$t"/wchan) syscall $(rd "$t"/syscall | cut -d' ' -f1-3)"
		rd "$t"/stack | head -8 | sed 's/^/      /'
	done
	# The sentry's own threads, in user space: where its locks are held.
	case $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null) in
	*" boot "*)
		if command -v gdb >/dev/null; then
			echo "  -- sentry stacks (gdb)"
			timeout 5 gdb -p "$p" -batch -nx -ex "thread apply all bt 12" 2>/dev/null |
				grep -E '^(Thread|#)' | cut -c1-160 | sed 's/^/    /'
		fi ;;
	esac
}

if [ "${1:-}" = --watch ]; then
	[ $# -eq 5 ] || usage
	# The runner closing its end of ALIVE ends the watch at once, with
	# no signal to us: a signal can land before this shell is ready for
	# it and leave the runner waiting for the whole limit. (The open
	# waits for the runner's.)
	exec 3<"$5"
	counted=0
	while [ "$counted" -lt "$3" ]; do
		t0=$(date +%s%N)
		timeout 1 cat <&3 >/dev/null 2>&1
		rc=$?
		[ $rc -eq 0 ] && exit 0
		# Not a timeout: the fifo is unreadable; count by the clock.
		[ $rc -ne 124 ] && sleep 1
		t1=$(date +%s%N)
		if [ $(((t1 - t0) / 1000000)) -lt 3000 ]; then
			counted=$((counted + 1))
		else
			echo "sandbox_diag: the machine stood still for $(((t1 - t0) / 1000000)) ms; not counted" >&2
		fi
	done
	kids=$(cat /proc/"$2"/task/*/children 2>/dev/null)
	# The report first (the hung state), then the kill, then the
	# report out: OUT "-" is our stdout, which the runner's runner
	# reads even if it kills the runner.
	rep=$(mktemp) || exit 1
	for k in $kids; do
		[ "$k" = $$ ] && continue
		# Said at once, in case the report itself gets stuck.
		if [ "$4" = - ]; then
			echo "TIMEOUT after $3 s: pid $k still runs; collecting what it waits for"
		fi
		echo "TIMEOUT after $3 s: what the processes wait for"
		for p in $(descendants "$k"); do
			report "$p"
		done
	done >"$rep" 2>&1
	for k in $kids; do
		[ "$k" = $$ ] && continue
		pkill -KILL -P "$k"
		kill -KILL "$k"
	done
	if [ "$4" = - ]; then
		cat "$rep"
	else
		cat "$rep" >"$4"
	fi
	rm -f "$rep"
	exit 0
fi
[ $# -eq 1 ] || usage
for p in $(descendants "$1"); do
	report "$p"
done
