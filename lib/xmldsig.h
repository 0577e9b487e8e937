/*
 * xmldsig.h - XML digital signatures in the DCC's DUIS profile.
 *
 * The profile (../shared/docs/dcc-interface.md §3): one enveloped
 * ds:Signature, the last child of the root; SignedInfo canonicalised with
 * exclusive C14N; one Reference URI="" whose only transform is
 * enveloped-signature, so the digest is SHA-256 over *inclusive* C14N 1.0
 * of the document without the signature; ECDSA P-256 with SHA-256, value as
 * base64 of raw r||s; KeyInfo only X509IssuerSerial (issuer as the DCC
 * writes it, serial in decimal of any size).  Signed documents are compact:
 * the DCC's verifier drops whitespace between elements before digesting.
 */
#ifndef HFW_XMLDSIG_H
#define HFW_XMLDSIG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crypto.h"
#include "error.h"

/* Certificates trusted to sign, found by issuer and serial. */
typedef struct hfw_trust hfw_trust;

/*
 * Load every certificate in dir (files that parse as PEM or DER X.509 with a
 * P-256 key; keys and anything else are skipped).  HFW_EIO if dir cannot be
 * read, HFW_EKEY if it holds no certificate.
 */
int hfw_trust_load_dir(hfw_trust **out, const char *dir, struct hfw_error *err);
/* Add one certificate file. */
int hfw_trust_add_file(hfw_trust *t, const char *path, struct hfw_error *err);
int hfw_trust_new(hfw_trust **out, struct hfw_error *err);
void hfw_trust_free(hfw_trust *t);
size_t hfw_trust_count(const hfw_trust *t);
/*
 * The certificates for an EUI ("00-DB-12-..."), a device's say, one by one:
 * start with *next = 0; NULL when there are no more.  (A device has
 * several: digital signing, key agreement.)
 */
const hfw_cert *hfw_trust_find_eui(const hfw_trust *t, const char *eui, size_t *next);

/* An XML-signing identity: key, and the issuer and serial KeyInfo names. */
typedef struct hfw_signer hfw_signer;

int hfw_signer_open(hfw_signer **out, const char *key_path, const char *cert_path,
		    const struct hfw_key_options *ko, struct hfw_error *err);
void hfw_signer_free(hfw_signer *s);
const struct hfw_cert_info *hfw_signer_info(const hfw_signer *s);

/*
 * Sign a document hanfw built itself, in place.  buf[body_off, len) is the
 * root element as text, already in inclusive C14N form (no whitespace
 * between elements, no self-closing tags); whatever precedes it (the XML
 * declaration) is not signed.  The text must end with the root's end tag
 * (checked against the name its start tag opens with: nothing may follow
 * the root, so no comment or PI can hold the place the Signature goes);
 * HFW_EINPUT otherwise.  The Signature is inserted before that end tag
 * without copying the body.
 */
int hfw_xmldsig_sign_canonical(struct hfw_buf *buf, size_t body_off, const hfw_signer *s,
			       struct hfw_error *err);

struct _xmlDoc;

struct hfw_sign_options {
	const char *xsd_path;	/* validate against this instead of hanfw's schema */
	/* Called on the compacted, validated document before it is signed. */
	int (*prepare)(void *arg, struct _xmlDoc *doc, struct hfw_error *err);
	void *arg;
	uint8_t *digest_out;	/* receives the C14N digest (HFW_SHA256_LEN), if not NULL */
	/*
	 * If not NULL: set to 1 once the request is about to be signed (so a
	 * counter prepare settled has been signed over, even if the result is
	 * then refused), 0 before.
	 */
	int *signed_out;
};

/*
 * Sign any DUIS request: existing signatures, comments, processing
 * instructions and whitespace between elements are removed first.  The
 * root element is serialised on its own, so the Signature goes before the
 * end tag the serialiser wrote, never before text found by searching.  The
 * result is verified as hfw_xmldsig_verify would, with only the signer's
 * certificate trusted (and o->xsd_path), before it is handed back;
 * HFW_EVERIFY if it does not verify.  *out is a new buffer.
 */
int hfw_xmldsig_sign_document(char **out, size_t *outlen, const hfw_signer *s,
			      const uint8_t *xml, size_t len, const struct hfw_sign_options *o,
			      struct hfw_error *err);

struct hfw_verify_options {
	const hfw_trust *trust;
	int allow_unsigned;	/* an unsigned document is reported, not refused */
	int check_validity;	/* also refuse a certificate outside its dates */
	const char *xsd_path;	/* validate against this instead of hanfw's schema */
	struct _xmlDoc **doc_out;	/* if not NULL: receives the document, signature removed (xmlFreeDoc) */
};

struct hfw_verify_result {
	int is_signed;			/* 0 only with allow_unsigned */
	struct hfw_cert_info signer;	/* when signed */
	char root[16];			/* "Request" or "Response" */
	char request_id[80];		/* "" when absent */
	char response_id[80];
	char response_code[16];
	char service_reference[16];
	char command_variant[8];
};

/*
 * Verify strictly, then validate the document without its signature.
 * HFW_EVERIFY names what is wrong with the signature; HFW_EINPUT what is
 * wrong with the document.
 */
int hfw_xmldsig_verify(struct hfw_verify_result *out, const uint8_t *xml, size_t len,
		       const struct hfw_verify_options *opts, struct hfw_error *err);

#endif
