#!/usr/bin/env bats
# hanfw listen, status and read-version end to end on the sandbox: every
# message verified, decoded and stored once before it is acknowledged, the
# campaign's state per device, hostile messages quarantined.

load helpers

setup_file() {
	export SBX="$BATS_FILE_TMPDIR/sbx"
	"$HANFW" -q sandbox init "$SBX" --devices 'ESME=30;HCALCS=10;PPMID=20'
	package_images ESME:0 HCALCS:0x30 PPMID:0x84
}

setup() {
	setup_hanfw
	export HANFW_CONFIG="$SBX/hanfw.json" HANFW_LEDGER="$(test_ledger)"
	IMG=$BATS_FILE_TMPDIR
	rm -f "$SBX"/*.log
	for t in ESME HCALCS PPMID; do jq -r --arg t $t '.devices[] | select(.type == $t) | .eui' "$SBX/estate.json" > ${t,,}s; done
}

teardown() {
	stop_listen
	stop_servers
}

db() { ledger_sql "$1"; }

# raw_message FILE WHERE: the raw bytes of the first message WHERE, into FILE (hex: a BLOB in SQLite, BYTEA in PostgreSQL).
raw_message() {
	if on_postgresql; then db "SELECT encode(raw, 'hex') FROM messages WHERE $2 LIMIT 1"
	else db "SELECT hex(raw) FROM messages WHERE $2 LIMIT 1"; fi | xxd -r -p > "$1"
	[ -s "$1" ]
}


@test "a campaign through hanfw listen: distributed, verified, activated, versions confirmed; status says so" {
	start_listen
	start_sandbox --receive-url "$LISTEN_URL"
	hanfw -q distribute "$IMG/ESME.img" --devices esmes
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	hanfw -q distribute "$IMG/HCALCS.img" --devices hcalcss
	# Meters and HCALCS verify the image (8F72 with the image's hash); PPMIDs activate themselves.
	until_status '.states.verified == 30' --campaign ESME-01020304
	until_status '.states.activated == 20' --campaign PPMID-01020304
	until_status '.states.verified == 10' --campaign HCALCS-01020304
	run -8 hanfw status --campaign ESME-01020304
	[[ "$output" == *"campaign ESME-01020304: 30 devices, 0 at goal"* ]]
	hanfw -q activate --devices esmes --image "$IMG/ESME.img"
	until_status '.states.activated == 30' --campaign ESME-01020304
	run -0 hanfw status --campaign ESME-01020304
	# Versions read back: the activated devices run the campaign's version, the HCALCS (not activated) do not.
	hanfw -q read-version --devices esmes
	hanfw -q read-version --devices ppmids
	hanfw -q read-version --devices hcalcss
	until_status '.states.version_confirmed == 50'
	until_status '.states.version_mismatch == 10' --campaign HCALCS-01020304
	run -0 hanfw status --campaign ESME-01020304 --json
	validate_status <<< "$output"
	[ "$(jq -r '.device_states[0] | [.state, (.distribution_request | split(":")[1]), (.activation_request != null)] | join(" ")' <<< "$output")" = \
		"version_confirmed 90-B3-D5-1F-30-00-00-02 true" ]
	run -8 --separate-stderr hanfw status --campaign HCALCS-01020304
	[[ "$output" == *"version_mismatch"* ]]
	# --fail-on: only those states fail the run.
	run -0 hanfw status --campaign HCALCS-01020304 --fail-on hash_mismatch,activation_failed
	run -8 hanfw status --campaign HCALCS-01020304 --fail-on version_mismatch
	run -2 --separate-stderr hanfw status --fail-on nonsense
	[[ "$stderr" == *"'nonsense' is not a state"* ]]
	run -0 hanfw status --device "$(head -1 ppmids)" --json
	[ "$(jq -r '.devices, .device_states[0].state' <<< "$output" | tr '\n' ' ')" = "1 version_confirmed " ]
	# Everything stored once, nothing quarantined; the sandbox's deliveries all acknowledged.
	[ "$(db 'SELECT count(*) FROM quarantine')" = 0 ]
	[ "$(db 'SELECT count(*) FROM messages')" = "$(grep -c '"result":"delivered"' "$SBX/deliveries.log")" ]
}

@test "duplicates, reordering, drops, and the receiver killed -9 mid-campaign: nothing lost, nothing counted twice" {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	start_listen "$port"
	start_sandbox --receive-url "$LISTEN_URL" --faults dup=0.2,reorder=0.2,drop=0.2 --seed 7 --time-scale 20000
	hanfw -q distribute "$IMG/ESME.img" --devices esmes
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	for _ in $(seq 1 100); do [ "$(db 'SELECT count(*) FROM messages' 2>/dev/null || echo 0)" -ge 30 ] && break; sleep 0.05; done
	kill -9 "$LISTEN_PID"; wait "$LISTEN_PID" 2>/dev/null || true; LISTEN_PID=
	sleep 1
	start_listen "$port"	# the sandbox has been retrying meanwhile
	until_status '.states.verified == 30' --campaign ESME-01020304
	until_status '.states.activated == 20' --campaign PPMID-01020304
	hanfw -q activate --devices esmes --image "$IMG/ESME.img"
	until_status '.states.activated == 30' --campaign ESME-01020304
	sleep 2	# late duplicates
	# Every POST acknowledged is a stored message or a counted duplicate; a few more were stored
	# whose acknowledgement the kill cut off (the sandbox sent them again: duplicates too).
	delivered=$(grep -c '"result":"delivered"' "$SBX/deliveries.log")
	seen=$(db 'SELECT count(*) + sum(duplicates) FROM messages')
	[ "$seen" -ge "$delivered" ] && [ "$seen" -le $((delivered + 2)) ]	# the sandbox has two delivery threads
	# Each message the sandbox sent is stored exactly once.
	[ "$(db 'SELECT count(*) FROM messages')" = "$(jq -r 'select(.result == "delivered") | .serial' "$SBX/deliveries.log" | sort -u | wc -l)" ]
	[ "$(db 'SELECT count(*) FROM messages WHERE duplicates > 0')" -gt 0 ]
	[ "$(db 'SELECT count(*) FROM quarantine')" = 0 ]
	# The final state of every device is what the sandbox says it did.
	diff <(grep '"event":"activated"' "$SBX/events.log" | jq -r .device | sort -u) \
		<(hanfw status --json | jq -r '.device_states[] | select(.state == "activated") | .device' | sort)
}

@test "hostile POSTs are refused, quarantined, and change no device's state" {
	start_listen
	start_sandbox --receive-url "$LISTEN_URL"
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	until_status '.states.activated == 20'
	raw_message good.xml "kind = 'DCCAlertMessage/PPMIDAlert'"
	before=$(hanfw status --json | jq -c .states)
	messages=$(db 'SELECT count(*) FROM messages')
	post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/xml' --data-binary "@$1" "$LISTEN_URL"; }
	sed 's:<ds\:Signature.*</ds\:Signature>::' good.xml > unsigned.xml
	sed 's:ActivationSuccess:ActivationFailure:' good.xml > tampered.xml
	printf '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway">&x;</sr:Response>' > xxe.xml
	printf '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><r>&c;</r>' > bomb.xml
	printf '<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"><sr:Header>' > truncated.xml
	printf '<hello/>' > other.xml
	# Signed, but by the supplier, whom the receiver does not trust for DCC messages.
	hanfw sign --new-counter "$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML" -o stranger.xml 2>/dev/null
	head -c 3000000 /dev/zero | tr '\0' 'A' > big.xml
	for f in unsigned tampered xxe bomb truncated other stranger; do
		[ "$(post $f.xml)" = 400 ] || { echo "$f not refused"; return 1; }
	done
	[ "$(post big.xml)" = 413 ]
	# Each is kept, raw, with why; nothing else changed.
	[ "$(db 'SELECT count(*) FROM quarantine')" = 8 ]
	db "SELECT reason FROM quarantine" > reasons
	grep -q 'not signed' reasons
	grep -qi 'digest\|signature' reasons
	grep -qi 'larger than the limit' reasons
	[ "$(db "SELECT size FROM quarantine WHERE reason LIKE '%larger%'")" = 3000000 ]
	[ "$(db "SELECT length(raw) FROM quarantine WHERE reason LIKE '%larger%'")" = 4096 ]
	[ "$(db 'SELECT count(*) FROM messages')" = "$messages" ]
	[ "$(hanfw status --json | jq -c .states)" = "$before" ]
	# The good one again is a duplicate, not a new message.
	[ "$(post good.xml)" = 204 ]
	[ "$(db 'SELECT sum(duplicates) FROM messages')" -ge 1 ]
}

@test "status decode and listen read the same DCC Boxed sample" {
	run -0 hanfw status decode --trust "$SHARED/dcc/zaz1" "$SHARED/dcc/samples/11.2_readfw_response_signed.xml"
	[ "$(jq -r '.[0].message.GBCSPayload.content.firmware_version' <<< "$output")" = 0C230000 ]
	start_listen
	run -0 curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/xml' \
		--data-binary "@$SHARED/dcc/samples/11.2_readfw_response_signed.xml" "$LISTEN_URL"
	[ "$output" = 400 ]	# the sandbox trusts its own DCC certificate, not ZAZ1's
	stop_listen
	"$HANFW" listen --plain-http --listen 127.0.0.1:0 --trust "$SHARED/dcc/zaz1" > listen.url 2>> listen.log &
	LISTEN_PID=$!
	for _ in $(seq 1 300); do [ -s listen.url ] && break; sleep 0.1; done
	run -0 curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/xml' \
		--data-binary "@$SHARED/dcc/samples/11.2_readfw_response_signed.xml" "$(cat listen.url)rrs"
	[ "$output" = 204 ]
	[ "$(db "SELECT event || ' ' || device || ' ' || detail FROM device_events")" = "version_read 88-73-84-57-00-2F-96-1E 0C230000" ]
}

@test "device certificates are read by EUI from trust/devices/<eui>-ds.pem, none skipped: a wrong one fails the GBCS signature" {
	# An RTDS response signed by the ESME 00-DB-12-34-56-78-90-A0, whose certificate the keystore has.
	vector="$SHARED/gbcs/rtds/CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX"
	ks="$SHARED/gbcs/keystore"
	sig() { jq -r "$1" <<< "$output"; }
	mkdir -p t/devices && cp "$SHARED"/dcc/zaz1/*.pem t/
	run -0 hanfw status decode --trust t "$vector"
	[ "$(sig '.[0].signature')" = "present, not checked (no certificate for the originator)" ]
	cp "$ks/00db1234567890a0-ds.pem" t/devices/
	run -0 hanfw status decode --trust t "$vector"
	[ "$(sig '.[0].signature')" = valid ]
	# Another device's certificate under that device's name: the signature fails, never "not checked".
	cp "$ks/00db1234567890a1-ds.pem" t/devices/00db1234567890a0-ds.pem
	run -0 hanfw status decode --trust t "$vector"
	[ "$(sig '.[0].signature')" = INVALID ]
	[ "$(sig '.[0].signature_problem')" = "'t/devices/00db1234567890a0-ds.pem' is not the GBCS digital-signing certificate of 00-DB-12-34-56-78-90-A0 (it names 00-DB-12-34-56-78-90-A1)" ]
	# A certificate there not named by its EUI (it would never be found), or a devices/ that is not a
	# directory, refuses the trust directory.
	mv t/devices/00db1234567890a0-ds.pem t/devices/esme.pem
	run -10 --separate-stderr hanfw status decode --trust t "$vector"
	[ "$stderr" = "hanfw: trust: 't/devices/esme.pem' is a certificate not named by its EUI: device certificates are found by name, 't/devices/<eui in hex>-ds.pem' (rename it '00db1234567890a1-ds.pem')" ]
	rm -r t/devices && touch t/devices
	run -9 --separate-stderr hanfw status decode --trust t "$vector"
	[[ "$stderr" == *"trust: 't/devices' cannot be read or is not a directory: it must be the device store (a directory of <eui>-ds.pem files) or absent" ]]
}

@test "an alert hanfw has no decoder for (CS14 0x8F12), DCC-signed, is stored and shown by its codes, never quarantined" {
	start_listen
	start_sandbox --receive-url "$LISTEN_URL" --time-scale 1	# nothing happens on its own meanwhile
	hanfw -q distribute "$IMG/ESME.img" --devices esmes
	stop_servers
	esme=$(head -1 esmes)
	# CS14's CHF Device Log Changed alert, DLMS data-notification as RTDS NA_CS14 begins, in a GBCS
	# general frame from the ESME to the supplier: alert, counter 1000, no date-time, other information
	# (2 bytes: message code 0018), content, a null signature.
	payload=$(python3 - "$esme" <<-'PY'
	import base64, sys
	eui = bytes.fromhex(sys.argv[1].replace('-', ''))
	cs14 = bytes.fromhex('0F20000FA000020312 8F12 090C07DF0101FF000000008000FF0100'.replace(' ', ''))
	frame = (b'\xdf\x09\x03' + (1000).to_bytes(8, 'big') + b'\x08' + eui + b'\x08' + bytes.fromhex('90B3D51F30010000') +
	         b'\x00' + b'\x02' + (0x0018).to_bytes(2, 'big') + bytes([len(cs14)]) + cs14 + b'\x00')
	print(base64.b64encode(frame).decode())
	PY
	)
	printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?><sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4"><sr:Header><sr:ResponseID>'"$esme"':90-B3-D5-1F-30-01-00-00:1000</sr:ResponseID><sr:ResponseCode>I0</sr:ResponseCode><sr:ResponseDateTime>2026-11-27T10:00:00.000Z</sr:ResponseDateTime></sr:Header><sr:Body><sr:DeviceAlertMessage><sr:AlertCode>8F12</sr:AlertCode><sr:GBCSPayload>'"$payload"'</sr:GBCSPayload></sr:DeviceAlertMessage></sr:Body></sr:Response>' > alert.xml
	xmlsec_sign alert.xml signed.xml "$SBX/pki/dcc-xml.key" "$SBX/pki/dcc-xml.pem"
	run -0 hanfw status decode signed.xml
	[ "$(jq -r '.[0].message.GBCSPayload.use_case' <<< "$output")" = "not decoded by hanfw" ]
	run -0 curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/xml' --data-binary @signed.xml "$LISTEN_URL"
	[ "$output" = 204 ]
	[ "$(db 'SELECT count(*) FROM quarantine')" = 0 ]
	[ "$(db "SELECT event || ' ' || device || ' ' || detail FROM device_events WHERE event = 'device_alert'")" = "device_alert $esme 8F12 (GBCS message code 0018)" ]
	run -8 hanfw status --json --campaign ESME-01020304 --device "$esme"	# 8: not activated yet
	[ "$(jq -r '.. | objects | select(has("last_alert")) | .last_alert' <<< "$output")" = "8F12 (GBCS message code 0018)" ]
	run -8 hanfw status --campaign ESME-01020304 --device "$esme"
	[[ "$output" == *"$esme"*"alert 8F12 (GBCS message code 0018)"* ]]
}

@test "over mutual TLS: the sandbox presents its client certificate to hanfw listen" {
	# Under ASan, GCC 12's LeakSanitizer crashed at this listen's exit ("Tracer caught signal
	# 11") scanning a stale dynamic TLS block (LSAN_OPTIONS=verbosity=1 shows "DTLS 5 at
	# 0x000000000183"), of a library loaded and unloaded at run time for client certificates.
	# use_tls=0 leaves thread-local storage out of the roots: leak checking stays on, stricter.
	LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}use_tls=0" "$HANFW" listen --listen 127.0.0.1:0 --tls-cert "$SBX/tls/server.pem" --tls-key "$SBX/tls/server.key" \
		--client-ca "$SBX/tls/ca.pem" > listen.url 2>> listen.log &
	LISTEN_PID=$!
	for _ in $(seq 1 300); do [ -s listen.url ] && break; sleep 0.1; done
	[[ "$(cat listen.url)" == https://127.0.0.1:* ]]
	start_sandbox --receive-url "$(cat listen.url)rrs"
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	until_status '.states.activated == 20'
	# Without a client certificate: refused before anything is read.
	run -0 curl -s -o /dev/null -w '%{http_code}' --cacert "$SBX/tls/ca.pem" -H 'Content-Type: application/xml' \
		--data-binary '<x/>' "$(cat listen.url)rrs"
	[ "$output" = 403 ] || [ "$output" = 000 ]
	[ "$(db 'SELECT count(*) FROM quarantine')" = 0 ]
	kill -TERM "$LISTEN_PID"; wait "$LISTEN_PID"; LISTEN_PID=
	grep -q 'listen stopped: 60 stored, 0 duplicates, 0 quarantined, 0 failed' listen.log
}

@test "device faults reach status with their reasons: a wrong hash, an offline device" {
	start_listen
	start_sandbox --receive-url "$LISTEN_URL" --faults bad-hash=1
	head -5 esmes > five
	hanfw -q distribute "$IMG/ESME.img" --devices five
	until_status '.states.hash_mismatch == 5' --campaign ESME-01020304
	run -8 hanfw status --campaign ESME-01020304 --json
	[ "$(jq -r '.reasons | keys[]' <<< "$output")" = "device computed another hash" ]
	stop_servers
	# Offline for good: the transfer fails after 6 simulated hours (then FirmwareDistributionFailure),
	# and an activation gets E21.
	sed -n 6,10p esmes > offline
	start_sandbox --receive-url "$LISTEN_URL" --faults offline=1
	hanfw -q distribute "$IMG/ESME.img" --devices offline --campaign offline-test
	until_status '.states.distribution_failed == 5 and .reasons.FirmwareDistributionFailure == 5' --campaign offline-test
	hanfw -q activate --devices offline --image "$IMG/ESME.img" --campaign offline-test
	until_status '.states.activation_failed == 5' --campaign offline-test
	[ "$(hanfw status --campaign offline-test --json | jq -r '.reasons | to_entries[] | "\(.key) \(.value)"')" = "E21 5" ]
}

@test "a DCC alert XML-signed by a device's key is refused by verify and listen, with the device trusted or misfiled" {
	start_listen
	start_sandbox --receive-url "$LISTEN_URL" --time-scale 1	# nothing happens on its own meanwhile
	hanfw -q distribute "$IMG/PPMID.img" --devices ppmids
	stop_servers
	before=$(hanfw status --json --campaign PPMID-01020304 | jq -c .states)
	# A PPMID activation alert, as the DCC words it, genuinely XML-signed with an ESME's own key.
	esme=$(head -1 esmes) ppmid=$(head -1 ppmids)
	stem=$(tr -d - <<< "$esme" | tr A-F a-f)-ds
	[ -f "$SBX/trust/devices/$stem.pem" ]	# the device's certificate is trusted, for GBCS
	printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?><sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4"><sr:Header><sr:ResponseID>90-B3-D5-1F-30-00-00-02:90-B3-D5-1F-30-01-00-00:9999999999999</sr:ResponseID><sr:ResponseCode>I0</sr:ResponseCode><sr:ResponseDateTime>2026-11-27T10:00:00.000Z</sr:ResponseDateTime></sr:Header><sr:Body><sr:DCCAlertMessage><sr:DCCAlertCode>N999</sr:DCCAlertCode><sr:DCCAlert><sr:PPMIDAlert><sr:DeviceID>'"$ppmid"'</sr:DeviceID><sr:DeviceAlertCode>8F8B</sr:DeviceAlertCode><sr:Timestamp>2026-11-27T10:00:00.000Z</sr:Timestamp><sr:PPMIDFirmwareUpgradeAlert><sr:FirmwareVersion>01020304</sr:FirmwareVersion><sr:ActivateImageResultCode>ActivationSuccess</sr:ActivateImageResultCode></sr:PPMIDFirmwareUpgradeAlert></sr:PPMIDAlert></sr:DCCAlert></sr:DCCAlertMessage></sr:Body></sr:Response>' > alert.xml
	xmlsec_sign alert.xml forged.xml "$SBX/devices/$stem.key" "$SBX/devices/$stem.pem"
	post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/xml' --data-binary "@$1" "$2"; }
	# The device's certificate where it belongs, in trust/devices/: the device store is read by EUI
	# only, never for an XML signature, so the signer is unknown to XML trust.
	rule="no such certificate in the trust directory '$SBX/trust'; add the DCC's XML-signing certificate with that serial"
	run -4 --separate-stderr hanfw verify forged.xml
	[[ "$stderr" == "hanfw: signature: signed by issuer "*"$rule" ]]
	[ "$(post forged.xml "$LISTEN_URL")" = 400 ]
	[[ "$(db 'SELECT reason FROM quarantine')" == *"$rule"* ]]
	# Misfiled among the XML certificates (where the README once said): its device's GBCS signatures
	# would go unchecked, so verify and listen refuse the trust directory (exit 10), naming the file.
	stop_listen
	mkdir xml && cp "$SBX/trust/dcc-xml.pem" "$SBX/devices/$stem.pem" xml/
	misfiled="hanfw: trust: 'xml/$stem.pem' is the device certificate of $esme: device certificates go in 'xml/devices/' (move it there, as <eui in hex>-ds.pem)"
	run -10 --separate-stderr hanfw verify --trust xml forged.xml
	[ "$stderr" = "$misfiled" ]
	run -10 --separate-stderr "$HANFW" listen --plain-http --listen 127.0.0.1:0 --trust xml
	[ "$stderr" = "$misfiled" ]
	[ -z "$output" ]	# never listened
	# Moved where it belongs, the forged alert is refused as above.
	mkdir xml/devices && mv "xml/$stem.pem" xml/devices/
	run -4 --separate-stderr hanfw verify --trust xml forged.xml
	[[ "$stderr" == "hanfw: signature: signed by issuer "*"no such certificate in the trust directory 'xml'"* ]]
	# No device moved.
	[ "$(db "SELECT count(*) FROM device_events WHERE event = 'activated'")" = 0 ]
	[ "$(hanfw status --json --campaign PPMID-01020304 | jq -c .states)" = "$before" ]
	[ "$(db 'SELECT count(*) FROM quarantine')" = 1 ]
}

@test "a body of nested namespace declarations is refused by name before verification; listen still takes a genuine message" {
	"$HANFW" listen --plain-http --listen 127.0.0.1:0 --trust "$SHARED/dcc/zaz1" > listen.url 2>> listen.log &
	LISTEN_PID=$!
	for _ in $(seq 1 300); do [ -s listen.url ] && break; sleep 0.1; done
	url="$(cat listen.url)rrs"
	sample="$SHARED/dcc/samples/11.2_readfw_response_signed.xml"
	# DCC Boxed's signed response with 100 nested elements of 80 namespace declarations each in its
	# Body (177 KB): the DCC's issuer and serial are trusted, so the old code canonicalised it all.
	python3 - "$sample" nested.xml <<'PY'
import sys
s = open(sys.argv[1]).read()
open_ = ''.join('<sr:x%d %s>' % (i, ' '.join('xmlns:p%d_%d="urn:x:%d"' % (i, j, j) for j in range(80))) for i in range(100))
close = ''.join('</sr:x%d>' % i for i in reversed(range(100)))
open(sys.argv[2], 'w').write(s.replace('<sr:Body>', '<sr:Body>' + open_ + close, 1))
PY
	[ "$(stat -c %s nested.xml)" -gt 150000 ]
	post() { curl -s --max-time 20 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/xml' --data-binary "@$1" "$url"; }
	[ "$(post nested.xml)" = 400 ]
	[[ "$(db 'SELECT reason FROM quarantine')" == *"more than 32 namespace declarations on one element at line 1: refused before verification"* ]]
	[ "$(post "$sample")" = 204 ]
	[ "$(db 'SELECT count(*) FROM messages')" = 1 ]
}

@test "status believes only a campaign's own messages: a PPMID refused in an ESME campaign stays refused; failed reads show the device's code" {
	start_listen
	# Seed 3 makes the second and third ESME answer SR 11.2 with an error; the first and the PPMID read fine.
	start_sandbox --receive-url "$LISTEN_URL" --faults read-error=0.5 --seed 3
	head -3 esmes > three
	ppmid=$(head -1 ppmids)
	{ cat three; echo "$ppmid"; } > listed
	# The ESME image to three ESMEs and a PPMID (not applicable); the PPMID gets its own image as well.
	run -8 hanfw -q distribute "$IMG/ESME.img" --devices listed
	hanfw -q distribute "$IMG/PPMID.img" "$ppmid"
	until_status '.states.verified == 3' --campaign ESME-01020304
	until_status '.states.activated == 1' --campaign PPMID-01020304
	run -8 --separate-stderr hanfw activate --devices listed --image "$IMG/ESME.img"
	[[ "$stderr" == *"$ppmid: not sent: its distribution in campaign ESME-01020304 was refused"* ]]
	until_status '.states.activated == 3' --campaign ESME-01020304
	# The PPMID runs 01020304, the ESME campaign's version too: its read confirms it in its own campaign only.
	hanfw -q read-version --devices listed
	until_status '.states.version_confirmed + .states.version_read_failed == 3' --campaign ESME-01020304
	until_status '.states.version_confirmed == 1' --campaign PPMID-01020304
	# What the sandbox's devices did: which reads failed.
	[ "$(jq -r 'select(.event == "version-read-failed") | .device' "$SBX/events.log" | sort | tr '\n' ' ')" = \
		"$(sed -n 2,3p three | sort | tr '\n' ' ')" ]
	run -8 hanfw status --campaign ESME-01020304 --json
	validate_status <<< "$output"
	[ "$(jq -r '.device_states[] | .device + " " + .state + " " + (.reason // "-")' <<< "$output" | sort)" = \
		"$( { echo "$(sed -n 1p three) version_confirmed -"
		      sed -n 2,3p three | sed 's/$/ version_read_failed DLMS object-unavailable (11)/'
		      echo "$ppmid distribution_refused not_applicable"; } | sort)" ]
	[ "$(jq -r '.reasons | to_entries[] | "\(.key)=\(.value)"' <<< "$output" | sort | tr '\n' ' ')" = \
		"DLMS object-unavailable (11)=2 not_applicable=1 " ]
	esme=$(sed -n 2p three)
	run -8 hanfw status --campaign ESME-01020304 --device "$esme"
	[[ "$output" == *"$esme  version_read_failed"*"DLMS object-unavailable (11)"* ]]
	[ "$(db 'SELECT count(*) FROM quarantine')" = 0 ]
}
