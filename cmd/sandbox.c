/*
 * sandbox.c - "hanfw sandbox": hanfw's own DCC adapter emulator, for
 * operators and CI without a DCC Boxed at hand.  "init" creates its world:
 * a test PKI shaped like SMKI, TLS certificates, an estate of devices and a
 * configuration profile that points at it all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/estate.h"
#include "../lib/sandbox.h"
#include "cmd.h"

static int sandbox_init(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *devices = NULL, *zaz1 = NULL, *port = NULL;
	int force = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "devices", &devices, "SPEC",
			       "estate: TYPE=COUNT,... per hub; ';' starts hubs of their own (default " HFW_SANDBOX_DEFAULT_DEVICES ")"),
		HFW_OPT_STRING(0, "zaz1", &zaz1, "DIR", "use the public ZAZ1 identities (DCC Boxed's) from DIR"),
		HFW_OPT_STRING(0, "port", &port, "PORT", "port the profile's endpoint names (default 8079)"),
		HFW_OPT_FLAG(0, "force", &force, "initialise a directory that is not empty"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"sandbox init DIR [--devices SPEC] [--zaz1 DIR] [--port PORT] [--force]",
		"Create a sandbox: test PKI, TLS certificates, estate.json and hanfw.json (profile \"sandbox\").",
	};
	struct hfw_sandbox_init_options o = { NULL, NULL, 0, 0 };
	struct hfw_error err = HFW_ERROR_INIT;
	unsigned long long p = 0;
	int n;

	if ((n = cmd_parse_options(ctx, argc, argv, opts, &usage)) < 0)
		return n == HFW_PARSE_DONE ? HFW_EXIT_OK : HFW_EXIT_USAGE;
	if (n != 1)
		return cmd_usage_error(ctx, "expected one DIR, got %d", n);
	if (port && (cmd_parse_uint(ctx, "port", port, 65535, &p) || p == 0))
		return p == 0 && port ? cmd_usage_error(ctx, "--port must be 1 to 65535") : HFW_EXIT_USAGE;
	o.devices = devices;
	o.zaz1_dir = zaz1;
	o.port = (int)p;
	o.force = force;
	if (hfw_sandbox_init(argv[0], &o, &err) < 0) {
		if (err.code == HFW_EINPUT)
			return cmd_usage_error(ctx, "%s", err.text);
		return cmd_report(&err);
	}
	if (!ctx->quiet)
		printf("sandbox ready in '%s': use it with --config %s/hanfw.json\n", argv[0], argv[0]);
	return HFW_EXIT_OK;
}

int cmd_sandbox(int argc, char **argv, struct hfw_ctx *ctx)
{
	static const struct hfw_verb verbs[] = {
		{ "init", sandbox_init, "create a sandbox: test PKI, TLS, estate and configuration" },
		{ NULL, NULL, NULL },
	};

	return cmd_run_verbs(ctx, argc, argv, verbs, "hanfw's own DCC adapter emulator.");
}
