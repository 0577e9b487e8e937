/* receiver.c - the Receive Response Service (see receiver.h). */
#include "receiver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "campaign.h"
#include "crypto.h"
#include "decode.h"
#include "hex.h"
#include "ledger.h"

/* A message waiting for the committer: stored, or quarantined. */
struct pending {
	struct hfw_ledger_message m;
	const char *reason;		/* non-NULL: quarantine with this */
	const char *peer;
	size_t size;			/* quarantined: the full size */
	int duplicate, done, ret;
	struct pending *next;
};

struct hfw_receiver {
	hfw_ledger *ledger;		/* the committer's alone */
	const hfw_trust *trust;
	pthread_mutex_t lock;
	pthread_cond_t work, finished;
	struct pending *queue, **tail;
	pthread_t thread;
	int running, stopping;
	struct hfw_receiver_counts counts;
	struct hfw_receiver_settings settings;
};

void hfw_receiver_configure(hfw_receiver *r, const struct hfw_receiver_settings *s)
{
	r->settings = *s;
}

static void tell(hfw_receiver *r, enum hfw_receiver_event e, const char *peer, size_t size, const char *text)
{
	if (r->settings.on_event)
		r->settings.on_event(r->settings.arg, e, peer, size, text);
}

static int quarantine_one(hfw_receiver *r, const struct pending *p, struct hfw_error *err)
{
	struct hfw_ledger_refusal q;

	q.sender = p->peer;
	q.raw = p->m.raw;
	q.len = p->m.raw_len;
	q.size = p->size;
	q.reason = p->reason;
	return hfw_ledger_quarantine(r->ledger, &q, r->settings.quarantine_cap, err);
}

/* Store everything queued in one transaction; a failure fails them all (the sender retries). */
static void commit(hfw_receiver *r, struct pending *batch)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct pending *p;
	int ret = hfw_ledger_begin(r->ledger, &err);

	for (p = batch; p && ret == 0; p = p->next)
		ret = p->reason ? quarantine_one(r, p, &err) : hfw_ledger_store_message(r->ledger, &p->m, &p->duplicate, &err);
	if (ret == 0)
		ret = hfw_ledger_commit(r->ledger, &err);
	if (ret < 0) {
		hfw_ledger_rollback(r->ledger);
		tell(r, HFW_RECEIVER_FAILED, NULL, 0, err.text);
	}
	pthread_mutex_lock(&r->lock);
	for (p = batch; p; p = p->next) {
		p->ret = ret;
		p->done = 1;
		if (ret < 0)
			r->counts.failed++;
		else if (p->reason)
			r->counts.quarantined++;
		else if (p->duplicate)
			r->counts.duplicates++;
		else
			r->counts.stored++;
	}
	pthread_cond_broadcast(&r->finished);
	pthread_mutex_unlock(&r->lock);
}

static void *committer(void *arg)
{
	hfw_receiver *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct pending *batch;

		while (!r->queue && !r->stopping)
			pthread_cond_wait(&r->work, &r->lock);
		if (!r->queue)
			break;
		batch = r->queue;
		r->queue = NULL;
		r->tail = &r->queue;
		pthread_mutex_unlock(&r->lock);
		commit(r, batch);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int hfw_receiver_open(hfw_receiver **out, const char *ledger_path, const hfw_trust *trust, struct hfw_error *err)
{
	hfw_receiver *r;
	int ret;

	*out = NULL;
	if (!(r = calloc(1, sizeof(*r))))
		return hfw_error_oom(err);
	r->trust = trust;
	r->tail = &r->queue;
	r->settings.quarantine_cap = HFW_LEDGER_DEFAULT_QUARANTINE_CAP;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->finished, NULL);
	if ((ret = hfw_ledger_open(&r->ledger, ledger_path, err)) < 0)
		goto fail;
	if (pthread_create(&r->thread, NULL, committer, r) != 0) {
		ret = hfw_error_set(err, HFW_ERROR, "cannot start the receiver's committer");
		goto fail;
	}
	r->running = 1;
	*out = r;
	return 0;
fail:
	hfw_receiver_close(r);
	return ret;
}

void hfw_receiver_close(hfw_receiver *r)
{
	if (!r)
		return;
	if (r->running) {
		pthread_mutex_lock(&r->lock);
		r->stopping = 1;
		pthread_cond_signal(&r->work);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	hfw_ledger_close(r->ledger);
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->finished);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Queue p and wait until the committer has it on disk. */
static int submit(hfw_receiver *r, struct pending *p)
{
	p->next = NULL;
	pthread_mutex_lock(&r->lock);
	*r->tail = p;
	r->tail = &p->next;
	pthread_cond_signal(&r->work);
	while (!p->done)
		pthread_cond_wait(&r->finished, &r->lock);
	pthread_mutex_unlock(&r->lock);
	return p->ret;
}

static void quarantine(hfw_receiver *r, const char *peer, const char *body, size_t len, size_t size,
		       const char *reason, int *status)
{
	struct pending p;

	memset(&p, 0, sizeof(p));
	p.m.raw = (const uint8_t *)body;
	p.m.raw_len = len;
	p.size = size > len ? size : len;
	p.peer = peer;
	p.reason = reason;
	*status = submit(r, &p) < 0 ? 500 : 400;
	if (*status == 400)
		tell(r, HFW_RECEIVER_REFUSED, peer, p.size, reason);
}

void hfw_receiver_refused(hfw_receiver *r, const char *peer, const char *body, size_t len, size_t size,
			  const char *why)
{
	int status;

	quarantine(r, peer, body, len, size, why, &status);
}

/* Does any GBCS payload in the decoded message carry a device signature that fails? */
static int bad_device_signature(const json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		const char *sig = json_string_value(json_object_get(j, "signature"));

		if (sig && !strcmp(sig, "INVALID"))
			return 1;
		json_object_foreach((json_t *)j, key, v)
			if (bad_device_signature(v))
				return 1;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (bad_device_signature(v))
				return 1;
	}
	return 0;
}

void hfw_receiver_handle(hfw_receiver *r, const char *peer, const char *body, size_t len, int *status)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_event_list events = HFW_EVENT_LIST_INIT;
	struct pending p;
	json_t *d = NULL;
	const json_t *sig;
	char *text = NULL, kind[96], reason[HFW_ERROR_TEXT_MAX + 32], key[2 * HFW_SHA256_LEN + 1];
	uint8_t digest[HFW_SHA256_LEN];

	memset(&p, 0, sizeof(p));
	if (hfw_decode_response(&d, (const uint8_t *)body, len, r->trust, &err) < 0) {
		snprintf(reason, sizeof(reason), "%s", err.text);
		quarantine(r, peer, body, len, len, reason, status);
		goto out;
	}
	sig = json_object_get(d, "signature");
	if (!json_is_object(sig)) {
		quarantine(r, peer, body, len, len, "not signed", status);
		goto out;
	}
	if (bad_device_signature(d)) {
		quarantine(r, peer, body, len, len, "a device's GBCS signature does not verify", status);
		goto out;
	}
	if (hfw_campaign_events(&events, d, &err) < 0 || !(text = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		*status = 500;
		goto out;
	}
	hfw_campaign_kind(kind, sizeof(kind), d);
	/* Its identity: the ResponseID the sender gave it, else its bytes. */
	p.m.key = json_string_value(json_object_get(d, "response_id"));
	if (!p.m.key) {
		hfw_sha256(digest, body, len);
		hfw_hex_encode(key, digest, sizeof(digest));
		p.m.key = key;
	}
	p.m.request_id = json_string_value(json_object_get(d, "request_id"));
	p.m.kind = kind;
	p.m.response_code = json_string_value(json_object_get(d, "response_code"));
	p.m.raw = (const uint8_t *)body;
	p.m.raw_len = len;
	p.m.decoded = text;
	p.m.events = events.v;
	p.m.nevents = events.n;
	*status = submit(r, &p) < 0 ? 500 : 204;
out:
	free(text);
	hfw_event_list_release(&events);
	json_decref(d);
}

void hfw_receiver_counts(hfw_receiver *r, struct hfw_receiver_counts *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->counts;
	pthread_mutex_unlock(&r->lock);
}
