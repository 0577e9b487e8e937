#!/usr/bin/env bats
# campaign run with an activation window (campaign plan --activate-at HH:MM): every SR 11.3
# future-dated to the window, devices waiting while scheduled, the 8F66 alert moving them on;
# campaign abort cancelling what is scheduled; kill -9 while scheduled.  The sandbox runs 1000 times
# faster (its clock starts at the wall clock): a window 2.5 hours ahead comes in about 9 s.

load helpers

teardown() { campaign_teardown; }

# A small mixed estate (about 40 devices, 11 in the plan's waves), its images, made once for the file.
setup_file() {
	: "${HANFW:?}" "${SHARED:?}"
	export TPL=$BATS_FILE_TMPDIR/tpl
	mixed_sandbox_template "$TPL" 40
}

# The window: the minute 150 minutes from now (UTC), its next occurrence well past the default lead.
setup() {
	setup_hanfw
	cp -r "$TPL" sbx
	export HANFW_CONFIG=$PWD/sbx/hanfw.json
	local images=() type file
	while read -r type _ _ _ file; do [ "$type" = IHD ] || images+=("sbx/$file"); done < sbx/images.txt
	AT=$(date -u -d '+150 min' +%H:%M)
	hanfw -q campaign plan --estate sbx/estate.json --products sbx/products.json "${images[@]}" -o plan.json \
		--activate-at "$AT"
}

# The time (UTC, DUIS and GBCS forms, and ms) of the next $AT at least lead ahead of the run's start.
window_times() {
	local day t
	day=$(date -u +%Y-%m-%d)
	t=$(date -u -d "$day $AT:00Z" +%s)
	[ "$t" -ge $(( $(date +%s) + 900 )) ] || t=$(( t + 86400 ))
	DUIS=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)
	GEN=$(date -u -d "@$t" +%Y%m%d%H%M%SZ)
	AT_MS=$(( t * 1000 ))
}

# The devices the campaign sent an activation (SR 11.3), sorted, and the sandbox's log of them.
activated_devices() {
	ledger_sql "SELECT DISTINCT d.device FROM request_devices d JOIN campaign_requests c
		USING (request_id) WHERE c.action = 'activate'" | sort
}

# completes_every_activation_dated: campaign run goes on to completion, every device activated by a
# future-dated command.
completes_every_activation_dated() {
	run --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120
	echo "$stderr" | tail -5; [ "$status" -eq 0 ]
	[[ "$output" == "campaign plan: completed: "*" done, 0 failed, "*" skipped" ]]
	activated_devices > act
	jq -r 'select(.event == "future-dated") | .device' sbx/events.log | sort > dated
	diff act dated
}

@test "campaign plan --activate-at: in the plan (hashed), refused in one line when not HH:MM" {
	jq -e --arg at "$AT" '.activation == {"at": $at, "every": "day", "zone": "UTC"}' plan.json
	validate "$BATS_TEST_DIRNAME/../../schemas/plan.schema.json" plan.json
	for bad in 24:00 9:30 09:60 0930 09:30Z 2030-01-15T09:00:00Z ""; do
		run -2 --separate-stderr hanfw campaign plan --estate sbx/estate.json --products sbx/products.json \
			sbx/esme.img -o other.json --activate-at "$bad"
		[ "${#lines[@]}" -eq 0 ] && [ "$(wc -l <<< "$stderr")" -eq 1 ]
		[[ "$stderr" == *"--activate-at '$bad' is not "* ]]
	done
	# A plan whose window is not a time of day is refused before anything is done.
	jq '.activation.at = "25:00"' plan.json > bad.json
	run -3 --separate-stderr hanfw campaign run bad.json --dry-run
	[[ "$stderr" == *"the plan's activation window '25:00' is not a time of day"* ]]
	# The run's dry run names the window and its next time.
	window_times
	run -0 hanfw campaign run plan.json --dry-run
	[[ "$output" == *"activation window: every SR 11.3 future-dated to $AT UTC daily, at least 900 s ahead (next: $DUIS)"* ]]
	run -0 hanfw campaign run plan.json --dry-run --json
	jq -e --arg at "$AT" --arg next "$DUIS" '.activation == {"at": $at, "lead_s": 900, "next": $next}' <<< "$output"
	validate "$BATS_TEST_DIRNAME/../../schemas/campaign-dry-run.schema.json" <(echo "$output")
}

@test "campaign run --activate-at: every activation future-dated to the window, none re-sent while scheduled; completes" {
	campaign_servers 1000
	window_times
	# The canary: its activations all dated to the window, executed by the devices at that time.
	run -0 --separate-stderr hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120 --until canary
	[[ "$stderr" == *"(SR 11.3, future-dated)"* ]]
	[[ "$stderr" == *" at $DUIS "* ]]
	activated_devices > act
	[ -s act ]
	jq -r --arg g "$GEN" 'select(.event == "future-dated" and .detail == $g) | .device' sbx/events.log | sort > dated
	diff act dated
	jq -r --argjson t "$AT_MS" 'select(.event == "activated" and .at == $t) | .device' sbx/events.log | sort > at-time
	diff act at-time
	# Waiting while scheduled sent nothing again.
	no_step_twice --sandbox
	no_counter_twice
	# The rest of the campaign: its activations future-dated too (the sandbox's clock has passed the
	# window, so it runs them at once); completes with every device at its goal.
	completes_every_activation_dated
	jq -r 'select(.event == "activated") | .device' sbx/events.log | sort > activated
	comm -23 act activated | diff - /dev/null
	[ "$(jq '[.devices[] | select(.step == "done")] | length' <(hanfw campaign status plan --json))" = \
	  "$(jq '[.waves[].requests[].devices[]] | length' plan.json)" ]
	no_step_twice --sandbox
	no_counter_twice
}

# The devices whose activation the ledger has as scheduled (the device's "accepted" answer).
scheduled() {
	ledger_sql "SELECT DISTINCT device FROM device_events WHERE event = 'activation_scheduled'" | sort
}

# wait_scheduled N: until the sandbox has future-dated N activations and the ledger has their answers.
wait_scheduled() {
	local i
	for i in $(seq 1 300); do
		[ "$(grep -c '"event":"future-dated"' sbx/events.log 2>/dev/null)" -ge "$1" ] &&
			[ "$(scheduled | wc -l)" -ge "$1" ] &&
			return 0
		sleep 0.1
	done
	return 1
}

@test "campaign abort while activations are scheduled: one cancel each, nothing activates, aborted" {
	campaign_servers 1000
	SV_UP_MS=$(date +%s%3N)	# the sandbox's clock started before this
	window_times
	"$HANFW" campaign run plan.json --poll-ms 50 --wave-timeout 120 > run.out 2> run.err &
	RUN_PID=$!
	wait_scheduled 1
	sleep 0.5
	scheduled > sched
	run -0 --separate-stderr hanfw campaign abort plan
	wait "$RUN_PID" || true
	RUN_PID=
	[[ "$output" == "campaign plan: aborted: nothing more is sent; "*" future-dated activations cancelled, 0 not" ]]
	k=$(sed -n 's/.*sent; \([0-9]*\) future-dated.*/\1/p' <<< "$output")
	# One cancel per device scheduled (the run may have scheduled more before it saw the abort).
	jq -r 'select(.event == "cancelled") | .device' sbx/events.log | sort > cancelled
	[ "$(wc -l < cancelled)" -eq "$k" ]
	comm -23 sched cancelled | diff - /dev/null
	[ "$(jq -r 'select(.event == "future-dated") | .device' sbx/events.log | sort)" = "$(cat cancelled)" ]
	# The window passes (the sandbox's clock, 1000 times faster since it started, at least): nothing activates.
	until_ms=$(( (AT_MS + 999 * SV_UP_MS) / 1000 + 500 ))
	for i in $(seq 1 200); do [ "$(date +%s%3N)" -gt "$until_ms" ] && break; sleep 0.1; done
	[ "$(date +%s%3N)" -gt "$until_ms" ]
	! grep -q '"event":"activated"' sbx/events.log
	[ "$(hanfw campaign status plan --json | jq -r .state)" = aborted ]
	# Each cancel went through the activation flow, in the campaign: counter reserved, committed, sent.
	no_counter_twice
	run -0 hanfw campaign list
	[[ "$output" == "plan "*"aborted"* ]]
	# A second abort: already aborted (nothing sent again).
	run -3 --separate-stderr hanfw campaign abort plan
	[[ "$stderr" == *"already aborted"* ]]
}

@test "campaign abort with nothing scheduled needs no signing keys, as before" {
	campaign_servers 100000
	hanfw -q campaign plan --estate sbx/estate.json --products sbx/products.json sbx/esme.img -o now.json
	run -0 hanfw campaign run now.json --poll-ms 50 --until canary --wave-timeout 60
	# No signing keys in reach: a plain abort still works (nothing to cancel: activations were immediate).
	jq 'del(.profiles.sandbox.gbcs_signing_key, .profiles.sandbox.xml_signing_key)' sbx/hanfw.json > sbx/nokey.json
	HANFW_CONFIG=$PWD/sbx/nokey.json run -0 hanfw campaign abort now
	[ "$output" = "campaign now: aborted: nothing more is sent; 0 future-dated activations cancelled, 0 not" ]
}

@test "campaign run killed -9 while activations are scheduled, then run again: nothing re-sent, completes" {
	campaign_servers 1000
	window_times
	"$HANFW" campaign run plan.json --poll-ms 50 --wave-timeout 120 > run.out 2> run.err &
	RUN_PID=$!
	wait_scheduled 1
	kill -9 "$RUN_PID"
	wait "$RUN_PID" || true
	RUN_PID=
	completes_every_activation_dated
	no_step_twice --sandbox
	no_counter_twice
}

@test "campaign abort whose cancels cannot be sent: a line per device, exit 8, the campaign aborted all the same" {
	campaign_servers 1000
	"$HANFW" campaign run plan.json --poll-ms 50 --wave-timeout 120 > run.out 2> run.err &
	RUN_PID=$!
	wait_scheduled 1
	kill -9 "$RUN_PID"
	wait "$RUN_PID" || true
	RUN_PID=
	scheduled > sched
	# The DCC's adapter is gone: no cancel leaves.
	kill "$SV_PID" && wait "$SV_PID" || true
	SV_PID=
	run -8 --separate-stderr hanfw campaign abort plan
	[[ "$output" == "campaign plan: aborted: nothing more is sent; 0 future-dated activations cancelled, $(wc -l < sched) not" ]]
	for d in $(cat sched); do
		[[ "$stderr" == *"hanfw: campaign plan: $d: cancel not sent: "*"hanfw activate $d --cancel --campaign plan)"* ]]
	done
	[ "$(hanfw campaign status plan --json | jq -r .state)" = aborted ]
}
