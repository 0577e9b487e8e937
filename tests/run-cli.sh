#!/bin/sh
# Run the bats command-line tests against HANFW; record "passed failed" in
# BUILD/results-cli.txt.  Usage: run-cli.sh BUILD
build=$1
echo "== command-line tests ($build, ledger on ${HFW_TEST_LEDGER:-sqlite}) =="
out="$build/cli.tap"
bats --formatter tap tests/cli > "$out" 2>&1; rc=$?
cat "$out"
passed=$(grep -c '^ok ' "$out")
failed=$(grep -c '^not ok ' "$out")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed $failed" > "$build/results-cli.txt"
echo "cli ($build, ${HFW_TEST_LEDGER:-sqlite}): $passed passed, $failed failed"
exit $rc
