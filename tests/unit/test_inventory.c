/*
 * Unit tests: the estate from SR 8.2 answers (lib/inventory.c), the
 * supplier's records (lib/supplier.c) and SMKI device certificates
 * (lib/smki.c).  Answers are built here in the DUIS 5.4 shapes DCC Boxed
 * writes (manufacturer "106C", model "433100AC", firmware "9001", a CAD
 * without DeviceStatus, PropertyFilter present) and signed with a DCC
 * XML-signing certificate (role 89) of our own throw-away PKI.
 */
#define TESTUTIL_PKI
#include "testutil.h"

#include <sqlite3.h>

#include "../../lib/buf.h"
#include "../../lib/estate.h"
#include "../../lib/inventory.h"
#include "../../lib/ledger.h"
#include "../../lib/request.h"
#include "../../lib/smki.h"
#include "../../lib/supplier.h"
#include "../../lib/xml.h"

#define DCC "90-B3-D5-1F-30-00-00-02"
#define SUPPLIER "90-B3-D5-1F-30-01-00-00"
#define RID SUPPLIER ":" DCC ":1000"

static char *dir;
static hfw_signer *user_signer, *dcc_signer;
static hfw_ledger *ledger;
static hfw_trust *trust;

static int setup(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_pki_request dcc = { .role = "89", .eui = DCC, .days = 365 };

	(void)state;
	dir = test_pki_dir(&user_signer, &ledger, SUPPLIER);
	dcc.ca_key = path_in(dir, "ca.key");
	dcc.ca_cert = path_in(dir, "ca.pem");
	if (hfw_pki_issue(path_in(dir, "dcc.key"), path_in(dir, "dcc.pem"), &dcc, &err) < 0 ||
	    hfw_signer_open(&dcc_signer, path_in(dir, "dcc.key"), path_in(dir, "dcc.pem"), NULL, &err) < 0 ||
	    hfw_trust_new(&trust, &err) < 0 || hfw_trust_add_file(trust, path_in(dir, "dcc.pem"), &err) < 0 ||
	    hfw_trust_add_file(trust, path_in(dir, "xml.pem"), &err) < 0)
		fail_msg("%s", err.text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hfw_signer_free(dcc_signer);
	hfw_trust_free(trust);
	test_pki_dir_free(dir, user_signer, ledger);
	return 0;
}

/* One sr:Device in DUIS 5.4 order; status NULL leaves DeviceStatus out (a CAD's). */
static void device(struct hfw_buf *b, const char *eui, const char *type, const char *status, const char *extra)
{
	struct hfw_error err = HFW_ERROR_INIT;

	assert_int_equal(hfw_buf_printf(b, &err, "<sr:Device><sr:DeviceID>%s</sr:DeviceID><sr:DeviceType>%s</sr:DeviceType>",
					eui, type), 0);
	if (status)
		assert_int_equal(hfw_buf_printf(b, &err, "<sr:DeviceStatus>%s</sr:DeviceStatus>", status), 0);
	assert_int_equal(hfw_buf_printf(b, &err,
					"<sr:DeviceManufacturer>106C</sr:DeviceManufacturer><sr:DeviceModel>433100AC</sr:DeviceModel>%s</sr:Device>",
					extra), 0);
}

/* The full shape of a meter as DCC Boxed lists it. */
#define METER_FIELDS \
	"<sr:SMETSCHTSVersion>V5.0</sr:SMETSCHTSVersion><sr:DeviceFirmwareVersion>9001</sr:DeviceFirmwareVersion>" \
	"<sr:DeviceFirmwareVersionStatus>Active</sr:DeviceFirmwareVersionStatus><sr:CPLStatus>Active</sr:CPLStatus>" \
	"<sr:DateCommissioned>2024-03-01</sr:DateCommissioned><sr:ImportMPxN>1234567890123</sr:ImportMPxN>" \
	"<sr:UPRN>100023336956</sr:UPRN><sr:PropertyFilter><sr:PostCode>AB1 2CD</sr:PostCode>" \
	"<sr:AddressIdentifier>1 High Street</sr:AddressIdentifier></sr:PropertyFilter><sr:CSPRegion>North</sr:CSPRegion>" \
	"<sr:DeviceGBCSVersion>4.0</sr:DeviceGBCSVersion><sr:HANVariant>Single Band</sr:HANVariant>"

/* A premises: CHF ...A0, ESME ...A1, GPF ...A2, GSME ...A3, PPMID ...A4, CAD ...A5. */
static void premises(struct hfw_buf *b, const char *esme_status)
{
	device(b, "00-DB-12-34-56-78-90-A0", "CHF", "Commissioned",
	       "<sr:DeviceFirmwareVersion>9001</sr:DeviceFirmwareVersion><sr:CSPRegion>North</sr:CSPRegion>"
	       "<sr:Connectivity>Cellular</sr:Connectivity>");
	device(b, "00-DB-12-34-56-78-90-A1", "ESME", esme_status, METER_FIELDS);
	device(b, "00-DB-12-34-56-78-90-A2", "GPF", "Commissioned", "");
	device(b, "00-DB-12-34-56-78-90-A3", "GSME", "InstalledNotCommissioned",
	       "<sr:DeviceFirmwareVersion>9001</sr:DeviceFirmwareVersion><sr:CPLStatus>Withdrawn</sr:CPLStatus>");
	device(b, "00-DB-12-34-56-78-90-A4", "PPMID", "Commissioned", "<sr:DeviceFirmwareVersion>0102</sr:DeviceFirmwareVersion>");
	device(b, "00-DB-12-34-56-78-90-A5", "CAD", NULL, "");
}

/*
 * A Response with RequestID rid, code, for service sr, around body (NULL:
 * no ResponseMessage payload), signed by s (NULL: unsigned).  Returns a
 * new buffer.
 */
static char *answer(const char *rid, const char *code, const char *sr, const char *body, const hfw_signer *s,
		    size_t *len)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_buf b = HFW_BUF_INIT(1 << 20);
	size_t off;

	assert_int_equal(hfw_buf_puts(&b, HFW_XML_DECL, &err), 0);
	off = b.len;
	assert_int_equal(hfw_buf_printf(&b, &err,
					"<sr:Response xmlns:sr=\"" HFW_NS_DUIS "\" schemaVersion=\"5.4\"><sr:Header>"
					"<sr:RequestID>%s</sr:RequestID><sr:ResponseCode>%s</sr:ResponseCode>"
					"<sr:ResponseDateTime>2026-11-27T10:00:00.000Z</sr:ResponseDateTime></sr:Header><sr:Body>"
					"<sr:ResponseMessage><sr:ServiceReference>%s</sr:ServiceReference>"
					"<sr:ServiceReferenceVariant>%s</sr:ServiceReferenceVariant>%s%s%s</sr:ResponseMessage>"
					"</sr:Body></sr:Response>",
					rid, code, sr, sr, body ? "<sr:DSPInventory>" : "", body ? body : "",
					body ? "</sr:DSPInventory>" : ""), 0);
	if (s && hfw_xmldsig_sign_canonical(&b, off, s, &err) < 0)
		fail_msg("%s", err.text);
	*len = b.len;
	return hfw_buf_detach(&b, len);
}

static char *premises_answer(const char *rid, const char *esme_status, size_t *len)
{
	struct hfw_buf b = HFW_BUF_INIT(1 << 20);
	char *a;

	premises(&b, esme_status);
	a = answer(rid, "I0", "8.2", b.data, dcc_signer, len);
	hfw_buf_release(&b);
	return a;
}

static const struct hfw_device *find(const hfw_estate *e, const char *eui)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_eui x;

	assert_int_equal(hfw_eui_parse(&x, eui, "eui", &err), 0);
	return hfw_estate_find(e, &x);
}

/* A DCC Boxed-shaped premises: every field kept, the CHF the hub of all, a CAD without status. */
static void test_answer_fields(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_answer a;
	struct hfw_inventory_answer ans;
	hfw_estate *e = NULL;
	const struct hfw_device *d;
	char hub[HFW_EUI_TEXT_MAX];
	size_t len;
	char *xml = premises_answer(RID, "Commissioned", &len);

	(void)state;
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	assert_int_equal(hfw_inventory_check(&a, trust, RID, xml, len, "answer", &err), 0);
	assert_int_equal(hfw_inventory_apply(e, &a, &ans, &err), 0);
	assert_int_equal(ans.ndevices, 6);
	assert_true(ans.has_hub);
	assert_int_equal(hfw_estate_count(e), 6);
	assert_non_null(d = find(e, "00-DB-12-34-56-78-90-A1"));
	assert_string_equal(d->type->name, "ESME");
	assert_int_equal(d->status, HFW_DEVSTAT_COMMISSIONED);
	assert_string_equal(d->manufacturer, "106C");
	assert_string_equal(d->model, "433100AC");
	assert_string_equal(d->firmware_version, "9001");
	assert_int_equal(d->firmware_status, HFW_CPL_ACTIVE);
	assert_int_equal(d->cpl_status, HFW_CPL_ACTIVE);
	assert_string_equal(d->chts_version, "V5.0");
	assert_string_equal(d->gbcs_version, "4.0");
	assert_string_equal(d->region, "North");
	assert_string_equal(d->han_variant, "Single Band");
	assert_string_equal(d->date_commissioned, "2024-03-01");
	assert_string_equal(d->mpxn, "1234567890123");
	assert_string_equal(d->uprn, "100023336956");
	assert_true(d->has_comms_hub);
	hfw_eui_format(hub, &d->comms_hub);
	assert_string_equal(hub, "00-DB-12-34-56-78-90-A0");
	assert_non_null(d = find(e, "00-DB-12-34-56-78-90-A0"));
	assert_string_equal(d->connectivity, "Cellular");
	hfw_eui_format(hub, &d->comms_hub);
	assert_string_equal(hub, "00-DB-12-34-56-78-90-A0");	/* itself, for a CHF */
	assert_non_null(d = find(e, "00-DB-12-34-56-78-90-A3"));
	assert_int_equal(d->status, HFW_DEVSTAT_INSTALLED_NOT_COMMISSIONED);
	assert_int_equal(d->cpl_status, HFW_CPL_WITHDRAWN);
	assert_int_equal(d->firmware_status, HFW_CPL_UNKNOWN);
	assert_non_null(d = find(e, "00-DB-12-34-56-78-90-A5"));
	assert_string_equal(d->type->name, "CAD");
	assert_int_equal(d->status, HFW_DEVSTAT_UNKNOWN);
	assert_string_equal(d->uprn, "");
	hfw_answer_release(&a);
	hfw_estate_free(e);
	free(xml);
}

/* Refused: not the DCC's signer, unsigned, another service, another RequestID, too large. */
static void test_answer_refusals(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_buf b = HFW_BUF_INIT(1 << 20);
	struct hfw_answer a;
	size_t len;
	char *xml;

	(void)state;
	premises(&b, "Commissioned");
	/* A user's XML certificate (role 87) may not sign a Response. */
	xml = answer(RID, "I0", "8.2", b.data, user_signer, &len);
	assert_int_equal(hfw_inventory_check(&a, trust, RID, xml, len, "answer", &err), HFW_EVERIFY);
	assert_non_null(strstr(err.text, "answer: "));
	free(xml);
	xml = answer(RID, "I0", "8.2", b.data, NULL, &len);
	assert_int_equal(hfw_inventory_check(&a, trust, RID, xml, len, "answer", &err), HFW_EVERIFY);
	assert_non_null(strstr(err.text, "not signed"));
	free(xml);
	xml = answer(RID, "I0", "11.2", NULL, dcc_signer, &len);
	assert_int_equal(hfw_inventory_check(&a, trust, RID, xml, len, "answer", &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "not SR 8.2"));
	free(xml);
	xml = answer(RID, "I0", "8.2", b.data, dcc_signer, &len);
	assert_int_equal(hfw_inventory_check(&a, trust, SUPPLIER ":" DCC ":1001", xml, len, "answer", &err), HFW_EVERIFY);
	assert_non_null(strstr(err.text, "not " SUPPLIER ":" DCC ":1001"));
	/* A tampered answer: the signature no longer matches. */
	{
		char *p = strstr(xml, "433100AC");

		p[0] = '5';
		assert_int_equal(hfw_inventory_check(&a, trust, RID, xml, len, "answer", &err), HFW_EVERIFY);
	}
	free(xml);
	assert_int_equal(hfw_inventory_check(&a, trust, RID, b.data, HFW_INVENTORY_MAX_ANSWER_BYTES + 1, "big", &err),
			 HFW_ELIMIT);
	hfw_buf_release(&b);
}

/* E19: not found, nothing merged; another E-code: rejected; two hubs: refused whole. */
static void test_answer_codes(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_buf b = HFW_BUF_INIT(1 << 20);
	struct hfw_answer a;
	struct hfw_inventory_answer ans;
	hfw_estate *e = NULL;
	size_t len;
	char *xml;

	(void)state;
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	xml = answer(RID, "E19", "8.2", NULL, NULL, &len);
	assert_int_equal(hfw_inventory_check(&a, trust, RID, xml, len, "answer", &err), 0);
	assert_int_equal(hfw_inventory_apply(e, &a, &ans, &err), 0);
	assert_true(ans.not_found);
	assert_int_equal(hfw_estate_count(e), 0);
	hfw_answer_release(&a);
	free(xml);
	xml = answer(RID, "E3", "8.2", NULL, NULL, &len);
	assert_int_equal(hfw_inventory_check(&a, trust, RID, xml, len, "answer", &err), 0);
	assert_int_equal(hfw_inventory_apply(e, &a, &ans, &err), HFW_EREJECTED);
	assert_non_null(strstr(err.text, "E3"));
	hfw_answer_release(&a);
	free(xml);
	device(&b, "00-DB-12-34-56-78-90-B1", "ESME", "Commissioned", "");
	device(&b, "00-DB-12-34-56-78-90-B0", "CHF", "Commissioned", "");
	device(&b, "00-DB-12-34-56-78-90-B2", "CHF", "Commissioned", "");
	xml = answer(RID, "I0", "8.2", b.data, dcc_signer, &len);
	assert_int_equal(hfw_inventory_check(&a, trust, RID, xml, len, "answer", &err), 0);
	assert_int_equal(hfw_inventory_apply(e, &a, &ans, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "two comms hubs"));
	assert_int_equal(hfw_estate_count(e), 0);	/* nothing of it merged */
	hfw_answer_release(&a);
	free(xml);
	hfw_buf_release(&b);
	hfw_estate_free(e);
}

/* A later answer updates a device; supplier records go over the DCC's data, never add a device. */
static void test_merge_rules(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_supplier sup = HFW_SUPPLIER_INIT;
	struct hfw_answer a;
	struct hfw_inventory_answer ans;
	hfw_estate *e = NULL;
	const struct hfw_device *d;
	size_t len, applied;
	char *xml;
	static const char csv[] =
		"eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n"
		"00-DB-12-34-56-78-90-A4,B3,SITE-7,Secure,1,513,A,1\n"
		"00-DB-12-34-56-78-90-A1,,SITE-7,FOC,0,,,0\n"
		"00-DB-12-34-56-78-90-FF,,SITE-9,,0,,,0\n";

	(void)state;
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	xml = premises_answer(RID, "Commissioned", &len);
	assert_int_equal(hfw_inventory_check(&a, trust, RID, xml, len, "answer", &err), 0);
	assert_int_equal(hfw_inventory_apply(e, &a, &ans, &err), 0);
	hfw_answer_release(&a);
	free(xml);
	xml = premises_answer(RID, "Suspended", &len);
	assert_int_equal(hfw_inventory_check(&a, trust, RID, xml, len, "answer", &err), 0);
	assert_int_equal(hfw_inventory_apply(e, &a, &ans, &err), 0);
	hfw_answer_release(&a);
	free(xml);
	assert_int_equal(hfw_estate_count(e), 6);
	assert_int_equal(find(e, "00-DB-12-34-56-78-90-A1")->status, HFW_DEVSTAT_SUSPENDED);
	assert_int_equal(hfw_supplier_parse(&sup, csv, sizeof(csv) - 1, "s.csv", &err), 0);
	assert_int_equal(hfw_supplier_apply(e, &sup, "s.csv", NULL, NULL, &applied, &err), 0);
	assert_int_equal(applied, 2);
	assert_int_equal(hfw_estate_count(e), 6);	/* ...-FF is not added */
	d = find(e, "00-DB-12-34-56-78-90-A4");
	assert_string_equal(d->type->name, "ALTHAN-B3");
	assert_string_equal(d->site, "SITE-7");
	assert_int_equal(d->installation, HFW_INSTALL_SECURE);
	assert_true(d->third_party);
	assert_true(d->has_hardware_version);
	assert_int_equal(d->hardware_version, 513);
	assert_int_equal(d->althan_option, HFW_ALTHAN_A);
	assert_true(d->sleepy);
	assert_string_equal(d->manufacturer, "106C");	/* the DCC's data stays */
	d = find(e, "00-DB-12-34-56-78-90-A1");
	assert_string_equal(d->type->name, "ESME");
	assert_int_equal(d->installation, HFW_INSTALL_FOC);
	assert_string_equal(d->mpxn, "1234567890123");
	hfw_supplier_release(&sup);
	/* A bridge on anything but a PPMID is refused, naming the line. */
	{
		static const char bad[] = "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n"
					  "00-DB-12-34-56-78-90-A1,B1,,,0,,,0\n";

		assert_int_equal(hfw_supplier_parse(&sup, bad, sizeof(bad) - 1, "b.csv", &err), 0);
		assert_int_equal(hfw_supplier_apply(e, &sup, "b.csv", NULL, NULL, &applied, &err), HFW_EINPUT);
		assert_non_null(strstr(err.text, "b.csv line 2"));
		assert_non_null(strstr(err.text, "only a PPMID"));
		hfw_supplier_release(&sup);
	}
	hfw_estate_free(e);
}

/* Every hostile shape: one line naming the file, the line (or device) and the field. */
static void test_supplier_refusals(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "", "the header" },
		{ "eui,bridge\n", "line 1: the header" },
		{ "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n00-DB-12-34-56-78-90-A1,B5,,,0,,,0\n",
		  "line 2: bridge 'B5'" },
		{ "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n\n00-DB-12-34-56-78-90-A1,,,Remote,0,,,0\n",
		  "line 3: installation 'Remote'" },
		{ "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\nnot-an-eui,,,,0,,,0\n",
		  "line 2: eui 'not-an-eui'" },
		{ "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n00-DB-12-34-56-78-90-A1,,,,2,,,0\n",
		  "line 2: third_party '2'" },
		{ "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n00-DB-12-34-56-78-90-A1,,,,0,65536,,0\n",
		  "line 2: hardware_version '65536'" },
		{ "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n00-DB-12-34-56-78-90-A1,,,,0,,C,0\n",
		  "line 2: althan_option 'C'" },
		{ "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n00-DB-12-34-56-78-90-A1,,,,0,,,0,9\n",
		  "line 2: more than 8 fields" },
		{ "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n00-DB-12-34-56-78-90-A1,,\"a,b\",,0,,,0\n",
		  "line 2: quoted fields" },
		{ "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n00-DB-12-34-56-78-90-A1,,x\001y,,0,,,0\n",
		  "line 2: site holds a control character" },
		{ "{\"format\":\"hanfw-supplier-1\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A1\",\"colour\":\"red\"}]}",
		  "device 1: unknown member 'colour'" },
		{ "{\"format\":\"hanfw-supplier-2\",\"devices\":[]}", "format must be" },
		{ "{\"format\":\"hanfw-supplier-1\",\"devices\":[{\"bridge\":\"B1\"}]}", "device 1: no eui" },
		{ "{\"format\":\"hanfw-supplier-1\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A1\",\"sleepy\":[1]}]}",
		  "device 1: sleepy has the wrong JSON type" },
		{ "{\"format\":\"hanfw-supplier-1\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A1\"},{\"eui\":\"x\"}]}",
		  "device 2: eui 'x'" },
		{ "{\"format\": ", "line 1: not JSON" },
	};
	struct hfw_supplier sup = HFW_SUPPLIER_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hfw_error err = HFW_ERROR_INIT;

		assert_true(hfw_supplier_parse(&sup, cases[i].text, strlen(cases[i].text), "'s'", &err) < 0);
		if (!strstr(err.text, cases[i].want) || strchr(err.text, '\n'))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.text, cases[i].want);
		assert_int_equal(sup.n, 0);
	}
	/* A line too long to be a record. */
	{
		struct hfw_error err = HFW_ERROR_INIT;
		char big[2048];

		snprintf(big, sizeof(big), "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\n%01000d\n", 0);
		assert_int_equal(hfw_supplier_parse(&sup, big, strlen(big), "'s'", &err), HFW_ELIMIT);
		assert_non_null(strstr(err.text, "line 2"));
	}
}

/* The same records as CSV (CRLF) and JSON (numbers, booleans, null) read alike. */
static void test_supplier_formats(void **state)
{
	static const char csv[] = "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy\r\n"
				  "00-db-12-34-56-78-90-a4,b4,S1,MOC,1,7,B,1\r\n";
	static const char json[] = " {\"format\":\"hanfw-supplier-1\",\"devices\":[{\"eui\":\"00-DB-12-34-56-78-90-A4\","
				   "\"bridge\":\"B4\",\"site\":\"S1\",\"installation\":\"MOC\",\"third_party\":true,"
				   "\"hardware_version\":7,\"althan_option\":\"B\",\"sleepy\":1}]}";
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_supplier c = HFW_SUPPLIER_INIT, j = HFW_SUPPLIER_INIT;

	(void)state;
	assert_int_equal(hfw_supplier_parse(&c, csv, sizeof(csv) - 1, "c", &err), 0);
	assert_int_equal(hfw_supplier_parse(&j, json, sizeof(json) - 1, "j", &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(j.n, 1);
	c.v[0].line = j.v[0].line = 0;
	assert_memory_equal(&c.v[0], &j.v[0], sizeof(c.v[0]));
	assert_int_equal(c.v[0].bridge, 4);
	assert_int_equal(c.v[0].installation, HFW_INSTALL_MOC);
	assert_int_equal(c.v[0].althan_option, HFW_ALTHAN_B);
	hfw_supplier_release(&c);
	hfw_supplier_release(&j);
}

/* The live run: answers from a send function standing in for the adapter. */
struct fake {
	int sent;
	int tamper;		/* sign the answer with the user's certificate */
};

static int fake_send(void *arg, const char *path, const struct hfw_request *r, struct hfw_reply *reply,
		     enum hfw_delivery *delivery, struct hfw_error *err)
{
	struct fake *f = arg;
	size_t len;

	(void)err;
	assert_string_equal(path, "/serviceD");
	assert_non_null(strstr(r->xml.data, "<sr:ServiceReference>8.2</sr:ServiceReference>"));
	assert_non_null(strstr(r->xml.data, "<sr:CommandVariant>8</sr:CommandVariant>"));
	f->sent++;
	/* kill -9 from here on loses nothing: the request is on disk, as signed, before it leaves. */
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open_v2(path_in(dir, "ledger.sqlite"), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT state, service_reference FROM requests WHERE request_id=?", -1,
						    &st, NULL), SQLITE_OK);
		sqlite3_bind_text(st, 1, r->request_id, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "signed");
		assert_string_equal((const char *)sqlite3_column_text(st, 1), "8.2");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	memset(reply, 0, sizeof(*reply));
	if (strstr(r->xml.data, "<sr:DeviceID>00-DB-12-34-56-78-90-EE</sr:DeviceID>"))
		reply->body = answer(r->request_id, "E19", "8.2", NULL, NULL, &len);
	else
		reply->body = premises_answer(r->request_id, "Commissioned", &len);
	if (f->tamper) {
		struct hfw_buf b = HFW_BUF_INIT(1 << 20);

		free(reply->body);
		premises(&b, "Commissioned");
		reply->body = answer(r->request_id, "I0", "8.2", b.data, user_signer, &len);
		hfw_buf_release(&b);
	}
	reply->len = len;
	reply->http_status = 200;
	*delivery = HFW_DELIVERED;
	return 0;
}

static void test_run(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct fake f = { 0, 0 };
	struct hfw_inventory_options o;
	struct hfw_inventory_key keys[4];
	size_t counts[HFW_INV_OUTCOMES];
	hfw_estate *e = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	memset(&o, 0, sizeof(o));
	memset(keys, 0, sizeof(keys));
	o.signer = user_signer;
	o.trust = trust;
	o.ledger = ledger;
	o.send = fake_send;
	o.send_arg = &f;
	o.schema_version = "5.4";
	assert_int_equal(hfw_eui_parse(&o.user, SUPPLIER, "u", &err), 0);
	assert_int_equal(hfw_eui_parse(&o.dcc, DCC, "d", &err), 0);
	assert_int_equal(hfw_eui_parse(&keys[0].eui, "00-DB-12-34-56-78-90-A1", "k", &err), 0);
	assert_int_equal(hfw_eui_parse(&keys[1].eui, "00-DB-12-34-56-78-90-A3", "k", &err), 0);	/* same premises */
	assert_int_equal(hfw_eui_parse(&keys[2].eui, "00-DB-12-34-56-78-90-EE", "k", &err), 0);
	keys[3].mpxn = "1234567890123";
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	assert_int_equal(hfw_inventory_run(&o, e, keys, 4, counts, &err), 0);
	assert_int_equal(f.sent, 3);
	assert_int_equal(counts[HFW_INV_FOUND], 2);
	assert_int_equal(counts[HFW_INV_COVERED], 1);
	assert_int_equal(counts[HFW_INV_NOT_FOUND], 1);
	assert_int_equal(hfw_estate_count(e), 6);
	/* Every request sent is in the ledger, as SR 8.2, with its outcome. */
	assert_int_equal(sqlite3_open_v2(path_in(dir, "ledger.sqlite"), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT group_concat(state, ' ') FROM (SELECT state FROM requests "
					    "WHERE service_reference='8.2' ORDER BY counter)", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "found not_found found");
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* An answer not signed by the DCC: unverified, nothing merged. */
	hfw_estate_free(e);
	assert_int_equal(hfw_estate_new(&e, &err), 0);
	f.tamper = 1;
	assert_int_equal(hfw_inventory_run(&o, e, keys, 1, counts, &err), 0);
	assert_int_equal(counts[HFW_INV_UNVERIFIED], 1);
	assert_int_equal(hfw_estate_count(e), 0);
	hfw_estate_free(e);
}

/* SMKI: the in-use DS serial picked; a device certificate checked for its EUI and shape. */
static void test_smki(void **state)
{
	static const char search[] =
		"<?xml version=\"1.0\"?><CertificateSearchResponse>"
		"<Result><CertificateSerial>AB01</CertificateSerial><CertificateUsage>KA</CertificateUsage><CertificateStatus>I</CertificateStatus></Result>"
		"<Result><CertificateSerial>AB02</CertificateSerial><CertificateUsage>DS</CertificateUsage><CertificateStatus>E</CertificateStatus></Result>"
		"<Result><CertificateSerial> AB03 </CertificateSerial><CertificateUsage>DS</CertificateUsage><CertificateStatus>I</CertificateStatus></Result>"
		"</CertificateSearchResponse>";
	static const char two[] =
		"<CertificateSearchResponse>"
		"<Result><CertificateSerial>1</CertificateSerial><CertificateUsage>DS</CertificateUsage><CertificateStatus>I</CertificateStatus></Result>"
		"<Result><CertificateSerial>2</CertificateSerial><CertificateUsage>DS</CertificateUsage><CertificateStatus>I</CertificateStatus></Result>"
		"</CertificateSearchResponse>";
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_pki_request dev = { .eui = "00-DB-12-34-56-78-90-A1", .days = 365 };
	struct hfw_eui a1, a2;
	char serial[80];
	uint8_t *pem;
	size_t len;

	(void)state;
	assert_int_equal(hfw_smki_pick_serial(serial, sizeof(serial), search, sizeof(search) - 1, &err), 0);
	assert_string_equal(serial, "AB03");
	assert_int_equal(hfw_smki_pick_serial(serial, sizeof(serial), two, sizeof(two) - 1, &err), HFW_EINPUT);
	assert_int_equal(hfw_smki_pick_serial(serial, sizeof(serial), "<Other/>", 8, &err), HFW_EINPUT);
	assert_int_equal(hfw_smki_pick_serial(serial, sizeof(serial), "<CertificateSearchResponse/>", 28, &err), 0);
	assert_string_equal(serial, "");
	dev.ca_key = path_in(dir, "ca.key");
	dev.ca_cert = path_in(dir, "ca.pem");
	assert_int_equal(hfw_pki_issue_device(path_in(dir, "a1.key"), path_in(dir, "a1.pem"), &dev, &err), 0);
	assert_int_equal(hfw_eui_parse(&a1, "00-DB-12-34-56-78-90-A1", "e", &err), 0);
	assert_int_equal(hfw_eui_parse(&a2, "00-DB-12-34-56-78-90-A2", "e", &err), 0);
	assert_int_equal(hfw_file_read(&pem, &len, path_in(dir, "a1.pem"), 65536, "c", &err), 0);
	assert_int_equal(hfw_smki_check_device_cert(pem, len, &a1, &err), 0);
	assert_int_equal(hfw_smki_check_device_cert(pem, len, &a2, &err), HFW_EKEY);
	assert_non_null(strstr(err.text, "device certificate of 00-DB-12-34-56-78-90-A1"));
	free(pem);
	/* An organisation's certificate (a subject) is not a device's. */
	assert_int_equal(hfw_file_read(&pem, &len, path_in(dir, "dcc.pem"), 65536, "c", &err), 0);
	assert_int_equal(hfw_smki_check_device_cert(pem, len, &a1, &err), HFW_EKEY);
	assert_non_null(strstr(err.text, "subject is empty"));
	free(pem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_fields),
		cmocka_unit_test(test_answer_refusals),
		cmocka_unit_test(test_answer_codes),
		cmocka_unit_test(test_merge_rules),
		cmocka_unit_test(test_supplier_refusals),
		cmocka_unit_test(test_supplier_formats),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_smki),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
