# bash completion for hanfw.
#
# Asks hanfw itself what may come next (--list-commands, <cmd> --list-options,
# --list-values, --dump-options), so completion follows the option tables and
# never drifts: an option's choices are its table's values, --campaign's are
# the ledger's campaigns, a FILE (IMAGE, XSD) argument completes file names,
# a DIR one directory names, anything else nothing.  A verb whose synopsis
# takes a campaign NAME first (campaign status, resume, abort, report) is
# offered the ledger's campaigns there.

_hanfw_opts() { # the option list of the command path "$@"
	"$_hanfw_bin" "$@" --list-options 2>/dev/null
}

# _hanfw_value OPTION CUR PATH...: what may follow --OPTION, into COMPREPLY.
_hanfw_value() {
	local name=$1 cur=$2 row arg values prefix=
	shift 2
	row=$("$_hanfw_bin" "$@" --dump-options 2>/dev/null | awk -F '\t' -v n="$name" '$1 == "option" && $3 == n')
	arg=$(cut -f 5 <<<"$row")
	values=$("$_hanfw_bin" "${_hanfw_global[@]}" "$@" --list-values "$name" 2>/dev/null)
	if [[ -n $values ]]; then
		# Lists (--fail-on a,b): complete the last item.
		[[ $cur == *,* ]] && prefix=${cur%,*}, && cur=${cur##*,}
		mapfile -t COMPREPLY < <(compgen -P "$prefix" -W "$values" -- "$cur")
	elif [[ $arg == DIR ]]; then
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	elif [[ $arg == FILE || $arg == IMAGE || $arg == XSD || -z $row ]]; then
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

_hanfw() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local _hanfw_bin=${COMP_WORDS[0]} i w opts takes_value
	local -a path=() _hanfw_global=()

	COMPREPLY=()
	opts=$'--config=\n--profile=\n--json\n--quiet\n--verbose\n--help\n--version'
	# Walk the words before the cursor: collect the command path, skip option values.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -* ]]; then
			# The configuration decides the ledger whose campaigns are offered.
			case $w in
			--config=* | --profile=*) _hanfw_global+=("$w") ;;
			--config | --profile) ((i + 1 < COMP_CWORD)) && _hanfw_global+=("$w" "${COMP_WORDS[i + 1]}") ;;
			esac
			grep -qx -- "${w%%=*}=" <<<"$opts" && [[ $w != *=* ]] && ((i++))
			continue
		fi
		path+=("$w")
		if ((${#path[@]} <= 2)); then
			local next
			next=$(_hanfw_opts "${path[@]}")
			# A command with verbs lists the verbs; once a verb is chosen, its options.
			[[ -n $next ]] && opts=$next
		fi
	done

	if ((${#path[@]} == 0)); then
		if [[ $prev == --config ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		elif [[ $prev == --profile ]]; then
			:
		elif [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "${opts//=/}" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$("$_hanfw_bin" --list-commands 2>/dev/null)" -- "$cur")
		fi
		return
	fi
	if [[ ${path[0]} == help ]]; then
		((${#path[@]} == 1)) &&
			mapfile -t COMPREPLY < <(compgen -W "$("$_hanfw_bin" --list-commands 2>/dev/null)" -- "$cur")
		return
	fi
	# Verbs still to choose?
	if ! grep -q '^-' <<<"$opts"; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi
	takes_value=$(grep -x -- "${prev}=" <<<"$opts")
	if [[ -n $takes_value ]]; then
		_hanfw_value "${prev#--}" "$cur" "${path[@]}"
		return
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${opts//=/}" -- "$cur")
	elif ((${#path[@]} == 2)) && [[ $("$_hanfw_bin" "${path[@]}" --dump-options 2>/dev/null |
		awk -F '\t' '$1 == "usage" { print $2; exit }') == "${path[0]} ${path[1]} NAME"* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$("$_hanfw_bin" "${_hanfw_global[@]}" "${path[@]}" --list-values campaign 2>/dev/null)" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

complete -o filenames -F _hanfw hanfw
