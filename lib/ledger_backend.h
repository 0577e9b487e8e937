/*
 * ledger_backend.h - what a ledger backend implements (SQLite: ledger_sqlite.c,
 * PostgreSQL: ledger_pg.c).  Included by the ledger's own files, and by
 * run.c, whose campaign run state (run.h) lives in the ledger's tables:
 * every other part of hanfw goes through ledger.h or run.h, which dispatch
 * here, so the callers never know which database holds the ledger.
 */
#ifndef HFW_LEDGER_BACKEND_H
#define HFW_LEDGER_BACKEND_H

#include "ledger.h"
#include "run.h"

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
	int (*campaign_by_hash)(hfw_ledger *l, const hfw_firmware_hash firmware_hash, const char *device, char *campaign, size_t size,
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
	/*
	 * Campaign run state: run.h's calls of the same names, each in the
	 * backend's own SQL.  run_cache: keep the run's statements from on = 1
	 * until on = 0 (a backend that keeps none ignores it).
	 */
	void (*run_cache)(hfw_ledger *l, int on);
	int (*run_get)(hfw_ledger *l, const char *name, struct hfw_run_campaign *c, int *found, struct hfw_error *err);
	int (*run_put)(hfw_ledger *l, const struct hfw_run_campaign *c, struct hfw_error *err);
	int (*run_add_device)(hfw_ledger *l, const char *campaign, const struct hfw_run_device *d,
			      struct hfw_error *err);
	int (*run_set_step)(hfw_ledger *l, const char *campaign, const char *device, enum hfw_run_step step,
			    const char *reason, int bump, struct hfw_error *err);
	int (*run_each_device)(hfw_ledger *l, const char *campaign, int64_t wave,
			       int (*fn)(void *arg, const struct hfw_run_device *d), void *arg, struct hfw_error *err);
	int (*run_has_request)(hfw_ledger *l, const char *campaign, const char *device, const char *action, int *has,
			       struct hfw_error *err);
	int (*run_each_name)(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg, struct hfw_error *err);
	int (*run_settle_distributions)(hfw_ledger *l, const char *campaign, int *settled, struct hfw_error *err);
	int (*run_sent_since)(hfw_ledger *l, const char *sr, unsigned seconds, int64_t *n, struct hfw_error *err);
	int (*run_each_wave_row)(hfw_ledger *l, const char *campaign, int64_t wave, const char *also,
				 int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
				 struct hfw_error *err);
	int (*run_redrive_set)(hfw_ledger *l, const char *campaign, const struct hfw_run_redrive *w,
			       struct hfw_error *err);
	int (*run_redrive_each)(hfw_ledger *l, const char *campaign,
				int (*fn)(void *arg, const struct hfw_run_redrive *w), void *arg, struct hfw_error *err);
	int (*run_latest_unsent)(hfw_ledger *l, const char *campaign, const char *device, const char *action,
				 int *unsent, struct hfw_error *err);
	/* One run of a campaign at a time (hfw_ledger_lock_campaign): held until unlock_campaign. */
	int (*lock_campaign)(hfw_ledger *l, const char *name, int wait, hfw_ledger_lock **out, struct hfw_error *err);
	void (*unlock_campaign)(hfw_ledger_lock *lock);
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

/* A campaign's run lock: a lock file's descriptor (SQLite), or a session advisory lock's key (PostgreSQL). */
struct hfw_ledger_lock {
	hfw_ledger *l;
	int fd;
	int64_t key;
};

/* The start of every backend's handle. */
struct hfw_ledger {
	const struct hfw_ledger_ops *ops;
	int from_version;	/* the schema version found when opened (-1: made new; 0: from before versions) */
};

int hfw_ledger_sqlite_open(hfw_ledger **out, const char *path, struct hfw_error *err);
int hfw_ledger_sqlite_open_current(hfw_ledger **out, const char *path, struct hfw_error *err);
int hfw_ledger_pg_open(hfw_ledger **out, const char *uri, int must_exist, struct hfw_error *err);

#endif
