/*
 * transport.h - DUIS over HTTP(S) to a DCC adapter (DCC Boxed, the sandbox,
 * the DCC User Gateway), with libcurl.
 *
 * Certificate verification is on unless asked otherwise; mutual TLS with a
 * client certificate; one connection reused for every request of a
 * transport.  What happened to a request is always one of four things, and
 * only the first of the failures is retried automatically, because only
 * there can the request not have reached the adapter:
 *   NOT_SENT   connection refused, or the TLS handshake failed
 *   REFUSED    the adapter answered 4xx or 503: it did not process it
 *   UNKNOWN    timeout or broken connection after sending, or another 5xx:
 *              the adapter may have it, so it is never resent under a new
 *              counter without the operator knowing
 *   DELIVERED  a 2xx answer, with its body
 */
#ifndef HFW_TRANSPORT_H
#define HFW_TRANSPORT_H

#include <stddef.h>

#include "error.h"

#define HFW_MAX_REPLY_BYTES (16u * 1024 * 1024)

typedef struct hfw_transport hfw_transport;

struct hfw_transport_options {
	const char *base_url;		/* e.g. https://127.0.0.1:8079/api/v1 */
	const char *ca;			/* CA file or directory; NULL: the system's */
	const char *client_cert;	/* PEM, for mutual TLS */
	const char *client_key;
	int insecure;			/* do not verify the adapter's certificate */
	long connect_timeout_ms;	/* 0: 5000 */
	long total_timeout_ms;		/* 0: 30000 */
	int retries;			/* for NOT_SENT; -1: 3 */
	long backoff_ms;		/* first retry delay, doubled each time with jitter; 0: 200 */
};

enum hfw_delivery {
	HFW_DELIVERED,
	HFW_NOT_SENT,
	HFW_REFUSED,
	HFW_OUTCOME_UNKNOWN,
};

struct hfw_reply {
	long http_status;
	char *body;			/* NUL-terminated */
	size_t len;
	char content_type[64];
};

int hfw_transport_open(hfw_transport **out, const struct hfw_transport_options *o,
		       struct hfw_error *err);
void hfw_transport_free(hfw_transport *t);

/*
 * POST xml to base_url + path ("/serviceD").  *delivery always says what
 * happened; 0 only when DELIVERED, else HFW_ETRANSPORT naming the failure.
 */
int hfw_transport_post(hfw_transport *t, const char *path, const char *xml, size_t len,
		       struct hfw_reply *reply, enum hfw_delivery *delivery,
		       struct hfw_error *err);

void hfw_reply_release(struct hfw_reply *r);

const char *hfw_delivery_name(enum hfw_delivery d);

/*
 * Many requests in flight at once on one thread (libcurl multi), each on
 * its own kept-alive connection, with the same options, retries and
 * outcomes as hfw_transport_post.
 */
typedef struct hfw_transport_pool hfw_transport_pool;

int hfw_pool_open(hfw_transport_pool **out, const struct hfw_transport_options *o, unsigned max_in_flight,
		  struct hfw_error *err);
void hfw_pool_free(hfw_transport_pool *p);	/* abandons requests still in flight */

/* Start a POST; xml must stay valid until its completion.  tag comes back with it. */
int hfw_pool_post(hfw_transport_pool *p, const char *path, const char *xml, size_t len, void *tag,
		  struct hfw_error *err);
unsigned hfw_pool_free_slots(const hfw_transport_pool *p);
unsigned hfw_pool_in_flight(const hfw_transport_pool *p);

/* A completion: reply (owned by the pool, released after the call) and what happened. */
typedef void (*hfw_pool_done)(void *arg, void *tag, struct hfw_reply *reply, enum hfw_delivery delivery,
			      const struct hfw_error *err);

/* Move transfers on, waiting up to wait_ms for one; call done for each finished.  Returns how many. */
int hfw_pool_run(hfw_transport_pool *p, long wait_ms, hfw_pool_done done, void *arg);

#endif
