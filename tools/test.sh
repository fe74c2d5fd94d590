#!/bin/sh
# The whole test suite, as CI runs it (.ci/run): installs what is needed,
# then builds and tests with gcc, with clang, and with AddressSanitizer and
# UndefinedBehaviorSanitizer. Ends with "N passed, N failed"; exits non-zero
# if any test or build failed.
set -u
cd "$(dirname "$0")/.."
tools/setup.sh --deps || exit 1

failed_builds=""
dirs=""
run_config() { # name, then meson setup arguments
	name=$1
	shift
	dir=build-ci-$name
	echo "=== $name: build"
	if ! { [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null; } ||
	   ! ninja -C "$dir" >/dev/null; then
		ninja -C "$dir" 2>&1 | tail -30
		failed_builds="$failed_builds $name"
		return
	fi
	echo "=== $name: test"
	meson test -C "$dir" --print-errorlogs --num-processes 2 2>&1 |
		grep -v '^ *[0-9]*/[0-9]* .* OK ' || true
	dirs="$dirs $dir"
}

run_config gcc
CC=clang run_config clang
run_config sanitize -Db_sanitize=address,undefined -Db_lundef=false

pass=0
fail=0
skip=0
for d in $dirs; do
	log=$d/meson-logs/testlog.json
	[ -f "$log" ] || { fail=$((fail + 1)); continue; }
	p=$(grep -c '"result": "OK"' "$log")
	e=$(grep -c '"result": "EXPECTEDFAIL"' "$log")
	s=$(grep -c '"result": "SKIP"' "$log")
	t=$(grep -c '"result":' "$log")
	pass=$((pass + p + e))
	skip=$((skip + s))
	fail=$((fail + t - p - e - s))
done
for b in $failed_builds; do
	echo "build failed: $b"
	fail=$((fail + 1))
done
[ "$skip" -eq 0 ] || echo "$skip skipped (see the SKIP lines above for why)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
