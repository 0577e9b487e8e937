#!/usr/bin/env bats
# Crash test of hanfw campaign run (issue 14): one campaign over a small mixed sandbox estate, its run
# killed with SIGKILL at seeded random moments (HANFW_CRASH_KILLS times, 50 by default) spread over
# every one of its 7 waves (asserted from the ledger's run state at each kill), each kill followed by a
# rerun, then a final run to completion.  Afterwards: every device's outcome is the plan's,
# no RequestID counter appears twice in the sandbox's request log, no device was given a step twice
# (neither by the ledger nor by the sandbox's event log), and the SR 11.3 budget was kept.  All on
# 127.0.0.1; everything started is stopped (teardown), every wait is bounded.

load helpers

teardown() { campaign_teardown; }
# start_servers SCALE: the servers SCALE times faster.
start_servers() { campaign_servers "$1"; }

setup_file() { mixed_sandbox_file; }

setup() { mixed_sandbox_test; }

# run_wave: the wave the ledger's run state is at (0 before the first wave starts).
run_wave() {
	local w sql="SELECT wave FROM run_campaigns WHERE name = 'plan'"
	# On SQLite up to 5 s for a ledger a killed run left busy (the next opener recovers its WAL).
	if on_postgresql; then w=$(ledger_sql "$sql" 2>/dev/null); else w=$(sqlite3 -cmd '.timeout 5000' sbx/ledger.sqlite "$sql" 2>/dev/null); fi
	echo "${w:-0}"
}

# waves_killed: in how many of the waves 1.. a kill landed (in_wave: kills per wave).
waves_killed() {
	local w n=0
	for w in $(seq 1 "$nwaves"); do [ "${in_wave[w]}" -gt 0 ] && n=$((n + 1)); done
	echo "$n"
}

@test "campaign run: killed -9 at seeded random moments in every wave (HANFW_CRASH_KILLS, default 50) and run again each time: the plan's outcome, no counter twice, no step twice, the budget kept" {
	local kills=${HANFW_CRASH_KILLS:-50} seed=${HANFW_CRASH_SEED:-14} k ms st w share left nwaves live=0
	# A wave's timeout bounds the wait for a device whose request a kill left of unknown fate (never sent
	# again): with kills in every wave, several waves wait for it, so it is short here; a clean wave of
	# this campaign takes 1 to 4 s (4 to 12 s under ASan, which gets 15 s).
	local timeout=${HANFW_CRASH_WAVE_TIMEOUT:-6}
	grep -qa __asan_init "$HANFW" && timeout=${HANFW_CRASH_WAVE_TIMEOUT:-15}
	local activations budget gates=(--canary-success 0 --wave-success 0 --wave-timeout "$timeout" --poll-ms 50)
	activations=$(jq '[.waves[].requests[] | select(.service_reference == "11.1") | .devices[]] | length' plan.json)
	# The SR 11.3 budget: exactly one activation per device that needs one (at most the 11.1 devices).
	# What a kill left never sent (not_sent) or at its CV 4 transform does not count against it; a
	# CV 5 activation of unknown fate counts, and is settled by a version read, never sent again.
	budget=$activations
	export HANFW_BUDGET_11_3_PER_HOUR=$budget
	# Simulated time 500 times faster: a clean run of this campaign takes some 15 s.
	start_servers "${HANFW_CRASH_TIME_SCALE:-500}"
	RANDOM=$seed
	# The kills are spread over every wave: each wave takes its share of the kills still to come (at
	# seeded random moments, 20 to 180 ms after a run starts); once it has had them, the run goes on
	# unkilled until the ledger shows the next wave started, and is killed at once there.  Each kill is
	# counted in the wave the ledger's run state was at when it landed.  Until $kills kills of a live run
	# and one in every wave, or the campaign completed in between (a run that ended by itself with 0 or 8),
	# at most 3 x $kills tries.
	nwaves=$(jq '.waves | length' plan.json)
	local -a in_wave=()
	for w in $(seq 0 "$nwaves"); do in_wave[w]=0; done
	for k in $(seq 1 $((3 * kills))); do
		# The wave read before the run starts (the killed run's state, which nothing else changes), so that
		# the kill's moment counts from the run's start and not from a query (psql takes tens of ms).
		w=$(run_wave)
		"$HANFW" -q campaign run plan.json "${gates[@]}" 2>/dev/null &
		RUN_PID=$!
		# The wave's share: the kills still to come when it started, over the waves left, the last
		# (short: a device or two) counted as half a wave; rounded up.
		left=$((kills - (live - in_wave[w])))
		share=$(( (2 * left + 2 * (nwaves - w)) / (2 * (nwaves - w) + 1) ))
		if [ "$w" -ge 1 ] && [ "${in_wave[w]}" -ge "$share" ] && [ "$w" -lt "$nwaves" ]; then
			# This wave had its share: on to the next wave's start (bounded: 60 s), killed there.
			for _ in $(seq 1 1200); do
				[ "$(run_wave)" -gt "$w" ] && break
				kill -0 "$RUN_PID" 2>/dev/null || break
				sleep 0.05
			done
		else
			# The last wave is short (a device or two): it takes what is left of the kills, faster.
			if [ "$w" -ge "$nwaves" ]; then ms=$((20 + RANDOM % 80)); else ms=$((20 + RANDOM % 160)); fi
			sleep "0.$(printf '%03d' "$ms")"
		fi
		kill -9 "$RUN_PID" 2>/dev/null || true
		st=0
		wait "$RUN_PID" 2>/dev/null || st=$?
		RUN_PID=
		if [ "$st" = 137 ]; then
			live=$((live + 1))
			w=$(run_wave)
			in_wave[w]=$((in_wave[w] + 1))
			# Once, mid-campaign (at the 20th kill, or the last of fewer): a running campaign's status validates against its schema.
			[ "$live" = $((kills < 20 ? kills : 20)) ] && { hanfw campaign status plan --json > running.json || true; }
		fi
		# Ended by itself: completed (0, or 8 when some device failed).
		[ "$st" = 0 ] || [ "$st" = 8 ] && break
		[ "$live" -ge "$kills" ] && [ "$(waves_killed)" = "$nwaves" ] && break
	done
	echo "# $k tries (seed $seed), $live kills of a live run; kills per wave (0: before the first): ${in_wave[*]}" >&3
	# At least $kills kills, and a kill in every wave.
	[ "$live" -ge "$kills" ]
	[ "$(waves_killed)" = "$nwaves" ]
	[ -s running.json ]
	jq -e '.state == "running"' running.json
	validate "$BATS_TEST_DIRNAME/../../schemas/campaign-status.schema.json" running.json
	echo "# before the final run: $(hanfw campaign status plan | head -1)" >&3
	# The final run, bounded.
	run --separate-stderr timeout -s KILL 120 "$HANFW" campaign run plan.json "${gates[@]}"
	[ "$status" = 0 ] || [ "$status" = 8 ] || { echo "$output"; echo "$stderr" | tail -20; false; }
	[[ "$output" == "campaign plan: completed: "* ]] || { echo "$output"; false; }
	echo "# final run: $output" >&3
	all_at_goal_or_unknown_fate
	no_counter_twice
	no_step_twice --sandbox
	# The budget kept, by the ledger and by what the sandbox received (SR 11.3 is command variant 5).
	echo "# SR 11.3 requests in the ledger by state: $(ledger_sql "SELECT state || ' ' || count(*) FROM requests
		WHERE service_reference = '11.3' GROUP BY state ORDER BY state" | paste -sd, | sed 's/,/, /g')" >&3
	[ "$(ledger_sql "SELECT count(*) FROM requests WHERE service_reference = '11.3'
		AND state NOT IN ('not_sent', 'transform_signed', 'dry-run')")" -le "$budget" ]
	[ "$(jq -r 'select(.cv == 5 and .request != "") | .request' sbx/received.log | sort -u | wc -l)" -le "$activations" ]
}
