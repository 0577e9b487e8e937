#!/usr/bin/env bats
# hanfw campaign run on a PostgreSQL ledger (issue 15), on a real server this file starts
# (tests/pg/pg-start: initdb in a temporary directory, a Unix socket only) and stops: the run's
# state is in the shared ledger, one run of a campaign at a time across hosts (a session advisory
# lock), and any host resumes a run another host left.  A small mixed sandbox estate; all on
# 127.0.0.1 or a Unix socket, everything started is stopped.

load helpers

teardown() {
	campaign_teardown
	[ -z "${RUN_B_PID:-}" ] || { kill -9 "$RUN_B_PID" 2>/dev/null; wait "$RUN_B_PID" 2>/dev/null || true; }
}

setup_file() {
	: "${HANFW:?}" "${SHARED:?}"
	# This file's own server is PGURI.  HFW_TEST_PG_URI stays the pass's server (HFW_TEST_LEDGER=postgresql),
	# where setup_hanfw makes each test's schema and drops the one before (its HANFW_LEDGER: every test here
	# names PGURI or a file of its own instead).
	local pass_uri=${HFW_TEST_PG_URI-}
	eval "$("$BATS_TEST_DIRNAME/../pg/pg-start")"
	echo "$HFW_PG_DIR" > "$BATS_FILE_TMPDIR/pgdir"
	export PGURI=$HFW_TEST_PG_URI
	if [ -n "$pass_uri" ]; then export HFW_TEST_PG_URI=$pass_uri; else unset HFW_TEST_PG_URI; fi
	# A smaller mixed estate: 60 devices.
	export TPL=$BATS_FILE_TMPDIR/tpl
	mixed_sandbox_template "$TPL" 60
}

teardown_file() {
	"$BATS_TEST_DIRNAME/../pg/pg-stop" "$(cat "$BATS_FILE_TMPDIR/pgdir")"
}

setup() {
	setup_hanfw
	sql "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" > /dev/null
	mixed_sandbox_copy "$TPL"
	# The receiver (campaign_servers' listen) stores into the same database.
	export HANFW_LEDGER=$PGURI
}

sql() { psql "$PGURI" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

# Every device of the plan: done (included) or skipped with the plan's reason (as campaign-run.bats).
all_at_goal() {
	hanfw campaign status plan --json > status.json
	jq -r '.devices[] | "\(.device) \(if .step == "done" then "included" else .reason // .step end)"' status.json | sort > got
	jq -r '(.waves[].requests[].devices[] | "\(.) included"), (.skipped[] | "\(.eui) \(.reason)")' plan.json | sort > want
	diff want got
}

# helpers' no_step_twice, on the PostgreSQL ledger.
no_step_twice_pg() {
	local dups
	dups=$(sql "SELECT d.device || ' ' || c.action || ' ' || count(*) FROM request_devices d
		JOIN campaign_requests c USING (request_id) JOIN requests r USING (request_id)
		WHERE r.state NOT IN ('transform_signed', 'not_sent', 'refused') AND c.action != 'read-version'
		AND d.outcome != 'other_request_in_progress' AND NOT EXISTS (SELECT 1 FROM device_events e
			WHERE e.device = d.device AND e.request_id = d.request_id AND e.event IN ('hub_delivery_failed',
			'transfer_failed', 'image_discarded', 'distribution_failed', 'activation_failed'))
		GROUP BY d.device, c.action HAVING count(*) > 1")
	[ -z "$dups" ] || { echo "steps twice (ledger): $dups"; return 1; }
}

# A host: its own configuration file (the sandbox's, its ledger the database), no HANFW_LEDGER.
host() {
	jq --arg l "$PGURI" '.profiles.sandbox.ledger = $l' sbx/hanfw.json > "sbx/host-$1.json"
}

advisory_locks() { sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"; }

@test "campaign run on a PostgreSQL ledger: a healthy campaign completes; status, list and the run's state are in the database" {
	campaign_servers 100000
	run -0 --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120
	[[ "$output" == "campaign plan: completed: "*" done, 0 failed, "*" skipped" ]]
	all_at_goal
	[ "$(jq -r .state status.json)" = completed ]
	# Per wave: the plan's sizes, every device done (as campaign-run.bats on SQLite).
	[ "$(jq -c '[.waves[] | .devices]' status.json)" = "$(jq -c '[.waves[] | [.requests[].devices[]] | length]' plan.json)" ]
	jq -e '[.waves[] | .devices == .done] | all' status.json
	validate "$BATS_TEST_DIRNAME/../../schemas/campaign-status.schema.json" status.json
	[ "$(sql "SELECT state FROM run_campaigns WHERE name = 'plan'")" = completed ]
	[ "$(sql "SELECT count(*) FROM run_devices WHERE campaign = 'plan'")" = "$(jq '.devices | length' status.json)" ]
	run -0 hanfw campaign list
	[[ "$output" == "plan "*"completed"* ]]
	no_counter_twice
	no_step_twice_pg
	# Nothing on the file system: no SQLite ledger, no lock file; the lock went with the run.
	[ ! -e sbx/ledger.sqlite ] && [ -z "$(find . -name '*.lock')" ]
	[ "$(advisory_locks)" = 0 ]
	# Run again: nothing more is sent.
	n=$(wc -l < sbx/received.log)
	run -0 hanfw campaign run plan.json --poll-ms 50
	[ "$(wc -l < sbx/received.log)" = "$n" ]
}

@test "campaign run on PostgreSQL, two hosts: B is refused while A runs (advisory lock); A killed -9, B resumes and completes: no counter twice, no step twice" {
	host a
	host b
	campaign_servers 2000
	local gates=(--canary-success 0 --wave-success 0 --wave-timeout 20 --poll-ms 50)
	env -u HANFW_LEDGER "$HANFW" --config sbx/host-a.json campaign run plan.json "${gates[@]}" 2> a.log &
	RUN_PID=$!
	# A is in wave 2 (it has sent), with the campaign's lock.
	for _ in $(seq 1 300); do
		[ "$(sql "SELECT coalesce(max(wave), 0) FROM run_campaigns WHERE name = 'plan'" 2>/dev/null)" -ge 2 ] && break
		sleep 0.1
	done
	[ "$(sql "SELECT wave FROM run_campaigns WHERE name = 'plan'")" -ge 2 ]
	kill -0 "$RUN_PID"
	[ "$(advisory_locks)" = 1 ]
	# Host B: refused, naming the rule, for run and resume alike; nothing sent for it.
	n=$(sql 'SELECT count(*) FROM requests')
	run -3 --separate-stderr env -u HANFW_LEDGER "$HANFW" --config sbx/host-b.json campaign run plan.json "${gates[@]}"
	[[ "$stderr" == "hanfw: campaign plan is being run by another process (advisory lock "*" on '$PGURI'): one run of a campaign at a time" ]]
	run -3 env -u HANFW_LEDGER "$HANFW" --config sbx/host-b.json campaign resume plan
	[[ "$output" == *"one run of a campaign at a time"* ]]
	# B reads A's progress meanwhile.
	run -0 env -u HANFW_LEDGER "$HANFW" --config sbx/host-b.json campaign list
	[[ "$output" == "plan "*"running"* ]]
	echo "# A killed in wave $(sql "SELECT wave FROM run_campaigns") of $(jq '.waves | length' plan.json)" >&3
	# A dies (kill -9): the server ends its session, and the lock with it.
	kill -9 "$RUN_PID"; wait "$RUN_PID" 2>/dev/null || true
	RUN_PID=
	for _ in $(seq 1 100); do [ "$(advisory_locks)" = 0 ] && break; sleep 0.1; done
	[ "$(advisory_locks)" = 0 ]
	at_kill=$(sql 'SELECT count(*) FROM requests')
	[ "$at_kill" -ge "$n" ]
	# B resumes it where A left it and completes it.
	run --separate-stderr env -u HANFW_LEDGER "$HANFW" --config sbx/host-b.json campaign run plan.json "${gates[@]}"
	[ "$status" = 0 ] || [ "$status" = 8 ] || { echo "$stderr"; false; }
	[[ "$output" == "campaign plan: completed: "* ]] || { echo "$output"; echo "$stderr"; false; }
	grep -q 'wave 2 of' a.log	# A had got so far ...
	[ "$(sql 'SELECT count(*) FROM requests')" -gt "$at_kill" ]	# ... and B sent the rest
	[ "$(sql "SELECT state FROM run_campaigns WHERE name = 'plan'")" = completed ]
	no_counter_twice
	no_step_twice_pg
}

# skewed OFFSET COMMAND...: COMMAND on a host whose clock is OFFSET (faketime's form, e.g. -2h) off.
skewed() {
	FAKETIME=$1 LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "${@:2}"
}

@test "campaign run on PostgreSQL: the request budgets count by the database's clock: SR 11.3 signed on a host 2 h slow fills the hour's budget on another" {
	[ "$(skewed -2h date -u +%s)" -lt "$(( $(date -u +%s) - 7000 ))" ]	# the skew is real
	Z=$SHARED/dcc/zaz1
	# Host A, its clock 2 h behind: two SR 11.3 requests signed into the shared ledger.
	for i in 1 2; do
		skewed -2h "$HANFW" sign "$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML" --new-counter \
			--key "$Z/xml-sign-90B3D51F30010000-ds.key" --cert "$Z/xml-sign-90B3D51F30010000-ds.pem" -o "a$i.xml"
	done
	# Their times are the database's, not host A's.
	[ "$(sql "SELECT count(*) FROM requests WHERE service_reference = '11.3' AND created >=
		to_char((now() AT TIME ZONE 'UTC') - interval '5 minutes', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")" = 2 ]
	# Host B, on time, with an SR 11.3 budget of 2 an hour: no room left, so no activation is sent.
	campaign_servers 100000
	export HANFW_BUDGET_11_3_PER_HOUR=2
	run -8 --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 2 --canary-success 0 --wave-success 0
	[[ "$stderr" == *"devices wait for room in the request budgets"* ]]
	[ "$(sql "SELECT count(*) FROM requests WHERE service_reference = '11.3'")" = 2 ]
	[ "$(jq -r 'select(.cv == 5) | .request' sbx/received.log | wc -l)" = 0 ]
	# Distribution went on (its budget has room): the wait is the SR 11.3 budget's alone.
	[ "$(sql "SELECT count(*) FROM requests WHERE service_reference IN ('11.1', '11.4')")" -gt 0 ]
}
