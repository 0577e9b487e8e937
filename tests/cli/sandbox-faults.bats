#!/usr/bin/env bats
# The sandbox's campaign faults (per-model fractions, quarantine, mid-campaign events), end to end
# through hanfw listen: what each device's campaign state and reason become.

load helpers

setup_file() {
	export SBX="$BATS_FILE_TMPDIR/sbx"
	"$HANFW" -q sandbox init "$SBX" --mixed 30 --seed 1
	local mi="$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" type mc it ver file
	while read -r type mc it ver file; do
		[ "$type" = IHD ] && continue
		"$HANFW" -q package build "$mi" -o "$SBX/$file" --device-type "$type" --manufacturer-code "$mc" \
			--image-type "$it" --file-version "$ver" --config "$SBX/hanfw.json"
	done < "$SBX/images.txt"
}

setup() {
	setup_hanfw
	export HANFW_CONFIG="$SBX/hanfw.json" HANFW_LEDGER="$(test_ledger)"
	rm -f "$SBX"/*.log
}

teardown() {
	stop_servers
	stop_listen
}

model() {
	jq -r --arg m "$1" --slurpfile t "$SBX/truth.json" \
		'.devices[] | select(.model == $m and $t[0].devices[.eui] == "included") | .eui' "$SBX/estate.json"
}
states() { hanfw status --campaign c1 --json | jq -r '.device_states[] | "\(.device) \(.state) \(.reason)"' | sort; }

@test "per-model faults and mid-campaign events: each device ends with its state and reason" {
	# Devices the documents let through (truth.json: included), so only the faults decide.
	mapfile -t E < <(model E470A001)
	mapfile -t G < <(model G470A001)
	mapfile -t P < <(model P300B001)
	mapfile -t Q < <(model P320B001)
	[ "${#E[@]}" -ge 3 ] && [ "${#G[@]}" -ge 2 ] && [ "${#P[@]}" -ge 2 ] && [ "${#Q[@]}" -ge 1 ]
	start_listen
	start_sandbox --receive-url "$LISTEN_URL" --faults "model=E470A001:hash=1,model=G470A001:slot=1,model=P300B001:offline=1,event=cos:${E[0]},event=suspended:${E[1]},event=decommissioned:${G[0]},event=ppmid-removed:${P[0]}"
	hanfw -q distribute "$SBX/esme.img" "${E[@]}" --campaign c1
	hanfw -q distribute "$SBX/gsme.img" "${G[@]}" --campaign c1
	hanfw -q distribute "$SBX/ppmid.img" "${P[@]}" "${Q[@]}" --campaign c1
	n=$(( ${#E[@]} + ${#G[@]} + ${#P[@]} + ${#Q[@]} ))
	until_status ".states.left_campaign == 4 and .states.hash_mismatch == $(( ${#E[@]} - 2 )) and .states.activated == ${#Q[@]} and .states.image_discarded == $(( ${#G[@]} - 1 )) and .states.distribution_failed == $(( ${#P[@]} - 1 ))" --campaign c1
	run -0 states
	# Mid-campaign events take devices out, with the reason the alert gives.
	grep -qx "${E[0]} left_campaign change_of_supplier" <<<"$output"
	grep -qx "${E[1]} left_campaign suspended" <<<"$output"
	grep -qx "${G[0]} left_campaign decommissioned_or_withdrawn" <<<"$output"
	grep -qx "${P[0]} left_campaign ppmid_removed" <<<"$output"
	# Per-model faults: a bad image (hash mismatch), a slot taken (discarded), offline (transfer fails).
	grep -qx "${E[2]} hash_mismatch device computed another hash" <<<"$output"
	grep -qx "${G[1]} image_discarded FirmwareImageDiscarded" <<<"$output"
	grep -qx "${P[1]} distribution_failed FirmwareDistributionFailure" <<<"$output"
	grep -qx "${Q[0]} activated null" <<<"$output"
	[ "$(wc -l <<<"$output")" = "$n" ]
	hanfw status --campaign c1 --json | validate_status
	# The sandbox's own account names the same events.
	grep -q "\"device\":\"${E[0]}\".*\"event\":\"left\",\"detail\":\"cos\"" "$SBX/events.log"
	grep -q "\"device\":\"${G[1]}\".*\"event\":\"discarded\",\"detail\":\"fault: another image took the hub's slot\"" "$SBX/events.log"
}

@test "quarantine: above N requests a window the DCC holds the excess and alerts; status names the devices" {
	mapfile -t E < <(model E470A001)
	mapfile -t Q < <(model P320B001)
	start_listen
	start_sandbox --receive-url "$LISTEN_URL" --faults "quarantine=1/1000h,breach=dcc"
	hanfw -q distribute "$SBX/esme.img" "${E[@]}" --campaign c1
	hanfw -q distribute "$SBX/ppmid.img" "${Q[@]}" --campaign c1
	held=$(ledger_sql "select request_id from requests where service_reference='11.4'")
	# Held: acknowledged, never processed, and never in the log of requests the DCC accepted.
	[ "$(wc -l < "$SBX/quarantined.log")" = 1 ]
	jq -e --arg r "$held" '.request == $r and .breach == "ADDCCThresholdBreach" and .quarantine_event_ref == 1' "$SBX/quarantined.log"
	! grep -q "$held" "$SBX/requests.log"
	until_status ".states.distribution_quarantined == ${#Q[@]} and .states.hash_mismatch + .states.verified == ${#E[@]}" --campaign c1
	run -0 states
	for q in "${Q[@]}"; do grep -qx "$q distribution_quarantined ADDCCThresholdBreach QuarantineEventRef 1" <<<"$output"; done
	! grep -q "\"request\":\"$held\"" "$SBX/events.log"
}

@test "the new DCC alerts: DUIS 5.4 shapes, signed by the DCC, decoded naming devices; another signer is refused" {
	mapfile -t E < <(model E470A001)
	mapfile -t P < <(model P300B001)
	start_receiver
	start_sandbox --receive-url "$RX_URL" --faults "quarantine=2/1000h,event=cos:${E[0]},event=withdrawn:${E[1]},event=ppmid-removed:${P[0]},event=suspended:${P[1]}"
	hanfw -q distribute "$SBX/esme.img" "${E[0]}" "${E[1]}" --campaign c1
	hanfw -q distribute "$SBX/ppmid.img" "${P[0]}" --campaign c1
	hanfw -q distribute "$SBX/ppmid.img" "${P[1]}" --campaign c1	# the third: held
	wait_count 1 QuarantinedRequest
	wait_count 1 ChangeOfSupplier
	wait_count 1 DeviceStatusChangeEvent
	wait_count 1 PPMIDRemoval
	for k in QuarantinedRequest ChangeOfSupplier DeviceStatusChangeEvent PPMIDRemoval; do
		f=$(grep -l "<sr:$k>" rx/*.xml | head -1)
		sed 's:<ds\:Signature.*</ds\:Signature>::' "$f" > unsigned.xml
		xmllint --noout --schema "$SHARED/dcc/duis-5.4/DUIS-Schema-V5.4.xsd" unsigned.xml
		xmlsec1 --verify --pubkey-cert-pem "$SBX/pki/dcc-xml.pem" "$f" 2>/dev/null
		run -0 hanfw status decode "$f"
		echo "$output" | jq -e '.[0].signature.signer == "90-B3-D5-1F-30-00-00-02"'
		cp "$f" "$k.xml"
	done
	held=$(ledger_sql "select request_id from requests order by counter desc limit 1")	# the last signed
	hanfw status decode QuarantinedRequest.xml | jq -e --arg r "$held" \
		'.[0].dcc_event == {"event": "request_quarantined", "breach": "ADUserThresholdBreach", "request_id": $r, "quarantine_event_ref": "1"}'
	hanfw status decode ChangeOfSupplier.xml | jq -e --arg d "${E[0]}" \
		'.[0].dcc_event == {"event": "left_campaign", "device": $d, "reason": "change_of_supplier", "device_type": "ESME"}'
	hanfw status decode DeviceStatusChangeEvent.xml | jq -e --arg d "${E[1]}" \
		'.[0].dcc_event == {"event": "left_campaign", "device": $d, "reason": "decommissioned_or_withdrawn"}'
	hanfw status decode PPMIDRemoval.xml | jq -e --arg d "${P[0]}" '.[0].dcc_event.device == $d and .[0].dcc_event.reason == "ppmid_removed"'
	# Fail closed: the same alert re-signed, genuinely, by the supplier's XML-signing certificate is refused.
	xmlsec_sign ChangeOfSupplier.xml resigned.xml "$SBX/pki/supplier-xml.key" "$SBX/pki/supplier-xml.pem"
	mkdir t && cp "$SBX/pki/dcc-xml.pem" "$SBX/pki/supplier-xml.pem" t/
	run hanfw verify --trust t resigned.xml
	[ "$status" -ne 0 ]
	[[ "$output" == *"(role 87) refused: a Response must be signed by the DCC's XML-signing certificate (role 89)"* ]]
}

@test "bad campaign fault specs are usage errors naming the fault" {
	run -2 hanfw sandbox serve --dir "$SBX" --faults 'model=E470A001'
	[[ "$output" == *"fault 'model=E470A001': give MODEL:hash=P, :offline=P or :slot=P"* ]]
	run -2 hanfw sandbox serve --dir "$SBX" --faults 'model=E470A001:hash=2'
	[[ "$output" == *"fault 'hash=2': give a probability from 0 to 1"* ]]
	run -2 hanfw sandbox serve --dir "$SBX" --faults 'quarantine=10'
	[[ "$output" == *"fault 'quarantine=10': give N/WINDOW, e.g. quarantine=10/1h"* ]]
	run -2 hanfw sandbox serve --dir "$SBX" --faults 'event=moved:0.1'
	[[ "$output" == *"fault 'event=moved:0.1': give KIND:EUI or KIND:FRACTION"* ]]
	run -2 hanfw sandbox serve --dir "$SBX" --faults 'breach=monthly'
	[[ "$output" == *"fault 'breach=monthly': give user, dcc or attribute"* ]]
}

# truth CATEGORY TYPE: devices of that type whose planned decision (truth.json) is CATEGORY.
truth() {
	jq -r --arg c "$1" --arg t "$2" --slurpfile e "$SBX/estate.json" \
		'[.devices | to_entries[] | select(.value == $c) | .key] as $k | $e[0].devices[] | select(.type == $t and (.eui | IN($k[]))) | .eui' \
		"$SBX/truth.json"
}

@test "with products.json, devices behave as the documents say (hub capacity, locked images, SMETS1, Secure, unsupported, bridge 4)" {
	export SBX="$BATS_TEST_TMPDIR/m2"
	"$HANFW" -q sandbox init "$SBX" --mixed 200 --seed 3
	local mi="$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" type mc it ver file
	while read -r type mc it ver file; do
		[ "$type" = IHD ] && continue
		"$HANFW" -q package build "$mi" -o "$SBX/$file" --device-type "$type" --manufacturer-code "$mc" \
			--image-type "$it" --file-version "$ver" --config "$SBX/hanfw.json"
	done < "$SBX/images.txt"
	export HANFW_CONFIG="$SBX/hanfw.json"
	mapfile -t E_ok < <(truth included ESME)
	mapfile -t E_big < <(truth image_too_large_for_hub ESME)
	mapfile -t P_ok < <(truth included PPMID)
	mapfile -t P_locked < <(truth hub_metadata_locked PPMID)
	mapfile -t P_fail < <(truth smets1 PPMID; truth secure_third_party PPMID; truth hub_not_capable PPMID; truth image_too_large_for_hub PPMID)
	mapfile -t P_silent < <(truth unsupported_model PPMID)
	mapfile -t B3 < <(truth included ALTHAN-B3)
	mapfile -t B4 < <(truth covered_by_orchestrator ALTHAN-B4)
	[ "${#E_ok[@]}" -gt 0 ] && [ "${#E_big[@]}" -gt 0 ] && [ "${#P_ok[@]}" -gt 0 ] && [ "${#P_locked[@]}" -gt 0 ]
	[ "${#P_fail[@]}" -ge 3 ] && [ "${#P_silent[@]}" -gt 0 ] && [ "${#B3[@]}" -gt 0 ] && [ "${#B4[@]}" -gt 0 ]
	start_listen
	start_sandbox --receive-url "$LISTEN_URL"
	hanfw -q distribute "$SBX/esme.img" "${E_ok[@]}" "${E_big[@]}" --campaign c1
	hanfw -q distribute "$SBX/ppmid.img" "${P_ok[@]}" "${P_locked[@]}" "${P_fail[@]}" "${P_silent[@]}" --campaign c1
	until_status ".states.verified == ${#E_ok[@]} and .states.activated == ${#P_ok[@]} and .states.activation_failed == ${#P_locked[@]} and .states.distribution_failed == $(( ${#E_big[@]} + ${#P_fail[@]} )) and .states.delivered_to_hub == ${#P_silent[@]}" --campaign c1
	run -0 states
	for d in "${E_big[@]}" "${P_fail[@]}"; do grep -qx "$d distribution_failed FirmwareDistributionFailure" <<<"$output"; done
	for d in "${P_locked[@]}"; do grep -qx "$d activation_failed ActivationFailure" <<<"$output"; done
	for d in "${P_silent[@]}"; do grep -qx "$d delivered_to_hub null" <<<"$output"; done
	# The sandbox's account says why, as the documents do.
	for d in "${E_big[@]}"; do grep -q "\"device\":\"$d\".*\"transfer-failed\",\"detail\":\"image larger than the hub's image capacity\"" "$SBX/events.log"; done
	for d in "${P_locked[@]}"; do grep -q "\"device\":\"$d\".*\"activation-failed\",\"detail\":\"image locked to another hub manufacturer\"" "$SBX/events.log"; done
	for d in $(truth smets1 PPMID); do grep -q "\"device\":\"$d\".*\"detail\":\"SMETS1 PPMID\"" "$SBX/events.log"; done
	for d in $(truth secure_third_party PPMID); do grep -q "\"device\":\"$d\".*\"detail\":\"third-party PPMID on a Secure installation\"" "$SBX/events.log"; done
	for d in "${P_silent[@]}"; do grep -q "\"device\":\"$d\".*\"no-answer\",\"detail\":\"unsupported model" "$SBX/events.log"; done
	# Alt HAN option A: a bridge 4 sent its image itself never answers; its site's bridge 3 brings it the version.
	hanfw -q distribute "$SBX/b3.img" "${B3[@]}" "${B4[@]}" --campaign c2
	until_status ".states.activated == ${#B3[@]} and .states.delivered_to_hub == ${#B4[@]}" --campaign c2
	for d in "${B4[@]}"; do
		grep -q "\"device\":\"$d\".*\"no-answer\",\"detail\":\"a bridge 4 updates only through its site's bridge 3\"" "$SBX/events.log"
	done
	# The bridges 4 at the sites of the bridges 3 updated (and only those) took the version.
	sites=$(jq -r --argjson b "$(printf '%s\n' "${B3[@]}" | jq -R . | jq -s .)" '.devices[] | select(.eui | IN($b[])) | .site' "$SBX/estate.json")
	n=0
	for d in "${B4[@]}"; do
		site=$(jq -r --arg d "$d" '.devices[] | select(.eui == $d) | .site' "$SBX/estate.json")
		if grep -qx "$site" <<<"$sites"; then
			grep -q "\"device\":\"$d\".*\"activated\",\"detail\":\"through its site's bridge 3\"" "$SBX/events.log"
			n=$((n + 1))
		else
			! grep -q "\"device\":\"$d\".*\"activated\"" "$SBX/events.log"
		fi
	done
	[ "$n" -gt 0 ]
}
