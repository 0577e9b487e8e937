#!/bin/sh
# make demo: a whole firmware campaign on the embedded default, on loopback:
# a sandbox (hanfw's DCC adapter emulator) and a receiver (hanfw listen) in
# the background, then package, distribute, wait for delivery, activate,
# read versions and ask for the campaign's status.  Everything it starts,
# it stops.
set -eu
build=${1:-build}
hanfw="$(pwd)/$build/hanfw"
demo="$(pwd)/$build/demo"
if [ -t 1 ]; then bold='\033[1m' plain='\033[0m'; else bold='' plain=''; fi
step() { printf "\n${bold}== %s${plain}\n" "$*"; }
say() { printf '$ %s\n' "$*"; }
started=$(date +%s)

rm -rf "$demo"
mkdir -p "$demo"
pids=""
stop() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

# wait_for JQ [CAMPAIGN]: until the status (of the campaign) satisfies JQ (60 s at most).
wait_for() {
	want=$1
	shift
	[ $# -gt 0 ] && set -- --campaign "$1"
	i=0
	while ! "$hanfw" status --json "$@" 2>/dev/null | jq -e "$want" > /dev/null; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then "$hanfw" status "$@"; echo "demo: gave up waiting" >&2; exit 1; fi
		sleep 0.2
	done
}

step "1. a sandbox: test PKI shaped like SMKI, TLS, an estate of 45 devices, a configuration profile"
say hanfw sandbox init demo --devices 'ESME=20;GSME=5;HCALCS=10;PPMID=10'
"$hanfw" -q sandbox init "$demo/sbx" --devices 'ESME=20;GSME=5;HCALCS=10;PPMID=10'
export HANFW_CONFIG="$demo/sbx/hanfw.json"
jq -r '.devices | group_by(.type) | map("  \(.[0].type): \(length)") | .[]' "$demo/sbx/estate.json"

step "2. the receiver, then the sandbox POSTing to it (simulated time 100,000 times faster)"
say "hanfw listen --plain-http --listen 127.0.0.1:0 &"
"$hanfw" listen --plain-http --listen 127.0.0.1:0 > "$demo/listen.url" 2> "$demo/listen.log" &
pids="$pids $!"
while [ ! -s "$demo/listen.url" ]; do sleep 0.1; done
rx="$(cat "$demo/listen.url")rrs"
say "hanfw sandbox serve --dir demo --listen 127.0.0.1:0 --receive-url $rx --time-scale 100000 &"
"$hanfw" sandbox serve --dir "$demo/sbx" --listen 127.0.0.1:0 --receive-url "$rx" --time-scale 100000 \
	> "$demo/serve.url" 2> "$demo/serve.log" &
pids="$pids $!"
while [ ! -s "$demo/serve.url" ]; do sleep 0.1; done
HANFW_ENDPOINT=$(cat "$demo/serve.url")
export HANFW_ENDPOINT
echo "  adapter: $HANFW_ENDPOINT (mutual TLS)"
echo "  receiver: $rx"

step "3. package an image per device type (meters and HCALCS: signed with the supplier's key)"
for t in ESME:0x0000 GSME:0x0020 HCALCS:0x0030 PPMID:0x0084; do
	type=${t%%:*}
	say "hanfw package build samples/manufacturer-image.bin -o $type.img --device-type $type ..."
	"$hanfw" -q package build samples/manufacturer-image.bin -o "$demo/$type.img" --device-type "$type" \
		--manufacturer-code 0x121D --image-type "${t#*:}" --file-version 0x01020304
	jq -r --arg t "$type" '.devices[] | select(.type == $t) | .eui' "$demo/sbx/estate.json" > "$demo/$type.devices"
done
"$hanfw" package inspect "$demo/ESME.img" | sed -n '1,12p'

step "4. distribute: SR 11.1 to meters and HCALCS, SR 11.4 to PPMIDs"
for type in ESME GSME HCALCS PPMID; do
	say "hanfw distribute $type.img --devices $type.devices"
	"$hanfw" distribute "$demo/$type.img" --devices "$demo/$type.devices"
done

step "5. wait: hubs take the images, devices verify them (8F72), PPMIDs activate themselves"
for type in ESME GSME HCALCS; do
	wait_for ".states.verified == $(wc -l < "$demo/$type.devices")" "$type-01020304"
done
wait_for ".states.activated == $(wc -l < "$demo/PPMID.devices")" PPMID-01020304
say hanfw status --campaign ESME-01020304
"$hanfw" status --campaign ESME-01020304 | head -3

step "6. activate: SR 11.3 per device, each pre-command checked before it is signed"
for type in ESME GSME HCALCS; do
	say "hanfw activate --devices $type.devices --image $type.img"
	"$hanfw" activate --devices "$demo/$type.devices" --image "$demo/$type.img"
done
for type in ESME GSME HCALCS; do
	wait_for ".states.activated == $(wc -l < "$demo/$type.devices")" "$type-01020304"
done

step "7. read every device's version back (SR 11.2)"
cat "$demo"/*.devices > "$demo/all.devices"
say hanfw read-version --devices all.devices
"$hanfw" read-version --devices "$demo/all.devices"
wait_for ".states.version_confirmed == $(wc -l < "$demo/all.devices")"

step "8. the campaign's status: every device activated, its version confirmed"
say hanfw status
"$hanfw" status
stop
pids=""
echo
echo "messages the receiver stored: $(sqlite3 "$demo/sbx/ledger.sqlite" 'SELECT count(*) FROM messages'), quarantined: $(sqlite3 "$demo/sbx/ledger.sqlite" 'SELECT count(*) FROM quarantine')"
step "done in $(($(date +%s) - started)) s: the sandbox, its ledger and logs are in $demo/"
