/*
 * Unit tests: the campaign run's status line (cmd/progress.h) and the
 * budgets' lower bound it and the dry run show (hfw_rollout_budget_s).
 */
#include "testutil.h"

#include "../../cmd/progress.h"
#include "../../lib/config.h"
#include "../../lib/rollout.h"

static void rate_over_the_last_minute(void **state)
{
	/* 10 devices a minute for two minutes, then 60 in the last 30 s. */
	struct cmd_progress_sample s[] = { { 0, 0 }, { 60000, 10 }, { 120000, 20 }, { 150000, 80 } };

	(void)state;
	assert_true(cmd_progress_rate(s, 0, 1000) == 0);
	assert_true(cmd_progress_rate(s, 1, 1000) == 0);
	/* At 60 s: from 0 to 60 s, 10 a minute. */
	assert_true(cmd_progress_rate(s, 2, 60000) > 9.99 && cmd_progress_rate(s, 2, 60000) < 10.01);
	/* At 150 s the minute starts at 90 s: from the sample at 60 s (the newest before it), 70 in 90 s. */
	assert_true(cmd_progress_rate(s, 4, 150000) > 46.6 && cmd_progress_rate(s, 4, 150000) < 46.7);
	/* At 181 s: from the sample at 120 s, 60 in 30 s. */
	assert_true(cmd_progress_rate(s, 4, 181000) > 119.9 && cmd_progress_rate(s, 4, 181000) < 120.1);
	/* No time between the samples: no rate. */
	s[1].ms = 0;
	assert_true(cmd_progress_rate(s, 2, 1000) == 0);
}

static void eta_from_rate_and_budget(void **state)
{
	int at_least;

	(void)state;
	assert_int_equal(cmd_progress_eta(0, 0, 0, &at_least), 0);
	assert_int_equal(cmd_progress_eta(10, 0, 0, &at_least), -1);
	assert_int_equal(cmd_progress_eta(10, 0, 7200, &at_least), 7200);
	assert_true(at_least);
	assert_int_equal(cmd_progress_eta(120, 60, 0, &at_least), 120);
	assert_false(at_least);
	/* The budgets' bound when it is longer than the rate says. */
	assert_int_equal(cmd_progress_eta(120, 60, 3600, &at_least), 3600);
	assert_int_equal(cmd_progress_eta(1, 7, 0, &at_least), 9);
}

static void the_status_line(void **state)
{
	struct hfw_rollout_progress p;
	char line[512], d[48];

	(void)state;
	memset(&p, 0, sizeof(p));
	p.campaign = "spring";
	p.wave = 2;
	p.waves = 7;
	p.steps[HFW_RUN_PENDING] = 3;
	p.steps[HFW_RUN_DISTRIBUTE] = 1;
	p.steps[HFW_RUN_ACTIVATE] = 2;
	p.steps[HFW_RUN_READ_VERSION] = 4;
	p.steps[HFW_RUN_DONE] = 10;
	p.steps[HFW_RUN_FAILED] = 1;
	p.steps[HFW_RUN_LEFT] = 5;
	p.steps[HFW_RUN_SKIPPED] = 6;
	p.devices_left = 100;
	cmd_progress_format(line, sizeof(line), &p, 20, NULL);
	assert_string_equal(line, "campaign spring: wave 2/7: pending 3, in progress 7, done 10, failed 1, left 5, "
				  "skipped 6; 20.0 devices/min; ETA 5 min 0 s");
	p.paced = 1;
	p.budget_left_s = 7260;
	cmd_progress_format(line, sizeof(line), &p, 0, NULL);
	assert_non_null(strstr(line, "; 0.0 devices/min; ETA at least 2 h 1 min; waiting for budget room"));
	p.paused = 1;
	cmd_progress_format(line, sizeof(line), &p, 0, NULL);
	assert_non_null(strstr(line, "; paused"));
	cmd_progress_format(line, sizeof(line), &p, 0, "halted");
	assert_non_null(strstr(line, "; halted"));
	p.budget_left_s = 0;
	cmd_progress_format(line, sizeof(line), &p, 0, "halted");
	assert_non_null(strstr(line, "ETA unknown; halted"));
	/* Cut to the buffer, never past it. */
	cmd_progress_format(line, 20, &p, 0, NULL);
	assert_int_equal(strlen(line), 19);
	cmd_progress_duration(d, sizeof(d), 45);
	assert_string_equal(d, "45 s");
	cmd_progress_duration(d, sizeof(d), 3 * 3600 + 125);
	assert_string_equal(d, "3 h 2 min");
}

/* With a budget of B an hour, N requests take at least (ceil(N/B) - 1) hours; the slowest budget counts. */
static void budgets_lower_bound(void **state)
{
	static const char text[] = "{\"profiles\":{\"p\":{\"budget_11_3_per_hour\":20,\"budget_11_1_per_hour\":1,"
				   "\"rate_per_minute\":100}}}";
	struct hfw_error err = HFW_ERROR_INIT;
	int64_t req[4] = { 0, 0, 0, 0 };
	hfw_config *cfg;

	(void)state;
	assert_int_equal(hfw_config_parse(&cfg, text, sizeof(text) - 1, "t", "p", &err), 0);
	assert_int_equal(hfw_rollout_budget_s(cfg, req), 0);
	req[2] = 20;
	assert_int_equal(hfw_rollout_budget_s(cfg, req), 0);
	req[2] = 21;
	assert_int_equal(hfw_rollout_budget_s(cfg, req), 3600);
	req[2] = 60;
	assert_int_equal(hfw_rollout_budget_s(cfg, req), 2 * 3600);
	/* 11.1 at one an hour: 4 requests, 3 hours. */
	req[0] = 4;
	assert_int_equal(hfw_rollout_budget_s(cfg, req), 3 * 3600);
	/* No budget on 11.2; the rate alone: 1000 requests at 100 a minute, 9 minutes. */
	memset(req, 0, sizeof(req));
	req[3] = 1000;
	assert_int_equal(hfw_rollout_budget_s(cfg, req), 9 * 60);
	hfw_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rate_over_the_last_minute),
		cmocka_unit_test(eta_from_rate_and_budget),
		cmocka_unit_test(the_status_line),
		cmocka_unit_test(budgets_lower_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
