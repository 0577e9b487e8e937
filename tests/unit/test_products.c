/* Unit tests: the products file, valid and hostile shapes. */
#include "testutil.h"

#include "../../lib/products.h"

static const char good[] =
	"{\"format\": \"hanfw-products-1\",\n"
	" \"device_models\": [\n"
	"  {\"manufacturer\": \"121D\", \"model\": \"P300B001\", \"name\": \"PPMID\", \"device_type\": \"PPMID\",\n"
	"   \"manufacturer_code\": \"0x121D\", \"image_type\": 132, \"hardware_version\": {\"min\": 1, \"max\": 255},\n"
	"   \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\", \"predecessors\": [\"01000000\", \"01500000\"],\n"
	"                 \"locked_to_hub_manufacturer\": \"1069\"},\n"
	"                {\"version\": \"01000000\", \"cpl_status\": \"Withdrawn\"}]},\n"
	"  {\"manufacturer\": \"1039\", \"model\": \"P4500001\", \"device_type\": \"PPMID\", \"manufacturer_code\": 4153,\n"
	"   \"image_type\": \"0x0084\", \"unsupported\": \"legacy\", \"versions\": []}],\n"
	" \"hub_models\": [{\"manufacturer\": \"1069\", \"model\": \"CHF-TB42\", \"image_capacity\": 1000000,\n"
	"                  \"han_ota_firmware\": [\"00030401\"]}],\n"
	" \"althan_packaging\": [{\"option\": \"A\", \"orchestrator\": \"ALTHAN-B3\", \"serves\": [\"ALTHAN-B3\", \"ALTHAN-B4\"]},\n"
	"   {\"option\": \"B\", \"orchestrator\": \"ALTHAN-B1\", \"serves\": [\"ALTHAN-B1\", \"ALTHAN-B2\", \"ALTHAN-B3\", \"ALTHAN-B4\"]}]}\n";

static void valid(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	const struct hfw_product_model *m;
	const struct hfw_product_version *v;
	const struct hfw_hub_model *h;
	struct hfw_althan_packaging a;
	hfw_products *p = NULL;

	(void)state;
	assert_int_equal(hfw_products_parse(&p, good, strlen(good), "t", &err), 0);
	assert_int_equal(hfw_products_model_count(p), 2);
	assert_non_null(m = hfw_products_model(p, "121D", "P300B001"));
	assert_string_equal(m->type->name, "PPMID");
	assert_int_equal(m->manufacturer_code, 0x121D);
	assert_int_equal(m->image_type, 0x84);
	assert_true(m->has_hardware_range);
	assert_int_equal(m->hardware_max, 255);
	assert_null(m->unsupported);
	assert_non_null(v = hfw_product_version_find(m, "02000000"));
	assert_int_equal(v->cpl_status, HFW_CPL_ACTIVE);
	assert_int_equal(v->n_predecessors, 2);
	assert_string_equal(v->locked_to_hub_manufacturer, "1069");
	assert_non_null(v = hfw_product_version_find(m, "01000000"));
	assert_int_equal(v->cpl_status, HFW_CPL_WITHDRAWN);
	assert_null(hfw_product_version_find(m, "03000000"));
	assert_non_null(m = hfw_products_model(p, "1039", "P4500001"));
	assert_string_equal(m->unsupported, "legacy");
	assert_int_equal(m->manufacturer_code, 4153);
	assert_null(hfw_products_model(p, "1039", "nope"));
	assert_non_null(h = hfw_products_hub(p, "1069", "CHF-TB42"));
	assert_int_equal(h->image_capacity, 1000000);
	assert_true(hfw_hub_han_ota(h, "00030401"));
	assert_false(hfw_hub_han_ota(h, "00030300"));
	a = hfw_products_althan(p, HFW_ALTHAN_A);
	assert_true(a.present);
	assert_int_equal(a.orchestrator, 3);
	assert_int_equal(a.serves, 0xC);
	a = hfw_products_althan(p, HFW_ALTHAN_B);
	assert_int_equal(a.orchestrator, 1);
	assert_int_equal(a.serves, 0xF);
	assert_false(hfw_products_althan(p, HFW_ALTHAN_NONE).present);
	hfw_products_free(p);
}

/* Each hostile or mistaken shape is refused with one line, never half-read. */
static void hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"format\": \"hanfw-products-2\", \"device_models\": [], \"hub_models\": []}",
		"{\"format\": \"hanfw-products-1\", \"device_models\": []}",
		"{\"format\": \"hanfw-products-1\", \"device_models\": [], \"hub_models\": [], \"surprise\": 1}",
		"{\"format\": \"hanfw-products-1\", \"format\": \"hanfw-products-1\", \"device_models\": [], \"hub_models\": []}",
		/* a model twice */
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": 1, \"versions\": []},"
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"GSME\", \"manufacturer_code\": 1, \"image_type\": 2, \"versions\": []}]}",
		/* a type without a route, an unknown type, a bad code, a non-firmware image type */
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"CHF\", \"manufacturer_code\": 1, \"image_type\": 1, \"versions\": []}]}",
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"TOASTER\", \"manufacturer_code\": 1, \"image_type\": 1, \"versions\": []}]}",
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": 65536, \"image_type\": 1, \"versions\": []}]}",
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": \"0x-1\", \"image_type\": 1, \"versions\": []}]}",
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": \"0xFFC0\", \"versions\": []}]}",
		/* a device type spelt otherwise than hanfw spells it */
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"ppmid\", \"manufacturer_code\": 1, \"image_type\": 1, \"versions\": []}]}",
		/* an empty string with a NUL inside, a control character */
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\\u0000b\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": 1, \"versions\": []}]}",
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\\n\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": 1, \"versions\": []}]}",
		/* versions: too long, twice, a bad status, empty predecessors, a hardware range upside down */
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": 1,"
		" \"versions\": [{\"version\": \"123456789\", \"cpl_status\": \"Active\"}]}]}",
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": 1,"
		" \"versions\": [{\"version\": \"0A\", \"cpl_status\": \"Active\"}, {\"version\": \"0a\", \"cpl_status\": \"Active\"}]}]}",
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": 1,"
		" \"versions\": [{\"version\": \"01\", \"cpl_status\": \"Retracted\"}]}]}",
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": 1,"
		" \"versions\": [{\"version\": \"01\", \"cpl_status\": \"Active\", \"predecessors\": []}]}]}",
		"{\"format\": \"hanfw-products-1\", \"hub_models\": [], \"device_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": 1,"
		" \"hardware_version\": {\"min\": 5, \"max\": 4}, \"versions\": []}]}",
		/* hubs: no capacity, zero, a hub twice */
		"{\"format\": \"hanfw-products-1\", \"device_models\": [], \"hub_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"han_ota_firmware\": []}]}",
		"{\"format\": \"hanfw-products-1\", \"device_models\": [], \"hub_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"image_capacity\": 0, \"han_ota_firmware\": []}]}",
		"{\"format\": \"hanfw-products-1\", \"device_models\": [], \"hub_models\": ["
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"image_capacity\": 5, \"han_ota_firmware\": []},"
		"{\"manufacturer\": \"a\", \"model\": \"b\", \"image_capacity\": 6, \"han_ota_firmware\": []}]}",
		/* Alt HAN: an orchestrator outside what it serves, option C, twice, not a bridge */
		"{\"format\": \"hanfw-products-1\", \"device_models\": [], \"hub_models\": [], \"althan_packaging\": ["
		"{\"option\": \"A\", \"orchestrator\": \"ALTHAN-B3\", \"serves\": [\"ALTHAN-B4\"]}]}",
		"{\"format\": \"hanfw-products-1\", \"device_models\": [], \"hub_models\": [], \"althan_packaging\": ["
		"{\"option\": \"C\", \"orchestrator\": \"ALTHAN-B3\", \"serves\": [\"ALTHAN-B3\"]}]}",
		"{\"format\": \"hanfw-products-1\", \"device_models\": [], \"hub_models\": [], \"althan_packaging\": ["
		"{\"option\": \"A\", \"orchestrator\": \"ALTHAN-B3\", \"serves\": [\"ALTHAN-B3\"]},"
		"{\"option\": \"A\", \"orchestrator\": \"ALTHAN-B3\", \"serves\": [\"ALTHAN-B3\"]}]}",
		"{\"format\": \"hanfw-products-1\", \"device_models\": [], \"hub_models\": [], \"althan_packaging\": ["
		"{\"option\": \"A\", \"orchestrator\": \"PPMID\", \"serves\": [\"PPMID\"]}]}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hfw_error err = HFW_ERROR_INIT;
		hfw_products *p = NULL;
		int ret = hfw_products_parse(&p, bad[i], strlen(bad[i]), "t", &err);

		if (ret != HFW_EINPUT)
			fail_msg("case %zu: %d, accepted or wrong code: %s", i, ret, bad[i]);
		assert_null(p);
		assert_null(strchr(err.text, '\n'));
		assert_true(strlen(err.text) > 10);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid),
		cmocka_unit_test(hostile),
	};

	return cmocka_run_group_tests_name("products", tests, NULL, NULL);
}
