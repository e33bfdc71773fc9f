#!/usr/bin/env bash
# tests/run.sh — runs every test and tallies the results.
# Each test program prints lines "PASS name", "FAIL name: why" or "SKIP name: why"; this script
# runs the unit tests, every tests/integration/*.sh, and replays each fuzz corpus, then prints
# the closing line "N passed, N failed, N skipped". Exit status 1 when anything failed.
# Usage: tests/run.sh [FILTER]   (FILTER limits integration scripts by name substring)
set -u
BUILD=${BUILD:-build}
export BUILD
export EMBER="$PWD/$BUILD/ember"
export EMBER_TEST_DATA="$PWD/tests/data"
filter=${1:-}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() { # name, command...
	local name=$1 rc
	shift
	local out
	out=$(mktemp)
	"$@" >"$out" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP) ' "$out" | tee -a "$log"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
		echo "FAIL $name: exited with status $rc" | tee -a "$log"
		tail -n 30 "$out" | sed 's/^/    /'
	elif grep -q '^FAIL ' "$out"; then
		tail -n 30 "$out" | grep -vE '^(PASS|SKIP) ' | sed 's/^/    /'
	fi
	rm -f "$out"
}

if [ -z "$filter" ]; then
	run_one unit "$BUILD/tests/unit"
	for replay in "$BUILD"/tests/replay_*; do
		[ -x "$replay" ] || continue
		n=${replay##*/replay_}
		run_one "fuzz-replay/$n" "$replay" "tests/fuzz/corpus/$n"
	done
fi
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	case "$t" in *"$filter"*) ;; *) continue ;; esac
	run_one "integration/$(basename "$t" .sh)" bash "$t"
done

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
