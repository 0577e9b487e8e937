/*
 * xml.h - DUIS XML parsed safely, canonicalised, and checked against schemas.
 *
 * Every document hanfw reads goes through hfw_xml_parse: size-bounded, no
 * DOCTYPE at all (so no entities, internal or external, and no "billion
 * laughs"), no network, no XInclude, and the bytes kept exactly as
 * received, because signatures are computed over them.
 */
#ifndef HFW_XML_H
#define HFW_XML_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "error.h"

#define HFW_NS_DUIS "http://www.dccinterface.co.uk/ServiceUserGateway"
#define HFW_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"

/* The declaration every message hanfw writes starts with. */
#define HFW_XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

/* An 11.1/11.4 request with the largest image is about 13.7 MB. */
#define HFW_MAX_DUIS_BYTES (16u * 1024 * 1024)

/* Parse a DUIS document.  HFW_EINPUT names the problem (and the line). */
int hfw_xml_parse(xmlDocPtr *out, const uint8_t *data, size_t len, const char *what,
		  struct hfw_error *err);

/* The first element child of node, or the next element sibling, or NULL. */
xmlNodePtr hfw_xml_first_element(xmlNodePtr node);
xmlNodePtr hfw_xml_next_element(xmlNodePtr node);

/* Is node the element {ns}name? */
int hfw_xml_is(const xmlNode *node, const char *ns, const char *name);

/* The first element child {ns}name of parent, or NULL. */
xmlNodePtr hfw_xml_child(xmlNodePtr parent, const char *ns, const char *name);

/*
 * Canonical form of the document without the subtree at exclude (may be
 * NULL): inclusive C14N 1.0 without comments, which is what an enveloped
 * signature's Reference URI="" digests.  *out is a new buffer (xmlFree).
 */
int hfw_xml_c14n_document(xmlChar **out, int *len, xmlDocPtr doc, xmlNodePtr exclude,
			  struct hfw_error *err);

/* Exclusive C14N 1.0 without comments of the subtree at node (SignedInfo). */
int hfw_xml_c14n_exclusive(xmlChar **out, int *len, xmlDocPtr doc, xmlNodePtr node,
			   struct hfw_error *err);

/*
 * Validate doc against hanfw's own DUIS schema (schemas/duis-firmware.xsd,
 * built into the binary), or against the XSD file at path if not NULL.
 * HFW_EINPUT names the first violation.
 */
int hfw_xml_validate(xmlDocPtr doc, const char *xsd_path, struct hfw_error *err);

#endif
