/*
 * distribute.c - "hanfw distribute": send a packaged image to many devices
 * in non-critical requests (SR 11.1 for meters and HCALCS, 11.4 for PPMIDs
 * and their kin, as the image's manifest says), up to 50,000 devices each,
 * to the adapter's non-device endpoint.
 *
 * Every request is signed, counted and recorded in the ledger before it
 * leaves; every device's outcome (accepted, or which warning list the DCC
 * put it in) is recorded when the answer comes.  A request whose fate is
 * unknown is recorded as such and never silently resent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "../lib/config.h"
#include "../lib/devlist.h"
#include "../lib/duis.h"
#include "../lib/estate.h"
#include "../lib/fileio.h"
#include "../lib/image.h"
#include "../lib/ledger.h"
#include "../lib/manifest.h"
#include "../lib/transport.h"
#include "../lib/xml.h"
#include "../lib/xmldsig.h"
#include "cmd.h"

/* The DCC's warning lists and what hanfw records for a device in each. */
static const struct { const char *list, *outcome; } warnings[] = {
	{ "InvalidDeviceIDList", "invalid" },
	{ "NotCommissionedDeviceIDList", "not_commissioned" },
	{ "NotApplicableFirmwareDeviceIDList", "not_applicable" },
	{ "OtherRequestInProgressList", "other_request_in_progress" },
	{ "InvalidGBCSVersionList", "invalid_gbcs_version" },
};
#define NWARN (sizeof(warnings) / sizeof(warnings[0]))

struct totals {
	size_t accepted, refused[NWARN], rejected, unsent, unknown;
	int transport, verify, reject, partial;	/* what went wrong at least once */
};

/* The exit status: the gravest thing that happened to any request. */
static int exit_status(const struct totals *t)
{
	if (t->transport)
		return -HFW_ETRANSPORT;
	if (t->verify)
		return -HFW_EVERIFY;
	if (t->reject)
		return -HFW_EREJECTED;
	if (t->partial)
		return -HFW_EPARTIAL;
	return HFW_EXIT_OK;
}

/* Find eui among the batch (sorted) and set its outcome. */
static void mark(const struct hfw_target *batch, size_t n, const char **outcome, const char *eui_text,
		 const char *what)
{
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct hfw_eui e;
	size_t lo = 0, hi = n;

	if (hfw_eui_parse(&e, eui_text, "device", &ignored) < 0)
		return;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(&batch[mid].eui, &e, sizeof(e));

		if (c == 0) {
			outcome[mid] = what;
			return;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
}

struct context {
	struct hfw_ctx *ctx;
	hfw_config *cfg;
	hfw_signer *signer;
	hfw_ledger *ledger;
	hfw_transport *transport;
	hfw_trust *trust;
	const struct hfw_manifest *m;
	const uint8_t *image;
	size_t image_len;
	const char *dry_run_dir;
	const char *campaign;
	json_t *json;		/* per-request results, for --json */
};

static int send_batch(struct context *c, const struct hfw_target *batch, size_t n, struct totals *t,
		      struct hfw_error *err)
{
	struct hfw_buf req_xml = HFW_BUF_INIT(HFW_MAX_DUIS_BYTES + 64 * 1024);
	struct hfw_duis_request r;
	struct hfw_ledger_request rec;
	struct hfw_reply reply;
	struct hfw_verify_result vr;
	struct hfw_verify_options vo = { c->trust, 1, 0, NULL, NULL, 0 };
	struct hfw_eui *devices = NULL;
	const char **outcome = NULL;
	enum hfw_delivery delivery = HFW_NOT_SENT;
	xmlDocPtr doc = NULL;
	char rid[HFW_REQUEST_ID_MAX], state[64] = "signed", code[16] = "";
	size_t i;
	int ret = 0;

	memset(&reply, 0, sizeof(reply));
	if (!(devices = calloc(n, sizeof(*devices))) || !(outcome = calloc(n, sizeof(*outcome)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		devices[i] = batch[i].eui;
		outcome[i] = "pending";
	}
	memset(&r, 0, sizeof(r));
	r.body = c->m->route == HFW_ROUTE_SR_11_1 ? HFW_BODY_UPDATE_FIRMWARE : HFW_BODY_UPDATE_PPMID_FIRMWARE;
	r.schema_version = hfw_config_get(c->cfg, HFW_SET_SCHEMA_VERSION);
	r.image = c->image;
	r.image_len = c->image_len;
	r.firmware_version = c->m->firmware_version;
	r.devices = devices;
	r.ndevices = n;
	if ((ret = hfw_eui_parse(&r.id.originator, hfw_config_get(c->cfg, HFW_SET_USER_EUI), "user_eui", err)) < 0 ||
	    (ret = hfw_eui_parse(&r.id.target, hfw_config_get(c->cfg, HFW_SET_DCC_EUI), "dcc_eui", err)) < 0)
		goto out;
	/* Counter, signature and record in one transaction, committed before anything leaves. */
	if ((ret = hfw_ledger_begin(c->ledger, err)) < 0)
		goto out;
	memset(&rec, 0, sizeof(rec));
	if ((ret = hfw_ledger_reserve(c->ledger, &r.id.originator, hfw_now_ms(), 1, &r.id.counter, err)) < 0 ||
	    (ret = hfw_duis_sign_request(&req_xml, c->signer, &r, rec.body_sha256, err)) < 0)
		goto rollback;
	hfw_request_id_format(rid, &r.id);
	rec.id = r.id;
	rec.service_reference = hfw_route_sr(c->m->route);
	rec.command_variant = 8;
	rec.state = c->dry_run_dir ? "dry-run" : "signed";
	if ((ret = hfw_ledger_record(c->ledger, &rec, 1, err)) < 0 ||
	    (ret = hfw_ledger_record_devices(c->ledger, rid, devices, outcome, n, err)) < 0 ||
	    (ret = hfw_ledger_campaign_request(c->ledger, rid, c->campaign, "distribute", c->m->type->name,
					       c->m->firmware_version, c->m->mi_sha256, err)) < 0 ||
	    (ret = hfw_ledger_commit(c->ledger, err)) < 0)
		goto rollback;

	if (c->dry_run_dir) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/request-%llu.xml", c->dry_run_dir, (unsigned long long)r.id.counter);
		if ((ret = hfw_file_write_atomic(path, req_xml.data, req_xml.len, err)) < 0)
			goto out;
		snprintf(state, sizeof(state), "dry-run");
		goto report;
	}
	ret = hfw_transport_post(c->transport, "/serviceD", req_xml.data, req_xml.len, &reply, &delivery, err);
	if (ret < 0) {
		snprintf(state, sizeof(state), "%s", delivery == HFW_NOT_SENT ? "not_sent"
			 : delivery == HFW_REFUSED ? "refused" : "unknown");
		if (delivery == HFW_OUTCOME_UNKNOWN)
			t->unknown += n;
		else
			t->unsent += n;
		hfw_ledger_set_state(c->ledger, rid, state, NULL, err);
		t->transport = 1;
		goto report;
	}
	/* The answer must be the DCC's, about this request. */
	vo.doc_out = &doc;
	if ((ret = hfw_xmldsig_verify(&vr, (const uint8_t *)reply.body, reply.len, &vo, err)) < 0 ||
	    (!vr.is_signed && vr.response_code[0] != 'E')) {
		if (ret == 0)
			ret = hfw_error_set(err, HFW_EVERIFY, "the DCC's answer to %s is not signed", rid);
		hfw_ledger_set_state(c->ledger, rid, "unverified_answer", NULL, err);
		t->verify = 1;
		snprintf(state, sizeof(state), "unverified_answer");
		goto report;
	}
	if (strcmp(vr.request_id, rid) != 0) {
		ret = hfw_error_set(err, HFW_EVERIFY, "the DCC answered RequestID '%.80s', not %s", vr.request_id, rid);
		hfw_ledger_set_state(c->ledger, rid, "unverified_answer", NULL, err);
		t->verify = 1;
		snprintf(state, sizeof(state), "unverified_answer");
		goto report;
	}
	snprintf(code, sizeof(code), "%s", vr.response_code);
	if (code[0] == 'E') {
		snprintf(state, sizeof(state), "rejected");
		for (i = 0; i < n; i++)
			outcome[i] = "rejected";
		t->rejected += n;
		t->reject = 1;
	} else {
		xmlNodePtr msg = hfw_xml_child(hfw_xml_child(xmlDocGetRootElement(doc), HFW_NS_DUIS, "Body"),
					       HFW_NS_DUIS, "ResponseMessage");
		xmlNodePtr w = hfw_xml_child(msg, HFW_NS_DUIS, c->m->route == HFW_ROUTE_SR_11_1 ? "DSPUpdateFirmwareWarning"
					     : "DSPUpdatePPMIDFirmwareWarning");
		size_t k;

		snprintf(state, sizeof(state), "accepted");
		for (k = 0; k < NWARN; k++) {
			xmlNodePtr l = hfw_xml_child(w, HFW_NS_DUIS, warnings[k].list);
			xmlChar *text = l ? xmlNodeGetContent(l) : NULL;
			char *p, *save = NULL;

			for (p = text ? strtok_r((char *)text, ",", &save) : NULL; p; p = strtok_r(NULL, ",", &save))
				mark(batch, n, outcome, p, warnings[k].outcome);
			xmlFree(text);
		}
		for (i = 0; i < n; i++) {
			if (strcmp(outcome[i], "pending") == 0) {
				outcome[i] = "accepted";
				t->accepted++;
				continue;
			}
			for (k = 0; k < NWARN; k++)
				if (strcmp(outcome[i], warnings[k].outcome) == 0)
					t->refused[k]++;
			t->partial = 1;
		}
	}
	if ((ret = hfw_ledger_set_state(c->ledger, rid, state, code, err)) < 0 ||
	    (ret = hfw_ledger_record_devices(c->ledger, rid, devices, outcome, n, err)) < 0)
		goto out;
report:
	/* One line per request: its outcome, or its error naming it. */
	if (ret < 0) {
		char why[HFW_ERROR_TEXT_MAX];

		snprintf(why, sizeof(why), "%s", err->text);
		hfw_error_set(err, err->code, "%s: %s", rid, why);
	} else if (!c->ctx->json && !c->ctx->quiet) {
		fprintf(stderr, "hanfw: %s: %zu devices, %s%s%s\n", rid, n, state, code[0] ? " " : "", code);
	}
	json_array_append_new(c->json, json_pack("{s:s,s:I,s:s,s:s?}", "request_id", rid, "devices", (json_int_t)n,
						 "state", state, "response_code", code[0] ? code : NULL));
	goto out;
rollback:
	hfw_ledger_rollback(c->ledger);
out:
	xmlFreeDoc(doc);
	hfw_reply_release(&reply);
	hfw_buf_release(&req_xml);
	free(devices);
	free(outcome);
	return ret;
}

int cmd_distribute(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *devices_file = NULL, *estate_file = NULL, *batch_text = NULL, *out_dir = NULL, *campaign = NULL;
	int dry_run = 0, insecure = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "devices", &devices_file, "FILE", "devices, one per line: EUI [TYPE] ('-': standard input)"),
		HFW_OPT_STRING(0, "estate", &estate_file, "FILE", "estate whose device types are checked against the image"),
		HFW_OPT_STRING(0, "batch", &batch_text, "N", "devices per request, at most 50000 (the DUIS limit)"),
		HFW_OPT_FLAG(0, "dry-run", &dry_run, "sign the requests and write them to -o DIR instead of sending"),
		HFW_OPT_STRING('o', "output", &out_dir, "DIR", "where --dry-run writes the requests"),
		HFW_OPT_STRING(0, "campaign", &campaign, "NAME", "the campaign the requests belong to (default: TYPE-VERSION of the image)"),
		HFW_OPT_FLAG(0, "insecure", &insecure, "do not verify the adapter's TLS certificate (testing only)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"distribute IMAGE [EUI...] [--devices FILE|-] [--estate FILE] [--batch N] [--campaign NAME] [--dry-run -o DIR] [--json]",
		"Send a packaged image (its manifest says SR 11.1 or 11.4) to many devices, at most 50,000 per\n"
		"request, recording every request and every device's outcome in the ledger.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_key_options ko = HFW_KEY_OPTIONS_INIT;
	struct hfw_transport_options to = { NULL, NULL, NULL, NULL, 0, 0, 0, -1, 0 };
	struct hfw_devlist list = HFW_DEVLIST_INIT;
	struct hfw_manifest m;
	struct hfw_image img;
	struct totals t;
	struct context c;
	uint8_t *image = NULL;
	size_t len = 0, i, k;
	unsigned long long batch = HFW_MAX_DEVICES_PER_REQUEST;
	char *json_text = NULL, campaign_name[64];
	const char *user;
	int n, ret = HFW_EXIT_OK;

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	if ((n = cmd_parse_options(ctx, argc, argv, opts, &usage)) < 0)
		return n == HFW_PARSE_DONE ? HFW_EXIT_OK : HFW_EXIT_USAGE;
	if (n < 1)
		return cmd_usage_error(ctx, "expected an IMAGE (see --help)");
	if (dry_run != !!out_dir)
		return cmd_usage_error(ctx, "--dry-run and -o DIR go together");
	if (batch_text && (cmd_parse_uint(ctx, "batch", batch_text, HFW_MAX_DEVICES_PER_REQUEST, &batch) || batch == 0))
		return batch == 0 ? cmd_usage_error(ctx, "--batch must be 1 to 50000") : HFW_EXIT_USAGE;
	c.ctx = ctx;
	c.dry_run_dir = out_dir;
	if (out_dir && cmd_output_dir(out_dir, &err) < 0)
		goto fail;
	if (cmd_config(ctx, &c.cfg, &err) < 0)
		goto fail;

	/* The image, checked against its manifest: it is what the manifest says, or nothing is sent. */
	if (hfw_manifest_load_image(&m, &image, &len, &img, argv[0], &err) < 0)
		goto fail;
	c.m = &m;
	snprintf(campaign_name, sizeof(campaign_name), "%s-%s", m.type->name, m.firmware_version);
	c.campaign = campaign ? campaign : campaign_name;
	c.image = image;
	c.image_len = len;

	/* The devices, and their types where anything says them. */
	if (cmd_load_devices(&list, argv + 1, (size_t)n - 1, devices_file, estate_file, &err) < 0)
		goto fail;
	if (list.duplicates)
		cmd_warn(ctx, "%zu devices listed more than once are sent once", list.duplicates);
	for (i = 0; i < list.n; i++) {
		const struct hfw_device_type *type = list.v[i].type;

		if (type && type->route != m.route) {
			char eui[HFW_EUI_TEXT_MAX];

			hfw_eui_format(eui, &list.v[i].eui);
			hfw_error_set(&err, HFW_EINPUT,
				      "device %s is a %s, but '%s' is a %s image for SR %s: nothing sent",
				      eui, type->name, argv[0], m.type->name, hfw_route_sr(m.route));
			goto fail;
		}
	}

	/* Who signs, where the ledger is, and (unless dry-running) the adapter. */
	ko.passphrase_env = hfw_config_get(c.cfg, HFW_SET_PASSPHRASE_ENV);
	user = hfw_config_get(c.cfg, HFW_SET_USER_EUI);
	if (!user || !hfw_config_get(c.cfg, HFW_SET_XML_SIGNING_KEY) || !hfw_config_get(c.cfg, HFW_SET_XML_SIGNING_CERT)) {
		ret = cmd_usage_error(ctx, "the configuration needs user_eui, xml_signing_key and xml_signing_cert");
		goto out;
	}
	if (hfw_signer_open(&c.signer, hfw_config_get(c.cfg, HFW_SET_XML_SIGNING_KEY),
			    hfw_config_get(c.cfg, HFW_SET_XML_SIGNING_CERT), &ko, &err) < 0 ||
	    hfw_ledger_open(&c.ledger, hfw_config_get(c.cfg, HFW_SET_LEDGER), &err) < 0)
		goto fail;
	if (!dry_run) {
		if (!hfw_config_get(c.cfg, HFW_SET_TRUST_DIR)) {
			ret = cmd_usage_error(ctx, "the configuration needs trust_dir to verify the DCC's answers");
			goto out;
		}
		to.base_url = hfw_config_get(c.cfg, HFW_SET_ENDPOINT);
		to.ca = hfw_config_get(c.cfg, HFW_SET_TLS_CA);
		to.client_cert = hfw_config_get(c.cfg, HFW_SET_TLS_CLIENT_CERT);
		to.client_key = hfw_config_get(c.cfg, HFW_SET_TLS_CLIENT_KEY);
		to.insecure = insecure;
		if (insecure)
			cmd_warn(ctx, "--insecure: the adapter's TLS certificate is not verified");
		if (hfw_transport_open(&c.transport, &to, &err) < 0 ||
		    hfw_trust_load_dir(&c.trust, hfw_config_get(c.cfg, HFW_SET_TRUST_DIR), &err) < 0)
			goto fail;
	}
	if (!(c.json = json_array())) {
		hfw_error_oom(&err);
		goto fail;
	}
	for (i = 0; i < list.n; i += (size_t)batch) {
		size_t chunk = list.n - i < batch ? list.n - i : (size_t)batch;

		if (send_batch(&c, list.v + i, chunk, &t, &err) < 0) {
			fprintf(stderr, "hanfw: %s\n", err.text);
			if (err.code != HFW_ETRANSPORT && err.code != HFW_EVERIFY) {
				ret = -err.code;	/* signing, ledger: stop here */
				goto out;
			}
			if (t.transport && !t.unknown)
				break;	/* the adapter cannot be reached: do not burn counters on the rest */
		}
	}
	{
		size_t refused = 0;

		for (k = 0; k < NWARN; k++)
			refused += t.refused[k];
		if (ctx->json) {
			json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "image", argv[0], "campaign", c.campaign,
					      "service_reference", hfw_route_sr(m.route), "firmware_version", m.firmware_version,
					      "devices", (json_int_t)list.n, "accepted", (json_int_t)t.accepted,
					      "refused", (json_int_t)refused, "rejected", (json_int_t)t.rejected,
					      "unknown", (json_int_t)t.unknown, "requests", c.json);

			c.json = NULL;
			if (o) {
				json_t *w = json_object();

				for (k = 0; k < NWARN; k++)
					json_object_set_new(w, warnings[k].outcome, json_integer((json_int_t)t.refused[k]));
				json_object_set_new(o, "refused_by_reason", w);
				json_text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
				json_decref(o);
			}
			if (json_text)
				printf("%s\n", json_text);
		} else if (!ctx->quiet) {
			printf("%s (SR %s, firmware version %s): %zu devices: %zu accepted, %zu refused, %zu rejected, "
			       "%zu unknown, %zu not sent\n", argv[0], hfw_route_sr(m.route), m.firmware_version, list.n,
			       t.accepted, refused, t.rejected, t.unknown, t.unsent);
			for (k = 0; k < NWARN; k++)
				if (t.refused[k])
					printf("  %-28s %zu\n", warnings[k].outcome, t.refused[k]);
		}
	}
	ret = exit_status(&t);
	goto out;
fail:
	ret = cmd_report(&err);
out:
	json_decref(c.json);
	free(json_text);
	hfw_signer_free(c.signer);
	hfw_ledger_close(c.ledger);
	hfw_transport_free(c.transport);
	hfw_trust_free(c.trust);
	hfw_devlist_release(&list);
	free(image);
	return ret;
}
