#!/usr/bin/env bats
# The command-line contract every command keeps: --json (each output with a
# schema in schemas/, checked in schemas.bats), "--" ending the options, and
# completion of option values from the option tables and the ledger.

load helpers

setup() {
	setup_hanfw
	Z=$SHARED/dcc/zaz1
	mkdir -p bin && ln -sf "$HANFW" bin/hanfw
	COMPLETIONS=$BATS_TEST_DIRNAME/../../completions
}

teardown() {
	[ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

complete_bash() { # complete_bash WORD...: what bash offers for the last word
	ASAN_OPTIONS="$NO_LEAK_CHECK" PATH="$PWD/bin:$PATH" bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hanfw; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$COMPLETIONS/hanfw.bash" "$@"
}

# complete_zsh WORD...: what the zsh completion hands to compadd/_describe/_files for the last word.
complete_zsh() {
	ASAN_OPTIONS="$NO_LEAK_CHECK" PATH="$PWD/bin:$PATH" zsh -f -c '
		_describe() { print -rl -- "${(@P)4}"; }
		compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }
		compset() { :; }
		_files() { print -r -- "_files $*"; }
		f=$1; shift; words=("$@"); CURRENT=$#; source $f' _ "$COMPLETIONS/_hanfw" "$@"
}

# serve_json CMD...: start a server with --json, SERVER_PID and its start-up line in up.json.
serve_json() {
	"$@" --json > up.json 2> serve.log &
	SERVER_PID=$!
	for _ in $(seq 1 300); do [ -s up.json ] && break; sleep 0.1; done
	[ -s up.json ]
}

@test "-- ends the options: verify reads a file named -weird-name.xml" {
	cp "$SHARED/dcc/samples/11.2_readfw_response_signed.xml" ./-weird-name.xml
	run -0 hanfw verify --trust "$Z" -- -weird-name.xml
	[[ "$output" == *"verified Response, signed by 90-B3-D5-1F-30-00-00-02"* ]]
	# Before "--" it is still an option, and an unknown one.
	run -2 --separate-stderr hanfw verify --trust "$Z" -weird-name.xml
	# Options before "--" still count; after it, nothing is an option.
	run -11 --separate-stderr hanfw verify -- --trust "$Z" -weird-name.xml
	[[ "$stderr" == "hanfw: missing setting 'trust_dir' "*"give --trust or set it in the profile or HANFW_TRUST_DIR" ]]
}

@test "--version --json: hanfw's and its libraries' versions" {
	run -0 hanfw --version --json
	[ "$(jq -r .hanfw <<<"$output")" = "$(hanfw --version | cut -d' ' -f2)" ]
	[[ "$(jq -r .libraries.openssl <<<"$output")" == OpenSSL* ]]
	[ "$(jq -r '.libraries | keys | join(" ")' <<<"$output")" = "jansson libxml2 openssl sqlite3" ]
	run -0 hanfw --json --version
	jq -e .libraries.sqlite3 <<<"$output"
}

@test "sandbox init --json: what it made, the profile and the estate in numbers" {
	run -0 hanfw sandbox init sbx --devices 'ESME=2,PPMID=1;PPMID=3' --json
	[ "$(jq -r .config <<<"$output")" = sbx/hanfw.json ]
	[ "$(jq -r .profile <<<"$output")" = sandbox ]
	[ "$(jq -r .devices <<<"$output")" = "$(jq '.devices | length' sbx/estate.json)" ]
	[ "$(jq -r .comms_hubs <<<"$output")" = "$(jq '[.devices[] | select(.type == "CHF")] | length' sbx/estate.json)" ]
	[ "$(jq -c .types <<<"$output")" = "$(jq -c '.devices | group_by(.type) | map({(.[0].type): length}) | add' sbx/estate.json)" ]
	[ "$(jq -r .types.ESME <<<"$output")" = 2 ] && [ "$(jq -r .types.PPMID <<<"$output")" = 4 ]
	for f in config estate sandbox pki trust tls; do [ -e "$(jq -r ".$f" <<<"$output")" ]; done
	hanfw config show --config "$(jq -r .config <<<"$output")" --profile "$(jq -r .profile <<<"$output")" >/dev/null
}

@test "listen and sandbox serve --json: one JSON start-up line" {
	hanfw -q sandbox init sbx --devices PPMID=1
	serve_json "$HANFW" sandbox serve --dir sbx --listen 127.0.0.1:0 --plain-http
	[ "$(wc -l < up.json)" = 1 ]
	[ "$(jq -r .pid up.json)" = "$SERVER_PID" ]
	[ "$(jq -r .tls up.json)" = false ]
	[ "$(jq -r .url up.json)" = "http://127.0.0.1:$(jq -r .port up.json)/api/v1" ]
	kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=
	serve_json "$HANFW" listen --listen 127.0.0.1:0 --trust "$Z" --tls-cert sbx/tls/server.pem \
		--tls-key sbx/tls/server.key --client-ca sbx/tls/ca.pem --config sbx/hanfw.json
	[ "$(jq -r .tls up.json)" = true ]
	[ "$(jq -r .address up.json)" = 127.0.0.1 ]
	[ "$(jq -r .url up.json)" = "https://127.0.0.1:$(jq -r .port up.json)/" ]
	[ "$(jq -r .pid up.json)" = "$SERVER_PID" ]
}

@test "sign --json: the output, its RequestID and signer; never mixed into the signed message" {
	t=$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML
	export HANFW_LEDGER=$(test_ledger)
	run -0 hanfw sign "$t" --key "$Z/xml-sign-90B3D51F30010000-ds.key" --cert "$Z/xml-sign-90B3D51F30010000-ds.pem" \
		-o a.xml --json
	[ "$(jq -r .output <<<"$output")" = a.xml ]
	[ "$(jq -r .signer <<<"$output")" = 90-B3-D5-1F-30-01-00-00 ]
	grep -qF "<sr:RequestID>$(jq -r .request_id <<<"$output")</sr:RequestID>" a.xml
	run -2 --separate-stderr hanfw sign "$t" --key "$Z/xml-sign-90B3D51F30010000-ds.key" \
		--cert "$Z/xml-sign-90B3D51F30010000-ds.pem" --json
	[ "$stderr" = "hanfw: sign: --json needs -o FILE or --in-place (standard output carries the signed message)" ]
	[ -z "$output" ]
}

@test "completion: files after FILE options and --config, directories after DIR ones, nothing after numbers" {
	mkdir adir && touch afile.json
	run -0 complete_bash hanfw --config a
	[ "$output" = $'adir\nafile.json' ]
	run -0 complete_bash hanfw status --config a
	[ "$output" = $'adir\nafile.json' ]
	run -0 complete_bash hanfw sandbox serve --dir a
	[ "$output" = adir ]
	run -0 complete_bash hanfw package build --manufacturer-code a
	[ -z "$output" ]
	run -0 complete_bash hanfw status --fail-on activated,hash
	[ "$output" = activated,hash_mismatch ]
	run -0 complete_bash hanfw status --fail-on version_m
	[ "$output" = version_mismatch ]
}

@test "completion: campaign names from the ledger, quietly nothing without one" {
	hanfw -q sandbox init sbx --devices PPMID=2
	export HANFW_LEDGER=$(test_ledger)
	run -0 --separate-stderr hanfw status --config sbx/hanfw.json --list-values campaign
	[ -z "$output" ] && [ -z "$stderr" ]
	no_ledger	# asking made no ledger
	hanfw -q package build "$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" -o p.img --device-type PPMID \
		--manufacturer-code 0x121D --image-type 0x84 --file-version 0x01020304 --config sbx/hanfw.json
	eui=$(jq -r '[.devices[] | select(.type == "PPMID")][0].eui' sbx/estate.json)
	for c in beta alpha; do
		hanfw -q distribute p.img "$eui" --campaign "$c" --dry-run -o "dry-$c" --config sbx/hanfw.json
	done
	run -0 hanfw status --config sbx/hanfw.json --list-values campaign
	[ "$output" = $'alpha\nbeta' ]
	run -0 complete_bash hanfw --config sbx/hanfw.json status --campaign ""
	[ "$output" = $'alpha\nbeta' ]
	run -0 complete_bash hanfw --config sbx/hanfw.json activate --campaign b
	[ "$output" = beta ]
}

@test "zsh completion shows each option's help text, and completes values like bash" {
	command -v zsh || skip "zsh not installed"
	run -0 complete_zsh hanfw status --c
	grep -qx -- '--campaign:one campaign (default: every one in the ledger)' <<<"$output"
	grep -qx -- '--json:machine-readable output on standard output' <<<"$output"
	run -0 complete_zsh hanfw sandbox serve --dir ""
	[ "$output" = "_files -/" ]
	run -0 complete_zsh hanfw package inspect --route ""
	[ "$output" = $'11.1\n11.4' ]
	run -0 complete_zsh hanfw status --fail-on ""
	grep -qx hash_mismatch <<<"$output"
}
