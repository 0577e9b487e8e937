# best.sh - sourced by the benchmark scripts (needs $rusage: BUILD/tests/rusage).
# best_of RUNS COMMAND...: "wall cpu maxrss" of the fastest of RUNS runs, the command's own output
# silenced.  Exit status 8 counts as a run (status's "not every device at its goal": a bench
# ledger's dry-run campaign); any other failure stops the bench (set -e).
best_of() {
	_runs=$1; shift
	_i=0; _bw=""; _line=""
	while [ $_i -lt "$_runs" ]; do
		_out=$("$rusage" sh -c '"$@" >/dev/null 2>&1; s=$?; [ $s = 8 ] && s=0; exit $s' _ "$@")
		_w=${_out%% *}
		if [ -z "$_bw" ] || awk "BEGIN{exit !($_w < $_bw)}"; then _bw=$_w; _line=$_out; fi
		_i=$((_i + 1))
	done
	echo "$_line"
}
