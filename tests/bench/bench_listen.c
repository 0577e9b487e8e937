/*
 * bench_listen - signed alerts ingested per second by "hanfw listen" (make
 * bench): N distinct CSPFirmwareDeliveryStatus alerts, signed beforehand
 * with the sandbox's DCC key, POSTed with up to IN_FLIGHT at once; the
 * clock runs from the first POST to the last 204, so each alert was
 * verified, decoded and committed in between.
 *   bench_listen SANDBOX_DIR URL N IN_FLIGHT
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/buf.h"
#include "../../lib/transport.h"
#include "../../lib/xml.h"
#include "../../lib/xmldsig.h"

static long done, ok;

static void on_done(void *arg, void *tag, struct hfw_reply *reply, enum hfw_delivery d, const struct hfw_error *err)
{
	(void)arg;
	(void)tag;
	(void)err;
	done++;
	(void)d;	/* a 204 has no body, so no application/xml: judged by its status alone */
	if (reply->http_status == 204)
		ok++;
}

int main(int argc, char **argv)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_transport_options to = { NULL, NULL, NULL, NULL, 0, 0, 0, -1, 0 };
	hfw_signer *signer = NULL;
	hfw_transport_pool *pool = NULL;
	struct hfw_buf *msgs;
	char key[4096], cert[4096];
	struct timespec a, b;
	long n, i, next = 0, base;
	unsigned in_flight;

	if (argc < 5)
		return 2;
	n = strtol(argv[3], NULL, 10);
	clock_gettime(CLOCK_REALTIME, &a);
	base = (long)a.tv_sec * 1000000;	/* ResponseIDs new to the receiver on every run */
	in_flight = (unsigned)strtoul(argv[4], NULL, 10);
	snprintf(key, sizeof(key), "%s/pki/dcc-xml.key", argv[1]);
	snprintf(cert, sizeof(cert), "%s/pki/dcc-xml.pem", argv[1]);
	to.base_url = argv[2];
	if (hfw_signer_open(&signer, key, cert, NULL, &err) < 0 || hfw_pool_open(&pool, &to, in_flight, &err) < 0 ||
	    !(msgs = calloc((size_t)n, sizeof(*msgs)))) {
		fprintf(stderr, "bench_listen: %s\n", err.text);
		return 1;
	}
	for (i = 0; i < n; i++) {
		size_t off;

		msgs[i] = (struct hfw_buf)HFW_BUF_INIT(64 * 1024);
		if (hfw_buf_puts(&msgs[i], HFW_XML_DECL, &err) < 0)
			return 1;
		off = msgs[i].len;
		if (hfw_buf_printf(&msgs[i], &err,
				   "<sr:Response xmlns:sr=\"" HFW_NS_DUIS "\" schemaVersion=\"5.4\"><sr:Header>"
				   "<sr:ResponseID>90-B3-D5-1F-30-00-00-02:90-B3-D5-1F-30-01-00-00:%ld</sr:ResponseID>"
				   "<sr:ResponseCode>I0</sr:ResponseCode><sr:ResponseDateTime>2026-11-21T10:00:00.000Z"
				   "</sr:ResponseDateTime></sr:Header><sr:Body><sr:DCCAlertMessage><sr:DCCAlertCode>N60"
				   "</sr:DCCAlertCode><sr:DCCAlert><sr:CSPFirmwareDeliveryStatus><sr:UpdateFirmwareRequestID>"
				   "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1000</sr:UpdateFirmwareRequestID>"
				   "<sr:CommsHubDeviceID>00-DB-12-00-00-00-00-01</sr:CommsHubDeviceID>"
				   "<sr:TargetDeviceID>00-DB-12-%02lX-%02lX-%02lX-%02lX-00</sr:TargetDeviceID>"
				   "<sr:FirmwareVersion>01020304</sr:FirmwareVersion><sr:TimeStamp>2026-11-21T10:00:00.000Z"
				   "</sr:TimeStamp><sr:CommsHubTransferStatus>Success</sr:CommsHubTransferStatus>"
				   "</sr:CSPFirmwareDeliveryStatus></sr:DCCAlert></sr:DCCAlertMessage></sr:Body></sr:Response>",
				   base + i, (i >> 24) & 0xFF, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF) < 0 ||
		    hfw_xmldsig_sign_canonical(&msgs[i], off, signer, &err) < 0) {
			fprintf(stderr, "bench_listen: %s\n", err.text);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	while (done < n) {
		while (next < n && hfw_pool_free_slots(pool)) {
			if (hfw_pool_post(pool, "", msgs[next].data, msgs[next].len, NULL, &err) < 0)
				return 1;
			next++;
		}
		hfw_pool_run(pool, 100, on_done, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (ok != n) {
		fprintf(stderr, "bench_listen: %ld of %ld stored\n", ok, n);
		return 1;
	}
	printf("%.0f\n", (double)n / ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9));
	for (i = 0; i < n; i++)
		hfw_buf_release(&msgs[i]);
	free(msgs);
	hfw_pool_free(pool);
	hfw_signer_free(signer);
	return 0;
}
