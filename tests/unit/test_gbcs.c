/* Unit tests: GBCS framing and pre-command signing, against the RTDS vectors in ../shared/gbcs. */
#include "testutil.h"

#include "../../lib/gbcs.h"

static hfw_cert *cert(const char *name)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char rel[256];
	hfw_cert *c = NULL;

	snprintf(rel, sizeof(rel), "gbcs/keystore/%s", name);
	if (hfw_cert_load(&c, shared_path(rel), &err) < 0)
		fail_msg("%s", err.text);
	return c;
}

static void precommand_fields(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_message m;
	size_t len;
	uint8_t *pre = rtds_vector("CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX", &len);

	(void)state;
	assert_int_equal(len, 74);
	assert_int_equal(hfw_gbcs_parse(&m, pre, len, &err), 0);
	assert_int_equal(m.cra, HFW_CRA_COMMAND);
	assert_true(m.counter == 1000);
	assert_memory_equal(m.originator, "\x90\xB3\xD5\x1F\x30\x01\x00\x00", 8);
	assert_memory_equal(m.recipient, "\x00\xDB\x12\x34\x56\x78\x90\xA0", 8);
	assert_false(m.has_datetime);
	assert_int_equal(m.message_code, 0x0012);
	assert_int_equal(m.content_len, 40);
	assert_int_equal(m.content - pre, 0x22);
	assert_int_equal(m.sig, HFW_GBCS_SIG_ABSENT);
	free(pre);
}

/* Signing the RTDS pre-command reproduces the signed command up to its signature, which verifies. */
static void sign_like(const char *precommand, const char *command, int with_null)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_message m;
	hfw_key *key = NULL;
	hfw_cert *c = cert("90b3d51f30010000-ds.pem");
	uint8_t *pre, *cmd, *sig, *padded;
	const uint8_t *inner;
	size_t plen, clen, slen, ilen;

	pre = rtds_vector(precommand, &plen);
	cmd = rtds_vector(command, &clen);
	assert_int_equal(hfw_key_load(&key, shared_path("gbcs/keystore/90b3d51f30010000-ds.key"), NULL, &err), 0);
	padded = malloc(plen + 1);
	memcpy(padded, pre, plen);
	padded[plen] = 0x00;	/* the DLMS-correct form ends with a null signature length */
	assert_int_equal(hfw_gbcs_sign_precommand(&sig, &slen, key, padded, plen + (with_null ? 1 : 0), &err), 0);
	assert_int_equal(hfw_gbcs_unwrap(&inner, &ilen, cmd, clen, &err), 0);
	assert_int_equal(slen, ilen);
	assert_memory_equal(sig, inner, plen + 1);	/* everything up to and including 40 */
	assert_int_equal(hfw_gbcs_parse(&m, sig, slen, &err), 0);
	assert_int_equal(m.sig, HFW_GBCS_SIG_PRESENT);
	assert_int_equal(hfw_gbcs_verify(&m, sig, c, &err), 0);
	/* The DCC's own signature in the vector verifies the same way. */
	assert_int_equal(hfw_gbcs_parse(&m, inner, ilen, &err), 0);
	assert_int_equal(hfw_gbcs_verify(&m, inner, c, &err), 0);
	free(pre);
	free(cmd);
	free(sig);
	free(padded);
	hfw_key_free(key);
	hfw_cert_free(c);
}

static void sign_precommands(void **state)
{
	(void)state;
	sign_like("CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX", "CS06_11.3_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX", 0);
	sign_like("CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX", "CS06_11.3_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX", 1);
	sign_like("CS06_11.3_FUTURE_DATED_SUCCESS_PRECOMMAND_GBCS.HEX",
		  "CS06_11.3_FUTURE_DATED_SUCCESS_COMMAND_GBCS.HEX", 0);
}

static void device_signatures(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_message m;
	hfw_cert *esme = cert("00db1234567890a0-ds.pem"), *other = cert("00db1234567890a1-ds.pem");
	size_t len;
	uint8_t *resp = rtds_vector("CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX", &len);

	(void)state;
	assert_int_equal(hfw_gbcs_parse(&m, resp, len, &err), 0);
	assert_int_equal(m.cra, HFW_CRA_RESPONSE);
	assert_true(m.counter == 1000);
	assert_true(m.has_datetime);
	assert_int_equal(m.message_code, 0x0012);
	assert_int_equal(hfw_gbcs_verify(&m, resp, esme, &err), 0);
	assert_int_equal(hfw_gbcs_verify(&m, resp, other, &err), HFW_EVERIFY);
	resp[40] ^= 1;
	assert_int_equal(hfw_gbcs_verify(&m, resp, esme, &err), HFW_EVERIFY);
	free(resp);
	hfw_cert_free(esme);
	hfw_cert_free(other);
}

/* Framing the RTDS response's own fields again gives its bytes; a signed frame verifies. */
static void encode_frames(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_message m, e;
	struct hfw_gbcs_frame f;
	hfw_key *key = NULL;
	hfw_cert *supplier = cert("90b3d51f30010000-ds.pem");
	uint8_t *out = NULL, when[12], *resp;
	size_t len, olen;

	(void)state;
	memset(&f, 0, sizeof(f));
	resp = rtds_vector("CS06_11.3_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX", &len);
	assert_int_equal(hfw_gbcs_parse(&m, resp, len, &err), 0);
	f.cra = m.cra;
	f.counter = m.counter;
	memcpy(f.originator, m.originator, 8);
	memcpy(f.recipient, m.recipient, 8);
	f.datetime = m.datetime;
	f.message_code = m.message_code;
	f.content = m.content;
	f.content_len = m.content_len;
	assert_int_equal(hfw_gbcs_encode(&out, &olen, &f, NULL, &err), 0);
	assert_int_equal(olen, m.signed_end + 1);
	assert_memory_equal(out, resp, m.signed_end);
	assert_int_equal(out[olen - 1], 0x00);
	free(out);
	/* RTDS's device date-time for 2015-01-01 00:00:00. */
	hfw_gbcs_dlms_datetime(when, 1420070400000ll);
	assert_memory_equal(when, "\x07\xDF\x01\x01\xFF\x00\x00\x00\x00\x80\x00\xFF", 12);
	/* A long content takes a two-octet BER length, and a signature that verifies. */
	{
		static uint8_t big[300];

		f.content = big;
		f.content_len = sizeof(big);
		f.datetime = NULL;
		if (hfw_key_load(&key, shared_path("gbcs/keystore/90b3d51f30010000-ds.key"), NULL, &err) < 0)
			fail_msg("%s", err.text);
		assert_int_equal(hfw_gbcs_encode(&out, &olen, &f, key, &err), 0);
		assert_int_equal(hfw_gbcs_parse(&e, out, olen, &err), 0);
		assert_int_equal(e.content_len, 300);
		assert_int_equal(e.sig, HFW_GBCS_SIG_PRESENT);
		assert_int_equal(hfw_gbcs_verify(&e, out, supplier, &err), 0);
		free(out);
		f.content_len = 70000;
		assert_int_equal(hfw_gbcs_encode(&out, &olen, &f, key, &err), HFW_ELIMIT);
	}
	hfw_key_free(key);
	hfw_cert_free(supplier);
	free(resp);
}

static void truncation_and_junk(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_message m;
	hfw_key *key = NULL;
	size_t len, i;
	uint8_t *pre = rtds_vector("CS06_11.3_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX", &len), *sig = NULL;
	size_t slen;

	(void)state;
	for (i = 0; i < len; i++)
		assert_int_equal(hfw_gbcs_parse(&m, pre, i, &err), HFW_EINPUT);
	pre[0] = 0xDD;
	assert_int_equal(hfw_gbcs_parse(&m, pre, len, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "tag 0xDD"));
	pre[0] = 0xDF;
	pre[2] = 0x02;	/* a response is not a pre-command */
	assert_int_equal(hfw_key_load(&key, shared_path("gbcs/keystore/90b3d51f30010000-ds.key"), NULL, &err), 0);
	assert_int_equal(hfw_gbcs_sign_precommand(&sig, &slen, key, pre, len, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "not a command"));
	pre[2] = 0x01;
	pre[0x21] = 0x81;	/* content length claims more than there is */
	assert_int_equal(hfw_gbcs_parse(&m, pre, len, &err), HFW_EINPUT);
	assert_int_equal(hfw_gbcs_from_hex(&sig, &slen, "DF0", 3, &err), HFW_EINPUT);
	assert_int_equal(hfw_gbcs_from_hex(&sig, &slen, "DFXY", 4, &err), HFW_EINPUT);
	hfw_key_free(key);
	free(pre);
}

/* A MAC-only response with a supplementary remote party (CS08), framed and wrapped again: the RTDS bytes but the MAC. */
static void encode_wrapped(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_message m;
	struct hfw_gbcs_frame f;
	const uint8_t *inner;
	uint8_t *apdu = NULL, *wrapped = NULL, *resp;
	size_t len, ilen, alen, wlen;

	(void)state;
	resp = rtds_vector("CS08_11.2_SUCCESS_RESPONSE_GBCS.HEX", &len);
	assert_int_equal(hfw_gbcs_unwrap(&inner, &ilen, resp, len, &err), 0);
	assert_int_equal(hfw_gbcs_parse(&m, inner, ilen, &err), 0);
	assert_int_equal(m.other_len, 18);
	memset(&f, 0, sizeof(f));
	f.cra = m.cra;
	f.counter = m.counter;
	memcpy(f.originator, m.originator, 8);
	memcpy(f.recipient, m.recipient, 8);
	f.message_code = m.message_code;
	f.other_extra = m.other + 2;
	f.other_extra_len = 16;
	f.content = m.content;
	f.content_len = m.content_len;
	assert_int_equal(hfw_gbcs_encode(&apdu, &alen, &f, NULL, &err), 0);
	assert_int_equal(alen, ilen);
	assert_memory_equal(apdu, inner, ilen);
	assert_int_equal(hfw_gbcs_wrap(&wrapped, &wlen, apdu, alen, &err), 0);
	assert_int_equal(wlen, len);
	assert_memory_equal(wrapped, resp, len - 12);
	free(apdu);
	free(wrapped);
	free(resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(precommand_fields),
		cmocka_unit_test(sign_precommands),
		cmocka_unit_test(device_signatures),
		cmocka_unit_test(encode_frames),
		cmocka_unit_test(encode_wrapped),
		cmocka_unit_test(truncation_and_junk),
	};

	return cmocka_run_group_tests_name("gbcs", tests, NULL, NULL);
}
