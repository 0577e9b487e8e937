#!/bin/sh
# The "hanfw sign" part of make bench, runnable alone (BENCH_ONLY=sign make bench, or
# sh tests/bench/bench_sign.sh BUILD): hanfw against xmlsec1 --sign, the independent signer,
# in the same run.
#   (a) 1,000 requests: one "hanfw sign FILE... -o DIR" process (median of RUNS) against 1,000
#       xmlsec1 processes
#   (b) one request: PAIRS runs of each, alternating, medians compared
# Not a test: nothing here fails on a number.
set -eu
build=$1
PAIRS=${PAIRS:-21}
MANY=${MANY:-1000}
hanfw="$build/hanfw"
rusage="$build/tests/rusage"
# Under the build directory, not /tmp: the test suites create and delete files in /tmp all day,
# and ext4 then spent 0.17-0.21 s finding 1,000 new inodes there (its recently deleted ones)
# against 0.04 s elsewhere on the same file system, for both signers' outputs alike.
# BENCH_TMPDIR puts it elsewhere.
work=$(mktemp -d "${BENCH_TMPDIR:-$build}/bench-sign.XXXXXX")
work=$(cd "$work" && pwd)
trap 'rm -rf "$work"' EXIT INT TERM

"$build/tests/mkpki" "$work/pki" > /dev/null
key="$work/pki/supplier-xml.key"; cert="$work/pki/supplier-xml.pem"
tmpl="$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"
# The same 11.3 request for both: compact, with an empty signature template for xmlsec1.
/usr/bin/python3 - "$tmpl" "$work/req.xml" "$work/tmpl.xml" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r'>\s+<', '><', s); s = re.sub(r'<!--.*?-->', '', s).strip()
open(sys.argv[2], 'w').write(re.sub(r'<ds:Signature.*</ds:Signature>', '', s))
for e in ('DigestValue', 'SignatureValue', 'X509IssuerSerial'):
    s = re.sub(r'<ds:%s>.*?</ds:%s>' % (e, e), '<ds:%s></ds:%s>' % (e, e), s)
open(sys.argv[3], 'w').write(s)
PY
# Our own key signs a request from our own supplier EUI; the template's EUI is the same test supplier.
export HANFW_LEDGER="$work/ledger.sqlite"
"$hanfw" sign "$work/req.xml" --new-counter --key "$key" --cert "$cert" -o "$work/warm.xml"	# makes the ledger

echo "== hanfw sign against xmlsec1 --sign (the same 11.3 request, ECDSA P-256) =="
# (b) one request, whole process each: alternate, so both see the same machine.
i=0
: > "$work/h"; : > "$work/x"
while [ $i -lt "$PAIRS" ]; do
	"$rusage" "$hanfw" sign "$work/req.xml" --new-counter --key "$key" --cert "$cert" -o "$work/out.xml" >> "$work/h"
	"$rusage" xmlsec1 --sign --privkey-pem "$key,$cert" --output "$work/xs.xml" "$work/tmpl.xml" >> "$work/x"
	i=$((i + 1))
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
h=$(cut -d' ' -f1 "$work/h" | median); hc=$(cut -d' ' -f2 "$work/h" | median)
x=$(cut -d' ' -f1 "$work/x" | median); xc=$(cut -d' ' -f2 "$work/x" | median)
awk -v h="$h" -v x="$x" -v hc="$hc" -v xc="$xc" -v n="$PAIRS" 'BEGIN {
	printf "one request, whole process, medians of %d alternating runs: hanfw sign %.4f s (CPU %.4f s), xmlsec1 --sign %.4f s (CPU %.4f s): hanfw %.1fx faster, %.1fx in CPU (goal >= 5x): %s\n",
		n, h, hc, x, xc, x / h, xc / hc, (x / h >= 5) ? "met" : "NOT MET" }'

# Instructions of the same two runs, which other load on the machine does not change
# (callgrind, if valgrind is installed; not a dependency).
if command -v valgrind > /dev/null 2>&1; then
	ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 > /dev/null |
		awk '/ refs:/ { gsub(",", "", $NF); print $NF }'; }
	hi=$(ir "$hanfw" sign "$work/req.xml" --new-counter --key "$key" --cert "$cert" -o "$work/out.xml")
	vi=$(ir "$hanfw" --version)
	xi=$(ir xmlsec1 --sign --privkey-pem "$key,$cert" --output "$work/xs.xml" "$work/tmpl.xml")
	awk -v h="$hi" -v v="$vi" -v x="$xi" 'BEGIN {
		printf "one request, instructions (callgrind): hanfw sign %.1f million (hanfw --version %.2f million), xmlsec1 --sign %.1f million: %.1fx fewer\n",
			h / 1e6, v / 1e6, x / 1e6, x / h }'
fi

# (a) many requests: one hanfw process for all, one xmlsec1 process each (it signs one file per run).
# The machine drifts over xmlsec1's half minute, and one hanfw run is a third of a second: the
# xmlsec1 processes run in RUNS chunks, each after one whole hanfw run of all MANY requests (a
# new output directory each), and hanfw's median run is compared with xmlsec1's total.
RUNS=${RUNS:-5}
mkdir "$work/in" "$work/xs"
i=1
req=$(cat "$work/req.xml")
while [ $i -le "$MANY" ]; do printf '%s' "$req" > "$work/in/r$i.xml"; i=$((i + 1)); done
: > "$work/hm"; : > "$work/xm"
r=1
while [ $r -le "$RUNS" ]; do
	"$rusage" sh -c 'exec "$@" > /dev/null' _ "$hanfw" sign "$work"/in/*.xml --new-counter --key "$key" --cert "$cert" \
		-o "$work/hs$r" >> "$work/hm"
	[ "$(ls "$work/hs$r" | wc -l)" = "$MANY" ]
	"$rusage" sh -c '
		key=$1 cert=$2 tmpl=$3 out=$4 i=$5 last=$6
		while [ $i -le "$last" ]; do
			xmlsec1 --sign --privkey-pem "$key,$cert" --output "$out/r$i.xml" "$tmpl" || exit 1
			i=$((i + 1))
		done' _ "$key" "$cert" "$work/tmpl.xml" "$work/xs" $(((r - 1) * MANY / RUNS + 1)) $((r * MANY / RUNS)) >> "$work/xm"
	r=$((r + 1))	# outputs kept: deleting 1,000 files slows the next 1,000 creations (ext4's recently deleted inodes)
done
[ "$(ls "$work/xs" | wc -l)" = "$MANY" ]
hm_w=$(cut -d' ' -f1 "$work/hm" | median); hm_c=$(cut -d' ' -f2 "$work/hm" | median)
hm_lo=$(cut -d' ' -f1 "$work/hm" | sort -n | head -1); hm_hi=$(cut -d' ' -f1 "$work/hm" | sort -n | tail -1)
xm_w=$(awk '{ s += $1 } END { print s }' "$work/xm")
awk -v h="$hm_w" -v c="$hm_c" -v lo="$hm_lo" -v hi="$hm_hi" -v x="$xm_w" -v n="$MANY" -v runs="$RUNS" 'BEGIN {
	printf "%d requests: one hanfw sign process %.3f s (median of %d runs, %.3f-%.3f; %.0f/s, CPU %.3f s), %d xmlsec1 --sign processes %.2f s: hanfw %.0fx faster (goal >= 100x): %s\n",
		n, h, runs, lo, hi, n / h, c, n, x, x / h, (x / h >= 100) ? "met" : "NOT MET" }'
# Where the syncs went, if strace is here: one commit per batch of 256, two syncfs per batch.
if command -v strace > /dev/null 2>&1; then
	rm -rf "$work/hs"
	strace -f -c -e trace=fsync,fdatasync,syncfs -o "$work/strace" "$hanfw" sign "$work"/in/*.xml --new-counter \
		--key "$key" --cert "$cert" -o "$work/hs" > /dev/null
	awk -v n="$MANY" '$NF ~ /^(fsync|fdatasync|syncfs)$/ { printf "%s %s; ", $NF, $(NF - 1) } END { printf "for %d requests\n", n }' "$work/strace"
fi
