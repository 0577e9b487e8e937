/*
 * Unit tests: distribution (lib/distribute.c): devices grouped into
 * requests of at most --batch, the DCC's warning lists read per device, a
 * device of the wrong type refused before anything is signed.
 */
#define TESTUTIL_PKI
#include "testutil.h"

#include <sys/stat.h>

#include <libxml/parser.h>

#include "../../lib/distribute.h"
#include "../../lib/xml.h"

static char *dir;
static hfw_signer *signer;
static hfw_ledger *ledger;
static const char *const supplier = "90-B3-D5-1F-30-01-00-00";

static const char *tmp(const char *name)
{
	return path_in(dir, name);
}

static int setup(void **state)
{
	(void)state;
	dir = test_pki_dir(&signer, &ledger, supplier);
	assert_int_equal(mkdir(tmp("out"), 0700), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_pki_dir_free(dir, signer, ledger);
	return 0;
}

static void device(struct hfw_target *t, int k, const char *type)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char eui[32];

	snprintf(eui, sizeof(eui), "00-11-22-33-44-55-66-%02X", k);
	assert_int_equal(hfw_eui_parse(&t->eui, eui, "d", &err), 0);
	t->type = NULL;
	if (type)
		assert_int_equal(hfw_device_type_find(&t->type, type, &err), 0);
}

static void ppmid_manifest(struct hfw_manifest *m)
{
	struct hfw_error err = HFW_ERROR_INIT;

	memset(m, 0, sizeof(*m));
	assert_int_equal(hfw_device_type_find(&m->type, "PPMID", &err), 0);
	m->route = m->type->route;
	snprintf(m->firmware_version, sizeof(m->firmware_version), "0102");
	memset(m->firmware_hash, 0x75, HFW_SHA256_LEN);
}

struct seen {
	size_t requests, devices[8];
	char state[64];
};

static void report(void *arg, const struct hfw_distribution_request *r, const struct hfw_error *err)
{
	struct seen *s = arg;

	if (err)
		fail_msg("%s", err->text);
	assert_non_null(r);
	assert_true(s->requests < 8);
	s->devices[s->requests++] = r->ndevices;
	snprintf(s->state, sizeof(s->state), "%s", r->state);
}

static void devices_grouped_by_batch(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_distribution_options o;
	struct hfw_distribution_totals t;
	struct hfw_manifest m;
	struct hfw_target d[5];
	struct seen s;
	static const uint8_t image[] = "not really an image";
	int i;

	(void)state;
	memset(&s, 0, sizeof(s));
	ppmid_manifest(&m);
	for (i = 0; i < 5; i++)
		device(&d[i], i, NULL);
	memset(&o, 0, sizeof(o));
	o.signer = signer;
	o.ledger = ledger;
	o.manifest = &m;
	o.image = image;
	o.image_len = sizeof(image);
	o.schema_version = "5.4";
	assert_int_equal(hfw_eui_parse(&o.user, supplier, "u", &err), 0);
	assert_int_equal(hfw_eui_parse(&o.dcc, "00-00-00-00-00-00-00-00", "dcc", &err), 0);
	o.dry_run_dir = tmp("out");
	o.campaign = "PPMID-0102";
	o.batch = 2;
	o.report = report;
	o.report_arg = &s;
	if (hfw_distribution_run(&o, d, 5, &t, &err) < 0)
		fail_msg("%s", err.text);
	/* 5 devices, 2 a request: 2, 2 and 1. */
	assert_int_equal(s.requests, 3);
	assert_int_equal(t.requests, 3);
	assert_int_equal(s.devices[0], 2);
	assert_int_equal(s.devices[1], 2);
	assert_int_equal(s.devices[2], 1);
	assert_string_equal(s.state, "dry-run");
	assert_int_equal(hfw_distribution_status(&t), 0);
}

static void wrong_type_refused(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_manifest m;
	struct hfw_target d[3];

	(void)state;
	ppmid_manifest(&m);
	device(&d[0], 1, "PPMID");
	device(&d[1], 2, NULL);
	device(&d[2], 3, "ESME");
	assert_int_equal(hfw_distribution_check_types(&m, d, 2, "p.img", &err), 0);
	assert_int_equal(hfw_distribution_check_types(&m, d, 3, "p.img", &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "device 00-11-22-33-44-55-66-03 is a ESME"));
	assert_non_null(strstr(err.text, "nothing sent"));
}

static void warning_lists_per_device(void **state)
{
	static const char answer[] =
		"<sr:Response xmlns:sr=\"" HFW_NS_DUIS "\"><sr:Header/><sr:Body><sr:ResponseMessage>"
		"<sr:DSPUpdatePPMIDFirmwareWarning>"
		"<sr:NotCommissionedDeviceIDList>00-11-22-33-44-55-66-01,00-11-22-33-44-55-66-03</sr:NotCommissionedDeviceIDList>"
		"<sr:OtherRequestInProgressList>00-11-22-33-44-55-66-04</sr:OtherRequestInProgressList>"
		"<sr:InvalidDeviceIDList>00-11-22-33-44-55-66-77,not-an-eui</sr:InvalidDeviceIDList>"
		"</sr:DSPUpdatePPMIDFirmwareWarning></sr:ResponseMessage></sr:Body></sr:Response>";
	struct hfw_eui e[5];
	const char *out[5];
	xmlDocPtr doc;
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		struct hfw_target t;

		device(&t, i, NULL);
		e[i] = t.eui;
		out[i] = "pending";
	}
	assert_non_null(doc = xmlReadMemory(answer, (int)strlen(answer), NULL, NULL, XML_PARSE_NONET));
	hfw_distribution_mark_warnings(doc, HFW_ROUTE_SR_11_4, e, 5, out);
	assert_string_equal(out[0], "pending");
	assert_string_equal(out[1], "not_commissioned");
	assert_string_equal(out[2], "pending");
	assert_string_equal(out[3], "not_commissioned");
	assert_string_equal(out[4], "other_request_in_progress");
	/* An 11.1 answer carries DSPUpdateFirmwareWarning: the 11.4 lists are not read for it. */
	for (i = 0; i < 5; i++)
		out[i] = "pending";
	hfw_distribution_mark_warnings(doc, HFW_ROUTE_SR_11_1, e, 5, out);
	for (i = 0; i < 5; i++)
		assert_string_equal(out[i], "pending");
	xmlFreeDoc(doc);
	assert_string_equal(hfw_distribution_warning_outcome(0), "invalid");
	assert_string_equal(hfw_distribution_warning_list(4), "InvalidGBCSVersionList");
	assert_null(hfw_distribution_warning_outcome(HFW_DISTRIBUTION_WARNINGS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(devices_grouped_by_batch, setup, teardown),
		cmocka_unit_test(wrong_type_refused),
		cmocka_unit_test(warning_lists_per_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
