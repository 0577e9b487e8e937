/*
 * Unit tests: key and certificate loading in every form SMKI material
 * arrives in, refusal of everything that is not P-256, passphrases, and
 * raw r||s ECDSA against the ZAZ1 and RTDS test keys in ../shared.
 */
#include "testutil.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../../lib/crypto.h"

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = make_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

static const char *tmp(const char *name)
{
	return path_in(dir, name);
}

enum form { PKCS8_PEM, PKCS8_DER, SEC1_PEM, SEC1_DER, PKCS8_PEM_ENCRYPTED };

static void write_key(EVP_PKEY *k, enum form f, const char *path)
{
	BIO *b = BIO_new_file(path, "wb");
	int ok = 0;

	assert_non_null(b);
	switch (f) {
	case PKCS8_PEM: ok = PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL); break;
	case PKCS8_DER: ok = i2d_PKCS8PrivateKey_bio(b, k, NULL, NULL, 0, NULL, NULL); break;
	case SEC1_PEM: ok = PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL); break;
	case SEC1_DER: ok = i2d_PrivateKey_bio(b, k); break;
	case PKCS8_PEM_ENCRYPTED:
		ok = PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), "s3cret", 6, NULL, NULL);
		break;
	}
	assert_true(ok);
	BIO_free(b);
}

static void load_ok(const char *path)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_key_options o = { "HFW_TEST_PASS", 0 };
	hfw_key *k = NULL;

	if (hfw_key_load(&k, path, &o, &err) != 0)
		fail_msg("%s: %s", path, err.text);
	hfw_key_free(k);
}

static void load_fails(const char *path, const char *text)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_key_options o = { "HFW_TEST_PASS", 0 };
	hfw_key *k = NULL;

	assert_int_equal(hfw_key_load(&k, path, &o, &err), HFW_EKEY);
	assert_null(k);
	if (!strstr(err.text, text))
		fail_msg("expected \"%s\" in \"%s\"", text, err.text);
}

static void every_key_form_loads(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	(void)state;
	write_key(k, PKCS8_PEM, tmp("p8.pem"));
	write_key(k, PKCS8_DER, tmp("p8.der"));
	write_key(k, SEC1_PEM, tmp("sec1.pem"));
	write_key(k, SEC1_DER, tmp("sec1.der"));
	load_ok(tmp("p8.pem"));
	load_ok(tmp("p8.der"));
	load_ok(tmp("sec1.pem"));
	load_ok(tmp("sec1.der"));
	/* The public test keys: ZAZ1 DER PKCS#8, RTDS PEM. */
	load_ok(shared_path("dcc/zaz1/Z1-supplier-ds.key"));
	load_ok(shared_path("dcc/zaz1/xml-sign-90B3D51F30010000-ds.key"));
	load_ok(shared_path("gbcs/keystore/90b3d51f30010000-ds.key"));
	EVP_PKEY_free(k);
}

static void encrypted_key(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	(void)state;
	write_key(k, PKCS8_PEM_ENCRYPTED, tmp("enc.pem"));
	unsetenv("HFW_TEST_PASS");
	load_fails(tmp("enc.pem"), "is encrypted: set HFW_TEST_PASS");
	setenv("HFW_TEST_PASS", "wrong", 1);
	load_fails(tmp("enc.pem"), "wrong passphrase");
	setenv("HFW_TEST_PASS", "s3cret", 1);
	load_ok(tmp("enc.pem"));
	unsetenv("HFW_TEST_PASS");
	EVP_PKEY_free(k);
}

static void wrong_keys_refused(void **state)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *p384 = EVP_EC_gen("P-384");

	(void)state;
	write_key(rsa, PKCS8_PEM, tmp("rsa.pem"));
	write_key(p384, SEC1_DER, tmp("p384.der"));
	load_fails(tmp("rsa.pem"), "is RSA-2048; GBCS and DUIS need ECDSA P-256");
	load_fails(tmp("p384.der"), "is EC secp384r1");
	write_file(tmp("junk"), "not a key at all", 16);
	load_fails(tmp("junk"), "holds no private key");
	load_fails(shared_path("dcc/zaz1/Z1-supplier-ds.pem"), "holds no private key");
	load_fails(tmp("missing.key"), "cannot open key");
	write_file(tmp("empty"), "", 0);
	load_fails(tmp("empty"), "holds no private key");
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
}

static void cert_info_of_zaz1(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_cert_info ci;
	hfw_cert *c = NULL;

	(void)state;
	assert_int_equal(hfw_cert_load(&c, shared_path("dcc/zaz1/Z1-supplier-ds.pem"), &err), 0);
	hfw_cert_info(c, &ci);
	assert_string_equal(ci.eui, "90-B3-D5-1F-30-01-00-00");
	assert_string_equal(ci.role, "02");
	assert_string_equal(ci.issuer, "CN=Z1,OU=07");
	/* 0x4FBC525201A1D7586C1BC1C4734DEB9F in decimal: compared as a big integer, not a long. */
	assert_string_equal(ci.serial, "105986833131214866166891566273223584671");
	hfw_cert_free(c);
	assert_int_equal(hfw_cert_load(&c, shared_path("dcc/zaz1/dsp-xml-sign-90B3D51F30000002-ds.pem"), &err), 0);
	hfw_cert_info(c, &ci);
	assert_string_equal(ci.eui, "90-B3-D5-1F-30-00-00-02");
	assert_string_equal(ci.role, "89");
	hfw_cert_free(c);
	/* Not a certificate. */
	assert_int_equal(hfw_cert_load(&c, shared_path("dcc/zaz1/Z1-supplier-ds.key"), &err), HFW_EKEY);
	assert_null(c);
}

static void sign_and_verify(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_key *k = NULL;
	hfw_cert *c = NULL, *other = NULL;
	uint8_t digest[32], sig[64];

	(void)state;
	hfw_sha256(digest, "manufacturer image", 18);
	assert_int_equal(hfw_key_load(&k, shared_path("dcc/zaz1/Z1-supplier-ds.key"), NULL, &err), 0);
	assert_int_equal(hfw_cert_load(&c, shared_path("gbcs/keystore/90b3d51f30010000-ds.pem"), &err), 0);
	assert_int_equal(hfw_cert_load(&other, shared_path("dcc/zaz1/Z1-supplier2-ds.pem"), &err), 0);
	assert_int_equal(hfw_cert_check_key(c, k, &err), 0);
	assert_int_equal(hfw_cert_check_key(other, k, &err), HFW_EKEY);
	assert_non_null(strstr(err.text, "does not belong to certificate"));
	assert_int_equal(hfw_ecdsa_sign_digest(k, digest, sig, &err), 0);
	assert_int_equal(hfw_ecdsa_verify_digest(c, digest, sig, &err), 0);
	assert_int_equal(hfw_ecdsa_verify_digest(other, digest, sig, &err), HFW_EVERIFY);
	sig[63] ^= 1;
	assert_int_equal(hfw_ecdsa_verify_digest(c, digest, sig, &err), HFW_EVERIFY);
	sig[63] ^= 1;
	digest[0] ^= 1;
	assert_int_equal(hfw_ecdsa_verify_digest(c, digest, sig, &err), HFW_EVERIFY);
	/* r = 0 and s = n are not signatures. */
	memset(sig, 0, 64);
	assert_int_equal(hfw_ecdsa_verify_digest(c, digest, sig, &err), HFW_EVERIFY);
	hfw_key_free(k);
	hfw_cert_free(c);
	hfw_cert_free(other);
}

/* A self-signed certificate for k, its point compressed or not, as PEM or DER. */
static void write_cert(EVP_PKEY *k, int compressed, int pem, const char *path)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	BIO *b = BIO_new_file(path, "wb");

	assert_non_null(x);
	assert_non_null(b);
	if (compressed)
		assert_true(EVP_PKEY_set_utf8_string_param(k, "point-format", "compressed"));
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"T", -1, -1, 0));
	assert_true(X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 7) &&
		    X509_set_subject_name(x, n) && X509_set_issuer_name(x, n) &&
		    X509_gmtime_adj(X509_getm_notBefore(x), 0) && X509_gmtime_adj(X509_getm_notAfter(x), 3600) &&
		    X509_set_pubkey(x, k) && X509_sign(x, k, EVP_sha256()));
	assert_true(pem ? PEM_write_bio_X509(b, x) : i2d_X509_bio(b, x));
	BIO_free(b);
	X509_NAME_free(n);
	X509_free(x);
}

/*
 * Certificates are parsed without OpenSSL's decoders and their P-256 key read
 * by hanfw (lib/crypto.c cert_p256_public); every other shape takes the usual
 * path.  Either way: the same key, the same checks, the same refusals.
 */
static void certificate_keys_in_every_shape(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	EVP_PKEY *p256 = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256"), *p384 = EVP_EC_gen("P-384");
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	hfw_key *k = NULL;
	hfw_cert *c = NULL;
	uint8_t digest[32], sig[64];
	static const char *const good[] = { "u.pem", "u.der", "c.pem", "c.der" };
	size_t i;

	(void)state;
	write_key(p256, PKCS8_PEM, tmp("k.pem"));
	assert_int_equal(hfw_key_load(&k, tmp("k.pem"), NULL, &err), 0);
	write_cert(p256, 0, 1, tmp("u.pem"));
	write_cert(p256, 0, 0, tmp("u.der"));
	write_cert(p256, 1, 1, tmp("c.pem"));	/* compressed: the usual path */
	write_cert(p256, 1, 0, tmp("c.der"));
	hfw_sha256(digest, "x", 1);
	assert_int_equal(hfw_ecdsa_sign_digest(k, digest, sig, &err), 0);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (hfw_cert_load(&c, tmp(good[i]), &err) != 0)
			fail_msg("%s: %s", good[i], err.text);
		assert_int_equal(hfw_cert_check_key(c, k, &err), 0);
		assert_int_equal(hfw_ecdsa_verify_digest(c, digest, sig, &err), 0);
		sig[0] ^= 1;
		assert_int_equal(hfw_ecdsa_verify_digest(c, digest, sig, &err), HFW_EVERIFY);
		sig[0] ^= 1;
		hfw_cert_free(c);
		c = NULL;
	}
	/* Another P-256 key's certificate: loads, but is not this key's and does not verify its signature. */
	write_cert(other, 0, 1, tmp("o.pem"));
	assert_int_equal(hfw_cert_load(&c, tmp("o.pem"), &err), 0);
	assert_int_equal(hfw_cert_check_key(c, k, &err), HFW_EKEY);
	assert_non_null(strstr(err.text, "does not belong to certificate"));
	assert_int_equal(hfw_ecdsa_verify_digest(c, digest, sig, &err), HFW_EVERIFY);
	hfw_cert_free(c);
	c = NULL;
	/* A point off the curve: refused as OpenSSL always refused it (its decoder fails the parse). */
	{
		uint8_t *der = NULL;
		size_t len = 0, at;

		assert_int_equal(hfw_file_read(&der, &len, tmp("u.der"), 4096, "cert", &err), 0);
		for (at = 0; at + 69 <= len && memcmp(der + at, "\x03\x42\x00\x04", 4) != 0; at++)
			;
		assert_true(at + 69 <= len);
		der[at + 4 + 64] ^= 1;	/* the last byte of y */
		write_file(tmp("off.der"), der, len);
		free(der);
		assert_int_equal(hfw_cert_load(&c, tmp("off.der"), &err), HFW_EKEY);
		if (!strstr(err.text, "is not a certificate (expected PEM or DER X.509)"))
			fail_msg("%s", err.text);
		assert_null(c);
	}
	/* Not P-256: refused, naming what it is. */
	write_cert(p384, 0, 1, tmp("p384.pem"));
	assert_int_equal(hfw_cert_load(&c, tmp("p384.pem"), &err), HFW_EKEY);
	assert_non_null(strstr(err.text, "holds a EC secp384r1 key; expected ECDSA P-256"));
	write_cert(rsa, 0, 0, tmp("rsa.der"));
	assert_int_equal(hfw_cert_load(&c, tmp("rsa.der"), &err), HFW_EKEY);
	assert_non_null(strstr(err.text, "holds a RSA-2048 key; expected ECDSA P-256"));
	assert_null(c);
	hfw_key_free(k);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(other);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa);
}

static void sha256_parts(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_span parts[3] = { { (const uint8_t *)"ab", 2 }, { (const uint8_t *)"", 0 },
				     { (const uint8_t *)"c", 1 } };
	uint8_t a[32], b[32];

	(void)state;
	hfw_sha256(a, "abc", 3);
	assert_int_equal(hfw_sha256_parts(b, parts, 3, &err), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(a[0], 0xba);	/* FIPS 180-2 "abc": ba7816bf... */
	assert_int_equal(a[31], 0xad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_key_form_loads),
		cmocka_unit_test(encrypted_key),
		cmocka_unit_test(wrong_keys_refused),
		cmocka_unit_test(cert_info_of_zaz1),
		cmocka_unit_test(sign_and_verify),
		cmocka_unit_test(certificate_keys_in_every_shape),
		cmocka_unit_test(sha256_parts),
	};

	return cmocka_run_group_tests_name("crypto", tests, setup, teardown);
}
