#!/usr/bin/env bats
# The man pages make builds: SYNOPSIS and OPTIONS from the option tables
# (scripts/genman.sh asks hanfw --dump-options), the prose from man/*.1.in.

load helpers

setup() {
	setup_hanfw
	SRC=$BATS_TEST_DIRNAME/../..
	MAN=$(dirname "$HANFW")/man
}

# Every command path with options: commands, their verbs (status decode too), and any a page names in @VERBS.
command_paths() {
	local c v next
	for c in $("$HANFW" --list-commands); do
		[ "$c" = help ] && continue
		next=$("$HANFW" "$c" --list-options)
		if grep -q '^-' <<<"$next"; then echo "$c"; else for v in $next; do echo "$c $v"; done; fi
		# Verbs a command dispatches itself are in its usage lines ("status decode FILE...").
		"$HANFW" "$c" --help | sed -n '2,/^$/p' | sed 's/^ *//; s/^hanfw //' |
			awk -v c="$c" '$1 == c && $2 ~ /^[a-z][a-z-]*$/ { print c " " $2 }'
		for v in $(sed -n 's/^\.\\" @VERBS \(.*\)@$/\1/p' "$SRC/man/hanfw-$c.1.in"); do echo "$c $v"; done
	done
}

# section PAGE NAME: the mdoc source of one section of a generated page.
section() { awk -v s=".Sh $2" '$0 == s {on=1; next} /^\.Sh/ {on=0} on' "$1"; }

@test "every option of every command's and verb's --help is in its generated man page" {
	local n=0 path page opt
	while read -r path; do
		page=$MAN/hanfw-${path%% *}.1
		[ -f "$page" ] || { echo "no $page"; false; }
		# shellcheck disable=SC2086
		for opt in $("$HANFW" $path --help | grep -oE -- '^ +(-[a-z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+'); do
			section "$page" OPTIONS | grep -qF -- "Fl $(sed 's/-/\\-/g' <<<"${opt#-}")" || { echo "$path: $opt not in $page"; false; }
			n=$((n + 1))
		done
		# The usage line is the synopsis.
		# shellcheck disable=SC2086
		usage=$("$HANFW" $path --help | sed -n '1s/^usage: hanfw //p' | sed 's/-/\\-/g')
		section "$page" SYNOPSIS | grep -qF -- "$usage" || { echo "$path: synopsis '$usage' not in $page"; false; }
	done < <(command_paths)
	[ "$n" -gt 100 ]
	# Sub-verbs are there each with their own options.
	section "$MAN/hanfw-package.1" OPTIONS | grep -qx '.Ss hanfw package inspect'
	section "$MAN/hanfw-status.1" OPTIONS | grep -qx '.Ss hanfw status decode'
	command_paths | grep -qx 'status decode'
	section "$MAN/hanfw-status.1" OPTIONS | grep -qF 'Fl \-fail\-on Ar STATES'
}

@test "the generated pages render without warnings" {
	local page
	[ "$(ls "$MAN"/*.1 | wc -l)" = "$(ls "$SRC"/man/*.1.in | wc -l)" ]
	for page in "$MAN"/*.1; do
		run -0 --separate-stderr groff -mandoc -Tutf8 -ww -z "$page"
		[ -z "$stderr" ] || { echo "$page: $stderr"; false; }
		if command -v mandoc >/dev/null; then
			run -0 mandoc -T lint -W warning "$page"
		fi
		! grep -q '@[A-Z]*@' "$page"	# every marker filled in
	done
}

@test "every page has EXAMPLES, EXIT STATUS, ENVIRONMENT and FILES, naming the configuration and the ledger" {
	local page
	for page in "$MAN"/*.1; do
		for s in EXAMPLES 'EXIT STATUS' ENVIRONMENT FILES; do
			[ -n "$(section "$page" "$s")" ] || { echo "$page: no $s"; false; }
		done
		for v in HANFW_CONFIG HANFW_PROFILE XDG_CONFIG_HOME HANFW_KEY_PASSPHRASE HANFW_LEDGER; do
			section "$page" ENVIRONMENT | grep -q "$v" || { echo "$page: ENVIRONMENT lacks $v"; false; }
		done
		section "$page" FILES | grep -q 'hanfw/ledger.sqlite'
		section "$page" FILES | grep -q 'hanfw/config.json'
	done
}

@test "hanfw(1) names every command's page in SEE ALSO" {
	local c
	for c in $("$HANFW" --list-commands); do
		[ "$c" = help ] && continue
		section "$MAN/hanfw.1" "SEE ALSO" | grep -qE "^\.Xr hanfw-$c 1( ,)?$" || { echo "hanfw(1) SEE ALSO lacks hanfw-$c(1)"; false; }
	done
}

@test "a new option in a table appears in the page without touching the page" {
	# A hanfw whose verify table has one more option than the real one.
	cat > fake <<-EOF
	#!/bin/sh
	"$HANFW" "\$@" || exit
	case "\$*" in *verify*--dump-options*) printf 'option\t-\tbrand-new\tvalue\tFILE\t-\town\ta brand-new option\n' ;; esac
	EOF
	chmod +x fake
	sh "$SRC/scripts/genman.sh" ./fake "$SRC/man/hanfw-verify.1.in" out.1
	section out.1 OPTIONS | grep -qF 'Fl \-brand\-new Ar FILE'
	section out.1 OPTIONS | grep -qx 'a brand\\-new option'
	# A table it cannot read is an error, not an empty section.
	printf '#!/bin/sh\nexit 0\n' > empty && chmod +x empty
	run ! sh "$SRC/scripts/genman.sh" ./empty "$SRC/man/hanfw-verify.1.in" out2.1
	[ ! -e out2.1 ]
}

@test "--dump-options: the table as tab-separated rows" {
	run -0 hanfw package build --dump-options
	[[ "${lines[0]}" == "usage	package build MANUFACTURER_IMAGE -o OUT.img"* ]]
	grep -qx $'option\to\toutput\tvalue\tFILE\t-\town\timage to write; the manifest goes to FILE.json' <<<"$output"
	grep -q $'^option\t-\tdevice-type\tchoice\tTYPE\tESME GSME ' <<<"$output"
	grep -qx $'option\t-\tjson\tflag\t-\t-\tcommon\tmachine-readable output on standard output' <<<"$output"
	run -0 hanfw sandbox --dump-options
	[ "${lines[1]}" = $'verb\tinit\tcreate a sandbox: test PKI, TLS, estate and configuration' ]
}
