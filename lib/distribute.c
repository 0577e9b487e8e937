/* distribute.c - SR 11.1 and 11.4 for many devices (see distribute.h). */
#include "distribute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "duis.h"
#include "request.h"
#include "xml.h"

/* The DCC's warning lists and what hanfw records for a device in each. */
static const struct { const char *list, *outcome; } warnings[HFW_DISTRIBUTION_WARNINGS] = {
	{ "InvalidDeviceIDList", "invalid" },
	{ "NotCommissionedDeviceIDList", "not_commissioned" },
	{ "NotApplicableFirmwareDeviceIDList", "not_applicable" },
	{ "OtherRequestInProgressList", "other_request_in_progress" },
	{ "InvalidGBCSVersionList", "invalid_gbcs_version" },
};

const char *hfw_distribution_warning_outcome(size_t k)
{
	return k < HFW_DISTRIBUTION_WARNINGS ? warnings[k].outcome : NULL;
}

const char *hfw_distribution_warning_list(size_t k)
{
	return k < HFW_DISTRIBUTION_WARNINGS ? warnings[k].list : NULL;
}

int hfw_distribution_status(const struct hfw_distribution_totals *t)
{
	if (t->transport)
		return HFW_ETRANSPORT;
	if (t->verify)
		return HFW_EVERIFY;
	if (t->reject)
		return HFW_EREJECTED;
	if (t->partial)
		return HFW_EPARTIAL;
	return 0;
}

/* Find eui among the devices (sorted) and set its outcome. */
static void mark(const struct hfw_eui *devices, size_t n, const char **outcomes, const char *eui_text,
		 const char *what)
{
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct hfw_eui e;
	size_t lo = 0, hi = n;

	if (hfw_eui_parse(&e, eui_text, "device", &ignored) < 0)
		return;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(&devices[mid], &e, sizeof(e));

		if (c == 0) {
			outcomes[mid] = what;
			return;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
}

void hfw_distribution_mark_warnings(const struct _xmlDoc *answer, enum hfw_route route,
				    const struct hfw_eui *devices, size_t n, const char **outcomes)
{
	xmlNodePtr msg = hfw_xml_child(hfw_xml_child(xmlDocGetRootElement(answer), HFW_NS_DUIS, "Body"),
				       HFW_NS_DUIS, "ResponseMessage");
	xmlNodePtr w = hfw_xml_child(msg, HFW_NS_DUIS, route == HFW_ROUTE_SR_11_1 ? "DSPUpdateFirmwareWarning"
				     : "DSPUpdatePPMIDFirmwareWarning");
	size_t k;

	for (k = 0; w && k < HFW_DISTRIBUTION_WARNINGS; k++) {
		xmlNodePtr l = hfw_xml_child(w, HFW_NS_DUIS, warnings[k].list);
		xmlChar *text = l ? xmlNodeGetContent(l) : NULL;
		char *p, *save = NULL;

		for (p = text ? strtok_r((char *)text, ",", &save) : NULL; p; p = strtok_r(NULL, ",", &save))
			mark(devices, n, outcomes, p, warnings[k].outcome);
		xmlFree(text);
	}
}

int hfw_distribution_check_types(const struct hfw_manifest *m, const struct hfw_target *devices, size_t n,
				 const char *image_name, struct hfw_error *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct hfw_device_type *type = devices[i].type;

		if (type && type->route != m->route) {
			char eui[HFW_EUI_TEXT_MAX];

			hfw_eui_format(eui, &devices[i].eui);
			return hfw_error_set(err, HFW_EINPUT,
					     "device %s is a %s, but '%s' is a %s image for SR %s: nothing sent",
					     eui, type->name, image_name, m->type->name, hfw_route_sr(m->route));
		}
	}
	return 0;
}

/* Tell the caller how a request ended; a failure's text names the RequestID. */
static void report(const struct hfw_distribution_options *o, const char *rid, size_t n, const char *state,
		   const char *code, const struct hfw_eui *devices, const char *const *outcomes, int ret,
		   struct hfw_error *err)
{
	struct hfw_distribution_request r = { rid, n, state, code[0] ? code : NULL, devices, outcomes };

	if (ret < 0) {
		char why[HFW_ERROR_TEXT_MAX];

		snprintf(why, sizeof(why), "%s", err->text);
		hfw_error_set(err, err->code, "%s: %s", rid, why);
	}
	if (o->report)
		o->report(o->report_arg, &r, ret < 0 ? err : NULL);
}

/* One request: its devices are batch[0..n). */
static int send_one(const struct hfw_distribution_options *o, const struct hfw_target *batch, size_t n,
		    struct hfw_distribution_totals *t, struct hfw_error *err)
{
	const struct hfw_manifest *m = o->manifest;
	struct hfw_request_batch b = { o->ledger, o->signer, o->dry_run_dir != NULL };
	struct hfw_request req;
	struct hfw_answer a = { .doc = NULL };
	struct hfw_reply reply;
	struct hfw_eui *devices = NULL;
	const char **outcome = NULL;
	enum hfw_delivery delivery = HFW_NOT_SENT;
	const char *rid = req.request_id;
	char state[64] = "signed", code[16] = "";
	size_t i, k;
	int ret = 0, reported = 0;

	memset(&reply, 0, sizeof(reply));
	memset(&req, 0, sizeof(req));
	if (!(devices = calloc(n, sizeof(*devices))) || !(outcome = calloc(n, sizeof(*outcome)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		devices[i] = batch[i].eui;
		outcome[i] = "pending";
	}
	req.duis.body = m->route == HFW_ROUTE_SR_11_1 ? HFW_BODY_UPDATE_FIRMWARE : HFW_BODY_UPDATE_PPMID_FIRMWARE;
	req.duis.schema_version = o->schema_version;
	req.duis.image = o->image;
	req.duis.image_len = o->image_len;
	req.duis.firmware_version = m->firmware_version;
	req.duis.devices = devices;
	req.duis.ndevices = n;
	req.duis.id.originator = o->user;
	req.duis.id.target = o->dcc;
	req.state = "signed";
	req.devices = devices;
	req.device_states = outcome;
	req.ndevices = n;
	req.campaign = o->campaign;
	req.action = "distribute";
	req.device_type = m->type->name;
	req.firmware_version = m->firmware_version;
	req.firmware_hash = m->firmware_hash;
	if ((ret = hfw_request_prepare(&b, &req, 1, err)) < 0)
		goto out;
	t->requests++;
	if (o->dry_run_dir) {
		if ((ret = hfw_request_write_dry_run(o->dry_run_dir, &req, err)) < 0)
			goto out;
		snprintf(state, sizeof(state), "dry-run");
		goto report;
	}
	ret = hfw_request_send(NULL, o->transport, "/serviceD", &req, &reply, &delivery, err);
	if (ret < 0) {
		snprintf(state, sizeof(state), "%s", delivery == HFW_NOT_SENT ? "not_sent"
			 : delivery == HFW_REFUSED ? "refused" : "unknown");
		if (delivery == HFW_OUTCOME_UNKNOWN)
			t->unknown += n;
		else
			t->unsent += n;
		hfw_ledger_set_state(o->ledger, rid, state, NULL, err);
		t->transport = 1;
		goto report;
	}
	/* The answer must be the DCC's, about this request. */
	if ((ret = hfw_request_check_answer(&a, o->trust, rid, reply.body, reply.len, err)) < 0) {
		hfw_ledger_set_state(o->ledger, rid, "unverified_answer", NULL, err);
		t->verify = 1;
		snprintf(state, sizeof(state), "unverified_answer");
		goto report;
	}
	snprintf(code, sizeof(code), "%s", a.vr.response_code);
	if (code[0] == 'E') {
		snprintf(state, sizeof(state), "rejected");
		for (i = 0; i < n; i++)
			outcome[i] = "rejected";
		t->rejected += n;
		t->reject = 1;
	} else {
		snprintf(state, sizeof(state), "accepted");
		hfw_distribution_mark_warnings(a.doc, m->route, devices, n, outcome);
		for (i = 0; i < n; i++) {
			if (strcmp(outcome[i], "pending") == 0) {
				outcome[i] = "accepted";
				t->accepted++;
				continue;
			}
			for (k = 0; k < HFW_DISTRIBUTION_WARNINGS; k++)
				if (strcmp(outcome[i], warnings[k].outcome) == 0)
					t->refused[k]++;
			t->partial = 1;
		}
	}
	/* The answer and each device's outcome in one transaction: a kill between them would leave every device pending under an accepted request. */
	if ((ret = hfw_ledger_begin(o->ledger, err)) < 0)
		goto out;
	if ((ret = hfw_ledger_set_state(o->ledger, rid, state, code, err)) < 0 ||
	    (ret = hfw_ledger_record_devices(o->ledger, rid, devices, outcome, n, err)) < 0 ||
	    (ret = hfw_ledger_commit(o->ledger, err)) < 0) {
		hfw_ledger_rollback(o->ledger);
		goto out;
	}
report:
	report(o, rid, n, state, code, devices, outcome, ret, err);
	reported = 1;
out:
	if (ret < 0 && !reported && o->report)
		o->report(o->report_arg, NULL, err);
	hfw_answer_release(&a);
	hfw_reply_release(&reply);
	hfw_request_release(&req);
	free(devices);
	free(outcome);
	return ret;
}

int hfw_distribution_run(const struct hfw_distribution_options *o, const struct hfw_target *devices, size_t n,
			 struct hfw_distribution_totals *t, struct hfw_error *err)
{
	size_t i, batch = o->batch ? o->batch : HFW_MAX_DEVICES_PER_REQUEST;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i += batch) {
		size_t chunk = n - i < batch ? n - i : batch;
		int ret = send_one(o, devices + i, chunk, t, err);

		if (ret < 0) {
			if (err->code != HFW_ETRANSPORT && err->code != HFW_EVERIFY)
				return err->code ? err->code : ret;	/* signing, ledger: stop here */
			if (t->transport && !t->unknown)
				break;	/* the adapter cannot be reached: do not burn counters on the rest */
		}
	}
	return 0;
}
