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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bounded),
		cmocka_unit_test(escaped),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
