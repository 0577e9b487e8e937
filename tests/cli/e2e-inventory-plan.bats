#!/usr/bin/env bats
# Issue 13 end to end: a mixed sandbox estate known only through the DCC's
# signed SR 8.2 answers, the supplier's records and the SMKI certificate
# service, then planned.  The inventoried estate must be the sandbox's own,
# field for field; the plan made from it the sandbox's ground truth and
# byte-identical to the plan made from the sandbox's estate.json; the device
# certificates fetched on the way must check the devices' GBCS signatures.

load helpers

SCHEMAS=$BATS_TEST_DIRNAME/../../schemas

# One mixed sandbox of a few thousand devices for the file, and its sample images.
setup_file() {
	: "${HANFW:?}" "${SHARED:?}"
	export SBX=$BATS_FILE_TMPDIR/sbx
	"$HANFW" -q sandbox init "$SBX" --mixed 3000
	local mi="$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" type mc it ver file allow
	while read -r type mc it ver file; do
		allow=()
		if [ "$type" = IHD ]; then allow=(--allow-ihd); fi	# out of scope (SECMP0007): only when told
		"$HANFW" -q package build "$mi" -o "$SBX/$file" --device-type "$type" --manufacturer-code "$mc" \
			--image-type "$it" --file-version "$ver" --config "$SBX/hanfw.json" "${allow[@]}"
	done < "$SBX/images.txt"
}

setup() {
	setup_hanfw
	HANFW_LEDGER=$(test_ledger) && export HANFW_LEDGER
}

teardown() { stop_servers; }


# serve DIR [options...]: hanfw sandbox serve on DIR with its SMKI service, both on 127.0.0.1,
# plain HTTP; HANFW_ENDPOINT and HANFW_SMKI_URL point at them.
serve() {
	local dir=$1
	shift
	rm -f up.json
	"$HANFW" sandbox serve --dir "$dir" --listen 127.0.0.1:0 --smki-listen 127.0.0.1:0 --plain-http \
		--time-scale 100000 --json "$@" > up.json 2> serve.log &
	SERVE_PID=$!
	for _ in $(seq 1 300); do [ -s up.json ] && break; sleep 0.1; done
	export HANFW_ENDPOINT=$(jq -r .url up.json) HANFW_SMKI_URL=$(jq -r .smki_url up.json)
	[[ "$HANFW_SMKI_URL" == http://127.0.0.1:* ]]
}

# The devices of an estate, every member, sorted by EUI.
members() { jq -S '.devices | sort_by(.eui)' "$1"; }

# plan_in DIR: campaign plan over DIR/estate.json, run from DIR, so that both plans name their inputs alike.
plan_in() {
	(cd "$1" && "$HANFW" campaign plan --estate estate.json --products products.json \
		$(awk '{ print "img/" $5 }' "$SBX/images.txt") "${@:2}")
}

@test "e2e: inventory of a mixed sandbox (signed 8.2, supplier.csv, SMKI) is its estate field for field; the plan from it is the ground truth's, byte for byte the plan from estate.json" {
	start_receiver
	serve "$SBX" --receive-url "$RX_URL"
	# The device store empty: every certificate must come from the SMKI service.
	rm -f "$SBX"/trust/devices/*
	jq -r '.devices[].eui' "$SBX/estate.json" > all.txt
	mkdir inv
	run -0 --separate-stderr hanfw --config "$SBX/hanfw.json" inventory --devices all.txt --supplier "$SBX/supplier.csv" \
		-o inv/estate.json --json
	[ -z "$stderr" ] || { echo "$stderr"; false; }
	echo "$output" > summary.json
	validate "$SCHEMAS/inventory.schema.json" summary.json
	validate "$SCHEMAS/estate.schema.json" inv/estate.json
	devices=$(wc -l < all.txt)
	hubs=$(jq '[.devices[] | select(.type == "CHF")] | length' "$SBX/estate.json")
	# One request per premises, every device covered, every supplier record applied.
	jq -e --argjson n "$devices" --argjson h "$hubs" '.devices == $n and .outcomes.found == $h and
		.outcomes.covered == $n - $h and .outcomes.not_found == 0 and .outcomes.rejected == 0 and
		.outcomes.unverified_answer == 0 and .supplier.applied == $n and .supplier.not_in_inventory == 0' summary.json
	# Field for field.  No member is left out: the mixed estate has no 'offline' device (the one member
	# neither SR 8.2 nor the supplier's records carry; the second test shows it).
	[ "$(jq '[.devices[] | select(has("offline"))] | length' "$SBX/estate.json")" = 0 ]
	[ "$(jq -r .format inv/estate.json)" = "$(jq -r .format "$SBX/estate.json")" ]
	diff <(members "$SBX/estate.json") <(members inv/estate.json)

	# Every device certificate the sandbox issued for digital signing, stored as it was issued.
	want=$(ls "$SBX/devices" | grep -c -- '-ds.pem$')
	[ "$want" -gt 0 ]
	jq -e --argjson w "$want" --argjson n "$devices" '.certificates == {fetched: true, stored: $w, none: ($n - $w)}' summary.json
	for f in "$SBX"/devices/*-ds.pem; do
		cmp <(openssl x509 -in "$f" -outform DER) <(openssl x509 -in "$SBX/trust/devices/${f##*/}" -outform DER)
	done

	# The plan from the inventoried estate: the ground truth for every device, and the very plan the
	# sandbox's own estate.json gives (both run alike from their own directory).
	mkdir own
	cp "$SBX/estate.json" own/estate.json
	for d in own inv; do
		cp "$SBX/products.json" "$d/"
		ln -s "$SBX" "$d/img"
	done
	plan_in inv -o plan.json
	plan_in own -o plan.json
	cmp own/plan.json inv/plan.json
	validate "$SCHEMAS/plan.schema.json" inv/plan.json
	jq -r '(.waves[].requests[].devices[] | "\(.) included"), (.skipped[] | "\(.eui) \(.reason)")' inv/plan.json | sort > got
	jq -r '.devices | to_entries[] | "\(.key) \(.value)"' "$SBX/truth.json" | sort > want
	diff want got
	[ "$(wc -l < got)" = "$devices" ]
	plan_in inv --json > plan-summary.json
	validate "$SCHEMAS/campaign-plan.schema.json" plan-summary.json
	eui=$(jq -r '.devices | to_entries[] | select(.value == "secure_third_party") | .key' "$SBX/truth.json" | head -1)
	plan_in inv --explain "$eui" --json > explain.json
	validate "$SCHEMAS/campaign-plan.schema.json" explain.json
	jq -e '.reason == "secure_third_party" and .facts.installation == "Secure"' explain.json

	# The canary wave's SR 11.1 requests sent: the devices' own Firmware Verification alerts are GBCS
	# signed, and the certificates the inventory stored check them (without them: not checked).
	n=0
	while read -r image devs; do
		# shellcheck disable=SC2086
		hanfw -q --config "$SBX/hanfw.json" distribute "inv/$(jq -r ".inputs.images[$image].path" inv/plan.json)" $devs
		n=$((n + $(wc -w <<<"$devs")))
	done < <(jq -r '.waves[0].requests[] | select(.service_reference == "11.1") | "\(.image) \(.devices | join(" "))"' inv/plan.json)
	[ "$n" -gt 0 ]
	wait_count "$n" GBCSPayload
	mkdir -p bare && cp "$SBX"/trust/*.pem bare/
	for f in $(grep -l '<sr:GBCSPayload>' rx/*.xml); do
		run -0 hanfw status decode --trust "$SBX/trust" --json "$f"
		[ "$(jq -r '.[0].message.GBCSPayload.signature' <<<"$output")" = valid ] || { echo "$output"; false; }
		run -0 hanfw status decode --trust bare --json "$f"
		[ "$(jq -r '.[0].message.GBCSPayload.signature' <<<"$output")" = "present, not checked (no certificate for the originator)" ]
	done
}

@test "e2e: every member SR 8.2 and the supplier's records carry comes through inventory; 'offline', the sandbox's simulation flag, does not" {
	run -0 hanfw sandbox init sbx --devices 'ESME=1,GSME=1,PPMID=2,HCALCS=1,IHD=1'
	hub=$(jq -r '[.devices[] | select(.type == "CHF")][0].eui' sbx/estate.json)
	# Every member of estate v2 on some device, with values DUIS's types allow; a PPMID an Alt HAN bridge.
	jq --arg h "$hub" '
		def rich: . + {status: "Commissioned", manufacturer: "106C", model: "433100AC", chts_version: "SMETS2 CHTS 4.0",
			firmware_status: "Active", cpl_status: "Withdrawn", date_commissioned: "2024-03-01", uprn: "123456789012",
			region: "4G North", gbcs_version: "4.0", han_variant: "Dual Band", s1sp: "S1SP-A", connectivity: "Virtual",
			site: "SITE-1", installation: "Secure", third_party: true, hardware_version: 513, sleepy: true};
		.devices |= (map(if .comms_hub == $h and .type != "CHF" then rich else . end)
			| map(if .type == "ESME" then . + {mpxn: "1234567890123"} else . end)
			| map(if .type == "GSME" then . + {mpxn: "9876543210", status: "InstalledNotCommissioned", cpl_status: "Expired",
				firmware_status: "Cancelled", installation: "MOC"} | del(.sleepy, .third_party) else . end)
			| map(if .type == "PPMID" and .comms_hub == $h then . + {type: "ALTHAN-B3", althan_option: "A"} else . end))' \
		sbx/estate.json > e.json
	mv e.json sbx/estate.json
	# The supplier records, as the estate says.
	jq -r '"eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy",
		(.devices[] | [.eui, (if .type | startswith("ALTHAN-") then .type[7:] else "" end), (.site // ""),
			(.installation // ""), (if .third_party then 1 else 0 end), (.hardware_version // ""),
			(.althan_option // ""), (if .sleepy then 1 else 0 end)] | map(tostring) | join(","))' sbx/estate.json > sites.csv
	serve sbx
	jq -r '.devices[].eui' sbx/estate.json > all.txt
	run -0 --separate-stderr hanfw --config sbx/hanfw.json inventory --devices all.txt --supplier sites.csv \
		-o estate.json --no-certificates
	[ -z "$stderr" ] || { echo "$stderr"; false; }
	diff <(members sbx/estate.json) <(members estate.json)
	# The first premises' PPMID came back an Alt HAN bridge with every member; the second's a bare PPMID.
	jq -e '[.devices[] | select(.type == "ALTHAN-B3" and .s1sp == "S1SP-A" and .third_party)] | length == 1' estate.json
	jq -e '[.devices[] | select(.type == "PPMID" and (has("s1sp") | not))] | length == 1' estate.json
	# offline tells the sandbox to leave a device silent: neither the DCC nor the supplier holds it.
	esme=$(jq -r '.devices[] | select(.type == "ESME") | .eui' sbx/estate.json)
	stop_servers
	jq --arg e "$esme" '.devices |= map(if .eui == $e then . + {offline: true} else . end)' sbx/estate.json > e.json
	mv e.json sbx/estate.json
	serve sbx
	run -0 hanfw --config sbx/hanfw.json inventory --devices all.txt --supplier sites.csv -o again.json --no-certificates
	diff <(jq -S '.devices | map(del(.offline)) | sort_by(.eui)' sbx/estate.json) <(members again.json)
}
