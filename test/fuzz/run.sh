#!/bin/bash
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Runs the libFuzzer targets (built by test/fuzz/build.sh, which this calls
# first): each replays its corpus test/fuzz/corpus/<target>/ (seeds and the
# regression inputs of fixed crashes) and then fuzzes for -t seconds (default
# 20, or less where the target's source says "fuzz-seconds-max: N"; 0 =
# replay only). New inputs go to out/fuzz/work/<target>/, crashes to
# out/fuzz/artifacts/. Exit code non-zero if any target crashed.
# Usage: run.sh [-t SECONDS] [--no-build] [target...]
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${MD_FUZZ_BUILD:-$top/out/fuzz-build}
secs=20
build=yes
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        -t)         secs=$2; shift ;;
        --no-build) build=no ;;
        -h|--help)  sed -n '3,10p' "$0"; exit 0 ;;
        *)          targets+=("$1") ;;
    esac
    shift
done
if [ ${#targets[@]} -eq 0 ]; then
    for f in "$top"/test/fuzz/fuzz_*.c; do targets+=("$(basename "${f%.c}")"); done
fi
if [ "$build" = yes ]; then
    "$top/test/fuzz/build.sh" "${targets[@]}" || exit 1
fi

# leaks are reported by the unit tests under valgrind; here only memory errors
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
adir="$top/out/fuzz/artifacts"
mkdir -p "$adir"
passed=0
failed=0
for t in "${targets[@]}"; do
    corpus="$top/test/fuzz/corpus/$t"
    work="$top/out/fuzz/work/$t"
    mkdir -p "$work" "$corpus"
    log="$top/out/fuzz/$t.log"
    # a target may cap its time ("fuzz-seconds-max: N" in its source): the
    # small parsers find what they can find in a few seconds
    tsecs=$secs
    cap=$(grep -o 'fuzz-seconds-max: [0-9]*' "$top/test/fuzz/$t.c" 2>/dev/null | grep -o '[0-9]*$')
    if [ -n "$cap" ] && [ "$tsecs" -gt "$cap" ]; then tsecs=$cap; fi
    if [ "$tsecs" -gt 0 ]; then
        args=(-max_total_time="$tsecs")
    else
        args=(-runs=0)
    fi
    echo "=== fuzz $t: ${tsecs}s, corpus $corpus"
    "$bdir/$t" "${args[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$adir/$t-" -print_final_stats=1 "$work" "$corpus" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs|INITED' "$log" | tail -n 2
    else
        failed=$((failed + 1))
        echo "*** fuzz $t FAILED (rc $rc), log $log; last lines:"
        tail -n 40 "$log"
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
