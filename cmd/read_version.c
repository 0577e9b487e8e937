/*
 * read_version.c - "hanfw read-version": SR 11.2 Read Firmware Version per
 * device (command variant 1 to Send Command; I99, then the device's answer
 * to the receive URL, which hanfw listen decodes into the ledger so that
 * hanfw status can confirm each device runs the campaign's version).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../lib/readversion.h"
#include "../lib/devlist.h"
#include "cmd.h"


static int run(const void *arg, struct hfw_flow_result *results, size_t n, size_t *counts, struct hfw_error *err)
{
	return hfw_read_version_run(arg, results, n, counts, err);
}

int cmd_read_version(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *devices_file = NULL, *estate_file = NULL, *in_flight_text = NULL, *rate_text = NULL;
	const char *out_dir = NULL, *campaign = NULL;
	int dry_run = 0, insecure = 0, allow_ihd = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "devices", &devices_file, "FILE", "devices, one per line: EUI [TYPE] ('-': standard input)"),
		HFW_OPT_STRING(0, "estate", &estate_file, "FILE", "estate whose device types are checked"),
		HFW_OPT_STRING(0, "max-in-flight", &in_flight_text, "N", "devices in progress at once (default 16, at most 256)"),
		HFW_OPT_STRING(0, "rate", &rate_text, "PER_SECOND", "start at most this many devices a second (default: no limit)"),
		HFW_OPT_STRING(0, "campaign", &campaign, "NAME", "the campaign the reads belong to (default: read-version)"),
		HFW_OPT_FLAG(0, "dry-run", &dry_run, "sign the requests and write them to -o DIR instead of sending"),
		HFW_OPT_STRING('o', "output", &out_dir, "DIR", "where --dry-run writes the requests"),
		HFW_OPT_FLAG(0, "insecure", &insecure, "do not verify the adapter's TLS certificate (testing only)"),
		HFW_OPT_FLAG(0, "allow-ihd", &allow_ihd, "read IHDs too (IHDs are out of the DCC's firmware scope)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"read-version (EUI... | --devices FILE|-) [--estate FILE] [--max-in-flight N] [--rate PER_SECOND]\n"
		"                    [--campaign NAME] [--dry-run -o DIR] [--allow-ihd] [--json]",
		"Read each device's firmware version (SR 11.2).  The answers come to the receive URL: run\n"
		"hanfw listen, then hanfw status.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_flow_options ao;
	struct hfw_devlist list = HFW_DEVLIST_INIT;
	struct cmd_session *sess = &ctx->session;
	enum cmd_parse pr;
	json_t *summary = NULL;
	size_t i;
	int n, gravest, ret = HFW_EXIT_OK;

	memset(&ao, 0, sizeof(ao));
	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n < 1 && !devices_file)
		return cmd_usage_error(ctx, "expected devices: EUI... or --devices FILE (see --help)");
	if (dry_run != !!out_dir)
		return cmd_usage_error(ctx, "--dry-run and -o DIR go together");
	if (cmd_parse_pace(ctx, in_flight_text, rate_text, &sess->in_flight, &ao.rate) != PARSE_OK)
		return HFW_EXIT_USAGE;
	if (out_dir && cmd_output_dir(out_dir, &err) < 0)
		goto fail;
	if (cmd_load_devices(&list, argv, (size_t)n, devices_file, estate_file, &err) < 0)
		goto fail;
	for (i = 0; i < list.n; i++) {
		const struct hfw_device_type *type = list.v[i].type;
		char eui[HFW_EUI_TEXT_MAX];

		/* IHDs are out of the DCC's firmware scope (unless allowed), and a GPF's firmware is the comms hub's. */
		hfw_eui_format(eui, &list.v[i].eui);
		if (hfw_ihd_check(type, eui, allow_ihd, "nothing sent", &err) < 0)
			goto fail;
		if (type && !strcmp(type->name, "GPF")) {
			hfw_error_set(&err, HFW_EINPUT, "device %s is a %s, whose firmware version SR 11.2 does not read: nothing sent",
				      eui, type->name);
			goto fail;
		}
	}
	sess->insecure = insecure;
	if ((ret = cmd_setup(ctx, ctx->needs & ~(dry_run ? NEED_ADAPTER | NEED_TRUST : 0))) != 0)
		goto out;
	ao.campaign = campaign ? campaign : "read-version";
	cmd_session_fill(sess, &ao);
	ao.dry_run_dir = out_dir;
	if (!(summary = json_pack("{s:s}", "campaign", ao.campaign))) {
		hfw_error_oom(&err);
		goto fail;
	}
	if (cmd_run_devices(ctx, &ao, run, &ao, &list, 0, "read-version", summary, &gravest, &err) < 0)
		goto fail;
	ret = -gravest;	/* the exit status: the gravest device outcome's number */
	goto out;
fail:
	ret = cmd_report(&err);
out:
	json_decref(summary);
	hfw_devlist_release(&list);
	return ret;
}
