/* pki.c - SMKI-shaped test certificates (see pki.h). */
#include "pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../eui.h"
#include "../fileio.h"

/* Serialise with a PEM writer into memory, then write atomically. */
static int write_pem(const char *path, int private, X509 *x, EVP_PKEY *k, struct hfw_error *err)
{
	struct hfw_atomic a = HFW_ATOMIC_INIT;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int ret = 0;

	if (!bio || !(x ? PEM_write_bio_X509(bio, x)
			: PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL))) {
		ret = hfw_error_openssl(err, HFW_EKEY, "cannot encode '%s'", path);
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if ((ret = private ? hfw_atomic_open_private(&a, path, err) : hfw_atomic_open(&a, path, err)) < 0 ||
	    (ret = hfw_atomic_write(&a, data, (size_t)len, err)) < 0 ||
	    (ret = hfw_atomic_commit(&a, err)) < 0)
		goto out;
out:
	if (private && bio)
		(void)BIO_reset(bio);
	hfw_atomic_release(&a);
	BIO_free_all(bio);
	return ret;
}

static int add_text(X509_NAME *name, int nid, const char *text)
{
	return X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)text, -1, -1, 0);
}

/* x500UniqueIdentifier as SMKI writes it: BIT STRING 03 09 00 <8 octets>. */
static int add_eui(X509_NAME *name, const struct hfw_eui *eui)
{
	X509_NAME_ENTRY *ne;
	ASN1_STRING *v;
	int ok;

	if (!(ne = X509_NAME_ENTRY_create_by_NID(NULL, NID_x500UniqueIdentifier, V_ASN1_BIT_STRING,
						  eui->b, HFW_EUI_LEN)))
		return 0;
	/* Keep all 64 bits: without this OpenSSL drops trailing zero octets. */
	v = X509_NAME_ENTRY_get_data(ne);
	v->flags = (v->flags & ~0x07L) | ASN1_STRING_FLAG_BITS_LEFT;
	ok = X509_NAME_add_entry(name, ne, -1, 0);
	X509_NAME_ENTRY_free(ne);
	return ok;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if (!(ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)))
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/*
 * subjectAltName, critical: otherName hardwareModuleName (1.3.6.1.5.5.7.8.4)
 * { hwType, hwSerialNum = the 8 EUI octets }, with the RTDS certificates'
 * hwType (1.2.826.0.1.8641679.1.2.2.1).
 */
static int add_hw_module_name(X509 *x, const struct hfw_eui *eui)
{
	static const unsigned char head[] = {
		0x30, 0x29, 0xA0, 0x27, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04,
		0xA0, 0x1B, 0x30, 0x19, 0x06, 0x0D, 0x2A, 0x86, 0x3A, 0x00, 0x01, 0x84, 0x8F, 0xB9,
		0x0F, 0x01, 0x02, 0x02, 0x01, 0x04, 0x08,
	};
	unsigned char der[sizeof(head) + HFW_EUI_LEN];
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok;

	memcpy(der, head, sizeof(head));
	memcpy(der + sizeof(head), eui->b, HFW_EUI_LEN);
	ok = v && ASN1_OCTET_STRING_set(v, der, (int)sizeof(der)) &&
	     (ext = X509_EXTENSION_create_by_NID(NULL, NID_subject_alt_name, 1, v)) && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(v);
	return ok;
}

static EVP_PKEY *load_pem_key(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

static X509 *load_pem_cert(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

/*
 * The SMKI device certificate policy (1.2.826.0.1.1800000.1.2.1.4), as the
 * RTDS device certificates carry it: critical.
 */
static int add_device_policy(X509 *x)
{
	static const unsigned char der[] = {
		0x30, 0x10, 0x30, 0x0E, 0x06, 0x0C, 0x2A, 0x86, 0x3A, 0x00, 0x01, 0xED, 0xEE, 0x40, 0x01, 0x02, 0x01, 0x04,
	};
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok;

	ok = v && ASN1_OCTET_STRING_set(v, der, (int)sizeof(der)) &&
	     (ext = X509_EXTENSION_create_by_NID(NULL, NID_certificate_policies, 1, v)) && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(v);
	return ok;
}

/* An 8-octet key identifier, as SMKI's are: the first octets of SHA-256 of the public key. */
static int add_short_ski(X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	int ok;

	ok = v && X509_pubkey_digest(x, EVP_sha256(), md, &n) && n >= 8 && ASN1_OCTET_STRING_set(v, md, 8) &&
	     X509_add1_ext_i2d(x, NID_subject_key_identifier, v, 0, X509V3_ADD_DEFAULT) == 1;
	ASN1_OCTET_STRING_free(v);
	return ok;
}

/*
 * A device certificate's extensions in the RTDS order: keyUsage (critical;
 * digitalSignature or keyAgreement), subjectKeyIdentifier, subjectAltName
 * (critical, hardwareModuleName), certificatePolicies (critical), and
 * authorityKeyIdentifier (the issuer's key identifier only).  No
 * basicConstraints, as in the RTDS ones.
 */
static int device_extensions(X509 *x, X509 *issuer, const struct hfw_eui *eui, int key_agreement)
{
	return add_ext(x, issuer, NID_key_usage, key_agreement ? "critical,keyAgreement" : "critical,digitalSignature") &&
	       add_short_ski(x) && add_hw_module_name(x, eui) && add_device_policy(x) &&
	       add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
}

/* device: a device's certificate (req->key_agreement: its KA one); else an organisation's or a TLS one. */
static int issue(const char *key_path, const char *cert_path, const struct hfw_pki_request *req, int device,
		 struct hfw_error *err)
{
	EVP_PKEY *key = NULL, *ca_key = NULL;
	X509 *x = NULL, *ca = NULL;
	X509_NAME *name = NULL;
	BIGNUM *serial = NULL;
	struct hfw_eui eui;
	unsigned char rnd[16];
	int ret = 0;

	if (req->eui && (ret = hfw_eui_parse(&eui, req->eui, "EUI", err)) < 0)
		goto out;
	if (req->ca_key && (!(ca_key = load_pem_key(req->ca_key)) || !(ca = load_pem_cert(req->ca_cert)))) {
		ret = hfw_error_openssl(err, HFW_EKEY, "cannot load issuer '%s'", req->ca_cert);
		goto out;
	}
	if (!(key = EVP_EC_gen("P-256"))) {
		ret = hfw_error_openssl(err, HFW_EKEY, "cannot generate a P-256 key");
		goto out;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		ret = hfw_error_openssl(err, HFW_ERROR, "no randomness for a serial");
		goto out;
	}
	rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x40);	/* positive, full 16 bytes */
	if (!(x = X509_new()) || !(name = X509_NAME_new()) ||
	    !(serial = BN_bin2bn(rnd, sizeof(rnd), NULL)) ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
	    !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -86400L) ||
	    /* SMKI device certificates do not expire (9999-12-31 23:59:59, as the RTDS ones). */
	    !(device && req->days >= 0 ? ASN1_TIME_set_string(X509_getm_notAfter(x), "99991231235959Z")
				       : X509_gmtime_adj(X509_getm_notAfter(x), req->days < 0 ? -3600L : 86400L * req->days) != NULL) ||
	    /* SMKI order: issuers OU then CN ("CN=Z1,OU=07"), others CN, OU, EUI. */
	    (req->is_ca && req->role && !add_text(name, NID_organizationalUnitName, req->role)) ||
	    (req->cn && !device && !add_text(name, NID_commonName, req->cn)) ||
	    (!req->is_ca && req->role && !device && !add_text(name, NID_organizationalUnitName, req->role)) ||
	    (req->eui && !device && !add_eui(name, &eui)) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name) ||
	    !X509_set_pubkey(x, key) ||
	    (device && (!req->eui || !device_extensions(x, ca ? ca : x, &eui, req->key_agreement))) ||
	    (!device && !add_short_ski(x)) ||
	    (!device && !add_ext(x, ca ? ca : x, NID_basic_constraints, req->is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE")) ||
	    (!device && !add_ext(x, ca ? ca : x, NID_key_usage, req->is_ca ? "critical,keyCertSign,cRLSign"
									 : "critical,digitalSignature")) ||
	    (!device && req->san && !add_ext(x, ca ? ca : x, NID_subject_alt_name, req->san)) ||
	    (!device && req->eku && !add_ext(x, ca ? ca : x, NID_ext_key_usage, req->eku)) ||
	    !X509_sign(x, ca_key ? ca_key : key, EVP_sha256())) {
		ret = hfw_error_openssl(err, HFW_EKEY, "cannot build certificate '%s'", cert_path);
		goto out;
	}
	if ((ret = write_pem(key_path, 1, NULL, key, err)) < 0 ||
	    (ret = write_pem(cert_path, 0, x, NULL, err)) < 0)
		goto out;
out:
	BN_free(serial);
	X509_NAME_free(name);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return ret;
}

int hfw_pki_issue(const char *key_path, const char *cert_path,
		  const struct hfw_pki_request *req, struct hfw_error *err)
{
	return issue(key_path, cert_path, req, 0, err);
}

int hfw_pki_issue_device(const char *key_path, const char *cert_path,
			 const struct hfw_pki_request *req, struct hfw_error *err)
{
	return issue(key_path, cert_path, req, 1, err);
}
