/*
 * report.c - a campaign's report as one self-contained HTML page (report.h).
 *
 * Devices are kept sorted by EUI once everything is in, so the plan's waves
 * and the messages over time join them by binary search: O(n log n) for a
 * campaign of any size, and the page is bounded by max_devices per reason,
 * HFW_REPORT_MAX_REASONS reasons and a fixed number of chart points.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "campaign.h"
#include "eui.h"
#include "report.h"
#include "run.h"

#define NO_TIME INT64_MIN
#define CHART_POINTS 48
#define MAX_PAGE (64u << 20)	/* far above what the bounds allow: a ceiling, not a budget */

/* The lifecycle (campaign.h) in order: how far each state got, and whether it is a failure. */
static const struct stage {
	const char *state;
	int rank, failed;
} stages[] = {
	{ "distribution_requested", 0, 0 }, { "distribution_refused", 0, 1 }, { "accepted", 1, 0 },
	{ "delivered_to_hub", 2, 0 }, { "hub_delivery_failed", 2, 1 }, { "transferred", 3, 0 },
	{ "image_discarded", 3, 1 }, { "hardware_mismatch", 3, 1 }, { "transfer_failed", 3, 1 },
	{ "verified", 4, 0 }, { "hash_mismatch", 4, 1 }, { "verification_failed", 4, 1 },
	{ "distribution_failed", 4, 1 }, { "activation_requested", 5, 0 }, { "activation_scheduled", 5, 0 },
	{ "activation_not_sent", 5, 1 }, { "activated", 6, 0 }, { "activation_failed", 6, 1 },
	{ "version_confirmed", 7, 0 }, { "version_mismatch", 7, 1 }, { "version_read_failed", 7, 1 },
	/* A held request (the DCC's quarantine), and a device out of the campaign (a mid-campaign event). */
	{ "distribution_quarantined", 1, 1 }, { "activation_quarantined", 5, 1 }, { "left_campaign", 0, 1 },
};
#define NSTAGES (sizeof(stages) / sizeof(stages[0]))

/* The funnel's columns: a device passed column k when its rank is above k, or k and not failed there. */
static const char *const funnel_names[] = { "requested", "accepted", "delivered to hub", "transferred", "verified" };
#define NFUNNEL (sizeof(funnel_names) / sizeof(funnel_names[0]))

/* The chart's series: how far a device got, or that it is at its goal, or failed. */
enum { REQUESTED, AT_HUB, VERIFIED, AT_GOAL, FAILED, NCLASSES };
static const char *const class_names[NCLASSES] = { "requested or accepted", "delivered or transferred",
						   "verified or activation requested", "at goal", "failed" };
static const char *const class_colours[NCLASSES] = { "#9bb7d4", "#4a7fb5", "#2c4f7c", "#3c9a4e", "#c8453a" };

struct device {
	char eui[HFW_EUI_TEXT_MAX];
	int stage;			/* index into stages, -1: not in the ledger */
	char *reason;
	size_t wave;			/* 0: not in the plan */
	int64_t at;			/* since when it is where it stands (NO_TIME: unknown) */
	int cls;			/* the chart's series, as time goes */
	int settled;			/* the chart reached at: later messages do not move it */
};

struct skipped {
	char eui[HFW_EUI_TEXT_MAX];
	char *reason;
};

struct event {
	char eui[HFW_EUI_TEXT_MAX];
	int64_t at;
	int cls;
};

/* A device as the campaign run has it (run.h). */
struct rundev {
	char eui[HFW_EUI_TEXT_MAX];
	int64_t wave;			/* 0: skipped by the plan */
	int step;			/* enum hfw_run_step */
	char *reason;
};

struct hfw_report {
	char *campaign;
	int64_t start;
	struct device *dev;
	size_t ndev, capdev;
	struct skipped *skip;
	size_t nskip, capskip;
	struct event *ev;
	size_t nev, capev;
	int has_plan;
	/* The campaign run's state, when it has one (has_run). */
	int has_run;
	char *run_state, *run_reason;
	int64_t run_wave, run_gate_passed;
	struct rundev *run;
	size_t nrun, caprun;
};

static int grow(void **v, size_t *cap, size_t n, size_t size, struct hfw_error *err)
{
	size_t c = *cap ? *cap * 2 : 256;
	void *p;

	if (n < *cap)
		return 0;
	if (!(p = realloc(*v, c * size)))
		return hfw_error_oom(err);
	*v = p;
	*cap = c;
	return 0;
}

/* "2026-11-27T18:00:00[.mmm][Z]" as milliseconds since the epoch (UTC), or NO_TIME. */
static int64_t parse_time(const char *t)
{
	unsigned y, mo, d, h, mi, s;
	int n = 0, ms = 0, k;

	if (!t || sscanf(t, "%4u-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19 || mo < 1 ||
	    mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return NO_TIME;
	if (t[19] == '.')
		for (k = 0, t += 20; k < 3; k++)
			ms = ms * 10 + (*t >= '0' && *t <= '9' ? *t++ - '0' : 0);
	return ((hfw_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000 + ms;
}

static void format_time(char out[48], int64_t ms)
{
	int64_t z = ms / 1000, days = z / 86400, sod = z % 86400, era, y;
	unsigned doe, yoe, doy, mp, d, m;

	if (sod < 0) {
		sod += 86400;
		days--;
	}
	/* civil_from_days */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = (unsigned)(days - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	snprintf(out, 48, "%04lld-%02u-%02u %02d:%02d:%02dZ", (long long)(y + (m <= 2)), m, d, (int)(sod / 3600),
		 (int)(sod / 60 % 60), (int)(sod % 60));
}

static int stage_of(const char *state)
{
	size_t i;

	for (i = 0; state && i < NSTAGES; i++)
		if (!strcmp(stages[i].state, state))
			return (int)i;
	return -1;
}

/* The chart's series for a state or event name; -1 for what moves nothing (alerts, unknown names). */
static int class_of(const char *state)
{
	int k = stage_of(state);

	if (state && !strcmp(state, "version_read"))
		return AT_GOAL;
	if (state && !strcmp(state, "verified_hash"))
		return VERIFIED;
	if (k < 0)
		return -1;
	return stages[k].failed ? FAILED : stages[k].rank >= 6 ? AT_GOAL : stages[k].rank >= 4 ? VERIFIED
	       : stages[k].rank >= 2 ? AT_HUB : REQUESTED;
}

static int eui_ok(char out[HFW_EUI_TEXT_MAX], const char *eui, struct hfw_error *err)
{
	struct hfw_eui e;

	if (!eui || hfw_eui_parse(&e, eui, "device", err) < 0)
		return hfw_error_set(err, HFW_EINPUT, "report: '%.40s' is not a device's EUI-64", eui ? eui : "(none)");
	hfw_eui_format(out, &e);
	return 0;
}

int hfw_report_new(hfw_report **out, const char *campaign, struct hfw_error *err)
{
	hfw_report *r = calloc(1, sizeof(*r));

	if (!r || !(r->campaign = strdup(campaign ? campaign : ""))) {
		free(r);
		return hfw_error_oom(err);
	}
	r->start = NO_TIME;
	*out = r;
	return 0;
}

void hfw_report_free(hfw_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->ndev; i++)
		free(r->dev[i].reason);
	for (i = 0; i < r->nskip; i++)
		free(r->skip[i].reason);
	for (i = 0; i < r->nrun; i++)
		free(r->run[i].reason);
	free(r->run);
	free(r->run_state);
	free(r->run_reason);
	free(r->dev);
	free(r->skip);
	free(r->ev);
	free(r->campaign);
	free(r);
}

static int add(hfw_report *r, const char *eui, int stage, const char *reason, size_t wave, int64_t at,
	       struct hfw_error *err)
{
	struct device *d;

	if (grow((void **)&r->dev, &r->capdev, r->ndev, sizeof(*r->dev), err) < 0)
		return HFW_ENOMEM;
	d = &r->dev[r->ndev];
	memset(d, 0, sizeof(*d));
	if (eui_ok(d->eui, eui, err) < 0)
		return HFW_EINPUT;
	if (reason && !(d->reason = strdup(reason)))
		return hfw_error_oom(err);
	d->stage = stage;
	d->wave = wave;
	d->at = at;
	r->ndev++;
	return 0;
}

int hfw_report_add_device(hfw_report *r, const char *eui, const char *state, const char *reason, const char *at,
			  struct hfw_error *err)
{
	int k = stage_of(state);

	if (k < 0)
		return hfw_error_set(err, HFW_EINPUT, "report: '%.40s' is not a lifecycle state", state ? state : "(none)");
	return add(r, eui, k, reason, 0, parse_time(at), err);
}

int hfw_report_add_planned(hfw_report *r, const char *eui, size_t wave, struct hfw_error *err)
{
	r->has_plan = 1;
	return add(r, eui, -1, NULL, wave, NO_TIME, err);
}

int hfw_report_add_skipped(hfw_report *r, const char *eui, const char *reason, struct hfw_error *err)
{
	struct skipped *s;

	r->has_plan = 1;
	if (grow((void **)&r->skip, &r->capskip, r->nskip, sizeof(*r->skip), err) < 0)
		return HFW_ENOMEM;
	s = &r->skip[r->nskip];
	if (eui_ok(s->eui, eui, err) < 0)
		return HFW_EINPUT;
	if (!(s->reason = strdup(reason ? reason : "unknown")))
		return hfw_error_oom(err);
	r->nskip++;
	return 0;
}

int hfw_report_add_event(hfw_report *r, const char *eui, const char *state, const char *at, struct hfw_error *err)
{
	struct event *e;
	int cls = class_of(state);
	int64_t t = parse_time(at);

	if (cls < 0 || t == NO_TIME)
		return 0;	/* moves no device on the chart */
	if (grow((void **)&r->ev, &r->capev, r->nev, sizeof(*r->ev), err) < 0)
		return HFW_ENOMEM;
	e = &r->ev[r->nev];
	if (eui_ok(e->eui, eui, err) < 0)
		return HFW_EINPUT;
	e->at = t;
	e->cls = cls;
	r->nev++;
	return 0;
}

void hfw_report_set_start(hfw_report *r, const char *at)
{
	r->start = parse_time(at);
}

/* ---- sources ---- */

static int on_row(void *arg, const struct hfw_ledger_row *row)
{
	void **a = arg;
	struct hfw_error *err = a[1];

	if (strcmp(row->source, "event") != 0 || !row->device)
		return 0;
	return hfw_report_add_event(a[0], row->device, row->state, row->at, err) < 0 ? -1 : 0;
}

int hfw_report_from_ledger(hfw_report *r, hfw_ledger *l, struct hfw_error *err)
{
	json_t *status = NULL, *d;
	char start[64];
	void *arg[2] = { r, err };
	size_t i;
	int goal, ret;

	if ((ret = hfw_campaign_status(&status, l, r->campaign, NULL, 1, &goal, err)) < 0)
		goto out;
	json_array_foreach(json_object_get(status, "device_states"), i, d) {
		if ((ret = hfw_report_add_device(r, json_string_value(json_object_get(d, "device")),
						 json_string_value(json_object_get(d, "state")),
						 json_string_value(json_object_get(d, "reason")),
						 json_string_value(json_object_get(d, "at")), err)) < 0)
			goto out;
	}
	if ((ret = hfw_ledger_campaign_start(l, r->campaign, start, sizeof(start), err)) < 0)
		goto out;
	hfw_report_set_start(r, start);
	/* Events of every campaign come by; only the campaign's devices are kept when the page is made. */
	if ((ret = hfw_ledger_each_campaign_row(l, r->campaign, NULL, on_row, arg, err)) != 0)
		ret = err->code ? err->code : HFW_EIO;
out:
	json_decref(status);
	return ret;
}

int hfw_report_set_run(hfw_report *r, const char *state, const char *reason, int64_t wave, int64_t gate_passed,
		       struct hfw_error *err)
{
	free(r->run_state);
	free(r->run_reason);
	r->run_reason = NULL;
	if (!(r->run_state = strdup(state ? state : "unknown")) || (reason && *reason && !(r->run_reason = strdup(reason))))
		return hfw_error_oom(err);
	r->run_wave = wave;
	r->run_gate_passed = gate_passed;
	r->has_run = 1;
	return 0;
}

int hfw_report_add_run_device(hfw_report *r, const char *eui, int64_t wave, const char *step, const char *reason,
			      struct hfw_error *err)
{
	struct rundev *d;
	int s = hfw_run_step_parse(step);

	if (s < 0)
		return hfw_error_set(err, HFW_EINPUT, "report: '%.40s' is not a campaign run step", step ? step : "(none)");
	if (wave < 0)
		return hfw_error_set(err, HFW_EINPUT, "report: device %.40s has a negative wave", eui ? eui : "(none)");
	if (grow((void **)&r->run, &r->caprun, r->nrun, sizeof(*r->run), err) < 0)
		return HFW_ENOMEM;
	d = &r->run[r->nrun];
	memset(d, 0, sizeof(*d));
	if (eui_ok(d->eui, eui, err) < 0)
		return HFW_EINPUT;
	if (reason && !(d->reason = strdup(reason)))
		return hfw_error_oom(err);
	d->wave = wave;
	d->step = s;
	r->nrun++;
	r->has_run = 1;
	/* The run's waves and skips are the plan's. */
	if (wave > 0)
		return hfw_report_add_planned(r, eui, (size_t)wave, err);
	if (s == HFW_RUN_SKIPPED)
		return hfw_report_add_skipped(r, eui, reason, err);
	return 0;
}

struct run_arg {
	hfw_report *r;
	struct hfw_error *err;
};

static int on_run_device(void *arg, const struct hfw_run_device *d)
{
	struct run_arg *a = arg;

	return hfw_report_add_run_device(a->r, d->device, d->wave, hfw_run_step_name(d->step), d->reason, a->err) < 0;
}

int hfw_report_from_run(hfw_report *r, hfw_ledger *l, int *found, struct hfw_error *err)
{
	struct hfw_run_campaign c;
	struct run_arg a = { r, err };
	int ret;

	if ((ret = hfw_run_get(l, r->campaign, &c, found, err)) < 0 || !*found)
		return ret;
	if ((ret = hfw_report_set_run(r, c.state, c.reason, c.wave, c.gate_passed, err)) < 0)
		return ret;
	if ((ret = hfw_run_each_device(l, r->campaign, 0, on_run_device, &a, err)) != 0)
		return err->code < 0 ? err->code : HFW_EIO;
	return 0;
}

int hfw_report_read_plan(hfw_report *r, const char *path, struct hfw_error *err)
{
	json_error_t je;
	json_t *plan = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *w, *q, *e, *s;
	size_t i, j, k;
	int ret = 0;

	if (!plan) {
		ret = hfw_error_set(err, HFW_EINPUT, "plan '%s': line %d: %s", path, je.line, je.text);
		goto out;
	}
	if (!json_is_string(json_object_get(plan, "format")) ||
	    strcmp(json_string_value(json_object_get(plan, "format")), "hanfw-plan-1") != 0 ||
	    !json_is_array(json_object_get(plan, "waves")) || !json_is_array(json_object_get(plan, "skipped"))) {
		ret = hfw_error_set(err, HFW_EINPUT, "plan '%s' is not a hanfw-plan-1 plan (format, waves, skipped)", path);
		goto out;
	}
	json_array_foreach(json_object_get(plan, "waves"), i, w) {
		json_int_t wave = json_integer_value(json_object_get(w, "wave"));

		if (wave < 1) {
			ret = hfw_error_set(err, HFW_EINPUT, "plan '%s': wave %zu has no number", path, i + 1);
			goto out;
		}
		json_array_foreach(json_object_get(w, "requests"), j, q)
			json_array_foreach(json_object_get(q, "devices"), k, e)
				if ((ret = hfw_report_add_planned(r, json_string_value(e), (size_t)wave, err)) < 0)
					goto out;
	}
	json_array_foreach(json_object_get(plan, "skipped"), i, s)
		if (!r->has_run && (ret = hfw_report_add_skipped(r, json_string_value(json_object_get(s, "eui")),
						  json_string_value(json_object_get(s, "reason")), err)) < 0)
			goto out;
	r->has_plan = 1;
out:
	if (ret < 0 && err->code == HFW_EINPUT && strncmp(err->text, "plan", 4) != 0) {
		char why[HFW_ERROR_TEXT_MAX];

		snprintf(why, sizeof(why), "%s", err->text);
		hfw_error_set(err, HFW_EINPUT, "plan '%s': %s", path, why);
	}
	json_decref(plan);
	return ret;
}

size_t hfw_report_count(const hfw_report *r)
{
	return r->ndev + r->nskip;
}

/* ---- the page ---- */

static int cmp_device(const void *a, const void *b)
{
	return strcmp(((const struct device *)a)->eui, ((const struct device *)b)->eui);
}

static int cmp_event_time(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

/* Merge the ledger's and the plan's entries for one device: its state, reason and wave. */
static void merge(hfw_report *r)
{
	size_t i, k = 0;

	if (r->ndev)
		qsort(r->dev, r->ndev, sizeof(*r->dev), cmp_device);
	for (i = 0; i < r->ndev; i++) {
		if (k && !strcmp(r->dev[k - 1].eui, r->dev[i].eui)) {
			struct device *d = &r->dev[k - 1], *o = &r->dev[i];

			if (o->stage >= 0 && d->stage < 0) {
				d->stage = o->stage;
				d->at = o->at;
				free(d->reason);
				d->reason = o->reason;
				o->reason = NULL;
			}
			if (o->wave && !d->wave)
				d->wave = o->wave;
			free(o->reason);
			continue;
		}
		r->dev[k++] = r->dev[i];
	}
	r->ndev = k;
}

static struct device *find(hfw_report *r, const char *eui)
{
	struct device key;

	if (!r->ndev)
		return NULL;
	memcpy(key.eui, eui, sizeof(key.eui));
	return bsearch(&key, r->dev, r->ndev, sizeof(*r->dev), cmp_device);
}

/* Text from the ledger or the plan, as HTML. */
static int put_text(struct hfw_buf *b, const char *s, struct hfw_error *err)
{
	int ret = 0;

	for (; s && *s && ret == 0; s++) {
		switch (*s) {
		case '&': ret = hfw_buf_puts(b, "&amp;", err); break;
		case '<': ret = hfw_buf_puts(b, "&lt;", err); break;
		case '>': ret = hfw_buf_puts(b, "&gt;", err); break;
		case '"': ret = hfw_buf_puts(b, "&quot;", err); break;
		case '\'': ret = hfw_buf_puts(b, "&#39;", err); break;
		default: ret = hfw_buf_append(b, s, 1, err);
		}
	}
	return ret;
}

static const char style[] =
	"body{font:14px/1.4 sans-serif;margin:2em;color:#222;background:#fff}"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em;border-bottom:1px solid #ccc}"
	"table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
	"th{text-align:left;background:#f4f4f4}td:first-child,td.l{text-align:left}td.devs{text-align:left;font-family:monospace;font-size:12px}"
	".bar{display:inline-block;height:.8em;background:#4a7fb5}.key span{display:inline-block;width:1em;height:1em;"
	"margin:0 .3em 0 1em;vertical-align:middle}.muted{color:#666}";

static int funnel(struct hfw_buf *b, hfw_report *r, const char *title, struct hfw_error *err)
{
	size_t waves = 0, i, w, k, cap = HFW_REPORT_MAX_WAVES;
	int ret;

	for (i = 0; i < r->ndev; i++)
		if (r->dev[i].wave > waves)
			waves = r->dev[i].wave;
	if ((ret = hfw_buf_printf(b, err, "<h2>%s</h2><table id=\"funnel\"><tr><th>wave</th><th>devices</th>", title)) < 0)
		return ret;
	for (k = 0; k < NFUNNEL; k++)
		if ((ret = hfw_buf_printf(b, err, "<th>%s</th>", funnel_names[k])) < 0)
			return ret;
	if ((ret = hfw_buf_puts(b, "<th>at goal</th><th>failed</th></tr>", err)) < 0)
		return ret;
	/*
	 * Wave 0: devices of the ledger no plan wave holds (all of them without a plan).  The waves past
	 * HFW_REPORT_MAX_WAVES go in one row (row cap + 1), so the page stays bounded.
	 */
	for (w = 0; w <= waves && w <= cap + 1; w++) {
		size_t n = 0, passed[NFUNNEL], goal = 0, failed = 0;

		memset(passed, 0, sizeof(passed));
		for (i = 0; i < r->ndev; i++) {
			const struct device *d = &r->dev[i];

			if ((d->wave > cap ? cap + 1 : d->wave) != w)
				continue;
			n++;
			if (d->stage < 0)
				continue;
			for (k = 0; k < NFUNNEL; k++)
				passed[k] += stages[d->stage].rank > (int)k ||
					     (stages[d->stage].rank == (int)k && !stages[d->stage].failed);
			passed[0] += stages[d->stage].rank == 0 && stages[d->stage].failed;	/* refused was requested */
			goal += class_of(stages[d->stage].state) == AT_GOAL;
			failed += stages[d->stage].failed;
		}
		if (!n)
			continue;
		if (w == 0)
			ret = hfw_buf_printf(b, err, "<tr><td>%s</td><td>%zu</td>", waves ? "not in the plan" : "all", n);
		else if (w > cap)
			ret = hfw_buf_printf(b, err, "<tr><td>waves %zu to %zu</td><td>%zu</td>", cap + 1, waves, n);
		else
			ret = hfw_buf_printf(b, err, "<tr><td>%zu%s</td><td>%zu</td>", w, w == 1 ? " (canary)" : "", n);
		for (k = 0; k < NFUNNEL && ret == 0; k++)
			ret = hfw_buf_printf(b, err, "<td>%zu <span class=\"bar\" style=\"width:%zupx\"></span></td>", passed[k],
					     n ? passed[k] * 60 / n : 0);
		if (ret == 0)
			ret = hfw_buf_printf(b, err, "<td>%zu</td><td>%zu</td></tr>", goal, failed);
		if (ret < 0)
			return ret;
	}
	return hfw_buf_puts(b, "</table>", err);
}

/*
 * Devices per series over time, as stacked areas.  A device moves with its
 * messages (each event's stage) until the time of where it stands now,
 * which it then keeps; one that stands somewhere with no time (refused at
 * distribution) is there from the start.
 */
static int chart(struct hfw_buf *b, hfw_report *r, struct hfw_error *err)
{
	static const int order[NCLASSES] = { AT_GOAL, VERIFIED, AT_HUB, REQUESTED, FAILED };	/* bottom up */
	size_t counts[CHART_POINTS + 1][NCLASSES], base[CHART_POINTS + 1], i, p, e = 0, members = 0;
	int64_t t0 = NO_TIME, t1 = NO_TIME, span, *settle = NULL;
	const double W = 720, H = 240, X0 = 50, Y0 = 10;
	char from[48], to[48];
	size_t s = 0, nsettle = 0;
	int c, o, ret;

	memset(counts, 0, sizeof(counts));
	memset(base, 0, sizeof(base));
	if (r->nev)
		qsort(r->ev, r->nev, sizeof(*r->ev), cmp_event);
	if (r->nev && (t0 == NO_TIME || r->ev[0].at < t0))
		t0 = r->ev[0].at;
	for (i = 0; i < r->ndev; i++) {
		struct device *d = &r->dev[i];

		d->cls = REQUESTED;
		d->settled = 0;
		if (d->stage < 0)
			continue;
		members++;
		if (d->at != NO_TIME && (t0 == NO_TIME || d->at < t0))
			t0 = d->at;
		if (d->at != NO_TIME && (t1 == NO_TIME || d->at > t1))
			t1 = d->at;
	}
	/*
	 * The devices' own clock throughout (a sandbox's runs ahead of hanfw's); the campaign's first
	 * request only when no device said when.
	 */
	if (t0 == NO_TIME)
		t0 = r->start != NO_TIME ? r->start : 0;	/* 0: no time at all (said so on the page) */
	if (r->nev && (t1 == NO_TIME || r->ev[r->nev - 1].at > t1))
		t1 = r->ev[r->nev - 1].at;
	if (t1 == NO_TIME || t1 <= t0)
		t1 = t0 + 1000;
	span = t1 - t0;
	/* The times devices settle, in order: (time, index) packed as pairs. */
	if (!(settle = malloc((members + 1) * 2 * sizeof(*settle))))
		return hfw_error_oom(err);
	for (i = 0; i < r->ndev; i++)
		if (r->dev[i].stage >= 0) {
			settle[2 * nsettle] = r->dev[i].at == NO_TIME ? t0 : r->dev[i].at;
			settle[2 * nsettle++ + 1] = (int64_t)i;
		}
	qsort(settle, nsettle, 2 * sizeof(*settle), cmp_event_time);
	for (p = 0; p <= CHART_POINTS; p++) {
		int64_t until = p == CHART_POINTS ? t1 : t0 + (int64_t)((double)span * (double)p / CHART_POINTS);

		while ((e < r->nev && r->ev[e].at <= until) || (s < nsettle && settle[2 * s] <= until)) {
			if (e < r->nev && r->ev[e].at <= until && (s >= nsettle || r->ev[e].at < settle[2 * s])) {
				struct device *d = find(r, r->ev[e].eui);

				if (d && d->stage >= 0 && !d->settled)
					d->cls = r->ev[e].cls;
				e++;
			} else {
				struct device *d = &r->dev[settle[2 * s + 1]];

				d->cls = class_of(stages[d->stage].state);
				d->settled = 1;
				s++;
			}
		}
		for (i = 0; i < r->ndev; i++)
			if (r->dev[i].stage >= 0)
				counts[p][r->dev[i].cls]++;
	}
	free(settle);
	format_time(from, t0);
	format_time(to, t1);
	if (!members || (t0 == 0 && r->start == NO_TIME && !r->nev)) {
		snprintf(from, sizeof(from), "no device has said anything yet");
		to[0] = '\0';
	}
	if ((ret = hfw_buf_printf(b, err,
				  "<h2>Device states over time</h2><p class=\"muted\">%s%s%s (the devices' own times, as "
				  "their messages say): each device where its messages had placed it by then.</p>"
				  "<svg id=\"states-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
				  "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"device states over time\">"
				  "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"#f4f4f4\"/>",
				  from, to[0] ? " to " : "", to, W + X0 + 20, H + Y0 + 40, W + X0 + 20, H + Y0 + 40, X0, Y0, W,
				  H)) < 0)
		return ret;
	for (o = 0; o < NCLASSES; o++) {
		c = order[o];
		if ((ret = hfw_buf_printf(b, err, "<polygon class=\"series\" fill=\"%s\" points=\"", class_colours[c])) < 0)
			return ret;
		for (p = 0; p <= CHART_POINTS && ret == 0; p++)
			ret = hfw_buf_printf(b, err, "%.1f,%.1f ", X0 + W * (double)p / CHART_POINTS,
					     Y0 + H - (members ? H * (double)(base[p] + counts[p][c]) / (double)members : 0));
		for (p = CHART_POINTS + 1; p-- > 0 && ret == 0;)
			ret = hfw_buf_printf(b, err, "%.1f,%.1f ", X0 + W * (double)p / CHART_POINTS,
					     Y0 + H - (members ? H * (double)base[p] / (double)members : 0));
		if (ret == 0)
			ret = hfw_buf_printf(b, err, "\"><title>%s</title></polygon>", class_names[c]);
		if (ret < 0)
			return ret;
		for (p = 0; p <= CHART_POINTS; p++)
			base[p] += counts[p][c];
	}
	if ((ret = hfw_buf_printf(b, err,
				  "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"end\">%zu</text>"
				  "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"end\">0</text>"
				  "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">%s</text>"
				  "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"end\">%s</text></svg>"
				  "<p class=\"key\">",
				  X0 - 4, Y0 + 10, members, X0 - 4, Y0 + H, X0, Y0 + H + 16, from, X0 + W, Y0 + H + 16, to)) < 0)
		return ret;
	for (o = NCLASSES; o-- > 0;)
		if ((ret = hfw_buf_printf(b, err, "<span style=\"background:%s\"></span>%s: %zu", class_colours[order[o]],
					  class_names[order[o]], counts[CHART_POINTS][order[o]])) < 0)
			return ret;
	return hfw_buf_puts(b, "</p>", err);
}

/* A reason's group of devices: what it is, how many, and the first max of them. */
struct group {
	const char *reason, *state;	/* state: NULL for the plan's skips */
	size_t first, n;		/* into the sorted index */
};

struct item {
	const char *reason, *state, *eui;
};

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->state ? x->state : "", y->state ? y->state : "");

	if (!c)
		c = strcmp(x->reason, y->reason);
	return c ? c : strcmp(x->eui, y->eui);
}

static int reasons_table(struct hfw_buf *b, struct item *items, size_t n, size_t max, const char *title,
			 const char *id, int with_state, struct hfw_error *err)
{
	size_t i = 0, k, groups = 0, rest_groups = 0, rest_devices = 0;
	int ret;

	qsort(items, n, sizeof(*items), cmp_item);
	if ((ret = hfw_buf_printf(b, err, "<h2>%s</h2>", title)) < 0)
		return ret;
	if (!n)
		return hfw_buf_puts(b, "<p class=\"muted\">None.</p>", err);
	if ((ret = hfw_buf_printf(b, err, "<table id=\"%s\"><tr>%s<th>reason</th><th>devices</th><th>which</th></tr>", id,
				  with_state ? "<th>state</th>" : "")) < 0)
		return ret;
	while (i < n) {
		size_t j = i;

		while (j < n && !strcmp(items[j].reason, items[i].reason) &&
		       !strcmp(items[j].state ? items[j].state : "", items[i].state ? items[i].state : ""))
			j++;
		if (groups >= HFW_REPORT_MAX_REASONS) {
			rest_groups++;
			rest_devices += j - i;
			i = j;
			continue;
		}
		groups++;
		ret = hfw_buf_puts(b, "<tr>", err);
		if (ret == 0 && with_state) {
			ret = hfw_buf_puts(b, "<td class=\"l\">", err);
			if (ret == 0)
				ret = put_text(b, items[i].state, err);
			if (ret == 0)
				ret = hfw_buf_puts(b, "</td>", err);
		}
		if (ret == 0)
			ret = hfw_buf_puts(b, "<td class=\"l\">", err);
		if (ret == 0)
			ret = put_text(b, items[i].reason, err);
		if (ret == 0)
			ret = hfw_buf_printf(b, err, "</td><td>%zu</td><td class=\"devs\">", j - i);
		for (k = i; k < j && k < i + max && ret == 0; k++) {
			ret = put_text(b, items[k].eui, err);
			if (ret == 0)
				ret = hfw_buf_puts(b, k + 1 < j && k + 1 < i + max ? ", " : "", err);
		}
		if (ret == 0 && j - i > max)
			ret = hfw_buf_printf(b, err, " <span class=\"muted\">and %zu more</span>", j - i - max);
		if (ret == 0)
			ret = hfw_buf_puts(b, "</td></tr>", err);
		if (ret < 0)
			return ret;
		i = j;
	}
	if ((ret = hfw_buf_puts(b, "</table>", err)) < 0)
		return ret;
	if (rest_groups)
		ret = hfw_buf_printf(b, err, "<p class=\"muted\">and %zu more reasons (%zu devices) not shown</p>",
				     rest_groups, rest_devices);
	return ret;
}

/* ---- the campaign run (run.h) ---- */

/* What a run state means for the operator. */
static const char *run_meaning(const char *state)
{
	static const struct {
		const char *state, *says;
	} m[] = {
		{ "running", "the run is sending or waiting for what the DCC and the devices say" },
		{ "halted", "a wave breached its gate: nothing more is sent until hanfw campaign resume (after a decision)" },
		{ "paused", "the DCC quarantined a request: nothing more is sent until hanfw campaign resume" },
		{ "completed", "every wave ran and passed its gate" },
		{ "aborted", "stopped for good by the operator: nothing more is sent" },
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(m[i].state, state))
			return m[i].says;
	return "an unknown state";
}

static int is_state(const hfw_report *r, const char *state)
{
	return r->run_state && !strcmp(r->run_state, state);
}

/* The run's state and why, at the top of the page. */
static int run_state(struct hfw_buf *b, const hfw_report *r, int64_t nwaves, struct hfw_error *err)
{
	int ret;

	if ((ret = hfw_buf_puts(b, "<h2>Run state</h2><p id=\"run-state\">The run is <b class=\"state\">", err)) < 0 ||
	    (ret = put_text(b, r->run_state, err)) < 0 || (ret = hfw_buf_puts(b, "</b>", err)) < 0)
		return ret;
	if (r->run_reason && ((ret = hfw_buf_puts(b, ": <span id=\"run-reason\">", err)) < 0 ||
			      (ret = put_text(b, r->run_reason, err)) < 0 || (ret = hfw_buf_puts(b, "</span>", err)) < 0))
		return ret;
	return hfw_buf_printf(b, err, " (%s). Wave %lld of %lld; gates passed through wave %lld.</p>",
			      run_meaning(r->run_state), (long long)r->run_wave, (long long)nwaves,
			      (long long)r->run_gate_passed);
}

/* A wave's gate, as the run state says it (the last wave whose gate passed, the wave being run). */
static int gate_cell(struct hfw_buf *b, const hfw_report *r, int64_t w, struct hfw_error *err)
{
	int ret;

	if (w <= r->run_gate_passed)
		return hfw_buf_puts(b, "<td class=\"l gate-passed\">passed</td>", err);
	if (w != r->run_wave || is_state(r, "completed"))
		return hfw_buf_puts(b, "<td class=\"l\">not started</td>", err);
	if (is_state(r, "halted")) {
		if ((ret = hfw_buf_puts(b, "<td class=\"l gate-breached\">breached: ", err)) < 0 ||
		    (ret = put_text(b, r->run_reason ? r->run_reason : "(no reason recorded)", err)) < 0)
			return ret;
		return hfw_buf_puts(b, "</td>", err);
	}
	if (is_state(r, "paused"))
		return hfw_buf_puts(b, "<td class=\"l\">not decided: paused (quarantine)</td>", err);
	if (is_state(r, "aborted"))
		return hfw_buf_puts(b, "<td class=\"l\">not decided: aborted</td>", err);
	return hfw_buf_puts(b, "<td class=\"l\">not decided yet: running</td>", err);
}

/* One row of the run's funnel: counts per step (c), the wave's label, its gate (w > 0). */
static int run_row(struct hfw_buf *b, const hfw_report *r, const char *label, int64_t w, const size_t *c,
		   struct hfw_error *err)
{
	static const int open_steps[] = { HFW_RUN_PENDING, HFW_RUN_DISTRIBUTE, HFW_RUN_ACTIVATE, HFW_RUN_READ_VERSION };
	size_t n = 0, open = 0, k, shown = 0;
	int ret;

	for (k = 0; k < HFW_RUN_STEPS; k++)
		n += c[k];
	for (k = 0; k < 4; k++)
		open += c[open_steps[k]];
	if ((ret = hfw_buf_printf(b, err, "<tr><td>%s</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu",
				  label, n, c[HFW_RUN_DONE], c[HFW_RUN_FAILED], c[HFW_RUN_LEFT], c[HFW_RUN_SKIPPED], open)) < 0)
		return ret;
	for (k = 0; k < 4 && ret == 0; k++)
		if (c[open_steps[k]])
			ret = hfw_buf_printf(b, err, "%s%s %zu", shown++ ? ", " : " <span class=\"muted\">(",
					     hfw_run_step_name((enum hfw_run_step)open_steps[k]), c[open_steps[k]]);
	if (ret == 0 && shown)
		ret = hfw_buf_puts(b, ")</span>", err);
	if (ret == 0)
		ret = hfw_buf_puts(b, "</td>", err);
	if (ret == 0)
		ret = w > 0 ? gate_cell(b, r, w, err) : hfw_buf_puts(b, "<td class=\"l\"></td>", err);
	if (ret == 0)
		ret = hfw_buf_puts(b, "</tr>", err);
	return ret;
}

/*
 * The run's funnel per wave: devices, done, failed, left, skipped, in
 * progress (by step), and the wave's gate.  At most HFW_REPORT_MAX_WAVES
 * rows of waves; the waves after them are summed in one row.
 */
static int run_funnel(struct hfw_buf *b, const hfw_report *r, int64_t nwaves, struct hfw_error *err)
{
	size_t *c = NULL, rest[HFW_RUN_STEPS], i, k;
	int64_t w;
	char label[64];
	int ret;

	if (!(c = calloc(((size_t)nwaves + 1) * HFW_RUN_STEPS, sizeof(*c))))
		return hfw_error_oom(err);
	for (i = 0; i < r->nrun; i++)
		c[(size_t)r->run[i].wave * HFW_RUN_STEPS + (size_t)r->run[i].step]++;
	memset(rest, 0, sizeof(rest));
	ret = hfw_buf_puts(b, "<h2>Funnel per wave</h2><table id=\"run-waves\"><tr><th>wave</th><th>devices</th>"
			   "<th>done</th><th>failed</th><th>left</th><th>skipped</th><th>in progress</th><th>gate</th></tr>",
			   err);
	for (w = 1; w <= nwaves && ret == 0; w++) {
		if ((uint64_t)w > HFW_REPORT_MAX_WAVES) {
			for (k = 0; k < HFW_RUN_STEPS; k++)
				rest[k] += c[(size_t)w * HFW_RUN_STEPS + k];
			continue;
		}
		snprintf(label, sizeof(label), "%lld%s", (long long)w, w == 1 ? " (canary)" : "");
		ret = run_row(b, r, label, w, c + (size_t)w * HFW_RUN_STEPS, err);
	}
	if (ret == 0 && (uint64_t)nwaves > HFW_REPORT_MAX_WAVES) {
		snprintf(label, sizeof(label), "waves %u to %lld", HFW_REPORT_MAX_WAVES + 1, (long long)nwaves);
		ret = run_row(b, r, label, 0, rest, err);
	}
	for (k = 0, i = 0; k < HFW_RUN_STEPS; k++)
		i += c[k];
	if (ret == 0 && i)
		ret = run_row(b, r, "not in a wave", 0, c, err);
	if (ret == 0)
		ret = hfw_buf_puts(b, "</table>", err);
	free(c);
	return ret;
}

/* The page of a campaign run: its state, funnel and reasons lead; the messages' funnel and chart follow. */
static int run_page(struct hfw_buf *b, hfw_report *r, size_t max, struct hfw_error *err)
{
	size_t steps[HFW_RUN_STEPS], i, n;
	struct item *items = NULL;
	int64_t nwaves = 0;
	int ret;

	memset(steps, 0, sizeof(steps));
	for (i = 0; i < r->nrun; i++) {
		steps[r->run[i].step]++;
		if (r->run[i].wave > nwaves)
			nwaves = r->run[i].wave;
	}
	if (r->run_wave > nwaves)
		nwaves = r->run_wave;
	if ((ret = hfw_buf_printf(b, err, "<span id=\"totals\">%zu devices in the run: %zu done, %zu failed, %zu left the "
				  "campaign, %zu skipped by the plan, %zu in progress.</span></p>", r->nrun,
				  steps[HFW_RUN_DONE], steps[HFW_RUN_FAILED], steps[HFW_RUN_LEFT], steps[HFW_RUN_SKIPPED],
				  r->nrun - steps[HFW_RUN_DONE] - steps[HFW_RUN_FAILED] - steps[HFW_RUN_LEFT] -
					  steps[HFW_RUN_SKIPPED])) < 0 ||
	    (ret = run_state(b, r, nwaves, err)) < 0 || (ret = run_funnel(b, r, nwaves, err)) < 0 ||
	    (ret = chart(b, r, err)) < 0)
		return ret;
	if (!(items = calloc(r->nrun + r->nskip + 1, sizeof(*items))))
		return hfw_error_oom(err);
	/* The run's failures, by the reason the run recorded (the gate, the wave's timeout, the device's state). */
	for (i = n = 0; i < r->nrun; i++)
		if (r->run[i].step == HFW_RUN_FAILED) {
			items[n].reason = r->run[i].reason ? r->run[i].reason : "failed";
			items[n++].eui = r->run[i].eui;
		}
	if ((ret = reasons_table(b, items, n, max, "Failure reasons", "failures", 0, err)) < 0)
		goto out;
	for (i = n = 0; i < r->nrun; i++)
		if (r->run[i].step == HFW_RUN_LEFT) {
			items[n].reason = r->run[i].reason ? r->run[i].reason : "left_campaign";
			items[n++].eui = r->run[i].eui;
		}
	if ((ret = reasons_table(b, items, n, max, "Devices that left the campaign", "left", 0, err)) < 0)
		goto out;
	for (i = 0; i < r->nskip; i++) {
		items[i].state = NULL;
		items[i].reason = r->skip[i].reason;
		items[i].eui = r->skip[i].eui;
	}
	if ((ret = reasons_table(b, items, r->nskip, max, "Skipped by the plan", "skipped", 0, err)) < 0)
		goto out;
	ret = funnel(b, r, "Messages per wave (the DCC's and the devices' own, from the ledger)", err);
out:
	free(items);
	return ret;
}

int hfw_report_html(hfw_report *r, const struct hfw_report_options *o, char **html, size_t *len,
		    struct hfw_error *err)
{
	struct hfw_buf b = HFW_BUF_INIT(MAX_PAGE);
	struct item *items = NULL;
	size_t max = o && o->max_devices ? o->max_devices : HFW_REPORT_DEFAULT_MAX_DEVICES;
	size_t i, n = 0, in_ledger = 0, goal = 0, failed = 0, planned = 0;
	int ret;

	*html = NULL;
	merge(r);
	for (i = 0; i < r->ndev; i++) {
		planned += r->dev[i].wave > 0;
		if (r->dev[i].stage < 0)
			continue;
		in_ledger++;
		goal += class_of(stages[r->dev[i].stage].state) == AT_GOAL;
		failed += stages[r->dev[i].stage].failed;
	}
	if ((ret = hfw_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
				"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
				"style-src 'unsafe-inline'; img-src data:\"><title>Campaign ", err)) < 0 ||
	    (ret = put_text(&b, r->campaign, err)) < 0 ||
	    (ret = hfw_buf_printf(&b, err, "</title><style>%s</style></head><body><h1>Campaign ", style)) < 0 ||
	    (ret = put_text(&b, r->campaign, err)) < 0 ||
	    (ret = hfw_buf_puts(&b, "</h1><p>", err)) < 0)
		goto out;
	if (o && o->generated && ((ret = hfw_buf_puts(&b, "Generated ", err)) < 0 ||
				  (ret = put_text(&b, o->generated, err)) < 0 || (ret = hfw_buf_puts(&b, ". ", err)) < 0))
		goto out;
	if (r->has_run) {
		if ((ret = run_page(&b, r, max, err)) < 0)
			goto out;
		goto end;
	}
	if ((ret = hfw_buf_printf(&b, err, "<span id=\"totals\">%zu devices in the ledger: %zu at goal, %zu failed, "
				  "%zu in progress", in_ledger, goal, failed, in_ledger - goal - failed)) < 0)
		goto out;
	if (r->has_plan && (ret = hfw_buf_printf(&b, err, "; %zu in the plan's waves, %zu skipped by the plan",
						 planned, r->nskip)) < 0)
		goto out;
	if ((ret = hfw_buf_puts(&b, ".</span></p>", err)) < 0 || (ret = funnel(&b, r, "Funnel per wave", err)) < 0 ||
	    (ret = chart(&b, r, err)) < 0)
		goto out;
	/* Failures: the devices in a failed state, by state and reason. */
	if (!(items = calloc((failed > r->nskip ? failed : r->nskip) + 1, sizeof(*items)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	for (i = 0; i < r->ndev; i++) {
		const struct device *d = &r->dev[i];

		if (d->stage >= 0 && stages[d->stage].failed) {
			items[n].state = stages[d->stage].state;
			items[n].reason = d->reason ? d->reason : stages[d->stage].state;
			items[n++].eui = d->eui;
		}
	}
	if ((ret = reasons_table(&b, items, n, max, "Failure reasons", "failures", 1, err)) < 0)
		goto out;
	if (r->has_plan) {
		for (i = 0; i < r->nskip; i++) {
			items[i].state = NULL;
			items[i].reason = r->skip[i].reason;
			items[i].eui = r->skip[i].eui;
		}
		if ((ret = reasons_table(&b, items, r->nskip, max, "Skipped by the plan", "skipped", 0, err)) < 0)
			goto out;
	}
end:
	if ((ret = hfw_buf_printf(&b, err, "<p class=\"muted\">At most %zu devices are listed per reason.</p>"
				  "</body></html>\n", max)) < 0)
		goto out;
	*html = hfw_buf_detach(&b, len);
out:
	free(items);
	hfw_buf_release(&b);
	return ret;
}
