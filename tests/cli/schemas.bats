#!/usr/bin/env bats
# The project's JSON schemas, checked with an independent validator
# (python3-jsonschema) against what hanfw really writes and reads.

load helpers

setup() {
	setup_hanfw
	SCHEMAS=$BATS_TEST_DIRNAME/../../schemas
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
