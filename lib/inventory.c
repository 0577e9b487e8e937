/* inventory.c - the estate from SR 8.2 Read Inventory answers (see inventory.h). */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "duis.h"
#include "fileio.h"
#include "xml.h"

const char *hfw_inventory_outcome_name(enum hfw_inventory_outcome o)
{
	static const char *const names[HFW_INV_OUTCOMES] = {
		"found", "covered", "not_found", "rejected", "unverified_answer",
	};

	return o < HFW_INV_OUTCOMES ? names[o] : "unknown";
}

int hfw_inventory_check(struct hfw_answer *a, const hfw_trust *trust, const char *request_id, const void *body,
			size_t len, const char *what, struct hfw_error *err)
{
	struct hfw_verify_options vo = { trust, 1, 0, NULL, NULL, 0 };
	int ret;

	memset(a, 0, sizeof(*a));
	if (len > HFW_INVENTORY_MAX_ANSWER_BYTES)
		return hfw_error_set(err, HFW_ELIMIT, "%s: %zu bytes, more than an SR 8.2 answer's limit of %u: refused",
				     what, len, HFW_INVENTORY_MAX_ANSWER_BYTES);
	vo.doc_out = &a->doc;
	if ((ret = hfw_xmldsig_verify(&a->vr, body, len, &vo, err)) < 0) {
		char why[HFW_ERROR_TEXT_MAX];

		snprintf(why, sizeof(why), "%s", err->text);
		return hfw_error_set(err, ret, "%s: %s", what, why);
	}
	if (strcmp(a->vr.root, "Response") != 0)
		ret = hfw_error_set(err, HFW_EINPUT, "%s: a %s, not the DCC's Response", what, a->vr.root);
	/* The DCC does not sign its E-code rejections; anything else unsigned is not the DCC's. */
	else if (!a->vr.is_signed && a->vr.response_code[0] != 'E')
		ret = hfw_error_set(err, HFW_EVERIFY, "%s: not signed: an SR 8.2 answer must carry the DCC's signature", what);
	else if (a->vr.is_signed && !a->vr.schema_checked)
		ret = hfw_error_set(err, HFW_EINPUT, "%s: not checked against the DUIS schema (%s): refused", what,
				    a->vr.schema_skipped);
	else if (a->vr.response_code[0] != 'E' && strcmp(a->vr.service_reference, "8.2") != 0)
		ret = hfw_error_set(err, HFW_EINPUT, "%s: an answer to SR %s, not SR 8.2 Read Inventory", what,
				    a->vr.service_reference[0] ? a->vr.service_reference : "(none)");
	else if (request_id && strcmp(a->vr.request_id, request_id) != 0)
		ret = hfw_error_set(err, HFW_EVERIFY, "%s: the DCC answered RequestID '%.80s', not %s", what,
				    a->vr.request_id, request_id);
	if (ret < 0)
		hfw_answer_release(a);
	return ret;
}

/* The text of parent's child name ("" when absent): a borrowed copy into buf. */
static const char *text_of(xmlNodePtr parent, const char *name, char *buf, size_t size)
{
	xmlNodePtr n = hfw_xml_child(parent, HFW_NS_DUIS, name);
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;

	buf[0] = '\0';
	if (t) {
		snprintf(buf, size, "%s", (const char *)t);
		xmlFree(t);
	}
	return buf;
}

/* One sr:Device, into d: its text members point into bufs (merge copies them). */
#define FIELDS 14
#define FIELD_MAX 128
static int parse_device(struct hfw_device *d, xmlNodePtr node, char bufs[FIELDS][FIELD_MAX], struct hfw_error *err)
{
	char eui[FIELD_MAX], type[FIELD_MAX], status[FIELD_MAX], fw[FIELD_MAX];
	int ret;

	memset(d, 0, sizeof(*d));
	text_of(node, "DeviceID", eui, sizeof(eui));
	if ((ret = hfw_eui_parse(&d->eui, eui, "DeviceID", err)) < 0)
		return ret;
	if ((ret = hfw_device_type_find(&d->type, text_of(node, "DeviceType", type, sizeof(type)), err)) < 0)
		return hfw_error_set(err, HFW_EINPUT, "device %s: DeviceType '%.30s' is not one hanfw knows", eui, type);
	if (text_of(node, "DeviceStatus", status, sizeof(status))[0] &&
	    (ret = hfw_device_status_parse(&d->status, status, err)) < 0)
		return ret;
	d->manufacturer = text_of(node, "DeviceManufacturer", bufs[0], FIELD_MAX);
	d->model = text_of(node, "DeviceModel", bufs[1], FIELD_MAX);
	d->chts_version = text_of(node, "SMETSCHTSVersion", bufs[2], FIELD_MAX);
	/* The schema holds it to 1-8 characters. */
	snprintf(d->firmware_version, sizeof(d->firmware_version), "%s",
		 text_of(node, "DeviceFirmwareVersion", fw, sizeof(fw)));
	if (text_of(node, "DeviceFirmwareVersionStatus", bufs[3], FIELD_MAX)[0] &&
	    (ret = hfw_cpl_status_parse(&d->firmware_status, bufs[3], err)) < 0)
		return ret;
	if (text_of(node, "CPLStatus", bufs[4], FIELD_MAX)[0] && (ret = hfw_cpl_status_parse(&d->cpl_status, bufs[4], err)) < 0)
		return ret;
	d->date_commissioned = text_of(node, "DateCommissioned", bufs[5], FIELD_MAX);
	d->mpxn = text_of(node, "ImportMPxN", bufs[6], FIELD_MAX);
	d->uprn = text_of(node, "UPRN", bufs[7], FIELD_MAX);
	d->region = text_of(node, "CSPRegion", bufs[8], FIELD_MAX);
	d->gbcs_version = text_of(node, "DeviceGBCSVersion", bufs[9], FIELD_MAX);
	d->han_variant = text_of(node, "HANVariant", bufs[10], FIELD_MAX);
	d->s1sp = text_of(node, "S1SP", bufs[11], FIELD_MAX);
	d->connectivity = text_of(node, "Connectivity", bufs[12], FIELD_MAX);
	/* Supplier members stay unknown (""): merge keeps what the estate had. */
	d->site = "";
	return 0;
}

int hfw_inventory_apply(hfw_estate *e, const struct hfw_answer *a, struct hfw_inventory_answer *out,
			struct hfw_error *err)
{
	char bufs[HFW_INVENTORY_MAX_DEVICES][FIELDS][FIELD_MAX];	/* 30 KB: the texts until merged */
	struct hfw_device devs[HFW_INVENTORY_MAX_DEVICES];
	xmlNodePtr root, msg, inv, n;
	size_t i, k = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(out->request_id, sizeof(out->request_id), "%s", a->vr.request_id);
	snprintf(out->response_code, sizeof(out->response_code), "%s", a->vr.response_code);
	if (strcmp(a->vr.response_code, "E19") == 0) {
		out->not_found = 1;
		return 0;
	}
	if (strcmp(a->vr.response_code, "I0") != 0)
		return hfw_error_set(err, HFW_EREJECTED, "the DCC answered %s to SR 8.2 %s", a->vr.response_code,
				     a->vr.request_id[0] ? a->vr.request_id : "(no RequestID)");
	root = xmlDocGetRootElement(a->doc);
	msg = hfw_xml_child(hfw_xml_child(root, HFW_NS_DUIS, "Body"), HFW_NS_DUIS, "ResponseMessage");
	if (!(inv = hfw_xml_child(msg, HFW_NS_DUIS, "DSPInventory")))
		return hfw_error_set(err, HFW_EINPUT, "the DCC's I0 answer %s holds no DSPInventory", a->vr.request_id);
	for (n = hfw_xml_first_element(inv); n; n = hfw_xml_next_element(n)) {
		if (!hfw_xml_is(n, HFW_NS_DUIS, "Device"))
			continue;
		if (k == HFW_INVENTORY_MAX_DEVICES)
			return hfw_error_set(err, HFW_ELIMIT, "answer %s lists more than %d devices", a->vr.request_id,
					     HFW_INVENTORY_MAX_DEVICES);
		if ((ret = parse_device(&devs[k], n, bufs[k], err)) < 0)
			return ret;
		if (!strcmp(devs[k].type->name, "CHF")) {
			if (out->has_hub)
				return hfw_error_set(err, HFW_EINPUT,
						     "answer %s lists two comms hubs: which is the premises' is not known",
						     a->vr.request_id);
			out->has_hub = 1;
			out->hub = devs[k].eui;
		}
		k++;
	}
	/* Nothing merged until the whole answer parsed: an answer goes in whole or not at all. */
	for (i = 0; i < k; i++) {
		devs[i].has_comms_hub = out->has_hub;
		if (out->has_hub)
			devs[i].comms_hub = out->hub;
		if ((ret = hfw_estate_merge(e, &devs[i], err)) < 0)
			return ret;
		out->devices[i] = devs[i].eui;
	}
	out->ndevices = k;
	return 0;
}

int hfw_inventory_from_files(hfw_estate *e, const hfw_trust *trust, const char *const *paths, size_t n,
			     hfw_inventory_found_fn found, void *arg, struct hfw_error *err)
{
	struct hfw_inventory_answer ans;
	struct hfw_answer a = { .doc = NULL };
	uint8_t *data = NULL;
	size_t i, len;
	int ret = 0;

	for (i = 0; i < n; i++) {
		char what[1100];

		snprintf(what, sizeof(what), "'%s'", paths[i]);
		if ((ret = hfw_file_read(&data, &len, paths[i], HFW_INVENTORY_MAX_ANSWER_BYTES, "SR 8.2 answer", err)) < 0) {
			if (ret == HFW_ELIMIT)
				ret = hfw_error_set(err, HFW_ELIMIT, "%s: more than an SR 8.2 answer's limit of %u bytes: refused",
						    what, HFW_INVENTORY_MAX_ANSWER_BYTES);
			goto out;
		}
		if ((ret = hfw_inventory_check(&a, trust, NULL, data, len, what, err)) < 0)
			goto out;
		if ((ret = hfw_inventory_apply(e, &a, &ans, err)) < 0) {
			char why[HFW_ERROR_TEXT_MAX];

			snprintf(why, sizeof(why), "%s", err->text);
			ret = hfw_error_set(err, ret, "%s: %s", what, why);
			goto out;
		}
		if (found)
			found(arg, paths[i], &ans);
		hfw_answer_release(&a);
		free(data);
		data = NULL;
	}
out:
	hfw_answer_release(&a);
	free(data);
	return ret;
}

/* Ask about one key: prepare (committed), send, check, apply; the outcome recorded as a step. */
static int ask(const struct hfw_inventory_options *o, hfw_estate *e, const struct hfw_inventory_key *key,
	       size_t *counts, struct hfw_error *err)
{
	struct hfw_request_batch b = { o->ledger, o->signer, 0 };
	struct hfw_request r;
	struct hfw_reply reply;
	struct hfw_answer a = { .doc = NULL };
	struct hfw_inventory_answer ans;
	struct hfw_error why = HFW_ERROR_INIT;
	enum hfw_delivery delivery;
	enum hfw_inventory_outcome out;
	const char *state;
	int ret;

	memset(&r, 0, sizeof(r));
	memset(&reply, 0, sizeof(reply));
	r.duis.body = HFW_BODY_READ_INVENTORY;
	r.duis.id.originator = o->user;
	r.duis.id.target = o->dcc;
	r.duis.schema_version = o->schema_version;
	r.duis.mpxn = key->mpxn;
	r.state = "signed";
	if (!key->mpxn) {
		r.duis.devices = &key->eui;
		r.duis.ndevices = 1;
		r.devices = &key->eui;
		r.device_states = &r.state;
		r.ndevices = 1;
	}
	if ((ret = hfw_request_prepare(&b, &r, 1, err)) < 0)
		return ret;
	if ((ret = hfw_request_send(o->send, o->send_arg, o->path ? o->path : "/serviceD", &r, &reply, &delivery,
				    err)) < 0) {
		/* Not sent, refused or unknown: recorded, and the run stops (the adapter is the problem). */
		struct hfw_error ignored = HFW_ERROR_INIT;

		hfw_ledger_step(o->ledger, r.request_id, delivery == HFW_OUTCOME_UNKNOWN ? "unknown" : "not_sent", NULL,
				err->text, &ignored);
		goto out;
	}
	if (hfw_inventory_check(&a, o->trust, r.request_id, reply.body, reply.len, "the DCC's answer", &why) < 0)
		out = HFW_INV_UNVERIFIED;
	else if (hfw_inventory_apply(e, &a, &ans, &why) < 0)
		out = why.code == HFW_EREJECTED ? HFW_INV_REJECTED : HFW_INV_UNVERIFIED;
	else
		out = ans.not_found ? HFW_INV_NOT_FOUND : HFW_INV_FOUND;
	state = hfw_inventory_outcome_name(out);
	if ((ret = hfw_ledger_step(o->ledger, r.request_id, state, a.vr.response_code[0] ? a.vr.response_code : NULL,
				   why.code ? why.text : NULL, err)) < 0)
		goto out;
	if (!key->mpxn && (ret = hfw_ledger_record_devices(o->ledger, r.request_id, &key->eui, &state, 1, err)) < 0)
		goto out;
	counts[out]++;
	if (o->event)
		o->event(o->event_arg, key, out, (out == HFW_INV_FOUND || out == HFW_INV_NOT_FOUND) ? &ans : NULL,
			 why.code ? why.text : NULL);
out:
	hfw_answer_release(&a);
	hfw_reply_release(&reply);
	hfw_request_release(&r);
	return ret;
}

int hfw_inventory_run(const struct hfw_inventory_options *o, hfw_estate *e, const struct hfw_inventory_key *keys,
		      size_t n, size_t *counts, struct hfw_error *err)
{
	size_t local[HFW_INV_OUTCOMES], i;
	int ret = 0;

	if (!counts)
		counts = local;
	memset(counts, 0, sizeof(local));
	for (i = 0; i < n; i++) {
		/* Answers list whole premises: a DeviceID already in one is not asked about again. */
		if (!keys[i].mpxn && hfw_estate_find(e, &keys[i].eui)) {
			counts[HFW_INV_COVERED]++;
			if (o->event)
				o->event(o->event_arg, &keys[i], HFW_INV_COVERED, NULL, NULL);
			continue;
		}
		if ((ret = ask(o, e, &keys[i], counts, err)) < 0)
			break;
	}
	return ret;
}
