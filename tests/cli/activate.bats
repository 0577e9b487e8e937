#!/usr/bin/env bats
# hanfw activate (SR 11.3) end to end on the sandbox: transform, the pre-command
# check, GBCS signing, send; the devices' answers decoded with hanfw status decode.

load helpers

setup_file() {
	export SBX="$BATS_FILE_TMPDIR/sbx"
	# 250 ESMEs and 250 HCALCS on hubs of their own, 2 PPMIDs.
	"$HANFW" -q sandbox init "$SBX" --devices 'ESME=250;HCALCS=250;PPMID=2'
	package_images ESME:0 HCALCS:0x30 PPMID:0x84
}

setup() {
	setup_hanfw
	export HANFW_CONFIG="$SBX/hanfw.json" HANFW_LEDGER="$(test_ledger)"
	IMG=$BATS_FILE_TMPDIR
	rm -f "$SBX"/*.log
	jq -r '.devices[] | select(.type == "ESME") | .eui' "$SBX/estate.json" > esmes
	jq -r '.devices[] | select(.type == "HCALCS") | .eui' "$SBX/estate.json" > hcalcs
}

teardown() {
	stop_servers
}

# decoded FILE...: one JSON object per line for every 11.3 answer received.
decoded() {
	grep -l '<sr:ServiceReference>11.3</sr:ServiceReference>' rx/*.xml | xargs "$HANFW" status decode | jq -c '.[]'
}

# distribute_all: both images to their devices, then wait for every device's 8F72.
distribute_all() {
	hanfw -q distribute "$IMG/ESME.img" --devices esmes
	hanfw -q distribute "$IMG/HCALCS.img" --devices hcalcs
	wait_count 500 DeviceAlertMessage 8F72
}

@test "500 ESMEs and HCALCS: immediate activation succeeds on every one and reports the new version" {
	start_receiver
	start_sandbox --receive-url "$RX_URL"
	distribute_all
	run -0 hanfw activate --devices esmes --image "$IMG/ESME.img" --json
	[ "$(jq .outcomes.sent <<< "$output")" -eq 250 ]
	run -0 hanfw activate --devices hcalcs --image "$IMG/HCALCS.img" --max-in-flight 16
	[[ "$output" == *"500"* || "$output" == *"250 devices: 250 sent"* ]]
	wait_count 500 GBCSPayload '<sr:ServiceReference>11.3</sr:ServiceReference>'
	decoded > answers
	# Every device answered for itself, signed, with CS06 success and the new version.
	[ "$(jq -r 'select(.message.GBCSPayload.content.outcome == "success" and
		.message.GBCSPayload.content.firmware_version == "01020304") | .message.GBCSPayload.originator' answers | sort -u | wc -l)" -eq 500 ]
	diff <(jq -r '.message.GBCSPayload.originator' answers | sort) <(sort esmes hcalcs)
	# The answer carries the request's counter; the ledger has every step of every request.
	[ "$(jq -r 'select((.request_id | split(":")[2]) == (.message.GBCSPayload.originator_counter | tostring)) | 1' answers | wc -l)" -eq 500 ]
	[ "$(ledger_sql "SELECT count(*) FROM requests WHERE service_reference='11.3' AND state='sent'")" -eq 500 ]
	[ "$(ledger_sql "SELECT count(DISTINCT request_id) FROM request_steps WHERE state='precommand_signed'")" -eq 500 ]
	# The answers are DUIS as the DCC's schema has it, signed as xmlsec1 checks.
	for f in $(grep -l '<sr:ServiceReference>11.3</sr:ServiceReference>' rx/*.xml | sed -n '1p;250p;500p'); do
		xmllint --noout --schema "$SHARED/dcc/duis-5.4/DUIS-Schema-V5.4.xsd" <(sed 's:<ds\:Signature.*</ds\:Signature>::' "$f") 2>/dev/null
		xmlsec1 --verify --pubkey-cert-pem "$SBX/pki/dcc-xml.pem" "$f" 2>/dev/null
	done
	# The device's own signature on its CS06 response, checked by openssl with the device's certificate.
	payload=$(sed -n 's:.*<sr\:GBCSPayload>\(.*\)</sr\:GBCSPayload>.*:\1:p' "$f")
	read -r originator _ < <(python3 "$BATS_TEST_DIRNAME/../tools/gbcs_sig.py" "$payload" .)
	openssl x509 -in "$SBX/devices/$originator-ds.pem" -pubkey -noout > pub.pem
	openssl dgst -sha256 -verify pub.pem -signature sig.der tbs.bin
	# The sandbox did what the answers say.
	[ "$(grep -c '"event":"activated","detail":"01020304"' "$SBX/events.log")" -eq 500 ]

	# A hash the devices do not hold: sent, and every device answers hashMismatch.
	rm -f rx/*.xml
	run -0 hanfw activate --devices esmes --hash "$(printf 'ab%.0s' $(seq 32))" -q
	wait_count 250 GBCSPayload '<sr:ServiceReference>11.3</sr:ServiceReference>'
	decoded > mismatch
	[ "$(jq -r 'select(.message.GBCSPayload.content.outcome == "hashMismatch") | .message.GBCSPayload.originator' mismatch | sort -u | wc -l)" -eq 250 ]
	[ "$(jq -r '.message.GBCSPayload.content.firmware_version' mismatch | sort -u)" = "01020304" ]
}

# sim_in SECONDS: a DUIS time that far ahead in the sandbox's simulated time (scale 1000).
sim_in() {
	local start=$(cat started) now=$(date +%s.%N)
	date -u -d "@$(echo "$start + ($now - $start) * 1000 + $1" | bc)" +%Y-%m-%dT%H:%M:%SZ
}

@test "future-dated: 8F66 at the time (8F67 without the image); future-dated then cancelled: no activation" {
	start_receiver
	date +%s.%N > started
	start_sandbox --receive-url "$RX_URL" --time-scale 1000
	head -20 hcalcs > later
	sed -n 21,40p hcalcs > never
	sed -n 41,45p hcalcs > empty	# hold no image: their future activation fails
	hanfw -q distribute "$IMG/HCALCS.img" --devices later
	hanfw -q distribute "$IMG/HCALCS.img" --devices never
	wait_count 40 DeviceAlertMessage 8F72
	at=$(sim_in 3600)
	run -0 hanfw activate --devices later --image "$IMG/HCALCS.img" --at "$at"
	run -0 hanfw activate --devices never --image "$IMG/HCALCS.img" --at "$at"
	run -0 hanfw activate --devices never --image "$IMG/HCALCS.img" --cancel
	run -0 hanfw activate --devices empty --image "$IMG/HCALCS.img" --at "$at"
	# At scale 1000 the hour passes in 3.6 s: 25 alerts come, none for the cancelled.
	wait_count 25 FutureDatedDeviceAlertMessage
	sleep 1
	decoded > answers
	# Devices with no image report failure: 8F67, noImageHeld.
	failed=$(jq -c 'select(.message.FutureDatedDeviceAlertMessage.FutureDatedAlertCode == "8F67")' answers)
	[ "$(jq -r '.message.FutureDatedDeviceAlertMessage.GBCSPayload.originator' <<< "$failed" | sort)" = "$(sort empty)" ]
	[ "$(jq -r '.message.FutureDatedDeviceAlertMessage.GBCSPayload.content.execution_outcome.outcome' <<< "$failed" | sort -u)" = noImageHeld ]
	alerts=$(jq -c 'select(.message.FutureDatedDeviceAlertMessage.FutureDatedAlertCode == "8F66")' answers)
	[ "$(jq -r '.message.FutureDatedDeviceAlertMessage.GBCSPayload.originator' <<< "$alerts" | sort)" = "$(sort later)" ]
	gen=$(date -u -d "$at" +%Y%m%d%H%M%SZ)
	[ "$(jq -r '.message.FutureDatedDeviceAlertMessage | [.FutureDatedAlertCode, .GBCSPayload.content.execution_datetime,
		.GBCSPayload.content.execution_outcome.outcome] | join(" ")' <<< "$alerts" | sort -u)" = "8F66 $gen success" ]
	f=$(grep -l FutureDatedDeviceAlertMessage rx/*.xml | head -1)
	xmllint --noout --schema "$SHARED/dcc/duis-5.4/DUIS-Schema-V5.4.xsd" <(sed 's:<ds\:Signature.*</ds\:Signature>::' "$f") 2>/dev/null
	xmlsec1 --verify --pubkey-cert-pem "$SBX/pki/dcc-xml.pem" "$f" 2>/dev/null
	# Each alert names the counter of the 11.3 it reports on.
	[ "$(jq -r 'select((.request_id | split(":")[2]) == (.message.FutureDatedDeviceAlertMessage.GBCSPayload.content.originator_counter | tostring)) | 1' <<< "$alerts" | wc -l)" -eq 20 ]
	# Fired at the time, not before.
	at_ms=$(( $(date -u -d "$at" +%s) * 1000 ))
	[ "$(jq -r --argjson t "$at_ms" 'select(.event == "activated" and .at < $t) | 1' "$SBX/events.log" | wc -l)" -eq 0 ]
	[ "$(grep -c '"event":"activated"' "$SBX/events.log")" -eq 20 ]
	[ "$(grep -c '"event":"activation-failed","detail":"noImageHeld"' "$SBX/events.log")" -eq 5 ]
	[ "$(grep -c '"event":"cancelled"' "$SBX/events.log")" -eq 20 ]
	for d in $(cat never); do ! grep -q "\"device\":\"$d\",[^}]*\"event\":\"activated\"" "$SBX/events.log"; done
	# Both answers to the cancel and the future-dated request were "accepted" (NULL).
	[ "$(jq -r 'select(.message.GBCSPayload.content.outcome == "accepted") | 1' answers | wc -l)" -eq 65 ]
}

@test "every kind of tampered pre-command is refused and never signed" {
	head -3 esmes > three
	for kind in hash recipient counter code time; do
		rm -f "$SBX/received.log"
		start_sandbox --faults "tamper=$kind"
		run -4 hanfw activate --devices three --hash "$(printf 'cd%.0s' $(seq 32))" --json
		[ "$(jq .outcomes.precommand_refused <<< "$output")" -eq 3 ]
		case $kind in
			hash) want="another image" ;; recipient) want="recipient is" ;; counter) want="counter is" ;;
			code) want="message code is 0x0013" ;; time) want="execution time is" ;;
		esac
		[ "$(jq -r --arg w "$want" '.results[] | select(.detail | contains($w)) | .outcome' <<< "$output" | sort -u)" = precommand_refused ]
		# Transforms reached the sandbox; no signed pre-command did.
		[ "$(grep -c '"cv":4' "$SBX/received.log")" -eq 3 ]
		! grep -q '"cv":5' "$SBX/received.log"
		[ "$(ledger_sql "SELECT count(*) FROM request_steps WHERE state='precommand_signed'")" -eq 0 ]
		stop_servers
	done
}

@test "--rate and --max-in-flight hold at the sandbox" {
	start_sandbox
	head -60 esmes > sixty
	run -0 hanfw activate --devices sixty --hash "$(printf '01%.0s' $(seq 32))" --rate 30 -q
	# Transforms per second as the sandbox received them: never more than the rate (one more for jitter).
	max=$(jq -r 'select(.cv == 4) | (.t / 1000 | floor)' "$SBX/received.log" | uniq -c | sort -n | tail -1 | awk '{print $1}')
	[ "$max" -le 31 ]
	first=$(jq -s 'map(select(.cv == 4)) | (.[-1].t - .[0].t)' "$SBX/received.log")
	[ "$first" -ge 1900 ]	# 60 starts 1/30 s apart
	: > "$SBX/received.log"
	run -0 hanfw activate --devices esmes --hash "$(printf '02%.0s' $(seq 32))" --max-in-flight 1 -q
	[ "$(jq -s 'map(.busy) | max' "$SBX/received.log")" -eq 1 ]
	: > "$SBX/received.log"
	run -0 hanfw activate --devices esmes --hash "$(printf '03%.0s' $(seq 32))" --max-in-flight 4 -q
	busy=$(jq -s 'map(.busy) | max' "$SBX/received.log")
	[ "$busy" -le 4 ] && [ "$busy" -ge 2 ]
}

@test "what cannot be activated is refused before anything is sent" {
	start_sandbox
	ppmid=$(jq -r '.devices[] | select(.type == "PPMID") | .eui' "$SBX/estate.json" | head -1)
	esme=$(head -1 esmes)
	run -3 --separate-stderr hanfw activate "$ppmid" --hash "$(printf 'ab%.0s' $(seq 32))" --estate "$SBX/estate.json"
	one_line_error
	[[ "$stderr" == *"is a PPMID, which activates its firmware itself"* ]]
	run -3 --separate-stderr hanfw activate "$esme" --image "$IMG/PPMID.img"
	[[ "$stderr" == *"PPMID image: the device activates it itself"* ]]
	printf '%s HCALCS\n' "$esme" > typed
	run -3 --separate-stderr hanfw activate --devices typed --image "$IMG/ESME.img"
	[[ "$stderr" == *"is a HCALCS, but"*"is a ESME image"* ]]
	run -2 --separate-stderr hanfw activate "$esme" --hash abc
	[[ "$stderr" == *"not 64 hexadecimal digits"* ]]
	run -2 --separate-stderr hanfw activate "$esme" --image "$IMG/ESME.img" --at 2001-01-01T00:00:00Z
	[[ "$stderr" == *"not in the future"* ]]
	run -2 --separate-stderr hanfw activate "$esme" --image "$IMG/ESME.img" --at 2030-01-15T09:00:00.5Z
	[[ "$stderr" == *"whole seconds"* ]]
	run -2 hanfw activate "$esme" --image "$IMG/ESME.img" --at 2030-01-15T09:00:00Z --cancel
	run -2 hanfw activate "$esme" --hash "$(printf 'ab%.0s' $(seq 32))" --image "$IMG/ESME.img"
	[ ! -s "$SBX/received.log" ]
	# The DCC's refusals: a device it does not know (E19), one SR 11.3 does not serve (E11).
	run -6 --separate-stderr hanfw activate 00-DB-12-FF-FF-FF-FF-FF "$ppmid" --hash "$(printf 'ab%.0s' $(seq 32))"
	[[ "$stderr" == *":00-DB-12-FF-FF-FF-FF-FF:"*"rejected E19"* ]]
	[[ "$stderr" == *"rejected E11"* ]]
}

@test "a device refused at distribution in the campaign is not sent SR 11.3, unless --include-refused" {
	start_sandbox
	ppmid=$(jq -r '.devices[] | select(.type == "PPMID") | .eui' "$SBX/estate.json" | head -1)
	esme=$(head -1 esmes)
	sent_to() { ledger_sql "SELECT count(*) FROM requests WHERE service_reference='11.3' AND target='$1'"; }
	# The ESME image to an ESME and a PPMID: the DCC lists the PPMID as not applicable.
	run -8 hanfw distribute "$IMG/ESME.img" "$esme" "$ppmid"
	[ "$(ledger_sql "SELECT outcome FROM request_devices WHERE device='$ppmid'")" = not_applicable ]
	run -8 --separate-stderr hanfw activate "$esme" "$ppmid" --image "$IMG/ESME.img"
	[ "$(grep -c "^hanfw: activate: " <<< "$stderr")" -eq 1 ]
	[[ "$stderr" == *"$ppmid: not sent: its distribution in campaign ESME-01020304 was refused (not_applicable, RequestID "*"); --include-refused sends it anyway"* ]]
	[[ "$output" == *"2 devices: 1 sent, 1 refused at distribution, "* ]]
	[ "$(sent_to "$esme")" -eq 1 ] && [ "$(sent_to "$ppmid")" -eq 0 ]
	# Only refused devices: nothing is sent at all; --json names them.
	run -8 hanfw activate "$ppmid" --image "$IMG/ESME.img" --json
	[ "$(jq -r '.refused_at_distribution[0] | .device + " " + (.reason | split(",")[0])' <<< "$output")" = "$ppmid not_applicable" ]
	[ "$(sent_to "$ppmid")" -eq 0 ]
	# Told to, it is sent (and the DCC answers for itself: SR 11.3 is not for a PPMID).
	run -6 --separate-stderr hanfw activate "$ppmid" --image "$IMG/ESME.img" --include-refused
	[[ "$stderr" == *"rejected E11"* ]]
	[ "$(sent_to "$ppmid")" -eq 1 ]
	# --json counts the refused device among the devices, as the summary line does.
	run -8 hanfw activate "$esme" "$ppmid" --image "$IMG/ESME.img" --json
	[ "$(jq -r '[.devices, .outcomes.sent, .outcomes.refused_at_distribution, (.results | length)] | join(" ")' <<< "$output")" = "2 1 1 1" ]
}

@test "--dry-run signs the transform requests, in DUIS the DCC's schema accepts, and sends nothing" {
	head -3 esmes > three
	run -0 hanfw activate --devices three --image "$IMG/ESME.img" --at 2030-01-15T09:00:00Z --dry-run -o out
	[ "$(ls out | wc -l)" -eq 3 ]
	for f in out/*.xml; do
		xmlsec1 --verify --pubkey-cert-pem "$SBX/pki/supplier-xml.pem" "$f" 2>/dev/null
		xmllint --noout --schema "$SHARED/dcc/duis-5.4/DUIS-Schema-V5.4.xsd" \
			<(sed 's/<ds:Signature.*<\/ds:Signature>//' "$f") 2>/dev/null
		grep -q '<sr:ExecutionDateTime>2030-01-15T09:00:00Z</sr:ExecutionDateTime>' "$f"
		grep -q '<sr:CommandVariant>4</sr:CommandVariant>' "$f"
	done
	[ "$(ledger_sql "SELECT count(*) FROM requests WHERE state='dry-run'")" -eq 3 ]
	[ ! -s "$SBX/received.log" ]
}

@test "activate and read-version name each failed device by EUI and reason: with -q on stderr, in --json's failed" {
	start_sandbox
	ppmid=$(jq -r '.devices[] | select(.type == "PPMID") | .eui' "$SBX/estate.json" | head -1)
	run -6 --separate-stderr hanfw -q activate 00-DB-12-FF-FF-FF-FF-FF "$ppmid" --hash "$(printf 'ab%.0s' $(seq 32))"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ "$stderr" == *"hanfw: activate: 00-DB-12-FF-FF-FF-FF-FF: RequestID "*":00-DB-12-FF-FF-FF-FF-FF:"*": rejected E19"* ]]
	[[ "$stderr" == *"hanfw: activate: $ppmid: RequestID "*": rejected E11"* ]]
	run -6 hanfw activate 00-DB-12-FF-FF-FF-FF-FF "$ppmid" --hash "$(printf 'ab%.0s' $(seq 32))" --json
	validate_schema devices <<< "$output"
	[ "$(jq -r '.failed | length' <<< "$output")" -eq 2 ]
	jq -e '.failed[] | select(.device == "00-DB-12-FF-FF-FF-FF-FF" and .reason == "rejected" and .response_code == "E19")' <<< "$output"
	jq -e --arg d "$ppmid" '.failed[] | select(.device == $d and .reason == "rejected" and .response_code == "E11")' <<< "$output"
	run -6 --separate-stderr hanfw -q read-version 00-DB-12-FF-FF-FF-FF-FF "$(head -1 esmes)"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "hanfw: read-version: 00-DB-12-FF-FF-FF-FF-FF: RequestID "*": rejected E19"* ]]
	run -6 hanfw read-version 00-DB-12-FF-FF-FF-FF-FF "$(head -1 esmes)" --json
	validate_schema devices <<< "$output"
	[ "$(jq -r '[.failed[] | .device + " " + .reason] | join(",")' <<< "$output")" = "00-DB-12-FF-FF-FF-FF-FF rejected" ]
}

@test "activate joins the campaign that distributed the image to those devices; devices of two such campaigns need --campaign" {
	start_sandbox
	read -r a b < <(head -2 esmes | paste -sd' ')
	hash=$(jq -r .manufacturer_image_sha256 "$IMG/ESME.img.json")
	# One image, two campaigns: A to the first ESME, B (later) to the second.
	hanfw -q distribute "$IMG/ESME.img" "$a" --campaign spring-A
	hanfw -q distribute "$IMG/ESME.img" "$b" --campaign spring-B
	# By FirmwareHash alone the later campaign (B) would take A's device.
	run -0 hanfw activate "$a" --hash "$hash" --dry-run -o outa --json
	[ "$(jq -r .campaign <<< "$output")" = spring-A ]
	run -0 hanfw activate "$b" --hash "$hash" --dry-run -o outb --json
	[ "$(jq -r .campaign <<< "$output")" = spring-B ]
	run -2 --separate-stderr hanfw activate "$a" "$b" --hash "$hash" --dry-run -o outab
	[ "$stderr" = "hanfw: devices $a and $b got this image in campaigns spring-A and spring-B: give --campaign" ]
	[ ! -e outab ] || [ -z "$(ls outab)" ]
	run -0 hanfw activate "$a" "$b" --hash "$hash" --dry-run -o outab --campaign spring-B --json
	[ "$(jq -r .campaign <<< "$output")" = spring-B ]
}
