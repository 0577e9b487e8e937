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

# start_smki [serve options...]: the sandbox in SBX with its SMKI service on a free port; SMKI its URL.
start_smki() {
	"$HANFW" sandbox serve --dir "$SBX" --listen 127.0.0.1:0 --smki-listen 127.0.0.1:0 --json "$@" > up.json 2> serve.log &
	SERVE_PID=$!
	for _ in $(seq 1 300); do [ -s up.json ] && break; sleep 0.1; done
	SMKI=$(jq -r .smki_url up.json)
	[[ "$SMKI" == http*://127.0.0.1:* ]]
}

# smki PATH BODY [curl options...]: POST BODY to the SMKI service with DCC Boxed's apikey; body to out.xml, status printed.
KEY=u3bg9gt38htd0j2
smki() {
	local path=$1 body=$2
	shift 2
	curl -sS -o out.xml -w '%{http_code}' -H 'Content-Type: application/xml' --data-binary "$body" "$@" "$SMKI$path"
}
search_alt() { printf '<?xml version="1.0" encoding="utf-8"?><CertificateSearchRequest><CertificateSubjectAltName>%s</CertificateSubjectAltName></CertificateSearchRequest>' "$1"; }
retrieve() { printf '<?xml version="1.0" encoding="utf-8"?><CertificateDataRequest><CertificateSerial>%s</CertificateSerial></CertificateDataRequest>' "$1"; }
xml_text() { /usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; print("\n".join((e.text or "").strip() for e in E.parse(sys.argv[1]).getroot().iter(sys.argv[2])))' out.xml "$1"; }

@test "smki: search a device's certificates by EUI, retrieve each by serial: the DER of its ds and ka certificates" {
	run -0 hanfw sandbox init sbx --devices 'ESME=1,GSME=1'
	SBX=sbx start_smki --plain-http
	validate() { /usr/bin/python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' "$@"; }
	validate "$BATS_TEST_DIRNAME/../../schemas/listening.schema.json" up.json
	[ "$(jq -r .smki_url up.json)" != "$(jq -r .url up.json)" ]
	for c in sbx/devices/*-ds.pem; do
		hex=${c##*/}; hex=${hex%-ds.pem}
		eui=$(sed 's/../&-/g; s/-$//' <<<"${hex^^}")
		[ "$(smki /services/certificatesearch?apikey=$KEY "$(search_alt "$eui")")" = 200 ]
		[ "$(xml_text ResponseCode)" = 200 ]
		[ "$(xml_text CertificateSubjectAltName | sort -u)" = "$eui" ]
		[ "$(xml_text CertificateUsage | sort | tr '\n' ' ')" = "DS KA " ]
		[ "$(xml_text CertificateStatus | sort -u)" = I ]
		serials=$(xml_text CertificateSerial)
		for usage in DS KA; do
			serial=$(/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; print([r.find("CertificateSerial").text for r in E.parse("out.xml").getroot().iter("Result") if r.find("CertificateUsage").text == sys.argv[1]][0])' $usage)
			cp out.xml search.xml
			[ "$(smki /services/retrievecertificate?apikey=$KEY "$(retrieve "$serial")")" = 200 ]
			[ "$(xml_text CertificateSerial)" = "$serial" ]
			[ "$(xml_text CertificateSubjectAltName)" = "$eui" ]
			[ "$(xml_text CertificateUsage)" = $usage ]
			xml_text CertificateBody | base64 -d > got.der
			f=sbx/devices/$hex-$(tr A-Z a-z <<<$usage).pem
			openssl x509 -in "$f" -outform DER | cmp - got.der
			# The serial is the certificate's, in hex.
			[ "$(openssl x509 -in "$f" -noout -serial | cut -d= -f2)" = "$serial" ]
			cp search.xml out.xml
		done
	done
	# An organisation's, by subject name: its role is the OU's (87 hex: 135, XML signing).
	[ "$(smki /services/certificatesearch?apikey=$KEY '<CertificateSearchRequest><CertificateSubjectName>90-B3-D5-1F-30-01-00-00</CertificateSubjectName></CertificateSearchRequest>')" = 200 ]
	[ "$(xml_text CertificateRole | sort | tr '\n' ' ')" = "135 2 " ]
}

@test "smki: 402 when nothing matches; 401 for a wrong or missing apikey and malformed requests; 404 elsewhere" {
	run -0 hanfw sandbox init sbx --devices 'ESME=1'
	SBX=sbx start_smki --plain-http
	eui=$(jq -r '.devices[] | select(.type == "ESME") | .eui' sbx/estate.json)
	[ "$(smki /services/certificatesearch?apikey=$KEY "$(search_alt 00-DB-12-99-99-99-99-99)")" = 402 ]
	# A device known to the estate without a certificate (a CHF: no key without --device-keys).
	[ "$(smki /services/certificatesearch?apikey=$KEY "$(search_alt "$(jq -r '.devices[] | select(.type == "CHF") | .eui' sbx/estate.json)")")" = 402 ]
	[ "$(smki /services/retrievecertificate?apikey=$KEY "$(retrieve 1234ABCD)")" = 402 ]
	[ "$(smki /services/certificatesearch?apikey=nope "$(search_alt "$eui")")" = 401 ]
	[ "$(smki /services/certificatesearch "$(search_alt "$eui")")" = 401 ]
	[ "$(smki /services/retrievecertificate?apikey=nope "$(retrieve 1234ABCD)")" = 401 ]
	[ "$(smki /services/certificatesearch?apikey=$KEY "$(search_alt not-an-eui)")" = 401 ]
	[ "$(smki /services/certificatesearch?apikey=$KEY '<CertificateSearchRequest/>')" = 401 ]
	[ "$(smki /services/certificatesearch?apikey=$KEY "$(retrieve 1234ABCD)")" = 401 ]
	[ "$(smki /services/certificatesearch?apikey=$KEY '<CertificateSearchRequest><CertificateSubjectAltName>00-DB-12-10-00-00-00-00</CertificateSubjectAltName><CertificateSubjectName>90-B3-D5-1F-30-01-00-00</CertificateSubjectName></CertificateSearchRequest>')" = 401 ]
	[ "$(smki /services/retrievecertificate?apikey=$KEY "$(retrieve XYZ)")" = 401 ]
	[ "$(smki /services/certificatesearch?apikey=$KEY 'not xml')" = 401 ]
	[ "$(smki /services/other?apikey=$KEY "$(search_alt "$eui")")" = 404 ]
	# The DUIS endpoints are not served there, nor the SMKI service on the DUIS port.
	[ "$(smki /api/v1/serviceD?apikey=$KEY "$(search_alt "$eui")")" = 404 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary "$(search_alt "$eui")" "$(jq -r .url up.json | sed 's:/api/v1$::')/services/certificatesearch?apikey=$KEY")" = 404 ]
	# Only POST, as the other servers.
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$SMKI/services/certificatesearch?apikey=$KEY")" = 405 ]
}

@test "smki: over HTTPS (the sandbox's TLS) without a client certificate; init names it smki_url" {
	run -0 hanfw sandbox init sbx --devices 'ESME=1' --smki-port 18083
	[ "$(jq -r .profiles.sandbox.smki_url sbx/hanfw.json)" = https://127.0.0.1:18083 ]
	run -0 hanfw --config sbx/hanfw.json config show --json
	[ "$(jq -r .settings.smki_url.value <<<"$output")" = https://127.0.0.1:18083 ]
	SBX=sbx start_smki
	[[ "$SMKI" == https://* ]]
	eui=$(jq -r '.devices[] | select(.type == "ESME") | .eui' sbx/estate.json)
	[ "$(smki /services/certificatesearch?apikey=$KEY "$(search_alt "$eui")" --cacert sbx/tls/ca.pem)" = 200 ]
	# Without --smki-listen but with --listen: no SMKI service, one start-up line as before.
	stop_servers
	"$HANFW" sandbox serve --dir sbx --listen 127.0.0.1:0 > url.txt 2> serve.log &
	SERVE_PID=$!
	for _ in $(seq 1 300); do [ -s url.txt ] && break; sleep 0.1; done
	[ "$(wc -l < url.txt)" = 1 ]
	run -2 --separate-stderr hanfw sandbox init other --smki-port 0
}

@test "GCS38: a gas meter's version answer is the RTDS's GBZ shape and decodes through hanfw's own decoder" {
	SBX=$PWD/sbx
	run -0 hanfw sandbox init sbx --devices 'GSME=2'
	export HANFW_CONFIG=$PWD/sbx/hanfw.json HANFW_LEDGER=$(test_ledger)
	start_receiver
	start_sandbox --receive-url "$RX_URL" --faults read-error=0.5 --seed 1
	jq -r '.devices[] | select(.type == "GSME") | .eui' sbx/estate.json > gsmes
	hanfw -q read-version --devices gsmes
	wait_count 2 GBCSPayload
	ok=0 failed=0
	for f in rx/*.xml; do
		grep -q '<sr:GBCSPayload>' "$f" || continue
		run -0 hanfw status decode --json "$f"
		output=$(jq '.[0]' <<<"$output")
		[ "$(jq -r .message.GBCSPayload.use_case <<<"$output")" = "GCS38 read firmware version response" ]
		# The GBZ bytes, after the DD header and the General Signing header: the RTDS's, but for the version.
		gbz=$(sed -n 's:.*<sr\:GBCSPayload>\(.*\)</sr\:GBCSPayload>.*:\1:p' "$f" | base64 -d | xxd -p | tr -d '\n')
		if [ "$(jq -r .message.GBCSPayload.content.outcome <<<"$output")" = success ]; then
			v=$(jq -r .message.GBCSPayload.content.firmware_version <<<"$output")
			[ "$v" = "$(jq -r --arg e "$(jq -r .message.GBCSPayload.originator <<<"$output")" '.devices[] | select(.eui == $e) | .firmware_version' sbx/estate.json)" ]
			[[ "$gbz" == *"008414010901010702000c0800010602004104${v,,}00"* ]]
			ok=$((ok + 1))
		else
			[ "$(jq -r .message.GBCSPayload.content.gbz_error <<<"$output")" = "UNSUPPORTED_ATTRIBUTE (0x86)" ]
			[[ "$gbz" == *"00840e010901010702000608000106028600"* ]]
			failed=$((failed + 1))
		fi
	done
	[ $((ok + failed)) = 2 ]
	[ "$ok" = 1 ] && [ "$failed" = 1 ]	# the seed makes one of each
}

@test "8.2: each Device carries what the estate knows, in the DUIS 5.4 order; an Alt HAN bridge is a PPMID; values DUIS does not allow are left out" {
	run -0 hanfw sandbox init sbx --devices 'ESME=1,GSME=1'
	hub=$(jq -r '[.devices[] | select(.type == "CHF")][0].eui' sbx/estate.json)
	esme=$(jq -r '[.devices[] | select(.type == "ESME")][0].eui' sbx/estate.json)
	gsme=$(jq -r '[.devices[] | select(.type == "GSME")][0].eui' sbx/estate.json)
	# The ESME with every inventory field, the GSME with values outside DUIS's types, and an Alt HAN bridge.
	jq --arg e "$esme" --arg g "$gsme" --arg h "$hub" '
		.devices |= map(if .eui == $e then . + {status: "Commissioned", manufacturer: "106C", model: "433100AC",
			chts_version: "SMETS2 CHTS 4.0", firmware_status: "Active", cpl_status: "Withdrawn",
			date_commissioned: "2024-03-01", mpxn: "1234567890123", uprn: "123456789012", region: "North",
			gbcs_version: "4.0", han_variant: "Single Band", s1sp: "S1SP-A", connectivity: "Cellular"}
		elif .eui == $g then . + {region: "Atlantis", connectivity: "Carrier pigeon", uprn: "12ab", date_commissioned: "yesterday",
			mpxn: "12345678901234", manufacturer: "a name well over thirty characters long"}
		else . end)
		| .devices += [{eui: "00-DB-12-E0-00-00-00-01", type: "ALTHAN-B3", comms_hub: $h, status: "Commissioned", firmware_version: "02000000"}]' \
		sbx/estate.json > e.json && mv e.json sbx/estate.json
	SBX=sbx start_sandbox --plain-http
	inventory_request "$esme" req.xml
	curl -sS -H 'Content-Type: application/xml' --data-binary @req.xml "$HANFW_ENDPOINT/serviceD" > answer.xml
	run -0 hanfw --config sbx/hanfw.json verify answer.xml
	without_signature answer.xml plain.xml
	xmllint --noout --schema "$SHARED/dcc/duis-5.4/DUIS-Schema-V5.4.xsd" plain.xml
	device() { /usr/bin/python3 - "$1" "$2" <<-'PY'
	import sys, xml.etree.ElementTree as E
	ns = "{http://www.dccinterface.co.uk/ServiceUserGateway}"
	for d in E.parse(sys.argv[1]).getroot().iter(ns + "Device"):
	    if d.find(ns + "DeviceID").text == sys.argv[2]:
	        print(" ".join("%s=%s" % (c.tag[len(ns):], c.text or "") for c in d))
	PY
	}
	[ "$(device plain.xml "$esme")" = "DeviceID=$esme DeviceType=ESME DeviceStatus=Commissioned DeviceManufacturer=106C DeviceModel=433100AC SMETSCHTSVersion=SMETS2 CHTS 4.0 DeviceFirmwareVersion=01000000 DeviceFirmwareVersionStatus=Active CPLStatus=Withdrawn DateCommissioned=2024-03-01 ImportMPxN=1234567890123 UPRN=123456789012 CSPRegion=North DeviceGBCSVersion=4.0 HANVariant=Single Band S1SP=S1SP-A Connectivity=Cellular" ]
	[ "$(device plain.xml "$gsme")" = "DeviceID=$gsme DeviceType=GSME DeviceStatus=Commissioned DeviceManufacturer= DeviceModel= DeviceFirmwareVersion=01000000" ]
	[ "$(device plain.xml 00-DB-12-E0-00-00-00-01)" = "DeviceID=00-DB-12-E0-00-00-00-01 DeviceType=PPMID DeviceStatus=Commissioned DeviceManufacturer= DeviceModel= DeviceFirmwareVersion=02000000" ]
	# The same premises by the ESME's MPxN and by its UPRN; an MPxN nobody has is E19.
	ids() { grep -o '<sr:DeviceID>[^<]*' "$1" | sed 's/.*>//' | sort | tr '\n' ' '; }
	for key in MPxN:1234567890123 UPRN:123456789012 MPxN:9999999999999; do
		sed "s:<sr\:DeviceID>00-DB-12-34-56-78-90-A2</sr\:DeviceID>:<sr\:${key%%:*}>${key#*:}</sr\:${key%%:*}>:" \
			"$SHARED/dcc/templates/8.2_READ_INVENTORY_REQUEST_DUIS.XML" > k.unsigned
		hanfw --config sbx/hanfw.json sign --new-counter k.unsigned -o k.xml
		curl -sS -H 'Content-Type: application/xml' --data-binary @k.xml "$HANFW_ENDPOINT/serviceD" > k.answer
		if [ "${key#*:}" = 9999999999999 ]; then
			grep -q '<sr:ResponseCode>E19</sr:ResponseCode>' k.answer
		else
			grep -q '<sr:ResponseCode>I0</sr:ResponseCode>' k.answer
			[ "$(ids k.answer)" = "$(ids plain.xml)" ]
		fi
	done
}
