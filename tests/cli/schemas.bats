#!/usr/bin/env bats
# The project's JSON schemas, checked with an independent validator
# (python3-jsonschema) against what hanfw really writes and reads.

load helpers

setup() {
	setup_hanfw
	SCHEMAS=$BATS_TEST_DIRNAME/../../schemas
}

teardown() {
	stop_listen
}

validate() { # validate SCHEMA FILE
	/usr/bin/python3 - "$1" "$2" <<-'PY'
	import json, sys, jsonschema
	schema = json.load(open(sys.argv[1]))
	jsonschema.Draft202012Validator.check_schema(schema)
	jsonschema.Draft202012Validator(schema, format_checker=None).validate(json.load(open(sys.argv[2])))
	PY
}

@test "manifests of both routes and every optional field validate" {
	sample_mi mi.bin
	p=$(pki)
	hanfw package build mi.bin -o a.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3
	validate "$SCHEMAS/manifest.schema.json" a.img.json
	hanfw package build mi.bin -o b.img --device-type ESME --manufacturer-code 1 --image-type 2 --file-version 3 \
		--key "$p/supplier-ds.key" --cert "$p/supplier-ds.pem" --hw-min 1 --hw-max 2 \
		--destination 00DB1234567890A0 --security-credential-version 1 --header-string 'tab	and \ slash'
	validate "$SCHEMAS/manifest.schema.json" b.img.json
	# The schema is not a rubber stamp.
	jq '.surprise = 1' b.img.json > c.json
	run ! validate "$SCHEMAS/manifest.schema.json" c.json
	jq '.sizes.trailer = 65' b.img.json > c.json
	run ! validate "$SCHEMAS/manifest.schema.json" c.json
}

@test "the sample configuration validates, and hanfw accepts what the schema accepts" {
	validate "$SCHEMAS/config.schema.json" "$BATS_TEST_DIRNAME/../../samples/hanfw.json"
	run -0 hanfw config show --config "$BATS_TEST_DIRNAME/../../samples/hanfw.json" --profile dcc-boxed
	echo '{"profiles":{"a":{"hub_capacity":"1"}}}' > bad.json
	run ! validate "$SCHEMAS/config.schema.json" bad.json
	run -11 hanfw config show --config bad.json
}

@test "status quarantine --json validates: rows kept, counts past the cap, rows from older ledgers" {
	HANFW_LEDGER=$(test_ledger) && export HANFW_LEDGER
	# A row as hanfw kept them before senders, sizes and hashes: on SQLite in a ledger file of the first
	# format (the columns are added on opening); on PostgreSQL, whose ledger has had the columns from its
	# start, a row without them, once listen has made the ledger.
	on_postgresql || sqlite3 ledger.sqlite "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
		INSERT INTO meta VALUES('format', 'hanfw-ledger-1');
		CREATE TABLE quarantine(id INTEGER PRIMARY KEY, received TEXT NOT NULL, reason TEXT NOT NULL, raw BLOB NOT NULL);
		INSERT INTO quarantine(received, reason, raw) VALUES('2026-01-01T00:00:00.000Z', 'not signed', '<x/>')"
	"$HANFW" listen --plain-http --listen 127.0.0.1:0 --trust "$SHARED/dcc/zaz1" --quarantine-cap 9000 > url 2> listen.log &
	LISTEN_PID=$!
	for _ in $(seq 1 300); do [ -s url ] && break; sleep 0.1; done
	! on_postgresql || ledger_sql "INSERT INTO quarantine(received, reason, raw)
		VALUES('2026-01-01T00:00:00.000Z', 'not signed', CAST('<x/>' AS BYTEA))"
	head -c 5000 /dev/zero | tr '\0' 'A' > junk
	for i in 1 2 3; do curl -s -o /dev/null --max-time 30 --data-binary @junk "$(cat url)rrs"; done
	stop_listen
	hanfw status quarantine --all --json > q.json
	[ "$(jq -c '[.quarantined, (.messages | length), (.counted | length)]' q.json)" = "[4,3,1]" ]
	validate "$SCHEMAS/quarantine.schema.json" q.json
	# The schema is not a rubber stamp.
	jq '.messages[1].sha256 = "xyz"' q.json > bad.json
	run ! validate "$SCHEMAS/quarantine.schema.json" bad.json
	jq 'del(.counted)' q.json > bad.json
	run ! validate "$SCHEMAS/quarantine.schema.json" bad.json
}

# serve_json CMD...: a server started with --json; SERVER_PID, and its start-up line in the file up.json.
serve_json() {
	"$@" --json > up.json 2> serve.log &
	SERVER_PID=$!
	for _ in $(seq 1 300); do [ -s up.json ] && break; sleep 0.1; done
	[ -s up.json ]
}

teardown() {
	[ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

@test "--version, sandbox init, listen, sandbox serve and sign --json validate" {
	hanfw --version --json > version.json
	validate "$SCHEMAS/version.schema.json" version.json
	hanfw sandbox init sbx --devices 'PPMID=2,ESME=1' --json > init.json
	validate "$SCHEMAS/sandbox-init.schema.json" init.json
	serve_json "$HANFW" sandbox serve --dir sbx --listen 127.0.0.1:0
	validate "$SCHEMAS/listening.schema.json" up.json
	kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=
	serve_json "$HANFW" listen --plain-http --listen 127.0.0.1:0 --config sbx/hanfw.json
	validate "$SCHEMAS/listening.schema.json" up.json
	HANFW_LEDGER=$(test_ledger) && export HANFW_LEDGER
	hanfw sign "$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML" --config sbx/hanfw.json -o s.xml --json > sign.json
	validate "$SCHEMAS/sign.schema.json" sign.json
	tr -d ' \r\n' < "$SHARED/gbcs/rtds/CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX" > pre.hex
	hanfw sign --gbcs --hex pre.hex --key "$SHARED/gbcs/keystore/90b3d51f30010000-ds.key" -o pre.signed --json > gbcs.json
	validate "$SCHEMAS/sign.schema.json" gbcs.json
	jq '.request_id = "x"' gbcs.json > bad.json
	run ! validate "$SCHEMAS/sign.schema.json" bad.json
	# Not rubber stamps.
	jq '.port = 0' up.json > bad.json
	run ! validate "$SCHEMAS/listening.schema.json" bad.json
	jq 'del(.request_id)' sign.json > bad.json
	run ! validate "$SCHEMAS/sign.schema.json" bad.json
	jq '.types.ESME = 0' init.json > bad.json
	run ! validate "$SCHEMAS/sandbox-init.schema.json" bad.json
}

@test "every JSON schema is checked against a real output by some test, and make install installs them" {
	local s
	for s in "$SCHEMAS"/*.schema.json; do
		grep -lq "schemas/$(basename "$s")\|\$SCHEMAS/$(basename "$s")" "$BATS_TEST_DIRNAME"/*.bats "$BATS_TEST_DIRNAME"/*.bash ||
			{ echo "no test validates $(basename "$s")"; false; }
	done
	# Installs what is built, never builds (-o: the binary and pages as they are): run from another
	# checkout than the build's, or without make check's sanitizer flags, make would rebuild the build's
	# objects from this checkout with the default flags (it did, and broke an ASan build).
	local b old=()
	b=$(dirname "$HANFW")
	for s in "$HANFW" "$b"/man/*.1; do old+=(-o "$s"); done
	make -s -C "$BATS_TEST_DIRNAME/../.." install BUILD="$b" DESTDIR="$PWD/root" PREFIX=/usr "${old[@]}" >/dev/null
	cmp "$HANFW" root/usr/bin/hanfw
	for s in "$SCHEMAS"/*.json; do cmp "$s" "root/usr/share/hanfw/schemas/$(basename "$s")"; done
	[ -f root/usr/share/man/man1/hanfw-status.1 ]
	grep -q '^\.Ss hanfw status decode' root/usr/share/man/man1/hanfw-status.1
}

@test "package inspect, verify, config show, status decode, distribute, activate and read-version --json validate" {
	hanfw -q sandbox init sbx --devices 'PPMID=1,ESME=1'
	HANFW_LEDGER=$(test_ledger) && export HANFW_CONFIG=$PWD/sbx/hanfw.json HANFW_LEDGER
	mi=$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin
	hanfw -q package build "$mi" -o p.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3
	hanfw -q package build "$mi" -o e.img --device-type ESME --manufacturer-code 1 --image-type 2 --file-version 3
	hanfw package inspect e.img --cert sbx/pki/supplier-ds.pem --json > out.json
	validate "$SCHEMAS/package-inspect.schema.json" out.json
	[ "$(jq -r .signature out.json)" != none ]
	hanfw package inspect p.img --json > out.json
	validate "$SCHEMAS/package-inspect.schema.json" out.json
	sample=$SHARED/dcc/samples/11.2_readfw_response_signed.xml
	hanfw verify --trust "$SHARED/dcc/zaz1" "$sample" --json > out.json
	validate "$SCHEMAS/verify.schema.json" out.json
	hanfw verify --trust "$SHARED/dcc/zaz1" "$SHARED/dcc/samples/11.2_E65_error_response.xml" --allow-unsigned --json > out.json
	validate "$SCHEMAS/verify.schema.json" out.json
	hanfw config show --json > out.json
	validate "$SCHEMAS/config-show.schema.json" out.json
	hanfw status decode --trust "$SHARED/dcc/zaz1" "$sample" > out.json
	validate "$SCHEMAS/status-decode.schema.json" out.json
	ppmid=$(jq -r '[.devices[] | select(.type == "PPMID")][0].eui' sbx/estate.json)
	esme=$(jq -r '[.devices[] | select(.type == "ESME")][0].eui' sbx/estate.json)
	hanfw distribute p.img "$ppmid" --dry-run -o d --json > out.json
	validate "$SCHEMAS/distribute.schema.json" out.json
	hanfw activate "$esme" --image e.img --dry-run -o a --json > out.json
	validate "$SCHEMAS/devices.schema.json" out.json
	[ "$(jq -r .mode out.json)" = immediate ]
	hanfw read-version "$ppmid" --dry-run -o r --json > out.json
	validate "$SCHEMAS/devices.schema.json" out.json
	jq '.results[0].outcome = "fine"' out.json > bad.json
	run ! validate "$SCHEMAS/devices.schema.json" bad.json
}
