/*
 * mkpki - make the project's own SMKI-shaped test PKI in DIR, for the CLI
 * tests, the demo and the benchmarks:
 *   ca.{key,pem}             issuer, CN=T1,OU=07
 *   supplier-ds.{key,pem}    supplier GBCS digital signing, OU=02
 *   supplier-xml.{key,pem}   supplier DUIS XML signing, OU=87
 *   supplier-ds-expired.*    like supplier-ds, validity over
 *   supplier-xml-expired.*   like supplier-xml, validity over
 *   other-ds.{key,pem}       another supplier's digital-signing identity
 *   dcc-xml.{key,pem}        the DCC's XML signing, OU=89 (signs test answers: inventory)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/sandbox/pki.h"

#define SUPPLIER "90-B3-D5-1F-30-01-00-00"

int main(int argc, char **argv)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char k[4096], c[4096], cak[4096], cac[4096];
	const struct {
		const char *stem, *cn, *role, *eui;
		int days;
	} leaves[] = {
		{ "supplier-ds", "HANFW TEST SUPPLIER", "02", SUPPLIER, 3650 },
		{ "supplier-xml", NULL, "87", SUPPLIER, 3650 },
		{ "supplier-ds-expired", "HANFW TEST SUPPLIER", "02", SUPPLIER, -1 },
		{ "supplier-xml-expired", NULL, "87", SUPPLIER, -1 },
		{ "other-ds", "HANFW OTHER SUPPLIER", "02", "90-B3-D5-1F-30-03-00-00", 3650 },
		{ "dcc-xml", NULL, "89", "90-B3-D5-1F-30-00-00-02", 3650 },
	};
	struct hfw_pki_request ca = { .cn = "T1", .role = "07", .is_ca = 1, .days = 3650 };
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: mkpki DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "mkpki: cannot create '%s': %s\n", argv[1], strerror(errno));
		return 1;
	}
	snprintf(cak, sizeof(cak), "%s/ca.key", argv[1]);
	snprintf(cac, sizeof(cac), "%s/ca.pem", argv[1]);
	if (hfw_pki_issue(cak, cac, &ca, &err) < 0)
		goto fail;
	for (i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		struct hfw_pki_request r = { .cn = leaves[i].cn, .role = leaves[i].role, .eui = leaves[i].eui,
					     .days = leaves[i].days, .ca_key = cak, .ca_cert = cac };

		snprintf(k, sizeof(k), "%s/%s.key", argv[1], leaves[i].stem);
		snprintf(c, sizeof(c), "%s/%s.pem", argv[1], leaves[i].stem);
		if (hfw_pki_issue(k, c, &r, &err) < 0)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "mkpki: %s\n", err.text);
	return 1;
}
