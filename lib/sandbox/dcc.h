/*
 * dcc.h - the sandbox's DCC: what a DCC adapter does with a DUIS request
 * on receipt, as a function from (endpoint, request) to (HTTP status,
 * response), so it is tested without HTTP and served by "sandbox serve".
 *
 * Checks, in the order the DCC is understood to make them: well-formed
 * DUIS (else HTTP 400), the signature by a known user's XML certificate
 * (E40), the schema (E41), the originator (E1), command variant against
 * endpoint (E13), service reference against command variant (E12), the
 * RequestID counter rising per originator (E42), then per device.  E-code
 * replies are unsigned, as the DCC's are; codes from E40 on are this
 * sandbox's choice, their DUIS meanings not being public.
 */
#ifndef HFW_DCC_H
#define HFW_DCC_H

#include <stddef.h>
#include <stdint.h>

#include "../buf.h"
#include "../error.h"
#include "log.h"

typedef struct hfw_dcc hfw_dcc;

struct hfw_dcc_options {
	/*
	 * How far below the newest counter of an originator a request may
	 * arrive (0: strictly rising).  Whether the DCC demands strict order
	 * is not known; a window lets one user send on several connections,
	 * while a counter seen before is still refused.
	 */
	uint64_t counter_window;
	const char *faults;		/* spec, see faults.h; NULL for none */
	uint64_t seed;			/* for the faults */
	double time_scale;		/* simulated time's speed (simclock.h) */
	const char *receive_url;	/* overrides sandbox.json's receive_url */
	struct hfw_sandbox_log log;	/* what devices and deliveries cannot do, as it happens */
};

/*
 * Load the sandbox in dir (sandbox.json, estate, keys) and start its
 * devices (devsim.h) and deliveries (outbox.h).  Accepted RequestIDs go to
 * dir/requests.log, device outcomes to events.log, deliveries to
 * deliveries.log.
 */
int hfw_dcc_open(hfw_dcc **out, const char *dir, const struct hfw_dcc_options *o, struct hfw_error *err);
void hfw_dcc_free(hfw_dcc *d);

/* What a device holds and runs now; -1 if the estate has no such device. */
struct hfw_device_state;
struct hfw_eui;
int hfw_dcc_device_state(hfw_dcc *d, const struct hfw_eui *eui, struct hfw_device_state *out);

/* Handle one POST to path; thread-safe. */
int hfw_dcc_handle(hfw_dcc *d, const char *path, const char *body, size_t len,
		   struct hfw_buf *reply, int *http_status, struct hfw_error *err);

/* Requests accepted so far (for tests and the benchmark). */
unsigned long hfw_dcc_accepted(hfw_dcc *d);

#endif
