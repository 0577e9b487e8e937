/* activate.c - SR 11.3 for many devices, checked before signing (see activate.h). */
#define _POSIX_C_SOURCE 200809L
#include "activate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>

#include "base64.h"
#include "buf.h"
#include "clock.h"
#include "duis.h"
#include "fileio.h"
#include "gbcs.h"
#include "xml.h"

#define BATCH_MAX 64		/* devices started in one ledger transaction */

const char *hfw_activation_outcome_name(enum hfw_activation_outcome o)
{
	static const char *const names[HFW_ACT_OUTCOMES] = {
		"pending", "sent", "dry-run", "rejected", "precommand_refused", "unverified_answer", "not_sent", "unknown",
	};

	return o < HFW_ACT_OUTCOMES ? names[o] : "unknown";
}

/* A device between its first request and its last answer. */
struct job {
	size_t i;			/* index into results */
	int cv;				/* 4: transform in flight; 5: send in flight */
	struct hfw_request_id id;
	struct hfw_buf xml;		/* the request in flight */
	struct job *next;		/* free list, or the queue of sends */
};

struct run {
	const struct hfw_activation_options *o;
	struct hfw_activation_result *r;
	size_t n, done, counts[HFW_ACT_OUTCOMES];
	struct job *jobs, *free, *sends, **sends_tail;
	char gbcs_time[HFW_GENTIME_LEN + 1];
	int in_txn;			/* a ledger transaction is open for this round's steps */
	int failed;			/* the ledger or signing failed: stop */
	struct hfw_error fatal;
};

/* Record a step, in this round's transaction. */
static void step(struct run *run, const struct job *j, const char *state, const char *code, const char *detail)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char rid[HFW_REQUEST_ID_MAX];

	if (run->failed)
		return;
	hfw_request_id_format(rid, &j->id);
	if ((!run->in_txn && hfw_ledger_begin(run->o->ledger, &err) < 0) ||
	    (run->in_txn = 1, hfw_ledger_step(run->o->ledger, rid, state, code, detail, &err) < 0)) {
		run->failed = 1;
		run->fatal = err;
	}
}

/* A device's last step: its outcome, in the ledger and the results. */
static void finish(struct run *run, struct job *j, enum hfw_activation_outcome out, const char *code,
		   const char *detail)
{
	struct hfw_activation_result *res = &run->r[j->i];
	struct hfw_error err = HFW_ERROR_INIT;
	const char *name = hfw_activation_outcome_name(out);
	char rid[HFW_REQUEST_ID_MAX];

	res->outcome = out;
	snprintf(res->code, sizeof(res->code), "%s", code ? code : "");
	if (detail && !(res->detail = strdup(detail)))
		res->detail = NULL;
	step(run, j, name, code, detail);
	hfw_request_id_format(rid, &j->id);
	if (!run->failed && hfw_ledger_record_devices(run->o->ledger, rid, &res->device, &name, 1, &err) < 0) {
		run->failed = 1;
		run->fatal = err;
	}
	run->counts[out]++;
	run->done++;
	hfw_buf_release(&j->xml);
	j->next = run->free;
	run->free = j;
}

/* The DCC's answer: verified, about this request.  Returns its ResponseCode, or NULL having finished the job. */
static const char *answer(struct run *run, struct job *j, const struct hfw_reply *reply, enum hfw_delivery delivery,
			  const struct hfw_error *terr, xmlDocPtr *doc, struct hfw_verify_result *vr)
{
	struct hfw_verify_options vo = { run->o->trust, 1, 0, NULL, NULL, 0 };
	struct hfw_error err = HFW_ERROR_INIT;
	char rid[HFW_REQUEST_ID_MAX];

	if (delivery != HFW_DELIVERED) {
		finish(run, j, delivery == HFW_OUTCOME_UNKNOWN ? HFW_ACT_UNKNOWN : HFW_ACT_NOT_SENT, NULL, terr->text);
		return NULL;
	}
	vo.doc_out = doc;
	hfw_request_id_format(rid, &j->id);
	if (hfw_xmldsig_verify(vr, (const uint8_t *)reply->body, reply->len, &vo, &err) < 0) {
		finish(run, j, HFW_ACT_UNVERIFIED, NULL, err.text);
		return NULL;
	}
	if (!vr->is_signed && vr->response_code[0] != 'E') {
		finish(run, j, HFW_ACT_UNVERIFIED, NULL, "the DCC's answer is not signed");
		return NULL;
	}
	if (strcmp(vr->request_id, rid) != 0) {
		snprintf(err.text, sizeof(err.text), "the DCC answered RequestID '%.80s'", vr->request_id);
		finish(run, j, HFW_ACT_UNVERIFIED, NULL, err.text);
		return NULL;
	}
	if (vr->response_code[0] == 'E') {
		finish(run, j, HFW_ACT_REJECTED, vr->response_code, NULL);
		return NULL;
	}
	return vr->response_code;
}

/* Transform answered: check the pre-command, sign it, and queue the send. */
static void on_transform(struct run *run, struct job *j, const struct hfw_reply *reply, enum hfw_delivery delivery,
			 const struct hfw_error *terr)
{
	const struct hfw_activation_options *o = run->o;
	struct hfw_verify_result vr;
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_precommand_expect e;
	struct hfw_duis_request req;
	xmlDocPtr doc = NULL;
	xmlNodePtr pc;
	xmlChar *b64 = NULL;
	uint8_t *pre = NULL, *signed_ = NULL;
	size_t plen = 0, slen = 0;
	const char *code = answer(run, j, reply, delivery, terr, &doc, &vr);

	if (!code)
		goto out;
	pc = hfw_xml_child(hfw_xml_child(hfw_xml_child(xmlDocGetRootElement(doc), HFW_NS_DUIS, "Body"), HFW_NS_DUIS,
					 "ResponseMessage"), HFW_NS_DUIS, "PreCommand");
	b64 = pc ? xmlNodeGetContent(hfw_xml_child(pc, HFW_NS_DUIS, "GBCSPayload")) : NULL;
	if (strcmp(code, "I0") != 0 || !b64 ||
	    hfw_base64_decode(&pre, &plen, (const char *)b64, strlen((const char *)b64), "GBCSPayload", &err) < 0) {
		finish(run, j, HFW_ACT_UNVERIFIED, code, b64 ? err.text : "the DCC's answer to the transform has no PreCommand");
		goto out;
	}
	/* The whole point: sign only exactly what was asked for. */
	memset(&e, 0, sizeof(e));
	e.originator = o->user;
	e.recipient = run->r[j->i].device;
	e.counter = j->id.counter;
	memcpy(e.hash, o->hash, 32);
	e.time = o->execution_datetime ? run->gbcs_time : NULL;
	if (hfw_cs06_check_precommand(pre, plen, &e, &err) < 0) {
		finish(run, j, HFW_ACT_PRECOMMAND_REFUSED, code, err.text);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.body = HFW_BODY_SIGNED_PRECOMMAND;
	req.id = j->id;
	req.schema_version = o->schema_version;
	j->xml.len = 0;
	if (hfw_gbcs_sign_precommand(&signed_, &slen, o->gbcs_key, pre, plen, &err) < 0 ||
	    (req.gbcs_payload = signed_, req.gbcs_len = slen,
	     hfw_duis_sign_request(&j->xml, o->signer, &req, NULL, &err) < 0)) {
		run->failed = 1;
		run->fatal = err;
		goto out;
	}
	step(run, j, "precommand_signed", code, NULL);
	j->cv = 5;
	j->next = NULL;
	*run->sends_tail = j;
	run->sends_tail = &j->next;
out:
	xmlFree(b64);
	free(pre);
	free(signed_);
	xmlFreeDoc(doc);
}

static void on_done(void *arg, void *tag, struct hfw_reply *reply, enum hfw_delivery delivery,
		    const struct hfw_error *terr)
{
	struct run *run = arg;
	struct job *j = tag;
	struct hfw_verify_result vr;
	xmlDocPtr doc = NULL;
	const char *code;

	if (j->cv == 4) {
		on_transform(run, j, reply, delivery, terr);
		return;
	}
	if ((code = answer(run, j, reply, delivery, terr, &doc, &vr))) {
		if (strcmp(code, "I99") == 0)
			finish(run, j, HFW_ACT_SENT, code, NULL);
		else
			finish(run, j, HFW_ACT_UNVERIFIED, code, "the DCC's answer is not I99");
	}
	xmlFreeDoc(doc);
}

/* Start up to k devices from *next: counters, signed transform requests and their records in one commit. */
static int start(struct run *run, size_t *next, size_t k, struct hfw_error *err)
{
	const struct hfw_activation_options *o = run->o;
	struct job *started[BATCH_MAX];
	struct hfw_ledger_request rec;
	struct hfw_duis_request req;
	uint64_t first;
	size_t i, taken = 0;
	int ret;

	if ((ret = hfw_ledger_begin(o->ledger, err)) < 0)
		return ret;
	if ((ret = hfw_ledger_reserve(o->ledger, &o->user, hfw_now_ms(), (unsigned)k, &first, err)) < 0)
		goto rollback;
	for (i = 0; i < k; i++) {
		struct job *j = run->free;
		char rid[HFW_REQUEST_ID_MAX];
		const char *name = o->read_version ? "signed" : "transform_signed";

		run->free = j->next;
		started[taken++] = j;
		j->i = *next + i;
		j->cv = o->read_version ? 1 : 4;
		j->id.originator = o->user;
		j->id.target = run->r[j->i].device;
		j->id.counter = first + i;
		j->xml = (struct hfw_buf)HFW_BUF_INIT(HFW_MAX_DUIS_BYTES);
		memset(&req, 0, sizeof(req));
		req.body = o->read_version ? HFW_BODY_READ_FIRMWARE_VERSION : HFW_BODY_ACTIVATE_FIRMWARE;
		req.id = j->id;
		req.schema_version = o->schema_version;
		if (!o->read_version) {
			req.execution_datetime = o->execution_datetime;
			memcpy(req.firmware_hash, o->hash, 32);
		}
		memset(&rec, 0, sizeof(rec));
		if ((ret = hfw_duis_sign_request(&j->xml, o->signer, &req, rec.body_sha256, err)) < 0)
			goto rollback;
		hfw_request_id_format(rid, &j->id);
		snprintf(run->r[j->i].request_id, sizeof(run->r[j->i].request_id), "%s", rid);
		rec.id = j->id;
		rec.service_reference = o->read_version ? "11.2" : "11.3";
		rec.command_variant = j->cv;
		rec.state = o->dry_run_dir ? "dry-run" : name;
		if ((ret = hfw_ledger_record(o->ledger, &rec, 1, err)) < 0 ||
		    (ret = hfw_ledger_record_devices(o->ledger, rid, &j->id.target, &name, 1, err)) < 0 ||
		    (ret = hfw_ledger_campaign_request(o->ledger, rid, o->campaign, o->read_version ? "read-version" : "activate",
						       o->device_type, o->firmware_version, o->read_version ? NULL : o->hash,
						       err)) < 0)
			goto rollback;
	}
	if ((ret = hfw_ledger_commit(o->ledger, err)) < 0)
		goto rollback;
	*next += k;
	for (i = 0; i < k; i++) {
		struct job *j = started[i];

		if (o->dry_run_dir) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/request-%llu.xml", o->dry_run_dir, (unsigned long long)j->id.counter);
			if ((ret = hfw_file_write_atomic(path, j->xml.data, j->xml.len, err)) < 0)
				return ret;
			finish(run, j, HFW_ACT_DRY_RUN, NULL, NULL);
		} else if ((ret = hfw_pool_post(o->pool, j->cv == 1 ? "/serviceS" : "/serviceT", j->xml.data, j->xml.len, j,
						 err)) < 0) {
			return ret;
		}
	}
	return 0;
rollback:
	hfw_ledger_rollback(o->ledger);
	/* Give the jobs back; their devices stay pending. */
	for (i = 0; i < taken; i++) {
		hfw_buf_release(&started[i]->xml);
		run->r[started[i]->i].request_id[0] = '\0';
		started[i]->next = run->free;
		run->free = started[i];
	}
	return ret;
}

int hfw_activation_run(const struct hfw_activation_options *o, struct hfw_activation_result *results, size_t n,
		       size_t *counts, struct hfw_error *err)
{
	struct run run;
	size_t next = 0, slots = o->pool ? hfw_pool_free_slots(o->pool) : BATCH_MAX, i;
	int64_t next_start = hfw_monotonic_ms(), last_progress = 0;
	int ret = 0;

	memset(&run, 0, sizeof(run));
	run.o = o;
	run.r = results;
	run.n = n;
	run.sends_tail = &run.sends;
	for (i = 0; i < n; i++)
		results[i].outcome = HFW_ACT_PENDING;
	if (!o->read_version && o->execution_datetime &&
	    (ret = hfw_cs06_time_from_duis(run.gbcs_time, NULL, o->execution_datetime, err)) < 0)
		return ret;
	if (!(run.jobs = calloc(slots, sizeof(*run.jobs))))
		return hfw_error_oom(err);
	for (i = 0; i < slots; i++) {
		run.jobs[i].next = run.free;
		run.free = &run.jobs[i];
	}
	while (run.done < n) {
		size_t k = 0;
		long wait = 100;

		/* New devices: into the free slots, no faster than the rate. */
		for (struct job *f = run.free; f && k < BATCH_MAX && next + k < n; f = f->next)
			k++;
		if (k && o->rate > 0) {
			int64_t now = hfw_monotonic_ms();

			if (now < next_start) {
				wait = (long)(next_start - now);
				k = 0;
			} else {
				/* Never catching up after a stall: starts stay 1/rate apart. */
				k = 1;
				next_start = now + (int64_t)(1000.0 / o->rate + 0.5);
				wait = (long)(next_start - now);
			}
		}
		if (k && (ret = start(&run, &next, k, err)) < 0)
			goto out;
		if (o->pool)
			hfw_pool_run(o->pool, wait < 100 ? wait : 100, on_done, &run);
		/* This round's steps are durable before any send they lead to goes out. */
		if (run.in_txn) {
			run.in_txn = 0;
			if (!run.failed && hfw_ledger_commit(o->ledger, &run.fatal) < 0)
				run.failed = 1;
			if (run.failed)
				hfw_ledger_rollback(o->ledger);
		}
		if (run.failed) {
			ret = hfw_error_set(err, run.fatal.code ? run.fatal.code : HFW_ERROR, "%s", run.fatal.text);
			goto out;
		}
		while (run.sends) {
			struct job *j = run.sends;

			run.sends = j->next;
			if ((ret = hfw_pool_post(o->pool, "/serviceS", j->xml.data, j->xml.len, j, err)) < 0)
				goto out;
		}
		run.sends_tail = &run.sends;
		if (o->progress && hfw_monotonic_ms() - last_progress >= 200) {
			last_progress = hfw_monotonic_ms();
			o->progress(o->progress_arg, run.done, n, run.counts);
		}
	}
	if (o->progress)
		o->progress(o->progress_arg, run.done, n, run.counts);
out:
	if (counts)
		memcpy(counts, run.counts, sizeof(run.counts));
	for (i = 0; i < slots; i++)
		hfw_buf_release(&run.jobs[i].xml);
	free(run.jobs);
	return ret;
}

void hfw_activation_results_release(struct hfw_activation_result *results, size_t n)
{
	size_t i;

	for (i = 0; results && i < n; i++) {
		free(results[i].detail);
		results[i].detail = NULL;
	}
}
