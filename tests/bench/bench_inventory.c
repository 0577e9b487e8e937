/*
 * bench_inventory - saved SR 8.2 answers for the inventory benchmark (make bench):
 *   bench_inventory DIR N KEY CERT   write DIR/answer-<i>.xml for i < N: a premises of
 *                                    six devices each (CHF, ESME, GPF, GSME, PPMID, CAD),
 *                                    DUIS 5.4 shapes, signed with the DCC's KEY and CERT
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "../../lib/buf.h"
#include "../../lib/fileio.h"
#include "../../lib/xml.h"
#include "../../lib/xmldsig.h"

static void die(const struct hfw_error *err)
{
	fprintf(stderr, "bench_inventory: %s\n", err->text);
	exit(1);
}

int main(int argc, char **argv)
{
	static const char *const types[] = { "CHF", "ESME", "GPF", "GSME", "PPMID", "CAD" };
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_signer *s = NULL;
	long n, i;
	int k;

	if (argc != 5 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: bench_inventory DIR N KEY CERT\n");
		return 2;
	}
	if (hfw_signer_open(&s, argv[3], argv[4], NULL, &err) < 0)
		die(&err);
	for (i = 0; i < n; i++) {
		struct hfw_buf b = HFW_BUF_INIT(1 << 20);
		char path[4096];
		size_t off;

		if (hfw_buf_puts(&b, HFW_XML_DECL, &err) < 0)
			die(&err);
		off = b.len;
		if (hfw_buf_printf(&b, &err,
				   "<sr:Response xmlns:sr=\"" HFW_NS_DUIS "\" schemaVersion=\"5.4\"><sr:Header>"
				   "<sr:RequestID>90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:%ld</sr:RequestID>"
				   "<sr:ResponseCode>I0</sr:ResponseCode><sr:ResponseDateTime>2026-11-27T10:00:00.000Z"
				   "</sr:ResponseDateTime></sr:Header><sr:Body><sr:ResponseMessage><sr:ServiceReference>8.2"
				   "</sr:ServiceReference><sr:ServiceReferenceVariant>8.2</sr:ServiceReferenceVariant>"
				   "<sr:DSPInventory>", i + 1) < 0)
			die(&err);
		for (k = 0; k < 6; k++)
			if (hfw_buf_printf(&b, &err,
					   "<sr:Device><sr:DeviceID>00-DB-%02lX-%02lX-%02lX-%02lX-00-%02X</sr:DeviceID>"
					   "<sr:DeviceType>%s</sr:DeviceType>%s<sr:DeviceManufacturer>106C</sr:DeviceManufacturer>"
					   "<sr:DeviceModel>433100AC</sr:DeviceModel><sr:DeviceFirmwareVersion>9001"
					   "</sr:DeviceFirmwareVersion><sr:CPLStatus>Active</sr:CPLStatus>"
					   "<sr:ImportMPxN>%013ld</sr:ImportMPxN><sr:CSPRegion>North</sr:CSPRegion>"
					   "<sr:DeviceGBCSVersion>4.0</sr:DeviceGBCSVersion></sr:Device>",
					   (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, k, types[k],
					   k == 5 ? "" : "<sr:DeviceStatus>Commissioned</sr:DeviceStatus>", i) < 0)
				die(&err);
		if (hfw_buf_puts(&b, "</sr:DSPInventory></sr:ResponseMessage></sr:Body></sr:Response>", &err) < 0 ||
		    hfw_xmldsig_sign_canonical(&b, off, s, &err) < 0)
			die(&err);
		snprintf(path, sizeof(path), "%s/answer-%ld.xml", argv[1], i);
		if (hfw_file_write_atomic(path, b.data, b.len, &err) < 0)
			die(&err);
		hfw_buf_release(&b);
	}
	hfw_signer_free(s);
	return 0;
}
