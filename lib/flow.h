/*
 * flow.h - the engine of the per-device flows (activate.h: SR 11.3,
 * readversion.h: SR 11.2): one request per device, each through the
 * request lifecycle (request.h), with up to the pool's max_in_flight
 * devices between the first request and the last answer, and new devices
 * started at most rate a second (the DCC's anomaly detection counts
 * critical commands).
 *
 * Devices are started in batches of up to 64 per ledger commit (counters,
 * signed requests and records: one sync for the batch); the steps of one
 * round (answers checked, follow-up requests signed) are committed together
 * before any follow-up they lead to leaves.  A flow says what a device's
 * first request is and what to do with a verified answer: finish the
 * device, or follow up with another request under the same RequestID
 * (activation's CV 5 after its CV 4).
 */
#ifndef HFW_FLOW_H
#define HFW_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "eui.h"
#include "ledger.h"
#include "request.h"
#include "transport.h"
#include "xmldsig.h"

/* Where each device ended up. */
enum hfw_flow_outcome {
	HFW_FLOW_PENDING,		/* not finished (only while running) */
	HFW_FLOW_SENT,			/* I99: the command is on its way; the device answers later */
	HFW_FLOW_DRY_RUN,		/* signed request written, not sent */
	HFW_FLOW_REJECTED,		/* an E-code from the DCC */
	HFW_FLOW_PRECOMMAND_REFUSED,	/* the pre-command was not what was asked: not signed */
	HFW_FLOW_UNVERIFIED,		/* the DCC's answer did not verify or did not match */
	HFW_FLOW_NOT_SENT,		/* the adapter could not be reached, or refused at HTTP level */
	HFW_FLOW_UNKNOWN,		/* the adapter may have it: never resent silently */
	HFW_FLOW_OUTCOMES
};

/* "sent", "dry-run", "rejected", "precommand_refused", ... */
const char *hfw_flow_outcome_name(enum hfw_flow_outcome o);

struct hfw_flow_result {
	struct hfw_eui device;
	char request_id[HFW_REQUEST_ID_MAX];	/* "" if none was signed */
	enum hfw_flow_outcome outcome;
	char code[16];				/* the DCC's response code, if any */
	char *detail;				/* why, for failures (free with hfw_flow_results_release) */
};

void hfw_flow_results_release(struct hfw_flow_result *results, size_t n);

/* What every per-device flow needs. */
struct hfw_flow_options {
	const hfw_signer *signer;		/* XML signing (OU=87) */
	const hfw_trust *trust;			/* the DCC's XML-signing certificates */
	hfw_ledger *ledger;
	hfw_transport_pool *pool;		/* NULL with dry_run_dir */
	const char *dry_run_dir;		/* write the signed first requests here instead */
	const char *schema_version;
	struct hfw_eui user;			/* RequestID originator */
	const char *campaign;			/* recorded with each request */
	const char *device_type, *firmware_version;	/* the image's, if known (else NULL) */
	double rate;				/* devices started per second; 0 for no limit */
	/* Called now and then with how many devices are done (for a progress line). */
	void (*progress)(void *arg, size_t done, size_t n, const size_t *counts);
	void *progress_arg;
};

/* For the flows themselves (activate.c, readversion.c). */
typedef struct hfw_flow hfw_flow;

struct hfw_flow_job {
	size_t i;			/* the device: index into results */
	int step;			/* the flow's own: which request is in flight */
	struct hfw_request req;		/* the request in flight */
	const char *path;		/* where it goes: "/serviceT", "/serviceS" */
	struct hfw_flow_job *next;
};

struct hfw_flow_steps {
	const char *first_path;		/* where the first request goes: "/serviceT", "/serviceS" */
	int first_step;
	/* Fill a device's first request: body, state, action, what the body needs (id is set). */
	void (*first)(void *arg, struct hfw_request *r);
	/* A verified answer about the job's request, not an E-code: finish or follow up. */
	void (*answered)(void *arg, hfw_flow *f, struct hfw_flow_job *j, const struct hfw_answer *a);
	void *arg;
};

/* The device's last step: its outcome, in the ledger and the results. */
void hfw_flow_finish(hfw_flow *f, struct hfw_flow_job *j, enum hfw_flow_outcome out, const char *code,
		     const char *detail);

/*
 * Follow up: j->req.xml now holds the next request (same RequestID), signed;
 * the step is recorded as state with this round's steps and the request is
 * sent to path once they are committed.
 */
void hfw_flow_follow(hfw_flow *f, struct hfw_flow_job *j, const char *state, const char *code, const char *path);

/* hanfw itself cannot go on (ledger, signing): the run stops with err. */
void hfw_flow_fail(hfw_flow *f, const struct hfw_error *err);

/* The device the job is for, and the flow's options. */
const struct hfw_eui *hfw_flow_device(const hfw_flow *f, const struct hfw_flow_job *j);

/*
 * Run s over results[i].device for each i (the caller fills device);
 * counts[HFW_FLOW_OUTCOMES] (may be NULL) receives the totals.  Returns 0
 * when every device has an outcome, whatever it is; <0 only when hanfw
 * itself cannot go on (ledger, signing), devices not started left PENDING.
 */
int hfw_flow_run(const struct hfw_flow_options *o, const struct hfw_flow_steps *s, struct hfw_flow_result *results,
		 size_t n, size_t *counts, struct hfw_error *err);

#endif
