#!/usr/bin/env bats
# hanfw campaign run and mid-campaign events (issue 14): the DCC alerts that a device changed
# supplier, was suspended, decommissioned or withdrawn, or that a PPMID was removed, take the device
# out of the campaign with that reason, whenever they come.  The sandbox (hanfw sandbox serve) sends
# them once a device's image reached its hub (--faults event=KIND:EUI); one that comes before the
# device's distribution is posted to hanfw listen here, signed with the sandbox DCC's XML key.
# All on 127.0.0.1, everything started is stopped.

load helpers

teardown() { campaign_teardown; }

setup_file() { mixed_sandbox_file; }

setup() { mixed_sandbox_test; }

# device_of WAVE TYPE: the plan's first device of that type in that wave.
device_of() {
	jq -r --argjson w "$1" --arg t "$2" '.inputs.images as $im | .waves[] | select(.wave == $w) | .requests[] |
		select($im[.image].device_type == $t) | .devices[]' plan.json | head -1
}

# dcc_alert FILE ELEMENT INNER: a DCC alert (DUIS 5.4 shape, as the sandbox words it) signed with the
# sandbox DCC's XML key, with a ResponseID of the DCC's own, its counter one no sandbox alert uses and
# another for each alert (the receiver keeps one message per ResponseID).
ALERTS=0
dcc_alert() {
	ALERTS=$((ALERTS + 1))
	local dcc user
	dcc=$(jq -r '.profiles.sandbox.dcc_eui' "$HANFW_CONFIG") user=$(jq -r '.profiles.sandbox.user_eui' "$HANFW_CONFIG")
	printf '%s' '<?xml version="1.0" encoding="UTF-8"?><sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4"><sr:Header><sr:ResponseID>'"$dcc:$user:999999999$ALERTS"'</sr:ResponseID><sr:ResponseCode>I0</sr:ResponseCode><sr:ResponseDateTime>2026-11-27T10:00:00.000Z</sr:ResponseDateTime></sr:Header><sr:Body><sr:DCCAlertMessage><sr:DCCAlertCode>N999</sr:DCCAlertCode><sr:DCCAlert><sr:'"$2"'>'"$3"'</sr:'"$2"'></sr:DCCAlert></sr:DCCAlertMessage></sr:Body></sr:Response>' > "$1.xml"
	xmlsec_sign "$1.xml" "$1" sbx/pki/dcc-xml.key sbx/pki/dcc-xml.pem
}

post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/xml' --data-binary "@$1" "$(cat rx.url)"; }

@test "campaign run: each mid-campaign event takes its device out (left, with the DCC's reason), before or during its distribution; nothing more is sent to it; the gates do not count it; it completes" {
	cos=$(device_of 2 ESME) suspended=$(device_of 3 GSME) decommissioned=$(device_of 3 ESME)
	withdrawn=$(device_of 4 HCALCS) ppmid=$(device_of 3 PPMID) first=$(device_of 3 ALTHAN-B1) early=$(device_of 4 GSME)
	done2=$(device_of 2 GSME)
	for d in "$cos" "$suspended" "$decommissioned" "$withdrawn" "$ppmid" "$first" "$early" "$done2"; do [ -n "$d" ]; done
	# The sandbox alerts each once its image reached its hub (during its distribution).
	campaign_servers 100000 "event=cos:$cos,event=suspended:$suspended,event=decommissioned:$decommissioned,event=withdrawn:$withdrawn,event=ppmid-removed:$ppmid"
	# Before anything is sent: a device of wave 3 is suspended.
	dcc_alert first.xml DeviceStatusChangeEvent "<sr:DeviceID>$first</sr:DeviceID><sr:DeviceStatusChange><sr:DeviceSuspended></sr:DeviceSuspended></sr:DeviceStatusChange>"
	[ "$(post first.xml)" = 204 ]
	gates=(--poll-ms 50 --wave-timeout 120 --canary-success 100 --wave-success 100)
	run -0 hanfw campaign run plan.json "${gates[@]}" --until wave-2
	[ "$(jq -r --arg d "$done2" 'select(.device == $d) | .event' sbx/events.log | tail -1)" = version-read ]
	# Mid-campaign, between waves: a change of supplier for a device of wave 4 (before its distribution),
	# and one for a device of wave 2 already done (after its activation and version read).
	dcc_alert early.xml ChangeOfSupplier "<sr:DeviceChangeOfSupplier><sr:DeviceID>$early</sr:DeviceID><sr:DeviceType>GSME</sr:DeviceType><sr:MPxNs><sr:ImportMPxN>0</sr:ImportMPxN></sr:MPxNs></sr:DeviceChangeOfSupplier>"
	[ "$(post early.xml)" = 204 ]
	dcc_alert done2.xml ChangeOfSupplier "<sr:DeviceChangeOfSupplier><sr:DeviceID>$done2</sr:DeviceID><sr:DeviceType>GSME</sr:DeviceType><sr:MPxNs><sr:ImportMPxN>0</sr:ImportMPxN></sr:MPxNs></sr:DeviceChangeOfSupplier>"
	[ "$(post done2.xml)" = 204 ]
	n2=$(grep -c -F "\"device\":\"$done2\"" sbx/events.log)
	run --separate-stderr hanfw campaign run plan.json "${gates[@]}"
	[ "$status" = 0 ] || { echo "$output $stderr" | tail -20; false; }
	[[ "$output" == "campaign plan: completed: "*" done, 0 failed, "* ]]
	# Each left with the DCC's words for it (DUIS has one element for a meter decommissioned or withdrawn;
	# a device other than a meter is removed from the inventory).
	hanfw campaign status plan --json > status.json
	validate "$BATS_TEST_DIRNAME/../../schemas/campaign-status.schema.json" status.json
	jq -r '.devices[] | select(.step == "left") | "\(.device) \(.reason)"' status.json | sort > got
	printf '%s\n' "$cos change_of_supplier" "$suspended suspended" "$decommissioned decommissioned_or_withdrawn" \
		"$withdrawn removed_from_inventory" "$ppmid ppmid_removed" "$first suspended" "$early change_of_supplier" | sort > want
	diff want got
	for d in $suspended $decommissioned $withdrawn $ppmid $first $early; do
		[[ "$stderr" == *"$d: left the campaign: "* ]]
	done
	# The device already done stays done (its image reached it), and nothing more was sent to it.
	[ "$(jq -r --arg d "$done2" '.devices[] | select(.device == $d) | .step' status.json)" = done ]
	[ "$(grep -c -F "\"device\":\"$done2\"" sbx/events.log)" = "$n2" ]
	# The gates did not count them: every other device of the plan at its goal, none failed.
	jq -e '.steps.left == 7 and .steps.failed == 0 and .reasons.change_of_supplier == 2 and .reasons.suspended == 2' status.json
	jq -e '[.devices[] | select(.step != "left" and .step != "skipped") | .step == "done"] | all' status.json
	jq -e '[.waves[] | .devices - (.left // 0) == (.done // 0)] | all' status.json
	# The devices that left before their distribution were never sent it: no request of the ledger names
	# them, and the sandbox never saw their image at their hub (nor anything else of them).
	for d in $first $early; do
		[ "$(ledger_sql "SELECT count(*) FROM request_devices WHERE device = '$d'")" = 0 ]
		run ! grep -F "\"device\":\"$d\"" sbx/events.log
	done
	# The others: the sandbox saw nothing of them after they left (no transfer, activation or read), and
	# no request of the ledger for them was made after the event, nor any request naming one as target.
	for d in $cos $suspended $decommissioned $withdrawn $ppmid; do
		jq -r --arg d "$d" 'select(.device == $d) | .event' sbx/events.log > ev
		[ "$(tail -1 ev)" = left ]
		[ "$(grep -c -x left ev)" = 1 ]
		run ! grep -F ":$d:" <(jq -r .request sbx/received.log)
	done
	# Nothing was made for a device after it left; run again, nothing more is sent.
	left_devices_sent_nothing_more
	no_counter_twice
	no_step_twice
	# The report lists them under the devices that left, with their reasons.
	run -0 hanfw campaign report plan --html -o report.html
	python3 -c 'import re, sys; print(re.search(r"<table id=\"left\">.*?</table>", open(sys.argv[1]).read(), re.S).group(0))' \
		report.html > left.html
	for d in $cos $suspended $decommissioned $withdrawn $ppmid $first $early; do
		grep -qF "$d" left.html
	done
	run ! grep -qF "$done2" left.html
	for r in change_of_supplier suspended decommissioned_or_withdrawn removed_from_inventory ppmid_removed; do
		grep -qF "$r" left.html
	done
}
