/* crypto.c - keys, certificates, SHA-256, raw ECDSA P-256 (see crypto.h). */
#define _GNU_SOURCE	/* memmem */
#include "crypto.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "eui.h"
#include "fileio.h"

#define KEY_FILE_MAX (64 * 1024)
#define CERT_FILE_MAX (64 * 1024)

struct hfw_key {
	EVP_PKEY *pkey;
	char *path;
};

struct hfw_cert {
	X509 *x509;
	EVP_PKEY *pub;	/* its public key (owned): see cert_p256_public */
	char *what;
};

/* State shared with the OpenSSL passphrase callback. */
struct pass_state {
	const struct hfw_key_options *opts;
	const char *path;
	int asked;		/* OpenSSL wanted a passphrase */
	int supplied;		/* and we had one to give */
};

static int read_tty_passphrase(char *buf, size_t size, const char *path)
{
	struct termios old, quiet;
	int fd, ok = 0;
	size_t n = 0;
	char c;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return 0;
	if (tcgetattr(fd, &old) != 0)
		goto out;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	dprintf(fd, "Passphrase for '%s': ", path);
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		goto out;
	while (read(fd, &c, 1) == 1 && c != '\n' && c != '\r')
		if (n + 1 < size)
			buf[n++] = c;
	buf[n] = '\0';
	ok = 1;
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	dprintf(fd, "\n");
out:
	c = 0;
	close(fd);
	return ok ? (int)n : 0;
}

static int passphrase_cb(char *pass, size_t pass_size, size_t *pass_len,
			 const OSSL_PARAM params[], void *arg)
{
	struct pass_state *ps = arg;
	const char *env = NULL;
	size_t n;

	(void)params;
	ps->asked = 1;
	if (ps->opts->passphrase_env)
		env = getenv(ps->opts->passphrase_env);
	if (env) {
		n = strlen(env);
		if (n >= pass_size)
			return 0;
		memcpy(pass, env, n);
		*pass_len = n;
		ps->supplied = 1;
		return 1;
	}
	if (ps->opts->allow_prompt && isatty(STDIN_FILENO)) {
		int r = read_tty_passphrase(pass, pass_size, ps->path);

		if (r > 0) {
			*pass_len = (size_t)r;
			ps->supplied = 1;
			return 1;
		}
	}
	return 0;
}

/* Name the key's algorithm and curve for messages; returns 1 if P-256. */
static int describe_pkey(const EVP_PKEY *pkey, char *buf, size_t size)
{
	char group[64] = "";
	size_t glen = 0;

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
						    group, sizeof(group), &glen))
			snprintf(group, sizeof(group), "unknown curve");
		snprintf(buf, size, "EC %s", group);
		return strcmp(group, "prime256v1") == 0;
	}
	snprintf(buf, size, "%s-%d", EVP_PKEY_get0_type_name(pkey)
		 ? EVP_PKEY_get0_type_name(pkey) : "unknown", EVP_PKEY_get_bits(pkey));
	return 0;
}

/* One decoding attempt; 0 with *pkey set, or -1. */
static int decode_key(EVP_PKEY **pkey, const uint8_t *data, size_t len, const char *input_type,
		      const char *keytype, struct pass_state *ps)
{
	OSSL_DECODER_CTX *dctx;
	const uint8_t *p = data;
	size_t left = len;
	int ok;

	*pkey = NULL;
	dctx = OSSL_DECODER_CTX_new_for_pkey(pkey, input_type, NULL, keytype, EVP_PKEY_KEYPAIR, NULL, NULL);
	ok = dctx && OSSL_DECODER_CTX_set_passphrase_cb(dctx, passphrase_cb, ps) &&
	     OSSL_DECODER_from_data(dctx, &p, &left) && *pkey;
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	if (!ok) {
		EVP_PKEY_free(*pkey);
		*pkey = NULL;
		return -1;
	}
	return 0;
}

/*
 * The fast path for the keys hanfw is usually given: an unencrypted P-256
 * key, PEM or DER, PKCS#8 or SEC1 (RFC 5915).  OpenSSL 3.0's generic
 * decoders assemble a chain of decoders for every form first, which cost a
 * quarter of a whole "hanfw sign"; these few shapes are read here with a
 * strict DER reader and imported with EVP_PKEY_fromdata.  Anything else
 * (encrypted, other curves or algorithms, unusual encodings) takes the
 * generic path, which also words every refusal: the fast path only ever
 * accepts, never refuses.
 */
struct der {
	const uint8_t *p, *end;
};

/* The next element if it has this tag (definite, minimal length); 0, or -1. */
static int der_next(struct der *d, uint8_t tag, struct der *inner)
{
	const uint8_t *p = d->p;
	size_t len;

	if (d->end - p < 2 || p[0] != tag)
		return -1;
	if (p[1] < 0x80) {
		len = p[1];
		p += 2;
	} else if (p[1] == 0x81 && d->end - p >= 3 && p[2] >= 0x80) {
		len = p[2];
		p += 3;
	} else if (p[1] == 0x82 && d->end - p >= 4 && p[2] != 0) {
		len = (size_t)p[2] << 8 | p[3];
		p += 4;
	} else {
		return -1;
	}
	if ((size_t)(d->end - p) < len)
		return -1;
	inner->p = p;
	inner->end = p + len;
	d->p = p + len;
	return 0;
}

static int der_equals(const struct der *d, const void *v, size_t n)
{
	return (size_t)(d->end - d->p) == n && memcmp(d->p, v, n) == 0;
}

static const uint8_t oid_ec_public_key[] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01 };
static const uint8_t oid_prime256v1[] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 };

/* ECPrivateKey of a P-256 key: d (32 octets) and the public point (65 octets) if present. */
static int parse_sec1(const uint8_t *data, size_t len, const uint8_t **d, const uint8_t **pub)
{
	struct der all = { data, data + len }, seq, v, t;

	*d = *pub = NULL;
	if (der_next(&all, 0x30, &seq) < 0 || all.p != all.end ||
	    der_next(&seq, 0x02, &v) < 0 || !der_equals(&v, "\x01", 1) ||
	    der_next(&seq, 0x04, &v) < 0 || v.end - v.p != 32)
		return -1;
	*d = v.p;
	if (seq.p < seq.end && seq.p[0] == 0xA0 &&
	    (der_next(&seq, 0xA0, &t) < 0 || der_next(&t, 0x06, &v) < 0 || t.p != t.end ||
	     !der_equals(&v, oid_prime256v1, sizeof(oid_prime256v1))))
		return -1;
	if (seq.p < seq.end && seq.p[0] == 0xA1) {
		if (der_next(&seq, 0xA1, &t) < 0 || der_next(&t, 0x03, &v) < 0 || t.p != t.end ||
		    v.end - v.p != 66 || v.p[0] != 0 || v.p[1] != 0x04)
			return -1;
		*pub = v.p + 1;
	}
	return seq.p == seq.end ? 0 : -1;
}

/* PKCS#8 PrivateKeyInfo (version 0, no attributes) of a P-256 key. */
static int parse_pkcs8(const uint8_t *data, size_t len, const uint8_t **d, const uint8_t **pub)
{
	struct der all = { data, data + len }, seq, v, alg;

	if (der_next(&all, 0x30, &seq) < 0 || all.p != all.end ||
	    der_next(&seq, 0x02, &v) < 0 || !der_equals(&v, "\x00", 1) ||
	    der_next(&seq, 0x30, &alg) < 0 ||
	    der_next(&alg, 0x06, &v) < 0 || !der_equals(&v, oid_ec_public_key, sizeof(oid_ec_public_key)) ||
	    der_next(&alg, 0x06, &v) < 0 || !der_equals(&v, oid_prime256v1, sizeof(oid_prime256v1)) ||
	    alg.p != alg.end ||
	    der_next(&seq, 0x04, &v) < 0 || seq.p != seq.end)
		return -1;
	return parse_sec1(v.p, (size_t)(v.end - v.p), d, pub);
}

/*
 * A P-256 key from its private scalar: 0 < d < n, the public point computed
 * (constant time) and, when the file gives one, required to be it.  NULL
 * when anything is off; the generic path then decides.
 */
static EVP_PKEY *p256_from_private(const uint8_t d[32], const uint8_t *pub)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name_ex(NULL, NULL, NID_X9_62_prime256v1);
	BIGNUM *bn = BN_secure_new();
	EC_POINT *q = g ? EC_POINT_new(g) : NULL;
	BN_CTX *bctx = BN_CTX_secure_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t point[65];

	if (!g || !bn || !q || !bctx || !bld || !BN_bin2bn(d, 32, bn))
		goto out;
	BN_set_flags(bn, BN_FLG_CONSTTIME);
	if (BN_is_zero(bn) || BN_cmp(bn, EC_GROUP_get0_order(g)) >= 0 ||
	    !EC_POINT_mul(g, q, bn, NULL, NULL, bctx) ||
	    EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, point, sizeof(point), bctx) != sizeof(point) ||
	    (pub && CRYPTO_memcmp(pub, point, sizeof(point)) != 0))
		goto out;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
	    EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_free(bctx);
	EC_POINT_free(q);
	BN_clear_free(bn);
	EC_GROUP_free(g);
	return pkey;
}

/* hfw_key_load_one_only() was called: see crypto.h. */
static int one_key_only;

void hfw_key_load_one_only(void)
{
	one_key_only = 1;
	/*
	 * And OpenSSL's error texts are loaded only when an error is reported
	 * (hfw_error_openssl): 1 million instructions, 9% of a one-request sign,
	 * for texts a successful run never shows.  Only before OpenSSL's first
	 * error-queue use; later, the texts are already loaded and this does
	 * nothing.
	 */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
}

/* The fast path: an unencrypted P-256 key in one of the usual forms, or NULL. */
static EVP_PKEY *fast_key(const uint8_t *data, size_t len)
{
	const uint8_t *d = NULL, *pub = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long dlen = 0;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;

	if (len >= 10 && memmem(data, len, "-----BEGIN", 10)) {
		if (len > INT32_MAX || !(bio = BIO_new_mem_buf(data, (int)len)) ||
		    PEM_read_bio(bio, &name, &header, &der, &dlen) != 1 || dlen <= 0 ||
		    (header && header[0]))	/* Proc-Type: 4,ENCRYPTED */
			goto out;
		if (strcmp(name, "PRIVATE KEY") == 0) {
			if (parse_pkcs8(der, (size_t)dlen, &d, &pub) < 0)
				goto out;
		} else if (strcmp(name, "EC PRIVATE KEY") == 0) {
			if (parse_sec1(der, (size_t)dlen, &d, &pub) < 0)
				goto out;
		} else {
			goto out;
		}
	} else if (parse_pkcs8(data, len, &d, &pub) < 0 && parse_sec1(data, len, &d, &pub) < 0) {
		goto out;
	}
	/* Unencrypted: no cipher nor legacy digest name will be needed (before OpenSSL's first fetch, below). */
	if (one_key_only)
		OPENSSL_init_crypto(OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS, NULL);
	pkey = p256_from_private(d, pub);
out:
	ERR_clear_error();
	if (der)
		OPENSSL_cleanse(der, (size_t)dlen);
	OPENSSL_free(der);
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	return pkey;
}

/*
 * The random generator for ECDSA nonces: OpenSSL's default CTR-DRBG
 * (AES-256) makes the first signature of a process assemble every cipher
 * the provider has (15% of a whole "hanfw sign"); Hash_DRBG with SHA-256,
 * also an SP 800-90A DRBG of 256-bit strength seeded from the operating
 * system, uses the digests already loaded.  Set once, before the first
 * random byte; a process that made its generators already keeps them.
 */
static pthread_once_t drbg_once = PTHREAD_ONCE_INIT;

static void choose_drbg(void)
{
	(void)RAND_set_DRBG_type(NULL, "HASH-DRBG", NULL, NULL, "SHA256");
}

int hfw_key_load(hfw_key **out, const char *path,
		 const struct hfw_key_options *opts, struct hfw_error *err)
{
	static const struct hfw_key_options defaults = HFW_KEY_OPTIONS_INIT;
	struct pass_state ps = { opts ? opts : &defaults, path, 0, 0 };
	EVP_PKEY *pkey = NULL;
	hfw_key *key = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	char desc[80];
	int ret = 0;

	*out = NULL;
	pthread_once(&drbg_once, choose_drbg);
	if ((ret = hfw_file_read(&data, &len, path, KEY_FILE_MAX, "key", err)) < 0) {
		ret = err->code = HFW_EKEY;	/* keep the message, classify as a key problem */
		goto out;
	}
	/*
	 * First ask only for EC keys in the form the file is in: OpenSSL 3
	 * otherwise assembles decoders for every key type it knows, which costs
	 * more than everything else "hanfw sign" does.  Anything else is decoded
	 * again without limits, only to say what it is.
	 */
	if ((pkey = fast_key(data, len)))
		ret = 0;
	else
		ret = decode_key(&pkey, data, len, memmem(data, len, "-----BEGIN", 10) ? "PEM" : "DER", "EC", &ps);
	if (ret < 0 && !(ps.asked && !ps.supplied))
		ret = decode_key(&pkey, data, len, NULL, NULL, &ps);
	if (ret < 0) {
		if (ps.asked && !ps.supplied)
			ret = hfw_error_set(err, HFW_EKEY,
					    "key '%s' is encrypted: set %s or run on a terminal to be asked",
					    path, ps.opts->passphrase_env ? ps.opts->passphrase_env
					    : "the passphrase variable");
		else if (ps.asked)
			ret = hfw_error_set(err, HFW_EKEY,
					    "cannot decrypt key '%s': wrong passphrase?", path);
		else
			ret = hfw_error_set(err, HFW_EKEY,
					    "'%s' holds no private key (expected PEM or DER, PKCS#8 or SEC1)",
					    path);
		goto out;
	}
	if (!describe_pkey(pkey, desc, sizeof(desc))) {
		ret = hfw_error_set(err, HFW_EKEY, "key '%s' is %s; GBCS and DUIS need ECDSA P-256 (prime256v1)",
				    path, desc);
		goto out;
	}
	if (!(key = calloc(1, sizeof(*key))) || !(key->path = strdup(path))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	key->pkey = pkey;
	pkey = NULL;
	*out = key;
	key = NULL;
out:
	if (data)
		OPENSSL_cleanse(data, len);
	free(data);
	EVP_PKEY_free(pkey);
	hfw_key_free(key);
	return ret;
}

void hfw_key_free(hfw_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key->path);
	free(key);
}

/*
 * Certificates are parsed where OpenSSL 3.0 has no decoders: while parsing,
 * d2i_X509 hands the public key to the generic decoders, whose set-up (every
 * decoder of the provider assembled and matched) cost 2 million
 * instructions, a fifth of a one-request "hanfw sign", for a key of the one
 * kind hanfw accepts.  In a library context holding only the null provider
 * it finds none; the P-256 key is then read from the certificate's
 * SubjectPublicKeyInfo here and imported with EVP_PKEY_fromdata, which
 * checks the point is on the curve.  Anything else (other curves and
 * algorithms, explicit parameters, compressed points) is parsed again the
 * usual way, which also words every refusal: like fast_key, this path only
 * ever accepts.  Nothing done with hanfw's certificates needs the context
 * they were parsed in (names, serial, dates, extensions are ASN.1 alone;
 * the key is held beside the certificate).  Made once, never freed.
 */
static OSSL_LIB_CTX *bare_ctx;
static pthread_once_t bare_once = PTHREAD_ONCE_INIT;

static void make_bare_ctx(void)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();

	if (ctx && !OSSL_PROVIDER_load(ctx, "null")) {
		OSSL_LIB_CTX_free(ctx);
		ctx = NULL;
	}
	bare_ctx = ctx;
	ERR_clear_error();
}

/* The certificate's key if it is a named-curve P-256 key, uncompressed; else NULL. */
static EVP_PKEY *cert_p256_public(const X509 *x)
{
	const X509_PUBKEY *xpk = X509_get_X509_PUBKEY(x);
	ASN1_OBJECT *alg = NULL;
	const unsigned char *point = NULL;
	int len = 0, ptype = 0;
	const void *pval = NULL;
	X509_ALGOR *algor = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (!xpk || !X509_PUBKEY_get0_param(&alg, &point, &len, &algor, xpk) || !algor ||
	    OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey)
		goto out;
	X509_ALGOR_get0(NULL, &ptype, &pval, algor);
	if (ptype != V_ASN1_OBJECT || OBJ_obj2nid(pval) != NID_X9_62_prime256v1 ||
	    len != 65 || point[0] != 0x04)
		goto out;
	if (!(bld = OSSL_PARAM_BLD_new()) ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, (size_t)len) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
	    EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* Parse PEM or DER into *x (made in ctx if not NULL); 0 with *x set, else -1 with *x NULL. */
static int parse_cert(X509 **x, OSSL_LIB_CTX *ctx, const uint8_t *data, size_t len, int pem)
{
	BIO *bio = NULL;
	const uint8_t *p = data;
	int ok;

	if (ctx && !(*x = X509_new_ex(ctx, NULL)))
		return -1;
	if (pem)
		ok = len <= INT32_MAX && (bio = BIO_new_mem_buf(data, (int)len)) &&
		     PEM_read_bio_X509(bio, x, NULL, NULL);
	else
		ok = len <= LONG_MAX && d2i_X509(x, &p, (long)len) && p == data + len;
	BIO_free(bio);
	if (!ok) {
		X509_free(*x);
		*x = NULL;
		return -1;
	}
	return 0;
}

int hfw_cert_load_mem(hfw_cert **out, const uint8_t *data, size_t len,
		      const char *what, struct hfw_error *err)
{
	int pem = len >= 10 && memmem(data, len, "-----BEGIN", 10);
	X509 *x = NULL;
	hfw_cert *cert = NULL;
	EVP_PKEY *pub = NULL;
	char desc[80];
	int ret = 0;

	*out = NULL;
	pthread_once(&bare_once, make_bare_ctx);
	if (bare_ctx && parse_cert(&x, bare_ctx, data, len, pem) == 0 && !(pub = cert_p256_public(x))) {
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();	/* what the fast path met; the usual path words any refusal */
	if (!pub) {
		if (parse_cert(&x, NULL, data, len, pem) < 0) {
			ret = hfw_error_openssl(err, HFW_EKEY, pem ? "'%s' is not a certificate (no PEM CERTIFICATE block)"
							 : "'%s' is not a certificate (expected PEM or DER X.509)", what);
			goto out;
		}
		if (!(pub = X509_get_pubkey(x))) {
			ret = hfw_error_openssl(err, HFW_EKEY, "certificate '%s' has no usable public key", what);
			goto out;
		}
	}
	if (!describe_pkey(pub, desc, sizeof(desc))) {
		ret = hfw_error_set(err, HFW_EKEY, "certificate '%s' holds a %s key; expected ECDSA P-256",
				    what, desc);
		goto out;
	}
	if (!(cert = calloc(1, sizeof(*cert))) || !(cert->what = strdup(what))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	cert->x509 = x;
	cert->pub = pub;
	x = NULL;
	pub = NULL;
	*out = cert;
	cert = NULL;
out:
	X509_free(x);
	EVP_PKEY_free(pub);
	hfw_cert_free(cert);
	return ret;
}

int hfw_cert_load(hfw_cert **out, const char *path, struct hfw_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	if ((ret = hfw_file_read(&data, &len, path, CERT_FILE_MAX, "certificate", err)) < 0)
		ret = err->code = HFW_EKEY;	/* keep the message, classify as a key problem */
	else
		ret = hfw_cert_load_mem(out, data, len, path, err);
	free(data);
	return ret;
}

void hfw_cert_free(hfw_cert *cert)
{
	if (!cert)
		return;
	X509_free(cert->x509);
	EVP_PKEY_free(cert->pub);
	free(cert->what);
	free(cert);
}

int hfw_cert_check_key(const hfw_cert *cert, const hfw_key *key, struct hfw_error *err)
{
	if (EVP_PKEY_eq(cert->pub, key->pkey) != 1) {
		ERR_clear_error();
		return hfw_error_set(err, HFW_EKEY, "key '%s' does not belong to certificate '%s'",
				     key->path, cert->what);
	}
	return 0;
}

int hfw_cert_check_validity(const hfw_cert *cert, struct hfw_error *err)
{
	if (X509_cmp_current_time(X509_get0_notBefore(cert->x509)) > 0)
		return hfw_error_set(err, HFW_EVERIFY, "certificate '%s' is not valid yet", cert->what);
	if (X509_cmp_current_time(X509_get0_notAfter(cert->x509)) < 0)
		return hfw_error_set(err, HFW_EVERIFY, "certificate '%s' has expired", cert->what);
	return 0;
}

static void name_text(const X509_NAME *name, char *buf, size_t size)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int n;

	buf[0] = '\0';
	if (!bio)
		return;
	/* RFC 2253 without spaces: what Java's getName() and the DCC write. */
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(bio, buf, (int)size - 1);
		buf[n > 0 ? n : 0] = '\0';
	}
	BIO_free(bio);
}

/*
 * A device certificate names its EUI in subjectAltName as a
 * hardwareModuleName (1.3.6.1.5.5.7.8.4, RFC 4108): SEQUENCE { hwType
 * OID, hwSerialNum OCTET STRING (the 8 EUI octets) }.
 */
static void device_eui(X509 *x, struct hfw_cert_info *out)
{
	static const unsigned char hw_module_name[] = { 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04 };
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i;

	for (i = 0; names && i < sk_GENERAL_NAME_num(names) && !out->hw_module_name; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_TYPE *v;
		const unsigned char *oid, *d;
		int len;

		if (g->type != GEN_OTHERNAME || !(v = g->d.otherName->value) || v->type != V_ASN1_SEQUENCE)
			continue;
		if (OBJ_length(g->d.otherName->type_id) != sizeof(hw_module_name) ||
		    !(oid = OBJ_get0_data(g->d.otherName->type_id)) || memcmp(oid, hw_module_name, sizeof(hw_module_name)))
			continue;
		d = ASN1_STRING_get0_data(v->value.sequence);
		len = ASN1_STRING_length(v->value.sequence);
		out->hw_module_name = 1;
		/* It ends with the serial number: 04 08 and the EUI. */
		if (!out->eui[0] && len >= 12 && d[len - 10] == 0x04 && d[len - 9] == 0x08) {
			struct hfw_eui eui;

			memcpy(eui.b, d + len - 8, HFW_EUI_LEN);
			hfw_eui_format(out->eui, &eui);
		}
	}
	GENERAL_NAMES_free(names);
}

void hfw_cert_info(const hfw_cert *cert, struct hfw_cert_info *out)
{
	const X509_NAME *subj = X509_get_subject_name(cert->x509);
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert->x509);
	BIGNUM *bn = NULL;
	char *dec = NULL;
	int i;

	memset(out, 0, sizeof(*out));
	i = X509_NAME_get_index_by_NID(subj, NID_x500UniqueIdentifier, -1);
	if (i >= 0) {
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		const unsigned char *d = ASN1_STRING_get0_data(v);
		int len = ASN1_STRING_length(v);
		struct hfw_eui eui;

		/* SMKI: BIT STRING of the 8 EUI octets (OpenSSL strips the unused-bits octet). */
		if (len == 9 && d[0] == 0) {
			d++;
			len--;
		}
		if (len == HFW_EUI_LEN) {
			memcpy(eui.b, d, HFW_EUI_LEN);
			hfw_eui_format(out->eui, &eui);
		}
	}
	/* Always looked for: a hardwareModuleName marks a device's certificate (xmldsig.c). */
	device_eui(cert->x509, out);
	i = X509_NAME_get_index_by_NID(subj, NID_organizationalUnitName, -1);
	if (i >= 0) {
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		int len = ASN1_STRING_length(v);

		if (len > 0 && (size_t)len < sizeof(out->role))
			memcpy(out->role, ASN1_STRING_get0_data(v), (size_t)len);
	}
	name_text(X509_get_issuer_name(cert->x509), out->issuer, sizeof(out->issuer));
	name_text(subj, out->subject, sizeof(out->subject));
	if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) && (dec = BN_bn2dec(bn)))
		snprintf(out->serial, sizeof(out->serial), "%s", dec);
	OPENSSL_free(dec);
	BN_free(bn);
}

void hfw_sha256(uint8_t out[HFW_SHA256_LEN], const void *data, size_t len)
{
	SHA256(data, len, out);
}

int hfw_sha256_parts(uint8_t out[HFW_SHA256_LEN], const struct hfw_span *parts,
		     size_t n, struct hfw_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i;
	int ret = 0;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		ret = hfw_error_openssl(err, HFW_ERROR, "cannot start SHA-256");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (EVP_DigestUpdate(ctx, parts[i].data, parts[i].len) != 1) {
			ret = hfw_error_openssl(err, HFW_ERROR, "SHA-256 failed");
			goto out;
		}
	if (EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		ret = hfw_error_openssl(err, HFW_ERROR, "SHA-256 failed");
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

int hfw_ecdsa_sign_digest(const hfw_key *key, const uint8_t digest[HFW_SHA256_LEN],
			  uint8_t sig[HFW_ECDSA_SIG_LEN], struct hfw_error *err)
{
	EVP_PKEY_CTX *ctx = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char der[80];
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	size_t derlen = sizeof(der);
	int ret = 0;

	pthread_once(&drbg_once, choose_drbg);
	if (!(ctx = EVP_PKEY_CTX_new(key->pkey, NULL)) ||
	    EVP_PKEY_sign_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_sign(ctx, der, &derlen, digest, HFW_SHA256_LEN) <= 0) {
		ret = hfw_error_openssl(err, HFW_EKEY, "cannot sign with key '%s'", key->path);
		goto out;
	}
	if (!(es = d2i_ECDSA_SIG(NULL, &p, (long)derlen))) {
		ret = hfw_error_openssl(err, HFW_ERROR, "cannot decode ECDSA signature");
		goto out;
	}
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32) {
		ret = hfw_error_set(err, HFW_ERROR, "ECDSA signature component too large");
		goto out;
	}
out:
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

int hfw_ecdsa_verify_digest(const hfw_cert *cert, const uint8_t digest[HFW_SHA256_LEN],
			    const uint8_t sig[HFW_ECDSA_SIG_LEN], struct hfw_error *err)
{
	EVP_PKEY_CTX *ctx = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int derlen, v, ret = 0;

	if (!(es = ECDSA_SIG_new()) ||
	    !(r = BN_bin2bn(sig, 32, NULL)) || !(s = BN_bin2bn(sig + 32, 32, NULL)) ||
	    !ECDSA_SIG_set0(es, r, s)) {
		ret = hfw_error_openssl(err, HFW_ENOMEM, "cannot build ECDSA signature");
		goto out;
	}
	r = s = NULL;	/* owned by es now */
	if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0) {
		ret = hfw_error_openssl(err, HFW_ERROR, "cannot encode ECDSA signature");
		goto out;
	}
	if (!(ctx = EVP_PKEY_CTX_new(cert->pub, NULL)) ||
	    EVP_PKEY_verify_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0) {
		ret = hfw_error_openssl(err, HFW_ERROR, "cannot set up verification");
		goto out;
	}
	v = EVP_PKEY_verify(ctx, der, (size_t)derlen, digest, HFW_SHA256_LEN);
	ERR_clear_error();
	if (v != 1)
		ret = hfw_error_set(err, HFW_EVERIFY,
				    "signature does not verify with certificate '%s'", cert->what);
out:
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(ctx);
	return ret;
}
