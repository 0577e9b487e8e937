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

int hfw_transport_open(hfw_transport **out, const struct hfw_transport_options *o,
		       struct hfw_error *err)
{
	hfw_transport *t = NULL;
	struct stat st;
	int ret = 0;

	*out = NULL;
	if (!o->base_url || (strncmp(o->base_url, "https://", 8) && strncmp(o->base_url, "http://", 7)))
		return hfw_error_set(err, HFW_ECONFIG, "adapter endpoint '%s' is not an http:// or https:// URL",
				     o->base_url ? o->base_url : "(unset)");
	pthread_once(&curl_once, load_curl);
	if (curl_error.code)
		return hfw_error_set(err, curl_error.code, "%s", curl_error.text);
	if (!(t = calloc(1, sizeof(*t))) || !(t->base = strdup(o->base_url)) || !(t->curl = lc.easy_init())) {
		ret = hfw_error_oom(err);
		goto out;
	}
	t->o = *o;
	if (!t->o.connect_timeout_ms)
		t->o.connect_timeout_ms = 5000;
	if (!t->o.total_timeout_ms)
		t->o.total_timeout_ms = 30000;
	if (t->o.retries < 0)
		t->o.retries = 3;
	if (!t->o.backoff_ms)
		t->o.backoff_ms = 200;
	t->rng = (unsigned)time(NULL) ^ (unsigned)getpid();
	/* Dropped trailing slash, so base + "/serviceD" is one slash. */
	if (t->base[0] && t->base[strlen(t->base) - 1] == '/')
		t->base[strlen(t->base) - 1] = '\0';
	if (!(t->headers = lc.slist_append(NULL, "Content-Type: application/xml")) ||
	    !lc.slist_append(t->headers, "Expect:")) {
		ret = hfw_error_oom(err);
		goto out;
	}
	lc.easy_setopt(t->curl, CURLOPT_ERRORBUFFER, t->errbuf);
	lc.easy_setopt(t->curl, CURLOPT_HTTPHEADER, t->headers);
	lc.easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT_MS, t->o.connect_timeout_ms);
	lc.easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, t->o.total_timeout_ms);
	lc.easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	lc.easy_setopt(t->curl, CURLOPT_FOLLOWLOCATION, 0L);
	lc.easy_setopt(t->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	lc.easy_setopt(t->curl, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
	lc.easy_setopt(t->curl, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
	if (o->ca) {
		if (stat(o->ca, &st) != 0) {
			ret = hfw_error_set(err, HFW_ECONFIG, "TLS CA '%s' does not exist", o->ca);
			goto out;
		}
		lc.easy_setopt(t->curl, S_ISDIR(st.st_mode) ? CURLOPT_CAPATH : CURLOPT_CAINFO, o->ca);
	}
	if (!!o->client_cert != !!o->client_key) {
		ret = hfw_error_set(err, HFW_ECONFIG, "mutual TLS needs both a client certificate and its key");
		goto out;
	}
	if (o->client_cert) {
		lc.easy_setopt(t->curl, CURLOPT_SSLCERT, o->client_cert);
		lc.easy_setopt(t->curl, CURLOPT_SSLKEY, o->client_key);
	}
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
	lc.easy_cleanup(t->curl);
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

int hfw_transport_post(hfw_transport *t, const char *path, const char *xml, size_t len,
		       struct hfw_reply *reply, enum hfw_delivery *delivery,
		       struct hfw_error *err)
{
	struct hfw_buf body = HFW_BUF_INIT(HFW_MAX_REPLY_BYTES);
	char url[2048];
	const char *ct = NULL;
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
	if (rc != CURLE_OK) {
		const char *why = t->errbuf[0] ? t->errbuf : lc.easy_strerror(rc);

		if (not_sent(rc, t->curl, t->errbuf)) {
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
	lc.easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &reply->http_status);
	lc.easy_getinfo(t->curl, CURLINFO_CONTENT_TYPE, &ct);
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
	reply->body = hfw_buf_detach(&body, &reply->len);
	if (!reply->body && !(reply->body = calloc(1, 1)))
		ret = hfw_error_oom(err);
out:
	hfw_buf_release(&body);
	return ret;
}
