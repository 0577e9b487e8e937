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
