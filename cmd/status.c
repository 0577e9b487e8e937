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
	hfw_trust *trust = NULL;
	json_t *all = NULL;
	enum cmd_parse pr;
	int n, i, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n < 1)
		return cmd_usage_error(ctx, "expected FILE... (see --help)");
	/* Without a ledger; the configuration only for the trust directory, and not with --trust or --no-verify. */
	cmd_setting_flag(ctx, HFW_SET_TRUST_DIR, "--trust (or --no-verify)", trust_dir);
	if (!no_verify) {
		if ((ret = cmd_setup(ctx, NEED_CONFIG | NEED_TRUST)) != 0)
			goto out;
		trust = ctx->session.trust;
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
	return ret;
}

static void print_quarantined(const json_t *report);

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
		"       status decode FILE...\n"
		"       status quarantine",
		"Where each device of a campaign stands: distribution, delivery, transfer, verification, activation,\n"
		"version; counts per state and per reason.  Exit 0 only when every device is activated.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	unsigned long long interval = 2;
	hfw_ledger *ledger = NULL;
	json_t *report = NULL;
	char eui[HFW_EUI_TEXT_MAX];
	enum cmd_parse pr;
	int n, done, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
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
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)	/* the ledger, read-only: never made here */
		goto out;
	ledger = ctx->session.ledger;
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
			print_quarantined(report);
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
	return ret;
}

/* ---- the quarantine: what listen refused (kept apart from the campaign report above) ---- */

/* Since when the quarantine is counted: the campaign's first request (any campaign's), "" for all time. */
static int quarantine_since(hfw_ledger *ledger, const char *campaign, char *since, size_t size, struct hfw_error *err)
{
	return hfw_ledger_campaign_start(ledger, campaign, since, size, err);
}

struct quarantine_list {
	json_t *messages, *counted;
	unsigned long long total;
};

static int add_quarantined(void *arg, const struct hfw_ledger_quarantined *q)
{
	struct quarantine_list *ql = arg;
	json_t *o;

	ql->total += q->count;
	if (!q->counted)	/* a row kept (rows older than senders and hashes have neither) */
		o = json_pack("{s:s, s:s?, s:I, s:I, s:s?, s:s}", "received", q->received, "sender", q->sender, "size",
			      (json_int_t)q->size, "kept", (json_int_t)q->kept, "sha256", q->sha256, "reason", q->reason);
	else
		o = json_pack("{s:s, s:I, s:I, s:s, s:s}", "reason", q->reason, "count", (json_int_t)q->count, "bytes",
			      (json_int_t)q->size, "first", q->received, "last", q->last);
	if (!o || json_array_append_new(q->counted ? ql->counted : ql->messages, o))
		return -HFW_ENOMEM;
	return 0;
}

/* The quarantine since since ("": all), as the JSON "hanfw status quarantine --json" prints. */
static int quarantine_report(json_t **out, hfw_ledger *ledger, const char *campaign, const char *since,
			     struct hfw_error *err)
{
	struct quarantine_list ql = { json_array(), json_array(), 0 };
	int ret;

	*out = NULL;
	if (!ql.messages || !ql.counted) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if ((ret = hfw_ledger_each_quarantined(ledger, since, add_quarantined, &ql, err)) < 0) {
		if (ret == -HFW_ENOMEM)
			ret = hfw_error_oom(err);
		goto out;
	}
	if (!(*out = json_pack("{s:s?, s:s?, s:I, s:o, s:o}", "campaign", campaign, "since", *since ? since : NULL,
			       "quarantined", (json_int_t)ql.total, "messages", ql.messages, "counted", ql.counted)))
		ret = hfw_error_oom(err);
	else if (!campaign)
		json_object_del(*out, "campaign");	/* absent, as in "hanfw status --json" */
	ql.messages = ql.counted = NULL;
out:
	json_decref(ql.messages);
	json_decref(ql.counted);
	return ret;
}

/* The line "hanfw status" adds when listen has refused messages since the campaign began. */
static void print_quarantined(const json_t *report)
{
	long long n = json_integer_value(json_object_get(report, "quarantined"));

	if (n > 0)
		printf("quarantined: %lld message%s refused by listen since the campaign began (hanfw status quarantine)\n",
		       n, n == 1 ? "" : "s");
}

static int status_quarantine(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *campaign = NULL;
	int all = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "campaign", &campaign, "NAME", "since this campaign began (default: since the first one did)"),
		HFW_OPT_FLAG(0, "all", &all, "everything the ledger holds"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"status quarantine [--campaign NAME | --all] [--json]",
		"The messages hanfw listen refused since the campaign began: when, from which address, size, SHA-256\n"
		"and why; beyond the quarantine's cap, counts per reason.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *ledger = NULL;
	json_t *q = NULL, *v;
	char since[40] = "";
	size_t i;
	enum cmd_parse pr;
	int n, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 0)
		return cmd_usage_error(ctx, "unexpected '%s' (see --help)", argv[0]);
	if (all && campaign)
		return cmd_usage_error(ctx, "--all and --campaign exclude each other");
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)	/* the ledger, read-only: never made here */
		goto out;
	ledger = ctx->session.ledger;
	if (!all && quarantine_since(ledger, campaign, since, sizeof(since), &err) < 0)
		goto fail;
	if (campaign && !*since) {
		hfw_error_set(&err, HFW_EINPUT, "the ledger has no campaign '%s'", campaign);
		goto fail;
	}
	if (quarantine_report(&q, ledger, campaign, since, &err) < 0)
		goto fail;
	if (ctx->json) {
		ret = cmd_print_json(q, &err) < 0 ? cmd_report(&err) : HFW_EXIT_OK;
		q = NULL;
		goto out;
	}
	if (!ctx->quiet) {
		printf("%lld message%s quarantined%s%s\n", (long long)json_integer_value(json_object_get(q, "quarantined")),
		       json_integer_value(json_object_get(q, "quarantined")) == 1 ? "" : "s", *since ? " since " : "", since);
		json_array_foreach(json_object_get(q, "messages"), i, v) {
			const char *sender = json_string_value(json_object_get(v, "sender"));
			const char *hash = json_string_value(json_object_get(v, "sha256"));

			printf("  %s  %-15s %10lld bytes  %.16s  %s\n", json_string_value(json_object_get(v, "received")),
			       sender ? sender : "-", (long long)json_integer_value(json_object_get(v, "size")),
			       hash ? hash : "-", json_string_value(json_object_get(v, "reason")));
		}
		if (json_array_size(json_object_get(q, "counted")))
			printf("counted only (the quarantine was full):\n");
		json_array_foreach(json_object_get(q, "counted"), i, v)
			printf("  %8lld messages, %lld bytes, %s to %s: %s\n",
			       (long long)json_integer_value(json_object_get(v, "count")),
			       (long long)json_integer_value(json_object_get(v, "bytes")),
			       json_string_value(json_object_get(v, "first")), json_string_value(json_object_get(v, "last")),
			       json_string_value(json_object_get(v, "reason")));
	}
	goto out;
fail:
	ret = cmd_report(&err);
out:
	json_decref(q);
	return ret;
}

int cmd_status(int argc, char **argv, struct hfw_ctx *ctx)
{
	if (argc > 1 && !strcmp(argv[1], "decode"))
		return status_decode(argc - 1, argv + 1, ctx);
	if (argc > 1 && !strcmp(argv[1], "quarantine"))
		return status_quarantine(argc - 1, argv + 1, ctx);
	return status_show(argc, argv, ctx);
}
