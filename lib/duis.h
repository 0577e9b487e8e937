/*
 * duis.h - the DUIS service requests hanfw sends (RequestIDs: requestid.h).
 *
 * Requests are written directly in canonical XML (inclusive C14N 1.0: no
 * declaration in the signed part, no whitespace, no self-closing tags), so
 * signing needs no re-parse (xmldsig.h, hfw_xmldsig_sign_canonical).  Each is
 * validated against hanfw's DUIS schema before it is signed.
 */
#ifndef HFW_DUIS_H
#define HFW_DUIS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crypto.h"
#include "error.h"
#include "eui.h"
#include "requestid.h"
#include "xmldsig.h"

#define HFW_MAX_DEVICES_PER_REQUEST 50000u	/* DUIS DeviceIDList */

enum hfw_duis_body {
	HFW_BODY_UPDATE_FIRMWARE,	/* SR 11.1, CV 8 */
	HFW_BODY_READ_FIRMWARE_VERSION,	/* SR 11.2, CV 1 */
	HFW_BODY_ACTIVATE_FIRMWARE,	/* SR 11.3, CV 4 */
	HFW_BODY_UPDATE_PPMID_FIRMWARE,	/* SR 11.4, CV 8 */
	HFW_BODY_SIGNED_PRECOMMAND,	/* SR 11.3, CV 5, the CV 4 request's RequestID */
	HFW_BODY_READ_INVENTORY,	/* SR 8.2, CV 8, non-device: one DeviceID (inventory.h) */
};

struct hfw_duis_request {
	enum hfw_duis_body body;
	struct hfw_request_id id;
	const char *schema_version;		/* "5.4" */
	/* 11.1 / 11.4 */
	const uint8_t *image;
	size_t image_len;
	const char *firmware_version;		/* 1-8 characters */
	const struct hfw_eui *devices;
	size_t ndevices;
	/* 11.2 / 11.3 / SignedPreCommand: xs:dateTime, or NULL for immediate */
	const char *execution_datetime;
	/* 11.3 */
	hfw_firmware_hash firmware_hash;
	/* SignedPreCommand */
	const uint8_t *gbcs_payload;
	size_t gbcs_len;
	/* 8.2: the search key, mpxn if not NULL, else devices[0] (ndevices 1) */
	const char *mpxn;
};

/* Service reference ("11.3") and command variant of a body. */
const char *hfw_duis_service_reference(enum hfw_duis_body body);
int hfw_duis_command_variant(enum hfw_duis_body body);

/* Append the request's canonical text (the root element) to out. */
int hfw_duis_build(struct hfw_buf *out, const struct hfw_duis_request *req, struct hfw_error *err);

/*
 * Build, validate against hanfw's schema, and sign: out receives the whole
 * signed document.  body_sha256 (may be NULL) receives SHA-256 of the
 * canonical unsigned request, as the ledger records it.
 */
int hfw_duis_sign_request(struct hfw_buf *out, const hfw_signer *signer,
			  const struct hfw_duis_request *req,
			  uint8_t body_sha256[HFW_SHA256_LEN], struct hfw_error *err);

#endif
