/* Unit tests: the sandbox's fault specs and their seeded, reproducible draws. */
#include "testutil.h"

#include "../../lib/sandbox/faults.h"

static void parse_specs(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_faults f;

	(void)state;
	assert_int_equal(hfw_faults_parse(&f, NULL, 1, &err), 0);
	assert_true(f.drop == 0 && f.necodes == 0 && f.tamper == HFW_TAMPER_NONE);
	assert_int_equal(hfw_faults_parse(&f, "drop=0.25,dup=1,delay=5000,rrs-down=10,http503=0,slow=3,offline=0.5,"
					  "sleepy=0.1,transfer-fail=0.2,bad-hash=0.3,reorder=0.4,tamper=counter,"
					  "ecode=00-db-12-10-00-00-00-01:E20,ecode=00-DB-12-10-00-00-00-02:E5", 9, &err), 0);
	assert_true(f.drop == 0.25 && f.dup == 1 && f.delay_ms == 5000 && f.rrs_down_ms == 10 && f.slow_ms == 3);
	assert_true(f.offline == 0.5 && f.transfer_fail == 0.2 && f.bad_hash == 0.3 && f.reorder == 0.4);
	assert_int_equal(f.tamper, HFW_TAMPER_COUNTER);
	assert_int_equal(f.necodes, 2);
	assert_string_equal(hfw_faults_ecode(&f, &f.ecodes[0].eui), "E20");
	assert_string_equal(hfw_faults_ecode(&f, &f.ecodes[1].eui), "E5");
	assert_null(hfw_faults_ecode(&f, &(struct hfw_eui){ { 1, 2, 3, 4, 5, 6, 7, 8 } }));

	assert_int_equal(hfw_faults_parse(&f, "drop=1.5", 1, &err), HFW_EINPUT);
	assert_string_equal(err.text, "fault 'drop=1.5': give a probability from 0 to 1");
	assert_int_equal(hfw_faults_parse(&f, "drop", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "delay=-5", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "delay=1x", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "tamper=everything", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "ecode=00-DB-12:E20", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "ecode=00-DB-12-10-00-00-00-01:X20", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "ecode=00-DB-12-10-00-00-00-01:E2x", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "boom=1", 1, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "unknown fault 'boom'"));
}

/* Campaign faults: per-model fractions, mid-campaign events, quarantine. */
static void campaign_specs(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_eui a = { { 0x00, 0xDB, 0x12, 0x10, 0, 0, 0, 1 } }, b = { { 0x00, 0xDB, 0x12, 0x10, 0, 0, 0, 2 } };
	struct hfw_faults f;
	unsigned hits = 0;
	uint64_t k;

	(void)state;
	assert_int_equal(hfw_faults_parse(&f, "model=433100AC:hash=0.1,model=433100AC:offline=0.2:slot=1,model=P1:slot=0.5,"
					  "event=cos:00-DB-12-10-00-00-00-01,event=ppmid-removed:1,quarantine=10/1h,breach=dcc", 3, &err), 0);
	assert_int_equal(f.nmodels, 2);
	assert_true(hfw_faults_model(&f, "433100AC")->hash == 0.1 && hfw_faults_model(&f, "433100AC")->offline == 0.2 &&
		    hfw_faults_model(&f, "433100AC")->slot == 1);
	assert_true(hfw_faults_model(&f, "P1")->slot == 0.5 && hfw_faults_model(&f, "P1")->hash == 0);
	assert_null(hfw_faults_model(&f, "433100A"));
	assert_null(hfw_faults_model(&f, NULL));
	assert_true(f.quarantine_max == 10 && f.quarantine_window_ms == 3600000 && f.breach == HFW_BREACH_DCC);
	assert_string_equal(hfw_breach_name(f.breach), "ADDCCThresholdBreach");
	/* By EUI first; then by fraction, PPMIDRemoval for PPMIDs only. */
	assert_int_equal(hfw_faults_event(&f, &a, 1), HFW_EVENT_COS);
	assert_int_equal(hfw_faults_event(&f, &b, 1), HFW_EVENT_PPMID_REMOVED);
	assert_int_equal(hfw_faults_event(&f, &b, 0), -1);
	assert_string_equal(hfw_fault_event_name(HFW_EVENT_PPMID_REMOVED), "ppmid-removed");
	assert_int_equal(hfw_faults_parse(&f, "event=suspended:0.25,quarantine=5/2000", 3, &err), 0);
	assert_true(f.quarantine_max == 5 && f.quarantine_window_ms == 2000 && f.breach == HFW_BREACH_USER);
	for (k = 0; k < 4000; k++) {
		struct hfw_eui e;
		int x;

		for (int i = 0; i < 8; i++)
			e.b[i] = (uint8_t)(k >> (56 - 8 * i));
		x = hfw_faults_event(&f, &e, 0);
		assert_true(x == -1 || x == HFW_EVENT_SUSPENDED);
		hits += x == HFW_EVENT_SUSPENDED;
	}
	assert_in_range(hits, 850, 1150);	/* about a quarter */

	assert_int_equal(hfw_faults_parse(&f, "model=X", 1, &err), HFW_EINPUT);
	assert_string_equal(err.text, "fault 'model=X': give MODEL:hash=P, :offline=P or :slot=P");
	assert_int_equal(hfw_faults_parse(&f, "model=:hash=0.1", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "model=X:", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "model=X:hash", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "model=X:heat=0.1", 1, &err), HFW_EINPUT);
	assert_string_equal(err.text, "fault 'model=X:heat=0.1': unknown 'heat' (hash, offline, slot, flaky)");
	/* Transient faults: flaky=P/K (K required), slot=P/K (K optional), busy=P. */
	assert_int_equal(hfw_faults_parse(&f, "model=X:flaky=0.5/2:slot=1/1,busy=0.25", 1, &err), 0);
	assert_true(hfw_faults_model(&f, "X")->flaky == 0.5 && hfw_faults_model(&f, "X")->flaky_times == 2);
	assert_true(hfw_faults_model(&f, "X")->slot == 1 && hfw_faults_model(&f, "X")->slot_times == 1);
	assert_true(f.busy == 0.25);
	assert_int_equal(hfw_faults_parse(&f, "model=X:slot=0.5", 1, &err), 0);
	assert_int_equal(hfw_faults_model(&f, "X")->slot_times, 0);
	assert_int_equal(hfw_faults_parse(&f, "model=X:flaky=0.5", 1, &err), HFW_EINPUT);
	assert_string_equal(err.text, "fault 'flaky=0.5': give P/K, a probability and a count of times");
	assert_int_equal(hfw_faults_parse(&f, "model=X:flaky=0.5/0", 1, &err), HFW_EINPUT);
	assert_string_equal(err.text, "fault 'flaky=0.5/0': give a count of times from 1 to 255");
	assert_int_equal(hfw_faults_parse(&f, "model=X:flaky=2/1", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "model=X:slot=1/256", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "busy=1.5", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "model=X:hash=1.1", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "model=0123456789012345678901234567890123:hash=1", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "event=cos", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "event=co:0.1", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "event=cos:00-DB", 1, &err), HFW_EINPUT);
	assert_string_equal(err.text, "fault 'event=cos:00-DB': give an EUI-64 or a fraction from 0 to 1");
	assert_int_equal(hfw_faults_parse(&f, "quarantine=10", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "quarantine=10/0", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "quarantine=-1/1h", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "quarantine=1/-1", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "quarantine=1/1d", 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_faults_parse(&f, "quarantine=1/9000h", 1, &err), HFW_EINPUT);
	assert_string_equal(err.text, "fault 'quarantine=1/9000h': give N/WINDOW, e.g. quarantine=10/1h");
	assert_int_equal(hfw_faults_parse(&f, "breach=x", 1, &err), HFW_EINPUT);
}

static void draws_are_seeded(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_faults a, b, c;
	unsigned hits = 0, same = 0;
	uint64_t k;

	(void)state;
	assert_int_equal(hfw_faults_parse(&a, "", 7, &err), 0);
	assert_int_equal(hfw_faults_parse(&b, "", 7, &err), 0);
	assert_int_equal(hfw_faults_parse(&c, "", 8, &err), 0);
	for (k = 0; k < 10000; k++) {
		assert_int_equal(hfw_faults_chance(&a, "drop", k, 0.3), hfw_faults_chance(&b, "drop", k, 0.3));
		hits += (unsigned)hfw_faults_chance(&a, "drop", k, 0.3);
		same += hfw_faults_chance(&a, "drop", k, 0.3) == hfw_faults_chance(&c, "drop", k, 0.3);
		assert_false(hfw_faults_chance(&a, "x", k, 0));
		assert_true(hfw_faults_chance(&a, "x", k, 1));
	}
	/* About 30%, and another seed draws otherwise. */
	assert_in_range(hits, 2800, 3200);
	assert_in_range(same, 5000, 6400);
	assert_true(hfw_faults_draw(&a, "drop", 1) != hfw_faults_draw(&a, "dup", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_specs),
		cmocka_unit_test(draws_are_seeded),
		cmocka_unit_test(campaign_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
