/*
 * outbox.h - the sandbox's side of the Receive Response Service: every
 * asynchronous response and alert is POSTed to the user's receive URL,
 * retried with backoff while the URL is down or answers 5xx, and never
 * given up on for a day of simulated time.  A 2xx answer delivers it; a
 * 4xx means the receiver refused it (as hanfw listen does a message that
 * fails verification) and it is not sent again.  Seeded faults drop,
 * delay, duplicate and reorder deliveries (faults.h).
 *
 * Every attempt is logged as a JSON line in the delivery log, so tests can
 * hold a receiver's records against what the sandbox did.
 */
#ifndef HFW_OUTBOX_H
#define HFW_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "../error.h"
#include "faults.h"
#include "log.h"
#include "simclock.h"

typedef struct hfw_outbox hfw_outbox;

struct hfw_outbox_options {
	const char *url;		/* the receive URL; NULL: messages are only logged */
	const char *ca;			/* for https: the receiver's CA */
	const char *client_cert, *client_key;	/* for https with mutual TLS */
	const struct hfw_faults *faults;
	const struct hfw_simclock *clock;
	const char *log_path;		/* the delivery log */
	int threads;			/* concurrent deliveries (0: 2) */
	struct hfw_sandbox_log log;	/* deliveries that cannot start */
};

int hfw_outbox_start(hfw_outbox **out, const struct hfw_outbox_options *o, struct hfw_error *err);

/*
 * Queue a message for delivery no earlier than simulated time due_ms.
 * Takes xml (malloc'ed) in every case; kind and device label the log line.
 */
int hfw_outbox_post(hfw_outbox *ob, char *xml, size_t len, int64_t due_ms, const char *kind,
		    const char *device, struct hfw_error *err);

struct hfw_outbox_stats {
	unsigned long queued, delivered, refused, attempts, pending;
};
void hfw_outbox_stats(hfw_outbox *ob, struct hfw_outbox_stats *s);

/* Stop the threads; messages not yet delivered are logged as abandoned. */
void hfw_outbox_stop(hfw_outbox *ob);

#endif
