/* Unit tests: hex, EUI-64, the route table and the error table. */
#include "testutil.h"

#include "../../lib/error.h"
#include "../../lib/eui.h"
#include "../../lib/hex.h"
#include "../../lib/route.h"

static void hex_round_trip(void **state)
{
	const uint8_t in[] = { 0x00, 0x7f, 0x80, 0xff, 0x1e };
	uint8_t back[5];
	char text[11];

	(void)state;
	hfw_hex_encode(text, in, sizeof(in));
	assert_string_equal(text, "007f80ff1e");
	hfw_hex_encode_upper(text, in, sizeof(in));
	assert_string_equal(text, "007F80FF1E");
	assert_int_equal(hfw_hex_decode(back, 5, "007F80ff1E", 10), 0);
	assert_memory_equal(back, in, 5);
}

static void hex_rejects_bad(void **state)
{
	uint8_t b[2];

	(void)state;
	assert_int_equal(hfw_hex_decode(b, 2, "abc", 3), -1);
	assert_int_equal(hfw_hex_decode(b, 2, "abcde", 5), -1);
	assert_int_equal(hfw_hex_decode(b, 2, "ab g", 4), -1);
	assert_int_equal(hfw_hex_decode(b, 2, "0x12", 4), -1);
}

static void eui_forms(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_eui e;
	char text[HFW_EUI_TEXT_MAX];

	(void)state;
	assert_int_equal(hfw_eui_parse(&e, "90-b3-d5-1f-30-01-00-00", "id", &err), 0);
	hfw_eui_format(text, &e);
	assert_string_equal(text, "90-B3-D5-1F-30-01-00-00");
	assert_int_equal(e.b[0], 0x90);
	assert_int_equal(e.b[7], 0x00);
	assert_true(hfw_eui_to_u64(&e) == 0x90B3D51F30010000ull);	/* most significant octet first */
	assert_int_equal(hfw_eui_parse(&e, "00DB1234567890A4", "id", &err), 0);
	hfw_eui_format(text, &e);
	assert_string_equal(text, "00-DB-12-34-56-78-90-A4");
	assert_true(hfw_eui_to_u64(&e) == 0x00DB1234567890A4ull);
}

static void eui_rejects_bad(void **state)
{
	static const char *const bad[] = {
		"", "90-B3-D5-1F-30-01-00", "90-B3-D5-1F-30-01-00-00-11", "90:B3:D5:1F:30:01:00:00",
		"90-B3-D5-1F-30-01-00-0G", "00DB1234567890A", "00DB1234567890A4 ", " 00DB1234567890A4",
		"90-B3-D51F-30-01-00-00-", "9-0B3-D5-1F-30-01-00-00",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_eui e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hfw_eui_parse(&e, bad[i], "device ID", &err), HFW_EINPUT);
		assert_non_null(strstr(err.text, "device ID"));
	}
}

static void route_table(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	const struct hfw_device_type *t;
	static const struct { const char *name; enum hfw_route r; enum hfw_activation a; } want[] = {
		{ "ESME", HFW_ROUTE_SR_11_1, HFW_ACTIVATE_SR_11_3 },
		{ "gsme", HFW_ROUTE_SR_11_1, HFW_ACTIVATE_SR_11_3 },
		{ "HCALCS", HFW_ROUTE_SR_11_1, HFW_ACTIVATE_SR_11_3 },
		{ "PPMID", HFW_ROUTE_SR_11_4, HFW_ACTIVATE_SELF },
		{ "IHD", HFW_ROUTE_SR_11_4, HFW_ACTIVATE_SELF },
		{ "AltHAN-B1", HFW_ROUTE_SR_11_4, HFW_ACTIVATE_SELF },
		{ "ALTHAN-B4", HFW_ROUTE_SR_11_4, HFW_ACTIVATE_SELF },
		{ "CHF", HFW_ROUTE_NONE, HFW_ACTIVATE_NONE },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(hfw_device_type_find(&t, want[i].name, &err), 0);
		assert_int_equal(t->route, want[i].r);
		assert_int_equal(t->activation, want[i].a);
	}
	assert_non_null(t->refusal);
	assert_int_equal(hfw_device_type_find(&t, "TOASTER", &err), HFW_EINPUT);
	assert_null(t);
	assert_non_null(strstr(err.text, "TOASTER"));
	assert_string_equal(hfw_route_sr(HFW_ROUTE_SR_11_1), "11.1");
	assert_string_equal(hfw_route_sr(HFW_ROUTE_SR_11_4), "11.4");
}

static void error_table(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	int code, prev = 1;

	(void)state;
	/* Numbers run 0, -1, -2, ... with no gap, and every one has a name and text. */
#define HFW_ERR(name, num, text) \
	code = HFW_E##name; assert_int_equal(code, prev - 1); prev = code; \
	assert_string_equal(hfw_error_name(code), #name); assert_string_equal(hfw_strerror(code), text);
#include "../../lib/errors.def"
#undef HFW_ERR
	assert_int_equal(HFW_ERROR, -1);
	assert_string_equal(hfw_strerror(-999), "unknown error");
	assert_int_equal(hfw_error_set(&err, HFW_EINPUT, "line one\nline two\t%d", 3), HFW_EINPUT);
	assert_string_equal(err.text, "line one line two 3");
	assert_int_equal(err.code, HFW_EINPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hex_round_trip),
		cmocka_unit_test(hex_rejects_bad),
		cmocka_unit_test(eui_forms),
		cmocka_unit_test(eui_rejects_bad),
		cmocka_unit_test(route_table),
		cmocka_unit_test(error_table),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
