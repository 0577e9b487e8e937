#!/usr/bin/env bats
# make demo's script (samples/demo.sh): sandbox, inventory, plan, campaign run to completion,
# HTML report; on loopback, everything it starts stopped when it ends.

load helpers

setup() { setup_hanfw; }

# Nothing the demo started still listens: neither the receiver nor the sandbox's adapter.
stopped() {
	local url
	for url in "$(cat out/demo/listen.url)" "$(jq -r .url out/demo/serve.json)"; do
		[[ "$url" == http*://127.0.0.1:* ]]
		run -7 curl -sk --max-time 5 "$url"
	done
}

@test "demo: a mixed sandbox inventoried, planned, run through every wave to completion, reported in HTML" {
	export DEMO_DEVICES=60
	run -0 --separate-stderr sh "$BATS_TEST_DIRNAME/../../samples/demo.sh" out
	[[ "$output" == *"hanfw inventory --devices all.devices --supplier sbx/supplier.csv"* ]]
	[[ "$output" == *"campaign demo: completed: "*" done, 0 failed, "* ]]
	# Its closing count read the ledger of the pass's backend (a SQLite file, or the PostgreSQL schema).
	[[ "$output" =~ messages\ the\ receiver\ stored:\ [1-9][0-9]*$'\n' ]]
	# Every device the plan includes is done; the campaign completed.
	jq -e '.state == "completed"' out/demo/status.json
	[ "$(jq '[.devices[] | select(.step == "done")] | length' out/demo/status.json)" = \
	  "$(jq '[.waves[].requests[].devices[]] | length' out/demo/demo.json)" ]
	[ "$(jq '[.waves[].requests[].devices[]] | length' out/demo/demo.json)" -gt 0 ]
	# The plan was made from the inventoried estate, not the sandbox's own file.
	[ "$(jq -r .inputs.estate.path out/demo/demo.json)" = estate.json ]
	grep -q '<svg' out/demo/report.html
	# Nothing it started is left running.
	stopped
}

@test "demo: a campaign that does not complete (hash mismatches in the canary halt it) makes it fail, no report" {
	export DEMO_DEVICES=60
	# hanfw, except that the sandbox serves with injected hash mismatches.
	mkdir bin
	cat > bin/hanfw <<-SH
	#!/bin/sh
	if [ "\$1" = sandbox ] && [ "\$2" = serve ]; then exec "$HANFW" "\$@" --faults bad-hash=1; fi
	exec "$HANFW" "\$@"
	SH
	chmod +x bin/hanfw
	HANFW=$PWD/bin/hanfw run --separate-stderr sh "$BATS_TEST_DIRNAME/../../samples/demo.sh" out
	[ "$status" -ne 0 ]
	[[ "$output" == *"halted: wave 1"* ]]
	[ ! -e out/demo/report.html ]
	stopped
}
