#!/usr/bin/env bats
# Where hanfw writes (-o and the directories it is given): a new name or a regular file only,
# never a FIFO, socket, device or directory, and never through a symlink into /proc or /dev.
# Nothing here writes to a real /proc or /dev path: every special file is made in the test's
# own directory, and every symlink into /proc or /dev is refused before anything is written.

load helpers

setup_file() {
	export SBX="$BATS_FILE_TMPDIR/sbx"
	"$HANFW" -q sandbox init "$SBX" --devices 'PPMID=2'
	"$HANFW" -q package build "$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" -o "$BATS_FILE_TMPDIR/ppmid.img" \
		--device-type PPMID --manufacturer-code 0x121D --image-type 0x84 --file-version 0x01020304 --config "$SBX/hanfw.json"
}

setup() {
	setup_hanfw
	export HANFW_LEDGER="$(test_ledger)"
	Z=$SHARED/dcc/zaz1
	XKEY=$Z/xml-sign-90B3D51F30010000-ds.key
	XCERT=$Z/xml-sign-90B3D51F30010000-ds.pem
	REQ=$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML
	mkfifo fifo
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' sock
	mkdir dir
	ln -s /proc/self/fd/1 to-stdout
	ln -s /dev/null to-null
	ln -s /dev/fd/1 to-dev-fd
	ln -s /proc/self/cwd/x.xml via-proc-cwd
	ln -s nowhere dangling
}

teardown() {
	[ -c /dev/null ]
}

# Every special destination is still what it was.
specials_intact() {
	[ -p fifo ] && [ -S sock ] && [ -d dir ] && [ -z "$(ls -A dir)" ]
	[ "$(readlink to-stdout)" = /proc/self/fd/1 ] && [ "$(readlink to-null)" = /dev/null ]
	[ "$(readlink to-dev-fd)" = /dev/fd/1 ] && [ "$(readlink via-proc-cwd)" = /proc/self/cwd/x.xml ]
	[ "$(readlink dangling)" = nowhere ] && [ ! -e x.xml ]
	[ -c /dev/null ]
}

# rows TABLE: the rows of TABLE in the test's ledger; 0 if the ledger was never made (no file, or on
# PostgreSQL no such table in the test's schema).
rows() {
	if on_postgresql; then
		[ "$(ledger_sql "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()
			AND table_name = '$1'")" = 1 ] || { echo 0; return; }
	else
		[ -e "$HANFW_LEDGER" ] || { echo 0; return; }
	fi
	ledger_sql "SELECT count(*) FROM $1"
}

# refused WHY COMMAND...: exit 9, one line naming the destination and why.
refused() {
	local why=$1; shift
	run -9 --separate-stderr "$@"
	one_line_error
	[[ "$stderr" == *"$why"* ]] || { echo "stderr: $stderr"; return 1; }
}

@test "sign -o refuses a FIFO, a socket, a directory, a dangling symlink and symlinks into /proc and /dev, before taking a counter" {
	refused "refusing to write 'fifo': it is a FIFO, not a regular file" \
		hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o fifo
	refused "refusing to write 'sock': it is a socket, not a regular file" \
		hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o sock
	refused "refusing to write 'dir': it is a directory, not a regular file" \
		hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o dir
	refused "refusing to write 'to-stdout': it is a symlink into /proc" \
		hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o to-stdout
	refused "refusing to write 'to-null': it is a symlink into /dev" \
		hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o to-null
	refused "refusing to write 'to-dev-fd': it is a symlink into /dev" \
		hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o to-dev-fd
	# /proc/self/cwd leads back here: the way it goes is refused, not just where it ends.
	refused "refusing to write 'via-proc-cwd': it is a symlink into /proc" \
		hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o via-proc-cwd
	refused "refusing to write 'dangling': it is a symlink that leads to nothing" \
		hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o dangling
	specials_intact
	# No counter was taken: the template's own counter still signs.
	[ "$(rows counters)" = 0 ]
	hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" -o ok.xml
	grep -q ':1000</sr:RequestID>' ok.xml
}

@test "sign -o through a symlink to a regular file replaces that file and keeps the link" {
	mkdir d && echo old > d/real.xml
	ln -s d/real.xml link.xml
	hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" -o link.xml
	[ -L link.xml ] && [ "$(readlink link.xml)" = d/real.xml ]
	hanfw verify --trust "$Z" d/real.xml
	# A new name in a directory reached through a symlink is fine too.
	ln -s d dlink
	hanfw sign "$REQ" --key "$XKEY" --cert "$XCERT" --new-counter -o dlink/new.xml
	hanfw verify --trust "$Z" d/new.xml
}

@test "sign --gbcs -o refuses a FIFO and a symlink into /dev" {
	K=$SHARED/gbcs/keystore
	tr -d ' \r\n' < "$SHARED/gbcs/rtds/CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX" > pre.hex
	refused "refusing to write 'fifo': it is a FIFO" hanfw sign --gbcs --hex pre.hex --key "$K/90b3d51f30010000-ds.key" -o fifo
	refused "refusing to write 'to-null': it is a symlink into /dev" \
		hanfw sign --gbcs --hex pre.hex --key "$K/90b3d51f30010000-ds.key" -o to-null
	specials_intact
}

@test "package build -o refuses a FIFO or a symlink into /proc, for the image or its manifest, and writes neither" {
	MI=$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin
	ARGS=(--device-type PPMID --manufacturer-code 0x121D --image-type 0x84 --file-version 0x01020304)
	refused "refusing to write 'fifo': it is a FIFO" hanfw package build "$MI" -o fifo "${ARGS[@]}"
	refused "refusing to write 'to-stdout': it is a symlink into /proc" hanfw package build "$MI" -o to-stdout "${ARGS[@]}"
	mkfifo out.img.json
	refused "refusing to write 'out.img.json': it is a FIFO" hanfw package build "$MI" -o out.img "${ARGS[@]}"
	[ ! -e out.img ] && [ -p out.img.json ]
	specials_intact
}

@test "distribute --dry-run -o refuses a directory symlink into /proc and a FIFO, before signing anything" {
	export HANFW_CONFIG="$SBX/hanfw.json"
	ln -s /proc/self procdir
	EUI=$(jq -r '.devices[0].eui' "$SBX/estate.json")
	refused "refusing to write 'procdir': it is a symlink into /proc" \
		hanfw distribute "$BATS_FILE_TMPDIR/ppmid.img" "$EUI" --dry-run -o procdir
	refused "refusing to write 'fifo': it is a FIFO, not a directory" \
		hanfw distribute "$BATS_FILE_TMPDIR/ppmid.img" "$EUI" --dry-run -o fifo
	[ "$(rows requests)" = 0 ]
	specials_intact
}

@test "sandbox init refuses a FIFO or a symlink into /proc as its directory" {
	refused "refusing to write 'fifo': it is a FIFO, not a directory" hanfw sandbox init fifo --devices PPMID=1
	ln -s /proc/self procdir
	refused "refusing to write 'procdir': it is a symlink into /proc" hanfw sandbox init procdir --devices PPMID=1 --force
	specials_intact
}
