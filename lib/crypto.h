/*
 * crypto.h - keys, certificates, SHA-256 and raw ECDSA P-256 for hanfw.
 *
 * SMKI keys arrive as PEM or DER, PKCS#8 or SEC1, sometimes encrypted; all
 * are accepted.  Only ECDSA P-256 is accepted, because that is the one
 * suite GBCS and the DCC's DUIS profile use.  Signatures are the raw
 * 64-byte r||s form both GBCS and the DCC's XML signatures carry.
 */
#ifndef HFW_CRYPTO_H
#define HFW_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HFW_SHA256_LEN 32
/*
 * The FirmwareHash (DUIS 11.3, GBCS CS06): SHA-256 of the Manufacturer
 * Image.  One name and one type from the image's manifest to the ledger.
 */
typedef uint8_t hfw_firmware_hash[HFW_SHA256_LEN];

#define HFW_ECDSA_SIG_LEN 64	/* r || s, 32 bytes each, big-endian */

typedef struct hfw_key hfw_key;		/* a P-256 private key */
typedef struct hfw_cert hfw_cert;	/* an X.509 certificate with a P-256 key */

struct hfw_key_options {
	/* Environment variable holding the passphrase of an encrypted key. */
	const char *passphrase_env;
	/* Ask on the terminal (/dev/tty) when the variable is not set. */
	int allow_prompt;
};

#define HFW_KEY_OPTIONS_INIT { "HANFW_KEY_PASSPHRASE", 1 }

/*
 * Load a private key.  HFW_EKEY if it cannot be read, is not a key, is
 * encrypted with no passphrase available or the wrong one, or is not
 * ECDSA P-256.  Key bytes read from disk are wiped after use.
 */
int hfw_key_load(hfw_key **out, const char *path,
		 const struct hfw_key_options *opts, struct hfw_error *err);
void hfw_key_free(hfw_key *key);

/*
 * For a process that loads one key and uses no cipher (hanfw sign of DUIS
 * requests), called before that key is loaded.  OpenSSL 3.0 fills its
 * legacy table of cipher names on its first fetch of anything and copies
 * it into its name map: 2.6 million instructions, 15% of a one-request
 * hanfw sign, for a table that only a traditional encrypted PEM key
 * ("Proc-Type: 4,ENCRYPTED", the cipher named in DEK-Info) needs.  When the
 * key then loads without a passphrase, the table is never filled
 * (OPENSSL_INIT_NO_ADD_ALL_CIPHERS: for the rest of the process, so a
 * second, traditionally encrypted key would not load; hence one key); an
 * encrypted key is decoded as always.  The same holds for the legacy table
 * of digest names (OPENSSL_INIT_NO_ADD_ALL_DIGESTS, 0.8 million more): sign
 * names its one digest, SHA-256, by the names the provider itself gives it.  OpenSSL's error texts are then loaded
 * only when an error is reported (lib/error.c).
 */
void hfw_key_load_one_only(void);

/* Load a PEM or DER certificate.  HFW_EKEY on failure or a non-P-256 key. */
int hfw_cert_load(hfw_cert **out, const char *path, struct hfw_error *err);
int hfw_cert_load_mem(hfw_cert **out, const uint8_t *data, size_t len,
		      const char *what, struct hfw_error *err);
void hfw_cert_free(hfw_cert *cert);

/* HFW_EKEY, naming both files, when the key is not the certificate's. */
int hfw_cert_check_key(const hfw_cert *cert, const hfw_key *key,
		       struct hfw_error *err);

/* HFW_EVERIFY if now is outside the certificate's validity dates. */
int hfw_cert_check_validity(const hfw_cert *cert, struct hfw_error *err);

/* What SMKI puts in a certificate, as text. */
struct hfw_cert_info {
	char eui[24];		/* from x500UniqueIdentifier, "XX-XX-..."; "" if none */
	char role[16];		/* first OU of the subject, e.g. "02", "87"; "" if none */
	char issuer[256];	/* RFC 2253, as the DCC writes it: "CN=Z1,OU=07" */
	char serial[64];	/* decimal, any size */
	char subject[256];	/* RFC 2253 */
	int hw_module_name;	/* subjectAltName names a hardwareModuleName: a device's certificate */
};

void hfw_cert_info(const hfw_cert *cert, struct hfw_cert_info *out);

/* SHA-256 in one go. */
void hfw_sha256(uint8_t out[HFW_SHA256_LEN], const void *data, size_t len);

/* A borrowed run of bytes. */
struct hfw_span {
	const uint8_t *data;
	size_t len;
};

/* SHA-256 over several runs as if they were one. */
int hfw_sha256_parts(uint8_t out[HFW_SHA256_LEN], const struct hfw_span *parts,
		     size_t n, struct hfw_error *err);

/* Sign a SHA-256 digest: raw r||s. */
int hfw_ecdsa_sign_digest(const hfw_key *key, const uint8_t digest[HFW_SHA256_LEN],
			  uint8_t sig[HFW_ECDSA_SIG_LEN], struct hfw_error *err);

/* Verify raw r||s over a SHA-256 digest.  HFW_EVERIFY if it does not verify. */
int hfw_ecdsa_verify_digest(const hfw_cert *cert, const uint8_t digest[HFW_SHA256_LEN],
			    const uint8_t sig[HFW_ECDSA_SIG_LEN], struct hfw_error *err);

#endif
