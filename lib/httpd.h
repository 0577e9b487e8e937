/*
 * httpd.h - the HTTP(S) server under hanfw's two servers, the sandbox and
 * the receiver: libmicrohttpd, bound to one address (127.0.0.1 in tests),
 * bodies bounded, and with a client CA, mutual TLS *required*: libmicrohttpd
 * only asks for a client certificate, so every connection's certificate is
 * verified here (GnuTLS, which is libmicrohttpd's TLS) before the handler
 * sees the request.
 */
#ifndef HFW_HTTPD_H
#define HFW_HTTPD_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

typedef struct hfw_httpd hfw_httpd;

/*
 * Called once per complete POST.  Fill reply and *status (and *content_type,
 * default application/xml); return 0, or <0 for a 500.
 */
typedef int (*hfw_httpd_handler)(void *arg, const char *path, const char *body, size_t len,
				 struct hfw_buf *reply, int *status, const char **content_type);

struct hfw_httpd_options {
	const char *address;		/* "127.0.0.1" */
	int port;			/* 0: any free port (see hfw_httpd_port) */
	const char *tls_cert, *tls_key;	/* PEM; NULL for plain HTTP */
	const char *client_ca;		/* PEM; with TLS, requires and verifies client certificates */
	size_t max_body;		/* larger bodies get 413 */
	hfw_httpd_handler handler;
	void *arg;
	/* Told of a POST refused before the handler (too large: body is its first part); may be NULL. */
	void (*refused)(void *arg, const char *path, const char *body, size_t len, const char *why);
};

int hfw_httpd_start(hfw_httpd **out, const struct hfw_httpd_options *o, struct hfw_error *err);
int hfw_httpd_port(const hfw_httpd *h);
void hfw_httpd_stop(hfw_httpd *h);	/* waits for requests in progress */

#endif
