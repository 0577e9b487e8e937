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

#include "buf.h"
#include "error.h"

typedef struct hfw_dcc hfw_dcc;

/* Load the sandbox in dir (sandbox.json, estate, keys); accepted RequestIDs go to dir/requests.log. */
int hfw_dcc_open(hfw_dcc **out, const char *dir, struct hfw_error *err);

/*
 * How far below the newest counter of an originator a request may arrive
 * (0, the default: strictly rising).  Whether the DCC demands strict order
 * is not known; a window lets one user send on several connections, while
 * a counter seen before is still refused.
 */
void hfw_dcc_set_counter_window(hfw_dcc *d, uint64_t window);
void hfw_dcc_free(hfw_dcc *d);

/* Handle one POST to path; thread-safe. */
int hfw_dcc_handle(hfw_dcc *d, const char *path, const char *body, size_t len,
		   struct hfw_buf *reply, int *http_status, struct hfw_error *err);

/* Requests accepted so far (for tests and the benchmark). */
unsigned long hfw_dcc_accepted(hfw_dcc *d);

#endif
