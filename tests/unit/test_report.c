/* Unit tests: the campaign report page: bounded for 100,000 devices, everything escaped, merged with the plan. */
#define _GNU_SOURCE	/* memmem */
#include "testutil.h"

#include "../../lib/report.h"

static void eui_of(char out[24], unsigned i)
{
	snprintf(out, 24, "00-DB-12-10-%02X-%02X-%02X-%02X", (i >> 24) & 0xFF, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF);
}

static size_t count(const char *s, size_t len, const char *what)
{
	size_t n = 0, w = strlen(what);
	const char *p = s, *end = s + len;

	while ((p = memmem(p, (size_t)(end - p), what, w)) != NULL) {
		n++;
		p += w;
	}
	return n;
}

/* 100,000 devices, most failed for one of three reasons: the page lists max_devices per reason and counts the rest. */
static void bounded(void **state)
{
	static const char *const states[] = { "version_confirmed", "hash_mismatch", "activation_failed", "hub_delivery_failed" };
	static const char *const reasons[] = { NULL, "device computed another hash", "E21", "DeliveryFailure" };
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_report_options o = { 7, NULL };
	hfw_report *r = NULL;
	char eui[24], at[32], *html = NULL;
	size_t len = 0;
	unsigned i;

	(void)state;
	assert_int_equal(hfw_report_new(&r, "ESME-01020304", &err), 0);
	for (i = 0; i < 100000; i++) {
		eui_of(eui, i);
		snprintf(at, sizeof(at), "2026-01-01T%02u:%02u:%02uZ", i / 3600 % 24, i / 60 % 60, i % 60);
		assert_int_equal(hfw_report_add_device(r, eui, states[i % 4], reasons[i % 4], at, &err), 0);
		assert_int_equal(hfw_report_add_event(r, eui, "delivered_to_hub", "2026-01-01T00:00:00Z", &err), 0);
		if (i < 50000)
			assert_int_equal(hfw_report_add_planned(r, eui, i < 100 ? 1 : 2, &err), 0);
	}
	for (i = 0; i < 30000; i++) {
		eui_of(eui, 200000 + i);
		assert_int_equal(hfw_report_add_skipped(r, eui, "smets1", &err), 0);
	}
	assert_int_equal(hfw_report_html(r, &o, &html, &len, &err), 0);
	assert_true(len < 64 * 1024);
	/* 7 devices listed for each of the three reasons and the plan's one; the rest counted. */
	assert_int_equal(count(html, len, "00-DB-12-10-"), 4 * 7);
	assert_non_null(memmem(html, len, "and 24993 more", 14));	/* 25,000 per failed state */
	assert_non_null(memmem(html, len, "and 29993 more", 14));	/* the plan's skips */
	assert_non_null(memmem(html, len, "<td>1 (canary)</td><td>100</td>", 31));
	assert_non_null(memmem(html, len, "<td>not in the plan</td><td>50000</td>", 38));
	assert_int_equal(count(html, len, "<polygon"), 5);
	free(html);
	hfw_report_free(r);
}

/* Text from the ledger or plan never becomes markup; the page asks for nothing from outside. */
static void escaped(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_report *r = NULL;
	char *html = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(hfw_report_new(&r, "<script>alert(1)</script>", &err), 0);
	assert_int_equal(hfw_report_add_device(r, "00-DB-12-10-00-00-00-01", "distribution_refused",
					       "<img src=\"http://x/\" onerror='y'>&", NULL, &err), 0);
	assert_int_equal(hfw_report_add_skipped(r, "00-DB-12-10-00-00-00-02", "a<b", &err), 0);
	assert_int_equal(hfw_report_html(r, NULL, &html, &len, &err), 0);
	assert_null(memmem(html, len, "<script", 7));
	assert_null(memmem(html, len, "<img", 4));
	assert_null(memmem(html, len, "src=\"http", 9));
	assert_non_null(strstr(html, "&lt;img src=&quot;http://x/&quot; onerror=&#39;y&#39;&gt;&amp;"));
	assert_non_null(strstr(html, "a&lt;b"));
	assert_non_null(strstr(html, "default-src 'none'"));
	free(html);
	hfw_report_free(r);
	/* What is not a device or a state is refused, by name. */
	assert_int_equal(hfw_report_new(&r, "c", &err), 0);
	assert_int_equal(hfw_report_add_device(r, "00-DB-12", "verified", NULL, NULL, &err), HFW_EINPUT);
	assert_int_equal(hfw_report_add_device(r, "00-DB-12-10-00-00-00-01", "fine", NULL, NULL, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "'fine' is not a lifecycle state"));
	hfw_report_free(r);
}

/*
 * A campaign run's state leads the page: halted with the gate rule, the funnel per wave from the
 * run's steps with each wave's gate, the run's failure reasons and the devices that left, all bounded;
 * the waves past HFW_REPORT_MAX_WAVES are summed in one row.
 */
static void run_state(void **state)
{
	static const char *const rule = "wave 2: 1 hash mismatches (rule: any hash mismatch halts the campaign)";
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_report_options o = { 3, NULL };
	hfw_report *r = NULL;
	char eui[24], *html = NULL;
	size_t len = 0;
	unsigned i;

	(void)state;
	assert_int_equal(hfw_report_new(&r, "c", &err), 0);
	assert_int_equal(hfw_report_set_run(r, "halted", rule, 2, 1, &err), 0);
	/* Wave 1: 2 done.  Wave 2: 10 failed (hash_mismatch), 5 left, 3 pending.  3 skipped; 150 later waves of 1. */
	for (i = 0; i < 2; i++) {
		eui_of(eui, i);
		assert_int_equal(hfw_report_add_run_device(r, eui, 1, "done", NULL, &err), 0);
	}
	for (i = 10; i < 28; i++) {
		eui_of(eui, i);
		assert_int_equal(hfw_report_add_run_device(r, eui, 2, i < 20 ? "failed" : i < 25 ? "left" : "pending",
							   i < 20 ? "hash_mismatch" : i < 25 ? "change_of_supplier" : NULL, &err), 0);
	}
	for (i = 100; i < 103; i++) {
		eui_of(eui, i);
		assert_int_equal(hfw_report_add_run_device(r, eui, 0, "skipped", "smets1", &err), 0);
	}
	for (i = 0; i < 150; i++) {
		eui_of(eui, 1000 + i);
		assert_int_equal(hfw_report_add_run_device(r, eui, 3 + i, "pending", NULL, &err), 0);
	}
	assert_int_equal(hfw_report_add_run_device(r, "00-DB-12-10-00-00-00-01", 1, "sleeping", NULL, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "'sleeping' is not a campaign run step"));
	assert_int_equal(hfw_report_html(r, &o, &html, &len, &err), 0);
	assert_non_null(strstr(html, "The run is <b class=\"state\">halted</b>: <span id=\"run-reason\">wave 2: 1 hash mismatches"));
	assert_non_null(strstr(html, "173 devices in the run: 2 done, 10 failed, 5 left the campaign, 3 skipped by the plan, "
				     "153 in progress."));
	assert_non_null(strstr(html, "<tr><td>1 (canary)</td><td>2</td><td>2</td><td>0</td><td>0</td><td>0</td><td>0</td>"
				     "<td class=\"l gate-passed\">passed</td></tr>"));
	assert_non_null(strstr(html, "<tr><td>2</td><td>18</td><td>0</td><td>10</td><td>5</td><td>0</td><td>3 <span "
				     "class=\"muted\">(pending 3)</span></td><td class=\"l gate-breached\">breached: wave 2: 1 hash"));
	assert_non_null(strstr(html, "<tr><td>3</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1 <span "
				     "class=\"muted\">(pending 1)</span></td><td class=\"l\">not started</td></tr>"));
	assert_non_null(strstr(html, "<tr><td>waves 101 to 152</td><td>52</td>"));
	assert_null(strstr(html, "<tr><td>101</td>"));
	assert_non_null(strstr(html, "<tr><td>not in a wave</td><td>3</td><td>0</td><td>0</td><td>0</td><td>3</td>"));
	/* The run's reasons, 3 devices listed each, the rest counted; the skips from the run, no plan needed. */
	assert_non_null(strstr(html, "<td class=\"l\">hash_mismatch</td><td>10</td><td class=\"devs\">00-DB-12-10-00-00-00-0A, "
				     "00-DB-12-10-00-00-00-0B, 00-DB-12-10-00-00-00-0C <span class=\"muted\">and 7 more</span>"));
	assert_non_null(strstr(html, "<table id=\"left\">"));
	assert_non_null(strstr(html, "<td class=\"l\">change_of_supplier</td><td>5</td>"));
	assert_non_null(strstr(html, "<td class=\"l\">smets1</td><td>3</td>"));
	assert_int_equal(count(html, len, "<polygon"), 5);
	free(html);
	hfw_report_free(r);
	/* Paused: the QuarantineEventRef is the reason, escaped; the wave's gate is not decided. */
	assert_int_equal(hfw_report_new(&r, "c", &err), 0);
	assert_int_equal(hfw_report_set_run(r, "paused", "00-DB-12-10-00-00-00-00: activation_quarantined (QuarantineEventRef 7 <&>)",
					    1, 0, &err), 0);
	assert_int_equal(hfw_report_add_run_device(r, "00-DB-12-10-00-00-00-00", 1, "activate", "quarantined: x", &err), 0);
	assert_int_equal(hfw_report_html(r, &o, &html, &len, &err), 0);
	assert_non_null(strstr(html, "<b class=\"state\">paused</b>: <span id=\"run-reason\">00-DB-12-10-00-00-00-00: "
				     "activation_quarantined (QuarantineEventRef 7 &lt;&amp;&gt;)</span> (the DCC quarantined"));
	assert_non_null(strstr(html, "<td class=\"l\">not decided: paused (quarantine)</td>"));
	free(html);
	hfw_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bounded),
		cmocka_unit_test(escaped),
		cmocka_unit_test(run_state),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
