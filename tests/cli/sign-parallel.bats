#!/usr/bin/env bats
# hanfw sign of many files self-verifies the signed documents of a batch on every core
# (lib/request.c check_all) after settling their counters in order: what passes its own
# verification is recorded and written, what fails is not and burns its counter, in any mix.

load helpers

setup() { setup_zaz1_signer; }

@test "sign of many files: self-verified on every core; each refused one alone burns its counter, the rest keep argument order" {
	# A schema under which only even counters are valid: the template's (1000) passes the check before
	# signing, and of the fresh counters --new-counter gives (mostly consecutive), the odd ones fail their
	# signed form's own verification, interleaved across the batch and the threads.
	sed -E 's|<xs:pattern value="\[A-Fa-f0-9\]\{2\}\(-\[A-Fa-f0-9\]\{2\}\)\{7\}:\[A-Fa-f0-9\]\{2\}\(-\[A-Fa-f0-9\]\{2\}\)\{7\}:[^"]*"/>|<xs:pattern value="[-:A-F0-9]*:[0-9]*[02468]"/>|' \
		"$BATS_TEST_DIRNAME/../../schemas/duis-firmware.xsd" > even.xsd
	grep -q '\[02468\]' even.xsd
	mkdir in out
	for i in $(seq -w 1 300); do cp "$SHARED/dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML" "in/r$i.xml"; done
	run -4 --separate-stderr hanfw sign in/*.xml --key "$XKEY" --cert "$XCERT" --schema even.xsd --new-counter -o out
	# Each file's counter in argument order: from its output if written, from its one-line refusal if not.
	for f in in/*.xml; do
		b=${f#in/}
		if [ -e "out/$b" ]; then
			echo "$b written $(grep -o ':[0-9]*</sr:RequestID>' "out/$b" | tr -dc '0-9')"
		else
			grep -F "hanfw: $f: signed request failed its own verification, so it was not written: " <<< "$stderr" |
				sed -n "s/.*The value '[-:0-9A-F]*:\([0-9]*\)' is not accepted.*/$b refused \1/p"
		fi
	done > fates
	[ "$(wc -l < fates)" = 300 ] && [ "${#stderr_lines[@]}" = "$(grep -c refused fates)" ]
	# Written exactly when even; counters rising in argument order; both fates many times over.
	awk '($2 == "written") != ($3 % 2 == 0) { print "wrong fate: " $0; bad = 1 } END { exit bad }' fates
	awk '{ print $3 }' fates | sort -n -c -u
	[ "$(grep -c written fates)" -ge 50 ] && [ "$(grep -c refused fates)" -ge 50 ]
	awk '$2 == "written" { print $3 }' fates > written
	[ "$(ls out | wc -l)" = "$(wc -l < written)" ]
	# The ledger: the written ones recorded, nothing else; every counter, refused ones too, used up.
	ledger_sql 'SELECT counter FROM requests ORDER BY counter' | diff - written
	[ "$(ledger_sql 'SELECT last FROM counters')" = "$(tail -1 fates | awk '{ print $3 }')" ]
	# Each written request verifies.
	hanfw verify --trust "$Z" --schema even.xsd "out/$(ls out | head -1)" > /dev/null
	hanfw verify --trust "$Z" --schema even.xsd "out/$(ls out | tail -1)" > /dev/null
}
