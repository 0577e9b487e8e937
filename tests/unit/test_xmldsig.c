/*
 * Unit tests: DUIS requests and XML signatures in the DCC's profile,
 * against DCC Boxed's own signed response, the DCC's XSD and xmlsec1.
 */
#include "testutil.h"

#include <sys/stat.h>

#include <libxml/parser.h>

#include "../../lib/duis.h"
#include "../../lib/sandbox/pki.h"
#include "../../lib/xml.h"
#include "../../lib/xmldsig.h"

#define DCC_XSD "dcc/duis-5.4/DUIS-Schema-V5.4.xsd"
#define SIGNED_SAMPLE "dcc/samples/11.2_readfw_response_signed.xml"

static char *dir;
static hfw_signer *signer;	/* our own test PKI, OU=87, supplier EUI */
static hfw_trust *trust;	/* its CA's leaf, plus ZAZ1 */

static const char *tmp(const char *name)
{
	static char buf[8][4096];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 4096, "%s/%s", dir, name);
	return p;
}

static int setup(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_pki_request ca = { "T1", "07", NULL, 1, 365, NULL, NULL, NULL, NULL };
	struct hfw_pki_request leaf = { NULL, "87", "90-B3-D5-1F-30-01-00-00", 0, 365, NULL, NULL, NULL, NULL };

	(void)state;
	dir = make_tmpdir();
	leaf.ca_key = tmp("ca.key");
	leaf.ca_cert = tmp("ca.pem");
	if (hfw_pki_issue(tmp("ca.key"), tmp("ca.pem"), &ca, &err) < 0 ||
	    hfw_pki_issue(tmp("xml.key"), tmp("xml.pem"), &leaf, &err) < 0 ||
	    hfw_signer_open(&signer, tmp("xml.key"), tmp("xml.pem"), NULL, &err) < 0 ||
	    hfw_trust_load_dir(&trust, shared_path("dcc/zaz1"), &err) < 0 ||
	    hfw_trust_add_file(trust, tmp("xml.pem"), &err) < 0)
		fail_msg("%s", err.text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hfw_signer_free(signer);
	hfw_trust_free(trust);
	rm_rf(dir);
	return 0;
}

static int verify(const char *xml, size_t len, struct hfw_verify_result *r, const char *xsd,
		  struct hfw_error *err)
{
	struct hfw_verify_options o = { trust, 0, 0, xsd, NULL, 0 };

	return hfw_xmldsig_verify(r, (const uint8_t *)xml, len, &o, err);
}

static void dcc_boxed_response_verifies(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_verify_result r;
	uint8_t *xml;
	size_t len;

	(void)state;
	assert_int_equal(hfw_file_read(&xml, &len, shared_path(SIGNED_SAMPLE), 1 << 20, "s", &err), 0);
	if (verify((char *)xml, len, &r, NULL, &err) != 0)
		fail_msg("%s", err.text);
	assert_true(r.is_signed);
	assert_string_equal(r.signer.eui, "90-B3-D5-1F-30-00-00-02");
	assert_string_equal(r.signer.role, "137");
	assert_string_equal(r.root, "Response");
	assert_string_equal(r.response_code, "I0");
	assert_string_equal(r.request_id, "90-B3-D5-1F-30-01-00-00:88-73-84-57-00-2F-96-1E:1660751141087");
	assert_string_equal(r.response_id, "88-73-84-57-00-2F-96-1E:90-B3-D5-1F-30-01-00-00:1660751141087");
	assert_string_equal(r.service_reference, "11.2");
	/* And against the DCC's own schema, once the signature is out of the way. */
	assert_int_equal(verify((char *)xml, len, &r, shared_path(DCC_XSD), &err), 0);
	free(xml);
}

/* One request of each kind hanfw sends. */
static void request_of(enum hfw_duis_body body, struct hfw_duis_request *r, uint64_t counter)
{
	static const uint8_t image[] = "\x1e\xf1\xee\x0b not really an image";
	static struct hfw_eui devices[3];
	static const uint8_t pre[] = { 0xDF, 0x09, 0x01 };
	struct hfw_error err = HFW_ERROR_INIT;

	memset(r, 0, sizeof(*r));
	r->body = body;
	r->schema_version = "5.4";
	assert_int_equal(hfw_eui_parse(&r->id.originator, "90-B3-D5-1F-30-01-00-00", "o", &err), 0);
	assert_int_equal(hfw_eui_parse(&r->id.target, body == HFW_BODY_UPDATE_FIRMWARE ||
				       body == HFW_BODY_UPDATE_PPMID_FIRMWARE ? "90-B3-D5-1F-30-00-00-02"
				       : "00-DB-12-34-56-78-90-A0", "t", &err), 0);
	r->id.counter = counter;
	hfw_eui_parse(&devices[0], "00-DB-12-34-56-78-90-A4", "d", &err);
	hfw_eui_parse(&devices[1], "00-DB-12-34-56-78-90-A5", "d", &err);
	hfw_eui_parse(&devices[2], "00-db-12-34-56-78-90-a6", "d", &err);
	r->image = image;
	r->image_len = sizeof(image) - 1;
	r->firmware_version = "ACDCACDC";
	r->devices = devices;
	r->ndevices = 3;
	memset(r->firmware_hash, 0x75, sizeof(r->firmware_hash));
	if (body == HFW_BODY_ACTIVATE_FIRMWARE || body == HFW_BODY_SIGNED_PRECOMMAND)
		r->execution_datetime = "2030-01-15T09:00:00.00Z";
	r->gbcs_payload = pre;
	r->gbcs_len = sizeof(pre);
}

static void every_request_signs_verifies_and_fits_the_dcc_schema(void **state)
{
	static const enum hfw_duis_body bodies[] = {
		HFW_BODY_UPDATE_FIRMWARE, HFW_BODY_READ_FIRMWARE_VERSION, HFW_BODY_ACTIVATE_FIRMWARE,
		HFW_BODY_UPDATE_PPMID_FIRMWARE, HFW_BODY_SIGNED_PRECOMMAND,
	};
	struct hfw_error err = HFW_ERROR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct hfw_buf out = HFW_BUF_INIT(1 << 20), body = HFW_BUF_INIT(1 << 20);
		struct hfw_duis_request req;
		struct hfw_verify_result r;
		xmlDocPtr doc = NULL;
		xmlChar *canon = NULL;
		int clen = 0;
		char cmd[8192], file[64];

		request_of(bodies[i], &req, 1000 + i);
		if (hfw_duis_sign_request(&out, signer, &req, NULL, &err) != 0)
			fail_msg("body %zu: %s", i, err.text);
		/* hanfw verifies it, and what was signed fits the DCC's XSD. */
		if (verify(out.data, out.len, &r, shared_path(DCC_XSD), &err) != 0)
			fail_msg("body %zu: %s", i, err.text);
		assert_string_equal(r.service_reference, hfw_duis_service_reference(bodies[i]));
		/* The text hanfw writes is exactly its own inclusive C14N (the fast path is sound). */
		assert_int_equal(hfw_duis_build(&body, &req, &err), 0);
		assert_int_equal(hfw_xml_parse(&doc, (uint8_t *)out.data, out.len, "o", &err), 0);
		assert_int_equal(hfw_xml_c14n_document(&canon, &clen, doc,
						       hfw_xml_child(xmlDocGetRootElement(doc), HFW_NS_DSIG, "Signature"), &err), 0);
		assert_int_equal((size_t)clen, body.len);
		assert_memory_equal(canon, body.data, body.len);
		/* xmlsec1, an implementation nobody here wrote, agrees. */
		snprintf(file, sizeof(file), "req%zu.xml", i);
		write_file(tmp(file), out.data, out.len);
		snprintf(cmd, sizeof(cmd), "xmlsec1 --verify --pubkey-cert-pem '%s' '%s' >/dev/null 2>&1",
			 tmp("xml.pem"), tmp(file));
		if (system(cmd) != 0)
			fail_msg("xmlsec1 does not verify body %zu", i);
		xmlFree(canon);
		xmlFreeDoc(doc);
		hfw_buf_release(&out);
		hfw_buf_release(&body);
	}
}

/* Sign a fresh 11.3 request; tamper with it by replacing from with to; expect text. */
static void tampered(const char *from, const char *to, int code, const char *text)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_buf out = HFW_BUF_INIT(1 << 20), t = HFW_BUF_INIT(1 << 20);
	struct hfw_duis_request req;
	struct hfw_verify_result r;
	char *at;

	request_of(HFW_BODY_ACTIVATE_FIRMWARE, &req, 77);
	assert_int_equal(hfw_duis_sign_request(&out, signer, &req, NULL, &err), 0);
	assert_int_equal(verify(out.data, out.len, &r, NULL, &err), 0);
	if (!(at = strstr(out.data, from)))
		fail_msg("'%s' not in the signed request", from);
	assert_int_equal(hfw_buf_append(&t, out.data, (size_t)(at - out.data), &err), 0);
	assert_int_equal(hfw_buf_puts(&t, to, &err), 0);
	assert_int_equal(hfw_buf_puts(&t, at + strlen(from), &err), 0);
	assert_int_equal(verify(t.data, t.len, &r, NULL, &err), code);
	if (!strstr(err.text, text))
		fail_msg("tampering '%s' -> '%s': expected \"%s\" in \"%s\"", from, to, text, err.text);
	hfw_buf_release(&out);
	hfw_buf_release(&t);
}

static void tampering_is_refused_with_a_reason(void **state)
{
	(void)state;
	tampered("<sr:FirmwareHash>75", "<sr:FirmwareHash>76", HFW_EVERIFY, "DigestValue does not match");
	tampered("schemaVersion=\"5.4\"", "schemaVersion=\"5.3\"", HFW_EVERIFY, "DigestValue does not match");
	tampered("<sr:Request xmlns:sr=", "<sr:Request xmlns:x=\"urn:x\" xmlns:sr=", HFW_EVERIFY, "DigestValue does not match");
	tampered(":77</sr:RequestID>", ":78</sr:RequestID>", HFW_EVERIFY, "DigestValue does not match");
	tampered("<ds:DigestValue>", "<ds:DigestValue>A", HFW_EVERIFY, "DigestValue");
	tampered("<ds:SignatureValue>", "<ds:SignatureValue>AAAA", HFW_EVERIFY, "SignatureValue");
	tampered("</sr:Header>", "</sr:Header>\n", HFW_EVERIFY, "DigestValue does not match");
	tampered("<ds:SignedInfo>", "<ds:SignedInfo> ", HFW_EVERIFY, "SignatureValue does not verify");
	tampered("xmldsig-more#ecdsa-sha256", "xmldsig-more#rsa-sha256", HFW_EVERIFY,
		 "SignatureMethod algorithm");
	tampered("xml-exc-c14n#\"", "xml-c14n11\"", HFW_EVERIFY, "CanonicalizationMethod algorithm");
	tampered("xmlenc#sha256", "xmldsig#sha1", HFW_EVERIFY, "DigestMethod algorithm");
	tampered("</ds:Reference>", "</ds:Reference><ds:Reference URI=\"#x\"></ds:Reference>", HFW_EVERIFY,
		 "more than one Reference");
	tampered("<ds:Reference URI=\"\">", "<ds:Reference URI=\"#body\">", HFW_EVERIFY, "URI=\"\"");
	tampered("</ds:Transforms>", "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"></ds:Transform></ds:Transforms>",
		 HFW_EVERIFY, "exactly one Transform");
	tampered("<ds:X509SerialNumber>", "<ds:X509SerialNumber>1", HFW_EVERIFY, "no such certificate in the trust directory");
	tampered("<ds:X509IssuerName>", "<ds:X509IssuerName>CN=Evil,", HFW_EVERIFY, "no such certificate in the trust directory");
	tampered("</sr:Body>", "</sr:Body><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"></ds:Signature>",
		 HFW_EVERIFY, "2 Signature elements");
	tampered("</ds:Signature></sr:Request>", "</ds:Signature><sr:Body></sr:Body></sr:Request>", HFW_EVERIFY,
		 "not the last child");
	tampered("</ds:KeyInfo>", "</ds:KeyInfo><ds:Object></ds:Object>", HFW_EVERIFY, "and nothing else");
}

static void moved_and_missing_signatures(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_buf out = HFW_BUF_INIT(1 << 20);
	struct hfw_duis_request req;
	struct hfw_verify_result r;
	struct hfw_verify_options allow = { NULL, 1, 0, NULL, NULL, 0 };
	char *sig_start, *sig_end, moved[4096];
	size_t siglen;

	(void)state;
	request_of(HFW_BODY_READ_FIRMWARE_VERSION, &req, 5);
	assert_int_equal(hfw_duis_sign_request(&out, signer, &req, NULL, &err), 0);
	sig_start = strstr(out.data, "<ds:Signature");
	sig_end = strstr(out.data, "</ds:Signature>") + strlen("</ds:Signature>");
	siglen = (size_t)(sig_end - sig_start);
	/* Moved into the Header. */
	snprintf(moved, sizeof(moved), "%.*s%.*s%s", (int)(strstr(out.data, "</sr:Header>") - out.data), out.data,
		 (int)siglen, sig_start, strstr(out.data, "</sr:Header>"));
	moved[strlen(moved) - strlen(sig_start)] = '\0';
	strncat(moved, sig_end, sizeof(moved) - strlen(moved) - 1);
	assert_int_equal(verify(moved, strlen(moved), &r, NULL, &err), HFW_EVERIFY);
	assert_non_null(strstr(err.text, "not the last child"));
	/* Missing. */
	memmove(sig_start, sig_end, strlen(sig_end) + 1);
	assert_int_equal(verify(out.data, strlen(out.data), &r, NULL, &err), HFW_EVERIFY);
	assert_non_null(strstr(err.text, "is not signed"));
	/* Allowed unsigned: reported as unsigned, never as verified. */
	assert_int_equal(hfw_xmldsig_verify(&r, (uint8_t *)out.data, strlen(out.data), &allow, &err), 0);
	assert_false(r.is_signed);
	hfw_buf_release(&out);
}

static void hostile_xml_is_refused(void **state)
{
	static const char *const hostile[] = {
		"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
		"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><sr:Response xmlns:sr=\"" HFW_NS_DUIS "\">&c;</sr:Response>",
		"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		"<sr:Response xmlns:sr=\"" HFW_NS_DUIS "\">&x;</sr:Response>",
		"<!DOCTYPE sr:Response SYSTEM \"http://127.0.0.1:1/x.dtd\"><sr:Response xmlns:sr=\"" HFW_NS_DUIS "\"/>",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_verify_result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		assert_int_equal(verify(hostile[i], strlen(hostile[i]), &r, NULL, &err), HFW_EINPUT);
		assert_non_null(strstr(err.text, "DOCTYPE"));
	}
	assert_int_equal(verify("<sr:Response", 12, &r, NULL, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "not well-formed"));
	assert_int_equal(verify("<x/>", 4, &r, NULL, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "not a DUIS message"));
	assert_int_equal(verify("<x/>", HFW_MAX_DUIS_BYTES + 1, &r, NULL, &err), HFW_ELIMIT);
}

static void request_ids(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_request_id id;
	char text[HFW_REQUEST_ID_MAX];
	static const char *const bad[] = {
		"90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:", "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:01",
		"90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:18446744073709551616",
		"90-B3-D5-1F-30-01-00-00::00-DB-12-34-56-78-90-A0:1", "90B3D51F30010000:00DB1234567890A0:1",
		"90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1x",
	};
	size_t i;

	(void)state;
	assert_int_equal(hfw_request_id_parse(&id, "90-b3-d5-1f-30-01-00-00:00-DB-12-34-56-78-90-A0:18446744073709551615",
					      &err), 0);
	assert_true(id.counter == UINT64_MAX);
	hfw_request_id_format(text, &id);
	assert_string_equal(text, "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:18446744073709551615");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hfw_request_id_parse(&id, bad[i], &err), HFW_EINPUT);
}

/* A DCC template request, with text appended after it. */
static char *template_with(const char *tail, size_t *len)
{
	uint8_t *t = NULL;
	size_t tlen = 0;
	struct hfw_error err = HFW_ERROR_INIT;
	const char *p = shared_path("dcc/templates/CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML");
	char *out;

	if (hfw_file_read(&t, &tlen, p, 1 << 20, "template", &err) < 0)
		fail_msg("%s", err.text);
	assert_non_null(out = malloc(tlen + strlen(tail) + 1));
	memcpy(out, t, tlen);
	memcpy(out + tlen, tail, strlen(tail) + 1);
	*len = tlen + strlen(tail);
	free(t);
	return out;
}

static int ends_with(const char *s, size_t len, const char *end)
{
	return len >= strlen(end) && memcmp(s + len - strlen(end), end, strlen(end)) == 0;
}

static void nothing_after_the_root_decides_where_the_signature_goes(void **state)
{
	static const char *const tails[] = { "<!-- </x> -->\n", "<?pi </sr:Request>?>", "\n<!--</sr:Body>-->\n<?x?>" };
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_verify_result r;
	char *in, *out;
	size_t i, len, olen;

	(void)state;
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		in = template_with(tails[i], &len);
		if (hfw_xmldsig_sign_document(&out, &olen, signer, (const uint8_t *)in, len, NULL, &err) < 0)
			fail_msg("%s", err.text);
		if (verify(out, olen, &r, NULL, &err) < 0)
			fail_msg("tail %zu: %s", i, err.text);
		assert_true(r.is_signed);
		assert_true(ends_with(out, olen, "</ds:Signature></sr:Request>"));
		assert_null(strstr(out, "<!--"));
		assert_null(strstr(out, "<?pi"));
		free(out);
		free(in);
	}
}

struct breaker {
	const char *request_id;	/* what prepare writes into the RequestID, or NULL to fail */
};

/* A prepare that spoils the validated request: its signed form cannot pass validation. */
static int spoil(void *arg, xmlDocPtr doc, struct hfw_error *err)
{
	struct breaker *b = arg;
	xmlNodePtr n;

	if (!b->request_id)
		return hfw_error_set(err, HFW_EINPUT, "refused by prepare");
	for (n = xmlDocGetRootElement(doc)->children; n && !xmlStrEqual(n->name, BAD_CAST "Header"); n = n->next)
		;
	for (n = n ? n->children : NULL; n && !xmlStrEqual(n->name, BAD_CAST "RequestID"); n = n->next)
		;
	assert_non_null(n);
	xmlNodeSetContent(n, BAD_CAST b->request_id);
	return 0;
}

static void a_signed_request_must_verify_before_it_is_handed_back(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct breaker b = { "not a RequestID" };
	int signed_over = -1;
	struct hfw_sign_options o = { NULL, spoil, &b, NULL, &signed_over };
	char *in, *out = (char *)"unset";
	size_t len, olen = 0;

	(void)state;
	in = template_with("", &len);
	assert_int_equal(hfw_xmldsig_sign_document(&out, &olen, signer, (const uint8_t *)in, len, &o, &err),
			 HFW_EVERIFY);
	assert_null(out);
	assert_int_equal(signed_over, 1);
	assert_non_null(strstr(err.text, "signed request failed its own verification, so it was not written"));
	/* Refused before signing: nothing was signed over. */
	b.request_id = NULL;
	assert_int_equal(hfw_xmldsig_sign_document(&out, &olen, signer, (const uint8_t *)in, len, &o, &err),
			 HFW_EINPUT);
	assert_int_equal(signed_over, 0);
	/* Untouched, it signs, and says it did. */
	b.request_id = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1001";
	assert_int_equal(hfw_xmldsig_sign_document(&out, &olen, signer, (const uint8_t *)in, len, &o, &err), 0);
	assert_int_equal(signed_over, 1);
	assert_non_null(strstr(out, ":1001</sr:RequestID>"));
	free(out);
	free(in);
}

static void sign_canonical_needs_the_root_end_tag_last(void **state)
{
	static const char *const bad[] = {
		"<sr:Request><sr:Header></sr:Header></sr:Request><!-- </x> -->",
		"<sr:Request><sr:Header></sr:Header></sr:Request><?pi </x>?>",
		"<sr:Request><sr:Header></sr:Header></sr:Requests>",
		"<sr:Request><sr:Header></sr:Header>",
		"<sr:Request/>",
		"",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_buf b = HFW_BUF_INIT(1 << 16);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b.len = 0;
		assert_int_equal(hfw_buf_puts(&b, HFW_XML_DECL, &err), 0);
		assert_int_equal(hfw_buf_puts(&b, bad[i], &err), 0);
		if (hfw_xmldsig_sign_canonical(&b, strlen(HFW_XML_DECL), signer, &err) != HFW_EINPUT)
			fail_msg("signed '%s'", bad[i]);
		assert_non_null(strstr(err.text, "does not end with its root's end tag"));
	}
	b.len = 0;
	assert_int_equal(hfw_buf_puts(&b, "<sr:Request><sr:Header></sr:Header></sr:Request>", &err), 0);
	assert_int_equal(hfw_xmldsig_sign_canonical(&b, 0, signer, &err), 0);
	assert_true(ends_with(b.data, b.len, "</ds:Signature></sr:Request>"));
	hfw_buf_release(&b);
}

/* Device certificates and XML-signing ones never share a store, whichever directory they are put in. */
static void trust_keeps_device_certificates_apart(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_pki_request r = { NULL, "87", "90-B3-D5-1F-30-01-00-00", 0, 365, NULL, NULL, NULL, NULL };
	hfw_trust *t = NULL;
	hfw_cert *c = NULL;
	struct hfw_cert_info ci;
	size_t next = 0;
	char cak[4096], cac[4096];

	(void)state;
	snprintf(cak, sizeof(cak), "%s", tmp("ca.key"));	/* tmp()'s buffers are reused */
	snprintf(cac, sizeof(cac), "%s", tmp("ca.pem"));
	r.ca_key = cak;
	r.ca_cert = cac;
	assert_int_equal(mkdir(tmp("t"), 0700), 0);
	assert_int_equal(mkdir(tmp("t/devices"), 0700), 0);
	if (hfw_pki_issue(tmp("t/user.key"), tmp("t/user.pem"), &r, &err) < 0 ||
	    hfw_pki_issue_device(tmp("t/devices/a.key"), tmp("t/devices/a.pem"), &(struct hfw_pki_request){
		NULL, NULL, "00-DB-12-00-00-00-00-0A", 0, 365, NULL, NULL, cak, cac }, &err) < 0 ||
	    hfw_pki_issue_device(tmp("t/b.key"), tmp("t/b.pem"), &(struct hfw_pki_request){
		NULL, NULL, "00-DB-12-00-00-00-00-0B", 0, 365, NULL, NULL, cak, cac }, &err) < 0)
		fail_msg("%s", err.text);
	r.role = "89";
	assert_int_equal(hfw_pki_issue(tmp("t/devices/dcc.key"), tmp("t/devices/dcc.pem"), &r, &err), 0);

	/* A device's certificate: empty subject, EUI from its hardwareModuleName. */
	assert_int_equal(hfw_cert_load(&c, tmp("t/b.pem"), &err), 0);
	hfw_cert_info(c, &ci);
	hfw_cert_free(c);
	assert_string_equal(ci.subject, "");
	assert_string_equal(ci.eui, "00-DB-12-00-00-00-00-0B");
	assert_int_equal(hfw_signer_role_of(&ci), HFW_ROLE_DEVICE);

	if (hfw_trust_load_dir(&t, tmp("t"), &err) < 0)
		fail_msg("%s", err.text);
	assert_int_equal(hfw_trust_count(t), 1);		/* the user's; not the misfiled device */
	assert_int_equal(hfw_trust_device_count(t), 1);		/* the device's; not the misfiled DCC one */
	assert_non_null(strstr(hfw_trust_notice(t, 0), "device certificates go in"));
	assert_non_null(hfw_trust_notice(t, 1));
	assert_null(hfw_trust_notice(t, 2));
	assert_non_null(hfw_trust_find_eui(t, "00-db-12-00-00-00-00-0a", &next));
	next = 0;
	assert_null(hfw_trust_find_eui(t, "00-DB-12-00-00-00-00-0B", &next));
	next = 0;
	assert_null(hfw_trust_find_eui(t, "90-B3-D5-1F-30-01-00-00", &next));	/* XML trust is never searched */
	/* One at a time, a device's certificate is refused as XML trust. */
	assert_int_equal(hfw_trust_add_file(t, tmp("t/b.pem"), &err), HFW_EKEY);
	assert_non_null(strstr(err.text, "not an XML-signing certificate"));
	hfw_trust_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dcc_boxed_response_verifies),
		cmocka_unit_test(every_request_signs_verifies_and_fits_the_dcc_schema),
		cmocka_unit_test(tampering_is_refused_with_a_reason),
		cmocka_unit_test(moved_and_missing_signatures),
		cmocka_unit_test(hostile_xml_is_refused),
		cmocka_unit_test(request_ids),
		cmocka_unit_test(nothing_after_the_root_decides_where_the_signature_goes),
		cmocka_unit_test(a_signed_request_must_verify_before_it_is_handed_back),
		cmocka_unit_test(sign_canonical_needs_the_root_end_tag_last),
		cmocka_unit_test(trust_keeps_device_certificates_apart),
	};

	return cmocka_run_group_tests_name("xmldsig", tests, setup, teardown);
}
