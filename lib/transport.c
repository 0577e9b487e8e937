/* transport.c - DUIS over HTTP(S) with libcurl (see transport.h). */
#define _DEFAULT_SOURCE	/* usleep */
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include <curl/curl.h>

#include "buf.h"
#include "clock.h"
#include "dynlib.h"

/* libcurl, loaded by the first transport (see dynlib.h). */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
} lc;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static struct hfw_error curl_error;

static void load_curl(void)
{
	const struct hfw_dynsym syms[] = {
		{ "curl_global_init", (void **)&lc.global_init },
		{ "curl_easy_init", (void **)&lc.easy_init },
		{ "curl_easy_setopt", (void **)&lc.easy_setopt },
		{ "curl_easy_perform", (void **)&lc.easy_perform },
		{ "curl_easy_getinfo", (void **)&lc.easy_getinfo },
		{ "curl_easy_cleanup", (void **)&lc.easy_cleanup },
		{ "curl_easy_strerror", (void **)&lc.easy_strerror },
		{ "curl_slist_append", (void **)&lc.slist_append },
		{ "curl_slist_free_all", (void **)&lc.slist_free_all },
		{ "curl_multi_init", (void **)&lc.multi_init },
		{ "curl_multi_setopt", (void **)&lc.multi_setopt },
		{ "curl_multi_add_handle", (void **)&lc.multi_add_handle },
		{ "curl_multi_remove_handle", (void **)&lc.multi_remove_handle },
		{ "curl_multi_perform", (void **)&lc.multi_perform },
		{ "curl_multi_poll", (void **)&lc.multi_poll },
		{ "curl_multi_info_read", (void **)&lc.multi_info_read },
		{ "curl_multi_cleanup", (void **)&lc.multi_cleanup },
		{ NULL, NULL },
	};

	if (hfw_dynlib_load("libcurl.so.4", syms, &curl_error) == 0 && lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		hfw_error_set(&curl_error, HFW_ERROR, "cannot initialise libcurl");
}

struct hfw_transport {
	CURL *curl;
	struct curl_slist *headers;
	char *base;
	struct hfw_transport_options o;
	char errbuf[CURL_ERROR_SIZE];
	unsigned rng;
};

const char *hfw_delivery_name(enum hfw_delivery d)
{
	switch (d) {
	case HFW_DELIVERED: return "delivered";
	case HFW_NOT_SENT: return "not sent";
	case HFW_REFUSED: return "refused";
	default: return "unknown";
	}
}

/* Every option a DUIS POST needs: verification on unless insecure, mutual TLS, timeouts, no redirects. */
static int configure(CURL *curl, const struct hfw_transport_options *o, struct curl_slist *headers, char *errbuf,
		     struct hfw_error *err)
{
	struct stat st;

	lc.easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	lc.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	lc.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	lc.easy_setopt(curl, CURLOPT_TIMEOUT_MS, o->total_timeout_ms);
	lc.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	lc.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	lc.easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	lc.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
	lc.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
	if (o->ca) {
		if (stat(o->ca, &st) != 0)
			return hfw_error_set(err, HFW_ECONFIG, "TLS CA '%s' does not exist", o->ca);
		lc.easy_setopt(curl, S_ISDIR(st.st_mode) ? CURLOPT_CAPATH : CURLOPT_CAINFO, o->ca);
	}
	if (!!o->client_cert != !!o->client_key)
		return hfw_error_set(err, HFW_ECONFIG, "mutual TLS needs both a client certificate and its key");
	if (o->client_cert) {
		lc.easy_setopt(curl, CURLOPT_SSLCERT, o->client_cert);
		lc.easy_setopt(curl, CURLOPT_SSLKEY, o->client_key);
	}
	return 0;
}

/*
 * What a transport and a pool share: the options checked and defaulted,
 * the base URL without a trailing slash (so base + "/serviceD" has one
 * slash), the request headers.  libcurl is loaded here on first use.
 */
static int setup(struct hfw_transport_options *o, char **base, struct curl_slist **headers, unsigned *rng,
		 const struct hfw_transport_options *in, struct hfw_error *err)
{
	if (!in->base_url || (strncmp(in->base_url, "https://", 8) && strncmp(in->base_url, "http://", 7)))
		return hfw_error_set(err, HFW_ECONFIG, "adapter endpoint '%s' is not an http:// or https:// URL",
				     in->base_url ? in->base_url : "(unset)");
	pthread_once(&curl_once, load_curl);
	if (curl_error.code)
		return hfw_error_set(err, curl_error.code, "%s", curl_error.text);
	*o = *in;
	if (!o->connect_timeout_ms)
		o->connect_timeout_ms = 5000;
	if (!o->total_timeout_ms)
		o->total_timeout_ms = 30000;
	if (o->retries < 0)
		o->retries = 3;
	if (!o->backoff_ms)
		o->backoff_ms = 200;
	*rng = (unsigned)time(NULL) ^ (unsigned)getpid();
	if (!(*base = strdup(in->base_url)))
		return hfw_error_oom(err);
	if ((*base)[0] && (*base)[strlen(*base) - 1] == '/')
		(*base)[strlen(*base) - 1] = '\0';
	if (!(*headers = lc.slist_append(NULL, "Content-Type: application/xml")) || !lc.slist_append(*headers, "Expect:"))
		return hfw_error_oom(err);
	return 0;
}

int hfw_transport_open(hfw_transport **out, const struct hfw_transport_options *o,
		       struct hfw_error *err)
{
	hfw_transport *t = NULL;
	int ret = 0;

	*out = NULL;
	if (!(t = calloc(1, sizeof(*t))))
		return hfw_error_oom(err);
	if ((ret = setup(&t->o, &t->base, &t->headers, &t->rng, o, err)) < 0)
		goto out;
	if (!(t->curl = lc.easy_init())) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if ((ret = configure(t->curl, &t->o, t->headers, t->errbuf, err)) < 0)
		goto out;
	*out = t;
	t = NULL;
out:
	hfw_transport_free(t);
	return ret;
}

void hfw_transport_free(hfw_transport *t)
{
	if (!t)
		return;
	if (t->curl)
		lc.easy_cleanup(t->curl);
	if (t->headers)
		lc.slist_free_all(t->headers);
	free(t->base);
	free(t);
}

void hfw_reply_release(struct hfw_reply *r)
{
	if (!r)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct hfw_buf *b = user;
	struct hfw_error ignored = HFW_ERROR_INIT;

	if (hfw_buf_append(b, data, size * n, &ignored) < 0)
		return 0;	/* too big: curl stops with a write error */
	return size * n;
}

/* Could the request have reached the adapter?  Only these say no. */
static int not_sent(CURLcode rc, CURL *curl, const char *errbuf)
{
	curl_off_t pretransfer = 0;
	long sent = 0;

	switch (rc) {
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		/*
		 * TLS 1.3 checks the client's certificate after the client thinks the
		 * handshake is over, so a refusal arrives as an alert on the first
		 * read, or as a reset on the first write: either way the server never
		 * processed the request.  Nothing written is nothing sent.
		 */
		lc.easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent);
		return strstr(errbuf, "alert") != NULL || sent == 0;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return 1;
	case CURLE_OPERATION_TIMEDOUT:
		/* Timed out before the request went out: still connecting or in the handshake. */
		lc.easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
		return pretransfer == 0;
	default:
		return 0;
	}
}

/* Worth trying again: the adapter may just not be listening yet. */
static int retryable(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	       rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SSL_CONNECT_ERROR;
}

/* What became of a transfer: the reply, and whether the adapter can have the request. */
static int finish(CURL *curl, CURLcode rc, const char *errbuf, const char *url, int attempt, struct hfw_buf *body,
		  struct hfw_reply *reply, enum hfw_delivery *delivery, struct hfw_error *err)
{
	const char *ct = NULL;
	int ret = 0;

	if (rc != CURLE_OK) {
		const char *why = errbuf[0] ? errbuf : lc.easy_strerror(rc);

		if (not_sent(rc, curl, errbuf)) {
			*delivery = HFW_NOT_SENT;
			ret = hfw_error_set(err, HFW_ETRANSPORT, "request not sent to '%s'%s: %s", url,
					    attempt ? " (after retries)" : "", why);
		} else {
			*delivery = HFW_OUTCOME_UNKNOWN;
			ret = hfw_error_set(err, HFW_ETRANSPORT,
					    "no complete answer from '%s': %s; the adapter may have the request", url, why);
		}
		goto out;
	}
	lc.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->http_status);
	lc.easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(reply->content_type, sizeof(reply->content_type), "%s", ct ? ct : "");
	if (reply->http_status < 200 || reply->http_status > 299) {
		*delivery = (reply->http_status >= 400 && reply->http_status < 500) || reply->http_status == 503
			    ? HFW_REFUSED : HFW_OUTCOME_UNKNOWN;
		ret = hfw_error_set(err, HFW_ETRANSPORT, "adapter answered HTTP %ld for '%s'%s", reply->http_status, url,
				    *delivery == HFW_REFUSED ? ": not processed" : ": the adapter may have the request");
		goto out;
	}
	if (!ct || strncasecmp(ct, "application/xml", 15) != 0) {
		*delivery = HFW_OUTCOME_UNKNOWN;
		ret = hfw_error_set(err, HFW_ETRANSPORT, "adapter answered with '%s', not application/xml", ct ? ct : "no type");
		goto out;
	}
	*delivery = HFW_DELIVERED;
	reply->body = hfw_buf_detach(body, &reply->len);
	if (!reply->body && !(reply->body = calloc(1, 1)))
		ret = hfw_error_oom(err);
out:
	return ret;
}

int hfw_transport_post(hfw_transport *t, const char *path, const char *xml, size_t len,
		       struct hfw_reply *reply, enum hfw_delivery *delivery,
		       struct hfw_error *err)
{
	struct hfw_buf body = HFW_BUF_INIT(HFW_MAX_REPLY_BYTES);
	char url[2048];
	long delay = t->o.backoff_ms;
	int attempt, ret = 0;
	CURLcode rc = CURLE_OK;

	memset(reply, 0, sizeof(*reply));
	*delivery = HFW_NOT_SENT;
	snprintf(url, sizeof(url), "%s%s", t->base, path);
	lc.easy_setopt(t->curl, CURLOPT_URL, url);
	lc.easy_setopt(t->curl, CURLOPT_POSTFIELDS, xml);
	lc.easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	lc.easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_body);
	lc.easy_setopt(t->curl, CURLOPT_WRITEDATA, &body);
	for (attempt = 0;; attempt++) {
		body.len = 0;
		t->errbuf[0] = '\0';
		rc = lc.easy_perform(t->curl);
		if (rc == CURLE_OK || !not_sent(rc, t->curl, t->errbuf) || !retryable(rc) || attempt >= t->o.retries)
			break;
		/* Exponential backoff with jitter, so many clients do not retry in step. */
		t->rng = t->rng * 1103515245u + 12345u;
		usleep((useconds_t)(delay + (long)(t->rng % (unsigned)(delay / 2 + 1))) * 1000);
		delay *= 2;
	}
	ret = finish(t->curl, rc, t->errbuf, url, attempt, &body, reply, delivery, err);
	hfw_buf_release(&body);
	return ret;
}

/* ---- many requests in flight on one thread (libcurl multi) ---- */

struct slot {
	CURL *curl;
	struct hfw_buf body;
	char url[2048];
	char errbuf[CURL_ERROR_SIZE];
	void *tag;
	int attempt;
	int64_t retry_at;	/* ms, monotonic; 0 when not waiting to retry */
	long delay;
	int busy;
};

struct hfw_transport_pool {
	CURLM *multi;
	struct curl_slist *headers;
	struct hfw_transport_options o;
	char *base;
	struct slot *slots;
	unsigned nslots, in_flight;
	unsigned rng;
};

int hfw_pool_open(hfw_transport_pool **out, const struct hfw_transport_options *o, unsigned max_in_flight,
		  struct hfw_error *err)
{
	hfw_transport_pool *p = NULL;
	unsigned i;
	int ret = 0;

	*out = NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return hfw_error_oom(err);
	if ((ret = setup(&p->o, &p->base, &p->headers, &p->rng, o, err)) < 0)
		goto out;
	if (!(p->multi = lc.multi_init()) || !(p->slots = calloc(max_in_flight, sizeof(*p->slots)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	/* One connection per request in flight, kept open between requests. */
	lc.multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_in_flight);
	lc.multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)max_in_flight);
	for (i = 0; i < max_in_flight; i++, p->nslots++) {
		struct slot *s = &p->slots[i];

		s->body = (struct hfw_buf)HFW_BUF_INIT(HFW_MAX_REPLY_BYTES);
		if (!(s->curl = lc.easy_init())) {
			ret = hfw_error_oom(err);
			goto out;
		}
		if ((ret = configure(s->curl, &p->o, p->headers, s->errbuf, err)) < 0)
			goto out;
		lc.easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
		lc.easy_setopt(s->curl, CURLOPT_WRITEDATA, &s->body);
		lc.easy_setopt(s->curl, CURLOPT_PRIVATE, s);
	}
	*out = p;
	p = NULL;
out:
	hfw_pool_free(p);
	return ret;
}

void hfw_pool_free(hfw_transport_pool *p)
{
	unsigned i;

	if (!p)
		return;
	for (i = 0; i < p->nslots; i++) {
		if (p->slots[i].busy && !p->slots[i].retry_at)
			lc.multi_remove_handle(p->multi, p->slots[i].curl);
		lc.easy_cleanup(p->slots[i].curl);
		hfw_buf_release(&p->slots[i].body);
	}
	if (p->multi)
		lc.multi_cleanup(p->multi);
	if (p->headers)
		lc.slist_free_all(p->headers);
	free(p->slots);
	free(p->base);
	free(p);
}

unsigned hfw_pool_free_slots(const hfw_transport_pool *p)
{
	return p->nslots - p->in_flight;
}

unsigned hfw_pool_in_flight(const hfw_transport_pool *p)
{
	return p->in_flight;
}

int hfw_pool_post(hfw_transport_pool *p, const char *path, const char *xml, size_t len, void *tag,
		  struct hfw_error *err)
{
	struct slot *s = NULL;
	unsigned i;

	for (i = 0; i < p->nslots && !s; i++)
		if (!p->slots[i].busy)
			s = &p->slots[i];
	if (!s)
		return hfw_error_set(err, HFW_ERROR, "no free slot for another request in flight");
	snprintf(s->url, sizeof(s->url), "%s%s", p->base, path);
	lc.easy_setopt(s->curl, CURLOPT_URL, s->url);
	lc.easy_setopt(s->curl, CURLOPT_POSTFIELDS, xml);
	lc.easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	s->body.len = 0;
	s->errbuf[0] = '\0';
	s->tag = tag;
	s->attempt = 0;
	s->retry_at = 0;
	s->delay = p->o.backoff_ms;
	if (lc.multi_add_handle(p->multi, s->curl) != CURLM_OK)
		return hfw_error_set(err, HFW_ERROR, "cannot start a request");
	s->busy = 1;
	p->in_flight++;
	return 0;
}

int hfw_pool_run(hfw_transport_pool *p, long wait_ms, hfw_pool_done done, void *arg)
{
	CURLMsg *msg;
	int running = 0, left, numfds, completed = 0;
	int64_t now = hfw_monotonic_ms();
	unsigned i;

	/* Retries whose backoff is over go out again. */
	for (i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];

		if (s->busy && s->retry_at && s->retry_at <= now) {
			s->retry_at = 0;
			s->body.len = 0;
			s->errbuf[0] = '\0';
			lc.multi_add_handle(p->multi, s->curl);
		} else if (s->busy && s->retry_at && s->retry_at - now < wait_ms) {
			wait_ms = (long)(s->retry_at - now);
		}
	}
	lc.multi_perform(p->multi, &running);
	while ((msg = lc.multi_info_read(p->multi, &left))) {
		struct hfw_error err = HFW_ERROR_INIT;
		struct hfw_reply reply;
		enum hfw_delivery delivery = HFW_NOT_SENT;
		struct slot *s = NULL;
		CURLcode rc;

		if (msg->msg != CURLMSG_DONE)
			continue;
		rc = msg->data.result;
		lc.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		lc.multi_remove_handle(p->multi, s->curl);
		if (rc != CURLE_OK && not_sent(rc, s->curl, s->errbuf) && retryable(rc) && s->attempt < p->o.retries) {
			/* Cannot have reached the adapter: try again after a backoff with jitter. */
			p->rng = p->rng * 1103515245u + 12345u;
			s->retry_at = hfw_monotonic_ms() + s->delay + (long)(p->rng % (unsigned)(s->delay / 2 + 1));
			s->delay *= 2;
			s->attempt++;
			continue;
		}
		memset(&reply, 0, sizeof(reply));
		finish(s->curl, rc, s->errbuf, s->url, s->attempt, &s->body, &reply, &delivery, &err);
		s->busy = 0;
		p->in_flight--;
		completed++;
		done(arg, s->tag, &reply, delivery, &err);
		hfw_reply_release(&reply);
	}
	if (!completed && p->in_flight && wait_ms > 0)
		lc.multi_poll(p->multi, NULL, 0, (int)wait_ms, &numfds);
	return completed;
}
