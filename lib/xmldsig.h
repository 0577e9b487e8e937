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

/*
 * Certificates trusted to sign, in two stores that never mix:
 *  - XML trust: XML-signing certificates (SMKI role OU=87 XmlSign for users,
 *    89 DspXmlSign for the DCC, 137 on DCC Boxed's pre-1.4.1 DSP
 *    certificate), found by issuer and serial.  Who may sign what is the
 *    message's rule (hfw_xmldsig_verify), never the certificate's choice.
 *  - the device store: certificates that check GBCS signatures, found by
 *    EUI (a device's digital-signing certificate: empty subject, EUI in a
 *    hardwareModuleName subjectAltName; an organisation's GBCS one too).
 *    They never check an XML one.  An estate has millions of devices, so
 *    the store is a directory of files named "<eui in hex>-ds.pem", read
 *    one at a time when a message needs one, never all at once.
 */
typedef struct hfw_trust hfw_trust;

/* What a certificate may sign, from its SMKI shape. */
enum hfw_signer_role {
	HFW_ROLE_OTHER,		/* an organisation's GBCS or other certificate (02, 04, 07...): no XML */
	HFW_ROLE_USER_XML,	/* OU=87 XmlSign: a user's requests */
	HFW_ROLE_DCC_XML,	/* OU=89 DspXmlSign (137 pre-1.4.1): the DCC's responses and alerts */
	HFW_ROLE_DEVICE,	/* empty subject or a hardwareModuleName: GBCS only */
};

enum hfw_signer_role hfw_signer_role_of(const struct hfw_cert_info *ci);

/*
 * Load a trust directory: its certificate files (PEM or DER X.509 with a
 * P-256 key; keys and anything else are passed over; at most 4096 files,
 * HFW_ELIMIT beyond) are the XML trust, and its devices/ sub-directory, if
 * there is one, the device store (listed, not read: see above).  A
 * certificate in the wrong place fails closed, HFW_EKEY naming the file and
 * where it belongs: a device's among the XML certificates (its device's
 * GBCS signatures would silently go unchecked), an XML-signing one in
 * devices/, or any certificate in devices/ not named "<eui>-ds.pem" (it
 * would never be found); other "<eui>-..." files there (key agreement
 * certificates, keys) are passed over.  Another SMKI certificate (role 02,
 * 04...) among the XML ones is kept only to name it when a message claims
 * its signature.  HFW_EIO if dir, or a devices/ that is there, cannot be
 * read or is not a directory; HFW_EKEY if dir holds no XML-signing
 * certificate.
 */
int hfw_trust_load_dir(hfw_trust **out, const char *dir, struct hfw_error *err);
/* Add one XML-signing certificate file; HFW_EKEY, naming its role, for any other. */
int hfw_trust_add_file(hfw_trust *t, const char *path, struct hfw_error *err);
/* Make dir the device store, as hfw_trust_load_dir does with DIR/devices. */
int hfw_trust_add_device_dir(hfw_trust *t, const char *dir, struct hfw_error *err);
int hfw_trust_new(hfw_trust **out, struct hfw_error *err);
void hfw_trust_free(hfw_trust *t);
/*
 * Pin the EUI the DCC's XML-signing certificate must carry (the
 * dcc_signer_eui setting); NULL or "" unpins.  Unpinned, any role 89/137
 * certificate trusted that carries an EUI may sign a Response.
 */
int hfw_trust_pin_dcc_eui(hfw_trust *t, const char *eui, struct hfw_error *err);
/* XML-signing certificates trusted. */
size_t hfw_trust_count(const hfw_trust *t);
/* Device certificates (<eui>-ds.pem files) in the device store when it was listed. */
size_t hfw_trust_device_count(const hfw_trust *t);
/*
 * The device store's GBCS digital-signing certificate for an EUI
 * ("00-DB-12-..."), read from its file: *out is new (hfw_cert_free), or
 * NULL if there is none.  A file named for the EUI that cannot be read or
 * is not that EUI's GBCS certificate is an error (HFW_EIO, HFW_EKEY), never
 * "none": the caller must treat the signature as failed.  XML trust is
 * never searched.  Safe from many threads.
 */
int hfw_trust_device_cert(hfw_cert **out, const hfw_trust *t, const char *eui, struct hfw_error *err);

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
	uint8_t *digest_out;	/* receives the C14N digest (HFW_SHA256_LEN), if not NULL */
	/*
	 * 1: skip the self-verification; the caller runs hfw_xmldsig_check_own
	 * on the result before handing it out (a batch runs them in parallel).
	 */
	int defer_check;
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

/*
 * hfw_xmldsig_sign_document in two steps, for a batch that settles each
 * document's counter in order between them and runs both steps on many
 * threads.  hfw_xmldsig_sign_open parses, compacts and validates the
 * request (against xsd_path or hanfw's schema) into *doc, for the caller
 * to complete (its RequestID) and free with xmlFreeDoc.
 * hfw_xmldsig_sign_tree then signs it as hfw_xmldsig_sign_document does.
 * Both are thread-safe for distinct documents.
 */
int hfw_xmldsig_sign_open(struct _xmlDoc **doc, const uint8_t *xml, size_t len, const char *xsd_path,
			  struct hfw_error *err);
int hfw_xmldsig_sign_tree(char **out, size_t *outlen, const hfw_signer *s, struct _xmlDoc *doc,
			  const struct hfw_sign_options *o, struct hfw_error *err);

/*
 * The self-verification hfw_xmldsig_sign_document runs on its result (or
 * leaves to the caller with defer_check): text verifies with only s's
 * certificate trusted, against xsd_path or hanfw's schema; HFW_EVERIFY
 * naming why not.  Thread-safe: it reads s only.
 */
int hfw_xmldsig_check_own(const hfw_signer *s, const char *text, size_t len, const char *xsd_path,
			  struct hfw_error *err);

struct hfw_verify_options {
	const hfw_trust *trust;
	int allow_unsigned;	/* an unsigned document is reported, not refused */
	int check_validity;	/* also refuse a certificate outside its dates */
	const char *xsd_path;	/* validate against this instead of hanfw's schema */
	struct _xmlDoc **doc_out;	/* if not NULL: receives the document, signature removed (xmlFreeDoc) */
	/*
	 * Without xsd_path: a message of a service hanfw's firmware schema does
	 * not cover (8.2, say) is not validated, and schema_skipped says so,
	 * instead of being refused.
	 */
	int schema_if_known;
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
	int role_refused;		/* the refusal was a signer-role rule (the sandbox's DCC answers E1) */
	int schema_checked;		/* validated (against xsd_path, or hanfw's schema) */
	char schema_skipped[128];	/* why not, with schema_if_known: "service 8.2 is outside ..." */
};

/*
 * Verify strictly, then validate the document without its signature.
 * The signer must be allowed to sign the message: a Request only by the
 * XML-signing certificate (role 87) of its RequestID's originator; a
 * Response (responses, device and DCC alerts) only by the DCC's (role 89,
 * or 137, carrying an EUI: the one pinned by hfw_trust_pin_dcc_eui, if
 * any), whatever its ResponseID says; a device certificate never.
 * HFW_EVERIFY names what is wrong with the signature and the rule that
 * refused it (for an unknown certificate: the issuer and serial to add);
 * HFW_EINPUT what is wrong with the document.
 */
int hfw_xmldsig_verify(struct hfw_verify_result *out, const uint8_t *xml, size_t len,
		       const struct hfw_verify_options *opts, struct hfw_error *err);

#endif
