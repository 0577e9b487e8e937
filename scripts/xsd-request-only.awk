# xsd-request-only.awk - from schemas/duis-firmware.xsd, the schema of a Request alone.
#
# Every process that validates a request parses the built-in schema first, and the
# responses and alerts are three quarters of it; "hanfw sign" never validates one.
# This keeps the schema's header, the global element Request and every top-level
# component it reaches through type=, base=, ref=, itemType= or memberTypes=
# ("sr:" names), in the file's order; comments go.  Validating a document whose root
# is a Request against the result gives the same verdict as against the whole file:
# the kept types are the same definitions, and what is dropped cannot be reached
# from a Request (its one wildcard takes only XML-signature elements, unchecked).
#
# It relies on the file's layout, and stops the build (exit 1) rather than guess:
# top-level components start at two spaces of indentation and end on that line
# ("/>") or at the matching "  </xs:...>" line; anything else at that level, a name
# reached but not defined, or no Request is an error.
function fail(msg) {
	printf "xsd-request-only.awk: %s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	failed = 1
	exit 1
}
BEGIN { state = "head"; n = 0 }
# Comments (one or several lines) are dropped wherever they are.
incomment {
	if (index($0, "-->")) incomment = 0
	next
}
/^[[:space:]]*<!--/ {
	if (!index($0, "-->")) incomment = 1
	next
}
state == "head" {
	head[++nhead] = $0
	if ($0 ~ /^<xs:schema[ >]/) state = "schema"
	if (state == "schema" && $0 ~ />[[:space:]]*$/) state = "body"
	next
}
state == "schema" {
	head[++nhead] = $0
	if ($0 ~ />[[:space:]]*$/) state = "body"
	next
}
/^[[:space:]]*$/ { next }
/^<\/xs:schema>/ { state = "end"; next }
state == "end" { fail("text after </xs:schema>") }
# A top-level component starts.
/^  <xs:(simpleType|complexType|element|group|attributeGroup|attribute) name="/ {
	if (cur) fail("component starts inside another")
	cur = ++n
	kind[cur] = $0
	sub(/^  <xs:/, "", kind[cur]); sub(/ .*/, "", kind[cur])
	name[cur] = $0
	sub(/^[^"]*"/, "", name[cur]); sub(/".*/, "", name[cur])
	byname[name[cur]] = byname[name[cur]] " " cur
	text[cur] = $0
	refs(cur, $0)
	if ($0 ~ /\/>[[:space:]]*$/) cur = 0
	next
}
/^  <\// {
	if (!cur || $0 !~ ("^  </xs:" kind[cur] ">[[:space:]]*$")) fail("unexpected end tag")
	text[cur] = text[cur] "\n" $0
	cur = 0
	next
}
/^  [^ ]/ { fail("unexpected line at the top level") }
{
	if (!cur) fail("line outside any component")
	text[cur] = text[cur] "\n" $0
	refs(cur, $0)
}
# Record the "sr:" names a line refers to.
function refs(c, line,    m, list, k, i) {
	while (match(line, /(type|base|ref|itemType|memberTypes)="[^"]*"/)) {
		m = substr(line, RSTART, RLENGTH)
		line = substr(line, RSTART + RLENGTH)
		sub(/^[^"]*"/, "", m); sub(/"$/, "", m)
		k = split(m, list, /[[:space:]]+/)
		for (i = 1; i <= k; i++)
			if (list[i] ~ /^sr:/) uses[c] = uses[c] " " substr(list[i], 4)
	}
}
END {
	if (failed) exit 1
	if (state != "end") { FNR = "end"; fail("no </xs:schema>") }
	if (cur) { FNR = "end"; fail("unterminated component") }
	# The global element Request, then everything reachable from it.
	for (c = 1; c <= n; c++)
		if (kind[c] == "element" && name[c] == "Request") { keep[c] = 1; queue[++q] = c }
	if (!q) { FNR = "end"; fail("no global element Request") }
	for (i = 1; i <= q; i++) {
		k = split(uses[queue[i]], list, " ")
		for (j = 1; j <= k; j++) {
			if (byname[list[j]] == "") { FNR = "end"; fail("'" list[j] "' is used but not defined") }
			m = split(byname[list[j]], defs, " ")
			for (d = 1; d <= m; d++)
				if (!keep[defs[d]]) { keep[defs[d]] = 1; queue[++q] = defs[d] }
		}
	}
	for (i = 1; i <= nhead; i++) print head[i]
	for (c = 1; c <= n; c++)
		if (keep[c]) print text[c]
	print "</xs:schema>"
}
