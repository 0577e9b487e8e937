# Shared set-up for the bats command-line tests.  HANFW is the binary under
# test, MKPKI the test-PKI tool, SHARED the read-only reference data.
bats_require_minimum_version 1.5.0

setup_hanfw() {
	: "${HANFW:?set HANFW to the hanfw binary}" "${SHARED:?set SHARED to ../shared}"
	# A directory of its own: bats keeps its stderr captures in BATS_TEST_TMPDIR.
	mkdir -p "$BATS_TEST_TMPDIR/work" && cd "$BATS_TEST_TMPDIR/work" || return 1
	export HOME="$PWD" XDG_CONFIG_HOME="$PWD/xdg"
	unset HANFW_CONFIG HANFW_PROFILE HANFW_KEY_PASSPHRASE HANFW_GBCS_SIGNING_KEY HANFW_GBCS_SIGNING_CERT \
		HANFW_HUB_CAPACITY HANFW_USER_EUI HANFW_PASSPHRASE_ENV
	hanfw() { "$HANFW" "$@"; }
}

# The project's own test PKI, made once per test file.
pki() {
	if [ ! -f "$BATS_FILE_TMPDIR/pki/supplier-ds.pem" ]; then
		mkdir -p "$BATS_FILE_TMPDIR/pki"
		"${MKPKI:?set MKPKI to the mkpki tool}" "$BATS_FILE_TMPDIR/pki"
	fi
	echo "$BATS_FILE_TMPDIR/pki"
}

# template_image NAME OUT: the base64 FirmwareImage of a DCC template, decoded.
template_image() {
	sed -n 's:.*<sr\:FirmwareImage>\(.*\)</sr\:FirmwareImage>.*:\1:p' \
		"$SHARED/dcc/templates/$1" | base64 -d > "$2"
}

# The sample ManufacturerImage: bytes 60.. of the DCC's 11.4 sample.
sample_mi() {
	template_image 11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML sample.img
	tail -c +61 sample.img > "$1"
}

# Exactly one line on stderr, starting "hanfw: ".
one_line_error() {
	[ "${#stderr_lines[@]}" -eq 1 ] || { printf 'stderr had %d lines:\n%s\n' "${#stderr_lines[@]}" "$stderr"; return 1; }
	[[ "$stderr" == "hanfw: "* ]] || { echo "stderr: $stderr"; return 1; }
}

# No image, manifest or temporary file in the current directory but the inputs.
no_output_left() {
	local extra
	extra=$(ls -A | grep -v -x -e mi.bin -e sample.img -e big.bin -e keys -e bad.img -e bad.key || true)
	[ -z "$extra" ] || { echo "left behind: $extra"; return 1; }
}

# hex_of FILE OFFSET COUNT
hex_of() { xxd -p -s "$2" -l "$3" "$1" | tr -d '\n'; }
