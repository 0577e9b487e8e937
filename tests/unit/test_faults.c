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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
