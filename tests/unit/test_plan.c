/* Unit tests: campaign plan decisions, their precedence, waves and determinism. */
#define _GNU_SOURCE	/* memmem */
#include "testutil.h"

#include <jansson.h>

#include "../../lib/buf.h"
#include "../../lib/plan.h"
#include "../../lib/products.h"

static const char products_json[] =
	"{\"format\": \"hanfw-products-1\", \"device_models\": [\n"
	" {\"manufacturer\": \"M\", \"model\": \"ppmid\", \"device_type\": \"PPMID\", \"manufacturer_code\": 1, \"image_type\": 132,\n"
	"  \"hardware_version\": {\"min\": 1, \"max\": 255},\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\"}]},\n"
	" {\"manufacturer\": \"M\", \"model\": \"path\", \"device_type\": \"PPMID\", \"manufacturer_code\": 1, \"image_type\": 132,\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\", \"predecessors\": [\"01500000\"]}]},\n"
	" {\"manufacturer\": \"M\", \"model\": \"withdrawn\", \"device_type\": \"PPMID\", \"manufacturer_code\": 1, \"image_type\": 132,\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Withdrawn\"}]},\n"
	" {\"manufacturer\": \"M\", \"model\": \"locked\", \"device_type\": \"PPMID\", \"manufacturer_code\": 1, \"image_type\": 132,\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\", \"locked_to_hub_manufacturer\": \"HA\"}]},\n"
	" {\"manufacturer\": \"M\", \"model\": \"pebble\", \"device_type\": \"PPMID\", \"manufacturer_code\": 9, \"image_type\": 132,\n"
	"  \"unsupported\": \"legacy\", \"versions\": []},\n"
	" {\"manufacturer\": \"M\", \"model\": \"esme\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": 1,\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\"}]},\n"
	" {\"manufacturer\": \"M\", \"model\": \"esme-old\", \"device_type\": \"ESME\", \"manufacturer_code\": 1, \"image_type\": 17,\n"
	"  \"versions\": []},\n"
	" {\"manufacturer\": \"M\", \"model\": \"gsme\", \"device_type\": \"GSME\", \"manufacturer_code\": 1, \"image_type\": 2,\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\"}]},\n"
	" {\"manufacturer\": \"M\", \"model\": \"hcalcs\", \"device_type\": \"HCALCS\", \"manufacturer_code\": 1, \"image_type\": 48,\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\"}]},\n"
	" {\"manufacturer\": \"M\", \"model\": \"ihd\", \"device_type\": \"IHD\", \"manufacturer_code\": 1, \"image_type\": 80,\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\"}]},\n"
	" {\"manufacturer\": \"M\", \"model\": \"b1\", \"device_type\": \"ALTHAN-B1\", \"manufacturer_code\": 1, \"image_type\": 97,\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\"}]},\n"
	" {\"manufacturer\": \"M\", \"model\": \"b2\", \"device_type\": \"ALTHAN-B2\", \"manufacturer_code\": 1, \"image_type\": 98,\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\"}]},\n"
	" {\"manufacturer\": \"M\", \"model\": \"b4\", \"device_type\": \"ALTHAN-B4\", \"manufacturer_code\": 1, \"image_type\": 100,\n"
	"  \"versions\": [{\"version\": \"02000000\", \"cpl_status\": \"Active\"}]}],\n"
	" \"hub_models\": [\n"
	"  {\"manufacturer\": \"HA\", \"model\": \"big\", \"image_capacity\": 1000000, \"han_ota_firmware\": [\"0300\"]},\n"
	"  {\"manufacturer\": \"HB\", \"model\": \"big\", \"image_capacity\": 1000000, \"han_ota_firmware\": [\"0300\"]},\n"
	"  {\"manufacturer\": \"HB\", \"model\": \"small\", \"image_capacity\": 100, \"han_ota_firmware\": [\"0300\"]}],\n"
	" \"althan_packaging\": [{\"option\": \"A\", \"orchestrator\": \"ALTHAN-B3\", \"serves\": [\"ALTHAN-B3\", \"ALTHAN-B4\"]},\n"
	"  {\"option\": \"B\", \"orchestrator\": \"ALTHAN-B1\", \"serves\": [\"ALTHAN-B1\", \"ALTHAN-B2\", \"ALTHAN-B3\", \"ALTHAN-B4\"]}]}\n";

static struct hfw_plan_image images[6];

static void image(size_t i, const char *type, unsigned it)
{
	memset(&images[i], 0, sizeof(images[i]));
	images[i].path = type;
	images[i].hdr.manufacturer_code = 1;
	images[i].hdr.image_type = (uint16_t)it;
	images[i].hdr.file_version = 0x02000000;
	snprintf(images[i].firmware_version, sizeof(images[i].firmware_version), "02000000");
	hfw_device_type_find(&images[i].type, type, NULL);
	images[i].route = images[i].type->route;
	images[i].size = 1000;
}

static struct hfw_eui eui_of(unsigned premises, unsigned slot)
{
	struct hfw_eui e = { { 0x00, 0xDB, 0x99, 0x00, (uint8_t)(premises >> 16), (uint8_t)(premises >> 8),
			       (uint8_t)premises, (uint8_t)slot } };

	return e;
}

struct spec {
	const char *type, *model, *status, *fw;
	int hw;				/* -1 unknown */
	const char *region, *s1sp, *install, *althan;
	int third_party;
};

static void add(hfw_estate *e, unsigned premises, unsigned slot, const char *hub_mfr, const char *hub_model,
		const char *hub_fw, const struct spec *s)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_device d;

	memset(&d, 0, sizeof(d));
	d.eui = eui_of(premises, slot);
	assert_int_equal(hfw_device_type_find(&d.type, s->type, &err), 0);
	d.has_comms_hub = 1;
	d.comms_hub = eui_of(premises, 0);
	assert_int_equal(hfw_device_status_parse(&d.status, s->status ? s->status : "Commissioned", &err), 0);
	d.manufacturer = strcmp(s->type, "CHF") == 0 ? hub_mfr : "M";
	d.model = strcmp(s->type, "CHF") == 0 ? hub_model : s->model ? s->model : "";
	snprintf(d.firmware_version, sizeof(d.firmware_version), "%s",
		 strcmp(s->type, "CHF") == 0 ? hub_fw : s->fw ? s->fw : "01000000");
	d.chts_version = d.gbcs_version = d.han_variant = d.connectivity = d.date_commissioned = d.mpxn = d.uprn = "";
	d.region = s->region ? s->region : "North";
	d.s1sp = s->s1sp ? s->s1sp : "";
	d.site = "";
	if (s->install)
		assert_int_equal(hfw_install_type_parse(&d.installation, s->install, &err), 0);
	if (s->althan)
		assert_int_equal(hfw_althan_option_parse(&d.althan_option, s->althan, &err), 0);
	d.third_party = s->third_party;
	if (s->hw >= 0) {
		d.has_hardware_version = 1;
		d.hardware_version = (uint16_t)s->hw;
	}
	assert_int_equal(hfw_estate_add(e, &d, &err), 0);
}

/* One premises: a hub (CHF at slot 0) and devices at slots 1... */
static void premises(hfw_estate *e, unsigned p, const char *hub_mfr, const char *hub_model, const char *hub_fw,
		     const struct spec *devices, size_t n)
{
	static const struct spec chf = { "CHF", NULL, NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 };
	size_t i;

	add(e, p, 0, hub_mfr, hub_model, hub_fw, &chf);
	for (i = 0; i < n; i++)
		add(e, p, (unsigned)i + 1, hub_mfr, hub_model, hub_fw, &devices[i]);
}

static enum hfw_plan_reason reason_of(const hfw_plan *plan, unsigned p, unsigned slot)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_plan_decision d;
	struct hfw_eui eui = eui_of(p, slot);

	assert_int_equal(hfw_plan_explain(plan, &eui, &d, &err), 0);
	return d.reason;
}

static const char *fact_of(const hfw_plan *plan, unsigned p, unsigned slot, const char *name)
{
	static struct hfw_plan_decision d;
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_eui eui = eui_of(p, slot);
	size_t i;

	assert_int_equal(hfw_plan_explain(plan, &eui, &d, &err), 0);
	for (i = 0; i < d.n_facts; i++)
		if (strcmp(d.facts[i].name, name) == 0)
			return d.facts[i].value;
	return NULL;
}

#define S(...) ((const struct spec[]){ __VA_ARGS__ })
#define N(a) (sizeof(a) / sizeof((a)[0]))

static hfw_products *products(void)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_products *p = NULL;

	assert_int_equal(hfw_products_parse(&p, products_json, strlen(products_json), "t", &err), 0);
	return p;
}

static void set_images(void)
{
	image(0, "PPMID", 132);
	image(1, "ESME", 1);
	image(2, "GSME", 2);
	image(3, "HCALCS", 48);
	image(4, "ALTHAN-B1", 97);
	image(5, "IHD", 80);
}

/* Every reason, each on a device that meets every earlier rule. */
static void every_reason(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_plan_options o = { 0 };
	hfw_products *p = products();
	hfw_estate *e = NULL;
	hfw_plan *plan = NULL;
	const struct spec ppmid = { "PPMID", "ppmid", NULL, NULL, 16, NULL, NULL, NULL, NULL, 0 };
	size_t r;

	(void)state;
	set_images();
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	/* 1: a good hub with one device of each device-level reason. */
	{
		struct spec s[] = {
			{ "GPF", NULL, NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },			/* 1 no_route */
			{ "IHD", "ihd", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },			/* 2 ihd_out_of_scope */
			{ "PPMID", "ppmid", "Pending", NULL, 16, NULL, NULL, NULL, NULL, 0 },		/* 3 not_commissioned */
			{ "PPMID", "pebble", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },		/* 4 unsupported_model */
			{ "PPMID", "nosuch", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },		/* 5 unsupported (unknown) */
			{ "ESME", "esme-old", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },		/* 6 model_mismatch */
			{ "ESME", "ppmid", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },		/* 7 model_mismatch (type) */
			{ "PPMID", "withdrawn", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },		/* 8 version_withdrawn */
			{ "PPMID", "ppmid", NULL, NULL, 16, "SMETS1", "S1SP-Secure", "Secure", NULL, 1 },	/* 9 secure_third_party */
			{ "PPMID", "ppmid", NULL, NULL, 16, "SMETS1", "S1SP-FOC", "FOC", NULL, 0 },	/* 10 smets1 */
			{ "PPMID", "ppmid", NULL, NULL, 0x300, NULL, NULL, NULL, NULL, 0 },		/* 11 hardware_out_of_range */
			{ "PPMID", "ppmid", NULL, "02000000", 16, NULL, NULL, NULL, NULL, 0 },	/* 12 already_at_target */
			{ "PPMID", "path", NULL, "00900000", -1, NULL, NULL, NULL, NULL, 0 },		/* 13 not_allowed_predecessor */
			{ "PPMID", "path", NULL, "01500000", -1, NULL, NULL, NULL, NULL, 0 },		/* 14 included */
			{ "CAD", NULL, NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },			/* 15 no_route */
		};
		premises(e, 1, "HA", "big", "0300", s, N(s));
	}
	premises(e, 2, "HX", "unknown", "0300", &ppmid, 1);		/* hub_unknown */
	premises(e, 3, "HA", "big", "0200", &ppmid, 1);		/* hub_not_capable */
	premises(e, 4, "HB", "small", "0300", &ppmid, 1);		/* image_too_large_for_hub */
	{
		const struct spec l = { "PPMID", "locked", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 };

		premises(e, 5, "HB", "big", "0300", &l, 1);		/* hub_metadata_locked */
		premises(e, 6, "HA", "big", "0300", &l, 1);		/* included */
	}
	{
		struct spec s[] = {
			{ "ALTHAN-B1", "b1", NULL, NULL, -1, NULL, NULL, NULL, "B", 0 },		/* included */
			{ "ALTHAN-B2", "b2", NULL, NULL, -1, NULL, NULL, NULL, "B", 0 },		/* covered */
		};
		premises(e, 7, "HA", "big", "0300", s, N(s));
		premises(e, 8, "HA", "big", "0300", s + 1, 1);		/* B2 without its B1: no_route */
		s[1].status = "Pending";
		premises(e, 9, "HA", "big", "0300", s + 1, 1);		/* no_route comes before not_commissioned */
	}
	assert_int_equal(hfw_plan_make(&plan, e, p, images, N(images), &o, &err), 0);
	assert_int_equal(reason_of(plan, 1, 0), HFW_SKIP_NO_ROUTE);
	assert_int_equal(reason_of(plan, 1, 1), HFW_SKIP_NO_ROUTE);
	assert_int_equal(reason_of(plan, 1, 2), HFW_SKIP_IHD_OUT_OF_SCOPE);
	assert_int_equal(reason_of(plan, 1, 3), HFW_SKIP_NOT_COMMISSIONED);
	assert_string_equal(fact_of(plan, 1, 3, "status"), "Pending");
	assert_int_equal(reason_of(plan, 1, 4), HFW_SKIP_UNSUPPORTED_MODEL);
	assert_string_equal(fact_of(plan, 1, 4, "why"), "legacy");
	assert_int_equal(reason_of(plan, 1, 5), HFW_SKIP_UNSUPPORTED_MODEL);
	assert_int_equal(reason_of(plan, 1, 6), HFW_SKIP_MODEL_MISMATCH);
	assert_int_equal(reason_of(plan, 1, 7), HFW_SKIP_MODEL_MISMATCH);
	assert_string_equal(fact_of(plan, 1, 7, "products_device_type"), "PPMID");
	assert_int_equal(reason_of(plan, 1, 8), HFW_SKIP_VERSION_WITHDRAWN);
	assert_string_equal(fact_of(plan, 1, 8, "cpl_status"), "Withdrawn");
	assert_int_equal(reason_of(plan, 1, 9), HFW_SKIP_SECURE_THIRD_PARTY);
	assert_int_equal(reason_of(plan, 1, 10), HFW_SKIP_SMETS1);
	assert_string_equal(fact_of(plan, 1, 10, "s1sp"), "S1SP-FOC");
	assert_int_equal(reason_of(plan, 1, 11), HFW_SKIP_HARDWARE_OUT_OF_RANGE);
	assert_string_equal(fact_of(plan, 1, 11, "model_range"), "0x0001-0x00FF");
	assert_int_equal(reason_of(plan, 1, 12), HFW_SKIP_ALREADY_AT_TARGET);
	assert_int_equal(reason_of(plan, 1, 13), HFW_SKIP_NOT_ALLOWED_PREDECESSOR);
	assert_string_equal(fact_of(plan, 1, 13, "allowed_predecessors"), "01500000");
	assert_int_equal(reason_of(plan, 1, 14), HFW_PLAN_INCLUDED);
	assert_int_equal(reason_of(plan, 1, 15), HFW_SKIP_NO_ROUTE);
	assert_int_equal(reason_of(plan, 2, 1), HFW_SKIP_HUB_UNKNOWN);
	assert_int_equal(reason_of(plan, 3, 1), HFW_SKIP_HUB_NOT_CAPABLE);
	assert_string_equal(fact_of(plan, 3, 1, "hub_firmware_version"), "0200");
	assert_int_equal(reason_of(plan, 4, 1), HFW_SKIP_IMAGE_TOO_LARGE_FOR_HUB);
	assert_string_equal(fact_of(plan, 4, 1, "hub_image_capacity"), "100");
	assert_int_equal(reason_of(plan, 5, 1), HFW_SKIP_HUB_METADATA_LOCKED);
	assert_int_equal(reason_of(plan, 6, 1), HFW_PLAN_INCLUDED);
	assert_int_equal(reason_of(plan, 7, 1), HFW_PLAN_INCLUDED);
	assert_int_equal(reason_of(plan, 7, 2), HFW_SKIP_COVERED_BY_ORCHESTRATOR);
	assert_string_equal(fact_of(plan, 7, 2, "orchestrator"), "00-DB-99-00-00-00-07-01");
	assert_int_equal(reason_of(plan, 8, 1), HFW_SKIP_NO_ROUTE);
	assert_int_equal(reason_of(plan, 9, 1), HFW_SKIP_NO_ROUTE);
	/* Every reason of the list was reached, and the counts add up. */
	for (r = 1; r < HFW_PLAN_REASON_COUNT; r++)
		if (!hfw_plan_reason_count(plan, (enum hfw_plan_reason)r))
			fail_msg("reason %s not reached", hfw_plan_reason_name((enum hfw_plan_reason)r));
	hfw_plan_free(plan);

	/* The options open what they name, and nothing else. */
	o.allow_ihd = 1;
	o.allow_smets1 = 1;
	assert_int_equal(hfw_plan_make(&plan, e, p, images, N(images), &o, &err), 0);
	assert_int_equal(reason_of(plan, 1, 2), HFW_PLAN_INCLUDED);
	assert_int_equal(reason_of(plan, 1, 9), HFW_SKIP_SECURE_THIRD_PARTY);
	assert_int_equal(reason_of(plan, 1, 10), HFW_PLAN_INCLUDED);
	hfw_plan_free(plan);
	hfw_estate_free(e);
	hfw_products_free(p);
}

static int to_buf(void *arg, const char *data, size_t len, struct hfw_error *err)
{
	return hfw_buf_append(arg, data, len, err);
}

/* Waves: HAN-slot devices of one hub never share a wave, and wait for the hub's GSME. */
static void waves(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_plan_options o = { 0 };
	struct hfw_plan_inputs in = { "estate.json", "products.json", { 0 }, { 0 } };
	struct hfw_buf a = HFW_BUF_INIT(1 << 26), b = HFW_BUF_INIT(1 << 26);
	hfw_products *p = products();
	hfw_estate *e = NULL;
	hfw_plan *plan = NULL;
	struct spec s[] = {
		{ "ESME", "esme", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },
		{ "GSME", "gsme", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },
		{ "PPMID", "ppmid", NULL, NULL, 16, NULL, NULL, NULL, NULL, 0 },
		{ "HCALCS", "hcalcs", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },
		{ "ALTHAN-B1", "b1", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 },
	};
	unsigned i, k;
	uint64_t total = 0;

	(void)state;
	set_images();
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	for (i = 1; i <= 400; i++)
		premises(e, i, i % 2 ? "HA" : "HB", "big", "0300", s, N(s) - (i % 3 == 0 ? 1 : 0) - (i % 5 == 0 ? 3 : 0));
	assert_int_equal(hfw_plan_make(&plan, e, p, images, N(images), &o, &err), 0);
	assert_int_equal(hfw_plan_canary(plan), 17);	/* 1% of the included, rounded up */
	assert_int_equal(hfw_plan_wave_size(plan, 1), 17);
	for (k = 1; k <= hfw_plan_wave_count(plan); k++)
		total += hfw_plan_wave_size(plan, k);
	assert_int_equal(total, hfw_plan_reason_count(plan, HFW_PLAN_INCLUDED));
	for (i = 1; i <= 400; i++) {
		struct hfw_plan_decision d[6];
		unsigned j, m;

		for (j = 1; j < 6; j++) {
			struct hfw_eui eui = eui_of(i, j);

			if (hfw_plan_explain(plan, &eui, &d[j], &err) < 0 || d[j].device->has_comms_hub == 0)
				d[j].reason = HFW_SKIP_NO_ROUTE;
		}
		for (j = 1; j < 6; j++) {
			if (d[j].reason != HFW_PLAN_INCLUDED)
				continue;
			if (strcmp(d[j].device->type->name, "ESME") && strcmp(d[j].device->type->name, "GSME")) {
				/* after the GSME, and alone in its wave among the hub's HAN-slot devices */
				if (d[2].reason == HFW_PLAN_INCLUDED && !strcmp(d[2].device->type->name, "GSME"))
					assert_true(d[j].wave > d[2].wave);
				for (m = 3; m < 6; m++)
					if (m != j && d[m].reason == HFW_PLAN_INCLUDED)
						assert_int_not_equal(d[j].wave, d[m].wave);
			}
		}
	}
	/* Byte-identical when made again; the plan names its inputs. */
	assert_int_equal(hfw_plan_write(plan, &in, to_buf, &a, &err), 0);
	hfw_plan_free(plan);
	assert_int_equal(hfw_plan_make(&plan, e, p, images, N(images), &o, &err), 0);
	assert_int_equal(hfw_plan_write(plan, &in, to_buf, &b, &err), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_non_null(memmem(a.data, a.len, "\"format\": \"hanfw-plan-1\"", 24));
	hfw_plan_free(plan);

	/* A fixed canary, growth and cap. */
	o.canary = 3;
	o.growth = 2;
	o.max_wave = 10;
	assert_int_equal(hfw_plan_make(&plan, e, p, images, N(images), &o, &err), 0);
	assert_int_equal(hfw_plan_wave_size(plan, 1), 3);
	assert_int_equal(hfw_plan_wave_size(plan, 2), 6);
	assert_int_equal(hfw_plan_wave_size(plan, 3), 10);
	for (k = 1; k <= hfw_plan_wave_count(plan); k++)
		assert_true(hfw_plan_wave_size(plan, k) <= 10 && hfw_plan_wave_size(plan, k) >= 1);
	hfw_plan_free(plan);
	hfw_buf_release(&a);
	hfw_buf_release(&b);
	hfw_estate_free(e);
	hfw_products_free(p);
}

/* A wave's devices for one image go in SR 11.1 requests of at most 50,000 (DUIS), the rest in another. */
static void request_cap(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_plan_options o = { 0 };
	struct hfw_plan_inputs in = { "estate.json", "products.json", { 0 }, { 0 } };
	struct hfw_buf out = HFW_BUF_INIT(1u << 28);
	static const struct spec esme = { "ESME", "esme", NULL, NULL, -1, NULL, NULL, NULL, NULL, 0 };
	const unsigned n = HFW_PLAN_MAX_REQUEST + 2;
	hfw_products *p = products();
	hfw_estate *e = NULL;
	hfw_plan *plan = NULL;
	json_t *j, *requests;
	json_error_t jerr;
	unsigned i;

	(void)state;
	set_images();
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	for (i = 1; i <= n; i++)
		premises(e, i, "HA", "big", "0300", &esme, 1);
	/* A canary of one, then every other device in wave 2: 50,001 ESMEs for the one ESME image. */
	o.canary = 1;
	o.growth = 1000000;
	assert_int_equal(hfw_plan_make(&plan, e, p, images, N(images), &o, &err), 0);
	assert_int_equal(hfw_plan_wave_count(plan), 2);
	assert_int_equal(hfw_plan_wave_size(plan, 2), n - 1);
	assert_int_equal(hfw_plan_write(plan, &in, to_buf, &out, &err), 0);
	assert_non_null(j = json_loadb((const char *)out.data, out.len, 0, &jerr));
	requests = json_object_get(json_array_get(json_object_get(j, "waves"), 1), "requests");
	assert_int_equal(json_array_size(requests), 2);
	assert_int_equal(json_array_size(json_object_get(json_array_get(requests, 0), "devices")), HFW_PLAN_MAX_REQUEST);
	assert_int_equal(json_array_size(json_object_get(json_array_get(requests, 1), "devices")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(requests, 1), "service_reference")), "11.1");
	json_decref(j);
	hfw_buf_release(&out);
	hfw_plan_free(plan);
	hfw_estate_free(e);
	hfw_products_free(p);
}

/* Two images for one model family are ambiguous: refused. */
static void ambiguous_images(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_plan_options o = { 0 };
	hfw_products *p = products();
	hfw_estate *e = NULL;
	hfw_plan *plan = NULL;

	(void)state;
	set_images();
	images[1] = images[0];
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	assert_int_equal(hfw_plan_make(&plan, e, p, images, 2, &o, &err), HFW_EINPUT);
	assert_null(plan);
	hfw_estate_free(e);
	hfw_products_free(p);
}

/* The activation window: HH:MM parsed or refused in one line naming the rule. */
static void window_parse(void **state)
{
	static const char *const bad[] = { "24:00", "23:60", "9:30", "09:3", "0930", "09:30Z", "09:30:00", " 9:30",
					    "2030-01-15T09:00:00Z", "", "ab:cd", "-1:00" };
	struct hfw_error err = HFW_ERROR_INIT;
	size_t i;
	int m = -1;

	(void)state;
	assert_int_equal(hfw_plan_parse_window("00:00", "--activate-at", &m, &err), 0);
	assert_int_equal(m, 0);
	assert_int_equal(hfw_plan_parse_window("23:59", "--activate-at", &m, &err), 0);
	assert_int_equal(m, 23 * 60 + 59);
	assert_int_equal(hfw_plan_parse_window("02:30", "--activate-at", &m, &err), 0);
	assert_int_equal(m, 150);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(hfw_plan_parse_window(bad[i], "--activate-at", &m, &err), HFW_EINPUT);
		assert_non_null(strstr(err.text, "--activate-at '"));
		assert_null(strchr(err.text, '\n'));
	}
	assert_int_equal(hfw_plan_parse_window(NULL, "--activate-at", &m, &err), HFW_EINPUT);
}

/* The next occurrence of HH:MM at least the lead after now: same day, next day, across midnight. */
static void window_next(void **state)
{
	const int64_t day = 20454LL * 86400;	/* 2026-01-01T00:00:00Z */

	(void)state;
	/* 10:00 now, window 02:30, lead 15 min: tomorrow 02:30. */
	assert_int_equal(hfw_plan_next_window(day + 10 * 3600, 150, 900), day + 86400 + 150 * 60);
	/* 01:00 now: today 02:30. */
	assert_int_equal(hfw_plan_next_window(day + 3600, 150, 900), day + 150 * 60);
	/* 02:20 now: 02:30 is only 10 min ahead, less than the lead: tomorrow. */
	assert_int_equal(hfw_plan_next_window(day + 140 * 60, 150, 900), day + 86400 + 150 * 60);
	/* Exactly the lead ahead: that one. */
	assert_int_equal(hfw_plan_next_window(day + 135 * 60, 150, 900), day + 150 * 60);
	/* 23:50 now, window 00:10, lead 15 min: 00:10 is 20 min ahead, across midnight. */
	assert_int_equal(hfw_plan_next_window(day + 23 * 3600 + 50 * 60, 10, 900), day + 86400 + 600);
	/* 23:58 now, window 00:10, lead 15 min: 00:13 earliest, so the day after tomorrow's 00:10. */
	assert_int_equal(hfw_plan_next_window(day + 23 * 3600 + 58 * 60, 10, 900), day + 2 * 86400 + 600);
	/* Lead 0: now itself when on the minute; a lead over a day skips days. */
	assert_int_equal(hfw_plan_next_window(day + 150 * 60, 150, 0), day + 150 * 60);
	assert_int_equal(hfw_plan_next_window(day, 0, 2 * 86400 + 1), day + 3 * 86400);
	/* Whole seconds: a now mid-minute still lands on the minute. */
	assert_int_equal(hfw_plan_next_window(day + 3600 + 17, 150, 60) % 60, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_reason),
		cmocka_unit_test(waves),
		cmocka_unit_test(ambiguous_images),
		cmocka_unit_test(request_cap),
		cmocka_unit_test(window_parse),
		cmocka_unit_test(window_next),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
