/* ledger_sqlite.c - the SQLite ledger backend (the default; see ledger.h, ledger_backend.h). */
#include "ledger_backend.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "hex.h"

struct sq_ledger {
	struct hfw_ledger base;
	sqlite3 *db;
	char *path;
	/* Prepared statements, kept: preparing costs more than running these. */
	struct { const char *sql; sqlite3_stmt *st; } cache[16];
	/* The run's statements (enum run_sql), kept between sq_run_cache(l, 1) and (l, 0). */
	sqlite3_stmt *run_st[16];
	int run_cached;
};

#define SQ(l) ((struct sq_ledger *)(l))

static const struct hfw_ledger_ops sq_ops;
static void sq_close(hfw_ledger *l);
static void sq_rollback(hfw_ledger *l);

/* A statement for sql (a string literal: the cache goes by its address), ready to bind. */
static int prepare(hfw_ledger *l, sqlite3_stmt **st, const char *sql)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(SQ(l)->cache) / sizeof(SQ(l)->cache[0]) && SQ(l)->cache[i].sql; i++)
		if (SQ(l)->cache[i].sql == sql) {
			*st = SQ(l)->cache[i].st;
			return SQLITE_OK;
		}
	if ((rc = sqlite3_prepare_v2(SQ(l)->db, sql, -1, st, NULL)) != SQLITE_OK)
		return rc;
	if (i < sizeof(SQ(l)->cache) / sizeof(SQ(l)->cache[0])) {
		SQ(l)->cache[i].sql = sql;
		SQ(l)->cache[i].st = *st;
	}
	return SQLITE_OK;
}

/* Done with a statement: reset for the next use (finalised only if it is not cached). */
static void release(hfw_ledger *l, sqlite3_stmt *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < sizeof(SQ(l)->cache) / sizeof(SQ(l)->cache[0]); i++)
		if (SQ(l)->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	sqlite3_finalize(st);
}

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT OR IGNORE INTO meta VALUES('format', 'hanfw-ledger-1');"
	"CREATE TABLE IF NOT EXISTS counters("
	"  originator TEXT PRIMARY KEY,"
	"  last INTEGER NOT NULL CHECK (last >= 0));"
	"CREATE TABLE IF NOT EXISTS requests("
	"  request_id TEXT PRIMARY KEY,"
	"  originator TEXT NOT NULL, target TEXT NOT NULL, counter INTEGER NOT NULL,"
	"  service_reference TEXT NOT NULL, command_variant INTEGER NOT NULL,"
	"  body_sha256 TEXT NOT NULL, created TEXT NOT NULL, state TEXT NOT NULL,"
	"  response_code TEXT, UNIQUE (originator, counter));"
	"CREATE TABLE IF NOT EXISTS request_devices("
	"  request_id TEXT NOT NULL REFERENCES requests(request_id),"
	"  device TEXT NOT NULL, outcome TEXT NOT NULL,"
	"  PRIMARY KEY (request_id, device));"
	"CREATE TABLE IF NOT EXISTS request_steps("
	"  request_id TEXT NOT NULL REFERENCES requests(request_id),"
	"  at TEXT NOT NULL, state TEXT NOT NULL, response_code TEXT, detail TEXT);"
	/* Which campaign a request belongs to, and what it was for. */
	"CREATE TABLE IF NOT EXISTS campaign_requests("
	"  request_id TEXT PRIMARY KEY, campaign TEXT NOT NULL, action TEXT NOT NULL,"
	"  device_type TEXT, firmware_version TEXT, firmware_hash TEXT);"
	"CREATE INDEX IF NOT EXISTS campaign_requests_campaign ON campaign_requests(campaign);"
	/* What the DCC sent the receive URL: every accepted message, raw and decoded, once. */
	"CREATE TABLE IF NOT EXISTS messages("
	"  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, received TEXT NOT NULL,"
	"  request_id TEXT, kind TEXT NOT NULL, response_code TEXT,"
	"  duplicates INTEGER NOT NULL DEFAULT 0, raw BLOB NOT NULL, decoded TEXT NOT NULL);"
	/*
	 * What was refused: a bounded prefix of each body (raw), its SHA-256 and
	 * full size, who sent it (sender, size and sha256 were added later: see
	 * add_columns); beyond the cap, only counts per reason.
	 */
	"CREATE TABLE IF NOT EXISTS quarantine("
	"  id INTEGER PRIMARY KEY, received TEXT NOT NULL, reason TEXT NOT NULL, raw BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS quarantine_counts("
	"  reason TEXT PRIMARY KEY, count INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	"  first TEXT NOT NULL, last TEXT NOT NULL);"
	/* What each message says about each device. */
	"CREATE TABLE IF NOT EXISTS device_events("
	"  message_id INTEGER NOT NULL REFERENCES messages(id), device TEXT NOT NULL,"
	"  request_id TEXT, event TEXT NOT NULL, detail TEXT, at TEXT);"
	"CREATE INDEX IF NOT EXISTS device_events_device ON device_events(device);"
	/* Campaign runs (run.h): added by issue 14, made in older ledgers when they are opened. */
	"CREATE TABLE IF NOT EXISTS run_campaigns("
	"  name TEXT PRIMARY KEY, plan_path TEXT NOT NULL, plan_sha256 TEXT NOT NULL, state TEXT NOT NULL,"
	"  reason TEXT, wave INTEGER NOT NULL, wave_started_ms INTEGER NOT NULL, gate_passed INTEGER NOT NULL,"
	"  min_canary REAL NOT NULL, min_wave REAL NOT NULL, wave_timeout_s INTEGER NOT NULL, updated TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS run_devices("
	"  campaign TEXT NOT NULL, device TEXT NOT NULL, wave INTEGER NOT NULL, image INTEGER NOT NULL,"
	"  step TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL, updated TEXT NOT NULL,"
	"  PRIMARY KEY (campaign, device));"
	/* A polling round reads one wave's devices. */
	"CREATE INDEX IF NOT EXISTS run_devices_wave ON run_devices(campaign, wave);"
	/* Re-drive windows (run.h hfw_run_redrive): per-class counts as "0,2,0,...". */
	"CREATE TABLE IF NOT EXISTS run_redrive("
	"  campaign TEXT NOT NULL, device TEXT NOT NULL, step TEXT NOT NULL, attempts INTEGER NOT NULL,"
	"  seen_ms INTEGER NOT NULL, due_ms INTEGER NOT NULL, redrives TEXT NOT NULL,"
	"  PRIMARY KEY (campaign, device));"
	"CREATE INDEX IF NOT EXISTS request_devices_device ON request_devices(device);";

static int db_error(hfw_ledger *l, struct hfw_error *err, const char *what)
{
	return hfw_error_set(err, HFW_EIO, "ledger '%s': %s: %s", SQ(l)->path, what, sqlite3_errmsg(SQ(l)->db));
}

/* Whether a query prepares (a column or table exists): 1, or 0. */
static int prepares(hfw_ledger *l, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int ok = sqlite3_prepare_v2(SQ(l)->db, sql, -1, &st, NULL) == SQLITE_OK;

	sqlite3_finalize(st);
	return ok;
}

/* Whether campaign_requests still has its old column image_sha256: 1, 0, or <0. */
static int has_old_hash_column(hfw_ledger *l, struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(SQ(l)->db, "SELECT 1 FROM pragma_table_info('campaign_requests') WHERE name='image_sha256'",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot migrate");
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(l, err, "cannot migrate");
	return rc == SQLITE_ROW;
}

/*
 * Version 2: ledgers written before the FirmwareHash had one name call its
 * column campaign_requests.image_sha256.
 */
static int migrate_hash_column(hfw_ledger *l, struct hfw_error *err)
{
	int ret;

	if ((ret = has_old_hash_column(l, err)) <= 0)
		return ret;
	if (sqlite3_exec(SQ(l)->db, "ALTER TABLE campaign_requests RENAME COLUMN image_sha256 TO firmware_hash",
			 NULL, NULL, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot migrate");
	return 0;
}

/* Version 3: ledgers made before the quarantine kept its senders, sizes and hashes get the columns (NULL in old rows). */
static int migrate_quarantine_columns(hfw_ledger *l, struct hfw_error *err)
{
	if (prepares(l, "SELECT sender, size, sha256 FROM quarantine LIMIT 0"))
		return 0;
	if (sqlite3_exec(SQ(l)->db, "ALTER TABLE quarantine ADD COLUMN sender TEXT;"
				    "ALTER TABLE quarantine ADD COLUMN size INTEGER;"
				    "ALTER TABLE quarantine ADD COLUMN sha256 TEXT;", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot upgrade the quarantine");
	return 0;
}

/*
 * The schema's versions after the first (the tables of the schema above,
 * made if missing on every open), in order: migrations[i] takes a ledger
 * from version i + 1 to i + 2.  A ledger from before schema_version is
 * version 0: every step checks what is there, so it is safe on any of them.
 */
static int (*const migrations[])(hfw_ledger *l, struct hfw_error *err) = {
	migrate_hash_column,
	migrate_quarantine_columns,
};
#define SQ_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])) + 1)

static int read_version(hfw_ledger *l, int *version, struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*version = 0;
	if (!prepares(l, "SELECT version FROM schema_version"))
		return 0;
	if (sqlite3_prepare_v2(SQ(l)->db, "SELECT max(version) FROM schema_version", -1, &st, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot read the schema version");
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_error(l, err, "cannot read the schema version");
}

/*
 * Bring the ledger to SQ_VERSION, once, under the write lock (two processes
 * may open an old ledger at once; the second finds it done).  A current
 * ledger is only read; one newer than this hanfw is refused.
 */
static int migrate(hfw_ledger *l, struct hfw_error *err)
{
	int version, v, ret;

	if ((ret = read_version(l, &version, err)) < 0)
		return ret;
	l->from_version = version;
	if (version > SQ_VERSION)
		return hfw_error_set(err, HFW_EIO, "ledger '%s' is at schema version %d, newer than this hanfw knows (%d): "
				     "upgrade hanfw", SQ(l)->path, version, SQ_VERSION);
	if (version == SQ_VERSION)
		return 0;
	if (sqlite3_exec(SQ(l)->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot migrate");
	if ((ret = read_version(l, &version, err)) == 0)
		for (v = version < 1 ? 1 : version; v < SQ_VERSION && ret == 0; v++)
			ret = migrations[v - 1](l, err);
	if (ret == 0 && sqlite3_exec(SQ(l)->db, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);"
					       "DELETE FROM schema_version;", NULL, NULL, NULL) != SQLITE_OK)
		ret = db_error(l, err, "cannot migrate");
	if (ret == 0) {
		char sql[64];

		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES(%d)", SQ_VERSION);
		if (sqlite3_exec(SQ(l)->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			ret = db_error(l, err, "cannot migrate");
	}
	if (sqlite3_exec(SQ(l)->db, ret < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && ret == 0)
		ret = db_error(l, err, "cannot migrate");
	return ret;
}

/* After a commit: past 64 pages, the WAL is checkpointed into the database and emptied. */
static int wal_full(void *arg, sqlite3 *db, const char *name, int pages)
{
	(void)arg;
	if (pages >= 64)
		(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return SQLITE_OK;
}

/*
 * A ledger's own file always starts with SQLite's header.  Checked before
 * SQLite opens it: a WAL left beside it (see hfw_ledger_open) holds the
 * newest pages, and would otherwise make a file replaced by anything else
 * look like the ledger it replaced.
 */
static int check_header(const char *path, struct hfw_error *err)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;	/* a new ledger, or SQLite says why not */
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n > 0 && (n != (ssize_t)sizeof(head) || memcmp(head, magic, sizeof(magic)) != 0))
		return hfw_error_set(err, HFW_EIO, "'%s' is not a hanfw ledger", path);
	return 0;
}

/* current_only: 1 (nothing opened, nothing changed) unless the file is a ledger at SQ_VERSION. */
static int sq_open(hfw_ledger **out, const char *path, int current_only, struct hfw_error *err)
{
	hfw_ledger *l = NULL;
	sqlite3_stmt *st = NULL;
	int fresh, version, ret = 0;

	*out = NULL;
	if (!(l = calloc(1, sizeof(struct sq_ledger))) || (l->ops = &sq_ops, !(SQ(l)->path = strdup(path)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if ((ret = check_header(path, err)) < 0)
		goto out;
	if (sqlite3_open_v2(path, &SQ(l)->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		ret = hfw_error_set(err, HFW_EIO, "cannot open ledger '%s': %s", path,
				    SQ(l)->db ? sqlite3_errmsg(SQ(l)->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(SQ(l)->db, 30000);
	/* Only reads so far: an empty file or an older ledger is left exactly as it was. */
	if (current_only && (read_version(l, &version, err) < 0 || version != SQ_VERSION)) {
		ret = 1;
		goto out;
	}
	/*
	 * The last connection to close leaves the WAL as it is instead of
	 * checkpointing it into the database and deleting it: that cost every
	 * short-lived command four syncs (the checkpoint's two, then the next
	 * process's new WAL header and its directory entry) besides its one
	 * commit.  The WAL is checkpointed and truncated as it passes 64 pages
	 * (wal_full) rather than SQLite's 1,000: each process that opens the
	 * ledger first reads the whole WAL to index it, which at 4 MB cost more
	 * than the syncs saved.  So the ledger is FILE with FILE-wal: copy
	 * both, or use sqlite3's .backup.
	 */
	sqlite3_db_config(SQ(l)->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(SQ(l)->db, wal_full, NULL);
	/* WAL for concurrent readers; FULL so a commit survives power loss, not just a crash. */
	if (sqlite3_exec(SQ(l)->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK) {
		ret = db_error(l, err, "cannot initialise");
		goto out;
	}
	fresh = !prepares(l, "SELECT 1 FROM meta LIMIT 0");
	if (sqlite3_exec(SQ(l)->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		ret = db_error(l, err, "cannot initialise");
		goto out;
	}
	if ((ret = migrate(l, err)) < 0)
		goto out;
	if (fresh)
		l->from_version = -1;
	if (sqlite3_prepare_v2(SQ(l)->db, "SELECT value FROM meta WHERE key='format'", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "hanfw-ledger-1") != 0) {
		ret = hfw_error_set(err, HFW_EIO, "'%s' is not a hanfw ledger", path);
		goto out;
	}
	*out = l;
	l = NULL;
out:
	sqlite3_finalize(st);
	sq_close(l);
	return ret;
}

static void sq_close(hfw_ledger *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < sizeof(SQ(l)->cache) / sizeof(SQ(l)->cache[0]); i++)
		sqlite3_finalize(SQ(l)->cache[i].st);
	for (i = 0; i < sizeof(SQ(l)->run_st) / sizeof(SQ(l)->run_st[0]); i++)
		sqlite3_finalize(SQ(l)->run_st[i]);
	sqlite3_close(SQ(l)->db);
	free(SQ(l)->path);
	free(l);
}

static int read_last(hfw_ledger *l, const char *orig, uint64_t *last, struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	*last = 0;
	if (prepare(l, &st, "SELECT last FROM counters WHERE originator=?") != SQLITE_OK)
		return db_error(l, err, "cannot read counters");
	sqlite3_bind_text(st, 1, orig, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*last = (uint64_t)sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		ret = db_error(l, err, "cannot read counters");
	release(l, st);
	return ret;
}

static int write_last(hfw_ledger *l, const char *orig, uint64_t last, struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (last > INT64_MAX)
		return hfw_error_set(err, HFW_ELIMIT, "RequestID counter %" PRIu64 " is beyond what the ledger stores", last);
	if (prepare(l, &st, "INSERT INTO counters(originator, last) VALUES(?, ?) "
			       "ON CONFLICT(originator) DO UPDATE SET last=excluded.last") != SQLITE_OK)
		return db_error(l, err, "cannot write counters");
	sqlite3_bind_text(st, 1, orig, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)last);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(l, err, "cannot write counters");
	release(l, st);
	return ret;
}

static int sq_begin(hfw_ledger *l, struct hfw_error *err)
{
	if (sqlite3_exec(SQ(l)->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot start a transaction");
	return 0;
}

static int sq_commit(hfw_ledger *l, struct hfw_error *err)
{
	int ret = 0;

	if (sqlite3_exec(SQ(l)->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = db_error(l, err, "cannot commit");
		sq_rollback(l);
	}
	return ret;
}

static void sq_rollback(hfw_ledger *l)
{
	if (l && !sqlite3_get_autocommit(SQ(l)->db))
		sqlite3_exec(SQ(l)->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sq_savepoint(hfw_ledger *l, struct hfw_error *err)
{
	if (sqlite3_exec(SQ(l)->db, "SAVEPOINT hfw_item", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot start a savepoint");
	return 0;
}

static int sq_savepoint_end(hfw_ledger *l, int keep, struct hfw_error *err)
{
	if (!keep && sqlite3_exec(SQ(l)->db, "ROLLBACK TO hfw_item", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot roll back to a savepoint");
	if (sqlite3_exec(SQ(l)->db, "RELEASE hfw_item", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot release a savepoint");
	return 0;
}

/* Run fn inside BEGIN IMMEDIATE ... COMMIT (or inside the caller's transaction). */
static int in_write_txn(hfw_ledger *l, struct hfw_error *err,
			int (*fn)(hfw_ledger *, void *, struct hfw_error *), void *arg)
{
	int ret;

	if (!sqlite3_get_autocommit(SQ(l)->db))
		return fn(l, arg, err);	/* joins hfw_ledger_begin's transaction */

	if (sqlite3_exec(SQ(l)->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot start a transaction");
	if ((ret = fn(l, arg, err)) < 0) {
		sqlite3_exec(SQ(l)->db, "ROLLBACK", NULL, NULL, NULL);
		return ret;
	}
	if (sqlite3_exec(SQ(l)->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ret = db_error(l, err, "cannot commit");
		sqlite3_exec(SQ(l)->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return ret;
}

struct reserve_args {
	const char *orig;
	uint64_t now, *first;
	unsigned n;
	uint64_t claim;		/* for claim: the counter, else 0 */
	int is_claim;
};

static int do_reserve(hfw_ledger *l, void *arg, struct hfw_error *err)
{
	struct reserve_args *a = arg;
	uint64_t last, first;
	int ret;

	if ((ret = read_last(l, a->orig, &last, err)) < 0)
		return ret;
	if (a->is_claim) {
		if (a->claim <= last)
			return hfw_error_set(err, HFW_EINPUT,
					     "RequestID counter %" PRIu64 " is not above the last one used by %s (%" PRIu64
					     "): a counter is never reused", a->claim, a->orig, last);
		return write_last(l, a->orig, a->claim, err);
	}
	first = last + 1 > a->now ? last + 1 : a->now;
	*a->first = first;
	return write_last(l, a->orig, first + a->n - 1, err);
}

static int sq_reserve(hfw_ledger *l, const struct hfw_eui *originator, uint64_t now_ms,
		       unsigned n, uint64_t *first, struct hfw_error *err)
{
	char orig[HFW_EUI_TEXT_MAX];
	struct reserve_args a = { orig, now_ms, first, n ? n : 1, 0, 0 };

	hfw_eui_format(orig, originator);
	return in_write_txn(l, err, do_reserve, &a);
}

static int sq_claim(hfw_ledger *l, const struct hfw_eui *originator, uint64_t counter,
		     struct hfw_error *err)
{
	char orig[HFW_EUI_TEXT_MAX];
	uint64_t unused;
	struct reserve_args a = { orig, 0, &unused, 1, counter, 1 };

	hfw_eui_format(orig, originator);
	return in_write_txn(l, err, do_reserve, &a);
}

static int sq_last(hfw_ledger *l, const struct hfw_eui *originator, uint64_t *last,
		    struct hfw_error *err)
{
	char orig[HFW_EUI_TEXT_MAX];

	hfw_eui_format(orig, originator);
	return read_last(l, orig, last, err);
}

struct record_args {
	const struct hfw_ledger_request *reqs;
	size_t n;
};

static int do_record(hfw_ledger *l, void *arg, struct hfw_error *err)
{
	struct record_args *a = arg;
	sqlite3_stmt *st = NULL;
	char rid[HFW_REQUEST_ID_MAX], o[HFW_EUI_TEXT_MAX], t[HFW_EUI_TEXT_MAX], hash[65], now[32];
	time_t secs = time(NULL);
	struct tm tm;
	size_t i;
	int ret = 0;

	gmtime_r(&secs, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (prepare(l, &st, "INSERT INTO requests(request_id, originator, target, counter, "
			       "service_reference, command_variant, body_sha256, created, state) "
			       "VALUES(?,?,?,?,?,?,?,?,?)") != SQLITE_OK)
		return db_error(l, err, "cannot record requests");
	for (i = 0; i < a->n && ret == 0; i++) {
		const struct hfw_ledger_request *r = &a->reqs[i];

		hfw_request_id_format(rid, &r->id);
		hfw_eui_format(o, &r->id.originator);
		hfw_eui_format(t, &r->id.target);
		hfw_hex_encode(hash, r->body_sha256, HFW_SHA256_LEN);
		sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, o, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, t, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)r->id.counter);
		sqlite3_bind_text(st, 5, r->service_reference, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, r->command_variant);
		sqlite3_bind_text(st, 7, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, r->state, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			ret = sqlite3_extended_errcode(SQ(l)->db) == SQLITE_CONSTRAINT_PRIMARYKEY ||
			      sqlite3_extended_errcode(SQ(l)->db) == SQLITE_CONSTRAINT_UNIQUE
			      ? hfw_error_set(err, HFW_EINPUT, "RequestID %s is already in the ledger: never reused", rid)
			      : db_error(l, err, "cannot record a request");
		sqlite3_reset(st);
	}
	release(l, st);
	return ret;
}

static int sq_record(hfw_ledger *l, const struct hfw_ledger_request *reqs, size_t n,
		      struct hfw_error *err)
{
	struct record_args a = { reqs, n };

	return in_write_txn(l, err, do_record, &a);
}

struct state_args {
	const char *rid, *state, *code;
};

static int do_state(hfw_ledger *l, void *arg, struct hfw_error *err)
{
	struct state_args *a = arg;
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (prepare(l, &st, "UPDATE requests SET state=?, response_code=coalesce(?, response_code) "
			       "WHERE request_id=?") != SQLITE_OK)
		return db_error(l, err, "cannot update a request");
	sqlite3_bind_text(st, 1, a->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->rid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(l, err, "cannot update a request");
	else if (sqlite3_changes(SQ(l)->db) != 1)
		ret = hfw_error_set(err, HFW_ERROR, "request %s is not in the ledger", a->rid);
	release(l, st);
	return ret;
}

struct step_args {
	struct state_args state;
	const char *detail;
};

static int do_step(hfw_ledger *l, void *arg, struct hfw_error *err)
{
	struct step_args *a = arg;
	sqlite3_stmt *st = NULL;
	int ret;

	if ((ret = do_state(l, &a->state, err)) < 0)
		return ret;
	if (prepare(l, &st, "INSERT INTO request_steps(request_id, at, state, response_code, detail) "
			       "VALUES(?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?, ?)") != SQLITE_OK)
		return db_error(l, err, "cannot record a step");
	sqlite3_bind_text(st, 1, a->state.rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->state.state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->state.code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->detail, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(l, err, "cannot record a step");
	release(l, st);
	return ret;
}

static int sq_step(hfw_ledger *l, const char *request_id, const char *state, const char *response_code,
		    const char *detail, struct hfw_error *err)
{
	struct step_args a = { { request_id, state, response_code }, detail };

	return in_write_txn(l, err, do_step, &a);
}

static int sq_set_state(hfw_ledger *l, const char *request_id, const char *state,
			 const char *response_code, struct hfw_error *err)
{
	struct state_args a = { request_id, state, response_code };

	return in_write_txn(l, err, do_state, &a);
}

struct device_args {
	const char *rid;
	const struct hfw_eui *devices;
	const char *const *outcomes;
	size_t n;
};

static int do_devices(hfw_ledger *l, void *arg, struct hfw_error *err)
{
	struct device_args *a = arg;
	sqlite3_stmt *st = NULL;
	char eui[HFW_EUI_TEXT_MAX];
	size_t i;
	int ret = 0;

	if (prepare(l, &st, "INSERT INTO request_devices(request_id, device, outcome) VALUES(?,?,?) "
			       "ON CONFLICT(request_id, device) DO UPDATE SET outcome=excluded.outcome") != SQLITE_OK)
		return db_error(l, err, "cannot record devices");
	for (i = 0; i < a->n && ret == 0; i++) {
		hfw_eui_format(eui, &a->devices[i]);
		sqlite3_bind_text(st, 1, a->rid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, eui, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, a->outcomes[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			ret = db_error(l, err, "cannot record a device");
		sqlite3_reset(st);
	}
	release(l, st);
	return ret;
}

static int sq_record_devices(hfw_ledger *l, const char *request_id, const struct hfw_eui *devices,
			      const char *const *outcomes, size_t n, struct hfw_error *err)
{
	struct device_args a = { request_id, devices, outcomes, n };

	return in_write_txn(l, err, do_devices, &a);
}

static int sq_count(hfw_ledger *l, int64_t *out, struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = 0;

	*out = 0;
	if (prepare(l, &st, "SELECT count(*) FROM requests") != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		ret = db_error(l, err, "cannot count requests");
	else
		*out = sqlite3_column_int64(st, 0);
	release(l, st);
	return ret;
}

/* ---- campaigns, messages and what they say about devices ---- */

struct campaign_args {
	const char *rid, *campaign, *action, *type, *version;
	const uint8_t *hash;
};

static int do_campaign(hfw_ledger *l, void *arg, struct hfw_error *err)
{
	struct campaign_args *a = arg;
	sqlite3_stmt *st = NULL;
	char hex[2 * HFW_SHA256_LEN + 1];
	int ret = 0;

	if (a->hash)
		hfw_hex_encode(hex, a->hash, HFW_SHA256_LEN);
	if (prepare(l, &st, "INSERT OR REPLACE INTO campaign_requests(request_id, campaign, action, device_type, "
			    "firmware_version, firmware_hash) VALUES(?,?,?,?,?,?)") != SQLITE_OK)
		return db_error(l, err, "cannot record a campaign");
	sqlite3_bind_text(st, 1, a->rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->version, -1, SQLITE_STATIC);
	if (a->hash)
		sqlite3_bind_text(st, 6, hex, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(l, err, "cannot record a campaign");
	release(l, st);
	return ret;
}

static int sq_campaign_request(hfw_ledger *l, const char *request_id, const char *campaign, const char *action,
				const char *device_type, const char *firmware_version,
				const hfw_firmware_hash firmware_hash, struct hfw_error *err)
{
	struct campaign_args a = { request_id, campaign, action, device_type, firmware_version, firmware_hash };

	return in_write_txn(l, err, do_campaign, &a);
}

static int sq_campaign_by_hash(hfw_ledger *l, const hfw_firmware_hash firmware_hash, const char *device,
				char *campaign, size_t size, struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	char hex[2 * HFW_SHA256_LEN + 1];
	int rc, ret = 0;

	campaign[0] = '\0';
	hfw_hex_encode(hex, firmware_hash, HFW_SHA256_LEN);
	if (prepare(l, &st, "SELECT campaign FROM campaign_requests c WHERE firmware_hash=?1 AND action='distribute' "
			    "AND (?2 IS NULL OR EXISTS (SELECT 1 FROM request_devices d "
			    "WHERE d.request_id = c.request_id AND d.device = ?2)) ORDER BY rowid DESC LIMIT 1") != SQLITE_OK)
		return db_error(l, err, "cannot read campaigns");
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	if (device)
		sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(campaign, size, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		ret = db_error(l, err, "cannot read campaigns");
	release(l, st);
	return ret;
}

static int sq_store_message(hfw_ledger *l, const struct hfw_ledger_message *m, int *duplicate,
			     struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 id;
	char now[HFW_UTC_TEXT_MAX];
	size_t i;
	int ret = 0;

	*duplicate = 0;
	hfw_utc_now_text(now);
	/* A message seen before is counted, not applied again. */
	if (prepare(l, &st, "UPDATE messages SET duplicates = duplicates + 1 WHERE key=?") != SQLITE_OK)
		return db_error(l, err, "cannot store a message");
	sqlite3_bind_text(st, 1, m->key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(l, err, "cannot store a message");
	release(l, st);
	if (ret < 0)
		return ret;
	if (sqlite3_changes(SQ(l)->db) == 1) {
		*duplicate = 1;
		return 0;
	}
	if (prepare(l, &st, "INSERT INTO messages(key, received, request_id, kind, response_code, raw, decoded) "
			    "VALUES(?,?,?,?,?,?,?)") != SQLITE_OK)
		return db_error(l, err, "cannot store a message");
	sqlite3_bind_text(st, 1, m->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, m->request_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->response_code, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, m->raw, (int)m->raw_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->decoded, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(l, err, "cannot store a message");
	id = sqlite3_last_insert_rowid(SQ(l)->db);
	release(l, st);
	if (ret < 0)
		return ret;
	if (prepare(l, &st, "INSERT INTO device_events(message_id, device, request_id, event, detail, at) "
			    "VALUES(?,?,?,?,?,?)") != SQLITE_OK)
		return db_error(l, err, "cannot store device events");
	for (i = 0; i < m->nevents && ret == 0; i++) {
		const struct hfw_ledger_event *e = &m->events[i];

		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, e->device, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, e->request_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, e->event, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, e->detail, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, e->at, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			ret = db_error(l, err, "cannot store a device event");
		sqlite3_reset(st);
	}
	release(l, st);
	return ret;
}

/* Room a quarantined row takes beyond its prefix (time, sender, reason, hash, SQLite's own), for the cap. */
#define ROW_OVERHEAD 256

/* Is there room for one more row of prefix bytes within cap? */
static int quarantine_room(hfw_ledger *l, size_t prefix, uint64_t cap, int *room, struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = 0;

	*room = 0;
	if (prepare(l, &st, "SELECT coalesce(sum(length(raw)), 0) + count(*) * 256 FROM quarantine") != SQLITE_OK)
		return db_error(l, err, "cannot read the quarantine");
	if (sqlite3_step(st) == SQLITE_ROW)
		*room = (uint64_t)sqlite3_column_int64(st, 0) + prefix + ROW_OVERHEAD <= cap;
	else
		ret = db_error(l, err, "cannot read the quarantine");
	release(l, st);
	return ret;
}

static int sq_quarantine(hfw_ledger *l, const struct hfw_ledger_refusal *q, uint64_t cap, struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	uint8_t digest[HFW_SHA256_LEN];
	char now[HFW_UTC_TEXT_MAX], hash[2 * HFW_SHA256_LEN + 1], reason[HFW_LEDGER_REASON_MAX + 1];
	size_t prefix = q->len < HFW_LEDGER_QUARANTINE_PREFIX ? q->len : HFW_LEDGER_QUARANTINE_PREFIX;
	uint64_t size = q->size > q->len ? q->size : q->len;
	int room, ret = 0;

	hfw_utc_now_text(now);
	hfw_sha256(digest, q->raw, q->len);
	hfw_hex_encode(hash, digest, sizeof(digest));
	/* Reasons can quote what was refused: bounded, so the counts stay small too. */
	snprintf(reason, sizeof(reason), "%s", q->reason);
	if ((ret = quarantine_room(l, prefix, cap, &room, err)) < 0)
		return ret;
	if (room) {
		if (prepare(l, &st, "INSERT INTO quarantine(received, reason, raw, sender, size, sha256) "
				       "VALUES(?,?,?,?,?,?)") != SQLITE_OK)
			return db_error(l, err, "cannot quarantine a message");
		sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, q->raw, (int)prefix, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, q->sender, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)size);
		sqlite3_bind_text(st, 6, hash, -1, SQLITE_STATIC);
	} else {
		/* Full: counted per reason only (at most 1000 reasons, then "other"). */
		if (prepare(l, &st, "INSERT INTO quarantine_counts(reason, count, bytes, first, last) "
				       "SELECT CASE WHEN (SELECT count(*) FROM quarantine_counts) >= 1000 "
				       "            AND NOT EXISTS (SELECT 1 FROM quarantine_counts WHERE reason = ?1) "
				       "       THEN 'other' ELSE ?1 END, 1, ?2, ?3, ?3 WHERE 1 "
				       "ON CONFLICT(reason) DO UPDATE SET count = count + 1, bytes = bytes + excluded.bytes, "
				       "last = excluded.last") != SQLITE_OK)
			return db_error(l, err, "cannot count a quarantined message");
		sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
		sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(l, err, "cannot quarantine a message");
	release(l, st);
	return ret;
}

static int sq_each_campaign_name(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg,
				  struct hfw_error *err)
{
	static const char sql[] = "SELECT DISTINCT campaign FROM campaign_requests ORDER BY campaign";
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE, ret = 0;

	if (prepare(l, &st, sql) != SQLITE_OK)
		return db_error(l, err, "cannot read the campaigns");
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = fn(arg, (const char *)sqlite3_column_text(st, 0));
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(l, err, "cannot read the campaigns");
	release(l, st);
	return ret;
}

static int sq_each_distribution(hfw_ledger *l, const char *campaign,
				 int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
				 struct hfw_error *err)
{
	static const char sql[] =
		"SELECT rd.device, rd.request_id, rd.outcome, rq.response_code "
		"FROM campaign_requests cr JOIN request_devices rd ON rd.request_id = cr.request_id "
		"LEFT JOIN requests rq ON rq.request_id = cr.request_id "
		"WHERE cr.campaign = ?1 AND cr.action = 'distribute' ORDER BY cr.rowid";
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	if (prepare(l, &st, sql) != SQLITE_OK)
		return db_error(l, err, "cannot read the campaign's distributions");
	sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hfw_ledger_row row;

		memset(&row, 0, sizeof(row));
		row.device = (const char *)sqlite3_column_text(st, 0);
		row.request_id = (const char *)sqlite3_column_text(st, 1);
		row.source = "distribute";
		row.state = (const char *)sqlite3_column_text(st, 2);
		row.detail = (const char *)sqlite3_column_text(st, 3);
		row.campaign = campaign;
		ret = fn(arg, &row);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(l, err, "cannot read the campaign's distributions");
	release(l, st);
	return ret;
}

static int sq_campaign_start(hfw_ledger *l, const char *campaign, char *out, size_t size, struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = 0;

	out[0] = '\0';
	if (sqlite3_prepare_v2(SQ(l)->db,
			       "SELECT min(r.created) FROM requests r JOIN campaign_requests cr ON cr.request_id = r.request_id "
			       "WHERE ?1 IS NULL OR cr.campaign = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot read campaigns");
	sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		ret = db_error(l, err, "cannot read campaigns");
	else if (sqlite3_column_text(st, 0))
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return ret;
}

static int sq_each_quarantined(hfw_ledger *l, const char *since,
				int (*fn)(void *arg, const struct hfw_ledger_quarantined *q), void *arg,
				struct hfw_error *err)
{
	/* The rows kept (old ones have no sender, size or hash: their size is what was kept), then the counts. */
	static const char *const sql[2] = {
		"SELECT received, sender, coalesce(size, length(raw)), sha256, reason, length(raw), 1, received "
		"FROM quarantine WHERE received >= ?1 ORDER BY id",
		"SELECT first, NULL, bytes, NULL, reason, 0, count, last "
		"FROM quarantine_counts WHERE last >= ?1 ORDER BY reason",
	};
	sqlite3_stmt *st = NULL;
	int k, rc = SQLITE_DONE, ret = 0;

	for (k = 0; k < 2 && ret == 0; k++) {
		if (sqlite3_prepare_v2(SQ(l)->db, sql[k], -1, &st, NULL) != SQLITE_OK)
			return db_error(l, err, "cannot read the quarantine");
		sqlite3_bind_text(st, 1, since ? since : "", -1, SQLITE_STATIC);
		while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct hfw_ledger_quarantined q;

			q.received = (const char *)sqlite3_column_text(st, 0);
			q.sender = (const char *)sqlite3_column_text(st, 1);
			q.size = (uint64_t)sqlite3_column_int64(st, 2);
			q.sha256 = (const char *)sqlite3_column_text(st, 3);
			q.reason = (const char *)sqlite3_column_text(st, 4);
			q.kept = (uint64_t)sqlite3_column_int64(st, 5);
			q.count = (uint64_t)sqlite3_column_int64(st, 6);
			q.last = (const char *)sqlite3_column_text(st, 7);
			q.counted = k == 1;
			ret = fn(arg, &q);
		}
		if (ret == 0 && rc != SQLITE_DONE)
			ret = db_error(l, err, "cannot read the quarantine");
		sqlite3_finalize(st);
		st = NULL;
	}
	return ret;
}

/* A campaign row (hfw_ledger_row) from a statement's eleven columns, in that struct's order. */
static void campaign_row(sqlite3_stmt *st, struct hfw_ledger_row *row)
{
	row->device = (const char *)sqlite3_column_text(st, 0);
	row->request_id = (const char *)sqlite3_column_text(st, 1);
	row->source = (const char *)sqlite3_column_text(st, 2);
	row->state = (const char *)sqlite3_column_text(st, 3);
	row->detail = (const char *)sqlite3_column_text(st, 4);
	row->at = (const char *)sqlite3_column_text(st, 5);
	row->message_id = sqlite3_column_int64(st, 6);
	row->campaign = (const char *)sqlite3_column_text(st, 7);
	row->firmware_version = (const char *)sqlite3_column_text(st, 8);
	row->firmware_hash = (const char *)sqlite3_column_text(st, 9);
	row->device_type = (const char *)sqlite3_column_text(st, 10);
}

/* Each row of st to fn as a hfw_ledger_row until fn says stop; *rc is SQLITE_DONE once all were read. */
static int each_campaign_row(sqlite3_stmt *st, int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
			     int *rc)
{
	int ret = 0;

	while (ret == 0 && (*rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hfw_ledger_row row;

		campaign_row(st, &row);
		ret = fn(arg, &row);
	}
	return ret;
}

static int sq_each_campaign_row(hfw_ledger *l, const char *campaign, const char *device,
				 int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
				 struct hfw_error *err)
{
	/*
	 * One pass: the campaign's requests per device (with their outcome) in
	 * the order made, then events in the order received: every event, or
	 * the one device's (the caller keeps those of its campaign's devices,
	 * cheaper than asking SQLite to).  Events carry the request they answer
	 * when the message says it; device alerts do not (see campaign.c).
	 */
	static const char *const sql[3] = {
		"SELECT rd.device, rd.request_id, cr.action, rd.outcome, rq.response_code, NULL, 0, cr.campaign,"
		"       cr.firmware_version, cr.firmware_hash, cr.device_type "
		"FROM campaign_requests cr JOIN request_devices rd ON rd.request_id = cr.request_id "
		"LEFT JOIN requests rq ON rq.request_id = cr.request_id "
		"WHERE (?1 IS NULL OR cr.campaign = ?1) AND (?2 IS NULL OR rd.device = ?2) ORDER BY cr.rowid",
		/* Every event in the order received (the caller keeps those of its devices)... */
		"SELECT device, request_id, 'event', event, detail, at, message_id, NULL, NULL, NULL, NULL "
		"FROM device_events ORDER BY rowid",
		/* ... or one device's. */
		"SELECT device, request_id, 'event', event, detail, at, message_id, NULL, NULL, NULL, NULL "
		"FROM device_events WHERE device = ?2 ORDER BY rowid",
	};
	sqlite3_stmt *st = NULL;
	int k, rc, ret = 0;

	for (k = 0; k < 2 && ret == 0; k++) {
		if (prepare(l, &st, sql[k == 1 && device ? 2 : k]) != SQLITE_OK)
			return db_error(l, err, "cannot read the campaign");
		if (k == 0)
			sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
		if (k == 0 || device)
			sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
		ret = each_campaign_row(st, fn, arg, &rc);
		if (ret == 0 && rc != SQLITE_DONE)
			ret = db_error(l, err, "cannot read the campaign");
		release(l, st);
	}
	return ret;
}

static int sq_version(hfw_ledger *l, int *version, struct hfw_error *err)
{
	return read_version(l, version, err);
}

/* ---- campaign run state (run.h; run.c hands its calls here): the run's own tables ---- */

static int run_error(sqlite3 *db, struct hfw_error *err, const char *what)
{
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

static int run_prepare(hfw_ledger *l, enum run_sql k, const char *sql, sqlite3_stmt **st)
{
	int rc;

	if (SQ(l)->run_cached && SQ(l)->run_st[k]) {
		*st = SQ(l)->run_st[k];
		return SQLITE_OK;
	}
	rc = sqlite3_prepare_v2(SQ(l)->db, sql, -1, st, NULL);
	if (rc == SQLITE_OK && SQ(l)->run_cached)
		SQ(l)->run_st[k] = *st;
	return rc;
}

/* Done with a statement: reset for the next use if kept, else finalised. */
static void run_done(hfw_ledger *l, sqlite3_stmt *st)
{
	if (st && SQ(l)->run_cached) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return;
	}
	sqlite3_finalize(st);
}

static void sq_run_cache(hfw_ledger *l, int on)
{
	size_t i;

	if (!on)
		for (i = 0; i < SQL_N; i++) {
			sqlite3_finalize(SQ(l)->run_st[i]);
			SQ(l)->run_st[i] = NULL;
		}
	SQ(l)->run_cached = on;
}

static int sq_run_get(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, int *found, struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	*found = 0;
	memset(c, 0, sizeof(*c));
	if (run_prepare(l, SQL_GET,
			    "SELECT name, plan_path, plan_sha256, state, reason, wave, wave_started_ms, gate_passed, "
			       "min_canary, min_wave, wave_timeout_s FROM run_campaigns WHERE name = ?", &st) != SQLITE_OK)
		return run_error(db, err, "cannot read campaign runs");
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
		ret = run_error(db, err, "cannot read campaign runs");
	}
	run_done(l, st);
	return ret;
}

static int sq_run_put(hfw_ledger *l, const struct hfw_run_campaign *c, struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (run_prepare(l, SQL_PUT,
			    "INSERT INTO run_campaigns(name, plan_path, plan_sha256, state, reason, wave, wave_started_ms, "
			       "gate_passed, min_canary, min_wave, wave_timeout_s, updated) "
			       "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
			       "ON CONFLICT(name) DO UPDATE SET plan_path = excluded.plan_path, plan_sha256 = excluded.plan_sha256, "
			       "state = excluded.state, reason = excluded.reason, wave = excluded.wave, "
			       "wave_started_ms = excluded.wave_started_ms, gate_passed = excluded.gate_passed, "
			       "min_canary = excluded.min_canary, min_wave = excluded.min_wave, "
			       "wave_timeout_s = excluded.wave_timeout_s, updated = excluded.updated", &st) != SQLITE_OK)
		return run_error(db, err, "cannot record the campaign run");
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
		ret = run_error(db, err, "cannot record the campaign run");
	run_done(l, st);
	return ret;
}

static int sq_run_add_device(hfw_ledger *l, const char *campaign, const struct hfw_run_device *d, struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (run_prepare(l, SQL_ADD,
			    "INSERT OR IGNORE INTO run_devices(campaign, device, wave, image, step, reason, attempts, updated) "
			       "VALUES(?, ?, ?, ?, ?, ?, 0, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", &st) != SQLITE_OK)
		return run_error(db, err, "cannot record a campaign device");
	sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, d->wave);
	sqlite3_bind_int64(st, 4, d->image);
	sqlite3_bind_text(st, 5, hfw_run_step_name(d->step), -1, SQLITE_STATIC);
	if (d->reason)
		sqlite3_bind_text(st, 6, d->reason, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = run_error(db, err, "cannot record a campaign device");
	run_done(l, st);
	return ret;
}

static int sq_run_set_step(hfw_ledger *l, const char *campaign, const char *device, enum hfw_run_step step,
		     const char *reason, int bump, struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (run_prepare(l, SQL_SET_STEP,
			    "UPDATE run_devices SET attempts = CASE WHEN step = ?1 THEN attempts + ?3 ELSE ?3 END, "
			       "step = ?1, reason = ?2, "
			       "updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE campaign = ?4 AND device = ?5", &st) != SQLITE_OK)
		return run_error(db, err, "cannot record a campaign device's step");
	sqlite3_bind_text(st, 1, hfw_run_step_name(step), -1, SQLITE_STATIC);
	if (reason)
		sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, bump ? 1 : 0);
	sqlite3_bind_text(st, 4, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, device, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = run_error(db, err, "cannot record a campaign device's step");
	run_done(l, st);
	return ret;
}

static int sq_run_each_device(hfw_ledger *l, const char *campaign, int64_t wave,
			int (*fn)(void *arg, const struct hfw_run_device *d), void *arg, struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	/* One wave's by its index (a polling round's cost is the wave's, not the campaign's), or all. */
	if ((wave ? run_prepare(l, SQL_EACH_WAVE,
			    "SELECT device, wave, image, step, reason, attempts FROM run_devices "
			    "WHERE campaign = ?1 AND wave = ?2 ORDER BY device", &st)
		  : run_prepare(l, SQL_EACH,
			    "SELECT device, wave, image, step, reason, attempts FROM run_devices "
			    "WHERE campaign = ?1 ORDER BY device", &st)) != SQLITE_OK)
		return run_error(db, err, "cannot read campaign devices");
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
		ret = run_error(db, err, "cannot read campaign devices");
	run_done(l, st);
	return ret;
}

static int sq_run_has_request(hfw_ledger *l, const char *campaign, const char *device, const char *action, int *has,
			struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	int ret = 0;

	*has = 0;
	if (run_prepare(l, SQL_HAS,
			    "SELECT max(r.state NOT IN ('signed', 'precommand_signed', 'unknown')) "
			       "FROM request_devices d JOIN campaign_requests c ON c.request_id = d.request_id "
			       "JOIN requests r ON r.request_id = d.request_id "
			       "WHERE d.device = ? AND c.campaign = ? AND c.action = ? "
			       "AND r.state NOT IN ('transform_signed', 'not_sent', 'refused', 'dry-run')", &st) != SQLITE_OK)
		return run_error(db, err, "cannot read requests");
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
		ret = run_error(db, err, "cannot read requests");
	}
	run_done(l, st);
	return ret;
}

static int sq_run_each_name(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg, struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	if (run_prepare(l, SQL_NAMES, "SELECT name FROM run_campaigns ORDER BY name", &st) != SQLITE_OK)
		return run_error(db, err, "cannot read campaign runs");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((ret = fn(arg, (const char *)sqlite3_column_text(st, 0))) != 0)
			break;
	if (ret == 0 && rc != SQLITE_DONE)
		ret = run_error(db, err, "cannot read campaign runs");
	run_done(l, st);
	return ret;
}

static int sq_run_settle_distributions(hfw_ledger *l, const char *campaign, int *settled, struct hfw_error *err)
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
	sqlite3 *db = SQ(l)->db;
	const char *tail = sql;
	int ret = 0;

	*settled = 0;
	if (sq_begin(l, err) < 0)
		return err->code;
	while (*tail) {
		sqlite3_stmt *st = NULL;
		const char *next;

		if (sqlite3_prepare_v2(db, tail, -1, &st, &next) != SQLITE_OK) {
			ret = run_error(db, err, "cannot settle distributions");
			break;
		}
		if (!st)
			break;
		if (sqlite3_bind_parameter_count(st) >= 1)
			sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			ret = run_error(db, err, "cannot settle distributions");
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
		sq_rollback(l);
		return ret;
	}
	return sq_commit(l, err);
}

static int sq_run_sent_since(hfw_ledger *l, const char *sr, unsigned seconds, int64_t *n, struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	char since[32];
	int ret = 0;

	snprintf(since, sizeof(since), "-%u seconds", seconds);
	*n = 0;
	if (run_prepare(l, SQL_SENT,
			    "SELECT count(*) FROM requests WHERE (?1 IS NULL OR service_reference = ?1) "
			       /* never left hanfw, or a CV 4 transform (nothing for a device, as the
				* sandbox's quarantine counts too): not against a budget */
			       "AND state NOT IN ('dry-run', 'not_sent', 'transform_signed') "
			       "AND created >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?2)", &st) != SQLITE_OK)
		return run_error(db, err, "cannot count requests");
	if (sr)
		sqlite3_bind_text(st, 1, sr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, since, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		ret = run_error(db, err, "cannot count requests");
	run_done(l, st);
	return ret;
}

static int sq_run_each_wave_row(hfw_ledger *l, const char *campaign, int64_t wave, const char *also,
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
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	int k, rc = SQLITE_DONE, ret = 0;

	for (k = 0; k < 2 && ret == 0; k++) {
		if (run_prepare(l, k ? SQL_WAVE_EVENTS : SQL_WAVE_REQUESTS, sql[k], &st) != SQLITE_OK)
			return run_error(db, err, "cannot read the campaign's wave");
		sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, wave);
		if (k && also)
			sqlite3_bind_text(st, 3, also, -1, SQLITE_STATIC);
		ret = each_campaign_row(st, fn, arg, &rc);
		if (ret == 0 && rc != SQLITE_DONE)
			ret = run_error(db, err, "cannot read the campaign's wave");
		run_done(l, st);
	}
	return ret;
}

/*
 * Re-drive state (redrive.h): run_redrive (made with the ledger's schema), one row per device that
 * met a transient failure: its step and that step's attempts when the
 * window opened, when it opened and when it ends (0: none open), and the
 * re-drives of the step per class ("0,2,0,...").
 */
static int sq_run_redrive_set(hfw_ledger *l, const char *campaign, const struct hfw_run_redrive *w, struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
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
		return run_error(db, err, "cannot record a re-drive window");
	sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, w->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hfw_run_step_name(w->step), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, w->attempts);
	sqlite3_bind_int64(st, 5, w->seen_ms);
	sqlite3_bind_int64(st, 6, w->due_ms);
	sqlite3_bind_text(st, 7, counts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = run_error(db, err, "cannot record a re-drive window");
	sqlite3_finalize(st);
	return ret;
}

static int sq_run_redrive_each(hfw_ledger *l, const char *campaign, int (*fn)(void *arg, const struct hfw_run_redrive *w),
			 void *arg, struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT device, step, attempts, seen_ms, due_ms, redrives FROM run_redrive WHERE campaign = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return run_error(db, err, "cannot read re-drive windows");
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
		ret = run_error(db, err, "cannot read re-drive windows");
	sqlite3_finalize(st);
	return ret;
}

static int sq_run_latest_unsent(hfw_ledger *l, const char *campaign, const char *device, const char *action, int *unsent,
			  struct hfw_error *err)
{
	sqlite3 *db = SQ(l)->db;
	sqlite3_stmt *st = NULL;
	int ret = 0;

	*unsent = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT r.state IN ('transform_signed', 'not_sent', 'refused') "
			       "FROM request_devices d JOIN campaign_requests c ON c.request_id = d.request_id "
			       "JOIN requests r ON r.request_id = d.request_id "
			       "WHERE d.device = ? AND c.campaign = ? AND c.action = ? ORDER BY r.rowid DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return run_error(db, err, "cannot read requests");
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
		ret = run_error(db, err, "cannot read requests");
	}
	sqlite3_finalize(st);
	return ret;
}

/*
 * One run of a campaign at a time: a POSIX record lock on LEDGER.run-NAME.lock
 * (the kernel releases it when the process dies, kill -9 included).  The
 * descriptor stays open until hfw_ledger_unlock.
 */
static int sq_lock_campaign(hfw_ledger *l, const char *name, int wait, hfw_ledger_lock **out, struct hfw_error *err)
{
	struct hfw_ledger_lock *k;
	struct flock fl;
	char path[4096];
	int n, fd;

	*out = NULL;
	n = snprintf(path, sizeof(path), "%s.run-%s.lock", SQ(l)->path, name);
	if (n < 0 || (size_t)n >= sizeof(path) || strchr(name, '/'))
		return hfw_error_set(err, HFW_EINPUT, "campaign name '%s' cannot name a lock file", name);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return hfw_error_set(err, HFW_EIO, "cannot open '%s': %s", path, strerror(errno));
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (wait && fcntl(fd, F_SETLKW, &fl) < 0)
		if (errno != EINTR) {
			close(fd);
			return hfw_error_set(err, HFW_EIO, "cannot lock '%s': %s", path, strerror(errno));
		}
	if (!wait && fcntl(fd, F_SETLK, &fl) < 0) {
		close(fd);
		return hfw_error_set(err, HFW_EINPUT,
				     "campaign %s is being run by another process (lock '%s'): one run of a campaign at a time",
				     name, path);
	}
	if (!(k = calloc(1, sizeof(*k)))) {
		close(fd);
		return hfw_error_oom(err);
	}
	k->l = l;
	k->fd = fd;
	*out = k;
	return 0;
}

static void sq_unlock_campaign(hfw_ledger_lock *k)
{
	close(k->fd);
	free(k);
}

/* ---- copy (hfw_ledger_copy) ---- */

static int sq_each_row(hfw_ledger *l, const struct hfw_ledger_table *t,
		       int (*fn)(void *arg, const struct hfw_ledger_value *values), void *arg, struct hfw_error *err)
{
	struct hfw_ledger_value v[16];
	sqlite3_stmt *st = NULL;
	char sql[1024];
	size_t i, n = 0;
	int rc = SQLITE_DONE, ret = 0;

	n += (size_t)snprintf(sql + n, sizeof(sql) - n, "SELECT ");
	for (i = 0; i < t->ncolumns && n < sizeof(sql); i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s\"%s\"", i ? ", " : "", t->columns[i]);
	if (n < sizeof(sql))
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " FROM %s ORDER BY %s", t->name,
				      t->order_sqlite);
	if (n >= sizeof(sql) || t->ncolumns > sizeof(v) / sizeof(v[0]))
		return hfw_error_set(err, HFW_ELIMIT, "table %s: too many columns to copy", t->name);
	if (sqlite3_prepare_v2(SQ(l)->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot read a table to copy");
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < t->ncolumns; i++) {
			memset(&v[i], 0, sizeof(v[i]));
			switch (sqlite3_column_type(st, (int)i)) {
			case SQLITE_INTEGER:
				v[i].type = HFW_LEDGER_INT;
				v[i].i = sqlite3_column_int64(st, (int)i);
				break;
			case SQLITE_FLOAT:
				v[i].type = HFW_LEDGER_REAL;
				v[i].r = sqlite3_column_double(st, (int)i);
				break;
			case SQLITE_TEXT:
				v[i].type = HFW_LEDGER_TEXT;
				v[i].p = sqlite3_column_text(st, (int)i);
				v[i].len = (size_t)sqlite3_column_bytes(st, (int)i);
				break;
			case SQLITE_BLOB:
				v[i].type = HFW_LEDGER_BLOB;
				v[i].p = sqlite3_column_blob(st, (int)i);
				v[i].len = (size_t)sqlite3_column_bytes(st, (int)i);
				break;
			default:
				v[i].type = HFW_LEDGER_NULL;
			}
		}
		ret = fn(arg, v);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(l, err, "cannot read a table to copy");
	sqlite3_finalize(st);
	return ret;
}

static int sq_add_row(hfw_ledger *l, const struct hfw_ledger_table *t, const struct hfw_ledger_value *v,
		      struct hfw_error *err)
{
	sqlite3_stmt *st = NULL;
	char sql[1024];
	size_t i, n = 0;
	int ret = 0;

	n += (size_t)snprintf(sql + n, sizeof(sql) - n, "INSERT INTO %s(", t->name);
	for (i = 0; i < t->ncolumns && n < sizeof(sql); i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s\"%s\"", i ? ", " : "", t->columns[i]);
	for (i = 0; i < t->ncolumns && n < sizeof(sql); i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s?", i ? ", " : ") VALUES(");
	if (n < sizeof(sql))
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, ")");
	if (n >= sizeof(sql))
		return hfw_error_set(err, HFW_ELIMIT, "table %s: too many columns to copy", t->name);
	if (sqlite3_prepare_v2(SQ(l)->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(l, err, "cannot copy into a table");
	for (i = 0; i < t->ncolumns; i++) {
		int k = (int)i + 1;

		switch (v[i].type) {
		case HFW_LEDGER_INT:
			sqlite3_bind_int64(st, k, v[i].i);
			break;
		case HFW_LEDGER_REAL:
			sqlite3_bind_double(st, k, v[i].r);
			break;
		case HFW_LEDGER_TEXT:
			sqlite3_bind_text(st, k, v[i].p ? v[i].p : "", (int)v[i].len, SQLITE_STATIC);
			break;
		case HFW_LEDGER_BLOB:	/* an empty blob stays one (a NULL pointer would bind NULL) */
			if (v[i].len)
				sqlite3_bind_blob(st, k, v[i].p, (int)v[i].len, SQLITE_STATIC);
			else
				sqlite3_bind_zeroblob(st, k, 0);
			break;
		case HFW_LEDGER_NULL:
			sqlite3_bind_null(st, k);
			break;
		}
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		ret = db_error(l, err, "cannot copy into a table");
	sqlite3_finalize(st);
	return ret;
}

static const struct hfw_ledger_ops sq_ops = {
	.name = "sqlite",
	.close = sq_close,
	.reserve = sq_reserve,
	.claim = sq_claim,
	.last = sq_last,
	.record = sq_record,
	.set_state = sq_set_state,
	.step = sq_step,
	.record_devices = sq_record_devices,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.savepoint = sq_savepoint,
	.savepoint_end = sq_savepoint_end,
	.campaign_request = sq_campaign_request,
	.campaign_by_hash = sq_campaign_by_hash,
	.store_message = sq_store_message,
	.quarantine = sq_quarantine,
	.campaign_start = sq_campaign_start,
	.each_quarantined = sq_each_quarantined,
	.each_campaign_row = sq_each_campaign_row,
	.each_distribution = sq_each_distribution,
	.each_campaign_name = sq_each_campaign_name,
	.run_cache = sq_run_cache,
	.run_get = sq_run_get,
	.run_put = sq_run_put,
	.run_add_device = sq_run_add_device,
	.run_set_step = sq_run_set_step,
	.run_each_device = sq_run_each_device,
	.run_has_request = sq_run_has_request,
	.run_each_name = sq_run_each_name,
	.run_settle_distributions = sq_run_settle_distributions,
	.run_sent_since = sq_run_sent_since,
	.run_each_wave_row = sq_run_each_wave_row,
	.run_redrive_set = sq_run_redrive_set,
	.run_redrive_each = sq_run_redrive_each,
	.run_latest_unsent = sq_run_latest_unsent,
	.lock_campaign = sq_lock_campaign,
	.unlock_campaign = sq_unlock_campaign,
	.count = sq_count,
	.version = sq_version,
	.each_row = sq_each_row,
	.add_row = sq_add_row,
	.copied = NULL,
};

int hfw_ledger_sqlite_open(hfw_ledger **out, const char *path, struct hfw_error *err)
{
	return sq_open(out, path, 0, err);
}

int hfw_ledger_sqlite_open_current(hfw_ledger **out, const char *path, struct hfw_error *err)
{
	return sq_open(out, path, 1, err);
}
