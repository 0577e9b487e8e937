/*
 * Unit tests: a campaign run's decisions, gate and state in the ledger
 * (lib/run.h), and one run of a campaign at a time (ledger.h's lock).  The
 * ledger's tests run on SQLite, and again on PostgreSQL when
 * HFW_TEST_PG_URI names a database they may empty.
 */
#include "ledgertest.h"

#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "../../lib/ledger.h"
#include "../../lib/run.h"


static enum hfw_run_action decide(enum hfw_run_step step, const char *cstate, int has, int needs,
				  enum hfw_run_step *next)
{
	struct hfw_run_decision d;

	hfw_run_decide(step, cstate, has, needs, &d);
	*next = d.next;
	return d.action;
}

/* The state machine: distribute -> (activate) -> read version -> done; failures end it. */
static void steps_in_order(void **state)
{
	enum hfw_run_step next;

	(void)state;
	assert_int_equal(decide(HFW_RUN_PENDING, NULL, HFW_RUN_NONE, 1, &next), HFW_RUN_SEND);
	assert_int_equal(next, HFW_RUN_DISTRIBUTE);
	/* Distributing, and still on the way: wait. */
	assert_int_equal(decide(HFW_RUN_DISTRIBUTE, "accepted", HFW_RUN_ANSWERED, 1, &next), HFW_RUN_WAIT);
	assert_int_equal(decide(HFW_RUN_DISTRIBUTE, "transferred", HFW_RUN_ANSWERED, 1, &next), HFW_RUN_WAIT);
	/* Verified: SR 11.3 for the types that need it; the others activate themselves. */
	assert_int_equal(decide(HFW_RUN_DISTRIBUTE, "verified", HFW_RUN_ANSWERED, 1, &next), HFW_RUN_SEND);
	assert_int_equal(next, HFW_RUN_ACTIVATE);
	assert_int_equal(decide(HFW_RUN_DISTRIBUTE, "verified", HFW_RUN_ANSWERED, 0, &next), HFW_RUN_WAIT);
	assert_int_equal(decide(HFW_RUN_DISTRIBUTE, "activated", HFW_RUN_ANSWERED, 0, &next), HFW_RUN_SEND);
	assert_int_equal(next, HFW_RUN_READ_VERSION);
	assert_int_equal(decide(HFW_RUN_ACTIVATE, "activation_scheduled", HFW_RUN_ANSWERED, 1, &next), HFW_RUN_WAIT);
	assert_int_equal(decide(HFW_RUN_ACTIVATE, "activated", HFW_RUN_ANSWERED, 1, &next), HFW_RUN_SEND);
	assert_int_equal(next, HFW_RUN_READ_VERSION);
	/* A read out and answered: wait for the device; confirmed: done. */
	assert_int_equal(decide(HFW_RUN_READ_VERSION, "activated", HFW_RUN_ANSWERED, 1, &next), HFW_RUN_WAIT);
	assert_int_equal(decide(HFW_RUN_READ_VERSION, "version_confirmed", HFW_RUN_ANSWERED, 1, &next), HFW_RUN_ADVANCE);
	assert_int_equal(next, HFW_RUN_DONE);
	/* Terminal: nothing more. */
	assert_int_equal(decide(HFW_RUN_DONE, "version_confirmed", HFW_RUN_ANSWERED, 1, &next), HFW_RUN_WAIT);
	assert_int_equal(decide(HFW_RUN_SKIPPED, NULL, HFW_RUN_NONE, 1, &next), HFW_RUN_WAIT);
	assert_int_equal(decide(HFW_RUN_FAILED, NULL, HFW_RUN_NONE, 1, &next), HFW_RUN_WAIT);
}

static void failures_end_a_device(void **state)
{
	static const char *const failed[] = { "distribution_refused", "hub_delivery_failed", "hash_mismatch",
					      "activation_failed", "version_mismatch", NULL };
	struct hfw_run_decision d;
	size_t i;

	(void)state;
	for (i = 0; failed[i]; i++) {
		hfw_run_decide(HFW_RUN_DISTRIBUTE, failed[i], HFW_RUN_ANSWERED, 1, &d);
		assert_int_equal(d.action, HFW_RUN_FAIL);
		assert_int_equal(d.next, HFW_RUN_FAILED);
		assert_string_equal(d.reason, failed[i]);
	}
}

/* After a crash: never a step twice; unknown fates waited for, or settled by a version read. */
static void crash_safety(void **state)
{
	enum hfw_run_step next;

	(void)state;
	/* The step was recorded but its request never was: nothing left the process, send it. */
	assert_int_equal(decide(HFW_RUN_DISTRIBUTE, NULL, HFW_RUN_NONE, 1, &next), HFW_RUN_SEND);
	assert_int_equal(next, HFW_RUN_DISTRIBUTE);
	assert_int_equal(decide(HFW_RUN_ACTIVATE, "verified", HFW_RUN_NONE, 1, &next), HFW_RUN_SEND);
	assert_int_equal(next, HFW_RUN_ACTIVATE);
	/* A distribution of unknown fate is never re-sent: wait (alerts or the wave's timeout settle it). */
	assert_int_equal(decide(HFW_RUN_DISTRIBUTE, "distribution_requested", HFW_RUN_UNKNOWN_FATE, 1, &next),
			 HFW_RUN_WAIT);
	/* An activation of unknown fate is settled by a version read, never activated again. */
	assert_int_equal(decide(HFW_RUN_ACTIVATE, "activation_requested", HFW_RUN_UNKNOWN_FATE, 1, &next), HFW_RUN_SEND);
	assert_int_equal(next, HFW_RUN_READ_VERSION);
	/* A version read of unknown fate is read again (it changes nothing). */
	assert_int_equal(decide(HFW_RUN_READ_VERSION, "activated", HFW_RUN_UNKNOWN_FATE, 1, &next), HFW_RUN_SEND);
	assert_int_equal(next, HFW_RUN_READ_VERSION);
}

/* Mid-campaign events end a device's part (left, with the state as reason); a quarantine pauses. */
static void events_and_quarantine(void **state)
{
	static const enum hfw_run_step steps[] = { HFW_RUN_DISTRIBUTE, HFW_RUN_ACTIVATE, HFW_RUN_READ_VERSION };
	static const int has[] = { HFW_RUN_ANSWERED, HFW_RUN_UNKNOWN_FATE };
	struct hfw_run_decision d;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		for (j = 0; j < sizeof(has) / sizeof(has[0]); j++) {
			/* Whatever is out, even of unknown fate: never sent anything again. */
			hfw_run_decide(steps[i], "left_campaign", has[j], 1, &d);
			assert_int_equal(d.action, HFW_RUN_LEAVE);
			assert_int_equal(d.next, HFW_RUN_LEFT);
			assert_string_equal(d.reason, "left_campaign");
			hfw_run_decide(steps[i], "distribution_quarantined", has[j], 1, &d);
			assert_int_equal(d.action, HFW_RUN_PAUSE);
			assert_int_equal(d.next, steps[i]);
			hfw_run_decide(steps[i], "activation_quarantined", has[j], 1, &d);
			assert_int_equal(d.action, HFW_RUN_PAUSE);
			assert_string_equal(d.reason, "activation_quarantined");
		}
	/* Left is terminal: nothing more, and a step of its own. */
	hfw_run_decide(HFW_RUN_LEFT, "left_campaign", HFW_RUN_ANSWERED, 1, &d);
	assert_int_equal(d.action, HFW_RUN_WAIT);
	assert_int_equal(d.next, HFW_RUN_LEFT);
	assert_string_equal(hfw_run_step_name(HFW_RUN_LEFT), "left");
	assert_int_equal(hfw_run_step_parse("left"), HFW_RUN_LEFT);
	assert_null(hfw_run_step_action(HFW_RUN_LEFT));
}

static void gate(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_run_gate g = { 100, 99, 1, 0, 0.99 };

	(void)state;
	assert_int_equal(hfw_run_gate_check(&g, 1, &err), 0);
	g.done = 98;
	g.failed = 2;
	assert_int_equal(hfw_run_gate_check(&g, 1, &err), HFW_EHALTED);
	assert_non_null(strstr(err.text, "wave 1: 98 of 100 devices at their goal (98.0%), 2 failed: below the gate's 99.0%"));
	/* Any hash mismatch halts, whatever the rate. */
	g.done = 100;
	g.failed = 0;
	g.hash_mismatch = 1;
	g.min_success = 0;
	assert_int_equal(hfw_run_gate_check(&g, 2, &err), HFW_EHALTED);
	assert_non_null(strstr(err.text, "any hash mismatch halts"));
	/* A canary of one that failed, against 99%. */
	struct hfw_run_gate one = { 1, 0, 1, 0, 0.99 };
	assert_int_equal(hfw_run_gate_check(&one, 1, &err), HFW_EHALTED);
}

/* Budgets: no limit, room left, none left (never negative). */
static void budget_room(void **state)
{
	(void)state;
	assert_true(hfw_run_room(0, 1000000) == INT64_MAX);
	assert_int_equal(hfw_run_room(10, 3), 7);
	assert_int_equal(hfw_run_room(10, 10), 0);
	assert_int_equal(hfw_run_room(10, 12), 0);
}

/* Pacing counts what the ledger recorded in the window, by service reference, dry runs aside. */
static void budget_counted_from_ledger(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_ledger_request reqs[3];
	struct hfw_eui s, t;
	hfw_ledger *l;
	int64_t n;
	size_t i;

	(void)state;
	assert_int_equal(hfw_eui_parse(&s, "90-B3-D5-1F-30-01-00-00", "s", &err), 0);
	assert_int_equal(hfw_eui_parse(&t, "00-DB-12-00-00-00-00-01", "t", &err), 0);
	memset(reqs, 0, sizeof(reqs));
	for (i = 0; i < 3; i++) {
		reqs[i].id.originator = s;
		reqs[i].id.target = t;
		reqs[i].id.counter = 100 + i;
		reqs[i].service_reference = i < 2 ? "11.3" : "11.2";
		reqs[i].state = i == 1 ? "dry-run" : "sent";
	}
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_ledger_record(l, reqs, 3, &err), 0);
	assert_int_equal(hfw_run_sent_since(l, "11.3", 3600, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hfw_run_sent_since(l, NULL, 60, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(hfw_run_sent_since(l, "11.1", 3600, &n, &err), 0);
	assert_int_equal(n, 0);
	hfw_ledger_close(l);
	/* Reopened (a restart): the same count. */
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_run_sent_since(l, "11.3", 3600, &n, &err), 0);
	assert_int_equal(n, 1);
	hfw_ledger_close(l);
}

static int collect(void *arg, const struct hfw_run_device *d)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s:%s:%s:%lld;", d->device, hfw_run_step_name(d->step), d->reason ? d->reason : "",
		 (long long)d->attempts);
	return 0;
}

/* The run's state survives closing the ledger; a device is added once; steps count attempts. */
static void state_in_ledger(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_run_campaign c, got;
	struct hfw_run_device a = { "00-DB-12-00-00-00-00-01", 1, 0, HFW_RUN_PENDING, NULL, 0 };
	struct hfw_run_device b = { "00-DB-12-00-00-00-00-02", 0, -1, HFW_RUN_SKIPPED, "smets1", 0 };
	char all[512] = "";
	hfw_ledger *l;
	int found, has;

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "spring");
	snprintf(c.plan_path, sizeof(c.plan_path), "plan.json");
	snprintf(c.plan_sha256, sizeof(c.plan_sha256), "%064d", 0);
	snprintf(c.state, sizeof(c.state), "running");
	c.wave = 2;
	c.min_canary = 0.99;
	c.wave_timeout_s = 60;
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_run_get(l, "spring", &got, &found, &err), 0);
	assert_int_equal(found, 0);
	assert_int_equal(hfw_run_put(l, &c, &err), 0);
	assert_int_equal(hfw_run_add_device(l, "spring", &a, &err), 0);
	assert_int_equal(hfw_run_add_device(l, "spring", &b, &err), 0);
	assert_int_equal(hfw_run_set_step(l, "spring", a.device, HFW_RUN_DISTRIBUTE, NULL, 1, &err), 0);
	/* Added again (a rerun importing the plan): kept as it is. */
	assert_int_equal(hfw_run_add_device(l, "spring", &a, &err), 0);
	hfw_ledger_close(l);

	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_run_get(l, "spring", &got, &found, &err), 0);
	assert_int_equal(found, 1);
	assert_string_equal(got.state, "running");
	assert_int_equal(got.wave, 2);
	assert_int_equal(got.wave_timeout_s, 60);
	assert_int_equal(hfw_run_each_device(l, "spring", 0, collect, all, &err), 0);
	assert_string_equal(all, "00-DB-12-00-00-00-00-01:distribute::1;00-DB-12-00-00-00-00-02:skipped:smets1:0;");
	all[0] = 0;
	assert_int_equal(hfw_run_each_device(l, "spring", 1, collect, all, &err), 0);
	assert_string_equal(all, "00-DB-12-00-00-00-00-01:distribute::1;");
	assert_int_equal(hfw_run_has_request(l, "spring", a.device, "distribute", &has, &err), 0);
	assert_int_equal(has, HFW_RUN_NONE);
	/* Attempts count the sends of the current step: again (re-drive) + 1, a new step starts at 1. */
	assert_int_equal(hfw_run_set_step(l, "spring", a.device, HFW_RUN_DISTRIBUTE, NULL, 1, &err), 0);
	all[0] = 0;
	assert_int_equal(hfw_run_each_device(l, "spring", 1, collect, all, &err), 0);
	assert_string_equal(all, "00-DB-12-00-00-00-00-01:distribute::2;");
	assert_int_equal(hfw_run_set_step(l, "spring", a.device, HFW_RUN_ACTIVATE, NULL, 1, &err), 0);
	assert_int_equal(hfw_run_set_step(l, "spring", a.device, HFW_RUN_FAILED, "hash_mismatch", 0, &err), 0);
	all[0] = 0;
	assert_int_equal(hfw_run_each_device(l, "spring", 1, collect, all, &err), 0);
	assert_string_equal(all, "00-DB-12-00-00-00-00-01:failed:hash_mismatch:0;");
	hfw_ledger_close(l);
}

static int window_of(void *arg, const struct hfw_run_redrive *w)
{
	snprintf(arg, 128, "%s %s %lld %lld %lld %lld,%lld", w->device, hfw_run_step_name(w->step), (long long)w->attempts,
		 (long long)w->seen_ms, (long long)w->due_ms, (long long)w->redrives[3], (long long)w->redrives[7]);
	return 0;
}

/* A device's re-drive state survives a reopen (a restarted run keeps it). */
static void redrive_window(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_run_redrive w = { "00-DB-12-10-00-00-00-01", HFW_RUN_DISTRIBUTE, 1, 1000, 61000, { 0, 0, 0, 2, 0, 0, 0, 9 } };
	hfw_ledger *l = NULL;
	char got[128] = "";

	(void)state;
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_run_redrive_each(l, "C", window_of, got, &err), 0);
	assert_string_equal(got, "");
	assert_int_equal(hfw_run_redrive_set(l, "C", &w, &err), 0);
	hfw_ledger_close(l);
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	assert_int_equal(hfw_run_redrive_each(l, "C", window_of, got, &err), 0);
	assert_string_equal(got, "00-DB-12-10-00-00-00-01 distribute 1 1000 61000 2,9");
	got[0] = 0;
	assert_int_equal(hfw_run_redrive_each(l, "other", window_of, got, &err), 0);
	assert_string_equal(got, "");
	/* Sent: the window closes (due 0), the counts stay. */
	w.due_ms = 0;
	w.attempts = 2;
	w.redrives[3] = 3;
	assert_int_equal(hfw_run_redrive_set(l, "C", &w, &err), 0);
	assert_int_equal(hfw_run_redrive_each(l, "C", window_of, got, &err), 0);
	assert_string_equal(got, "00-DB-12-10-00-00-00-01 distribute 2 1000 0 3,9");
	hfw_ledger_close(l);
}

/* Another process's try at a campaign's lock on ledger AT: 0 taken, 1 refused as held, 2 anything else. */
static int lock_elsewhere_at(const char *at, const char *name)
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct hfw_error err = HFW_ERROR_INIT;
		hfw_ledger *l = NULL;
		hfw_ledger_lock *k = NULL;
		int ret = hfw_ledger_open(&l, at, &err);

		if (ret == 0)
			ret = hfw_ledger_lock_campaign(l, name, &k, &err);
		_exit(ret == 0 ? 0 : ret == HFW_EINPUT && strstr(err.text, "is being run by another process (") &&
			  strstr(err.text, "): one run of a campaign at a time") ? 1 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

static int lock_elsewhere(const char *name)
{
	return lock_elsewhere_at(path, name);
}

/*
 * One run of a campaign at a time across processes (and hosts): another's
 * lock of the same campaign is refused naming the rule, another campaign's
 * is not, and once unlocked it is taken.  (A holder killed: the bats tests.)
 */
static void one_run_of_a_campaign_at_a_time(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *a = NULL;
	hfw_ledger_lock *ka = NULL;

	(void)state;
	assert_int_equal(hfw_ledger_open(&a, path, &err), 0);
	assert_int_equal(hfw_ledger_lock_campaign(a, "spring", &ka, &err), 0);
	assert_int_equal(lock_elsewhere("spring"), 1);
	assert_int_equal(lock_elsewhere("autumn"), 0);
	hfw_ledger_unlock(ka);
	assert_int_equal(lock_elsewhere("spring"), 0);
	assert_int_equal(hfw_ledger_lock_campaign(a, "spring", &ka, &err), 0);
	assert_int_equal(lock_elsewhere("spring"), 1);
	hfw_ledger_unlock(ka);
	hfw_ledger_unlock(NULL);
	hfw_ledger_close(a);
}

/*
 * PostgreSQL: advisory locks are the database's, so the key holds the
 * ledger's schema: two ledgers in one database (search_path) each run
 * their own campaign "spring", while a second run on either is refused,
 * also from a connection whose search_path starts with an empty schema
 * of its own (the ledger's schema is where its tables are, not the
 * first schema of the path).
 */
static void lock_is_the_ledgers_not_the_databases(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *a = NULL, *b = NULL, *c = NULL;
	hfw_ledger_lock *ka = NULL, *kb = NULL, *kc = NULL;
	char other[4400], mine[4400];

	(void)state;
	pg_sql("SET client_min_messages = warning; DROP SCHEMA IF EXISTS other CASCADE; CREATE SCHEMA other; "
	       "DROP SCHEMA IF EXISTS alice CASCADE");
	snprintf(other, sizeof(other), "%s&options=-csearch_path%%3Dother", path);
	snprintf(mine, sizeof(mine), "%s&options=-csearch_path%%3Dalice%%2Cpublic", path);
	assert_int_equal(hfw_ledger_open(&a, path, &err), 0);
	assert_int_equal(hfw_ledger_open(&b, other, &err), 0);
	assert_int_equal(hfw_ledger_lock_campaign(a, "spring", &ka, &err), 0);
	assert_int_equal(hfw_ledger_lock_campaign(b, "spring", &kb, &err), 0);
	assert_int_equal(lock_elsewhere("spring"), 1);		/* a's ledger: held */
	assert_int_equal(lock_elsewhere_at(other, "spring"), 1);	/* b's: held */
	assert_int_equal(lock_elsewhere_at(other, "autumn"), 0);
	/* The ledger in public, seen first through an empty schema of the user's own. */
	pg_sql("CREATE SCHEMA alice");
	assert_int_equal(hfw_ledger_open(&c, mine, &err), 0);
	assert_int_equal(hfw_ledger_lock_campaign(c, "spring", &kc, &err), HFW_EINPUT);
	assert_int_equal(lock_elsewhere_at(mine, "spring"), 1);
	hfw_ledger_unlock(ka);
	assert_int_equal(hfw_ledger_lock_campaign(c, "spring", &kc, &err), 0);
	assert_int_equal(lock_elsewhere("spring"), 1);
	hfw_ledger_unlock(kc);
	hfw_ledger_unlock(kb);
	hfw_ledger_close(c);
	hfw_ledger_close(b);
	hfw_ledger_close(a);
	pg_sql("SET client_min_messages = warning; DROP SCHEMA other CASCADE; DROP SCHEMA alice CASCADE");
}

/*
 * PostgreSQL: the lock is the session's.  A connection lost (a failover)
 * takes it again on reconnecting; if another process took it meanwhile,
 * the handle refuses everything after: never two runs of one campaign.
 */
static void lock_survives_or_stops_on_reconnect(void **state)
{
	static const char kill[] = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
				   "WHERE datname = current_database() AND pid <> pg_backend_pid()";
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_run_campaign c;
	hfw_ledger *a = NULL, *b = NULL;
	hfw_ledger_lock *ka = NULL, *kb = NULL;
	int found;

	(void)state;
	assert_int_equal(hfw_ledger_open(&a, path, &err), 0);
	assert_int_equal(hfw_ledger_open(&b, path, &err), 0);
	assert_int_equal(hfw_ledger_lock_campaign(a, "spring", &ka, &err), 0);
	pg_sql(kill);
	assert_int_equal(hfw_run_get(a, "spring", &c, &found, &err), HFW_EIO);	/* lost */
	assert_int_equal(hfw_run_get(a, "spring", &c, &found, &err), 0);	/* back, and the lock with it */
	assert_int_equal(hfw_ledger_lock_campaign(b, "spring", &kb, &err), HFW_EIO);	/* b's own loss */
	assert_int_equal(hfw_ledger_lock_campaign(b, "spring", &kb, &err), HFW_EINPUT);
	/* Lost again, and another process takes the lock before a reconnects: a stops. */
	pg_sql(kill);
	assert_int_equal(hfw_ledger_lock_campaign(b, "spring", &kb, &err), HFW_EIO);	/* b's own loss */
	assert_int_equal(hfw_ledger_lock_campaign(b, "spring", &kb, &err), 0);
	assert_int_equal(hfw_run_get(a, "spring", &c, &found, &err), HFW_EIO);
	assert_int_equal(hfw_run_get(a, "spring", &c, &found, &err), HFW_EIO);
	assert_non_null(strstr(err.text, "run lock, which another process took since"));
	assert_int_equal(hfw_run_get(a, "spring", &c, &found, &err), HFW_EIO);
	hfw_ledger_unlock(ka);
	hfw_ledger_unlock(kb);
	hfw_ledger_close(b);
	hfw_ledger_close(a);
}

int main(void)
{
	const struct CMUnitTest pg_tests[] = {
		PG_TEST(budget_counted_from_ledger),
		PG_TEST(state_in_ledger),
		PG_TEST(redrive_window),
		PG_TEST(one_run_of_a_campaign_at_a_time),
		PG_TEST(lock_survives_or_stops_on_reconnect),
		PG_TEST(lock_is_the_ledgers_not_the_databases),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(steps_in_order),
		cmocka_unit_test(failures_end_a_device),
		cmocka_unit_test(crash_safety),
		cmocka_unit_test(events_and_quarantine),
		cmocka_unit_test(gate),
		cmocka_unit_test(budget_room),
		cmocka_unit_test_setup_teardown(budget_counted_from_ledger, setup, teardown),
		cmocka_unit_test_setup_teardown(state_in_ledger, setup, teardown),
		cmocka_unit_test_setup_teardown(redrive_window, setup, teardown),
		cmocka_unit_test_setup_teardown(one_run_of_a_campaign_at_a_time, setup, teardown),
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
	return _cmocka_run_group_tests("run", all, n, NULL, NULL);
}
