#!/usr/bin/env bats
# The sandbox as faithful as the DCC's own client needs (issue 13): SMKI
# device certificates, the SMKI certificate service, SR 8.2 answers.

load helpers

setup() { setup_hanfw; }

teardown() { stop_servers; }

# smki_device_cert CERT EUI ds|ka: every property of an SMKI device certificate (tests/tools/smki_device_cert.py).
smki_device_cert() { /usr/bin/python3 "$BATS_TEST_DIRNAME/../tools/smki_device_cert.py" "$@"; }

@test "smki: the RTDS device certificates have the shape the checks assert" {
	for e in a0 a1 a2 a3 a4; do
		smki_device_cert "$SHARED/gbcs/keystore/00db1234567890$e-ds.pem" "00-DB-12-34-56-78-90-${e^^}" ds
		smki_device_cert "$SHARED/gbcs/keystore/00db1234567890$e-ka.pem" "00-DB-12-34-56-78-90-${e^^}" ka
	done
	# The checks can fail: the wrong EUI, the wrong usage, an organisation's certificate.
	run -1 smki_device_cert "$SHARED/gbcs/keystore/00db1234567890a0-ds.pem" 00-DB-12-34-56-78-90-A1 ds
	[[ "$output" == *"hardwareModuleName names 00db1234567890a0"* ]]
	run -1 smki_device_cert "$SHARED/gbcs/keystore/00db1234567890a0-ds.pem" 00-DB-12-34-56-78-90-A0 ka
	run -1 smki_device_cert "$SHARED/gbcs/keystore/90b3d51f30010000-ds.pem" 90-B3-D5-1F-30-01-00-00 ds
}

@test "smki: the sandbox issues its devices' certificates in the RTDS shape, ds and ka, under a device CA" {
	run -0 hanfw sandbox init sbx --devices 'ESME=1,GSME=1,HCALCS=1,PPMID=1' --device-keys
	n=0
	for c in sbx/devices/*-ds.pem; do
		hex=${c##*/}; hex=${hex%-ds.pem}
		eui=$(sed 's/../&-/g; s/-$//' <<<"${hex^^}")
		smki_device_cert "$c" "$eui" ds
		smki_device_cert "sbx/devices/$hex-ka.pem" "$eui" ka
		openssl verify -CAfile sbx/pki/ca.pem -untrusted sbx/pki/device-ca.pem "$c" "sbx/devices/$hex-ka.pem"
		# Issued by the device CA, whose key identifier it names.
		[ "$(openssl x509 -in "$c" -noout -issuer -nameopt RFC2253)" = "issuer=CN=D1" ]
		[ "$(openssl x509 -in "$c" -noout -ext authorityKeyIdentifier | tail -1 | tr -d ' ')" = \
		  "$(openssl x509 -in sbx/pki/device-ca.pem -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')" ]
		n=$((n + 1))
	done
	[ "$n" = "$(jq '.devices | length' sbx/estate.json)" ]
	# Only the digital-signing certificates check GBCS signatures.
	[ -z "$(ls sbx/trust/devices | grep -v -- '-ds.pem$')" ]
}

@test "smki: hanfw's device store takes the sandbox's certificates and refuses one whose SAN names another EUI" {
	run -0 hanfw sandbox init sbx --devices 'ESME=2'
	set -- sbx/devices/*-ds.pem
	mkdir -p t/devices && cp sbx/pki/dcc-xml.pem t/
	cp "$1" "t/devices/${1##*/}"
	# A GBCS message the first device signs decodes with its signature checked.
	run -0 hanfw status decode --trust t --json "$SHARED/gbcs/rtds/CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX"
	# The second device's certificate under the first one's name: refused, naming both EUIs.
	cp "$2" "t/devices/00db1234567890a0-ds.pem"
	run hanfw status decode --trust t --json "$SHARED/gbcs/rtds/CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX"
	[[ "$output$stderr" == *"is not the GBCS digital-signing certificate of 00-DB-12-34-56-78-90-A0"* ]]
}

# inventory_request EUI OUT: the DCC's 8.2 template for EUI, signed by the sandbox's supplier with a fresh counter.
inventory_request() {
	sed "s/00-DB-12-34-56-78-90-A2/$1/" "$SHARED/dcc/templates/8.2_READ_INVENTORY_REQUEST_DUIS.XML" > "$2.unsigned"
	hanfw --config sbx/hanfw.json sign --new-counter "$2.unsigned" -o "$2"
}

# without_signature IN OUT
without_signature() {
	/usr/bin/python3 -c 'import re,sys; s=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(re.sub(r"<ds:Signature.*</ds:Signature>","",s,flags=re.S))' "$1" "$2"
}

@test "8.2: the sandbox's DCC answers Read Inventory synchronously, signed, listing the device's premises in DUIS 5.4" {
	run -0 hanfw sandbox init sbx
	SBX=sbx start_sandbox --plain-http
	gsme=$(jq -r '[.devices[] | select(.type == "GSME")][1].eui' sbx/estate.json)
	hub=$(jq -r --arg e "$gsme" '.devices[] | select(.eui == $e) | .comms_hub' sbx/estate.json)
	inventory_request "$gsme" req.xml
	curl -sS -H 'Content-Type: application/xml' --data-binary @req.xml "$HANFW_ENDPOINT/serviceD" > answer.xml
	grep -q '<sr:ResponseCode>I0</sr:ResponseCode>' answer.xml
	! grep -q '<sr:ResponseID>' answer.xml
	grep -q '<sr:ServiceReference>8.2</sr:ServiceReference><sr:ServiceReferenceVariant>8.2</sr:ServiceReferenceVariant><sr:DSPInventory>' answer.xml
	# Signed by the DCC, as its other responses; valid DUIS 5.4 once the signature is off.
	run -0 hanfw --config sbx/hanfw.json verify answer.xml
	xmlsec1 --verify --pubkey-cert-pem sbx/pki/dcc-xml.pem answer.xml 2>/dev/null
	without_signature answer.xml plain.xml
	xmllint --noout --schema "$SHARED/dcc/duis-5.4/DUIS-Schema-V5.4.xsd" plain.xml
	# Every device behind the hub, the hub first, each once.
	got=$(grep -o '<sr:DeviceID>[^<]*' plain.xml | sed 's/.*>//')
	[ "$(head -1 <<<"$got")" = "$hub" ]
	diff <(sort <<<"$got") <(jq -r --arg h "$hub" '.devices[] | select(.comms_hub == $h) | .eui' sbx/estate.json | sort)
	[ "$(grep -o "<sr:DeviceID>$gsme</sr:DeviceID><sr:DeviceType>GSME</sr:DeviceType>" plain.xml | wc -l)" = 1 ]
	grep -q "<sr:DeviceID>$hub</sr:DeviceID><sr:DeviceType>CHF</sr:DeviceType>" plain.xml
	# Accepted requests are logged as the others are.
	grep -qx "$(sed -n 's:.*<sr\:RequestID>\(.*\)</sr\:RequestID>.*:\1:p' req.xml)" sbx/requests.log
}

@test "8.2: a device the DCC does not know is E19, unsigned; the wrong endpoint is E13" {
	run -0 hanfw sandbox init sbx
	SBX=sbx start_sandbox --plain-http
	inventory_request 00-DB-12-99-99-99-99-99 req.xml
	curl -sS -H 'Content-Type: application/xml' --data-binary @req.xml "$HANFW_ENDPOINT/serviceD" > e19.xml
	grep -q '<sr:ResponseCode>E19</sr:ResponseCode>' e19.xml
	! grep -q 'ds:Signature' e19.xml
	inventory_request "$(jq -r '.devices[0].eui' sbx/estate.json)" req2.xml
	curl -sS -H 'Content-Type: application/xml' --data-binary @req2.xml "$HANFW_ENDPOINT/serviceS" > e13.xml
	grep -q '<sr:ResponseCode>E13</sr:ResponseCode>' e13.xml
}
