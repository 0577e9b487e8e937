#!/bin/sh
# make demo: a whole firmware campaign on the embedded defaults, on loopback:
# a mixed sandbox estate (hanfw's DCC adapter emulator, its SMKI service) and a
# receiver (hanfw listen) in the background; the estate learnt from the DCC's
# SR 8.2 answers and the supplier's records (hanfw inventory); a plan (campaign
# plan); the plan executed wave by wave to completion (campaign run); the
# campaign's report as one HTML page (campaign report --html).  Exits 0 only if
# every device the plan includes is done and the report was written.
# Everything it starts, it stops.
set -eu
build=${1:-build}
hanfw=${HANFW:-"$(pwd)/$build/hanfw"}
image="$(cd "$(dirname "$0")" && pwd)/manufacturer-image.bin"
demo="$(pwd)/$build/demo"
devices=${DEMO_DEVICES:-300}
if [ -t 1 ]; then bold='\033[1m' plain='\033[0m'; else bold='' plain=''; fi
step() { printf "\n${bold}== %s${plain}\n" "$*"; }
say() { printf '$ %s\n' "$*"; }
started=$(date +%s)

rm -rf "$demo"
mkdir -p "$demo"
pids=""
stop() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

# wait_file FILE: until FILE is not empty (30 s at most).
wait_file() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		if [ $i -gt 300 ]; then echo "demo: gave up waiting for $1" >&2; exit 1; fi
		sleep 0.1
	done
}

cd "$demo"
step "1. a sandbox: test PKI shaped like SMKI, TLS, a mixed estate of about $devices devices, a configuration profile"
say hanfw sandbox init sbx --mixed "$devices"
"$hanfw" -q sandbox init sbx --mixed "$devices"
export HANFW_CONFIG="$demo/sbx/hanfw.json"
jq -r '.devices | group_by(.type) | map("  \(.[0].type): \(length)") | .[]' sbx/estate.json

step "2. the receiver, then the sandbox POSTing to it (simulated time 100,000 times faster) and its SMKI service"
say "hanfw listen --plain-http --listen 127.0.0.1:0 &"
"$hanfw" listen --plain-http --listen 127.0.0.1:0 > listen.url 2> listen.log &
pids="$pids $!"
wait_file listen.url
rx="$(cat listen.url)rrs"
say "hanfw sandbox serve --dir sbx --listen 127.0.0.1:0 --smki-listen 127.0.0.1:0 --receive-url $rx --time-scale 100000 --json &"
"$hanfw" sandbox serve --dir sbx --listen 127.0.0.1:0 --smki-listen 127.0.0.1:0 --receive-url "$rx" \
	--time-scale 100000 --json > serve.json 2> serve.log &
pids="$pids $!"
wait_file serve.json
HANFW_ENDPOINT=$(jq -r .url serve.json)
HANFW_SMKI_URL=$(jq -r .smki_url serve.json)
export HANFW_ENDPOINT HANFW_SMKI_URL
echo "  adapter: $HANFW_ENDPOINT (mutual TLS)"
echo "  SMKI service: $HANFW_SMKI_URL"
echo "  receiver: $rx"

step "3. inventory: the estate from the DCC's signed SR 8.2 answers, the supplier's records and SMKI's certificates"
jq -r '.devices[].eui' sbx/estate.json > all.devices
say hanfw inventory --devices all.devices --supplier sbx/supplier.csv -o estate.json
"$hanfw" inventory --devices all.devices --supplier sbx/supplier.csv -o estate.json

step "4. an image per product (meters and HCALCS: signed with the supplier's key), then the plan"
images=""
while read -r type mc it ver file; do
	[ "$type" = IHD ] && continue	# out of scope (SECMP0007)
	"$hanfw" -q package build "$image" -o "sbx/$file" --device-type "$type" --manufacturer-code "$mc" \
		--image-type "$it" --file-version "$ver"
	images="$images sbx/$file"
done < sbx/images.txt
echo "  built:$images"
say hanfw campaign plan --estate estate.json --products sbx/products.json IMAGES... -o demo.json
# shellcheck disable=SC2086
"$hanfw" campaign plan --estate estate.json --products sbx/products.json $images -o demo.json
jq -r '.waves[] | "  wave \(.wave): \([.requests[].devices[]] | length) devices"' demo.json
echo "  skipped: $(jq '.skipped | length' demo.json)"

step "5. run the campaign: distribute, wait for verification, activate (SR 11.3 where needed), confirm versions; gates between waves"
say hanfw campaign run demo.json --poll-ms 100
"$hanfw" campaign run demo.json --poll-ms 100 2> run.log || { tail -20 run.log; exit 1; }
grep -E 'starts|gate' run.log | sed 's/^/  /' || true
"$hanfw" campaign status demo --json > status.json
included=$(jq '[.waves[].requests[].devices[]] | length' demo.json)
done_=$(jq '[.devices[] | select(.step == "done")] | length' status.json)
echo "  devices done: $done_ of $included included"
if [ "$done_" != "$included" ] || [ "$(jq -r .state status.json)" != completed ]; then
	echo "demo: the campaign did not complete" >&2
	exit 1
fi

step "6. the report: one self-contained HTML page"
say hanfw campaign report demo --html --plan demo.json -o report.html
"$hanfw" campaign report demo --html --plan demo.json -o report.html
[ -s report.html ] || { echo "demo: no report written" >&2; exit 1; }
stop
pids=""
echo
# The ledger is the sandbox profile's SQLite file unless HANFW_LEDGER names another (a PostgreSQL URI).
case "${HANFW_LEDGER:-}" in
postgres://* | postgresql://*) stored=$(psql "$HANFW_LEDGER" -qAtX -c 'SELECT count(*) FROM messages') ;;
*) stored=$(sqlite3 "${HANFW_LEDGER:-sbx/ledger.sqlite}" 'SELECT count(*) FROM messages') ;;
esac
echo "requests the sandbox received: $(wc -l < sbx/received.log), messages the receiver stored: $stored"
step "done in $(($(date +%s) - started)) s: the report is $demo/report.html; the sandbox, its ledger and logs are in $demo/"
