/*
 * ledger.h - the campaign ledger: request counters and every request, in
 * SQLite (WAL, synchronous=FULL; the default) or PostgreSQL (a
 * postgresql:// URI: one ledger for several hosts).  Both give the same
 * guarantees below; ledger.c hands each call to the backend.
 *
 * A RequestID counter is committed to disk before the request carrying it
 * can leave the process, and counters only ever go up per originator, so a
 * crash at any point can lose a counter (never used) but never reuse one.
 * Several hanfw processes may share a ledger: reservations serialise on
 * SQLite's write lock.  A handle is used by one thread at a time (it keeps
 * its prepared statements).
 */
#ifndef HFW_LEDGER_H
#define HFW_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "crypto.h"
#include "error.h"
#include "eui.h"
#include "requestid.h"

typedef struct hfw_ledger hfw_ledger;

/*
 * Open or create: path is a file (SQLite) or a postgresql:// or
 * postgres:// URI (PostgreSQL; credentials from libpq's environment or
 * service file: a URI carrying a password is refused, HFW_ECONFIG).
 * Opening brings an older ledger's schema up to date (see
 * hfw_ledger_schema).  HFW_EIO if it cannot be opened or is not a hanfw
 * ledger.
 */
int hfw_ledger_open(hfw_ledger **out, const char *path, struct hfw_error *err);
void hfw_ledger_close(hfw_ledger *l);

/*
 * As hfw_ledger_open, for a command that only reads: a PostgreSQL database
 * that holds no ledger is HFW_ECONFIG and none is made there (a SQLite
 * reader checks that the file exists first, as it always has).
 */
int hfw_ledger_open_existing(hfw_ledger **out, const char *path, struct hfw_error *err);

/*
 * An existing SQLite ledger file already at this hanfw's schema version,
 * opened as hfw_ledger_open would: 0.  1 if it is not one (missing, empty,
 * older, or a PostgreSQL URI), with nothing opened and nothing in it
 * changed; <0 on error.  A command's set-up opens such a ledger on
 * another thread while its keys load (cmd/session.c): anything that
 * would change the ledger waits until the keys are accepted.
 */
int hfw_ledger_open_current(hfw_ledger **out, const char *path, struct hfw_error *err);

/* Whether a ledger setting names a PostgreSQL ledger (a postgresql:// or postgres:// URI). */
int hfw_ledger_is_uri(const char *where);

/*
 * The ledger setting as it may be shown (hanfw config show): a PostgreSQL
 * URI's password (user:PASSWORD@, a password= parameter) as ***, the rest
 * as it is.  Such a URI is refused when opened; this keeps it off screens.
 */
void hfw_ledger_redact(const char *where, char *out, size_t size);

/* "sqlite" or "postgresql". */
const char *hfw_ledger_backend(const hfw_ledger *l);

/*
 * The schema version found when the ledger was opened (-1: it was made new;
 * 0: a SQLite ledger from before schema versions) and the one it is at now.
 */
int hfw_ledger_schema(hfw_ledger *l, int *from, int *to, struct hfw_error *err);

/*
 * Copy every row of ledger from into ledger to (either backend; to must be
 * new or empty: refused with HFW_EINPUT otherwise), in one transaction that
 * commits only after each table's row count and SHA-256 over its rows in
 * order match on both sides; progress is told each table's count and hash.
 */
int hfw_ledger_copy(const char *from, const char *to,
		    void (*progress)(void *arg, const char *table, int64_t rows, const char *sha256), void *arg,
		    struct hfw_error *err);

/*
 * Reserve n consecutive counters for originator: the first is
 * max(last + 1, now_ms); last becomes first + n - 1, committed durably
 * before returning.
 */
int hfw_ledger_reserve(hfw_ledger *l, const struct hfw_eui *originator, uint64_t now_ms,
		       unsigned n, uint64_t *first, struct hfw_error *err);

/*
 * Claim a counter chosen elsewhere (a request signed with its own
 * RequestID): refused with HFW_EINPUT unless it is above the last one used
 * for originator; committed before returning.
 */
int hfw_ledger_claim(hfw_ledger *l, const struct hfw_eui *originator, uint64_t counter,
		     struct hfw_error *err);

/* The last counter used for originator (0 if none). */
int hfw_ledger_last(hfw_ledger *l, const struct hfw_eui *originator, uint64_t *last,
		    struct hfw_error *err);

struct hfw_ledger_request {
	struct hfw_request_id id;
	const char *service_reference;	/* "11.3" */
	int command_variant;
	uint8_t body_sha256[HFW_SHA256_LEN];
	const char *state;		/* "signed", "sent", "unknown", ... */
};

/* Record requests, all in one transaction. */
int hfw_ledger_record(hfw_ledger *l, const struct hfw_ledger_request *reqs, size_t n,
		      struct hfw_error *err);

/* Move a request to a new state ("sent", "accepted", "unknown", ...), with the DCC's code if any. */
int hfw_ledger_set_state(hfw_ledger *l, const char *request_id, const char *state,
			 const char *response_code, struct hfw_error *err);

/*
 * Move a request to a new state and keep the step in its history
 * (request_steps: when, state, code, why), for requests that go through
 * several, such as an activation's transform, check, signing and send.
 */
int hfw_ledger_step(hfw_ledger *l, const char *request_id, const char *state, const char *response_code,
		    const char *detail, struct hfw_error *err);

/* Record (or update) what became of each device of a request. */
int hfw_ledger_record_devices(hfw_ledger *l, const char *request_id, const struct hfw_eui *devices,
			      const char *const *outcomes, size_t n, struct hfw_error *err);

/*
 * Group several of the calls above into one transaction (one commit, one
 * sync): begin takes the write lock; the calls in between join it.
 */
int hfw_ledger_begin(hfw_ledger *l, struct hfw_error *err);
int hfw_ledger_commit(hfw_ledger *l, struct hfw_error *err);
void hfw_ledger_rollback(hfw_ledger *l);

/*
 * Inside a transaction, one item of a batch that may be undone alone: end
 * it keeping what it did (keep = 1), or undoing it (keep = 0).  hanfw sign
 * of many files gives back the counter of a file refused before it was
 * signed, and keeps (burns) one that was signed over.
 */
int hfw_ledger_savepoint(hfw_ledger *l, struct hfw_error *err);
int hfw_ledger_savepoint_end(hfw_ledger *l, int keep, struct hfw_error *err);

/*
 * Campaigns: a name for the requests of one firmware roll-out.  Each
 * distribute, activate or read-version request is recorded with its
 * campaign, action ("distribute", "activate", "read-version"), device type,
 * firmware version and FirmwareHash (NULL where not known).
 */
int hfw_ledger_campaign_request(hfw_ledger *l, const char *request_id, const char *campaign, const char *action,
				const char *device_type, const char *firmware_version,
				const hfw_firmware_hash firmware_hash, struct hfw_error *err);

/*
 * The latest campaign whose distribution carried this FirmwareHash to
 * device (EUI text; NULL: to any device), "" if none.  By device: two
 * campaigns may carry one image to different devices.
 */
int hfw_ledger_campaign_by_hash(hfw_ledger *l, const hfw_firmware_hash firmware_hash, const char *device,
				char *campaign, size_t size, struct hfw_error *err);

/* What a received message says about one device. */
struct hfw_ledger_event {
	const char *device;		/* EUI text */
	const char *request_id;		/* the request it answers, if the message says */
	const char *event;		/* "delivered_to_hub", "transferred", "verified", "activated", ... */
	const char *detail;		/* a version, hash, reason; or NULL */
	const char *at;			/* the message's time */
};

/* A message received from the DCC, verified and decoded. */
struct hfw_ledger_message {
	const char *key;		/* identity for duplicates: its ResponseID, else its SHA-256 */
	const char *request_id, *kind, *response_code;
	const uint8_t *raw;
	size_t raw_len;
	const char *decoded;		/* JSON */
	const struct hfw_ledger_event *events;
	size_t nevents;
};

/*
 * Store a message and its device events; one already stored (same key) is
 * counted as a duplicate (*duplicate = 1) and changes nothing else.  Group
 * several in one transaction with hfw_ledger_begin/commit.
 */
int hfw_ledger_store_message(hfw_ledger *l, const struct hfw_ledger_message *m, int *duplicate,
			     struct hfw_error *err);

/*
 * A refused message, kept for audit: its first HFW_LEDGER_QUARANTINE_PREFIX
 * bytes, the SHA-256 of the bytes received (raw, len: the first max-body
 * bytes of one larger than that), its full size, who sent it and why it was
 * refused (at most HFW_LEDGER_REASON_MAX bytes of it).  Once the rows take
 * cap bytes (prefixes plus 256 a row), only a count per reason is kept
 * (quarantine_counts; at most 1000 reasons, then "other"): a flood of junk
 * grows the ledger by about cap, never by what was sent.
 */
#define HFW_LEDGER_QUARANTINE_PREFIX 4096u
#define HFW_LEDGER_REASON_MAX 512u
#define HFW_LEDGER_DEFAULT_QUARANTINE_CAP (16ull * 1024 * 1024)

struct hfw_ledger_refusal {
	const char *sender;		/* the client's address, or NULL */
	const uint8_t *raw;
	size_t len;
	uint64_t size;			/* bytes sent, >= len */
	const char *reason;
};

int hfw_ledger_quarantine(hfw_ledger *l, const struct hfw_ledger_refusal *q, uint64_t cap, struct hfw_error *err);

/* When a campaign (NULL: any) began: its first request's time, "" if it has none. */
int hfw_ledger_campaign_start(hfw_ledger *l, const char *campaign, char *out, size_t size, struct hfw_error *err);

/* A quarantined message (count 1), or the messages counted past the cap for one reason. */
struct hfw_ledger_quarantined {
	const char *received;		/* the first of them */
	const char *last;		/* the last of them */
	const char *sender, *sha256;	/* NULL for counts, and for rows older than these columns */
	uint64_t size;			/* bytes (all of them for counts) */
	uint64_t kept;			/* bytes kept */
	uint64_t count;
	int counted;			/* counts past the cap, not a row */
	const char *reason;
};

/* The quarantine since a time (ISO 8601 UTC; NULL: all): rows kept in order received, then counts. */
int hfw_ledger_each_quarantined(hfw_ledger *l, const char *since,
				int (*fn)(void *arg, const struct hfw_ledger_quarantined *q), void *arg,
				struct hfw_error *err);

/* A row of a campaign's history: a request to a device, or an event about it. */
struct hfw_ledger_row {
	const char *device, *request_id;
	const char *source;		/* "distribute", "activate", "read-version", or "event" */
	const char *state;		/* the request's outcome for the device, or the event */
	const char *detail;		/* the DCC's code for a request; the event's detail */
	const char *at;
	int64_t message_id;		/* events: the message's order of arrival */
	const char *campaign, *firmware_version, *firmware_hash, *device_type;	/* requests */
};

/*
 * The rows of a campaign (NULL: all) for one device (NULL: all): first the
 * campaign's requests in the order made, then events in the order received
 * (all of them without a device: fn keeps those of the campaign's devices).
 * fn returning non-zero stops and is returned.
 */
int hfw_ledger_each_campaign_row(hfw_ledger *l, const char *campaign, const char *device,
				 int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
				 struct hfw_error *err);

/*
 * The distributions of a campaign: a row per device of each distribute
 * request (state: its outcome, detail: the DCC's code), in the order made.
 */
int hfw_ledger_each_distribution(hfw_ledger *l, const char *campaign,
				 int (*fn)(void *arg, const struct hfw_ledger_row *row), void *arg,
				 struct hfw_error *err);

/* The names of the campaigns the ledger knows, sorted, each once (completion). fn non-zero stops. */
int hfw_ledger_each_campaign_name(hfw_ledger *l, int (*fn)(void *arg, const char *name), void *arg,
				  struct hfw_error *err);

/*
 * One run of a campaign at a time, across every process and host that
 * shares the ledger: on SQLite a POSIX record lock on the file
 * LEDGER.run-NAME.lock beside it; on PostgreSQL a session-level advisory
 * lock (pg_try_advisory_lock) on l's own connection, keyed by a hash of
 * the campaign's name.  Either is released by hfw_ledger_unlock, or when
 * the process dies (kill -9 included: the kernel closes the file, the
 * server ends the session).  Refused with HFW_EINPUT, naming the rule,
 * while another process holds it.  The lock must be released before l is
 * closed.
 */
typedef struct hfw_ledger_lock hfw_ledger_lock;
int hfw_ledger_lock_campaign(hfw_ledger *l, const char *campaign, hfw_ledger_lock **lock, struct hfw_error *err);
/* The same, waiting until the process holding it lets go (campaign abort waits for a run's last round). */
int hfw_ledger_wait_campaign(hfw_ledger *l, const char *campaign, hfw_ledger_lock **lock, struct hfw_error *err);
void hfw_ledger_unlock(hfw_ledger_lock *lock);

/* How many requests are recorded (tests, status). */
int hfw_ledger_count(hfw_ledger *l, int64_t *out, struct hfw_error *err);

#endif
