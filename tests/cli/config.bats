#!/usr/bin/env bats
# hanfw config show: file discovery, profiles, precedence flag > env > file > default.

load helpers

setup() { setup_hanfw; }

@test "defaults without a config file" {
	run -0 hanfw config show --json
	[ "$(jq -r .file <<<"$output")" = null ]
	[ "$(jq -r .settings.dcc_eui.value <<<"$output")" = 90-B3-D5-1F-30-00-00-02 ]
	[ "$(jq -r .settings.dcc_eui.origin <<<"$output")" = default ]
	[ "$(jq -r .settings.hub_capacity.value <<<"$output")" = 750000 ]
}

@test "file, environment and flag each override the one before" {
	mkdir sub
	cat > sub/c.json <<-JSON
	{"default_profile": "a", "profiles": {
	  "a": {"hub_capacity": 1000, "user_eui": "90b3d51f30010000", "trust_dir": "trust"},
	  "b": {"hub_capacity": 2000}}}
	JSON
	run -0 hanfw --config sub/c.json config show --json
	[ "$(jq -r .profile <<<"$output")" = a ]
	[ "$(jq -r .settings.hub_capacity.value <<<"$output")" = 1000 ]
	[ "$(jq -r .settings.hub_capacity.origin <<<"$output")" = file ]
	[ "$(jq -r .settings.user_eui.value <<<"$output")" = 90-B3-D5-1F-30-01-00-00 ]
	[ "$(jq -r .settings.trust_dir.value <<<"$output")" = sub/trust ]
	HANFW_HUB_CAPACITY=3000 run -0 hanfw --config sub/c.json config show --json
	[ "$(jq -r .settings.hub_capacity.value <<<"$output")" = 3000 ]
	[ "$(jq -r .settings.hub_capacity.origin <<<"$output")" = environment ]
	HANFW_CONFIG=sub/c.json HANFW_PROFILE=b run -0 hanfw config show --json
	[ "$(jq -r .settings.hub_capacity.value <<<"$output")" = 2000 ]
	HANFW_PROFILE=b run -0 hanfw config show --config sub/c.json --profile a --json
	[ "$(jq -r .profile <<<"$output")" = a ]
	run -0 hanfw config show --config sub/c.json
	[[ "$output" == *"hub_capacity       file         1000"* ]]
}

@test "./hanfw.json, then XDG_CONFIG_HOME" {
	mkdir -p xdg/hanfw
	echo '{"profiles":{"x":{"schema_version":"from-xdg"}}}' > xdg/hanfw/config.json
	run -0 hanfw config show --json
	[ "$(jq -r .settings.schema_version.value <<<"$output")" = from-xdg ]
	echo '{"profiles":{"x":{"schema_version":"from-cwd"}}}' > hanfw.json
	run -0 hanfw config show --json
	[ "$(jq -r .settings.schema_version.value <<<"$output")" = from-cwd ]
}

@test "configuration errors exit 11 with one line" {
	echo '{"profiles":{"a":{"user_euid":"x"}}}' > bad.json
	run -11 --separate-stderr hanfw config show --config bad.json
	one_line_error
	[ "$stderr" = "hanfw: config 'bad.json' profile 'a': unknown setting 'user_euid'" ]
	run -11 --separate-stderr hanfw config show --config missing.json
	[[ "$stderr" == "hanfw: cannot open config 'missing.json': No such file or directory" ]]
	echo '{"profiles":{"a":{}}}' > ok.json
	run -11 --separate-stderr hanfw config show --config ok.json --profile z
	[ "$stderr" = "hanfw: config 'ok.json' has no profile 'z'" ]
	HANFW_USER_EUI=12 run -11 --separate-stderr hanfw config show
	[ "$stderr" = "hanfw: environment HANFW_USER_EUI: user_eui '12' is not an EUI-64 (XX-XX-XX-XX-XX-XX-XX-XX)" ]
	echo '{"profiles":{"a":{"gbcs_signing_key":"k","gbcs_signing_cert":"c"}}}' > p.json
	sample_mi mi.bin
	run -10 --separate-stderr hanfw package build mi.bin -o o.img --config p.json --device-type ESME \
		--manufacturer-code 1 --image-type 2 --file-version 3
	[ "$stderr" = "hanfw: cannot open key './k': No such file or directory" ]
}

@test "config show never prints a password a PostgreSQL ledger URI carries (opening it is refused, exit 11)" {
	export HANFW_LEDGER='postgresql://ops:Hunter2pw@db.example/hanfw?sslmode=require&password=Hunter3pw'
	run -0 hanfw config show
	[[ "$output" != *Hunter* ]]
	grep -q '^ledger  *environment  *postgresql://ops:\*\*\*@db.example/hanfw?sslmode=require&password=\*\*\*$' <<< "$output"
	run -0 hanfw config show --json
	[[ "$output" != *Hunter* ]]
	[ "$(jq -r .settings.ledger.value <<< "$output")" = 'postgresql://ops:***@db.example/hanfw?sslmode=require&password=***' ]
	run -11 --separate-stderr hanfw status
	one_line_error
	[[ "$stderr" == *"the URI carries a password"* ]] && [[ "$stderr" != *Hunter* ]]
}
