/*
 * Unit tests: CS06 (Activate Firmware) against the RTDS vectors in
 * ../shared/gbcs/rtds: pre-commands pass the check only when they are what
 * was asked for, signing them reproduces the COMMAND, and the responses and
 * the 8F66 alert decode to the outcome, version and counter the vectors hold.
 */
#include "testutil.h"

#include "../../lib/cs06.h"
#include "../../lib/gbcs.h"

static const uint8_t rtds_hash[32] = {
	0xAA, 0x75, 0x86, 0x90, 0x73, 0x09, 0x34, 0xFF, 0x06, 0x85, 0xAA, 0x75, 0x86, 0x90, 0x73, 0x09,
	0x34, 0xFF, 0x06, 0x85, 0x65, 0x77, 0x88, 0x99, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
};

/* What the TPL request behind each RTDS pre-command asked for. */
static void expect_rtds(struct hfw_precommand_expect *e, uint64_t counter, const char *time)
{
	struct hfw_error err = HFW_ERROR_INIT;

	memset(e, 0, sizeof(*e));
	assert_int_equal(hfw_eui_parse(&e->originator, "90-B3-D5-1F-30-01-00-00", "supplier", &err), 0);
	assert_int_equal(hfw_eui_parse(&e->recipient, "00-DB-12-34-56-78-90-A0", "device", &err), 0);
	e->counter = counter;
	memcpy(e->hash, rtds_hash, 32);
	e->time = time;
}

/* Check, sign with the ZAZ1 supplier key, and compare with the signed DF inside the COMMAND. */
static void check_and_sign(const char *pre_name, const char *cmd_name, uint64_t counter, const char *time)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_precommand_expect e;
	struct hfw_gbcs_message m;
	hfw_key *key = NULL;
	hfw_cert *cert = NULL;
	size_t plen, clen, ilen, slen;
	uint8_t *pre = rtds_vector(pre_name, &plen), *cmd = rtds_vector(cmd_name, &clen), *signed_ = NULL;
	const uint8_t *inner;

	expect_rtds(&e, counter, time);
	assert_int_equal(hfw_cs06_check_precommand(pre, plen, &e, &err), 0);
	assert_int_equal(hfw_key_load(&key, shared_path("gbcs/keystore/90b3d51f30010000-ds.key"), NULL, &err), 0);
	assert_int_equal(hfw_cert_load(&cert, shared_path("dcc/zaz1/Z1-supplier-ds.pem"), &err), 0);
	assert_int_equal(hfw_gbcs_sign_precommand(&signed_, &slen, key, pre, plen, &err), 0);
	assert_int_equal(hfw_gbcs_unwrap(&inner, &ilen, cmd, clen, &err), 0);
	assert_int_equal(slen, ilen);
	assert_memory_equal(signed_, inner, plen + 1);	/* everything up to the signature, and its length */
	assert_int_equal(hfw_gbcs_parse(&m, signed_, slen, &err), 0);
	assert_int_equal(hfw_gbcs_verify(&m, signed_, cert, &err), 0);
	assert_int_equal(hfw_gbcs_parse(&m, inner, ilen, &err), 0);
	assert_int_equal(hfw_gbcs_verify(&m, inner, cert, &err), 0);
	hfw_key_free(key);
	hfw_cert_free(cert);
	free(signed_);
	free(pre);
	free(cmd);
}

static void precommands_check_and_sign(void **state)
{
	(void)state;
	check_and_sign("CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX", "CS06_11.3_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX",
		       1000, NULL);
	check_and_sign("CS06_11.3_FUTURE_DATED_SUCCESS_PRECOMMAND_GBCS.HEX",
		       "CS06_11.3_FUTURE_DATED_SUCCESS_COMMAND_GBCS.HEX", 1001, "20300115090000Z");
}

static void precommand_content(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_message m;
	struct hfw_cs06_command c;
	uint8_t again[HFW_CS06_MAX];
	size_t len, alen;
	uint8_t *pre = rtds_vector("CS06_11.3_FUTURE_DATED_SUCCESS_PRECOMMAND_GBCS.HEX", &len);

	(void)state;
	assert_int_equal(hfw_gbcs_parse(&m, pre, len, &err), 0);
	assert_int_equal(hfw_cs06_command_parse(&c, m.content, m.content_len, &err), 0);
	assert_memory_equal(c.hash, rtds_hash, 32);
	assert_true(c.counter == 1001);
	assert_string_equal(c.time, "20300115090000Z");
	hfw_cs06_command_encode(again, &alen, &c);
	assert_int_equal(alen, m.content_len);
	assert_memory_equal(again, m.content, alen);
	free(pre);
}

/* Each kind of tampering is caught, and named. */
static void tampered_precommands(void **state)
{
	static const struct { size_t off; uint8_t value; const char *names; } cases[] = {
		{ 0x02, 0x02, "not a command" },
		{ 0x0A, 0xE9, "originator counter is 1001" },
		{ 0x13, 0x01, "originator is" },
		{ 0x1C, 0xA1, "recipient is 00-DB-12-34-56-78-90-A1" },
		{ 0x20, 0x13, "message code is 0x0013" },
		{ 0x30, 0x00, "another image" },
		{ 0x49, 0xE9, "content counter is 1001" },
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_precommand_expect e;
	size_t len, i;
	uint8_t *pre = rtds_vector("CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX", &len), *copy;

	(void)state;
	expect_rtds(&e, 1000, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		copy = malloc(len);
		memcpy(copy, pre, len);
		copy[cases[i].off] = cases[i].value;
		assert_int_equal(hfw_cs06_check_precommand(copy, len, &e, &err), HFW_EVERIFY);
		if (!strstr(err.text, cases[i].names))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.text, cases[i].names);
		free(copy);
	}
	/* Asked for a future time, got an immediate one; and the other way round. */
	expect_rtds(&e, 1000, "20300115090000Z");
	assert_int_equal(hfw_cs06_check_precommand(pre, len, &e, &err), HFW_EVERIFY);
	assert_non_null(strstr(err.text, "execution time is 'immediate'"));
	/* A trailing null signature length is the DLMS-correct form: accepted. */
	copy = malloc(len + 1);
	memcpy(copy, pre, len);
	copy[len] = 0x00;
	expect_rtds(&e, 1000, NULL);
	assert_int_equal(hfw_cs06_check_precommand(copy, len + 1, &e, &err), 0);
	/* Anything else after it is not. */
	assert_int_equal(hfw_cs06_check_precommand(pre, len - 1, &e, &err), HFW_EVERIFY);
	free(copy);
	free(pre);
}

static void responses_and_alert(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_message m;
	struct hfw_cs06_outcome o;
	struct hfw_cs06_alert a;
	hfw_cert *esme = NULL;
	uint8_t again[HFW_CS06_MAX];
	size_t len, alen;
	uint8_t *imm = rtds_vector("CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX", &len);
	uint8_t *fd, *alert;

	(void)state;
	assert_int_equal(hfw_cert_load(&esme, shared_path("gbcs/keystore/00db1234567890a0-ds.pem"), &err), 0);
	assert_int_equal(hfw_gbcs_parse(&m, imm, len, &err), 0);
	assert_int_equal(m.cra, HFW_CRA_RESPONSE);
	assert_true(m.counter == 1000);
	assert_int_equal(m.message_code, HFW_CS06_MESSAGE_CODE);
	assert_int_equal(hfw_gbcs_verify(&m, imm, esme, &err), 0);
	assert_int_equal(hfw_cs06_response_parse(&o, m.content, m.content_len, &err), 0);
	assert_false(o.accepted);
	assert_int_equal(o.code, HFW_CS06_SUCCESS);
	assert_memory_equal(o.version, "\x01\x23\xAB\xCE", 4);
	hfw_cs06_response_encode(again, &alen, &o);
	assert_int_equal(alen, m.content_len);
	assert_memory_equal(again, m.content, alen);

	fd = rtds_vector("CS06_11.3_FUTURE_DATED_SUCCESS_RESPONSE_GBCS.HEX", &len);
	assert_int_equal(hfw_gbcs_parse(&m, fd, len, &err), 0);
	assert_true(m.counter == 1001);
	assert_int_equal(hfw_gbcs_verify(&m, fd, esme, &err), 0);
	assert_int_equal(hfw_cs06_response_parse(&o, m.content, m.content_len, &err), 0);
	assert_true(o.accepted);

	alert = rtds_vector("CS06_11.3_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX", &len);
	assert_int_equal(hfw_gbcs_parse(&m, alert, len, &err), 0);
	assert_int_equal(m.cra, HFW_CRA_ALERT);
	assert_true(m.counter == 2000);
	assert_int_equal(m.message_code, HFW_CS06_ALERT_CODE_MSG);
	assert_int_equal(hfw_gbcs_verify(&m, alert, esme, &err), 0);
	assert_int_equal(hfw_cs06_alert_parse(&a, m.content, m.content_len, &err), 0);
	assert_int_equal(a.alert_code, HFW_CS06_ALERT_SUCCESS);
	assert_string_equal(a.time, "20300115090000Z");
	assert_true(a.counter == 1001);
	assert_int_equal(a.outcome.code, HFW_CS06_SUCCESS);
	assert_memory_equal(a.outcome.version, "\x01\x23\xAB\xCF", 4);
	hfw_cs06_alert_encode(again, &alen, &a);
	assert_int_equal(alen, m.content_len);
	assert_memory_equal(again, m.content, alen);

	/* Truncated anywhere, it does not decode. */
	for (alen = 0; alen < m.content_len; alen++)
		assert_int_equal(hfw_cs06_alert_parse(&a, m.content, alen, &err), HFW_EINPUT);
	assert_int_equal(hfw_cs06_response_parse(&o, (const uint8_t *)"\x30\x09\x02\x01\x04\x04\x04\x01\x02\x03\x04", 11, &err),
			 HFW_EINPUT);
	assert_non_null(strstr(err.text, "response code 4"));
	hfw_cert_free(esme);
	free(imm);
	free(fd);
	free(alert);
}

static void counters_as_der(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_cs06_command c, back;
	uint8_t out[HFW_CS06_MAX];
	size_t len;
	const uint64_t values[] = { 0, 127, 128, 1000, 1766940660265ull, 0x7FFFFFFFFFFFFFFFull, UINT64_MAX };
	size_t i;

	(void)state;
	memset(&c, 0, sizeof(c));
	memcpy(c.hash, rtds_hash, 32);
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		c.counter = values[i];
		hfw_cs06_command_encode(out, &len, &c);
		assert_int_equal(hfw_cs06_command_parse(&back, out, len, &err), 0);
		assert_true(back.counter == values[i]);
	}
	/* 128 needs a leading zero octet; UINT64_MAX nine octets. */
	c.counter = 128;
	hfw_cs06_command_encode(out, &len, &c);
	assert_memory_equal(out + 36, "\x02\x02\x00\x80", 4);
	/* Non-minimal and negative integers are refused. */
	assert_int_equal(hfw_cs06_command_parse(&back, (const uint8_t *)"\x30\x25\x04\x20" "0123456789abcdef0123456789abcdef"
						"\x02\x01\x80", 39, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "non-negative"));
	assert_int_equal(hfw_cs06_command_parse(&back, (const uint8_t *)"\x30\x26\x04\x20" "0123456789abcdef0123456789abcdef"
						"\x02\x02\x00\x01", 40, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "minimally"));
}

static void execution_times(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char g[HFW_GENTIME_LEN + 1];
	int64_t t;

	(void)state;
	assert_int_equal(hfw_cs06_time_from_duis(g, &t, "2030-01-15T09:00:00.00Z", &err), 0);
	assert_string_equal(g, "20300115090000Z");
	assert_true(t == 1894698000);
	assert_int_equal(hfw_cs06_time_from_duis(g, NULL, "2030-01-15T10:30:00+01:30", &err), 0);
	assert_string_equal(g, "20300115090000Z");
	assert_int_equal(hfw_cs06_time_from_duis(g, NULL, "2029-12-31T23:00:00-10:00", &err), 0);
	assert_string_equal(g, "20300101090000Z");
	assert_int_equal(hfw_cs06_time_from_duis(g, NULL, "2028-02-29T00:00:00Z", &err), 0);
	assert_string_equal(g, "20280229000000Z");
	/* The cancel sentinel, however it is written. */
	assert_int_equal(hfw_cs06_time_from_duis(g, NULL, "3000-12-31T00:00:00.00Z", &err), 0);
	assert_string_equal(g, HFW_CS06_CANCEL_GBCS);
	assert_int_equal(hfw_cs06_time_from_duis(g, NULL, "3000-12-31T01:00:00+01:00", &err), 0);
	assert_string_equal(g, HFW_CS06_CANCEL_GBCS);
	assert_int_equal(hfw_cs06_time_from_duis(g, NULL, "2030-01-15T09:00:00.5Z", &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "whole seconds"));
	assert_int_equal(hfw_cs06_time_from_duis(g, NULL, "2030-01-15T09:00:00", &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "time zone"));
	assert_int_equal(hfw_cs06_time_from_duis(g, NULL, "2029-02-29T00:00:00Z", &err), HFW_EINPUT);
	assert_int_equal(hfw_cs06_time_from_duis(g, NULL, "2030-01-15 09:00:00Z", &err), HFW_EINPUT);
	assert_int_equal(hfw_cs06_time_from_duis(g, NULL, "2030-01-15T24:00:00Z", &err), HFW_EINPUT);
	assert_int_equal(hfw_gentime_to_unix(&t, "20300115090000Z", &err), 0);
	assert_true(t == 1894698000);
	assert_int_equal(hfw_gentime_to_unix(&t, "20301315090000Z", &err), HFW_EINPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(precommands_check_and_sign),
		cmocka_unit_test(precommand_content),
		cmocka_unit_test(tampered_precommands),
		cmocka_unit_test(responses_and_alert),
		cmocka_unit_test(counters_as_der),
		cmocka_unit_test(execution_times),
	};

	return cmocka_run_group_tests_name("cs06", tests, NULL, NULL);
}
