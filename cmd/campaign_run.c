/*
 * campaign_run.c - "hanfw campaign run|resume|abort|status|list": execute a
 * plan wave by wave (distribute -> wait for transfer and verification ->
 * activate where the type needs SR 11.3 -> confirm the version by SR 11.2),
 * with a gate after each wave that halts the campaign on a breach.
 *
 * Everything the run decides is in the ledger (lib/run.h) before the
 * request it leads to is prepared, and every request goes through the
 * request lifecycle (lib/request.h), so a run killed at any moment is
 * continued by running it again: no device gets a step twice, no counter
 * is used twice.  What happens to devices comes from the ledger's campaign
 * state (lib/campaign.h), which hanfw listen keeps from the DCC's messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/activate.h"
#include "../lib/campaign.h"
#include "../lib/clock.h"
#include "../lib/config.h"
#include "../lib/distribute.h"
#include "../lib/hex.h"
#include "../lib/image.h"
#include "../lib/manifest.h"
#include "../lib/plan.h"
#include "../lib/readversion.h"
#include "../lib/redrive.h"
#include "../lib/route.h"
#include "../lib/run.h"
#include "cmd.h"
#include "campaign_run.h"

/* One image of the plan, loaded: what distribute and activate need. */
struct run_image {
	struct hfw_manifest m;
	uint8_t *data;
	size_t len;
	int needs_activation;
};

/* A device of the wave being run, as the ledger has it. */
struct run_dev {
	char eui[HFW_EUI_TEXT_MAX];
	int64_t image, attempts;
	enum hfw_run_step step;
	int quarantine_seen;	/* a quarantine of its current step already paused the run (resumed: wait) */
};

struct run {
	struct hfw_ctx *ctx;
	hfw_ledger *ledger;
	struct hfw_run_campaign c;
	json_t *plan;
	struct run_image *images;
	size_t nimages;
	long poll_ms;
	int paced;		/* the last round held devices back for the budgets */
	int64_t until;		/* --until: stop once this wave's gate passed (0: run every wave) */
	int64_t max_attempts;	/* sends of one step to a device (re-drive's limit) */
	char pause[HFW_RUN_REASON_MAX];	/* set by a round that found a new quarantine: the run pauses */
	/* Re-drive (redrive.h): the policy, and per round each device's window and each image's open distributions. */
	struct hfw_redrive_policy redrive;
	json_t *windows;
	size_t dist_open[HFW_PLAN_MAX_IMAGES];
	/* The wave's devices (reloaded each round). */
	struct run_dev *devs;
	size_t ndevs, capdevs;
};

/* One line per event on stderr (unless -q or --json). */
static void say(const struct run *r, const char *fmt, ...) HFW_PRINTF(2, 3);
static void say(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->ctx->quiet)
		return;
	fprintf(stderr, "hanfw: campaign %s: ", r->c.name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
static int load_plan(struct run *r, const char *path, struct hfw_error *err)
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
static int import_plan(struct run *r, struct hfw_error *err)
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
	struct run *r = arg;

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

static int load_wave(struct run *r, int64_t wave, struct hfw_error *err)
{
	int ret;

	r->ndevs = 0;
	if ((ret = hfw_run_each_device(r->ledger, r->c.name, wave, collect, r, err)) == HFW_ENOMEM)
		return hfw_error_oom(err);
	return ret;
}

static int add_state(void *arg, const struct hfw_campaign_latest *d)
{
	json_t *o = json_pack("{s:s,s:s*,s:s*}", "state", d->state, "reason", d->reason, "cause", d->cause);

	return o && json_object_set_new(arg, d->device, o) == 0 ? 0 : HFW_ENOMEM;
}

/*
 * The ledger's campaign state of every device: device -> {state, reason,
 * cause} (a JSON object), the outcome of its latest request (campaign.h).
 */
static int campaign_states(struct run *r, json_t **states, struct hfw_error *err)
{
	int ret;

	*states = json_object();
	if (!*states)
		return hfw_error_oom(err);
	if ((ret = hfw_campaign_each_latest(r->ledger, r->c.name, add_state, *states, err)) == HFW_ENOMEM)
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
static int redrive_round(struct run *r, json_t *states, struct hfw_error *err)
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
static int redrive_due(struct run *r, const struct run_dev *d, const json_t *st, char *why, size_t size,
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
			say(r, "%s: %s%s%s (%s): re-drive %" PRIu64 " in %" PRId64 " s", d->eui, cstate, creason ? " " : "",
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
	say(r, "%s: re-drive %" PRIu64 " of its %s (%s: %s%s%s)", d->eui, done + 1, hfw_run_step_name(d->step),
	    hfw_redrive_class_name(cls), cstate, creason ? " " : "", creason ? creason : "");
	return 0;
}

/* Send one step to a set of devices of one image (image -1: any, for read-version). */
static int send_step(struct run *r, enum hfw_run_step step, int64_t image, const struct run_dev *const *devs,
		     size_t n, struct hfw_error *err)
{
	struct cmd_session *sess = &r->ctx->session;
	struct hfw_flow_result *res = NULL;
	struct hfw_target *t = NULL;
	size_t i, counts[HFW_FLOW_OUTCOMES];
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
		o.signer = sess->signer;
		o.ledger = r->ledger;
		o.transport = sess->transport;
		o.trust = sess->trust;
		o.manifest = &im->m;
		o.image = im->data;
		o.image_len = im->len;
		o.schema_version = sess->set.schema_version;
		o.user = sess->user;
		o.campaign = r->c.name;
		o.batch = HFW_PLAN_MAX_REQUEST;
		if (hfw_eui_parse(&o.dcc, sess->set.dcc_eui, "dcc_eui", err) < 0)
			goto out;
		say(r, "wave %" PRId64 ": distribute %s to %zu devices (SR %s)", r->c.wave, im->m.type->name, n,
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
		cmd_session_fill(sess, &ao.flow);
		ao.flow.campaign = r->c.name;
		ao.flow.device_type = im->m.type->name;
		ao.flow.firmware_version = im->m.firmware_version;
		ao.gbcs_key = sess->gbcs_key;
		memcpy(ao.firmware_hash, im->m.firmware_hash, HFW_SHA256_LEN);
		say(r, "wave %" PRId64 ": activate %s on %zu devices (SR 11.3)", r->c.wave, im->m.type->name, n);
		ret = hfw_activation_run(&ao, res, n, counts, err);
	} else {
		struct hfw_flow_options fo;

		memset(&fo, 0, sizeof(fo));
		cmd_session_fill(sess, &fo);
		fo.campaign = r->c.name;
		say(r, "wave %" PRId64 ": read the firmware version of %zu devices (SR 11.2)", r->c.wave, n);
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

static int pace_load(struct run *r, struct pace *p, struct hfw_error *err)
{
	const hfw_config *cfg = r->ctx->session.cfg;
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
static int still_running(struct run *r, struct hfw_error *err)
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
static int round_once(struct run *r, int timed_out, size_t *open, struct hfw_error *err)
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
		say(r, "%d devices' distributions of unknown fate settled as accepted by their alerts", settled);
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
			say(r, "%s: %s: %s", d->eui, cstate, creason ? creason : "?");
			(*open)++;
			continue;
		}
		if (dec.action == HFW_RUN_LEAVE) {
			const char *why = creason && *creason ? creason : "left_campaign";

			if (hfw_run_set_step(r->ledger, r->c.name, d->eui, HFW_RUN_LEFT, why, 0, err) < 0)
				goto fail;
			say(r, "%s: left the campaign: %s", d->eui, why);
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
			say(r, "%s: failed: %s", d->eui, why);
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
			say(r, "%s: done (version confirmed)", d->eui);
			break;
		case HFW_RUN_FAIL:
			if (hfw_run_set_step(r->ledger, r->c.name, d->eui, HFW_RUN_FAILED, dec.reason, 0, err) < 0)
				goto fail;
			say(r, "%s: failed: %s", d->eui, dec.reason);
			break;
		case HFW_RUN_SEND:
			/* Re-drive (the same step again: the last was refused or never sent) has a limit. */
			if (redrive != REDRIVE_SEND && dec.next == d->step && d->attempts >= r->max_attempts) {
				char why[HFW_RUN_REASON_MAX];

				snprintf(why, sizeof(why), "attempts_exhausted (%s sent %" PRId64 " times)",
					 hfw_run_step_name(d->step), d->attempts);
				if (hfw_run_set_step(r->ledger, r->c.name, d->eui, HFW_RUN_FAILED, why, 0, err) < 0)
					goto fail;
				say(r, "%s: failed: %s", d->eui, why);
				break;
			}
			if (timed_out) {
				if (hfw_run_set_step(r->ledger, r->c.name, d->eui, HFW_RUN_FAILED, "wave_timeout (not sent)", 0,
						     err) < 0)
					goto fail;
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
		say(r, "wave %" PRId64 ": devices wait for room in the request budgets (hanfw-config(1))", r->c.wave);
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
static int gate(struct run *r, struct hfw_error *err)
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
	const struct run *r = arg;

	if (d->step == HFW_RUN_FAILED && !r->ctx->quiet)
		fprintf(stderr, "hanfw: campaign %s: halted by %s: %s\n", r->c.name, d->device, d->reason ? d->reason : "");
	return 0;
}

static int run_waves(struct run *r, struct hfw_error *err)
{
	int64_t nwaves = (int64_t)json_array_size(json_object_get(r->plan, "waves"));

	hfw_redrive_policy_load(&r->redrive, r->ctx->session.cfg);
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
			say(r, "wave %" PRId64 " of %" PRId64 " starts", r->c.wave, nwaves);
		}
		while (open) {
			if (still_running(r, err) < 0)
				return err->code;
			timed_out = (int64_t)hfw_now_ms() >= r->c.wave_started_ms + r->c.wave_timeout_s * 1000;
			if (round_once(r, timed_out, &open, err) < 0)
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
				sleep_ms(r->poll_ms);
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
		say(r, "wave %" PRId64 ": gate passed", r->c.wave);
		r->c.gate_passed = r->c.wave;
		r->c.wave_started_ms = 0;
		if (r->c.wave < nwaves) {
			r->c.wave++;
			if (hfw_run_put(r->ledger, &r->c, err) < 0)
				return err->code;
			r->c.wave--;	/* the loop's increment */
			if (r->until && r->c.wave >= r->until) {
				r->c.wave++;
				say(r, "stopped after wave %" PRId64 " (--until): run it again to go on", r->until);
				return 0;
			}
		}
	}
	r->c.wave = nwaves;
	snprintf(r->c.state, sizeof(r->c.state), "completed");
	r->c.reason[0] = 0;
	if (hfw_run_put(r->ledger, &r->c, err) < 0)
		return err->code;
	say(r, "completed");
	return 0;
}

static void run_release(struct run *r)
{
	size_t i;

	for (i = 0; r->images && i < r->nimages; i++)
		free(r->images[i].data);
	free(r->images);
	free(r->devs);
	json_decref(r->plan);
	json_decref(r->windows);
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

static int get_campaign(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, struct hfw_error *err)
{
	int found;

	if (hfw_run_get(l, name, c, &found, err) < 0)
		return err->code;
	if (!found)
		return hfw_error_set(err, HFW_EINPUT, "no campaign run named '%s' in the ledger (hanfw campaign list)", name);
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
 * One run of a campaign at a time: a POSIX record lock on LEDGER.run-NAME.lock
 * (the kernel releases it when the process dies, kill -9 included).  The
 * descriptor stays open until the command ends.
 */
static int lock_campaign(const struct hfw_ctx *ctx, const char *name, int *fd, struct hfw_error *err)
{
	struct flock fl;
	char path[4096];
	int n;

	n = snprintf(path, sizeof(path), "%s.run-%s.lock", ctx->session.set.ledger, name);
	if (n < 0 || (size_t)n >= sizeof(path) || strchr(name, '/'))
		return hfw_error_set(err, HFW_EINPUT, "campaign name '%s' cannot name a lock file", name);
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return hfw_error_set(err, HFW_EIO, "cannot open '%s': %s", path, strerror(errno));
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(*fd, F_SETLK, &fl) < 0)
		return hfw_error_set(err, HFW_EINPUT,
				     "campaign %s is being run by another process (lock '%s'): one run of a campaign at a time",
				     name, path);
	return 0;
}

/* run and resume: the loop, from a plan (run) or the campaign's own (resume). */
static int run_common(struct hfw_ctx *ctx, const char *plan_path, const char *name, int resume,
		      const char *canary_text, const char *wave_text, const char *timeout_text, const char *poll_text,
		      const char *until_text)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct cmd_session *sess = &ctx->session;
	struct run r;
	struct hfw_run_campaign prev;
	char sha[65];
	unsigned long long x;
	int found = 0, ret, lock = -1;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.poll_ms = 1000;
	r.c.min_canary = 0.99;
	r.c.min_wave = 0.95;
	r.c.wave_timeout_s = 7 * 24 * 3600;
	r.max_attempts = 8;
	if (parse_percent(ctx, "canary-success", canary_text, &r.c.min_canary) < 0 ||
	    parse_percent(ctx, "wave-success", wave_text, &r.c.min_wave) < 0)
		return HFW_EXIT_USAGE;
	if (timeout_text) {
		if (cmd_parse_uint(ctx, "wave-timeout", timeout_text, 365ull * 24 * 3600, &x) != PARSE_OK)
			return HFW_EXIT_USAGE;
		if (!x)
			return cmd_usage_error(ctx, "--wave-timeout must be at least 1 second");
		r.c.wave_timeout_s = (int64_t)x;
	}
	if (poll_text) {
		if (cmd_parse_uint(ctx, "poll-ms", poll_text, 3600000, &x) != PARSE_OK)
			return HFW_EXIT_USAGE;
		r.poll_ms = x ? (long)x : 1;
	}
	if (until_text) {
		if (!strcmp(until_text, "canary"))
			r.until = 1;
		else if (!strncmp(until_text, "wave-", 5) && until_text[5] &&
			 cmd_parse_uint(ctx, "until", until_text + 5, 1000000, &x) == PARSE_OK && x > 0)
			r.until = (int64_t)x;
		else
			return cmd_usage_error(ctx, "--until: '%.40s' is not a stage (canary, or wave-N)", until_text);
	}
	sess->in_flight = CMD_DEFAULT_IN_FLIGHT;
	sess->both = 1;
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)
		return ret;
	r.ledger = sess->ledger;
	if (lock_campaign(ctx, name, &lock, &err) < 0)
		goto fail;
	if (resume) {
		if (get_campaign(r.ledger, name, &prev, &err) < 0)
			goto fail;
		if (strcmp(prev.state, "halted") != 0 && strcmp(prev.state, "paused") != 0 &&
		    strcmp(prev.state, "running") != 0) {
			hfw_error_set(&err, HFW_EINPUT, "campaign %s is %s: only a halted or paused campaign resumes", name,
				      prev.state);
			goto fail;
		}
		plan_path = prev.plan_path;
	}
	if (load_plan(&r, plan_path, &err) < 0 || hex_sha256(sha, plan_path, &err) < 0)
		goto fail;
	if (!resume && hfw_run_get(r.ledger, name, &prev, &found, &err) < 0)
		goto fail;
	if ((resume || found) && strcasecmp(prev.plan_sha256, sha) != 0) {
		hfw_error_set(&err, HFW_EINPUT,
			      "campaign %s was started from a plan with SHA-256 %.16s..., '%s' is %.16s...: a campaign's plan "
			      "never changes (name a new campaign)", name, prev.plan_sha256, plan_path, sha);
		goto fail;
	}
	if (resume) {
		r.c = prev;
		/* A human decided: the breached wave's gate is overridden. */
		if (!strcmp(prev.state, "halted"))
			r.c.gate_passed = r.c.wave;
		snprintf(r.c.state, sizeof(r.c.state), "running");
		r.c.reason[0] = 0;
		r.c.wave_started_ms = 0;
		if (hfw_run_put(r.ledger, &r.c, &err) < 0)
			goto fail;
		if (r.c.gate_passed >= r.c.wave)
			r.c.wave++;
		say(&r, "resumed at wave %" PRId64, r.c.wave);
	} else if (found) {
		if (!strcmp(prev.state, "completed")) {
			r.c = prev;
			say(&r, "already completed");
			goto report;
		}
		if (strcmp(prev.state, "running") != 0) {
			hfw_error_set(&err, HFW_EHALTED, "campaign %s is %s%s%s: hanfw campaign resume %s after a decision",
				      name, prev.state, prev.reason[0] ? ": " : "", prev.reason, name);
			goto fail;
		}
		r.c = prev;
		say(&r, "continuing at wave %" PRId64, r.c.wave);
	} else {
		snprintf(r.c.name, sizeof(r.c.name), "%s", name);
		snprintf(r.c.plan_path, sizeof(r.c.plan_path), "%s", plan_path);
		snprintf(r.c.plan_sha256, sizeof(r.c.plan_sha256), "%s", sha);
		snprintf(r.c.state, sizeof(r.c.state), "running");
		if (import_plan(&r, &err) < 0)
			goto fail;
		say(&r, "started from plan '%s'", plan_path);
	}
	if (run_waves(&r, &err) < 0)
		goto fail;
report:
	{
		json_t *o = NULL;

		if (status_json(r.ledger, &r.c, 0, &o, &err) < 0)
			goto fail;
		if (ctx->json) {
			if (cmd_print_json(o, &err) < 0)
				goto fail;
		} else {
			if (!ctx->quiet)
				printf("campaign %s: %s: %" JSON_INTEGER_FORMAT " done, %" JSON_INTEGER_FORMAT " failed, %" JSON_INTEGER_FORMAT " skipped\n", r.c.name,
				       r.c.state, json_integer_value(json_object_get(json_object_get(o, "steps"), "done")),
				       json_integer_value(json_object_get(json_object_get(o, "steps"), "failed")),
				       json_integer_value(json_object_get(json_object_get(o, "steps"), "skipped")));
			ret = json_integer_value(json_object_get(json_object_get(o, "steps"), "failed")) ? -HFW_EPARTIAL
													   : HFW_EXIT_OK;
			json_decref(o);
			goto out;
		}
	}
	ret = HFW_EXIT_OK;
	goto out;
fail:
	ret = cmd_report(&err);
out:
	if (lock >= 0)
		close(lock);
	run_release(&r);
	return ret;
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
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "name", &name, "NAME", "the campaign's name (default: the plan's file name without .json)"),
		HFW_OPT_STRING(0, "canary-success", &canary, "PCT", "the canary wave's gate: at least PCT% at their goal (default 99)"),
		HFW_OPT_STRING(0, "wave-success", &wave, "PCT", "every later wave's gate (default 95)"),
		HFW_OPT_STRING(0, "wave-timeout", &timeout, "S", "a device not at its goal S seconds after its wave started fails (default 7 days)"),
		HFW_OPT_STRING(0, "poll-ms", &poll, "MS", "how often the ledger is read for what came back (default 1000)"),
		HFW_OPT_STRING(0, "until", &until, "STAGE", "stop once this wave's gate passed: canary, or wave-N (run again to go on)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"campaign run PLAN [--name NAME] [--canary-success PCT] [--wave-success PCT] [--wave-timeout S]\n"
		"                    [--poll-ms MS] [--until STAGE] [--json]",
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

int campaign_abort(int argc, char **argv, struct hfw_ctx *ctx)
{
	const struct hfw_option opts[] = { HFW_OPT_END() };
	static const struct hfw_usage usage = {
		"campaign abort NAME",
		"Stop a campaign: nothing more is sent, by this or any later run.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_run_campaign c;
	enum cmd_parse pr;
	int n, ret;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 1)
		return cmd_usage_error(ctx, "give the campaign's NAME");
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)
		return ret;
	if (get_campaign(ctx->session.ledger, argv[0], &c, &err) < 0)
		return cmd_report(&err);
	if (!strcmp(c.state, "completed") || !strcmp(c.state, "aborted"))
		return hfw_error_set(&err, HFW_EINPUT, "campaign %s is already %s", c.name, c.state), cmd_report(&err);
	snprintf(c.state, sizeof(c.state), "aborted");
	snprintf(c.reason, sizeof(c.reason), "aborted by the operator");
	if (hfw_run_put(ctx->session.ledger, &c, &err) < 0)
		return cmd_report(&err);
	if (!ctx->quiet)
		printf("campaign %s: aborted: nothing more is sent\n", c.name);
	return HFW_EXIT_OK;
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
		if (get_campaign(ctx->session.ledger, argv[0], &c, &err) < 0)
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
