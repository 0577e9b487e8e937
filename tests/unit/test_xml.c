/*
 * Unit tests: the limits hfw_xml_parse enforces while it parses, before
 * anything proves who sent a document (issue 11).  The hostile shapes are
 * built in memory (hostile.h, shared with bench_xmllimits); every real DUIS document (../shared's templates and
 * DCC Boxed's responses, and the largest request hanfw writes) still parses.
 */
#include "testutil.h"

#define HOSTILE_FAIL(what) fail_msg("%s", what)
#include "hostile.h"

#include <dirent.h>

#include "../../lib/duis.h"
#include "../../lib/image.h"
#include "../../lib/xml.h"

/* hfw_xml_parse(t) must refuse with HFW_ELIMIT and a message containing rule. */
static void refused(struct text *t, const char *rule)
{
	struct hfw_error err = HFW_ERROR_INIT;
	xmlDocPtr doc = NULL;
	int ret = hfw_xml_parse(&doc, (const uint8_t *)t->s, t->n, "response", &err);

	if (ret != HFW_ELIMIT || !strstr(err.text, rule) || !strstr(err.text, "refused before verification"))
		fail_msg("expected a refusal naming '%s', got %d: %s", rule, ret, err.text);
	assert_null(doc);
	assert_null(strchr(err.text, '\n'));
	text_free(t);
}

static void parses(const char *what, const void *data, size_t len)
{
	struct hfw_error err = HFW_ERROR_INIT;
	xmlDocPtr doc = NULL;

	if (hfw_xml_parse(&doc, data, len, what, &err) != 0)
		fail_msg("%s: %s", what, err.text);
	xmlFreeDoc(doc);
}

static void nested_namespace_declarations_are_refused(void **state)
{
	struct text t = { 0 };
	int i, j;

	(void)state;
	/* The shape that took 13 s to refuse: 100 nested elements, each declaring 80 namespaces. */
	hostile_nested_namespaces(&t, "e", 100, 80);
	refused(&t, "more than 32 namespace declarations on one element at line 1");
	/* Few on each element, too many in scope: 10 levels of 8. */
	for (i = 0; i < 10; i++) {
		put(&t, "<e");
		for (j = 0; j < 8; j++)
			put(&t, "\n xmlns:p%d_%d=\"urn:x:%d\"", i, j, j);
		put(&t, ">");
	}
	for (i = 0; i < 10; i++)
		put(&t, "</e>");
	refused(&t, "more than 32 namespace declarations in scope at line 41");
	/* 32 in scope is allowed. */
	put(&t, "<r");
	for (j = 0; j < 32; j++)
		put(&t, " xmlns:p%d=\"urn:x:%d\"", j, j);
	put(&t, "><p0:a/></r>");
	parses("32 declarations", t.s, t.n);
	free(t.s);
}

static void deep_nesting_is_refused(void **state)
{
	struct text t = { 0 };

	(void)state;
	hostile_deep(&t, "a", 10000);
	refused(&t, "more than 32 levels of nested elements");
	hostile_deep(&t, "a", 32);
	parses("32 levels", t.s, t.n);
	free(t.s);
}

static void many_attributes_are_refused(void **state)
{
	struct text t = { 0 };
	int i;

	(void)state;
	put(&t, "<a");
	for (i = 0; i < 1000; i++)
		put(&t, " a%d=\"%d\"", i, i);
	put(&t, "/>");
	refused(&t, "more than 32 attributes on one element at line 1");
	/* 2 MB of them on one tag: libxml2 2.9 alone takes minutes over it; refused before it starts. */
	hostile_attributes(&t, "<a", "a", 2000000);
	put(&t, ">");
	refused(&t, "more than 32 attributes on one element");
	/* Quoted '=' and '>' are values, not attributes; 32 is allowed. */
	put(&t, "<a");
	for (i = 0; i < 32; i++)
		put(&t, " a%d = \"x=>y='=\"", i);
	put(&t, " xmlns=\"urn:x\" xmlns:b='urn:y'/>");
	parses("32 attributes", t.s, t.n);
	text_free(&t);
	/* A few on each of many elements: a bound on the whole document too. */
	put(&t, "<r>");
	for (i = 0; i < 6000; i++)
		put(&t, "<a a='' b='' c='' d='' e='' f='' g='' h='' i='' j='' k='' l='' m='' n='' o='' p='' q='' r='' s='' t=''/>");
	put(&t, "</r>");
	refused(&t, "more than 100000 attributes in all");
}

static void many_elements_are_refused(void **state)
{
	struct text t = { 0 };
	int i;

	(void)state;
	/* 2 MB of empty elements (the listen body limit): the element cap bounds the tree. */
	put(&t, "<r>");
	hostile_repeat(&t, "<a/>", 2 * 1024 * 1024);
	put(&t, "</r>");
	refused(&t, "more than 100000 elements");
	put(&t, "<r>");
	hostile_repeat(&t, "<!---->", 2 * 1024 * 1024);
	put(&t, "</r>");
	refused(&t, "more than 10000 comments, processing instructions and CDATA sections");
	/* Within every other limit, the namespace work canonicalisation would do is bounded too. */
	put(&t, "<r");
	for (i = 0; i < 32; i++)
		put(&t, " xmlns:p%d=\"urn:x:%d\"", i, i);
	put(&t, ">");
	for (i = 0; i < 90000; i++)
		put(&t, "<a/>");
	put(&t, "</r>");
	refused(&t, "namespace work");
}

/* hfw_xml_parse must refuse data as not UTF-8 (HFW_EINPUT) with a message containing why. */
static void not_utf8(const char *what, const void *data, size_t len, const char *why)
{
	struct hfw_error err = HFW_ERROR_INIT;
	xmlDocPtr doc = NULL;
	int ret = hfw_xml_parse(&doc, data, len, "response", &err);

	if (ret != HFW_EINPUT || !strstr(err.text, "is not UTF-8") || !strstr(err.text, why) ||
	    !strstr(err.text, "refused before parsing"))
		fail_msg("%s: expected a refusal as not UTF-8 naming '%s', got %d: %s", what, why, ret, err.text);
	assert_null(doc);
	assert_null(strchr(err.text, '\n'));
}

/* ASCII text in UTF-16 or UTF-32 (width 2 or 4), big- or little-endian, with a BOM or not. */
static uint8_t *widen(const char *in, size_t len, size_t width, int big, int bom, size_t *outlen)
{
	uint8_t *out = calloc(len + 1, width), *p = out;
	size_t i;

	assert_non_null(out);
	for (i = 0; i < len + (bom ? 1 : 0); i++, p += width) {
		unsigned c = (bom && i == 0) ? 0xFEFF : (unsigned char)in[i - (bom ? 1 : 0)];
		size_t b;

		assert_true(c < 0x80 || c == 0xFEFF);
		for (b = 0; b < width; b++)
			p[big ? width - 1 - b : b] = (uint8_t)(c >> (8 * b));
	}
	*outlen = (size_t)(p - out);
	return out;
}

/* t widened by widen(), which not_utf8 must refuse naming why. */
static void not_utf8_widened(const struct text *t, size_t width, int big, int bom, const char *what, const char *why)
{
	size_t wlen;
	uint8_t *w = widen(t->s, t->n, width, big, bom, &wlen);

	not_utf8(what, w, wlen, why);
	free(w);
}

/*
 * The limits read bytes as ASCII: a UTF-16 document slipped past them
 * (95,000 attributes in UTF-16 took verify 4.7 s).  Only UTF-8 is parsed.
 */
static void documents_not_in_utf8_are_refused(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct text t = { 0 };
	uint8_t *xml;
	size_t len;
	char *body, why[64];

	(void)state;
	if (hfw_file_read(&xml, &len, shared_path("dcc/samples/11.2_readfw_response_signed.xml"), HFW_MAX_DUIS_BYTES,
			  "x", &err) < 0)
		fail_msg("%s", err.text);
	assert_true(len > 40 && !memcmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"", 36));
	body = (char *)xml + 36;
	parses("the sample", xml, len);

	/* UTF-16, declared so, little-endian with a BOM and big-endian without. */
	put(&t, "<?xml version=\"1.0\" encoding=\"UTF-16\"%.*s", (int)(len - 36), body);
	not_utf8_widened(&t, 2, 0, 1, "UTF-16LE with a BOM", "a UTF-16 byte order mark");
	not_utf8_widened(&t, 2, 1, 1, "UTF-16BE with a BOM", "a UTF-16 byte order mark");
	not_utf8_widened(&t, 2, 1, 0, "UTF-16BE without a BOM", "a NUL byte at offset 0");
	not_utf8_widened(&t, 2, 0, 0, "UTF-16LE without a BOM", "a NUL byte at offset 1");
	text_free(&t);

	/* UTF-32. */
	put(&t, "<?xml version=\"1.0\" encoding=\"UTF-32\"%.*s", (int)(len - 36), body);
	not_utf8_widened(&t, 4, 0, 1, "UTF-32LE with a BOM", "a UTF-32 byte order mark");
	not_utf8_widened(&t, 4, 1, 1, "UTF-32BE with a BOM", "a UTF-32 byte order mark");
	not_utf8_widened(&t, 4, 1, 0, "UTF-32BE without a BOM", "a NUL byte at offset 0");
	text_free(&t);

	/* Another encoding declared, whatever the bytes: named. */
	put(&t, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"%.*s", (int)(len - 36), body);
	not_utf8("ISO-8859-1 declared", t.s, t.n, "encoding \"ISO-8859-1\"");
	text_free(&t);
	put(&t, "<?xml version='1.0' standalone='no' encoding = 'utf-16'?><a/>");
	not_utf8("utf-16 declared", t.s, t.n, "encoding \"utf-16\"");
	text_free(&t);

	/* A NUL anywhere: in the middle, at the end. */
	memcpy(t.s = malloc(len), xml, len);
	t.s[len / 2] = '\0';
	snprintf(why, sizeof(why), "a NUL byte at offset %zu", len / 2);
	not_utf8("a NUL in the middle", t.s, len, why);
	t.s[len / 2] = xml[len / 2];
	t.s[len - 1] = '\0';
	snprintf(why, sizeof(why), "a NUL byte at offset %zu", len - 1);
	not_utf8("a NUL at the end", t.s, len, why);
	text_free(&t);

	/* UTF-8 and its subset US-ASCII, in any case, with or without a UTF-8 BOM, parse. */
	put(&t, "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"%.*s", (int)(len - 36), body);
	parses("utf-8 with a BOM", t.s, t.n);
	text_free(&t);
	put(&t, "<?xml version=\"1.0\" encoding='US-ASCII'%.*s", (int)(len - 36), body);
	parses("US-ASCII", t.s, t.n);
	free(t.s);
	free(xml);
}

static void real_documents_parse(void **state)
{
	static const char *const dirs[] = { "dcc/templates", "dcc/samples" };
	struct hfw_error err = HFW_ERROR_INIT;
	size_t i, seen = 0;

	(void)state;
	for (i = 0; i < 2; i++) {
		DIR *d = opendir(shared_path(dirs[i]));
		struct dirent *e;

		assert_non_null(d);
		while ((e = readdir(d))) {
			char rel[512];
			uint8_t *xml;
			size_t len;

			if (e->d_name[0] == '.')
				continue;
			snprintf(rel, sizeof(rel), "%s/%s", dirs[i], e->d_name);
			if (hfw_file_read(&xml, &len, shared_path(rel), HFW_MAX_DUIS_BYTES, "x", &err) < 0)
				fail_msg("%s", err.text);
			parses(e->d_name, xml, len);
			free(xml);
			seen++;
		}
		closedir(d);
	}
	assert_true(seen >= 11);
}

static void the_largest_request_hanfw_writes_parses(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_buf out = HFW_BUF_INIT(HFW_MAX_DUIS_BYTES);
	struct hfw_duis_request r;
	struct hfw_eui *devices = calloc(HFW_MAX_DEVICES_PER_REQUEST, sizeof(*devices));
	uint8_t *image = malloc(HFW_IMAGE_MAX_BYTES);
	size_t i;

	(void)state;
	assert_non_null(devices);
	assert_non_null(image);
	for (i = 0; i < HFW_IMAGE_MAX_BYTES; i++)
		image[i] = (uint8_t)(i * 131u);
	for (i = 0; i < HFW_MAX_DEVICES_PER_REQUEST; i++) {
		char eui[32];

		snprintf(eui, sizeof(eui), "00-DB-12-34-56-%02zX-%02zX-%02zX", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		assert_int_equal(hfw_eui_parse(&devices[i], eui, "d", &err), 0);
	}
	memset(&r, 0, sizeof(r));
	r.body = HFW_BODY_UPDATE_FIRMWARE;
	r.schema_version = "5.4";
	hfw_eui_parse(&r.id.originator, "90-B3-D5-1F-30-01-00-00", "o", &err);
	hfw_eui_parse(&r.id.target, "90-B3-D5-1F-30-00-00-02", "t", &err);
	r.id.counter = 1;
	r.image = image;
	r.image_len = HFW_IMAGE_MAX_BYTES;
	r.firmware_version = "01020304";
	r.devices = devices;
	r.ndevices = HFW_MAX_DEVICES_PER_REQUEST;
	if (hfw_duis_build(&out, &r, &err) < 0)
		fail_msg("%s", err.text);
	assert_true(out.len > 13 * 1000 * 1000);
	parses("an 11.1 request with the largest image and 50,000 devices", out.data, out.len);
	hfw_buf_release(&out);
	free(image);
	free(devices);
}

/*
 * A document whose root is a Request is validated against the Request's part
 * of the built-in schema (scripts/xsd-request-only.awk): every verdict and
 * message must be the one the whole schema (schemas/duis-firmware.xsd, read
 * from the source tree: unit tests run from its root) gives.  Each request
 * template, as it is and broken in ways that need the pruned-away parts.
 */
/* Returns 1 if both refused it. */
static int same_verdict(const char *what, const char *xml)
{
	struct hfw_error e1 = HFW_ERROR_INIT, e2 = HFW_ERROR_INIT;
	xmlDocPtr doc = NULL;
	int r1, r2;
	const char *m1, *m2;

	if (hfw_xml_parse(&doc, (const uint8_t *)xml, strlen(xml), what, &e1) != 0)
		fail_msg("%s: %s", what, e1.text);
	r1 = hfw_xml_validate(doc, NULL, &e1);
	r2 = hfw_xml_validate(doc, "schemas/duis-firmware.xsd", &e2);
	xmlFreeDoc(doc);
	m1 = strstr(e1.text, ": line ");
	m2 = strstr(e2.text, ": line ");
	if (r1 != r2 || (r1 && (!m1 || !m2 || strcmp(m1, m2) != 0)))
		fail_msg("%s: built-in %d '%s', whole schema %d '%s'", what, r1, e1.text, r2, e2.text);
	return r1 != 0;
}

/* xml with the first `from` replaced by `to`, or NULL if it has none. */
static char *replaced(const char *xml, const char *from, const char *to)
{
	const char *at = strstr(xml, from);
	size_t n;
	char *s;

	if (!at)
		return NULL;
	n = strlen(xml) - strlen(from) + strlen(to) + 1;
	assert_non_null(s = malloc(n));
	snprintf(s, n, "%.*s%s%s", (int)(at - xml), xml, to, at + strlen(from));
	return s;
}

static void requests_get_the_whole_schemas_verdict(void **state)
{
	static const char *const breaks[][4] = {
		{ "", "" },	/* as it is */
		{ "<sr:Header>", "<sr:Header><sr:ResponseCode>I0</sr:ResponseCode>" },
		{ "<sr:Body>", "<sr:Body><sr:DSPInventory/>" },
		{ "<sr:Body>", "<sr:Body><sr:ResponseMessage/>" },
		{ "</sr:Header>", "</sr:Header><sr:ResponseDateTime>2024-01-01T00:00:00Z</sr:ResponseDateTime>" },
		{ "<sr:CommandVariant>", "<sr:CommandVariant>9" },
		{ "<sr:ServiceReferenceVariant>", "<sr:ServiceReferenceVariant>9." },
		{ ":1000</sr:RequestID>", ":18446744073709551616</sr:RequestID>" },
		{ " schemaVersion=", " schemaVersionX=" },
		{ "<sr:DeviceID>", "<sr:DeviceID>0" },
		{ "<sr:Header>", "<sr:Header><sr:Header/>" },
		{ "<sr:Request ", "<sr:Response ", "</sr:Request>", "</sr:Response>" },
	};
	struct hfw_error err = HFW_ERROR_INIT;
	DIR *d = opendir(shared_path("dcc/templates"));
	struct dirent *e;
	size_t i, seen = 0, broken = 0, refused = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		char rel[512];
		uint8_t *xml;
		size_t len;

		if (!strstr(e->d_name, "REQUEST"))
			continue;
		snprintf(rel, sizeof(rel), "dcc/templates/%s", e->d_name);
		if (hfw_file_read(&xml, &len, shared_path(rel), HFW_MAX_DUIS_BYTES, "x", &err) < 0)
			fail_msg("%s", err.text);
		assert_false(same_verdict(e->d_name, (const char *)xml));
		for (i = 1; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
			char *b = replaced((const char *)xml, breaks[i][0], breaks[i][1]), *b2;

			if (b && breaks[i][2]) {
				b2 = replaced(b, breaks[i][2], breaks[i][3]);
				free(b);
				b = b2;
			}
			if (b) {
				refused += same_verdict(e->d_name, b);
				broken++;
			}
			free(b);
		}
		free(xml);
		seen++;
	}
	closedir(d);
	assert_true(seen >= 9);
	assert_true(broken >= 9 * 8);
	assert_true(refused >= 9 * 8);	/* all but the root swapped to a Response */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nested_namespace_declarations_are_refused),
		cmocka_unit_test(deep_nesting_is_refused),
		cmocka_unit_test(many_attributes_are_refused),
		cmocka_unit_test(many_elements_are_refused),
		cmocka_unit_test(real_documents_parse),
		cmocka_unit_test(documents_not_in_utf8_are_refused),
		cmocka_unit_test(the_largest_request_hanfw_writes_parses),
		cmocka_unit_test(requests_get_the_whole_schemas_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
