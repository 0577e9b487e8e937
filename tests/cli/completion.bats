#!/usr/bin/env bats
# Shell completion asks hanfw's own option tables.

load helpers

setup() {
	setup_hanfw
	mkdir -p bin && ln -sf "$HANFW" bin/hanfw
	COMPLETIONS=$BATS_TEST_DIRNAME/../../completions
}

complete_bash() { # complete_bash WORD...: what bash offers for the last word
	ASAN_OPTIONS="$NO_LEAK_CHECK" PATH="$PWD/bin:$PATH" bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hanfw; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$COMPLETIONS/hanfw.bash" "$@"
}

@test "bash: commands, verbs, options and option values" {
	run -0 complete_bash hanfw pa
	[ "$output" = package ]
	run -0 complete_bash hanfw package ""
	[ "$output" = $'build\ninspect' ]
	run -0 complete_bash hanfw --config x.json package b
	[ "$output" = build ]
	run -0 complete_bash hanfw package build --hw
	[ "$output" = $'--hw-min\n--hw-max' ]
	run -0 complete_bash hanfw package build --device-type ALT
	[ "$output" = $'ALTHAN-B1\nALTHAN-B2\nALTHAN-B3\nALTHAN-B4' ]
	run -0 complete_bash hanfw package inspect --route ""
	[ "$output" = $'11.1\n11.4' ]
	run -0 complete_bash hanfw act
	[ "$output" = activate ]
	run -0 complete_bash hanfw activate --max
	[ "$output" = --max-in-flight ]
	run -0 complete_bash hanfw status --ca
	[ "$output" = --campaign ]
	run -0 complete_bash hanfw status decode --t
	[ "$output" = --trust ]
	run -0 complete_bash hanfw help c
	[ "$output" = $'campaign\nconfig' ]
}

@test "every option in --help is offered by completion" {
	for path in "package build" "package inspect" "campaign plan" "config show" "sandbox init" "sandbox serve" distribute activate read-version listen status "status decode" "status quarantine" sign verify; do
		# shellcheck disable=SC2086
		help=$("$HANFW" $path --help | grep -oE -- '--[a-z0-9-]+' | sort -u)
		# shellcheck disable=SC2086
		offered=$(complete_bash hanfw $path -- | sort -u)
		diff <(echo "$help") <(echo "$offered")
	done
}

@test "zsh completion parses" {
	command -v zsh || skip "zsh not installed"
	zsh -n "$COMPLETIONS/_hanfw"
}
