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
	export HANFW_LEDGER="$PWD/ledger.sqlite"
	# A row as hanfw kept them before senders, sizes and hashes (the columns are added on opening).
	sqlite3 ledger.sqlite "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
		INSERT INTO meta VALUES('format', 'hanfw-ledger-1');
		CREATE TABLE quarantine(id INTEGER PRIMARY KEY, received TEXT NOT NULL, reason TEXT NOT NULL, raw BLOB NOT NULL);
		INSERT INTO quarantine(received, reason, raw) VALUES('2026-01-01T00:00:00.000Z', 'not signed', '<x/>')"
	"$HANFW" listen --plain-http --listen 127.0.0.1:0 --trust "$SHARED/dcc/zaz1" --quarantine-cap 9000 > url 2> listen.log &
	LISTEN_PID=$!
	for _ in $(seq 1 300); do [ -s url ] && break; sleep 0.1; done
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
