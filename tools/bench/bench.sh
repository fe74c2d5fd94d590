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
PLATFORMS="ptrace systrap"
[ -x "$R" ] || { echo "bench: build first (tools/setup.sh)" >&2; exit 1; }
ninja -C "$B" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { echo "$1 $2" | awk '{ printf "%.1fx", $1 / $2 }'; }

echo "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "medians of $N interleaved runs, ns per call"
printf '%-10s %10s' benchmark native
for p in $PLATFORMS; do printf ' %10s %8s' "$p" ratio; done
printf '\n'
for bench in getpid; do
	prog=$B/tools/bench/$bench
	for _ in $(seq "$N"); do
		"$prog" 20000 >>"$tmp/native"
		for p in $PLATFORMS; do
			"$R" run --platform="$p" -- "$prog" 2000 >>"$tmp/$p"
		done
	done
	nat=$(median <"$tmp/native")
	printf '%-10s %10s' "$bench" "$nat"
	for p in $PLATFORMS; do
		m=$(median <"$tmp/$p")
		printf ' %10s %8s' "$m" "$(ratio "$m" "$nat")"
	done
	printf '\n'
	rm -f "$tmp"/*
done
