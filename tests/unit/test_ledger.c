/*
 * Unit tests: the ledger's counters never go back, never repeat, across
 * processes.  The backend-neutral tests run on SQLite, and again on
 * PostgreSQL when HFW_TEST_PG_URI names a database they may empty
 * (tests/pg/pg-start makes one; make test-pass does).
 */
#include "ledgertest.h"

#include <sys/wait.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "../../lib/fileio.h"
#include "../../lib/ledger.h"


static struct hfw_eui supplier(void)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_eui e;

	assert_int_equal(hfw_eui_parse(&e, "90-B3-D5-1F-30-01-00-00", "s", &err), 0);
	return e;
}

static void counters_rise(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_eui s = supplier(), other;
	hfw_ledger *l = NULL;
	uint64_t first, last;

	(void)state;
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_ledger_reserve(l, &s, 5000, 1, &first, &err), 0);
	assert_true(first == 5000);
	/* The clock going back never brings a counter back. */
	assert_int_equal(hfw_ledger_reserve(l, &s, 100, 10, &first, &err), 0);
	assert_true(first == 5001);
	assert_int_equal(hfw_ledger_last(l, &s, &last, &err), 0);
	assert_true(last == 5010);
	assert_int_equal(hfw_ledger_reserve(l, &s, 9000, 1, &first, &err), 0);
	assert_true(first == 9000);
	assert_int_equal(hfw_ledger_claim(l, &s, 9000, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "never reused"));
	assert_int_equal(hfw_ledger_claim(l, &s, 9001, &err), 0);
	/* Originators are independent. */
	other = s;
	other.b[5] = 3;
	assert_int_equal(hfw_ledger_claim(l, &other, 1000, &err), 0);
	hfw_ledger_close(l);
	/* And it is all on disk. */
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_ledger_last(l, &s, &last, &err), 0);
	assert_true(last == 9001);
	hfw_ledger_close(l);
}

static void requests_recorded_once(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_ledger_request r;
	hfw_ledger *l = NULL;
	int64_t n;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id.originator = supplier();
	r.id.counter = 42;
	r.service_reference = "11.3";
	r.command_variant = 4;
	r.state = "signed";
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_ledger_record(l, &r, 1, &err), 0);
	assert_int_equal(hfw_ledger_record(l, &r, 1, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "already in the ledger"));
	assert_int_equal(hfw_ledger_count(l, &n, &err), 0);
	assert_int_equal(n, 1);
	hfw_ledger_close(l);
	if (pg)
		return;
	{
		static const char junk[] = "not a database, just text long enough to be looked at ..................";

		write_file(path, junk, sizeof(junk) - 1);
	}
	assert_int_equal(hfw_ledger_open(&l, path, &err), HFW_EIO);
}

/* Four processes reserving at once never get the same counter. */
static void parallel_processes(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_eui s = supplier();
	hfw_ledger *l = NULL;
	char out[4200];
	int p, status;
	enum { PROCS = 4, EACH = 150 };

	(void)state;
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);	/* create it first */
	hfw_ledger_close(l);
	for (p = 0; p < PROCS; p++) {
		if (fork() == 0) {
			FILE *f;
			uint64_t c;
			int i;

			snprintf(out, sizeof(out), "%s/out%d", dir, p);
			f = fopen(out, "w");
			if (!f || hfw_ledger_open(&l, path, &err) < 0)
				_exit(1);
			for (i = 0; i < EACH; i++) {
				if (hfw_ledger_reserve(l, &s, hfw_now_ms(), 1, &c, &err) < 0)
					_exit(2);
				fprintf(f, "%llu\n", (unsigned long long)c);
			}
			fclose(f);
			hfw_ledger_close(l);
			_exit(0);
		}
	}
	for (p = 0; p < PROCS; p++) {
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	snprintf(out, sizeof(out), "test \"$(cat %s/out* | sort | uniq -d | wc -l)\" = 0 && "
		 "test \"$(cat %s/out* | wc -l)\" = %d", dir, dir, PROCS * EACH);
	assert_int_equal(system(out), 0);
}

struct seen {
	unsigned rows, counted;
	uint64_t count, size, kept;
	char sha256[65], sender[32];
};

static int see(void *arg, const struct hfw_ledger_quarantined *q)
{
	struct seen *s = arg;

	if (q->counted) {
		s->counted++;
		s->count += q->count;
		s->size += q->size;
	} else {
		s->rows++;
		s->kept += q->kept;
		snprintf(s->sha256, sizeof(s->sha256), "%s", q->sha256 ? q->sha256 : "");
		snprintf(s->sender, sizeof(s->sender), "%s", q->sender ? q->sender : "");
	}
	return 0;
}

/* A refused body keeps a 4 KiB prefix, its hash and size; past the cap only counts per reason. */
static void quarantine_bounded(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	static uint8_t body[100000];
	struct hfw_ledger_refusal q = { "127.0.0.2", body, sizeof(body), 2000000, "not signed" };
	struct seen s;
	hfw_ledger *l = NULL;
	int i;

	(void)state;
	memset(body, 'A', sizeof(body));
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	/* Room for two rows of 4096 + 256 in 9000 bytes; the other three are counted. */
	for (i = 0; i < 5; i++)
		assert_int_equal(hfw_ledger_quarantine(l, &q, 9000, &err), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(hfw_ledger_each_quarantined(l, NULL, see, &s, &err), 0);
	assert_int_equal(s.rows, 2);
	assert_int_equal(s.kept, 2 * HFW_LEDGER_QUARANTINE_PREFIX);
	assert_string_equal(s.sender, "127.0.0.2");
	/* sha256 of 100,000 'A's */
	assert_string_equal(s.sha256, "e6631225e83d23bf67657e85109ad5deb3570e1405d7aaa23a2485ae8582c143");
	assert_int_equal(s.counted, 1);
	assert_int_equal(s.count, 3);
	assert_int_equal(s.size, 3 * 2000000ull);
	/* Nothing since a time to come. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(hfw_ledger_each_quarantined(l, "2999", see, &s, &err), 0);
	assert_int_equal(s.rows + s.counted, 0);
	hfw_ledger_close(l);
}

/* Size and SHA-256 of a file, to see that it was not touched. */
static void file_print(const char *file, char out[80])
{
	uint8_t *data = NULL, md[32];
	size_t len = 0;
	struct hfw_error err = HFW_ERROR_INIT;
	unsigned i;

	assert_int_equal(hfw_file_read(&data, &len, file, 1u << 26, "ledger", &err), 0);
	EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
	snprintf(out, 80, "%zu:", len);
	for (i = 0; i < 16; i++)
		snprintf(out + strlen(out), 80 - strlen(out), "%02x", md[i]);
	free(data);
}

/*
 * What set-up opens beside the keys (hfw_ledger_open_current): only a
 * ledger already at this hanfw's version; an empty file or an older
 * ledger is left byte for byte as it was, and a URI is not tried.
 */
static void open_current_changes_nothing_else(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *l = NULL;
	sqlite3 *db;
	char before[80], after[80];
	FILE *f;

	(void)state;
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_int_equal(hfw_ledger_open_current(&l, path, &err), 1);
	assert_null(l);
	file_print(path, after);
	assert_string_equal(after, "0:e3b0c44298fc1c149afbf4c8996fb924");
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);	/* made a ledger */
	hfw_ledger_close(l);
	assert_int_equal(hfw_ledger_open_current(&l, path, &err), 0);
	assert_non_null(l);
	hfw_ledger_close(l);
	l = NULL;
	/* An older one (before schema_version): not opened, not migrated. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE schema_version; PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	file_print(path, before);
	assert_int_equal(hfw_ledger_open_current(&l, path, &err), 1);
	assert_null(l);
	file_print(path, after);
	assert_string_equal(after, before);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);	/* nor in its WAL */
	assert_int_not_equal(sqlite3_exec(db, "SELECT version FROM schema_version", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(hfw_ledger_open_current(&l, "postgresql://nowhere.invalid/x", &err), 1);
	assert_null(l);
}

/* A ledger written before the FirmwareHash had one name (column image_sha256) opens, and keeps its campaigns. */
static void old_hash_column_migrated(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_firmware_hash h;
	hfw_ledger *l = NULL;
	sqlite3 *db;
	char campaign[64];

	(void)state;
	memset(h, 0xab, sizeof(h));
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	hfw_ledger_close(l);
	/* Make it as an older hanfw left it (before schema_version, with the old column name). */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE schema_version;"
				      "ALTER TABLE campaign_requests RENAME COLUMN firmware_hash TO image_sha256;"
				      "INSERT INTO campaign_requests(request_id, campaign, action, image_sha256) VALUES"
				      "('r', 'ESME-0102', 'distribute', "
				      "'abababababababababababababababababababababababababababababababab')",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	if (hfw_ledger_open(&l, path, &err) < 0)
		fail_msg("%s", err.text);
	assert_int_equal(hfw_ledger_campaign_by_hash(l, h, NULL, campaign, sizeof(campaign), &err), 0);
	assert_string_equal(campaign, "ESME-0102");
	assert_int_equal(hfw_ledger_campaign_request(l, "r2", "ESME-0103", "distribute", NULL, NULL, h, &err), 0);
	hfw_ledger_close(l);
	/* And again: a current ledger is left alone. */
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_ledger_campaign_by_hash(l, h, NULL, campaign, sizeof(campaign), &err), 0);
	assert_string_equal(campaign, "ESME-0103");
	hfw_ledger_close(l);
}

static int count_row(void *arg, const struct hfw_ledger_row *row)
{
	(void)row;
	++*(int *)arg;
	return 0;
}

static int describe_row(void *arg, const struct hfw_ledger_row *row)
{
	char *all = arg;
	size_t used = strlen(all);

	snprintf(all + used, 512 - used, "%s|%s|%s|%s|%s;", row->device, row->request_id ? row->request_id : "(null)",
		 row->state, row->detail ? row->detail : "(null)", row->at ? row->at : "(null)");
	return 0;
}

static int collect(void *arg, const char *name)
{
	char *all = arg;
	size_t used = strlen(all);

	snprintf(all + used, 256 - used, "%s;", name);
	return strcmp(name, "stop") == 0;
}

/* Completion's campaign names: each once, sorted; the callback can stop the walk. */
static void campaign_names(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *l = NULL;
	char all[256] = "";

	(void)state;
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_ledger_each_campaign_name(l, collect, all, &err), 0);
	assert_string_equal(all, "");
	assert_int_equal(hfw_ledger_campaign_request(l, "r1", "beta", "distribute", "PPMID", "01020304", NULL, &err), 0);
	assert_int_equal(hfw_ledger_campaign_request(l, "r2", "alpha", "activate", "PPMID", "01020304", NULL, &err), 0);
	assert_int_equal(hfw_ledger_campaign_request(l, "r3", "beta", "activate", "PPMID", "01020304", NULL, &err), 0);
	assert_int_equal(hfw_ledger_campaign_request(l, "r4", "stop", "activate", "PPMID", "01020304", NULL, &err), 0);
	assert_int_equal(hfw_ledger_campaign_request(l, "r5", "zulu", "activate", "PPMID", "01020304", NULL, &err), 0);
	assert_int_equal(hfw_ledger_each_campaign_name(l, collect, all, &err), 1);
	assert_string_equal(all, "alpha;beta;stop;");
	hfw_ledger_close(l);
}

/* A ledger URI carrying a password is refused before connecting, naming the rule. */
static void password_in_uri_refused(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *l = NULL;

	(void)state;
	assert_int_equal(hfw_ledger_open(&l, "postgresql://hanfw:secret@/ledger?host=/nonexistent", &err), HFW_ECONFIG);
	assert_null(l);
	assert_non_null(strstr(err.text, "carries a password"));
	assert_non_null(strstr(err.text, "PGPASSWORD"));
	assert_int_equal(hfw_ledger_open(&l, "postgres:///ledger?host=/nonexistent&password=secret", &err), HFW_ECONFIG);
	/* A client key's passphrase is a secret too. */
	assert_int_equal(hfw_ledger_open(&l, "postgres:///ledger?host=/nonexistent&sslpassword=keypw", &err), HFW_ECONFIG);
	assert_non_null(strstr(err.text, "carries a sslpassword"));
	/* A URI libpq cannot parse: refused without quoting it (libpq's message would show "a%2"). */
	assert_int_equal(hfw_ledger_open(&l, "postgres:///ledger?host=/nonexistent&password=a%2", &err), HFW_ECONFIG);
	assert_null(strstr(err.text, "a%2"));
	assert_non_null(strstr(err.text, "not a PostgreSQL URI"));
	assert_true(hfw_ledger_is_uri("postgres://x") && hfw_ledger_is_uri("postgresql://x"));
	assert_false(hfw_ledger_is_uri("/var/lib/ledger.sqlite") || hfw_ledger_is_uri("postgresql.sqlite"));
}

static struct hfw_ledger_request request(uint64_t counter)
{
	struct hfw_ledger_request r;

	memset(&r, 0, sizeof(r));
	r.id.originator = supplier();
	r.id.counter = counter;
	r.service_reference = "11.3";
	r.command_variant = 4;
	r.state = "signed";
	return r;
}

/*
 * In a transaction: a refused RequestID leaves the rest intact (as SQLite's
 * statement rollback does), and a savepoint undone gives its counter back.
 */
static void transaction_survives_refusal(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_ledger_request r1 = request(7), r2 = request(8);
	struct hfw_eui s = supplier();
	hfw_ledger *l = NULL;
	uint64_t first, again, last;
	int64_t n;

	(void)state;
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_ledger_begin(l, &err), 0);
	assert_int_equal(hfw_ledger_reserve(l, &s, 1000, 1, &first, &err), 0);
	assert_int_equal(hfw_ledger_record(l, &r1, 1, &err), 0);
	assert_int_equal(hfw_ledger_record(l, &r1, 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_ledger_savepoint(l, &err), 0);
	assert_int_equal(hfw_ledger_reserve(l, &s, 1000, 1, &again, &err), 0);
	assert_true(again == first + 1);
	assert_int_equal(hfw_ledger_savepoint_end(l, 0, &err), 0);
	assert_int_equal(hfw_ledger_record(l, &r2, 1, &err), 0);
	assert_int_equal(hfw_ledger_commit(l, &err), 0);
	assert_int_equal(hfw_ledger_count(l, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(hfw_ledger_last(l, &s, &last, &err), 0);
	assert_true(last == first);
	hfw_ledger_close(l);
}

/* The receiver's rule across two handles (two receivers): a message key is stored once, then counted. */
static void duplicates_across_handles(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	/* Fields as a device or the DCC may word them: quotes, backslashes, commas, braces, NULL. */
	struct hfw_ledger_event ev[2] = {
		{ "00-00-00-00-00-00-00-01", NULL, "activated", "01 \"x\" \\ y,{z} NULL", "2026-01-01T00:00:00Z" },
		{ "00-00-00-00-00-00-00-02", "R\"1", "verified", NULL, NULL },
	};
	static const uint8_t raw[] = "<Response/>\0with a zero";
	struct hfw_ledger_message m = { "RESP-1", NULL, "response", "I0", raw, sizeof(raw), "{}", ev, 2 };
	hfw_ledger *a = NULL, *b = NULL;
	char seen[512] = "";
	int dup = -1;

	(void)state;
	assert_int_equal(hfw_ledger_open(&a, path, &err), 0);
	assert_int_equal(hfw_ledger_open(&b, path, &err), 0);
	assert_int_equal(hfw_ledger_store_message(a, &m, &dup, &err), 0);
	assert_int_equal(dup, 0);
	assert_int_equal(hfw_ledger_begin(b, &err), 0);
	assert_int_equal(hfw_ledger_store_message(b, &m, &dup, &err), 0);
	assert_int_equal(dup, 1);
	assert_int_equal(hfw_ledger_commit(b, &err), 0);
	assert_int_equal(hfw_ledger_store_message(a, &m, &dup, &err), 0);
	assert_int_equal(dup, 1);
	hfw_ledger_close(a);
	assert_int_equal(hfw_ledger_each_campaign_row(b, NULL, NULL, describe_row, seen, &err), 0);
	/* The two events, once each, in order, as they were. */
	assert_string_equal(seen, "00-00-00-00-00-00-00-01|(null)|activated|01 \"x\" \\ y,{z} NULL|2026-01-01T00:00:00Z;"
				  "00-00-00-00-00-00-00-02|R\"1|verified|(null)|(null);");
	hfw_ledger_close(b);
}

/*
 * A connection lost: the operation fails with HFW_EIO (a receiver answers
 * 500), a transaction it was in is gone (its counter never used), and the
 * next operation reconnects.
 */
static void connection_lost(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_ledger_request r = request(9);
	struct hfw_eui s = supplier();
	hfw_ledger *l = NULL;
	uint64_t first, c, last;
	static const char kill[] = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
				   "WHERE datname = current_database() AND pid <> pg_backend_pid()";

	(void)state;
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_ledger_reserve(l, &s, 1000, 1, &first, &err), 0);
	pg_sql(kill);
	assert_int_equal(hfw_ledger_last(l, &s, &last, &err), HFW_EIO);
	assert_int_equal(hfw_ledger_last(l, &s, &last, &err), 0);	/* reconnected */
	assert_true(last == first);
	/* Lost in a transaction: nothing of it kept, nothing more done in it. */
	assert_int_equal(hfw_ledger_begin(l, &err), 0);
	assert_int_equal(hfw_ledger_reserve(l, &s, 1000, 1, &c, &err), 0);
	assert_true(c == first + 1);
	pg_sql(kill);
	assert_int_equal(hfw_ledger_record(l, &r, 1, &err), HFW_EIO);
	assert_int_equal(hfw_ledger_record(l, &r, 1, &err), HFW_EIO);
	assert_non_null(strstr(err.text, "lost in a transaction"));
	hfw_ledger_rollback(l);
	assert_int_equal(hfw_ledger_last(l, &s, &last, &err), 0);
	assert_true(last == first);
	hfw_ledger_close(l);
}

/* SQLite -> PostgreSQL -> SQLite: every row, verified; a target with rows is refused. */
static void copy_both_ways(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	/* Text with what COPY's text format escapes: a tab, a newline, a carriage return, backslashes, "\\N". */
	struct hfw_ledger_event ev = { "00-00-00-00-00-00-00-01", "R1", "activated", "a\tb\nc\rd\\e\\N\\.",
				       "2026-01-01T00:00:00Z" };
	static const uint8_t raw[] = { 0, 1, 2, 0xff };
	struct hfw_ledger_message m = { "RESP-9", "R1", "response", NULL, raw, sizeof(raw), "{\"x\":1}", &ev, 1 };
	struct hfw_ledger_refusal q = { NULL, raw, sizeof(raw), 4, "bad" };
	struct hfw_ledger_request r = request(11);
	struct hfw_eui s = supplier();
	char lite[4300], back[4300];
	hfw_ledger *l = NULL;
	uint64_t first, last;
	int64_t n;
	int dup, rows = 0;

	(void)state;
	snprintf(lite, sizeof(lite), "%s/source.sqlite", dir);
	snprintf(back, sizeof(back), "%s/back.sqlite", dir);
	assert_int_equal(hfw_ledger_open(&l, lite, &err), 0);
	assert_int_equal(hfw_ledger_reserve(l, &s, 5000, 3, &first, &err), 0);
	assert_int_equal(hfw_ledger_record(l, &r, 1, &err), 0);
	assert_int_equal(hfw_ledger_step(l, "R1", "sent", "I0", "why", &err), HFW_ERROR);
	assert_int_equal(hfw_ledger_campaign_request(l, "R1", "c1", "distribute", "ESME", "0102", NULL, &err), 0);
	assert_int_equal(hfw_ledger_store_message(l, &m, &dup, &err), 0);
	assert_int_equal(hfw_ledger_quarantine(l, &q, 1u << 20, &err), 0);
	q.len = q.size = 0;	/* an empty POST: an empty blob, not NULL, on both sides */
	assert_int_equal(hfw_ledger_quarantine(l, &q, 1u << 20, &err), 0);
	hfw_ledger_close(l);
	if (hfw_ledger_copy(lite, path, NULL, NULL, &err) < 0)
		fail_msg("%s", err.text);
	assert_int_equal(hfw_ledger_copy(lite, path, NULL, NULL, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "not empty"));
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_ledger_last(l, &s, &last, &err), 0);
	assert_true(last == 5002);
	assert_int_equal(hfw_ledger_count(l, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hfw_ledger_each_campaign_row(l, "c1", NULL, count_row, &rows, &err), 0);
	assert_int_equal(rows, 1);
	/* Ids go on after the copied ones. */
	m.key = "RESP-10";
	assert_int_equal(hfw_ledger_store_message(l, &m, &dup, &err), 0);
	hfw_ledger_close(l);
	if (hfw_ledger_copy(path, back, NULL, NULL, &err) < 0)
		fail_msg("%s", err.text);
}

int main(void)
{
	const struct CMUnitTest pg_tests[] = {
		PG_TEST(counters_rise),
		PG_TEST(requests_recorded_once),
		PG_TEST(parallel_processes),
		PG_TEST(quarantine_bounded),
		PG_TEST(campaign_names),
		PG_TEST(transaction_survives_refusal),
		PG_TEST(duplicates_across_handles),
		PG_TEST(connection_lost),
		PG_TEST(copy_both_ways),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(password_in_uri_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(open_current_changes_nothing_else, setup, teardown),
		cmocka_unit_test_setup_teardown(transaction_survives_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicates_across_handles, setup, teardown),
		cmocka_unit_test_setup_teardown(counters_rise, setup, teardown),
		cmocka_unit_test_setup_teardown(requests_recorded_once, setup, teardown),
		cmocka_unit_test_setup_teardown(parallel_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(quarantine_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(old_hash_column_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(campaign_names, setup, teardown),
	};

	/* One group (one summary): the PostgreSQL tests join when there is a server to run them on. */
	struct CMUnitTest all[sizeof(tests) / sizeof(tests[0]) + sizeof(pg_tests) / sizeof(pg_tests[0])];
	size_t n = sizeof(tests) / sizeof(tests[0]);
	const char *uri = getenv("HFW_TEST_PG_URI");

	memcpy(all, tests, sizeof(tests));
	if (uri && *uri) {
		memcpy(all + n, pg_tests, sizeof(pg_tests));
		n += sizeof(pg_tests) / sizeof(pg_tests[0]);
	}
	return _cmocka_run_group_tests("ledger", all, n, NULL, NULL);
}
