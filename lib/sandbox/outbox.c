/* outbox.c - POSTing asynchronous messages to the receive URL (see outbox.h). */
#define _POSIX_C_SOURCE 200809L
#include "outbox.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../transport.h"

#define BACKOFF_FIRST_MS 1000		/* simulated */
#define BACKOFF_MAX_MS 60000		/* simulated */
#define BACKOFF_MAX_REAL_MS 1000	/* however slow simulated time runs */
#define BACKOFF_MIN_REAL_MS 100		/* however fast it runs */
#define GIVE_UP_MS (86400ll * 1000)	/* simulated */
#define REORDER_HOLD_MS 5000		/* simulated: long enough for later messages to overtake */

struct message {
	char *xml;
	size_t len;
	int64_t due, first;		/* simulated ms */
	unsigned long serial;
	unsigned attempts;
	int copy;			/* a duplicate made by the dup fault */
	char kind[40], device[24];
};

struct hfw_outbox {
	struct hfw_outbox_options o;
	char *url, *ca, *cert, *key;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct message **heap;		/* by due time */
	size_t n, cap;
	unsigned long serial;
	struct hfw_outbox_stats stats;
	int stopping;
	FILE *log;
	pthread_t *threads;
	int nthreads;
};

static void swap(struct message **a, struct message **b)
{
	struct message *t = *a;

	*a = *b;
	*b = t;
}

static void heap_push(hfw_outbox *ob, struct message *m)
{
	size_t i = ob->n++;

	ob->heap[i] = m;
	while (i && ob->heap[(i - 1) / 2]->due > ob->heap[i]->due) {
		swap(&ob->heap[(i - 1) / 2], &ob->heap[i]);
		i = (i - 1) / 2;
	}
}

static struct message *heap_pop(hfw_outbox *ob)
{
	struct message *top = ob->heap[0];
	size_t i = 0;

	ob->heap[0] = ob->heap[--ob->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < ob->n && ob->heap[l]->due < ob->heap[m]->due)
			m = l;
		if (r < ob->n && ob->heap[r]->due < ob->heap[m]->due)
			m = r;
		if (m == i)
			break;
		swap(&ob->heap[m], &ob->heap[i]);
		i = m;
	}
	return top;
}

static int enqueue(hfw_outbox *ob, struct message *m, struct hfw_error *err)
{
	if (ob->n == ob->cap) {
		size_t cap = ob->cap ? 2 * ob->cap : 1024;
		struct message **h = realloc(ob->heap, cap * sizeof(*h));

		if (!h)
			return hfw_error_oom(err);
		ob->heap = h;
		ob->cap = cap;
	}
	heap_push(ob, m);
	ob->stats.pending++;
	pthread_cond_signal(&ob->wake);
	return 0;
}

static void free_message(struct message *m)
{
	if (m) {
		free(m->xml);
		free(m);
	}
}

/* One JSON line per attempt; called with the lock held. */
static void log_line(hfw_outbox *ob, const struct message *m, const char *result, long status)
{
	if (!ob->log)
		return;
	fprintf(ob->log, "{\"serial\":%lu,\"kind\":\"%s\",\"device\":\"%s\",\"attempt\":%u,\"copy\":%s,"
		"\"result\":\"%s\",\"http_status\":%ld,\"at\":%lld}\n",
		m->serial, m->kind, m->device, m->attempts, m->copy ? "true" : "false", result, status,
		(long long)hfw_simclock_now(ob->o.clock));
	fflush(ob->log);
}

static int64_t backoff(const hfw_outbox *ob, const struct message *m, int64_t now)
{
	int64_t d = BACKOFF_FIRST_MS << (m->attempts < 7 ? m->attempts - 1 : 6);
	int64_t real_cap = (int64_t)(BACKOFF_MAX_REAL_MS * ob->o.clock->scale);

	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	if (d > real_cap)
		d = real_cap;
	if (d < (int64_t)(BACKOFF_MIN_REAL_MS * ob->o.clock->scale))
		d = (int64_t)(BACKOFF_MIN_REAL_MS * ob->o.clock->scale);
	/* Jitter of up to a half, so retries from many messages spread out. */
	return now + d / 2 + (int64_t)(hfw_faults_draw(ob->o.faults, "jitter", m->serial << 8 | m->attempts) % (uint64_t)(d / 2 + 1));
}

/* One attempt, outside the lock.  Returns the log result. */
static const char *attempt(hfw_outbox *ob, hfw_transport *t, struct message *m, int64_t now, long *status)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_reply reply = { 0, NULL, 0, "" };
	enum hfw_delivery d;
	const char *result;

	*status = 0;
	if (now < ob->o.clock->sim0 + (int64_t)ob->o.faults->rrs_down_ms)
		return "down";		/* the fault: as if the URL refused the connection */
	if (hfw_faults_chance(ob->o.faults, "drop", m->serial << 8 | m->attempts, ob->o.faults->drop))
		return "dropped";	/* lost on the way: no answer, so it is tried again */
	if (!t)
		return "delivered";	/* no receive URL: logged only */
	hfw_transport_post(t, "", m->xml, m->len, &reply, &d, &err);
	*status = reply.http_status;
	/* Any 2xx delivers: a receiver answers 204 with no body, or 200 with anything. */
	if (d == HFW_DELIVERED || (reply.http_status >= 200 && reply.http_status < 300))
		result = "delivered";
	else if (reply.http_status >= 400 && reply.http_status < 500)
		result = "refused";
	else
		result = "failed";
	hfw_reply_release(&reply);
	return result;
}

static void *run(void *arg)
{
	hfw_outbox *ob = arg;
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_transport *t = NULL;

	if (ob->url) {
		struct hfw_transport_options to = { ob->url, ob->ca, ob->cert, ob->key, 0, 2000, 10000, 0, 0 };

		if (hfw_transport_open(&t, &to, &err) < 0) {
			hfw_sandbox_logf(&ob->o.log, "cannot deliver to '%s': %s", ob->url, err.text);
			return NULL;
		}
	}
	pthread_mutex_lock(&ob->lock);
	while (!ob->stopping) {
		struct message *m;
		int64_t now = hfw_simclock_now(ob->o.clock);
		const char *result;
		long status;

		if (!ob->n || ob->heap[0]->due > now) {
			int64_t real = ob->n ? hfw_simclock_real_at(ob->o.clock, ob->heap[0]->due) : hfw_clock_ms(CLOCK_MONOTONIC) + 1000;
			struct timespec ts = { (time_t)(real / 1000), (long)(real % 1000) * 1000000 };

			pthread_cond_timedwait(&ob->wake, &ob->lock, &ts);
			continue;
		}
		m = heap_pop(ob);
		m->attempts++;
		ob->stats.attempts++;
		pthread_mutex_unlock(&ob->lock);
		result = attempt(ob, t, m, now, &status);
		pthread_mutex_lock(&ob->lock);
		log_line(ob, m, result, status);
		if (!strcmp(result, "delivered") || !strcmp(result, "refused")) {
			ob->stats.pending--;
			if (result[0] == 'd')
				ob->stats.delivered++;
			else
				ob->stats.refused++;
			if (result[0] == 'd' && !m->copy &&
			    hfw_faults_chance(ob->o.faults, "dup", m->serial, ob->o.faults->dup)) {
				/* Deliver it again, as the DCC may. */
				m->copy = 1;
				m->attempts = 0;
				m->due = now + 1 + (int64_t)(hfw_faults_draw(ob->o.faults, "dupdelay", m->serial) % 2000);
				if (enqueue(ob, m, &err) == 0)
					continue;
			}
			free_message(m);
		} else if (now - m->first > GIVE_UP_MS) {
			ob->stats.pending--;
			log_line(ob, m, "abandoned", 0);
			free_message(m);
		} else {
			m->due = backoff(ob, m, now);
			heap_push(ob, m);	/* room is there: it was just popped */
		}
	}
	pthread_mutex_unlock(&ob->lock);
	hfw_transport_free(t);
	return NULL;
}

int hfw_outbox_start(hfw_outbox **out, const struct hfw_outbox_options *o, struct hfw_error *err)
{
	hfw_outbox *ob;
	pthread_condattr_t ca;
	int i, ret = 0;

	*out = NULL;
	if (!(ob = calloc(1, sizeof(*ob))))
		return hfw_error_oom(err);
	ob->o = *o;
	pthread_mutex_init(&ob->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ob->wake, &ca);
	pthread_condattr_destroy(&ca);
	ob->nthreads = o->threads > 0 ? o->threads : 2;
	if ((o->url && !(ob->url = strdup(o->url))) || (o->ca && !(ob->ca = strdup(o->ca))) ||
	    (o->client_cert && !(ob->cert = strdup(o->client_cert))) ||
	    (o->client_key && !(ob->key = strdup(o->client_key))) ||
	    !(ob->threads = calloc((size_t)ob->nthreads, sizeof(pthread_t)))) {
		ret = hfw_error_oom(err);
		goto fail;
	}
	if (o->log_path && !(ob->log = fopen(o->log_path, "a"))) {
		ret = hfw_error_set(err, HFW_EIO, "cannot open '%s'", o->log_path);
		goto fail;
	}
	for (i = 0; i < ob->nthreads; i++)
		if (pthread_create(&ob->threads[i], NULL, run, ob) != 0) {
			ob->nthreads = i;
			hfw_outbox_stop(ob);
			return hfw_error_set(err, HFW_ERROR, "cannot start the delivery threads");
		}
	*out = ob;
	return 0;
fail:
	ob->nthreads = 0;
	hfw_outbox_stop(ob);
	return ret;
}

int hfw_outbox_post(hfw_outbox *ob, char *xml, size_t len, int64_t due_ms, const char *kind,
		    const char *device, struct hfw_error *err)
{
	const struct hfw_faults *f = ob->o.faults;
	struct message *m;
	int ret;

	if (!(m = calloc(1, sizeof(*m)))) {
		free(xml);
		return hfw_error_oom(err);
	}
	m->xml = xml;
	m->len = len;
	snprintf(m->kind, sizeof(m->kind), "%s", kind);
	snprintf(m->device, sizeof(m->device), "%s", device ? device : "");
	pthread_mutex_lock(&ob->lock);
	m->serial = ++ob->serial;
	m->first = m->due = due_ms;
	if (f->delay_ms)
		m->due += (int64_t)(hfw_faults_draw(f, "delay", m->serial) % (f->delay_ms + 1));
	if (hfw_faults_chance(f, "reorder", m->serial, f->reorder))
		m->due += REORDER_HOLD_MS;
	ob->stats.queued++;
	if ((ret = enqueue(ob, m, err)) < 0)
		free_message(m);
	pthread_mutex_unlock(&ob->lock);
	return ret;
}

void hfw_outbox_stats(hfw_outbox *ob, struct hfw_outbox_stats *s)
{
	pthread_mutex_lock(&ob->lock);
	*s = ob->stats;
	pthread_mutex_unlock(&ob->lock);
}

void hfw_outbox_stop(hfw_outbox *ob)
{
	int i;

	if (!ob)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->stopping = 1;
	pthread_cond_broadcast(&ob->wake);
	pthread_mutex_unlock(&ob->lock);
	for (i = 0; i < ob->nthreads; i++)
		pthread_join(ob->threads[i], NULL);
	while (ob->n) {
		struct message *m = heap_pop(ob);

		log_line(ob, m, "abandoned", 0);
		free_message(m);
	}
	if (ob->log)
		fclose(ob->log);
	free(ob->heap);
	free(ob->threads);
	free(ob->url);
	free(ob->ca);
	free(ob->cert);
	free(ob->key);
	pthread_cond_destroy(&ob->wake);
	pthread_mutex_destroy(&ob->lock);
	free(ob);
}
