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

static void fill_v2(hfw_estate *e, struct hfw_device *d, unsigned i)
{
	char eui[32], text[64];

	memset(d, 0, sizeof(*d));
	snprintf(eui, sizeof(eui), "00-DB-12-34-%02X-%02X-%02X-%02X", (i >> 24) & 0xFF, (i >> 16) & 0xFF,
		 (i >> 8) & 0xFF, i & 0xFF);
	assert_int_equal(hfw_eui_parse(&d->eui, eui, "eui", NULL), 0);
	assert_int_equal(hfw_device_type_find(&d->type, i % 2 ? "ALTHAN-B3" : "PPMID", NULL), 0);
	d->has_comms_hub = 1;
	assert_int_equal(hfw_eui_parse(&d->comms_hub, "88-73-84-90-6A-10-02-DB", "hub", NULL), 0);
	d->status = HFW_DEVSTAT_COMMISSIONED;
	d->manufacturer = "106C";
	d->model = "433100AC";
	snprintf(d->firmware_version, sizeof(d->firmware_version), "%X", 0x9000 + i % 7);
	d->firmware_status = HFW_CPL_ACTIVE;
	d->cpl_status = HFW_CPL_WITHDRAWN;
	d->chts_version = "CHTS V1.4";
	d->gbcs_version = "4.2";
	d->region = "SMETS1";
	d->s1sp = "S1SP-A";
	d->han_variant = "Single Band";
	d->connectivity = "Virtual";
	d->date_commissioned = "2025-12-28Z";
	d->mpxn = "1234567890123";
	snprintf(text, sizeof(text), "%u", 100000000u + i);
	d->uprn = hfw_estate_intern(e, text);	/* a caller's texts may be its own; interned either way */
	snprintf(text, sizeof(text), "site-%u", i / 3);
	d->site = hfw_estate_intern(e, text);
	d->installation = HFW_INSTALL_SECURE;
	d->althan_option = HFW_ALTHAN_A;
	d->third_party = 1;
	d->has_hardware_version = 1;
	d->hardware_version = (uint16_t)i;
	d->sleepy = i % 3 == 0;
}

static void assert_same_device(const struct hfw_device *a, const struct hfw_device *b)
{
	assert_memory_equal(&a->eui, &b->eui, 8);
	assert_ptr_equal(a->type, b->type);
	assert_int_equal(a->has_comms_hub, b->has_comms_hub);
	assert_memory_equal(&a->comms_hub, &b->comms_hub, 8);
	assert_int_equal(a->status, b->status);
	assert_string_equal(a->firmware_version, b->firmware_version);
	assert_int_equal(a->firmware_status, b->firmware_status);
	assert_int_equal(a->cpl_status, b->cpl_status);
#define SAME(m) assert_string_equal(a->m, b->m);
	SAME(manufacturer) SAME(model) SAME(chts_version) SAME(gbcs_version) SAME(region) SAME(s1sp)
	SAME(han_variant) SAME(connectivity) SAME(date_commissioned) SAME(mpxn) SAME(uprn) SAME(site)
#undef SAME
	assert_int_equal(a->installation, b->installation);
	assert_int_equal(a->althan_option, b->althan_option);
	assert_int_equal(a->third_party, b->third_party);
	assert_int_equal(a->has_hardware_version, b->has_hardware_version);
	assert_int_equal(a->hardware_version, b->hardware_version);
	assert_int_equal(a->sleepy, b->sleepy);
	assert_int_equal(a->offline, b->offline);
}

/* Every member survives a write and a read, across the reader's 4 MiB windows. */
static void v2_round_trip_streamed(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_estate *e = NULL, *back = NULL;
	char *dir = make_tmpdir(), path[4200];
	struct hfw_device d;
	unsigned i, n = 30000;
	FILE *f;
	long size;

	(void)state;
	snprintf(path, sizeof(path), "%s/estate.json", dir);
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	for (i = 0; i < n; i++) {
		fill_v2(e, &d, n - i);	/* added in reverse: sort must put them right */
		assert_int_equal(hfw_estate_add(e, &d, &err), 0);
	}
	assert_int_equal(hfw_estate_sort(e, &err), 0);
	assert_int_equal(hfw_estate_write(e, path, &err), 0);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	fclose(f);
	assert_true(size > 8L * 1024 * 1024);	/* more than two reader windows */
	assert_int_equal(hfw_estate_read(&back, path, &err), 0);
	assert_int_equal(hfw_estate_count(back), n);
	for (i = 0; i < n; i++) {
		const struct hfw_device *a = hfw_estate_at(e, i), *b = hfw_estate_find(back, &a->eui);

		assert_non_null(b);
		assert_ptr_equal(b, hfw_estate_at(back, i));	/* sorted, same order */
		assert_same_device(a, b);
	}
	/* Texts are shared, not copied per device. */
	assert_ptr_equal(hfw_estate_at(back, 0)->model, hfw_estate_at(back, 1)->model);
	assert_ptr_equal(hfw_estate_at(back, 0)->site, hfw_estate_at(back, 1)->site);
	hfw_estate_free(e);
	hfw_estate_free(back);
	rm_rf(dir);
}

/* A DCC answer fills what it knows; the supplier's records add the rest, never erase. */
static void merge_rules(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_estate *e = NULL;
	struct hfw_device dcc, supplier;
	const struct hfw_device *m;

	(void)state;
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	fill_v2(e, &dcc, 7);
	dcc.site = "";
	dcc.installation = HFW_INSTALL_UNKNOWN;
	dcc.third_party = 0;
	dcc.has_hardware_version = 0;
	assert_int_equal(hfw_estate_merge(e, &dcc, &err), 0);
	memset(&supplier, 0, sizeof(supplier));
	supplier.eui = dcc.eui;
	supplier.site = "S9";
	supplier.installation = HFW_INSTALL_FOC;
	supplier.has_hardware_version = 1;
	supplier.hardware_version = 3;
	assert_int_equal(hfw_estate_merge(e, &supplier, &err), 0);
	assert_int_equal(hfw_estate_count(e), 1);
	m = hfw_estate_at(e, 0);
	assert_string_equal(m->site, "S9");
	assert_int_equal(m->installation, HFW_INSTALL_FOC);
	assert_int_equal(m->hardware_version, 3);
	assert_string_equal(m->model, "433100AC");	/* kept */
	assert_string_equal(m->type->name, "ALTHAN-B3");	/* kept: the supplier's record had no type */
	assert_int_equal(m->status, HFW_DEVSTAT_COMMISSIONED);
	/* add refuses what merge accepts */
	assert_int_equal(hfw_estate_add(e, &supplier, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "appears twice"));
	hfw_estate_free(e);
}

static void v1_and_v2_strictness(void **state)
{
	static const char *const good[] = {
		/* a format 1 file as session 4 wrote it */
		"{\"format\": \"hanfw-estate-1\", \"devices\": [{\"eui\": \"00-DB-12-34-56-78-90-A0\", \"type\": \"ESME\","
		" \"comms_hub\": \"00-DB-12-34-56-78-90-A2\", \"hardware_version\": 4369, \"firmware_version\": \"01000000\","
		" \"sleepy\": false, \"offline\": false}]}",
		/* members in any order, format last */
		"{\"devices\":[{\"type\":\"CAD\",\"eui\":\"BC-6E-76-FE-00-7C-B4-F3\",\"manufacturer\":\"GEO\"}],"
		"\"format\":\"hanfw-estate-2\"}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[]}",
	};
	static const char *const bad[] = {
		"{\"format\":\"hanfw-estate-2\",\"devices\":[]} x",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[],\"devices\":[]}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[],\"other\":1}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\"},"
		"{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"GSME\"}]}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\","
		"\"status\":\"Installed\"}]}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\","
		"\"firmware_version\":\"123456789\"}]}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\","
		"\"model\":\"a\\u0001b\"}]}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\","
		"\"third_party\":1}]}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\","
		"\"site\":\"a\",\"site\":\"b\"}]}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\","
		"\"hardware_version\":007}]}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\","
		"\"hardware_version\":-1}]}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\","
		"\"hardware_version\":1.5}]}",
		/* format 1 needs its members */
		"{\"format\":\"hanfw-estate-1\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\"}]}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\"}",
		"{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\"} {}]}",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_estate *e = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (hfw_estate_parse(&e, good[i], strlen(good[i]), "t", &err) != 0)
			fail_msg("refused (%s): %s", err.text, good[i]);
		hfw_estate_free(e);
	}
	assert_int_equal(hfw_estate_parse(&e, good[0], strlen(good[0]), "t", &err), 0);
	assert_true(hfw_estate_at(e, 0)->has_hardware_version);
	assert_int_equal(hfw_estate_at(e, 0)->hardware_version, 4369);
	hfw_estate_free(e);
	/* Escapes and odd spacing take jansson's path; the result is the same device. */
	{
		static const char esc[] = "{\"format\":\"hanfw-estate-2\",\"devices\":[ {\"eui\" : \"00-DB-12-34-56-78-90-A0\","
					  "\"type\":\"ESME\",\"site\":\"S\\u0031\", \"hardware_version\" :\t7 } ]}";

		assert_int_equal(hfw_estate_parse(&e, esc, strlen(esc), "t", &err), 0);
		assert_string_equal(hfw_estate_at(e, 0)->site, "S1");
		assert_int_equal(hfw_estate_at(e, 0)->hardware_version, 7);
		hfw_estate_free(e);
	}
	assert_int_equal(hfw_estate_parse(&e, good[1], strlen(good[1]), "t", &err), 0);
	assert_false(hfw_estate_at(e, 0)->has_comms_hub);
	assert_int_equal(hfw_estate_at(e, 0)->status, HFW_DEVSTAT_UNKNOWN);
	hfw_estate_free(e);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = NULL;
		if (hfw_estate_parse(&e, bad[i], strlen(bad[i]), "t", &err) != HFW_EINPUT)
			fail_msg("accepted: %s", bad[i]);
		assert_null(e);
	}
}

/* A device object larger than the reader's bound is refused from a file, in bounded memory. */
static void oversized_device(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_estate *e = NULL;
	char *dir = make_tmpdir(), path[4200];
	FILE *f;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/big.json", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"format\":\"hanfw-estate-2\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A0\",\"type\":\"ESME\",\"site\":\"", f);
	for (i = 0; i < 8u * 1024 * 1024; i++)
		fputc('x', f);
	fputs("\"}]}", f);
	fclose(f);
	assert_int_equal(hfw_estate_read(&e, path, &err), HFW_ELIMIT);
	assert_non_null(strstr(err.text, "larger than 64 KiB"));
	assert_null(e);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hub_groups),
		cmocka_unit_test(bad_specs),
		cmocka_unit_test(round_trip_and_strictness),
		cmocka_unit_test(v2_round_trip_streamed),
		cmocka_unit_test(merge_rules),
		cmocka_unit_test(v1_and_v2_strictness),
		cmocka_unit_test(oversized_device),
	};

	return cmocka_run_group_tests_name("estate", tests, NULL, NULL);
}
