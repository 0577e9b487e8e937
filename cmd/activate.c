/*
 * activate.c - "hanfw activate": SR 11.3, the critical command that makes
 * a device switch to the image it holds, per device, immediately, at a
 * future time, or cancelling a future one.  The flow, the check of each
 * pre-command before it is signed, and the pacing are lib/activate's; this
 * file settles what is asked for and refuses what cannot be right: devices
 * that activate themselves or have nothing to activate, a hash taken from
 * nowhere, a time in the past, and (unless --include-refused) devices
 * whose distribution in the campaign the DCC refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/activate.h"
#include "../lib/campaign.h"
#include "../lib/config.h"
#include "../lib/cs06.h"
#include "../lib/devlist.h"
#include "../lib/hex.h"
#include "../lib/image.h"
#include "../lib/ledger.h"
#include "../lib/manifest.h"
#include "../lib/route.h"
#include "cmd.h"


/* The devices refused at distribution: marked in the list, one line each (or a JSON entry). */
struct refusals {
	struct hfw_ctx *ctx;
	const char *campaign;
	struct hfw_devlist *list;
	unsigned char *refused;		/* per list entry */
	json_t *json;			/* with --json */
	size_t n;
};

static int on_refused(void *arg, const char *device, const char *why)
{
	struct refusals *r = arg;
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct hfw_target key;
	const struct hfw_target *t;

	memset(&key, 0, sizeof(key));
	if (hfw_eui_parse(&key.eui, device, "device", &ignored) < 0)
		return 0;
	for (t = r->list->v; t < r->list->v + r->list->n; t++)
		if (!memcmp(&t->eui, &key.eui, sizeof(key.eui)))
			break;
	if (t == r->list->v + r->list->n)
		return 0;
	r->refused[t - r->list->v] = 1;
	r->n++;
	if (r->json)
		json_array_append_new(r->json, json_pack("{s:s,s:s}", "device", device, "reason", why));
	else
		fprintf(stderr, "hanfw: activate: %s: not sent: its distribution in campaign %s was refused (%s); "
			"--include-refused sends it anyway\n", device, r->campaign, why);
	return 0;
}

/* Take the devices refused at distribution in the campaign out of the list. */
static int drop_refused(struct hfw_ctx *ctx, hfw_ledger *ledger, const char *campaign, struct hfw_devlist *list,
			json_t *summary, size_t *dropped, struct hfw_error *err)
{
	struct refusals r = { ctx, campaign, list, NULL, NULL, 0 };
	size_t i, k;
	int ret;

	*dropped = 0;
	if (!(r.refused = calloc(list->n + 1, 1)) || (ctx->json && !(r.json = json_array()))) {
		free(r.refused);
		return hfw_error_oom(err);
	}
	if ((ret = hfw_campaign_refused(ledger, campaign, on_refused, &r, err)) == 0) {
		for (i = 0, k = 0; i < list->n; i++)
			if (!r.refused[i])
				list->v[k++] = list->v[i];
		list->n = k;
		*dropped = r.n;
		if (r.json)
			json_object_set(summary, "refused_at_distribution", r.json);
	}
	json_decref(r.json);
	free(r.refused);
	return ret;
}

/* --at: a whole-second time, in the future, as DUIS will carry it (UTC, Z). */
static int execution_time(char duis[32], const char *at, struct hfw_error *err)
{
	char g[HFW_GENTIME_LEN + 1];
	int64_t when;
	int ret;

	if ((ret = hfw_cs06_time_from_duis(g, &when, at, err)) < 0)
		return ret;
	if (!strcmp(g, HFW_CS06_CANCEL_GBCS))
		return hfw_error_set(err, HFW_EUSAGE, "--at %s is the cancel sentinel: say --cancel", at);
	if (when <= (int64_t)time(NULL))
		return hfw_error_set(err, HFW_EUSAGE, "--at %s is not in the future", at);
	snprintf(duis, 32, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", g, g + 4, g + 6, g + 8, g + 10, g + 12);
	return 0;
}

static int run(const void *arg, struct hfw_flow_result *results, size_t n, size_t *counts, struct hfw_error *err)
{
	return hfw_activation_run(arg, results, n, counts, err);
}

int cmd_activate(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *devices_file = NULL, *estate_file = NULL, *hash_text = NULL, *image_path = NULL, *at = NULL;
	const char *in_flight_text = NULL, *rate_text = NULL, *out_dir = NULL, *campaign = NULL;
	int cancel = 0, dry_run = 0, insecure = 0, include_refused = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "devices", &devices_file, "FILE", "devices, one per line: EUI [TYPE] ('-': standard input)"),
		HFW_OPT_STRING(0, "estate", &estate_file, "FILE", "estate whose device types are checked"),
		HFW_OPT_STRING(0, "hash", &hash_text, "HEX64", "SHA-256 of the Manufacturer Image to activate"),
		HFW_OPT_STRING(0, "image", &image_path, "IMAGE", "take the hash from this packaged image's manifest"),
		HFW_OPT_STRING(0, "at", &at, "ISO8601", "activate at this future time (e.g. 2030-01-15T09:00:00Z)"),
		HFW_OPT_FLAG(0, "cancel", &cancel, "cancel a future-dated activation"),
		HFW_OPT_STRING(0, "max-in-flight", &in_flight_text, "N", "devices in progress at once (default 16, at most 256)"),
		HFW_OPT_STRING(0, "rate", &rate_text, "PER_SECOND", "start at most this many devices a second (default: no limit)"),
		HFW_OPT_FLAG(0, "dry-run", &dry_run, "sign the transform requests and write them to -o DIR instead of sending"),
		HFW_OPT_STRING('o', "output", &out_dir, "DIR", "where --dry-run writes the requests"),
		HFW_OPT_STRING(0, "campaign", &campaign, "NAME", "the campaign (default: the image's TYPE-VERSION, or the one that distributed the hash)"),
		HFW_OPT_FLAG(0, "include-refused", &include_refused, "send also to devices whose distribution in the campaign was refused"),
		HFW_OPT_FLAG(0, "insecure", &insecure, "do not verify the adapter's TLS certificate (testing only)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"activate (EUI... | --devices FILE|-) (--hash HEX64 | --image IMAGE) [--at ISO8601 | --cancel]\n"
		"                [--estate FILE] [--max-in-flight N] [--rate PER_SECOND] [--campaign NAME] [--include-refused]\n"
		"                [--dry-run -o DIR] [--json]",
		"Activate firmware (SR 11.3) on each device: transform, check the DCC's pre-command against what\n"
		"was asked, sign it, send it.  A pre-command that is not exactly ours is refused and never signed.\n"
		"A device whose distribution in the campaign was refused is not sent to (--include-refused to).",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_activation_options ao;
	struct hfw_devlist list = HFW_DEVLIST_INIT;
	struct cmd_session *sess = &ctx->session;
	struct hfw_manifest m;
	enum cmd_parse pr;
	json_t *summary = NULL;
	size_t i, dropped = 0;
	char duis_time[32], campaign_name[80] = "", what[64];
	int n, gravest, ret = HFW_EXIT_OK;

	memset(&ao, 0, sizeof(ao));
	memset(&m, 0, sizeof(m));
	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n < 1 && !devices_file)
		return cmd_usage_error(ctx, "expected devices: EUI... or --devices FILE (see --help)");
	if (!!hash_text == !!image_path)
		return cmd_usage_error(ctx, "give exactly one of --hash HEX64 and --image IMAGE");
	if (at && cancel)
		return cmd_usage_error(ctx, "--at and --cancel do not go together");
	if (dry_run != !!out_dir)
		return cmd_usage_error(ctx, "--dry-run and -o DIR go together");
	if (cmd_parse_pace(ctx, in_flight_text, rate_text, &sess->in_flight, &ao.flow.rate) != PARSE_OK)
		return HFW_EXIT_USAGE;
	if (hash_text && (strlen(hash_text) != 64 || hfw_hex_decode(ao.firmware_hash, HFW_SHA256_LEN, hash_text, 64) < 0))
		return cmd_usage_error(ctx, "--hash '%.80s' is not 64 hexadecimal digits (a SHA-256)", hash_text);
	if (at && execution_time(duis_time, at, &err) < 0)
		return cmd_usage_error(ctx, "%s", err.text);
	ao.execution_datetime = at ? duis_time : cancel ? HFW_CS06_CANCEL_DUIS : NULL;

	if (out_dir && cmd_output_dir(out_dir, &err) < 0)
		goto fail;

	/* The hash: from the image's manifest, which must be for devices SR 11.3 activates. */
	if (image_path) {
		struct hfw_image img;
		uint8_t *data = NULL;
		size_t len;

		ret = hfw_manifest_load_image(&m, &data, &len, &img, image_path, &err);
		free(data);
		if (ret < 0)
			goto fail;
		if (m.type->activation != HFW_ACTIVATE_SR_11_3) {
			hfw_error_set(&err, HFW_EINPUT, "'%s' is a %s image: %s", image_path, m.type->name,
				      m.type->activation == HFW_ACTIVATE_SELF ? "the device activates it itself after transfer"
									: "nothing activates it by SR 11.3");
			goto fail;
		}
		memcpy(ao.firmware_hash, m.firmware_hash, HFW_SHA256_LEN);
		snprintf(campaign_name, sizeof(campaign_name), "%s-%s", m.type->name, m.firmware_version);
		ao.flow.device_type = m.type->name;
		ao.flow.firmware_version = m.firmware_version;
	}

	/* The devices: any whose type is known must be one SR 11.3 activates (and the image's type). */
	if (cmd_load_devices(&list, argv, (size_t)n, devices_file, estate_file, &err) < 0)
		goto fail;
	for (i = 0; i < list.n; i++) {
		const struct hfw_device_type *type = list.v[i].type;
		char eui[HFW_EUI_TEXT_MAX];

		hfw_eui_format(eui, &list.v[i].eui);
		if (type && type->activation != HFW_ACTIVATE_SR_11_3) {
			hfw_error_set(&err, HFW_EINPUT, "device %s is a %s, which %s: nothing sent", eui, type->name,
				      type->activation == HFW_ACTIVATE_SELF ? "activates its firmware itself after transfer"
									 : "has no firmware activation by SR 11.3");
			goto fail;
		}
		if (type && image_path && type != m.type) {
			hfw_error_set(&err, HFW_EINPUT, "device %s is a %s, but '%s' is a %s image: nothing sent", eui,
				      type->name, image_path, m.type->name);
			goto fail;
		}
	}
	if (list.duplicates)
		cmd_warn(ctx, "%zu devices listed more than once are activated once", list.duplicates);

	/* Who signs (XML and GBCS), where the ledger is, and (unless dry-running) the adapter. */
	sess->insecure = insecure;
	if ((ret = cmd_setup(ctx, ctx->needs & ~(dry_run ? NEED_ADAPTER | NEED_TRUST : 0))) != 0)
		goto out;
	/*
	 * The campaign: given, the image's, the one that distributed this hash
	 * to these devices, or named after the hash.  By device: two campaigns
	 * may carry one image; devices of two of them need --campaign.
	 */
	if (!campaign && !campaign_name[0]) {
		char first[HFW_EUI_TEXT_MAX] = "";

		for (i = 0; i < list.n; i++) {
			char eui[HFW_EUI_TEXT_MAX], found[sizeof(campaign_name)];

			hfw_eui_format(eui, &list.v[i].eui);
			if (hfw_ledger_campaign_by_hash(sess->ledger, ao.firmware_hash, eui, found, sizeof(found), &err) < 0)
				goto fail;
			if (!found[0] || !strcmp(found, campaign_name))
				continue;
			if (campaign_name[0]) {
				hfw_error_set(&err, HFW_EUSAGE,
					      "devices %s and %s got this image in campaigns %s and %s: give --campaign", first,
					      eui, campaign_name, found);
				goto fail;
			}
			snprintf(campaign_name, sizeof(campaign_name), "%s", found);
			snprintf(first, sizeof(first), "%s", eui);
		}
	}
	if (!campaign_name[0])
		snprintf(campaign_name, sizeof(campaign_name), "hash-%02X%02X%02X%02X", ao.firmware_hash[0], ao.firmware_hash[1],
			 ao.firmware_hash[2], ao.firmware_hash[3]);
	ao.flow.campaign = campaign ? campaign : campaign_name;
	cmd_session_fill(sess, &ao.flow);
	ao.gbcs_key = sess->gbcs_key;
	ao.flow.dry_run_dir = out_dir;
	if (!(summary = json_pack("{s:s,s:s?,s:s}", "campaign", ao.flow.campaign, "execution_datetime", ao.execution_datetime,
				  "mode", cancel ? "cancel" : at ? "future-dated" : "immediate"))) {
		hfw_error_oom(&err);
		goto fail;
	}
	/* Devices the DCC refused the campaign's image: nothing to activate, unless the operator says so. */
	if (!include_refused && drop_refused(ctx, sess->ledger, ao.flow.campaign, &list, summary, &dropped, &err) < 0)
		goto fail;
	snprintf(what, sizeof(what), "activate (%s)", cancel ? "cancel" : at ? "future-dated" : "immediate");
	if (!list.n) {
		if (ctx->json && cmd_print_json(json_incref(summary), &err) < 0)
			goto fail;
		if (!ctx->json && !ctx->quiet)
			printf("%s: nothing sent: every device's distribution in campaign %s was refused\n", what, ao.flow.campaign);
		ret = -HFW_EPARTIAL;
		goto out;
	}
	if (cmd_run_devices(ctx, &ao.flow, run, &ao, &list, dropped, what, summary, &gravest, &err) < 0)
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
