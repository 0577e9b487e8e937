/*
 * inventory.h - the estate from the DCC's own inventory: SR 8.2 Read
 * Inventory (DUIS 5.4), non-device, CommandVariant 8, one search key per
 * request (a DeviceID or an MPxN).  The DCC answers synchronously: the HTTP
 * 200 body is a DCC-signed Response, ResponseCode I0, listing every device
 * of the premises (at most 17: DSPInventory/Device), or E19 for a DeviceID
 * it does not know.
 *
 * Every answer is checked before one device of it is believed: signed by
 * the DCC's XML-signing certificate (the role rules of hfw_xmldsig_verify),
 * valid against hanfw's DUIS schema (signature removed), an 8.2 answer, and
 * (when sent here) about the RequestID sent.  Its devices are merged into
 * an estate (hfw_estate_merge), each with the premises' hub: the CHF of the
 * same answer.
 */
#ifndef HFW_INVENTORY_H
#define HFW_INVENTORY_H

#include <stddef.h>

#include "error.h"
#include "estate.h"
#include "eui.h"
#include "ledger.h"
#include "request.h"
#include "xmldsig.h"

#define HFW_INVENTORY_MAX_DEVICES 17		/* DSPInventory lists a premises' devices */
#define HFW_INVENTORY_MAX_ANSWER_BYTES (256u * 1024)	/* 17 devices are ~10 KB */

/* What one answer said. */
struct hfw_inventory_answer {
	char request_id[80];
	char response_code[16];
	int not_found;				/* E19: the DCC does not know the DeviceID */
	size_t ndevices;			/* devices listed, and merged */
	struct hfw_eui devices[HFW_INVENTORY_MAX_DEVICES];
	int has_hub;				/* a CHF was listed */
	struct hfw_eui hub;
};

/*
 * Check an SR 8.2 answer (body, len; what names it in messages, e.g. the
 * file): the signature and its signer's role, the schema, that it answers
 * SR 8.2, and, when request_id is not NULL, that it is about request_id.
 * Unsigned answers are accepted only as an E-code (the DCC signs none),
 * which carry no devices.  Too large: HFW_ELIMIT.  a->doc holds the
 * document without its signature (hfw_answer_release).
 */
int hfw_inventory_check(struct hfw_answer *a, const hfw_trust *trust, const char *request_id, const void *body,
			size_t len, const char *what, struct hfw_error *err);

/*
 * Merge the devices of a checked answer into e (each text member copied),
 * each with the hub of the answer; out says what it held.  I0: merged;
 * E19: out->not_found, nothing merged, 0; any other code: HFW_EREJECTED
 * naming it.  HFW_EINPUT for a Device hanfw cannot place (an unknown
 * DeviceType, two CHFs in one answer).
 */
int hfw_inventory_apply(hfw_estate *e, const struct hfw_answer *a, struct hfw_inventory_answer *out,
			struct hfw_error *err);

/*
 * --from: read, check (request_id not compared) and apply each file in
 * order.  Fail closed: the first file refused stops it, with err naming the
 * file and the rule (the caller writes nothing).  found (may be NULL) is
 * called for each answer applied.
 */
typedef void (*hfw_inventory_found_fn)(void *arg, const char *what, const struct hfw_inventory_answer *ans);
int hfw_inventory_from_files(hfw_estate *e, const hfw_trust *trust, const char *const *paths, size_t n,
			     hfw_inventory_found_fn found, void *arg, struct hfw_error *err);

/* One search key: a DeviceID, or an MPxN (mpxn not NULL). */
struct hfw_inventory_key {
	struct hfw_eui eui;
	const char *mpxn;
};

/* What became of a key. */
enum hfw_inventory_outcome {
	HFW_INV_FOUND,		/* I0: devices merged */
	HFW_INV_COVERED,	/* an earlier answer listed it: not asked again */
	HFW_INV_NOT_FOUND,	/* E19 */
	HFW_INV_REJECTED,	/* another E-code */
	HFW_INV_UNVERIFIED,	/* the answer did not verify, or did not match */
	HFW_INV_OUTCOMES
};

const char *hfw_inventory_outcome_name(enum hfw_inventory_outcome o);	/* "found", "covered", ... */

struct hfw_inventory_options {
	const hfw_signer *signer;		/* XML signing (OU=87) */
	const hfw_trust *trust;			/* the DCC's XML-signing certificates */
	hfw_ledger *ledger;
	hfw_request_send_fn send;		/* NULL: hfw_transport_post on send_arg */
	void *send_arg;				/* the hfw_transport */
	const char *path;			/* "/serviceD" (non-device, CV 8) unless told */
	const char *schema_version;
	struct hfw_eui user;			/* RequestID originator */
	struct hfw_eui dcc;			/* RequestID target: the DCC */
	/* Called once per key with its outcome (ans NULL unless answered), detail for failures. */
	void (*event)(void *arg, const struct hfw_inventory_key *key, enum hfw_inventory_outcome o,
		      const struct hfw_inventory_answer *ans, const char *detail);
	void *event_arg;
};

/*
 * Ask the DCC about each key in order, through the request lifecycle
 * (request.h: counter reserved, signed, recorded and committed before it
 * leaves; its outcome then recorded as a step), skipping DeviceIDs an
 * earlier answer listed, and merge every verified answer into e.
 * counts[HFW_INV_OUTCOMES] (may be NULL) receives the totals.  Returns 0
 * once every key has an outcome, whatever it is; < 0 only when hanfw itself
 * cannot go on (ledger, signing, the adapter unreachable or the answer
 * unknown), with err saying why and keys not asked left without an event.
 */
int hfw_inventory_run(const struct hfw_inventory_options *o, hfw_estate *e, const struct hfw_inventory_key *keys,
		      size_t n, size_t *counts, struct hfw_error *err);

#endif
