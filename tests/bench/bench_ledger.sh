#!/bin/sh
# The ledger's backends side by side (make bench; BENCH_ONLY=ledger for this alone, or
# sh tests/bench/bench_ledger.sh BUILD): SQLite (a file, synchronous=FULL) against PostgreSQL
# (a server tests/pg/pg-start makes on a Unix socket, with fsync on), the same work on each:
#   hanfw sign of MANY files in one process, and MANY_PROCS signs of one file each
#   hanfw listen's durable ingest: signed alerts committed before each 204, 32 in flight
# Not a test: nothing here fails on a number.
set -eu
build=$1
MANY=${MANY:-1000}
MANY_PROCS=${MANY_PROCS:-100}
ALERTS=${ALERTS:-5000}
hanfw="$build/hanfw"
rusage="$build/tests/rusage"
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
