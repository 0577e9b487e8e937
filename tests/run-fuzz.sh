#!/bin/sh
# Run each libFuzzer target for SECONDS, seeded with images hanfw builds
# itself.  Usage: run-fuzz.sh BUILD SECONDS target...
build=$1; seconds=$2; shift 2
echo "== fuzzing ($seconds s per target) =="
corpus="$build/fuzz/corpus"
mkdir -p "$corpus/image" "$corpus/manifest" "$corpus/config" "$corpus/duis" "$corpus/decode" "$corpus/gbcs" "$corpus/cs06" "$corpus/devlist" "$corpus/faults" "$corpus/xmllimits" "$corpus/supplier" "$corpus/smkisvc"
printf 'drop=0.1,dup=0.5,delay=2000,ecode=00-DB-12-10-00-00-00-01:E20,tamper=hash' > "$corpus/faults/seed"
printf 'model=433100AC:hash=0.1:offline=0.05,model=P1:slot=0.2,quarantine=10/1h,breach=dcc,event=cos:00-DB-12-10-00-00-00-01,event=suspended:0.1' > "$corpus/faults/campaign"
printf '\000<?xml version="1.0" encoding="utf-8"?><CertificateSearchRequest><CertificateSubjectAltName>00-DB-12-34-56-78-90-00</CertificateSubjectAltName></CertificateSearchRequest>' > "$corpus/smkisvc/search"
printf '\001<CertificateDataRequest><CertificateSerial>4DF56E92D528F83544EBA0547068CF8C</CertificateSerial></CertificateDataRequest>' > "$corpus/smkisvc/retrieve"
printf '# devices\n00-DB-12-34-56-78-90-A4 PPMID\n00DB1234567890A0, ESME\n' > "$corpus/devlist/list"
printf '{"format":"hanfw-estate-1","devices":[{"eui":"00-DB-12-34-56-78-90-A0","type":"ESME","comms_hub":"00-DB-12-34-56-78-90-A2","hardware_version":4369,"firmware_version":"01000000","sleepy":false}]}' > "$corpus/devlist/estate"
printf '{"format": "hanfw-estate-2", "devices": [\n{"eui":"88-73-84-90-6A-10-02-DB","type":"CHF","status":"Commissioned","manufacturer":"106C","model":"433100AC","firmware_version":"9001","firmware_status":"Active","cpl_status":"Active","chts_version":"CHTS V1.4","region":"4G Central","uprn":"123456789012"},\n{"eui":"00-DB-12-34-56-78-90-A4","type":"ALTHAN-B3","comms_hub":"88-73-84-90-6A-10-02-DB","status":"Commissioned","firmware_version":"0100","region":"SMETS1","s1sp":"S1SP-A","site":"S1","installation":"Secure","althan_option":"A","third_party":true,"hardware_version":2}\n]}\n' > "$corpus/devlist/estate2"
# hostile shapes: deep nesting inside a device, a huge member, a wide object
{ printf '{"format":"hanfw-estate-2","devices":[{"eui":"00-DB-12-34-56-78-90-A4","type":"PPMID","site":'; head -c 5000 /dev/zero | tr '\0' '['; printf ']}]}'; } > "$corpus/devlist/deep"
{ printf '{"format":"hanfw-estate-2","devices":[{"eui":"00-DB-12-34-56-78-90-A4","type":"PPMID","site":"'; head -c 70000 /dev/zero | tr '\0' 'x'; printf '"}]}'; } > "$corpus/devlist/huge"
# Supplier records: valid CSV and JSON, and hostile shapes (quotes, a long line, a NUL, the wrong types).
h='eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy'
printf '%s\n00-DB-12-34-56-78-90-A4,B3,SITE-1,Secure,1,513,A,1\n00-DB-12-34-56-78-90-A1,,,FOC,0,,,0\n' "$h" > "$corpus/supplier/csv"
printf '{"format":"hanfw-supplier-1","devices":[{"eui":"00-DB-12-34-56-78-90-A4","bridge":"B4","third_party":true,"hardware_version":7,"sleepy":1,"site":null}]}' > "$corpus/supplier/json"
printf '%s\r\n00-DB-12-34-56-78-90-A4,,"a,b",,0,,,0\r\n' "$h" > "$corpus/supplier/quoted"
{ printf '%s\n' "$h"; head -c 600 /dev/zero | tr '\0' 'x'; printf '\n'; } > "$corpus/supplier/long"
printf '%s\n00-DB-12-34-56-78-90-A4,B9,\0,MOC,2,65536,C,1,extra\n' "$h" > "$corpus/supplier/hostile"
printf '{"format":"hanfw-supplier-1","devices":[{"eui":1},[],{"eui":"00-DB-12-34-56-78-90-A4","eui":"x"}]}' > "$corpus/supplier/hostile.json"
# Seeds: an image of each route and its manifest, built here (nothing copied from ../shared).
seeds=$(mktemp -d)
head -c 300 /dev/zero | tr '\0' 'M' > "$seeds/mi"
"$build/hanfw" -q package build "$seeds/mi" -o "$seeds/ppmid.img" --device-type PPMID \
	--manufacturer-code 0x121D --image-type 0x84 --file-version 1 --hw-min 1 --hw-max 2 \
	--destination 00-DB-12-34-56-78-90-A4 --security-credential-version 1 2>/dev/null &&
	cp "$seeds/ppmid.img" "$corpus/image/" && cp "$seeds/ppmid.img.json" "$corpus/manifest/"
printf '{"default_profile":"a","profiles":{"a":{"user_eui":"90-B3-D5-1F-30-01-00-00","hub_capacity":1}}}' \
	> "$corpus/config/seed.json"
# DUIS and GBCS seeds: DCC Boxed's messages and the RTDS vectors, read from
# ../shared into the build directory only, plus a request hanfw signs itself.
cp "$SHARED"/dcc/samples/*.xml "$corpus/duis/" 2>/dev/null || true
cp "$SHARED"/dcc/samples/*.xml "$corpus/decode/" 2>/dev/null || true
HANFW_LEDGER="$seeds/l.sqlite" "$build/hanfw" sign --new-counter \
	"$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML" \
	--key "$SHARED/dcc/zaz1/xml-sign-90B3D51F30010000-ds.key" \
	--cert "$SHARED/dcc/zaz1/xml-sign-90B3D51F30010000-ds.pem" -o "$corpus/duis/request.xml" 2>/dev/null || true
# Parser limits: deep, wide and namespace-heavy documents either side of each limit, and the real ones.
cp "$SHARED"/dcc/samples/*.xml "$SHARED"/dcc/templates/8.2_*.XML "$corpus/xmllimits/" 2>/dev/null || true
python3 - "$corpus/xmllimits" <<'PY'
import sys
d = sys.argv[1]
def w(name, s): open('%s/%s.xml' % (d, name), 'w').write(s)
for n in (32, 33):
    w('deep-%d' % n, '<a>' * n + '</a>' * n)
    w('attrs-%d' % n, '<a %s/>' % ' '.join('a%d="%d"' % (i, i) for i in range(n)))
    w('ns-element-%d' % n, '<a %s/>' % ' '.join('xmlns:p%d="urn:%d"' % (i, i) for i in range(n)))
    w('ns-scope-%d' % n, ''.join('<p%d:a xmlns:p%d="urn:%d">' % (i, i, i) for i in range(n)) +
      ''.join('</p%d:a>' % i for i in reversed(range(n))))
w('nested-100x80', ''.join('<a %s>' % ' '.join('xmlns:p%d_%d="urn:%d"' % (i, j, j) for j in range(80)) for i in range(100)) + '</a>' * 100)
w('wide', '<r xmlns:a="urn:a" b="1"><![CDATA[x]]><!--c--><?p i?>' + '<a:e f="g"/>' * 2000 + '</r>')
# Not UTF-8 (refused before any scan): UTF-16/32 with and without a BOM, another encoding declared, a NUL.
def b(name, data): open('%s/%s.xml' % (d, name), 'wb').write(data)
flood = '<?xml version="1.0" encoding="%s"?><a ' + ' '.join('a%d="%d"' % (i, i) for i in range(40)) + '/>'
for enc, codec in (('UTF-16', 'utf-16'), ('UTF-16', 'utf-16-be'), ('UTF-16', 'utf-16-le'), ('UTF-32', 'utf-32'), ('UTF-32', 'utf-32-be')):
    b('%s-%s' % (codec, 'attrs-40'), (flood % enc).encode(codec))
b('iso-8859-1', '<?xml version="1.0" encoding="ISO-8859-1"?><a b="\xe9"/>'.encode('latin-1'))
b('nul', b'<?xml version="1.0" encoding="UTF-8"?><a>\x00</a>')
b('utf8-bom', b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><a/>')
PY
for f in "$SHARED"/gbcs/rtds/*.HEX; do
	tr -d ' \r\n' < "$f" | xxd -r -p > "$corpus/gbcs/$(basename "$f" .HEX).bin"
	cp "$corpus/gbcs/$(basename "$f" .HEX).bin" "$corpus/cs06/"
done
# A device's error answers (ECS52 DLMS, GCS38 GBZ, CS08), framed as the devices send them.
printf '\337\011\002\000\000\000\000\000\000\003\350\010\000\333\022\064\126\170\220\240\010\220\263\325\037\060\001\000\000\000\002\000\131\014\332\040\000\003\350\000\000\001\000\001\001\013\000' > "$corpus/cs06/ecs52-error.bin"
printf '\337\011\002\000\000\000\000\000\000\003\350\010\000\333\022\064\126\170\220\240\010\220\263\325\037\060\001\000\000\000\002\000\204\006\001\011\001\000\002\206\000' > "$corpus/cs06/gcs38-error.bin"
printf '\337\011\002\000\000\000\000\000\000\003\350\010\000\333\022\064\126\170\220\240\010\220\263\325\037\060\001\000\000\000\002\001\051\013\060\011\004\004\000\000\000\000\002\001\001\000' > "$corpus/cs06/cs08-error.bin"
# Products files: the sample, and hostile shapes (duplicates, empty pathways, an orchestrator outside what it serves).
mkdir -p "$corpus/products"
cp "$(dirname "$0")/../samples/products.json" "$corpus/products/sample.json" 2>/dev/null || true
printf '{"format":"hanfw-products-1","device_models":[{"manufacturer":"a","model":"b","device_type":"PPMID","manufacturer_code":"0x121D","image_type":132,"hardware_version":{"min":1,"max":2},"versions":[{"version":"02000000","cpl_status":"Active","predecessors":["01"],"locked_to_hub_manufacturer":"h"}]}],"hub_models":[{"manufacturer":"h","model":"m","image_capacity":1,"han_ota_firmware":["1"]}],"althan_packaging":[{"option":"A","orchestrator":"ALTHAN-B3","serves":["ALTHAN-B3","ALTHAN-B4"]}]}' > "$corpus/products/valid.json"
printf '{"format":"hanfw-products-1","device_models":[{"manufacturer":"a","model":"b","device_type":"ESME","manufacturer_code":1,"image_type":1,"versions":[]},{"manufacturer":"a","model":"b","device_type":"ESME","manufacturer_code":1,"image_type":1,"versions":[]}],"hub_models":[]}' > "$corpus/products/twice.json"
printf '{"format":"hanfw-products-1","device_models":[{"manufacturer":"a","model":"b","device_type":"ESME","manufacturer_code":1,"image_type":1,"versions":[{"version":"1","cpl_status":"Active","predecessors":[]}]}],"hub_models":[],"althan_packaging":[{"option":"B","orchestrator":"ALTHAN-B1","serves":["ALTHAN-B2"]}]}' > "$corpus/products/hostile.json"
export HFW_FUZZ_TRUST="$SHARED/dcc/zaz1"
rm -rf "$seeds"
status=0; ran=0
for t in "$@"; do
	dir="$corpus/${t#fuzz_}"
	mkdir -p "$dir"
	# -timeout: a single input slower than 10 s is a finding (libFuzzer's default is 1200 s).
	if "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -print_final_stats=0 -close_fd_mask=3 \
		"$dir" > "$build/fuzz/$t.log" 2>&1; then
		echo "fuzz: $t: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$build/fuzz/$t.log" || \
			grep -Eo '#[0-9]+' "$build/fuzz/$t.log" | tail -1) runs, no crash"
		ran=$((ran + 1))
	else
		echo "fuzz: $t FAILED:"; tail -40 "$build/fuzz/$t.log"; status=1
	fi
done
echo "$ran $status" > "$build/results-fuzz.txt"
exit $status
