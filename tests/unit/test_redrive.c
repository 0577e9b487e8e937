/* Unit tests: the campaign run's re-drive policy (lib/redrive.h). */
#include "testutil.h"

#include "../../lib/config.h"
#include "../../lib/redrive.h"

/* Each transient outcome has its class; the rest are terminal; what did not fail is none. */
static void classes(void **state)
{
	(void)state;
	assert_int_equal(hfw_redrive_classify("hub_delivery_failed", "CSPFirmwareDeliveryStatus Failure", NULL, 0),
			 HFW_REDRIVE_HUB);
	assert_int_equal(hfw_redrive_classify("distribution_failed", "FirmwareDistributionFailure", "hub_delivery_failed", 0),
			 HFW_REDRIVE_HUB);
	assert_int_equal(hfw_redrive_classify("distribution_failed", "FirmwareDistributionFailure", "transfer_failed", 0),
			 HFW_REDRIVE_OFFLINE);
	assert_int_equal(hfw_redrive_classify("distribution_failed", "FirmwareDistributionFailure", "transfer_failed", 1),
			 HFW_REDRIVE_SLEEPY);
	assert_int_equal(hfw_redrive_classify("activation_failed", "E21", NULL, 0), HFW_REDRIVE_OFFLINE);
	assert_int_equal(hfw_redrive_classify("activation_failed", "E20", NULL, 1), HFW_REDRIVE_SLEEPY);
	assert_int_equal(hfw_redrive_classify("version_read_failed", "E21", NULL, 0), HFW_REDRIVE_OFFLINE);
	assert_int_equal(hfw_redrive_classify("distribution_refused", "other_request_in_progress", NULL, 0),
			 HFW_REDRIVE_BUSY);
	assert_int_equal(hfw_redrive_classify("image_discarded", "FirmwareImageDiscarded", NULL, 0), HFW_REDRIVE_SLOT);
	assert_int_equal(hfw_redrive_classify("distribution_failed", "FirmwareDistributionFailure", "image_discarded", 0),
			 HFW_REDRIVE_SLOT);
	/* Terminal: the image or the device is wrong, or the DCC refused it on any other list or code. */
	assert_int_equal(hfw_redrive_classify("hash_mismatch", "device computed another hash", NULL, 0),
			 HFW_REDRIVE_TERMINAL);
	assert_int_equal(hfw_redrive_classify("hardware_mismatch", "HardwareVersionMismatch", NULL, 0),
			 HFW_REDRIVE_TERMINAL);
	assert_int_equal(hfw_redrive_classify("distribution_refused", "not_applicable", NULL, 0), HFW_REDRIVE_TERMINAL);
	assert_int_equal(hfw_redrive_classify("distribution_refused", "refused E5", NULL, 0), HFW_REDRIVE_TERMINAL);
	assert_int_equal(hfw_redrive_classify("activation_failed", "CS06 hashMismatch", NULL, 0), HFW_REDRIVE_TERMINAL);
	assert_int_equal(hfw_redrive_classify("activation_failed", "E210", NULL, 0), HFW_REDRIVE_TERMINAL);
	assert_int_equal(hfw_redrive_classify("version_mismatch", "1.0", NULL, 0), HFW_REDRIVE_TERMINAL);
	assert_int_equal(hfw_redrive_classify("distribution_failed", "FirmwareDistributionFailure", "hardware_mismatch", 0),
			 HFW_REDRIVE_TERMINAL);
	/* Alone, its cause perhaps still on its way: at the hub. */
	assert_int_equal(hfw_redrive_classify("distribution_failed", "FirmwareDistributionFailure", NULL, 0),
			 HFW_REDRIVE_HUB);
	assert_int_equal(hfw_redrive_classify("verification_failed", "8F1C", NULL, 0), HFW_REDRIVE_TERMINAL);
	/* Not failures (a request still out, of unknown fate, or at goal): nothing to re-drive. */
	assert_int_equal(hfw_redrive_classify("distribution_requested", NULL, NULL, 0), HFW_REDRIVE_NONE);
	assert_int_equal(hfw_redrive_classify("activation_requested", NULL, NULL, 0), HFW_REDRIVE_NONE);
	assert_int_equal(hfw_redrive_classify("version_confirmed", NULL, NULL, 0), HFW_REDRIVE_NONE);
	assert_int_equal(hfw_redrive_classify(NULL, NULL, NULL, 0), HFW_REDRIVE_NONE);
	assert_true(hfw_redrive_sleepy_type("GSME") && hfw_redrive_sleepy_type("PPMID") && hfw_redrive_sleepy_type("IHD"));
	assert_false(hfw_redrive_sleepy_type("ESME") || hfw_redrive_sleepy_type(NULL));
}

/* The documented defaults, and a setting that overrides one. */
static void policy_from_config(void **state)
{
	static const char text[] = "{\"profiles\":{\"t\":{\"redrive_offline_attempts\":1,\"redrive_offline_backoff\":2,"
				   "\"redrive_backoff_max\":5}}}";
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_redrive_policy p;
	hfw_config *cfg = NULL;

	(void)state;
	hfw_redrive_policy_load(&p, NULL);
	assert_int_equal(p.c[HFW_REDRIVE_HUB].attempts, 3);
	assert_int_equal(p.c[HFW_REDRIVE_HUB].backoff_ms, 300000);
	assert_int_equal(p.c[HFW_REDRIVE_OFFLINE].attempts, 3);
	assert_int_equal(p.c[HFW_REDRIVE_OFFLINE].backoff_ms, 900000);
	assert_int_equal(p.c[HFW_REDRIVE_BUSY].attempts, 5);
	assert_int_equal(p.c[HFW_REDRIVE_BUSY].backoff_ms, 60000);
	assert_int_equal(p.c[HFW_REDRIVE_SLOT].attempts, 3);
	assert_int_equal(p.c[HFW_REDRIVE_SLOT].backoff_ms, 600000);
	assert_int_equal(p.c[HFW_REDRIVE_SLEEPY].attempts, 4);
	assert_int_equal(p.c[HFW_REDRIVE_SLEEPY].backoff_ms, 3600000);
	assert_int_equal(p.backoff_max_ms, 21600000);
	assert_int_equal(p.c[HFW_REDRIVE_TERMINAL].attempts, 0);
	assert_int_equal(hfw_config_parse(&cfg, text, sizeof(text) - 1, "test", "t", &err), 0);
	hfw_redrive_policy_load(&p, cfg);
	assert_int_equal(p.c[HFW_REDRIVE_OFFLINE].attempts, 1);
	assert_int_equal(p.c[HFW_REDRIVE_OFFLINE].backoff_ms, 2000);
	assert_int_equal(p.c[HFW_REDRIVE_HUB].attempts, 3);
	assert_int_equal(p.backoff_max_ms, 5000);
	hfw_config_free(cfg);
}

/* The backoff doubles from its base and stops at the cap. */
static void backoff(void **state)
{
	struct hfw_redrive_policy p;

	(void)state;
	hfw_redrive_policy_load(&p, NULL);
	assert_int_equal(hfw_redrive_backoff_ms(&p, HFW_REDRIVE_BUSY, 0), 60000);
	assert_int_equal(hfw_redrive_backoff_ms(&p, HFW_REDRIVE_BUSY, 1), 120000);
	assert_int_equal(hfw_redrive_backoff_ms(&p, HFW_REDRIVE_BUSY, 3), 480000);
	assert_int_equal(hfw_redrive_backoff_ms(&p, HFW_REDRIVE_SLEEPY, 2), 14400000);
	assert_int_equal(hfw_redrive_backoff_ms(&p, HFW_REDRIVE_SLEEPY, 3), 21600000);
	assert_int_equal(hfw_redrive_backoff_ms(&p, HFW_REDRIVE_SLEEPY, 200), 21600000);
}

/* Due once the window is over, waiting before it, exhausted at the limit; terminal never due. */
static void due(void **state)
{
	struct hfw_redrive_policy p;
	char why[160];
	int64_t at;

	(void)state;
	hfw_redrive_policy_load(&p, NULL);
	assert_int_equal(hfw_redrive_due(&p, HFW_REDRIVE_OFFLINE, 0, 1000, 1000, &at), HFW_REDRIVE_WAIT);
	assert_int_equal(at, 901000);
	assert_int_equal(hfw_redrive_due(&p, HFW_REDRIVE_OFFLINE, 0, 1000, 900999, &at), HFW_REDRIVE_WAIT);
	assert_int_equal(hfw_redrive_due(&p, HFW_REDRIVE_OFFLINE, 0, 1000, 901000, &at), HFW_REDRIVE_DUE);
	assert_int_equal(hfw_redrive_due(&p, HFW_REDRIVE_OFFLINE, 1, 1000, 901000, &at), HFW_REDRIVE_WAIT);
	assert_int_equal(at, 1801000);
	assert_int_equal(hfw_redrive_due(&p, HFW_REDRIVE_OFFLINE, 2, 0, INT64_MAX, &at), HFW_REDRIVE_DUE);
	assert_int_equal(hfw_redrive_due(&p, HFW_REDRIVE_OFFLINE, 3, 0, INT64_MAX, &at), HFW_REDRIVE_EXHAUSTED);
	assert_int_equal(hfw_redrive_due(&p, HFW_REDRIVE_TERMINAL, 0, 0, INT64_MAX, &at), HFW_REDRIVE_EXHAUSTED);
	assert_int_equal(hfw_redrive_due(&p, HFW_REDRIVE_NONE, 0, 0, INT64_MAX, &at), HFW_REDRIVE_EXHAUSTED);
	/* No overflow far in the future. */
	assert_int_equal(hfw_redrive_due(&p, HFW_REDRIVE_SLEEPY, 0, INT64_MAX - 5, INT64_MAX - 1, &at), HFW_REDRIVE_WAIT);
	assert_true(at == INT64_MAX);
	hfw_redrive_reason(why, sizeof(why), HFW_REDRIVE_OFFLINE, "activation_failed", "E21", 3);
	assert_string_equal(why, "redrive_exhausted (offline: activation_failed E21, re-driven 3 times)");
	hfw_redrive_reason(why, sizeof(why), HFW_REDRIVE_TERMINAL, "hash_mismatch", "device computed another hash", 0);
	assert_string_equal(why, "hash_mismatch: device computed another hash");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classes),
		cmocka_unit_test(policy_from_config),
		cmocka_unit_test(backoff),
		cmocka_unit_test(due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
