#!/usr/bin/env bats
# hanfw sandbox init: the sandbox's world, usable by the other commands.

load helpers

setup() { setup_hanfw; }

teardown() { stop_servers; }

@test "init makes an SMKI-shaped PKI, TLS, an estate and a working profile" {
	# The profile's own ledger, a file in the sandbox, is part of what init makes: SQLite in both passes.
	unset HANFW_LEDGER
	run -0 hanfw sandbox init sbx --device-keys
	[[ "$output" == "sandbox ready in 'sbx'"* ]]
	for f in pki/ca.pem pki/supplier-ds.pem pki/supplier-xml.pem pki/dcc-xml.pem pki/acb-ds.pem \
		tls/ca.pem tls/server.pem tls/client.pem trust/dcc-xml.pem estate.json hanfw.json; do
		[ -s "sbx/$f" ]
	done
	[ "$(stat -c %a sbx/pki/supplier-ds.key)" = 600 ]
	openssl x509 -in sbx/pki/supplier-xml.pem -noout -subject -nameopt RFC2253 | grep -q 'x500UniqueIdentifier=#03090090B3D51F30010000,OU=87'
	openssl x509 -in sbx/pki/dcc-xml.pem -noout -subject -nameopt RFC2253 | grep -q 'x500UniqueIdentifier=#03090090B3D51F30000002,OU=89'
	openssl verify -CAfile sbx/pki/ca.pem sbx/pki/supplier-ds.pem
	openssl verify -CAfile sbx/tls/ca.pem -purpose sslserver sbx/tls/server.pem
	openssl verify -CAfile sbx/tls/ca.pem -purpose sslclient sbx/tls/client.pem
	openssl x509 -in sbx/tls/server.pem -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1'
	[ "$(ls sbx/devices/*-ds.pem | wc -l)" = "$(jq '.devices | length' sbx/estate.json)" ]
	# Devices' certificates are shaped as devices' are, and trusted apart from the XML trust.
	d=$(ls sbx/devices/*-ds.pem | head -1)
	[ "$(openssl x509 -in "$d" -noout -subject)" = "subject=" ]
	openssl x509 -in "$d" -noout -ext subjectAltName | grep -q 'critical'
	openssl verify -CAfile sbx/pki/ca.pem -untrusted sbx/pki/device-ca.pem "$d"
	cmp "$d" "sbx/trust/devices/${d##*/}"
	[ "$(ls sbx/trust/devices/*.pem | wc -l)" = "$(jq '.devices | length' sbx/estate.json)" ]
	[ "$(ls sbx/trust)" = "$(printf 'dcc-xml.pem\ndevices')" ]
	/usr/bin/python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
		"$BATS_TEST_DIRNAME/../../schemas/estate.schema.json" sbx/estate.json
	/usr/bin/python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
		"$BATS_TEST_DIRNAME/../../schemas/config.schema.json" sbx/hanfw.json
	# The profile is usable: sign with it, verify what the DCC key signs.
	run -0 hanfw --config sbx/hanfw.json config show --json
	[ "$(jq -r .settings.endpoint.value <<<"$output")" = https://127.0.0.1:8079/api/v1 ]
	hanfw --config sbx/hanfw.json sign "$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML" -o r.xml
	mkdir t && cp sbx/pki/supplier-xml.pem t/
	hanfw verify --trust t r.xml
	[ -f sbx/ledger.sqlite ]
}

@test "init: the issue's estate of PPMIDs and HCALCS on separate hubs" {
	run -0 hanfw sandbox init big --devices 'PPMID=1000;HCALCS=200' --port 18443
	[ "$(jq '[.devices[] | select(.type == "PPMID")] | length' big/estate.json)" = 1000 ]
	[ "$(jq '[.devices[] | select(.type == "HCALCS")] | length' big/estate.json)" = 200 ]
	# No hub serves both.
	[ "$(jq -r '[.devices[] | select(.type == "PPMID" or .type == "HCALCS") | .comms_hub] | (length - (unique | length))' big/estate.json)" = 0 ]
	[ "$(jq -r .profiles.sandbox.endpoint big/hanfw.json)" = https://127.0.0.1:18443/api/v1 ]
}

@test "init --zaz1 uses DCC Boxed's identities in place" {
	run -0 hanfw sandbox init z --zaz1 "$SHARED/dcc/zaz1" --devices ESME=1
	cmp z/trust/dcc-xml.pem "$SHARED/dcc/zaz1/dsp-xml-sign-90B3D51F30000002-ds.pem"
	[ "$(jq -r .profiles.sandbox.xml_signing_key z/hanfw.json)" = "$(realpath "$SHARED/dcc/zaz1")/xml-sign-90B3D51F30010000-ds.key" ]
	# The profile trusts every certificate DCC Boxed has signed with, so its real response verifies.
	run -0 hanfw --config z/hanfw.json verify "$SHARED/dcc/samples/11.2_readfw_response_signed.xml"
	[[ "$output" == *"signed by 90-B3-D5-1F-30-00-00-02"* ]]
	# And what it signs with the ZAZ1 XML key, xmlsec1 verifies with the ZAZ1 certificate.
	hanfw --config z/hanfw.json sign "$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML" -o r.xml
	xmlsec1 --verify --pubkey-cert-pem "$SHARED/dcc/zaz1/xml-sign-90B3D51F30010000-ds.pem" r.xml 2>/dev/null
}

@test "init refuses bad specs, occupied directories and missing ZAZ1 keys" {
	run -2 --separate-stderr hanfw sandbox init a --devices TOASTER=1
	one_line_error
	[[ "$stderr" == *"device spec 'TOASTER=1' is not TYPE=COUNT"* ]]
	mkdir b && touch b/x
	run -9 --separate-stderr hanfw sandbox init b
	[[ "$stderr" == *"'b' is not empty: give --force"* ]]
	run -0 hanfw sandbox init b --force --devices IHD=1
	run -9 --separate-stderr hanfw sandbox init c --zaz1 /no/such/dir
	one_line_error
	run -2 hanfw sandbox init d --port 0
	run -2 hanfw sandbox init
}

@test "serve: what the emulator cannot do as it happens reaches stderr through its log callback, one line each" {
	hanfw -q sandbox init sbx --devices PPMID=1
	rm sbx/tls/ca.pem	# the outbox's TLS CA for an https receive URL
	SBX=$PWD/sbx
	start_sandbox --plain-http --receive-url https://127.0.0.1:1/rrs
	for _ in $(seq 1 50); do [ "$(grep -c 'cannot deliver' serve.log)" -ge 2 ] && break; sleep 0.1; done
	# One line per delivery thread, as the emulator printed them when it lived in lib/.
	[ "$(grep -c "^hanfw: sandbox: cannot deliver to 'https://127.0.0.1:1/rrs': TLS CA '$SBX/tls/ca.pem' does not exist\$" serve.log)" = 2 ]
	[ "$(wc -l < serve.log)" = 2 ]
}
