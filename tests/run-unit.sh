#!/bin/sh
# Run the cmocka unit tests of one build; record "passed failed" in
# BUILD/results-unit.txt.  Usage: run-unit.sh BUILD test...
build=$1; shift
passed=0; failed=0; status=0
echo "== unit tests ($build) =="
for t in "$@"; do
	out=$("$build/tests/$t" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -v -e '^\[ RUN' -e '^\[       OK' 
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ]; then
		status=1
		[ -z "$f" ] && failed=$((failed + 1))	# crashed before its summary
	fi
done
echo "$passed $failed" > "$build/results-unit.txt"
echo "unit ($build): $passed passed, $failed failed"
exit $status
