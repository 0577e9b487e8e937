#!/bin/sh
# make demo: package and inspect firmware images the way a supplier would,
# with a test PKI made on the spot.  Later issues grow this into a whole
# campaign against the sandbox.
set -eu
build=${1:-build}
hanfw="$(pwd)/$build/hanfw"
demo="$build/demo"
if [ -t 1 ]; then bold='\033[1m' plain='\033[0m'; else bold='' plain=''; fi
step() { printf "\n${bold}== %s${plain}\n" "$*"; }
say() { printf '$ %s\n' "$*"; }

rm -rf "$demo"
mkdir -p "$demo"

step "1. a test PKI shaped like SMKI (supplier digital-signing key, OU=02)"
"$build/tests/mkpki" "$demo/pki"
ls "$demo/pki"

step "2. a configuration profile that points at it"
cat > "$demo/hanfw.json" <<JSON
{
  "default_profile": "demo",
  "profiles": {
    "demo": {
      "user_eui": "90-B3-D5-1F-30-01-00-00",
      "gbcs_signing_key": "pki/supplier-ds.key",
      "gbcs_signing_cert": "pki/supplier-ds.pem"
    }
  }
}
JSON
export HANFW_CONFIG="$demo/hanfw.json"
say hanfw config show
"$hanfw" config show | sed -n '1,2p;5,10p'

step "3. a PPMID image (SR 11.4: no signature trailer)"
say hanfw package build samples/manufacturer-image.bin -o ppmid.img --device-type PPMID ...
"$hanfw" package build samples/manufacturer-image.bin -o "$demo/ppmid.img" --device-type PPMID \
	--manufacturer-code 0x121D --image-type 0x0084 --file-version 0x01020304 \
	--header-string "hanfw demo PPMID image" --hw-min 0x1111 --hw-max 0x1211

step "4. an ESME image (SR 11.1: signed with the supplier's key from the profile)"
say hanfw package build samples/manufacturer-image.bin -o esme.img --device-type ESME ...
"$hanfw" package build samples/manufacturer-image.bin -o "$demo/esme.img" --device-type ESME \
	--manufacturer-code 0x121D --image-type 0x0000 --file-version 0x01020304 --hw-min 0x1111 --hw-max 0x1211

step "5. inspect it, checking the trailer against the certificate and the manifest"
say hanfw package inspect esme.img --cert pki/supplier-ds.pem
"$hanfw" package inspect "$demo/esme.img" --cert "$demo/pki/supplier-ds.pem"

step "6. a damaged copy is refused: by its manifest (exit 3) and by its signature (exit 4)"
cp "$demo/esme.img" "$demo/damaged.img"
printf 'X' | dd of="$demo/damaged.img" bs=1 seek=100 conv=notrunc status=none
say hanfw package inspect damaged.img --manifest esme.img.json
if "$hanfw" package inspect "$demo/damaged.img" --manifest "$demo/esme.img.json"; then
	echo "demo: the damaged image was accepted" >&2
	exit 1
else
	echo "(exit status $?)"
fi

say hanfw package inspect damaged.img --no-manifest --cert pki/supplier-ds.pem
if "$hanfw" package inspect "$demo/damaged.img" --no-manifest --cert "$demo/pki/supplier-ds.pem"; then
	echo "demo: the damaged image's signature verified" >&2
	exit 1
else
	echo "(exit status $?)"
fi

step "done: images and manifests are in $demo/"
