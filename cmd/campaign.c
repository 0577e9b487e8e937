/*
 * campaign.c - "hanfw campaign": a campaign over an estate.  "plan" decides
 * for every device of the estate whether and when it is updated, and why
 * not (lib/plan.h), and writes the plan that later verbs follow.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../lib/estate.h"
#include "../lib/fileio.h"
#include "../lib/hex.h"
#include "../lib/plan.h"
#include "../lib/products.h"
#include "../lib/report.h"
#include "cmd.h"
#include "campaign_run.h"

static int sink_atomic(void *arg, const char *data, size_t len, struct hfw_error *err)
{
	return hfw_atomic_write(arg, data, len, err);
}

static int sink_stdout(void *arg, const char *data, size_t len, struct hfw_error *err)
{
	(void)arg;
	if (fwrite(data, 1, len, stdout) != len)
		return hfw_error_set(err, HFW_EIO, "cannot write standard output");
	return 0;
}

/* The estate's SHA-256, computed on the other core while the estate is read. */
struct hash_job {
	const char *path;
	uint8_t sha256[HFW_SHA256_LEN];
	struct hfw_error err;
	int ret;
};

static void *hash_file(void *arg)
{
	struct hash_job *j = arg;

	j->ret = hfw_plan_file_sha256(j->sha256, j->path, &j->err);
	return NULL;
}

static void print_decision(const struct hfw_ctx *ctx, const struct hfw_plan_decision *d, const hfw_plan *plan)
{
	char eui[HFW_EUI_TEXT_MAX];
	size_t i;

	hfw_eui_format(eui, &d->device->eui);
	if (ctx->json) {
		struct hfw_error err = HFW_ERROR_INIT;
		json_t *facts = json_object(), *o;

		for (i = 0; i < d->n_facts; i++)
			json_object_set_new(facts, d->facts[i].name,
					    d->facts[i].is_number ? json_integer(strtoll(d->facts[i].value, NULL, 10))
								  : json_string(d->facts[i].value));
		o = json_pack("{s:s, s:s, s:s, s:o}", "eui", eui, "device_type", d->device->type->name, "decision",
			      d->reason == HFW_PLAN_INCLUDED ? "included" : "skipped", "facts", facts);
		if (o && d->reason == HFW_PLAN_INCLUDED) {
			json_object_set_new(o, "wave", json_integer((json_int_t)d->wave));
			json_object_set_new(o, "image", json_integer(d->image));
		} else if (o) {
			json_object_set_new(o, "reason", json_string(hfw_plan_reason_name(d->reason)));
		}
		if (cmd_print_json(o, &err) < 0)
			cmd_report(&err);
		return;
	}
	if (d->reason == HFW_PLAN_INCLUDED)
		printf("%s %s: wave %zu%s, image %d\n", eui, d->device->type->name, d->wave,
		       d->wave == 1 ? " (canary)" : "", d->image);
	else
		printf("%s %s: skipped: %s\n", eui, d->device->type->name, hfw_plan_reason_name(d->reason));
	for (i = 0; i < d->n_facts; i++)
		printf("  %s: %s\n", d->facts[i].name, d->facts[i].value);
	(void)plan;
}

/* The summary: counts per reason and per wave (text, or --json: schemas/campaign-plan.schema.json). */
static int print_summary(const struct hfw_ctx *ctx, const hfw_plan *plan, const char *out)
{
	const enum hfw_plan_reason *prec = hfw_plan_precedence();
	uint64_t total = hfw_plan_reason_count(plan, HFW_PLAN_INCLUDED), skipped = 0;
	size_t i;

	for (i = 0; i < HFW_PLAN_REASON_COUNT - 1; i++)
		skipped += hfw_plan_reason_count(plan, prec[i]);
	if (ctx->json) {
		struct hfw_error err = HFW_ERROR_INIT;
		json_t *reasons = json_object(), *waves = json_array(), *o;

		for (i = 0; i < HFW_PLAN_REASON_COUNT - 1; i++)
			json_object_set_new(reasons, hfw_plan_reason_name(prec[i]),
					    json_integer((json_int_t)hfw_plan_reason_count(plan, prec[i])));
		for (i = 1; i <= hfw_plan_wave_count(plan); i++)
			json_array_append_new(waves, json_pack("{s:I, s:I}", "wave", (json_int_t)i, "devices",
							       (json_int_t)hfw_plan_wave_size(plan, i)));
		o = json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:s*}", "devices", (json_int_t)(total + skipped), "included",
			      (json_int_t)total, "skipped", (json_int_t)skipped, "canary", (json_int_t)hfw_plan_canary(plan),
			      "reasons", reasons, "waves", waves, "plan", out);
		return cmd_print_json(o, &err) < 0 ? cmd_report(&err) : HFW_EXIT_OK;
	}
	if (ctx->quiet)
		return HFW_EXIT_OK;
	printf("%" PRIu64 " devices: %" PRIu64 " included in %zu waves, %" PRIu64 " skipped\n", total + skipped, total,
	       hfw_plan_wave_count(plan), skipped);
	for (i = 1; i <= hfw_plan_wave_count(plan); i++)
		printf("  wave %zu: %" PRIu64 " devices%s\n", i, hfw_plan_wave_size(plan, i), i == 1 ? " (canary)" : "");
	for (i = 0; i < HFW_PLAN_REASON_COUNT - 1; i++)
		if (hfw_plan_reason_count(plan, prec[i]))
			printf("  skipped, %s: %" PRIu64 "\n", hfw_plan_reason_name(prec[i]),
			       hfw_plan_reason_count(plan, prec[i]));
	if (out && strcmp(out, "-") != 0)
		printf("plan written to '%s'\n", out);
	return HFW_EXIT_OK;
}

static int campaign_plan(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *estate_path = NULL, *products_path = NULL, *out = NULL, *explain = NULL;
	const char *canary_text = NULL, *growth_text = NULL, *max_wave_text = NULL, *activate_at = NULL;
	int allow_ihd = 0, allow_smets1 = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "estate", &estate_path, "FILE", "the estate (hanfw inventory's, or the sandbox's estate.json)"),
		HFW_OPT_STRING(0, "products", &products_path, "FILE", "the products file (device and hub models, pathways)"),
		HFW_OPT_STRING('o', "output", &out, "FILE", "write the plan here ('-': standard output, without the summary)"),
		HFW_OPT_STRING(0, "explain", &explain, "EUI", "print one device's decision and the facts it rests on"),
		HFW_OPT_FLAG(0, "allow-ihd", &allow_ihd, "plan IHDs too (out of SECMP0007's scope by default)"),
		HFW_OPT_FLAG(0, "allow-smets1", &allow_smets1,
			     "plan SMETS1 devices too (the S1SR says their updates fail or are uncertain)"),
		HFW_OPT_STRING(0, "canary", &canary_text, "N", "devices in the first wave (default 1% of those included, 1 to 100)"),
		HFW_OPT_STRING(0, "growth", &growth_text, "F", "each later wave is F times the one before (default 5)"),
		HFW_OPT_STRING(0, "max-wave", &max_wave_text, "N", "no wave larger than N devices (default: no cap)"),
		HFW_OPT_STRING(0, "activate-at", &activate_at, "HH:MM",
			       "future-date each activation (SR 11.3) to this daily time, UTC (campaign run)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"campaign plan --estate FILE --products FILE IMAGE... [-o PLAN.json] [--explain EUI]\n"
		"                     [--allow-ihd] [--allow-smets1] [--canary N] [--growth F] [--max-wave N]\n"
		"                     [--activate-at HH:MM] [--json]",
		"Decide for every device of the estate whether and in which wave it is updated with the\n"
		"images, or the one reason it is not, and write the plan.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_plan_options po = { 0 };
	struct hfw_plan_inputs in = { 0 };
	struct hfw_plan_image *images = NULL;
	struct hfw_atomic a = HFW_ATOMIC_INIT;
	hfw_products *products = NULL;
	hfw_estate *estate = NULL;
	hfw_plan *plan = NULL;
	struct hfw_eui explain_eui;
	struct hash_job job = { NULL, { 0 }, HFW_ERROR_INIT, 0 };
	pthread_t hasher;
	int hashing = 0;
	unsigned long long x;
	enum cmd_parse pr;
	int n, i, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (!estate_path || !products_path)
		return cmd_usage_error(ctx, "give --estate FILE and --products FILE");
	if (n < 1)
		return cmd_usage_error(ctx, "give at least one IMAGE");
	if (n > HFW_PLAN_MAX_IMAGES)
		return cmd_usage_error(ctx, "at most %d images in one campaign", HFW_PLAN_MAX_IMAGES);
	if (canary_text) {
		if (cmd_parse_uint(ctx, "canary", canary_text, UINT32_MAX, &x))
			return HFW_EXIT_USAGE;
		if (x == 0)
			return cmd_usage_error(ctx, "--canary must be at least 1");
		po.canary = x;
	}
	if (growth_text) {
		if (cmd_parse_uint(ctx, "growth", growth_text, 1000, &x))
			return HFW_EXIT_USAGE;
		if (x < 1)
			return cmd_usage_error(ctx, "--growth must be 1 to 1000");
		po.growth = (unsigned)x;
	}
	if (max_wave_text) {
		if (cmd_parse_uint(ctx, "max-wave", max_wave_text, UINT32_MAX, &x))
			return HFW_EXIT_USAGE;
		if (x == 0)
			return cmd_usage_error(ctx, "--max-wave must be at least 1");
		po.max_wave = x;
	}
	if (activate_at) {
		if (hfw_plan_parse_window(activate_at, "--activate-at", &po.activate_at, &err) < 0)
			return cmd_usage_error(ctx, "%s", err.text);
		po.has_window = 1;
	}
	if (explain && hfw_eui_parse(&explain_eui, explain, "--explain", &err) < 0)
		return cmd_usage_error(ctx, "%s", err.text);
	if (explain && out)
		return cmd_usage_error(ctx, "--explain prints one decision: give it without -o");
	if (out && strcmp(out, "-") == 0 && ctx->json)
		return cmd_usage_error(ctx, "-o - writes the plan to standard output: --json has nowhere to go");
	po.allow_ihd = allow_ihd;
	po.allow_smets1 = allow_smets1;
	/* Refuse an unwritable output before the work. */
	if (out && strcmp(out, "-") != 0 && hfw_output_check(NULL, out, &err) < 0)
		goto fail;

	if (hfw_products_read(&products, products_path, &err) < 0)
		goto fail;
	if (!(images = calloc((size_t)n, sizeof(*images)))) {
		hfw_error_oom(&err);
		goto fail;
	}
	for (i = 0; i < n; i++)
		if (hfw_plan_image_load(&images[i], argv[i], products, &err) < 0)
			goto fail;
	if (out) {
		job.path = estate_path;
		hashing = pthread_create(&hasher, NULL, hash_file, &job) == 0;
	}
	if (hfw_estate_read(&estate, estate_path, &err) < 0)
		goto fail;
	if (hfw_plan_make(&plan, estate, products, images, (size_t)n, &po, &err) < 0)
		goto fail;

	if (explain) {
		struct hfw_plan_decision d;

		if (hfw_plan_explain(plan, &explain_eui, &d, &err) < 0)
			goto fail;
		print_decision(ctx, &d, plan);
		goto out;
	}
	if (out) {
		in.estate_path = estate_path;
		in.products_path = products_path;
		if (hashing) {
			pthread_join(hasher, NULL);
			hashing = 0;
		} else {
			job.ret = hfw_plan_file_sha256(job.sha256, estate_path, &job.err);
		}
		if (job.ret < 0) {
			err = job.err;
			goto fail;
		}
		memcpy(in.estate_sha256, job.sha256, sizeof(in.estate_sha256));
		if (hfw_plan_file_sha256(in.products_sha256, products_path, &err) < 0)
			goto fail;
		if (strcmp(out, "-") == 0) {
			if (hfw_plan_write(plan, &in, sink_stdout, NULL, &err) < 0)
				goto fail;
			goto out;
		}
		if (hfw_atomic_open(&a, out, &err) < 0 || hfw_plan_write(plan, &in, sink_atomic, &a, &err) < 0 ||
		    hfw_atomic_commit(&a, &err) < 0)
			goto fail;
	}
	ret = print_summary(ctx, plan, out);
	goto out;
fail:
	ret = cmd_report(&err);
out:
	if (hashing)
		pthread_join(hasher, NULL);
	hfw_atomic_release(&a);
	hfw_plan_free(plan);
	hfw_estate_free(estate);
	free(images);
	hfw_products_free(products);
	return ret;
}

/*
 * "campaign report NAME --html -o FILE": the campaign's page (lib/report.h),
 * from the ledger: the campaign run's state when hanfw campaign run drove it
 * (its waves and skips are the plan's), the devices' messages always, and
 * with --plan the plan's waves and skipped devices.
 */
static int campaign_report(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *out = NULL, *plan_path = NULL, *max_text = NULL;
	int html_flag = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_FLAG(0, "html", &html_flag, "write the report as one self-contained HTML page (the only format)"),
		HFW_OPT_STRING('o', "output", &out, "FILE", "write the page here ('-': standard output)"),
		HFW_OPT_STRING(0, "plan", &plan_path, "PLAN", "the campaign's plan: its waves, and the devices it skipped with why"),
		HFW_OPT_STRING(0, "max-devices", &max_text, "N", "list at most N devices per reason (default 20)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"campaign report NAME --html -o FILE|- [--plan PLAN] [--max-devices N]",
		"Write a campaign's report as one HTML page that fetches nothing: the run's state and why, the\n"
		"funnel per wave with each wave's gate, the devices' states over time (SVG), the failure reasons\n"
		"and the devices behind each, the devices that left the campaign.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_report_options o = { HFW_REPORT_DEFAULT_MAX_DEVICES, NULL };
	unsigned long long max = HFW_REPORT_DEFAULT_MAX_DEVICES;
	hfw_report *r = NULL;
	char *html = NULL, generated[32];
	size_t len = 0;
	time_t now = time(NULL);
	struct tm tm;
	enum cmd_parse pr;
	int n, ret, run_found = 0;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 1)
		return cmd_usage_error(ctx, "expected one campaign NAME (see --help)");
	if (!html_flag || !out)
		return cmd_usage_error(ctx, "give --html and -o FILE (HTML is the only format)");
	if (max_text && (cmd_parse_uint(ctx, "max-devices", max_text, 100000, &max) != PARSE_OK || max == 0))
		return max == 0 ? cmd_usage_error(ctx, "--max-devices must be 1 to 100000") : HFW_EXIT_USAGE;
	o.max_devices = (size_t)max;
	if (gmtime_r(&now, &tm) && strftime(generated, sizeof(generated), "%Y-%m-%dT%H:%M:%SZ", &tm))
		o.generated = generated;
	if (strcmp(out, "-") != 0 && hfw_output_check(NULL, out, &err) < 0)
		goto fail;
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)	/* the ledger, read-only: never made here */
		goto done;
	/* The run state first: a plan given too then adds no second copy of the skips. */
	if (hfw_report_new(&r, argv[0], &err) < 0 || hfw_report_from_run(r, ctx->session.ledger, &run_found, &err) < 0 ||
	    hfw_report_from_ledger(r, ctx->session.ledger, &err) < 0 ||
	    (plan_path && hfw_report_read_plan(r, plan_path, &err) < 0))
		goto fail;
	/* A misspelt name must not give an empty page that looks like a campaign. */
	if (!hfw_report_count(r)) {
		hfw_error_set(&err, HFW_EINPUT, "campaign '%s' has no devices in the ledger%s: nothing to report", argv[0],
			      plan_path ? " or the plan" : "");
		goto fail;
	}
	if (hfw_report_html(r, &o, &html, &len, &err) < 0)
		goto fail;
	if (!strcmp(out, "-") ? sink_stdout(NULL, html, len, &err) < 0 : hfw_file_write_atomic(out, html, len, &err) < 0)
		goto fail;
	ret = HFW_EXIT_OK;
	goto done;
fail:
	ret = cmd_report(&err);
done:
	free(html);
	hfw_report_free(r);
	return ret;
}

int cmd_campaign(int argc, char **argv, struct hfw_ctx *ctx)
{
	static const struct hfw_verb verbs[] = {
		{ "plan", campaign_plan, "decide every device's wave, or why it is skipped, and write the plan", 0 },
		{ "report", campaign_report, "write a campaign's report: one self-contained HTML page", NEED_CONFIG | NEED_LEDGER_RO },
		/* campaign_run.c: running a plan and its state. */
		{ "run", campaign_run, "execute a plan wave by wave, halting when a wave breaches its gate",
		  NEED_FLOW | NEED_GBCS_KEY },
		{ "resume", campaign_resume, "continue a halted campaign after a decision", NEED_FLOW | NEED_GBCS_KEY },
		{ "abort", campaign_abort, "stop a campaign: nothing more is sent", NEED_CONFIG | NEED_LEDGER },
		{ "status", campaign_status, "a campaign run's state, devices per step, reasons", NEED_CONFIG | NEED_LEDGER_RO },
		{ "list", campaign_list, "every campaign run in the ledger", NEED_CONFIG | NEED_LEDGER_RO },
		{ NULL, NULL, NULL, 0 },
	};

	return cmd_run_verbs(ctx, argc, argv, verbs, "Plan a firmware campaign over an estate, and run it.");
}
