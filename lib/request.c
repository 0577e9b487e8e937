/* request.c - the one lifecycle of a DUIS request (see request.h). */
#include "request.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/tree.h>

#include "clock.h"
#include "fileio.h"
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

struct prepare_state {
	const hfw_signer *signer;
	const struct hfw_request_sign_options *o;
	struct hfw_request_id id;
	char service_reference[16];
	int command_variant;
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

/* Check the RequestID against the signer, and settle its counter in the ledger. */
static int prepare_request(void *arg, xmlDocPtr doc, struct hfw_error *err)
{
	struct prepare_state *ps = arg;
	xmlNodePtr hdr = hfw_xml_child(xmlDocGetRootElement(doc), HFW_NS_DUIS, "Header"), rid;
	char text[128], signer_eui[HFW_EUI_TEXT_MAX], cv[8];
	struct hfw_eui se;
	int ret;

	if (!(rid = hfw_xml_child(hdr, HFW_NS_DUIS, "RequestID")) ||
	    header_text(hdr, "RequestID", text, sizeof(text)) < 0)
		return hfw_error_set(err, HFW_EINPUT, "request has no Header/RequestID");
	if ((ret = hfw_request_id_parse(&ps->id, text, err)) < 0)
		return ret;
	header_text(hdr, "ServiceReference", ps->service_reference, sizeof(ps->service_reference));
	header_text(hdr, "CommandVariant", cv, sizeof(cv));
	ps->command_variant = (int)strtol(cv, NULL, 10);
	snprintf(signer_eui, sizeof(signer_eui), "%s", hfw_signer_info(ps->signer)->eui);
	/* The DCC picks the verifying certificate by the RequestID's originator. */
	if (!signer_eui[0] || hfw_eui_parse(&se, signer_eui, "signer EUI", err) < 0 ||
	    memcmp(&se, &ps->id.originator, sizeof(se)) != 0)
		return hfw_error_set(err, HFW_EINPUT,
				     "RequestID originator %.23s is not the signer's EUI %s",
				     text, signer_eui[0] ? signer_eui : "(none in the certificate)");
	if (ps->o->new_counter) {
		char fresh[HFW_REQUEST_ID_MAX];

		if ((ret = hfw_ledger_reserve(ps->o->ledger, &ps->id.originator, hfw_now_ms(), 1,
					      &ps->id.counter, err)) < 0)
			return ret;
		hfw_request_id_format(fresh, &ps->id);
		xmlNodeSetContent(rid, (const xmlChar *)fresh);
		return 0;
	}
	return hfw_ledger_claim(ps->o->ledger, &ps->id.originator, ps->id.counter, err);
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

/* What a batch keeps of one document between signing it and recording it. */
struct pending {
	struct prepare_state ps;
	uint8_t body_sha256[HFW_SHA256_LEN];
	const char *xsd_path;
	const hfw_signer *signer;
	struct hfw_sign_item *it;
};

/*
 * One document of a batch, inside the batch's transaction and its own
 * savepoint: settle its counter and sign it.  Its self-verification comes
 * later, outside the ledger (check_all), so it can run on every core.
 */
static int sign_item(const hfw_signer *signer, struct pending *p, const struct hfw_request_sign_options *o)
{
	struct hfw_sign_item *it = p->it;
	int signed_over = 0, ret;
	struct hfw_sign_options so = { o->xsd_path, prepare_request, &p->ps, p->body_sha256, &signed_over, 1 };
	struct hfw_error ignored = HFW_ERROR_INIT;

	p->ps = (struct prepare_state){ signer, o, { { { 0 } }, { { 0 } }, 0 }, "", 0 };
	p->xsd_path = o->xsd_path;
	p->signer = signer;
	if ((ret = hfw_ledger_savepoint(o->ledger, &it->err)) < 0)
		return ret;
	if ((ret = hfw_xmldsig_sign_document(&it->out, &it->outlen, signer, it->xml, it->len, &so, &it->err)) < 0) {
		/*
		 * A counter that was signed over is burned even if the result is
		 * refused (here or by its self-verification) and never handed
		 * out: the counter stays, the request is not recorded.  One
		 * refused before signing is given back.
		 */
		hfw_ledger_savepoint_end(o->ledger, signed_over, &ignored);
		return ret;
	}
	if ((ret = hfw_ledger_savepoint_end(o->ledger, 1, &it->err)) < 0) {
		free(it->out);
		it->out = NULL;
	}
	return ret;
}

/* Record a signed, self-verified document in the batch's transaction (its own savepoint). */
static int record_item(struct pending *p, const struct hfw_request_sign_options *o)
{
	struct hfw_sign_item *it = p->it;
	struct hfw_ledger_request rec;
	struct hfw_error ignored = HFW_ERROR_INIT;
	int ret;

	memset(&rec, 0, sizeof(rec));
	memcpy(rec.body_sha256, p->body_sha256, sizeof(rec.body_sha256));
	rec.id = p->ps.id;
	rec.service_reference = p->ps.service_reference;
	rec.command_variant = p->ps.command_variant;
	rec.state = "signed";
	if ((ret = hfw_ledger_savepoint(o->ledger, &it->err)) < 0)
		return ret;
	if ((ret = hfw_ledger_record(o->ledger, &rec, 1, &it->err)) < 0) {
		hfw_ledger_savepoint_end(o->ledger, 0, &ignored);
		return ret;
	}
	if ((ret = hfw_ledger_savepoint_end(o->ledger, 1, &it->err)) < 0) {
		hfw_ledger_savepoint_end(o->ledger, 0, &ignored);	/* not handed out: not recorded either */
		return ret;
	}
	it->id = p->ps.id;
	return 0;
}

struct checker {
	struct pending *p;
	size_t n, first, step;
};

/* Self-verify items first, first + step, ...: each touches only its own item. */
static void *check_some(void *arg)
{
	const struct checker *c = arg;
	size_t i;

	for (i = c->first; i < c->n; i += c->step) {
		struct hfw_sign_item *it = c->p[i].it;

		if (it->ret == 0 && it->out &&
		    (it->ret = hfw_xmldsig_check_own(c->p[i].signer, it->out, it->outlen, c->p[i].xsd_path,
						     &it->err)) < 0) {
			free(it->out);
			it->out = NULL;
		}
	}
	return NULL;
}

/*
 * The self-verifications of a batch, on up to HFW_SIGN_THREADS threads (the
 * online cores): two thirds of a signature's cost is verifying it again,
 * and it needs nothing but the signer and the text.  A thread that cannot
 * start leaves its share to this one.
 */
#define HFW_SIGN_THREADS 8
static void check_all(struct pending *p, size_t n)
{
	pthread_t tid[HFW_SIGN_THREADS];
	struct checker c[HFW_SIGN_THREADS];
	long cores = n > 1 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;	/* one document: no thread, no /sys read */
	size_t k, t, started = 0;

	k = cores < 1 ? 1 : cores > HFW_SIGN_THREADS ? HFW_SIGN_THREADS : (size_t)cores;
	if (k > n)
		k = n ? n : 1;
	for (t = 0; t < k; t++)
		c[t] = (struct checker){ p, n, t, k };
	for (t = 1; t < k; t++) {
		if (pthread_create(&tid[t], NULL, check_some, &c[t]) != 0)
			break;
		started = t;
	}
	for (t = started + 1; t < k; t++)	/* not started: done here */
		check_some(&c[t]);
	check_some(&c[0]);
	for (t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
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
	/*
	 * Every counter and record of the batch in one transaction, committed
	 * (one sync) before any signed document is handed back.  Counters are
	 * settled in the documents' order; only the self-verifications run in
	 * parallel, and only what passed its own is recorded.
	 */
	if ((ret = hfw_ledger_begin(o->ledger, err)) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (items[i].xml) {
			p[k].it = &items[i];
			items[i].ret = sign_item(signer, &p[k], o);
			k++;
		}
	check_all(p, k);
	for (i = 0; i < k; i++)
		if (p[i].it->ret == 0 && (p[i].it->ret = record_item(&p[i], o)) < 0) {
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
