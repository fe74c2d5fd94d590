#!/bin/sh
# Runs each benchmark natively and in the sandbox, interleaved, several
# times, and prints the medians and the ratio to native.
# usage: tools/bench/bench.sh [BUILD_DIR] [REPETITIONS]
set -eu
cd "$(dirname "$0")/../.."
B=${1:-build}
N=${2:-5}
R=$B/runsc/runsc-c
[ -x "$R" ] || { echo "bench: build first (tools/setup.sh)" >&2; exit 1; }
ninja -C "$B" >/dev/null

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-12s %14s %14s %10s\n' benchmark native sandbox ratio
for bench in getpid; do
	prog=$B/tools/bench/$bench
	: >/tmp/bench.native
	: >/tmp/bench.sandbox
	for _ in $(seq "$N"); do
		"$prog" 20000 >>/tmp/bench.native
		"$R" run --platform=ptrace -- "$prog" 2000 >>/tmp/bench.sandbox
	done
	nat=$(median </tmp/bench.native)
	box=$(median </tmp/bench.sandbox)
	printf '%-12s %11s ns %11s ns %9.1fx\n' "$bench" "$nat" "$box" \
		"$(echo "$box $nat" | awk '{ printf "%.1f", $1 / $2 }')"
done
rm -f /tmp/bench.native /tmp/bench.sandbox
