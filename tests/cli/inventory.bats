#!/usr/bin/env bats
# hanfw inventory: the estate from SR 8.2 answers (saved, or asked of the
# sandbox), the supplier's records, and device certificates from an SMKI
# service.  Answers are built here in DCC Boxed's DUIS 5.4 shapes and signed
# with the test PKI's DCC XML-signing certificate (role 89) by xmlsec1.

load helpers

setup() {
	setup_hanfw
	P=$(pki)
	mkdir -p trust
	cp "$P/dcc-xml.pem" "$P/supplier-xml.pem" trust/
	SCHEMAS=$BATS_TEST_DIRNAME/../../schemas
}

teardown() {
	stop_servers
	[ -n "${SMKI_PID:-}" ] && kill "$SMKI_PID" 2>/dev/null && wait "$SMKI_PID" 2>/dev/null || true
	SMKI_PID=
}

RID=90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02

# dev EUI TYPE STATUS|- [EXTRA]: one sr:Device in DUIS 5.4 order (- leaves DeviceStatus out, as for a CAD).
dev() {
	printf '<sr:Device><sr:DeviceID>%s</sr:DeviceID><sr:DeviceType>%s</sr:DeviceType>' "$1" "$2"
	[ "$3" = - ] || printf '<sr:DeviceStatus>%s</sr:DeviceStatus>' "$3"
	printf '<sr:DeviceManufacturer>106C</sr:DeviceManufacturer><sr:DeviceModel>433100AC</sr:DeviceModel>%s</sr:Device>' "${4:-}"
}

# premises P: a CHF P0, ESME P1 (every field DCC Boxed gives), GPF P2, GSME P3, PPMID P4, CAD P5.
premises() {
	dev "${1}0" CHF Commissioned '<sr:DeviceFirmwareVersion>9001</sr:DeviceFirmwareVersion><sr:CSPRegion>North</sr:CSPRegion>'
	dev "${1}1" ESME Commissioned '<sr:SMETSCHTSVersion>V5.0</sr:SMETSCHTSVersion><sr:DeviceFirmwareVersion>9001</sr:DeviceFirmwareVersion><sr:DeviceFirmwareVersionStatus>Active</sr:DeviceFirmwareVersionStatus><sr:CPLStatus>Active</sr:CPLStatus><sr:DateCommissioned>2024-03-01</sr:DateCommissioned><sr:ImportMPxN>1234567890123</sr:ImportMPxN><sr:UPRN>100023336956</sr:UPRN><sr:PropertyFilter><sr:PostCode>AB1 2CD</sr:PostCode><sr:AddressIdentifier>1 High Street</sr:AddressIdentifier></sr:PropertyFilter><sr:CSPRegion>North</sr:CSPRegion><sr:DeviceGBCSVersion>4.0</sr:DeviceGBCSVersion><sr:HANVariant>Single Band</sr:HANVariant>'
	dev "${1}2" GPF Commissioned
	dev "${1}3" GSME InstalledNotCommissioned '<sr:DeviceFirmwareVersion>9001</sr:DeviceFirmwareVersion>'
	dev "${1}4" PPMID Commissioned
	dev "${1}5" CAD -
}

# answer COUNTER CODE SR [DEVICES]: an unsigned compact Response to RID:COUNTER.
answer() {
	local body=""
	[ -n "${4:-}" ] && body="<sr:DSPInventory>$4</sr:DSPInventory>"
	printf '<?xml version="1.0" encoding="UTF-8"?><sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4"><sr:Header><sr:RequestID>%s:%s</sr:RequestID><sr:ResponseCode>%s</sr:ResponseCode><sr:ResponseDateTime>2026-11-27T10:00:00.000Z</sr:ResponseDateTime></sr:Header><sr:Body><sr:ResponseMessage><sr:ServiceReference>%s</sr:ServiceReference><sr:ServiceReferenceVariant>%s</sr:ServiceReferenceVariant>%s</sr:ResponseMessage></sr:Body></sr:Response>' \
		"$RID" "$1" "$2" "$3" "$3" "$body"
}

# signed OUT COUNTER PREFIX [KEY CERT]: a premises' I0 answer signed by the DCC (or by KEY/CERT).
signed() {
	answer "$2" I0 8.2 "$(premises "$3")" > "$1.unsigned"
	xmlsec_sign "$1.unsigned" "$1" "${4:-$P/dcc-xml.key}" "${5:-$P/dcc-xml.pem}"
	rm -f "$1.unsigned"
}

validate() { # validate SCHEMA FILE
	python3 - "$1" "$2" <<-'PY'
	import json, sys, jsonschema
	schema = json.load(open(sys.argv[1]))
	jsonschema.Draft202012Validator.check_schema(schema)
	jsonschema.Draft202012Validator(schema, format_checker=None).validate(json.load(open(sys.argv[2])))
	PY
}

@test "inventory --from: two premises' signed answers make one estate, every DCC field kept, the CHF the hub" {
	signed a.xml 1 00-DB-12-34-56-78-90-A
	signed b.xml 2 00-DB-12-34-56-78-90-B
	run -0 --separate-stderr hanfw inventory --from a.xml b.xml --trust trust --no-certificates -o estate.json --json
	[ -z "$stderr" ]
	echo "$output" > summary.json
	validate "$SCHEMAS/inventory.schema.json" summary.json
	[ "$(jq -r '.devices, .source, (.answers | length), .answers[0].response_code' summary.json | tr '\n' ' ')" = "12 files 2 I0 " ]
	validate "$SCHEMAS/estate.schema.json" estate.json
	[ "$(jq -r .format estate.json)" = hanfw-estate-2 ]
	# In EUI order; the ESME with everything DCC Boxed lists.
	[ "$(jq -r '.devices[0].eui, .devices[11].eui' estate.json | tr '\n' ' ')" = "00-DB-12-34-56-78-90-A0 00-DB-12-34-56-78-90-B5 " ]
	jq -e '.devices[] | select(.eui == "00-DB-12-34-56-78-90-A1") |
		.type == "ESME" and .status == "Commissioned" and .manufacturer == "106C" and .model == "433100AC" and
		.firmware_version == "9001" and .firmware_status == "Active" and .cpl_status == "Active" and
		.chts_version == "V5.0" and .gbcs_version == "4.0" and .region == "North" and .han_variant == "Single Band" and
		.date_commissioned == "2024-03-01" and .mpxn == "1234567890123" and .uprn == "100023336956" and
		.comms_hub == "00-DB-12-34-56-78-90-A0"' estate.json
	jq -e '.devices[] | select(.eui == "00-DB-12-34-56-78-90-B5") | .type == "CAD" and (has("status") | not) and .comms_hub == "00-DB-12-34-56-78-90-B0"' estate.json
	jq -e '.devices[] | select(.eui == "00-DB-12-34-56-78-90-B3") | .status == "InstalledNotCommissioned"' estate.json
	# Nothing was asked, so nothing needed a ledger, signer or adapter.
	no_ledger "$(test_ledger "$XDG_DATA_HOME/hanfw/ledger.sqlite")"	# on SQLite the default ledger
}

# refused FILE STATUS TEXT: --from with a good answer and FILE is refused in one line naming FILE and TEXT, writing nothing.
refused() {
	run -"$2" --separate-stderr hanfw inventory --from good.xml "$1" --trust trust --no-certificates -o estate.json
	one_line_error
	[[ "$stderr" == *"'$1'"* ]] || { echo "$stderr"; false; }
	[[ "$stderr" == *"$3"* ]] || { echo "$stderr"; false; }
	[ ! -e estate.json ]
	[ -z "$(ls -A | grep estate)" ]	# no temporary file left either
}

@test "inventory --from refuses a forged signer role, another service, bad XML and an oversized file, writing nothing" {
	signed good.xml 1 00-DB-12-34-56-78-90-A
	# Signed by the supplier's XML certificate (role 87), which may not sign a Response.
	signed forged.xml 2 00-DB-12-34-56-78-90-B "$P/supplier-xml.key" "$P/supplier-xml.pem"
	refused forged.xml 4 "role"
	# The DCC's genuine answer, to another service.
	answer 3 I0 11.2 > other.unsigned
	xmlsec_sign other.unsigned other.xml "$P/dcc-xml.key" "$P/dcc-xml.pem"
	rm other.unsigned
	refused other.xml 3 "not SR 8.2"
	printf '<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"><sr:Header>' > bad.xml
	refused bad.xml 3 ""
	# A DSPInventory the schema refuses (DeviceStatus no DUIS status), signed by the DCC.
	answer 4 I0 8.2 "$(dev 00-DB-12-34-56-78-90-C1 ESME Happy)" > inv.unsigned
	xmlsec_sign inv.unsigned invalid.xml "$P/dcc-xml.key" "$P/dcc-xml.pem"
	rm inv.unsigned
	refused invalid.xml 3 "DeviceStatus"
	head -c 300000 /dev/zero | tr '\0' ' ' > big.xml
	refused big.xml 12 "limit"
	# Tampered after signing.
	sed 's/433100AC/433100AD/' good.xml > tampered.xml
	refused tampered.xml 4 ""
}

@test "inventory --supplier: a bridge makes a PPMID ALTHAN-Bn, a record the DCC does not list is warned of and not added" {
	signed a.xml 1 00-DB-12-34-56-78-90-A
	cat > sites.csv <<-EOF
	eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy
	00-DB-12-34-56-78-90-A4,B3,SITE-7,Secure,1,513,A,1
	00-DB-12-34-56-78-90-A1,,SITE-7,FOC,0,,,0
	00-DB-12-34-56-78-90-FF,,SITE-9,,0,,,0
	EOF
	run -0 --separate-stderr hanfw inventory --from a.xml --supplier sites.csv --trust trust --no-certificates -o estate.json
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "hanfw: warning: supplier record 4: 00-DB-12-34-56-78-90-FF is not in the DCC's inventory: not added" ]]
	[[ "$output" == *"2 supplier records applied, 1 not in the inventory"* ]]
	[ "$(jq '.devices | length' estate.json)" = 6 ]
	jq -e '.devices[] | select(.eui == "00-DB-12-34-56-78-90-A4") | .type == "ALTHAN-B3" and .site == "SITE-7" and
		.installation == "Secure" and .third_party == true and .hardware_version == 513 and .althan_option == "A" and
		.manufacturer == "106C"' estate.json
	jq -e '.devices[] | select(.eui == "00-DB-12-34-56-78-90-A1") | .installation == "FOC" and .mpxn == "1234567890123"' estate.json
	# The JSON form reads alike and validates against its schema.
	printf '{"format":"hanfw-supplier-1","devices":[{"eui":"00-DB-12-34-56-78-90-A4","bridge":"B4","third_party":true}]}' > sites.json
	validate "$SCHEMAS/supplier.schema.json" sites.json
	run -0 hanfw inventory --from a.xml --supplier sites.json --trust trust --no-certificates -o e2.json
	jq -e '.devices[] | select(.eui == "00-DB-12-34-56-78-90-A4") | .type == "ALTHAN-B4"' e2.json
}

@test "inventory --supplier refuses a bad record in one line naming its line and field, before anything else" {
	signed a.xml 1 00-DB-12-34-56-78-90-A
	printf 'eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n00-DB-12-34-56-78-90-A4,B3,,,0,,,0\n00-DB-12-34-56-78-90-A1,,,Remote,0,,,0\n' > bad.csv
	run -3 --separate-stderr hanfw inventory --from a.xml --supplier bad.csv --trust trust --no-certificates -o estate.json
	one_line_error
	[[ "$stderr" == *"bad.csv' line 3: installation 'Remote'"* ]]
	[ ! -e estate.json ]
	# A bridge on a meter: refused, naming the line.
	printf 'eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n00-DB-12-34-56-78-90-A1,B1,,,0,,,0\n' > meter.csv
	run -3 --separate-stderr hanfw inventory --from a.xml --supplier meter.csv --trust trust --no-certificates -o estate.json
	one_line_error
	[[ "$stderr" == *"supplier records 'meter.csv' line 2: bridge B1 for 00-DB-12-34-56-78-90-A1, which the DCC lists as ESME"* ]]
	[ ! -e estate.json ]
}

@test "inventory --mpxn refuses a bad line, naming it, before anything is set up" {
	printf '1234567890123\nnot an mpxn!\n' > m.txt
	run -3 --separate-stderr hanfw inventory --mpxn m.txt -o e.json
	one_line_error
	[[ "$stderr" == *"'m.txt' line 2: 'not an mpxn!' is not an MPxN"* ]]
	[ ! -e e.json ]
}

@test "inventory: usage errors, and smki_url unset is a warning, not a failure" {
	signed a.xml 1 00-DB-12-34-56-78-90-A
	run -2 hanfw inventory --from a.xml --trust trust
	run -2 hanfw inventory --from --devices x.txt -o e.json
	run -2 hanfw inventory -o e.json
	run -0 --separate-stderr hanfw inventory --from a.xml --trust trust -o estate.json
	[ "$stderr" = "hanfw: warning: smki_url is not set: no device certificates fetched (device GBCS signatures stay unchecked)" ]
	[ -s estate.json ]
}

# start_smki DIR: a stand-in for DCC Boxed's SMKI service (dccboxed-keystore's API) serving DIR/<eui>-ds.pem;
# a file DIR/<eui>.wrong names another EUI whose certificate is served instead.
start_smki() {
	cat > smki.py <<-'PY'
	import base64, http.server, os, re, ssl, sys
	root = sys.argv[1]
	class H(http.server.BaseHTTPRequestHandler):
	    def log_message(self, *a): pass
	    def reply(self, code, body=b''):
	        self.send_response(code); self.send_header('Content-Type', 'application/xml')
	        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
	    def do_POST(self):
	        body = self.rfile.read(int(self.headers['Content-Length'])).decode()
	        if 'apikey=u3bg9gt38htd0j2' not in self.path: return self.reply(401)
	        if self.path.startswith('/services/certificatesearch'):
	            eui = re.search(r'<CertificateSubjectAltName>([^<]*)<', body).group(1).replace('-', '').lower()
	            if not os.path.exists(f'{root}/{eui}-ds.pem'): return self.reply(402)
	            r = ''.join(f'<Result><CertificateSerial>{s}</CertificateSerial><CertificateUsage>{u}</CertificateUsage><CertificateStatus>{st}</CertificateStatus><CertificateRole>127</CertificateRole></Result>'
	                        for s, u, st in ((eui + 'ka', 'KA', 'I'), ('0' + eui, 'DS', 'N'), (eui, 'DS', 'I')))
	            return self.reply(200, f'<?xml version="1.0"?><CertificateSearchResponse>{r}</CertificateSearchResponse>'.encode())
	        serial = re.search(r'<CertificateSerial>([^<]*)<', body).group(1)
	        if os.path.exists(f'{root}/{serial}.wrong'): serial = open(f'{root}/{serial}.wrong').read().strip()
	        pem = open(f'{root}/{serial}-ds.pem').read()
	        der = ssl.PEM_cert_to_DER_cert(pem)
	        self.reply(200, f'<CertificateDataResponse><CertificateResponse><CertificateSubjectAltName>{serial}</CertificateSubjectAltName><CertificateBody>{base64.b64encode(der).decode()}</CertificateBody></CertificateResponse></CertificateDataResponse>'.encode())
	s = http.server.HTTPServer(('127.0.0.1', 0), H)
	open('smki.port', 'w').write(str(s.server_port))
	s.serve_forever()
	PY
	python3 smki.py "$1" &
	SMKI_PID=$!
	for _ in $(seq 1 100); do [ -s smki.port ] && break; sleep 0.1; done
	export HANFW_SMKI_URL="http://127.0.0.1:$(cat smki.port)"
}

@test "inventory fetches each device's in-use DS certificate from the SMKI service into trust/devices, checked" {
	run -0 hanfw sandbox init sbx
	# The sandbox's own devices, and answers naming them.
	hub=$(jq -r '[.devices[] | select(.type == "CHF")][0].eui' sbx/estate.json)
	esme=$(jq -r --arg h "$hub" '[.devices[] | select(.type == "ESME" and .comms_hub == $h)][0].eui' sbx/estate.json)
	gsme=$(jq -r --arg h "$hub" '[.devices[] | select(.type == "GSME" and .comms_hub == $h)][0].eui' sbx/estate.json)
	answer 1 I0 8.2 "$(dev "$hub" CHF Commissioned)$(dev "$esme" ESME Commissioned)$(dev "$gsme" GSME Commissioned)$(dev 00-DB-12-34-56-78-90-A9 CAD -)" > a.unsigned
	xmlsec_sign a.unsigned a.xml "$P/dcc-xml.key" "$P/dcc-xml.pem"
	start_smki sbx/devices
	run -0 --separate-stderr hanfw inventory --from a.xml --trust trust -o estate.json --json
	[ -z "$stderr" ]
	# The hub has no certificate in this sandbox (its devices that sign GBCS do), nor has the CAD.
	[ "$(jq -c .certificates <<<"$output")" = '{"fetched":true,"stored":2,"none":2}' ]
	hex() { tr -d '-' <<<"$1" | tr 'A-F' 'a-f'; }
	cmp <(openssl x509 -in "sbx/devices/$(hex "$esme")-ds.pem" -outform DER) <(openssl x509 -in "trust/devices/$(hex "$esme")-ds.pem" -outform DER)
	[ -f "trust/devices/$(hex "$gsme")-ds.pem" ]
	[ ! -e trust/devices/00db1234567890a9-ds.pem ]
	# The trust directory, devices/ and all, still loads: what was stored is where hanfw finds it.
	run -0 hanfw verify --trust trust a.xml
	# A service that answers with another device's certificate: refused, not stored; the estate is written.
	rm trust/devices/*
	echo "$(hex "$gsme")" > "sbx/devices/$(hex "$esme").wrong"
	run -10 --separate-stderr hanfw inventory --from a.xml --trust trust -o estate2.json
	[[ "$stderr" == *"is the device certificate of $gsme: not stored"* ]]
	[ ! -e "trust/devices/$(hex "$esme")-ds.pem" ]
	[ -s estate2.json ]
}

@test "inventory live against the sandbox: signed 8.2 answers reproduce its estate, every request in the ledger" {
	run -0 hanfw sandbox init sbx
	SBX=sbx start_sandbox --plain-http
	export HANFW_LEDGER=$(test_ledger)
	gsme=$(jq -r '[.devices[] | select(.type == "GSME")][0].eui' sbx/estate.json)
	run --separate-stderr hanfw --config sbx/hanfw.json inventory "$gsme" -o probe.json --no-certificates
	if [ "$status" -ne 0 ] && grep -q E41 <<<"$stderr"; then
		skip "this sandbox answers SR 8.2 with E41"
	fi
	[ "$status" -eq 0 ]
	# Every device of the sandbox as a search key: one request per premises, the others covered.
	jq -r '.devices[].eui' sbx/estate.json > all.txt
	run -0 --separate-stderr hanfw --config sbx/hanfw.json inventory --devices all.txt 00-DB-12-99-99-99-99-99 \
		-o estate.json --no-certificates --json
	hubs=$(jq '[.devices[] | select(.type == "CHF")] | length' sbx/estate.json)
	[ "$(jq .outcomes.found <<<"$output")" = "$hubs" ]
	[ "$(jq .outcomes.not_found <<<"$output")" = 1 ]
	[ "$(jq .outcomes.covered <<<"$output")" = "$(( $(wc -l < all.txt) - hubs ))" ]
	[[ "$stderr" == *"00-DB-12-99-99-99-99-99: not found"* ]]
	# An MPxN search key (the sandbox finds premises by device only: E19), sent as sr:MPxN.
	printf '1234567890123\n\n' > mpxns.txt
	run -0 --separate-stderr hanfw --config sbx/hanfw.json inventory --mpxn mpxns.txt -o m.json --no-certificates
	[[ "$stderr" == *"MPxN 1234567890123: not found"* ]]
	# Field for field what SR 8.2 carries: EUI, type, hub, status, firmware version.
	pick='[.devices[] | {eui, type, comms_hub, status, firmware_version}] | sort_by(.eui)'
	diff <(jq -S "$pick" sbx/estate.json) <(jq -S "$pick" estate.json)
	# Each request in the ledger, as SR 8.2 with its outcome, never a RequestID twice.
	[ "$(ledger_sql "select count(*) from requests where service_reference = '8.2'")" = $((hubs + 3)) ]
	[ "$(ledger_sql "select count(distinct state) from requests where service_reference = '8.2' and state in ('found','not_found')")" = 2 ]
}

@test "inventory: an adapter that cannot be reached stops it (exit 5), nothing written, the request kept in the ledger as not sent" {
	run -0 hanfw sandbox init sbx
	export HANFW_LEDGER=$(test_ledger)
	# A port nothing listens on.
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	run -5 --separate-stderr env HANFW_ENDPOINT="http://127.0.0.1:$port/api/v1" \
		"$HANFW" --config sbx/hanfw.json inventory 00-DB-12-34-56-78-90-A1 -o estate.json --no-certificates
	one_line_error
	[ ! -e estate.json ]
	[ "$(ledger_sql "select service_reference, state from requests")" = "8.2|not_sent" ]
}

@test "inventory: an estate that cannot be written is refused (exit 9) before any request is signed or sent" {
	run -0 hanfw sandbox init sbx
	export HANFW_LEDGER=$(test_ledger)
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	run -9 --separate-stderr env HANFW_ENDPOINT="http://127.0.0.1:$port/api/v1" \
		"$HANFW" --config sbx/hanfw.json inventory 00-DB-12-34-56-78-90-A1 -o no/such/dir/estate.json --no-certificates
	one_line_error
	[[ "$stderr" == *"'no/such/dir'"* ]]
	# Nothing signed: no request in the ledger (there is none at all).
	no_ledger || [ "$(ledger_sql "select count(*) from requests")" = 0 ]
	# A directory as the estate, with --from: named before the answers are read.
	run -9 --separate-stderr hanfw inventory --from a.xml -o sbx --no-certificates
	one_line_error
	[[ "$stderr" == *"'sbx': it is a directory"* ]]
}

@test "inventory live with the sandbox's own SMKI service: every signing device's certificate in the device store" {
	run -0 hanfw sandbox init sbx
	"$HANFW" sandbox serve --dir sbx --listen 127.0.0.1:0 --smki-listen 127.0.0.1:0 --plain-http --json > up.json 2> serve.log &
	SERVE_PID=$!
	for _ in $(seq 1 300); do [ -s up.json ] && break; sleep 0.1; done
	export HANFW_ENDPOINT=$(jq -r .url up.json) HANFW_SMKI_URL=$(jq -r .smki_url up.json) HANFW_LEDGER=$(test_ledger)
	[[ "$HANFW_SMKI_URL" == http://127.0.0.1:* ]]
	jq -r '.devices[].eui' sbx/estate.json > all.txt
	rm -f sbx/trust/devices/*
	run -0 --separate-stderr hanfw --config sbx/hanfw.json inventory --devices all.txt -o estate.json --json
	[ -z "$stderr" ]
	# Each device with a digital-signing certificate in the sandbox has it in the device store now, the same DER.
	want=$(ls sbx/devices | grep -c -- '-ds.pem$')
	[ "$(jq .certificates.stored <<<"$output")" = "$want" ]
	[ "$(jq .certificates.none <<<"$output")" = "$(( $(wc -l < all.txt) - want ))" ]
	for f in sbx/devices/*-ds.pem; do
		cmp <(openssl x509 -in "$f" -outform DER) <(openssl x509 -in "sbx/trust/devices/$(basename "$f")" -outform DER)
	done
	# The trust directory loads with them, as every command loads it.
	hanfw --config sbx/hanfw.json inventory --devices all.txt -o again.json --no-certificates
}
