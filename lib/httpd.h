/*
 * httpd.h - the HTTP(S) server under hanfw's two servers, the sandbox and
 * the receiver: libmicrohttpd, bound to one address (127.0.0.1 in tests),
 * bodies bounded, and with a client CA, mutual TLS *required*: libmicrohttpd
 * only asks for a client certificate, so every connection's certificate is
 * verified here (GnuTLS, which is libmicrohttpd's TLS) before the handler
 * sees the request.
 *
 * Hardened against what a hostile network does (see README "Server
 * defaults"): TLS 1.2 or 1.3 with AEAD ciphers only; TLS without a client
 * CA only when the caller opts out by name; event-driven serving (epoll, a
 * pool of threads) so slow clients hold a socket, not a thread; a total
 * connection limit bounded by the file-descriptor limit and a per-address
 * one; an idle timeout and a deadline for each whole request; strict HTTP
 * framing (several or conflicting Content-Lengths, or a Content-Length with
 * a Transfer-Encoding, are refused with 400).
 */
#ifndef HFW_HTTPD_H
#define HFW_HTTPD_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

typedef struct hfw_httpd hfw_httpd;

/* Room for a client's address as text ("127.0.0.1"). */
#define HFW_HTTPD_PEER_MAX 64

/*
 * Called once per complete POST, from one of the server's threads (several
 * at once).  peer: the client's address.  Fill reply and *status (and
 * *content_type, default application/xml); return 0, or <0 for a 500.
 */
typedef int (*hfw_httpd_handler)(void *arg, const char *peer, const char *path, const char *body, size_t len,
				 struct hfw_buf *reply, int *status, const char **content_type);

#define HFW_HTTPD_DEFAULT_PER_IP 64u		/* connections from one address */
#define HFW_HTTPD_DEFAULT_TIMEOUT 10u		/* seconds a connection may stay idle */
#define HFW_HTTPD_DEFAULT_DEADLINE 60u		/* seconds for one request's headers and body */
#define HFW_HTTPD_DEFAULT_THREADS 32u		/* workers running the handler (it may block) */

struct hfw_httpd_options {
	const char *address;		/* "127.0.0.1" */
	int port;			/* 0: any free port (see hfw_httpd_port) */
	const char *tls_cert, *tls_key;	/* PEM; NULL for plain HTTP */
	const char *client_ca;		/* PEM; with TLS, requires and verifies client certificates */
	int no_client_cert;		/* TLS without client_ca: refused unless this is set */
	size_t max_body;		/* larger bodies get 413 */
	unsigned per_ip_limit;		/* 0: HFW_HTTPD_DEFAULT_PER_IP */
	unsigned timeout;		/* 0: HFW_HTTPD_DEFAULT_TIMEOUT */
	unsigned deadline;		/* 0: HFW_HTTPD_DEFAULT_DEADLINE */
	unsigned threads;		/* handler workers; 0: HFW_HTTPD_DEFAULT_THREADS */
	/*
	 * A query parameter the handler needs (the SMKI service's "apikey"):
	 * when the request's query has it, the handler's path is followed by
	 * "?KEY=VALUE" (VALUE decoded); otherwise the path alone, as always.
	 */
	const char *query_key;
	hfw_httpd_handler handler;
	void *arg;
	/*
	 * Told of a POST refused before the handler (too large: body is its
	 * first part; bad framing: no body) with why; may be NULL.
	 */
	void (*refused)(void *arg, const char *peer, const char *path, const char *body, size_t len, size_t size,
			const char *why);
};

/* The TLS versions and ciphers both servers accept (a GnuTLS priority string). */
extern const char hfw_httpd_tls_priorities[];

int hfw_httpd_start(hfw_httpd **out, const struct hfw_httpd_options *o, struct hfw_error *err);
int hfw_httpd_port(const hfw_httpd *h);
void hfw_httpd_stop(hfw_httpd *h);	/* waits for requests in progress */

#endif
