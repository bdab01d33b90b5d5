#!/usr/bin/env bash
# Runs every unit test binary (cmocka) and every CLI test (TAP, through prove), then prints one
# closing line "check: N passed, N failed" that counts test cases across both.
# usage: tests/run-tests.sh BUILD_DIR
set -u
build=${1:-build}
export CT_BIN="$(cd "$build/bin" && pwd)"
export CT_TOP="$(pwd)"
passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1   # a crash counts as a failure
    passed=$((passed + p)) failed=$((failed + f))
done

prove -e bash tests/cli/t*.sh >"$log" 2>&1
rc=$?
cat "$log"
# prove's summary: "Files=3, Tests=42, ..." and, on failure, "Failed N/M subtests" lines.
tests=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$log")
bad=$(sed -n 's/.*Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
[ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
passed=$((passed + ${tests:-0} - bad)) failed=$((failed + bad))

echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
