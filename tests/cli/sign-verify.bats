#!/usr/bin/env bats
# hanfw sign / verify: the DCC's signature profile, proven against DCC Boxed's
# own signed response, the DCC's XSD, xmlsec1, and the RTDS GBCS vectors.

load helpers

setup() {
	setup_zaz1_signer
	DCC_XSD=$SHARED/dcc/duis-5.4/DUIS-Schema-V5.4.xsd
}

template() { echo "$SHARED/dcc/templates/$1"; }

# An xmlsec1 signing template from a DCC template: compact, empty signature values.
xmlsec_template() {
	/usr/bin/python3 - "$1" "$2" <<-'PY'
	import re, sys
	s = open(sys.argv[1]).read()
	s = re.sub(r'>\s+<', '><', s); s = re.sub(r'<!--.*?-->', '', s)
	for e in ('DigestValue', 'SignatureValue', 'X509IssuerSerial'):
	    s = re.sub(r'<ds:%s>.*?</ds:%s>' % (e, e), '<ds:%s></ds:%s>' % (e, e), s)
	open(sys.argv[2], 'w').write(s.strip())
	PY
}

# An SR 8.2 Read Inventory response as the DCC sends it (DUIS 5.4 body), unsigned.
inventory_response() {
	printf '%s' '<?xml version="1.0" encoding="UTF-8"?><sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" schemaVersion="5.4"><sr:Header><sr:RequestID>90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1000</sr:RequestID><sr:ResponseCode>I0</sr:ResponseCode><sr:ResponseDateTime>2026-11-27T10:00:00.000Z</sr:ResponseDateTime></sr:Header><sr:Body><sr:ResponseMessage><sr:ServiceReference>8.2</sr:ServiceReference><sr:ServiceReferenceVariant>8.2</sr:ServiceReferenceVariant><sr:DSPInventory><sr:Device><sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID><sr:DeviceType>ESME</sr:DeviceType><sr:DeviceStatus>Commissioned</sr:DeviceStatus><sr:DeviceManufacturer>HANFW TEST</sr:DeviceManufacturer><sr:DeviceModel>M1</sr:DeviceModel><sr:DeviceFirmwareVersion>01020304</sr:DeviceFirmwareVersion></sr:Device></sr:DSPInventory></sr:ResponseMessage></sr:Body></sr:Response>' > "$1"
	echo >> "$1"
}

@test "verify: DCC Boxed's signed response names the DCC signer" {
	run -0 hanfw verify --trust "$Z" "$SHARED/dcc/samples/11.2_readfw_response_signed.xml"
	[[ "$output" == *"verified Response, signed by 90-B3-D5-1F-30-00-00-02 (OU=137"* ]]
	[[ "$output" == *"ResponseCode      I0"* ]]
	run -0 hanfw verify --trust "$Z" "$SHARED/dcc/samples/11.2_readfw_response_signed.xml" --json \
		--schema "$DCC_XSD"
	[ "$(jq -r .signer.eui <<<"$output")" = 90-B3-D5-1F-30-00-00-02 ]
	[ "$(jq -r .verified <<<"$output")" = true ]
	[ "$(jq -r .response_id <<<"$output")" = 88-73-84-57-00-2F-96-1E:90-B3-D5-1F-30-01-00-00:1660751141087 ]
	hanfw verify --trust "$Z" - < "$SHARED/dcc/samples/11.2_readfw_response_signed.xml"
}

@test "verify: an unsigned E-code reply fails, or is reported unsigned when allowed" {
	run -4 --separate-stderr hanfw verify --trust "$Z" "$SHARED/dcc/samples/11.2_E65_error_response.xml"
	one_line_error
	[ "$stderr" = "hanfw: the Response is not signed" ]
	run -0 hanfw verify --trust "$Z" "$SHARED/dcc/samples/11.2_E65_error_response.xml" --allow-unsigned --json
	[ "$(jq -r .verified <<<"$output")" = false ]
	[ "$(jq -r .response_code <<<"$output")" = E65 ]
}

@test "verify: the expired public certificates pass only without --check-validity" {
	sed 's/50669612984035780968362471400449834504/50669612984035780968362471400449834504/' \
		"$SHARED/dcc/samples/11.2_readfw_response_signed.xml" > r.xml
	hanfw verify --trust "$Z" r.xml
	p=$(pki)
	hanfw sign "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" --key "$p/supplier-xml-expired.key" \
		--cert "$p/supplier-xml-expired.pem" -o e.xml
	mkdir trust && cp "$p/supplier-xml-expired.pem" trust/
	hanfw verify --trust trust e.xml
	run -4 --separate-stderr hanfw verify --trust trust e.xml --check-validity
	[[ "$stderr" == *"has expired" ]]
}

@test "sign: every firmware template signs, verifies with xmlsec1 and fits the DCC's XSD" {
	for t in 11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML 11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML \
		CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML CS06_11.3_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML \
		CS06_11.3_CANCELLATION_SUCCESS_REQUEST_DUIS.XML ECS52_11.2_SUCCESS_REQUEST_DUIS.XML; do
		hanfw sign "$(template "$t")" --key "$XKEY" --cert "$XCERT" --new-counter -o "$t.signed"
		xmlsec1 --verify --pubkey-cert-pem "$XCERT" "$t.signed" 2>/dev/null
		hanfw verify --trust "$Z" "$t.signed" --schema "$DCC_XSD" >/dev/null
		# Compact, as the DCC's verifier needs: no whitespace between elements.
		! grep -q '>[[:space:]]\+<' "$t.signed"
	done
}

@test "sign: keys in every form load, a traditionally encrypted PEM key (Proc-Type, DEK-Info) among them" {
	# hanfw sign skips OpenSSL's legacy cipher table once its one key loaded unencrypted
	# (lib/crypto.h hfw_key_load_one_only); a DEK-Info cipher still needs that table.
	openssl ec -in "$XKEY" -out trad.key -aes256 -passout pass:letmein 2>/dev/null
	grep -q '^Proc-Type: 4,ENCRYPTED' trad.key
	openssl pkcs8 -topk8 -in "$XKEY" -out p8.key -passout pass:letmein -v2 aes-256-cbc
	openssl ec -in "$XKEY" -out sec1.der -outform DER 2>/dev/null
	for k in trad.key p8.key sec1.der "$XKEY"; do
		HANFW_KEY_PASSPHRASE=letmein hanfw sign "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" \
			--key "$k" --cert "$XCERT" --new-counter -o "$(basename "$k").xml"
		hanfw verify --trust "$Z" "$(basename "$k").xml" >/dev/null
	done
	HANFW_KEY_PASSPHRASE=wrong run -10 --separate-stderr hanfw sign \
		"$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" --key trad.key --cert "$XCERT" --new-counter -o w.xml
	one_line_error
	[[ "$stderr" == *"wrong passphrase"* ]]
}

@test "sign: a refusal still carries OpenSSL's reason, though sign loads OpenSSL's texts only on error" {
	# lib/crypto.h hfw_key_load_one_only: no error texts at start; lib/error.c loads them when needed.
	printf -- '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' > notcert.pem
	run -10 --separate-stderr hanfw sign "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" \
		--key "$XKEY" --cert notcert.pem --new-counter -o n.xml
	one_line_error
	[[ "$stderr" == *"is not a certificate (no PEM CERTIFICATE block): no start line" ]]
	run -10 --separate-stderr hanfw sign "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" \
		--key "$XKEY" --cert "$XKEY" --new-counter -o n.xml
	one_line_error
	[[ "$stderr" == *"is not a certificate (expected PEM or DER X.509): nested asn1 error" ]]
	[ ! -e n.xml ]
}

@test "sign: keeps the RequestID, and never signs the same counter twice" {
	run -0 hanfw sign "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" --key "$XKEY" --cert "$XCERT" -o a.xml
	grep -q ':00-DB-12-34-56-78-90-A0:1000</sr:RequestID>' a.xml
	run -3 --separate-stderr hanfw sign "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" --key "$XKEY" --cert "$XCERT" -o b.xml
	one_line_error
	[[ "$stderr" == *"RequestID counter 1000 is not above the last one used by 90-B3-D5-1F-30-01-00-00 (1000)"* ]]
	[ ! -e b.xml ]
	run -0 hanfw sign a.xml --in-place --new-counter --key "$XKEY" --cert "$XCERT"
	! grep -q ':1000</sr:RequestID>' a.xml
	hanfw verify --trust "$Z" a.xml
	[ "$(ledger_sql 'select count(*) from requests')" = 2 ]
}

@test "sign: refuses a request whose originator is not the signer, and non-requests" {
	p=$(pki)
	sed 's/90-B3-D5-1F-30-01-00-00:00-DB/90-B3-D5-1F-30-03-00-00:00-DB/' \
		"$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" > other.xml
	run -3 --separate-stderr hanfw sign other.xml --key "$XKEY" --cert "$XCERT"
	[[ "$stderr" == *"RequestID originator 90-B3-D5-1F-30-03-00-00 is not the signer's EUI 90-B3-D5-1F-30-01-00-00" ]]
	run -3 --separate-stderr hanfw sign "$SHARED/dcc/samples/11.2_E65_error_response.xml" --key "$XKEY" --cert "$XCERT"
	[[ "$stderr" == *"not a DUIS request"* ]]
	# A service outside the built-in schema (firmware and 8.2 Read Inventory): 4.1 Read Meter Balance.
	sed -e 's/>8\.2</>4.1</g' -e 's/ReadInventory>/ReadMeterBalance>/g' \
		"$(template 8.2_READ_INVENTORY_REQUEST_DUIS.XML)" > balance.xml
	run -3 --separate-stderr hanfw sign balance.xml --key "$XKEY" --cert "$XCERT"
	[[ "$stderr" == *"not valid against the DUIS schema"* ]]
	# A request that failed validation has not used up its counter; 8.2 is in the built-in schema.
	run -0 hanfw sign "$(template 8.2_READ_INVENTORY_REQUEST_DUIS.XML)" --key "$XKEY" --cert "$XCERT" \
		-o inv.signed
	xmlsec1 --verify --pubkey-cert-pem "$XCERT" inv.signed 2>/dev/null
}

# signed_or_refused IN OUT: hanfw sign either writes OUT signed (hanfw verify and xmlsec1 agree)
# or refuses with one line, a non-zero status and no OUT; never an unsigned OUT with status 0.
signed_or_refused() {
	run --separate-stderr hanfw sign "$1" --key "$XKEY" --cert "$XCERT" --new-counter -o "$2"
	if [ "$status" -ne 0 ]; then
		one_line_error
		[ ! -e "$2" ]
		return
	fi
	hanfw verify --trust "$Z" "$2" >/dev/null
	xmlsec1 --verify --pubkey-cert-pem "$XCERT" "$2" 2>/dev/null
	# One Signature, the root's last child, and nothing after the root.
	[ "$(grep -o '<ds:Signature ' "$2" | wc -l)" = 1 ]
	[[ "$(cat "$2")" == *'</ds:Signature></sr:Request>' ]]
}

@test "sign: a comment or PI after the root, or '</' in a comment inside it, never gives an unsigned request" {
	t=$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)
	{ cat "$t"; echo '<!-- </x> -->'; } > comment.xml
	{ cat "$t"; echo '<?pi </sr:Request>?>'; } > pi.xml
	# The template's own signature removed, so sr:Body is the root's last child, ending in a comment.
	sed -e '/<ds:Signature/,/<\/ds:Signature>/d' -e 's|</sr:Body>|<!-- </sr:Body></sr:Request> --></sr:Body>|' "$t" > inner.xml
	grep -q -- '--></sr:Body>' inner.xml
	for f in comment pi inner; do
		signed_or_refused "$f.xml" "$f.signed"
	done
	# hanfw signs all three, without the comments and PIs.
	! grep -q -e '<!--' -e '<?pi' comment.signed pi.signed inner.signed
}

@test "sign: a request that fails its own verification is not written, says so in one line, and burns its counter" {
	# A schema under which the template's counter (1000) is valid but a fresh --new-counter is not:
	# the request validates, is signed with the fresh counter, and its signed form then fails.
	sed -E 's|<xs:pattern value="\[A-Fa-f0-9\]\{2\}\(-\[A-Fa-f0-9\]\{2\}\)\{7\}:\[A-Fa-f0-9\]\{2\}\(-\[A-Fa-f0-9\]\{2\}\)\{7\}:[^"]*"/>|<xs:pattern value="[-:A-F0-9]*:[0-9]{1,4}"/>|' \
		"$BATS_TEST_DIRNAME/../../schemas/duis-firmware.xsd" > short.xsd
	grep -q '{1,4}' short.xsd
	t=$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)
	run -4 --separate-stderr hanfw sign "$t" --key "$XKEY" --cert "$XCERT" --schema short.xsd --new-counter -o out.xml
	one_line_error
	[[ "$stderr" == *"signed request failed its own verification, so it was not written"* ]]
	[ ! -e out.xml ]
	[ -z "$(ls -A | grep -v -x -e short.xsd -e ledger.sqlite -e ledger.sqlite-wal -e ledger.sqlite-shm)" ]
	# The counter it was signed with is used up, and no request is recorded.
	burned=$(ledger_sql "select last from counters where originator = '90-B3-D5-1F-30-01-00-00'")
	[ "$burned" -gt 1000 ]
	[ "$(ledger_sql 'select count(*) from requests')" = 0 ]
	hanfw sign "$t" --key "$XKEY" --cert "$XCERT" --new-counter -o next.xml
	[ "$(ledger_sql "select counter from requests")" -gt "$burned" ]
}

@test "verify: a request signed by xmlsec1 in the profile verifies" {
	xmlsec_template "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" t.xml
	openssl pkey -inform DER -in "$XKEY" -out k.pem
	xmlsec1 --sign --privkey-pem "k.pem,$XCERT" --output s.xml t.xml
	run -0 hanfw verify --trust "$Z" s.xml
	[[ "$output" == *"signed by 90-B3-D5-1F-30-01-00-00 (OU=87"* ]]
}

@test "verify: tampering is refused with a specific message" {
	hanfw sign "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" --key "$XKEY" --cert "$XCERT" -o good.xml
	check() { # check SED-EXPR TEXT
		sed "$1" good.xml > bad.xml
		run -4 --separate-stderr hanfw verify --trust "$Z" bad.xml
		one_line_error
		[[ "$stderr" == *"$2"* ]] || { echo "$1: $stderr"; return 1; }
	}
	check 's/AA758690/AA758691/' "DigestValue does not match the document"
	check 's/schemaVersion="5.4"/schemaVersion="5.3"/' "DigestValue does not match"
	check 's/xmlns:xsi="[^"]*"//' "DigestValue does not match"
	check 's/:1000</:1001</' "DigestValue does not match"
	check 's/<ds:DigestValue>./<ds:DigestValue>A/' "DigestValue"
	check 's/<ds:SignatureValue>../<ds:SignatureValue>AA/' "SignatureValue does not verify"
	check 's/ecdsa-sha256/ecdsa-sha384/' "SignatureMethod algorithm"
	check 's/<ds:X509SerialNumber>/<ds:X509SerialNumber>9/' "no such certificate in the trust directory"
	check 's/<\/sr:Header>/<\/sr:Header>\n/' "DigestValue does not match"
	check 's/<\/ds:Reference>/<\/ds:Reference><ds:Reference URI=""><\/ds:Reference>/' "more than one Reference"
	check 's/<\/sr:Body>/<\/sr:Body><ds:Signature xmlns:ds="http:\/\/www.w3.org\/2000\/09\/xmldsig#"\/>/' "2 Signature elements"
	check 's/<ds:Signature .*<\/ds:Signature>//' "is not signed"
	xmllint --format good.xml > pretty.xml
	run -4 hanfw verify --trust "$Z" pretty.xml
}

@test "verify: hostile XML is refused before it is parsed" {
	printf '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway">&b;</sr:Response>' > lol.xml
	run -3 --separate-stderr hanfw verify --trust "$Z" lol.xml
	[ "$stderr" = "hanfw: document has a DOCTYPE or entity declaration: refused" ]
	printf '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway">&e;</sr:Response>' > xxe.xml
	run -3 hanfw verify --trust "$Z" xxe.xml
	printf '<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"><sr:Header>' > trunc.xml
	run -3 --separate-stderr hanfw verify --trust "$Z" trunc.xml
	[[ "$stderr" == "hanfw: document is not well-formed XML: line 1:"* ]]
	head -c 17000000 /dev/zero > big.xml
	run -12 hanfw verify --trust "$Z" big.xml
	run -10 --separate-stderr hanfw verify --trust "$SHARED/dcc/templates" good.xml
	[[ "$stderr" == *"holds no usable certificate"* ]]
}

@test "sign --gbcs: the RTDS pre-command signs to the command's bytes, with or without a trailing 00" {
	K=$SHARED/gbcs/keystore
	tr -d ' \r\n' < "$SHARED/gbcs/rtds/CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX" > pre.hex
	tr -d ' \r\n' < "$SHARED/gbcs/rtds/CS06_11.3_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX" > cmd.hex
	want=$(cut -c29-178 cmd.hex)	# the DF APDU up to and including 40
	run -0 hanfw sign --gbcs --hex pre.hex --key "$K/90b3d51f30010000-ds.key"
	[ "${output:0:150}" = "$want" ]
	[ "${#output}" = 278 ]
	# The signature verifies over the bytes after DF, independently, with openssl.
	printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "${output:150:64}" "${output:214:64}" > sig.cnf
	openssl asn1parse -genconf sig.cnf -out sig.der -noout
	printf '%s' "${output:2:146}" | xxd -r -p > signed.bin	# the 73 bytes after DF
	openssl x509 -in "$K/90b3d51f30010000-ds.pem" -pubkey -noout > pub.pem
	openssl dgst -sha256 -verify pub.pem -signature sig.der signed.bin
	# DLMS-correct form ending in a null signature length, and base64 and binary forms.
	printf '%s00' "$(cat pre.hex)" > pre00.hex
	run -0 hanfw sign --gbcs --hex pre00.hex --key "$K/90b3d51f30010000-ds.key" --cert "$K/90b3d51f30010000-ds.pem"
	[ "${output:0:150}" = "$want" ]
	xxd -r -p pre.hex | base64 -w0 > pre.b64
	run -0 hanfw sign --gbcs --base64 pre.b64 --key "$SHARED/dcc/zaz1/Z1-supplier-ds.key"
	[ "$(base64 -d <<<"$output" | xxd -p | tr -d '\n' | cut -c1-150 | tr a-f A-F)" = "$want" ]
	xxd -r -p pre.hex > pre.bin
	hanfw sign --gbcs pre.bin --key "$K/90b3d51f30010000-ds.key" -o out.bin
	[ "$(stat -c %s out.bin)" = 139 ]
}

@test "sign --gbcs: refuses what is not a pre-command, or someone else's" {
	K=$SHARED/gbcs/keystore
	tr -d ' \r\n' < "$SHARED/gbcs/rtds/CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX" > resp.hex
	run -3 --separate-stderr hanfw sign --gbcs --hex resp.hex --key "$K/90b3d51f30010000-ds.key"
	[[ "$stderr" == *"not a command"* ]]
	tr -d ' \r\n' < "$SHARED/gbcs/rtds/CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX" > pre.hex
	run -3 --separate-stderr hanfw sign --gbcs --hex pre.hex --key "$K/90b3d51f30030000-ds.key" --cert "$K/90b3d51f30030000-ds.pem"
	[[ "$stderr" == *"pre-command originator 90-B3-D5-1F-30-01-00-00 is not the signer 90-B3-D5-1F-30-03-00-00"* ]]
	# The configured key and certificate are used together.
	printf '{"profiles":{"p":{"gbcs_signing_key":"%s","gbcs_signing_cert":"%s"}}}' \
		"$K/90b3d51f30030000-ds.key" "$K/90b3d51f30030000-ds.pem" > hanfw.json
	run -3 --separate-stderr hanfw sign --gbcs --hex pre.hex
	[[ "$stderr" == *"is not the signer 90-B3-D5-1F-30-03-00-00"* ]]
	rm hanfw.json
	printf 'DF0901' > short.hex
	run -3 --separate-stderr hanfw sign --gbcs --hex short.hex --key "$K/90b3d51f30010000-ds.key"
	one_line_error
	run -2 hanfw sign --hex pre.hex
}

@test "kill -9 while signing many requests: no counter is ever reused" {
	t=$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)
	mkdir out
	for round in 1 2 3 4; do
		for i in $(seq 1 50); do
			"$HANFW" sign "$t" --new-counter --key "$XKEY" --cert "$XCERT" -o "out/$round-$i.xml" 2>/dev/null &
		done
		sleep 0.$((RANDOM % 5 + 1))
		pkill -9 -f "sign $t" || true
		wait || true
	done
	# Every request that was written is complete, verifies, and has its own counter.
	ls out/*.xml > written || true
	left=$(ls -A out | grep -v '\.xml$' || true)	# no temporary files left
	[ -z "$left" ] || { echo "left behind: $left"; false; }
	n=0
	for f in $(cat written); do
		hanfw -q verify --trust "$Z" "$f"
		n=$((n + 1))
	done
	grep -ho ':[0-9]*</sr:RequestID>' out/*.xml 2>/dev/null | sort | uniq -d > dups || true
	[ ! -s dups ]
	# Every written request's counter is in the ledger, and the ledger's last is above all of them.
	last=$(ledger_sql "select last from counters")
	for c in $(grep -ho ':[0-9]*</sr:RequestID>' out/*.xml 2>/dev/null | tr -dc '0-9\n'); do
		[ "$c" -le "$last" ]
		[ "$(ledger_sql "select count(*) from requests where counter=$c")" = 1 ]
	done
	# And signing again afterwards still gets a fresh counter.
	hanfw sign "$t" --new-counter --key "$XKEY" --cert "$XCERT" -o after.xml
	c=$(grep -o ':[0-9]*</sr:RequestID>' after.xml | tr -dc '0-9')
	[ "$c" -gt "$last" ]
	echo "# $n requests survived, counters unique" >&3
}

@test "verify: a Request signed by anyone but its RequestID's originator is refused, naming the rule" {
	# Genuinely signed (xmlsec1 agrees) by another user's XML-signing certificate (role 87).
	xmlsec_sign "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" other.xml \
		"$Z/xml-sign-00DB123456780004-ds.key" "$Z/xml-sign-00DB123456780004-ds.pem"
	run -4 --separate-stderr hanfw verify --trust "$Z" other.xml
	one_line_error
	[[ "$stderr" == *"signature by '"*"(role 87), EUI 00-DB-12-34-56-78-00-04, refused: a Request must be signed by the XML-signing certificate of its RequestID's originator, 90-B3-D5-1F-30-01-00-00" ]]
	# Supplier 2's GBCS certificate (role 02), which the DCC's signing tool uses for XML: refused too.
	sed 's/90-B3-D5-1F-30-01-00-00:00-DB/90-B3-D5-1F-30-03-00-00:00-DB/' \
		"$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" > s2.xml
	xmlsec_sign s2.xml s2.signed "$Z/Z1-supplier2-ds.key" "$Z/Z1-supplier2-ds.pem"
	run -4 --separate-stderr hanfw verify --trust "$Z" s2.signed
	[[ "$stderr" == *"(role 02) refused: a Request must be signed by its originator's XML-signing certificate (role 87)" ]]
	# And hanfw will not sign XML with a GBCS certificate in the first place.
	run -10 --separate-stderr hanfw sign s2.xml --key "$Z/Z1-supplier2-ds.key" --cert "$Z/Z1-supplier2-ds.pem"
	[[ "$stderr" == *"(role 02), not an XML-signing certificate"* ]]
	# The originator's own signature still verifies.
	xmlsec_sign "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" own.xml "$XKEY" "$XCERT"
	hanfw verify --trust "$Z" own.xml
}

@test "verify: a Response is accepted only from the DCC's XML-signing certificate (89, or 137 before 1.4.1)" {
	sample=$SHARED/dcc/samples/11.2_readfw_response_signed.xml
	# Re-signed, genuinely, by the supplier's XML-signing certificate (role 87): refused.
	xmlsec_sign "$sample" user.xml "$XKEY" "$XCERT"
	run -4 --separate-stderr hanfw verify --trust "$Z" user.xml
	one_line_error
	[[ "$stderr" == *"(role 87) refused: a Response must be signed by the DCC's XML-signing certificate (role 89)" ]]
	# By the access control broker's GBCS certificate (role 04, as DCC Boxed did before August 2022): refused.
	xmlsec_sign "$sample" acb.xml "$Z/Z1-accessControlBroker-ds.key" "$Z/Z1-accessControlBroker-ds.pem"
	run -4 --separate-stderr hanfw verify --trust "$Z" acb.xml
	[[ "$stderr" == *"(role 04) refused: a Response must be signed by the DCC's XML-signing certificate (role 89)" ]]
	# DCC Boxed's genuine response verifies with only its pre-1.4.1 DSP certificate (OU=137) trusted.
	mkdir pre && cp "$Z/dsp-xml-sign-90B3D51F30000002-ds-pre-1.4.1.pem" pre/
	run -0 hanfw verify --trust pre "$sample"
	[[ "$output" == *"signed by 90-B3-D5-1F-30-00-00-02 (OU=137"* ]]
	# And re-signed by the current DSP certificate (89), whatever the ResponseID's originator (a device).
	xmlsec_sign "$sample" dsp.xml "$Z/dsp-xml-sign-90B3D51F30000002-ds.key" "$Z/dsp-xml-sign-90B3D51F30000002-ds.pem"
	run -0 hanfw verify --trust "$Z" dsp.xml
	[[ "$output" == *"(OU=89"* ]]
}

@test "verify: an unknown signer's refusal names the issuer and serial to add" {
	mkdir t && cp "$Z/dsp-xml-sign-90B3D51F30000002-ds.pem" t/
	run -4 --separate-stderr hanfw verify --trust t "$SHARED/dcc/samples/11.2_readfw_response_signed.xml"
	[ "$stderr" = "hanfw: signature: signed by issuer 'CN=Z1,OU=07' serial 50669612984035780968362471400449834504: no such certificate in the trust directory 't'; add the DCC's XML-signing certificate with that serial" ]
	hanfw sign "$(template CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML)" --key "$XKEY" --cert "$XCERT" -o r.xml
	run -4 --separate-stderr hanfw verify --trust t r.xml
	[[ "$stderr" == *"serial 27572613927499351639968579586655397031: no such certificate in the trust directory 't'; add the XML-signing certificate (role 87) of 90-B3-D5-1F-30-01-00-00, the RequestID's originator, with that serial" ]]
}

@test "verify: a DCC-signed SR 8.2 Read Inventory response verifies; its schema is checked only against a schema that has it" {
	inventory_response inv.xml
	xmllint --noout --schema "$DCC_XSD" inv.xml 2>/dev/null	# a valid 8.2 response, independently
	xmlsec_sign inv.xml inv.signed "$Z/dsp-xml-sign-90B3D51F30000002-ds.key" "$Z/dsp-xml-sign-90B3D51F30000002-ds.pem"
	mkdir t && cp "$Z/dsp-xml-sign-90B3D51F30000002-ds.pem" t/
	run -0 hanfw verify --trust t inv.signed
	[[ "$output" == *"verified Response, signed by 90-B3-D5-1F-30-00-00-02 (OU=89"* ]]
	[[ "$output" == *"schema: not checked (service 8.2 is outside hanfw's firmware schema)"* ]]
	run -0 hanfw verify --trust t inv.signed --json
	[ "$(jq -c .schema <<<"$output")" = '{"checked":false,"why":"service 8.2 is outside hanfw'"'"'s firmware schema"}' ]
	# Given the DCC's schema (flag or duis_schema setting), checked with the signature removed.
	run -0 hanfw verify --trust t inv.signed --schema "$DCC_XSD"
	[[ "$output" == *"schema: valid against $DCC_XSD"* ]]
	HANFW_DUIS_SCHEMA=$DCC_XSD run -0 hanfw verify --trust t inv.signed --json
	[ "$(jq -r .schema.checked <<<"$output")" = true ]
	# Against that schema, a broken body is still refused; a firmware response still gets hanfw's.
	sed 's:<sr\:DeviceType>ESME:<sr\:DeviceType>TOASTER:' inv.xml > bad.xml
	xmlsec_sign bad.xml bad.signed "$Z/dsp-xml-sign-90B3D51F30000002-ds.key" "$Z/dsp-xml-sign-90B3D51F30000002-ds.pem"
	run -3 hanfw verify --trust t bad.signed --schema "$DCC_XSD"
	run -0 hanfw verify --trust "$Z" "$SHARED/dcc/samples/11.2_readfw_response_signed.xml"
	[[ "$output" == *"schema: valid against hanfw's firmware schema"* ]]
}
