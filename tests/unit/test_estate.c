/* Unit tests: estate generation from a spec, round trip, strict parsing. */
#include "testutil.h"

#include "../../lib/estate.h"
#include "../../lib/sandbox/estategen.h"

static void hub_groups(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_estate *e = NULL;
	const struct hfw_device *d;
	size_t i, ppmid = 0, hcalcs = 0, chf = 0;
	struct hfw_eui hub_of_first_ppmid = { { 0 } }, hub_of_first_hcalcs = { { 0 } };

	(void)state;
	/* Separate hubs. */
	assert_int_equal(hfw_estate_generate(&e, "PPMID=1000;HCALCS=200", &err), 0);
	for (i = 0; i < hfw_estate_count(e); i++) {
		d = hfw_estate_at(e, i);
		if (strcmp(d->type->name, "PPMID") == 0 && !ppmid++)
			hub_of_first_ppmid = d->comms_hub;
		if (strcmp(d->type->name, "HCALCS") == 0 && !hcalcs++)
			hub_of_first_hcalcs = d->comms_hub;
		chf += strcmp(d->type->name, "CHF") == 0;
	}
	assert_int_equal(ppmid, 1000);
	assert_int_equal(hcalcs, 200);
	assert_int_equal(chf, 1200);
	assert_memory_not_equal(&hub_of_first_ppmid, &hub_of_first_hcalcs, sizeof(struct hfw_eui));
	assert_non_null(hfw_estate_find(e, &hub_of_first_ppmid));
	hfw_estate_free(e);
	/* Shared hubs. */
	assert_int_equal(hfw_estate_generate(&e, "PPMID=2,HCALCS=2,GSME=1", &err), 0);
	assert_int_equal(hfw_estate_count(e), 2 + 2 + 2 + 1);
	assert_memory_equal(&hfw_estate_at(e, 1)->comms_hub, &hfw_estate_at(e, 2)->comms_hub, 8);
	assert_true(hfw_estate_at(e, 3)->sleepy);	/* the GSME */
	hfw_estate_free(e);
}

static void bad_specs(void **state)
{
	static const char *const bad[] = { "", "PPMID", "PPMID=", "PPMID=x", "TOASTER=1", "CHF=1", "PPMID=-1",
					   "PPMID=1;;", "PPMID=99999999" };
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_estate *e = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (hfw_estate_generate(&e, bad[i], &err) != HFW_EINPUT)
			fail_msg("spec '%s' accepted", bad[i]);
		assert_null(e);
	}
}

static void round_trip_and_strictness(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_estate *e = NULL, *back = NULL;
	char *dir = make_tmpdir(), path[4200];
	static const char *const broken[] = {
		"[]", "{\"format\":\"hanfw-estate-1\"}", "{\"format\":\"x\",\"devices\":[]}",
		"{\"format\":\"hanfw-estate-1\",\"devices\":[{\"eui\":\"00-DB\"}]}",
		"{\"format\":\"hanfw-estate-1\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\","
		"\"comms_hub\":\"00-DB-12-34-56-78-90-A2\",\"hardware_version\":1,\"firmware_version\":\"0100\"}]}",
		"{\"format\":\"hanfw-estate-1\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\","
		"\"comms_hub\":\"00-DB-12-34-56-78-90-A2\",\"hardware_version\":1,\"firmware_version\":\"01000000\",\"x\":1}]}",
	};
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/estate.json", dir);
	assert_int_equal(hfw_estate_generate(&e, "ESME=3,ALTHAN-B2=1;IHD=2", &err), 0);
	assert_int_equal(hfw_estate_write(e, path, &err), 0);
	assert_int_equal(hfw_estate_read(&back, path, &err), 0);
	assert_int_equal(hfw_estate_count(back), hfw_estate_count(e));
	for (i = 0; i < hfw_estate_count(e); i++) {
		assert_memory_equal(&hfw_estate_at(e, i)->eui, &hfw_estate_at(back, i)->eui, 8);
		assert_ptr_equal(hfw_estate_at(e, i)->type, hfw_estate_at(back, i)->type);
		assert_string_equal(hfw_estate_at(e, i)->firmware_version, hfw_estate_at(back, i)->firmware_version);
	}
	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		hfw_estate *x = NULL;

		if (hfw_estate_parse(&x, broken[i], strlen(broken[i]), "t", &err) != HFW_EINPUT)
			fail_msg("accepted: %s", broken[i]);
	}
	hfw_estate_free(e);
	hfw_estate_free(back);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hub_groups),
		cmocka_unit_test(bad_specs),
		cmocka_unit_test(round_trip_and_strictness),
	};

	return cmocka_run_group_tests_name("estate", tests, NULL, NULL);
}
