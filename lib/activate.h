/*
 * activate.h - SR 11.3, Activate Firmware, for many devices at once: the
 * critical-command flow of dcc-interface.md §2, per device
 *
 *   CV 4 to Transform -> I0 + PreCommand -> checked against what was asked
 *   (cs06.h; anything else is refused and never signed) -> GBCS-signed
 *   with the supplier's digital-signing key -> CV 5, same RequestID, to
 *   Send Command -> I99
 *
 * (or, with read_version, SR 11.2 Read Firmware Version: CV 1 to Send
 * Command -> I99), with up to max_in_flight devices between the first request and the last
 * answer, and new devices started at most rate a second (the DCC's anomaly
 * detection counts critical commands).  Every step is in the ledger before
 * what follows it leaves the process: the counter and signed request
 * before the transform, the check and signature before the send.
 */
#ifndef HFW_ACTIVATE_H
#define HFW_ACTIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "cs06.h"
#include "error.h"
#include "eui.h"
#include "ledger.h"
#include "transport.h"
#include "xmldsig.h"

/* Where each device ended up. */
enum hfw_activation_outcome {
	HFW_ACT_PENDING,		/* not finished (only while running) */
	HFW_ACT_SENT,			/* I99: the command is on its way; the device answers later */
	HFW_ACT_DRY_RUN,		/* signed transform request written, not sent */
	HFW_ACT_REJECTED,		/* an E-code from the DCC */
	HFW_ACT_PRECOMMAND_REFUSED,	/* the pre-command was not what was asked: not signed */
	HFW_ACT_UNVERIFIED,		/* the DCC's answer did not verify or did not match */
	HFW_ACT_NOT_SENT,		/* the adapter could not be reached, or refused at HTTP level */
	HFW_ACT_UNKNOWN,		/* the adapter may have it: never resent silently */
	HFW_ACT_OUTCOMES
};

/* "sent", "dry-run", "rejected", "precommand_refused", ... */
const char *hfw_activation_outcome_name(enum hfw_activation_outcome o);

struct hfw_activation_result {
	struct hfw_eui device;
	char request_id[HFW_REQUEST_ID_MAX];	/* "" if none was signed */
	enum hfw_activation_outcome outcome;
	char code[16];				/* the DCC's response code, if any */
	char *detail;				/* why, for failures (free with hfw_activation_results_release) */
};

struct hfw_activation_options {
	const hfw_signer *signer;		/* XML signing (OU=87) */
	const hfw_key *gbcs_key;		/* GBCS digital signing (OU=02) */
	const hfw_trust *trust;			/* the DCC's XML-signing certificates */
	hfw_ledger *ledger;
	hfw_transport_pool *pool;		/* NULL with dry_run_dir */
	const char *dry_run_dir;		/* write the signed transform requests here instead */
	const char *schema_version;
	struct hfw_eui user;
	uint8_t hash[32];			/* FirmwareHash */
	const char *execution_datetime;		/* DUIS ExecutionDateTime, or NULL for immediate */
	const char *campaign;			/* recorded with each request */
	const char *device_type, *firmware_version;	/* the image's, if known (else NULL) */
	double rate;				/* devices started per second; 0 for no limit */
	int read_version;			/* SR 11.2 (CV 1 to Send Command, I99) instead of activating */
	/* Called now and then with how many devices are done (for a progress line). */
	void (*progress)(void *arg, size_t done, size_t n, const size_t *counts);
	void *progress_arg;
};

/*
 * Activate results[i].device for each i (the caller fills device);
 * counts[HFW_ACT_OUTCOMES] (may be NULL) receives the totals.  Returns 0
 * when every device has an outcome, whatever it is; <0 only when hanfw
 * itself cannot go on (ledger, signing), devices not started left PENDING.
 */
int hfw_activation_run(const struct hfw_activation_options *o, struct hfw_activation_result *results, size_t n,
		       size_t *counts, struct hfw_error *err);

void hfw_activation_results_release(struct hfw_activation_result *results, size_t n);

#endif
