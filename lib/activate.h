/*
 * activate.h - SR 11.3, Activate Firmware, for many devices at once: the
 * critical-command flow of dcc-interface.md §2, per device
 *
 *   CV 4 to Transform -> I0 + PreCommand -> checked against what was asked
 *   (cs06.h; anything else is refused and never signed) -> GBCS-signed
 *   with the supplier's digital-signing key -> CV 5, same RequestID, to
 *   Send Command -> I99
 *
 * on the per-device engine of flow.h (in flight, rate, batched commits).
 * Every step is in the ledger before what follows it leaves the process:
 * the counter and signed request before the transform, the check and
 * signature before the send.
 */
#ifndef HFW_ACTIVATE_H
#define HFW_ACTIVATE_H

#include <stddef.h>

#include "crypto.h"
#include "cs06.h"
#include "error.h"
#include "flow.h"

struct hfw_activation_options {
	struct hfw_flow_options flow;		/* who signs, the ledger, the adapter, pace */
	const hfw_key *gbcs_key;		/* GBCS digital signing (OU=02) */
	hfw_firmware_hash firmware_hash;
	const char *execution_datetime;		/* DUIS ExecutionDateTime, or NULL for immediate */
};

/* Activate results[i].device for each i (see hfw_flow_run). */
int hfw_activation_run(const struct hfw_activation_options *o, struct hfw_flow_result *results, size_t n,
		       size_t *counts, struct hfw_error *err);

#endif
