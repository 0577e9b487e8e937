/*
 * run.c - a campaign run's pure decisions, and its state in the ledger
 * (see run.h): each call handed to the ledger's backend (ledger_sqlite.c,
 * ledger_pg.c), which holds the SQL.
 */
#include "run.h"

#include "ledger_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const step_names[HFW_RUN_STEPS] = {
	"pending", "distribute", "activate", "read_version", "done", "failed", "skipped", "left",
};

const char *hfw_run_step_name(enum hfw_run_step s)
{
	return (unsigned)s < HFW_RUN_STEPS ? step_names[s] : "?";
}

int hfw_run_step_parse(const char *name)
{
	int i;

	for (i = 0; name && i < HFW_RUN_STEPS; i++)
		if (!strcmp(name, step_names[i]))
			return i;
	return -1;
}

const char *hfw_run_step_action(enum hfw_run_step s)
{
	switch (s) {
	case HFW_RUN_DISTRIBUTE:
		return "distribute";
	case HFW_RUN_ACTIVATE:
		return "activate";
	case HFW_RUN_READ_VERSION:
		return "read-version";
	default:
		return NULL;
	}
}

static int in(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

/* Campaign states (campaign.h) that end a device's campaign in failure. */
static const char *const failures[] = {
	"distribution_refused", "hub_delivery_failed", "image_discarded", "hardware_mismatch", "transfer_failed",
	"hash_mismatch", "verification_failed", "distribution_failed", "activation_not_sent", "activation_failed",
	"version_mismatch", "version_read_failed", NULL,
};

void hfw_run_decide(enum hfw_run_step step, const char *cstate, int has_request, int needs_activation,
		    struct hfw_run_decision *d)
{
	d->action = HFW_RUN_WAIT;
	d->next = step;
	d->reason = NULL;
	switch (step) {
	case HFW_RUN_PENDING:
		d->action = HFW_RUN_SEND;
		d->next = HFW_RUN_DISTRIBUTE;
		return;
	case HFW_RUN_DISTRIBUTE:
	case HFW_RUN_ACTIVATE:
	case HFW_RUN_READ_VERSION:
		break;
	default:
		return;	/* done, failed, skipped, left: nothing more */
	}
	/* A mid-campaign event (change of supplier, ...): out, whatever was out. */
	if (cstate && !strcmp(cstate, "left_campaign")) {
		d->action = HFW_RUN_LEAVE;
		d->next = HFW_RUN_LEFT;
		d->reason = cstate;
		return;
	}
	/* The DCC quarantined the request: a human looks first (the run pauses). */
	if (cstate && (!strcmp(cstate, "distribution_quarantined") || !strcmp(cstate, "activation_quarantined"))) {
		d->action = HFW_RUN_PAUSE;
		d->reason = cstate;
		return;
	}
	/* Nothing of this step was ever recorded: nothing of it left the process. */
	if (has_request == HFW_RUN_NONE) {
		d->action = HFW_RUN_SEND;
		return;
	}
	/*
	 * Unknown fate (recorded, no answer: the process that sent it is gone,
	 * as the flows wait for their answers).  A version read changes
	 * nothing on the device: one of unknown fate is read again, and an
	 * activation of unknown fate is settled by one.
	 */
	if (has_request == HFW_RUN_UNKNOWN_FATE &&
	    (step == HFW_RUN_READ_VERSION ||
	     (step == HFW_RUN_ACTIVATE && (!cstate || !strcmp(cstate, "verified") ||
					   !strcmp(cstate, "activation_requested"))))) {
		d->action = HFW_RUN_SEND;
		d->next = HFW_RUN_READ_VERSION;
		return;
	}
	if (in(cstate, failures)) {
		d->action = HFW_RUN_FAIL;
		d->next = HFW_RUN_FAILED;
		d->reason = cstate;
		return;
	}
	if (cstate && !strcmp(cstate, "version_confirmed")) {
		d->action = HFW_RUN_ADVANCE;
		d->next = HFW_RUN_DONE;
		return;
	}
	if (step == HFW_RUN_DISTRIBUTE && cstate && !strcmp(cstate, "verified") && needs_activation) {
		d->action = HFW_RUN_SEND;
		d->next = HFW_RUN_ACTIVATE;
		return;
	}
	if (step != HFW_RUN_READ_VERSION && cstate && !strcmp(cstate, "activated")) {
		d->action = HFW_RUN_SEND;
		d->next = HFW_RUN_READ_VERSION;
		return;
	}
	/* Requested, accepted, delivered, transferred, scheduled, activated with a read out: wait. */
}

int hfw_run_gate_check(const struct hfw_run_gate *g, size_t wave, struct hfw_error *err)
{
	double rate = g->devices ? (double)g->done / (double)g->devices : 1.0;

	if (g->hash_mismatch)
		return hfw_error_set(err, HFW_EHALTED,
				     "wave %zu: %zu hash mismatches (rule: any hash mismatch halts the campaign)", wave,
				     g->hash_mismatch);
	if (rate + 1e-9 < g->min_success)
		return hfw_error_set(err, HFW_EHALTED,
				     "wave %zu: %zu of %zu devices at their goal (%.1f%%), %zu failed: below the gate's %.1f%%",
				     wave, g->done, g->devices, rate * 100.0, g->failed, g->min_success * 100.0);
	return 0;
}

int64_t hfw_run_room(uint64_t limit, int64_t sent)
{
	if (!limit)
		return INT64_MAX;
	return sent >= (int64_t)limit ? 0 : (int64_t)limit - sent;
}

/* The one ledger whose run statements are kept (one campaign run per process). */
static hfw_ledger *cached;

int hfw_run_cache_begin(hfw_ledger *l, struct hfw_error *err)
{
	if (cached && cached != l)
		return hfw_error_set(err, HFW_EINPUT, "ledger: one campaign run's statements at a time");
	cached = l;
	l->ops->run_cache(l, 1);
	return 0;
}

void hfw_run_cache_end(hfw_ledger *l)
{
	if (!l || cached != l)
		return;
	l->ops->run_cache(l, 0);
	cached = NULL;
}

int hfw_run_get(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, int *found, struct hfw_error *err)
{
	return l->ops->run_get(l, name, c, found, err);
}

int hfw_run_find(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, struct hfw_error *err)
{
	int found;

	if (hfw_run_get(l, name, c, &found, err) < 0)
		return err->code;
	if (!found)
		return hfw_error_set(err, HFW_EINPUT, "no campaign run named '%s' in the ledger (hanfw campaign list)", name);
	return 0;
}

int hfw_run_put(hfw_ledger *l, const struct hfw_run_campaign *c, struct hfw_error *err)
{
	return l->ops->run_put(l, c, err);
}

int hfw_run_add_device(hfw_ledger *l, const char *campaign, const struct hfw_run_device *d, struct hfw_error *err)
{
	return l->ops->run_add_device(l, campaign, d, err);
}

int hfw_run_set_step(hfw_ledger *l, const char *campaign, const char *device, enum hfw_run_step step,
		     const char *reason, int bump, struct hfw_error *err)
{
	return l->ops->run_set_step(l, campaign, device, step, reason, bump, err);
}

int hfw_run_each_device(hfw_ledger *l, const char *campaign, int64_t wave,
			int (*fn)(void *arg, const struct hfw_run_device *d), void *arg, struct hfw_error *err)
{
	return l->ops->run_each_device(l, campaign, wave, fn, arg, err);
}

int hfw_run_has_request(hfw_ledger *l, const char *campaign, const char *device, const char *action, int *has,
			struct hfw_error *err)
{
	return l->ops->run_has_request(l, campaign, device, action, has, err);
}

int hfw_run_each_name(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg, struct hfw_error *err)
{
	return l->ops->run_each_name(l, fn, arg, err);
}

int hfw_run_settle_distributions(hfw_ledger *l, const char *campaign, int *settled, struct hfw_error *err)
{
	return l->ops->run_settle_distributions(l, campaign, settled, err);
}

int hfw_run_sent_since(hfw_ledger *l, const char *sr, unsigned seconds, int64_t *n, struct hfw_error *err)
{
	return l->ops->run_sent_since(l, sr, seconds, n, err);
}

int hfw_run_each_wave_row(hfw_ledger *l, const char *campaign, int64_t wave, const char *also,
			  int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg, struct hfw_error *err)
{
	return l->ops->run_each_wave_row(l, campaign, wave, also, fn, arg, err);
}

int hfw_run_redrive_set(hfw_ledger *l, const char *campaign, const struct hfw_run_redrive *w, struct hfw_error *err)
{
	return l->ops->run_redrive_set(l, campaign, w, err);
}

int hfw_run_redrive_each(hfw_ledger *l, const char *campaign, int (*fn)(void *arg, const struct hfw_run_redrive *w),
			 void *arg, struct hfw_error *err)
{
	return l->ops->run_redrive_each(l, campaign, fn, arg, err);
}

int hfw_run_latest_unsent(hfw_ledger *l, const char *campaign, const char *device, const char *action, int *unsent,
			  struct hfw_error *err)
{
	return l->ops->run_latest_unsent(l, campaign, device, action, unsent, err);
}
