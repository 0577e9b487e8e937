#!/bin/sh
# Run the threaded parts of hanfw under ThreadSanitizer: the unit tests
# given (those that start threads), and the end-to-end tests where
# "hanfw listen" (its server threads and committer) takes concurrent POSTs
# from "hanfw sandbox serve" (its HTTP threads, device simulation and
# delivery threads), with faults and with mutual TLS.  Any report fails the
# run: TSan writes it under BUILD/tsan/ and, halting on the first error,
# ends the process with status 66.  Records "passed failed" in
# BUILD/results-unit.txt and BUILD/results-cli.txt (tests/summary.sh).
# Usage: run-tsan.sh BUILD unit-test...
build=$1; shift
reports="$build/tsan"
rm -rf "$reports" && mkdir -p "$reports" || exit 1
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 log_path=$(cd "$reports" && pwd)/report"
export TSAN_OPTIONS
# The end-to-end tests run under TSan: a small subset (about a minute), each exercising the
# threads above: a campaign through listen; faults and a receiver killed mid-campaign; mutual
# TLS both ways; retries while the receive URL is down; 503s and slow replies; activate's
# concurrent requests to the sandbox's devices; sign's parallel self-verification of a batch.
filter='a campaign through hanfw listen|receiver killed -9 mid-campaign|over mutual TLS|a receive URL down for a while|503s and slow replies|500 ESMEs and HCALCS: immediate activation|self-verified on every core'

sh tests/run-unit.sh "$build" "$@"; status=$?
echo "== command-line tests under ThreadSanitizer ($build) =="
out="$build/cli.tap"
HANFW="$(pwd)/$build/hanfw" MKPKI="$(pwd)/$build/tests/mkpki" \
	bats --formatter tap -f "$filter" tests/cli/listen.bats tests/cli/lifecycle.bats tests/cli/activate.bats \
	tests/cli/sign-parallel.bats > "$out" 2>&1; rc=$?
cat "$out"
passed=$(grep -c '^ok ' "$out")
failed=$(grep -c '^not ok ' "$out")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
[ "$passed" -ge 7 ] || { echo "tsan: expected 7 end-to-end tests, ran $passed" >&2; failed=$((failed + 1)); }
n=$(ls "$reports" | wc -l)
if [ "$n" -gt 0 ]; then
	echo "tsan: $n ThreadSanitizer report(s):" >&2
	cat "$reports"/* >&2
	failed=$((failed + n))
fi
echo "$passed $failed" > "$build/results-cli.txt"
echo "tsan ($build): $passed end-to-end tests passed, $failed failed, $n reports"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
