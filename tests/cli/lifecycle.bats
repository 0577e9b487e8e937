#!/usr/bin/env bats
# The sandbox's asynchronous side: device and hub lifecycles, alerts POSTed to a
# receive URL (tests/tools/receiver.py until hanfw listen exists), and seeded faults.

load helpers

setup_file() {
	export SBX="$BATS_FILE_TMPDIR/sbx"
	# Groups: 0 PPMIDs, 1 HCALCS, 2 a PPMID and an HCALCS sharing each hub, 3 ESMEs, 4 a gas meter and a PPMID.
	"$HANFW" -q sandbox init "$SBX" --devices 'PPMID=1000;HCALCS=200;PPMID=2,HCALCS=2;ESME=2;GSME=1,PPMID=1'
	local mi="$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin"
	package_images PPMID:0x84 HCALCS:0x30 ESME:0 GSME:0x20
	"$HANFW" -q package build "$mi" -o "$BATS_FILE_TMPDIR/hw.img" --device-type HCALCS --manufacturer-code 0x121D \
		--image-type 0x30 --file-version 0x01020305 --hw-min 0x2000 --hw-max 0x2FFF --config "$SBX/hanfw.json"
}

setup() {
	setup_hanfw
	export HANFW_CONFIG="$SBX/hanfw.json" HANFW_LEDGER="$(test_ledger)"
	IMG=$BATS_FILE_TMPDIR
	rm -f "$SBX"/*.log
}

teardown() {
	stop_servers
}

@test "1,000 PPMIDs and 200 HCALCS: every alert reaches the receiver and verifies" {
	start_receiver
	start_sandbox --receive-url "$RX_URL"
	eui_of PPMID 40-00 > ppmids
	eui_of HCALCS 30-01 > hcalcs
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	hanfw -q distribute "$IMG/HCALCS.img" --devices hcalcs
	# Per device: delivery to the hub, the hub's transfer alert, then the PPMID's activation or the HCALCS's 8F72.
	wait_for 3600
	sleep 0.5
	[ "$(ls rx | grep -c '\.xml$')" = 3600 ]
	run -0 hanfw -q verify rx/*.xml
	[ "$(count CSPFirmwareDeliveryStatus '>Success<')" = 1200 ]
	[ "$(count FirmwareTransferAlert '>FileTransferSuccess<')" = 1200 ]
	[ "$(count PPMIDFirmwareUpgradeAlert '>ActivationSuccess<')" = 1000 ]
	[ "$(count DeviceAlertMessage '>8F72<')" = 200 ]
	# They name the requests hanfw recorded, and validate against the DCC's own schema once unsigned.
	ppmid_rid=$(ledger_sql "select request_id from requests where service_reference='11.4'")
	[ "$(count FirmwareTransferAlert ">$ppmid_rid<")" = 1000 ]
	for f in $(grep -l -e DCCAlertMessage -e DeviceAlertMessage rx/*.xml | sed -n '1p;500p;1000p;2000p;3000p;3600p'); do
		sed 's:<ds\:Signature.*</ds\:Signature>::' "$f" > unsigned.xml
		xmllint --noout --schema "$SHARED/dcc/duis-5.4/DUIS-Schema-V5.4.xsd" unsigned.xml
		xmlsec1 --verify --pubkey-cert-pem "$SBX/pki/dcc-xml.pem" "$f" 2>/dev/null
	done
	# The sandbox's own account agrees: every device transferred, nothing left undelivered.
	[ "$(grep -c '"event":"transferred"' "$SBX/events.log")" = 1200 ]
	kill "$SERVE_PID"; wait "$SERVE_PID" || true; SERVE_PID=
	! grep -q '"result":"abandoned"' "$SBX/deliveries.log"
}

@test "an HCALCS's 8F72 alert carries the image's hash, signed by the device's own key (openssl)" {
	start_receiver
	start_sandbox --receive-url "$RX_URL"
	dev=$(eui_of HCALCS 30-01 | head -1)
	hanfw -q distribute "$IMG/HCALCS.img" "$dev"
	wait_for 3
	f=$(grep -l '<sr:AlertCode>8F72<' rx/*.xml)
	payload=$(sed -n 's:.*<sr\:GBCSPayload>\(.*\)</sr\:GBCSPayload>.*:\1:p' "$f")
	read -r originator hash < <(python3 "$BATS_TEST_DIRNAME/../tools/gbcs_sig.py" "$payload" .)
	[ "$originator" = "$(tr -d '-' <<<"${dev,,}")" ]
	[ "$hash" = "$(jq -r .manufacturer_image_sha256 "$IMG/HCALCS.img.json")" ]
	openssl x509 -in "$SBX/devices/$originator-ds.pem" -pubkey -noout > pub.pem
	openssl dgst -sha256 -verify pub.pem -signature sig.der tbs.bin
	# GBZ form (message code 0x00CF), addressed to the supplier.
	base64 -d <<<"$payload" | xxd -p | tr -d '\n' | grep -q '^df0903.\{16\}0800db1230.\{8\}0890b3d51f30010000000200cf'
}

@test "PPMID and HCALCS images on one hub: the older is discarded; a gas meter's image keeps the slot" {
	start_receiver
	# Slower time here: the second image must reach the hubs while the first is still being transferred.
	start_sandbox --receive-url "$RX_URL" --time-scale 100
	eui_of PPMID 40-02 > ppmids
	eui_of HCALCS 30-02 > hcalcs
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	hanfw -q distribute "$IMG/HCALCS.img" --devices hcalcs
	hanfw -q distribute "$IMG/GSME.img" "$(eui_of GSME 20-04)"
	hanfw -q distribute "$IMG/PPMID.img" "$(eui_of PPMID 40-04)"
	# PPMIDs sharing a hub with HCALCS: delivered to the hub, then discarded; the HCALCS: transferred, verified.
	wait_count 2 DeviceAlertMessage '>8F72<'
	wait_count 3 FirmwareTransferAlert '>FirmwareImageDiscarded<'
	for d in $(cat ppmids) "$(eui_of PPMID 40-04)"; do
		grep -l '>FirmwareImageDiscarded<' rx/*.xml | xargs grep -q "<sr:OtherDeviceID>$d<"
	done
	grep -l '>FirmwareImageDiscarded<' rx/*.xml | xargs grep -q '<sr:AlertCode>8F89<'
	[ "$(count FirmwareTransferAlert '>FileTransferSuccess<' | tee /dev/stderr)" -ge 2 ]
	grep -q '"event":"discarded","detail":"a gas meter.s image holds the hub.s slot"' "$SBX/events.log"
	[ "$(grep -c '"event":"discarded"' "$SBX/events.log")" = 3 ]
	! grep -q '"type":"PPMID".*"event":"activated"' "$SBX/events.log"
}

@test "a hardware-version range the device is outside of, and offline devices: mismatch, transfer failure" {
	start_receiver
	start_sandbox --receive-url "$RX_URL" --faults offline=1
	dev=$(eui_of HCALCS 30-01 | sed -n 5p)
	hanfw -q distribute "$IMG/HCALCS.img" "$dev"
	# Offline for the hub's six hours of retrying: failure, then the DCC gives up on the device.
	wait_for 3
	[ "$(count FirmwareTransferAlert '>FileTransferFailure<')" = 1 ]
	[ "$(count FirmwareDistributionFailure "<sr:MeterIDs>$dev<")" = 1 ]
	kill "$SERVE_PID"; wait "$SERVE_PID" || true
	rm -rf rx/*
	start_sandbox --receive-url "$RX_URL"
	hanfw -q distribute "$IMG/hw.img" "$dev"
	wait_for 2
	sleep 0.3
	[ "$(count FirmwareTransferAlert '>HardwareVersionMismatch<')" = 1 ]
	[ "$(count DeviceAlertMessage)" = 0 ]
	grep -q '"event":"hardware-mismatch","detail":"device hardware 0x1111, image 0x2000-0x2FFF"' "$SBX/events.log"
}

@test "drops, duplicates, reordering and a receive URL down for a while: every message still arrives" {
	start_receiver
	# Simulated ms: delays of up to 200 s, the URL down for the first 1,000 s (1 s here).
	start_sandbox --receive-url "$RX_URL" --time-scale 1000 --seed 7 \
		--faults drop=0.3,dup=0.3,reorder=0.3,delay=200000,rrs-down=1000000
	eui_of PPMID 40-00 | head -50 > ppmids
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	wait_for 150
	sleep 1
	# Each of the 150 distinct messages at least once; the extra ones are exact copies.
	[ "$(cat rx/*.xml | grep -o '<sr:ResponseID>[^<]*' | sort -u | wc -l)" = 150 ]
	[ "$(ls rx | grep -c '\.xml$')" -gt 150 ]
	[ "$(md5sum rx/*.xml | awk '{print $1}' | sort -u | wc -l)" = 150 ]
	grep -q '"result":"dropped"' "$SBX/deliveries.log"
	grep -q '"result":"down"' "$SBX/deliveries.log"
	grep -q '"copy":true,"result":"delivered"' "$SBX/deliveries.log"
	# Out of order: some message arrived before one queued earlier.
	awk -F'[:,]' '/"result":"delivered"/ && $2 < last { out = 1 } /"result":"delivered"/ { last = $2 } END { exit !out }' \
		"$SBX/deliveries.log"
}

@test "the same seed makes the same devices offline" {
	start_sandbox --faults offline=0.5 --seed 42
	eui_of PPMID 40-00 | head -40 > ppmids
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	for _ in $(seq 1 100); do [ "$(grep -c -e transfer-failed -e '"transferred"' "$SBX/events.log" 2>/dev/null)" = 40 ] && break; sleep 0.1; done
	grep transfer-failed "$SBX/events.log" | jq -r .device | sort > first
	[ -s first ] && [ "$(wc -l < first)" -lt 40 ]
	kill "$SERVE_PID"; wait "$SERVE_PID" || true
	rm -f "$SBX"/*.log
	reset_ledger
	start_sandbox --faults offline=0.5 --seed 42
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	for _ in $(seq 1 100); do [ "$(grep -c -e transfer-failed -e '"transferred"' "$SBX/events.log" 2>/dev/null)" = 40 ] && break; sleep 0.1; done
	diff first <(grep transfer-failed "$SBX/events.log" | jq -r .device | sort)
}

@test "chosen E-codes for chosen devices, 503s and slow replies" {
	dev=$(eui_of ESME 10-03 | head -1)
	start_sandbox --faults "ecode=$dev:E20"
	run -6 --separate-stderr hanfw distribute "$IMG/ESME.img" "$dev"
	[[ "$stderr" == *"E20"* ]]
	kill "$SERVE_PID"; wait "$SERVE_PID" || true
	start_sandbox --faults http503=1
	run -5 --separate-stderr hanfw distribute "$IMG/ESME.img" "$dev"
	[[ "$stderr" == *"HTTP 503"* ]]
	[ "$(ledger_sql "select state from requests order by counter desc limit 1")" != sent ]
	kill "$SERVE_PID"; wait "$SERVE_PID" || true
	start_sandbox --faults slow=300
	start=$(date +%s%N)
	hanfw -q distribute "$IMG/ESME.img" "$dev"
	[ $(( ($(date +%s%N) - start) / 1000000 )) -ge 300 ]
}

@test "an https receive URL requiring a client certificate: the sandbox delivers with its own" {
	start_receiver --tls-cert "$SBX/tls/server.pem" --tls-key "$SBX/tls/server.key" --client-ca "$SBX/tls/ca.pem"
	start_sandbox --receive-url "https://127.0.0.1:$(cat rx.port)/rrs"
	hanfw -q distribute "$IMG/PPMID.img" "$(eui_of PPMID 40-00 | head -1)"
	wait_for 3
	run -0 hanfw -q verify rx/*.xml
	! grep -q '"result":"failed"' "$SBX/deliveries.log"
}

@test "bad fault specs, seeds and time scales are usage errors with one line" {
	run -2 --separate-stderr hanfw sandbox serve --dir "$SBX" --faults drop=2
	one_line_error
	[[ "$stderr" == *"fault 'drop=2': give a probability from 0 to 1"* ]]
	run -2 --separate-stderr hanfw sandbox serve --dir "$SBX" --faults explode=1
	one_line_error
	[[ "$stderr" == *"unknown fault 'explode'"* ]]
	run -2 --separate-stderr hanfw sandbox serve --dir "$SBX" --faults ecode=00-DB:E20
	one_line_error
	run -2 --separate-stderr hanfw sandbox serve --dir "$SBX" --time-scale 0.5
	one_line_error
	run -2 --separate-stderr hanfw sandbox serve --dir "$SBX" --seed -1
	one_line_error
	run -2 --separate-stderr hanfw sandbox serve --dir "$SBX" --receive-url ftp://x
	one_line_error
}
