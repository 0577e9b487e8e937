#!/usr/bin/env bats
# hanfw campaign run: a plan executed wave by wave against hanfw sandbox serve, with hanfw listen
# storing what comes back into the same ledger; all on 127.0.0.1, everything started is stopped.

load helpers

teardown() { campaign_teardown; }
# start_servers [FAULTS]: the servers 100,000 times faster.
start_servers() { campaign_servers 100000 "${1:-}"; }

# One mixed sandbox estate of about 200 devices, its images and a plan, made once for the file.
setup_file() { mixed_sandbox_file; }

setup() { mixed_sandbox_test; }

# Every device of the plan: done (included) or skipped with the plan's reason.
all_at_goal() {
	hanfw campaign status plan --json > status.json
	jq -r '.devices[] | "\(.device) \(if .step == "done" then "included" else .reason // .step end)"' status.json | sort > got
	jq -r '(.waves[].requests[].devices[] | "\(.) included"), (.skipped[] | "\(.eui) \(.reason)")' plan.json | sort > want
	diff want got
}

@test "campaign run: a healthy campaign completes every wave, each device at its goal or skipped with its reason" {
	start_servers
	run -0 --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120
	[[ "$output" == "campaign plan: completed: "*" done, 0 failed, "*" skipped" ]]
	# One line per event on stderr (not a terminal).
	[[ "$stderr" == *"wave 1 of "*" starts"* ]]
	[[ "$stderr" == *"gate passed"* ]]
	all_at_goal
	[ "$(jq -r .state status.json)" = completed ]
	# Per wave: the plan's sizes, every device done.
	[ "$(jq -c '[.waves[] | .devices]' status.json)" = "$(jq -c '[.waves[] | [.requests[].devices[]] | length]' plan.json)" ]
	jq -e '[.waves[] | .devices == .done] | all' status.json
	run -0 hanfw campaign status plan
	[[ "$output" == *"  wave 1   devices 1 done 1"* ]]
	no_counter_twice
	no_step_twice
	# One distribution request per wave and image, as the plan groups them: none lost, none split.
	[ "$(ledger_sql "SELECT count(*) FROM campaign_requests WHERE action = 'distribute'")" = \
	  "$(jq '[.waves[].requests[]] | length' plan.json)" ]
	# Each wave distributed in one round, by image in the plan's order: no device left for a later round.
	sed -n 's/^hanfw: campaign plan: wave \([0-9]*\): distribute \([^ ]*\) to .*/\1 \2/p' <<<"$stderr" > got-dist
	jq -r '.inputs.images as $im | .waves[] | .wave as $w | .requests[] | "\($w) \($im[.image].device_type)"' plan.json \
		> want-dist
	diff want-dist got-dist
	# Activation (SR 11.3) only for the types that need it: ESME, GSME, HCALCS.
	ledger_sql "SELECT DISTINCT device_type FROM campaign_requests WHERE action = 'activate'" | sort > act
	printf '%s\n' ESME GSME HCALCS > want-act
	comm -23 act want-act | diff - /dev/null
	# Run again: nothing more is sent.
	n=$(wc -l < sbx/received.log)
	run -0 hanfw campaign run plan.json --poll-ms 50
	[ "$(wc -l < sbx/received.log)" = "$n" ]
	run -0 hanfw campaign list
	[[ "$output" == "plan "*"completed"* ]]
	run -0 hanfw campaign status plan --wait --timeout 5
	# The status, the list and run's summary in JSON, against the schema.
	schema=$BATS_TEST_DIRNAME/../../schemas/campaign-status.schema.json
	validate "$schema" status.json
	hanfw campaign list --json > list.json
	validate "$schema" list.json
	hanfw campaign run plan.json --json > again.json
	validate "$schema" again.json
	jq -e '.state == "completed" and .steps.pending == 0 and (.devices | not)' again.json
	jq '.state = "done"' status.json > bad.json
	run ! validate "$schema" bad.json
}

@test "campaign run: hash mismatches in the canary halt it; no request of a later wave is sent; resume and abort" {
	start_servers bad-hash=1
	run -14 --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120
	[[ "$stderr" == *"halted: wave 1: 1 hash mismatches (rule: any hash mismatch halts the campaign)"* ]]
	canary=$(jq -r '.waves[0].requests[].devices[]' plan.json)
	[[ "$stderr" == *"halted by $canary: hash_mismatch"* ]]
	# The sandbox saw exactly one distribution: the canary's.
	[ "$(jq -r 'select(.path | endswith("/serviceD")) | .request' sbx/received.log | wc -l)" = 1 ]
	[ "$(jq -r 'select(.path | endswith("/serviceS")) | .request' sbx/received.log | wc -l)" = 0 ]
	run -14 hanfw campaign status plan
	[[ "$output" == "campaign plan: halted: wave 1: "* ]]
	hanfw campaign status plan --json > halted.json || true
	jq -e '.state == "halted" and .reason != null and .steps.failed == 1' halted.json
	validate "$BATS_TEST_DIRNAME/../../schemas/campaign-status.schema.json" halted.json
	# --wait returns at once on a halted campaign; --until a state it never reaches times out (7).
	run -14 hanfw campaign status plan --wait --timeout 5
	run -7 hanfw campaign status plan --wait --until completed --timeout 1
	run -2 hanfw campaign status plan --until completed
	# A rerun does not go on by itself.
	n=$(wc -l < sbx/received.log)
	run -14 hanfw campaign run plan.json --poll-ms 50
	[[ "$output" == *"campaign plan is halted"*"hanfw campaign resume plan"* ]]
	[ "$(wc -l < sbx/received.log)" = "$n" ]
	# Abort: stopped for good, resume refused.
	run -0 hanfw campaign abort plan
	run -14 hanfw campaign run plan.json
	run -3 hanfw campaign resume plan
	[ "$(wc -l < sbx/received.log)" = "$n" ]
}

@test "campaign resume: after a human decision the halted campaign goes on to the next wave" {
	start_servers bad-hash=1
	run -14 hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120 --canary-success 100
	kill "$SV_PID"; wait "$SV_PID" 2>/dev/null || true
	"$HANFW" sandbox serve --dir sbx --listen 127.0.0.1:0 --receive-url "$(cat rx.url)rrs" --time-scale 100000 \
		> sv.url 2> sv.log &
	SV_PID=$!
	for i in $(seq 1 300); do [ "$(cat sv.url 2>/dev/null)" != "$HANFW_ENDPOINT" ] && [ -s sv.url ] && break; sleep 0.1; done
	HANFW_ENDPOINT=$(cat sv.url)
	run -8 --separate-stderr hanfw campaign resume plan --poll-ms 50
	[[ "$output" == "campaign plan: completed: "*" done, 1 failed, "* ]]
	no_counter_twice
}

@test "campaign run: a changed plan, a changed input, or a wrong file is refused before anything is sent" {
	start_servers
	echo '{"format":"other"}' > bad.json
	run -3 hanfw campaign run bad.json
	[[ "$output" == *"is not a hanfw-plan-1 plan"* ]]
	cp plan.json p2.json
	cp sbx/products.json products.orig
	echo >> sbx/products.json
	run -3 hanfw campaign run p2.json
	[[ "$output" == *"products file 'sbx/products.json' changed since the plan was made"* ]]
	[ ! -s sbx/received.log ]
	cp products.orig sbx/products.json
	run -0 hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120
	jq '.options.canary = 2' plan.json > changed.json
	run -3 hanfw campaign run changed.json --name plan
	[[ "$output" == *"campaign plan was started from a plan with SHA-256"* ]]
	run -2 hanfw campaign run
	run -2 hanfw campaign status
	run -3 hanfw campaign status nosuch
}

@test "campaign run: kill -9 mid-wave, then run again: completes, no counter twice, no device a step twice" {
	start_servers
	local k gates=(--canary-success 0 --wave-success 0 --wave-timeout 20)
	for k in 1 2 3 4 5; do
		"$HANFW" -q campaign run plan.json --poll-ms 50 "${gates[@]}" 2>/dev/null &
		RUN_PID=$!
		sleep "0.$((k * 17 % 9 + 1))"
		kill -9 "$RUN_PID" 2>/dev/null || true
		wait "$RUN_PID" 2>/dev/null || true
		RUN_PID=
	done
	run hanfw campaign run plan.json --poll-ms 50 "${gates[@]}"
	[ "$status" = 0 ] || [ "$status" = 8 ]
	all_at_goal_or_unknown_fate
	no_counter_twice
	no_step_twice
}

@test "campaign run: pacing keeps to the SR 11.3 budget, counted from the ledger across runs and campaigns" {
	start_servers
	export HANFW_BUDGET_11_3_PER_HOUR=2
	# Gates at 0%: devices beyond the budget time out and the campaign still goes through every wave.
	run -8 --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 2 --canary-success 0 --wave-success 0
	[[ "$stderr" == *"devices wait for room in the request budgets"* ]]
	[ "$(ledger_sql "SELECT count(*) FROM requests WHERE service_reference = '11.3'")" = 2 ]
	[ "$(jq -r 'select(.cv == 5) | .request' sbx/received.log | wc -l)" = 2 ]
	hanfw campaign status plan --json | jq -e '.reasons | to_entries | map(select(.key | startswith("wave_timeout"))) | length > 0'
	# Another campaign in the same ledger within the hour: no room left, no SR 11.3 at all.
	cp plan.json other.json
	run -8 hanfw campaign run other.json --poll-ms 50 --wave-timeout 2 --canary-success 0 --wave-success 0
	[ "$(ledger_sql "SELECT count(*) FROM requests WHERE service_reference = '11.3'")" = 2 ]
}

@test "campaign run: one run of a campaign at a time; the lock goes with a killed run" {
	start_servers
	"$HANFW" -q campaign run plan.json --poll-ms 3000 --wave-timeout 120 2>/dev/null &
	RUN_PID=$!
	for i in $(seq 1 300); do
		[ "$(ledger_sql "SELECT count(*) FROM run_campaigns" 2>/dev/null)" = 1 ] && break
		sleep 0.1
	done
	run -3 hanfw campaign run plan.json
	[[ "$output" == *"campaign plan is being run by another process"*"one run of a campaign at a time"* ]]
	run -3 hanfw campaign resume plan
	kill -9 "$RUN_PID"; wait "$RUN_PID" 2>/dev/null || true
	RUN_PID=
	run -0 hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120
	no_counter_twice
}

@test "campaign run --until: stops after the canary's gate, then wave 2's, then runs to the end" {
	start_servers
	run -0 --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120 --until canary
	[[ "$output" == "campaign plan: running: 1 done, 0 failed, "* ]]
	[[ "$stderr" == *"stopped after wave 1 (--until): run it again to go on"* ]]
	hanfw campaign status plan --json | jq -e '.state == "running" and .gate_passed == 1 and .wave == 2'
	[ "$(jq -r 'select(.path | endswith("/serviceD")) | .request' sbx/received.log | wc -l)" = 1 ]
	run -0 hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120 --until wave-2
	hanfw campaign status plan --json | jq -e '.state == "running" and .gate_passed == 2 and .wave == 3'
	run -0 hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120
	all_at_goal
	no_counter_twice
	no_step_twice
	run -2 hanfw campaign run plan.json --until wave-0
	run -2 hanfw campaign run plan.json --until later
}

@test "campaign run: re-drive: requests the adapter refused unprocessed (503) are sent again, with fresh counters" {
	start_servers http503=0.1
	run hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120
	[ "$status" = 0 ] || { echo "$output" | tail -20; false; }
	# Some were refused, and every device still got to its goal.
	[ "$(jq -r 'select(.code == "HTTP 503") | .path' sbx/received.log | wc -l)" -gt 0 ]
	all_at_goal
	no_counter_twice
	# Refused requests aside, no device was sent a step twice.
	no_step_twice
	ledger_sql "SELECT count(*) FROM requests WHERE state IN ('refused', 'not_sent')" | grep -qv '^0$'
}

@test "campaign run: devices that change supplier mid-campaign leave it (left, change_of_supplier), not counted by the gates; it completes" {
	start_servers "event=cos:0.3"
	run --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120 --canary-success 100 --wave-success 100
	[ "$status" = 0 ] || { echo "$output $stderr" | tail -20; false; }
	[[ "$output" == "campaign plan: completed: "*" done, 0 failed, "* ]]
	[[ "$stderr" == *"left the campaign: change_of_supplier"* ]]
	hanfw campaign status plan --json > status.json
	validate "$BATS_TEST_DIRNAME/../../schemas/campaign-status.schema.json" status.json
	# Some left, each with the reason, and the others reached their goal.
	jq -e '.steps.left > 0 and .steps.failed == 0 and .reasons.change_of_supplier == .steps.left' status.json
	jq -e '[.devices[] | select(.step == "left") | .reason == "change_of_supplier"] | all' status.json
	# Nothing was sent to a device after it left; run again, nothing more is sent.
	left_devices_sent_nothing_more
	no_counter_twice
	no_step_twice
}

@test "campaign run: a quarantined request pauses the campaign with its QuarantineEventRef; resume completes, never re-sending it" {
	start_servers "quarantine=1/1000h"
	run -14 --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 5 --canary-success 0 --wave-success 0
	[[ "$stderr" == *"campaign plan paused: "*"quarantined"* ]]
	[[ "$stderr" == *"QuarantineEventRef 1"* ]]
	run -14 hanfw campaign status plan
	[[ "$output" == "campaign plan: paused: "*"QuarantineEventRef 1"* ]]
	hanfw campaign status plan --json > paused.json || true
	jq -e '.state == "paused" and (.reason | test("QuarantineEventRef"))' paused.json
	validate "$BATS_TEST_DIRNAME/../../schemas/campaign-status.schema.json" paused.json
	# Nothing more sent while paused.
	n=$(wc -l < sbx/received.log)
	run -14 hanfw campaign run plan.json --poll-ms 50
	[ "$(wc -l < sbx/received.log)" = "$n" ]
	# The DCC released its quarantine (a sandbox without the fault); resume: the quarantined request is of
	# unknown fate, never sent again (its device fails at the wave's timeout), and the campaign completes.
	kill "$SV_PID"; wait "$SV_PID" 2>/dev/null || true
	"$HANFW" sandbox serve --dir sbx --listen 127.0.0.1:0 --receive-url "$(cat rx.url)rrs" --time-scale 100000 \
		> sv.url 2> sv.log &
	SV_PID=$!
	for i in $(seq 1 300); do [ "$(cat sv.url 2>/dev/null)" != "$HANFW_ENDPOINT" ] && [ -s sv.url ] && break; sleep 0.1; done
	HANFW_ENDPOINT=$(cat sv.url)
	held=$(ledger_sql "SELECT device FROM run_devices WHERE reason LIKE 'quarantined: %'")
	[ -n "$held" ]
	run -8 --separate-stderr hanfw campaign resume plan --poll-ms 50
	[[ "$output" == "campaign plan: completed: "*" done, 1 failed, "* ]]
	[[ "$stderr" == *"$held: failed: wave_timeout (last state activation_quarantined)"* ]]
	no_counter_twice
	no_step_twice
}

# The ledger as it is now: its SHA-256, or "absent".  On PostgreSQL the test's schema: its tables and
# rows as pg_dump gives them (less pg_dump's \restrict key, new on every dump), or "absent" if it has no table.
ledger_state() {
	if on_postgresql; then
		local schema=${HANFW_LEDGER##*search_path%3D} n
		n=$(psql "$HFW_TEST_PG_URI" -qAtX -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM pg_tables WHERE schemaname = '$schema'") ||
			return 1
		[ "$n" != 0 ] || { echo absent; return 0; }
		pg_dump --strict-names --no-owner -n "$schema" "$HFW_TEST_PG_URI" > ledger.dump || return 1
		grep -v '^\\\(un\)\?restrict ' ledger.dump | sha256sum
	elif [ -f sbx/ledger.sqlite ]; then sha256sum < sbx/ledger.sqlite; else echo absent; fi
}

@test "campaign run --dry-run: checks what the run checks, says per wave what it would send and the budgets' least time; writes, signs and sends nothing" {
	start_servers
	export HANFW_BUDGET_11_3_PER_HOUR=20
	before=$(ledger_state)
	run -0 --separate-stderr hanfw campaign run plan.json --dry-run
	[[ "$output" == "campaign plan: dry run of 'plan.json' (SHA-256 "*"nothing written, signed or sent"* ]]
	[[ "$output" == *"  wave 1   devices 1       requests: SR 11.1 "* ]]
	hanfw campaign run plan.json --dry-run --json --name other > dry.json
	validate "$BATS_TEST_DIRNAME/../../schemas/campaign-dry-run.schema.json" dry.json
	jq -e '.campaign == "other" and .dry_run and .budgets."11.3" == 20' dry.json
	# The plan's devices and distribution requests per wave; SR 11.2 for every device.
	[ "$(jq -c '[.waves[] | .devices]' dry.json)" = "$(jq -c '[.waves[] | [.requests[].devices[]] | length]' plan.json)" ]
	[ "$(jq -c '[.waves[] | .requests."11.1" + .requests."11.4"]' dry.json)" = "$(jq -c '[.waves[] | .requests | length]' plan.json)" ]
	jq -e '([.waves[] | .requests."11.2" == .devices] | all) and .requests."11.3" > 20' dry.json
	# 20 SR 11.3 an hour: the first 20 at once, then 20 an hour.
	jq -e '.budget_s == ((.requests."11.3" + 19) / 20 | floor) * 3600 - 3600' dry.json
	# Nothing written (no run state, no counter, no request), nothing received by the adapter.
	[ "$(ledger_state)" = "$before" ]
	[ ! -s sbx/received.log ]
	[ ! -e sbx/ledger.sqlite.run-plan.lock ]	# SQLite's run lock file (PostgreSQL's is a session's advisory lock)
	# A bad plan fails as the real run fails it: a changed image, a file that is not a plan.
	jq '.format = "other"' plan.json > bad.json
	run -3 hanfw campaign run bad.json --dry-run
	dry=$output
	printf 'x' >> "$(jq -r '.inputs.images[0].path' plan.json)"
	run -3 hanfw campaign run plan.json --dry-run
	dry_image=$output
	[[ "$dry_image" == *"changed since the plan was made"* ]]
	[ "$(ledger_state)" = "$before" ]
	run -3 hanfw campaign run bad.json
	[ "$output" = "$dry" ]
	run -3 hanfw campaign run plan.json
	[ "$output" = "$dry_image" ]
	[ ! -s sbx/received.log ]
}

@test "campaign run: on a terminal one status line redrawn in place, ended by a newline; otherwise one line per event" {
	command -v script >/dev/null || skip "no script(1) (util-linux): the status line is tested through its formatter only"
	start_servers
	# stderr a terminal (script's pseudo-terminal; stdout and stderr both land in tty.out).
	script -qec "$HANFW campaign run plan.json --poll-ms 50 --wave-timeout 120 --until canary" /dev/null > tty.out
	# The status line, drawn after a carriage return and a clear-to-end-of-line, with every field.
	grep -qa $'\r\e\\[Kcampaign plan: wave 1/7: pending [0-9]*, in progress [0-9]*, done [0-9]*, failed 0, left 0, skipped 0; [0-9.]* devices/min; ETA ' tty.out
	# The last one says where the run stopped and ends with a newline before the summary line.
	grep -qa $'wave 1/7: pending 0, in progress 0, done 1, failed 0, left 0, skipped 0; .*; ETA .*; running\r$' tty.out
	grep -qa '^campaign plan: running: 1 done, 0 failed' tty.out
	# Events that matter still get their line; one per device done or request sent does not.
	grep -qa 'hanfw: campaign plan: wave 1: gate passed' tty.out
	! grep -qa 'done (version confirmed)' tty.out
	! grep -qa ': distribute ' tty.out
	# Not a terminal: no status line, one line per event.
	run -0 --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120 --until wave-2
	[[ "$stderr" != *$'\r'* ]]
	[[ "$stderr" == *"hanfw: campaign plan: wave 2: distribute "* ]]
	[[ "$stderr" == *": done (version confirmed)"* ]]
	# -q on a terminal: nothing but errors.
	script -qec "$HANFW -q campaign run plan.json --poll-ms 50 --wave-timeout 120" /dev/null > quiet.out
	[ ! -s quiet.out ]
}
