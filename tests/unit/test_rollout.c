/*
 * Unit tests: what a campaign run's polling round reads (lib/run.h,
 * lib/campaign.h): one wave's rows give its devices the states the whole
 * campaign's status gives them, and nothing of other waves; the run's
 * statements are kept while a run holds the ledger, one ledger at a time.
 * On SQLite, and again on PostgreSQL when HFW_TEST_PG_URI names a database
 * they may empty.
 */
#include "ledgertest.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include "../../lib/campaign.h"
#include "../../lib/ledger.h"
#include "../../lib/run.h"

#define DCC "90-B3-D5-1F-30-00-00-02"
#define RID "90-B3-D5-1F-30-01-00-00:" DCC ":1000"
#define RID2 "90-B3-D5-1F-30-01-00-00:" DCC ":1001"
#define A "00-DB-12-00-00-00-00-01"
#define B "00-DB-12-00-00-00-00-02"
#define C "00-DB-12-00-00-00-00-03"
#define D "00-DB-12-00-00-00-00-04"
#define HASH "AB01"


/* SQL on the ledger's database beside the ledger's own handle (committed: the handle sees it). */
static int64_t raw(const char *sql)
{
	int64_t n = -1;

	if (pg) {
		PGconn *c = PQconnectdb(path);
		PGresult *res = PQexec(c, sql);

		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(c));
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		PQfinish(c);
	} else {
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		const char *tail = sql;

		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		sqlite3_busy_timeout(db, 10000);
		while (*tail) {
			if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK)
				fail_msg("%s: %s", sql, sqlite3_errmsg(db));
			if (!st)
				break;
			if (sqlite3_step(st) == SQLITE_ROW)
				n = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		sqlite3_close(db);
	}
	return n;
}

struct wave {
	hfw_ledger *l;
	int64_t wave;
};

static int rows(void *src, int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg, struct hfw_error *err)
{
	struct wave *w = src;

	return hfw_run_each_wave_row(w->l, "spring", w->wave, DCC, fn, arg, err);
}

static int put(void *arg, const struct hfw_campaign_latest *d)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s %s %s;", d->device, d->state, d->reason ? d->reason : "-");
	return 0;
}

/* The same device's state in the whole campaign's status. */
static void whole(hfw_ledger *l, const char *device, char *out)
{
	struct hfw_error err = HFW_ERROR_INIT;
	json_t *st = NULL, *d;
	size_t i;
	int all;

	assert_int_equal(hfw_campaign_status(&st, l, "spring", NULL, 1, &all, &err), 0);
	json_array_foreach(json_object_get(st, "device_states"), i, d)
		if (!strcmp(json_string_value(json_object_get(d, "device")), device)) {
			struct hfw_campaign_latest x = { device, json_string_value(json_object_get(d, "state")),
							 json_string_value(json_object_get(d, "reason")), NULL };

			put(out, &x);
		}
	json_decref(st);
}

static void wave_rows_give_the_campaigns_states(void **state)
{
	/* A distribution of the image to A, B (wave 1) and C (wave 2); another campaign's to D. */
	static const char sql[] =
		"INSERT INTO requests VALUES('" RID "', '90-B3-D5-1F-30-01-00-00', '" DCC "', 1000, '11.4', 1, 'x', "
		"  '2026-01-01T10:00:00.000Z', 'accepted', 'I0');"
		"INSERT INTO requests VALUES('" RID2 "', '90-B3-D5-1F-30-01-00-00', '" DCC "', 1001, '11.4', 1, 'x', "
		"  '2026-01-01T10:00:00.000Z', 'signed', NULL);"
		"INSERT INTO campaign_requests(request_id, campaign, action, device_type, firmware_version, firmware_hash) VALUES('" RID "', 'spring', 'distribute', 'PPMID', '2', '" HASH "');"
		"INSERT INTO campaign_requests(request_id, campaign, action, device_type, firmware_version, firmware_hash) VALUES('" RID2 "', 'other', 'distribute', 'PPMID', '2', '" HASH "');"
		"INSERT INTO request_devices VALUES('" RID "', '" A "', 'accepted'), ('" RID "', '" B "', 'accepted'),"
		"  ('" RID "', '" C "', 'accepted'), ('" RID2 "', '" D "', 'pending');"
		"INSERT INTO messages(id, key, received, kind, raw, decoded) VALUES(1, 'k', '2026-01-01T10:01:00Z', 'x', 'x', '{}');"
		/* A verifies the image, B computed another hash, C the image; D's is another campaign's. */
		"INSERT INTO device_events(message_id, device, request_id, event, detail, at) VALUES(1, '" A "', '" RID "', 'verified_hash', '" HASH "', '2026-01-01T10:02:00Z'),"
		"  (1, '" B "', '" RID "', 'verified_hash', 'FFFF', '2026-01-01T10:02:00Z'),"
		"  (1, '" C "', '" RID "', 'verified_hash', '" HASH "', '2026-01-01T10:02:00Z'),"
		"  (1, '" D "', '" RID2 "', 'verified_hash', '" HASH "', '2026-01-01T10:02:00Z');";
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_run_device d = { A, 1, 0, HFW_RUN_DISTRIBUTE, NULL, 0 };
	struct wave w;
	char got[512] = "", want[512] = "";
	hfw_ledger *l;

	(void)state;
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	raw(sql);
	assert_int_equal(hfw_run_add_device(l, "spring", &d, &err), 0);
	d.device = B;
	assert_int_equal(hfw_run_add_device(l, "spring", &d, &err), 0);
	d.device = C;
	d.wave = 2;
	assert_int_equal(hfw_run_add_device(l, "spring", &d, &err), 0);
	assert_int_equal(hfw_run_cache_begin(l, &err), 0);
	w.l = l;
	w.wave = 1;
	assert_int_equal(hfw_campaign_states_of(rows, &w, put, got, &err), 0);
	whole(l, A, want);
	whole(l, B, want);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, A " verified"));
	assert_non_null(strstr(got, B " hash_mismatch"));
	/* Wave 2: C alone; twice (the kept statements reset between uses). */
	w.wave = 2;
	for (int i = 0; i < 2; i++) {
		got[0] = want[0] = 0;
		assert_int_equal(hfw_campaign_states_of(rows, &w, put, got, &err), 0);
		whole(l, C, want);
		assert_string_equal(got, want);
	}
	hfw_run_cache_end(l);
	/* Without the cache: the same. */
	got[0] = 0;
	assert_int_equal(hfw_campaign_states_of(rows, &w, put, got, &err), 0);
	assert_string_equal(got, want);
	hfw_ledger_close(l);
}

/* One ledger's statements at a time; the kept ones are finalised before the ledger closes. */
static void statements_kept_per_run(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_run_campaign c, got;
	hfw_ledger *l, *l2;
	int found, i;

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "spring");
	snprintf(c.plan_path, sizeof(c.plan_path), "plan.json");
	snprintf(c.plan_sha256, sizeof(c.plan_sha256), "00");
	snprintf(c.state, sizeof(c.state), "running");
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_ledger_open(&l2, path, &err), 0);
	assert_int_equal(hfw_run_cache_begin(l, &err), 0);
	assert_int_equal(hfw_run_cache_begin(l2, &err), HFW_EINPUT);
	for (i = 1; i <= 3; i++) {
		c.wave = i;
		assert_int_equal(hfw_run_put(l, &c, &err), 0);
		assert_int_equal(hfw_run_get(l, "spring", &got, &found, &err), 0);
		assert_true(found);
		assert_int_equal(got.wave, i);
		/* The other handle, uncached, sees it too. */
		assert_int_equal(hfw_run_get(l2, "spring", &got, &found, &err), 0);
		assert_int_equal(got.wave, i);
	}
	hfw_run_cache_end(l2);	/* not its cache: nothing */
	hfw_run_cache_end(l);
	assert_int_equal(hfw_run_cache_begin(l2, &err), 0);
	hfw_run_cache_end(l2);
	hfw_ledger_close(l2);
	hfw_ledger_close(l);
}

static int64_t count(hfw_ledger *l, const char *sql)
{
	(void)l;
	return raw(sql);
}

/*
 * A distribution of unknown fate (never answered: a kill) is settled
 * device by device by each device's own alerts: B's alert, coming after
 * A's settled the request, settles B too (it was left pending for good).
 */
static void late_alerts_settle_their_devices(void **state)
{
	static const char sql[] =
		"INSERT INTO requests VALUES('" RID "', '90-B3-D5-1F-30-01-00-00', '" DCC "', 1000, '11.4', 1, 'x', "
		"  '2026-01-01T10:00:00.000Z', 'unknown', NULL);"
		"INSERT INTO campaign_requests(request_id, campaign, action, device_type, firmware_version, firmware_hash) VALUES('" RID "', 'spring', 'distribute', 'PPMID', '2', '" HASH "');"
		"INSERT INTO request_devices VALUES('" RID "', '" A "', 'pending'), ('" RID "', '" B "', 'pending');"
		"INSERT INTO messages(id, key, received, kind, raw, decoded) VALUES(1, 'k', '2026-01-01T10:01:00Z', 'x', 'x', '{}');"
		"INSERT INTO device_events(message_id, device, request_id, event, detail, at) VALUES(1, '" A "', '" RID "', 'delivered_to_hub', NULL, '2026-01-01T10:02:00Z');";
	static const char late[] =
		"INSERT INTO messages(id, key, received, kind, raw, decoded) VALUES(2, 'k2', '2026-01-01T10:03:00Z', 'x', 'x', '{}');"
		"INSERT INTO device_events(message_id, device, request_id, event, detail, at) VALUES(2, '" B "', '" RID "', 'delivered_to_hub', NULL, '2026-01-01T10:03:00Z');";
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *l;
	int settled = 0;

	(void)state;
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	raw(sql);
	assert_int_equal(hfw_run_settle_distributions(l, "spring", &settled, &err), 0);
	assert_int_equal(settled, 1);
	assert_int_equal(count(l, "SELECT count(*) FROM requests WHERE state = 'accepted'"), 1);
	assert_int_equal(count(l, "SELECT count(*) FROM request_devices WHERE outcome = 'pending'"), 1);
	raw(late);
	assert_int_equal(hfw_run_settle_distributions(l, "spring", &settled, &err), 0);
	assert_int_equal(settled, 1);
	assert_int_equal(count(l, "SELECT count(*) FROM request_devices WHERE outcome = 'pending'"), 0);
	/* The request's settling is recorded once. */
	assert_int_equal(count(l, "SELECT count(*) FROM request_steps WHERE state = 'accepted'"), 1);
	hfw_ledger_close(l);
}

/*
 * A device of the wave that a mid-campaign event took out before any
 * request of the campaign named it: the wave's states give it as
 * left_campaign with the event's reason (the run never sends it its
 * distribution); a suspended device restored before then is not given.
 * The whole campaign's status, over every device's events, is not
 * changed: a device that no request of the campaign named is not in it.
 */
static void a_device_that_left_before_its_distribution_is_given(void **state)
{
	static const char sql[] =
		"INSERT INTO messages(id, key, received, kind, raw, decoded) VALUES(1, 'k', '2026-01-01T10:01:00Z', 'x', 'x', '{}');"
		"INSERT INTO device_events(message_id, device, request_id, event, detail, at) VALUES(1, '" A "', NULL, 'left_campaign', 'change_of_supplier', '2026-01-01T10:01:00Z'),"
		"  (1, '" B "', NULL, 'left_campaign', 'suspended', '2026-01-01T10:01:00Z'),"
		"  (1, '" C "', NULL, 'left_campaign', 'suspended', '2026-01-01T10:01:00Z'),"
		"  (1, '" C "', NULL, 'restored', NULL, '2026-01-01T10:02:00Z'),"
		"  (1, '" D "', NULL, 'left_campaign', 'ppmid_removed', '2026-01-01T10:01:00Z');";
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_run_device d = { A, 1, 0, HFW_RUN_PENDING, NULL, 0 };
	struct wave w;
	char got[512] = "";
	json_t *st = NULL;
	hfw_ledger *l;
	int all;

	(void)state;
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	raw(sql);
	/* A, B and C in wave 1; D (another wave's) is not this wave's. */
	assert_int_equal(hfw_run_add_device(l, "spring", &d, &err), 0);
	d.device = B;
	assert_int_equal(hfw_run_add_device(l, "spring", &d, &err), 0);
	d.device = C;
	assert_int_equal(hfw_run_add_device(l, "spring", &d, &err), 0);
	d.device = D;
	d.wave = 2;
	assert_int_equal(hfw_run_add_device(l, "spring", &d, &err), 0);
	w.l = l;
	w.wave = 1;
	assert_int_equal(hfw_campaign_states_of(rows, &w, put, got, &err), 0);
	assert_string_equal(got, A " left_campaign change_of_supplier;" B " left_campaign suspended;");
	assert_int_equal(hfw_campaign_status(&st, l, "spring", NULL, 1, &all, &err), 0);
	assert_int_equal(json_array_size(json_object_get(st, "device_states")), 0);
	json_decref(st);
	hfw_ledger_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(wave_rows_give_the_campaigns_states, setup, teardown),
		cmocka_unit_test_setup_teardown(statements_kept_per_run, setup, teardown),
		cmocka_unit_test_setup_teardown(late_alerts_settle_their_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(a_device_that_left_before_its_distribution_is_given, setup, teardown),
		PG_TEST(wave_rows_give_the_campaigns_states),
		PG_TEST(statements_kept_per_run),
		PG_TEST(late_alerts_settle_their_devices),
		PG_TEST(a_device_that_left_before_its_distribution_is_given),
	};
	const char *uri = getenv("HFW_TEST_PG_URI");

	const size_t n = sizeof(tests) / sizeof(tests[0]);

	/* The PostgreSQL tests (the second half) join when there is a server to run them on. */
	return _cmocka_run_group_tests("tests", tests, uri && *uri ? n : n / 2, NULL, NULL);
}
