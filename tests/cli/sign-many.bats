#!/usr/bin/env bats
# hanfw sign FILE...: many requests in one process, one durable ledger commit per batch,
# each output written atomically; a file that fails fails alone.

load helpers

setup() {
	setup_zaz1_signer
	T=$SHARED/dcc/templates
}

teardown() {
	[ -z "${signer:-}" ] || kill -9 "$signer" 2>/dev/null || true
}

# What does not depend on the counter or the signature: RequestID counter, digest and signature value blanked.
normalise() {
	sed -e 's/:[0-9]*<\/sr:RequestID>/:N<\/sr:RequestID>/' -e 's/<ds:DigestValue>[^<]*/<ds:DigestValue>/' \
		-e 's/<ds:SignatureValue>[^<]*/<ds:SignatureValue>/' "$1"
}

# counter FILE: the RequestID counter of a signed request.
counter() { grep -o ':[0-9]*</sr:RequestID>' "$1" | tr -dc '0-9'; }

# no_ledger_made: the test's ledger was never made (no file on SQLite, no table in the schema on PostgreSQL).
no_ledger_made() {
	if on_postgresql; then
		[ "$(ledger_sql 'SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()')" = 0 ]
	else
		[ ! -e "$HANFW_LEDGER" ]
	fi
}

# request COUNTER OUT: the 11.3 template with this RequestID counter.
request() { sed "s/:1000<\/sr:RequestID>/:$1<\/sr:RequestID>/" "$T/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML" > "$2"; }

@test "sign FILE... -o DIR: the same bytes as one at a time but for counters and signatures; each verifies with hanfw and xmlsec1" {
	mkdir in one
	for t in 11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML 11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML \
		CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML CS06_11.3_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML \
		CS06_11.3_CANCELLATION_SUCCESS_REQUEST_DUIS.XML ECS52_11.2_SUCCESS_REQUEST_DUIS.XML; do
		cp "$T/$t" in/
		hanfw sign "in/$t" --key "$XKEY" --cert "$XCERT" --new-counter -o "one/$t"
	done
	run -0 --separate-stderr hanfw sign in/*.XML --key "$XKEY" --cert "$XCERT" --new-counter -o many
	[ -z "$stderr" ]
	[ "$(ls many | wc -l)" = 6 ]
	for f in in/*.XML; do
		b=$(basename "$f")
		diff <(normalise "one/$b") <(normalise "many/$b")
		hanfw -q verify --trust "$Z" "many/$b"
		xmlsec1 --verify --pubkey-cert-pem "$XCERT" "many/$b" 2>/dev/null
	done
	# Six more counters, all distinct, each recorded once in the ledger.
	[ "$(cat one/* many/* | grep -o ':[0-9]*</sr:RequestID>' | sort -u | wc -l)" = 12 ]
	[ "$(ledger_sql 'select count(distinct counter) from requests')" = 12 ]
	# --in-place signs each file where it is.
	run -0 hanfw sign in/*.XML --key "$XKEY" --cert "$XCERT" --new-counter --in-place
	for f in in/*.XML; do hanfw -q verify --trust "$Z" "$f"; done
}

@test "sign of many files needs -o DIR or --in-place, distinct output names, and - alone" {
	request 1001 a.xml
	mkdir sub
	request 1002 sub/a.xml
	run -2 --separate-stderr hanfw sign a.xml a.xml --key "$XKEY" --cert "$XCERT"
	[ "$stderr" = "hanfw: sign: signing several files needs -o DIR or --in-place" ]
	run -2 --separate-stderr hanfw sign a.xml sub/a.xml --key "$XKEY" --cert "$XCERT" -o out
	[ "$stderr" = "hanfw: sign: 'a.xml' and 'sub/a.xml' would both be written to 'out/a.xml'" ]
	run -2 --separate-stderr hanfw sign a.xml - --key "$XKEY" --cert "$XCERT" -o out
	[ "$stderr" = "hanfw: sign: - (standard input) is signed alone, not among other files" ]
	no_ledger_made
	# - alone: standard input to standard output, or to -o FILE.
	hanfw sign - --key "$XKEY" --cert "$XCERT" < a.xml > a.signed
	hanfw -q verify --trust "$Z" a.signed
	hanfw sign - --key "$XKEY" --cert "$XCERT" -o b.signed < sub/a.xml
	hanfw -q verify --trust "$Z" b.signed
	[ "$(counter a.signed)" = 1001 ] && [ "$(counter b.signed)" = 1002 ]
}

@test "sign FILE...: one bad file among good ones fails alone, on its own line; the exit status is the first failure's" {
	request 1001 good1.xml
	echo '<x/>' > notreq.xml
	request 1003 good2.xml
	sed 's/90-B3-D5-1F-30-01-00-00:00-DB/90-B3-D5-1F-30-03-00-00:00-DB/' good2.xml > other.xml
	request 1005 good3.xml
	request 1002 invalid.xml
	sed -i 's|<sr:CommandVariant>4</sr:CommandVariant>|<sr:CommandVariant>x</sr:CommandVariant>|' invalid.xml
	run -3 --separate-stderr hanfw --json sign good1.xml notreq.xml good2.xml invalid.xml other.xml good3.xml \
		--key "$XKEY" --cert "$XCERT" -o out
	[ "${#stderr_lines[@]}" = 3 ]
	[ "${stderr_lines[0]}" = "hanfw: notreq.xml: not a DUIS request: the root is not sr:Request" ]
	[[ "${stderr_lines[1]}" == "hanfw: invalid.xml: not valid against the DUIS schema"* ]]
	[ "${stderr_lines[2]}" = "hanfw: other.xml: RequestID originator 90-B3-D5-1F-30-03-00-00 is not the signer's EUI 90-B3-D5-1F-30-01-00-00" ]
	[ "$(ls out)" = "$(printf 'good1.xml\ngood2.xml\ngood3.xml')" ]
	for f in out/*; do hanfw -q verify --trust "$Z" "$f"; done
	# --json reports every file, in order, as its schema says.
	[ "$(jq -c '[.signed, .failed, [.files[] | .exit // 0]]' <<<"$output")" = '[3,3,[0,3,0,3,3,0]]' ]
	printf '%s' "$output" > many.json
	/usr/bin/python3 - "$BATS_TEST_DIRNAME/../../schemas/sign.schema.json" many.json <<-'PY'
	import json, sys, jsonschema
	schema = json.load(open(sys.argv[1]))
	jsonschema.Draft202012Validator.check_schema(schema)
	jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
	PY
	[ "$(jq -r '.files[2].request_id' <<<"$output")" = 90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1003 ]
	# The refused files used up no counter: 1002 (refused as invalid) still signs, after its batch.
	[ "$(ledger_sql 'select counter from requests order by counter' | paste -sd,)" = 1001,1003,1005 ]
	# A file that cannot be read comes first here, so its exit status (9) is the batch's.
	request 1006 good4.xml
	run -9 --separate-stderr hanfw sign missing.xml good4.xml notreq.xml --key "$XKEY" --cert "$XCERT" -o out2
	[ "${#stderr_lines[@]}" = 2 ]
	[[ "${stderr_lines[0]}" == "hanfw: missing.xml: "* ]]
	[ -s out2/good4.xml ]
}

@test "sign FILE...: files that fail their own verification burn their counters, write nothing, and the others sign" {
	# As in sign-verify.bats: a schema under which the fresh counter does not validate once signed.
	sed -E 's|<xs:pattern value="\[A-Fa-f0-9\]\{2\}\(-\[A-Fa-f0-9\]\{2\}\)\{7\}:\[A-Fa-f0-9\]\{2\}\(-\[A-Fa-f0-9\]\{2\}\)\{7\}:[^"]*"/>|<xs:pattern value="[-:A-F0-9]*:[0-9]{1,4}"/>|' \
		"$BATS_TEST_DIRNAME/../../schemas/duis-firmware.xsd" > short.xsd
	request 1000 a.xml
	request 1000 b.xml
	run -4 --separate-stderr hanfw sign a.xml b.xml --key "$XKEY" --cert "$XCERT" --schema short.xsd --new-counter -o out
	[ "${#stderr_lines[@]}" = 2 ]
	[[ "${stderr_lines[1]}" == "hanfw: b.xml: signed request failed its own verification, so it was not written"* ]]
	[ -z "$(ls -A out)" ]
	burned=$(ledger_sql "select last from counters")
	[ "$burned" -gt 1000 ]
	[ "$(ledger_sql 'select count(*) from requests')" = 0 ]
	run -0 hanfw sign a.xml b.xml --key "$XKEY" --cert "$XCERT" --new-counter -o out
	[ "$(counter out/a.xml)" -gt "$burned" ] && [ "$(counter out/b.xml)" -gt "$(counter out/a.xml)" ]
}

@test "sign refuses a certificate that may not sign requests (the DCC's, role 89) before taking a counter" {
	# A request whose originator is the DCC's own EUI, so only the role can refuse it.
	sed 's/90-B3-D5-1F-30-01-00-00:00-DB/90-B3-D5-1F-30-00-00-02:00-DB/' \
		"$T/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML" > dcc.xml
	for extra in "" "--new-counter"; do
		# shellcheck disable=SC2086
		run -10 --separate-stderr hanfw sign dcc.xml $extra --key "$Z/dsp-xml-sign-90B3D51F30000002-ds.key" \
			--cert "$Z/dsp-xml-sign-90B3D51F30000002-ds.pem" -o out.xml
		one_line_error
		[[ "$stderr" == *"(role 89) may not sign requests: a Request must be signed by a user's XML-signing certificate (role 87)" ]]
		[ ! -e out.xml ]
		[ "$(ledger_sql 'select count(*) from counters')" = 0 ]
	done
}

@test "kill -9 during a batch of 2,000 files, repeated: no counter twice, no half-written output, every counter in the ledger" {
	req=$(cat "$T/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML")
	mkdir in
	for i in $(seq 1 2000); do printf '%s\n' "$req" > "in/r$i.xml"; done
	for round in 1 2 3 4; do
		"$HANFW" sign in/*.xml --new-counter --key "$XKEY" --cert "$XCERT" -o "out$round" 2>/dev/null &
		signer=$!
		# Once the first batch is out (so every round kills mid-way, however slow the build), a random moment.
		for _ in $(seq 1 600); do
			{ [ -n "$(ls -A "out$round" 2>/dev/null)" ] || ! kill -0 "$signer" 2>/dev/null; } && break
			sleep 0.05
		done
		sleep "0.$((RANDOM % 9 + 1))"
		kill -9 "$signer" 2>/dev/null || true
		wait "$signer" || true
	done
	signer=
	# Nothing but complete signed requests in the output directories (no temporary files).
	find out* -type f > written
	n=$(wc -l < written)
	[ "$n" -gt 0 ]
	[ -z "$(grep -v '/r[0-9]*\.xml$' written || true)" ]
	half=$(xargs -r grep -L -e '</ds:Signature></sr:Request>$' < written || true)
	[ -z "$half" ] || { echo "half-written: $half"; false; }
	# A sample verifies fully (every file would take minutes).
	for f in $(sed -n '1~97p' written); do hanfw -q verify --trust "$Z" "$f"; done
	# No counter twice across every round's outputs, and every one recorded in the ledger.
	xargs -r grep -ho ':[0-9]*</sr:RequestID>' < written | tr -dc '0-9\n' | sort > counters
	[ "$(wc -l < counters)" = "$n" ]
	[ -z "$(uniq -d counters)" ]
	ledger_sql 'select counter from requests' | sort > recorded
	[ -z "$(comm -23 counters recorded)" ]
	last=$(ledger_sql "select last from counters")
	[ "$(tail -n 1 <(sort -n counters))" -le "$last" ]
	echo "# $n of 8,000 requests written before the kills, counters unique" >&3
}
