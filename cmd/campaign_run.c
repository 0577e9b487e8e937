/*
 * campaign_run.c - "hanfw campaign run|resume|abort|status|list": the
 * options, one run of a campaign at a time (its lock), and what the
 * operator sees.  The engine (waves, gates, pacing, resume after a crash)
 * is lib/rollout.h; it tells this command what happens through callbacks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/clock.h"
#include "../lib/config.h"
#include "../lib/rollout.h"
#include "../lib/run.h"
#include "cmd.h"
#include "campaign_run.h"
#include "progress.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Counts of a campaign's devices per step, and failures and skips per reason. */
struct tally {
	size_t steps[HFW_RUN_STEPS];
	json_t *reasons, *devices;
	json_t *waves;			/* per wave (1-based, index wave - 1): devices per step */
};

static int tally_device(void *arg, const struct hfw_run_device *d)
{
	struct tally *t = arg;

	t->steps[d->step]++;
	if (d->wave > 0 && t->waves) {
		json_t *w;
		const char *name = hfw_run_step_name(d->step);

		while ((int64_t)json_array_size(t->waves) < d->wave)
			json_array_append_new(t->waves, json_pack("{s:I,s:I}", "wave", (json_int_t)json_array_size(t->waves) + 1,
								 "devices", (json_int_t)0));
		w = json_array_get(t->waves, (size_t)d->wave - 1);
		json_object_set_new(w, "devices", json_integer(json_integer_value(json_object_get(w, "devices")) + 1));
		json_object_set_new(w, name, json_integer(json_integer_value(json_object_get(w, name)) + 1));
	}
	if (d->reason && t->reasons) {
		json_t *n = json_object_get(t->reasons, d->reason);

		json_object_set_new(t->reasons, d->reason, json_integer(n ? json_integer_value(n) + 1 : 1));
	}
	if (t->devices)
		json_array_append_new(t->devices,
				      json_pack("{s:s,s:I,s:s,s:s*,s:I}", "device", d->device, "wave", (json_int_t)d->wave,
						"step", hfw_run_step_name(d->step), "reason", d->reason, "attempts",
						(json_int_t)d->attempts));
	return 0;
}

/* The status of a campaign run as JSON (schemas/campaign-status.schema.json). */
static int status_json(hfw_ledger *l, const struct hfw_run_campaign *c, int with_devices, json_t **out,
		       struct hfw_error *err)
{
	struct tally t;
	json_t *steps = json_object(), *o;
	size_t i;

	memset(&t, 0, sizeof(t));
	t.reasons = json_object();
	t.waves = json_array();
	t.devices = with_devices ? json_array() : NULL;
	if (hfw_run_each_device(l, c->name, 0, tally_device, &t, err) < 0) {
		json_decref(steps);
		json_decref(t.reasons);
		json_decref(t.devices);
		json_decref(t.waves);
		return err->code;
	}
	for (i = 0; i < HFW_RUN_STEPS; i++)
		json_object_set_new(steps, hfw_run_step_name((enum hfw_run_step)i), json_integer((json_int_t)t.steps[i]));
	o = json_pack("{s:s,s:s,s:s,s:s*,s:I,s:I,s:o,s:o,s:o}", "campaign", c->name, "plan", c->plan_path, "state",
		      c->state, "reason", c->reason[0] ? c->reason : NULL, "wave", (json_int_t)c->wave, "gate_passed",
		      (json_int_t)c->gate_passed, "steps", steps, "waves", t.waves, "reasons", t.reasons);
	if (!o) {
		json_decref(t.devices);
		return hfw_error_oom(err);
	}
	if (t.devices)
		json_object_set_new(o, "devices", t.devices);
	*out = o;
	return 0;
}

/* The percentage options: 0 to 100. */
static int parse_percent(const struct hfw_ctx *ctx, const char *option, const char *text, double *out)
{
	unsigned long long x;

	if (!text)
		return 0;
	if (cmd_parse_uint(ctx, option, text, 100, &x) != PARSE_OK)
		return -1;
	*out = (double)x / 100.0;
	return 0;
}

/*
 * What the engine says as it goes.  Not a terminal: one line per event on
 * stderr.  A terminal: one status line (progress.h) redrawn in place at
 * most twice a second, the events that matter to the operator printed
 * above it (a line per device done or per request sent would scroll the
 * status away), and a newline after it before anything else is printed.
 */
#define RUN_SAMPLES 256

struct run_out {
	const struct hfw_ctx *ctx;
	const char *name;
	int tty;			/* stderr is a terminal and not -q */
	int shown;			/* the status line is on the screen (no newline after it yet) */
	int have;			/* last holds a round's progress */
	uint64_t drawn_ms;
	struct hfw_rollout_progress last;
	int64_t wave;			/* of the last round */
	uint64_t base;			/* finished in the waves before it */
	struct cmd_progress_sample samples[RUN_SAMPLES];
	size_t nsamples;
};

static void status_draw(struct run_out *ro, const char *state)
{
	char line[512];

	cmd_progress_format(line, sizeof(line), &ro->last,
			    cmd_progress_rate(ro->samples, ro->nsamples, hfw_now_ms()), state);
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	ro->shown = 1;
	ro->drawn_ms = hfw_now_ms();
}

/* Before any other line on stderr: the status line ends with a newline (state: the final one's). */
static void status_end(struct run_out *ro, const char *state)
{
	if (!ro->tty || !ro->have)
		return;
	if (state)
		status_draw(ro, state);
	if (ro->shown)
		fputc('\n', stderr);
	ro->shown = 0;
}

static void run_event(void *arg, enum hfw_rollout_event ev, const char *line)
{
	struct run_out *ro = arg;

	if (ro->ctx->quiet)
		return;
	if (ro->tty) {
		if (ev == HFW_ROLLOUT_DEVICE_DONE || ev == HFW_ROLLOUT_SENDING || ev == HFW_ROLLOUT_PACED)
			return;
		if (ro->shown)
			fputs("\r\033[K", stderr);
		ro->shown = 0;
	}
	fprintf(stderr, "hanfw: campaign %s: %s\n", ro->name, line);
}

static void run_progress(void *arg, const struct hfw_rollout_progress *p)
{
	struct run_out *ro = arg;
	uint64_t now = hfw_now_ms(), finished;

	if (!ro->tty)
		return;
	if (ro->have && p->wave != ro->wave)
		ro->base += ro->last.steps[HFW_RUN_DONE] + ro->last.steps[HFW_RUN_FAILED] + ro->last.steps[HFW_RUN_LEFT];
	ro->wave = p->wave;
	ro->last = *p;
	ro->have = 1;
	finished = ro->base + p->steps[HFW_RUN_DONE] + p->steps[HFW_RUN_FAILED] + p->steps[HFW_RUN_LEFT];
	if (ro->nsamples == RUN_SAMPLES) {
		memmove(ro->samples, ro->samples + 1, (RUN_SAMPLES - 1) * sizeof(ro->samples[0]));
		ro->nsamples--;
	}
	ro->samples[ro->nsamples].ms = now;
	ro->samples[ro->nsamples++].finished = finished;
	if (!ro->shown || now - ro->drawn_ms >= 500 || p->paused)
		status_draw(ro, NULL);
}

/* run and resume: options, the campaign's lock, the engine, the report. */
static int run_common(struct hfw_ctx *ctx, const char *plan_path, const char *name, int resume,
		      const char *canary_text, const char *wave_text, const char *timeout_text, const char *poll_text,
		      const char *until_text)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct cmd_session *sess = &ctx->session;
	struct hfw_rollout_options o;
	struct hfw_rollout_start s;
	struct run_out out;
	hfw_rollout *r = NULL;
	const struct hfw_run_campaign *c;
	unsigned long long x;
	hfw_ledger_lock *lock = NULL;
	int ret;

	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	memset(&out, 0, sizeof(out));
	out.ctx = ctx;
	out.name = name;
	out.tty = !ctx->quiet && isatty(STDERR_FILENO);
	o.poll_ms = 1000;
	o.max_attempts = 8;
	s.name = name;
	s.plan_path = plan_path;
	s.resume = resume;
	s.min_canary = 0.99;
	s.min_wave = 0.95;
	s.wave_timeout_s = 7 * 24 * 3600;
	if (parse_percent(ctx, "canary-success", canary_text, &s.min_canary) < 0 ||
	    parse_percent(ctx, "wave-success", wave_text, &s.min_wave) < 0)
		return HFW_EXIT_USAGE;
	if (timeout_text) {
		if (cmd_parse_uint(ctx, "wave-timeout", timeout_text, 365ull * 24 * 3600, &x) != PARSE_OK)
			return HFW_EXIT_USAGE;
		if (!x)
			return cmd_usage_error(ctx, "--wave-timeout must be at least 1 second");
		s.wave_timeout_s = (int64_t)x;
	}
	if (poll_text) {
		if (cmd_parse_uint(ctx, "poll-ms", poll_text, 3600000, &x) != PARSE_OK)
			return HFW_EXIT_USAGE;
		o.poll_ms = x ? (long)x : 1;
	}
	if (until_text) {
		if (!strcmp(until_text, "canary"))
			o.until = 1;
		else if (!strncmp(until_text, "wave-", 5) && until_text[5] &&
			 cmd_parse_uint(ctx, "until", until_text + 5, 1000000, &x) == PARSE_OK && x > 0)
			o.until = (int64_t)x;
		else
			return cmd_usage_error(ctx, "--until: '%.40s' is not a stage (canary, or wave-N)", until_text);
	}
	sess->in_flight = CMD_DEFAULT_IN_FLIGHT;
	sess->both = 1;
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)
		return ret;
	o.ledger = sess->ledger;
	o.cfg = sess->cfg;
	cmd_session_fill(sess, &o.flow);
	o.transport = sess->transport;
	o.gbcs_key = sess->gbcs_key;
	o.cb.event = run_event;
	o.cb.progress = run_progress;
	o.cb.arg = &out;
	if (sess->set.dcc_eui && hfw_eui_parse(&o.dcc, sess->set.dcc_eui, "dcc_eui", &err) < 0)
		goto fail;
	/* One run of a campaign at a time, on the run's own ledger handle (ledger.h). */
	if (hfw_ledger_lock_campaign(sess->ledger, name, &lock, &err) < 0)
		goto fail;
	if (hfw_rollout_open(&r, &o, &s, &err) < 0)
		goto fail;
	ret = hfw_rollout_run(r, &err);
	status_end(&out, hfw_rollout_campaign(r)->state);
	if (ret < 0)
		goto fail;
	c = hfw_rollout_campaign(r);
	{
		json_t *st = NULL;

		if (status_json(sess->ledger, c, 0, &st, &err) < 0)
			goto fail;
		if (ctx->json) {
			if (cmd_print_json(st, &err) < 0)
				goto fail;
		} else {
			if (!ctx->quiet)
				printf("campaign %s: %s: %" JSON_INTEGER_FORMAT " done, %" JSON_INTEGER_FORMAT " failed, %" JSON_INTEGER_FORMAT " skipped\n", c->name,
				       c->state, json_integer_value(json_object_get(json_object_get(st, "steps"), "done")),
				       json_integer_value(json_object_get(json_object_get(st, "steps"), "failed")),
				       json_integer_value(json_object_get(json_object_get(st, "steps"), "skipped")));
			ret = json_integer_value(json_object_get(json_object_get(st, "steps"), "failed")) ? -HFW_EPARTIAL
													    : HFW_EXIT_OK;
			json_decref(st);
			goto out;
		}
	}
	ret = HFW_EXIT_OK;
	goto out;
fail:
	ret = cmd_report(&err);
out:
	hfw_rollout_free(r);
	hfw_ledger_unlock(lock);
	return ret;
}

/* "1 h 20 min", "45 s": a lower bound, for people. */
static void print_duration(int64_t s)
{
	if (s >= 3600)
		printf("%" PRId64 " h %" PRId64 " min", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		printf("%" PRId64 " min %" PRId64 " s", s / 60, s % 60);
	else
		printf("%" PRId64 " s", s);
}

static void print_requests(const json_t *req)
{
	const char *k;
	json_t *v;

	const char *sep = " ";

	json_object_foreach((json_t *)req, k, v) {
		printf("%sSR %s %" JSON_INTEGER_FORMAT, sep, k, json_integer_value(v));
		sep = ", ";
	}
}

/*
 * campaign run --dry-run: check what the run checks first and say what it
 * would send, wave by wave, and how long the budgets make it at the least.
 * No ledger is opened (none made), nothing signed, nothing sent.
 */
static int run_dry(struct hfw_ctx *ctx, const char *plan_path, const char *name)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct cmd_session *sess = &ctx->session;
	struct hfw_rollout_options o;
	json_t *res = NULL, *w;
	struct hfw_eui dcc;
	size_t i;
	int ret;

	if ((ret = cmd_setup(ctx, NEED_CONFIG | NEED_USER | NEED_SIGNER | NEED_GBCS_KEY | NEED_TRUST)) != 0)
		return ret;
	/* The settings the run opens that a dry run leaves closed: there all the same. */
	if (!hfw_config_get(sess->cfg, HFW_SET_ENDPOINT))
		return cmd_setting_missing(ctx, HFW_SET_ENDPOINT, &err), cmd_report(&err);
	if (!hfw_config_get(sess->cfg, HFW_SET_LEDGER))
		return cmd_setting_missing(ctx, HFW_SET_LEDGER, &err), cmd_report(&err);
	if (!sess->set.dcc_eui)
		return cmd_setting_missing(ctx, HFW_SET_DCC_EUI, &err), cmd_report(&err);
	if (hfw_eui_parse(&dcc, sess->set.dcc_eui, "dcc_eui", &err) < 0)
		return cmd_report(&err);
	memset(&o, 0, sizeof(o));
	o.cfg = sess->cfg;
	if (hfw_rollout_dry_run(&o, plan_path, &res, &err) < 0)
		return cmd_report(&err);
	json_object_set_new(res, "campaign", json_string(name));
	if (ctx->json)
		return cmd_print_json(res, &err) < 0 ? cmd_report(&err) : HFW_EXIT_OK;
	if (!ctx->quiet) {
		printf("campaign %s: dry run of '%s' (SHA-256 %.16s...): %zu waves, %" JSON_INTEGER_FORMAT
		       " devices, %" JSON_INTEGER_FORMAT " skipped; nothing written, signed or sent\n", name, plan_path,
		       json_string_value(json_object_get(res, "plan_sha256")), json_array_size(json_object_get(res, "waves")),
		       json_integer_value(json_object_get(res, "devices")), json_integer_value(json_object_get(res, "skipped")));
		json_array_foreach(json_object_get(res, "waves"), i, w) {
			printf("  wave %-3" JSON_INTEGER_FORMAT " devices %-7" JSON_INTEGER_FORMAT " requests:",
			       json_integer_value(json_object_get(w, "wave")), json_integer_value(json_object_get(w, "devices")));
			print_requests(json_object_get(w, "requests"));
			printf("; budgets: at least ");
			print_duration(json_integer_value(json_object_get(w, "budget_s")));
			printf("\n");
		}
		if ((w = json_object_get(res, "activation")))
			printf("  activation window: every SR 11.3 future-dated to %s UTC daily, at least %" JSON_INTEGER_FORMAT
			       " s ahead (next: %s)\n", json_string_value(json_object_get(w, "at")),
			       json_integer_value(json_object_get(w, "lead_s")), json_string_value(json_object_get(w, "next")));
		printf("  campaign  requests:");
		print_requests(json_object_get(res, "requests"));
		printf("; budgets: at least ");
		print_duration(json_integer_value(json_object_get(res, "budget_s")));
		printf(" (waiting for the devices comes on top)\n");
	}
	json_decref(res);
	return HFW_EXIT_OK;
}

/* The campaign's name: --name, else the plan file's name without its directory and ".json". */
static void default_name(char *out, size_t size, const char *plan)
{
	const char *base = strrchr(plan, '/');
	size_t n;

	base = base ? base + 1 : plan;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".json"))
		n -= 5;
	snprintf(out, size, "%.*s", (int)n, base);
}

int campaign_run(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *name = NULL, *canary = NULL, *wave = NULL, *timeout = NULL, *poll = NULL, *until = NULL;
	int dry_run = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "name", &name, "NAME", "the campaign's name (default: the plan's file name without .json)"),
		HFW_OPT_STRING(0, "canary-success", &canary, "PCT", "the canary wave's gate: at least PCT% at their goal (default 99)"),
		HFW_OPT_STRING(0, "wave-success", &wave, "PCT", "every later wave's gate (default 95)"),
		HFW_OPT_STRING(0, "wave-timeout", &timeout, "S", "a device not at its goal S seconds after its wave started fails (default 7 days)"),
		HFW_OPT_STRING(0, "poll-ms", &poll, "MS", "how often the ledger is read for what came back (default 1000)"),
		HFW_OPT_STRING(0, "until", &until, "STAGE", "stop once this wave's gate passed: canary, or wave-N (run again to go on)"),
		HFW_OPT_FLAG(0, "dry-run", &dry_run, "check the plan and settings and say what each wave would send and how long the budgets make it; nothing written, signed or sent"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"campaign run PLAN [--name NAME] [--canary-success PCT] [--wave-success PCT] [--wave-timeout S]\n"
		"                    [--poll-ms MS] [--until STAGE] [--dry-run] [--json]",
		"Execute a plan wave by wave: distribute, wait for transfer and verification, activate where the\n"
		"type needs SR 11.3, confirm versions; halt when a wave breaches its gate.  Run it again after a\n"
		"crash: it continues where it was.",
	};
	char def[HFW_RUN_NAME_MAX];
	enum cmd_parse pr;
	int n;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 1)
		return cmd_usage_error(ctx, "give one PLAN (hanfw campaign plan -o PLAN)");
	if (name && (!*name || strlen(name) >= HFW_RUN_NAME_MAX))
		return cmd_usage_error(ctx, "--name must be 1 to %d characters", HFW_RUN_NAME_MAX - 1);
	default_name(def, sizeof(def), argv[0]);
	if (dry_run)
		return run_dry(ctx, argv[0], name ? name : def);
	return run_common(ctx, argv[0], name ? name : def, 0, canary, wave, timeout, poll, until);
}

int campaign_resume(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *poll = NULL, *until = NULL;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "poll-ms", &poll, "MS", "how often the ledger is read for what came back (default 1000)"),
		HFW_OPT_STRING(0, "until", &until, "STAGE", "stop once this wave's gate passed: canary, or wave-N (run again to go on)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"campaign resume NAME [--poll-ms MS] [--until STAGE] [--json]",
		"Continue a halted or paused campaign after a human decision: a halted wave's gate is overridden; a paused one's quarantined requests are of unknown fate (never sent again).",
	};
	enum cmd_parse pr;
	int n;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 1)
		return cmd_usage_error(ctx, "give the campaign's NAME");
	return run_common(ctx, NULL, argv[0], 1, NULL, NULL, NULL, poll, until);
}

/*
 * "campaign abort NAME": the campaign is aborted first (a run stops at its
 * next round, nothing more is sent), then each device whose future-dated
 * activation is scheduled and not yet executed is sent the SR 11.3 cancel.
 * Only then are the signer, GBCS key and adapter set up (and the campaign's
 * lock taken, waiting for a run to stop): an abort with nothing scheduled
 * needs no keys, as before.
 */
int campaign_abort(int argc, char **argv, struct hfw_ctx *ctx)
{
	const struct hfw_option opts[] = { HFW_OPT_END() };
	static const struct hfw_usage usage = {
		"campaign abort NAME",
		"Stop a campaign: nothing more is sent, by this or any later run; every future-dated activation\n"
		"not yet executed is cancelled (SR 11.3 with the far-future sentinel).",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct cmd_session *sess = &ctx->session;
	struct hfw_run_campaign c;
	struct hfw_rollout_cancel *v = NULL;
	struct hfw_flow_result *res = NULL;
	struct hfw_rollout_options o;
	enum cmd_parse pr;
	size_t i, ncancel = 0, sent = 0;
	hfw_ledger_lock *lock = NULL;
	int n, ret;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 1)
		return cmd_usage_error(ctx, "give the campaign's NAME");
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)
		return ret;
	if (hfw_rollout_abort(sess->ledger, argv[0], &c, &err) < 0)
		return cmd_report(&err);
	/*
	 * A run still sending stops at its next round: wait for it (the
	 * campaign's lock), so what its last round scheduled is seen too.
	 */
	if (hfw_ledger_wait_campaign(sess->ledger, c.name, &lock, &err) < 0 ||
	    hfw_rollout_cancels_due(sess->ledger, c.name, &v, &ncancel, &err) < 0)
		goto fail;
	if (ncancel) {
		sess->in_flight = CMD_DEFAULT_IN_FLIGHT;
		sess->both = 1;
		if ((ret = cmd_setup(ctx, NEED_FLOW | NEED_GBCS_KEY)) != 0)
			goto out;
		memset(&o, 0, sizeof(o));
		o.ledger = sess->ledger;
		o.cfg = sess->cfg;
		cmd_session_fill(sess, &o.flow);
		o.gbcs_key = sess->gbcs_key;
		if (hfw_rollout_cancel(&o, c.name, v, ncancel, &res, &err) < 0)
			goto fail;
		for (i = 0; i < ncancel; i++) {
			if (res[i].outcome == HFW_FLOW_SENT) {
				sent++;
				continue;
			}
			/* Always said, -q or not: a device whose activation may still happen. */
			fprintf(stderr, "hanfw: campaign %s: %s: cancel not sent: %s%s%s%s%s (its future-dated activation may still "
				"happen: hanfw activate %s --cancel --campaign %s)\n", c.name, v[i].device,
				hfw_flow_outcome_name(res[i].outcome), res[i].code[0] ? " " : "", res[i].code,
				res[i].detail ? ": " : "", res[i].detail ? res[i].detail : "", v[i].device, c.name);
		}
	}
	if (!ctx->quiet)
		printf("campaign %s: aborted: nothing more is sent; %zu future-dated activations cancelled, %zu not\n", c.name,
		       sent, ncancel - sent);
	ret = sent == ncancel ? HFW_EXIT_OK : -HFW_EPARTIAL;
	goto out;
fail:
	ret = cmd_report(&err);
out:
	if (res)
		hfw_flow_results_release(res, ncancel);
	free(res);
	free(v);
	hfw_ledger_unlock(lock);
	return ret;
}

static int is_final(const char *state)
{
	return !strcmp(state, "completed") || !strcmp(state, "halted") || !strcmp(state, "aborted") ||
	       !strcmp(state, "paused");
}

int campaign_status(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *until = NULL, *timeout_text = NULL;
	int wait = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_FLAG(0, "wait", &wait, "wait until the campaign is completed, halted, paused or aborted (or --until)"),
		HFW_OPT_CHOICE(0, "until", &until, "STATE", "with --wait: until the campaign is in STATE",
			       "running halted paused completed aborted"),
		HFW_OPT_STRING(0, "timeout", &timeout_text, "S", "with --wait: give up after S seconds (exit 7)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"campaign status NAME [--json] [--wait [--until STATE] [--timeout S]]",
		"Print a campaign run's state, its devices per step and the reasons of failures and skips.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_run_campaign c;
	unsigned long long timeout = 0;
	uint64_t start = hfw_now_ms();
	json_t *o = NULL;
	enum cmd_parse pr;
	int n, ret;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 1)
		return cmd_usage_error(ctx, "give the campaign's NAME");
	if ((until || timeout_text) && !wait)
		return cmd_usage_error(ctx, "--until and --timeout go with --wait");
	if (until && strcmp(until, "running") && !is_final(until))
		return cmd_usage_error(ctx, "--until: '%s' is not a campaign state (running halted paused completed aborted)",
				       until);
	if (timeout_text && cmd_parse_uint(ctx, "timeout", timeout_text, 365ull * 24 * 3600, &timeout) != PARSE_OK)
		return HFW_EXIT_USAGE;
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)
		return ret;
	for (;;) {
		if (hfw_run_find(ctx->session.ledger, argv[0], &c, &err) < 0)
			return cmd_report(&err);
		if (!wait || (until ? !strcmp(c.state, until) : is_final(c.state)))
			break;
		if (timeout_text && hfw_now_ms() - start >= timeout * 1000) {
			hfw_error_set(&err, HFW_ETIMEOUT, "campaign %s is still %s after %llu s", c.name, c.state, timeout);
			return cmd_report(&err);
		}
		sleep_ms(200);
	}
	if (status_json(ctx->session.ledger, &c, ctx->json || ctx->verbose, &o, &err) < 0)
		return cmd_report(&err);
	if (ctx->json) {
		if (cmd_print_json(json_incref(o), &err) < 0) {
			json_decref(o);
			return cmd_report(&err);
		}
	} else if (!ctx->quiet) {
		const char *k;
		json_t *v;
		size_t i;

		printf("campaign %s: %s%s%s (wave %" PRId64 ", gate passed through wave %" PRId64 ")\n", c.name, c.state,
		       c.reason[0] ? ": " : "", c.reason, c.wave, c.gate_passed);
		json_object_foreach(json_object_get(o, "steps"), k, v)
			if (json_integer_value(v))
				printf("  %-14s %" JSON_INTEGER_FORMAT "\n", k, json_integer_value(v));
		json_array_foreach(json_object_get(o, "waves"), i, v) {
			const char *sk;
			json_t *sv;

			printf("  wave %-3zu", i + 1);
			json_object_foreach(v, sk, sv)
				if (strcmp(sk, "wave") != 0)
					printf(" %s %" JSON_INTEGER_FORMAT, sk, json_integer_value(sv));
			printf("\n");
		}
		json_object_foreach(json_object_get(o, "reasons"), k, v)
			printf("  reason %-30s %" JSON_INTEGER_FORMAT "\n", k, json_integer_value(v));
	}
	ret = !strcmp(c.state, "halted") || !strcmp(c.state, "aborted") || !strcmp(c.state, "paused") ? -HFW_EHALTED
	      : json_integer_value(json_object_get(json_object_get(o, "steps"), "failed")) ? -HFW_EPARTIAL
											   : HFW_EXIT_OK;
	if (wait && until)
		ret = HFW_EXIT_OK;
	json_decref(o);
	return ret;
}

struct list_ctx {
	struct hfw_ctx *ctx;
	json_t *list;
};

static int list_one(void *arg, const char *name)
{
	struct list_ctx *lc = arg;
	struct hfw_ctx *ctx = lc->ctx;
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_run_campaign c;
	json_t *o = NULL;
	int found;

	if (hfw_run_get(ctx->session.ledger, name, &c, &found, &err) < 0 || !found ||
	    status_json(ctx->session.ledger, &c, 0, &o, &err) < 0)
		return err.code ? err.code : HFW_ERROR;
	if (ctx->json) {
		json_array_append_new(lc->list, o);
		return 0;
	}
	printf("%-24s %-10s wave %-4" PRId64 " done %-7" JSON_INTEGER_FORMAT " failed %-7" JSON_INTEGER_FORMAT
	       " skipped %" JSON_INTEGER_FORMAT "\n", c.name, c.state, c.wave,
	       json_integer_value(json_object_get(json_object_get(o, "steps"), "done")),
	       json_integer_value(json_object_get(json_object_get(o, "steps"), "failed")),
	       json_integer_value(json_object_get(json_object_get(o, "steps"), "skipped")));
	json_decref(o);
	return 0;
}

int campaign_list(int argc, char **argv, struct hfw_ctx *ctx)
{
	const struct hfw_option opts[] = { HFW_OPT_END() };
	static const struct hfw_usage usage = {
		"campaign list [--json]",
		"List every campaign run in the ledger: its state, wave and devices done, failed, skipped.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct list_ctx lc = { ctx, NULL };
	enum cmd_parse pr;
	int n, ret;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 0)
		return cmd_usage_error(ctx, "campaign list takes no arguments");
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)
		return ret;
	if (ctx->json && !(lc.list = json_array()))
		return hfw_error_oom(&err), cmd_report(&err);
	if ((ret = hfw_run_each_name(ctx->session.ledger, list_one, &lc, &err)) < 0) {
		if (!err.code)
			hfw_error_set(&err, ret, "cannot list the campaign runs");
		json_decref(lc.list);
		return cmd_report(&err);
	}
	if (ctx->json && cmd_print_json(json_pack("{s:o}", "campaigns", lc.list), &err) < 0)
		return cmd_report(&err);
	return HFW_EXIT_OK;
}
