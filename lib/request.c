/* request.c - the one lifecycle of a DUIS request (see request.h). */
#include "request.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "clock.h"
#include "fileio.h"
#include "thread.h"
#include "xml.h"

int hfw_request_prepare(const struct hfw_request_batch *b, struct hfw_request *reqs, size_t n,
			struct hfw_error *err)
{
	uint64_t first;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		reqs[i].committed = 0;
		reqs[i].xml = (struct hfw_buf)HFW_BUF_INIT(HFW_MAX_DUIS_BYTES + 64 * 1024);
		reqs[i].request_id[0] = '\0';
	}
	if (n == 0)
		return 0;
	/* Counters, signatures and records in one transaction, committed before anything leaves. */
	if ((ret = hfw_ledger_begin(b->ledger, err)) < 0)
		return ret;
	if ((ret = hfw_ledger_reserve(b->ledger, &reqs[0].duis.id.originator, hfw_now_ms(), (unsigned)n, &first,
				      err)) < 0)
		goto rollback;
	for (i = 0; i < n; i++) {
		struct hfw_request *r = &reqs[i];
		struct hfw_ledger_request rec;

		memset(&rec, 0, sizeof(rec));
		r->duis.id.originator = reqs[0].duis.id.originator;
		r->duis.id.counter = first + i;
		if ((ret = hfw_duis_sign_request(&r->xml, b->signer, &r->duis, rec.body_sha256, err)) < 0)
			goto rollback;
		hfw_request_id_format(r->request_id, &r->duis.id);
		rec.id = r->duis.id;
		rec.service_reference = hfw_duis_service_reference(r->duis.body);
		rec.command_variant = hfw_duis_command_variant(r->duis.body);
		rec.state = b->dry_run ? "dry-run" : r->state;
		if ((ret = hfw_ledger_record(b->ledger, &rec, 1, err)) < 0 ||
		    (r->ndevices &&
		     (ret = hfw_ledger_record_devices(b->ledger, r->request_id, r->devices, r->device_states,
						      r->ndevices, err)) < 0) ||
		    (r->action &&
		     (ret = hfw_ledger_campaign_request(b->ledger, r->request_id, r->campaign, r->action, r->device_type,
							r->firmware_version, r->firmware_hash,
							err)) < 0))
			goto rollback;
	}
	if ((ret = hfw_ledger_commit(b->ledger, err)) < 0)
		goto rollback;
	for (i = 0; i < n; i++)
		reqs[i].committed = 1;
	return 0;
rollback:
	hfw_ledger_rollback(b->ledger);
	for (i = 0; i < n; i++) {
		hfw_buf_release(&reqs[i].xml);
		reqs[i].request_id[0] = '\0';
	}
	return ret;
}

static int refuse_uncommitted(const struct hfw_request *r, struct hfw_error *err)
{
	return hfw_error_set(err, HFW_ERROR, "request %s is not committed to the ledger: not sent",
			     r->request_id[0] ? r->request_id : "(unsigned)");
}

int hfw_request_write_dry_run(const char *dir, const struct hfw_request *r, struct hfw_error *err)
{
	char path[4096];

	if (!r->committed)
		return refuse_uncommitted(r, err);
	snprintf(path, sizeof(path), "%s/request-%llu.xml", dir, (unsigned long long)r->duis.id.counter);
	return hfw_file_write_atomic(path, r->xml.data, r->xml.len, err);
}

int hfw_request_send(hfw_request_send_fn send, void *arg, const char *path, const struct hfw_request *r,
		     struct hfw_reply *reply, enum hfw_delivery *delivery, struct hfw_error *err)
{
	*delivery = HFW_NOT_SENT;
	if (!r->committed)
		return refuse_uncommitted(r, err);
	if (send)
		return send(arg, path, r, reply, delivery, err);
	return hfw_transport_post(arg, path, r->xml.data, r->xml.len, reply, delivery, err);
}

int hfw_request_post(hfw_transport_pool *pool, const char *path, const struct hfw_request *r, void *tag,
		     struct hfw_error *err)
{
	if (!r->committed)
		return refuse_uncommitted(r, err);
	return hfw_pool_post(pool, path, r->xml.data, r->xml.len, tag, err);
}

int hfw_request_check_answer(struct hfw_answer *a, const hfw_trust *trust, const char *request_id,
			     const void *body, size_t len, struct hfw_error *err)
{
	struct hfw_verify_options vo = { trust, 1, 0, NULL, NULL, 0 };
	int ret;

	a->doc = NULL;
	vo.doc_out = &a->doc;
	if ((ret = hfw_xmldsig_verify(&a->vr, body, len, &vo, err)) < 0)
		return ret;
	/* The DCC does not sign its E-code rejections; anything else unsigned is not the DCC's. */
	if (!a->vr.is_signed && a->vr.response_code[0] != 'E')
		return hfw_error_set(err, HFW_EVERIFY, "the DCC's answer to %s is not signed", request_id);
	if (strcmp(a->vr.request_id, request_id) != 0)
		return hfw_error_set(err, HFW_EVERIFY, "the DCC answered RequestID '%.80s', not %s", a->vr.request_id,
				     request_id);
	return 0;
}

void hfw_answer_release(struct hfw_answer *a)
{
	if (a) {
		xmlFreeDoc(a->doc);
		a->doc = NULL;
	}
}

void hfw_request_release(struct hfw_request *r)
{
	if (r) {
		hfw_buf_release(&r->xml);
		r->committed = 0;
	}
}

/* What a batch keeps of one document from its parse to its record. */
struct pending {
	struct hfw_sign_item *it;
	const struct hfw_request_sign_options *o;
	const hfw_signer *signer;
	xmlDocPtr doc;
	xmlNodePtr rid;		/* its Header/RequestID, in doc */
	struct hfw_request_id id;
	char service_reference[16];
	int command_variant;
	uint8_t body_sha256[HFW_SHA256_LEN];
};

static int header_text(xmlNodePtr hdr, const char *name, char *out, size_t size)
{
	xmlNodePtr n = hfw_xml_child(hdr, HFW_NS_DUIS, name);
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;

	out[0] = '\0';
	if (!t)
		return -1;
	snprintf(out, size, "%s", (const char *)t);
	xmlFree(t);
	return 0;
}

/* The RequestID, checked against the signer, and what the ledger records of the request. */
static int read_request(struct pending *p, struct hfw_error *err)
{
	xmlNodePtr hdr = hfw_xml_child(xmlDocGetRootElement(p->doc), HFW_NS_DUIS, "Header");
	char text[128], signer_eui[HFW_EUI_TEXT_MAX], cv[8];
	struct hfw_eui se;
	int ret;

	if (!(p->rid = hfw_xml_child(hdr, HFW_NS_DUIS, "RequestID")) ||
	    header_text(hdr, "RequestID", text, sizeof(text)) < 0)
		return hfw_error_set(err, HFW_EINPUT, "request has no Header/RequestID");
	if ((ret = hfw_request_id_parse(&p->id, text, err)) < 0)
		return ret;
	header_text(hdr, "ServiceReference", p->service_reference, sizeof(p->service_reference));
	header_text(hdr, "CommandVariant", cv, sizeof(cv));
	p->command_variant = (int)strtol(cv, NULL, 10);
	snprintf(signer_eui, sizeof(signer_eui), "%s", hfw_signer_info(p->signer)->eui);
	/* The DCC picks the verifying certificate by the RequestID's originator. */
	if (!signer_eui[0] || hfw_eui_parse(&se, signer_eui, "signer EUI", err) < 0 ||
	    memcmp(&se, &p->id.originator, sizeof(se)) != 0)
		return hfw_error_set(err, HFW_EINPUT,
				     "RequestID originator %.23s is not the signer's EUI %s",
				     text, signer_eui[0] ? signer_eui : "(none in the certificate)");
	return 0;
}

/* Settle the counter in the ledger: claimed as written, or a fresh one reserved and written in. */
static int settle_counter(struct pending *p, struct hfw_error *err)
{
	char fresh[HFW_REQUEST_ID_MAX];
	xmlChar *got;
	int ret;

	if (!p->o->new_counter)
		return hfw_ledger_claim(p->o->ledger, &p->id.originator, p->id.counter, err);
	if ((ret = hfw_ledger_reserve(p->o->ledger, &p->id.originator, hfw_now_ms(), 1, &p->id.counter, err)) < 0)
		return ret;
	hfw_request_id_format(fresh, &p->id);
	xmlNodeSetContent(p->rid, (const xmlChar *)fresh);
	/* xmlNodeSetContent says nothing when it fails: the document must carry the counter recorded. */
	got = xmlNodeGetContent(p->rid);
	ret = got && strcmp((const char *)got, fresh) == 0 ? 0
		: hfw_error_set(err, HFW_ENOMEM, "cannot write the fresh RequestID %s into the request", fresh);
	xmlFree(got);
	return ret;
}

/*
 * Only a user's XML-signing certificate (role 87) may sign a Request: the
 * DCC's (89) or any other is refused before a counter is touched, naming
 * the rule (the self-verification would refuse the result, after burning
 * the counter).
 */
int hfw_request_check_signer(const hfw_signer *signer, struct hfw_error *err)
{
	const struct hfw_cert_info *ci = hfw_signer_info(signer);

	if (hfw_signer_role_of(ci) != HFW_ROLE_USER_XML)
		return hfw_error_set(err, HFW_EKEY,
				     "certificate '%s' (role %s) may not sign requests: a Request must be signed by a user's XML-signing certificate (role 87)",
				     ci->subject, ci->role[0] ? ci->role : "none");
	return 0;
}

/* Step 1, on every core: parsed, compacted, validated, its RequestID read. */
static void open_item(struct pending *p)
{
	struct hfw_sign_item *it = p->it;

	if ((it->ret = hfw_xmldsig_sign_open(&p->doc, it->xml, it->len, p->o->xsd_path, &it->err)) == 0)
		it->ret = read_request(p, &it->err);
}

/*
 * Step 2, in the documents' order, inside the batch's transaction: the
 * counter settled in its own savepoint, given back if the ledger refuses it.
 */
static int settle_item(struct pending *p)
{
	struct hfw_sign_item *it = p->it;
	struct hfw_error ignored = HFW_ERROR_INIT;
	int ret;

	if ((ret = hfw_ledger_savepoint(p->o->ledger, &it->err)) < 0)
		return ret;
	if ((ret = settle_counter(p, &it->err)) < 0) {
		hfw_ledger_savepoint_end(p->o->ledger, 0, &ignored);
		return ret;
	}
	return hfw_ledger_savepoint_end(p->o->ledger, 1, &it->err);
}

/*
 * Step 3, on every core: signed, then verified as hanfw verify would with
 * only the signer trusted.  Its counter is burned from here on, whatever
 * happens to the document.
 */
static void sign_item(struct pending *p)
{
	struct hfw_sign_item *it = p->it;
	struct hfw_sign_options so = { p->o->xsd_path, p->body_sha256, 1 };

	if ((it->ret = hfw_xmldsig_sign_tree(&it->out, &it->outlen, p->signer, p->doc, &so, &it->err)) == 0 &&
	    (it->ret = hfw_xmldsig_check_own(p->signer, it->out, it->outlen, p->o->xsd_path, &it->err)) < 0) {
		free(it->out);
		it->out = NULL;
	}
}

/* Step 4, in order: a signed, self-verified document recorded in the batch's transaction (its own savepoint). */
static int record_item(struct pending *p)
{
	struct hfw_sign_item *it = p->it;
	struct hfw_ledger_request rec;
	struct hfw_error ignored = HFW_ERROR_INIT;
	int ret;

	memset(&rec, 0, sizeof(rec));
	memcpy(rec.body_sha256, p->body_sha256, sizeof(rec.body_sha256));
	rec.id = p->id;
	rec.service_reference = p->service_reference;
	rec.command_variant = p->command_variant;
	rec.state = "signed";
	if ((ret = hfw_ledger_savepoint(p->o->ledger, &it->err)) < 0)
		return ret;
	if ((ret = hfw_ledger_record(p->o->ledger, &rec, 1, &it->err)) < 0) {
		hfw_ledger_savepoint_end(p->o->ledger, 0, &ignored);
		return ret;
	}
	if ((ret = hfw_ledger_savepoint_end(p->o->ledger, 1, &it->err)) < 0) {
		hfw_ledger_savepoint_end(p->o->ledger, 0, &ignored);	/* not handed out: not recorded either */
		return ret;
	}
	it->id = p->id;
	return 0;
}

/* Steps 1 and 3 for p[i], if it is still going (ret 0): each touches only its own item. */
static void open_nth(void *arg, size_t i)
{
	struct pending *p = arg;

	if (p[i].it->ret == 0)
		open_item(&p[i]);
}

static void sign_nth(void *arg, size_t i)
{
	struct pending *p = arg;

	if (p[i].it->ret == 0)
		sign_item(&p[i]);
}

int hfw_request_sign_batch(const hfw_signer *signer, struct hfw_sign_item *items, size_t n,
			   const struct hfw_request_sign_options *o, struct hfw_error *err)
{
	struct pending *p = NULL;
	size_t i, k = 0;
	int ret;

	for (i = 0; i < n; i++) {
		items[i].out = NULL;
		items[i].outlen = 0;
		memset(&items[i].id, 0, sizeof(items[i].id));
		if (items[i].xml) {
			items[i].ret = 0;
			items[i].err = (struct hfw_error)HFW_ERROR_INIT;
		}
	}
	if ((ret = hfw_request_check_signer(signer, err)) < 0)
		return ret;
	if (n && !(p = calloc(n, sizeof(*p))))
		return hfw_error_set(err, HFW_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		if (items[i].xml)
			p[k++] = (struct pending){ .it = &items[i], .o = o, .signer = signer };
	/*
	 * Every counter and record of the batch in one transaction, committed
	 * (one sync) before any signed document is handed back.  Counters are
	 * settled in the documents' order; the work before and after that
	 * (steps 1 and 3) runs on every core, and only what passed its own
	 * verification is recorded.
	 */
	hfw_thread_for(k, open_nth, p);
	if ((ret = hfw_ledger_begin(o->ledger, err)) < 0)
		goto out;
	for (i = 0; i < k; i++)
		if (p[i].it->ret == 0)
			p[i].it->ret = settle_item(&p[i]);
	hfw_thread_for(k, sign_nth, p);
	for (i = 0; i < k; i++)
		if (p[i].it->ret == 0 && (p[i].it->ret = record_item(&p[i])) < 0) {
			free(p[i].it->out);
			p[i].it->out = NULL;
		}
	if ((ret = hfw_ledger_commit(o->ledger, err)) < 0) {
		for (i = 0; i < n; i++) {
			free(items[i].out);
			items[i].out = NULL;
		}
	}
out:
	for (i = 0; i < k; i++)
		xmlFreeDoc(p[i].doc);
	free(p);
	return ret;
}

int hfw_request_sign_document(char **out, size_t *outlen, struct hfw_request_id *id,
			   const hfw_signer *signer, const uint8_t *xml, size_t len,
			   const struct hfw_request_sign_options *o, struct hfw_error *err)
{
	struct hfw_sign_item it;
	int ret;

	*out = NULL;
	memset(&it, 0, sizeof(it));
	it.xml = xml;
	it.len = len;
	if ((ret = hfw_request_sign_batch(signer, &it, 1, o, err)) < 0)
		return ret;
	if (it.ret < 0) {
		*err = it.err;
		return it.ret;
	}
	*out = it.out;
	*outlen = it.outlen;
	*id = it.id;
	return 0;
}
