#!/bin/bash
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Runs the unit test runner under valgrind one suite at a time, two suites at
# once (key generation under valgrind is slow and one process uses one core),
# and prints the output of each and then one Check summary line for all:
# "NN%: Checks: N, Failures: F, Errors: E". Exit code non-zero if a suite
# failed or valgrind found an error (--error-exitcode=99).
# Usage: test/unit/run-valgrind.sh path/to/md_unit
set -u

unit=$1
out=$(mktemp -d "${TMPDIR:-/tmp}/md-valgrind.XXXXXX")
trap 'rm -rf "$out"' EXIT

# the suites the test sources create
suites=$(grep -ho 'suite_create("[a-z_]*")' "$(dirname "$0")"/test_md_*.c \
         | sed -E 's/suite_create\("(.*)"\)/\1/')

run_one() {
    CK_RUN_SUITE=$1 CK_TIMEOUT_MULTIPLIER=30 valgrind -q --error-exitcode=99 \
        --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        --num-callers=30 "$unit" >"$out/$1.log" 2>&1
    echo $? >"$out/$1.rc"
}
export -f run_one
export unit out

printf '%s\n' $suites | xargs -P 2 -I{} bash -c 'run_one {}'

checks=0; fails=0; errs=0; rc=0
for s in $suites; do
    cat "$out/$s.log"
    line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$out/$s.log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "run-valgrind: suite $s printed no summary"
        errs=$((errs + 1))
    else
        checks=$((checks + $(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")))
        fails=$((fails + $(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")))
        errs=$((errs + $(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")))
    fi
    [ "$(cat "$out/$s.rc" 2>/dev/null || echo 1)" = 0 ] || rc=1
done
ok=$((checks - fails - errs))
pct=100
[ "$checks" -gt 0 ] && pct=$((100 * ok / checks))
echo "$pct%: Checks: $checks, Failures: $fails, Errors: $errs"
exit $rc
