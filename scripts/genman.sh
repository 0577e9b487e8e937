#!/bin/sh
# genman.sh HANFW IN OUT - write the man page OUT from its hand-written
# source IN (man/hanfw-X.1.in), filling in what the option tables say, so
# that SYNOPSIS and OPTIONS cannot drift from the binary:
#
#   .\" @SYNOPSIS@       the usage lines of the command and of each verb
#   .\" @OPTIONS@        each verb's options (short, long, argument, help,
#                        choices), then the options every command takes
#   .\" @VERBS v...@     verbs the command dispatches itself, if its usage
#                        lines do not name them ("status decode FILE...")
#   .\" @ENVIRONMENT@    man/environment.inc
#   .\" @FILES@          man/files.inc
#
# It asks HANFW: "hanfw X --dump-options" (cmd/options.c) prints the
# command's table, or its verbs when it has verbs.  hanfw.1.in (X empty)
# gets the common options only.
set -eu
bin=$1 in=$2 out=$3
dir=$(dirname "$in")
page=$(basename "$in" .1.in)
cmd=${page#hanfw}
cmd=${cmd#-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The command paths of this page, one per line, in order.
: > "$tmp/paths"
if [ -z "$cmd" ]; then
	"$bin" config show --dump-options | awk -F '\t' '$1 == "option" && $7 == "common"' > "$tmp/common"
else
	"$bin" "$cmd" --dump-options > "$tmp/top"
	if grep -q '^command' "$tmp/top"; then
		awk -F '\t' -v c="$cmd" '$1 == "verb" { print c " " $2 }' "$tmp/top" >> "$tmp/paths"
	else
		echo "$cmd" >> "$tmp/paths"
	fi
	# Verbs the command dispatches itself: its usage names them ("status decode FILE..."), or the page does.
	verbs=$(awk -F '\t' -v c="$cmd" '$1 == "usage" {
		n = split($2, line, /\\n/)
		for (i = 2; i <= n; i++) {
			s = line[i]; sub(/^[ \t]+/, "", s); sub(/^hanfw /, "", s)
			if (split(s, w, " ") >= 2 && w[1] == c && w[2] ~ /^[a-z][a-z-]*$/) print w[2]
		}
	}' "$tmp/top")
	for v in $verbs $(sed -n 's/^\.\\" @VERBS \(.*\)@$/\1/p' "$in"); do
		grep -qx "$cmd $v" "$tmp/paths" || echo "$cmd $v" >> "$tmp/paths"
	done
	i=0
	while read -r p; do
		i=$((i + 1))
		# shellcheck disable=SC2086
		"$bin" $p --dump-options | sed "s|^|$p	|" > "$tmp/dump.$i"
	done < "$tmp/paths"
	cat "$tmp"/dump.* > "$tmp/all"
	awk -F '\t' '$2 == "option" && $8 == "common"' "$tmp/all" | cut -f 2- | awk '!seen[$3]++' > "$tmp/common"
fi
[ -s "$tmp/common" ] || { echo "genman: $bin gave no option table" >&2; exit 1; }

# Text for mdoc: backslashes and hyphens escaped, no line starting with a dot.
esc='function esc(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); return s }
function text(s) { s = esc(s); if (s ~ /^[.'"'"']/) s = "\\&" s; return s }
function item(sh, lg, kind, arg, vals, help,   l, n, i, v) {
	l = ".It "
	if (sh != "-") l = l "Fl " sh " , "
	l = l "Fl \\-" esc(lg)
	if (kind != "flag") l = l " Ar " esc(arg)
	print l
	print text(help)
	if (vals != "-") {
		n = split(vals, v, " ")
		l = "One of"
		for (i = 1; i <= n; i++) l = l (i > 1 ? "," : "") " " v[i]
		print ".br"
		print text(l ".")
	}
}'

awk -F '\t' "$esc"'
# A form that another path of the page has (status: "status decode FILE...") is left to that path.
function other(p, s,   i) {
	for (i = 1; i <= np; i++)
		if (path[i] != p && length(path[i]) > length(p) && (s == path[i] || index(s, path[i] " ") == 1))
			return 1
	return 0
}
function synopsis(p,   line, n, i, s, skip) {
	n = split(syn[p], line, /\\n/)
	for (i = 1; i <= n; i++) {
		s = line[i]
		sub(/^[ \t]+/, "", s)
		sub(/^hanfw /, "", s)
		if (i == 1 || index(s, cmd " ") == 1 || s == cmd) {
			if ((skip = other(p, s)))
				continue
			print ".Nm hanfw"
		} else if (skip)
			continue
		print text(s)
	}
}
function options(p,   i, any) {
	for (i = 1; i <= nopt; i++)
		if (opath[i] == p) any = 1
	if (!any) {
		print "No options of its own."
		return
	}
	print ".Bl -tag -width Ds"
	for (i = 1; i <= nopt; i++)
		if (opath[i] == p) item(o[i, 2], o[i, 3], o[i, 4], o[i, 5], o[i, 6], o[i, 8])
	print ".El"
}
FILENAME == common { ncommon++; for (k = 1; k <= 8; k++) c[ncommon, k] = $k; next }
FILENAME == paths { np++; path[np] = $0; next }
FILENAME == all {
	if ($2 == "usage") syn[$1] = $3
	else if ($2 == "option" && $8 == "own") {
		nopt++
		opath[nopt] = $1
		for (k = 1; k <= 8; k++) o[nopt, k] = $(k + 1)
	}
	next
}
/^\.\\" @VERBS .*@$/ { next }
/^\.\\" @SYNOPSIS@$/ { for (i = 1; i <= np; i++) synopsis(path[i]); next }
/^\.\\" @ENVIRONMENT@$/ { while ((getline l < envinc) > 0) print l; next }
/^\.\\" @FILES@$/ { while ((getline l < filesinc) > 0) print l; next }
/^\.\\" @OPTIONS@$/ {
	if (np == 1) options(path[1])
	else for (i = 1; i <= np; i++) {
		print ".Ss hanfw " path[i]
		options(path[i])
	}
	if (np > 0) print ".Ss Common options"
	print "Every command takes these, before or after its own."
	print ".Bl -tag -width Ds"
	for (i = 1; i <= ncommon; i++) item(c[i, 2], c[i, 3], c[i, 4], c[i, 5], c[i, 6], c[i, 8])
	print ".It Fl \\-"
	print "Ends the options: every argument after it is an operand, even one that starts with"
	print ".Ql \\- ."
	print ".El"
	next
}
{ print }
' cmd="$cmd" common="$tmp/common" paths="$tmp/paths" all="$tmp/all" envinc="$dir/environment.inc" filesinc="$dir/files.inc" \
	"$tmp/common" "$tmp/paths" $( [ -s "$tmp/paths" ] && echo "$tmp/all" ) "$in" > "$tmp/out"
mv "$tmp/out" "$out"
