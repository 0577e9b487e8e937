/*
 * status.c - "hanfw status": where each device of a campaign stands, from
 * the ledger (what was sent, and what hanfw listen received); and
 * "hanfw status decode": what saved messages say, without a ledger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/campaign.h"
#include "../lib/config.h"
#include "../lib/ledger.h"
#include "../lib/decode.h"
#include "../lib/fileio.h"
#include "../lib/gbcs.h"
#include "../lib/xmldsig.h"
#include "cmd.h"

/* A DUIS document, or a bare GBCS message in hexadecimal (the RTDS files) or binary. */
static int decode_file(json_t **o, const uint8_t *text, size_t len, const hfw_trust *trust, struct hfw_error *err)
{
	size_t i = 0;
	uint8_t *bytes = NULL;
	size_t blen;
	int ret;

	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	if (i < len && text[i] == '<')
		return hfw_decode_response(o, text, len, trust, err);
	if (hfw_gbcs_from_hex(&bytes, &blen, (const char *)text, len, err) == 0) {
		ret = hfw_decode_gbcs(o, bytes, blen, trust, err);
		free(bytes);
		return ret;
	}
	return hfw_decode_gbcs(o, text, len, trust, err);
}

static int status_decode(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *trust_dir = NULL;
	int no_verify = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "trust", &trust_dir, "DIR", "certificates to verify signatures with (default: trust_dir)"),
		HFW_OPT_FLAG(0, "no-verify", &no_verify, "decode without checking signatures"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"status decode FILE... [--trust DIR | --no-verify]",
		"Decode saved DUIS responses and alerts (and the GBCS payloads in them), or bare GBCS messages\n"
		"(hexadecimal or binary), as JSON, one object per file, after checking each signature.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_config *cfg = NULL;
	hfw_trust *trust = NULL;
	json_t *all = NULL;
	int n, i, ret = HFW_EXIT_OK;

	if ((n = cmd_parse_options(ctx, argc, argv, opts, &usage)) < 0)
		return n == HFW_PARSE_DONE ? HFW_EXIT_OK : HFW_EXIT_USAGE;
	if (n < 1)
		return cmd_usage_error(ctx, "expected FILE... (see --help)");
	if (!no_verify) {
		if (!trust_dir) {
			if (cmd_config(ctx, &cfg, &err) < 0)
				goto fail;
			trust_dir = hfw_config_get(cfg, HFW_SET_TRUST_DIR);
		}
		if (!trust_dir) {
			ret = cmd_usage_error(ctx, "no trust directory to verify with: give --trust DIR, set trust_dir, or --no-verify");
			goto out;
		}
		if (hfw_trust_load_dir(&trust, trust_dir, &err) < 0)
			goto fail;
	}
	if (!(all = json_array())) {
		hfw_error_oom(&err);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct hfw_error ferr = HFW_ERROR_INIT;
		uint8_t *text = NULL;
		size_t len;
		json_t *o = NULL;

		if (hfw_file_read(&text, &len, argv[i], 16u * 1024 * 1024, "DUIS message", &ferr) < 0 ||
		    decode_file(&o, text, len, trust, &ferr) < 0) {
			fprintf(stderr, "hanfw: %s: %s\n", argv[i], ferr.text);
			if (ret == HFW_EXIT_OK)
				ret = -ferr.code;
			free(text);
			continue;
		}
		free(text);
		json_object_set_new(o, "file", json_string(argv[i]));
		json_array_append_new(all, o);
	}
	if (cmd_print_json(all, &err) < 0)
		goto fail;
	all = NULL;
	goto out;
fail:
	ret = cmd_report(&err);
out:
	json_decref(all);
	hfw_trust_free(trust);
	return ret;
}

/* Is any device in one of the comma-separated states? */
static int any_in(json_t *report, const char *states)
{
	char buf[1024], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", states);
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (json_integer_value(json_object_get(json_object_get(report, "states"), p)) > 0)
			return 1;
	return 0;
}

/* A device's line: its state and reason, the failure a later outcome superseded, an alert hanfw has no meaning for. */
static void print_device(json_t *v)
{
	const char *reason = json_string_value(json_object_get(v, "reason"));
	const char *earlier = json_string_value(json_object_get(v, "earlier_failure"));
	const char *alert = json_string_value(json_object_get(v, "last_alert"));

	printf("  %s  %-22s %s", json_string_value(json_object_get(v, "device")),
	       json_string_value(json_object_get(v, "state")), reason ? reason : "");
	if (earlier)
		printf("%searlier %s", reason ? "; " : "", earlier);
	if (alert)
		printf("%salert %s", reason || earlier ? "; " : "", alert);
	printf("\n");
}

static void print_report(json_t *o, int verbose, int one_device)
{
	const char *key, *name = json_string_value(json_object_get(o, "campaign"));
	json_t *v;
	size_t i, shown = 0;

	printf("campaign %s: %lld devices, %lld at goal (activated)\n", name ? name : "(all)",
	       (long long)json_integer_value(json_object_get(o, "devices")),
	       (long long)json_integer_value(json_object_get(o, "at_goal")));
	json_object_foreach(json_object_get(o, "states"), key, v)
		if (json_integer_value(v))
			printf("  %-24s %lld\n", key, (long long)json_integer_value(v));
	if (json_object_size(json_object_get(o, "reasons")))
		printf("reasons:\n");
	json_object_foreach(json_object_get(o, "reasons"), key, v)
		printf("  %-40s %lld\n", key, (long long)json_integer_value(v));
	json_array_foreach(json_object_get(o, "device_states"), i, v) {
		const char *state = json_string_value(json_object_get(v, "state"));

		if (!one_device && (!strcmp(state, "activated") || !strcmp(state, "version_confirmed")))
			continue;
		if (!verbose && shown == 20) {
			printf("  ... (-v for every device)\n");
			break;
		}
		if (!shown++)
			printf(one_device ? "device:\n" : "devices not at goal:\n");
		print_device(v);
	}
}

static int status_show(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *campaign = NULL, *device = NULL, *fail_on = NULL, *interval_text = NULL;
	int watch = 0;
	char states[1024];	/* --fail-on's choices, comma-separated on the command line */

	hfw_campaign_state_names(states, sizeof(states));
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "campaign", &campaign, "NAME", "one campaign (default: every one in the ledger)"),
		HFW_OPT_STRING(0, "device", &device, "EUI", "one device"),
		HFW_OPT_FLAG(0, "watch", &watch, "show again every few seconds until every device is at its goal"),
		HFW_OPT_STRING(0, "interval", &interval_text, "SECONDS", "how often --watch shows (default 2)"),
		HFW_OPT_CHOICE(0, "fail-on", &fail_on, "STATES", "exit non-zero only if a device is in one of these states",
			       states),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"status [--campaign NAME] [--device EUI] [--json] [--watch [--interval SECONDS]] [--fail-on STATE,...]\n"
		"       status decode FILE...",
		"Where each device of a campaign stands: distribution, delivery, transfer, verification, activation,\n"
		"version; counts per state and per reason.  Exit 0 only when every device is activated.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	unsigned long long interval = 2;
	hfw_config *cfg = NULL;
	hfw_ledger *ledger = NULL;
	json_t *report = NULL;
	char eui[HFW_EUI_TEXT_MAX];
	int n, done, ret = HFW_EXIT_OK;

	if ((n = cmd_parse_options(ctx, argc, argv, opts, &usage)) < 0)
		return n == HFW_PARSE_DONE ? HFW_EXIT_OK : HFW_EXIT_USAGE;
	if (n != 0)
		return cmd_usage_error(ctx, "unexpected '%s' (see --help)", argv[0]);
	if (interval_text && (cmd_parse_uint(ctx, "interval", interval_text, 3600, &interval) || !interval))
		return interval ? HFW_EXIT_USAGE : cmd_usage_error(ctx, "--interval must be 1 to 3600");
	if (fail_on) {
		char buf[1024], *p, *save = NULL;

		snprintf(buf, sizeof(buf), "%s", fail_on);
		for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
			if (!hfw_campaign_state_valid(p))
				return cmd_usage_error(ctx, "--fail-on: '%s' is not a state (see hanfw-status(1))", p);
	}
	if (device) {
		struct hfw_eui e;

		if (hfw_eui_parse(&e, device, "device", &err) < 0)
			return cmd_usage_error(ctx, "%s", err.text);
		hfw_eui_format(eui, &e);
		device = eui;
	}
	if (cmd_config(ctx, &cfg, &err) < 0 || hfw_ledger_open(&ledger, hfw_config_get(cfg, HFW_SET_LEDGER), &err) < 0)
		goto fail;
	for (;;) {
		json_decref(report);
		report = NULL;
		if ((ctx->json ? hfw_campaign_write_json(stdout, ledger, campaign, device, &report, &done, &err)
			       : hfw_campaign_status(&report, ledger, campaign, device, ctx->verbose || device, &done, &err)) < 0)
			goto fail;
		if (!json_integer_value(json_object_get(report, "devices")) && (campaign || device) && !watch) {
			hfw_error_set(&err, HFW_EINPUT, "the ledger has no %s '%s'", campaign ? "campaign" : "device",
				      campaign ? campaign : device);
			goto fail;
		}
		if (fail_on)
			done = !any_in(report, fail_on);
		if (!ctx->json && !ctx->quiet) {
			print_report(report, ctx->verbose, !!device);
		}
		fflush(stdout);
		if (!watch || done)
			break;
		sleep((unsigned)interval);
		if (!ctx->json && !ctx->quiet)
			printf("\n");
	}
	ret = done ? HFW_EXIT_OK : -HFW_EPARTIAL;
	goto out;
fail:
	ret = cmd_report(&err);
out:
	json_decref(report);
	hfw_ledger_close(ledger);
	return ret;
}

int cmd_status(int argc, char **argv, struct hfw_ctx *ctx)
{
	if (argc > 1 && !strcmp(argv[1], "decode"))
		return status_decode(argc - 1, argv + 1, ctx);
	return status_show(argc, argv, ctx);
}
