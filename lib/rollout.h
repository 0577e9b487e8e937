/*
 * rollout.h - the engine of "hanfw campaign run": execute a plan wave by
 * wave (distribute -> wait for transfer and verification -> activate where
 * the type needs SR 11.3 -> confirm the version by SR 11.2), with a gate
 * after each wave that halts the campaign on a breach, and pacing inside
 * the configured request budgets.
 *
 * Everything the run decides is in the ledger (run.h) before the request
 * it leads to is prepared, and every request goes through the request
 * lifecycle (request.h), so a run killed at any moment is continued by
 * running it again: no device gets a step twice, no counter is used twice.
 * What happens to devices comes from the ledger's campaign state
 * (campaign.h), which hanfw listen keeps from the DCC's messages.
 *
 * The engine never prints: what it would tell the operator as it goes
 * (a wave starts, a device failed, a gate passed, the run paused) and the
 * counts after each round go to callbacks the command supplies.
 */
#ifndef HFW_ROLLOUT_H
#define HFW_ROLLOUT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "crypto.h"
#include "error.h"
#include "eui.h"
#include "flow.h"
#include "ledger.h"
#include "run.h"
#include "transport.h"

typedef struct hfw_rollout hfw_rollout;

/* What an event line is about (the line itself says it in words). */
enum hfw_rollout_event {
	HFW_ROLLOUT_NOTE,		/* started, resumed, continuing, settled, already completed */
	HFW_ROLLOUT_WAVE_STARTED,
	HFW_ROLLOUT_SENDING,		/* a step goes to a set of devices */
	HFW_ROLLOUT_DEVICE_DONE,
	HFW_ROLLOUT_DEVICE_FAILED,
	HFW_ROLLOUT_DEVICE_LEFT,
	HFW_ROLLOUT_DEVICE_QUARANTINED,	/* the run pauses after this round */
	HFW_ROLLOUT_PACED,		/* devices wait for room in the budgets */
	HFW_ROLLOUT_REDRIVE,		/* a transient failure: its re-drive waits, or is sent */
	HFW_ROLLOUT_GATE_PASSED,
	HFW_ROLLOUT_HALTED_BY,		/* a failed device behind a halt */
	HFW_ROLLOUT_STOPPED,		/* --until reached */
	HFW_ROLLOUT_COMPLETED,
};

/* Where the current wave is, after each round. */
struct hfw_rollout_progress {
	const char *campaign;
	int64_t wave, waves;
	size_t steps[HFW_RUN_STEPS];	/* the wave's devices per step */
	size_t devices_left;		/* not finished: this wave's and every later wave's */
	int paced;			/* devices wait for room in the budgets */
	int paused;			/* a quarantine pauses the run */
	/* Lower bound (s) the budgets put on sending what is left of the campaign. */
	int64_t budget_left_s;
};

struct hfw_rollout_callbacks {
	/* One line (no newline, no "hanfw:" prefix) for ev; line names the device if any. */
	void (*event)(void *arg, enum hfw_rollout_event ev, const char *line);
	/* After each polling round (may be NULL). */
	void (*progress)(void *arg, const struct hfw_rollout_progress *p);
	void *arg;
};

/* What the engine runs with. */
struct hfw_rollout_options {
	hfw_ledger *ledger;
	const hfw_config *cfg;		/* budgets (budget_11_x_per_hour, rate_per_minute) */
	struct hfw_flow_options flow;	/* signer, trust, pool, schema_version, user (activation, read-version) */
	hfw_transport *transport;	/* distribution's */
	const hfw_key *gbcs_key;	/* activation's GBCS signing */
	struct hfw_eui dcc;		/* distribution's target */
	long poll_ms;			/* how often the ledger is read for what came back */
	int64_t until;			/* stop once this wave's gate passed (0: every wave) */
	int64_t max_attempts;		/* sends of one step to a device (re-drive's limit) */
	struct hfw_rollout_callbacks cb;
};

/* Which campaign, from which plan; thresholds for a new campaign. */
struct hfw_rollout_start {
	const char *name;
	const char *plan_path;		/* NULL with resume: the campaign's own */
	int resume;			/* after a human decision: a halted wave's gate is overridden */
	double min_canary, min_wave;	/* 0..1 */
	int64_t wave_timeout_s;
};

/*
 * Open a campaign run: a new one (the plan's devices into the ledger, one
 * transaction), the one this plan started (continue), or with resume a
 * halted or paused one.  The plan and every input it names must be what
 * they were when it was made.  HFW_EHALTED for a campaign that is halted,
 * paused or aborted (without resume).
 */
int hfw_rollout_open(hfw_rollout **out, const struct hfw_rollout_options *o, const struct hfw_rollout_start *s,
		     struct hfw_error *err);

/* Run every wave left (nothing if the campaign is completed).  HFW_EHALTED: halted or paused. */
int hfw_rollout_run(hfw_rollout *ro, struct hfw_error *err);

/* The campaign as it stands. */
const struct hfw_run_campaign *hfw_rollout_campaign(const hfw_rollout *ro);

void hfw_rollout_free(hfw_rollout *ro);

/*
 * Stop a campaign: nothing more is sent by this or any later run (*c: the
 * campaign as it now is).  HFW_EINPUT if it is unknown or already over.
 */
int hfw_rollout_abort(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, struct hfw_error *err);

/* A device whose future-dated activation abort cancels, and its image (the plan's index). */
struct hfw_rollout_cancel {
	char device[HFW_EUI_TEXT_MAX];
	int64_t image;
};

/*
 * The campaign's devices whose latest activation is scheduled and not yet
 * reported executed (campaign state activation_scheduled; with the plan's
 * activation window also activation_requested: sent, not yet answered).
 * *out: malloc'd (free it), *n of them.
 */
int hfw_rollout_cancels_due(hfw_ledger *l, const char *name, struct hfw_rollout_cancel **out, size_t *n,
			    struct hfw_error *err);

/*
 * Send each v[i] the SR 11.3 cancel (the far-future sentinel, cs06.h)
 * through the activation flow (activate.h: counter reserved and committed
 * before it leaves, recorded in campaign name).  o: the run's options
 * (flow, gbcs_key, ledger).  *results: one per v[i], in order (its outcome:
 * HFW_FLOW_SENT or why not; release with hfw_flow_results_release, free).
 */
int hfw_rollout_cancel(const struct hfw_rollout_options *o, const char *name, const struct hfw_rollout_cancel *v,
		       size_t n, struct hfw_flow_result **results, struct hfw_error *err);

/*
 * Lower bound (s) of the time the configured budgets (cfg's
 * budget_11_x_per_hour per SR and rate_per_minute over all) put on sending
 * requests[] (SR 11.1, 11.4, 11.3, 11.2), from a fresh window.  Pure.
 */
int64_t hfw_rollout_budget_s(const hfw_config *cfg, const int64_t requests[4]);

/*
 * What "campaign run --dry-run" says of a plan, touching no ledger and
 * signing nothing: the plan and every input checked as the run checks
 * them (SHA-256s, each image present with its FirmwareHash), then per wave
 * its devices, the requests per SR (11.1, 11.4, 11.3, 11.2) it sends when
 * nothing fails, and the least time the budgets (o->cfg) make it take
 * (schemas/campaign-dry-run.schema.json).  Only o->cfg is used.
 */
int hfw_rollout_dry_run(const struct hfw_rollout_options *o, const char *plan_path, json_t **out,
			struct hfw_error *err);

#endif
