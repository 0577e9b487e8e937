/*
 * receiver.h - the supplier's Receive Response Service: what "hanfw listen"
 * does with each POST from the DCC adapter.
 *
 * A message is verified (XML signature by a trusted certificate; GBCS
 * payload signatures too where the device's certificate is trusted),
 * decoded (decode.h), and stored raw and decoded with what it says about
 * each device (campaign.h) in the ledger, in one transaction, before the
 * caller answers 2xx: a message acknowledged is a message kept.  Commits
 * are grouped across concurrent deliveries (one thread owns the ledger), so
 * one fsync serves many messages.  A message seen before (same ResponseID,
 * or same bytes when it has none) is counted, not applied again.  Anything
 * that does not verify or decode is quarantined (a bounded prefix, its hash
 * and size, the sender: see hfw_ledger_quarantine) with the reason, and
 * refused (4xx).  The library never prints: what the operator should see
 * as it happens (each refusal, a failed commit) goes to the command's
 * on_event callback.
 */
#ifndef HFW_RECEIVER_H
#define HFW_RECEIVER_H

#include <stddef.h>

#include "error.h"
#include "xmldsig.h"

typedef struct hfw_receiver hfw_receiver;

/* Takes nothing: the ledger is opened here, the trust is borrowed. */
int hfw_receiver_open(hfw_receiver **out, const char *ledger_path, const hfw_trust *trust, struct hfw_error *err);
void hfw_receiver_close(hfw_receiver *r);	/* after the last hfw_receiver_handle has returned */

enum hfw_receiver_event {
	HFW_RECEIVER_REFUSED,		/* a message refused (and quarantined): peer, size, text the reason */
	HFW_RECEIVER_FAILED,		/* the ledger failed (the sender will retry): text says why */
};

struct hfw_receiver_settings {
	unsigned long long quarantine_cap;	/* bytes, see hfw_ledger_quarantine (0: counts only) */
	/* Told as it happens, from the server's threads (several at once); may be NULL. */
	void (*on_event)(void *arg, enum hfw_receiver_event event, const char *peer, unsigned long long size,
			 const char *text);
	void *arg;
};

/* Before the first delivery (until then: no events, HFW_LEDGER_DEFAULT_QUARANTINE_CAP). */
void hfw_receiver_configure(hfw_receiver *r, const struct hfw_receiver_settings *s);

/*
 * One POSTed body from peer (its address); thread-safe; returns when it is
 * durably stored (or quarantined).  *status: 204 stored (or a duplicate),
 * 400 refused and quarantined, 500 the ledger failed (the sender should
 * retry).
 */
void hfw_receiver_handle(hfw_receiver *r, const char *peer, const char *body, size_t len, int *status);

/*
 * A POST refused before it could be read (too large: body is its first
 * len bytes of size; bad framing: none): quarantined with why.
 */
void hfw_receiver_refused(hfw_receiver *r, const char *peer, const char *body, size_t len, size_t size,
			  const char *why);

struct hfw_receiver_counts {
	unsigned long stored, duplicates, quarantined, failed;
};
void hfw_receiver_counts(hfw_receiver *r, struct hfw_receiver_counts *out);

#endif
