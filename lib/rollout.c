/*
 * rollout.c - the engine of "hanfw campaign run" (rollout.h): load and
 * check the plan, import it, then round after round over the current
 * wave: decide for each device (run.h), record the steps, send them
 * within the budgets, gate the wave.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "activate.h"
#include "campaign.h"
#include "clock.h"
#include "distribute.h"
#include "hex.h"
#include "image.h"
#include "manifest.h"
#include "plan.h"
#include "readversion.h"
#include "rollout.h"
#include "route.h"

/* One image of the plan, loaded: what distribute and activate need. */
struct run_image {
	struct hfw_manifest m;
	uint8_t *data;
	size_t len;
	int needs_activation;
};

/* A device of the wave being run, as the ledger has it. */
#include "redrive.h"
struct run_dev {
	char eui[HFW_EUI_TEXT_MAX];
	int64_t image, attempts;
	enum hfw_run_step step;
	int quarantine_seen;	/* a quarantine of its current step already paused the run (resumed: wait) */
};

struct hfw_rollout {
	struct hfw_rollout_options o;
	hfw_ledger *ledger;
	struct hfw_run_campaign c;
	json_t *plan;
	struct run_image *images;
	size_t nimages;
	int paced;		/* the last round held devices back for the budgets */
	int64_t nwaves;
	int completed;		/* opened completed: nothing to run */
	char pause[HFW_RUN_REASON_MAX];	/* set by a round that found a new quarantine: the run pauses */
	/* Re-drive (redrive.h): the policy, and per round each device's window and each image's open distributions. */
	struct hfw_redrive_policy redrive;
	json_t *windows;
	size_t dist_open[HFW_PLAN_MAX_IMAGES];
	/* The plan's activation window (plan.h): SR 11.3 future-dated to the next activate_at, lead_s ahead. */
	int has_window, activate_at;
	int64_t act_until_ms;	/* the latest time an activation of this wave is dated to (0: none known) */
	/* The wave's devices (reloaded each round). */
	struct run_dev *devs;
	size_t ndevs, capdevs;
};

/* After each round, to the command (defined below). */
static int progress(struct hfw_rollout *r, struct hfw_error *err);

/* One line per event, to the command's callback. */
static void say(const struct hfw_rollout *r, enum hfw_rollout_event ev, const char *fmt, ...) HFW_PRINTF(3, 4);
static void say(const struct hfw_rollout *r, enum hfw_rollout_event ev, const char *fmt, ...)
{
	char line[2 * HFW_RUN_REASON_MAX];
	va_list ap;

	if (!r->o.cb.event)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->o.cb.event(r->o.cb.arg, ev, line);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int hex_sha256(char out[65], const char *path, struct hfw_error *err)
{
	uint8_t h[HFW_SHA256_LEN];

	if (hfw_plan_file_sha256(h, path, err) < 0)
		return err->code;
	hfw_hex_encode(out, h, sizeof(h));
	return 0;
}

/* An input the plan names must be what it was when the plan was made. */
static int check_input(const json_t *in, const char *what, struct hfw_error *err)
{
	const char *path = json_string_value(json_object_get(in, "path"));
	const char *want = json_string_value(json_object_get(in, "sha256"));
	char got[65];

	if (!path || !want)
		return hfw_error_set(err, HFW_EINPUT, "the plan does not name its %s and its SHA-256", what);
	if (hex_sha256(got, path, err) < 0)
		return err->code;
	if (strcasecmp(got, want) != 0)
		return hfw_error_set(err, HFW_EINPUT,
				     "%s '%s' changed since the plan was made (SHA-256 %.16s..., the plan says %.16s...): "
				     "make a new plan", what, path, got, want);
	return 0;
}

/* Read the plan, check its format and inputs, load its images. */
static int load_plan(struct hfw_rollout *r, const char *path, struct hfw_error *err)
{
	json_error_t je;
	const json_t *inputs, *images, *v;
	const char *format;
	size_t i;

	if (!(r->plan = json_load_file(path, 0, &je)))
		return hfw_error_set(err, HFW_EINPUT, "plan '%s': %s (line %d)", path, je.text, je.line);
	format = json_string_value(json_object_get(r->plan, "format"));
	if (!format || strcmp(format, HFW_PLAN_FORMAT) != 0)
		return hfw_error_set(err, HFW_EINPUT, "'%s' is not a %s plan (hanfw campaign plan -o)", path, HFW_PLAN_FORMAT);
	if ((v = json_object_get(r->plan, "activation"))) {
		struct hfw_error why = HFW_ERROR_INIT;

		if (hfw_plan_parse_window(json_string_value(json_object_get(v, "at")), "the plan's activation window",
					  &r->activate_at, &why) < 0)
			return hfw_error_set(err, HFW_EINPUT, "plan '%s': %s", path, why.text);
		r->has_window = 1;
	}
	inputs = json_object_get(r->plan, "inputs");
	if (check_input(json_object_get(inputs, "estate"), "estate", err) < 0 ||
	    check_input(json_object_get(inputs, "products"), "products file", err) < 0)
		return err->code;
	images = json_object_get(inputs, "images");
	if (!json_is_array(images) || !json_array_size(images))
		return hfw_error_set(err, HFW_EINPUT, "plan '%s' names no images", path);
	r->nimages = json_array_size(images);
	if (!(r->images = calloc(r->nimages, sizeof(*r->images))))
		return hfw_error_oom(err);
	json_array_foreach(images, i, v) {
		struct run_image *im = &r->images[i];
		struct hfw_image img;
		const char *p = json_string_value(json_object_get(v, "path"));

		if (check_input(v, "image", err) < 0)
			return err->code;
		if (hfw_manifest_load_image(&im->m, &im->data, &im->len, &img, p, err) < 0)
			return err->code;
		im->needs_activation = im->m.type->activation == HFW_ACTIVATE_SR_11_3;
	}
	return 0;
}

/* First run of a campaign: every device of the plan into the ledger, in one transaction. */
static int import_plan(struct hfw_rollout *r, struct hfw_error *err)
{
	const json_t *wave, *req, *dev;
	size_t i, j, k;

	if (hfw_ledger_begin(r->ledger, err) < 0)
		return err->code;
	if (hfw_run_put(r->ledger, &r->c, err) < 0)
		goto fail;
	json_array_foreach(json_object_get(r->plan, "waves"), i, wave) {
		json_array_foreach(json_object_get(wave, "requests"), j, req) {
			json_array_foreach(json_object_get(req, "devices"), k, dev) {
				struct hfw_run_device d = { json_string_value(dev), json_integer_value(json_object_get(wave, "wave")),
							    json_integer_value(json_object_get(req, "image")), HFW_RUN_PENDING,
							    NULL, 0 };

				if (!d.device || d.wave < 1 || d.image < 0 || (size_t)d.image >= r->nimages) {
					hfw_error_set(err, HFW_EINPUT, "the plan's wave %zu has a malformed request", i + 1);
					goto fail;
				}
				if (hfw_run_add_device(r->ledger, r->c.name, &d, err) < 0)
					goto fail;
			}
		}
	}
	json_array_foreach(json_object_get(r->plan, "skipped"), i, dev) {
		struct hfw_run_device d = { json_string_value(json_object_get(dev, "eui")), 0, -1, HFW_RUN_SKIPPED,
					    json_string_value(json_object_get(dev, "reason")), 0 };

		if (!d.device) {
			hfw_error_set(err, HFW_EINPUT, "the plan has a skipped device without an EUI");
			goto fail;
		}
		if (hfw_run_add_device(r->ledger, r->c.name, &d, err) < 0)
			goto fail;
	}
	return hfw_ledger_commit(r->ledger, err);
fail:
	hfw_ledger_rollback(r->ledger);
	return err->code;
}

static int collect(void *arg, const struct hfw_run_device *d)
{
	struct hfw_rollout *r = arg;

	if (r->ndevs == r->capdevs) {
		size_t cap = r->capdevs ? 2 * r->capdevs : 256;
		struct run_dev *v = realloc(r->devs, cap * sizeof(*v));

		if (!v)
			return HFW_ENOMEM;
		r->devs = v;
		r->capdevs = cap;
	}
	snprintf(r->devs[r->ndevs].eui, sizeof(r->devs[r->ndevs].eui), "%s", d->device);
	r->devs[r->ndevs].image = d->image;
	r->devs[r->ndevs].step = d->step;
	r->devs[r->ndevs].attempts = d->attempts;
	r->devs[r->ndevs].quarantine_seen = d->reason && !strncmp(d->reason, "quarantined: ", 13);
	r->ndevs++;
	return 0;
}

static int load_wave(struct hfw_rollout *r, int64_t wave, struct hfw_error *err)
{
	int ret;

	r->ndevs = 0;
	if ((ret = hfw_run_each_device(r->ledger, r->c.name, wave, collect, r, err)) == HFW_ENOMEM)
		return hfw_error_oom(err);
	return ret;
}

/* The wave's rows (hfw_run_each_wave_row), for hfw_campaign_states_of. */
struct wave_rows {
	struct hfw_rollout *r;
	char dcc[HFW_EUI_TEXT_MAX];
};

static int wave_rows(void *src, int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
		     struct hfw_error *err)
{
	struct wave_rows *w = src;

	return hfw_run_each_wave_row(w->r->ledger, w->r->c.name, w->r->c.wave, w->dcc, fn, arg, err);
}

static int put_state(void *arg, const struct hfw_campaign_latest *d)
{
	json_t *o = json_pack("{s:s,s:s*,s:s*}", "state", d->state, "reason", d->reason, "cause", d->cause);

	if (!o || json_object_set_new(arg, d->device, o) < 0)
		return HFW_ENOMEM;
	return 0;
}

/*
 * The ledger's campaign state of the wave's devices: device -> {state,
 * reason, cause} (a JSON object; the outcome of its latest request, campaign.h), from the wave's rows only, so a round costs the
 * wave, not the campaign (the same states hfw_campaign_status gives).
 */
static int campaign_states(struct hfw_rollout *r, json_t **states, struct hfw_error *err)
{
	struct wave_rows w;
	int ret;

	*states = json_object();
	if (!*states)
		return hfw_error_oom(err);
	w.r = r;
	hfw_eui_format(w.dcc, &r->o.dcc);
	if ((ret = hfw_campaign_states_of(wave_rows, &w, put_state, *states, err)) == HFW_ENOMEM)
		return hfw_error_oom(err);
	return ret;
}

/* ---- re-drive (redrive.h): the run's part, called from round_once ---- */

static int add_window(void *arg, const struct hfw_run_redrive *w)
{
	json_t *counts = json_array(), *o;
	size_t i;

	for (i = 0; counts && i < HFW_RUN_REDRIVE_CLASSES; i++)
		json_array_append_new(counts, json_integer(w->redrives[i]));
	o = json_pack("{s:I,s:I,s:I,s:I,s:o*}", "step", (json_int_t)w->step, "attempts", (json_int_t)w->attempts, "seen",
		      (json_int_t)w->seen_ms, "due", (json_int_t)w->due_ms, "redrives", counts);
	return o && json_object_set_new(arg, w->device, o) == 0 ? 0 : HFW_ENOMEM;
}

/* Is a distribution state still on its way (not transferred or further, not failed)? */
static int dist_unsettled(const char *cstate)
{
	return !cstate || !strcmp(cstate, "distribution_requested") || !strcmp(cstate, "accepted") ||
	       !strcmp(cstate, "delivered_to_hub");
}

/*
 * Once a round: each device's re-drive window, and how many devices of
 * each image are still mid-distribution (a slot re-drive waits for the
 * other images' distributions to settle: the plan does not say which
 * devices share a hub, so every other image of the wave counts).
 */
static int redrive_round(struct hfw_rollout *r, json_t *states, struct hfw_error *err)
{
	size_t i;
	int ret;

	json_decref(r->windows);
	if (!(r->windows = json_object()))
		return hfw_error_oom(err);
	if ((ret = hfw_run_redrive_each(r->ledger, r->c.name, add_window, r->windows, err)) == HFW_ENOMEM)
		return hfw_error_oom(err);
	if (ret < 0)
		return ret;
	memset(r->dist_open, 0, sizeof(r->dist_open));
	for (i = 0; i < r->ndevs; i++) {
		const struct run_dev *d = &r->devs[i];

		if (d->step == HFW_RUN_DISTRIBUTE && d->image >= 0 && d->image < HFW_PLAN_MAX_IMAGES &&
		    dist_unsettled(json_string_value(json_object_get(json_object_get(states, d->eui), "state"))))
			r->dist_open[d->image]++;
	}
	return 0;
}

enum redrive_now { REDRIVE_NO, REDRIVE_WAIT, REDRIVE_SEND };

/*
 * A device whose latest request of its step was answered with a failure
 * (hfw_run_decide said FAIL): re-drive it?  REDRIVE_NO: a terminal failure,
 * or the class's limit reached (why names the class and the count);
 * REDRIVE_WAIT: its window is not over (why says what it waits for, for a
 * wave timeout); REDRIVE_SEND: send the step again now (its window is
 * forgotten).  The first time a failure is seen its window is recorded.
 */
static int redrive_due(struct hfw_rollout *r, const struct run_dev *d, const json_t *st, char *why, size_t size,
		       enum redrive_now *now_out, struct hfw_error *err)
{
	const char *cstate = json_string_value(json_object_get(st, "state"));
	const char *creason = json_string_value(json_object_get(st, "reason"));
	const char *ccause = json_string_value(json_object_get(st, "cause"));
	const json_t *win = json_object_get(r->windows, d->eui);
	int sleepy = d->image >= 0 && (size_t)d->image < r->nimages &&
		     hfw_redrive_sleepy_type(r->images[d->image].m.type->name);
	enum hfw_redrive_class cls = hfw_redrive_classify(cstate, creason, ccause, sleepy);
	int64_t now = (int64_t)hfw_now_ms(), seen = now, due;
	struct hfw_run_redrive w = { d->eui, d->step, d->attempts, 0, 0, { 0 } };
	enum hfw_redrive_verdict v;
	uint64_t done;
	size_t i;

	*now_out = REDRIVE_NO;
	why[0] = 0;
	if (cls < HFW_REDRIVE_HUB || cls >= HFW_RUN_REDRIVE_CLASSES)
		return 0;
	/* The step's re-drives so far, per class; the window opened when this failure (these attempts) was first seen. */
	if (win && json_integer_value(json_object_get(win, "step")) == (json_int_t)d->step) {
		for (i = 0; i < HFW_RUN_REDRIVE_CLASSES; i++)
			w.redrives[i] = json_integer_value(json_array_get(json_object_get(win, "redrives"), i));
		if (json_integer_value(json_object_get(win, "attempts")) == (json_int_t)d->attempts &&
		    json_integer_value(json_object_get(win, "due")))
			seen = (int64_t)json_integer_value(json_object_get(win, "seen"));
		else
			win = NULL;
	} else {
		win = NULL;
	}
	done = (uint64_t)w.redrives[cls];
	v = hfw_redrive_due(&r->redrive, cls, done, seen, now, &due);
	if (v == HFW_REDRIVE_EXHAUSTED) {
		hfw_redrive_reason(why, size, cls, cstate, creason, done);
		return 0;
	}
	if (v == HFW_REDRIVE_DUE && cls == HFW_REDRIVE_SLOT) {
		size_t im, others = 0;

		for (im = 0; im < r->nimages && im < HFW_PLAN_MAX_IMAGES; im++)
			if ((int64_t)im != d->image)
				others += r->dist_open[im];
		if (others)
			v = HFW_REDRIVE_WAIT;	/* the competing image is still on its way */
	}
	if (v == HFW_REDRIVE_WAIT) {
		snprintf(why, size, "waiting to re-drive (%s: %s%s%s)", hfw_redrive_class_name(cls), cstate,
			 creason ? " " : "", creason ? creason : "");
		*now_out = REDRIVE_WAIT;
		if (!win) {
			w.seen_ms = seen;
			w.due_ms = due ? due : 1;
			if (hfw_run_redrive_set(r->ledger, r->c.name, &w, err) < 0)
				return err->code;
			say(r, HFW_ROLLOUT_REDRIVE, "%s: %s%s%s (%s): re-drive %" PRIu64 " in %" PRId64 " s", d->eui, cstate, creason ? " " : "",
			    creason ? creason : "", hfw_redrive_class_name(cls), done + 1, (due - now + 999) / 1000);
		}
		return 0;
	}
	*now_out = REDRIVE_SEND;
	/* Counted, the window closed, in the round's transaction with the step's attempts + 1. */
	w.redrives[cls]++;
	w.attempts = d->attempts + 1;
	if (hfw_run_redrive_set(r->ledger, r->c.name, &w, err) < 0)
		return err->code;
	say(r, HFW_ROLLOUT_REDRIVE, "%s: re-drive %" PRIu64 " of its %s (%s: %s%s%s)", d->eui, done + 1, hfw_run_step_name(d->step),
	    hfw_redrive_class_name(cls), cstate, creason ? " " : "", creason ? creason : "");
	return 0;
}

/* The configured lead (s) of a future-dated activation (config: activation_lead). */
static int64_t lead_s(const struct hfw_rollout *r)
{
	return (int64_t)hfw_config_get_uint(r->o.cfg, HFW_SET_ACTIVATION_LEAD);
}

/* Unix seconds as DUIS carries an ExecutionDateTime: whole seconds, UTC, 'Z'. */
static void window_text(char out[64], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
}

/* Send one step to a set of devices of one image (image -1: any, for read-version). */
static int send_step(struct hfw_rollout *r, enum hfw_run_step step, int64_t image, const struct run_dev *const *devs,
		     size_t n, struct hfw_error *err)
{
	struct hfw_flow_result *res = NULL;
	struct hfw_target *t = NULL;
	size_t i, counts[HFW_FLOW_OUTCOMES];
	char when[64];
	int ret = 0;

	if (!n)
		return 0;
	if (step == HFW_RUN_DISTRIBUTE) {
		struct hfw_distribution_options o;
		struct hfw_distribution_totals tot;
		const struct run_image *im = &r->images[image];

		if (!(t = calloc(n, sizeof(*t))))
			return hfw_error_oom(err);
		for (i = 0; i < n; i++) {
			if (hfw_eui_parse(&t[i].eui, devs[i]->eui, "plan", err) < 0)
				goto out;
			t[i].type = im->m.type;
		}
		memset(&o, 0, sizeof(o));
		memset(&tot, 0, sizeof(tot));
		o.signer = r->o.flow.signer;
		o.ledger = r->ledger;
		o.transport = r->o.transport;
		o.trust = r->o.flow.trust;
		o.manifest = &im->m;
		o.image = im->data;
		o.image_len = im->len;
		o.schema_version = r->o.flow.schema_version;
		o.user = r->o.flow.user;
		o.dcc = r->o.dcc;
		o.campaign = r->c.name;
		o.batch = HFW_PLAN_MAX_REQUEST;
		say(r, HFW_ROLLOUT_SENDING, "wave %" PRId64 ": distribute %s to %zu devices (SR %s)", r->c.wave, im->m.type->name, n,
		    hfw_route_sr(im->m.route));
		ret = hfw_distribution_run(&o, t, n, &tot, err);
		goto out;
	}
	if (!(res = calloc(n, sizeof(*res))))
		return hfw_error_oom(err);
	for (i = 0; i < n; i++)
		if (hfw_eui_parse(&res[i].device, devs[i]->eui, "plan", err) < 0)
			goto out;
	if (step == HFW_RUN_ACTIVATE) {
		struct hfw_activation_options ao;
		const struct run_image *im = &r->images[image];

		memset(&ao, 0, sizeof(ao));
		ao.flow = r->o.flow;
		ao.flow.campaign = r->c.name;
		ao.flow.device_type = im->m.type->name;
		ao.flow.firmware_version = im->m.firmware_version;
		ao.gbcs_key = r->o.gbcs_key;
		memcpy(ao.firmware_hash, im->m.firmware_hash, HFW_SHA256_LEN);
		if (r->has_window) {
			int64_t at = hfw_plan_next_window((int64_t)(hfw_now_ms() / 1000), r->activate_at, lead_s(r));

			window_text(when, at);
			ao.execution_datetime = when;
			/* The wave waits for it: its deadline is the scheduled time plus the wave's timeout. */
			if (at * 1000 > r->act_until_ms)
				r->act_until_ms = at * 1000;
			say(r, HFW_ROLLOUT_SENDING, "wave %" PRId64 ": activate %s on %zu devices at %s (SR 11.3, future-dated)",
			    r->c.wave, im->m.type->name, n, when);
		} else {
			say(r, HFW_ROLLOUT_SENDING, "wave %" PRId64 ": activate %s on %zu devices (SR 11.3)", r->c.wave,
			    im->m.type->name, n);
		}
		ret = hfw_activation_run(&ao, res, n, counts, err);
	} else {
		struct hfw_flow_options fo;

		memset(&fo, 0, sizeof(fo));
		fo = r->o.flow;
		fo.campaign = r->c.name;
		say(r, HFW_ROLLOUT_SENDING, "wave %" PRId64 ": read the firmware version of %zu devices (SR 11.2)", r->c.wave, n);
		ret = hfw_read_version_run(&fo, res, n, counts, err);
	}
out:
	hfw_flow_results_release(res, res ? n : 0);
	free(res);
	free(t);
	return ret < 0 ? ret : err->code < 0 && ret ? err->code : ret;
}

/*
 * Pacing: the room left in each budget (config: budget_11_x_per_hour,
 * rate_per_minute), from what the ledger recorded, so a restart keeps it.
 */
struct pace {
	int64_t sr[4];		/* 11.1, 11.4, 11.3, 11.2 */
	int64_t all;
	int waited;		/* a device was held back for room this round */
};

static const char *const pace_sr[4] = { "11.1", "11.4", "11.3", "11.2" };
static const enum hfw_setting pace_set[4] = { HFW_SET_BUDGET_11_1_PER_HOUR, HFW_SET_BUDGET_11_4_PER_HOUR,
					      HFW_SET_BUDGET_11_3_PER_HOUR, HFW_SET_BUDGET_11_2_PER_HOUR };

static int pace_load(struct hfw_rollout *r, struct pace *p, struct hfw_error *err)
{
	const hfw_config *cfg = r->o.cfg;
	int64_t n;
	size_t i;

	for (i = 0; i < 4; i++) {
		uint64_t limit = hfw_config_get_uint(cfg, pace_set[i]);

		n = 0;
		if (limit && hfw_run_sent_since(r->ledger, pace_sr[i], 3600, &n, err) < 0)
			return err->code;
		p->sr[i] = hfw_run_room(limit, n);
	}
	n = 0;
	if (hfw_config_get_uint(cfg, HFW_SET_RATE_PER_MINUTE) &&
	    hfw_run_sent_since(r->ledger, NULL, 60, &n, err) < 0)
		return err->code;
	p->all = hfw_run_room(hfw_config_get_uint(cfg, HFW_SET_RATE_PER_MINUTE), n);
	p->waited = 0;
	return 0;
}

/* Take one request of sr from the budgets: 0 when there is no room (the device waits). */
static int pace_take(struct pace *p, const char *sr)
{
	size_t i;

	for (i = 0; i < 4 && strcmp(pace_sr[i], sr); i++)
		;
	if (i == 4 || p->sr[i] <= 0 || p->all <= 0) {
		p->waited = 1;
		return 0;
	}
	p->sr[i]--;
	p->all--;
	return 1;
}

/* Is the campaign still to be run (another process may have aborted it)? */
static int still_running(struct hfw_rollout *r, struct hfw_error *err)
{
	struct hfw_run_campaign now;
	int found;

	if (hfw_run_get(r->ledger, r->c.name, &now, &found, err) < 0)
		return err->code;
	if (found && strcmp(now.state, "running") != 0)
		return hfw_error_set(err, HFW_EHALTED, "campaign %s is %s%s%s: nothing more sent", r->c.name, now.state,
				     now.reason[0] ? ": " : "", now.reason);
	return 0;
}

/*
 * One round over the wave: decide for every device; record every step
 * about to be sent (one commit), then send them.  *open counts devices not
 * finished.
 */
static int round_once(struct hfw_rollout *r, int timed_out, size_t *open, struct hfw_error *err)
{
	const struct run_dev **sends[HFW_RUN_STEPS] = { NULL };
	size_t nsends[HFW_RUN_STEPS] = { 0 };
	int image_taken[HFW_PLAN_MAX_IMAGES] = { 0 };	/* a distribution request of the image counted */
	struct pace pace;
	json_t *states = NULL;
	size_t i, k;
	int ret = 0, in_tx = 0, settled = 0;

	*open = 0;
	if (hfw_run_settle_distributions(r->ledger, r->c.name, &settled, err) < 0)
		goto fail;
	if (settled)
		say(r, HFW_ROLLOUT_NOTE, "%d devices' distributions of unknown fate settled as accepted by their alerts", settled);
	if (load_wave(r, r->c.wave, err) < 0 || campaign_states(r, &states, err) < 0 || pace_load(r, &pace, err) < 0 ||
	    redrive_round(r, states, err) < 0)
		goto fail;
	for (k = 0; k < HFW_RUN_STEPS; k++)
		if (!(sends[k] = calloc(r->ndevs ? r->ndevs : 1, sizeof(*sends[k])))) {
			hfw_error_oom(err);
			goto fail;
		}
	if (hfw_ledger_begin(r->ledger, err) < 0)
		goto fail;
	in_tx = 1;
	for (i = 0; i < r->ndevs; i++) {
		struct run_dev *d = &r->devs[i];
		const char *action = hfw_run_step_action(d->step);
		const char *cstate = json_string_value(json_object_get(json_object_get(states, d->eui), "state"));
		const char *creason = json_string_value(json_object_get(json_object_get(states, d->eui), "reason"));
		struct hfw_run_decision dec;
		int has = 0, needs = d->image >= 0 && r->images[d->image].needs_activation;
		char redrive_why[HFW_RUN_REASON_MAX] = "";
		enum redrive_now redrive = REDRIVE_NO;

		if (d->step == HFW_RUN_DONE || d->step == HFW_RUN_FAILED || d->step == HFW_RUN_SKIPPED ||
		    d->step == HFW_RUN_LEFT)
			continue;
		if (action && hfw_run_has_request(r->ledger, r->c.name, d->eui, action, &has, err) < 0)
			goto fail;
		hfw_run_decide(d->step, cstate, has, needs, &dec);
		/* Left before its first step (an event before its distribution): never sent anything. */
		if (d->step == HFW_RUN_PENDING && cstate && !strcmp(cstate, "left_campaign")) {
			dec.action = HFW_RUN_LEAVE;
			dec.next = HFW_RUN_LEFT;
			dec.reason = cstate;
		}
		/*
		 * A window's activation sent by an earlier process: dated no later
		 * than the next window from now (the dating only moves forward).
		 */
		if (r->has_window && d->step == HFW_RUN_ACTIVATE && !r->act_until_ms)
			r->act_until_ms = hfw_plan_next_window((int64_t)(hfw_now_ms() / 1000), r->activate_at, lead_s(r)) * 1000;
		/*
		 * A future-dated activation of unknown fate: a version read before
		 * its time would say nothing (the device runs the old image until
		 * then), so it waits for its time, then reads.
		 */
		if (r->has_window && d->step == HFW_RUN_ACTIVATE && has == HFW_RUN_UNKNOWN_FATE && dec.action == HFW_RUN_SEND &&
		    dec.next == HFW_RUN_READ_VERSION && (int64_t)hfw_now_ms() < r->act_until_ms)
			dec.action = HFW_RUN_WAIT, dec.next = d->step;
		/* A re-drive that never left (not sent, refused unread): sent again, like a first send. */
		if (dec.action == HFW_RUN_WAIT && has == HFW_RUN_ANSWERED && cstate &&
		    (!strcmp(cstate, "distribution_requested") || !strcmp(cstate, "activation_requested"))) {
			int unsent = 0;

			if (hfw_run_latest_unsent(r->ledger, r->c.name, d->eui, action, &unsent, err) < 0)
				goto fail;
			if (unsent)
				dec.action = HFW_RUN_SEND;
		}
		/* A quarantine a resume already acknowledged: its request is of unknown fate, wait. */
		if (dec.action == HFW_RUN_PAUSE && d->quarantine_seen)
			dec.action = HFW_RUN_WAIT;
		if (dec.action == HFW_RUN_PAUSE) {
			char why[HFW_RUN_REASON_MAX];

			snprintf(why, sizeof(why), "quarantined: %s", creason ? creason : "?");
			if (hfw_run_set_step(r->ledger, r->c.name, d->eui, d->step, why, 0, err) < 0)
				goto fail;
			if (!r->pause[0])
				snprintf(r->pause, sizeof(r->pause), "%s: %s (%s)", d->eui, cstate, creason ? creason : "?");
			say(r, HFW_ROLLOUT_DEVICE_QUARANTINED, "%s: %s: %s", d->eui, cstate, creason ? creason : "?");
			(*open)++;
			continue;
		}
		if (dec.action == HFW_RUN_LEAVE) {
			const char *why = creason && *creason ? creason : "left_campaign";

			if (hfw_run_set_step(r->ledger, r->c.name, d->eui, HFW_RUN_LEFT, why, 0, err) < 0)
				goto fail;
			d->step = HFW_RUN_LEFT;
			say(r, HFW_ROLLOUT_DEVICE_LEFT, "%s: left the campaign: %s", d->eui, why);
			continue;
		}
		/* An answered, transient failure: re-drive within its class's limit and window (redrive_due). */
		if (dec.action == HFW_RUN_FAIL) {
			if (redrive_due(r, d, json_object_get(states, d->eui), redrive_why, sizeof(redrive_why), &redrive, err) < 0)
				goto fail;
			if (redrive == REDRIVE_WAIT)
				dec.action = HFW_RUN_WAIT;
			else if (redrive == REDRIVE_SEND)
				dec.action = HFW_RUN_SEND, dec.next = d->step;
			else if (redrive_why[0])
				dec.reason = redrive_why;
		}
		if (dec.action == HFW_RUN_WAIT && timed_out) {
			char why[HFW_RUN_REASON_MAX];

			if (redrive == REDRIVE_WAIT)
				snprintf(why, sizeof(why), "wave_timeout (%.480s)", redrive_why);
			else
				snprintf(why, sizeof(why), "wave_timeout (last state %s)", cstate ? cstate : "none");
			dec.action = HFW_RUN_FAIL;
			dec.next = HFW_RUN_FAILED;
			if (hfw_run_set_step(r->ledger, r->c.name, d->eui, HFW_RUN_FAILED, why, 0, err) < 0)
				goto fail;
			d->step = HFW_RUN_FAILED;
			say(r, HFW_ROLLOUT_DEVICE_FAILED, "%s: failed: %s", d->eui, why);
			continue;
		}
		switch (dec.action) {
		case HFW_RUN_LEAVE:
		case HFW_RUN_PAUSE:	/* handled above */
		case HFW_RUN_WAIT:
			(*open)++;
			break;
		case HFW_RUN_ADVANCE:
			if (hfw_run_set_step(r->ledger, r->c.name, d->eui, HFW_RUN_DONE, NULL, 0, err) < 0)
				goto fail;
			d->step = HFW_RUN_DONE;
			say(r, HFW_ROLLOUT_DEVICE_DONE, "%s: done (version confirmed)", d->eui);
			break;
		case HFW_RUN_FAIL:
			if (hfw_run_set_step(r->ledger, r->c.name, d->eui, HFW_RUN_FAILED, dec.reason, 0, err) < 0)
				goto fail;
			d->step = HFW_RUN_FAILED;
			say(r, HFW_ROLLOUT_DEVICE_FAILED, "%s: failed: %s", d->eui, dec.reason);
			break;
		case HFW_RUN_SEND:
			/* Re-drive (the same step again: the last was refused or never sent) has a limit. */
			if (redrive != REDRIVE_SEND && dec.next == d->step && d->attempts >= r->o.max_attempts) {
				char why[HFW_RUN_REASON_MAX];

				snprintf(why, sizeof(why), "attempts_exhausted (%s sent %" PRId64 " times)",
					 hfw_run_step_name(d->step), d->attempts);
				if (hfw_run_set_step(r->ledger, r->c.name, d->eui, HFW_RUN_FAILED, why, 0, err) < 0)
					goto fail;
				d->step = HFW_RUN_FAILED;
				say(r, HFW_ROLLOUT_DEVICE_FAILED, "%s: failed: %s", d->eui, why);
				break;
			}
			if (timed_out) {
				if (hfw_run_set_step(r->ledger, r->c.name, d->eui, HFW_RUN_FAILED, "wave_timeout (not sent)", 0,
						     err) < 0)
					goto fail;
				d->step = HFW_RUN_FAILED;
				break;
			}
			/* Within the budgets: a distribution request (of many devices) counts once per image. */
			if (dec.next == HFW_RUN_DISTRIBUTE) {
				if (d->image < HFW_PLAN_MAX_IMAGES && !image_taken[d->image]) {
					if (!pace_take(&pace, hfw_route_sr(r->images[d->image].m.route))) {
						(*open)++;
						break;
					}
					image_taken[d->image] = 1;
				}
			} else if (!pace_take(&pace, dec.next == HFW_RUN_ACTIVATE ? "11.3" : "11.2")) {
				(*open)++;
				break;
			}
			/* Durable before the request is even prepared. */
			if (hfw_run_set_step(r->ledger, r->c.name, d->eui, dec.next, NULL, 1, err) < 0)
				goto fail;
			d->step = dec.next;
			sends[dec.next][nsends[dec.next]++] = d;
			(*open)++;
			break;
		}
	}
	in_tx = 0;
	if (hfw_ledger_commit(r->ledger, err) < 0)
		goto fail;
	if (pace.waited && !r->paced)
		say(r, HFW_ROLLOUT_PACED, "wave %" PRId64 ": devices wait for room in the request budgets (hanfw-config(1))", r->c.wave);
	r->paced = pace.waited;
	/* Distribution and activation go by image; version reads all together (none once pausing). */
	for (k = 0; !r->pause[0] && k < HFW_RUN_STEPS; k++) {
		size_t im;

		if (!nsends[k])
			continue;
		if (k == HFW_RUN_READ_VERSION) {
			if (send_step(r, (enum hfw_run_step)k, -1, sends[k], nsends[k], err) < 0)
				goto fail;
			continue;
		}
		for (im = 0; im < r->nimages; im++) {
			size_t n = 0;

			/* This image's devices to the front (swapped, none lost), sent, then dropped. */
			for (i = 0; i < nsends[k]; i++)
				if (sends[k][i]->image == (int64_t)im) {
					const struct run_dev *tmp = sends[k][n];

					sends[k][n++] = sends[k][i];
					sends[k][i] = tmp;
				}
			if (send_step(r, (enum hfw_run_step)k, (int64_t)im, sends[k], n, err) < 0)
				goto fail;
			memmove(sends[k], sends[k] + n, (nsends[k] - n) * sizeof(*sends[k]));
			nsends[k] -= n;
		}
	}
	goto out;
fail:
	if (in_tx)
		hfw_ledger_rollback(r->ledger);
	ret = err->code ? err->code : HFW_ERROR;
out:
	for (k = 0; k < HFW_RUN_STEPS; k++)
		free(sends[k]);
	json_decref(states);
	return ret;
}

/* The gate of the current wave. */
static int gate(struct hfw_rollout *r, struct hfw_error *err)
{
	struct hfw_run_gate g = { 0, 0, 0, 0, r->c.wave == 1 ? r->c.min_canary : r->c.min_wave };
	json_t *states = NULL;
	size_t i;

	if (load_wave(r, r->c.wave, err) < 0)
		return err->code;
	if (campaign_states(r, &states, err) < 0) {
		json_decref(states);
		return err->code;
	}
	for (i = 0; i < r->ndevs; i++) {
		const char *cstate = json_string_value(json_object_get(json_object_get(states, r->devs[i].eui), "state"));

		/* A device that left the campaign says nothing of the image. */
		if (r->devs[i].step == HFW_RUN_LEFT)
			continue;
		g.devices++;
		if (r->devs[i].step == HFW_RUN_DONE)
			g.done++;
		else
			g.failed++;
		if (cstate && !strcmp(cstate, "hash_mismatch"))
			g.hash_mismatch++;
	}
	json_decref(states);
	return hfw_run_gate_check(&g, (size_t)r->c.wave, err);
}

/* The devices behind a halt: each failed device of the wave, with its reason. */
static int print_failed(void *arg, const struct hfw_run_device *d)
{
	const struct hfw_rollout *r = arg;

	if (d->step == HFW_RUN_FAILED)
		say(r, HFW_ROLLOUT_HALTED_BY, "halted by %s: %s", d->device, d->reason ? d->reason : "");
	return 0;
}

static int run_waves(struct hfw_rollout *r, struct hfw_error *err)
{
	int64_t nwaves = r->nwaves;

	hfw_redrive_policy_load(&r->redrive, r->o.cfg);
	if (r->c.wave < 1)
		r->c.wave = 1;
	for (; r->c.wave <= nwaves; r->c.wave++) {
		size_t open = 1;
		int timed_out = 0;

		if (r->c.gate_passed >= r->c.wave)
			continue;
		if (!r->c.wave_started_ms) {
			r->c.wave_started_ms = (int64_t)hfw_now_ms();
			if (hfw_run_put(r->ledger, &r->c, err) < 0)
				return err->code;
			say(r, HFW_ROLLOUT_WAVE_STARTED, "wave %" PRId64 " of %" PRId64 " starts", r->c.wave, nwaves);
		}
		while (open) {
			if (still_running(r, err) < 0)
				return err->code;
			/* A future-dated activation moves the deadline to its time plus the wave's timeout. */
			timed_out = (int64_t)hfw_now_ms() >= r->c.wave_started_ms + r->c.wave_timeout_s * 1000 &&
				    (int64_t)hfw_now_ms() >= r->act_until_ms + r->c.wave_timeout_s * 1000;
			if (round_once(r, timed_out, &open, err) < 0)
				return err->code;
			if (progress(r, err) < 0)
				return err->code;
			if (r->pause[0]) {
				snprintf(r->c.state, sizeof(r->c.state), "paused");
				snprintf(r->c.reason, sizeof(r->c.reason), "%s", r->pause);
				if (hfw_run_put(r->ledger, &r->c, err) < 0)
					return err->code;
				return hfw_error_set(err, HFW_EHALTED, "campaign %s paused: %s; nothing more sent (hanfw campaign "
						     "resume %s after a decision)", r->c.name, r->c.reason, r->c.name);
			}
			if (open)
				sleep_ms(r->o.poll_ms);
		}
		if (gate(r, err) < 0) {
			snprintf(r->c.state, sizeof(r->c.state), "halted");
			snprintf(r->c.reason, sizeof(r->c.reason), "%s", err->text);
			if (hfw_run_put(r->ledger, &r->c, err) < 0)
				return err->code;
			hfw_run_each_device(r->ledger, r->c.name, r->c.wave, print_failed, r, err);
			return hfw_error_set(err, HFW_EHALTED, "campaign %s halted: %s; nothing more sent (hanfw campaign "
					     "resume %s after a decision)", r->c.name, r->c.reason, r->c.name);
		}
		say(r, HFW_ROLLOUT_GATE_PASSED, "wave %" PRId64 ": gate passed", r->c.wave);
		r->c.gate_passed = r->c.wave;
		r->c.wave_started_ms = 0;
		r->act_until_ms = 0;
		if (r->c.wave < nwaves) {
			r->c.wave++;
			if (hfw_run_put(r->ledger, &r->c, err) < 0)
				return err->code;
			r->c.wave--;	/* the loop's increment */
			if (r->o.until && r->c.wave >= r->o.until) {
				r->c.wave++;
				say(r, HFW_ROLLOUT_STOPPED, "stopped after wave %" PRId64 " (--until): run it again to go on", r->o.until);
				return 0;
			}
		}
	}
	r->c.wave = nwaves;
	snprintf(r->c.state, sizeof(r->c.state), "completed");
	r->c.reason[0] = 0;
	if (hfw_run_put(r->ledger, &r->c, err) < 0)
		return err->code;
	say(r, HFW_ROLLOUT_COMPLETED, "completed");
	return 0;
}


/* Lower bound (s) of the time n requests take in a budget of limit per window_s (0: no budget). */
static int64_t budget_bound(int64_t n, uint64_t limit, int64_t window_s)
{
	if (n <= 0 || !limit)
		return 0;
	/* At most limit go in each window, the first at once. */
	return (int64_t)(((uint64_t)n + limit - 1) / limit - 1) * window_s;
}

int64_t hfw_rollout_budget_s(const hfw_config *cfg, const int64_t requests[4])
{
	int64_t all = 0, best = 0, t;
	size_t i;

	for (i = 0; i < 4; i++) {
		t = budget_bound(requests[i], hfw_config_get_uint(cfg, pace_set[i]), 3600);
		if (t > best)
			best = t;
		all += requests[i];
	}
	t = budget_bound(all, hfw_config_get_uint(cfg, HFW_SET_RATE_PER_MINUTE), 60);
	return t > best ? t : best;
}

/* The SR index (pace_sr) of an image's distribution. */
static size_t image_sr(const struct hfw_rollout *r, int64_t image)
{
	return !strcmp(hfw_route_sr(r->images[image].m.route), "11.4") ? 1 : 0;
}

/* Requests the plan's wave (1-based) sends when nothing fails: per SR (11.1, 11.4, 11.3, 11.2) and devices. */
static void wave_requests(const struct hfw_rollout *r, int64_t wave, int64_t req[4], int64_t *devices)
{
	const json_t *w = json_array_get(json_object_get(r->plan, "waves"), (size_t)wave - 1), *q;
	size_t j;

	json_array_foreach(json_object_get(w, "requests"), j, q) {
		int64_t image = json_integer_value(json_object_get(q, "image"));
		int64_t n = (int64_t)json_array_size(json_object_get(q, "devices"));

		if (image < 0 || (size_t)image >= r->nimages || !n)
			continue;
		req[image_sr(r, image)]++;
		if (r->images[image].needs_activation)
			req[2] += n;
		req[3] += n;
		if (devices)
			*devices += n;
	}
}

/* After a round: the wave's devices per step, and what the budgets leave for the rest, to the command. */
static int progress(struct hfw_rollout *r, struct hfw_error *err)
{
	struct hfw_rollout_progress p;
	int64_t req[4] = { 0, 0, 0, 0 }, w;
	int image_left[HFW_PLAN_MAX_IMAGES] = { 0 };
	size_t i;

	(void)err;
	if (!r->o.cb.progress)
		return 0;
	memset(&p, 0, sizeof(p));
	p.campaign = r->c.name;
	p.wave = r->c.wave;
	p.waves = r->nwaves;
	p.paced = r->paced;
	p.paused = r->pause[0] != 0;
	for (i = 0; i < r->ndevs; i++) {
		const struct run_dev *d = &r->devs[i];

		p.steps[d->step]++;
		if (d->step == HFW_RUN_PENDING && d->image >= 0 && d->image < HFW_PLAN_MAX_IMAGES &&
		    !image_left[d->image]++)
			req[image_sr(r, d->image)]++;
		if ((d->step == HFW_RUN_PENDING || d->step == HFW_RUN_DISTRIBUTE) && d->image >= 0 &&
		    (size_t)d->image < r->nimages && r->images[d->image].needs_activation)
			req[2]++;
		if (d->step == HFW_RUN_PENDING || d->step == HFW_RUN_DISTRIBUTE || d->step == HFW_RUN_ACTIVATE)
			req[3]++;
	}
	p.devices_left = p.steps[HFW_RUN_PENDING] + p.steps[HFW_RUN_DISTRIBUTE] + p.steps[HFW_RUN_ACTIVATE] +
			 p.steps[HFW_RUN_READ_VERSION];
	for (w = r->c.wave + 1; w <= r->nwaves; w++) {
		int64_t n = 0;

		wave_requests(r, w, req, &n);
		p.devices_left += (size_t)n;
	}
	p.budget_left_s = hfw_rollout_budget_s(r->o.cfg, req);
	r->o.cb.progress(r->o.cb.arg, &p);
	return 0;
}

/* The core of run and resume: which campaign, from which plan, and where it is. */
static int open_campaign(struct hfw_rollout *r, const struct hfw_rollout_start *s, struct hfw_error *err)
{
	struct hfw_run_campaign prev;
	const char *plan_path = s->plan_path;
	char sha[65];
	int found = 0;

	if (s->resume) {
		if (hfw_run_find(r->ledger, s->name, &prev, err) < 0)
			return err->code;
		if (strcmp(prev.state, "halted") != 0 && strcmp(prev.state, "paused") != 0 &&
		    strcmp(prev.state, "running") != 0)
			return hfw_error_set(err, HFW_EINPUT, "campaign %s is %s: only a halted or paused campaign resumes",
					     s->name, prev.state);
		plan_path = prev.plan_path;
	}
	if (load_plan(r, plan_path, err) < 0 || hex_sha256(sha, plan_path, err) < 0)
		return err->code;
	if (!s->resume && hfw_run_get(r->ledger, s->name, &prev, &found, err) < 0)
		return err->code;
	if ((s->resume || found) && strcasecmp(prev.plan_sha256, sha) != 0)
		return hfw_error_set(err, HFW_EINPUT,
				     "campaign %s was started from a plan with SHA-256 %.16s..., '%s' is %.16s...: a campaign's "
				     "plan never changes (name a new campaign)", s->name, prev.plan_sha256, plan_path, sha);
	if (s->resume) {
		r->c = prev;
		/* A human decided: the breached wave's gate is overridden. */
		if (!strcmp(prev.state, "halted"))
			r->c.gate_passed = r->c.wave;
		snprintf(r->c.state, sizeof(r->c.state), "running");
		r->c.reason[0] = 0;
		r->c.wave_started_ms = 0;
		if (hfw_run_put(r->ledger, &r->c, err) < 0)
			return err->code;
		if (r->c.gate_passed >= r->c.wave)
			r->c.wave++;
		say(r, HFW_ROLLOUT_NOTE, "resumed at wave %" PRId64, r->c.wave);
		return 0;
	}
	if (found) {
		if (!strcmp(prev.state, "completed")) {
			r->c = prev;
			r->completed = 1;
			say(r, HFW_ROLLOUT_NOTE, "already completed");
			return 0;
		}
		if (strcmp(prev.state, "running") != 0)
			return hfw_error_set(err, HFW_EHALTED, "campaign %s is %s%s%s: hanfw campaign resume %s after a decision",
					     s->name, prev.state, prev.reason[0] ? ": " : "", prev.reason, s->name);
		r->c = prev;
		say(r, HFW_ROLLOUT_NOTE, "continuing at wave %" PRId64, r->c.wave);
		return 0;
	}
	snprintf(r->c.name, sizeof(r->c.name), "%s", s->name);
	snprintf(r->c.plan_path, sizeof(r->c.plan_path), "%s", plan_path);
	snprintf(r->c.plan_sha256, sizeof(r->c.plan_sha256), "%s", sha);
	snprintf(r->c.state, sizeof(r->c.state), "running");
	r->c.min_canary = s->min_canary;
	r->c.min_wave = s->min_wave;
	r->c.wave_timeout_s = s->wave_timeout_s;
	if (import_plan(r, err) < 0)
		return err->code;
	say(r, HFW_ROLLOUT_NOTE, "started from plan '%s'", plan_path);
	return 0;
}

int hfw_rollout_open(hfw_rollout **out, const struct hfw_rollout_options *o, const struct hfw_rollout_start *s,
		     struct hfw_error *err)
{
	struct hfw_rollout *r;
	int ret = 0;

	*out = NULL;
	if (!(r = calloc(1, sizeof(*r))))
		return hfw_error_oom(err);
	r->o = *o;
	r->ledger = o->ledger;
	if (hfw_run_cache_begin(r->ledger, err) < 0) {
		free(r);
		return err->code;
	}
	/* The name is what the events say before the campaign is read. */
	snprintf(r->c.name, sizeof(r->c.name), "%s", s->name);
	if (open_campaign(r, s, err) < 0)
		goto fail;
	r->nwaves = (int64_t)json_array_size(json_object_get(r->plan, "waves"));
	*out = r;
	return 0;
fail:
	ret = err->code ? err->code : HFW_ERROR;
	hfw_rollout_free(r);
	return ret;
}

int hfw_rollout_run(hfw_rollout *r, struct hfw_error *err)
{
	if (r->completed)
		return 0;
	return run_waves(r, err);
}

const struct hfw_run_campaign *hfw_rollout_campaign(const hfw_rollout *r)
{
	return &r->c;
}

void hfw_rollout_free(hfw_rollout *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; r->images && i < r->nimages; i++)
		free(r->images[i].data);
	free(r->images);
	free(r->devs);
	json_decref(r->plan);
	json_decref(r->windows);
	hfw_run_cache_end(r->ledger);
	free(r);
}

/* ---- abort's cancels ---- */

struct cancel_scan {
	json_t *states;		/* device -> {state, ...}: the campaign's */
	int has_window;
	struct hfw_rollout_cancel *v;
	size_t n, cap;
};

static int add_cancel(void *arg, const struct hfw_run_device *d)
{
	struct cancel_scan *cs = arg;
	const char *st = json_string_value(json_object_get(json_object_get(cs->states, d->device), "state"));

	/* Scheduled and not reported executed; with a window, an activation on its way may be scheduled too. */
	if (!st || d->image < 0 ||
	    (strcmp(st, "activation_scheduled") != 0 && !(cs->has_window && !strcmp(st, "activation_requested"))))
		return 0;
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? 2 * cs->cap : 64;
		struct hfw_rollout_cancel *v = realloc(cs->v, cap * sizeof(*v));

		if (!v)
			return HFW_ENOMEM;
		cs->v = v;
		cs->cap = cap;
	}
	snprintf(cs->v[cs->n].device, sizeof(cs->v[cs->n].device), "%s", d->device);
	cs->v[cs->n].image = d->image;
	cs->n++;
	return 0;
}

int hfw_rollout_cancels_due(hfw_ledger *l, const char *name, struct hfw_rollout_cancel **out, size_t *n,
			    struct hfw_error *err)
{
	struct hfw_run_campaign c;
	struct cancel_scan cs;
	json_error_t je;
	json_t *plan = NULL;
	int ret;

	*out = NULL;
	*n = 0;
	memset(&cs, 0, sizeof(cs));
	if ((ret = hfw_run_find(l, name, &c, err)) < 0)
		return ret;
	/* The campaign's own plan (hashed when it started): only its window is read here. */
	if ((plan = json_load_file(c.plan_path, 0, &je)))
		cs.has_window = json_object_get(plan, "activation") != NULL;
	json_decref(plan);
	if (!(cs.states = json_object()))
		return hfw_error_oom(err);
	if ((ret = hfw_campaign_each_latest(l, name, put_state, cs.states, err)) == HFW_ENOMEM ||
	    (ret >= 0 && (ret = hfw_run_each_device(l, name, 0, add_cancel, &cs, err)) == HFW_ENOMEM))
		ret = hfw_error_oom(err);
	json_decref(cs.states);
	if (ret < 0) {
		free(cs.v);
		return ret;
	}
	*out = cs.v;
	*n = cs.n;
	return 0;
}

int hfw_rollout_cancel(const struct hfw_rollout_options *o, const char *name, const struct hfw_rollout_cancel *v,
		       size_t n, struct hfw_flow_result **results, struct hfw_error *err)
{
	struct hfw_rollout *r = NULL;
	struct hfw_run_campaign c;
	struct hfw_flow_result *res = NULL;
	size_t i, im, counts[HFW_FLOW_OUTCOMES];
	int ret = 0;

	*results = NULL;
	if (!n)
		return 0;
	if (!(r = calloc(1, sizeof(*r))) || !(res = calloc(n, sizeof(*res)))) {
		free(r);
		return hfw_error_oom(err);
	}
	r->o = *o;
	/* The images' FirmwareHash: the plan's images, as the run loaded them. */
	if (hfw_run_find(o->ledger, name, &c, err) < 0 || load_plan(r, c.plan_path, err) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if (hfw_eui_parse(&res[i].device, v[i].device, "campaign", err) < 0)
			goto fail;
		res[i].outcome = HFW_FLOW_PENDING;
	}
	/* One SR 11.3 cancel per device, by image (its hash), through the activation flow. */
	for (im = 0; im < r->nimages; im++) {
		struct hfw_activation_options ao;
		struct hfw_flow_result *part;
		size_t k = 0, j;

		for (i = 0; i < n; i++)
			k += v[i].image == (int64_t)im;
		if (!k)
			continue;
		if (!(part = calloc(k, sizeof(*part)))) {
			hfw_error_oom(err);
			goto fail;
		}
		for (i = 0, j = 0; i < n; i++)
			if (v[i].image == (int64_t)im)
				part[j++].device = res[i].device;
		memset(&ao, 0, sizeof(ao));
		ao.flow = o->flow;
		ao.flow.campaign = name;
		ao.flow.device_type = r->images[im].m.type->name;
		ao.flow.firmware_version = r->images[im].m.firmware_version;
		ao.gbcs_key = o->gbcs_key;
		ao.execution_datetime = HFW_CS06_CANCEL_DUIS;
		memcpy(ao.firmware_hash, r->images[im].m.firmware_hash, HFW_SHA256_LEN);
		ret = hfw_activation_run(&ao, part, k, counts, err);
		for (i = 0, j = 0; i < n; i++)
			if (v[i].image == (int64_t)im) {
				res[i] = part[j];
				part[j++].detail = NULL;
			}
		free(part);
		if (ret < 0)
			goto fail;
	}
	*results = res;
	res = NULL;
	ret = 0;
fail:
	if (res) {
		ret = err->code ? err->code : HFW_ERROR;
		hfw_flow_results_release(res, n);
		free(res);
	}
	hfw_rollout_free(r);
	return ret;
}

int hfw_rollout_abort(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, struct hfw_error *err)
{
	if (hfw_run_find(l, name, c, err) < 0)
		return err->code;
	if (!strcmp(c->state, "completed") || !strcmp(c->state, "aborted"))
		return hfw_error_set(err, HFW_EINPUT, "campaign %s is already %s", c->name, c->state);
	snprintf(c->state, sizeof(c->state), "aborted");
	snprintf(c->reason, sizeof(c->reason), "aborted by the operator");
	return hfw_run_put(l, c, err);
}

/* One wave's or the campaign's requests per SR, as {"11.1": n, ...}. */
static json_t *requests_json(const int64_t req[4])
{
	return json_pack("{s:I,s:I,s:I,s:I}", pace_sr[0], (json_int_t)req[0], pace_sr[1], (json_int_t)req[1], pace_sr[2],
			 (json_int_t)req[2], pace_sr[3], (json_int_t)req[3]);
}

int hfw_rollout_dry_run(const struct hfw_rollout_options *o, const char *plan_path, json_t **out, struct hfw_error *err)
{
	struct hfw_rollout *r;
	json_t *waves = NULL, *budgets = NULL, *res = NULL;
	int64_t total[4] = { 0, 0, 0, 0 }, devices = 0, w;
	char sha[65];
	size_t i;
	int ret = 0;

	*out = NULL;
	if (!(r = calloc(1, sizeof(*r))))
		return hfw_error_oom(err);
	r->o = *o;
	/* What the real run checks before it writes anything: the plan, its inputs, its images. */
	if (load_plan(r, plan_path, err) < 0 || hex_sha256(sha, plan_path, err) < 0)
		goto fail;
	r->nwaves = (int64_t)json_array_size(json_object_get(r->plan, "waves"));
	if (!(waves = json_array()) || !(budgets = json_object()))
		goto oom;
	for (w = 1; w <= r->nwaves; w++) {
		int64_t req[4] = { 0, 0, 0, 0 }, n = 0;

		wave_requests(r, w, req, &n);
		for (i = 0; i < 4; i++)
			total[i] += req[i];
		devices += n;
		if (json_array_append_new(waves, json_pack("{s:I,s:I,s:o,s:I}", "wave", (json_int_t)w, "devices", (json_int_t)n,
							   "requests", requests_json(req), "budget_s",
							   (json_int_t)hfw_rollout_budget_s(o->cfg, req))) < 0)
			goto oom;
	}
	for (i = 0; i < 4; i++)
		json_object_set_new(budgets, pace_sr[i], json_integer((json_int_t)hfw_config_get_uint(o->cfg, pace_set[i])));
	json_object_set_new(budgets, "rate_per_minute",
			    json_integer((json_int_t)hfw_config_get_uint(o->cfg, HFW_SET_RATE_PER_MINUTE)));
	res = json_pack("{s:s,s:s,s:b,s:I,s:I,s:o,s:o,s:o,s:I}", "plan", plan_path, "plan_sha256", sha, "dry_run", 1,
			"devices", (json_int_t)devices, "skipped",
			(json_int_t)json_array_size(json_object_get(r->plan, "skipped")), "requests", requests_json(total),
			"budgets", budgets, "waves", waves, "budget_s", (json_int_t)hfw_rollout_budget_s(o->cfg, total));
	waves = budgets = NULL;
	if (!res)
		goto oom;
	if (r->has_window) {
		char at[24], next[64];
		int64_t t = hfw_plan_next_window((int64_t)(hfw_now_ms() / 1000), r->activate_at, lead_s(r));

		snprintf(at, sizeof(at), "%02d:%02d", r->activate_at / 60, r->activate_at % 60);
		window_text(next, t);
		if (json_object_set_new(res, "activation", json_pack("{s:s,s:I,s:s}", "at", at, "lead_s", (json_int_t)lead_s(r),
								     "next", next)) < 0)
			goto oom;
	}
	*out = res;
	goto out;
oom:
	hfw_error_oom(err);
fail:
	ret = err->code ? err->code : HFW_ERROR;
out:
	json_decref(waves);
	json_decref(budgets);
	hfw_rollout_free(r);
	return ret;
}
