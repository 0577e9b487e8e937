/*
 * Unit tests: every RTDS vector in ../shared/gbcs/rtds and both DCC Boxed
 * samples in ../shared/dcc/samples decode to the values firmware-protocol.md
 * §6 states, device signatures included where the keystore has the device.
 */
#include "testutil.h"

#include "../../lib/campaign.h"
#include "../../lib/decode.h"
#include "../../lib/gbcs.h"

static hfw_trust *keystore(void)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_trust *t = NULL;

	/* The RTDS certificates check GBCS signatures: the device store. */
	if (hfw_trust_new(&t, &err) < 0 || hfw_trust_add_device_dir(t, shared_path("gbcs/keystore"), &err) < 0)
		fail_msg("%s", err.text);
	return t;
}

static json_t *vector(const char *name, const hfw_trust *t)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char file[256];
	uint8_t *bytes;
	size_t len;
	json_t *j = NULL;

	snprintf(file, sizeof(file), "%s_GBCS.HEX", name);
	bytes = rtds_vector(file, &len);
	if (hfw_decode_gbcs(&j, bytes, len, t, &err) < 0)
		fail_msg("%s: %s", name, err.text);
	free(bytes);
	return j;
}

/* The string at a path of keys ("content.outcome"). */
static const char *at(json_t *j, const char *path)
{
	char buf[128], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p && j; p = strtok_r(NULL, ".", &save))
		j = json_object_get(j, p);
	if (!j)
		fail_msg("no %s", path);
	return json_is_string(j) ? json_string_value(j) : json_is_integer(j) ? "(integer)" : "(other)";
}

static json_int_t num(json_t *j, const char *a, const char *b)
{
	json_t *v = json_object_get(j, a);

	if (b)
		v = json_object_get(v, b);
	if (!json_is_integer(v))
		fail_msg("%s.%s is not an integer", a, b ? b : "");
	return json_integer_value(v);
}

static void cs06_vectors(void **state)
{
	hfw_trust *t = keystore();
	json_t *j;

	(void)state;
	j = vector("CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND", t);
	assert_string_equal(at(j, "cra"), "command");
	assert_true(num(j, "originator_counter", NULL) == 1000);
	assert_string_equal(at(j, "originator"), "90-B3-D5-1F-30-01-00-00");
	assert_string_equal(at(j, "recipient"), "00-DB-12-34-56-78-90-A0");
	assert_string_equal(at(j, "message_code"), "0012");
	assert_string_equal(at(j, "content.manufacturer_image_hash"),
			    "AA758690730934FF0685AA758690730934FF0685657788990011223344556677");
	assert_true(num(j, "content", "originator_counter") == 1000);
	assert_string_equal(at(j, "signature"), "absent");
	json_decref(j);

	j = vector("CS06_11.3_IMMEDIATE_SUCCESS_COMMAND", t);
	assert_true(json_is_true(json_object_get(j, "ciphered")));
	assert_string_equal(at(j, "signature"), "valid");	/* the supplier's, from the keystore */
	json_decref(j);

	j = vector("CS06_11.3_FUTURE_DATED_SUCCESS_PRECOMMAND", t);
	assert_true(num(j, "originator_counter", NULL) == 1001);
	assert_string_equal(at(j, "content.execution_datetime"), "20300115090000Z");
	json_decref(j);
	j = vector("CS06_11.3_FUTURE_DATED_SUCCESS_COMMAND", t);
	assert_string_equal(at(j, "signature"), "valid");
	json_decref(j);

	j = vector("CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE", t);
	assert_string_equal(at(j, "cra"), "response");
	assert_string_equal(at(j, "originator"), "00-DB-12-34-56-78-90-A0");
	assert_string_equal(at(j, "content.outcome"), "success");
	assert_string_equal(at(j, "content.firmware_version"), "0123ABCE");
	assert_string_equal(at(j, "signature"), "valid");	/* the ESME's */
	json_decref(j);

	j = vector("CS06_11.3_FUTURE_DATED_SUCCESS_RESPONSE", t);
	assert_true(num(j, "originator_counter", NULL) == 1001);
	assert_string_equal(at(j, "content.outcome"), "accepted");
	assert_string_equal(at(j, "signature"), "valid");
	json_decref(j);

	j = vector("CS06_11.3_8F66_FUTURE_DATED_SUCCESS_ALERT", t);
	assert_string_equal(at(j, "cra"), "alert");
	assert_true(num(j, "originator_counter", NULL) == 2000);
	assert_string_equal(at(j, "message_code"), "00CA");
	assert_string_equal(at(j, "content.alert_code"), "8F66");
	assert_string_equal(at(j, "content.execution_datetime"), "20300115090000Z");
	assert_true(num(j, "content", "originator_counter") == 1001);
	assert_string_equal(at(j, "content.execution_outcome.outcome"), "success");
	assert_string_equal(at(j, "content.execution_outcome.firmware_version"), "0123ABCF");
	assert_string_equal(at(j, "signature"), "valid");
	json_decref(j);
	hfw_trust_free(t);
}

static void version_read_vectors(void **state)
{
	json_t *j;

	(void)state;
	/* CS08: the DCC asks as the ACB on the supplier's behalf, MAC only. */
	j = vector("CS08_11.2_SUCCESS_COMMAND", NULL);
	assert_true(num(j, "originator_counter", NULL) == 1300);
	assert_string_equal(at(j, "originator"), "90-B3-D5-1F-30-00-00-02");
	assert_string_equal(at(j, "recipient"), "00-DB-12-34-56-78-90-A4");
	assert_string_equal(at(j, "message_code"), "0129");
	assert_string_equal(at(j, "signature"), "null");
	json_decref(j);
	j = vector("CS08_11.2_SUCCESS_RESPONSE", NULL);
	assert_true(num(j, "originator_counter", NULL) == 1300);
	assert_string_equal(at(j, "originator"), "00-DB-12-34-56-78-90-A4");
	assert_string_equal(at(j, "content.firmware_version"), "0123ABCD");
	assert_string_equal(at(j, "content.outcome"), "readSuccess");
	json_decref(j);
	j = vector("ECS52_11.2_SUCCESS_COMMAND", NULL);
	assert_true(num(j, "originator_counter", NULL) == 1000);
	assert_string_equal(at(j, "message_code"), "0059");
	json_decref(j);
	j = vector("ECS52_11.2_SUCCESS_RESPONSE", NULL);
	assert_string_equal(at(j, "originator"), "00-DB-12-34-56-78-90-A0");
	assert_string_equal(at(j, "content.firmware_version"), "0123ABCD");
	assert_string_equal(at(j, "content.outcome"), "success");
	json_decref(j);
}

static json_t *sample(const char *name, int verify)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_trust *t = NULL;
	uint8_t *text;
	size_t len;
	char rel[256];
	json_t *j = NULL;

	snprintf(rel, sizeof(rel), "dcc/samples/%s", name);
	if ((verify && hfw_trust_load_dir(&t, shared_path("dcc/zaz1"), &err) < 0) ||
	    hfw_file_read(&text, &len, shared_path(rel), 1 << 20, "sample", &err) < 0 ||
	    hfw_decode_response(&j, text, len, t, &err) < 0)
		fail_msg("%s: %s", name, err.text);
	free(text);
	hfw_trust_free(t);
	return j;
}

static void dcc_boxed_samples(void **state)
{
	json_t *j;

	(void)state;
	j = sample("11.2_readfw_response_signed.xml", 1);
	assert_string_equal(at(j, "request_id"), "90-B3-D5-1F-30-01-00-00:88-73-84-57-00-2F-96-1E:1660751141087");
	assert_string_equal(at(j, "response_id"), "88-73-84-57-00-2F-96-1E:90-B3-D5-1F-30-01-00-00:1660751141087");
	assert_string_equal(at(j, "response_code"), "I0");
	assert_string_equal(at(j, "signature.signer"), "90-B3-D5-1F-30-00-00-02");
	assert_string_equal(at(j, "message.ServiceReference"), "11.2");
	assert_string_equal(at(j, "message.GBCSPayload.use_case"), "ECS52 read firmware version response");
	assert_string_equal(at(j, "message.GBCSPayload.content.firmware_version"), "0C230000");
	assert_true(json_integer_value(json_object_get(json_object_get(json_object_get(j, "message"), "GBCSPayload"),
						       "originator_counter")) == 1660751141383ll);	/* the GBCS counter is the DCC's own, not the RequestID's */
	json_decref(j);
	j = sample("11.2_E65_error_response.xml", 1);
	assert_string_equal(at(j, "response_code"), "E65");
	assert_string_equal(at(j, "signature"), "unsigned");
	json_decref(j);
}

/* ---- a device's error answers, and use cases hanfw has no decoder for ---- */

#define DEV 0x00, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0xA0
#define SUP 0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x01, 0x00, 0x00

/* A General Signing APDU from the device (null signature, as MAC-only answers end), decoded. */
static json_t *framed(uint8_t cra, uint16_t code, const uint8_t *content, size_t n)
{
	static const uint8_t dev[8] = { DEV }, sup[8] = { SUP };
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_frame f;
	uint8_t *apdu = NULL;
	size_t len;
	json_t *j = NULL;

	memset(&f, 0, sizeof(f));
	f.cra = cra;
	f.counter = 1000;
	memcpy(f.originator, dev, 8);
	memcpy(f.recipient, sup, 8);
	f.message_code = code;
	f.content = content;
	f.content_len = n;
	assert_int_equal(hfw_gbcs_encode(&apdu, &len, &f, NULL, &err), 0);
	if (hfw_decode_gbcs(&j, apdu, len, NULL, &err) < 0)
		fail_msg("message code %04X: %s", code, err.text);
	free(apdu);
	return j;
}

static void error_answers(void **state)
{
	/* ECS52: DLMS access-response, null-data and Data-Access-Result object-unavailable (11). */
	static const uint8_t ecs52[] = { 0xDA, 0x20, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0x0B };
	static const uint8_t ecs52_exception[] = { 0xD8, 0x01, 0x02 };
	/* GCS38: GBZ, the sandbox's minimal form with ZCL status UNSUPPORTED_ATTRIBUTE. */
	static const uint8_t gcs38[] = { 0x01, 0x09, 0x01, 0x00, 0x02, 0x86 };
	/* GCS38: GBZ component framing (OTA cluster 0x0019) around a ZCL Default Response, UNSUPPORTED_CLUSTER. */
	static const uint8_t gcs38_framed[] = { 0x01, 0x09, 0x01, 0x00, 0x00, 0x19, 0x00, 0x05, 0x08, 0x01, 0x0B, 0x00, 0xC3 };
	/* CS08: RTDS's error pair, responseCode 1 readFailure. */
	static const uint8_t cs08[] = { 0x30, 0x09, 0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01 };
	/* CS06: a response code GBCS does not list; and hashMismatch with no version. */
	static const uint8_t cs06[] = { 0x30, 0x06, 0x02, 0x01, 0x07, 0x04, 0x01, 0x00 };
	static const uint8_t cs06_short[] = { 0x30, 0x03, 0x02, 0x01, 0x02 };
	json_t *j;

	(void)state;
	j = framed(HFW_CRA_RESPONSE, 0x0059, ecs52, sizeof(ecs52));
	assert_string_equal(at(j, "use_case"), "ECS52 read firmware version response");
	assert_string_equal(at(j, "content.outcome"), "error");
	assert_string_equal(at(j, "content.dlms_error"), "object-unavailable (11)");
	assert_null(json_object_get(json_object_get(j, "content"), "firmware_version"));
	json_decref(j);
	j = framed(HFW_CRA_RESPONSE, 0x0059, ecs52_exception, sizeof(ecs52_exception));
	assert_string_equal(at(j, "content.dlms_error"), "exception-response (state-error 1, service-error 2)");
	json_decref(j);
	j = framed(HFW_CRA_RESPONSE, 0x0084, gcs38, sizeof(gcs38));
	assert_string_equal(at(j, "content.outcome"), "error");
	assert_string_equal(at(j, "content.gbz_error"), "UNSUPPORTED_ATTRIBUTE (0x86)");
	json_decref(j);
	j = framed(HFW_CRA_RESPONSE, 0x0084, gcs38_framed, sizeof(gcs38_framed));
	assert_string_equal(at(j, "content.gbz_error"), "UNSUPPORTED_CLUSTER (0xC3)");
	json_decref(j);
	j = framed(HFW_CRA_RESPONSE, 0x0129, cs08, sizeof(cs08));
	assert_string_equal(at(j, "content.outcome"), "error");
	assert_string_equal(at(j, "content.cs08_error"), "readFailure (1)");
	assert_null(json_object_get(json_object_get(j, "content"), "firmware_version"));
	json_decref(j);
	j = framed(HFW_CRA_RESPONSE, 0x0012, cs06, sizeof(cs06));
	assert_string_equal(at(j, "content.outcome"), "error");
	assert_string_equal(at(j, "content.cs06_error"), "unknown (7)");
	json_decref(j);
	j = framed(HFW_CRA_RESPONSE, 0x0012, cs06_short, sizeof(cs06_short));
	assert_string_equal(at(j, "content.cs06_error"), "hashMismatch (2)");
	json_decref(j);
}

/*
 * GCS38 as GBCS frames it (firmware-protocol.md 6.9; the RTDS's GCS38_11.2
 * SUCCESS and ERROR responses): a GBZ Read Attributes Response, one
 * component (control 01, Metering cluster 0x0702, length), ZCL 08 00 01,
 * attribute 0x0206, status and the version as an octet string.  The
 * sandbox builds exactly this (devsim.c); the form it sent before, a bare
 * "01 09 01 00 02 41 04" + version, is no GBZ and is refused.
 */
static void gcs38_gbz(void **state)
{
	static const uint8_t success[] = { 0x01, 0x09, 0x01, 0x01, 0x07, 0x02, 0x00, 0x0C, 0x08, 0x00, 0x01, 0x06,
					   0x02, 0x00, 0x41, 0x04, 0x01, 0x23, 0xAB, 0xCD };
	static const uint8_t error[] = { 0x01, 0x09, 0x01, 0x01, 0x07, 0x02, 0x00, 0x06, 0x08, 0x00, 0x01, 0x06,
					 0x02, 0xC0 };
	/* With a manufacturer code in the ZCL header (frame control bit 2). */
	static const uint8_t manufacturer[] = { 0x01, 0x09, 0x01, 0x01, 0x07, 0x02, 0x00, 0x0E, 0x0C, 0x1D, 0x12, 0x00,
						0x01, 0x06, 0x02, 0x00, 0x41, 0x04, 0x01, 0x23, 0xAB, 0xCE };
	static const uint8_t bare[] = { 0x01, 0x09, 0x01, 0x00, 0x02, 0x41, 0x04, 0x01, 0x23, 0xAB, 0xCD };
	/* The GBZ command length disagreeing with the content; two components where GCS38 has one. */
	static const uint8_t bad_length[] = { 0x01, 0x09, 0x01, 0x01, 0x07, 0x02, 0x00, 0x0D, 0x08, 0x00, 0x01, 0x06,
					      0x02, 0x00, 0x41, 0x04, 0x01, 0x23, 0xAB, 0xCD };
	static const uint8_t two[] = { 0x01, 0x09, 0x02, 0x01, 0x07, 0x02, 0x00, 0x0C, 0x08, 0x00, 0x01, 0x06,
				       0x02, 0x00, 0x41, 0x04, 0x01, 0x23, 0xAB, 0xCD };
	static const uint8_t dev[8] = { DEV }, sup[8] = { SUP };
	const uint8_t *refused[] = { bare, bad_length, two };
	const size_t refused_len[] = { sizeof(bare), sizeof(bad_length), sizeof(two) };
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_frame f;
	uint8_t *apdu = NULL;
	size_t len, i;
	json_t *j = NULL;

	(void)state;
	j = framed(HFW_CRA_RESPONSE, 0x0084, success, sizeof(success));
	assert_string_equal(at(j, "use_case"), "GCS38 read firmware version response");
	assert_string_equal(at(j, "content.outcome"), "success");
	assert_string_equal(at(j, "content.firmware_version"), "0123ABCD");
	json_decref(j);
	j = framed(HFW_CRA_RESPONSE, 0x0084, manufacturer, sizeof(manufacturer));
	assert_string_equal(at(j, "content.firmware_version"), "0123ABCE");
	json_decref(j);
	j = framed(HFW_CRA_RESPONSE, 0x0084, error, sizeof(error));
	assert_string_equal(at(j, "content.outcome"), "error");
	assert_string_equal(at(j, "content.gbz_error"), "HARDWARE_FAILURE (0xC0)");
	json_decref(j);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.cra = HFW_CRA_RESPONSE;
		f.counter = 1000;
		memcpy(f.originator, dev, 8);
		memcpy(f.recipient, sup, 8);
		f.message_code = 0x0084;
		f.content = refused[i];
		f.content_len = refused_len[i];
		assert_int_equal(hfw_gbcs_encode(&apdu, &len, &f, NULL, &err), 0);
		j = NULL;
		assert_int_equal(hfw_decode_gbcs(&j, apdu, len, NULL, &err), HFW_EINPUT);
		assert_non_null(strstr(err.text, "GCS38 response content is not the GBZ shape GBCS gives it"));
		json_decref(j);
		free(apdu);
		apdu = NULL;
	}
}

static void unknown_use_case(void **state)
{
	/* CS14's CHF Device Log Changed alert (0x8F12), DLMS data-notification, as RTDS NA_CS14 begins. */
	static const uint8_t cs14[] = { 0x0F, 0x20, 0x00, 0x0F, 0xA0, 0x00, 0x02, 0x03, 0x12, 0x8F, 0x12, 0x09, 0x0C,
					0x07, 0xDF, 0x01, 0x01, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0xFF, 0x01, 0x00 };
	json_t *j;

	(void)state;
	j = framed(HFW_CRA_ALERT, 0x0018, cs14, sizeof(cs14));
	assert_string_equal(at(j, "message_code"), "0018");
	assert_string_equal(at(j, "cra"), "alert");
	assert_string_equal(at(j, "originator"), "00-DB-12-34-56-78-90-A0");
	assert_true(num(j, "originator_counter", NULL) == 1000);
	assert_string_equal(at(j, "signature"), "null");
	assert_string_equal(at(j, "use_case"), "not decoded by hanfw");
	assert_string_equal(at(j, "content.alert_code"), "8F12");
	json_decref(j);
}

/* What the receiver records of such answers: a failed read with the device's code; an alert by its codes. */
static void events_for_errors(void **state)
{
	static const uint8_t ecs52[] = { 0xDA, 0x20, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0x0B };
	static const uint8_t cs14[] = { 0x0F, 0x20, 0x00, 0x0F, 0xA0, 0x00, 0x02, 0x03, 0x12, 0x8F, 0x12 };
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_event_list ev = HFW_EVENT_LIST_INIT;
	json_t *d;

	(void)state;
	d = json_pack("{s:s,s:s,s:s,s:{s:s,s:o}}", "body", "ResponseMessage", "request_id",
		      "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000", "response_datetime", "2026-01-01T10:00:00Z",
		      "message", "ServiceReference", "11.2", "GBCSPayload", framed(HFW_CRA_RESPONSE, 0x0059, ecs52, sizeof(ecs52)));
	assert_int_equal(hfw_campaign_events(&ev, d, &err), 0);
	assert_int_equal(ev.n, 1);
	assert_string_equal(ev.v[0].device, "00-DB-12-34-56-78-90-A0");
	assert_string_equal(ev.v[0].event, "version_read_failed");
	assert_string_equal(ev.v[0].detail, "DLMS object-unavailable (11)");
	json_decref(d);
	d = json_pack("{s:s,s:{s:s,s:o}}", "body", "DeviceAlertMessage", "message", "AlertCode", "8F12", "GBCSPayload",
		      framed(HFW_CRA_ALERT, 0x0018, cs14, sizeof(cs14)));
	assert_int_equal(hfw_campaign_events(&ev, d, &err), 0);
	assert_int_equal(ev.n, 1);
	assert_string_equal(ev.v[0].event, "device_alert");
	assert_string_equal(ev.v[0].detail, "8F12 (GBCS message code 0018)");
	json_decref(d);
	hfw_event_list_release(&ev);
}

/* DCC alerts a campaign acts on: dcc_event names the device and why, or the held request. */
static json_t *alert(const char *inner)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char xml[2048];
	json_t *j = NULL;

	snprintf(xml, sizeof(xml), "<sr:Response xmlns:sr=\"http://www.dccinterface.co.uk/ServiceUserGateway\" schemaVersion=\"5.4\">"
		 "<sr:Header><sr:ResponseID>90-B3-D5-1F-30-00-00-02:90-B3-D5-1F-30-01-00-00:5</sr:ResponseID>"
		 "<sr:ResponseCode>I0</sr:ResponseCode><sr:ResponseDateTime>2026-01-01T10:00:00.000Z</sr:ResponseDateTime>"
		 "</sr:Header><sr:Body><sr:DCCAlertMessage><sr:DCCAlertCode>N999</sr:DCCAlertCode><sr:DCCAlert>%s"
		 "</sr:DCCAlert></sr:DCCAlertMessage></sr:Body></sr:Response>", inner);
	assert_int_equal(hfw_decode_response(&j, (const uint8_t *)xml, strlen(xml), NULL, &err), 0);
	return j;
}

static void campaign_dcc_alerts(void **state)
{
	static const struct { const char *inner, *event, *device, *reason; } cases[] = {
		{ "<sr:ChangeOfSupplier><sr:DeviceChangeOfSupplier><sr:DeviceID>00-DB-12-10-00-00-00-01</sr:DeviceID><sr:DeviceType>ESME"
		  "</sr:DeviceType><sr:MPxNs><sr:ImportMPxN>123</sr:ImportMPxN></sr:MPxNs></sr:DeviceChangeOfSupplier></sr:ChangeOfSupplier>",
		  "left_campaign", "00-DB-12-10-00-00-00-01", "change_of_supplier" },
		{ "<sr:DeviceStatusChangeEvent><sr:DeviceID>00-DB-12-10-00-00-00-02</sr:DeviceID><sr:DeviceStatusChange><sr:DeviceSuspended>"
		  "</sr:DeviceSuspended></sr:DeviceStatusChange></sr:DeviceStatusChangeEvent>", "left_campaign", "00-DB-12-10-00-00-00-02",
		  "suspended" },
		{ "<sr:DeviceStatusChangeEvent><sr:DeviceID>00-DB-12-10-00-00-00-02</sr:DeviceID><sr:DeviceStatusChange>"
		  "<sr:MeterDecommissioningOrWithdrawal><sr:MeterDecommissionOrWithdrawal><sr:ImportMPxN>1</sr:ImportMPxN>"
		  "</sr:MeterDecommissionOrWithdrawal></sr:MeterDecommissioningOrWithdrawal></sr:DeviceStatusChange></sr:DeviceStatusChangeEvent>",
		  "left_campaign", "00-DB-12-10-00-00-00-02", "decommissioned_or_withdrawn" },
		{ "<sr:DeviceStatusChangeEvent><sr:DeviceID>00-DB-12-10-00-00-00-02</sr:DeviceID><sr:DeviceStatusChange><sr:DeviceRestored>"
		  "</sr:DeviceRestored></sr:DeviceStatusChange></sr:DeviceStatusChangeEvent>", "restored", "00-DB-12-10-00-00-00-02", NULL },
		{ "<sr:PPMIDRemoval><sr:PPMIDDeviceID>00-DB-12-40-00-00-00-03</sr:PPMIDDeviceID><sr:CHFDeviceID>00-DB-12-00-00-00-00-01"
		  "</sr:CHFDeviceID></sr:PPMIDRemoval>", "left_campaign", "00-DB-12-40-00-00-00-03", "ppmid_removed" },
		{ "<sr:QuarantinedRequest><sr:ADAttributeLimitsBreach><sr:RequestID>90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:9"
		  "</sr:RequestID><sr:QuarantineEventRef>42</sr:QuarantineEventRef></sr:ADAttributeLimitsBreach></sr:QuarantinedRequest>",
		  "request_quarantined", NULL, NULL },
		{ "<sr:PPMIDAlert><sr:DeviceID>00-DB-12-40-00-00-00-03</sr:DeviceID><sr:DeviceAlertCode>8F8B</sr:DeviceAlertCode></sr:PPMIDAlert>",
		  NULL, NULL, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = alert(cases[i].inner), *e = json_object_get(j, "dcc_event");

		if (!cases[i].event) {
			assert_null(e);
		} else {
			assert_string_equal(json_string_value(json_object_get(e, "event")), cases[i].event);
			if (cases[i].device)
				assert_string_equal(json_string_value(json_object_get(e, "device")), cases[i].device);
			if (cases[i].reason)
				assert_string_equal(json_string_value(json_object_get(e, "reason")), cases[i].reason);
		}
		if (cases[i].event && !strcmp(cases[i].event, "request_quarantined")) {
			assert_string_equal(json_string_value(json_object_get(e, "breach")), "ADAttributeLimitsBreach");
			assert_string_equal(json_string_value(json_object_get(e, "request_id")),
					    "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:9");
			assert_string_equal(json_string_value(json_object_get(e, "quarantine_event_ref")), "42");
		}
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cs06_vectors),
		cmocka_unit_test(version_read_vectors),
		cmocka_unit_test(dcc_boxed_samples),
		cmocka_unit_test(error_answers),
		cmocka_unit_test(gcs38_gbz),
		cmocka_unit_test(unknown_use_case),
		cmocka_unit_test(events_for_errors),
		cmocka_unit_test(campaign_dcc_alerts),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
