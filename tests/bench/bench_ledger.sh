#!/bin/sh
# The ledger's backends side by side (make bench; BENCH_ONLY=ledger for this alone, or
# sh tests/bench/bench_ledger.sh BUILD): SQLite (a file, synchronous=FULL) against PostgreSQL
# (a server tests/pg/pg-start makes on a Unix socket, with fsync on), the same work on each:
#   hanfw sign of MANY files in one process, and MANY_PROCS signs of one file each
#   hanfw listen's durable ingest: signed alerts committed before each 204, 32 in flight
#   hanfw status over a STATUS_DEVICES-device (default 1,000,000) finished campaign: the SQLite ledger
#   made by fill_ledger.py, moved to PostgreSQL by hanfw ledger copy (timed: the copy at scale), then
#   status --campaign, --json and plain status (every campaign) on each, best of STATUS_RUNS (3)
#   (plain status: one run), peak RSS, and the ratio
# Not a test: nothing here fails on a number.
set -eu
build=$1
MANY=${MANY:-1000}
MANY_PROCS=${MANY_PROCS:-100}
ALERTS=${ALERTS:-5000}
STATUS_DEVICES=${STATUS_DEVICES:-1000000}
STATUS_RUNS=${STATUS_RUNS:-3}
hanfw="$build/hanfw"
rusage="$build/tests/rusage"
. "$(dirname "$0")/best.sh"
here=$(dirname "$0")
work=$(mktemp -d)
pgdir=
cleanup() {
	[ -n "${listen:-}" ] && kill "$listen" 2>/dev/null
	[ -n "$pgdir" ] && sh "$here/../pg/pg-stop" "$pgdir"
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
eval "$(HFW_PG_FSYNC=on sh "$here/../pg/pg-start")"
pgdir=$HFW_PG_DIR
pg=$HFW_TEST_PG_URI

"$build/tests/mkpki" "$work/pki" > /dev/null
key="$work/pki/supplier-xml.key"; cert="$work/pki/supplier-xml.pem"
mkdir "$work/in"
i=1
while [ $i -le "$MANY" ]; do
	cp "$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML" "$work/in/r$i.xml"
	i=$((i + 1))
done

echo "== the ledger: SQLite and PostgreSQL side by side =="
for backend in sqlite postgresql; do
	if [ $backend = sqlite ]; then ledger="$work/bench.sqlite"; else ledger=$pg; fi
	export HANFW_LEDGER="$ledger"
	"$hanfw" sign "$work/in/r1.xml" --new-counter --key "$key" --cert "$cert" -o "$work/warm.xml"	# makes it
	set -- $("$rusage" sh -c 'exec "$@" > /dev/null' _ "$hanfw" sign "$work"/in/*.xml --new-counter \
		--key "$key" --cert "$cert" -o "$work/out-$backend")
	awk -v b=$backend -v w="$1" -v n="$MANY" 'BEGIN {
		printf "%-10s sign of %d files in one process: %.3f s (%.0f/s)\n", b, n, w, n / w }'
	set -- $("$rusage" sh -c '
		n=$1; shift; i=0
		while [ $i -lt "$n" ]; do "$@" || exit 1; i=$((i + 1)); done' _ "$MANY_PROCS" \
		"$hanfw" sign "$work/in/r1.xml" --new-counter --key "$key" --cert "$cert" -o "$work/one.xml")
	awk -v b=$backend -v w="$1" -v n="$MANY_PROCS" 'BEGIN {
		printf "%-10s sign of one file, %d processes one after another: %.2f ms each\n", b, n, 1000 * w / n }'
done

lsbx="$work/lsbx"
"$hanfw" -q sandbox init "$lsbx" --devices ESME=1
for backend in sqlite postgresql; do
	if [ $backend = sqlite ]; then ledger="$work/listen.sqlite"; else
		ledger=$pg
		psql "$pg" -qAtX -c "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public"
	fi
	rm -f "$work/lurl"
	HANFW_CONFIG="$lsbx/hanfw.json" HANFW_LEDGER="$ledger" "$hanfw" listen --plain-http --listen 127.0.0.1:0 \
		> "$work/lurl" 2>/dev/null &
	listen=$!
	for _ in $(seq 1 50); do [ -s "$work/lurl" ] && break; sleep 0.1; done
	r=$("$build/tests/bench_listen" "$lsbx" "$(cat "$work/lurl")" "$ALERTS" 32)
	kill $listen; wait $listen 2>/dev/null || true
	listen=
	echo "$backend listen: $ALERTS signed DCC alerts verified, decoded and committed before each 204, 32 in flight: $r/s" |
		awk '{ printf "%-10s %s\n", $1, substr($0, length($1) + 2) }'
done

# status over a big finished campaign, the same ledger on each backend.
n=$STATUS_DEVICES
big="$work/status.sqlite"
best() { best_of "$@"; }	# tests/bench/best.sh: best RUNS COMMAND...
load() { uptime | sed 's/.*load average: //'; }
started=$(date +%s)
echo "status over a $n-device finished campaign: load average at the start $(load)"
# A writing command makes the ledger (status, a reader, never does): one dry-run read, in its own campaign.
HANFW_CONFIG="$lsbx/hanfw.json" HANFW_LEDGER="$big" "$hanfw" -q read-version 00-00-00-00-00-00-00-01 \
	--dry-run -o "$work/status-dry" > /dev/null
set -- $("$rusage" /usr/bin/python3 "$here/fill_ledger.py" "$big" "$n")
fill=$1
psql "$pg" -qAtX -c "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public"
set -- $("$rusage" sh -c 'exec "$@" > "$0"' "$work/copy.out" "$hanfw" ledger copy "$big" "$pg")
copy=$1
rows=$(awk '$3 == "rows" { n += $2 } END { print n }' "$work/copy.out")
awk -v n="$n" -v f="$fill" -v c="$copy" -v r="$rows" -v s="$(du -m "$big" | cut -f1)" 'BEGIN {
	printf "made: the SQLite ledger (%d MB) by fill_ledger.py in %.1f s; hanfw ledger copy into PostgreSQL, %d rows, verified: %.1f s\n",
		s, f, r, c }'
for backend in sqlite postgresql; do
	if [ $backend = sqlite ]; then ledger=$big; else ledger=$pg; fi
	cat "$big" > /dev/null	# both from a warm page cache (the server's own cache warms in its first run)
	st=$(best "$STATUS_RUNS" env HANFW_CONFIG="$lsbx/hanfw.json" HANFW_LEDGER="$ledger" "$hanfw" status --campaign ESME-01020304)
	sj=$(best "$STATUS_RUNS" env HANFW_CONFIG="$lsbx/hanfw.json" HANFW_LEDGER="$ledger" "$hanfw" status \
		--campaign ESME-01020304 --json)
	sa=$(best 1 env HANFW_CONFIG="$lsbx/hanfw.json" HANFW_LEDGER="$ledger" "$hanfw" status)
	echo "$backend $st $sj $sa" >> "$work/status.txt"
	echo "$backend $st $sj $sa" | awk -v n="$n" '{
		printf "%-10s status --campaign over %d devices (%d events): %.2f s (CPU %.2f s), --json %.2f s (CPU %.2f s), peak RSS %.0f MB; plain status (every campaign): %.2f s, peak RSS %.0f MB\n",
			$1, n, 4 * n, $2, $3, $5, $6, $4 / 1024, $8, $10 / 1024 }'
done
awk 'NR == 1 { t = $2; j = $5; a = $8 } NR == 2 {
	printf "postgresql/sqlite: status --campaign %.2fx, --json %.2fx, plain status %.2fx\n", $2 / t, $5 / j, $8 / a }' "$work/status.txt"
echo "status: load average at the end $(load); this part took $(( $(date +%s) - started )) s"
