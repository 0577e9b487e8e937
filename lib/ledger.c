/*
 * ledger.c - the ledger's front: opens the backend the ledger setting names
 * (a path: SQLite, ledger_sqlite.c; a postgresql:// URI: PostgreSQL,
 * ledger_pg.c) and hands every call to it, so no caller knows which one
 * holds the ledger.  Also what works across backends: copying a ledger
 * from one to another, verified.
 */
#include "ledger_backend.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

/* ---- the tables a copy moves (everything but meta and schema_version, which opening makes) ---- */

#define COLS(...) (const char *const[]){ __VA_ARGS__ }, sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

const struct hfw_ledger_table hfw_ledger_tables[] = {
	{ "counters", COLS("originator", "last"), "originator", "originator COLLATE \"C\"" },
	{ "requests", COLS("request_id", "originator", "target", "counter", "service_reference", "command_variant",
			   "body_sha256", "created", "state", "response_code"),
	  "request_id", "request_id COLLATE \"C\"" },
	{ "request_devices", COLS("request_id", "device", "outcome"), "request_id, device",
	  "request_id COLLATE \"C\", device COLLATE \"C\"" },
	/* Tables read in the order their rows were made: rowid in SQLite, seq in PostgreSQL. */
	{ "request_steps", COLS("request_id", "at", "state", "response_code", "detail"), "rowid", "seq" },
	{ "campaign_requests", COLS("request_id", "campaign", "action", "device_type", "firmware_version",
				    "firmware_hash"), "rowid", "seq" },
	{ "messages", COLS("id", "key", "received", "request_id", "kind", "response_code", "duplicates", "raw",
			   "decoded"), "id", "id" },
	{ "quarantine", COLS("id", "received", "reason", "raw", "sender", "size", "sha256"), "id", "id" },
	{ "quarantine_counts", COLS("reason", "count", "bytes", "first", "last"), "reason", "reason COLLATE \"C\"" },
	{ "device_events", COLS("message_id", "device", "request_id", "event", "detail", "at"), "rowid", "seq" },
	{ "run_campaigns", COLS("name", "plan_path", "plan_sha256", "state", "reason", "wave", "wave_started_ms",
				"gate_passed", "min_canary", "min_wave", "wave_timeout_s", "updated"),
	  "name", "name COLLATE \"C\"" },
	{ "run_devices", COLS("campaign", "device", "wave", "image", "step", "reason", "attempts", "updated"),
	  "campaign, device", "campaign COLLATE \"C\", device COLLATE \"C\"" },
	{ "run_redrive", COLS("campaign", "device", "step", "attempts", "seen_ms", "due_ms", "redrives"),
	  "campaign, device", "campaign COLLATE \"C\", device COLLATE \"C\"" },
};
const size_t hfw_ledger_ntables = sizeof(hfw_ledger_tables) / sizeof(hfw_ledger_tables[0]);

int hfw_ledger_is_uri(const char *where)
{
	return where && (strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0);
}

int hfw_ledger_open(hfw_ledger **out, const char *path, struct hfw_error *err)
{
	*out = NULL;
	if (hfw_ledger_is_uri(path))
		return hfw_ledger_pg_open(out, path, 0, err);
	return hfw_ledger_sqlite_open(out, path, err);
}

int hfw_ledger_open_current(hfw_ledger **out, const char *path, struct hfw_error *err)
{
	*out = NULL;
	if (hfw_ledger_is_uri(path))
		return 1;
	return hfw_ledger_sqlite_open_current(out, path, err);
}

int hfw_ledger_open_existing(hfw_ledger **out, const char *path, struct hfw_error *err)
{
	*out = NULL;
	if (hfw_ledger_is_uri(path))
		return hfw_ledger_pg_open(out, path, 1, err);
	return hfw_ledger_sqlite_open(out, path, err);
}

void hfw_ledger_close(hfw_ledger *l)
{
	if (l)
		l->ops->close(l);
}

/* Append [p, p + n) to out (size), keeping it terminated; *o is how much is there. */
static void put(char *out, size_t size, size_t *o, const char *p, size_t n)
{
	if (*o + 1 >= size)
		return;
	if (n > size - 1 - *o)
		n = size - 1 - *o;
	memcpy(out + *o, p, n);
	*o += n;
	out[*o] = '\0';
}

/* Whether a URI query key names a secret: any *password (password, sslpassword), or one libpq decodes. */
static int secret_key(const char *key, size_t n)
{
	return (n >= 8 && memcmp(key + n - 8, "password", 8) == 0) || memchr(key, '%', n) != NULL;
}

void hfw_ledger_redact(const char *where, char *out, size_t size)
{
	const char *auth, *end, *at = NULL, *colon, *p, *q, *k;
	size_t o = 0;

	if (!size)
		return;
	out[0] = '\0';
	if (!where)
		return;
	if (!hfw_ledger_is_uri(where)) {
		put(out, size, &o, where, strlen(where));
		return;
	}
	/*
	 * As libpq reads it: the user information ends at the authority's last
	 * @ before the first / (? and # mean nothing there), and a parameter's
	 * value ends only at &.  Wherever the two readings could differ, more
	 * is hidden, never less.
	 */
	auth = strstr(where, "://") + 3;
	end = auth + strcspn(auth, "/");
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon) {
		put(out, size, &o, where, (size_t)(colon + 1 - where));
		put(out, size, &o, "***", 3);
		p = at;
	} else {
		p = where;
	}
	if (!(q = strchr(at ? at : auth, '?'))) {
		put(out, size, &o, p, strlen(p));
		return;
	}
	put(out, size, &o, p, (size_t)(q + 1 - p));
	for (k = q + 1; *k;) {
		size_t n = strcspn(k, "&"), kn = strcspn(k, "=&");

		if (kn < n && secret_key(k, kn)) {
			put(out, size, &o, k, kn + 1);
			put(out, size, &o, "***", 3);
		} else {
			put(out, size, &o, k, n);
		}
		k += n;
		if (*k == '&')
			put(out, size, &o, k++, 1);
	}
}

const char *hfw_ledger_backend(const hfw_ledger *l)
{
	return l->ops->name;
}

int hfw_ledger_reserve(hfw_ledger *l, const struct hfw_eui *originator, uint64_t now_ms,
		       unsigned n, uint64_t *first, struct hfw_error *err)
{
	return l->ops->reserve(l, originator, now_ms, n, first, err);
}

int hfw_ledger_claim(hfw_ledger *l, const struct hfw_eui *originator, uint64_t counter, struct hfw_error *err)
{
	return l->ops->claim(l, originator, counter, err);
}

int hfw_ledger_last(hfw_ledger *l, const struct hfw_eui *originator, uint64_t *last, struct hfw_error *err)
{
	return l->ops->last(l, originator, last, err);
}

int hfw_ledger_record(hfw_ledger *l, const struct hfw_ledger_request *reqs, size_t n, struct hfw_error *err)
{
	return l->ops->record(l, reqs, n, err);
}

int hfw_ledger_set_state(hfw_ledger *l, const char *request_id, const char *state, const char *response_code,
			 struct hfw_error *err)
{
	return l->ops->set_state(l, request_id, state, response_code, err);
}

int hfw_ledger_step(hfw_ledger *l, const char *request_id, const char *state, const char *response_code,
		    const char *detail, struct hfw_error *err)
{
	return l->ops->step(l, request_id, state, response_code, detail, err);
}

int hfw_ledger_record_devices(hfw_ledger *l, const char *request_id, const struct hfw_eui *devices,
			      const char *const *outcomes, size_t n, struct hfw_error *err)
{
	return l->ops->record_devices(l, request_id, devices, outcomes, n, err);
}

int hfw_ledger_begin(hfw_ledger *l, struct hfw_error *err)
{
	return l->ops->begin(l, err);
}

int hfw_ledger_commit(hfw_ledger *l, struct hfw_error *err)
{
	return l->ops->commit(l, err);
}

void hfw_ledger_rollback(hfw_ledger *l)
{
	if (l)
		l->ops->rollback(l);
}

int hfw_ledger_savepoint(hfw_ledger *l, struct hfw_error *err)
{
	return l->ops->savepoint(l, err);
}

int hfw_ledger_savepoint_end(hfw_ledger *l, int keep, struct hfw_error *err)
{
	return l->ops->savepoint_end(l, keep, err);
}

int hfw_ledger_campaign_request(hfw_ledger *l, const char *request_id, const char *campaign, const char *action,
				const char *device_type, const char *firmware_version,
				const hfw_firmware_hash firmware_hash, struct hfw_error *err)
{
	return l->ops->campaign_request(l, request_id, campaign, action, device_type, firmware_version, firmware_hash,
					err);
}

int hfw_ledger_campaign_by_hash(hfw_ledger *l, const hfw_firmware_hash firmware_hash, const char *device,
				char *campaign,
				size_t size, struct hfw_error *err)
{
	return l->ops->campaign_by_hash(l, firmware_hash, device, campaign, size, err);
}

int hfw_ledger_store_message(hfw_ledger *l, const struct hfw_ledger_message *m, int *duplicate,
			     struct hfw_error *err)
{
	return l->ops->store_message(l, m, duplicate, err);
}

int hfw_ledger_quarantine(hfw_ledger *l, const struct hfw_ledger_refusal *q, uint64_t cap, struct hfw_error *err)
{
	return l->ops->quarantine(l, q, cap, err);
}

int hfw_ledger_campaign_start(hfw_ledger *l, const char *campaign, char *out, size_t size, struct hfw_error *err)
{
	return l->ops->campaign_start(l, campaign, out, size, err);
}

int hfw_ledger_each_quarantined(hfw_ledger *l, const char *since,
				int (*fn)(void *arg, const struct hfw_ledger_quarantined *q), void *arg,
				struct hfw_error *err)
{
	return l->ops->each_quarantined(l, since, fn, arg, err);
}

int hfw_ledger_each_campaign_row(hfw_ledger *l, const char *campaign, const char *device,
				 int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
				 struct hfw_error *err)
{
	return l->ops->each_campaign_row(l, campaign, device, fn, arg, err);
}

int hfw_ledger_each_distribution(hfw_ledger *l, const char *campaign,
				 int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
				 struct hfw_error *err)
{
	return l->ops->each_distribution(l, campaign, fn, arg, err);
}

int hfw_ledger_each_campaign_name(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg,
				  struct hfw_error *err)
{
	return l->ops->each_campaign_name(l, fn, arg, err);
}

int hfw_ledger_lock_campaign(hfw_ledger *l, const char *campaign, hfw_ledger_lock **lock, struct hfw_error *err)
{
	return l->ops->lock_campaign(l, campaign, 0, lock, err);
}

int hfw_ledger_wait_campaign(hfw_ledger *l, const char *campaign, hfw_ledger_lock **lock, struct hfw_error *err)
{
	return l->ops->lock_campaign(l, campaign, 1, lock, err);
}

void hfw_ledger_unlock(hfw_ledger_lock *lock)
{
	if (lock)
		lock->l->ops->unlock_campaign(lock);
}

int hfw_ledger_count(hfw_ledger *l, int64_t *out, struct hfw_error *err)
{
	return l->ops->count(l, out, err);
}

int hfw_ledger_schema(hfw_ledger *l, int *from, int *to, struct hfw_error *err)
{
	*from = l->from_version;
	return l->ops->version(l, to, err);
}

/* ---- copy ---- */

/*
 * A table's rows as a count and a chained SHA-256 (each row hashed with the
 * previous hash), over a canonical form of each value: a type byte, then
 * an integer's 8 bytes, a real's "%.17g", or the length and bytes of text
 * or a blob.  Equal on both backends for equal rows in equal order.
 */
struct digest {
	const struct hfw_ledger_table *t;
	int64_t rows;
	uint8_t hash[HFW_SHA256_LEN];
	hfw_ledger *to;		/* copying: where each row goes */
	struct hfw_error *err;
};

static int digest_row(void *arg, const struct hfw_ledger_value *v)
{
	struct digest *d = arg;
	struct hfw_span parts[1 + 2 * 16];
	uint8_t head[16][9];
	char reals[16][32];
	size_t i, n = 0;
	int ret;

	if (d->to && (ret = d->to->ops->add_row(d->to, d->t, v, d->err)) < 0)
		return ret;
	parts[n++] = (struct hfw_span){ d->hash, sizeof(d->hash) };
	for (i = 0; i < d->t->ncolumns && i < 16; i++) {
		uint64_t x = 0;
		int k;

		head[i][0] = (uint8_t)v[i].type;
		switch (v[i].type) {
		case HFW_LEDGER_INT:
			x = (uint64_t)v[i].i;
			break;
		case HFW_LEDGER_REAL:
			snprintf(reals[i], sizeof(reals[i]), "%.17g", v[i].r);
			x = strlen(reals[i]);
			break;
		case HFW_LEDGER_TEXT:
		case HFW_LEDGER_BLOB:
			x = v[i].len;
			break;
		case HFW_LEDGER_NULL:
			break;
		}
		for (k = 0; k < 8; k++)
			head[i][1 + k] = (uint8_t)(x >> (56 - 8 * k));
		parts[n++] = (struct hfw_span){ head[i], sizeof(head[i]) };
		if (v[i].type == HFW_LEDGER_REAL)
			parts[n++] = (struct hfw_span){ (const uint8_t *)reals[i], strlen(reals[i]) };
		else if (v[i].type == HFW_LEDGER_TEXT || v[i].type == HFW_LEDGER_BLOB)
			parts[n++] = (struct hfw_span){ v[i].p, v[i].len };
	}
	d->rows++;
	return hfw_sha256_parts(d->hash, parts, n, d->err);
}

static int first_row(void *arg, const struct hfw_ledger_value *v)
{
	(void)arg;
	(void)v;
	return 1;
}

int hfw_ledger_copy(const char *from, const char *to,
		    void (*progress)(void *arg, const char *table, int64_t rows, const char *sha256), void *arg,
		    struct hfw_error *err)
{
	hfw_ledger *src = NULL, *dst = NULL;
	struct digest a, b;
	char hex[2 * HFW_SHA256_LEN + 1];
	size_t i;
	int in_txn = 0, ret;

	if ((ret = hfw_ledger_open(&src, from, err)) < 0 || (ret = hfw_ledger_open(&dst, to, err)) < 0)
		goto out;
	for (i = 0; i < hfw_ledger_ntables; i++)
		if ((ret = dst->ops->each_row(dst, &hfw_ledger_tables[i], first_row, NULL, err)) != 0) {
			if (ret > 0)
				ret = hfw_error_set(err, HFW_EINPUT, "ledger copy: the target's table %s is not empty: "
						    "a ledger is copied only into a new, empty one",
						    hfw_ledger_tables[i].name);
			goto out;
		}
	if ((ret = dst->ops->begin(dst, err)) < 0)
		goto out;
	in_txn = 1;
	for (i = 0; i < hfw_ledger_ntables; i++) {
		memset(&a, 0, sizeof(a));
		a.t = &hfw_ledger_tables[i];
		a.to = dst;
		a.err = err;
		if ((ret = src->ops->each_row(src, a.t, digest_row, &a, err)) < 0)
			goto out;
	}
	if (dst->ops->copied && (ret = dst->ops->copied(dst, err)) < 0)
		goto out;
	/* Verified in the same transaction, before it commits: all or nothing. */
	for (i = 0; i < hfw_ledger_ntables; i++) {
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		a.t = b.t = &hfw_ledger_tables[i];
		a.err = b.err = err;
		if ((ret = src->ops->each_row(src, a.t, digest_row, &a, err)) < 0 ||
		    (ret = dst->ops->each_row(dst, b.t, digest_row, &b, err)) < 0)
			goto out;
		if (a.rows != b.rows || memcmp(a.hash, b.hash, sizeof(a.hash)) != 0) {
			ret = hfw_error_set(err, HFW_EIO, "ledger copy: table %s differs after copying (%" PRId64
					    " rows, copied %" PRId64 "): nothing was committed", a.t->name, a.rows, b.rows);
			goto out;
		}
		hfw_hex_encode(hex, a.hash, sizeof(a.hash));
		if (progress)
			progress(arg, a.t->name, a.rows, hex);
	}
	in_txn = 0;
	ret = dst->ops->commit(dst, err);
out:
	if (in_txn)
		dst->ops->rollback(dst);
	hfw_ledger_close(src);
	hfw_ledger_close(dst);
	return ret;
}
