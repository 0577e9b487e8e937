/* httpd.c - libmicrohttpd server with required mutual TLS (see httpd.h). */
#define _POSIX_C_SOURCE 200809L
#include "httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "dynlib.h"
#include "fileio.h"

/* libmicrohttpd and GnuTLS, loaded by the first server (see dynlib.h). */
static struct {
	struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
					   MHD_AccessHandlerCallback, void *, ...);
	void (*stop_daemon)(struct MHD_Daemon *);
	struct MHD_Response *(*create_response_from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
	enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
	enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
	void (*destroy_response)(struct MHD_Response *);
	const union MHD_ConnectionInfo *(*get_connection_info)(struct MHD_Connection *, enum MHD_ConnectionInfoType, ...);
	const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
	enum MHD_Result (*is_feature_supported)(enum MHD_FEATURE);
	int (*get_connection_values)(struct MHD_Connection *, enum MHD_ValueKind, MHD_KeyValueIterator, void *);
	void (*suspend_connection)(struct MHD_Connection *);
	void (*resume_connection)(struct MHD_Connection *);
	const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind, const char *);
	const gnutls_datum_t *(*certificate_get_peers)(gnutls_session_t, unsigned int *);
	int (*certificate_verify_peers2)(gnutls_session_t, unsigned int *);
} mhd;
static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static struct hfw_error mhd_error;

static void load_mhd(void)
{
	const struct hfw_dynsym tls[] = {
		{ "gnutls_certificate_get_peers", (void **)&mhd.certificate_get_peers },
		{ "gnutls_certificate_verify_peers2", (void **)&mhd.certificate_verify_peers2 },
		{ NULL, NULL },
	};
	const struct hfw_dynsym http[] = {
		{ "MHD_start_daemon", (void **)&mhd.start_daemon },
		{ "MHD_stop_daemon", (void **)&mhd.stop_daemon },
		{ "MHD_create_response_from_buffer", (void **)&mhd.create_response_from_buffer },
		{ "MHD_add_response_header", (void **)&mhd.add_response_header },
		{ "MHD_queue_response", (void **)&mhd.queue_response },
		{ "MHD_destroy_response", (void **)&mhd.destroy_response },
		{ "MHD_get_connection_info", (void **)&mhd.get_connection_info },
		{ "MHD_get_daemon_info", (void **)&mhd.get_daemon_info },
		{ "MHD_is_feature_supported", (void **)&mhd.is_feature_supported },
		{ "MHD_get_connection_values", (void **)&mhd.get_connection_values },
		{ "MHD_suspend_connection", (void **)&mhd.suspend_connection },
		{ "MHD_resume_connection", (void **)&mhd.resume_connection },
		{ "MHD_lookup_connection_value", (void **)&mhd.lookup_connection_value },
		{ NULL, NULL },
	};

	if (hfw_dynlib_load("libgnutls.so.30", tls, &mhd_error) == 0)
		hfw_dynlib_load("libmicrohttpd.so.12", http, &mhd_error);
}

/*
 * TLS 1.2 and 1.3 only, AEAD ciphers (AES-GCM, ChaCha20-Poly1305) with
 * forward-secret key exchange only: no CBC, no SHA-1 MACs, no RSA key
 * transport.  libcurl, Python's ssl and OpenSSL's s_client all offer these.
 */
const char hfw_httpd_tls_priorities[] =
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:"
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA:%SAFE_RENEGOTIATION";

struct conn;

struct hfw_httpd {
	struct MHD_Daemon *d;
	struct hfw_httpd_options o;
	char *cert, *key, *ca;
	int tls, port;
	/* Every open connection, for the reaper (see reap). */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct conn *conns;
	pthread_t reaper;
	int reaping, stopping;
	/* Requests for the workers (see work), and how many they have not handed back. */
	pthread_cond_t work, finished;
	struct upload *queue, **tail;
	unsigned jobs;
	pthread_t *workers;
	unsigned nworkers;
};

/* A request being received, then with a worker, then answered. */
struct upload {
	struct hfw_buf body;
	size_t size;			/* bytes of body received, kept or not */
	int too_big;
	char peer[HFW_HTTPD_PEER_MAX];
	/* What the worker is given and gives back. */
	struct MHD_Connection *conn;
	char *url;
	int done, failed, status;
	const char *type;
	struct hfw_buf reply;
	struct upload *next;
};

static enum MHD_Result answer(struct MHD_Connection *c, int status, const char *type,
			      const char *data, size_t len)
{
	struct MHD_Response *r = mhd.create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	if (type)
		mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = mhd.queue_response(c, (unsigned)status, r);
	mhd.destroy_response(r);
	return ret;
}

/* Seconds on a clock that does not jump. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * What is known about a connection: its client certificate, once verified,
 * and when its current request began (the connection's start, then the end
 * of its previous request), for the request deadline.
 */
struct conn {
	int verified, busy;		/* busy: its request is with the handler */
	double started;
	int fd;
	struct conn *prev, *next;
};

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	hfw_httpd *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *cn;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if ((cn = calloc(1, sizeof(*cn)))) {	/* NULL: verified on every request, no deadline */
			cn->started = now_s();
			cn->fd = ci ? ci->connect_fd : -1;
			pthread_mutex_lock(&h->lock);
			cn->next = h->conns;
			if (h->conns)
				h->conns->prev = cn;
			h->conns = cn;
			pthread_mutex_unlock(&h->lock);
		}
		*socket_context = cn;
	} else if ((cn = *socket_context)) {
		/* Before libmicrohttpd closes the socket: the reaper never touches a closed one. */
		pthread_mutex_lock(&h->lock);
		if (cn->prev)
			cn->prev->next = cn->next;
		else
			h->conns = cn->next;
		if (cn->next)
			cn->next->prev = cn->prev;
		pthread_mutex_unlock(&h->lock);
		free(cn);
		*socket_context = NULL;
	}
}

/*
 * The request deadline for what libmicrohttpd gives no hook for: a TLS
 * handshake or request headers trickled a byte at a time (each byte resets
 * the idle timeout).  Once a second, a connection whose request has taken
 * longer than the deadline, and is not with the handler, is shut down;
 * libmicrohttpd then sees it end and closes it.
 */
static void *reap(void *arg)
{
	hfw_httpd *h = arg;
	struct timespec until;
	struct conn *cn;
	double now;

	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&h->wake, &h->lock, &until);
		now = now_s();
		for (cn = h->conns; cn && !h->stopping; cn = cn->next)
			if (!cn->busy && cn->fd >= 0 && now - cn->started > (double)h->o.deadline) {
				shutdown(cn->fd, SHUT_RDWR);
				cn->fd = -1;
			}
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *sc = mhd.get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return sc ? sc->socket_context : NULL;
}

/*
 * With a client CA, a connection without a certificate that CA issued is
 * refused.  The certificate cannot change within a connection (no
 * renegotiation), so it is verified once and not on every request.
 */
static int client_verified(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	struct conn *cn = conn_of(c);
	gnutls_session_t s;
	unsigned int status = 1, n = 0;

	if (cn && cn->verified)
		return 1;
	if (!ci || !(s = (gnutls_session_t)ci->tls_session))
		return 0;
	if (!mhd.certificate_get_peers(s, &n) || n == 0)
		return 0;
	if (mhd.certificate_verify_peers2(s, &status) != 0 || status != 0)
		return 0;
	if (cn)
		cn->verified = 1;
	return 1;
}

/* The request's framing headers, counted. */
struct framing {
	unsigned content_length, transfer_encoding, chunked;
	const char *length;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		/* The same length twice is still two: refused, as RFC 9112 allows. */
		f->content_length++;
		f->length = value;
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		f->transfer_encoding++;
		if (value && !strcasecmp(value, "chunked"))
			f->chunked++;
	}
	return MHD_YES;
}

/* Why the request's framing is ambiguous (request smuggling), or NULL if it is not. */
static const char *bad_framing(struct MHD_Connection *c)
{
	struct framing f = { 0, 0, 0, NULL };
	const char *p;

	mhd.get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	if (f.content_length > 1)
		return "more than one Content-Length";
	if (f.content_length && f.transfer_encoding)
		return "both Content-Length and Transfer-Encoding";
	if (f.transfer_encoding && (f.transfer_encoding > 1 || !f.chunked))
		return "a Transfer-Encoding other than chunked";
	if (f.length) {
		for (p = f.length; *p >= '0' && *p <= '9'; p++)
			;
		if (p == f.length || *p)
			return "a Content-Length that is not a number";
	}
	return NULL;
}

static void client_address(struct MHD_Connection *c, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, size, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)size);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)size);
}

/* Has the request run past its deadline (headers and body, from its first byte)? */
static int past_deadline(const hfw_httpd *h, struct MHD_Connection *c)
{
	const struct conn *cn = conn_of(c);

	return cn && now_s() - cn->started > (double)h->o.deadline;
}

/* While the handler has its request, a connection is not reaped (its answer may take a group commit). */
static void set_busy(hfw_httpd *h, struct MHD_Connection *c, int busy)
{
	struct conn *cn = conn_of(c);

	if (!cn)
		return;
	pthread_mutex_lock(&h->lock);
	cn->busy = busy;
	pthread_mutex_unlock(&h->lock);
}

/* What the request asks of the caller: its handler, or the refusal of a body too large. */
static void run(hfw_httpd *h, struct upload *u)
{
	const char *body = u->body.data ? u->body.data : "";

	u->reply.max = 64u * 1024 * 1024;
	u->type = "application/xml";
	u->status = 200;
	if (u->too_big) {
		if (h->o.refused)
			h->o.refused(h->o.arg, u->peer, u->url, body, u->body.len, u->size, "larger than the limit");
		u->status = 413;
	} else if (h->o.handler(h->o.arg, u->peer, u->url, body, u->body.len, &u->reply, &u->status, &u->type) < 0) {
		u->failed = 1;
	}
	u->done = 1;
}

static enum MHD_Result respond(hfw_httpd *h, struct MHD_Connection *c, struct upload *u)
{
	set_busy(h, c, 0);
	if (u->failed)
		return answer(c, 500, "text/plain", "internal error\n", 15);
	if (u->status == 413)
		return answer(c, 413, "text/plain", "request too large\n", 18);
	return answer(c, u->status, u->type, u->reply.data ? u->reply.data : "", u->reply.len);
}

/*
 * The handler may block (the receiver answers once its group commit is on
 * disk), so it runs on a pool of workers while libmicrohttpd's threads go
 * on serving other connections: the connection is suspended until its
 * worker is done.  Returns 0 when the server is stopping (run it here).
 */
static int hand_to_worker(hfw_httpd *h, struct upload *u)
{
	pthread_mutex_lock(&h->lock);
	if (h->stopping) {
		pthread_mutex_unlock(&h->lock);
		return 0;
	}
	mhd.suspend_connection(u->conn);
	u->next = NULL;
	*h->tail = u;
	h->tail = &u->next;
	h->jobs++;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->lock);
	return 1;
}

static void *work(void *arg)
{
	hfw_httpd *h = arg;
	struct MHD_Connection *c;
	struct upload *u;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->queue && !h->stopping)
			pthread_cond_wait(&h->work, &h->lock);
		if (!(u = h->queue))
			break;
		if (!(h->queue = u->next))
			h->tail = &h->queue;
		pthread_mutex_unlock(&h->lock);
		run(h, u);
		/* Once resumed, the connection (and u) are libmicrohttpd's again: u is not touched after. */
		c = u->conn;
		mhd.resume_connection(c);
		pthread_mutex_lock(&h->lock);
		h->jobs--;
		pthread_cond_broadcast(&h->finished);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **con_cls)
{
	hfw_httpd *h = cls;
	struct upload *u = *con_cls;
	struct hfw_error err = HFW_ERROR_INIT;
	const char *why;
	char peer[HFW_HTTPD_PEER_MAX];

	(void)version;
	if (!u) {
		/* The headers are in: refuse what is not allowed before reading any body. */
		if (past_deadline(h, c))
			return MHD_NO;
		if (h->tls && h->o.client_ca && !client_verified(c))
			return answer(c, 403, "text/plain", "client certificate required\n", 28);
		if ((why = bad_framing(c))) {
			client_address(c, peer, sizeof(peer));
			if (h->o.refused)
				h->o.refused(h->o.arg, peer, url, "", 0, 0, why);
			return answer(c, 400, "text/plain", "ambiguous message framing\n", 26);
		}
		if (strcmp(method, "POST") != 0)
			return answer(c, 405, "text/plain", "POST only\n", 10);
		if (!(u = calloc(1, sizeof(*u))))
			return MHD_NO;
		u->body.max = h->o.max_body;
		client_address(c, u->peer, sizeof(u->peer));
		*con_cls = u;
		return MHD_YES;
	}
	if (*size) {
		if (past_deadline(h, c))
			return MHD_NO;	/* a body trickled too slowly: the connection is closed */
		u->size += *size;
		if (!u->too_big && hfw_buf_append(&u->body, data, *size, &err) < 0)
			u->too_big = 1;
		*size = 0;
		return MHD_YES;
	}
	if (u->done)
		return respond(h, c, u);
	if (h->o.query_key && (why = mhd.lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, h->o.query_key))) {
		size_t n = strlen(url) + strlen(h->o.query_key) + strlen(why) + 3;

		if (!(u->url = malloc(n)))
			return MHD_NO;
		snprintf(u->url, n, "%s?%s=%s", url, h->o.query_key, why);
	} else if (!(u->url = strdup(url))) {
		return MHD_NO;
	}
	u->conn = c;
	set_busy(h, c, 1);
	if (hand_to_worker(h, u))
		return MHD_YES;
	run(h, u);	/* the server is stopping: no workers left to hand it to */
	return respond(h, c, u);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	hfw_httpd *h = cls;
	struct upload *u = *con_cls;
	struct conn *cn = conn_of(c);

	(void)t;
	if (cn) {
		pthread_mutex_lock(&h->lock);
		cn->started = now_s();	/* the next request on this connection starts its own clock */
		pthread_mutex_unlock(&h->lock);
	}
	if (u) {
		hfw_buf_release(&u->body);
		hfw_buf_release(&u->reply);
		free(u->url);
		free(u);
	}
	*con_cls = NULL;
}

static int read_pem(char **out, const char *path, struct hfw_error *err)
{
	uint8_t *d = NULL;
	size_t n;
	int ret = hfw_file_read(&d, &n, path, 1024 * 1024, "TLS file", err);

	*out = (char *)d;
	return ret;
}

/* Connections in all: what the file-descriptor limit leaves room for (some kept for the ledger and logs). */
/* Threads serving connections (TLS handshakes, reading, writing): one per processor, 1 to 8. */
static unsigned poll_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1u : n > 8 ? 8u : (unsigned)n;
}

static unsigned connection_limit(void)
{
	struct rlimit rl;
	rlim_t n = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		n = rl.rlim_cur;
	else if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		n = 65536;
	if (n > 65536)
		n = 65536;
	return n > 128 ? (unsigned)(n - 64) : 64u;
}

int hfw_httpd_start(hfw_httpd **out, const struct hfw_httpd_options *o, struct hfw_error *err)
{
	hfw_httpd *h = NULL;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *di;
	/* Event-driven: a pool of threads, each serving many connections (a slow one holds a socket, not a thread). */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	unsigned i;
	int ret = 0;

	*out = NULL;
	pthread_once(&mhd_once, load_mhd);
	if (mhd_error.code)
		return hfw_error_set(err, mhd_error.code, "%s", mhd_error.text);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->address ? o->address : "127.0.0.1", &sa.sin_addr) != 1)
		return hfw_error_set(err, HFW_ECONFIG, "listen address '%s' is not an IPv4 address", o->address);
	if (o->tls_cert && !o->client_ca && !o->no_client_cert)
		return hfw_error_set(err, HFW_ECONFIG, "TLS without a client CA: client certificates would not be checked");
	if (!(h = calloc(1, sizeof(*h))))
		return hfw_error_oom(err);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->finished, NULL);
	h->tail = &h->queue;
	h->o = *o;
	if (!h->o.max_body)
		h->o.max_body = 16u * 1024 * 1024;
	if (!h->o.per_ip_limit)
		h->o.per_ip_limit = HFW_HTTPD_DEFAULT_PER_IP;
	if (!h->o.timeout)
		h->o.timeout = HFW_HTTPD_DEFAULT_TIMEOUT;
	if (!h->o.deadline)
		h->o.deadline = HFW_HTTPD_DEFAULT_DEADLINE;
	if (!h->o.threads)
		h->o.threads = HFW_HTTPD_DEFAULT_THREADS;
	if (o->tls_cert) {
		if (!mhd.is_feature_supported(MHD_FEATURE_TLS)) {
			ret = hfw_error_set(err, HFW_ECONFIG, "this libmicrohttpd has no TLS");
			goto out;
		}
		if ((ret = read_pem(&h->cert, o->tls_cert, err)) < 0 || (ret = read_pem(&h->key, o->tls_key, err)) < 0 ||
		    (o->client_ca && (ret = read_pem(&h->ca, o->client_ca, err)) < 0))
			goto out;
		h->tls = 1;
		flags |= MHD_USE_TLS;
	}
#define HFW_MHD_COMMON                                                                                         \
	MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION,  \
		on_connection, h, MHD_OPTION_THREAD_POOL_SIZE, poll_threads(), MHD_OPTION_CONNECTION_TIMEOUT,    \
		h->o.timeout, MHD_OPTION_CONNECTION_LIMIT, connection_limit(), MHD_OPTION_PER_IP_CONNECTION_LIMIT, \
		h->o.per_ip_limit, MHD_OPTION_STRICT_FOR_CLIENT, 1
	if (h->ca)
		h->d = mhd.start_daemon(flags, 0, NULL, NULL, on_request, h, HFW_MHD_COMMON,
					MHD_OPTION_HTTPS_MEM_CERT, h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key,
					MHD_OPTION_HTTPS_PRIORITIES, hfw_httpd_tls_priorities,
					MHD_OPTION_HTTPS_MEM_TRUST, h->ca, MHD_OPTION_END);
	else if (h->tls)
		h->d = mhd.start_daemon(flags, 0, NULL, NULL, on_request, h, HFW_MHD_COMMON,
					MHD_OPTION_HTTPS_MEM_CERT, h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key,
					MHD_OPTION_HTTPS_PRIORITIES, hfw_httpd_tls_priorities, MHD_OPTION_END);
	else
		h->d = mhd.start_daemon(flags, 0, NULL, NULL, on_request, h, HFW_MHD_COMMON, MHD_OPTION_END);
#undef HFW_MHD_COMMON
	if (!h->d) {
		ret = hfw_error_set(err, HFW_EIO, "cannot listen on %s:%d (in use, or the TLS files are unusable)",
				    o->address ? o->address : "127.0.0.1", o->port);
		goto out;
	}
	if (!(h->workers = calloc(h->o.threads, sizeof(*h->workers)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	for (i = 0; i < h->o.threads; i++, h->nworkers++)
		if (pthread_create(&h->workers[i], NULL, work, h) != 0) {
			ret = hfw_error_set(err, HFW_ERROR, "cannot start the server's workers");
			goto out;
		}
	if (pthread_create(&h->reaper, NULL, reap, h) != 0) {
		ret = hfw_error_set(err, HFW_ERROR, "cannot start the server's connection reaper");
		goto out;
	}
	h->reaping = 1;
	di = mhd.get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : o->port;
	*out = h;
	h = NULL;
out:
	hfw_httpd_stop(h);
	return ret;
}

int hfw_httpd_port(const hfw_httpd *h)
{
	return h->port;
}

void hfw_httpd_stop(hfw_httpd *h)
{
	unsigned i;

	if (!h)
		return;
	/*
	 * Requests with the workers finish (their connections resumed) before
	 * the daemon stops: it must not stop with a connection suspended.  From
	 * now on, requests run on the thread that read them.
	 */
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	while (h->jobs)
		pthread_cond_wait(&h->finished, &h->lock);
	pthread_cond_broadcast(&h->work);
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < h->nworkers; i++)
		pthread_join(h->workers[i], NULL);
	free(h->workers);
	if (h->reaping)
		pthread_join(h->reaper, NULL);
	if (h->d)
		mhd.stop_daemon(h->d);
	pthread_cond_destroy(&h->work);
	pthread_cond_destroy(&h->finished);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h->cert);
	if (h->key) {
		memset(h->key, 0, strlen(h->key));
		free(h->key);
	}
	free(h->ca);
	free(h);
}
