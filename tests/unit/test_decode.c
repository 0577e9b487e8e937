/*
 * Unit tests: every RTDS vector in ../shared/gbcs/rtds and both DCC Boxed
 * samples in ../shared/dcc/samples decode to the values firmware-protocol.md
 * §6 states, device signatures included where the keystore has the device.
 */
#include "testutil.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cs06_vectors),
		cmocka_unit_test(version_read_vectors),
		cmocka_unit_test(dcc_boxed_samples),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
