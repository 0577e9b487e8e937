/*
 * libFuzzer target: the limits hfw_xml_parse enforces before anything proves
 * who sent a document (issue 11).  Whatever it accepts must be within every
 * limit, checked here independently over the tree, and is canonicalised as
 * verification would (so a slow input shows as a libFuzzer timeout); every
 * refusal is classified and one line; nothing but UTF-8 is accepted.  Seeds: deep, wide and namespace-heavy
 * documents either side of each limit, and DCC Boxed's real messages
 * (tests/run-fuzz.sh).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "../../lib/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
	size_t elements, attributes;
};

static unsigned declarations(const xmlNode *n)
{
	unsigned k = 0;
	const xmlNs *ns;

	for (ns = n->nsDef; ns; ns = ns->next)
		k++;
	return k;
}

/* The tree, element by element: depth, namespace declarations and attributes within the limits. */
static void check(const xmlNode *n, unsigned depth, unsigned in_scope, struct count *c)
{
	for (; n; n = n->next) {
		const xmlAttr *a;
		unsigned attrs = 0, decls;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		decls = declarations(n);
		for (a = n->properties; a; a = a->next)
			attrs++;
		c->elements++;
		c->attributes += attrs;
		if (depth > HFW_XML_MAX_DEPTH || decls > HFW_XML_MAX_NS_PER_ELEMENT ||
		    in_scope + decls > HFW_XML_MAX_NS_IN_SCOPE || attrs > HFW_XML_MAX_ATTRIBUTES ||
		    c->elements > HFW_XML_MAX_ELEMENTS || c->attributes > HFW_XML_MAX_ATTRIBUTES_TOTAL)
			abort();	/* accepted beyond a limit */
		check(n->children, depth + 1, in_scope + decls, c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct count c = { 0, 0 };
	xmlDocPtr doc = NULL;
	xmlChar *canon = NULL;
	int len = 0, ret = hfw_xml_parse(&doc, data, size, "document", &err);

	if (ret < 0) {
		if (!err.text[0] || strchr(err.text, '\n') || (ret != HFW_EINPUT && ret != HFW_ELIMIT && ret != HFW_ENOMEM))
			abort();
		return 0;
	}
	/* Only UTF-8 is parsed: the byte-level limits hold only in it (a UTF-16 flood once passed them). */
	if (memchr(data, 0, size) || (size >= 2 && ((data[0] == 0xFE && data[1] == 0xFF) || (data[0] == 0xFF && data[1] == 0xFE))))
		abort();
	check(xmlDocGetRootElement(doc), 1, 0, &c);
	if (hfw_xml_c14n_document(&canon, &len, doc, NULL, &err) == 0)
		xmlFree(canon);
	xmlFreeDoc(doc);
	return 0;
}
