/*
 * ledgertest.h - the set-up the ledger's unit tests share (test_ledger,
 * test_run, test_rollout): each test on a fresh SQLite ledger in a
 * temporary directory, and again on an empty PostgreSQL database when
 * HFW_TEST_PG_URI names one (make test-pass starts a server around them).
 */
#ifndef HFW_LEDGERTEST_H
#define HFW_LEDGERTEST_H

#include <libpq-fe.h>

#include "testutil.h"

static char *dir;
static char path[4200];
static int pg;		/* path is the PostgreSQL URI */

static int setup(void **state)
{
	(void)state;
	dir = make_tmpdir();
	snprintf(path, sizeof(path), "%s/ledger.sqlite", dir);
	pg = 0;
	return 0;
}

/* SQL on the test database, beside the ledger's own connection. */
static void pg_sql(const char *sql)
{
	PGconn *c = PQconnectdb(getenv("HFW_TEST_PG_URI"));
	PGresult *res;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to HFW_TEST_PG_URI: %s", PQerrorMessage(c));
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

/* The same tests on an empty PostgreSQL database. */
static int setup_pg(void **state)
{
	setup(state);
	snprintf(path, sizeof(path), "%s", getenv("HFW_TEST_PG_URI"));
	pg = 1;
	pg_sql("SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

/* A test again on PostgreSQL, named so. */
#define PG_TEST(f) { "postgresql: " #f, f, setup_pg, teardown, NULL }

#endif
