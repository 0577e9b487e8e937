#!/usr/bin/env bats
# hanfw campaign plan over a mixed sandbox estate, against the sandbox's own ground truth.

load helpers

SCHEMAS=$BATS_TEST_DIRNAME/../../schemas

# One mixed sandbox for the file (a few thousand devices) and its sample images, made with hanfw package.
setup_file() {
	: "${HANFW:?}" "${SHARED:?}"
	export SBX=$BATS_FILE_TMPDIR/sbx
	"$HANFW" -q sandbox init "$SBX" --mixed 3000 --seed 7
	local mi="$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" type mc it ver file
	while read -r type mc it ver file; do
		# IHDs are out of scope (SECMP0007): package build makes the IHD image only when told.
		allow=()
		if [ "$type" = IHD ]; then allow=(--allow-ihd); fi
		"$HANFW" -q package build "$mi" -o "$SBX/$file" --device-type "$type" --manufacturer-code "$mc" \
			--image-type "$it" --file-version "$ver" --config "$SBX/hanfw.json" "${allow[@]}"
	done < "$SBX/images.txt"
}

setup() {
	setup_hanfw
	IMAGES=()
	while read -r _ _ _ _ file; do IMAGES+=("$SBX/$file"); done < "$SBX/images.txt"
}

plan() { hanfw campaign plan --estate "$SBX/estate.json" --products "$SBX/products.json" "${IMAGES[@]}" "$@"; }


# Every device's decision in the plan: EUI and "included" or its reason, sorted.
decisions() {
	jq -r '(.waves[].requests[].devices[] | "\(.) included"), (.skipped[] | "\(.eui) \(.reason)")' "$1" | sort
}

@test "sandbox init --mixed: an estate v2 of a few thousand devices and what goes beside it" {
	[ "$(jq '.devices | length' "$SBX/estate.json")" -ge 3000 ]
	[ "$(jq -r .format "$SBX/estate.json")" = hanfw-estate-2 ]
	head -1 "$SBX/supplier.csv" | grep -qx 'eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy'
	[ "$(($(wc -l < "$SBX/supplier.csv") - 1))" = "$(jq '.devices | length' "$SBX/estate.json")" ]
	[ "$(jq '.devices | length' "$SBX/truth.json")" = "$(jq '.devices | length' "$SBX/estate.json")" ]
	validate "$SCHEMAS/products.schema.json" "$SBX/products.json"
	validate "$SCHEMAS/products.schema.json" "$BATS_TEST_DIRNAME/../../samples/products.json"
	validate "$SCHEMAS/estate.schema.json" "$SBX/estate.json"
	# Premises of at most 17 devices; hubs of several manufacturers; SMETS1, Alt HAN A and B, IHDs.
	[ "$(jq '[.devices | group_by(.comms_hub)[] | length] | max' "$SBX/estate.json")" -le 17 ]
	[ "$(jq '[.devices[] | select(.type == "CHF") | .manufacturer] | unique | length' "$SBX/estate.json")" -ge 3 ]
	jq -e '[.devices[] | select(.region == "SMETS1")] | length > 0' "$SBX/estate.json"
	jq -e '[.devices[] | select(.althan_option == "A")] | length > 0' "$SBX/estate.json"
	jq -e '[.devices[] | select(.althan_option == "B")] | length > 0' "$SBX/estate.json"
	# The same seed gives the same estate; another seed another one.
	"$HANFW" -q sandbox init again --mixed 3000 --seed 7
	cmp "$SBX/estate.json" again/estate.json
	cmp "$SBX/truth.json" again/truth.json
	"$HANFW" -q sandbox init other --mixed 3000 --seed 8
	! cmp -s "$SBX/estate.json" other/estate.json
	run -2 hanfw sandbox init x --mixed 10 --devices PPMID=1
	run -2 hanfw sandbox init x --seed 3
	run -2 hanfw sandbox init x --mixed 0
}

@test "campaign plan: every device gets the decision the sandbox's ground truth says" {
	run -0 plan -o plan.json
	[[ "$output" == *"devices:"*"included in"*"waves"* ]]
	decisions plan.json > got
	jq -r '.devices | to_entries[] | "\(.key) \(.value)"' "$SBX/truth.json" | sort > want
	diff want got
	# Each device once.
	[ "$(cut -d' ' -f1 got | sort -u | wc -l)" = "$(jq '.devices | length' "$SBX/estate.json")" ]
}

@test "campaign plan: every reason of the list is exercised, and the counts agree" {
	plan -o plan.json --json > summary.json
	for r in not_commissioned already_at_target not_allowed_predecessor model_mismatch hardware_out_of_range \
		version_withdrawn smets1 secure_third_party unsupported_model ihd_out_of_scope image_too_large_for_hub \
		hub_not_capable hub_metadata_locked covered_by_orchestrator no_route hub_unknown; do
		jq -e --arg r "$r" '.counts.reasons[$r] > 0' plan.json > /dev/null || { echo "no $r"; false; }
		[ "$(jq --arg r "$r" '[.skipped[] | select(.reason == $r)] | length' plan.json)" = \
		  "$(jq --arg r "$r" '.reasons[$r]' summary.json)" ]
	done
	[ "$(jq '.precedence | length' plan.json)" = 16 ]
	jq -e '.counts.included == ([.waves[].devices] | add) and .counts.devices == .counts.included + .counts.skipped' plan.json
	jq -e '[.waves[].requests[] | (.devices | length) <= 50000] | all' plan.json
	validate "$SCHEMAS/campaign-plan.schema.json" summary.json
	# Without -o, no plan is written and the summary names none (no "plan": null).
	plan --json > no-plan.json
	validate "$SCHEMAS/campaign-plan.schema.json" no-plan.json
	jq -e 'has("plan") | not' no-plan.json
}

@test "campaign plan: no wave puts two HAN-slot devices on one hub, and they wait for the hub's GSME" {
	plan -o plan.json
	# wave, type and hub per included device.
	jq -r '[.waves[] | .wave as $w | .requests[].devices[] | {key: ., value: $w}] | from_entries' plan.json > waves.json
	jq -r --slurpfile w waves.json '.devices[] | select($w[0][.eui]) | "\($w[0][.eui]) \(.type) \(.comms_hub)"' \
		"$SBX/estate.json" > placed
	[ -s placed ]
	# Two HAN-slot devices, one hub, one wave: none.
	dup=$(awk '$2 ~ /^(PPMID|IHD|HCALCS|ALTHAN-)/ { print $1, $3 }' placed | sort | uniq -d)
	[ -z "$dup" ] || { echo "shared slot: $dup"; false; }
	# Every HAN-slot device after its hub's GSME, when the GSME is in the campaign.
	late=$(awk '$2 == "GSME" { g[$3] = $1 } $2 ~ /^(PPMID|IHD|HCALCS|ALTHAN-)/ { h[$3 " " NR] = $1 }
		END { for (k in h) { split(k, a, " "); if ((a[1] in g) && h[k] <= g[a[1]]) print k } }' placed)
	[ -z "$late" ] || { echo "before the GSME: $late"; false; }
	# The hubs the test relies on exist: some hub has a GSME and a HAN-slot device in the campaign.
	awk '$2 == "GSME" { g[$3] = 1 } $2 ~ /^(PPMID|HCALCS)/ && ($3 in g) { n++ } END { exit !(n > 0) }' placed
	# The canary: 1% of the included, across the models.
	jq -e '.waves[0].devices == ([.counts.included / 100, 100] | min | ceil)' plan.json
	[ "$(jq -r '.waves[0].requests | length' plan.json)" -ge 3 ]
	# Alt HAN: one package per site, for its orchestrator, serving the bridges there.
	jq -e '[.althan_sites[] | select(.option == "B") | (.serves | length) >= 2] | all' plan.json
	jq -e '[.althan_sites[] | select(.option == "A")] | length > 0' plan.json
}

@test "campaign plan: the plan validates against its schema and is byte-identical on a second run" {
	plan -o plan.json
	validate "$SCHEMAS/plan.schema.json" plan.json
	plan -o again.json
	cmp plan.json again.json
	# The inputs are named with their SHA-256.
	[ "$(jq -r .inputs.estate.sha256 plan.json)" = "$(sha256sum "$SBX/estate.json" | cut -d' ' -f1)" ]
	[ "$(jq -r .inputs.products.sha256 plan.json)" = "$(sha256sum "$SBX/products.json" | cut -d' ' -f1)" ]
	[ "$(jq -r '.inputs.images[0].sha256' plan.json)" = "$(sha256sum "${IMAGES[0]}" | cut -d' ' -f1)" ]
	[ "$(jq -r '.inputs.images[0].firmware_hash' plan.json)" = "$(jq -r .manufacturer_image_sha256 "${IMAGES[0]}.json")" ]
	# -o - is the plan itself.
	plan -o - | cmp - plan.json
	# The schema is not a rubber stamp.
	jq '.skipped[0].reason = "bored"' plan.json > bad.json
	run ! validate "$SCHEMAS/plan.schema.json" bad.json
}

@test "campaign plan --explain: one device's decision and the facts it rests on" {
	eui=$(jq -r '.devices | to_entries[] | select(.value == "hub_metadata_locked") | .key' "$SBX/truth.json" | head -1)
	run -0 plan --explain "$eui"
	[[ "${lines[0]}" == "$eui PPMID: skipped: hub_metadata_locked" ]]
	[[ "$output" == *"locked_to_hub_manufacturer: 1069"* ]]
	[[ "$output" == *"hub_manufacturer: 1050"* ]]
	plan --explain "$eui" --json > e.json
	validate "$SCHEMAS/campaign-plan.schema.json" e.json
	jq -e '.decision == "skipped" and .reason == "hub_metadata_locked" and .facts.locked_to_hub_manufacturer == "1069"' e.json
	eui=$(jq -r '.devices | to_entries[] | select(.value == "covered_by_orchestrator") | .key' "$SBX/truth.json" | head -1)
	plan --explain "$eui" --json | jq -e '.facts.orchestrator | test("^00-DB-13-6[13]-")'
	eui=$(jq -r '.devices | to_entries[] | select(.value == "included") | .key' "$SBX/truth.json" | head -1)
	plan --explain "$eui" --json | jq -e '.decision == "included" and .wave >= 1'
	run -3 --separate-stderr plan --explain 00-00-00-00-00-00-00-01
	one_line_error
}

@test "campaign plan --allow-ihd and --allow-smets1 open what they name" {
	run -0 plan --allow-ihd --json
	jq -e '.reasons.ihd_out_of_scope == 0' <<<"$output"
	run -0 plan --allow-smets1 --json
	jq -e '.reasons.smets1 == 0 and .reasons.secure_third_party > 0' <<<"$output"
	run -0 plan --canary 5 --growth 2 --max-wave 40 --json
	jq -e '.waves[0].devices == 5 and .waves[1].devices <= 10 and ([.waves[].devices] | max) <= 40' <<<"$output"
}

@test "campaign plan refuses what it cannot plan, in one line" {
	run -2 hanfw campaign plan --estate "$SBX/estate.json" --products "$SBX/products.json"
	run -2 hanfw campaign plan --products "$SBX/products.json" "${IMAGES[0]}"
	run -2 plan --canary 0
	run -2 plan --explain not-an-eui
	# Two images for one model family.
	run -3 --separate-stderr plan "${IMAGES[0]}"
	one_line_error
	# An image no model is for.
	"$HANFW" -q package build "$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" -o stray.img \
		--device-type PPMID --manufacturer-code 0x7777 --image-type 1 --file-version 1
	run -3 --separate-stderr hanfw campaign plan --estate "$SBX/estate.json" --products "$SBX/products.json" stray.img
	one_line_error
	[[ "$stderr" == *"no model in the products file"* ]]
	# A products file with a typo.
	jq '.hub_models[0].capacity = 1' "$SBX/products.json" > typo.json
	run -3 --separate-stderr hanfw campaign plan --estate "$SBX/estate.json" --products typo.json "${IMAGES[@]}"
	one_line_error
	[[ "$stderr" == *"unknown member 'capacity'"* ]]
	run -9 --separate-stderr hanfw campaign plan --estate nope.json --products "$SBX/products.json" "${IMAGES[@]}"
	one_line_error
}
