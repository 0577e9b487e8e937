# Shared set-up for the bats command-line tests.  HANFW is the binary under
# test, MKPKI the test-PKI tool, SHARED the read-only reference data.
bats_require_minimum_version 1.5.0

setup_hanfw() {
	: "${HANFW:?set HANFW to the hanfw binary}" "${SHARED:?set SHARED to ../shared}"
	# A directory of its own: bats keeps its stderr captures in BATS_TEST_TMPDIR.
	mkdir -p "$BATS_TEST_TMPDIR/work" && cd "$BATS_TEST_TMPDIR/work" || return 1
	export HOME="$PWD" XDG_CONFIG_HOME="$PWD/xdg" XDG_DATA_HOME="$PWD/xdg-data"
	unset HANFW_CONFIG HANFW_PROFILE HANFW_KEY_PASSPHRASE HANFW_GBCS_SIGNING_KEY HANFW_GBCS_SIGNING_CERT \
		HANFW_HUB_CAPACITY HANFW_USER_EUI HANFW_PASSPHRASE_ENV HANFW_LEDGER
	hanfw() { "$HANFW" "$@"; }
	if on_postgresql; then pg_test_schema || return 1; fi
}

# The ledger backend the tests run on.  HFW_TEST_LEDGER=postgresql (make check's sanitizer pass;
# HFW_TEST_PG_URI names a server tests/pg/pg-start started) gives every test a PostgreSQL schema
# of its own as HANFW_LEDGER, which outranks every profile's ledger; otherwise each test's ledgers
# are SQLite files where its profiles or HANFW_LEDGER put them.
on_postgresql() { [ "${HFW_TEST_LEDGER:-sqlite}" = postgresql ]; }

# pg_test_schema: a new schema for this test as HANFW_LEDGER; the previous test's is dropped (its
# servers were stopped by its teardown; a straggler holding a lock only leaves it behind).
pg_test_schema() {
	: "${HFW_TEST_PG_URI:?HFW_TEST_LEDGER=postgresql needs HFW_TEST_PG_URI (tests/pg/pg-start)}"
	local schema="t${BATS_SUITE_TEST_NUMBER:-0}_$$" last="${BATS_RUN_TMPDIR:?}/pg-last-schema"
	if [ -s "$last" ]; then
		psql "$HFW_TEST_PG_URI" -qAtX -c "SET lock_timeout = '2s'" -c "SET client_min_messages = warning" \
			-c "DROP SCHEMA IF EXISTS $(cat "$last") CASCADE" > /dev/null 2>&1 || true
	fi
	psql "$HFW_TEST_PG_URI" -qAtX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" > /dev/null || return 1
	echo "$schema" > "$last"
	export HANFW_LEDGER="$HFW_TEST_PG_URI&options=-csearch_path%3D$schema"
}

# test_ledger [FILE]: the ledger a test names for itself: FILE (default ./ledger.sqlite) on SQLite,
# the test's schema on PostgreSQL.
test_ledger() {
	if on_postgresql; then echo "$HANFW_LEDGER"; else echo "${1:-$PWD/ledger.sqlite}"; fi
}

# no_ledger [LEDGER]: no ledger made: no file on SQLite, no table in the schema on PostgreSQL.
no_ledger() {
	if on_postgresql; then
		[ "$(HANFW_LEDGER=${1:-$HANFW_LEDGER} ledger_sql 'SELECT count(*) FROM information_schema.tables
			WHERE table_schema = current_schema()')" = 0 ]
	else
		[ ! -e "${1:-$HANFW_LEDGER}" ]
	fi
}

# reset_ledger: the test's ledger emptied: the SQLite file removed, or on PostgreSQL its schema made anew.
reset_ledger() {
	if on_postgresql; then
		local s=${HANFW_LEDGER##*search_path%3D}
		psql "$HFW_TEST_PG_URI" -qAtX -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
			-c "DROP SCHEMA $s CASCADE" -c "CREATE SCHEMA $s"
	else
		rm -f "$HANFW_LEDGER"*
	fi
}

# ledger_sql SQL [FILE]: SQL on the test's ledger, rows as sqlite3 prints them (fields joined by '|',
# NULL empty, no header).  On SQLite FILE is the ledger (default HANFW_LEDGER, else the sandbox's
# sbx/ledger.sqlite); on PostgreSQL it is the test's schema whatever FILE says.  Write SQL both
# dialects take (no typeof(), group_concat(), rowid; cast with CAST).
ledger_sql() {
	if on_postgresql; then
		psql "$HANFW_LEDGER" -qAtX -v ON_ERROR_STOP=1 -F '|' -c "$1"
	else
		sqlite3 "${2:-${HANFW_LEDGER:-sbx/ledger.sqlite}}" "$1"
	fi
}

# setup_hanfw, then DCC Boxed's ZAZ1 XML signing identity (the test supplier
# 90-B3-D5-1F-30-01-00-00) as XKEY/XCERT, and a ledger of the test's own.
setup_zaz1_signer() {
	setup_hanfw || return 1
	Z=$SHARED/dcc/zaz1
	XKEY=$Z/xml-sign-90B3D51F30010000-ds.key
	XCERT=$Z/xml-sign-90B3D51F30010000-ds.pem
	HANFW_LEDGER=$(test_ledger) && export HANFW_LEDGER
}

# The project's own test PKI, made once per test file.
pki() {
	if [ ! -f "$BATS_FILE_TMPDIR/pki/supplier-ds.pem" ]; then
		mkdir -p "$BATS_FILE_TMPDIR/pki"
		"${MKPKI:?set MKPKI to the mkpki tool}" "$BATS_FILE_TMPDIR/pki"
	fi
	echo "$BATS_FILE_TMPDIR/pki"
}

# template_image NAME OUT: the base64 FirmwareImage of a DCC template, decoded.
template_image() {
	sed -n 's:.*<sr\:FirmwareImage>\(.*\)</sr\:FirmwareImage>.*:\1:p' \
		"$SHARED/dcc/templates/$1" | base64 -d > "$2"
}

# The sample ManufacturerImage: bytes 60.. of the DCC's 11.4 sample.
sample_mi() {
	template_image 11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML sample.img
	tail -c +61 sample.img > "$1"
}

# Exactly one line on stderr, starting "hanfw: ".
one_line_error() {
	[ "${#stderr_lines[@]}" -eq 1 ] || { printf 'stderr had %d lines:\n%s\n' "${#stderr_lines[@]}" "$stderr"; return 1; }
	[[ "$stderr" == "hanfw: "* ]] || { echo "stderr: $stderr"; return 1; }
}

# No image, manifest or temporary file in the current directory but the inputs.
no_output_left() {
	local extra
	extra=$(ls -A | grep -v -x -e mi.bin -e sample.img -e big.bin -e keys -e bad.img -e bad.key || true)
	[ -z "$extra" ] || { echo "left behind: $extra"; return 1; }
}

# xmlsec_sign IN OUT KEY CERT: sign IN (compact, unsigned) with xmlsec1 in the DCC's profile: enveloped,
# exclusive C14N of SignedInfo, ECDSA-SHA256, X509IssuerSerial.  KEY may be DER (ZAZ1) or PEM.
xmlsec_sign() {
	local sig='<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/><ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial></ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo></ds:Signature>'
	/usr/bin/python3 - "$1" "$2.tmpl" "$sig" <<-'PY'
	import re, sys
	s = open(sys.argv[1]).read()
	s = re.sub(r'>\s+<', '><', s); s = re.sub(r'<!--.*?-->', '', s, flags=re.S)
	s = re.sub(r'<ds:Signature.*</ds:Signature>', '', s, flags=re.S).strip()
	end = s.rindex('</')
	open(sys.argv[2], 'w').write(s[:end] + sys.argv[3] + s[end:])
	PY
	openssl pkey -in "$3" -out "$2.key" 2>/dev/null || openssl pkey -inform DER -in "$3" -out "$2.key"
	xmlsec1 --sign --privkey-pem "$2.key,$4" --output "$2" "$2.tmpl"
	xmlsec1 --verify --pubkey-cert-pem "$4" "$2" 2>/dev/null	# a genuine signature, independently
	rm -f "$2.tmpl" "$2.key"
}

# hex_of FILE OFFSET COUNT
hex_of() { xxd -p -s "$2" -l "$3" "$1" | tr -d '\n'; }

# ---- the sandbox and a receive URL, for the end-to-end tests (SBX: the sandbox directory) ----

# start_receiver [receiver.py options...]
start_receiver() {
	python3 "$BATS_TEST_DIRNAME/../tools/receiver.py" --dir rx --port-file rx.port "$@" &
	RX_PID=$!
	for _ in $(seq 1 300); do [ -s rx.port ] && break; sleep 0.1; done
	RX_URL="http://127.0.0.1:$(cat rx.port)/rrs"
}

# start_sandbox [serve options...]: simulated time 100,000 times faster unless told.
start_sandbox() {
	"$HANFW" sandbox serve --dir "$SBX" --listen 127.0.0.1:0 --time-scale 100000 "$@" > url.txt 2> serve.log &
	SERVE_PID=$!
	for _ in $(seq 1 300); do [ -s url.txt ] && break; sleep 0.1; done
	export HANFW_ENDPOINT=$(cat url.txt)
	[ -n "$HANFW_ENDPOINT" ]
}

# wait_for N: until the receiver holds N messages (60 s at most).
wait_for() {
	for _ in $(seq 1 600); do
		[ "$(ls rx | grep -c '\.xml$')" -ge "$1" ] && return 0
		sleep 0.1
	done
	echo "received $(ls rx | grep -c '\.xml$') of $1"; return 1
}

# wait_count N KIND [TEXT]: until N messages received contain KIND (and TEXT), 60 s at most.
wait_count() {
	for _ in $(seq 1 600); do
		[ "$(count "${@:2}")" -ge "$1" ] && return 0
		sleep 0.1
	done
	echo "only $(count "${@:2}") of $1 $2 $3"; return 1
}

# count KIND [TEXT]: messages received that contain KIND (and TEXT).
count() { grep -l "<sr:$1>" rx/*.xml 2>/dev/null | xargs -r grep -l -- "${2:-<}" | wc -l; }

eui_of() { jq -r --arg t "$1" --arg g "$2" '.devices[] | select(.type == $t and (.eui | startswith("00-DB-12-" + $g))) | .eui' "$SBX/estate.json"; }

# stop_servers: what start_sandbox and start_receiver started (call from teardown).
stop_servers() {
	[ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null || true
	[ -n "${RX_PID:-}" ] && kill "$RX_PID" 2>/dev/null && wait "$RX_PID" 2>/dev/null || true
	SERVE_PID= RX_PID=
}

# start_listen [PORT]: hanfw listen on 127.0.0.1 (a free port unless told), LISTEN_URL its receive URL.
start_listen() {
	rm -f listen.url
	"$HANFW" listen --plain-http --listen "127.0.0.1:${1:-0}" > listen.url 2>> listen.log &
	LISTEN_PID=$!
	for _ in $(seq 1 300); do [ -s listen.url ] && break; sleep 0.1; done
	LISTEN_URL="$(cat listen.url)rrs"
	[ -s listen.url ]
}

stop_listen() {
	[ -n "${LISTEN_PID:-}" ] && kill "$LISTEN_PID" 2>/dev/null && wait "$LISTEN_PID" 2>/dev/null || true
	LISTEN_PID=
}

# until_status JQ: until hanfw status --json satisfies JQ (60 s at most).
until_status() {
	for _ in $(seq 1 300); do
		"$HANFW" status --json "${@:2}" 2>/dev/null | jq -e "$1" > /dev/null && return 0
		sleep 0.2
	done
	"$HANFW" status "${@:2}"; return 1
}

# package_images TYPE:IMAGE_TYPE...: the sample ManufacturerImage packaged per device type as
# $BATS_FILE_TMPDIR/TYPE.img (firmware version 01020304), with the sandbox's configuration.
package_images() {
	local mi="$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" t
	for t in "$@"; do
		"$HANFW" -q package build "$mi" -o "$BATS_FILE_TMPDIR/${t%%:*}.img" --device-type "${t%%:*}" \
			--manufacturer-code 0x121D --image-type "${t#*:}" --file-version 0x01020304 --config "$SBX/hanfw.json"
	done
}

# validate_status < JSON: hanfw status --json against its schema.
validate_status() {
	python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.Draft202012Validator(schema).validate(json.load(sys.stdin))' "$BATS_TEST_DIRNAME/../../schemas/status.schema.json"
}

# validate_schema NAME < JSON: a --json document against schemas/NAME.schema.json.
# validate SCHEMA FILE: the schema is a valid draft 2020-12 schema and FILE conforms to it.
validate() {
	/usr/bin/python3 - "$1" "$2" <<-'PY'
	import json, sys, jsonschema
	schema = json.load(open(sys.argv[1]))
	jsonschema.Draft202012Validator.check_schema(schema)
	jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
	PY
}

# mixed_sandbox_template DIR [N]: a mixed sandbox of N devices (default 200, seed 7) and the images its
# images.txt names, IHDs left out (out of scope), made once per bats file in setup_file.
mixed_sandbox_template() {
	"$HANFW" -q sandbox init "$1" --mixed "${2:-200}" --seed 7
	local mi="$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" type mc it ver file
	while read -r type mc it ver file; do
		[ "$type" = IHD ] && continue
		"$HANFW" -q package build "$mi" -o "$1/$file" --device-type "$type" --manufacturer-code "$mc" \
			--image-type "$it" --file-version "$ver" --config "$1/hanfw.json"
	done < "$1/images.txt"
}

# The usual pair for a bats file of campaigns on the default mixed estate: mixed_sandbox_file in its
# setup_file (the template, TPL, made once), mixed_sandbox_test in its setup (a fresh copy per test).
mixed_sandbox_file() {
	: "${HANFW:?}" "${SHARED:?}"
	export TPL=$BATS_FILE_TMPDIR/tpl
	mixed_sandbox_template "$TPL"
}
mixed_sandbox_test() {
	setup_hanfw
	mixed_sandbox_copy "$TPL"
}

# mixed_sandbox_copy TEMPLATE: a fresh copy in ./sbx, its profile in HANFW_CONFIG, and plan.json.
mixed_sandbox_copy() {
	cp -r "$1" sbx
	export HANFW_CONFIG=$PWD/sbx/hanfw.json
	local images=() type file
	while read -r type _ _ _ file; do [ "$type" = IHD ] || images+=("sbx/$file"); done < sbx/images.txt
	hanfw -q campaign plan --estate sbx/estate.json --products sbx/products.json "${images[@]}" -o plan.json
}

validate_schema() {
	python3 -c '
import json, sys, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(sys.stdin))' \
		"$BATS_TEST_DIRNAME/../../schemas/$1.schema.json"
}

# For hanfw started by a shell's completion code only: LeakSanitizer's stop-the-world tracer was
# seen to spin for good in a process a zsh command substitution started (under the ASan build,
# about one run in five), and the orphan kept bats waiting on its output.  The same commands are
# leak-checked where the tests run them directly (manpages.bats: --dump-options, --list-options).
NO_LEAK_CHECK="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# Campaign runs end to end (campaign-run.bats, campaign-crash.bats) ------------------------------

# campaign_servers SCALE [FAULTS]: hanfw listen into the sandbox's ledger (./sbx), the sandbox
# POSTing to it SCALE times faster; HANFW_ENDPOINT names the sandbox.  campaign_teardown stops both.
campaign_servers() {
	"$HANFW" listen --plain-http --listen 127.0.0.1:0 > rx.url 2> rx.log &
	RX_PID=$!
	local i
	for i in $(seq 1 300); do [ -s rx.url ] && break; sleep 0.1; done
	[ -s rx.url ]
	"$HANFW" sandbox serve --dir sbx --listen 127.0.0.1:0 --receive-url "$(cat rx.url)rrs" --time-scale "$1" \
		${2:+--faults "$2"} > sv.url 2> sv.log &
	SV_PID=$!
	for i in $(seq 1 300); do [ -s sv.url ] && break; sleep 0.1; done
	[ -s sv.url ]
	HANFW_ENDPOINT=$(cat sv.url)
	export HANFW_ENDPOINT
}

campaign_teardown() {
	[ -n "${RUN_PID:-}" ] && kill -9 "$RUN_PID" 2>/dev/null || true
	[ -n "${SV_PID:-}" ] && kill "$SV_PID" 2>/dev/null && wait "$SV_PID" 2>/dev/null || true
	[ -n "${RX_PID:-}" ] && kill "$RX_PID" 2>/dev/null && wait "$RX_PID" 2>/dev/null || true
}

# unknown_fate_devices: the devices (a JSON array) with a request of unknown fate in the ledger (recorded,
# never answered: a kill between its commit and its send or answer).  A device 'pending' under an accepted
# distribution is not one: the DCC's answer and the devices' outcomes commit together (lib/distribute.c) and
# the run settles each device by its own alerts (hfw_run_settle_distributions), so that must not happen.
unknown_fate_devices() {
	ledger_sql "SELECT DISTINCT d.device FROM request_devices d JOIN requests r USING (request_id)
		WHERE r.state IN ('signed', 'precommand_signed', 'unknown')" |
		jq -R . | jq -s .
}

# Every device of the plan done (included) or skipped with the plan's reason; a device may have failed by
# its wave's timeout only when a request of its is of unknown fate in the ledger (a kill between the
# commit of a request and its send): such a request is never sent again blindly.
all_at_goal_or_unknown_fate() {
	unknown_fate_devices > unknown.json
	hanfw campaign status plan --json > status.json || [ $? = 8 ]	# 8: completed, some devices failed
	jq -r --slurpfile u unknown.json '.devices[] | "\(.device) \(if .step == "done" then "included"
		elif .step == "failed" and (.reason | startswith("wave_timeout")) and (.device | IN($u[0][])) then "included"
		else .reason // .step end)"' status.json | sort > got
	jq -r '(.waves[].requests[].devices[] | "\(.) included"), (.skipped[] | "\(.eui) \(.reason)")' plan.json | sort > want
	diff want got > plan-diff || {
		cat plan-diff
		# For the diagnosis: each such device's requests (action, state, its outcome) and its messages.
		local d
		for d in $(sed -n 's/^> \([0-9A-F-]*\) .*/\1/p' plan-diff); do
			ledger_sql "SELECT '$d', c.action, r.state, d.outcome, r.request_id, r.created
				FROM request_devices d JOIN requests r USING (request_id) JOIN campaign_requests c USING (request_id)
				WHERE d.device = '$d'"
			ledger_sql "SELECT '$d', event, request_id, detail FROM device_events WHERE device = '$d'"
		done
		return 1
	}
}

# left_devices_sent_nothing_more: no request of a device made after it left the campaign (a request's
# created is to the second, a device's updated to the ms: compared to the second, in both dialects), and
# running the campaign again (plan.json) succeeds and sends nothing.
left_devices_sent_nothing_more() {
	local late n
	late=$(ledger_sql "SELECT count(*) FROM run_devices v JOIN request_devices d ON d.device = v.device
		JOIN requests r USING (request_id) WHERE v.step = 'left' AND substr(r.created, 1, 19) > substr(v.updated, 1, 19)")
	[ "$late" = 0 ] || { echo "requests made after their device left: $late"; return 1; }
	n=$(wc -l < sbx/received.log)
	"$HANFW" campaign run plan.json --poll-ms 50 > rerun.out 2>&1 || { cat rerun.out; return 1; }
	[ "$(wc -l < sbx/received.log)" = "$n" ] || { echo "the run again sent more"; return 1; }
}

# No RequestID counter used for two requests, and no request of one command variant twice (requests the
# adapter refused before reading them are logged without a RequestID).
no_counter_twice() {
	local dups
	dups=$(jq -r 'select(.request != "") | .request' sbx/received.log | sort -u | awk -F: '{print $NF}' | sort | uniq -d)
	[ -z "$dups" ] || { echo "counters used twice: $dups"; return 1; }
	dups=$(jq -r 'select(.request != "") | "\(.request) \(.cv)"' sbx/received.log | sort | uniq -d)
	[ -z "$dups" ] || { echo "requests sent twice: $dups"; return 1; }
}

# no_step_twice [--sandbox]: no device given a step twice by the ledger (one request of each action per
# device, version reads aside: one of unknown fate is read again, as a read changes nothing; a re-drive
# aside: another request of the step only after the DCC or the device answered one with a failure); with
# --sandbox also by the sandbox's own event log (each device delivered to its hub, transferred,
# verified and activated at most once).
no_step_twice() {
	local dups
	dups=$(ledger_sql "SELECT d.device, c.action, count(*) FROM request_devices d
		JOIN campaign_requests c USING (request_id) JOIN requests r USING (request_id)
		WHERE r.state NOT IN ('transform_signed', 'not_sent', 'refused') AND c.action != 'read-version'
		AND d.outcome != 'other_request_in_progress' AND NOT EXISTS (SELECT 1 FROM device_events e
			WHERE e.device = d.device AND e.request_id = d.request_id AND e.event IN ('hub_delivery_failed',
			'transfer_failed', 'image_discarded', 'distribution_failed', 'activation_failed'))
		GROUP BY d.device, c.action HAVING count(*) > 1")
	[ -z "$dups" ] || { echo "steps twice (ledger): $dups"; return 1; }
	[ "${1:-}" = --sandbox ] || return 0
	dups=$(jq -r 'select(.event != "version-read") | "\(.device) \(.event)"' sbx/events.log | sort | uniq -d)
	[ -z "$dups" ] || { echo "steps twice (sandbox): $dups"; return 1; }
}
