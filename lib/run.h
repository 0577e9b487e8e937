/*
 * run.h - the state of a campaign run (hanfw campaign run), kept in the
 * ledger beside the requests, so that a run killed at any moment continues
 * where it was:
 *
 *   run_campaigns: one row per campaign: the plan (path, SHA-256), state
 *     (running, halted, paused, completed, aborted) and why, the current
 *     wave and when it started (its timeout survives restarts), the gate's
 *     thresholds.
 *   run_devices: one row per device of the plan: wave, image, step
 *     (pending -> distribute -> activate, for types SR 11.3 activates ->
 *     read_version -> done | failed; skipped for the plan's skips), why,
 *     attempts.
 *
 * A device's step is committed BEFORE the step's request is prepared, and
 * the request lifecycle (request.h) commits the request before it leaves.
 * So on a rerun a device whose step has no request of the step's action in
 * the ledger was never sent (send it); one that has is never sent again:
 * the run waits for what the DCC and the device say (the ledger's campaign
 * state, campaign.h), until the wave's timeout.
 */
#ifndef HFW_RUN_H
#define HFW_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ledger.h"

#define HFW_RUN_NAME_MAX 64
#define HFW_RUN_REASON_MAX 512

enum hfw_run_step {
	HFW_RUN_PENDING,
	HFW_RUN_DISTRIBUTE,
	HFW_RUN_ACTIVATE,
	HFW_RUN_READ_VERSION,
	HFW_RUN_DONE,
	HFW_RUN_FAILED,
	HFW_RUN_SKIPPED,
	HFW_RUN_LEFT,		/* left the campaign (a mid-campaign event): not the image's failure */
	HFW_RUN_STEPS
};

/* "pending", "distribute", ...; and back (-1 if unknown). */
const char *hfw_run_step_name(enum hfw_run_step s);
int hfw_run_step_parse(const char *name);

/* The ledger action of a step's request ("distribute", "activate", "read-version"), or NULL. */
const char *hfw_run_step_action(enum hfw_run_step s);

/* What to do with a device now. */
enum hfw_run_action {
	HFW_RUN_WAIT,		/* a request is out: wait for its outcome */
	HFW_RUN_SEND,		/* send next (its step), nothing of it was ever recorded */
	HFW_RUN_ADVANCE,	/* at goal: next is DONE */
	HFW_RUN_FAIL,		/* a terminal failure: reason */
	HFW_RUN_LEAVE,		/* left_campaign: next is LEFT, never sent anything again */
	HFW_RUN_PAUSE,		/* *_quarantined: the campaign pauses (unless already acknowledged) */
};

struct hfw_run_decision {
	enum hfw_run_action action;
	enum hfw_run_step next;		/* the step to record (SEND, ADVANCE, FAIL) */
	const char *reason;		/* FAIL: the campaign state that failed it */
};

/* What the ledger holds of a step's requests for a device. */
enum hfw_run_has {
	HFW_RUN_NONE = 0,		/* nothing that may have reached it */
	HFW_RUN_ANSWERED,		/* at least one the DCC answered */
	HFW_RUN_UNKNOWN_FATE,		/* only ones recorded and never answered */
};

/*
 * Decide for a device at step, whose campaign state (campaign.h; NULL when
 * the ledger has nothing of it) is cstate, has_request (enum hfw_run_has)
 * saying what the ledger holds of the step's requests for it.  Pure.
 */
void hfw_run_decide(enum hfw_run_step step, const char *cstate, int has_request, int needs_activation,
		    struct hfw_run_decision *d);

/* A wave's gate. */
struct hfw_run_gate {
	size_t devices, done, failed, hash_mismatch;
	double min_success;		/* 0..1: done / devices at least this */
};

/*
 * 0 if the wave passes; HFW_EHALTED with why (one line: the rule that
 * breached) if it does not: success below min_success, or any hash
 * mismatch (the image itself may be bad: never more of it).
 */
int hfw_run_gate_check(const struct hfw_run_gate *g, size_t wave, struct hfw_error *err);

/* A campaign run. */
struct hfw_run_campaign {
	char name[HFW_RUN_NAME_MAX];
	char plan_path[1024];
	char plan_sha256[65];
	char state[16];			/* running, halted, paused, completed, aborted */
	char reason[HFW_RUN_REASON_MAX];
	int64_t wave;			/* the wave being run (1-based), 0 before the first */
	int64_t wave_started_ms;	/* wall clock, ms; 0 before it starts */
	int64_t gate_passed;		/* the last wave whose gate passed or was overridden */
	double min_canary, min_wave;	/* gate thresholds (0..1) */
	int64_t wave_timeout_s;
};

/* *found = 0 when the ledger has no such campaign run. */
int hfw_run_get(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, int *found, struct hfw_error *err);
/* The same, a campaign run the ledger does not have refused (HFW_EINPUT, naming hanfw campaign list). */
int hfw_run_find(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, struct hfw_error *err);
/* Insert or update (durably, unless inside hfw_ledger_begin). */
int hfw_run_put(hfw_ledger *l, const struct hfw_run_campaign *c, struct hfw_error *err);

struct hfw_run_device {
	const char *device;		/* EUI text */
	int64_t wave, image;		/* image: index into the plan's images, -1 for skipped */
	enum hfw_run_step step;
	const char *reason;		/* NULL unless failed or skipped */
	int64_t attempts;
};

/* Add a device (kept as it is if the campaign already has it). */
int hfw_run_add_device(hfw_ledger *l, const char *campaign, const struct hfw_run_device *d, struct hfw_error *err);
/*
 * Move a device to step (reason for failed/skipped).  attempts counts the
 * sends of the device's current step: + 1 when bump and the step stays,
 * bump (1 or 0) when it changes.
 */
int hfw_run_set_step(hfw_ledger *l, const char *campaign, const char *device, enum hfw_run_step step,
		     const char *reason, int bump, struct hfw_error *err);
/* Each device of campaign in wave (0: all), in EUI order; fn non-zero stops and is returned. */
int hfw_run_each_device(hfw_ledger *l, const char *campaign, int64_t wave,
			int (*fn)(void *arg, const struct hfw_run_device *d), void *arg, struct hfw_error *err);
/*
 * What the ledger holds of requests of action in campaign for device that
 * may have reached it (*has: enum hfw_run_has): one left at
 * transform_signed (an activation whose CV 4 was signed but whose CV 5
 * never was: nothing for the device was ever signed), not_sent, refused
 * (the adapter refused it at HTTP level, unprocessed) or dry-run does not
 * count, so the step is sent again (re-drive, within the run's attempts);
 * signed, precommand_signed or unknown is of unknown fate.
 */
int hfw_run_has_request(hfw_ledger *l, const char *campaign, const char *device, const char *action, int *has,
			struct hfw_error *err);
/*
 * Settle distributions of unknown fate (recorded, the run killed before
 * the DCC's answer was): a device whose hub or device alerts answer the
 * request was evidently taken by the DCC, so its outcome becomes accepted
 * and the request's history says why.  *settled: devices settled.
 */
int hfw_run_settle_distributions(hfw_ledger *l, const char *campaign, int *settled, struct hfw_error *err);

/*
 * Requests of service reference sr ("11.3"; NULL: any) the ledger recorded
 * in the last seconds (dry runs aside): what pacing counts, whatever
 * process sent them.
 */
int hfw_run_sent_since(hfw_ledger *l, const char *sr, unsigned seconds, int64_t *n, struct hfw_error *err);

/* Room left in a budget of limit (0: none, room is INT64_MAX) with sent already counted. */
int64_t hfw_run_room(uint64_t limit, int64_t sent);

/*
 * Keep this file's prepared statements on l from now until
 * hfw_run_cache_end(l) (a campaign run's polling rounds use the same few
 * thousands of times); one ledger at a time.
 */
int hfw_run_cache_begin(hfw_ledger *l, struct hfw_error *err);
void hfw_run_cache_end(hfw_ledger *l);

/*
 * The ledger's rows (as hfw_ledger_each_campaign_row) of campaign's wave's
 * devices: their requests of the campaign, then their events and those of
 * also (NULL: none; the DCC's EUI, where a distribution's
 * QuarantinedRequest is kept), for hfw_campaign_states_of: a round costs
 * the wave, not the campaign.
 */
int hfw_run_each_wave_row(hfw_ledger *l, const char *campaign, int64_t wave, const char *also,
			  int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg, struct hfw_error *err);

/*
 * A device's re-drive state (redrive.h), kept in the ledger so a restarted
 * run keeps it: the step and its attempts when the latest window opened
 * (an answered transient failure first seen), when it opened (seen_ms,
 * wall clock) and ends (due_ms; 0: no window open), and the re-drives of
 * the step sent so far per class (indexed by enum hfw_redrive_class).
 */
#define HFW_RUN_REDRIVE_CLASSES 8
struct hfw_run_redrive {
	const char *device;
	enum hfw_run_step step;
	int64_t attempts, seen_ms, due_ms;
	int64_t redrives[HFW_RUN_REDRIVE_CLASSES];
};
/* Record w (insert or replace). */
int hfw_run_redrive_set(hfw_ledger *l, const char *campaign, const struct hfw_run_redrive *w, struct hfw_error *err);
/* Each device's re-drive state in campaign; fn non-zero stops and is returned. */
int hfw_run_redrive_each(hfw_ledger *l, const char *campaign, int (*fn)(void *arg, const struct hfw_run_redrive *w),
			 void *arg, struct hfw_error *err);

/*
 * Did the device's latest request of action in campaign never reach the
 * DCC (transform_signed, not_sent, or refused by the adapter unread)?
 * After an answered one (a re-drive that did not leave), the step is sent
 * again like a first send that did not leave.
 */
int hfw_run_latest_unsent(hfw_ledger *l, const char *campaign, const char *device, const char *action, int *unsent,
			  struct hfw_error *err);

/* The campaign runs' names, sorted. */
int hfw_run_each_name(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg, struct hfw_error *err);

#endif
