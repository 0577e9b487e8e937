#!/usr/bin/env bats
# The dispatcher: help, version, exact command matching, usage errors,
# the exit-code contract, and output that cannot be written.

load helpers

setup() { setup_hanfw; }

@test "--version names hanfw and its libraries" {
	run -0 hanfw --version
	[[ "$output" =~ ^hanfw\ [0-9]+\.[0-9]+\.[0-9]+\ \(OpenSSL\ 3.*libxml2.*jansson ]]
}

@test "help lists every command; help COMMAND equals COMMAND --help" {
	run -0 hanfw help
	[[ "$output" == *"config "* && "$output" == *"package "* && "$output" == *"help "* ]]
	run -0 hanfw help package
	a=$output
	run -0 hanfw package --help
	[ "$output" = "$a" ]
	run -0 hanfw package build --help
	[[ "$output" == "usage: hanfw package build MANUFACTURER_IMAGE -o OUT.img --device-type TYPE"* ]]
	[[ "$output" == *"--hub-capacity BYTES"* && "$output" == *"Common options:"* ]]
	run -0 hanfw -h
	[[ "$output" == usage:* ]]
}

@test "an unknown command suggests the nearest one and exits 2" {
	run -2 --separate-stderr hanfw pakage build
	[ "$stderr" = "hanfw: 'pakage' is not a hanfw command; did you mean 'package'?" ]
	[ -z "$output" ]
	run -2 --separate-stderr hanfw zzzzzzzzzz
	[ "$stderr" = "hanfw: 'zzzzzzzzzz' is not a hanfw command (see 'hanfw help')" ]
	run -2 --separate-stderr hanfw pack
	[[ "$stderr" == *"did you mean 'package'?" ]]
}

@test "usage errors exit 2 with one line" {
	run -2 --separate-stderr hanfw
	[[ "$stderr" == usage:* ]]
	run -2 --separate-stderr hanfw --frobnicate package
	[ "$stderr" = "hanfw: unknown option '--frobnicate' (see 'hanfw --help')" ]
	run -2 --separate-stderr hanfw package build --frobnicate
	one_line_error
	[ "$stderr" = "hanfw: package build: unknown option '--frobnicate'" ]
	run -2 --separate-stderr hanfw package build x -o
	[ "$stderr" = "hanfw: package build: option '-o' needs a value" ]
	run -2 --separate-stderr hanfw package unpack
	[ "$stderr" = "hanfw: package: unknown verb 'unpack' (see 'hanfw package --help')" ]
	run -2 --separate-stderr hanfw package
	[[ "$output" == *"Verbs:"* ]]
	run -2 --separate-stderr hanfw help nosuch
	one_line_error
}

@test "global options work before the command and among its options" {
	template_image 11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML p.img
	run -0 hanfw --json package inspect p.img
	[ "$(jq -r .route <<<"$output")" = 11.4 ]
	run -0 hanfw package inspect p.img --json
	[ "$(jq -r .route <<<"$output")" = 11.4 ]
	run -0 hanfw -q package inspect p.img
	[ -z "$output" ]
}

@test "output that cannot be written is a failure (exit 9), not a success" {
	template_image 11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML p.img
	run -9 --separate-stderr bash -c '"$HANFW" package inspect p.img > /dev/full'
	[[ "$stderr" == "hanfw: cannot write standard output: No space left on device" ]]
}

@test "the man page's EXIT STATUS lists exactly lib/errors.def" {
	src=$BATS_TEST_DIRNAME/../..
	want=$(sed -n 's/^HFW_ERR(\([A-Z]*\), *\([0-9]*\), *"\(.*\)")$/\2 \1 \3/p' "$src/lib/errors.def")
	got=$(awk '/^\.Sh EXIT STATUS/{on=1;next} /^\.Sh/{on=0} on && /^\.It [0-9]/{n=$2" "$3; getline; print n" "$0}' "$src/man/hanfw.1")
	[ -n "$want" ]
	diff <(echo "$want") <(echo "$got")
}

@test "man pages render without warnings and every command has one" {
	src=$BATS_TEST_DIRNAME/../..
	for page in "$src"/man/*.1; do
		run -0 --separate-stderr groff -mandoc -Tutf8 -ww -z "$page"
		[ -z "$stderr" ] || { echo "$page: $stderr"; false; }
	done
	for c in $(hanfw --list-commands); do
		[ "$c" = help ] || [ -f "$src/man/hanfw-$c.1" ]
	done
}
