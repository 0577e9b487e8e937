# bash completion for hanfw.
#
# Asks hanfw itself what may come next (--list-commands, <cmd> --list-options,
# --list-values), so completion follows the option tables and never drifts.

_hanfw_opts() { # the option list of the command path "$@"
	"$_hanfw_bin" "$@" --list-options 2>/dev/null
}

_hanfw() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local _hanfw_bin=${COMP_WORDS[0]} i w opts takes_value
	local -a path=()

	COMPREPLY=()
	opts=$'--config=\n--profile=\n--json\n--quiet\n--verbose\n--help\n--version'
	# Walk the words before the cursor: collect the command path, skip option values.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == -* ]]; then
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
		if [[ $cur == -* ]]; then
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
		local values
		values=$("$_hanfw_bin" "${path[@]}" --list-values "${prev#--}" 2>/dev/null)
		if [[ -n $values ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${opts//=/}" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

complete -o filenames -F _hanfw hanfw
