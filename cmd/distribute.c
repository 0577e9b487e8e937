/*
 * distribute.c - "hanfw distribute": send a packaged image to many devices
 * in non-critical requests (SR 11.1 for meters and HCALCS, 11.4 for PPMIDs
 * and their kin, as the image's manifest says), up to 50,000 devices each,
 * to the adapter's non-device endpoint.
 *
 * Every request is signed, counted and recorded in the ledger before it
 * leaves; every device's outcome (accepted, or which warning list the DCC
 * put it in) is recorded when the answer comes.  A request whose fate is
 * unknown is recorded as such and never silently resent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../lib/config.h"
#include "../lib/devlist.h"
#include "../lib/distribute.h"
#include "../lib/duis.h"
#include "../lib/image.h"
#include "../lib/ledger.h"
#include "../lib/manifest.h"
#include "../lib/transport.h"
#include "../lib/xmldsig.h"
#include "cmd.h"

/* What a run reports as it goes: a line per request, and the requests for --json. */
struct context {
	struct hfw_ctx *ctx;
	json_t *json;
	json_t *failed;		/* with --json: every device not accepted, with its reason */
};

/*
 * Name each device of the request that did not get the image: its EUI and
 * why (the DCC's warning list, "rejected", or the request's own fate when no
 * answer came).  One line each on stderr, even with -q; in --json, "failed".
 */
static void report_devices(struct context *c, const struct hfw_distribution_request *r)
{
	size_t i;

	if (!r->devices || !r->outcomes || !strcmp(r->state, "dry-run"))
		return;
	for (i = 0; i < r->ndevices; i++) {
		const char *why = r->outcomes[i];
		char eui[HFW_EUI_TEXT_MAX];

		if (!strcmp(why, "accepted"))
			continue;
		if (!strcmp(why, "pending"))
			why = r->state;		/* no answer about the device: the request's fate is its own */
		hfw_eui_format(eui, &r->devices[i]);
		if (c->failed)
			json_array_append_new(c->failed, json_pack("{s:s,s:s,s:s,s:s?}", "device", eui, "reason", why,
								   "request_id", r->request_id, "response_code",
								   r->response_code));
		else
			fprintf(stderr, "hanfw: distribute: %s: %s (RequestID %s%s%s)\n", eui, why, r->request_id,
				r->response_code ? ", " : "", r->response_code ? r->response_code : "");
	}
}

static void report(void *arg, const struct hfw_distribution_request *r, const struct hfw_error *err)
{
	struct context *c = arg;

	if (err)
		fprintf(stderr, "hanfw: %s\n", err->text);
	else if (!c->ctx->json && !c->ctx->quiet)
		fprintf(stderr, "hanfw: %s: %zu devices, %s%s%s\n", r->request_id, r->ndevices, r->state,
			r->response_code ? " " : "", r->response_code ? r->response_code : "");
	if (r) {
		json_array_append_new(c->json, json_pack("{s:s,s:I,s:s,s:s?}", "request_id", r->request_id, "devices",
							 (json_int_t)r->ndevices, "state", r->state, "response_code",
							 r->response_code));
		report_devices(c, r);
	}
}

int cmd_distribute(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *devices_file = NULL, *estate_file = NULL, *batch_text = NULL, *out_dir = NULL, *campaign = NULL;
	int dry_run = 0, insecure = 0, allow_ihd = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "devices", &devices_file, "FILE", "devices, one per line: EUI [TYPE] ('-': standard input)"),
		HFW_OPT_STRING(0, "estate", &estate_file, "FILE", "estate whose device types are checked against the image"),
		HFW_OPT_STRING(0, "batch", &batch_text, "N", "devices per request, at most 50000 (the DUIS limit)"),
		HFW_OPT_FLAG(0, "dry-run", &dry_run, "sign the requests and write them to -o DIR instead of sending"),
		HFW_OPT_STRING('o', "output", &out_dir, "DIR", "where --dry-run writes the requests"),
		HFW_OPT_STRING(0, "campaign", &campaign, "NAME", "the campaign the requests belong to (default: TYPE-VERSION of the image)"),
		HFW_OPT_FLAG(0, "insecure", &insecure, "do not verify the adapter's TLS certificate (testing only)"),
		HFW_OPT_FLAG(0, "allow-ihd", &allow_ihd, "send to IHDs too (IHDs are out of the DCC's firmware scope)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"distribute IMAGE [EUI...] [--devices FILE|-] [--estate FILE] [--batch N] [--campaign NAME] [--dry-run -o DIR]\n"
		"                  [--allow-ihd] [--json]",
		"Send a packaged image (its manifest says SR 11.1 or 11.4) to many devices, at most 50,000 per\n"
		"request, recording every request and every device's outcome in the ledger.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct cmd_session *sess = &ctx->session;
	struct hfw_devlist list = HFW_DEVLIST_INIT;
	struct hfw_distribution_options o;
	struct hfw_distribution_totals t;
	struct hfw_manifest m;
	struct hfw_image img;
	struct context c;
	uint8_t *image = NULL;
	size_t len = 0, k;
	unsigned long long batch = HFW_MAX_DEVICES_PER_REQUEST;
	char *json_text = NULL, campaign_name[64];
	enum cmd_parse pr;
	int n, ret = HFW_EXIT_OK;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	memset(&t, 0, sizeof(t));
	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n < 1)
		return cmd_usage_error(ctx, "expected an IMAGE (see --help)");
	if (dry_run != !!out_dir)
		return cmd_usage_error(ctx, "--dry-run and -o DIR go together");
	if (batch_text && (cmd_parse_uint(ctx, "batch", batch_text, HFW_MAX_DEVICES_PER_REQUEST, &batch) || batch == 0))
		return batch == 0 ? cmd_usage_error(ctx, "--batch must be 1 to 50000") : HFW_EXIT_USAGE;
	c.ctx = ctx;
	o.dry_run_dir = out_dir;
	o.batch = (size_t)batch;
	if (out_dir && cmd_output_dir(out_dir, &err) < 0)
		goto fail;
	if ((ret = cmd_setup(ctx, NEED_CONFIG)) != 0)
		goto out;

	/* The image, checked against its manifest: it is what the manifest says, or nothing is sent. */
	if (hfw_manifest_load_image(&m, &image, &len, &img, argv[0], &err) < 0)
		goto fail;
	o.manifest = &m;
	snprintf(campaign_name, sizeof(campaign_name), "%s-%s", m.type->name, m.firmware_version);
	o.campaign = campaign ? campaign : campaign_name;
	o.image = image;
	o.image_len = len;

	/* The devices, and their types where anything says them. */
	if (cmd_load_devices(&list, argv + 1, (size_t)n - 1, devices_file, estate_file, &err) < 0)
		goto fail;
	if (list.duplicates)
		cmd_warn(ctx, "%zu devices listed more than once are sent once", list.duplicates);
	/* IHDs are out of the DCC's firmware scope: an IHD image, or a device known to be an IHD, unless allowed. */
	if (hfw_ihd_check(m.type, NULL, allow_ihd, "nothing sent", &err) < 0)
		goto fail;
	for (k = 0; k < list.n; k++) {
		char eui[HFW_EUI_TEXT_MAX];

		hfw_eui_format(eui, &list.v[k].eui);
		if (hfw_ihd_check(list.v[k].type, eui, allow_ihd, "nothing sent", &err) < 0)
			goto fail;
	}
	if (hfw_distribution_check_types(&m, list.v, list.n, argv[0], &err) < 0)
		goto fail;

	/* Who signs, where the ledger is, and (unless dry-running) the adapter: one transport, no pool. */
	sess->insecure = insecure;
	sess->in_flight = 0;
	if ((ret = cmd_setup(ctx, ctx->needs & ~(dry_run ? NEED_ADAPTER | NEED_TRUST : 0))) != 0)
		goto out;
	if (!(c.json = json_array()) || (ctx->json && !(c.failed = json_array()))) {
		hfw_error_oom(&err);
		goto fail;
	}
	o.signer = sess->signer;
	o.ledger = sess->ledger;
	o.transport = sess->transport;
	o.trust = sess->trust;
	o.schema_version = sess->set.schema_version;
	o.user = sess->user;
	if (hfw_eui_parse(&o.dcc, sess->set.dcc_eui, "dcc_eui", &err) < 0)
		goto fail;
	o.report = report;
	o.report_arg = &c;
	if (hfw_distribution_run(&o, list.v, list.n, &t, &err) < 0) {
		ret = -err.code;	/* already reported */
		goto out;
	}
	{
		size_t refused = 0;

		for (k = 0; k < HFW_DISTRIBUTION_WARNINGS; k++)
			refused += t.refused[k];
		if (ctx->json) {
			json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "image", argv[0], "campaign", o.campaign,
					      "service_reference", hfw_route_sr(m.route), "firmware_version", m.firmware_version,
					      "devices", (json_int_t)list.n, "accepted", (json_int_t)t.accepted,
					      "refused", (json_int_t)refused, "rejected", (json_int_t)t.rejected,
					      "unknown", (json_int_t)t.unknown, "requests", c.json);

			c.json = NULL;
			if (j) {
				json_t *w = json_object();

				for (k = 0; k < HFW_DISTRIBUTION_WARNINGS; k++)
					json_object_set_new(w, hfw_distribution_warning_outcome(k),
							    json_integer((json_int_t)t.refused[k]));
				json_object_set_new(j, "refused_by_reason", w);
				json_object_set(j, "failed", c.failed);
				json_text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
				json_decref(j);
			}
			if (json_text)
				printf("%s\n", json_text);
		} else if (!ctx->quiet) {
			printf("%s (SR %s, firmware version %s): %zu devices: %zu accepted, %zu refused, %zu rejected, "
			       "%zu unknown, %zu not sent\n", argv[0], hfw_route_sr(m.route), m.firmware_version, list.n,
			       t.accepted, refused, t.rejected, t.unknown, t.unsent);
			for (k = 0; k < HFW_DISTRIBUTION_WARNINGS; k++)
				if (t.refused[k])
					printf("  %-28s %zu\n", hfw_distribution_warning_outcome(k), t.refused[k]);
		}
	}
	ret = -hfw_distribution_status(&t);
	goto out;
fail:
	ret = cmd_report(&err);
out:
	json_decref(c.json);
	json_decref(c.failed);
	free(json_text);
	hfw_devlist_release(&list);
	free(image);
	return ret;
}
