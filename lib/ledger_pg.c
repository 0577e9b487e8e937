/*
 * ledger_pg.c - the PostgreSQL ledger backend (libpq): one ledger shared by
 * several hosts under one DCC User ID (see ledger.h, ledger_backend.h).
 *
 * The same guarantees as SQLite's, by PostgreSQL's own means: a counter is
 * one INSERT ... ON CONFLICT DO UPDATE ... RETURNING (the counter's row is
 * locked until the transaction ends, so counters rise strictly per
 * originator across every client, in commit order); a duplicate message or
 * RequestID is found by a UNIQUE constraint (ON CONFLICT DO NOTHING), never
 * by reading first.  A lost connection fails the operation with HFW_EIO
 * (a receiver answers 500, a signer hands nothing out) and the next
 * operation outside a transaction reconnects.
 */
#include "ledger_backend.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "clock.h"
#include "dynlib.h"
#include "hex.h"

/*
 * libpq, loaded by the first PostgreSQL ledger (dynlib.h): it brings
 * Kerberos, LDAP, GnuTLS and a second OpenSSL with it, some twenty
 * libraries that every command would otherwise load at start-up (10
 * million instructions before main) whatever ledger it uses.
 */
/* The database's clock as the ledger's times are written (UTC, to the second, as hfw_utc_now_text). */
#define PG_NOW_TEXT "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define PQ_FUNCS(X) X(PQclear) X(PQcmdStatus) X(PQcmdTuples) X(PQconnectdb) X(PQconninfoFree) X(PQconninfoParse) X(PQerrorMessage) X(PQexec) X(PQexecParams) X(PQfinish) X(PQfreemem) X(PQftype) X(PQgetResult) X(PQgetisnull) X(PQgetlength) X(PQgetvalue) X(PQntuples) X(PQputCopyData) X(PQputCopyEnd) X(PQreset) X(PQresultErrorField) X(PQresultStatus) X(PQsendQueryParams) X(PQserverVersion) X(PQsetNoticeProcessor) X(PQsetSingleRowMode) X(PQstatus)
static struct {
#define PQ_SLOT(f) __typeof__(f) *f;
	PQ_FUNCS(PQ_SLOT)
#undef PQ_SLOT
} pq;
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static struct hfw_error pq_error;

static void load_pq(void)
{
	static const struct hfw_dynsym syms[] = {
#define PQ_SYM(f) { #f, (void **)&pq.f },
		PQ_FUNCS(PQ_SYM)
#undef PQ_SYM
		{ NULL, NULL },
	};

	hfw_dynlib_load("libpq.so.5", syms, &pq_error);
}

/* Every call below goes through the loaded library. */
#define PQclear pq.PQclear
#define PQcmdStatus pq.PQcmdStatus
#define PQcmdTuples pq.PQcmdTuples
#define PQconnectdb pq.PQconnectdb
#define PQconninfoFree pq.PQconninfoFree
#define PQconninfoParse pq.PQconninfoParse
#define PQerrorMessage pq.PQerrorMessage
#define PQexec pq.PQexec
#define PQexecParams pq.PQexecParams
#define PQfinish pq.PQfinish
#define PQfreemem pq.PQfreemem
#define PQftype pq.PQftype
#define PQgetResult pq.PQgetResult
#define PQgetisnull pq.PQgetisnull
#define PQgetlength pq.PQgetlength
#define PQgetvalue pq.PQgetvalue
#define PQntuples pq.PQntuples
#define PQputCopyData pq.PQputCopyData
#define PQputCopyEnd pq.PQputCopyEnd
#define PQreset pq.PQreset
#define PQresultErrorField pq.PQresultErrorField
#define PQresultStatus pq.PQresultStatus
#define PQsendQueryParams pq.PQsendQueryParams
#define PQserverVersion pq.PQserverVersion
#define PQsetNoticeProcessor pq.PQsetNoticeProcessor
#define PQsetSingleRowMode pq.PQsetSingleRowMode
#define PQstatus pq.PQstatus

struct pg_ledger {
	struct hfw_ledger base;
	PGconn *conn;
	char *where;		/* the URI, for messages (it holds no password: see check_uri) */
	int txn;		/* inside hfw_ledger_begin ... commit/rollback */
	int version;
	const struct hfw_ledger_table *copying;	/* copy: the table a COPY ... FROM STDIN is open for */
	char *line;		/* copy: one row in COPY's text format */
	size_t line_size;
	int64_t locks[8];	/* campaign run locks this session holds (pg_lock_campaign) */
	size_t nlocks;
	int lock_lost;		/* the connection was lost and another session took a run lock since */
};

#define PG(l) ((struct pg_ledger *)(l))

static const struct hfw_ledger_ops pg_ops;

/* The schema's versions, in order: migrations[i] takes a ledger from version i to i + 1. */
static const char *const migrations[] = {
	/* 1: the tables of SQLite's schema version 3 (integers 64-bit; order of making kept in seq). */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT INTO meta VALUES('format', 'hanfw-ledger-1');"
	"CREATE TABLE counters(originator TEXT PRIMARY KEY, last BIGINT NOT NULL CHECK (last >= 0));"
	"CREATE TABLE requests("
	"  request_id TEXT PRIMARY KEY,"
	"  originator TEXT NOT NULL, target TEXT NOT NULL, counter BIGINT NOT NULL,"
	"  service_reference TEXT NOT NULL, command_variant BIGINT NOT NULL,"
	"  body_sha256 TEXT NOT NULL, created TEXT NOT NULL, state TEXT NOT NULL,"
	"  response_code TEXT, UNIQUE (originator, counter));"
	"CREATE TABLE request_devices("
	"  request_id TEXT NOT NULL, device TEXT NOT NULL, outcome TEXT NOT NULL,"
	"  PRIMARY KEY (request_id, device));"
	"CREATE INDEX request_devices_device ON request_devices(device);"
	"CREATE TABLE request_steps("
	"  seq BIGSERIAL PRIMARY KEY, request_id TEXT NOT NULL,"
	"  at TEXT NOT NULL, state TEXT NOT NULL, response_code TEXT, detail TEXT);"
	"CREATE TABLE campaign_requests("
	"  seq BIGSERIAL UNIQUE, request_id TEXT PRIMARY KEY, campaign TEXT NOT NULL, action TEXT NOT NULL,"
	"  device_type TEXT, firmware_version TEXT, firmware_hash TEXT);"
	"CREATE INDEX campaign_requests_campaign ON campaign_requests(campaign);"
	"CREATE INDEX campaign_requests_hash ON campaign_requests(firmware_hash);"
	"CREATE TABLE messages("
	"  id BIGSERIAL PRIMARY KEY, key TEXT NOT NULL UNIQUE, received TEXT NOT NULL,"
	"  request_id TEXT, kind TEXT NOT NULL, response_code TEXT,"
	"  duplicates BIGINT NOT NULL DEFAULT 0, raw BYTEA NOT NULL, decoded TEXT NOT NULL);"
	"CREATE TABLE quarantine("
	"  id BIGSERIAL PRIMARY KEY, received TEXT NOT NULL, reason TEXT NOT NULL, raw BYTEA NOT NULL,"
	"  sender TEXT, size BIGINT, sha256 TEXT);"
	"CREATE TABLE quarantine_counts("
	"  reason TEXT PRIMARY KEY, count BIGINT NOT NULL, bytes BIGINT NOT NULL,"
	"  first TEXT NOT NULL, last TEXT NOT NULL);"
	"CREATE TABLE device_events("
	"  seq BIGSERIAL PRIMARY KEY, message_id BIGINT NOT NULL, device TEXT NOT NULL,"
	"  request_id TEXT, event TEXT NOT NULL, detail TEXT, at TEXT);"
	"CREATE INDEX device_events_device ON device_events(device);"
	"CREATE TABLE run_campaigns("
	"  name TEXT PRIMARY KEY, plan_path TEXT NOT NULL, plan_sha256 TEXT NOT NULL, state TEXT NOT NULL,"
	"  reason TEXT, wave BIGINT NOT NULL, wave_started_ms BIGINT NOT NULL, gate_passed BIGINT NOT NULL,"
	"  min_canary DOUBLE PRECISION NOT NULL, min_wave DOUBLE PRECISION NOT NULL, wave_timeout_s BIGINT NOT NULL,"
	"  updated TEXT NOT NULL);"
	"CREATE TABLE run_devices("
	"  campaign TEXT NOT NULL, device TEXT NOT NULL, wave BIGINT NOT NULL, image BIGINT NOT NULL,"
	"  step TEXT NOT NULL, reason TEXT, attempts BIGINT NOT NULL, updated TEXT NOT NULL,"
	"  PRIMARY KEY (campaign, device));"
	"CREATE INDEX run_devices_wave ON run_devices(campaign, wave);"
	"CREATE TABLE run_redrive("
	"  campaign TEXT NOT NULL, device TEXT NOT NULL, step TEXT NOT NULL, attempts BIGINT NOT NULL,"
	"  seen_ms BIGINT NOT NULL, due_ms BIGINT NOT NULL, redrives TEXT NOT NULL,"
	"  PRIMARY KEY (campaign, device));",
};
#define PG_VERSION_NOW ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Serialises migrations between every client of one database (pg_advisory_xact_lock). */
#define MIGRATE_LOCK 0x68616e6677ll	/* "hanfw" */

/* libpq's notices (CREATE ... IF NOT EXISTS and the like) are not printed: lib/ never prints. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The first line of what libpq or the server said. */
static const char *said(hfw_ledger *l, const PGresult *res, char *buf, size_t size)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	size_t n;

	snprintf(buf, size, "%s", m && *m ? m : PQerrorMessage(PG(l)->conn));
	n = strcspn(buf, "\n");
	buf[n] = '\0';
	return *buf ? buf : "connection lost";
}

static int db_error(hfw_ledger *l, const PGresult *res, struct hfw_error *err, const char *what)
{
	char buf[256];

	return hfw_error_set(err, HFW_EIO, "ledger '%s': %s: %s", PG(l)->where, what, said(l, res, buf, sizeof(buf)));
}

/*
 * A connection that was lost is made again before an operation, but never
 * inside a transaction: what the transaction did is gone, and the caller
 * must roll back and start again (a signer hands nothing out).
 */
/*
 * A copy sends a table's rows in one COPY ... FROM STDIN (text format):
 * libpq buffers them and sends them as its buffer fills, with no round trip
 * per row (rows as separate INSERTs, even pipelined, cost the server a
 * statement each: the whole copy of a 100,000-device campaign, 1.2 million
 * rows, verified, took 61 s so, 10 s now).  Before anything
 * else uses the connection, the COPY is ended and its result read, the
 * first failure reported.
 */
static int settle(hfw_ledger *l, struct hfw_error *err)
{
	PGconn *c = PG(l)->conn;
	PGresult *res;
	int ret = 0;

	if (!PG(l)->copying)
		return 0;
	PG(l)->copying = NULL;
	if (PQputCopyEnd(c, NULL) != 1)
		ret = db_error(l, NULL, err, "cannot copy into a table");
	while ((res = PQgetResult(c))) {
		ExecStatusType st = PQresultStatus(res);

		if (st != PGRES_COMMAND_OK && ret == 0)
			ret = db_error(l, res, err, "cannot copy into a table");
		PQclear(res);
		if (st == PGRES_COPY_IN)	/* the end could not be sent: the connection is broken */
			break;
	}
	return ret;
}

static int try_lock(hfw_ledger *l, int64_t key, int wait, struct hfw_error *err);

static int lock_lost(hfw_ledger *l, struct hfw_error *err)
{
	return hfw_error_set(err, HFW_EIO, "ledger '%s': the connection was lost, and with it the campaign's run "
			     "lock, which another process took since: this process stops running it", PG(l)->where);
}

static int connected(hfw_ledger *l, struct hfw_error *err)
{
	size_t i;
	int ret;

	if (PG(l)->lock_lost)	/* every operation after that refused: never two runs of a campaign */
		return lock_lost(l, err);
	if (PG(l)->copying && (ret = settle(l, err)) < 0)
		return ret;
	if (PQstatus(PG(l)->conn) == CONNECTION_OK)
		return 0;
	if (PG(l)->txn)
		return hfw_error_set(err, HFW_EIO, "ledger '%s': the connection was lost in a transaction: "
				     "nothing of it was kept", PG(l)->where);
	PQreset(PG(l)->conn);
	if (PQstatus(PG(l)->conn) != CONNECTION_OK)
		return db_error(l, NULL, err, "cannot reconnect");
	/* A run's lock went with the old session: taken again before anything else, or the run stops. */
	for (i = 0; i < PG(l)->nlocks; i++)
		if ((ret = try_lock(l, PG(l)->locks[i], 0, err)) <= 0) {
			if (ret < 0)
				return ret;
			PG(l)->lock_lost = 1;
			return lock_lost(l, err);
		}
	return 0;
}

/*
 * Run sql with n parameters: text (NULL: SQL NULL), except those listed in
 * blobs (bit i: parameter i + 1 is binary, its length in lens[i]).  The
 * result is for the caller to PQclear; NULL (and err set) on failure.
 */
static PGresult *run(hfw_ledger *l, const char *sql, int n, const char *const *values, const int *lens,
		     unsigned blobs, int binary_result, const char *what, struct hfw_error *err)
{
	int formats[16] = { 0 };
	PGresult *res;
	int i;

	if (connected(l, err) < 0)
		return NULL;
	for (i = 0; i < n && i < 16; i++)
		formats[i] = (blobs >> i) & 1;
	res = PQexecParams(PG(l)->conn, sql, n, NULL, values, lens, formats, binary_result);
	if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	db_error(l, res, err, what);
	PQclear(res);
	return NULL;
}

/* SQL without parameters, possibly several statements (the simple protocol). */
static int exec(hfw_ledger *l, const char *sql, const char *what, struct hfw_error *err)
{
	PGresult *res;
	int ret = 0;

	if ((ret = connected(l, err)) < 0)
		return ret;
	res = PQexec(PG(l)->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		ret = db_error(l, res, err, what);
	PQclear(res);
	return ret;
}

/* The code of the error run() set. */
static int fail(struct hfw_error *err)
{
	return err->code < 0 ? err->code : HFW_EIO;
}

/* A column of a row as text; NULL for SQL NULL. */
static const char *text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int64_t integer(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static int pg_begin(hfw_ledger *l, struct hfw_error *err)
{
	int ret;

	if ((ret = exec(l, "BEGIN", "cannot start a transaction", err)) < 0)
		return ret;
	PG(l)->txn = 1;
	return 0;
}

static void pg_rollback(hfw_ledger *l)
{
	struct hfw_error ignored = HFW_ERROR_INIT;

	if (!PG(l)->txn)
		return;
	PG(l)->txn = 0;
	(void)settle(l, &ignored);
	if (PQstatus(PG(l)->conn) == CONNECTION_OK)
		PQclear(PQexec(PG(l)->conn, "ROLLBACK"));
}

/* COMMIT of a transaction an error had ended is a ROLLBACK: said so, never taken for a commit. */
static int pg_commit(hfw_ledger *l, struct hfw_error *err)
{
	PGresult *res;
	int ret = 0;

	if (!(res = run(l, "COMMIT", 0, NULL, NULL, 0, 0, "cannot commit", err)))
		ret = fail(err);
	else if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
		ret = hfw_error_set(err, HFW_EIO, "ledger '%s': cannot commit: the transaction was rolled back after an error",
				    PG(l)->where);
	PQclear(res);
	if (ret < 0)
		pg_rollback(l);
	PG(l)->txn = 0;
	return ret;
}

static int pg_savepoint(hfw_ledger *l, struct hfw_error *err)
{
	return exec(l, "SAVEPOINT hfw_item", "cannot start a savepoint", err);
}

static int pg_savepoint_end(hfw_ledger *l, int keep, struct hfw_error *err)
{
	int ret;

	if (!keep && (ret = exec(l, "ROLLBACK TO hfw_item", "cannot roll back to a savepoint", err)) < 0)
		return ret;
	return exec(l, "RELEASE hfw_item", "cannot release a savepoint", err);
}

/* Run fn in a transaction of its own (or inside the caller's). */
static int in_write_txn(hfw_ledger *l, struct hfw_error *err,
			int (*fn)(hfw_ledger *, void *, struct hfw_error *), void *arg)
{
	int ret;

	if (PG(l)->txn)
		return fn(l, arg, err);
	if ((ret = pg_begin(l, err)) < 0)
		return ret;
	if ((ret = fn(l, arg, err)) < 0) {
		pg_rollback(l);
		return ret;
	}
	return pg_commit(l, err);
}

/* ---- counters ---- */

static int pg_reserve(hfw_ledger *l, const struct hfw_eui *originator, uint64_t now_ms, unsigned n, uint64_t *first,
		      struct hfw_error *err)
{
	/* One statement: atomic, the row locked to the end of the transaction, committed before returning. */
	static const char sql[] =
		"INSERT INTO counters(originator, last) VALUES($1, $2::bigint + $3::bigint - 1) "
		"ON CONFLICT (originator) DO UPDATE SET last = GREATEST(counters.last + 1, $2::bigint) + $3::bigint - 1 "
		"RETURNING last";
	char orig[HFW_EUI_TEXT_MAX], now[24], count[16];
	const char *v[3] = { orig, now, count };
	PGresult *res;
	uint64_t last;

	if (n == 0)
		n = 1;
	if (now_ms > (uint64_t)INT64_MAX - n)
		return hfw_error_set(err, HFW_ELIMIT, "RequestID counter %" PRIu64 " is beyond what the ledger stores",
				     now_ms);
	hfw_eui_format(orig, originator);
	snprintf(now, sizeof(now), "%" PRIu64, now_ms);
	snprintf(count, sizeof(count), "%u", n);
	if (!(res = run(l, sql, 3, v, NULL, 0, 0, "cannot write counters", err)))
		return fail(err);
	last = (uint64_t)integer(res, 0, 0);
	PQclear(res);
	*first = last - n + 1;
	return 0;
}

static int read_last(hfw_ledger *l, const char *orig, uint64_t *last, struct hfw_error *err)
{
	const char *v[1] = { orig };
	PGresult *res;

	*last = 0;
	if (!(res = run(l, "SELECT last FROM counters WHERE originator = $1", 1, v, NULL, 0, 0,
			"cannot read counters", err)))
		return fail(err);
	if (PQntuples(res) == 1)
		*last = (uint64_t)integer(res, 0, 0);
	PQclear(res);
	return 0;
}

static int pg_claim(hfw_ledger *l, const struct hfw_eui *originator, uint64_t counter, struct hfw_error *err)
{
	static const char sql[] =
		"INSERT INTO counters(originator, last) VALUES($1, $2::bigint) "
		"ON CONFLICT (originator) DO UPDATE SET last = EXCLUDED.last WHERE counters.last < EXCLUDED.last "
		"RETURNING last";
	char orig[HFW_EUI_TEXT_MAX], value[24];
	const char *v[2] = { orig, value };
	PGresult *res;
	uint64_t last;
	int claimed, ret;

	hfw_eui_format(orig, originator);
	if (counter > INT64_MAX) {
		if ((ret = read_last(l, orig, &last, err)) < 0)
			return ret;
		return hfw_error_set(err, HFW_ELIMIT, "RequestID counter %" PRIu64 " is beyond what the ledger stores",
				     counter);
	}
	snprintf(value, sizeof(value), "%" PRIu64, counter);
	if (!(res = run(l, sql, 2, v, NULL, 0, 0, "cannot write counters", err)))
		return fail(err);
	claimed = PQntuples(res) == 1;
	PQclear(res);
	if (claimed)
		return 0;
	if ((ret = read_last(l, orig, &last, err)) < 0)
		return ret;
	return hfw_error_set(err, HFW_EINPUT,
			     "RequestID counter %" PRIu64 " is not above the last one used by %s (%" PRIu64
			     "): a counter is never reused", counter, orig, last);
}

static int pg_last(hfw_ledger *l, const struct hfw_eui *originator, uint64_t *last, struct hfw_error *err)
{
	char orig[HFW_EUI_TEXT_MAX];

	hfw_eui_format(orig, originator);
	return read_last(l, orig, last, err);
}

/* ---- requests ---- */

struct record_args {
	const struct hfw_ledger_request *reqs;
	size_t n;
};

static int do_record(hfw_ledger *l, void *arg, struct hfw_error *err)
{
	/*
	 * A RequestID (or originator and counter) already there inserts nothing: refused, the transaction intact.
	 * The time made is the database's (PG_NOW_TEXT): every host's requests on one clock, which the request
	 * budgets count by (pg_run_sent_since), however the hosts' own clocks differ.
	 */
	static const char sql[] =
		"INSERT INTO requests(request_id, originator, target, counter, service_reference, command_variant, "
		"body_sha256, created, state) VALUES($1, $2, $3, $4::bigint, $5, $6::bigint, $7, " PG_NOW_TEXT ", $8) "
		"ON CONFLICT DO NOTHING RETURNING 1";
	struct record_args *a = arg;
	char rid[HFW_REQUEST_ID_MAX], o[HFW_EUI_TEXT_MAX], t[HFW_EUI_TEXT_MAX], hash[65], counter[24], cv[16];
	const char *v[8] = { rid, o, t, counter, NULL, cv, hash, NULL };
	PGresult *res;
	size_t i;
	int ret = 0;

	for (i = 0; i < a->n && ret == 0; i++) {
		const struct hfw_ledger_request *r = &a->reqs[i];

		hfw_request_id_format(rid, &r->id);
		hfw_eui_format(o, &r->id.originator);
		hfw_eui_format(t, &r->id.target);
		hfw_hex_encode(hash, r->body_sha256, HFW_SHA256_LEN);
		snprintf(counter, sizeof(counter), "%" PRIu64, r->id.counter);
		snprintf(cv, sizeof(cv), "%d", r->command_variant);
		v[4] = r->service_reference;
		v[7] = r->state;
		if (!(res = run(l, sql, 8, v, NULL, 0, 0, "cannot record a request", err)))
			return fail(err);
		if (PQntuples(res) != 1)
			ret = hfw_error_set(err, HFW_EINPUT, "RequestID %s is already in the ledger: never reused", rid);
		PQclear(res);
	}
	return ret;
}

static int pg_record(hfw_ledger *l, const struct hfw_ledger_request *reqs, size_t n, struct hfw_error *err)
{
	struct record_args a = { reqs, n };

	return in_write_txn(l, err, do_record, &a);
}

static int set_state(hfw_ledger *l, const char *rid, const char *state, const char *code, struct hfw_error *err)
{
	const char *v[3] = { state, code, rid };
	PGresult *res;
	int ret = 0;

	if (!(res = run(l, "UPDATE requests SET state = $1, response_code = coalesce($2, response_code) "
			   "WHERE request_id = $3", 3, v, NULL, 0, 0, "cannot update a request", err)))
		return fail(err);
	if (strcmp(PQcmdTuples(res), "1") != 0)
		ret = hfw_error_set(err, HFW_ERROR, "request %s is not in the ledger", rid);
	PQclear(res);
	return ret;
}

static int pg_set_state(hfw_ledger *l, const char *request_id, const char *state, const char *response_code,
			struct hfw_error *err)
{
	return set_state(l, request_id, state, response_code, err);
}

struct step_args {
	const char *rid, *state, *code, *detail;
};

static int do_step(hfw_ledger *l, void *arg, struct hfw_error *err)
{
	struct step_args *a = arg;
	char now[HFW_UTC_TEXT_MAX];
	const char *v[5] = { a->rid, now, a->state, a->code, a->detail };
	PGresult *res;
	int ret;

	if ((ret = set_state(l, a->rid, a->state, a->code, err)) < 0)
		return ret;
	hfw_utc_now_text(now);
	if (!(res = run(l, "INSERT INTO request_steps(request_id, at, state, response_code, detail) "
			   "VALUES($1, $2, $3, $4, $5)", 5, v, NULL, 0, 0, "cannot record a step", err)))
		return fail(err);
	PQclear(res);
	return 0;
}

static int pg_step(hfw_ledger *l, const char *request_id, const char *state, const char *response_code,
		   const char *detail, struct hfw_error *err)
{
	struct step_args a = { request_id, state, response_code, detail };

	return in_write_txn(l, err, do_step, &a);
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
	char eui[HFW_EUI_TEXT_MAX];
	const char *v[3] = { a->rid, eui, NULL };
	PGresult *res;
	size_t i;

	for (i = 0; i < a->n; i++) {
		hfw_eui_format(eui, &a->devices[i]);
		v[2] = a->outcomes[i];
		if (!(res = run(l, "INSERT INTO request_devices(request_id, device, outcome) VALUES($1, $2, $3) "
				   "ON CONFLICT (request_id, device) DO UPDATE SET outcome = EXCLUDED.outcome",
				3, v, NULL, 0, 0, "cannot record a device", err)))
			return fail(err);
		PQclear(res);
	}
	return 0;
}

static int pg_record_devices(hfw_ledger *l, const char *request_id, const struct hfw_eui *devices,
			     const char *const *outcomes, size_t n, struct hfw_error *err)
{
	struct device_args a = { request_id, devices, outcomes, n };

	return a.n > 1 ? in_write_txn(l, err, do_devices, &a) : do_devices(l, &a, err);
}

static int pg_count(hfw_ledger *l, int64_t *out, struct hfw_error *err)
{
	PGresult *res;

	*out = 0;
	if (!(res = run(l, "SELECT count(*) FROM requests", 0, NULL, NULL, 0, 0, "cannot count requests", err)))
		return fail(err);
	*out = integer(res, 0, 0);
	PQclear(res);
	return 0;
}

/* ---- campaigns, messages and what they say about devices ---- */

static int pg_campaign_request(hfw_ledger *l, const char *request_id, const char *campaign, const char *action,
			       const char *device_type, const char *firmware_version,
			       const hfw_firmware_hash firmware_hash, struct hfw_error *err)
{
	/* Made again (seq anew), as SQLite's INSERT OR REPLACE does. */
	static const char sql[] =
		"INSERT INTO campaign_requests(request_id, campaign, action, device_type, firmware_version, firmware_hash) "
		"VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id) DO UPDATE SET campaign = EXCLUDED.campaign, "
		"action = EXCLUDED.action, device_type = EXCLUDED.device_type, "
		"firmware_version = EXCLUDED.firmware_version, firmware_hash = EXCLUDED.firmware_hash, seq = DEFAULT";
	char hex[2 * HFW_SHA256_LEN + 1];
	const char *v[6] = { request_id, campaign, action, device_type, firmware_version, firmware_hash ? hex : NULL };
	PGresult *res;

	if (firmware_hash)
		hfw_hex_encode(hex, firmware_hash, HFW_SHA256_LEN);
	if (!(res = run(l, sql, 6, v, NULL, 0, 0, "cannot record a campaign", err)))
		return fail(err);
	PQclear(res);
	return 0;
}

static int pg_campaign_by_hash(hfw_ledger *l, const hfw_firmware_hash firmware_hash, const char *device,
			       char *campaign, size_t size, struct hfw_error *err)
{
	char hex[2 * HFW_SHA256_LEN + 1];
	const char *v[2] = { hex, device };
	PGresult *res;

	campaign[0] = '\0';
	hfw_hex_encode(hex, firmware_hash, HFW_SHA256_LEN);
	if (!(res = run(l, "SELECT campaign FROM campaign_requests c WHERE firmware_hash = $1 AND action = 'distribute' "
			   "AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM request_devices d "
			   "WHERE d.request_id = c.request_id AND d.device = $2)) ORDER BY seq DESC LIMIT 1",
			   2, v, NULL, 0, 0, "cannot read campaigns", err)))
		return fail(err);
	if (PQntuples(res) == 1)
		snprintf(campaign, size, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

struct message_args {
	const struct hfw_ledger_message *m;
	int *duplicate;
};

/* A PostgreSQL text[] literal of one field of every event: {"a","b",NULL}; malloc'd, NULL if out of memory. */
static char *array_of(const struct hfw_ledger_event *events, size_t n, size_t field)
{
	size_t i, size = 3, used = 0;
	const char *f, *p;
	char *out;

	for (i = 0; i < n; i++) {
		const char *const fields[5] = { events[i].device, events[i].request_id, events[i].event, events[i].detail,
						events[i].at };

		size += fields[field] ? 2 * strlen(fields[field]) + 3 : 5;
	}
	if (!(out = malloc(size)))
		return NULL;
	out[used++] = '{';
	for (i = 0; i < n; i++) {
		const char *const fields[5] = { events[i].device, events[i].request_id, events[i].event, events[i].detail,
						events[i].at };

		if (i)
			out[used++] = ',';
		if (!(f = fields[field])) {
			memcpy(out + used, "NULL", 4);
			used += 4;
			continue;
		}
		out[used++] = '"';
		for (p = f; *p; p++) {
			if (*p == '"' || *p == '\\')
				out[used++] = '\\';
			out[used++] = *p;
		}
		out[used++] = '"';
	}
	out[used++] = '}';
	out[used] = '\0';
	return out;
}

static int do_message(hfw_ledger *l, void *arg, struct hfw_error *err)
{
	/*
	 * One statement, one round trip: the message and its events.  The
	 * UNIQUE key decides, across every receiver: a second insert of a key
	 * waits for the first's transaction and then inserts nothing (nor any
	 * event).
	 */
	static const char sql[] =
		"WITH m AS (INSERT INTO messages(key, received, request_id, kind, response_code, raw, decoded) "
		"  VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING RETURNING id), "
		"e AS (INSERT INTO device_events(message_id, device, request_id, event, detail, at) "
		"  SELECT m.id, x.device, x.request_id, x.event, x.detail, x.at FROM m, "
		"  unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) WITH ORDINALITY "
		"    AS x(device, request_id, event, detail, at, n) ORDER BY x.n) "
		"SELECT id FROM m";
	struct message_args *a = arg;
	const struct hfw_ledger_message *m = a->m;
	char now[HFW_UTC_TEXT_MAX], *arrays[5] = { NULL };
	const char *v[12] = { m->key, now, m->request_id, m->kind, m->response_code, (const char *)m->raw, m->decoded };
	int lens[12] = { 0, 0, 0, 0, 0, (int)m->raw_len, 0 };
	PGresult *res = NULL;
	size_t i;
	int ret = 0;

	hfw_utc_now_text(now);
	for (i = 0; i < 5; i++)
		if (!(v[7 + i] = arrays[i] = array_of(m->events, m->nevents, i))) {
			ret = hfw_error_oom(err);
			goto out;
		}
	if (!(res = run(l, sql, 12, v, lens, 1u << 5, 0, "cannot store a message", err))) {
		ret = fail(err);
		goto out;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		*a->duplicate = 1;
		if (!(res = run(l, "UPDATE messages SET duplicates = duplicates + 1 WHERE key = $1", 1, v, NULL, 0, 0,
				"cannot store a message", err)))
			ret = fail(err);
	}
out:
	PQclear(res);
	for (i = 0; i < 5; i++)
		free(arrays[i]);
	return ret;
}

static int pg_store_message(hfw_ledger *l, const struct hfw_ledger_message *m, int *duplicate,
			    struct hfw_error *err)
{
	struct message_args a = { m, duplicate };

	*duplicate = 0;
	return do_message(l, &a, err);	/* one statement: atomic alone, or in the caller's transaction */
}

/* Room a quarantined row takes beyond its prefix, for the cap (as SQLite's). */
#define ROW_OVERHEAD 256

struct quarantine_args {
	const struct hfw_ledger_refusal *q;
	uint64_t cap;
};

static int do_quarantine(hfw_ledger *l, void *arg, struct hfw_error *err)
{
	struct quarantine_args *a = arg;
	const struct hfw_ledger_refusal *q = a->q;
	uint8_t digest[HFW_SHA256_LEN];
	char now[HFW_UTC_TEXT_MAX], hash[2 * HFW_SHA256_LEN + 1], reason[HFW_LEDGER_REASON_MAX + 1], size[24];
	size_t prefix = q->len < HFW_LEDGER_QUARANTINE_PREFIX ? q->len : HFW_LEDGER_QUARANTINE_PREFIX;
	PGresult *res;
	int room;

	hfw_utc_now_text(now);
	hfw_sha256(digest, q->raw, q->len);
	hfw_hex_encode(hash, digest, sizeof(digest));
	snprintf(reason, sizeof(reason), "%s", q->reason);
	snprintf(size, sizeof(size), "%" PRIu64, q->size > q->len ? q->size : q->len);
	if (!(res = run(l, "SELECT coalesce(sum(length(raw)), 0) + count(*) * 256 FROM quarantine", 0, NULL, NULL, 0, 0,
			"cannot read the quarantine", err)))
		return fail(err);
	room = (uint64_t)integer(res, 0, 0) + prefix + ROW_OVERHEAD <= a->cap;
	PQclear(res);
	if (room) {
		const char *v[6] = { now, reason, (const char *)q->raw, q->sender, size, hash };
		int lens[6] = { 0, 0, (int)prefix, 0, 0, 0 };

		res = run(l, "INSERT INTO quarantine(received, reason, raw, sender, size, sha256) "
			     "VALUES($1, $2, $3, $4, $5::bigint, $6)", 6, v, lens, 1u << 2, 0,
			  "cannot quarantine a message", err);
	} else {
		/* Full: counted per reason only (at most 1000 reasons, then "other"). */
		const char *v[3] = { reason, size, now };

		res = run(l, "INSERT INTO quarantine_counts(reason, count, bytes, first, last) "
			     "SELECT CASE WHEN (SELECT count(*) FROM quarantine_counts) >= 1000 "
			     "            AND NOT EXISTS (SELECT 1 FROM quarantine_counts WHERE reason = $1::text) "
			     "       THEN 'other' ELSE $1::text END, 1, $2::bigint, $3::text, $3::text "
			     "ON CONFLICT (reason) DO UPDATE SET count = quarantine_counts.count + 1, "
			     "bytes = quarantine_counts.bytes + EXCLUDED.bytes, last = EXCLUDED.last",
			  3, v, NULL, 0, 0, "cannot count a quarantined message", err);
	}
	if (!res)
		return fail(err);
	PQclear(res);
	return 0;
}

static int pg_quarantine(hfw_ledger *l, const struct hfw_ledger_refusal *q, uint64_t cap, struct hfw_error *err)
{
	struct quarantine_args a = { q, cap };

	return in_write_txn(l, err, do_quarantine, &a);
}

static int pg_campaign_start(hfw_ledger *l, const char *campaign, char *out, size_t size, struct hfw_error *err)
{
	const char *v[1] = { campaign };
	PGresult *res;

	out[0] = '\0';
	if (!(res = run(l, "SELECT min(r.created) FROM requests r JOIN campaign_requests cr ON cr.request_id = r.request_id "
			   "WHERE $1::text IS NULL OR cr.campaign = $1::text", 1, v, NULL, 0, 0, "cannot read campaigns",
			err)))
		return fail(err);
	if (PQntuples(res) == 1 && text(res, 0, 0))
		snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/*
 * The rows of a query one at a time (libpq's single-row mode), so a table of
 * millions never sits in memory whole: fn gets each row as row 0 of its own
 * result.  fn's non-zero return stops it (the rest is read and dropped) and
 * is returned.
 */
static int each(hfw_ledger *l, const char *sql, int n, const char *const *values, int binary, const char *what,
		int (*fn)(void *arg, const PGresult *res), void *arg, struct hfw_error *err)
{
	PGconn *c = PG(l)->conn;
	PGresult *res;
	int ret;

	if ((ret = connected(l, err)) < 0)
		return ret;
	if (!PQsendQueryParams(c, sql, n, NULL, values, NULL, NULL, binary))
		return db_error(l, NULL, err, what);
	if (!PQsetSingleRowMode(c))
		ret = db_error(l, NULL, err, what);
	while ((res = PQgetResult(c))) {
		if (PQresultStatus(res) == PGRES_SINGLE_TUPLE) {
			if (ret == 0)
				ret = fn(arg, res);
		} else if (PQresultStatus(res) != PGRES_TUPLES_OK && ret == 0) {
			ret = db_error(l, res, err, what);
		}
		PQclear(res);
	}
	return ret;
}

struct quarantined_args {
	int (*fn)(void *arg, const struct hfw_ledger_quarantined *q);
	void *arg;
	int counted;
};

static int quarantined_row(void *arg, const PGresult *res)
{
	struct quarantined_args *a = arg;
	struct hfw_ledger_quarantined q;

	q.received = text(res, 0, 0);
	q.sender = text(res, 0, 1);
	q.size = (uint64_t)integer(res, 0, 2);
	q.sha256 = text(res, 0, 3);
	q.reason = text(res, 0, 4);
	q.kept = (uint64_t)integer(res, 0, 5);
	q.count = (uint64_t)integer(res, 0, 6);
	q.last = text(res, 0, 7);
	q.counted = a->counted;
	return a->fn(a->arg, &q);
}

static int pg_each_quarantined(hfw_ledger *l, const char *since,
			       int (*fn)(void *arg, const struct hfw_ledger_quarantined *q), void *arg,
			       struct hfw_error *err)
{
	static const char *const sql[2] = {
		"SELECT received, sender, coalesce(size, length(raw)), sha256, reason, length(raw), 1, received "
		"FROM quarantine WHERE received COLLATE \"C\" >= $1::text ORDER BY id",
		"SELECT first, NULL, bytes, NULL, reason, 0, count, last "
		"FROM quarantine_counts WHERE last COLLATE \"C\" >= $1::text ORDER BY reason COLLATE \"C\"",
	};
	const char *v[1] = { since ? since : "" };
	struct quarantined_args a = { fn, arg, 0 };
	int ret = 0;

	for (a.counted = 0; a.counted < 2 && ret == 0; a.counted++)
		ret = each(l, sql[a.counted], 1, v, 0, "cannot read the quarantine", quarantined_row, &a, err);
	return ret;
}

struct row_args {
	int (*fn)(void *arg, const struct hfw_ledger_row *row);
	void *arg;
	const char *campaign;	/* distributions: the campaign asked for */
};

static int campaign_row(void *arg, const PGresult *res)
{
	struct row_args *a = arg;
	struct hfw_ledger_row row;

	row.device = text(res, 0, 0);
	row.request_id = text(res, 0, 1);
	row.source = text(res, 0, 2);
	row.state = text(res, 0, 3);
	row.detail = text(res, 0, 4);
	row.at = text(res, 0, 5);
	row.message_id = integer(res, 0, 6);
	row.campaign = text(res, 0, 7);
	row.firmware_version = text(res, 0, 8);
	row.firmware_hash = text(res, 0, 9);
	row.device_type = text(res, 0, 10);
	return a->fn(a->arg, &row);
}

static int pg_each_campaign_row(hfw_ledger *l, const char *campaign, const char *device,
				int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
				struct hfw_error *err)
{
	/* As SQLite's: the campaign's requests per device in the order made, then events in the order received. */
	static const char *const sql[3] = {
		"SELECT rd.device, rd.request_id, cr.action, rd.outcome, rq.response_code, NULL, 0, cr.campaign,"
		"       cr.firmware_version, cr.firmware_hash, cr.device_type "
		"FROM campaign_requests cr JOIN request_devices rd ON rd.request_id = cr.request_id "
		"LEFT JOIN requests rq ON rq.request_id = cr.request_id "
		"WHERE ($1::text IS NULL OR cr.campaign = $1::text) AND ($2::text IS NULL OR rd.device = $2::text) "
		"ORDER BY cr.seq",
		"SELECT device, request_id, 'event', event, detail, at, message_id, NULL, NULL, NULL, NULL "
		"FROM device_events ORDER BY seq",
		"SELECT device, request_id, 'event', event, detail, at, message_id, NULL, NULL, NULL, NULL "
		"FROM device_events WHERE device = $1::text ORDER BY seq",
	};
	struct row_args a = { fn, arg, NULL };
	struct hfw_error ignored = HFW_ERROR_INIT;
	int k, ret = 0, no_jit = 0;

	/*
	 * Not compiled: the whole campaign's read costs enough for the planner
	 * to JIT-compile it with optimisation (jit_optimize_above_cost): over a
	 * 1,000,000-device campaign 1.8 s of compiling (summed over the query's
	 * three processes) in a 7.4 s query, which it never saves on these
	 * joins; status 9.2-9.8 s -> 8.8-9.3 s.  For this read only (RESET
	 * after: a pooled connection goes on to others); JIT came with
	 * PostgreSQL 11.
	 */
	if (!device && (ret = connected(l, err)) == 0 && PQserverVersion(PG(l)->conn) >= 110000 &&
	    (ret = exec(l, "SET jit = off", "cannot read the campaign", err)) == 0)
		no_jit = 1;
	if (ret < 0)
		return ret;
	for (k = 0; k < 2 && ret == 0; k++) {
		const char *v[2] = { k == 0 ? campaign : device, device };

		ret = each(l, sql[k == 1 && device ? 2 : k], k == 0 ? 2 : device ? 1 : 0, v, 0, "cannot read the campaign",
			   campaign_row, &a, err);
	}
	if (no_jit && PQstatus(PG(l)->conn) == CONNECTION_OK)
		exec(l, "RESET jit", "cannot read the campaign", &ignored);
	return ret;
}

static int distribution_row(void *arg, const PGresult *res)
{
	struct row_args *a = arg;
	struct hfw_ledger_row row;

	memset(&row, 0, sizeof(row));
	row.device = text(res, 0, 0);
	row.request_id = text(res, 0, 1);
	row.source = "distribute";
	row.state = text(res, 0, 2);
	row.detail = text(res, 0, 3);
	row.campaign = a->campaign;
	return a->fn(a->arg, &row);
}

static int pg_each_distribution(hfw_ledger *l, const char *campaign,
				int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
				struct hfw_error *err)
{
	const char *v[1] = { campaign };
	struct row_args a = { fn, arg, campaign };

	return each(l, "SELECT rd.device, rd.request_id, rd.outcome, rq.response_code "
		       "FROM campaign_requests cr JOIN request_devices rd ON rd.request_id = cr.request_id "
		       "LEFT JOIN requests rq ON rq.request_id = cr.request_id "
		       "WHERE cr.campaign = $1 AND cr.action = 'distribute' ORDER BY cr.seq",
		    1, v, 0, "cannot read the campaign's distributions", distribution_row, &a, err);
}

struct name_args {
	int (*fn)(void *arg, const char *name);
	void *arg;
};

static int name_row(void *arg, const PGresult *res)
{
	struct name_args *a = arg;

	return a->fn(a->arg, PQgetvalue(res, 0, 0));
}

static int pg_each_campaign_name(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg,
				 struct hfw_error *err)
{
	struct name_args a = { fn, arg };

	return each(l, "SELECT DISTINCT campaign COLLATE \"C\" FROM campaign_requests ORDER BY 1", 0, NULL, 0,
		    "cannot read the campaigns", name_row, &a, err);
}

static int pg_version(hfw_ledger *l, int *version, struct hfw_error *err)
{
	(void)err;
	*version = PG(l)->version;
	return 0;
}

/* ---- campaign run state (run.h; run.c hands its calls here) ---- */

/*
 * The same rows and order as SQLite's (ledger_sqlite.c): text sorted
 * bytewise (COLLATE "C"), "the order made" by the seq columns where SQLite
 * has rowids.  Times the run writes are the client's clock, as SQLite's
 * strftime('now') is.
 */

static void pg_run_cache(hfw_ledger *l, int on)
{
	(void)l;	/* unnamed statements, prepared by the server per call: nothing kept */
	(void)on;
}

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static double real(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0.0 : strtod(PQgetvalue(res, row, col), NULL);
}

static int pg_run_get(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, int *found, struct hfw_error *err)
{
	const char *v[1] = { name };
	PGresult *res;

	*found = 0;
	memset(c, 0, sizeof(*c));
	if (!(res = run(l, "SELECT name, plan_path, plan_sha256, state, reason, wave, wave_started_ms, gate_passed, "
			   "min_canary, min_wave, wave_timeout_s FROM run_campaigns WHERE name = $1", 1, v, NULL, 0, 0,
			"cannot read campaign runs", err)))
		return fail(err);
	if (PQntuples(res) == 1) {
		*found = 1;
		copy_text(c->name, sizeof(c->name), text(res, 0, 0));
		copy_text(c->plan_path, sizeof(c->plan_path), text(res, 0, 1));
		copy_text(c->plan_sha256, sizeof(c->plan_sha256), text(res, 0, 2));
		copy_text(c->state, sizeof(c->state), text(res, 0, 3));
		copy_text(c->reason, sizeof(c->reason), text(res, 0, 4));
		c->wave = integer(res, 0, 5);
		c->wave_started_ms = integer(res, 0, 6);
		c->gate_passed = integer(res, 0, 7);
		c->min_canary = real(res, 0, 8);
		c->min_wave = real(res, 0, 9);
		c->wave_timeout_s = integer(res, 0, 10);
	}
	PQclear(res);
	return 0;
}

static int pg_run_put(hfw_ledger *l, const struct hfw_run_campaign *c, struct hfw_error *err)
{
	static const char sql[] =
		"INSERT INTO run_campaigns(name, plan_path, plan_sha256, state, reason, wave, wave_started_ms, "
		"gate_passed, min_canary, min_wave, wave_timeout_s, updated) "
		"VALUES($1, $2, $3, $4, $5, $6::bigint, $7::bigint, $8::bigint, $9::float8, $10::float8, $11::bigint, $12) "
		"ON CONFLICT (name) DO UPDATE SET plan_path = EXCLUDED.plan_path, plan_sha256 = EXCLUDED.plan_sha256, "
		"state = EXCLUDED.state, reason = EXCLUDED.reason, wave = EXCLUDED.wave, "
		"wave_started_ms = EXCLUDED.wave_started_ms, gate_passed = EXCLUDED.gate_passed, "
		"min_canary = EXCLUDED.min_canary, min_wave = EXCLUDED.min_wave, "
		"wave_timeout_s = EXCLUDED.wave_timeout_s, updated = EXCLUDED.updated";
	char wave[24], started[24], passed[24], canary[32], minw[32], timeout[24], now[HFW_UTC_TEXT_MAX];
	const char *v[12] = { c->name, c->plan_path, c->plan_sha256, c->state, c->reason[0] ? c->reason : NULL,
			      wave, started, passed, canary, minw, timeout, now };
	PGresult *res;

	snprintf(wave, sizeof(wave), "%" PRId64, c->wave);
	snprintf(started, sizeof(started), "%" PRId64, c->wave_started_ms);
	snprintf(passed, sizeof(passed), "%" PRId64, c->gate_passed);
	snprintf(canary, sizeof(canary), "%.17g", c->min_canary);
	snprintf(minw, sizeof(minw), "%.17g", c->min_wave);
	snprintf(timeout, sizeof(timeout), "%" PRId64, c->wave_timeout_s);
	hfw_utc_now_text(now);
	if (!(res = run(l, sql, 12, v, NULL, 0, 0, "cannot record the campaign run", err)))
		return fail(err);
	PQclear(res);
	return 0;
}

static int pg_run_add_device(hfw_ledger *l, const char *campaign, const struct hfw_run_device *d,
			     struct hfw_error *err)
{
	char wave[24], image[24], now[HFW_UTC_TEXT_MAX];
	const char *v[7] = { campaign, d->device, wave, image, hfw_run_step_name(d->step), d->reason, now };
	PGresult *res;

	snprintf(wave, sizeof(wave), "%" PRId64, d->wave);
	snprintf(image, sizeof(image), "%" PRId64, d->image);
	hfw_utc_now_text(now);
	if (!(res = run(l, "INSERT INTO run_devices(campaign, device, wave, image, step, reason, attempts, updated) "
			   "VALUES($1, $2, $3::bigint, $4::bigint, $5, $6, 0, $7) ON CONFLICT (campaign, device) DO NOTHING",
			7, v, NULL, 0, 0, "cannot record a campaign device", err)))
		return fail(err);
	PQclear(res);
	return 0;
}

static int pg_run_set_step(hfw_ledger *l, const char *campaign, const char *device, enum hfw_run_step step,
			   const char *reason, int bump, struct hfw_error *err)
{
	char now[HFW_UTC_TEXT_MAX];
	const char *v[6] = { hfw_run_step_name(step), reason, bump ? "1" : "0", campaign, device, now };
	PGresult *res;

	hfw_utc_now_text(now);
	if (!(res = run(l, "UPDATE run_devices SET attempts = CASE WHEN step = $1 THEN attempts + $3::bigint ELSE $3::bigint END, "
			   "step = $1, reason = $2, updated = $6 WHERE campaign = $4 AND device = $5",
			6, v, NULL, 0, 0, "cannot record a campaign device's step", err)))
		return fail(err);
	PQclear(res);
	return 0;
}

struct run_device_args {
	int (*fn)(void *arg, const struct hfw_run_device *d);
	void *arg;
};

static int run_device_row(void *arg, const PGresult *res)
{
	struct run_device_args *a = arg;
	struct hfw_run_device d;
	int s = hfw_run_step_parse(text(res, 0, 3));

	d.device = text(res, 0, 0);
	d.wave = integer(res, 0, 1);
	d.image = integer(res, 0, 2);
	d.step = s < 0 ? HFW_RUN_FAILED : (enum hfw_run_step)s;
	d.reason = text(res, 0, 4);
	d.attempts = integer(res, 0, 5);
	return a->fn(a->arg, &d);
}

static int pg_run_each_device(hfw_ledger *l, const char *campaign, int64_t wave,
			      int (*fn)(void *arg, const struct hfw_run_device *d), void *arg, struct hfw_error *err)
{
	struct run_device_args a = { fn, arg };
	char w[24];
	const char *v[2] = { campaign, w };

	snprintf(w, sizeof(w), "%" PRId64, wave);
	/* One wave's by its index (a polling round's cost is the wave's, not the campaign's), or all. */
	return each(l, wave ? "SELECT device, wave, image, step, reason, attempts FROM run_devices "
			      "WHERE campaign = $1 AND wave = $2::bigint ORDER BY device COLLATE \"C\""
			    : "SELECT device, wave, image, step, reason, attempts FROM run_devices "
			      "WHERE campaign = $1 ORDER BY device COLLATE \"C\"",
		    wave ? 2 : 1, v, 0, "cannot read campaign devices", run_device_row, &a, err);
}

static int pg_run_has_request(hfw_ledger *l, const char *campaign, const char *device, const char *action, int *has,
			      struct hfw_error *err)
{
	const char *v[3] = { device, campaign, action };
	PGresult *res;

	*has = 0;
	if (!(res = run(l, "SELECT max(CASE WHEN r.state NOT IN ('signed', 'precommand_signed', 'unknown') THEN 1 ELSE 0 END) "
			   "FROM request_devices d JOIN campaign_requests c ON c.request_id = d.request_id "
			   "JOIN requests r ON r.request_id = d.request_id "
			   "WHERE d.device = $1 AND c.campaign = $2 AND c.action = $3 "
			   "AND r.state NOT IN ('transform_signed', 'not_sent', 'refused', 'dry-run')",
			3, v, NULL, 0, 0, "cannot read requests", err)))
		return fail(err);
	if (PQntuples(res) == 1 && text(res, 0, 0))
		*has = integer(res, 0, 0) ? HFW_RUN_ANSWERED : HFW_RUN_UNKNOWN_FATE;
	PQclear(res);
	return 0;
}

static int pg_run_each_name(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg, struct hfw_error *err)
{
	struct name_args a = { fn, arg };

	return each(l, "SELECT name FROM run_campaigns ORDER BY name COLLATE \"C\"", 0, NULL, 0,
		    "cannot read campaign runs", name_row, &a, err);
}

static int pg_run_settle_distributions(hfw_ledger *l, const char *campaign, int *settled, struct hfw_error *err)
{
	/*
	 * One statement, as SQLite's several in one transaction: every part
	 * sees the rows as they were before it (so a request's step is
	 * recorded only when its state changes), and the count is of the
	 * devices settled.
	 */
	static const char sql[] =
		"WITH s AS (SELECT d.request_id, d.device FROM request_devices d "
		"  JOIN campaign_requests c ON c.request_id = d.request_id "
		"  JOIN requests r ON r.request_id = d.request_id "
		"  WHERE c.campaign = $1 AND c.action = 'distribute' AND d.outcome = 'pending' "
		"  AND r.state IN ('signed', 'unknown', 'accepted') AND EXISTS (SELECT 1 FROM device_events e "
		"    WHERE e.device = d.device AND e.request_id = d.request_id)), "
		"u AS (UPDATE request_devices rd SET outcome = 'accepted' FROM s "
		"  WHERE s.request_id = rd.request_id AND s.device = rd.device RETURNING 1), "
		"st AS (INSERT INTO request_steps(request_id, at, state, response_code, detail) "
		"  SELECT x.request_id, $2, 'accepted', NULL, 'settled by campaign run: the DCC''s alerts answer it' "
		"  FROM (SELECT DISTINCT s.request_id FROM s JOIN requests r ON r.request_id = s.request_id "
		"    WHERE r.state <> 'accepted') x ORDER BY x.request_id COLLATE \"C\" RETURNING 1), "
		"q AS (UPDATE requests SET state = 'accepted' WHERE state <> 'accepted' "
		"  AND request_id IN (SELECT request_id FROM s) RETURNING 1) "
		"SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM st), (SELECT count(*) FROM q)";
	char now[HFW_UTC_TEXT_MAX];
	const char *v[2] = { campaign, now };
	PGresult *res;

	*settled = 0;
	hfw_utc_now_text(now);
	if (!(res = run(l, sql, 2, v, NULL, 0, 0, "cannot settle distributions", err)))
		return fail(err);
	*settled = (int)integer(res, 0, 0);
	PQclear(res);
	return 0;
}

/* The window is the database's clock's last SECONDS, as the requests' times are (do_record). */
static int pg_run_sent_since(hfw_ledger *l, const char *sr, unsigned seconds, int64_t *n, struct hfw_error *err)
{
	char secs[16];
	const char *v[2] = { sr, secs };
	PGresult *res;

	*n = 0;
	snprintf(secs, sizeof(secs), "%u", seconds);
	if (!(res = run(l, "SELECT count(*) FROM requests WHERE ($1::text IS NULL OR service_reference = $1::text) "
			   /* never left hanfw, or a CV 4 transform (nothing for a device): not against a budget */
			   "AND state NOT IN ('dry-run', 'not_sent', 'transform_signed') "
			   "AND created COLLATE \"C\" >= to_char((clock_timestamp() AT TIME ZONE 'UTC') - "
			   "make_interval(secs => $2::int), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
			2, v, NULL, 0, 0, "cannot count requests", err)))
		return fail(err);
	*n = integer(res, 0, 0);
	PQclear(res);
	return 0;
}

static int pg_run_each_wave_row(hfw_ledger *l, const char *campaign, int64_t wave, const char *also,
				int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
				struct hfw_error *err)
{
	/* As SQLite's: the wave's devices' requests of the campaign in the order made, then their events (and also's). */
	static const char *const sql[2] = {
		"SELECT rd.device, rd.request_id, cr.action, rd.outcome, rq.response_code, NULL, 0, cr.campaign,"
		"       cr.firmware_version, cr.firmware_hash, cr.device_type "
		"FROM run_devices w JOIN request_devices rd ON rd.device = w.device "
		"JOIN campaign_requests cr ON cr.request_id = rd.request_id "
		"LEFT JOIN requests rq ON rq.request_id = cr.request_id "
		"WHERE w.campaign = $1 AND w.wave = $2::bigint AND cr.campaign = $1 ORDER BY cr.seq, rd.device COLLATE \"C\"",
		"SELECT device, request_id, 'event', event, detail, at, message_id, NULL, NULL, NULL, NULL "
		"FROM device_events WHERE device IN (SELECT device FROM run_devices WHERE campaign = $1 AND wave = $2::bigint "
		"UNION ALL SELECT $3::text) ORDER BY seq",
	};
	struct row_args a = { fn, arg, NULL };
	char w[24];
	const char *v[3] = { campaign, w, also };
	int k, ret = 0;

	snprintf(w, sizeof(w), "%" PRId64, wave);
	for (k = 0; k < 2 && ret == 0; k++)
		ret = each(l, sql[k], k ? 3 : 2, v, 0, "cannot read the campaign's wave", campaign_row, &a, err);
	return ret;
}

static int pg_run_redrive_set(hfw_ledger *l, const char *campaign, const struct hfw_run_redrive *w,
			      struct hfw_error *err)
{
	char counts[HFW_RUN_REDRIVE_CLASSES * 21 + 1], attempts[24], seen[24], due[24];
	const char *v[7] = { campaign, w->device, hfw_run_step_name(w->step), attempts, seen, due, counts };
	PGresult *res;
	size_t i, n = 0;

	for (i = 0; i < HFW_RUN_REDRIVE_CLASSES; i++)
		n += (size_t)snprintf(counts + n, sizeof(counts) - n, "%s%lld", i ? "," : "", (long long)w->redrives[i]);
	snprintf(attempts, sizeof(attempts), "%" PRId64, w->attempts);
	snprintf(seen, sizeof(seen), "%" PRId64, w->seen_ms);
	snprintf(due, sizeof(due), "%" PRId64, w->due_ms);
	if (!(res = run(l, "INSERT INTO run_redrive(campaign, device, step, attempts, seen_ms, due_ms, redrives) "
			   "VALUES($1, $2, $3, $4::bigint, $5::bigint, $6::bigint, $7) ON CONFLICT (campaign, device) DO UPDATE "
			   "SET step = EXCLUDED.step, attempts = EXCLUDED.attempts, seen_ms = EXCLUDED.seen_ms, "
			   "due_ms = EXCLUDED.due_ms, redrives = EXCLUDED.redrives",
			7, v, NULL, 0, 0, "cannot record a re-drive window", err)))
		return fail(err);
	PQclear(res);
	return 0;
}

struct redrive_args {
	int (*fn)(void *arg, const struct hfw_run_redrive *w);
	void *arg;
};

static int redrive_row(void *arg, const PGresult *res)
{
	struct redrive_args *a = arg;
	struct hfw_run_redrive w;
	const char *p = text(res, 0, 5);
	int s = hfw_run_step_parse(text(res, 0, 1));
	size_t i;

	memset(&w, 0, sizeof(w));
	w.device = text(res, 0, 0);
	w.step = s < 0 ? HFW_RUN_FAILED : (enum hfw_run_step)s;
	w.attempts = integer(res, 0, 2);
	w.seen_ms = integer(res, 0, 3);
	w.due_ms = integer(res, 0, 4);
	for (i = 0; p && *p && i < HFW_RUN_REDRIVE_CLASSES; i++) {
		char *end;

		w.redrives[i] = strtoll(p, &end, 10);
		p = *end == ',' ? end + 1 : end;
	}
	return a->fn(a->arg, &w);
}

static int pg_run_redrive_each(hfw_ledger *l, const char *campaign,
			       int (*fn)(void *arg, const struct hfw_run_redrive *w), void *arg, struct hfw_error *err)
{
	struct redrive_args a = { fn, arg };
	const char *v[1] = { campaign };

	return each(l, "SELECT device, step, attempts, seen_ms, due_ms, redrives FROM run_redrive WHERE campaign = $1 "
		       "ORDER BY device COLLATE \"C\"", 1, v, 0, "cannot read re-drive windows", redrive_row, &a, err);
}

static int pg_run_latest_unsent(hfw_ledger *l, const char *campaign, const char *device, const char *action,
				int *unsent, struct hfw_error *err)
{
	const char *v[3] = { device, campaign, action };
	PGresult *res;

	*unsent = 0;
	/* The latest: the campaign request made last (seq; SQLite's requests' rowid). */
	if (!(res = run(l, "SELECT r.state IN ('transform_signed', 'not_sent', 'refused') "
			   "FROM request_devices d JOIN campaign_requests c ON c.request_id = d.request_id "
			   "JOIN requests r ON r.request_id = d.request_id "
			   "WHERE d.device = $1 AND c.campaign = $2 AND c.action = $3 ORDER BY c.seq DESC LIMIT 1",
			3, v, NULL, 0, 0, "cannot read requests", err)))
		return fail(err);
	if (PQntuples(res) == 1)
		*unsent = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	return 0;
}

/*
 * One run of a campaign at a time: a session-level advisory lock on this
 * connection, keyed by a 64-bit FNV-1a hash of a constant, the ledger's
 * schema and the campaign's name (the same on every host and every
 * PostgreSQL version).  Advisory locks are the database's, so the schema
 * keeps two ledgers of one database (search_path) from refusing each
 * other's runs of a campaign of the same name.  The server drops it with
 * the session: the process ends, or is killed, or its connection is lost
 * (connected() takes it again on reconnecting, or stops the run if
 * another process has it by then).
 */
static int64_t lock_key(const char *schema, const char *name)
{
	char len[24];
	const char *part[4] = { "hanfw campaign run\n", len, schema, name }, *p;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	snprintf(len, sizeof(len), "%zu:", strlen(schema));	/* so schema and name cannot trade characters */
	for (i = 0; i < 4; i++)
		for (p = part[i]; *p; p++)
			h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return (int64_t)h;
}

/*
 * The schema the ledger's tables are in: where schema_version resolves on
 * this connection's search_path (not current_schema(), the first schema of
 * the path that exists, which may be an empty one of the user's own).
 */
static int ledger_schema(hfw_ledger *l, char *out, size_t size, struct hfw_error *err)
{
	PGresult *res;

	if (!(res = run(l, "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
			   "WHERE c.oid = to_regclass('schema_version')", 0, NULL, NULL, 0, 0,
			   "cannot read the ledger's schema", err)))
		return fail(err);
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return hfw_error_set(err, HFW_ECONFIG, "ledger: no ledger tables on search_path at '%s'", PG(l)->where);
	}
	snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* pg_try_advisory_lock(key): 1 taken, 0 held by another session, <0 error. */
/* 1 if taken, 0 if another session holds it (never with wait: pg_advisory_lock blocks until it is free). */
static int try_lock(hfw_ledger *l, int64_t key, int wait, struct hfw_error *err)
{
	char k[24];
	const char *v[1] = { k };
	PGresult *res;
	int got;

	snprintf(k, sizeof(k), "%" PRId64, key);
	res = PQexecParams(PG(l)->conn, wait ? "SELECT true FROM pg_advisory_lock($1::bigint)" : "SELECT pg_try_advisory_lock($1::bigint)",
			   1, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		db_error(l, res, err, "cannot take the campaign's run lock");
		PQclear(res);
		return fail(err);
	}
	got = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	return got;
}

static int pg_lock_campaign(hfw_ledger *l, const char *name, int wait, hfw_ledger_lock **out, struct hfw_error *err)
{
	struct hfw_ledger_lock *k = NULL;
	char schema[128];
	int64_t key = 0;
	int ret;

	*out = NULL;
	if (PG(l)->nlocks >= sizeof(PG(l)->locks) / sizeof(PG(l)->locks[0]))
		return hfw_error_set(err, HFW_ELIMIT, "ledger: too many campaign run locks in one process");
	if (!(k = calloc(1, sizeof(*k))))
		return hfw_error_oom(err);
	if ((ret = connected(l, err)) < 0 || (ret = ledger_schema(l, schema, sizeof(schema), err)) < 0)
		goto out;
	key = lock_key(schema, name);
	if ((ret = try_lock(l, key, wait, err)) < 0)
		goto out;
	if (ret == 0) {
		ret = hfw_error_set(err, HFW_EINPUT,
				    "campaign %s is being run by another process (advisory lock %" PRId64
				    " on '%s'): one run of a campaign at a time", name, key, PG(l)->where);
		goto out;
	}
	k->l = l;
	k->fd = -1;
	k->key = key;
	PG(l)->locks[PG(l)->nlocks++] = key;
	*out = k;
	k = NULL;
	ret = 0;
out:
	free(k);
	return ret;
}

static void pg_unlock_campaign(hfw_ledger_lock *k)
{
	hfw_ledger *l = k->l;
	struct hfw_error ignored = HFW_ERROR_INIT;
	char key[24];
	const char *v[1] = { key };
	size_t i;

	for (i = 0; i < PG(l)->nlocks; i++)
		if (PG(l)->locks[i] == k->key) {
			PG(l)->locks[i] = PG(l)->locks[--PG(l)->nlocks];
			break;
		}
	snprintf(key, sizeof(key), "%" PRId64, k->key);
	if (PQstatus(PG(l)->conn) == CONNECTION_OK && !PG(l)->lock_lost)
		PQclear(run(l, "SELECT pg_advisory_unlock($1::bigint)", 1, v, NULL, 0, 0, "cannot unlock", &ignored));
	free(k);
}

/* ---- copy (hfw_ledger_copy) ---- */

static uint64_t big_endian(const uint8_t *p, int n)
{
	uint64_t x = 0;
	int i;

	for (i = 0; i < n; i++)
		x = x << 8 | p[i];
	return x;
}

struct copy_args {
	const struct hfw_ledger_table *t;
	int (*fn)(void *arg, const struct hfw_ledger_value *values);
	void *arg;
	struct hfw_error *err;
};

/* One row of a table being copied, from its binary form. */
static int copy_row(void *arg, const PGresult *res)
{
	struct copy_args *a = arg;
	struct hfw_ledger_value v[16];
	size_t i;

	for (i = 0; i < a->t->ncolumns; i++) {
		const uint8_t *p = (const uint8_t *)PQgetvalue(res, 0, (int)i);
		int len = PQgetlength(res, 0, (int)i);
		Oid type = PQftype(res, (int)i);
		uint64_t bits;

		memset(&v[i], 0, sizeof(v[i]));
		if (PQgetisnull(res, 0, (int)i))
			v[i].type = HFW_LEDGER_NULL;
		else if ((type == 20 && len == 8) || (type == 23 && len == 4)) {	/* int8, int4 */
			v[i].type = HFW_LEDGER_INT;
			bits = big_endian(p, len);
			v[i].i = len == 8 ? (int64_t)bits : (int64_t)(int32_t)(uint32_t)bits;
		} else if (type == 701 && len == 8) {	/* float8 */
			bits = big_endian(p, 8);
			v[i].type = HFW_LEDGER_REAL;
			memcpy(&v[i].r, &bits, sizeof(v[i].r));
		} else if (type == 17 || type == 25) {	/* bytea, text */
			v[i].type = type == 17 ? HFW_LEDGER_BLOB : HFW_LEDGER_TEXT;
			v[i].p = p;
			v[i].len = (size_t)len;
		} else
			return hfw_error_set(a->err, HFW_EIO, "table %s: column %s has a type the copy does not know",
					     a->t->name, a->t->columns[i]);
	}
	return a->fn(a->arg, v);
}

static int pg_each_row(hfw_ledger *l, const struct hfw_ledger_table *t,
		       int (*fn)(void *arg, const struct hfw_ledger_value *values), void *arg, struct hfw_error *err)
{
	struct copy_args a = { t, fn, arg, err };
	char sql[1024];
	size_t i, n = 0;

	n += (size_t)snprintf(sql + n, sizeof(sql) - n, "SELECT ");
	for (i = 0; i < t->ncolumns && n < sizeof(sql); i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s\"%s\"", i ? ", " : "", t->columns[i]);
	if (n < sizeof(sql))
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " FROM %s ORDER BY %s", t->name, t->order_pg);
	if (n >= sizeof(sql) || t->ncolumns > 16)
		return hfw_error_set(err, HFW_ELIMIT, "table %s: too many columns to copy", t->name);
	/* Binary results: integers, reals and bytes as they are, whatever the server's text formats. */
	return each(l, sql, 0, NULL, 1, "cannot read a table to copy", copy_row, &a, err);
}

/* Text for COPY's text format: a backslash, tab, newline or carriage return escaped. */
static char *copy_escaped(char *o, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		switch (p[i]) {
		case '\\': *o++ = '\\'; *o++ = '\\'; break;
		case '\t': *o++ = '\\'; *o++ = 't'; break;
		case '\n': *o++ = '\\'; *o++ = 'n'; break;
		case '\r': *o++ = '\\'; *o++ = 'r'; break;
		default: *o++ = (char)p[i];
		}
	return o;
}

static int pg_add_row(hfw_ledger *l, const struct hfw_ledger_table *t, const struct hfw_ledger_value *v,
		      struct hfw_error *err)
{
	static const char digits[] = "0123456789abcdef";
	PGconn *c = PG(l)->conn;
	size_t i, k, need = 1;
	char *o;
	int ret;

	if (PG(l)->copying != t) {
		char sql[1024];
		PGresult *res;
		size_t n = 0;

		if ((ret = connected(l, err)) < 0)	/* ends the previous table's COPY */
			return ret;
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "COPY %s(", t->name);
		for (i = 0; i < t->ncolumns && n < sizeof(sql); i++)
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s\"%s\"", i ? ", " : "", t->columns[i]);
		if (n < sizeof(sql))
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, ") FROM STDIN");
		if (n >= sizeof(sql))
			return hfw_error_set(err, HFW_ELIMIT, "table %s: too many columns to copy", t->name);
		res = PQexec(c, sql);
		if (PQresultStatus(res) != PGRES_COPY_IN) {
			ret = db_error(l, res, err, "cannot copy into a table");
			PQclear(res);
			return ret;
		}
		PQclear(res);
		PG(l)->copying = t;
	}
	/* The row's size at most: each value escaped (text doubles at most; a blob is \\x and hex), a separator. */
	for (i = 0; i < t->ncolumns; i++)
		need += 1 + (v[i].type == HFW_LEDGER_TEXT || v[i].type == HFW_LEDGER_BLOB ? 3 + 2 * v[i].len : 32);
	if (need > PG(l)->line_size) {
		char *p = realloc(PG(l)->line, need);

		if (!p)
			return hfw_error_oom(err);
		PG(l)->line = p;
		PG(l)->line_size = need;
	}
	o = PG(l)->line;
	for (i = 0; i < t->ncolumns; i++) {
		if (i)
			*o++ = '\t';
		switch (v[i].type) {
		case HFW_LEDGER_INT:
			o += snprintf(o, 32, "%" PRId64, v[i].i);
			break;
		case HFW_LEDGER_REAL:
			o += snprintf(o, 32, "%.17g", v[i].r);
			break;
		case HFW_LEDGER_TEXT:
			o = copy_escaped(o, v[i].p, v[i].len);
			break;
		case HFW_LEDGER_BLOB:	/* bytea's hex form, its backslash escaped */
			*o++ = '\\';
			*o++ = '\\';
			*o++ = 'x';
			for (k = 0; k < v[i].len; k++) {
				*o++ = digits[((const uint8_t *)v[i].p)[k] >> 4];
				*o++ = digits[((const uint8_t *)v[i].p)[k] & 15];
			}
			break;
		case HFW_LEDGER_NULL:
			*o++ = '\\';
			*o++ = 'N';
			break;
		}
	}
	*o++ = '\n';
	if (PQputCopyData(c, PG(l)->line, (int)(o - PG(l)->line)) != 1)
		return db_error(l, NULL, err, "cannot copy into a table");
	return 0;
}

/* Rows copied with their ids: the id sequences go on past them. */
static int pg_copied(hfw_ledger *l, struct hfw_error *err)
{
	return exec(l, "SELECT setval(pg_get_serial_sequence('messages', 'id'), coalesce(max(id), 0) + 1, false) "
		       "FROM messages;"
		       "SELECT setval(pg_get_serial_sequence('quarantine', 'id'), coalesce(max(id), 0) + 1, false) "
		       "FROM quarantine", "cannot copy", err);
}

/* ---- opening ---- */

/*
 * Credentials come from libpq's environment (PGPASSWORD, PGPASSFILE,
 * PGSERVICE) or a service file, never from the ledger setting: a setting
 * is shown, logged and kept in configuration files.
 */
static int check_uri(const char *uri, struct hfw_error *err)
{
	PQconninfoOption *opts, *o;
	char *why = NULL;
	int ret = 0;

	if (!(opts = PQconninfoParse(uri, &why))) {
		/* Not libpq's words: they quote the text they could not parse, which may be a password. */
		ret = hfw_error_set(err, why ? HFW_ECONFIG : HFW_ENOMEM, why ? "ledger: not a PostgreSQL URI libpq can "
				    "parse (see hanfw-ledger(1) for the form)" : "out of memory");
		PQfreemem(why);
		return ret;
	}
	/* password, and sslpassword (a client key's passphrase): secrets either. */
	for (o = opts; o->keyword; o++)
		if ((strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "sslpassword") == 0) && o->val && *o->val)
			ret = hfw_error_set(err, HFW_ECONFIG, "ledger: the URI carries a %s: give it in PGPASSWORD, "
					    "a password file (PGPASSFILE) or a service file (PGSERVICE), never in the "
					    "ledger setting", o->keyword);
	PQconninfoFree(opts);
	return ret;
}

static int read_version(hfw_ledger *l, int *version, int *missing, struct hfw_error *err)
{
	PGresult *res;
	const char *state;

	*version = 0;
	*missing = 0;
	if (connected(l, err) < 0)
		return fail(err);
	res = PQexec(PG(l)->conn, "SELECT max(version) FROM schema_version");
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		*version = (int)integer(res, 0, 0);
		PQclear(res);
		return 0;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state && strcmp(state, "42P01") == 0) {	/* undefined_table: a new ledger */
		*missing = 1;
		PQclear(res);
		return 0;
	}
	db_error(l, res, err, "cannot read the schema version");
	PQclear(res);
	return fail(err);
}

/*
 * Bring the schema to PG_VERSION_NOW under an advisory lock, so clients
 * opening one database at once migrate it once; a current ledger is one
 * query.  One newer than this hanfw is refused: upgrade hanfw first.
 */
static int migrate(hfw_ledger *l, int must_exist, struct hfw_error *err)
{
	char sql[96];
	int version, missing, v, ret;

	if ((ret = read_version(l, &version, &missing, err)) < 0)
		return ret;
	if (missing && must_exist)	/* like a reader's missing SQLite file: never made here */
		return hfw_error_set(err, HFW_ECONFIG, "no ledger at '%s' (nothing has been sent from this profile; "
				     "set 'ledger' or HANFW_LEDGER)", PG(l)->where);
	l->from_version = version;
	if (version > PG_VERSION_NOW)
		return hfw_error_set(err, HFW_EIO, "ledger '%s' is at schema version %d, newer than this hanfw knows (%d): "
				     "upgrade hanfw", PG(l)->where, version, PG_VERSION_NOW);
	if (version == PG_VERSION_NOW && !missing)
		return 0;
	if ((ret = pg_begin(l, err)) < 0)
		return ret;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)", MIGRATE_LOCK);
	if ((ret = exec(l, sql, "cannot migrate", err)) < 0 ||
	    (ret = exec(l, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)", "cannot migrate",
			err)) < 0)
		goto out;
	if ((ret = read_version(l, &version, &missing, err)) < 0)
		goto out;
	l->from_version = version ? version : -1;	/* no version yet: a new ledger */
	for (v = version; v < PG_VERSION_NOW && ret == 0; v++)
		ret = exec(l, migrations[v], "cannot migrate", err);
	snprintf(sql, sizeof(sql), "DELETE FROM schema_version; INSERT INTO schema_version VALUES(%d)", PG_VERSION_NOW);
	if (ret == 0 && version < PG_VERSION_NOW)
		ret = exec(l, sql, "cannot migrate", err);
out:
	if (ret < 0) {
		pg_rollback(l);
		return ret;
	}
	return pg_commit(l, err);
}

static void pg_close(hfw_ledger *l)
{
	if (!l)
		return;
	PQfinish(PG(l)->conn);
	free(PG(l)->line);
	free(PG(l)->where);
	free(l);
}

int hfw_ledger_pg_open(hfw_ledger **out, const char *uri, int must_exist, struct hfw_error *err)
{
	hfw_ledger *l = NULL;
	PGresult *res = NULL;
	int ret;

	*out = NULL;
	pthread_once(&pq_once, load_pq);
	if (pq_error.code)
		return hfw_error_set(err, pq_error.code, "%s", pq_error.text);
	if ((ret = check_uri(uri, err)) < 0)
		return ret;
	if (!(l = calloc(1, sizeof(struct pg_ledger))) || (l->ops = &pg_ops, !(PG(l)->where = strdup(uri)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if (!(PG(l)->conn = PQconnectdb(uri))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if (PQstatus(PG(l)->conn) != CONNECTION_OK) {
		char buf[256];

		ret = hfw_error_set(err, HFW_EIO, "cannot open ledger '%s': %s", uri, said(l, NULL, buf, sizeof(buf)));
		goto out;
	}
	PQsetNoticeProcessor(PG(l)->conn, quiet, NULL);
	if ((ret = migrate(l, must_exist, err)) < 0)
		goto out;
	PG(l)->version = PG_VERSION_NOW;
	if (!(res = run(l, "SELECT value FROM meta WHERE key = 'format'", 0, NULL, NULL, 0, 0, "cannot open", err))) {
		ret = fail(err);
		goto out;
	}
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "hanfw-ledger-1") != 0) {
		ret = hfw_error_set(err, HFW_EIO, "'%s' is not a hanfw ledger", uri);
		goto out;
	}
	*out = l;
	l = NULL;
out:
	PQclear(res);
	pg_close(l);
	return ret;
}

static const struct hfw_ledger_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.reserve = pg_reserve,
	.claim = pg_claim,
	.last = pg_last,
	.record = pg_record,
	.set_state = pg_set_state,
	.step = pg_step,
	.record_devices = pg_record_devices,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.savepoint = pg_savepoint,
	.savepoint_end = pg_savepoint_end,
	.campaign_request = pg_campaign_request,
	.campaign_by_hash = pg_campaign_by_hash,
	.store_message = pg_store_message,
	.quarantine = pg_quarantine,
	.campaign_start = pg_campaign_start,
	.each_quarantined = pg_each_quarantined,
	.each_campaign_row = pg_each_campaign_row,
	.each_distribution = pg_each_distribution,
	.each_campaign_name = pg_each_campaign_name,
	.run_cache = pg_run_cache,
	.run_get = pg_run_get,
	.run_put = pg_run_put,
	.run_add_device = pg_run_add_device,
	.run_set_step = pg_run_set_step,
	.run_each_device = pg_run_each_device,
	.run_has_request = pg_run_has_request,
	.run_each_name = pg_run_each_name,
	.run_settle_distributions = pg_run_settle_distributions,
	.run_sent_since = pg_run_sent_since,
	.run_each_wave_row = pg_run_each_wave_row,
	.run_redrive_set = pg_run_redrive_set,
	.run_redrive_each = pg_run_redrive_each,
	.run_latest_unsent = pg_run_latest_unsent,
	.lock_campaign = pg_lock_campaign,
	.unlock_campaign = pg_unlock_campaign,
	.count = pg_count,
	.version = pg_version,
	.each_row = pg_each_row,
	.add_row = pg_add_row,
	.copied = pg_copied,
};
