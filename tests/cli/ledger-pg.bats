#!/usr/bin/env bats
# The ledger on PostgreSQL (issue 15), on a real server this file starts
# (tests/pg/pg-start: initdb in a temporary directory, a Unix socket only)
# and stops: sign, listen and status on it, ledger migrate and copy, and
# two hosts signing at once under one User ID while being killed.

load helpers

setup_file() {
	# This file's own server is PGURI.  HFW_TEST_PG_URI stays the pass's server (HFW_TEST_LEDGER=postgresql),
	# where setup_hanfw makes each test's schema and drops the one before (its HANFW_LEDGER: every test here
	# names PGURI or a file of its own instead).
	local pass_uri=${HFW_TEST_PG_URI-}
	eval "$("$BATS_TEST_DIRNAME/../pg/pg-start")"
	echo "$HFW_PG_DIR" > "$BATS_FILE_TMPDIR/pgdir"
	export PGURI=$HFW_TEST_PG_URI
	if [ -n "$pass_uri" ]; then export HFW_TEST_PG_URI=$pass_uri; else unset HFW_TEST_PG_URI; fi
	export SBX="$BATS_FILE_TMPDIR/sbx"
	"$HANFW" -q sandbox init "$SBX" --devices 'ESME=12;PPMID=8'
	package_images ESME:0 PPMID:0x84
}

teardown_file() {
	"$BATS_TEST_DIRNAME/../pg/pg-stop" "$(cat "$BATS_FILE_TMPDIR/pgdir")"
}

setup() {
	setup_zaz1_signer
	T=$SHARED/dcc/templates
	sql "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" > /dev/null
	export HANFW_LEDGER=$PGURI
}

teardown() {
	stop_listen
	stop_servers
	[ -z "${LISTEN2_PID:-}" ] || { kill "$LISTEN2_PID" 2>/dev/null; wait "$LISTEN2_PID" 2>/dev/null || true; }
	for p in ${BG_PIDS:-}; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}

sql() { psql "$PGURI" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
counter() { grep -o ':[0-9]*</sr:RequestID>' "$1" | tr -dc '0-9'; }
REQ=CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML

@test "sign --new-counter on a PostgreSQL ledger: each counter recorded there, rising; hanfw config shows the URI" {
	for i in 1 2 3; do hanfw sign "$T/$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o "s$i.xml"; done
	[ "$(sql 'SELECT count(*) FROM requests')" = 3 ]
	[ "$(counter s1.xml)" -lt "$(counter s2.xml)" ] && [ "$(counter s2.xml)" -lt "$(counter s3.xml)" ]
	[ "$(sql 'SELECT max(counter) FROM requests')" = "$(counter s3.xml)" ]
	[ "$(sql 'SELECT last FROM counters')" = "$(counter s3.xml)" ]
	[ ! -e "$PWD/postgresql:" ]	# no directory made for a URI
	run -0 hanfw config show --json
	[ "$(jq -r .settings.ledger.value <<< "$output")" = "$PGURI" ]
}

@test "a reader never makes a PostgreSQL ledger: status on a database without one says so, completion lists nothing" {
	run -11 --separate-stderr hanfw status
	[ "$stderr" = "hanfw: no ledger at '$PGURI' (nothing has been sent from this profile; set 'ledger' or HANFW_LEDGER)" ]
	run -0 --separate-stderr hanfw status --list-values campaign
	[ -z "$output" ] && [ -z "$stderr" ]
	[ "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ]
	# Once a writer made it, status reads it.
	hanfw sign "$T/$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o s.xml
	[ "$(sql 'SELECT count(*) FROM requests')" = 1 ]
	run -8 hanfw status
	[[ "$output" == "campaign (all): 0 devices"* ]]
}

@test "a ledger URI carrying a password is refused in one line naming the rule; a URI in a configuration file is no path" {
	HANFW_LEDGER="postgresql://hanfw:secret@/hanfw_test?host=/nonexistent" \
		run -11 --separate-stderr hanfw sign "$T/$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o x.xml
	[ "$stderr" = "hanfw: ledger: the URI carries a password: give it in PGPASSWORD, a password file (PGPASSFILE) or a service file (PGSERVICE), never in the ledger setting" ]
	[ ! -e x.xml ]
	unset HANFW_LEDGER
	jq -n --arg l "$PGURI" '{profiles: {a: {ledger: $l}}}' > host-a.json
	run -0 hanfw --config host-a.json config show --json
	[ "$(jq -r .settings.ledger.value <<< "$output")" = "$PGURI" ]
	hanfw --config host-a.json sign "$T/$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o y.xml
	[ "$(sql 'SELECT count(*) FROM requests')" = 1 ]
}

@test "two listen on one PostgreSQL ledger: a message stored once across both, duplicates counted" {
	sample=$SHARED/dcc/samples/11.2_readfw_response_signed.xml
	"$HANFW" listen --plain-http --listen 127.0.0.1:0 --trust "$Z" > a.url 2>> listen.log &
	LISTEN_PID=$!
	"$HANFW" listen --plain-http --listen 127.0.0.1:0 --trust "$Z" > b.url 2>> listen.log &
	LISTEN2_PID=$!
	for _ in $(seq 1 300); do [ -s a.url ] && [ -s b.url ] && break; sleep 0.1; done
	post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/xml' --data-binary "@$sample" "$(cat "$1")rrs"; }
	[ "$(post a.url)" = 204 ]
	[ "$(post b.url)" = 204 ]
	[ "$(post a.url)" = 204 ]
	[ "$(sql 'SELECT count(*)::text || sum(duplicates)::text FROM messages')" = 12 ]
	[ "$(sql "SELECT event || ' ' || device || ' ' || detail FROM device_events")" = "version_read 88-73-84-57-00-2F-96-1E 0C230000" ]
	stop_listen
	kill "$LISTEN2_PID" && wait "$LISTEN2_PID" || true
	LISTEN2_PID=
	grep -q 'listen stopped: 1 stored, 1 duplicates' listen.log
}

# The issue's HA receivers: two hanfw listen on one PostgreSQL ledger behind a balancer
# (tests/tools/rrproxy.py: each connection to the next one that answers) taking the sandbox's
# deliveries with duplicate, reorder and drop faults; one is killed -9 mid-run. Every acknowledged
# message is stored exactly once, and status from any host matches the sandbox's own log.
@test "two listen behind a balancer on PostgreSQL, faults on, one killed -9 mid-run: each message stored once, status as the sandbox" {
	export HANFW_CONFIG="$SBX/hanfw.json"
	IMG=$BATS_FILE_TMPDIR
	rm -f "$SBX"/*.log
	for t in ESME PPMID; do jq -r --arg t $t '.devices[] | select(.type == $t) | .eui' "$SBX/estate.json" > ${t,,}s; done
	"$HANFW" listen --plain-http --listen 127.0.0.1:0 > a.url 2>> listen.log &
	LISTEN_PID=$!
	"$HANFW" listen --plain-http --listen 127.0.0.1:0 > b.url 2>> listen.log &
	LISTEN2_PID=$!
	for _ in $(seq 1 300); do [ -s a.url ] && [ -s b.url ] && break; sleep 0.1; done
	hostport() { sed -e 's|^http://||' -e 's|/.*||' "$1"; }
	python3 "$BATS_TEST_DIRNAME/../tools/rrproxy.py" "$(hostport a.url)" "$(hostport b.url)" > lb.url 2> lb.log &
	BG_PIDS=$!
	for _ in $(seq 1 300); do [ -s lb.url ] && break; sleep 0.1; done
	start_sandbox --receive-url "$(cat lb.url)rrs" --faults dup=0.2,reorder=0.2,drop=0.2 --seed 7 --time-scale 20000
	hanfw -q distribute "$IMG/ESME.img" --devices esmes
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	for _ in $(seq 1 100); do [ "$(sql 'SELECT count(*) FROM messages')" -ge 12 ] && break; sleep 0.05; done
	kill -9 "$LISTEN_PID"; wait "$LISTEN_PID" 2>/dev/null || true; LISTEN_PID=
	at_kill=$(sql 'SELECT count(*) FROM messages')
	until_status '.states.verified == 12' --campaign ESME-01020304
	until_status '.states.activated == 8' --campaign PPMID-01020304
	hanfw -q activate --devices esmes --image "$IMG/ESME.img"
	until_status '.states.activated == 12' --campaign ESME-01020304
	sleep 2	# late duplicates
	# Both receivers took deliveries, and the one left went on after the kill.
	[ "$(sort -u lb.log | wc -l)" = 2 ]
	[ "$(sql 'SELECT count(*) FROM messages')" -gt "$at_kill" ]
	delivered=$(grep -c '"result":"delivered"' "$SBX/deliveries.log")
	seen=$(sql 'SELECT count(*) + sum(duplicates) FROM messages')
	[ "$seen" -ge "$delivered" ] && [ "$seen" -le $((delivered + 2)) ]	# the kill may cut off two acknowledgements
	[ "$(sql 'SELECT count(*) FROM messages')" = "$(jq -r 'select(.result == "delivered") | .serial' "$SBX/deliveries.log" | sort -u | wc -l)" ]
	[ "$(sql 'SELECT count(*) FROM messages WHERE duplicates > 0')" -gt 0 ]
	[ "$(sql 'SELECT count(*) FROM quarantine')" = 0 ]
	diff <(grep '"event":"activated"' "$SBX/events.log" | jq -r .device | sort -u) \
		<(hanfw status --json | jq -r '.device_states[] | select(.state == "activated") | .device' | sort)
}

@test "a PostgreSQL ledger's server gone: listen answers 500 and acknowledges nothing; back, it stores again" {
	sample=$SHARED/dcc/samples/11.2_readfw_response_signed.xml
	start_listen_z() {
		"$HANFW" listen --plain-http --listen 127.0.0.1:0 --trust "$Z" > a.url 2>> listen.log &
		LISTEN_PID=$!
		for _ in $(seq 1 300); do [ -s a.url ] && break; sleep 0.1; done
	}
	start_listen_z
	post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/xml' --data-binary "@$sample" "$(cat a.url)rrs"; }
	# Every connection of the database dropped (a failover): the next store fails, the one after reconnects.
	sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" > /dev/null
	[ "$(post)" = 500 ]
	[ "$(sql 'SELECT count(*) FROM messages')" = 0 ]
	[ "$(post)" = 204 ]
	[ "$(sql 'SELECT count(*) FROM messages')" = 1 ]
}

@test "ledger migrate: a new PostgreSQL ledger is made at the current version, then up to date; an old SQLite one is migrated" {
	run -0 hanfw ledger migrate
	[ "$output" = "ledger '$PGURI' (postgresql): made at schema version 1" ]
	run -0 hanfw ledger migrate --json
	[ "$(jq -c '[.backend, .from, .to]' <<< "$output")" = '["postgresql",1,1]' ]
	[ "$(sql 'SELECT version FROM schema_version')" = 1 ]
	# A SQLite ledger from before schema_version is version 0.
	export HANFW_LEDGER=$PWD/old.sqlite
	hanfw sign "$T/$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o s.xml
	sqlite3 old.sqlite 'DROP TABLE schema_version'
	run -0 hanfw ledger migrate
	[ "$output" = "ledger '$PWD/old.sqlite' (sqlite): schema version 0 -> 3" ]
	run -0 hanfw ledger migrate
	[ "$output" = "ledger '$PWD/old.sqlite' (sqlite): schema version 3, up to date" ]
	# One newer than this hanfw knows is refused.
	sqlite3 old.sqlite 'UPDATE schema_version SET version = 99'
	run -9 --separate-stderr hanfw ledger migrate
	[ "$stderr" = "hanfw: ledger '$PWD/old.sqlite' is at schema version 99, newer than this hanfw knows (3): upgrade hanfw" ]
}

@test "ledger copy: SQLite into PostgreSQL and back, verified by counts and SHA-256; a target with rows is refused" {
	export HANFW_LEDGER=$PWD/lite.sqlite
	mkdir in
	for i in 1 2 3 4; do cp "$T/$REQ" "in/r$i.xml"; done
	hanfw sign in/*.xml --key "$XKEY" --cert "$XCERT" --new-counter -o out
	# A row PostgreSQL refuses (text where SQLite let it into an integer column) fails the copy,
	# and nothing of it is committed.
	sqlite3 lite.sqlite ".backup bad.sqlite"
	sqlite3 bad.sqlite "UPDATE requests SET command_variant = 'four' WHERE rowid = 3"
	run -9 --separate-stderr hanfw ledger copy bad.sqlite "$PGURI"
	[[ "$stderr" == "hanfw: ledger '$PGURI': cannot copy into a table: "* ]]
	[ "$(sql 'SELECT count(*) FROM requests')" = 0 ]
	run -0 hanfw ledger copy lite.sqlite "$PGURI"
	[ "$(grep -c ' rows  sha256 ' <<< "$output")" = 12 ]
	[[ "$output" == *"requests                    4 rows  sha256 "* ]]
	[ "${lines[-1]}" = "copied 'lite.sqlite' into '$PGURI': every table's rows and SHA-256 match" ]
	[ "$(sql 'SELECT count(*) FROM requests')" = 4 ]
	[ "$(sql 'SELECT last FROM counters')" = "$(sqlite3 lite.sqlite 'SELECT last FROM counters')" ]
	# Never into a ledger that has rows.
	run -3 --separate-stderr hanfw ledger copy lite.sqlite "$PGURI"
	[ "$stderr" = "hanfw: ledger copy: the target's table counters is not empty: a ledger is copied only into a new, empty one" ]
	# Signing goes on from the copied counter, on PostgreSQL.
	export HANFW_LEDGER=$PGURI
	hanfw sign "$T/$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o next.xml
	[ "$(counter next.xml)" -gt "$(sqlite3 lite.sqlite 'SELECT last FROM counters')" ]
	# And back into a new SQLite ledger: the same rows.
	run -0 --separate-stderr hanfw ledger copy --json "$PGURI" back.sqlite
	[ "$(jq -r '.tables[] | select(.table == "requests") | .rows' <<< "$output")" = 5 ]
	diff <(sqlite3 lite.sqlite 'SELECT * FROM requests ORDER BY request_id') \
		<(sqlite3 back.sqlite "SELECT * FROM requests WHERE request_id <> '$(sql "SELECT max(request_id) FROM requests")' ORDER BY request_id")
}

@test "campaign run state is on a PostgreSQL ledger: list, status and abort read it there, none refused for the backend" {
	hanfw -q ledger migrate
	run -0 --separate-stderr hanfw campaign list --json
	[ "$(jq -c .campaigns <<< "$output")" = '[]' ] && [ -z "$stderr" ]
	run -3 --separate-stderr hanfw campaign status spring
	[ "$stderr" = "hanfw: no campaign run named 'spring' in the ledger (hanfw campaign list)" ]
	# A run's row in the database is the one they see (a run itself: campaign-pg.bats).
	sql "INSERT INTO run_campaigns VALUES('spring', 'plan.json', repeat('0', 64), 'halted', 'wave 1: gate', 1, 0, 0, 0.99, 0.95, 60, 'x')"
	run -0 hanfw campaign list
	[[ "$output" == "spring "*"halted"* ]]
	run -0 hanfw campaign abort spring
	[ "$(sql "SELECT state FROM run_campaigns WHERE name = 'spring'")" = aborted ]
}

# Two hosts (separate processes and configuration files) sign under one User ID on one database,
# each killed with -9 at random moments: no counter is issued twice, every counter handed out is in
# the ledger, and counters rise strictly in the order their transactions committed.
@test "two hosts: parallel sign --new-counter, kill -9 at random moments: no counter twice, rising in commit order" {
	unset HANFW_LEDGER
	for h in a b; do
		jq -n --arg l "$PGURI" '{profiles: {host: {ledger: $l}}}' > "host-$h.json"
		mkdir "out-$h"
	done
	host() {	# 40 signs, each its own process; a killed one is just gone
		for i in $(seq 1 40); do
			"$HANFW" --config "host-$1.json" sign "$T/$REQ" --key "$XKEY" --cert "$XCERT" --new-counter \
				-o "out-$1/$i.xml" 2>> "host-$1.log" || true
		done
	}
	host a & BG_PIDS="$!"
	host b & BG_PIDS="$BG_PIDS $!"
	kills=0
	for _ in $(seq 1 400); do
		kill -0 $BG_PIDS 2>/dev/null || break
		sleep "0.0$((RANDOM % 10))"
		p=$(pgrep -f "host-[ab].json sign" | shuf -n 1 || true)
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null && kills=$((kills + 1))
	done
	wait $BG_PIDS
	BG_PIDS=
	echo "kills: $kills"
	[ "$kills" -ge 5 ]
	handed=$(cat out-a/*.xml out-b/*.xml | grep -o ':[0-9]*</sr:RequestID>' | tr -dc '0-9\n' | sort -n)
	[ -n "$handed" ]
	# No counter handed out twice ...
	[ -z "$(uniq -d <<< "$handed")" ]
	# ... each one committed in the ledger before it was handed out ...
	sql 'SELECT counter FROM requests ORDER BY counter' > ledger.txt
	[ -z "$(comm -23 <(sort <<< "$handed") <(sort ledger.txt))" ]
	# ... and in commit order, strictly rising (one originator: the ZAZ1 supplier).
	[ "$(sql 'SELECT count(DISTINCT originator) FROM requests')" = 1 ]
	sql 'SELECT counter FROM requests ORDER BY pg_xact_commit_timestamp(xmin), counter' > commit-order.txt
	sort -n -c -u commit-order.txt
	[ "$(sql 'SELECT last FROM counters')" -ge "$(tail -1 ledger.txt)" ]
}
