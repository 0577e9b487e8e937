#!/usr/bin/env bats
# hanfw campaign report --html: a campaign made by the real commands (sandbox,
# listen, distribute with injected hash mismatches and a refused device), its
# page rendered in headless Chromium: charts drawn, no console error, nothing
# fetched.  The check itself is shown to fail on broken pages.

load helpers

setup_file() {
	export SBX="$BATS_FILE_TMPDIR/sbx"
	"$HANFW" -q sandbox init "$SBX" --devices 'ESME=12'
	package_images ESME:0
}

setup() {
	setup_hanfw
	HANFW_LEDGER=$(test_ledger) && export HANFW_CONFIG="$SBX/hanfw.json" HANFW_LEDGER
	IMG=$BATS_FILE_TMPDIR
	rm -f "$SBX"/*.log
	jq -r '.devices[] | select(.type == "ESME") | .eui' "$SBX/estate.json" > esmes
}

teardown() {
	stop_listen
	stop_servers
	campaign_teardown
}

# Chromium is a test dependency (scripts/bootstrap): only a developer's machine without it skips.
need_chromium() {
	command -v chromium > /dev/null && return 0
	[ -n "${CI:-}" ] && { echo "CI: chromium is missing (scripts/bootstrap installs it)"; return 1; }
	skip "chromium is not installed (scripts/bootstrap installs it)"
}

# render FILE: the page's DOM (dom.html), a screenshot (shot.png) and Chromium's log (console.log);
# fails when the page logged anything to the console: a script error, a blocked fetch, a CSP violation.
render() {
	local url="file://$(realpath "$1")" flags=(--headless --no-sandbox --disable-gpu --no-first-run
		--user-data-dir="$PWD/chromium-profile" --enable-logging=stderr --v=0 --window-size=1000,1400)
	rm -f dom.html shot.png console.log
	timeout 120 chromium "${flags[@]}" --dump-dom "$url" > dom.html 2> console.log
	timeout 120 chromium "${flags[@]}" --screenshot="$PWD/shot.png" "$url" > /dev/null 2>> console.log
	[ -s dom.html ] || { echo "no DOM"; return 1; }
	if grep ':CONSOLE' console.log; then echo "console output above"; return 1; fi
}

# colours PNG: the distinct colours of the screenshot's pixels, as hex, one per line (python3 and zlib only).
colours() {
	python3 - "$1" <<-'PY'
	import struct, sys, zlib
	data = open(sys.argv[1], 'rb').read()
	assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
	pos, idat, hdr = 8, b'', None
	while pos < len(data):
	    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
	    body = data[pos + 8:pos + 8 + n]
	    if kind == b'IHDR': hdr = struct.unpack('>IIBBBBB', body)
	    elif kind == b'IDAT': idat += body
	    pos += 12 + n
	w, h, depth, ctype, _, _, interlace = hdr
	assert depth == 8 and ctype in (2, 6) and interlace == 0, hdr
	bpp = 3 if ctype == 2 else 4
	raw, stride, prev, seen = zlib.decompress(idat), w * bpp, bytearray(w * bpp), set()
	for y in range(h):
	    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
	    for i in range(stride):
	        a = line[i - bpp] if i >= bpp else 0
	        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
	        if f == 1: line[i] = (line[i] + a) & 255
	        elif f == 2: line[i] = (line[i] + b) & 255
	        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
	        elif f == 4:
	            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
	            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
	    for x in range(0, stride, bpp): seen.add(bytes(line[x:x + 3]).hex())
	    prev = line
	print('\n'.join(sorted(seen)))
	PY
}

# The campaign: 12 ESMEs, some computing another hash, and one EUI the DCC does not know.
make_campaign() {
	start_listen
	start_sandbox --receive-url "$LISTEN_URL" --faults bad-hash=0.4
	hanfw -q distribute "$IMG/ESME.img" --devices esmes 00-DB-12-99-99-99-99-99 --campaign "$1" 2> /dev/null || [ $? = 8 ]
	until_status '(.states.verified + .states.hash_mismatch) == 12' --campaign "$1"
}

@test "campaign report --html: funnel per wave, states over time, failures and their devices; renders in Chromium, fetches nothing" {
	need_chromium
	name='ESME <b>"canary"</b> & co'
	make_campaign "$name"
	# The plan: a canary of two, the rest in wave 2, and three devices skipped with their reason.
	head -2 esmes | jq -R . | jq -s '{format: "hanfw-plan-1", waves: [{wave: 1, devices: length, requests: [{image: 0, service_reference: "11.1", devices: .}]}]}' > w1.json
	tail -n +3 esmes | jq -R . | jq -s '{wave: 2, devices: length, requests: [{image: 0, service_reference: "11.1", devices: .}]}' > w2.json
	jq --slurpfile w2 w2.json '.waves += $w2 | .skipped = [range(3) | {eui: "00-DB-12-20-00-00-00-0\(.)", reason: "smets1", facts: {}}]' w1.json > plan.json
	run -0 hanfw campaign report "$name" --html -o report.html --plan plan.json --max-devices 2
	[ -z "$output" ]
	# Self-contained: a policy that forbids every fetch, no script, no URL to load anything from, escaped names.
	grep -q "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';" report.html
	! grep -Eiq '(src|href|action|xlink:href)="?(https?:)?//' report.html
	! grep -qi '<script' report.html
	! grep -q '<b>' report.html
	grep -q 'ESME &lt;b&gt;&quot;canary&quot;&lt;/b&gt; &amp; co' report.html
	render report.html
	# The DOM Chromium built: the funnel per wave, the chart's series, the failures and who is behind them.
	grep -q '<svg id="states-chart"' dom.html
	[ "$(grep -o '<polygon' dom.html | wc -l)" -eq 5 ]
	grep -q '<td>1 (canary)</td><td>2</td>' dom.html
	grep -q '<td>2</td><td>10</td>' dom.html
	grep -q '<td>not in the plan</td><td>1</td>' dom.html
	grep -q '13 devices in the ledger: 0 at goal, [0-9]* failed, [0-9]* in progress; 12 in the plan&#39;s waves, 3 skipped by the plan' dom.html || \
		grep -q "13 devices in the ledger: 0 at goal, [0-9]* failed, [0-9]* in progress; 12 in the plan's waves, 3 skipped by the plan" dom.html
	mismatches=$(hanfw status --campaign "$name" --json | jq '.states.hash_mismatch')
	[ "$mismatches" -ge 1 ]
	grep -q "<td class=\"l\">device computed another hash</td><td>$mismatches</td>" dom.html
	grep -q '<td class="l">invalid</td><td>1</td><td class="devs">00-DB-12-99-99-99-99-99</td>' dom.html
	grep -q '<td class="l">smets1</td><td>3</td><td class="devs">00-DB-12-20-00-00-00-00, 00-DB-12-20-00-00-00-01 <span class="muted">and 1 more</span>' dom.html
	# The screenshot shows the chart: its failed (red) and verified (dark blue) areas, among many colours.
	[ -s shot.png ]
	colours shot.png > colours.txt
	[ "$(wc -l < colours.txt)" -gt 10 ]
	grep -qx c8453a colours.txt
	grep -qx 2c4f7c colours.txt
	# Standard output, and the same page.
	run -0 hanfw campaign report "$name" --html -o - --plan plan.json --max-devices 2
	[[ "$output" == "<!DOCTYPE html>"*'<svg id="states-chart"'*"</html>" ]]
}

@test "the render check fails on a page whose script throws, one that fetches, and a blank screenshot" {
	need_chromium
	printf '<!DOCTYPE html><html><body><svg><rect width="9" height="9"/></svg><script>throw new Error("boom")</script></body></html>' > throws.html
	run ! render throws.html
	[[ "$output" == *"Uncaught Error: boom"* ]]
	printf '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src %s"></head><body><img src="http://127.0.0.1:9/x.png"></body></html>' "'none'" > fetches.html
	run ! render fetches.html
	[[ "$output" == *"violates the following Content Security Policy"* ]]
	printf '<!DOCTYPE html><html><body></body></html>' > blank.html
	render blank.html
	[ "$(colours shot.png | wc -l)" -eq 1 ]
}

@test "campaign report refuses what it cannot report: no --html, unknown campaign, a file that is not a plan" {
	make_campaign c1
	run -2 --separate-stderr hanfw campaign report c1 -o r.html
	[[ "$stderr" == *"give --html and -o FILE"* ]]
	run -2 --separate-stderr hanfw campaign report c1 --html -o r.html --max-devices 0
	run -3 --separate-stderr hanfw campaign report nosuch --html -o r.html
	one_line_error
	[[ "$stderr" == *"campaign 'nosuch' has no devices in the ledger: nothing to report" ]]
	echo '{"format": "hanfw-plan-1"}' > p.json
	run -3 --separate-stderr hanfw campaign report c1 --html -o r.html --plan p.json
	one_line_error
	[[ "$stderr" == *"is not a hanfw-plan-1 plan"* ]]
	[ ! -e r.html ]
}

# A campaign driven by hanfw campaign run (the mixed sandbox of campaign-run.bats, 100,000 times faster):
# the page leads with the run's state and why, its funnel per wave with each gate, the run's reasons.
run_campaign() {
	[ -d "$BATS_FILE_TMPDIR/tpl" ] || mixed_sandbox_template "$BATS_FILE_TMPDIR/tpl"
	on_postgresql || unset HANFW_LEDGER	# on SQLite the sandbox profile's ledger (sbx/ledger.sqlite)
	mixed_sandbox_copy "$BATS_FILE_TMPDIR/tpl"
	campaign_servers 100000 "$1"
	shift
	run hanfw campaign run plan.json --poll-ms 50 --wave-timeout 120 "$@"
	hanfw campaign status plan --json > status.json || true
}

@test "campaign report of a run halted by its canary's gate: the state, the rule that breached, the wave's devices; renders" {
	need_chromium
	run_campaign bad-hash=1
	[ "$status" = 14 ]
	canary=$(jq -r '.waves[0].requests[].devices[]' plan.json)
	run -0 hanfw campaign report plan --html -o report.html
	render report.html
	grep -q '<svg id="states-chart"' dom.html
	[ "$(grep -o '<polygon' dom.html | wc -l)" -eq 5 ]
	grep -q '<p id="run-state">The run is <b class="state">halted</b>: <span id="run-reason">wave 1: 1 hash mismatches (rule: any hash mismatch halts the campaign)</span>' dom.html
	# The canary breached its gate; no later wave started; the plan's skips come from the run, no --plan.
	grep -q '<tr><td>1 (canary)</td><td>1</td><td>0</td><td>1</td><td>0</td><td>0</td><td>0</td><td class="l gate-breached">breached: wave 1: 1 hash mismatches' dom.html
	grep -q '<tr><td>2</td><td>[0-9]*</td><td>0</td><td>0</td><td>0</td><td>0</td><td>[0-9]* <span class="muted">(pending [0-9]*)</span></td><td class="l">not started</td></tr>' dom.html
	grep -q "<td>not in a wave</td><td>$(jq '.skipped | length' plan.json)</td>" dom.html
	grep -q "<table id=\"failures\"><tbody><tr><th>reason</th><th>devices</th><th>which</th></tr><tr><td class=\"l\">hash_mismatch</td><td>1</td><td class=\"devs\">$canary</td>" dom.html
	grep -q '<table id="skipped">' dom.html
	[ -s shot.png ]
	colours shot.png > colours.txt
	[ "$(wc -l < colours.txt)" -gt 10 ]
	validate "$BATS_TEST_DIRNAME/../../schemas/campaign-status.schema.json" status.json
}

@test "campaign report of a completed run: every gate passed, the devices that left with their reason; renders" {
	need_chromium
	run_campaign event=cos:0.3 --canary-success 100 --wave-success 100
	[ "$status" = 0 ]
	jq -e '.state == "completed" and .steps.left > 0' status.json
	run -0 hanfw campaign report plan --html -o report.html
	render report.html
	grep -q '<svg id="states-chart"' dom.html
	grep -q '<p id="run-state">The run is <b class="state">completed</b> (every wave ran and passed its gate)' dom.html
	# One row per wave, each gate passed, the counts the run's status gives.
	[ "$(grep -o '<td class="l gate-passed">passed</td>' dom.html | wc -l)" = "$(jq '.waves | length' status.json)" ]
	! grep -q 'gate-breached\|not started' dom.html
	grep -q "$(jq -r '"devices in the run: \(.steps.done) done, \(.steps.failed) failed, \(.steps.left) left the campaign, \(.steps.skipped) skipped by the plan, 0 in progress."' status.json)" dom.html
	# The devices that left, with their reason: all of them when no more than 20.
	left=$(jq '.steps.left' status.json)
	grep -q "<table id=\"left\"><tbody><tr><th>reason</th><th>devices</th><th>which</th></tr><tr><td class=\"l\">change_of_supplier</td><td>$left</td>" dom.html
	first=$(jq -r '[.devices[] | select(.step == "left") | .device] | sort | .[0]' status.json)
	grep -q "<td class=\"l\">change_of_supplier</td><td>$left</td><td class=\"devs\">$first" dom.html
	grep -q '<h2>Failure reasons</h2><p class="muted">None.</p>' dom.html
	validate "$BATS_TEST_DIRNAME/../../schemas/campaign-status.schema.json" status.json
}
