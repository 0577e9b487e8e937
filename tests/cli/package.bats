#!/usr/bin/env bats
# hanfw package build / inspect, against the DCC's sample images.

load helpers

setup() { setup_hanfw; }

PPMID_ARGS=(--device-type PPMID --manufacturer-code 0x121D --image-type 0x0084 --file-version 0xACDCACDC
	--header-string "I am a GFI PPMID firmware image " --hw-min 0x1111 --hw-max 0x1211)
ESME_ARGS=(--device-type ESME --manufacturer-code 0x121D --image-type 0 --file-version 0xACDCACDC
	--header-string "I am a GFI ESME[] firmware image" --hw-min 0x1111 --hw-max 0x1211)

@test "inspect: the 11.1 sample decodes to the documented fields and its trailer verifies" {
	template_image 11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML esme.bin
	run -0 hanfw package inspect esme.bin --route 11.1 --cert "$SHARED/dcc/zaz1/Z1-supplier-ds.pem"
	[[ "$output" == *"361 bytes, route SR 11.1 (--route)"* ]]
	[[ "$output" == *"upgrade file identifier      0x0BEEF11E"* ]]
	[[ "$output" == *"header version               0x0100"* ]]
	[[ "$output" == *"header length                60"* ]]
	[[ "$output" == *"field control                0x0004"* ]]
	[[ "$output" == *"manufacturer code            0x121D"* ]]
	[[ "$output" == *"image type                   0x0000"* ]]
	[[ "$output" == *"file version                 0xACDCACDC"* ]]
	[[ "$output" == *"zigbee stack version         0x0002"* ]]
	[[ "$output" == *'header string                "I am a GFI ESME[] firmware image"'* ]]
	[[ "$output" == *"total image size             361"* ]]
	[[ "$output" == *"hardware versions            0x1111 to 0x1211"* ]]
	[[ "$output" == *"manufacturer image           235 bytes at offset 60"* ]]
	[[ "$output" == *"signature trailer            64 bytes at offset 297, verified"* ]]
	[[ "$output" == *"signer                       90-B3-D5-1F-30-01-00-00 (OU=02"* ]]
	[[ "$output" == *"manufacturer image sha256    7542f475e3f12eae887d81e32c46d313741d67076b13caec2f82e00ba5e1bb36"* ]]
}

@test "inspect: the 11.4 sample decodes to the documented fields, no trailer" {
	template_image 11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML ppmid.bin
	run -0 hanfw package inspect ppmid.bin --device-type PPMID --json
	[ "$(jq -r .ota_header.image_type <<<"$output")" = 132 ]
	[ "$(jq -r .ota_header.total_image_size <<<"$output")" = 295 ]
	[ "$(jq -r .ota_header.manufacturer_code <<<"$output")" = 4637 ]
	[ "$(jq -r .ota_header.file_version <<<"$output")" = 2900143324 ]
	[ "$(jq -r .ota_header.hardware_version_min <<<"$output")" = 4369 ]
	[ "$(jq -r .ota_header.hardware_version_max <<<"$output")" = 4625 ]
	[ "$(jq -r .ota_header.header_string <<<"$output")" = "I am a GFI PPMID firmware image " ]
	[ "$(jq -r .sizes.trailer <<<"$output")" = 0 ]
	[ "$(jq -r .manufacturer_image_sha256 <<<"$output")" = 7542f475e3f12eae887d81e32c46d313741d67076b13caec2f82e00ba5e1bb36 ]
	[ "$(jq -r .signature <<<"$output")" = none ]
}

@test "build: the PPMID route reproduces the DCC's 11.4 sample byte for byte" {
	sample_mi mi.bin
	run -0 hanfw package build mi.bin -o ppmid.img "${PPMID_ARGS[@]}"
	cmp ppmid.img sample.img
	[[ "$output" == *"SR 11.4 Update PPMID Firmware, no signature trailer"* ]]
	[ "$(jq -r .manufacturer_image_sha256 ppmid.img.json)" = 7542f475e3f12eae887d81e32c46d313741d67076b13caec2f82e00ba5e1bb36 ]
	[ "$(jq -r .firmware_version ppmid.img.json)" = ACDCACDC ]
	[ "$(jq -r .route.service_reference ppmid.img.json)" = 11.4 ]
	[ "$(jq -r .signer ppmid.img.json)" = null ]
	[ "$(jq -r .file_sha256 ppmid.img.json)" = "$(sha256sum ppmid.img | cut -c1-64)" ]
	run -0 hanfw package inspect ppmid.img
	[[ "$output" == *"(manifest)"* && *"manifest                     ppmid.img.json"* ]]
}

@test "build: the ESME route matches the 11.1 sample up to the signature, which openssl verifies" {
	sample_mi mi.bin
	template_image 11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML esme-sample.bin
	run -0 hanfw package build mi.bin -o esme.img "${ESME_ARGS[@]}" \
		--key "$SHARED/dcc/zaz1/Z1-supplier-ds.key" --cert "$SHARED/dcc/zaz1/Z1-supplier-ds.pem"
	[ "$(stat -c %s esme.img)" = 361 ]
	cmp -n 297 esme.img esme-sample.bin
	[ "$(jq -r .signer.eui esme.img.json)" = 90-B3-D5-1F-30-01-00-00 ]
	[ "$(jq -r .signer.serial esme.img.json)" = 105986833131214866166891566273223584671 ]
	# Independent check: openssl over the ManufacturerImage with the RTDS copy of the certificate.
	printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' \
		"$(hex_of esme.img 297 32)" "$(hex_of esme.img 329 32)" > sig.cnf
	openssl asn1parse -genconf sig.cnf -out sig.der -noout
	head -c 295 esme.img | tail -c 235 > signed.bin
	openssl x509 -in "$SHARED/gbcs/keystore/90b3d51f30010000-ds.pem" -pubkey -noout > pub.pem
	openssl dgst -sha256 -verify pub.pem -signature sig.der signed.bin
	run -0 hanfw package inspect esme.img --cert "$SHARED/dcc/zaz1/Z1-supplier-ds.pem"
	[[ "$output" == *"verified"* ]]
}

@test "build: keys and certificates from the project's own PKI, by config profile" {
	sample_mi mi.bin
	p=$(pki)
	cat > hanfw.json <<-JSON
	{"profiles": {"test": {"gbcs_signing_key": "$p/supplier-ds.key", "gbcs_signing_cert": "$p/supplier-ds.pem"}}}
	JSON
	run -0 hanfw package build mi.bin -o hcalcs.img --device-type HCALCS --manufacturer-code 1 \
		--image-type 2 --file-version 3
	[ "$(jq -r .route.activation hcalcs.img.json)" = 11.3 ]
	[ "$(jq -r .ota_header.field_control hcalcs.img.json)" = 0 ]
	[ "$(jq -r .sizes.header hcalcs.img.json)" = 56 ]
	run -0 hanfw package inspect hcalcs.img --cert "$p/supplier-ds.pem"
	run -4 --separate-stderr hanfw package inspect hcalcs.img --cert "$p/other-ds.pem"
	one_line_error
	[[ "$stderr" == *"does not verify with certificate"* ]]
}

@test "build: an encrypted key is read with the passphrase from the environment" {
	sample_mi mi.bin
	p=$(pki)
	openssl pkcs8 -topk8 -in "$p/supplier-ds.key" -out enc.key -passout pass:letmein -v2 aes-256-cbc
	export HANFW_KEY_PASSPHRASE=letmein
	run -0 hanfw package build mi.bin -o g.img --device-type GSME --manufacturer-code 1 --image-type 2 \
		--file-version 3 --key enc.key --cert "$p/supplier-ds.pem"
	unset HANFW_KEY_PASSPHRASE
	run -10 --separate-stderr hanfw package build mi.bin -o h.img --device-type GSME --manufacturer-code 1 \
		--image-type 2 --file-version 3 --key enc.key --cert "$p/supplier-ds.pem" </dev/null
	one_line_error
	[[ "$stderr" == *"is encrypted: set HANFW_KEY_PASSPHRASE"* ]]
	[ ! -e h.img ]
}

@test "build: optional header fields, firmware version and every device route" {
	sample_mi mi.bin
	run -0 hanfw package build mi.bin -o d.img --device-type ALTHAN-B3 --manufacturer-code 0x1 --image-type 0x2 \
		--file-version 0x01020304 --destination 00-db-12-34-56-78-90-a4 --security-credential-version 2 --json
	[ "$(jq -r .ota_header.upgrade_file_destination <<<"$output")" = 00-DB-12-34-56-78-90-A4 ]
	[ "$(jq -r .ota_header.field_control d.img.json)" = 3 ]
	[ "$(jq -r .sizes.header d.img.json)" = 65 ]
	[ "$(jq -r .firmware_version d.img.json)" = 01020304 ]
	# security credential version, then the IEEE address least significant octet first
	[ "$(hex_of d.img 56 9)" = 02a49078563412db00 ]
	run -0 --separate-stderr hanfw package build mi.bin -o e.img --device-type IHD --allow-ihd --manufacturer-code 1 \
		--image-type 2 --file-version 3 --firmware-version abcdef01
	[ "$(jq -r .firmware_version e.img.json)" = ABCDEF01 ]
	[[ "$stderr" == *"warning: --firmware-version ABCDEF01 differs from the OTA file version 0x00000003"* ]]
}

@test "build: above the hub capacity warns, and --strict refuses" {
	head -c 800000 /dev/zero > big.bin
	run -0 --separate-stderr hanfw package build big.bin -o a.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3
	[[ "$stderr" == "hanfw: warning: image is 800056 bytes, more than the comms hub capacity of 750000"* ]]
	[ "$(jq -r .hub_capacity.exceeded a.img.json)" = true ]
	rm a.img a.img.json
	run -0 hanfw package build big.bin -o a.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3 --hub-capacity 900000
	[ "$(jq -r .hub_capacity.exceeded a.img.json)" = false ]
	rm a.img a.img.json
	run -12 --separate-stderr hanfw package build big.bin -o a.img --strict --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3
	one_line_error
	no_output_left
}

# ---- bad input: one line on stderr, the documented exit code, nothing written ----

bad_build() { # bad_build EXIT TEXT args...
	local code=$1 text=$2; shift 2
	run "-$code" --separate-stderr hanfw package build "$@"
	one_line_error
	[[ "$stderr" == *"$text"* ]] || { echo "stderr: $stderr"; return 1; }
	no_output_left
}

bad_inspect() { # bad_inspect EXIT TEXT args...
	local code=$1 text=$2; shift 2
	run "-$code" --separate-stderr hanfw package inspect "$@"
	one_line_error
	[[ "$stderr" == *"$text"* ]] || { echo "stderr: $stderr"; return 1; }
}

corrupt() { # corrupt OFFSET HEXBYTES: patch sample.img into bad.img
	cp sample.img bad.img
	printf '%s' "$2" | xxd -r -p | dd of=bad.img bs=1 seek="$1" conv=notrunc status=none
}

@test "bad input: truncated, wrong magic, short or inconsistent header, wrong size" {
	sample_mi mi.bin
	head -c 40 sample.img > bad.img
	bad_inspect 3 "truncated OTA header: 40 bytes" bad.img
	corrupt 0 1ef1ee0c
	bad_inspect 3 "bytes 0-3 are 1E F1 EE 0C, expected 1E F1 EE 0B" bad.img
	corrupt 6 3700
	bad_inspect 3 "header length 55 is less than the minimum of 56" bad.img
	corrupt 8 0500
	bad_inspect 3 "header length 60 does not match field control 0x0005 (which implies 61 bytes)" bad.img
	corrupt 52 2801
	bad_inspect 3 "total image size field says 296 bytes but the file is 295 bytes" bad.img
	corrupt 4 0002
	bad_inspect 3 "unsupported OTA header version 0x0200" bad.img
	corrupt 58 0011
	bad_inspect 3 "hardware version range is inverted" bad.img
}

@test "bad input: trailer length not 64, missing trailer, corrupt signature" {
	template_image 11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML esme.bin
	cp esme.bin bad.img
	# A length field saying 72, 72 bytes before the end, and no 00 40 where 64 would put it.
	printf '0048' | xxd -r -p | dd of=bad.img bs=1 seek=287 conv=notrunc status=none
	printf 'ffff' | xxd -r -p | dd of=bad.img bs=1 seek=295 conv=notrunc status=none
	bad_inspect 3 "signature trailer length is 72 bytes" bad.img --route 11.1
	template_image 11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML ppmid.bin
	bad_inspect 3 "no signature trailer: expected 00 40 at offset 229" ppmid.bin --device-type ESME
	cp esme.bin bad.img
	printf 'ff' | xxd -r -p | dd of=bad.img bs=1 seek=330 conv=notrunc status=none
	bad_inspect 4 "signature trailer of 'bad.img' does not verify" bad.img --cert "$SHARED/dcc/zaz1/Z1-supplier-ds.pem"
	bad_inspect 4 "has no signature trailer to verify" ppmid.bin --device-type PPMID --cert "$SHARED/dcc/zaz1/Z1-supplier-ds.pem"
}

@test "bad input: oversize and empty manufacturer images" {
	head -c 10240001 /dev/zero > big.bin
	bad_build 12 "more than the limit of 10240000" big.bin -o o.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3
	bad_inspect 12 "more than the limit of 10240000" big.bin
	head -c 10239990 /dev/zero > big.bin
	bad_build 12 "image would be 10240046 bytes, more than the DUIS maximum of 10240000" big.bin -o o.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3
	: > mi.bin
	bad_build 3 "empty manufacturer image" mi.bin -o o.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3
}

@test "bad input: header fields" {
	sample_mi mi.bin
	bad_build 2 "--header-string is 33 bytes; the OTA header holds 32" mi.bin -o o.img --device-type PPMID \
		--manufacturer-code 1 --image-type 2 --file-version 3 --header-string 123456789012345678901234567890123
	bad_build 3 "image type 0xFFC0 is not a firmware image" mi.bin -o o.img --device-type PPMID --manufacturer-code 1 --image-type 0xFFC0 --file-version 3
	bad_build 2 "'--manufacturer-code': '0x10000' is not a number from 0 to 65535" mi.bin -o o.img --device-type PPMID --manufacturer-code 0x10000 --image-type 2 --file-version 3
	bad_build 2 "'--file-version': '12abc'" mi.bin -o o.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 12abc
	bad_build 2 "give --hw-min and --hw-max together" mi.bin -o o.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3 --hw-min 1
	bad_build 3 "hardware version range is inverted: minimum 0x0002 > maximum 0x0001" mi.bin -o o.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3 --hw-min 2 --hw-max 1
	bad_build 2 "--destination '00-DB-12' is not an EUI-64" mi.bin -o o.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3 --destination 00-DB-12
	bad_build 2 "--firmware-version 'ACDC' is not 8 hex digits" mi.bin -o o.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3 --firmware-version ACDC
}

@test "bad input: device types" {
	sample_mi mi.bin
	bad_build 2 "unknown device type 'TOASTER'" mi.bin -o o.img --device-type TOASTER --manufacturer-code 1 --image-type 2 --file-version 3
	bad_build 2 "no supplier firmware route for CHF" mi.bin -o o.img --device-type CHF --manufacturer-code 1 --image-type 2 --file-version 3
	bad_build 2 "PPMID images go by SR 11.4 and carry no signature trailer: drop --key/--cert" mi.bin -o o.img \
		--device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3 --key x.key
	bad_build 11 "ESME images go by SR 11.1 and need the supplier's signature" mi.bin -o o.img --device-type ESME --manufacturer-code 1 --image-type 2 --file-version 3
}

@test "bad input: keys and certificates" {
	sample_mi mi.bin
	p=$(pki)
	mkdir keys
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out keys/rsa.key 2>/dev/null
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out keys/p384.key 2>/dev/null
	a=(mi.bin -o o.img --device-type ESME --manufacturer-code 1 --image-type 2 --file-version 3)
	bad_build 10 "key 'keys/rsa.key' is RSA-2048; GBCS and DUIS need ECDSA P-256" "${a[@]}" --key keys/rsa.key --cert "$p/supplier-ds.pem"
	bad_build 10 "is EC secp384r1" "${a[@]}" --key keys/p384.key --cert "$p/supplier-ds.pem"
	printf 'garbage' > bad.key
	bad_build 10 "'bad.key' holds no private key" "${a[@]}" --key bad.key --cert "$p/supplier-ds.pem"
	bad_build 10 "cannot open key 'nope.key'" "${a[@]}" --key nope.key --cert "$p/supplier-ds.pem"
	bad_build 10 "does not belong to certificate" "${a[@]}" --key "$p/supplier-ds.key" --cert "$p/other-ds.pem"
	bad_build 10 "has role OU=87; image trailers need the supplier's digital-signing certificate (OU=02)" "${a[@]}" \
		--key "$p/supplier-xml.key" --cert "$p/supplier-xml.pem"
	bad_build 10 "is not a certificate" "${a[@]}" --key "$p/supplier-ds.key" --cert "$p/supplier-ds.key"
}

@test "bad input: files that cannot be read or written, and a manifest that does not match" {
	sample_mi mi.bin
	bad_build 9 "cannot open manufacturer image 'missing.bin'" missing.bin -o o.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3
	bad_build 9 "cannot create a file in 'no/such'" mi.bin -o no/such/o.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3
	bad_inspect 9 "cannot open image 'missing.img'" missing.img
	run -0 hanfw package build mi.bin -o ok.img "${PPMID_ARGS[@]}"
	jq '.ota_header.file_version = 1' ok.img.json > x && mv x ok.img.json
	bad_inspect 3 "manifest 'ok.img.json' does not match the image: ota_header.file_version differs" ok.img
	run -0 hanfw package inspect ok.img --no-manifest
	printf '{' > ok.img.json
	bad_inspect 3 "manifest 'ok.img.json': line 1" ok.img
}
