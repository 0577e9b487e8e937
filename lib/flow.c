/* flow.c - the engine of the per-device flows (see flow.h). */
#include "flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define BATCH_MAX 64		/* devices started in one ledger transaction */

const char *hfw_flow_outcome_name(enum hfw_flow_outcome o)
{
	static const char *const names[HFW_FLOW_OUTCOMES] = {
		"pending", "sent", "dry-run", "rejected", "precommand_refused", "unverified_answer", "not_sent", "unknown",
	};

	return o < HFW_FLOW_OUTCOMES ? names[o] : "unknown";
}

struct hfw_flow {
	const struct hfw_flow_options *o;
	const struct hfw_flow_steps *s;
	struct hfw_flow_result *r;
	size_t n, done, counts[HFW_FLOW_OUTCOMES];
	struct hfw_flow_job *jobs, *free, *sends, **sends_tail;
	int in_txn;			/* a ledger transaction is open for this round's steps */
	int failed;			/* the ledger or signing failed: stop */
	struct hfw_error fatal;
};

const struct hfw_eui *hfw_flow_device(const hfw_flow *f, const struct hfw_flow_job *j)
{
	return &f->r[j->i].device;
}

void hfw_flow_fail(hfw_flow *f, const struct hfw_error *err)
{
	if (!f->failed) {
		f->failed = 1;
		f->fatal = *err;
	}
}

/* Record a step, in this round's transaction. */
static void step(hfw_flow *f, const struct hfw_flow_job *j, const char *state, const char *code, const char *detail)
{
	struct hfw_error err = HFW_ERROR_INIT;

	if (f->failed)
		return;
	if ((!f->in_txn && hfw_ledger_begin(f->o->ledger, &err) < 0) ||
	    (f->in_txn = 1, hfw_ledger_step(f->o->ledger, j->req.request_id, state, code, detail, &err) < 0))
		hfw_flow_fail(f, &err);
}

void hfw_flow_finish(hfw_flow *f, struct hfw_flow_job *j, enum hfw_flow_outcome out, const char *code,
		     const char *detail)
{
	struct hfw_flow_result *res = &f->r[j->i];
	struct hfw_error err = HFW_ERROR_INIT;
	const char *name = hfw_flow_outcome_name(out);

	res->outcome = out;
	snprintf(res->code, sizeof(res->code), "%s", code ? code : "");
	if (detail && !(res->detail = strdup(detail)))
		res->detail = NULL;
	step(f, j, name, code, detail);
	if (!f->failed && hfw_ledger_record_devices(f->o->ledger, j->req.request_id, &res->device, &name, 1, &err) < 0)
		hfw_flow_fail(f, &err);
	f->counts[out]++;
	f->done++;
	hfw_request_release(&j->req);
	j->next = f->free;
	f->free = j;
}

void hfw_flow_follow(hfw_flow *f, struct hfw_flow_job *j, const char *state, const char *code, const char *path)
{
	/* Not sent before this round's commit, which hfw_flow_run makes. */
	j->req.committed = 0;
	j->path = path;
	step(f, j, state, code, NULL);
	j->next = NULL;
	*f->sends_tail = j;
	f->sends_tail = &j->next;
}

static void on_done(void *arg, void *tag, struct hfw_reply *reply, enum hfw_delivery delivery,
		    const struct hfw_error *terr)
{
	hfw_flow *f = arg;
	struct hfw_flow_job *j = tag;
	struct hfw_answer a = { .doc = NULL };
	struct hfw_error err = HFW_ERROR_INIT;

	if (delivery != HFW_DELIVERED) {
		hfw_flow_finish(f, j, delivery == HFW_OUTCOME_UNKNOWN ? HFW_FLOW_UNKNOWN : HFW_FLOW_NOT_SENT, NULL,
				terr->text);
		return;
	}
	/* The answer must be the DCC's, about this request. */
	if (hfw_request_check_answer(&a, f->o->trust, j->req.request_id, reply->body, reply->len, &err) < 0)
		hfw_flow_finish(f, j, HFW_FLOW_UNVERIFIED, NULL, err.text);
	else if (a.vr.response_code[0] == 'E')
		hfw_flow_finish(f, j, HFW_FLOW_REJECTED, a.vr.response_code, NULL);
	else
		f->s->answered(f->s->arg, f, j, &a);
	hfw_answer_release(&a);
}

/* Start k devices from *next: counters, signed first requests and their records in one commit. */
static int start(hfw_flow *f, size_t *next, size_t k, struct hfw_error *err)
{
	const struct hfw_flow_options *o = f->o;
	struct hfw_request_batch b = { o->ledger, o->signer, o->dry_run_dir != NULL };
	struct hfw_request reqs[BATCH_MAX];
	struct hfw_flow_job *started[BATCH_MAX];
	size_t i;
	int ret;

	for (i = 0; i < k; i++) {
		struct hfw_request *r = &reqs[i];

		memset(r, 0, sizeof(*r));
		r->duis.id.originator = o->user;
		r->duis.id.target = f->r[*next + i].device;
		r->duis.schema_version = o->schema_version;
		r->state = "signed";
		r->devices = &f->r[*next + i].device;
		r->device_states = &r->state;
		r->ndevices = 1;
		r->campaign = o->campaign;
		r->device_type = o->device_type;
		r->firmware_version = o->firmware_version;
		f->s->first(f->s->arg, r);
	}
	if ((ret = hfw_request_prepare(&b, reqs, k, err)) < 0)
		return ret;	/* rolled back: the devices stay pending */
	for (i = 0; i < k; i++) {
		struct hfw_flow_job *j = f->free;

		f->free = j->next;
		started[i] = j;
		j->i = *next + i;
		j->step = f->s->first_step;
		j->path = f->s->first_path;
		j->req = reqs[i];
		j->req.devices = NULL;
		j->req.device_states = NULL;
		snprintf(f->r[j->i].request_id, sizeof(f->r[j->i].request_id), "%s", j->req.request_id);
	}
	*next += k;
	for (i = 0; i < k; i++) {
		struct hfw_flow_job *j = started[i];

		if (o->dry_run_dir) {
			if ((ret = hfw_request_write_dry_run(o->dry_run_dir, &j->req, err)) < 0)
				return ret;
			hfw_flow_finish(f, j, HFW_FLOW_DRY_RUN, NULL, NULL);
		} else if ((ret = hfw_request_post(o->pool, j->path, &j->req, j, err)) < 0) {
			return ret;
		}
	}
	return 0;
}

int hfw_flow_run(const struct hfw_flow_options *o, const struct hfw_flow_steps *s, struct hfw_flow_result *results,
		 size_t n, size_t *counts, struct hfw_error *err)
{
	hfw_flow f;
	size_t next = 0, slots = o->pool ? hfw_pool_free_slots(o->pool) : BATCH_MAX, i;
	int64_t next_start = hfw_monotonic_ms(), last_progress = 0;
	int ret = 0;

	memset(&f, 0, sizeof(f));
	f.o = o;
	f.s = s;
	f.r = results;
	f.n = n;
	f.sends_tail = &f.sends;
	for (i = 0; i < n; i++)
		results[i].outcome = HFW_FLOW_PENDING;
	if (!(f.jobs = calloc(slots, sizeof(*f.jobs))))
		return hfw_error_oom(err);
	for (i = 0; i < slots; i++) {
		f.jobs[i].next = f.free;
		f.free = &f.jobs[i];
	}
	while (f.done < n) {
		size_t k = 0;
		long wait = 100;

		/* New devices: into the free slots, no faster than the rate. */
		for (struct hfw_flow_job *j = f.free; j && k < BATCH_MAX && next + k < n; j = j->next)
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
		if (k && (ret = start(&f, &next, k, err)) < 0)
			goto out;
		if (o->pool)
			hfw_pool_run(o->pool, wait < 100 ? wait : 100, on_done, &f);
		/* This round's steps are durable before any follow-up they lead to goes out. */
		if (f.in_txn) {
			f.in_txn = 0;
			if (!f.failed && hfw_ledger_commit(o->ledger, &f.fatal) < 0)
				f.failed = 1;
			if (f.failed)
				hfw_ledger_rollback(o->ledger);
		}
		if (f.failed) {
			ret = hfw_error_set(err, f.fatal.code ? f.fatal.code : HFW_ERROR, "%s", f.fatal.text);
			goto out;
		}
		while (f.sends) {
			struct hfw_flow_job *j = f.sends;

			f.sends = j->next;
			j->req.committed = 1;
			if ((ret = hfw_request_post(o->pool, j->path, &j->req, j, err)) < 0)
				goto out;
		}
		f.sends_tail = &f.sends;
		if (o->progress && hfw_monotonic_ms() - last_progress >= 200) {
			last_progress = hfw_monotonic_ms();
			o->progress(o->progress_arg, f.done, n, f.counts);
		}
	}
	if (o->progress)
		o->progress(o->progress_arg, f.done, n, f.counts);
out:
	if (counts)
		memcpy(counts, f.counts, sizeof(f.counts));
	for (i = 0; i < slots; i++)
		hfw_request_release(&f.jobs[i].req);
	free(f.jobs);
	return ret;
}

void hfw_flow_results_release(struct hfw_flow_result *results, size_t n)
{
	size_t i;

	for (i = 0; results && i < n; i++) {
		free(results[i].detail);
		results[i].detail = NULL;
	}
}
