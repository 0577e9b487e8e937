/*
 * sandbox.c - "hanfw sandbox": hanfw's own DCC adapter emulator, for
 * operators and CI without a DCC Boxed at hand.  "init" creates its world:
 * a test PKI shaped like SMKI, TLS certificates, an estate of devices and a
 * configuration profile that points at it all.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/sandbox/dcc.h"
#include "../lib/estate.h"
#include "../lib/sandbox/estategen.h"
#include "../lib/sandbox/faults.h"
#include "../lib/httpd.h"
#include "../lib/sandbox/sandbox.h"
#include "../lib/sandbox/smkisvc.h"
#include "cmd.h"

/* sandbox init --json (schemas/sandbox-init.schema.json): what was made, and its estate in numbers. */
static int init_json(const char *dir)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_estate *estate = NULL;
	json_t *o = NULL, *types = NULL;
	char path[4096];
	size_t i, hubs = 0;
	int ret = HFW_EXIT_OK;

	snprintf(path, sizeof(path), "%s/estate.json", dir);
	if (hfw_estate_read(&estate, path, &err) < 0)
		goto fail;
	if (!(types = json_object())) {
		hfw_error_oom(&err);
		goto fail;
	}
	for (i = 0; i < hfw_estate_count(estate); i++) {
		const char *t = hfw_estate_at(estate, i)->type->name;

		hubs += !strcmp(t, "CHF");
		json_object_set_new(types, t, json_integer(json_integer_value(json_object_get(types, t)) + 1));
	}
	o = json_pack("{s:s, s:s+, s:s, s:s+, s:s+, s:s+, s:s+, s:s+, s:I, s:I, s:o}", "dir", dir,
		      "config", dir, "/hanfw.json", "profile", "sandbox", "estate", dir, "/estate.json",
		      "sandbox", dir, "/sandbox.json", "pki", dir, "/pki", "trust", dir, "/trust", "tls", dir, "/tls",
		      "devices", (json_int_t)hfw_estate_count(estate), "comms_hubs", (json_int_t)hubs, "types", types);
	types = NULL;	/* "o" took it, or released it when json_pack failed */
	if (cmd_print_json(o, &err) < 0)
		goto fail;
	goto out;
fail:
	ret = cmd_report(&err);
out:
	json_decref(types);
	hfw_estate_free(estate);
	return ret;
}

static int sandbox_init(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *devices = NULL, *zaz1 = NULL, *port = NULL, *receive_url = NULL, *smki_port = NULL;
	const char *mixed = NULL, *seed = NULL;
	int force = 0, device_keys = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "devices", &devices, "SPEC",
			       "estate: TYPE=COUNT,... per hub; ';' starts hubs of their own (default " HFW_SANDBOX_DEFAULT_DEVICES ")"),
		HFW_OPT_STRING(0, "zaz1", &zaz1, "DIR", "use the public ZAZ1 identities (DCC Boxed's) from DIR"),
		HFW_OPT_STRING(0, "port", &port, "PORT", "port the profile's endpoint names (default 8079)"),
		HFW_OPT_STRING(0, "smki-port", &smki_port, "PORT", "port the profile's smki_url names (default 8083)"),
		HFW_OPT_FLAG(0, "force", &force, "initialise a directory that is not empty"),
		HFW_OPT_FLAG(0, "device-keys", &device_keys,
			     "a signing key and certificate for devices of every type (default: meters and HCALCS)"),
		HFW_OPT_STRING(0, "receive-url", &receive_url, "URL", "where the sandbox POSTs asynchronous responses and alerts"),
		HFW_OPT_STRING(0, "mixed", &mixed, "N",
			       "a mixed estate of about N devices, with supplier.csv, products.json, images.txt and truth.json"),
		HFW_OPT_STRING(0, "seed", &seed, "S", "seed of the --mixed estate (default 1)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"sandbox init DIR [--devices SPEC | --mixed N [--seed S]] [--zaz1 DIR] [--port PORT] [--smki-port PORT]\n"
		"                   [--receive-url URL] [--device-keys] [--force]",
		"Create a sandbox: test PKI, TLS certificates, estate.json and hanfw.json (profile \"sandbox\").",
	};
	struct hfw_sandbox_init_options o = { NULL, NULL, 0, 0, 0, NULL };
	struct hfw_error err = HFW_ERROR_INIT;
	unsigned long long p = 0, sp = 0, mixed_n = 0, mixed_seed = 1;
	char mixed_spec[64];
	enum cmd_parse pr;
	int n;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 1)
		return cmd_usage_error(ctx, "expected one DIR, got %d", n);
	if (port && (cmd_parse_uint(ctx, "port", port, 65535, &p) || p == 0))
		return p == 0 && port ? cmd_usage_error(ctx, "--port must be 1 to 65535") : HFW_EXIT_USAGE;
	if (smki_port && (cmd_parse_uint(ctx, "smki-port", smki_port, 65535, &sp) || sp == 0))
		return sp == 0 && smki_port ? cmd_usage_error(ctx, "--smki-port must be 1 to 65535") : HFW_EXIT_USAGE;
	o.devices = devices;
	o.zaz1_dir = zaz1;
	o.port = (int)p;
	o.force = force;
	o.device_keys = device_keys;
	if (receive_url && strncmp(receive_url, "http://", 7) && strncmp(receive_url, "https://", 8))
		return cmd_usage_error(ctx, "--receive-url '%s' is not an http:// or https:// URL", receive_url);
	o.receive_url = receive_url;
	/* A mixed estate is a spec of its own; what goes beside it is written once the sandbox is made. */
	if (mixed) {
		if (devices)
			return cmd_usage_error(ctx, "give --devices or --mixed, not both");
		if (cmd_parse_uint(ctx, "mixed", mixed, HFW_ESTATEGEN_MIXED_MAX, &mixed_n) ||
		    (seed && cmd_parse_uint(ctx, "seed", seed, UINT64_MAX, &mixed_seed)))
			return HFW_EXIT_USAGE;
		if (mixed_n == 0)
			return cmd_usage_error(ctx, "--mixed must be 1 to %u", HFW_ESTATEGEN_MIXED_MAX);
		snprintf(mixed_spec, sizeof(mixed_spec), "mixed:%llu:%llu", mixed_n, mixed_seed);
		o.devices = mixed_spec;
	} else if (seed) {
		return cmd_usage_error(ctx, "--seed goes with --mixed");
	}
	if (hfw_sandbox_init(argv[0], &o, &err) < 0) {
		if (err.code == HFW_EINPUT)
			return cmd_usage_error(ctx, "%s", err.text);
		return cmd_report(&err);
	}
	if (sp && hfw_sandbox_set_smki_port(argv[0], (int)sp, &err) < 0)
		return cmd_report(&err);
	if (mixed && hfw_estategen_mixed_files(argv[0], mixed_n, mixed_seed, 0, &err) < 0)
		return cmd_report(&err);
	if (ctx->json)
		return init_json(argv[0]);
	if (!ctx->quiet)
		printf("sandbox ready in '%s': use it with --config %s/hanfw.json\n", argv[0], argv[0]);
	return HFW_EXIT_OK;
}

/* The SMKI certificate service's POSTs (smkisvc.h). */
static int smki_request(void *arg, const char *peer, const char *path, const char *body, size_t len,
			struct hfw_buf *reply, int *status, const char **content_type)
{
	struct hfw_error err = HFW_ERROR_INIT;

	(void)peer;
	*content_type = "application/xml";
	return hfw_smki_service_handle(arg, path, body, len, reply, status, &err);
}

/*
 * The start-up line(s): the DCC adapter's URL, then the SMKI service's on a
 * line of its own; with --json one line, the SMKI URL as "smki_url".
 */
static void print_ready(const struct hfw_ctx *ctx, int tls, const char *address, int port, const char *smki_address,
			int smki_port)
{
	char url[512], smki[512], *text = NULL;
	json_t *o;

	if (!smki_port) {
		cmd_print_listening(ctx, tls, address, port, "/api/v1");
		return;
	}
	snprintf(url, sizeof(url), "%s://%s:%d/api/v1", tls ? "https" : "http", address, port);
	snprintf(smki, sizeof(smki), "%s://%s:%d", tls ? "https" : "http", smki_address, smki_port);
	if (ctx->json && (o = json_pack("{s:s, s:s, s:i, s:b, s:I, s:s}", "url", url, "address", address, "port", port,
					"tls", tls, "pid", (json_int_t)getpid(), "smki_url", smki))) {
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
	}
	if (text)
		printf("%s\n", text);
	else
		printf("%s\n%s\n", url, smki);
	free(text);
	fflush(stdout);
}

static int serve_request(void *arg, const char *peer, const char *path, const char *body, size_t len,
			 struct hfw_buf *reply, int *status, const char **content_type)
{
	struct hfw_error err = HFW_ERROR_INIT;

	(void)peer;
	*content_type = "application/xml";
	return hfw_dcc_handle(arg, path, body, len, reply, status, &err);
}

/* The emulator's lines (a key that will not load, a URL it cannot deliver to). */
static void serve_log(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "hanfw: sandbox: %s\n", line);
}

static int sandbox_serve(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *dir = NULL, *listen = NULL, *window_text = NULL, *faults = NULL, *seed_text = NULL;
	const char *scale_text = NULL, *receive_url = NULL, *smki_listen = NULL;
	int plain = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "dir", &dir, "DIR", "the sandbox made by 'hanfw sandbox init'"),
		HFW_OPT_STRING(0, "listen", &listen, "ADDR:PORT", "where to listen (default 127.0.0.1:8079; port 0: any free port)"),
		HFW_OPT_FLAG(0, "plain-http", &plain, "plain HTTP instead of HTTPS with mutual TLS (as DCC Boxed's default)"),
		HFW_OPT_STRING(0, "counter-window", &window_text, "N",
			       "accept counters up to N below a user's newest (default 0: strictly rising)"),
		HFW_OPT_STRING(0, "receive-url", &receive_url, "URL",
			       "POST asynchronous responses and alerts here (default: sandbox.json's receive_url)"),
		HFW_OPT_STRING(0, "faults", &faults, "SPEC", "seeded faults, e.g. drop=0.1,dup=0.05,offline=0.02 (see hanfw-sandbox(1))"),
		HFW_OPT_STRING(0, "seed", &seed_text, "N", "seed for the faults (default 1)"),
		HFW_OPT_STRING(0, "time-scale", &scale_text, "X", "simulated time runs X times faster (default 60)"),
		HFW_OPT_STRING(0, "smki-listen", &smki_listen, "ADDR:PORT",
			       "serve the SMKI certificate service here (default without --listen 127.0.0.1:8083; port 0: any free port)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"sandbox serve --dir DIR [--listen ADDR:PORT] [--plain-http] [--counter-window N] [--receive-url URL]\n"
		"                    [--faults SPEC] [--seed N] [--time-scale X] [--smki-listen ADDR:PORT]",
		"Serve the DCC adapter endpoints /api/v1/serviceS, /serviceT and /serviceD, and the SMKI certificate service,\n"
		"until SIGINT or SIGTERM.",
	};
	/* Per address: room for hanfw's own largest --max-in-flight, twice over. */
	struct hfw_httpd_options ho = {
		.address = "127.0.0.1", .port = 8079, .handler = serve_request, .per_ip_limit = 2 * CMD_MAX_IN_FLIGHT,
	};
	/* The SMKI service: public certificates, so TLS without client certificates; few workers. */
	struct hfw_httpd_options so = {
		.address = "127.0.0.1", .port = HFW_SANDBOX_SMKI_DEFAULT_PORT, .handler = smki_request, .threads = 4,
		.max_body = 64u * 1024, .query_key = "apikey",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	char cert[4096], key[4096], ca[4096], addr[64], smki_addr[64];
	unsigned long long window = 0, seed = 1;
	struct hfw_dcc_options dopt = { 0, NULL, 1, 60, NULL, { serve_log, NULL } };
	struct hfw_faults check;
	hfw_dcc *dcc = NULL;
	hfw_httpd *httpd = NULL, *smki_httpd = NULL;
	hfw_smki_service *smki = NULL;
	sigset_t stop;
	enum cmd_parse pr;
	int n, sig, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 0 || !dir)
		return cmd_usage_error(ctx, "give --dir DIR and no other arguments");
	if (listen) {
		if (cmd_parse_listen(ctx, listen, addr, sizeof(addr), &ho.port))
			return HFW_EXIT_USAGE;
		ho.address = addr;
	}
	if (smki_listen) {
		if (cmd_parse_listen(ctx, smki_listen, smki_addr, sizeof(smki_addr), &so.port))
			return HFW_EXIT_USAGE;
		so.address = smki_addr;
	}
	if (window_text && cmd_parse_uint(ctx, "counter-window", window_text, 1000000000ull, &window))
		return HFW_EXIT_USAGE;
	if (seed_text && cmd_parse_uint(ctx, "seed", seed_text, UINT64_MAX, &seed))
		return HFW_EXIT_USAGE;
	if (scale_text) {
		char *end;

		dopt.time_scale = strtod(scale_text, &end);
		if (end == scale_text || *end || !(dopt.time_scale >= 1 && dopt.time_scale <= 1e7))
			return cmd_usage_error(ctx, "--time-scale '%s' is not a number from 1 to 10000000", scale_text);
	}
	if (hfw_faults_parse(&check, faults, seed, &err) < 0)
		return cmd_usage_error(ctx, "%s", err.text);
	if (receive_url && strncmp(receive_url, "http://", 7) && strncmp(receive_url, "https://", 8))
		return cmd_usage_error(ctx, "--receive-url '%s' is not an http:// or https:// URL", receive_url);
	dopt.counter_window = window;
	dopt.faults = faults;
	dopt.seed = seed;
	dopt.receive_url = receive_url;
	if (!plain) {
		snprintf(cert, sizeof(cert), "%s/tls/server.pem", dir);
		snprintf(key, sizeof(key), "%s/tls/server.key", dir);
		snprintf(ca, sizeof(ca), "%s/tls/ca.pem", dir);
		ho.tls_cert = cert;
		ho.tls_key = key;
		ho.client_ca = ca;
		so.tls_cert = cert;
		so.tls_key = key;
		so.no_client_cert = 1;
	}
	if (plain && strncmp(ho.address, "127.", 4) != 0)
		cmd_warn(ctx, "plain HTTP on %s: requests arrive unencrypted and any host that can reach it may post "
			      "(drop --plain-http for mutual TLS)", ho.address);
	if (smki_listen && strncmp(so.address, "127.", 4) != 0)
		cmd_warn(ctx, "SMKI certificate service on %s: any host that can reach it may look certificates up%s",
			 so.address, plain ? ", over plain HTTP" : "");
	if (hfw_dcc_open(&dcc, dir, &dopt, &err) < 0)
		goto fail;
	ho.arg = dcc;
	/* Block the stop signals in every thread; this one waits for them. */
	cmd_block_stop_signals(&stop);
	if (hfw_httpd_start(&httpd, &ho, &err) < 0)
		goto fail;
	/* DCC Boxed's ports by default (8079, 8083); with --listen, the SMKI service only when asked. */
	if (smki_listen || !listen) {
		if (hfw_smki_service_open(&smki, dir, &err) < 0)
			goto fail;
		so.arg = smki;
		if (hfw_httpd_start(&smki_httpd, &so, &err) < 0)
			goto fail;
	}
	print_ready(ctx, !plain, ho.address, hfw_httpd_port(httpd), so.address, smki_httpd ? hfw_httpd_port(smki_httpd) : 0);
	sigwait(&stop, &sig);
	hfw_httpd_stop(httpd);
	httpd = NULL;
	hfw_httpd_stop(smki_httpd);
	smki_httpd = NULL;
	if (!ctx->quiet)
		fprintf(stderr, "hanfw: sandbox stopped (%lu requests accepted)\n", hfw_dcc_accepted(dcc));
	goto out;
fail:
	ret = cmd_report(&err);
out:
	hfw_httpd_stop(httpd);
	hfw_httpd_stop(smki_httpd);
	hfw_smki_service_free(smki);
	hfw_dcc_free(dcc);
	return ret;
}

int cmd_sandbox(int argc, char **argv, struct hfw_ctx *ctx)
{
	static const struct hfw_verb verbs[] = {
		{ "init", sandbox_init, "create a sandbox: test PKI, TLS, estate and configuration", 0 },
		{ "serve", sandbox_serve, "serve the DCC adapter endpoints", 0 },
		{ NULL, NULL, NULL, 0 },
	};

	return cmd_run_verbs(ctx, argc, argv, verbs, "hanfw's own DCC adapter emulator.");
}
