/*
 * listen.c - "hanfw listen": the supplier's Receive Response Service, where
 * the DCC adapter POSTs asynchronous responses, device alerts and DCC
 * alerts.  Each is verified, decoded and in the ledger before it is
 * acknowledged (lib/receiver); what fails is quarantined and refused.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/config.h"
#include "../lib/httpd.h"
#include "../lib/ledger.h"
#include "../lib/receiver.h"
#include "../lib/xmldsig.h"
#include "cmd.h"

#define DEFAULT_PORT 8080
#define DEFAULT_MAX_BODY (2u * 1024 * 1024)

static int on_post(void *arg, const char *peer, const char *path, const char *body, size_t len, struct hfw_buf *reply,
		   int *status, const char **content_type)
{
	(void)path;
	(void)reply;
	*content_type = "text/plain";
	hfw_receiver_handle(arg, peer, body, len, status);
	return 0;
}

static void on_refused(void *arg, const char *peer, const char *path, const char *body, size_t len, size_t size,
		       const char *why)
{
	(void)path;
	hfw_receiver_refused(arg, peer, body, len, size, why);
}

/* 3214 -> "3,214" */
static void with_commas(char *out, size_t size, unsigned long long n)
{
	char digits[32];
	size_t i, len, o = 0;

	snprintf(digits, sizeof(digits), "%llu", n);
	len = strlen(digits);
	for (i = 0; i < len && o + 2 < size; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* One line on stderr per refused message, and per failed commit: the operator sees refusals as they happen. */
static void on_event(void *arg, enum hfw_receiver_event e, const char *peer, unsigned long long size, const char *text)
{
	char n[40];

	(void)arg;
	if (e == HFW_RECEIVER_REFUSED) {
		with_commas(n, sizeof(n), size);
		fprintf(stderr, "hanfw: listen: refused %s bytes from %s: %s\n", n, peer ? peer : "unknown", text);
	} else {
		fprintf(stderr, "hanfw: listen: %s\n", text);
	}
}

int cmd_listen(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *listen = NULL, *cert = NULL, *key = NULL, *client_ca = NULL, *trust_dir = NULL, *max_text = NULL;
	const char *per_ip_text = NULL, *timeout_text = NULL, *deadline_text = NULL, *cap_text = NULL;
	int plain = 0, no_client_cert = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "listen", &listen, "ADDR:PORT", "where to listen (default 127.0.0.1:8080; port 0: any free one)"),
		HFW_OPT_STRING(0, "tls-cert", &cert, "FILE", "serve HTTPS with this certificate (PEM)"),
		HFW_OPT_STRING(0, "tls-key", &key, "FILE", "and its key"),
		HFW_OPT_STRING(0, "client-ca", &client_ca, "FILE", "require client certificates from this CA (mutual TLS)"),
		HFW_OPT_FLAG(0, "no-client-cert", &no_client_cert, "HTTPS without client certificates (instead of --client-ca)"),
		HFW_OPT_FLAG(0, "plain-http", &plain, "plain HTTP, unencrypted (instead of --tls-cert and --tls-key)"),
		HFW_OPT_STRING(0, "trust", &trust_dir, "DIR", "the DCC's XML-signing certificates, devices' in DIR/devices (default: trust_dir)"),
		HFW_OPT_STRING(0, "max-body", &max_text, "BYTES", "largest message accepted (default 2097152)"),
		HFW_OPT_STRING(0, "per-ip-limit", &per_ip_text, "N", "connections at once from one address (default 64)"),
		HFW_OPT_STRING(0, "timeout", &timeout_text, "SECONDS", "close a connection idle this long (default 10)"),
		HFW_OPT_STRING(0, "request-timeout", &deadline_text, "SECONDS",
			       "close a connection whose TLS handshake, headers and body take longer (default 60)"),
		HFW_OPT_STRING(0, "quarantine-cap", &cap_text, "BYTES",
			       "quarantine kept in the ledger, then only counts per reason (default 16777216)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"listen (--tls-cert C --tls-key K (--client-ca CA | --no-client-cert) | --plain-http) [--listen ADDR:PORT]\n"
		"             [--trust DIR] [--max-body BYTES] [--per-ip-limit N] [--timeout SECONDS] [--request-timeout SECONDS]\n"
		"             [--quarantine-cap BYTES]",
		"Receive the DCC adapter's asynchronous responses and alerts until SIGINT or SIGTERM: verify, decode\n"
		"and store each in the ledger before acknowledging it; quarantine what does not verify.",
	};
	struct hfw_httpd_options ho = {
		.address = "127.0.0.1", .port = DEFAULT_PORT, .max_body = DEFAULT_MAX_BODY,
		.handler = on_post, .refused = on_refused,
	};
	struct hfw_receiver_settings rs = { .quarantine_cap = HFW_LEDGER_DEFAULT_QUARANTINE_CAP, .on_event = on_event };
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_receiver_counts counts;
	unsigned long long max_body = DEFAULT_MAX_BODY, per_ip = HFW_HTTPD_DEFAULT_PER_IP, timeout = HFW_HTTPD_DEFAULT_TIMEOUT;
	unsigned long long deadline = HFW_HTTPD_DEFAULT_DEADLINE;
	hfw_trust *trust = NULL;
	hfw_receiver *rx = NULL;
	hfw_httpd *httpd = NULL;
	char addr[64];
	sigset_t stop;
	enum cmd_parse pr;
	int n, sig, ret = HFW_EXIT_OK;
	const struct cmd_settings *set = &ctx->session.set;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 0)
		return cmd_usage_error(ctx, "no arguments expected (see --help)");
	if (listen) {
		if (cmd_parse_listen(ctx, listen, addr, sizeof(addr), &ho.port))
			return HFW_EXIT_USAGE;
		ho.address = addr;
	}
	if (!!cert != !!key)
		return cmd_usage_error(ctx, "--tls-cert and --tls-key go together");
	if (client_ca && !cert)
		return cmd_usage_error(ctx, "--client-ca needs --tls-cert and --tls-key");
	if (!cert && !plain)
		return cmd_usage_error(ctx, "give --tls-cert and --tls-key (HTTPS), or --plain-http to receive unencrypted");
	if (cert && plain)
		return cmd_usage_error(ctx, "--plain-http and --tls-cert exclude each other");
	if (no_client_cert && (!cert || client_ca))
		return cmd_usage_error(ctx, "--no-client-cert goes with --tls-cert and without --client-ca");
	if (cert && !client_ca && !no_client_cert)
		return cmd_usage_error(ctx, "with --tls-cert give --client-ca (mutual TLS), or --no-client-cert to accept any client");
	if (per_ip_text && (cmd_parse_uint(ctx, "per-ip-limit", per_ip_text, 100000, &per_ip) || !per_ip))
		return per_ip ? HFW_EXIT_USAGE : cmd_usage_error(ctx, "--per-ip-limit must be 1 to 100000");
	if (timeout_text && (cmd_parse_uint(ctx, "timeout", timeout_text, 3600, &timeout) || !timeout))
		return timeout ? HFW_EXIT_USAGE : cmd_usage_error(ctx, "--timeout must be 1 to 3600");
	if (deadline_text && (cmd_parse_uint(ctx, "request-timeout", deadline_text, 3600, &deadline) || !deadline))
		return deadline ? HFW_EXIT_USAGE : cmd_usage_error(ctx, "--request-timeout must be 1 to 3600");
	if (cap_text && cmd_parse_uint(ctx, "quarantine-cap", cap_text, 1ull << 40, &rs.quarantine_cap))
		return HFW_EXIT_USAGE;
	ho.per_ip_limit = (unsigned)per_ip;
	ho.timeout = (unsigned)timeout;
	ho.deadline = (unsigned)deadline;
	ho.no_client_cert = no_client_cert;
	if (max_text && (cmd_parse_uint(ctx, "max-body", max_text, 64u * 1024 * 1024, &max_body) || max_body < 1024))
		return max_body < 1024 ? cmd_usage_error(ctx, "--max-body must be 1024 to 67108864") : HFW_EXIT_USAGE;
	ho.max_body = (size_t)max_body;
	ho.tls_cert = cert;
	ho.tls_key = key;
	ho.client_ca = client_ca;
	if (plain && strncmp(ho.address, "127.", 4) != 0)
		cmd_warn(ctx, "plain HTTP on %s: messages arrive unencrypted and any host that can reach it may post "
			      "(use --tls-cert and --client-ca)", ho.address);
	/* Set-up (cmd/session.c): the settings, and the ledger's home made; the receiver opens the ledger. */
	cmd_setting_flag(ctx, HFW_SET_TRUST_DIR, "--trust", trust_dir);
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)
		goto out;
	if (!trust_dir && !(trust_dir = set->trust_dir)) {
		cmd_setting_missing(ctx, HFW_SET_TRUST_DIR, &err);
		goto fail;
	}
	/* A certificate in the wrong store refuses the start (exit 10): it would leave signatures unchecked. */
	if (cmd_load_trust(ctx, trust_dir, &trust, &err) < 0 ||
	    hfw_receiver_open(&rx, set->ledger, trust, &err) < 0)
		goto fail;
	hfw_receiver_configure(rx, &rs);
	ho.arg = rx;
	cmd_block_stop_signals(&stop);
	if (hfw_httpd_start(&httpd, &ho, &err) < 0)
		goto fail;
	cmd_print_listening(ctx, cert != NULL, ho.address, hfw_httpd_port(httpd), "/");
	sigwait(&stop, &sig);
	/* Deliveries in progress finish (and are stored) before the ledger closes. */
	hfw_httpd_stop(httpd);
	httpd = NULL;
	hfw_receiver_counts(rx, &counts);
	if (!ctx->quiet)
		fprintf(stderr, "hanfw: listen stopped: %lu stored, %lu duplicates, %lu quarantined, %lu failed\n",
			counts.stored, counts.duplicates, counts.quarantined, counts.failed);
	goto out;
fail:
	ret = cmd_report(&err);
out:
	hfw_httpd_stop(httpd);
	hfw_receiver_close(rx);
	hfw_trust_free(trust);
	return ret;
}
