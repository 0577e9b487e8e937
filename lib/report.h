/*
 * report.h - a campaign's report as one self-contained HTML page: what an
 * operator forwards to a manager.  The funnel per wave, the devices' states
 * over time as an SVG chart, the failure reasons and the devices behind each
 * (at most max_devices per reason, with a count of the rest, so that a
 * campaign of 100,000 devices still gives a page of bounded size).
 *
 * The page fetches nothing: inline CSS and SVG, no scripts, and a
 * Content-Security-Policy of default-src 'none' that says so to the browser.
 * Everything taken from the ledger or the plan is HTML-escaped.
 *
 * The data goes in through a collector, not straight from one store: the
 * ledger's campaign (hfw_report_from_ledger), the plan file
 * (hfw_report_read_plan) and, for a campaign driven by hanfw campaign run,
 * the run's own state (hfw_report_from_run, run.h): then the page leads
 * with the run's state and why, its funnel per wave with each wave's gate,
 * the run's failure reasons and the devices that left the campaign.  A
 * campaign driven by hand has no run state and keeps the page it had.
 * Nothing here prints.
 */
#ifndef HFW_REPORT_H
#define HFW_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ledger.h"

#define HFW_REPORT_DEFAULT_MAX_DEVICES 20u	/* devices listed per reason */
#define HFW_REPORT_MAX_REASONS 200u		/* reason groups shown; the rest are counted */
#define HFW_REPORT_MAX_WAVES 100u		/* run waves shown one a row; the rest in one row */

typedef struct hfw_report hfw_report;

int hfw_report_new(hfw_report **out, const char *campaign, struct hfw_error *err);
void hfw_report_free(hfw_report *r);

/* A device of the campaign where it stands now: a lifecycle state (campaign.h), why if failed, since when (or NULL). */
int hfw_report_add_device(hfw_report *r, const char *eui, const char *state, const char *reason, const char *at,
			  struct hfw_error *err);

/* Something that happened to a device at a time (ISO 8601 UTC): its state from then on, for the chart. */
int hfw_report_add_event(hfw_report *r, const char *eui, const char *state, const char *at, struct hfw_error *err);

/* When the campaign began (ISO 8601 UTC): the chart's origin. */
void hfw_report_set_start(hfw_report *r, const char *at);

/* The plan: a device's wave (1 is the canary), or why it is not in the campaign. */
int hfw_report_add_planned(hfw_report *r, const char *eui, size_t wave, struct hfw_error *err);
int hfw_report_add_skipped(hfw_report *r, const char *eui, const char *reason, struct hfw_error *err);

/* The ledger's campaign: every device's state (campaign.h) and the devices' messages over time. */
int hfw_report_from_ledger(hfw_report *r, hfw_ledger *l, struct hfw_error *err);

/*
 * A plan file (schemas/plan.schema.json): its waves and skipped devices
 * (the skips only when no run state came in: the run has them).  HFW_EINPUT
 * if it is not one.
 */
int hfw_report_read_plan(hfw_report *r, const char *path, struct hfw_error *err);

/*
 * The campaign run's state (run.h: running, halted, paused, completed,
 * aborted), why (the gate rule that breached, the QuarantineEventRef that
 * paused it, ...), the wave being run and the last wave whose gate passed.
 */
int hfw_report_set_run(hfw_report *r, const char *state, const char *reason, int64_t wave, int64_t gate_passed,
		       struct hfw_error *err);

/*
 * A device of the run: its wave (0: skipped by the plan), its step (run.h's
 * names: pending ... left) and why (failed, skipped, left).  It also counts
 * as the plan's, so the page needs no --plan for a run.
 */
int hfw_report_add_run_device(hfw_report *r, const char *eui, int64_t wave, const char *step, const char *reason,
			      struct hfw_error *err);

/* The run state of the campaign, if it has one (*found = 0: driven by hand, nothing added). */
int hfw_report_from_run(hfw_report *r, hfw_ledger *l, int *found, struct hfw_error *err);

/* How many devices went in (the ledger's and the plan's; a device in both counts twice): 0 means nothing to show. */
size_t hfw_report_count(const hfw_report *r);

struct hfw_report_options {
	size_t max_devices;		/* devices listed per reason (0: HFW_REPORT_DEFAULT_MAX_DEVICES) */
	const char *generated;		/* when the page was made (ISO 8601), shown as is; NULL: not shown */
};

/* The page: *html (NUL-terminated, free() it) and its length. */
int hfw_report_html(hfw_report *r, const struct hfw_report_options *o, char **html, size_t *len,
		    struct hfw_error *err);

#endif
