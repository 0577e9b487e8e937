/*
 * config.c - "hanfw config show": every setting's effective value and where
 * it came from (flag, environment, file, default), so an operator can see
 * which key or endpoint a run will use before it uses it.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "../lib/config.h"
#include "../lib/ledger.h"
#include "cmd.h"

/* A setting's value as shown: the ledger's with any password in it as *** (lib/ledger.h). */
static const char *shown(const hfw_config *cfg, enum hfw_setting s, char *buf, size_t size)
{
	const char *v = hfw_config_get(cfg, s);

	if (s != HFW_SET_LEDGER || !v)
		return v;
	hfw_ledger_redact(v, buf, size);
	return buf;
}

static int config_show(int argc, char **argv, struct hfw_ctx *ctx)
{
	static const struct hfw_usage usage = {
		"config show [--config FILE] [--profile NAME] [--json]",
		"Show the configuration file and profile in use, and each setting's value and origin.",
	};
	const struct hfw_option opts[] = { HFW_OPT_END() };
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_config *cfg;
	json_t *root = NULL, *set;
	char *text = NULL, ledger[4096];
	enum cmd_parse pr;
	int n, s, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 0)
		return cmd_usage_error(ctx, "takes no arguments");
	if ((ret = cmd_setup(ctx, NEED_CONFIG)) != 0)
		return ret;
	cfg = ctx->session.cfg;
	if (!ctx->json) {
		printf("file     %s\nprofile  %s\n\n", hfw_config_file(cfg)[0] ? hfw_config_file(cfg) : "(none)",
		       hfw_config_profile(cfg)[0] ? hfw_config_profile(cfg) : "(none)");
		for (s = 0; s < HFW_SET_COUNT; s++) {
			const char *v = shown(cfg, (enum hfw_setting)s, ledger, sizeof(ledger));

			printf("%-18s %-12s %s\n", hfw_setting_info((enum hfw_setting)s)->key,
			       hfw_origin_name(hfw_config_origin(cfg, (enum hfw_setting)s)), v ? v : "(unset)");
		}
		return HFW_EXIT_OK;
	}
	if (!(root = json_pack("{s:s?,s:s?,s:{}}", "file",
			       hfw_config_file(cfg)[0] ? hfw_config_file(cfg) : NULL, "profile",
			       hfw_config_profile(cfg)[0] ? hfw_config_profile(cfg) : NULL, "settings")))
		goto oom;
	set = json_object_get(root, "settings");
	for (s = 0; s < HFW_SET_COUNT; s++) {
		const char *v = shown(cfg, (enum hfw_setting)s, ledger, sizeof(ledger));

		if (json_object_set_new(set, hfw_setting_info((enum hfw_setting)s)->key,
					json_pack("{s:s?,s:s,s:s}", "value", v, "origin",
						  hfw_origin_name(hfw_config_origin(cfg, (enum hfw_setting)s)),
						  "env", hfw_setting_info((enum hfw_setting)s)->env)) < 0)
			goto oom;
	}
	if (!(text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		goto oom;
	printf("%s\n", text);
	goto out;
oom:
	hfw_error_oom(&err);
	ret = cmd_report(&err);
out:
	free(text);
	json_decref(root);
	return ret;
}

int cmd_config_cmd(int argc, char **argv, struct hfw_ctx *ctx)
{
	static const struct hfw_verb verbs[] = {
		{ "show", config_show, "show the effective configuration and each value's origin", NEED_CONFIG },
		{ NULL, NULL, NULL, 0 },
	};

	return cmd_run_verbs(ctx, argc, argv, verbs, "Inspect hanfw's configuration.");
}
