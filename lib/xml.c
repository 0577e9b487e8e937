/* xml.c - safe parsing, canonicalisation and schema validation (see xml.h). */
#define _GNU_SOURCE	/* memmem */
#include "xml.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

/* schemas/duis-firmware.xsd, compiled in by the Makefile. */
extern const char hfw_duis_xsd[];
extern const size_t hfw_duis_xsd_len;
extern const char hfw_duis_request_xsd[];	/* what a Request reaches: see the Makefile */
extern const size_t hfw_duis_request_xsd_len;

/*
 * The limits below are checked while the bytes are read, before any work
 * over the whole document (canonicalisation, schema): see xml.h.
 */

/* A '<' that opens a start tag (not "</", "<!", "<?"): what libxml2 reads as an element name. */
static int opens_start_tag(uint8_t c)
{
	return c == '_' || c == ':' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
}

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static unsigned line_at(const uint8_t *data, size_t at)
{
	const uint8_t *p = data, *end = data + at;
	unsigned line = 1;

	while ((p = memchr(p, '\n', (size_t)(end - p))))
		line++, p++;
	return line;
}

/*
 * libxml2 2.9 compares each attribute of a start tag with every earlier one
 * (and each namespace declaration likewise) before it calls any handler: a
 * 2 MB tag of attributes takes minutes.  So each tag is counted first, in
 * one pass over the bytes.  The count needs no tokenising to be sound:
 * libxml2 never reads an attribute across a '<', and every attribute it
 * keeps has exactly one '=' outside quotes; a '<' inside a comment only
 * makes the count larger.
 */
static int scan_start_tags(const uint8_t *data, size_t len, const char *what, struct hfw_error *err)
{
	size_t i = 0, tok = 0, tok_end = 0;

	while (i < len) {
		unsigned attrs = 0, decls = 0;
		uint8_t quote = 0;

		if (data[i++] != '<' || i >= len || !opens_start_tag(data[i]))
			continue;
		tok = tok_end = i;
		for (; i < len && data[i] != '<'; i++) {
			uint8_t c = data[i];

			if (quote) {
				if (c == quote)
					quote = 0;
				continue;
			}
			if (c == '>')
				break;
			if (c == '"' || c == '\'') {
				quote = c;
			} else if (c == '=') {
				size_t n = tok_end - tok;

				if ((n == 5 || (n > 6 && data[tok + 5] == ':')) && memcmp(data + tok, "xmlns", 5) == 0) {
					if (++decls > HFW_XML_MAX_NS_PER_ELEMENT)
						return hfw_error_set(err, HFW_ELIMIT, "%s has more than %u namespace declarations on one "
								     "element at line %u: refused before verification",
								     what, HFW_XML_MAX_NS_PER_ELEMENT, line_at(data, i));
				} else if (++attrs > HFW_XML_MAX_ATTRIBUTES) {
					return hfw_error_set(err, HFW_ELIMIT, "%s has more than %u attributes on one element at "
							     "line %u: refused before verification",
							     what, HFW_XML_MAX_ATTRIBUTES, line_at(data, i));
				}
			} else if (!is_space(c)) {
				if (tok_end != i)	/* a new name starts */
					tok = i;
				tok_end = i + 1;
			}
		}
	}
	return 0;
}

/*
 * DUIS is UTF-8.  Every check before parsing reads bytes as ASCII (a '<' is
 * 0x3C), which holds only in an ASCII-compatible encoding: a UTF-16 body of
 * 95,000 attributes passed them all and took libxml2 seconds.  So anything
 * else is refused first: a UTF-16 or UTF-32 byte order mark, any NUL byte
 * (never valid in UTF-8 XML; UTF-16 and UTF-32 text is full of them), an
 * EBCDIC start, and an XML declaration naming another encoding than UTF-8
 * or its subset US-ASCII.  libxml2 is then told to ignore the declaration.
 */
static int check_utf8(const uint8_t *data, size_t len, const char *what, struct hfw_error *err)
{
	const uint8_t *nul, *p = data, *end = data + len, *close;
	const char *why = NULL;
	char value[41];

	if (len >= 4 && ((data[0] == 0 && data[1] == 0 && data[2] == 0xFE && data[3] == 0xFF) ||
			 (data[0] == 0xFF && data[1] == 0xFE && data[2] == 0 && data[3] == 0)))
		why = "a UTF-32 byte order mark";
	else if (len >= 2 && ((data[0] == 0xFE && data[1] == 0xFF) || (data[0] == 0xFF && data[1] == 0xFE)))
		why = "a UTF-16 byte order mark";
	else if (len >= 4 && !memcmp(data, "\x4C\x6F\xA7\x94", 4))
		why = "an EBCDIC XML declaration";
	if (why)
		return hfw_error_set(err, HFW_EINPUT, "%s is not UTF-8 (%s): refused before parsing", what, why);
	if ((nul = memchr(data, 0, len)))
		return hfw_error_set(err, HFW_EINPUT,
				     "%s is not UTF-8 (a NUL byte at offset %zu, as UTF-16 or UTF-32 text has): refused before parsing",
				     what, (size_t)(nul - data));
	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	/* The XML declaration, if any, is the very first thing: <?xml ... encoding="NAME" ... ?> */
	if (end - p < 6 || memcmp(p, "<?xml", 5) || !is_space(p[5]))
		return 0;
	if (!(close = memmem(p, (size_t)(end - p), "?>", 2)))
		return 0;	/* not well-formed: libxml2 says so */
	for (p += 5; p + 8 <= close; p++) {
		const uint8_t *v;
		uint8_t quote;
		size_t n;

		if (memcmp(p, "encoding", 8) || !is_space(p[-1]))
			continue;
		for (v = p + 8; v < close && is_space(*v); v++)
			;
		if (v >= close || *v++ != '=')
			return 0;
		while (v < close && is_space(*v))
			v++;
		if (v >= close || (*v != '"' && *v != '\''))
			return 0;
		quote = *v++;
		for (n = 0; v + n < close && v[n] != quote; n++)
			;
		snprintf(value, sizeof(value), "%.*s", (int)(n < 40 ? n : 40), (const char *)v);
		if ((n == 5 && !strncasecmp((const char *)v, "UTF-8", 5)) ||
		    (n == 8 && !strncasecmp((const char *)v, "US-ASCII", 8)))
			return 0;
		return hfw_error_set(err, HFW_EINPUT,
				     "%s is not UTF-8 (its XML declaration says encoding \"%s\"; DUIS is UTF-8): refused before parsing",
				     what, value);
	}
	return 0;
}

/* What the SAX handlers count as the document is built. */
struct limits {
	startElementNsSAX2Func start;
	endElementNsSAX2Func end;
	commentSAXFunc comment;
	processingInstructionSAXFunc pi;
	cdataBlockSAXFunc cdata;
	const char *what;
	struct hfw_error *err;
	int refused;
	unsigned depth, in_scope;
	unsigned declared[HFW_XML_MAX_DEPTH + 1];	/* namespace declarations on each open element */
	size_t elements, attributes, others;
	uint64_t ns_work;
};

/* Refuse: stop the parser at once, so nothing more is read or built. */
static void over(xmlParserCtxtPtr ctxt, struct limits *l, const char *rule, unsigned long long limit)
{
	hfw_error_set(l->err, HFW_ELIMIT, "%s has more than %llu %s at line %d: refused before verification",
		      l->what, limit, rule, xmlSAX2GetLineNumber(ctxt));
	l->refused = 1;
	xmlStopParser(ctxt);
}

static void start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
			  int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
			  const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct limits *l = ctxt->_private;
	unsigned decls = (unsigned)nb_namespaces;
	const char *rule = NULL;
	unsigned long long limit = 0;

	if (l->refused)
		return;
	if (l->depth >= HFW_XML_MAX_DEPTH)
		rule = "levels of nested elements", limit = HFW_XML_MAX_DEPTH;
	else if (decls > HFW_XML_MAX_NS_PER_ELEMENT)	/* scan_start_tags saw to it; kept for safety */
		rule = "namespace declarations on one element", limit = HFW_XML_MAX_NS_PER_ELEMENT;
	else if (l->in_scope + decls > HFW_XML_MAX_NS_IN_SCOPE)
		rule = "namespace declarations in scope", limit = HFW_XML_MAX_NS_IN_SCOPE;
	else if ((unsigned)nb_attributes > HFW_XML_MAX_ATTRIBUTES)
		rule = "attributes on one element", limit = HFW_XML_MAX_ATTRIBUTES;
	else if (++l->elements > HFW_XML_MAX_ELEMENTS)
		rule = "elements", limit = HFW_XML_MAX_ELEMENTS;
	else if ((l->attributes += (size_t)nb_attributes) > HFW_XML_MAX_ATTRIBUTES_TOTAL)
		rule = "attributes in all", limit = HFW_XML_MAX_ATTRIBUTES_TOTAL;
	else if ((l->ns_work += (uint64_t)(l->in_scope + decls) * (l->in_scope + decls + l->depth + 1)) >
		 HFW_XML_MAX_NS_WORK)
		rule = "units of namespace work (declarations in scope times those plus depth, summed over elements)",
		limit = HFW_XML_MAX_NS_WORK;
	if (rule) {
		over(ctxt, l, rule, limit);
		return;
	}
	l->in_scope += decls;
	l->declared[++l->depth] = decls;
	l->start(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes, nb_defaulted, attributes);
}

static void end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct limits *l = ctxt->_private;

	if (l->refused || l->depth == 0)
		return;
	l->in_scope -= l->declared[l->depth--];
	l->end(ctx, localname, prefix, uri);
}

/* Comments, processing instructions and CDATA sections are nodes too: counted, so memory stays bounded. */
static int other_node(xmlParserCtxtPtr ctxt, struct limits *l)
{
	if (l->refused)
		return 0;
	if (++l->others > HFW_XML_MAX_OTHER_NODES) {
		over(ctxt, l, "comments, processing instructions and CDATA sections", HFW_XML_MAX_OTHER_NODES);
		return 0;
	}
	return 1;
}

static void comment(void *ctx, const xmlChar *value)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct limits *l = ctxt->_private;

	if (other_node(ctxt, l))
		l->comment(ctx, value);
}

static void processing_instruction(void *ctx, const xmlChar *target, const xmlChar *data)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct limits *l = ctxt->_private;

	if (other_node(ctxt, l))
		l->pi(ctx, target, data);
}

static void cdata_block(void *ctx, const xmlChar *value, int len)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct limits *l = ctxt->_private;

	if (other_node(ctxt, l))
		l->cdata(ctx, value, len);
}

/*
 * libxml2 (2.9) sets up its globals on first use, and that set-up is not
 * thread-safe: "hanfw listen" parsed its first two POSTs at once on two
 * server threads, and ThreadSanitizer saw both create libxml2's global
 * mutex.  Every way into libxml2 here goes through this once first.
 */
static pthread_once_t parser_once = PTHREAD_ONCE_INIT;

static void init_parser(void)
{
	xmlInitParser();
}

int hfw_xml_parse(xmlDocPtr *out, const uint8_t *data, size_t len, const char *what,
		  struct hfw_error *err)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	struct limits *l = NULL;
	int ret = 0;

	*out = NULL;
	if (len > HFW_MAX_DUIS_BYTES)
		return hfw_error_set(err, HFW_ELIMIT, "%s is %zu bytes, more than the limit of %u",
				     what, len, HFW_MAX_DUIS_BYTES);
	if ((ret = check_utf8(data, len, what, err)) < 0)
		return ret;
	/*
	 * No DUIS message has a DOCTYPE; refusing it before parsing rules out
	 * entity expansion and external entities whatever the parser would do.
	 */
	if (memmem(data, len, "<!DOCTYPE", 9) || memmem(data, len, "<!ENTITY", 8))
		return hfw_error_set(err, HFW_EINPUT, "%s has a DOCTYPE or entity declaration: refused", what);
	if ((ret = scan_start_tags(data, len, what, err)) < 0)
		return ret;
	pthread_once(&parser_once, init_parser);
	if (!(l = calloc(1, sizeof(*l))) || !(ctxt = xmlNewParserCtxt())) {
		ret = hfw_error_oom(err);
		goto out;
	}
	/* libxml2's own handlers build the tree; ours count first (the context is theirs: ctxt->sax is a copy). */
	l->what = what;
	l->err = err;
	l->start = ctxt->sax->startElementNs;
	l->end = ctxt->sax->endElementNs;
	l->comment = ctxt->sax->comment;
	l->pi = ctxt->sax->processingInstruction;
	l->cdata = ctxt->sax->cdataBlock;
	if (!l->start || !l->end || !l->comment || !l->pi || !l->cdata) {
		ret = hfw_error_set(err, HFW_ERROR, "libxml2 has no SAX2 tree builder");
		goto out;
	}
	ctxt->sax->startElementNs = start_element;
	ctxt->sax->endElementNs = end_element;
	ctxt->sax->comment = comment;
	ctxt->sax->processingInstruction = processing_instruction;
	ctxt->sax->cdataBlock = cdata_block;
	ctxt->_private = l;
	doc = xmlCtxtReadMemory(ctxt, (const char *)data, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC);
	if (l->refused) {
		ret = err->code;
		goto out;
	}
	if (!doc || !ctxt->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);

		if (e && e->message)
			ret = hfw_error_set(err, HFW_EINPUT, "%s is not well-formed XML: line %d: %s",
					    what, e->line, e->message);
		else
			ret = hfw_error_set(err, HFW_EINPUT, "%s is not well-formed XML", what);
		goto out;
	}
	if (doc->intSubset || doc->extSubset || !xmlDocGetRootElement(doc)) {
		ret = hfw_error_set(err, HFW_EINPUT, "%s has a DOCTYPE or no root element: refused", what);
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	free(l);
	return ret;
}

xmlNodePtr hfw_xml_first_element(xmlNodePtr node)
{
	xmlNodePtr c;

	for (c = node ? node->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

xmlNodePtr hfw_xml_next_element(xmlNodePtr node)
{
	for (node = node ? node->next : NULL; node; node = node->next)
		if (node->type == XML_ELEMENT_NODE)
			return node;
	return NULL;
}

int hfw_xml_is(const xmlNode *node, const char *ns, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && node->ns &&
	       strcmp((const char *)node->ns->href, ns) == 0 &&
	       strcmp((const char *)node->name, name) == 0;
}

xmlNodePtr hfw_xml_child(xmlNodePtr parent, const char *ns, const char *name)
{
	xmlNodePtr c;

	for (c = hfw_xml_first_element(parent); c; c = hfw_xml_next_element(c))
		if (hfw_xml_is(c, ns, name))
			return c;
	return NULL;
}

/*
 * Which nodes a canonical form includes: a subtree, or all but one.  C14N
 * asks for every node, attribute and namespace node of the document; the
 * subtree's nodes are marked beforehand (_private, which nothing else in
 * hanfw uses) so each answer is one comparison, not a walk to the root.
 */
static char in_subtree;

static void mark(xmlNodePtr node, void *m)
{
	xmlNodePtr c;
	xmlAttrPtr a;

	node->_private = m;
	if (node->type == XML_ELEMENT_NODE)
		for (a = node->properties; a; a = a->next)
			a->_private = m;
	for (c = node->children; c; c = c->next)
		mark(c, m);
}

/* For a namespace node libxml2 passes the xmlNs as node and its element as parent. */
static int marked(xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr n = (node && node->type == XML_NAMESPACE_DECL) ? parent : node;

	return n && n->_private == &in_subtree;
}

static int visible_except(void *user, xmlNodePtr node, xmlNodePtr parent)
{
	(void)user;
	return !marked(node, parent);
}

static int visible_within(void *user, xmlNodePtr node, xmlNodePtr parent)
{
	(void)user;
	return marked(node, parent);
}

struct first_error {
	char text[300];
	int line;
};

static void keep_first(void *user, xmlErrorPtr e)
{
	struct first_error *fe = user;
	size_t n;

	if (fe->text[0] || !e || !e->message)
		return;
	snprintf(fe->text, sizeof(fe->text), "%s", e->message);
	n = strlen(fe->text);
	while (n > 0 && (fe->text[n - 1] == '\n' || fe->text[n - 1] == ' '))
		fe->text[--n] = '\0';
	fe->line = e->line;
}

/* Canonicalise the nodes visible() accepts (all, if NULL) into a new buffer; subtree is the one marked. */
static int c14n(xmlChar **out, int *len, xmlDocPtr doc, xmlC14NIsVisibleCallback visible,
		xmlNodePtr subtree, int mode, const char *what, struct hfw_error *err)
{
	xmlOutputBufferPtr buf = xmlAllocOutputBuffer(NULL);
	struct first_error fe = { "", 0 };
	xmlStructuredErrorFunc saved = xmlStructuredError;
	void *saved_ctx = xmlStructuredErrorContext;
	int ret = 0, r;

	*out = NULL;
	if (!buf)
		return hfw_error_oom(err);
	/* libxml2 reports C14N errors on standard error unless told otherwise (this thread's handler): keep the first. */
	xmlSetStructuredErrorFunc(&fe, keep_first);
	if (subtree)
		mark(subtree, &in_subtree);
	r = xmlC14NExecute(doc, visible, NULL, mode, NULL, 0, buf);
	if (subtree)
		mark(subtree, NULL);
	xmlSetStructuredErrorFunc(saved_ctx, saved);
	if (r < 0) {
		ret = fe.text[0] ? hfw_error_set(err, HFW_EINPUT, "cannot canonicalise %s: %s", what, fe.text)
				 : hfw_error_set(err, HFW_EINPUT, "cannot canonicalise %s", what);
		goto out;
	}
	*len = xmlOutputBufferGetSize(buf);
	if (!(*out = xmlStrndup(xmlOutputBufferGetContent(buf), *len)))
		ret = hfw_error_oom(err);
out:
	xmlOutputBufferClose(buf);
	return ret;
}

int hfw_xml_c14n_document(xmlChar **out, int *len, xmlDocPtr doc, xmlNodePtr exclude,
			  struct hfw_error *err)
{
	return c14n(out, len, doc, exclude ? visible_except : NULL, exclude, XML_C14N_1_0,
		    "the document", err);
}

int hfw_xml_c14n_exclusive(xmlChar **out, int *len, xmlDocPtr doc, xmlNodePtr node,
			   struct hfw_error *err)
{
	return c14n(out, len, doc, visible_within, node, XML_C14N_EXCLUSIVE_1_0, "SignedInfo", err);
}

/*
 * The built-in schema, whole (responses, alerts) and a Request's part alone:
 * "hanfw sign" validates only requests, and parsing the whole schema was a
 * third of a one-request sign.  Each is parsed once per process, when first
 * needed.
 */
struct builtin {
	const char *xsd;
	const size_t *len;
	pthread_once_t once;
	xmlSchemaPtr schema;
	struct hfw_error error;
};

static struct builtin builtin_whole = { hfw_duis_xsd, &hfw_duis_xsd_len, PTHREAD_ONCE_INIT, NULL, { 0 } };
static struct builtin builtin_request = {
	hfw_duis_request_xsd, &hfw_duis_request_xsd_len, PTHREAD_ONCE_INIT, NULL, { 0 }
};

static xmlSchemaPtr parse_schema(const char *path, const struct builtin *b, struct first_error *fe)
{
	xmlSchemaParserCtxtPtr pctx = path ? xmlSchemaNewParserCtxt(path)
					   : xmlSchemaNewMemParserCtxt(b->xsd, (int)*b->len);
	xmlSchemaPtr schema;

	if (!pctx)
		return NULL;
	xmlSchemaSetParserStructuredErrors(pctx, keep_first, fe);
	schema = xmlSchemaParse(pctx);
	xmlSchemaFreeParserCtxt(pctx);
	return schema;
}

static void load_builtin(struct builtin *b)
{
	struct first_error fe = { "", 0 };

	xmlInitParser();
	if (!(b->schema = parse_schema(NULL, b, &fe)))
		hfw_error_set(&b->error, HFW_ERROR, "cannot load schema 'duis-firmware.xsd': %s", fe.text);
}

/* Once per process, whichever thread asks first (the servers validate on many). */
static void load_builtin_whole(void)
{
	load_builtin(&builtin_whole);
}

static void load_builtin_request(void)
{
	load_builtin(&builtin_request);
}

int hfw_xml_load_request_schema(struct hfw_error *err)
{
	pthread_once(&parser_once, init_parser);
	pthread_once(&builtin_request.once, load_builtin_request);
	if (!builtin_request.schema)
		return hfw_error_set(err, builtin_request.error.code, "%s", builtin_request.error.text);
	return 0;
}

/* The root is a DUIS Request: its part of the built-in schema gives the same verdict. */
static int is_request(xmlDocPtr doc)
{
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	return root && root->ns && root->ns->href &&
	       xmlStrEqual(root->name, BAD_CAST "Request") &&
	       xmlStrEqual(root->ns->href, BAD_CAST HFW_NS_DUIS);
}

/*
 * Schemas named by path (--schema, duis_schema), kept once parsed: hanfw
 * sign of many files validates each file twice against the same XSD, and
 * the DCC's takes far longer to parse than a request to sign.  A few paths
 * are kept for the life of the process (never freed: another thread may be
 * validating with one); past that, each use parses its own.
 */
#define SCHEMA_CACHE 4

static struct {
	char *path;
	xmlSchemaPtr schema;
} schema_cache[SCHEMA_CACHE];
static pthread_mutex_t schema_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* *cached = 1 when *out belongs to the cache (not to be freed); doc chooses the built-in part. */
static int load_schema(xmlSchemaPtr *out, int *cached, const char *path, xmlDocPtr doc,
		       struct hfw_error *err)
{
	struct first_error fe = { "", 0 };
	struct builtin *b;
	size_t i;

	*cached = 1;
	pthread_once(&parser_once, init_parser);
	if (!path) {
		b = is_request(doc) ? &builtin_request : &builtin_whole;
		pthread_once(&b->once, b == &builtin_request ? load_builtin_request : load_builtin_whole);
		if (!(*out = b->schema))
			return hfw_error_set(err, b->error.code, "%s", b->error.text);
		return 0;
	}
	pthread_mutex_lock(&schema_cache_lock);
	for (i = 0; i < SCHEMA_CACHE && schema_cache[i].path; i++)
		if (strcmp(schema_cache[i].path, path) == 0) {
			*out = schema_cache[i].schema;
			pthread_mutex_unlock(&schema_cache_lock);
			return 0;
		}
	if (!(*out = parse_schema(path, NULL, &fe))) {
		pthread_mutex_unlock(&schema_cache_lock);
		return hfw_error_set(err, HFW_EIO, "cannot load schema '%s': %s", path, fe.text);
	}
	if (i < SCHEMA_CACHE && (schema_cache[i].path = strdup(path)))
		schema_cache[i].schema = *out;
	else
		*cached = 0;
	pthread_mutex_unlock(&schema_cache_lock);
	return 0;
}

int hfw_xml_validate(xmlDocPtr doc, const char *xsd_path, struct hfw_error *err)
{
	struct first_error fe = { "", 0 };
	xmlSchemaValidCtxtPtr vctx = NULL;
	xmlSchemaPtr schema = NULL;
	int ret, v, cached = 1;

	if ((ret = load_schema(&schema, &cached, xsd_path, doc, err)) < 0)
		return ret;
	if (!(vctx = xmlSchemaNewValidCtxt(schema))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	xmlSchemaSetValidStructuredErrors(vctx, keep_first, &fe);
	v = xmlSchemaValidateDoc(vctx, doc);
	if (v > 0)
		ret = hfw_error_set(err, HFW_EINPUT, "not valid against %s: line %d: %s",
				    xsd_path ? xsd_path : "the DUIS schema", fe.line, fe.text);
	else if (v < 0)
		ret = hfw_error_set(err, HFW_ERROR, "schema validation failed internally");
out:
	xmlSchemaFreeValidCtxt(vctx);
	if (!cached)
		xmlSchemaFree(schema);
	return ret;
}
