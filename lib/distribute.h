/*
 * distribute.h - SR 11.1 Update Firmware and SR 11.4 Update PPMID Firmware
 * (as the image's manifest says) for many devices: the non-critical
 * distribution flow, next to activate.h (SR 11.3) and readversion.h (11.2).
 *
 * Devices go in groups of up to batch (at most 50,000, the DUIS limit) per
 * request, to the adapter's non-device endpoint.  Every request goes
 * through the request lifecycle (request.h): counter, signature and record
 * committed before it leaves.  Every device's outcome is recorded when the
 * answer comes: accepted, or which of the DCC's warning lists it is in.  A
 * request whose fate is unknown is recorded as such and never silently
 * resent; when the adapter cannot be reached the rest are not sent (no
 * counters burned on them).
 */
#ifndef HFW_DISTRIBUTE_H
#define HFW_DISTRIBUTE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "devlist.h"
#include "error.h"
#include "eui.h"
#include "ledger.h"
#include "manifest.h"
#include "transport.h"
#include "xmldsig.h"

/* The DCC's warning lists in DSPUpdate[PPMID]FirmwareWarning. */
#define HFW_DISTRIBUTION_WARNINGS 5

/* What hanfw records for a device in warning list k: "invalid", "not_commissioned", ... */
const char *hfw_distribution_warning_outcome(size_t k);

/* The warning list k's element name: "InvalidDeviceIDList", ... */
const char *hfw_distribution_warning_list(size_t k);

/*
 * Mark each device of an accepted answer (the document, signature removed)
 * that a warning list names: outcomes[i] becomes the list's outcome for
 * devices[i] (sorted by EUI, as a devlist is); others are left alone.
 * EUIs the DCC names that are not in the request are ignored.
 */
struct _xmlDoc;
void hfw_distribution_mark_warnings(const struct _xmlDoc *answer, enum hfw_route route,
				    const struct hfw_eui *devices, size_t n, const char **outcomes);

/*
 * Refuse (HFW_EINPUT, naming the first) a device whose known type takes
 * another route than the image: nothing is sent.
 */
int hfw_distribution_check_types(const struct hfw_manifest *m, const struct hfw_target *devices, size_t n,
				 const char *image_name, struct hfw_error *err);

/* Totals over a run. */
struct hfw_distribution_totals {
	size_t requests, accepted, refused[HFW_DISTRIBUTION_WARNINGS], rejected, unsent, unknown;
	int transport, verify, reject, partial;	/* what went wrong at least once */
};

/* The gravest thing that happened to any request: 0, or HFW_ETRANSPORT, HFW_EVERIFY, ... */
int hfw_distribution_status(const struct hfw_distribution_totals *t);

/* One request, as it ended (for a report line and --json). */
struct hfw_distribution_request {
	const char *request_id;		/* "" if none was signed */
	size_t ndevices;
	const char *state;		/* "accepted", "rejected", "dry-run", "unknown", ... */
	const char *response_code;	/* NULL if none */
	/* Its devices and what became of each ("accepted", "invalid", "rejected", "pending" if no answer came). */
	const struct hfw_eui *devices;
	const char *const *outcomes;
};

struct hfw_distribution_options {
	const hfw_signer *signer;
	hfw_ledger *ledger;
	hfw_transport *transport;	/* NULL with dry_run_dir */
	const hfw_trust *trust;		/* the DCC's XML-signing certificates */
	const struct hfw_manifest *manifest;
	const uint8_t *image;
	size_t image_len;
	const char *schema_version;
	struct hfw_eui user, dcc;	/* RequestID originator and target */
	const char *dry_run_dir;	/* write the signed requests here instead of sending */
	const char *campaign;
	size_t batch;			/* devices per request, 1 to 50,000 */
	/*
	 * Called for each request as it ends: r is NULL when the request
	 * never got a RequestID; err is NULL unless it failed (its text then
	 * names the RequestID).
	 */
	void (*report)(void *arg, const struct hfw_distribution_request *r, const struct hfw_error *err);
	void *report_arg;
};

/*
 * Distribute to devices (sorted, as hfw_devlist_finish leaves them).
 * Returns 0 when every request has an outcome, whatever it is (see t and
 * hfw_distribution_status); <0 when hanfw itself cannot go on (ledger,
 * signing, writing the dry run).
 */
int hfw_distribution_run(const struct hfw_distribution_options *o, const struct hfw_target *devices, size_t n,
			 struct hfw_distribution_totals *t, struct hfw_error *err);

#endif
