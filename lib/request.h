/*
 * request.h - the one lifecycle of every DUIS request hanfw sends:
 *
 *   reserve the RequestID counter -> build -> sign -> record -> commit
 *   (durably) -> send, or write the dry run -> check the DCC's answer
 *
 * The first five steps happen for a batch of requests in ONE ledger
 * transaction (one sync), and hfw_request_prepare returns only once that
 * transaction is on disk: a request can leave the process only after its
 * counter and record are committed, so a crash loses a counter (never used)
 * but never reuses one.  A failed send never gives its counter back: the
 * next request takes a fresh one.
 *
 * Users: distribute.c (SR 11.1/11.4), and through flow.c activate.c
 * (SR 11.3) and readversion.c (SR 11.2); hanfw sign, whose RequestID comes
 * in the document, through hfw_request_sign_document below.
 */
#ifndef HFW_REQUEST_H
#define HFW_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crypto.h"
#include "duis.h"
#include "error.h"
#include "eui.h"
#include "ledger.h"
#include "requestid.h"
#include "transport.h"
#include "xmldsig.h"

/* One request in a batch: what the flow says, and what the lifecycle fills in. */
struct hfw_request {
	struct hfw_duis_request duis;	/* id.originator and id.target set by the flow; id.counter is reserved */
	const char *state;		/* ledger state once committed ("signed", "transform_signed"), or "dry-run" */
	/* The devices the request is about and their first outcome (may be 0). */
	const struct hfw_eui *devices;
	const char *const *device_states;
	size_t ndevices;
	/* The campaign record: action NULL for none. */
	const char *campaign, *action, *device_type, *firmware_version;
	const uint8_t *firmware_hash;	/* an hfw_firmware_hash, or NULL where not known */
	/* Filled in. */
	struct hfw_buf xml;		/* the signed document (release with hfw_request_release) */
	char request_id[HFW_REQUEST_ID_MAX];
	int committed;			/* set by hfw_request_prepare once the commit is on disk */
};

struct hfw_request_batch {
	hfw_ledger *ledger;
	const hfw_signer *signer;
	int dry_run;			/* recorded as "dry-run" instead of state */
};

/*
 * Reserve n consecutive counters for reqs[0].duis.id.originator (every
 * request of a batch has the same), build, sign and record each request,
 * and commit it all in one durable transaction.  On failure everything is
 * rolled back (nothing has left) and each reqs[i].xml is empty.
 */
int hfw_request_prepare(const struct hfw_request_batch *b, struct hfw_request *reqs, size_t n,
			struct hfw_error *err);

/* Write a prepared request to DIR/request-COUNTER.xml, atomically. */
int hfw_request_write_dry_run(const char *dir, const struct hfw_request *r, struct hfw_error *err);

/*
 * Send a prepared request: synchronously through send (hfw_transport_post
 * by default, when send is NULL and arg is the hfw_transport), or started
 * on a pool (the answer comes to the pool's callback with tag).  Both refuse
 * a request whose record is not committed (a bug in the flow, never a send).
 */
typedef int (*hfw_request_send_fn)(void *arg, const char *path, const struct hfw_request *r,
				   struct hfw_reply *reply, enum hfw_delivery *delivery, struct hfw_error *err);

int hfw_request_send(hfw_request_send_fn send, void *arg, const char *path, const struct hfw_request *r,
		     struct hfw_reply *reply, enum hfw_delivery *delivery, struct hfw_error *err);
int hfw_request_post(hfw_transport_pool *pool, const char *path, const struct hfw_request *r, void *tag,
		     struct hfw_error *err);

/* The DCC's answer, checked. */
struct hfw_answer {
	struct hfw_verify_result vr;
	struct _xmlDoc *doc;		/* the answer, signature removed (hfw_answer_release) */
};

/*
 * Check the DCC's answer to request_id: signed by a certificate of the
 * DCC's role in trust (an unsigned answer is accepted only as an E-code
 * rejection, which the DCC does not sign), and about this RequestID.
 * HFW_EVERIFY otherwise, naming which rule refused it.
 */
int hfw_request_check_answer(struct hfw_answer *a, const hfw_trust *trust, const char *request_id,
			     const void *body, size_t len, struct hfw_error *err);
void hfw_answer_release(struct hfw_answer *a);

struct hfw_request_sign_options {
	hfw_ledger *ledger;	/* counters are claimed or reserved here */
	int new_counter;	/* replace the RequestID's counter with a fresh one */
	const char *xsd_path;	/* validate against this instead of hanfw's schema */
};

/*
 * The same lifecycle for a request someone else wrote (hanfw sign): its
 * RequestID originator must be the signer; its counter is claimed in the
 * ledger (refused if not above the last one used), or replaced by a freshly
 * reserved one with new_counter; the request is recorded as "signed" and
 * committed before *out (a new buffer) is handed back.  id receives the
 * RequestID as signed.  A counter signed over is burned even when the
 * result is refused.
 */
int hfw_request_sign_document(char **out, size_t *outlen, struct hfw_request_id *id,
			      const hfw_signer *signer, const uint8_t *xml, size_t len,
			      const struct hfw_request_sign_options *o, struct hfw_error *err);

/* HFW_EKEY, naming the rule, unless signer is a user's XML-signing certificate (role 87). */
int hfw_request_check_signer(const hfw_signer *signer, struct hfw_error *err);

/* One document of a batch for hfw_request_sign_batch. */
struct hfw_sign_item {
	const uint8_t *xml;	/* in: the request (NULL: skipped, ret and err left as they are) */
	size_t len;
	char *out;		/* out: the signed request, a new buffer (free), or NULL */
	size_t outlen;
	struct hfw_request_id id;	/* out: its RequestID as signed */
	int ret;		/* out: 0, or the HFW_E* code of its refusal (err says why) */
	struct hfw_error err;
};

/*
 * hanfw sign of many documents: hfw_request_sign_document for each, in
 * order, in ONE ledger transaction committed durably (one sync) before
 * returning, so no signed document leaves before its counter is on disk.
 * A document that is refused is refused alone (items[i].ret, .err) and the
 * others go on: one refused before its counter is settled (unreadable,
 * invalid, not the signer's) takes none, and a counter once settled stays
 * burned whatever then happens to its document.  Parsing, validating,
 * signing and self-verifying run on every core; counters are settled in
 * the documents' order.  The signer must be role 87 (checked
 * before anything: HFW_EKEY).  Returns 0 once committed (each item says how
 * it went), or < 0 with no item signed if the batch could not be committed.
 */
int hfw_request_sign_batch(const hfw_signer *signer, struct hfw_sign_item *items, size_t n,
			   const struct hfw_request_sign_options *o, struct hfw_error *err);

void hfw_request_release(struct hfw_request *r);

#endif
