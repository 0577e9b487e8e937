/* httpd.c - libmicrohttpd server with required mutual TLS (see httpd.h). */
#include "httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
		{ NULL, NULL },
	};

	if (hfw_dynlib_load("libgnutls.so.30", tls, &mhd_error) == 0)
		hfw_dynlib_load("libmicrohttpd.so.12", http, &mhd_error);
}

struct hfw_httpd {
	struct MHD_Daemon *d;
	struct hfw_httpd_options o;
	char *cert, *key, *ca;
	int tls, port;
};

/* A request being received. */
struct upload {
	struct hfw_buf body;
	int too_big, refused;
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

/* What is known about a connection: its client certificate, once verified. */
struct conn {
	int verified;
};

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)c;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct conn));	/* NULL: verified on every request */
	} else {
		free(*socket_context);
		*socket_context = NULL;
	}
}

/*
 * With a client CA, a connection without a certificate that CA issued is
 * refused.  The certificate cannot change within a connection (no
 * renegotiation), so it is verified once and not on every request.
 */
static int client_verified(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const union MHD_ConnectionInfo *sc = mhd.get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *cn = sc ? sc->socket_context : NULL;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **con_cls)
{
	hfw_httpd *h = cls;
	struct upload *u = *con_cls;
	struct hfw_buf reply = HFW_BUF_INIT(64u * 1024 * 1024);
	struct hfw_error err = HFW_ERROR_INIT;
	const char *type = "application/xml";
	int status = 200;
	enum MHD_Result ret;

	(void)version;
	if (!u) {
		if (!(u = calloc(1, sizeof(*u))))
			return MHD_NO;
		u->body.max = h->o.max_body;
		if (h->tls && h->o.client_ca && !client_verified(c))
			u->refused = 1;
		*con_cls = u;
		return MHD_YES;
	}
	if (*size) {
		if (!u->too_big && !u->refused && hfw_buf_append(&u->body, data, *size, &err) < 0)
			u->too_big = 1;
		*size = 0;
		return MHD_YES;
	}
	if (u->refused)
		return answer(c, 403, "text/plain", "client certificate required\n", 28);
	if (strcmp(method, "POST") != 0)
		return answer(c, 405, "text/plain", "POST only\n", 10);
	if (u->too_big) {
		if (h->o.refused)
			h->o.refused(h->o.arg, url, u->body.data ? u->body.data : "", u->body.len, "larger than the limit");
		return answer(c, 413, "text/plain", "request too large\n", 18);
	}
	if (h->o.handler(h->o.arg, url, u->body.data ? u->body.data : "", u->body.len, &reply, &status, &type) < 0) {
		hfw_buf_release(&reply);
		return answer(c, 500, "text/plain", "internal error\n", 15);
	}
	ret = answer(c, status, type, reply.data ? reply.data : "", reply.len);
	hfw_buf_release(&reply);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)t;
	if (u) {
		hfw_buf_release(&u->body);
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

int hfw_httpd_start(hfw_httpd **out, const struct hfw_httpd_options *o, struct hfw_error *err)
{
	hfw_httpd *h = NULL;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *di;
	/* A thread per connection, at most 256 of them (MHD_OPTION_CONNECTION_LIMIT below). */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
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
	if (!(h = calloc(1, sizeof(*h))))
		return hfw_error_oom(err);
	h->o = *o;
	if (!h->o.max_body)
		h->o.max_body = 16u * 1024 * 1024;
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
	if (h->ca)
		h->d = mhd.start_daemon(flags, 0, NULL, NULL, on_request, h,
					MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
					MHD_OPTION_HTTPS_MEM_CERT, h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key,
					MHD_OPTION_HTTPS_MEM_TRUST, h->ca, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
					MHD_OPTION_CONNECTION_TIMEOUT, 30u,
					MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_END);
	else if (h->tls)
		h->d = mhd.start_daemon(flags, 0, NULL, NULL, on_request, h,
					MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
					MHD_OPTION_HTTPS_MEM_CERT, h->cert, MHD_OPTION_HTTPS_MEM_KEY, h->key,
					MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_END);
	else
		h->d = mhd.start_daemon(flags, 0, NULL, NULL, on_request, h,
					MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
					MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_END);
	if (!h->d) {
		ret = hfw_error_set(err, HFW_EIO, "cannot listen on %s:%d (in use, or the TLS files are unusable)",
				    o->address ? o->address : "127.0.0.1", o->port);
		goto out;
	}
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
	if (!h)
		return;
	if (h->d)
		mhd.stop_daemon(h->d);
	free(h->cert);
	if (h->key) {
		memset(h->key, 0, strlen(h->key));
		free(h->key);
	}
	free(h->ca);
	free(h);
}
