/* xml.c - safe parsing, canonicalisation and schema validation (see xml.h). */
#define _GNU_SOURCE	/* memmem */
#include "xml.h"

#include <pthread.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

/* schemas/duis-firmware.xsd, compiled in by the Makefile. */
extern const char hfw_duis_xsd[];
extern const size_t hfw_duis_xsd_len;

int hfw_xml_parse(xmlDocPtr *out, const uint8_t *data, size_t len, const char *what,
		  struct hfw_error *err)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	int ret = 0;

	*out = NULL;
	if (len > HFW_MAX_DUIS_BYTES)
		return hfw_error_set(err, HFW_ELIMIT, "%s is %zu bytes, more than the limit of %u",
				     what, len, HFW_MAX_DUIS_BYTES);
	/*
	 * No DUIS message has a DOCTYPE; refusing it before parsing rules out
	 * entity expansion and external entities whatever the parser would do.
	 */
	if (memmem(data, len, "<!DOCTYPE", 9) || memmem(data, len, "<!ENTITY", 8))
		return hfw_error_set(err, HFW_EINPUT, "%s has a DOCTYPE or entity declaration: refused", what);
	if (!(ctxt = xmlNewParserCtxt()))
		return hfw_error_oom(err);
	doc = xmlCtxtReadMemory(ctxt, (const char *)data, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
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

/* For a namespace node libxml2 passes the xmlNs as node and its element as parent. */
static int within(xmlNodePtr node, xmlNodePtr parent, xmlNodePtr root)
{
	xmlNodePtr n = (node && node->type == XML_NAMESPACE_DECL) ? parent : node;

	for (; n; n = n->parent)
		if (n == root)
			return 1;
	return 0;
}

static int visible_except(void *user, xmlNodePtr node, xmlNodePtr parent)
{
	return !within(node, parent, user);
}

static int visible_within(void *user, xmlNodePtr node, xmlNodePtr parent)
{
	return within(node, parent, user);
}

/* Canonicalise the nodes visible() accepts (all, if NULL) into a new buffer. */
static int c14n(xmlChar **out, int *len, xmlDocPtr doc, xmlC14NIsVisibleCallback visible,
		void *user, int mode, const char *what, struct hfw_error *err)
{
	xmlOutputBufferPtr buf = xmlAllocOutputBuffer(NULL);
	int ret = 0;

	*out = NULL;
	if (!buf)
		return hfw_error_oom(err);
	if (xmlC14NExecute(doc, visible, user, mode, NULL, 0, buf) < 0) {
		ret = hfw_error_set(err, HFW_EINPUT, "cannot canonicalise %s", what);
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

static xmlSchemaPtr builtin_schema;
static struct hfw_error builtin_error;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static xmlSchemaPtr parse_schema(const char *path, struct first_error *fe)
{
	xmlSchemaParserCtxtPtr pctx = path ? xmlSchemaNewParserCtxt(path)
					   : xmlSchemaNewMemParserCtxt(hfw_duis_xsd, (int)hfw_duis_xsd_len);
	xmlSchemaPtr schema;

	if (!pctx)
		return NULL;
	xmlSchemaSetParserStructuredErrors(pctx, keep_first, fe);
	schema = xmlSchemaParse(pctx);
	xmlSchemaFreeParserCtxt(pctx);
	return schema;
}

/* Once per process, whichever thread asks first (the servers validate on many). */
static void load_builtin(void)
{
	struct first_error fe = { "", 0 };

	xmlInitParser();
	if (!(builtin_schema = parse_schema(NULL, &fe)))
		hfw_error_set(&builtin_error, HFW_ERROR, "cannot load schema 'duis-firmware.xsd': %s", fe.text);
}

static int load_schema(xmlSchemaPtr *out, const char *path, struct hfw_error *err)
{
	struct first_error fe = { "", 0 };

	if (!path) {
		pthread_once(&builtin_once, load_builtin);
		if (!(*out = builtin_schema))
			return hfw_error_set(err, builtin_error.code, "%s", builtin_error.text);
		return 0;
	}
	if (!(*out = parse_schema(path, &fe)))
		return hfw_error_set(err, HFW_EIO, "cannot load schema '%s': %s", path, fe.text);
	return 0;
}

int hfw_xml_validate(xmlDocPtr doc, const char *xsd_path, struct hfw_error *err)
{
	struct first_error fe = { "", 0 };
	xmlSchemaValidCtxtPtr vctx = NULL;
	xmlSchemaPtr schema = NULL;
	int ret, v;

	if ((ret = load_schema(&schema, xsd_path, err)) < 0)
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
	if (xsd_path)
		xmlSchemaFree(schema);
	return ret;
}
