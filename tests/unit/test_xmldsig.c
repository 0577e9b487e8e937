/*
 * Unit tests: DUIS requests and XML signatures in the DCC's profile,
 * against DCC Boxed's own signed response, the DCC's XSD and xmlsec1.
 */
#define TESTUTIL_PKI
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
	return path_in(dir, name);
}

static int setup(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;

	(void)state;
	dir = test_pki_dir(&signer, NULL, "90-B3-D5-1F-30-01-00-00");
	if (hfw_trust_load_dir(&trust, shared_path("dcc/zaz1"), &err) < 0 ||
	    hfw_trust_add_file(trust, tmp("xml.pem"), &err) < 0)
		fail_msg("%s", err.text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hfw_trust_free(trust);
	test_pki_dir_free(dir, signer, NULL);
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

/* Write request_id into the validated tree's RequestID, as a batch's counter step does. */
static void set_request_id(xmlDocPtr doc, const char *request_id)
{
	xmlNodePtr n;

	for (n = xmlDocGetRootElement(doc)->children; n && !xmlStrEqual(n->name, BAD_CAST "Header"); n = n->next)
		;
	for (n = n ? n->children : NULL; n && !xmlStrEqual(n->name, BAD_CAST "RequestID"); n = n->next)
		;
	assert_non_null(n);
	xmlNodeSetContent(n, BAD_CAST request_id);
}

/* Signed in two steps (a batch's): a tree spoiled between them fails its own verification. */
static void a_signed_request_must_verify_before_it_is_handed_back(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_sign_options o = { NULL, NULL, 0 };
	xmlDocPtr doc = NULL;
	char *in, *out = (char *)"unset";
	size_t len, olen = 0;

	(void)state;
	in = template_with("", &len);
	assert_int_equal(hfw_xmldsig_sign_open(&doc, (const uint8_t *)in, len, NULL, &err), 0);
	set_request_id(doc, "not a RequestID");
	assert_int_equal(hfw_xmldsig_sign_tree(&out, &olen, signer, doc, &o, &err), HFW_EVERIFY);
	assert_null(out);
	assert_non_null(strstr(err.text, "signed request failed its own verification, so it was not written"));
	xmlFreeDoc(doc);
	/* Not valid: refused by the first step, with no tree. */
	assert_int_equal(hfw_xmldsig_sign_open(&doc, (const uint8_t *)"<sr:Request/>", 13, NULL, &err), HFW_EINPUT);
	assert_null(doc);
	/* Completed properly, it signs. */
	assert_int_equal(hfw_xmldsig_sign_open(&doc, (const uint8_t *)in, len, NULL, &err), 0);
	set_request_id(doc, "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1001");
	assert_int_equal(hfw_xmldsig_sign_tree(&out, &olen, signer, doc, &o, &err), 0);
	assert_non_null(strstr(out, ":1001</sr:RequestID>"));
	free(out);
	xmlFreeDoc(doc);
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

/* hfw_trust_load_dir(dir) must refuse with code and a message containing what. */
static void load_refused(const char *where, int code, const char *what)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_trust *t = NULL;
	int ret = hfw_trust_load_dir(&t, where, &err);

	if (ret != code || !strstr(err.text, what))
		fail_msg("expected %d naming '%s', got %d: %s", code, what, ret, err.text);
	assert_null(t);
	assert_null(strchr(err.text, '\n'));
}

/* An empty file at path. */
static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fclose(f);
}

/*
 * Device certificates and XML-signing ones never share a store, and a
 * certificate in the wrong place fails closed: a device's misfiled among
 * the XML certificates once left its device's GBCS signatures unchecked.
 */
static void trust_keeps_device_certificates_apart(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_pki_request r = { NULL, "87", "90-B3-D5-1F-30-01-00-00", 0, 365, NULL, NULL, NULL, NULL, 0 };
	hfw_trust *t = NULL;
	hfw_cert *c = NULL;
	struct hfw_cert_info ci;
	char cak[4096], cac[4096], path[4096];
	int i;

	(void)state;
	snprintf(cak, sizeof(cak), "%s", tmp("ca.key"));	/* tmp()'s buffers are reused */
	snprintf(cac, sizeof(cac), "%s", tmp("ca.pem"));
	r.ca_key = cak;
	r.ca_cert = cac;
	assert_int_equal(mkdir(tmp("t"), 0700), 0);
	assert_int_equal(mkdir(tmp("t/devices"), 0700), 0);
	assert_int_equal(mkdir(tmp("keys"), 0700), 0);
	if (hfw_pki_issue(tmp("keys/user.key"), tmp("t/user.pem"), &r, &err) < 0 ||
	    hfw_pki_issue_device(tmp("keys/a.key"), tmp("t/devices/a.pem"), &(struct hfw_pki_request){
		NULL, NULL, "00-DB-12-00-00-00-00-0A", 0, 365, NULL, NULL, cak, cac, 0 }, &err) < 0 ||
	    hfw_pki_issue_device(tmp("keys/b.key"), tmp("t/b.pem"), &(struct hfw_pki_request){
		NULL, NULL, "00-DB-12-00-00-00-00-0B", 0, 365, NULL, NULL, cak, cac, 0 }, &err) < 0)
		fail_msg("%s", err.text);
	/* A device's certificate: empty subject, EUI from its hardwareModuleName. */
	assert_int_equal(hfw_cert_load(&c, tmp("t/b.pem"), &err), 0);
	hfw_cert_info(c, &ci);
	hfw_cert_free(c);
	assert_string_equal(ci.subject, "");
	assert_string_equal(ci.eui, "00-DB-12-00-00-00-00-0B");
	assert_int_equal(hfw_signer_role_of(&ci), HFW_ROLE_DEVICE);

	/* Each misplacement refuses the whole directory, naming the file and where it belongs. */
	load_refused(tmp("t"), HFW_EKEY, "b.pem' is the device certificate of 00-DB-12-00-00-00-00-0B: device certificates go in '");
	assert_int_equal(rename(tmp("t/b.pem"), tmp("t/devices/00db12000000000b-ds.pem")), 0);
	load_refused(tmp("t"), HFW_EKEY, "a.pem' is a certificate not named by its EUI: device certificates are found by name, '");
	load_refused(tmp("t"), HFW_EKEY, "(rename it '00db12000000000a-ds.pem')");
	assert_int_equal(rename(tmp("t/devices/a.pem"), tmp("t/devices/00db12000000000a-ds.pem")), 0);
	r.role = "89";
	assert_int_equal(hfw_pki_issue(tmp("keys/dcc.key"), tmp("t/devices/dcc.pem"), &r, &err), 0);
	load_refused(tmp("t"), HFW_EKEY, "dcc.pem' is an XML-signing certificate (role 89): it belongs in the trust directory itself");
	assert_int_equal(rename(tmp("t/devices/dcc.pem"), tmp("t/dcc.pem")), 0);
	/* Key agreement certificates and keys named by EUI, and files that are not certificates, are passed over. */
	touch(tmp("t/devices/00db12000000000a-ka.pem"));
	touch(tmp("t/devices/00db12000000000a-ds.key"));
	touch(tmp("t/devices/README"));

	if (hfw_trust_load_dir(&t, tmp("t"), &err) < 0)
		fail_msg("%s", err.text);
	assert_int_equal(hfw_trust_count(t), 2);		/* the user's and the DCC's */
	assert_int_equal(hfw_trust_device_count(t), 2);
	assert_int_equal(hfw_trust_device_cert(&c, t, "00-db-12-00-00-00-00-0a", &err), 0);
	assert_non_null(c);
	hfw_cert_info(c, &ci);
	hfw_cert_free(c);
	assert_string_equal(ci.eui, "00-DB-12-00-00-00-00-0A");
	assert_int_equal(hfw_trust_device_cert(&c, t, "00-DB-12-00-00-00-00-0C", &err), 0);	/* none */
	assert_null(c);
	assert_int_equal(hfw_trust_device_cert(&c, t, "90-B3-D5-1F-30-01-00-00", &err), 0);	/* XML trust is never searched */
	assert_null(c);
	/* A file named for one EUI that holds another's certificate is an error, never "none". */
	assert_int_equal(link(tmp("t/devices/00db12000000000b-ds.pem"), tmp("t/devices/00db12000000000c-ds.pem")), 0);
	assert_int_equal(hfw_trust_device_cert(&c, t, "00-DB-12-00-00-00-00-0C", &err), HFW_EKEY);
	assert_null(c);
	assert_non_null(strstr(err.text, "is not the GBCS digital-signing certificate of 00-DB-12-00-00-00-00-0C (it names 00-DB-12-00-00-00-00-0B)"));
	assert_int_equal(unlink(tmp("t/devices/00db12000000000c-ds.pem")), 0);
	/* Upper-case hex names are found too. */
	assert_int_equal(rename(tmp("t/devices/00db12000000000b-ds.pem"), tmp("t/devices/00DB12000000000B-ds.pem")), 0);
	assert_int_equal(hfw_trust_device_cert(&c, t, "00-DB-12-00-00-00-00-0B", &err), 0);
	assert_non_null(c);
	hfw_cert_free(c);
	/* One at a time, a device's certificate is refused as XML trust. */
	assert_int_equal(hfw_trust_add_file(t, tmp("t/devices/00db12000000000a-ds.pem"), &err), HFW_EKEY);
	assert_non_null(strstr(err.text, "not an XML-signing certificate"));
	hfw_trust_free(t);
	t = NULL;

	/*
	 * No device is ever passed over: 5,000 more files in devices/ (the old
	 * scan stopped at 4,096), each looked up by name; an unreadable one is
	 * an error.
	 */
	for (i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "%s/devices/00db13%010x-ds.pem", tmp("t"), (unsigned)i);
		touch(path);
	}
	if (hfw_trust_load_dir(&t, tmp("t"), &err) < 0)
		fail_msg("%s", err.text);
	assert_int_equal(hfw_trust_device_count(t), 5002);
	assert_int_equal(hfw_trust_device_cert(&c, t, "00-DB-12-00-00-00-00-0A", &err), 0);
	assert_non_null(c);
	hfw_cert_free(c);
	assert_true(hfw_trust_device_cert(&c, t, "00-DB-13-00-00-00-13-87", &err) < 0);	/* an empty file */
	assert_null(c);
	hfw_trust_free(t);
	t = NULL;

	/* devices/ that is not a directory is an error, not passed over. */
	assert_int_equal(mkdir(tmp("u"), 0700), 0);
	assert_int_equal(link(tmp("t/user.pem"), tmp("u/user.pem")), 0);
	touch(tmp("u/devices"));
	load_refused(tmp("u"), HFW_EIO, "devices' cannot be read or is not a directory");
	/* Nor are XML trust directories of more than 4,096 files cut short. */
	assert_int_equal(unlink(tmp("u/devices")), 0);
	for (i = 0; i < 4097; i++) {
		snprintf(path, sizeof(path), "%s/x%d", tmp("u"), i);
		touch(path);
	}
	load_refused(tmp("u"), HFW_ELIMIT, "has more than 4096 files: refused");
}

/* A Response's signer must carry an EUI, and the one dcc_signer_eui pins if set. */
static void a_response_signer_must_carry_the_dcc_eui(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_pki_request r = { NULL, "89", "90-B3-D5-1F-30-00-00-02", 0, 365, NULL, NULL, NULL, NULL, 0 };
	struct hfw_verify_options vo = { 0 };
	struct hfw_verify_result res;
	hfw_signer *dcc = NULL;
	hfw_trust *t = NULL;
	struct hfw_buf b = HFW_BUF_INIT(1 << 16);
	static const char response[] =
		"<sr:Response xmlns:sr=\"http://www.dccinterface.co.uk/ServiceUserGateway\" schemaVersion=\"5.4\"><sr:Header>"
		"<sr:ResponseID>90-B3-D5-1F-30-00-00-02:90-B3-D5-1F-30-01-00-00:1</sr:ResponseID><sr:ResponseCode>I0</sr:ResponseCode>"
		"<sr:ResponseDateTime>2026-11-27T10:00:00.000Z</sr:ResponseDateTime></sr:Header><sr:Body><sr:ResponseMessage>"
		"<sr:ServiceReference>11.2</sr:ServiceReference><sr:ServiceReferenceVariant>11.2</sr:ServiceReferenceVariant>"
		"<sr:GBCSPayload>3QAAAAAAAFURAAAAAN8JAgAAAYKse1oHCIhzhFcAL5YeCJCz1R8wAAACABIAWZCz1R8wAQAAAAABgqx7WN8R2iB7WgcAAAEJBAwjAAABAQAAnbt9CWxcgwworYef</sr:GBCSPayload>"
		"</sr:ResponseMessage></sr:Body></sr:Response>";
	char cak[4096], cac[4096];
	int pass;

	(void)state;
	snprintf(cak, sizeof(cak), "%s", tmp("ca.key"));
	snprintf(cac, sizeof(cac), "%s", tmp("ca.pem"));
	r.ca_key = cak;
	r.ca_cert = cac;
	assert_int_equal(mkdir(tmp("d"), 0700), 0);
	assert_int_equal(mkdir(tmp("n"), 0700), 0);
	if (hfw_pki_issue(tmp("d.key"), tmp("d/dcc.pem"), &r, &err) < 0)
		fail_msg("%s", err.text);
	r.eui = NULL;	/* a role 89 certificate with no EUI */
	if (hfw_pki_issue(tmp("n.key"), tmp("n/dcc.pem"), &r, &err) < 0)
		fail_msg("%s", err.text);
	for (pass = 0; pass < 4; pass++) {
		const char *where = pass == 3 ? tmp("n") : tmp("d");
		int ret;

		if (hfw_signer_open(&dcc, pass == 3 ? tmp("n.key") : tmp("d.key"),
				    pass == 3 ? tmp("n/dcc.pem") : tmp("d/dcc.pem"), NULL, &err) < 0 ||
		    hfw_trust_load_dir(&t, where, &err) < 0)
			fail_msg("%s", err.text);
		/* Pass 0: unpinned; 1: pinned to its EUI; 2: pinned to another; 3: no EUI at all. */
		assert_int_equal(hfw_trust_pin_dcc_eui(t, pass == 1 ? "90b3d51f30000002" : pass == 2 ? "90-B3-D5-1F-30-00-00-09" : NULL, &err), 0);
		b.len = 0;
		assert_int_equal(hfw_buf_puts(&b, response, &err), 0);
		if (hfw_xmldsig_sign_canonical(&b, 0, dcc, &err) < 0)
			fail_msg("%s", err.text);
		vo.trust = t;
		vo.schema_if_known = 1;
		memset(&res, 0, sizeof(res));
		ret = hfw_xmldsig_verify(&res, (const uint8_t *)b.data, b.len, &vo, &err);
		if (pass < 2) {
			if (ret != 0)
				fail_msg("pass %d: %s", pass, err.text);
		} else {
			assert_int_equal(ret, HFW_EVERIFY);
			assert_true(res.role_refused);
			assert_non_null(strstr(err.text, pass == 2 ? "EUI 90-B3-D5-1F-30-00-00-02, refused: a Response must be signed by the DCC's XML-signing certificate, whose EUI dcc_signer_eui sets to 90-B3-D5-1F-30-00-00-09"
								   : "with no EUI, refused: a Response must be signed by the DCC's XML-signing certificate (role 89), which carries the DCC's EUI"));
		}
		hfw_trust_free(t);
		hfw_signer_free(dcc);
		t = NULL;
		dcc = NULL;
	}
	assert_int_equal(hfw_trust_new(&t, &err), 0);
	assert_int_equal(hfw_trust_pin_dcc_eui(t, "nonsense", &err), HFW_EINPUT);
	hfw_trust_free(t);
	hfw_buf_release(&b);
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
		cmocka_unit_test(a_response_signer_must_carry_the_dcc_eui),
	};

	return cmocka_run_group_tests_name("xmldsig", tests, setup, teardown);
}
