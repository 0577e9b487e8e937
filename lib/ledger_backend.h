/*
 * ledger_backend.h - what a ledger backend implements (SQLite: ledger_sqlite.c,
 * PostgreSQL: ledger_pg.c).  Included by the ledger's own files only: every
 * other part of hanfw goes through ledger.h, which dispatches here, so the
 * callers never know which database holds the ledger.
 */
#ifndef HFW_LEDGER_BACKEND_H
#define HFW_LEDGER_BACKEND_H

#include "ledger.h"

/* One column value of a copied row (hfw_ledger_copy): text, integer, real, blob or NULL. */
enum hfw_ledger_type { HFW_LEDGER_NULL, HFW_LEDGER_INT, HFW_LEDGER_REAL, HFW_LEDGER_TEXT, HFW_LEDGER_BLOB };

struct hfw_ledger_value {
	enum hfw_ledger_type type;
	int64_t i;
	double r;
	const void *p;		/* text (not terminated) or blob */
	size_t len;
};

/* A table as the copy sees it: its columns in order, and the column that orders its rows. */
struct hfw_ledger_table {
	const char *name;
	const char *const *columns;
	size_t ncolumns;
	const char *order_sqlite, *order_pg;	/* ORDER BY of its rows: the same order on both */
};

extern const struct hfw_ledger_table hfw_ledger_tables[];
extern const size_t hfw_ledger_ntables;

struct hfw_ledger_ops {
	const char *name;	/* "sqlite", "postgresql" */
	void (*close)(hfw_ledger *l);
	int (*reserve)(hfw_ledger *l, const struct hfw_eui *originator, uint64_t now_ms, unsigned n, uint64_t *first,
		       struct hfw_error *err);
	int (*claim)(hfw_ledger *l, const struct hfw_eui *originator, uint64_t counter, struct hfw_error *err);
	int (*last)(hfw_ledger *l, const struct hfw_eui *originator, uint64_t *last, struct hfw_error *err);
	int (*record)(hfw_ledger *l, const struct hfw_ledger_request *reqs, size_t n, struct hfw_error *err);
	int (*set_state)(hfw_ledger *l, const char *request_id, const char *state, const char *response_code,
			 struct hfw_error *err);
	int (*step)(hfw_ledger *l, const char *request_id, const char *state, const char *response_code,
		    const char *detail, struct hfw_error *err);
	int (*record_devices)(hfw_ledger *l, const char *request_id, const struct hfw_eui *devices,
			      const char *const *outcomes, size_t n, struct hfw_error *err);
	int (*begin)(hfw_ledger *l, struct hfw_error *err);
	int (*commit)(hfw_ledger *l, struct hfw_error *err);
	void (*rollback)(hfw_ledger *l);
	int (*savepoint)(hfw_ledger *l, struct hfw_error *err);
	int (*savepoint_end)(hfw_ledger *l, int keep, struct hfw_error *err);
	int (*campaign_request)(hfw_ledger *l, const char *request_id, const char *campaign, const char *action,
				const char *device_type, const char *firmware_version,
				const hfw_firmware_hash firmware_hash, struct hfw_error *err);
	int (*campaign_by_hash)(hfw_ledger *l, const hfw_firmware_hash firmware_hash, char *campaign, size_t size,
				struct hfw_error *err);
	int (*store_message)(hfw_ledger *l, const struct hfw_ledger_message *m, int *duplicate, struct hfw_error *err);
	int (*quarantine)(hfw_ledger *l, const struct hfw_ledger_refusal *q, uint64_t cap, struct hfw_error *err);
	int (*campaign_start)(hfw_ledger *l, const char *campaign, char *out, size_t size, struct hfw_error *err);
	int (*each_quarantined)(hfw_ledger *l, const char *since,
				int (*fn)(void *arg, const struct hfw_ledger_quarantined *q), void *arg,
				struct hfw_error *err);
	int (*each_campaign_row)(hfw_ledger *l, const char *campaign, const char *device,
				 int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg, struct hfw_error *err);
	int (*each_distribution)(hfw_ledger *l, const char *campaign,
				 int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg, struct hfw_error *err);
	int (*each_campaign_name)(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg,
				  struct hfw_error *err);
	struct sqlite3 *(*db)(hfw_ledger *l);
	int (*count)(hfw_ledger *l, int64_t *out, struct hfw_error *err);
	/* The schema version the ledger is at (after opening: the newest this hanfw knows). */
	int (*version)(hfw_ledger *l, int *version, struct hfw_error *err);
	/* Copy (hfw_ledger_copy): every row of a table in its order; then rows added to an empty one. */
	int (*each_row)(hfw_ledger *l, const struct hfw_ledger_table *t,
			int (*fn)(void *arg, const struct hfw_ledger_value *values), void *arg, struct hfw_error *err);
	int (*add_row)(hfw_ledger *l, const struct hfw_ledger_table *t, const struct hfw_ledger_value *values,
		       struct hfw_error *err);
	/* After rows were added with their ids: identity columns continue past them. */
	int (*copied)(hfw_ledger *l, struct hfw_error *err);
};

/* The start of every backend's handle. */
struct hfw_ledger {
	const struct hfw_ledger_ops *ops;
	int from_version;	/* the schema version found when opened (-1: made new; 0: from before versions) */
};

int hfw_ledger_sqlite_open(hfw_ledger **out, const char *path, struct hfw_error *err);
int hfw_ledger_pg_open(hfw_ledger **out, const char *uri, int must_exist, struct hfw_error *err);

#endif
