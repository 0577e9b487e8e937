#!/bin/sh
# Sum the recorded results of "make check" into its closing line.
total_p=0; total_f=0
echo "== summary =="
for b in "$@"; do
	for kind in unit cli; do
		f="$b/results-$kind.txt"
		[ -f "$f" ] || { echo "summary: $f missing" >&2; exit 1; }
		read -r p x < "$f"
		printf '%-24s %s passed, %s failed\n' "$kind ($b):" "$p" "$x"
		total_p=$((total_p + p)); total_f=$((total_f + x))
	done
done
if [ -f "$1/results-fuzz.txt" ]; then
	read -r n s < "$1/results-fuzz.txt"
	printf '%-24s %s targets, %s\n' "fuzz:" "$n" "$( [ "$s" -eq 0 ] && echo "no crash" || echo CRASH)"
fi
echo "check: $total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
