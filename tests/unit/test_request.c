/*
 * Unit tests: the request lifecycle (lib/request.c).  A request's counter
 * and record are committed before anything can send it; a failed send never
 * gives its counter back; a batch that fails leaves nothing behind.
 */
#define TESTUTIL_PKI
#include "testutil.h"

#include <sqlite3.h>

#include "../../lib/ledger.h"
#include "../../lib/request.h"

static char *dir;
static hfw_signer *signer;
static hfw_ledger *ledger;
static const char *const supplier = "90-B3-D5-1F-30-01-00-00";

static const char *tmp(const char *name)
{
	return path_in(dir, name);
}

static int setup(void **state)
{
	(void)state;
	dir = test_pki_dir(&signer, &ledger, supplier);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_pki_dir_free(dir, signer, ledger);
	return 0;
}

/* A read-version request to device number k. */
static void read_version(struct hfw_request *r, int k)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char eui[32];

	memset(r, 0, sizeof(*r));
	snprintf(eui, sizeof(eui), "00-11-22-33-44-55-66-%02X", k);
	assert_int_equal(hfw_eui_parse(&r->duis.id.originator, supplier, "o", &err), 0);
	assert_int_equal(hfw_eui_parse(&r->duis.id.target, eui, "t", &err), 0);
	r->duis.body = HFW_BODY_READ_FIRMWARE_VERSION;
	r->duis.schema_version = "5.4";
	r->state = "signed";
}

/* What another process reading the ledger file sees of a request: its state, or "" if none. */
static void state_on_disk(const char *rid, char out[64])
{
	sqlite3 *db;
	sqlite3_stmt *st;

	out[0] = '\0';
	assert_int_equal(sqlite3_open_v2(tmp("ledger.sqlite"), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT state FROM requests WHERE request_id=?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, 64, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* How many requests the ledger file holds. */
static int requests_on_disk(void)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_open_v2(tmp("ledger.sqlite"), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM requests", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

struct sent {
	int calls;
	char state[64];
	uint64_t last_on_disk;
};

/* The adapter: looks at the ledger as another process would, then fails as an unreachable one does. */
static int send_unreachable(void *arg, const char *path, const struct hfw_request *r, struct hfw_reply *reply,
			    enum hfw_delivery *delivery, struct hfw_error *err)
{
	struct sent *s = arg;
	struct hfw_error e = HFW_ERROR_INIT;
	hfw_ledger *other;

	(void)reply;
	assert_string_equal(path, "/serviceS");
	s->calls++;
	state_on_disk(r->request_id, s->state);
	assert_int_equal(hfw_ledger_open(&other, tmp("ledger.sqlite"), &e), 0);
	assert_int_equal(hfw_ledger_last(other, &r->duis.id.originator, &s->last_on_disk, &e), 0);
	hfw_ledger_close(other);
	*delivery = HFW_NOT_SENT;
	return hfw_error_set(err, HFW_ETRANSPORT, "cannot connect");
}

static void counter_committed_before_send(void **state)
{
	struct hfw_request_batch b = { ledger, signer, 0 };
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_request r, again;
	struct hfw_reply reply;
	enum hfw_delivery d;
	struct sent s = { 0, "", 0 };

	(void)state;
	memset(&reply, 0, sizeof(reply));
	read_version(&r, 1);
	if (hfw_request_prepare(&b, &r, 1, &err) < 0)
		fail_msg("%s", err.text);
	assert_true(r.committed);
	assert_true(r.xml.len > 0);
	assert_int_equal(hfw_request_send(send_unreachable, &s, "/serviceS", &r, &reply, &d, &err), HFW_ETRANSPORT);
	assert_int_equal(s.calls, 1);
	/* When it was being sent, the request and its counter were already on disk. */
	assert_string_equal(s.state, "signed");
	assert_true(s.last_on_disk >= r.duis.id.counter);

	/* The send failed: the next request takes a fresh counter, never this one. */
	read_version(&again, 1);
	if (hfw_request_prepare(&b, &again, 1, &err) < 0)
		fail_msg("%s", err.text);
	assert_true(again.duis.id.counter > r.duis.id.counter);
	assert_string_not_equal(again.request_id, r.request_id);
	hfw_request_release(&r);
	hfw_request_release(&again);
}

static void uncommitted_is_never_sent(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_request r;
	struct hfw_reply reply;
	enum hfw_delivery d;
	struct sent s = { 0, "", 0 };

	(void)state;
	memset(&reply, 0, sizeof(reply));
	read_version(&r, 2);
	assert_int_equal(hfw_request_send(send_unreachable, &s, "/serviceS", &r, &reply, &d, &err), HFW_ERROR);
	assert_int_equal(s.calls, 0);
	assert_int_equal(d, HFW_NOT_SENT);
	assert_non_null(strstr(err.text, "not committed"));
	assert_int_equal(hfw_request_write_dry_run(dir, &r, &err), HFW_ERROR);
}

static void batch_counters_consecutive(void **state)
{
	struct hfw_request_batch b = { ledger, signer, 1 };
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_request r[3];
	char st[64];
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		read_version(&r[i], 10 + i);
	if (hfw_request_prepare(&b, r, 3, &err) < 0)
		fail_msg("%s", err.text);
	for (i = 0; i < 3; i++) {
		assert_true(r[i].committed);
		assert_int_equal(r[i].duis.id.counter, r[0].duis.id.counter + (uint64_t)i);
		state_on_disk(r[i].request_id, st);
		assert_string_equal(st, "dry-run");
		assert_int_equal(hfw_request_write_dry_run(dir, &r[i], &err), 0);
		hfw_request_release(&r[i]);
	}
}

static void failed_batch_leaves_nothing(void **state)
{
	struct hfw_request_batch b = { ledger, signer, 0 };
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_request r[2];

	(void)state;
	read_version(&r[0], 20);
	read_version(&r[1], 21);
	r[1].duis.schema_version = "five";	/* refused when built */
	assert_int_equal(hfw_request_prepare(&b, r, 2, &err), HFW_ECONFIG);
	assert_false(r[0].committed);
	assert_int_equal(r[0].xml.len, 0);
	assert_string_equal(r[0].request_id, "");
	/* Neither is recorded: nothing half-done to send. */
	assert_int_equal(requests_on_disk(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(counter_committed_before_send, setup, teardown),
		cmocka_unit_test_setup_teardown(uncommitted_is_never_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_counters_consecutive, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_batch_leaves_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
