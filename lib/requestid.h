/*
 * requestid.h - the DUIS RequestID, originator:target:counter.
 *
 * Its own module so that the ledger (which stores RequestIDs) and the DUIS
 * builder (which writes them) both depend on it and not on each other.
 */
#ifndef HFW_REQUESTID_H
#define HFW_REQUESTID_H

#include <stdint.h>

#include "error.h"
#include "eui.h"

#define HFW_REQUEST_ID_MAX 72	/* 23 + 1 + 23 + 1 + 20 digits + NUL */

/* originator:target:counter */
struct hfw_request_id {
	struct hfw_eui originator, target;
	uint64_t counter;
};

void hfw_request_id_format(char out[HFW_REQUEST_ID_MAX], const struct hfw_request_id *id);

/* Parse "XX-..:XX-..:counter" (no leading zeros, at most 2^64-1).  HFW_EINPUT otherwise. */
int hfw_request_id_parse(struct hfw_request_id *out, const char *text, struct hfw_error *err);

#endif
