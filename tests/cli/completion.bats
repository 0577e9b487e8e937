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
	for path in "package build" "package inspect" "campaign plan" "campaign run" "campaign resume" "campaign abort" "campaign status" "campaign list" "campaign report" "config show" "sandbox init" "sandbox serve" distribute activate read-version listen status "status decode" "status quarantine" sign verify; do
		# shellcheck disable=SC2086
		help=$("$HANFW" $path --help | grep -oE -- '--[a-z0-9-]+' | sort -u)
		# shellcheck disable=SC2086
		offered=$(complete_bash hanfw $path -- | sort -u)
		diff <(echo "$help") <(echo "$offered")
	done
}

# complete_zsh WORD...: what the zsh completion hands to compadd/_files for the last word.
complete_zsh() {
	ASAN_OPTIONS="$NO_LEAK_CHECK" PATH="$PWD/bin:$PATH" zsh -f -c '
		_describe() { print -rl -- "${(@P)4}"; }
		compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }
		compset() { :; }
		_files() { print -r -- "_files $*"; }
		f=$1; shift; words=("$@"); CURRENT=$#; source $f' _ "$COMPLETIONS/_hanfw" "$@"
}

@test "campaign status, resume, abort and report complete the ledger's campaign names; run and plan files" {
	hanfw -q sandbox init sbx --devices PPMID=2
	HANFW_LEDGER=$(test_ledger) && export HANFW_LEDGER
	hanfw -q package build "$BATS_TEST_DIRNAME/../../samples/manufacturer-image.bin" -o p.img --device-type PPMID \
		--manufacturer-code 0x121D --image-type 0x84 --file-version 0x01020304 --config sbx/hanfw.json
	eui=$(jq -r '[.devices[] | select(.type == "PPMID")][0].eui' sbx/estate.json)
	for c in beta alpha; do
		hanfw -q distribute p.img "$eui" --campaign "$c" --dry-run -o "dry-$c" --config sbx/hanfw.json
	done
	for verb in status resume abort report; do
		run -0 complete_bash hanfw --config sbx/hanfw.json campaign "$verb" ""
		[ "$output" = $'alpha\nbeta' ] || { echo "$verb: $output"; false; }
	done
	run -0 complete_bash hanfw --config sbx/hanfw.json campaign report b
	[ "$output" = beta ]
	run -0 complete_bash hanfw --config sbx/hanfw.json campaign status --w
	[ "$output" = --wait ]
	# After the name, and for run's PLAN and list: files, not campaigns.
	run -0 complete_bash hanfw --config sbx/hanfw.json campaign status alpha p.i
	[ "$(sort <<<"$output" | paste -sd ' ')" = "p.img p.img.json" ]
	run -0 complete_bash hanfw --config sbx/hanfw.json campaign run p.i
	[ "$(sort <<<"$output" | paste -sd ' ')" = "p.img p.img.json" ]
	run -0 complete_bash hanfw --config sbx/hanfw.json campaign plan p.i
	[ "$(sort <<<"$output" | paste -sd ' ')" = "p.img p.img.json" ]
	command -v zsh > /dev/null || return 0
	run -0 complete_zsh hanfw --config sbx/hanfw.json campaign status ""
	[ "$output" = $'alpha\nbeta' ]
	run -0 complete_zsh hanfw --config sbx/hanfw.json campaign run ""
	[ "$output" = "_files " ]
}

@test "zsh completion parses" {
	command -v zsh || skip "zsh not installed"
	zsh -n "$COMPLETIONS/_hanfw"
}
