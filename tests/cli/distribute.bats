#!/usr/bin/env bats
# hanfw distribute against hanfw sandbox serve on 127.0.0.1: the real commands end to end.

load helpers

setup_file() {
	export SBX="$BATS_FILE_TMPDIR/sbx"
	"$HANFW" -q sandbox init "$SBX" --devices 'PPMID=1000;HCALCS=200;PPMID=3,ESME=3' --device-keys
	jq -r '.devices[] | select(.type == "PPMID" and (.eui | startswith("00-DB-12-40-00"))) | .eui' "$SBX/estate.json" > "$BATS_FILE_TMPDIR/ppmids"
	jq -r '.devices[] | select(.type == "HCALCS") | .eui + " HCALCS"' "$SBX/estate.json" > "$BATS_FILE_TMPDIR/hcalcs"
	"$HANFW" -q package build "$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" -o "$BATS_FILE_TMPDIR/ppmid.img" \
		--device-type PPMID --manufacturer-code 0x121D --image-type 0x84 --file-version 0x01020304 --config "$SBX/hanfw.json"
	"$HANFW" -q package build "$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" -o "$BATS_FILE_TMPDIR/hcalcs.img" \
		--device-type HCALCS --manufacturer-code 0x121D --image-type 0x30 --file-version 0x01020304 --config "$SBX/hanfw.json"
	"$HANFW" -q package build "$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" -o "$BATS_FILE_TMPDIR/esme.img" \
		--device-type ESME --manufacturer-code 0x121D --image-type 0 --file-version 0x01020304 --config "$SBX/hanfw.json"
}

setup() {
	setup_hanfw
	export HANFW_CONFIG="$SBX/hanfw.json" HANFW_LEDGER="$(test_ledger)"
	IMG=$BATS_FILE_TMPDIR
	start_sandbox
}

teardown() {
	stop_sandbox
}

# Each test gets a fresh server (its in-memory state), listening on a free port of 127.0.0.1.
start_sandbox() {
	: > "$SBX/requests.log"
	"$HANFW" sandbox serve --dir "$SBX" --listen 127.0.0.1:0 > url.txt 2> serve.log &
	SERVE_PID=$!
	for _ in $(seq 1 300); do [ -s url.txt ] && break; sleep 0.1; done
	export HANFW_ENDPOINT=$(cat url.txt)
	[ -n "$HANFW_ENDPOINT" ]
}

stop_sandbox() {
	[ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null || true
	SERVE_PID=
}

ledger() { ledger_sql "$1"; }

@test "1,000 PPMIDs and 200 HCALCS on other hubs are accepted, and recorded" {
	run -0 hanfw distribute "$IMG/ppmid.img" --devices "$IMG/ppmids" --estate "$SBX/estate.json"
	[[ "$output" == *"1000 devices: 1000 accepted, 0 refused"* ]]
	run -0 hanfw distribute "$IMG/hcalcs.img" --devices "$IMG/hcalcs" --json
	[ "$(jq -r .accepted <<<"$output")" = 200 ]
	[ "$(jq -r .service_reference <<<"$output")" = 11.1 ]
	[ "$(ledger "select count(*) from requests where state='accepted' and response_code='I99'")" = 2 ]
	[ "$(ledger "select count(*) from request_devices where outcome='accepted'")" = 1200 ]
	# What the sandbox accepted is what the ledger says was sent.
	diff <(sort "$SBX/requests.log") <(ledger "select request_id from requests" | sort)
}

@test "the sandbox's answers verify with xmlsec1, and it accepts a request xmlsec1 signed" {
	mkdir dry
	hanfw distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-00 --dry-run -o dry
	req=$(ls dry/*.xml)
	curl -sS --cacert "$SBX/tls/ca.pem" --cert "$SBX/tls/client.pem" --key "$SBX/tls/client.key" \
		-H 'Content-Type: application/xml' --data-binary "@$req" "$HANFW_ENDPOINT/serviceD" > answer.xml
	grep -q '<sr:ResponseCode>I99</sr:ResponseCode>' answer.xml
	xmlsec1 --verify --pubkey-cert-pem "$SBX/pki/dcc-xml.pem" answer.xml 2>/dev/null
	# The same request re-signed by xmlsec1 with a fresh counter is accepted (its devices are now busy).
	/usr/bin/python3 - "$req" t.xml <<-'PY'
	import re, sys
	s = open(sys.argv[1]).read()
	s = re.sub(r':([0-9]+)</sr:RequestID>', lambda m: ':%d</sr:RequestID>' % (int(m.group(1)) + 1), s)
	for e in ('DigestValue', 'SignatureValue', 'X509IssuerSerial'):
	    s = re.sub(r'<ds:%s>.*?</ds:%s>' % (e, e), '<ds:%s></ds:%s>' % (e, e), s)
	open(sys.argv[2], 'w').write(s)
	PY
	openssl pkey -in "$SBX/pki/supplier-xml.key" -out k.pem
	xmlsec1 --sign --privkey-pem "k.pem,$SBX/pki/supplier-xml.pem" --output x.xml t.xml
	curl -sS --cacert "$SBX/tls/ca.pem" --cert "$SBX/tls/client.pem" --key "$SBX/tls/client.key" \
		-H 'Content-Type: application/xml' --data-binary @x.xml "$HANFW_ENDPOINT/serviceD" > answer2.xml
	grep -q '<sr:ResponseCode>W110401</sr:ResponseCode>' answer2.xml
	grep -q '<sr:OtherRequestInProgressList>00-DB-12-40-00-00-00-00</sr:OtherRequestInProgressList>' answer2.xml
	# A request out of profile or at the wrong endpoint is answered with an E-code, unsigned.
	curl -sS --cacert "$SBX/tls/ca.pem" --cert "$SBX/tls/client.pem" --key "$SBX/tls/client.key" \
		-H 'Content-Type: application/xml' --data-binary "@$req" "$HANFW_ENDPOINT/serviceS" > e13.xml
	grep -q '<sr:ResponseCode>E13</sr:ResponseCode>' e13.xml
	! grep -q 'ds:Signature' e13.xml
	curl -sS --cacert "$SBX/tls/ca.pem" --cert "$SBX/tls/client.pem" --key "$SBX/tls/client.key" \
		-H 'Content-Type: application/xml' --data-binary "@$req" "$HANFW_ENDPOINT/serviceD" > e42.xml
	grep -q '<sr:ResponseCode>E42</sr:ResponseCode>' e42.xml
}

@test "the sandbox's DCC answers E1 to a request signed by someone other than its RequestID's originator" {
	mkdir dry
	hanfw distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-20 --dry-run -o dry
	sed 's/<sr:RequestID>90-B3-D5-1F-30-01-00-00:/<sr:RequestID>90-B3-D5-1F-30-03-00-00:/' dry/*.xml > other.xml
	# Genuinely signed by the supplier (a user the DCC trusts), for another user's RequestID.
	xmlsec_sign other.xml other.signed "$SBX/pki/supplier-xml.key" "$SBX/pki/supplier-xml.pem"
	curl -sS --cacert "$SBX/tls/ca.pem" --cert "$SBX/tls/client.pem" --key "$SBX/tls/client.key" \
		-H 'Content-Type: application/xml' --data-binary @other.signed "$HANFW_ENDPOINT/serviceD" > e1.xml
	grep -q '<sr:ResponseCode>E1</sr:ResponseCode>' e1.xml
	# And hanfw verify refuses it by the same rule.
	run -4 --separate-stderr hanfw verify --trust "$SBX/pki" other.signed
	[[ "$stderr" == *"refused: a Request must be signed by the XML-signing certificate of its RequestID's originator, 90-B3-D5-1F-30-03-00-00" ]]
}

@test "devices with a request in progress are reported, and the exit status says partial" {
	hanfw -q distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-01 00-DB-12-40-00-00-00-02
	run -8 --separate-stderr hanfw distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-02 00-DB-12-40-00-00-00-03 \
		00-DB-12-99-99-99-99-99
	[[ "$output" == *"3 devices: 1 accepted, 2 refused"* ]]
	[[ "$output" == *"other_request_in_progress    1"* && "$output" == *"invalid                      1"* ]]
	[ "$(ledger "select outcome from request_devices where device='00-DB-12-99-99-99-99-99'")" = invalid ]
	[ "$(ledger "select response_code from requests order by counter desc limit 1")" = W110401 ]
}

@test "an image for the wrong device type is refused before anything is sent" {
	run -3 --separate-stderr hanfw distribute "$IMG/esme.img" 00-DB-12-40-00-00-00-00 --estate "$SBX/estate.json"
	one_line_error
	[[ "$stderr" == *"device 00-DB-12-40-00-00-00-00 is a PPMID, but '$IMG/esme.img' is a ESME image for SR 11.1: nothing sent" ]]
	printf '00-DB-12-10-02-00-00-00 ESME\n00-DB-12-40-02-00-00-00 PPMID\n' > mixed
	run -3 --separate-stderr hanfw distribute "$IMG/esme.img" --devices mixed
	[ ! -s "$SBX/requests.log" ]
	[ "$(ledger "select count(*) from requests" 2>/dev/null || echo 0)" = 0 ]
}

@test "bad device lists and images are refused with one line" {
	run -3 --separate-stderr hanfw distribute "$IMG/ppmid.img" 00-DB-12
	one_line_error
	printf '# list\n00-DB-12-40-00-00-00-00\n\n00-DB-12-40-00-00-00-0X\n' > bad
	run -3 --separate-stderr hanfw distribute "$IMG/ppmid.img" --devices bad
	[ "$stderr" = "hanfw: bad line 4: '00-DB-12-40-00-00-00-0X' is not an EUI-64" ]
	run -3 --separate-stderr hanfw distribute "$IMG/ppmid.img"
	[ "$stderr" = "hanfw: no devices given" ]
	cp "$IMG/ppmid.img" p.img && cp "$IMG/ppmid.img.json" p.img.json
	printf 'x' | dd of=p.img bs=1 seek=100 conv=notrunc status=none
	run -3 --separate-stderr hanfw distribute p.img 00-DB-12-40-00-00-00-00
	[[ "$stderr" == *"does not match the image"* ]]
	rm p.img.json
	run -9 --separate-stderr hanfw distribute p.img 00-DB-12-40-00-00-00-00
	[ ! -s "$SBX/requests.log" ]
}

@test "TLS failures and an unreachable adapter: transport status, nothing marked sent" {
	HANFW_TLS_CA="$SBX/pki/ca.pem" run -5 --separate-stderr hanfw distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-00
	# One line for the request, one naming its device (issue 14).
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ "${stderr_lines[1]}" == "hanfw: distribute: 00-DB-12-40-00-00-00-00: not_sent "* ]]
	[[ "${stderr_lines[0]}" == "hanfw: 90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:"*": request not sent"* ]]
	[ "$(ledger "select state from requests")" = not_sent ]
	HANFW_TLS_CLIENT_CERT= HANFW_TLS_CLIENT_KEY= run -5 --separate-stderr \
		hanfw distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-00 --config /dev/stdin <<-JSON
	{"profiles":{"nocert":$(jq --arg l "$HANFW_LEDGER" '.profiles.sandbox | del(.tls_client_cert, .tls_client_key) | .ledger = $l' "$SBX/hanfw.json" | sed "s|\"pki/|\"$SBX/pki/|g; s|\"tls/|\"$SBX/tls/|g; s|\"trust\"|\"$SBX/trust\"|")}}
	JSON
	[[ "$stderr" == *"HTTP 403"* ]]
	stop_sandbox
	run -5 --separate-stderr hanfw distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-00
	# One line for the request, one naming its device (issue 14).
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ "${stderr_lines[1]}" == "hanfw: distribute: 00-DB-12-40-00-00-00-00: not_sent "* ]]
	[[ "$stderr" == *"request not sent"*"(after retries)"* ]]
	[ "$(ledger "select count(*) from requests where state in ('accepted', 'sent')")" = 0 ]
	[ ! -s "$SBX/requests.log" ]
}

@test "--dry-run writes signed requests of at most --batch devices" {
	mkdir out
	run -0 hanfw distribute "$IMG/ppmid.img" --devices "$IMG/ppmids" --batch 300 --dry-run -o out
	[ "$(ls out | wc -l)" = 4 ]
	for f in out/*.xml; do
		xmlsec1 --verify --pubkey-cert-pem "$SBX/pki/supplier-xml.pem" "$f" 2>/dev/null
		xmllint --noout --schema "$SHARED/dcc/duis-5.4/DUIS-Schema-V5.4.xsd" \
			<(sed 's/<ds:Signature.*<\/ds:Signature>//' "$f") 2>/dev/null
	done
	[ "$(grep -ho '00-DB-12-40-00-[0-9A-F-]*' out/*.xml | sort -u | wc -l)" = 1000 ]
	[ "$(ledger "select count(*) from requests where state='dry-run'")" = 4 ]
	[ ! -s "$SBX/requests.log" ]
}

@test "kill -9 while distributing, then again: no RequestID reused or lost, unknown outcomes visible" {
	for round in 1 2 3; do
		"$HANFW" distribute "$IMG/ppmid.img" --devices "$IMG/ppmids" --batch 20 > /dev/null 2>&1 &
		pid=$!
		sleep 0.$((RANDOM % 4 + 1))
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	hanfw -q distribute "$IMG/ppmid.img" --devices "$IMG/ppmids" --batch 500 || [ $? = 8 ]
	# Every request the sandbox accepted is in the ledger ...
	sort -u "$SBX/requests.log" > received
	ledger "select request_id from requests" | sort > recorded
	[ -z "$(comm -23 received recorded)" ]
	# ... none twice, counters strictly rising ...
	[ "$(sort "$SBX/requests.log" | uniq -d | wc -l)" = 0 ]
	[ "$(ledger "select count(*) from requests") " = "$(ledger "select count(distinct counter) from requests") " ]
	# ... and a request cut off between signing and its answer shows as such.
	ledger "select state from requests" | sort | uniq -c >&3
	[ "$(ledger "select count(*) from requests where state not in ('accepted', 'signed')")" = 0 ]
}

@test "in ZAZ1 mode the sandbox signs as DCC Boxed does" {
	stop_sandbox
	hanfw -q sandbox init z --zaz1 "$SHARED/dcc/zaz1" --devices PPMID=2
	"$HANFW" sandbox serve --dir z --listen 127.0.0.1:0 > zurl.txt 2>/dev/null &
	SERVE_PID=$!
	for _ in $(seq 1 300); do [ -s zurl.txt ] && break; sleep 0.1; done
	mkdir dry
	HANFW_CONFIG=z/hanfw.json hanfw -q distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-01 --dry-run -o dry
	curl -sS --cacert z/tls/ca.pem --cert z/tls/client.pem --key z/tls/client.key -H 'Content-Type: application/xml' \
		--data-binary "@$(ls dry/*.xml)" "$(cat zurl.txt)/serviceD" > answer.xml
	grep -q '<sr:ResponseCode>I99</sr:ResponseCode>' answer.xml
	xmlsec1 --verify --pubkey-cert-pem "$SHARED/dcc/zaz1/dsp-xml-sign-90B3D51F30000002-ds.pem" answer.xml 2>/dev/null
	# And distribute itself, with the ZAZ1 profile, verifies that answer.
	HANFW_CONFIG=z/hanfw.json HANFW_ENDPOINT=$(cat zurl.txt) run -0 hanfw distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-00
	[[ "$output" == *"1 accepted"* ]]
}

@test "the sandbox refuses a late counter unless a counter window allows it, and a repeat always" {
	mkdir dry
	hanfw -q distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-10 --dry-run -o dry
	hanfw -q distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-11 --dry-run -o dry
	set -- $(ls dry/*.xml | sort)
	post() { curl -sS --cacert "$SBX/tls/ca.pem" --cert "$SBX/tls/client.pem" --key "$SBX/tls/client.key" \
		-H 'Content-Type: application/xml' --data-binary "@$1" "$HANFW_ENDPOINT/serviceD" | grep -o '<sr:ResponseCode>[^<]*'; }
	[ "$(post "$2")" = "<sr:ResponseCode>I99" ]
	[ "$(post "$1")" = "<sr:ResponseCode>E42" ]	# strictly rising by default
	stop_sandbox
	"$HANFW" sandbox serve --dir "$SBX" --listen 127.0.0.1:0 --counter-window 60000 > url2.txt 2>/dev/null &
	SERVE_PID=$!
	for _ in $(seq 1 300); do [ -s url2.txt ] && break; sleep 0.1; done
	export HANFW_ENDPOINT=$(cat url2.txt)
	[ "$(post "$2")" = "<sr:ResponseCode>I99" ]
	[ "$(post "$1")" = "<sr:ResponseCode>I99" ]	# late, within the window
	[ "$(post "$1")" = "<sr:ResponseCode>E42" ]	# a repeat, never
}

@test "each device not accepted is named with its reason: with -q on stderr, in --json's failed" {
	hanfw -q distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-01
	run -8 --separate-stderr hanfw -q distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-01 00-DB-12-40-00-00-00-03 \
		00-DB-12-99-99-99-99-99
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ "$stderr" == *"hanfw: distribute: 00-DB-12-40-00-00-00-01: other_request_in_progress (RequestID "*", W110401)"* ]]
	[[ "$stderr" == *"hanfw: distribute: 00-DB-12-99-99-99-99-99: invalid (RequestID "*", W110401)"* ]]
	run -8 hanfw distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-01 00-DB-12-40-00-00-00-04 00-DB-12-99-99-99-99-99 --json
	[ "$(jq -r '[.failed[] | .device + " " + .reason] | join(",")' <<< "$output")" = \
		"00-DB-12-40-00-00-00-01 other_request_in_progress,00-DB-12-99-99-99-99-99 invalid" ]
	[ "$(jq -r '.failed[0].request_id == .requests[0].request_id' <<< "$output")" = true ]
	validate_schema distribute <<< "$output"
	# A request that never reached the adapter: its devices are named with the request's fate.
	stop_sandbox
	run -5 --separate-stderr hanfw -q distribute "$IMG/ppmid.img" 00-DB-12-40-00-00-00-05
	[[ "$stderr" == *"hanfw: distribute: 00-DB-12-40-00-00-00-05: not_sent (RequestID "* ]]
}
