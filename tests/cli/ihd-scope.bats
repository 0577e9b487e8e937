#!/usr/bin/env bats
# IHDs are out of the DCC's firmware scope (SECMP0007): package, distribute
# and read-version refuse an IHD target alike, one line, exit 3, unless
# --allow-ihd.

load helpers

setup() {
	setup_hanfw
	hanfw -q sandbox init sbx --devices 'PPMID=1,IHD=1,ESME=1'
	export HANFW_CONFIG=$PWD/sbx/hanfw.json HANFW_LEDGER=$(test_ledger)
	IHD=$(jq -r '.devices[] | select(.type == "IHD") | .eui' sbx/estate.json)
	PPMID=$(jq -r '.devices[] | select(.type == "PPMID") | .eui' sbx/estate.json)
	sample_mi mi.bin
}

@test "package build refuses an IHD image unless --allow-ihd" {
	run -3 --separate-stderr hanfw package build mi.bin -o ihd.img --device-type IHD --manufacturer-code 1 --image-type 2 --file-version 3
	one_line_error
	[ "$stderr" = "hanfw: device type IHD is out of the DCC's firmware scope (SECMP0007): no image built (--allow-ihd to override)" ]
	[ ! -e ihd.img ] && [ ! -e ihd.img.json ]
	run -0 hanfw package build mi.bin -o ihd.img --device-type IHD --manufacturer-code 1 --image-type 2 --file-version 3 --allow-ihd
	[ "$(jq -r .device_type ihd.img.json)" = IHD ]
}

@test "distribute refuses an IHD image, or a device known to be an IHD, unless --allow-ihd" {
	hanfw -q package build mi.bin -o ihd.img --device-type IHD --manufacturer-code 1 --image-type 2 --file-version 3 --allow-ihd
	hanfw -q package build mi.bin -o ppmid.img --device-type PPMID --manufacturer-code 1 --image-type 2 --file-version 3
	mkdir out
	run -3 --separate-stderr hanfw distribute ihd.img "$PPMID" --dry-run -o out
	one_line_error
	[ "$stderr" = "hanfw: device type IHD is out of the DCC's firmware scope (SECMP0007): nothing sent (--allow-ihd to override)" ]
	# A PPMID image to a device the estate (or the devices file) says is an IHD.
	run -3 --separate-stderr hanfw distribute ppmid.img "$PPMID" "$IHD" --estate sbx/estate.json --dry-run -o out
	one_line_error
	[ "$stderr" = "hanfw: device $IHD is an IHD: IHDs are out of the DCC's firmware scope (SECMP0007): nothing sent (--allow-ihd to override)" ]
	printf '%s IHD\n' "$IHD" > listed
	run -3 --separate-stderr hanfw distribute ppmid.img --devices listed --dry-run -o out
	[ -z "$(ls out)" ]
	# Not known to be one: sent as the image's type says, as before.
	run -0 hanfw distribute ppmid.img "$IHD" --dry-run -o out
	rm -f out/*
	run -0 hanfw distribute ppmid.img "$PPMID" "$IHD" --estate sbx/estate.json --dry-run -o out --allow-ihd
	grep -q "$IHD" out/*.xml
	rm -f out/*
	run -0 hanfw distribute ihd.img "$PPMID" --dry-run -o out --allow-ihd
}

@test "read-version refuses a device known to be an IHD unless --allow-ihd; a GPF always" {
	mkdir out
	run -3 --separate-stderr hanfw read-version "$IHD" --estate sbx/estate.json --dry-run -o out
	one_line_error
	[ "$stderr" = "hanfw: device $IHD is an IHD: IHDs are out of the DCC's firmware scope (SECMP0007): nothing sent (--allow-ihd to override)" ]
	[ -z "$(ls out)" ]
	run -0 hanfw read-version "$IHD" --estate sbx/estate.json --dry-run -o out --allow-ihd
	[ "$(ls out | wc -l)" = 1 ]
	echo '00-DB-12-D0-00-00-00-01 GPF' > gpf
	run -3 --separate-stderr hanfw read-version --devices gpf --dry-run -o out2 --allow-ihd
	[[ "$stderr" == *"device 00-DB-12-D0-00-00-00-01 is a GPF, whose firmware version SR 11.2 does not read: nothing sent" ]]
}
