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

/*
 * Limits on what a document may contain, enforced WHILE it is parsed and
 * before anything proves who sent it (canonicalisation over the whole
 * document comes first in verification, and libxml2's inclusive C14N costs
 * about declarations-in-scope squared per element: 100 nested elements of
 * 80 declarations took 13 s).  Every real DUIS message is far inside them:
 * the DCC's templates and DCC Boxed's responses have depth <= 6, <= 3
 * declarations on an element and <= 4 in scope, <= 1 attribute per element
 * and <= 26 elements; the largest hanfw writes is a 50,000-device 11.1/11.4
 * request (about 50,030 elements, 1 declaration in scope, its image one
 * text node); an SR 8.2 inventory lists at most 17 devices (DSPInventory).
 * With them, no input under HFW_MAX_DUIS_BYTES takes more than tens of
 * milliseconds to parse and canonicalise (make bench measures the worst),
 * and a document's tree stays within a few tens of MB.
 */
#define HFW_XML_MAX_DEPTH 32			/* levels of nested elements (real: 6) */
#define HFW_XML_MAX_NS_PER_ELEMENT 32		/* namespace declarations on one element (real: 3) */
#define HFW_XML_MAX_NS_IN_SCOPE 32		/* on an element and its ancestors (real: 4) */
#define HFW_XML_MAX_ATTRIBUTES 32		/* on one element, declarations apart (real: 1) */
#define HFW_XML_MAX_ELEMENTS 100000u		/* 2x a 50,000-device request */
#define HFW_XML_MAX_ATTRIBUTES_TOTAL 100000u	/* in the whole document (real: < 10) */
#define HFW_XML_MAX_OTHER_NODES 10000u		/* comments, PIs and CDATA sections (real: < 20) */
/*
 * Namespace work: at each element, the declarations in scope times (those
 * plus its depth), summed over the elements: what inclusive C14N's
 * namespace axis costs (each declaration in scope is looked up again from
 * the element towards the root).  Real: a template about 1,000; hanfw's
 * 50,000-device request 300,000; 50,000 elements at a template's 4
 * declarations and depth 6, 2,000,000.
 */
#define HFW_XML_MAX_NS_WORK 4000000u

/*
 * Parse a DUIS document.  HFW_EINPUT names the problem (and the line);
 * HFW_ELIMIT names the limit above that it exceeds, and its line, in one
 * line ("... has more than 32 namespace declarations in scope at line 3:
 * refused before verification").
 */
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

/*
 * Parse the built-in schema's Request part now (once per process) rather
 * than at the first hfw_xml_validate of a request: a command's set-up does
 * it while its ledger opens on another thread.  HFW_ERROR if it cannot.
 */
int hfw_xml_load_request_schema(struct hfw_error *err);

#endif
