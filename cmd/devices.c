/*
 * devices.c - what the commands that act on many devices share (activate,
 * read-version, distribute): the device list, the signing and sending
 * session, and the per-device report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/flow.h"
#include "../lib/config.h"
#include "../lib/devlist.h"
#include "../lib/estate.h"
#include "../lib/fileio.h"
#include "cmd.h"

int cmd_load_devices(struct hfw_devlist *list, char **euis, size_t n, const char *devices_file,
		     const char *estate_file, struct hfw_error *err)
{
	hfw_estate *estate = NULL;
	uint8_t *text = NULL;
	size_t tlen, i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		struct hfw_eui e;

		if ((ret = hfw_eui_parse(&e, euis[i], "device", err)) < 0 || (ret = hfw_devlist_add(list, &e, NULL, err)) < 0)
			goto out;
	}
	if (devices_file &&
	    ((ret = hfw_file_read(&text, &tlen, devices_file, 64u * 1024 * 1024, "device list", err)) < 0 ||
	     (ret = hfw_devlist_parse(list, (const char *)text, tlen, devices_file, err)) < 0))
		goto out;
	if ((ret = hfw_devlist_finish(list, err)) < 0)
		goto out;
	if (estate_file && (ret = hfw_estate_read(&estate, estate_file, err)) < 0)
		goto out;
	/* Where the list does not say a device's type, the estate may. */
	for (i = 0; estate && i < list->n; i++) {
		const struct hfw_device *d = hfw_estate_find(estate, &list->v[i].eui);

		if (!list->v[i].type && d)
			list->v[i].type = d->type;
	}
out:
	hfw_estate_free(estate);
	free(text);
	return ret;
}

int cmd_parse_pace(const struct hfw_ctx *ctx, const char *in_flight_text, const char *rate_text, unsigned *in_flight,
		   double *rate)
{
	unsigned long long n = CMD_DEFAULT_IN_FLIGHT;
	char *end;

	if (in_flight_text && (cmd_parse_uint(ctx, "max-in-flight", in_flight_text, CMD_MAX_IN_FLIGHT, &n) || !n))
		return n ? HFW_EXIT_USAGE : cmd_usage_error(ctx, "--max-in-flight must be 1 to %d", CMD_MAX_IN_FLIGHT);
	*in_flight = (unsigned)n;
	*rate = 0;
	if (rate_text) {
		*rate = strtod(rate_text, &end);
		if (end == rate_text || *end || !(*rate >= 0.01 && *rate <= 100000))
			return cmd_usage_error(ctx, "--rate '%s' is not a number from 0.01 to 100000", rate_text);
	}
	return 0;
}

int cmd_session_open(struct hfw_ctx *ctx, struct cmd_session *s, unsigned flags, unsigned in_flight,
		     struct hfw_error *err)
{
	struct hfw_key_options ko = HFW_KEY_OPTIONS_INIT;
	struct hfw_transport_options to = { NULL, NULL, NULL, NULL, 0, 0, 0, -1, 0 };
	const char *user;
	int ret;

	memset(s, 0, sizeof(*s));
	if ((ret = cmd_config(ctx, &s->cfg, err)) < 0)
		return ret;
	ko.passphrase_env = hfw_config_get(s->cfg, HFW_SET_PASSPHRASE_ENV);
	user = hfw_config_get(s->cfg, HFW_SET_USER_EUI);
	if (!user || !hfw_config_get(s->cfg, HFW_SET_XML_SIGNING_KEY) || !hfw_config_get(s->cfg, HFW_SET_XML_SIGNING_CERT) ||
	    ((flags & CMD_SESSION_GBCS) && !hfw_config_get(s->cfg, HFW_SET_GBCS_SIGNING_KEY)))
		return hfw_error_set(err, HFW_ECONFIG, "the configuration needs user_eui, xml_signing_key, xml_signing_cert%s",
				     (flags & CMD_SESSION_GBCS) ? " and gbcs_signing_key" : "");
	if ((ret = hfw_eui_parse(&s->user, user, "user_eui", err)) < 0 ||
	    (ret = hfw_signer_open(&s->signer, hfw_config_get(s->cfg, HFW_SET_XML_SIGNING_KEY),
				   hfw_config_get(s->cfg, HFW_SET_XML_SIGNING_CERT), &ko, err)) < 0 ||
	    (ret = hfw_ledger_open(&s->ledger, hfw_config_get(s->cfg, HFW_SET_LEDGER), err)) < 0)
		return ret;
	if (flags & CMD_SESSION_GBCS) {
		if ((ret = hfw_key_load(&s->gbcs_key, hfw_config_get(s->cfg, HFW_SET_GBCS_SIGNING_KEY), &ko, err)) < 0)
			return ret;
		if (hfw_config_get(s->cfg, HFW_SET_GBCS_SIGNING_CERT)) {
			hfw_cert *cert = NULL;
			struct hfw_cert_info ci;

			/* The GBCS key must be the user's own: the device checks the signature against it. */
			if ((ret = hfw_cert_load(&cert, hfw_config_get(s->cfg, HFW_SET_GBCS_SIGNING_CERT), err)) < 0 ||
			    (ret = hfw_cert_check_key(cert, s->gbcs_key, err)) < 0) {
				hfw_cert_free(cert);
				return ret;
			}
			hfw_cert_info(cert, &ci);
			hfw_cert_free(cert);
			if (ci.eui[0] && strcasecmp(ci.eui, user) != 0)
				return hfw_error_set(err, HFW_EKEY, "gbcs_signing_cert is for %s, not the user %s", ci.eui, user);
		}
	}
	if (!(flags & CMD_SESSION_SEND))
		return 0;
	if (!hfw_config_get(s->cfg, HFW_SET_TRUST_DIR))
		return hfw_error_set(err, HFW_ECONFIG, "the configuration needs trust_dir to verify the DCC's answers");
	to.base_url = hfw_config_get(s->cfg, HFW_SET_ENDPOINT);
	to.ca = hfw_config_get(s->cfg, HFW_SET_TLS_CA);
	to.client_cert = hfw_config_get(s->cfg, HFW_SET_TLS_CLIENT_CERT);
	to.client_key = hfw_config_get(s->cfg, HFW_SET_TLS_CLIENT_KEY);
	to.insecure = !!(flags & CMD_SESSION_INSECURE);
	if (to.insecure)
		cmd_warn(ctx, "--insecure: the adapter's TLS certificate is not verified");
	if ((ret = hfw_pool_open(&s->pool, &to, in_flight, err)) < 0 ||
	    (ret = hfw_trust_load_dir(&s->trust, hfw_config_get(s->cfg, HFW_SET_TRUST_DIR), err)) < 0)
		return ret;
	return 0;
}

void cmd_session_fill(const struct cmd_session *s, struct hfw_flow_options *o)
{
	o->user = s->user;
	o->signer = s->signer;
	o->trust = s->trust;
	o->ledger = s->ledger;
	o->pool = s->pool;
	o->schema_version = hfw_config_get(s->cfg, HFW_SET_SCHEMA_VERSION);
}

void cmd_session_close(struct cmd_session *s)
{
	hfw_signer_free(s->signer);
	hfw_key_free(s->gbcs_key);
	hfw_trust_free(s->trust);
	hfw_ledger_close(s->ledger);
	hfw_pool_free(s->pool);
	memset(s, 0, sizeof(*s));
}

static void progress(void *arg, size_t done, size_t n, const size_t *counts)
{
	fprintf(stderr, "\rhanfw: %s: %zu/%zu devices: %zu sent, %zu refused pre-commands, %zu rejected%s",
		(const char *)arg, done, n, counts[HFW_FLOW_SENT], counts[HFW_FLOW_PRECOMMAND_REFUSED], counts[HFW_FLOW_REJECTED],
		done == n ? "\n" : "");
}

int cmd_run_devices(struct hfw_ctx *ctx, struct hfw_flow_options *o, cmd_flow_run run, const void *run_arg,
		    const struct hfw_devlist *list, const char *what, json_t *summary, struct hfw_error *err)
{
	struct hfw_flow_result *results = NULL;
	size_t counts[HFW_FLOW_OUTCOMES], i;
	int k, ret;

	memset(counts, 0, sizeof(counts));
	if (!(results = calloc(list->n + 1, sizeof(*results)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	for (i = 0; i < list->n; i++)
		results[i].device = list->v[i].eui;
	if (isatty(2) && !ctx->quiet) {
		o->progress = progress;
		o->progress_arg = (void *)what;
	}
	if ((ret = run(run_arg, results, list->n, counts, err)) < 0)
		goto out;
	/* One line per device that did not get through, then the totals. */
	if (ctx->json) {
		json_t *devs = json_array(), *t = json_object();

		for (i = 0; i < list->n && devs; i++) {
			char eui[HFW_EUI_TEXT_MAX];

			hfw_eui_format(eui, &results[i].device);
			json_array_append_new(devs, json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "device", eui, "request_id",
							      results[i].request_id, "outcome",
							      hfw_flow_outcome_name(results[i].outcome), "response_code",
							      results[i].code[0] ? results[i].code : NULL, "detail",
							      results[i].detail));
		}
		for (k = HFW_FLOW_SENT; k < HFW_FLOW_OUTCOMES && t; k++)
			json_object_set_new(t, hfw_flow_outcome_name((enum hfw_flow_outcome)k),
					    json_integer((json_int_t)counts[k]));
		json_object_set_new(summary, "devices", json_integer((json_int_t)list->n));
		json_object_set_new(summary, "outcomes", t);
		json_object_set_new(summary, "results", devs);
		json_incref(summary);
		if ((ret = cmd_print_json(summary, err)) < 0)
			goto out;
	} else {
		for (i = 0; i < list->n; i++) {
			char eui[HFW_EUI_TEXT_MAX];

			if (results[i].outcome == HFW_FLOW_SENT || results[i].outcome == HFW_FLOW_DRY_RUN)
				continue;
			hfw_eui_format(eui, &results[i].device);
			fprintf(stderr, "hanfw: %s: %s%s%s%s%s\n", results[i].request_id[0] ? results[i].request_id : eui,
				hfw_flow_outcome_name(results[i].outcome), results[i].code[0] ? " " : "", results[i].code,
				results[i].detail ? ": " : "", results[i].detail ? results[i].detail : "");
		}
		if (!ctx->quiet)
			printf("%s: %zu devices: %zu sent, %zu dry-run, %zu pre-commands refused, %zu rejected, "
			       "%zu unverified, %zu not sent, %zu unknown\n", what, list->n, counts[HFW_FLOW_SENT],
			       counts[HFW_FLOW_DRY_RUN], counts[HFW_FLOW_PRECOMMAND_REFUSED], counts[HFW_FLOW_REJECTED],
			       counts[HFW_FLOW_UNVERIFIED], counts[HFW_FLOW_NOT_SENT], counts[HFW_FLOW_UNKNOWN]);
	}
	/* The gravest thing that happened to any device (as distribute's). */
	if (counts[HFW_FLOW_NOT_SENT] || counts[HFW_FLOW_UNKNOWN])
		ret = -HFW_ETRANSPORT;
	else if (counts[HFW_FLOW_PRECOMMAND_REFUSED] || counts[HFW_FLOW_UNVERIFIED])
		ret = -HFW_EVERIFY;
	else if (counts[HFW_FLOW_REJECTED])
		ret = -HFW_EREJECTED;
	else
		ret = HFW_EXIT_OK;
out:
	hfw_flow_results_release(results, list->n);
	free(results);
	return ret;
}
