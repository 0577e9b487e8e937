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
#include "../lib/receiver.h"
#include "../lib/xmldsig.h"
#include "cmd.h"

#define DEFAULT_PORT 8080
#define DEFAULT_MAX_BODY (2u * 1024 * 1024)

static int on_post(void *arg, const char *path, const char *body, size_t len, struct hfw_buf *reply, int *status,
		   const char **content_type)
{
	(void)path;
	(void)reply;
	*content_type = "text/plain";
	hfw_receiver_handle(arg, body, len, status);
	return 0;
}

static void on_refused(void *arg, const char *path, const char *body, size_t len, const char *why)
{
	(void)path;
	hfw_receiver_refused(arg, body, len, why);
}

int cmd_listen(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *listen = NULL, *cert = NULL, *key = NULL, *client_ca = NULL, *trust_dir = NULL, *max_text = NULL;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "listen", &listen, "ADDR:PORT", "where to listen (default 127.0.0.1:8080; port 0: any free one)"),
		HFW_OPT_STRING(0, "tls-cert", &cert, "FILE", "serve HTTPS with this certificate (PEM)"),
		HFW_OPT_STRING(0, "tls-key", &key, "FILE", "and its key"),
		HFW_OPT_STRING(0, "client-ca", &client_ca, "FILE", "require client certificates from this CA (mutual TLS)"),
		HFW_OPT_STRING(0, "trust", &trust_dir, "DIR", "the DCC's XML-signing certificates, devices' in DIR/devices (default: trust_dir)"),
		HFW_OPT_STRING(0, "max-body", &max_text, "BYTES", "largest message accepted (default 2097152)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"listen [--listen ADDR:PORT] [--tls-cert C --tls-key K [--client-ca CA]] [--trust DIR] [--max-body BYTES]",
		"Receive the DCC adapter's asynchronous responses and alerts until SIGINT or SIGTERM: verify, decode\n"
		"and store each in the ledger before acknowledging it; quarantine what does not verify.",
	};
	struct hfw_httpd_options ho = { "127.0.0.1", DEFAULT_PORT, NULL, NULL, NULL, DEFAULT_MAX_BODY, on_post, NULL, on_refused };
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_receiver_counts counts;
	unsigned long long max_body = DEFAULT_MAX_BODY;
	hfw_config *cfg = NULL;
	hfw_trust *trust = NULL;
	hfw_receiver *rx = NULL;
	hfw_httpd *httpd = NULL;
	char addr[64];
	sigset_t stop;
	int n, sig, ret = HFW_EXIT_OK;

	if ((n = cmd_parse_options(ctx, argc, argv, opts, &usage)) < 0)
		return n == HFW_PARSE_DONE ? HFW_EXIT_OK : HFW_EXIT_USAGE;
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
	if (max_text && (cmd_parse_uint(ctx, "max-body", max_text, 64u * 1024 * 1024, &max_body) || max_body < 1024))
		return max_body < 1024 ? cmd_usage_error(ctx, "--max-body must be 1024 to 67108864") : HFW_EXIT_USAGE;
	ho.max_body = (size_t)max_body;
	ho.tls_cert = cert;
	ho.tls_key = key;
	ho.client_ca = client_ca;
	if (cmd_config(ctx, &cfg, &err) < 0)
		goto fail;
	if (!trust_dir && !(trust_dir = hfw_config_get(cfg, HFW_SET_TRUST_DIR))) {
		ret = cmd_usage_error(ctx, "nothing to verify messages with: give --trust DIR or set trust_dir");
		goto out;
	}
	if (hfw_trust_load_dir(&trust, trust_dir, &err) < 0 ||
	    hfw_receiver_open(&rx, hfw_config_get(cfg, HFW_SET_LEDGER), trust, &err) < 0)
		goto fail;
	/* Certificates in the wrong store are never used; say so once. */
	for (n = 0; hfw_trust_notice(trust, (size_t)n); n++)
		cmd_warn(ctx, "%s", hfw_trust_notice(trust, (size_t)n));
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
