/* run.c - a campaign run's state in the ledger, and its pure decisions (see run.h). */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

static const char *const step_names[HFW_RUN_STEPS] = {
	"pending", "distribute", "activate", "read_version", "done", "failed", "skipped", "left",
};

const char *hfw_run_step_name(enum hfw_run_step s)
{
	return (unsigned)s < HFW_RUN_STEPS ? step_names[s] : "?";
}

int hfw_run_step_parse(const char *name)
{
	int i;

	for (i = 0; name && i < HFW_RUN_STEPS; i++)
		if (!strcmp(name, step_names[i]))
			return i;
	return -1;
}

const char *hfw_run_step_action(enum hfw_run_step s)
{
	switch (s) {
	case HFW_RUN_DISTRIBUTE:
		return "distribute";
	case HFW_RUN_ACTIVATE:
		return "activate";
	case HFW_RUN_READ_VERSION:
		return "read-version";
	default:
		return NULL;
	}
}

static int in(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

/* Campaign states (campaign.h) that end a device's campaign in failure. */
static const char *const failures[] = {
	"distribution_refused", "hub_delivery_failed", "image_discarded", "hardware_mismatch", "transfer_failed",
	"hash_mismatch", "verification_failed", "distribution_failed", "activation_not_sent", "activation_failed",
	"version_mismatch", "version_read_failed", NULL,
};

void hfw_run_decide(enum hfw_run_step step, const char *cstate, int has_request, int needs_activation,
		    struct hfw_run_decision *d)
{
	d->action = HFW_RUN_WAIT;
	d->next = step;
	d->reason = NULL;
	switch (step) {
	case HFW_RUN_PENDING:
		d->action = HFW_RUN_SEND;
		d->next = HFW_RUN_DISTRIBUTE;
		return;
	case HFW_RUN_DISTRIBUTE:
	case HFW_RUN_ACTIVATE:
	case HFW_RUN_READ_VERSION:
		break;
	default:
		return;	/* done, failed, skipped, left: nothing more */
	}
	/* A mid-campaign event (change of supplier, ...): out, whatever was out. */
	if (cstate && !strcmp(cstate, "left_campaign")) {
		d->action = HFW_RUN_LEAVE;
		d->next = HFW_RUN_LEFT;
		d->reason = cstate;
		return;
	}
	/* The DCC quarantined the request: a human looks first (the run pauses). */
	if (cstate && (!strcmp(cstate, "distribution_quarantined") || !strcmp(cstate, "activation_quarantined"))) {
		d->action = HFW_RUN_PAUSE;
		d->reason = cstate;
		return;
	}
	/* Nothing of this step was ever recorded: nothing of it left the process. */
	if (has_request == HFW_RUN_NONE) {
		d->action = HFW_RUN_SEND;
		return;
	}
	/*
	 * Unknown fate (recorded, no answer: the process that sent it is gone,
	 * as the flows wait for their answers).  A version read changes
	 * nothing on the device: one of unknown fate is read again, and an
	 * activation of unknown fate is settled by one.
	 */
	if (has_request == HFW_RUN_UNKNOWN_FATE &&
	    (step == HFW_RUN_READ_VERSION ||
	     (step == HFW_RUN_ACTIVATE && (!cstate || !strcmp(cstate, "verified") ||
					   !strcmp(cstate, "activation_requested"))))) {
		d->action = HFW_RUN_SEND;
		d->next = HFW_RUN_READ_VERSION;
		return;
	}
	if (in(cstate, failures)) {
		d->action = HFW_RUN_FAIL;
		d->next = HFW_RUN_FAILED;
		d->reason = cstate;
		return;
	}
	if (cstate && !strcmp(cstate, "version_confirmed")) {
		d->action = HFW_RUN_ADVANCE;
		d->next = HFW_RUN_DONE;
		return;
	}
	if (step == HFW_RUN_DISTRIBUTE && cstate && !strcmp(cstate, "verified") && needs_activation) {
		d->action = HFW_RUN_SEND;
		d->next = HFW_RUN_ACTIVATE;
		return;
	}
	if (step != HFW_RUN_READ_VERSION && cstate && !strcmp(cstate, "activated")) {
		d->action = HFW_RUN_SEND;
		d->next = HFW_RUN_READ_VERSION;
		return;
	}
	/* Requested, accepted, delivered, transferred, scheduled, activated with a read out: wait. */
}

int hfw_run_gate_check(const struct hfw_run_gate *g, size_t wave, struct hfw_error *err)
{
	double rate = g->devices ? (double)g->done / (double)g->devices : 1.0;

	if (g->hash_mismatch)
		return hfw_error_set(err, HFW_EHALTED,
				     "wave %zu: %zu hash mismatches (rule: any hash mismatch halts the campaign)", wave,
				     g->hash_mismatch);
	if (rate + 1e-9 < g->min_success)
		return hfw_error_set(err, HFW_EHALTED,
				     "wave %zu: %zu of %zu devices at their goal (%.1f%%), %zu failed: below the gate's %.1f%%",
				     wave, g->done, g->devices, rate * 100.0, g->failed, g->min_success * 100.0);
	return 0;
}

/* Ledger access: the run's own tables (made by ledger.c with the rest). */
static int db_error(sqlite3 *db, struct hfw_error *err, const char *what)
{
	/* No SQLite handle: a PostgreSQL ledger (hfw_ledger_db), whose first statement here failed to prepare. */
	if (!db)
		return hfw_error_set(err, HFW_ECONFIG, "campaign run state is not yet on PostgreSQL: "
				     "campaign run, status, list, resume and abort need a SQLite ledger");
	return hfw_error_set(err, HFW_EIO, "ledger: %s: %s", what, sqlite3_errmsg(db));
}

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
	snprintf(dst, size, "%s", src ? (const char *)src : "");
}

/*
 * Prepared statements kept while a run holds them (hfw_run_cache_begin ..
 * hfw_run_cache_end): a polling round runs the same few statements once
 * per device of the wave, and preparing each every time was much of its
 * cost.  One ledger handle at a time (the one campaign run of a process);
 * other callers prepare and finalise as before.
 */
enum run_sql { SQL_GET, SQL_PUT, SQL_ADD, SQL_SET_STEP, SQL_EACH, SQL_EACH_WAVE, SQL_HAS, SQL_NAMES, SQL_SENT,
	       SQL_WAVE_REQUESTS, SQL_WAVE_EVENTS, SQL_N };

static struct {
	hfw_ledger *l;
	sqlite3_stmt *st[SQL_N];
} run_cache;

static int prepare(hfw_ledger *l, enum run_sql k, const char *sql, sqlite3_stmt **st)
{
	int rc;

	if (run_cache.l == l && run_cache.st[k]) {
		*st = run_cache.st[k];
		return SQLITE_OK;
	}
	rc = sqlite3_prepare_v2(hfw_ledger_db(l), sql, -1, st, NULL);
	if (rc == SQLITE_OK && run_cache.l == l)
		run_cache.st[k] = *st;
	return rc;
}

/* Done with a statement: reset for the next use if kept, else finalised. */
static void done(hfw_ledger *l, sqlite3_stmt *st)
{
	if (st && run_cache.l == l) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return;
	}
	sqlite3_finalize(st);
}

int hfw_run_cache_begin(hfw_ledger *l, struct hfw_error *err)
{
	if (run_cache.l && run_cache.l != l)
		return hfw_error_set(err, HFW_EINPUT, "ledger: one campaign run's statements at a time");
	run_cache.l = l;
	return 0;
}

void hfw_run_cache_end(hfw_ledger *l)
{
	size_t i;

	if (!l || run_cache.l != l)
		return;
	for (i = 0; i < SQL_N; i++)
		sqlite3_finalize(run_cache.st[i]);
	memset(&run_cache, 0, sizeof(run_cache));
}

int hfw_run_get(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, int *found, struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	*found = 0;
	memset(c, 0, sizeof(*c));
	if (prepare(l, SQL_GET,
			    "SELECT name, plan_path, plan_sha256, state, reason, wave, wave_started_ms, gate_passed, "
			       "min_canary, min_wave, wave_timeout_s FROM run_campaigns WHERE name = ?", &st) != SQLITE_OK)
		return db_error(db, err, "cannot read campaign runs");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*found = 1;
		copy_text(c->name, sizeof(c->name), sqlite3_column_text(st, 0));
		copy_text(c->plan_path, sizeof(c->plan_path), sqlite3_column_text(st, 1));
		copy_text(c->plan_sha256, sizeof(c->plan_sha256), sqlite3_column_text(st, 2));
		copy_text(c->state, sizeof(c->state), sqlite3_column_text(st, 3));
		copy_text(c->reason, sizeof(c->reason), sqlite3_column_text(st, 4));
		c->wave = sqlite3_column_int64(st, 5);
		c->wave_started_ms = sqlite3_column_int64(st, 6);
		c->gate_passed = sqlite3_column_int64(st, 7);
		c->min_canary = sqlite3_column_double(st, 8);
		c->min_wave = sqlite3_column_double(st, 9);
		c->wave_timeout_s = sqlite3_column_int64(st, 10);
	} else if (rc != SQLITE_DONE) {
		ret = db_error(db, err, "cannot read campaign runs");
	}
	done(l, st);
	return ret;
}

int hfw_run_put(hfw_ledger *l, const struct hfw_run_campaign *c, struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (prepare(l, SQL_PUT,
			    "INSERT INTO run_campaigns(name, plan_path, plan_sha256, state, reason, wave, wave_started_ms, "
			       "gate_passed, min_canary, min_wave, wave_timeout_s, updated) "
			       "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
			       "ON CONFLICT(name) DO UPDATE SET plan_path = excluded.plan_path, plan_sha256 = excluded.plan_sha256, "
			       "state = excluded.state, reason = excluded.reason, wave = excluded.wave, "
			       "wave_started_ms = excluded.wave_started_ms, gate_passed = excluded.gate_passed, "
			       "min_canary = excluded.min_canary, min_wave = excluded.min_wave, "
			       "wave_timeout_s = excluded.wave_timeout_s, updated = excluded.updated", &st) != SQLITE_OK)
		return db_error(db, err, "cannot record the campaign run");
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->plan_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->plan_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->state, -1, SQLITE_STATIC);
	if (c->reason[0])
		sqlite3_bind_text(st, 5, c->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, c->wave);
	sqlite3_bind_int64(st, 7, c->wave_started_ms);
	sqlite3_bind_int64(st, 8, c->gate_passed);
	sqlite3_bind_double(st, 9, c->min_canary);
	sqlite3_bind_double(st, 10, c->min_wave);
	sqlite3_bind_int64(st, 11, c->wave_timeout_s);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(db, err, "cannot record the campaign run");
	done(l, st);
	return ret;
}

int hfw_run_add_device(hfw_ledger *l, const char *campaign, const struct hfw_run_device *d, struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (prepare(l, SQL_ADD,
			    "INSERT OR IGNORE INTO run_devices(campaign, device, wave, image, step, reason, attempts, updated) "
			       "VALUES(?, ?, ?, ?, ?, ?, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", &st) != SQLITE_OK)
		return db_error(db, err, "cannot record a campaign device");
	sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, d->wave);
	sqlite3_bind_int64(st, 4, d->image);
	sqlite3_bind_text(st, 5, hfw_run_step_name(d->step), -1, SQLITE_STATIC);
	if (d->reason)
		sqlite3_bind_text(st, 6, d->reason, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(db, err, "cannot record a campaign device");
	done(l, st);
	return ret;
}

int hfw_run_set_step(hfw_ledger *l, const char *campaign, const char *device, enum hfw_run_step step,
		     const char *reason, int bump, struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (prepare(l, SQL_SET_STEP,
			    "UPDATE run_devices SET attempts = CASE WHEN step = ?1 THEN attempts + ?3 ELSE ?3 END, "
			       "step = ?1, reason = ?2, "
			       "updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE campaign = ?4 AND device = ?5", &st) != SQLITE_OK)
		return db_error(db, err, "cannot record a campaign device's step");
	sqlite3_bind_text(st, 1, hfw_run_step_name(step), -1, SQLITE_STATIC);
	if (reason)
		sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, bump ? 1 : 0);
	sqlite3_bind_text(st, 4, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, device, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(db, err, "cannot record a campaign device's step");
	done(l, st);
	return ret;
}

int hfw_run_each_device(hfw_ledger *l, const char *campaign, int64_t wave,
			int (*fn)(void *arg, const struct hfw_run_device *d), void *arg, struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	/* One wave's by its index (a polling round's cost is the wave's, not the campaign's), or all. */
	if ((wave ? prepare(l, SQL_EACH_WAVE,
			    "SELECT device, wave, image, step, reason, attempts FROM run_devices "
			    "WHERE campaign = ?1 AND wave = ?2 ORDER BY device", &st)
		  : prepare(l, SQL_EACH,
			    "SELECT device, wave, image, step, reason, attempts FROM run_devices "
			    "WHERE campaign = ?1 ORDER BY device", &st)) != SQLITE_OK)
		return db_error(db, err, "cannot read campaign devices");
	sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
	if (wave)
		sqlite3_bind_int64(st, 2, wave);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hfw_run_device d;
		int s = hfw_run_step_parse((const char *)sqlite3_column_text(st, 3));

		d.device = (const char *)sqlite3_column_text(st, 0);
		d.wave = sqlite3_column_int64(st, 1);
		d.image = sqlite3_column_int64(st, 2);
		d.step = s < 0 ? HFW_RUN_FAILED : (enum hfw_run_step)s;
		d.reason = (const char *)sqlite3_column_text(st, 4);
		d.attempts = sqlite3_column_int64(st, 5);
		if ((ret = fn(arg, &d)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(db, err, "cannot read campaign devices");
	done(l, st);
	return ret;
}

int hfw_run_has_request(hfw_ledger *l, const char *campaign, const char *device, const char *action, int *has,
			struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	int ret = 0;

	*has = 0;
	if (prepare(l, SQL_HAS,
			    "SELECT max(r.state NOT IN ('signed', 'precommand_signed', 'unknown')) "
			       "FROM request_devices d JOIN campaign_requests c ON c.request_id = d.request_id "
			       "JOIN requests r ON r.request_id = d.request_id "
			       "WHERE d.device = ? AND c.campaign = ? AND c.action = ? "
			       "AND r.state NOT IN ('transform_signed', 'not_sent', 'refused', 'dry-run')", &st) != SQLITE_OK)
		return db_error(db, err, "cannot read requests");
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			*has = sqlite3_column_int(st, 0) ? HFW_RUN_ANSWERED : HFW_RUN_UNKNOWN_FATE;
		break;
	case SQLITE_DONE:
		break;
	default:
		ret = db_error(db, err, "cannot read requests");
	}
	done(l, st);
	return ret;
}

int hfw_run_each_name(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg, struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	if (prepare(l, SQL_NAMES, "SELECT name FROM run_campaigns ORDER BY name", &st) != SQLITE_OK)
		return db_error(db, err, "cannot read campaign runs");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((ret = fn(arg, (const char *)sqlite3_column_text(st, 0))) != 0)
			break;
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(db, err, "cannot read campaign runs");
	done(l, st);
	return ret;
}

int hfw_run_settle_distributions(hfw_ledger *l, const char *campaign, int *settled, struct hfw_error *err)
{
	static const char sql[] =
		"CREATE TEMP TABLE IF NOT EXISTS run_settle(request_id TEXT, device TEXT);"
		"DELETE FROM temp.run_settle;"
		"INSERT INTO temp.run_settle SELECT d.request_id, d.device FROM request_devices d "
		"  JOIN campaign_requests c ON c.request_id = d.request_id "
		"  JOIN requests r ON r.request_id = d.request_id "
		"  WHERE c.campaign = ?1 AND c.action = 'distribute' AND d.outcome = 'pending' "
		/* 'accepted' too: a device whose alerts come after its request was settled by others' (or after a
		 * kill between the answer and the devices' outcomes) is settled by its own. */
		"  AND r.state IN ('signed', 'unknown', 'accepted') AND EXISTS (SELECT 1 FROM device_events e "
		"    WHERE e.device = d.device AND e.request_id = d.request_id);"
		"UPDATE request_devices SET outcome = 'accepted' WHERE EXISTS (SELECT 1 FROM temp.run_settle s "
		"  WHERE s.request_id = request_devices.request_id AND s.device = request_devices.device);"
		"INSERT INTO request_steps(request_id, at, state, response_code, detail) "
		"  SELECT DISTINCT s.request_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'accepted', NULL, "
		"  'settled by campaign run: the DCC''s alerts answer it' FROM temp.run_settle s "
		"  JOIN requests r ON r.request_id = s.request_id WHERE r.state <> 'accepted';"
		"UPDATE requests SET state = 'accepted' WHERE state <> 'accepted' "
		"  AND request_id IN (SELECT request_id FROM temp.run_settle);";
	sqlite3 *db = hfw_ledger_db(l);
	const char *tail = sql;
	int ret = 0;

	*settled = 0;
	if (hfw_ledger_begin(l, err) < 0)
		return err->code;
	while (*tail) {
		sqlite3_stmt *st = NULL;
		const char *next;

		if (sqlite3_prepare_v2(db, tail, -1, &st, &next) != SQLITE_OK) {
			ret = db_error(db, err, "cannot settle distributions");
			break;
		}
		if (!st)
			break;
		if (sqlite3_bind_parameter_count(st) >= 1)
			sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			ret = db_error(db, err, "cannot settle distributions");
			break;
		}
		if (strstr(tail, "UPDATE request_devices") == tail)
			*settled += sqlite3_changes(db);
		sqlite3_finalize(st);
		tail = next;
		while (*tail == ' ' || *tail == '\n')
			tail++;
	}
	if (ret < 0) {
		hfw_ledger_rollback(l);
		return ret;
	}
	return hfw_ledger_commit(l, err);
}

int hfw_run_sent_since(hfw_ledger *l, const char *sr, unsigned seconds, int64_t *n, struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	char since[32];
	int ret = 0;

	snprintf(since, sizeof(since), "-%u seconds", seconds);
	*n = 0;
	if (prepare(l, SQL_SENT,
			    "SELECT count(*) FROM requests WHERE (?1 IS NULL OR service_reference = ?1) "
			       /* never left hanfw, or a CV 4 transform (nothing for a device, as the
				* sandbox's quarantine counts too): not against a budget */
			       "AND state NOT IN ('dry-run', 'not_sent', 'transform_signed') "
			       "AND created >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?2)", &st) != SQLITE_OK)
		return db_error(db, err, "cannot count requests");
	if (sr)
		sqlite3_bind_text(st, 1, sr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, since, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		ret = db_error(db, err, "cannot count requests");
	done(l, st);
	return ret;
}

int64_t hfw_run_room(uint64_t limit, int64_t sent)
{
	if (!limit)
		return INT64_MAX;
	return sent >= (int64_t)limit ? 0 : (int64_t)limit - sent;
}

int hfw_run_each_wave_row(hfw_ledger *l, const char *campaign, int64_t wave, const char *also,
			  int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg, struct hfw_error *err)
{
	/*
	 * As hfw_ledger_each_campaign_row, for the wave's devices only (by the
	 * devices' indexes): their requests of the campaign in the order made,
	 * then their events (and also's: the DCC's, where a QuarantinedRequest
	 * of a distribution is kept) in the order received.
	 */
	static const char *const sql[2] = {
		"SELECT rd.device, rd.request_id, cr.action, rd.outcome, rq.response_code, NULL, 0, cr.campaign,"
		"       cr.firmware_version, cr.firmware_hash, cr.device_type "
		/* CROSS JOIN keeps this order: from the wave's devices, never from every request of the campaign. */
		"FROM run_devices w CROSS JOIN request_devices rd ON rd.device = w.device "
		"CROSS JOIN campaign_requests cr ON cr.request_id = rd.request_id "
		"LEFT JOIN requests rq ON rq.request_id = cr.request_id "
		"WHERE w.campaign = ?1 AND w.wave = ?2 AND cr.campaign = ?1 ORDER BY cr.rowid",
		"SELECT device, request_id, 'event', event, detail, at, message_id, NULL, NULL, NULL, NULL "
		"FROM device_events WHERE device IN (SELECT device FROM run_devices WHERE campaign = ?1 AND wave = ?2 "
		"UNION ALL SELECT ?3) ORDER BY rowid",
	};
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	int k, rc = SQLITE_DONE, ret = 0;

	for (k = 0; k < 2 && ret == 0; k++) {
		if (prepare(l, k ? SQL_WAVE_EVENTS : SQL_WAVE_REQUESTS, sql[k], &st) != SQLITE_OK)
			return db_error(db, err, "cannot read the campaign's wave");
		sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, wave);
		if (k && also)
			sqlite3_bind_text(st, 3, also, -1, SQLITE_STATIC);
		while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct hfw_ledger_row row;

			row.device = (const char *)sqlite3_column_text(st, 0);
			row.request_id = (const char *)sqlite3_column_text(st, 1);
			row.source = (const char *)sqlite3_column_text(st, 2);
			row.state = (const char *)sqlite3_column_text(st, 3);
			row.detail = (const char *)sqlite3_column_text(st, 4);
			row.at = (const char *)sqlite3_column_text(st, 5);
			row.message_id = sqlite3_column_int64(st, 6);
			row.campaign = (const char *)sqlite3_column_text(st, 7);
			row.firmware_version = (const char *)sqlite3_column_text(st, 8);
			row.firmware_hash = (const char *)sqlite3_column_text(st, 9);
			row.device_type = (const char *)sqlite3_column_text(st, 10);
			ret = fn(arg, &row);
		}
		if (ret == 0 && rc != SQLITE_DONE)
			ret = db_error(db, err, "cannot read the campaign's wave");
		done(l, st);
	}
	return ret;
}

/*
 * Re-drive state (redrive.h): run_redrive (made with the ledger's schema), one row per device that
 * met a transient failure: its step and that step's attempts when the
 * window opened, when it opened and when it ends (0: none open), and the
 * re-drives of the step per class ("0,2,0,...").
 */
int hfw_run_redrive_set(hfw_ledger *l, const char *campaign, const struct hfw_run_redrive *w, struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	char counts[HFW_RUN_REDRIVE_CLASSES * 21 + 1];
	size_t i, n = 0;
	int ret = 0;

	for (i = 0; i < HFW_RUN_REDRIVE_CLASSES; i++)
		n += (size_t)snprintf(counts + n, sizeof(counts) - n, "%s%lld", i ? "," : "", (long long)w->redrives[i]);
	if (sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO run_redrive(campaign, device, step, attempts, seen_ms, due_ms, redrives) "
			       "VALUES(?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(db, err, "cannot record a re-drive window");
	sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, w->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hfw_run_step_name(w->step), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, w->attempts);
	sqlite3_bind_int64(st, 5, w->seen_ms);
	sqlite3_bind_int64(st, 6, w->due_ms);
	sqlite3_bind_text(st, 7, counts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(db, err, "cannot record a re-drive window");
	sqlite3_finalize(st);
	return ret;
}

int hfw_run_redrive_each(hfw_ledger *l, const char *campaign, int (*fn)(void *arg, const struct hfw_run_redrive *w),
			 void *arg, struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT device, step, attempts, seen_ms, due_ms, redrives FROM run_redrive WHERE campaign = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(db, err, "cannot read re-drive windows");
	sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hfw_run_redrive w;
		const char *p = (const char *)sqlite3_column_text(st, 5);
		int s = hfw_run_step_parse((const char *)sqlite3_column_text(st, 1));
		size_t i;

		memset(&w, 0, sizeof(w));
		w.device = (const char *)sqlite3_column_text(st, 0);
		w.step = s < 0 ? HFW_RUN_FAILED : (enum hfw_run_step)s;
		w.attempts = sqlite3_column_int64(st, 2);
		w.seen_ms = sqlite3_column_int64(st, 3);
		w.due_ms = sqlite3_column_int64(st, 4);
		for (i = 0; p && *p && i < HFW_RUN_REDRIVE_CLASSES; i++) {
			char *end;

			w.redrives[i] = strtoll(p, &end, 10);
			p = *end == ',' ? end + 1 : end;
		}
		if ((ret = fn(arg, &w)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(db, err, "cannot read re-drive windows");
	sqlite3_finalize(st);
	return ret;
}

int hfw_run_latest_unsent(hfw_ledger *l, const char *campaign, const char *device, const char *action, int *unsent,
			  struct hfw_error *err)
{
	sqlite3 *db = hfw_ledger_db(l);
	sqlite3_stmt *st = NULL;
	int ret = 0;

	*unsent = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT r.state IN ('transform_signed', 'not_sent', 'refused') "
			       "FROM request_devices d JOIN campaign_requests c ON c.request_id = d.request_id "
			       "JOIN requests r ON r.request_id = d.request_id "
			       "WHERE d.device = ? AND c.campaign = ? AND c.action = ? ORDER BY r.rowid DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(db, err, "cannot read requests");
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*unsent = sqlite3_column_int(st, 0);
		break;
	case SQLITE_DONE:
		break;
	default:
		ret = db_error(db, err, "cannot read requests");
	}
	sqlite3_finalize(st);
	return ret;
}
