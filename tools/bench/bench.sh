#!/bin/sh
# Runs each benchmark natively and in the sandbox on every platform,
# interleaved, several times, and prints the medians and the ratios to
# native. The machine is noisy: compare medians of many repetitions.
# usage: tools/bench/bench.sh [BUILD_DIR] [REPETITIONS]
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
N=${2:-7}
R=$B/runsc/runsc-c
# systrap patches syscall sites by default; systrap-nopatch is systrap
# with --no-syscall-patching (every syscall traps with SIGSYS).
PLATFORMS="ptrace systrap systrap-nopatch"
# The run flags that select one column's sandbox.
run_flags() {
	case $1 in
	systrap-nopatch) echo "--platform=systrap --no-syscall-patching" ;;
	*) echo "--platform=$1" ;;
	esac
}
[ -x "$R" ] || { echo "bench: build first (tools/setup.sh)" >&2; exit 1; }
ninja -C "$B" >/dev/null || { ninja -C "$B" | tail -20; echo "bench: build failed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Native file I/O happens here, on the host's filesystem; in the sandbox
# the same benchmarks write under /tmp, which is in the overlay's upper
# layer (sentry memory). Created files never reach the host.
io=$tmp/io
mkdir "$io"
head -c $((64 << 20)) /dev/zero >"$io/host.dat"
shm=$(mktemp -d /dev/shm/bench.XXXXXX) || exit 1
trap 'rm -rf "$tmp" "$shm"' EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { echo "$1 $2" | awk '{ printf "%.1fx", $1 / $2 }'; }

# bench NAME UNIT PROGRAM "NATIVE ARGS" "SANDBOX ARGS": one table row.
bench() {
	name=$1 unit=$2 prog=$B/tools/bench/$3 nargs=$4 sargs=$5
	rm -f "$tmp"/native "$tmp"/ptrace "$tmp"/systrap "$tmp"/systrap-nopatch
	for _ in $(seq "$N"); do
		# shellcheck disable=SC2086 # the argument strings are word lists
		"$prog" $nargs >>"$tmp/native"
		for p in $PLATFORMS; do
			# shellcheck disable=SC2086
			"$R" run $(run_flags "$p") -- "$prog" $sargs >>"$tmp/$p"
		done
	done
	nat=$(median <"$tmp/native")
	printf '%-16s %-8s %10s' "$name" "$unit" "$nat"
	for p in $PLATFORMS; do
		m=$(median <"$tmp/$p")
		printf ' %15s %8s' "$m" "$(ratio "$m" "$nat")"
	done
	printf '\n'
}

# ms of wall time for one run of its arguments.
wall_ms() {
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 </dev/null || echo "bench: '$*' failed" >&2
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) | awk '{ printf "%.1f\n", $1 / 1000 }'
}
# KiB of peak RSS: the largest of the command and every child it reaped
# (for runsc-c: the front end, the gofer and the sentry; not the stubs,
# which hold only the application's memory).
peak_kib() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null </dev/null | tail -1; }

# whole NAME UNIT MEASURE COMMAND...: a whole-process row, the command run
# natively and as `runsc-c run -- COMMAND`.
whole() {
	name=$1 unit=$2 measure=$3
	shift 3
	rm -f "$tmp"/native "$tmp"/ptrace "$tmp"/systrap "$tmp"/systrap-nopatch
	for _ in $(seq "$N"); do
		$measure "$@" >>"$tmp/native"
		for p in $PLATFORMS; do
			# shellcheck disable=SC2046 # the flags are a word list
			$measure "$R" run $(run_flags "$p") -- "$@" >>"$tmp/$p"
		done
	done
	nat=$(median <"$tmp/native")
	printf '%-16s %-8s %10s' "$name" "$unit" "$nat"
	for p in $PLATFORMS; do
		m=$(median <"$tmp/$p")
		printf ' %15s %8s' "$m" "$(ratio "$m" "$nat")"
	done
	printf '\n'
}

echo "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "native: files in $io ($(df --output=fstype "$io" | tail -1 | tr -d ' '), page cache, no fsync); read-64MiB-shm's in $shm (tmpfs)"
echo "sandbox: write/read-64MiB in /tmp in the overlay's memory (upper layer); /etc/passwd"
echo "         and read-64MiB-host's $io/host.dat read from the host through the gofer"
echo "medians of $N interleaved runs (each itself a median of 5-7 batches)"
printf '%-16s %-8s %10s' benchmark unit native
for p in $PLATFORMS; do printf ' %15s %8s' "$p" ratio; done
printf '\n'
bench getpid ns/call getpid 20000 2000
bench open+close ns/pair open_close "20000 /etc/passwd" "2000 /etc/passwd"
bench stat ns/call stat "20000 /etc/passwd" "2000 /etc/passwd"
bench write-64MiB ms seqio "write $io" "write /tmp"
bench read-64MiB ms seqio "read $io" "read /tmp"
# The same read with native's file in memory too (tmpfs, as the overlay's
# upper layer is): the sandbox's own cost, apart from the storage's.
bench read-64MiB-shm ms seqio "read $shm" "read /tmp"
bench read-64MiB-host ms seqio "readfile $io/host.dat" "readfile $io/host.dat"
bench read-4KiB-zero ns/call smallio "zero 20000" "zero 2000"
bench pread-4KiB ns/call smallio "pread 20000 /etc/passwd" "pread 2000 /etc/passwd"
bench clock_gettime ns/call smallio "clock 200000" "clock 200000"
bench mmap-touch-1MiB ns/op smallio "mmap 200" "mmap 50"
bench pipe-roundtrip ns/trip pingpong "pipe 5000" "pipe 500"
bench futex-roundtrip ns/trip pingpong "futex 5000" "futex 500"
bench fork-exit-wait ns/op spawn "fork 200" "fork 50"
bench fork-exec-wait ns/op spawn "exec 100" "exec 20"
bench thread-create ns/op spawn "thread 500" "thread 50"
printf 'int main(void) { return 0; }\n' >"$tmp/hello.c"
whole true-wall ms wall_ms /bin/true
whole true-peak-rss KiB peak_kib /bin/true
whole sh-200-true ms wall_ms /bin/busybox sh -c \
	'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i + 1)); done'
whole python-import ms wall_ms /usr/bin/python3 -c 'import json, os'
whole gcc-c-hello ms wall_ms /usr/bin/gcc -c "$tmp/hello.c" -o /tmp/bench-hello.o
whole du-usr-include ms wall_ms /usr/bin/du -s /usr/include
rm -f /tmp/bench-hello.o

# What a trapped call costs the host alone: SIGSYS to a handler that only
# sets rax, no sentry. An unpatched call cannot be cheaper than this.
rm -f "$tmp"/g "$tmp"/seccomp "$tmp"/sud
for _ in $(seq "$N"); do
	"$B/tools/bench/getpid" 20000 >>"$tmp/g"
	"$B/tools/bench/sigsys_floor" seccomp 20000 >>"$tmp/seccomp"
	"$B/tools/bench/sigsys_floor" sud 20000 >>"$tmp/sud" 2>/dev/null || echo 0 >>"$tmp/sud"
done
g=$(median <"$tmp/g")
sc=$(median <"$tmp/seccomp")
sud=$(median <"$tmp/sud")
echo "host floor of one trapped call (SIGSYS to a handler that sets rax, no sandbox):"
echo "  seccomp RET_TRAP $sc ns ($(ratio "$sc" "$g") native getpid $g ns);" \
	"Syscall User Dispatch $sud ns ($(ratio "$sud" "$g"))"
