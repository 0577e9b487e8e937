/*
 * bench_sign - library benchmarks for signing and verification (make bench).
 *   bench_sign batch KEY CERT N     sign N 11.3 requests: counters reserved and
 *                                   requests recorded in a ledger, one core
 *   bench_sign verify KEY CERT N    verify one signed 11.3 request N times
 *   bench_sign big KEY CERT BYTES   sign one 11.4 request with an image of BYTES
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/duis.h"
#include "../../lib/ledger.h"
#include "../../lib/xmldsig.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const struct hfw_error *err)
{
	fprintf(stderr, "bench_sign: %s\n", err->text);
	exit(1);
}

int main(int argc, char **argv)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_duis_request r;
	hfw_signer *s = NULL;
	long n;
	double t0, t;

	if (argc != 5)
		return 2;
	n = strtol(argv[4], NULL, 10);
	if (hfw_signer_open(&s, argv[2], argv[3], NULL, &err) < 0)
		die(&err);
	memset(&r, 0, sizeof(r));
	r.schema_version = "5.4";
	hfw_eui_parse(&r.id.originator, hfw_signer_info(s)->eui, "o", &err);
	hfw_eui_parse(&r.id.target, "00-DB-12-34-56-78-90-A0", "t", &err);
	memset(r.firmware_hash, 0x75, sizeof(r.firmware_hash));

	if (strcmp(argv[1], "batch") == 0) {
		struct hfw_ledger_request *rec = calloc((size_t)n, sizeof(*rec));
		struct hfw_buf out = HFW_BUF_INIT(1 << 20);
		char path[] = "/tmp/hfw-bench-ledger-XXXXXX";
		hfw_ledger *l = NULL;
		uint64_t first;
		long i;
		int fd = mkstemp(path);

		close(fd);
		unlink(path);
		if (hfw_ledger_open(&l, path, &err) < 0)
			die(&err);
		r.body = HFW_BODY_ACTIVATE_FIRMWARE;
		t0 = now();
		if (hfw_ledger_reserve(l, &r.id.originator, hfw_now_ms(), (unsigned)n, &first, &err) < 0)
			die(&err);
		for (i = 0; i < n; i++) {
			r.id.counter = first + (uint64_t)i;
			out.len = 0;
			if (hfw_duis_sign_request(&out, s, &r, rec[i].body_sha256, &err) < 0)
				die(&err);
			rec[i].id = r.id;
			rec[i].service_reference = "11.3";
			rec[i].command_variant = 4;
			rec[i].state = "signed";
		}
		if (hfw_ledger_record(l, rec, (size_t)n, &err) < 0)
			die(&err);
		t = now() - t0;
		printf("%.0f\n", (double)n / t);
		hfw_ledger_close(l);
		unlink(path);
		free(rec);
		hfw_buf_release(&out);
	} else if (strcmp(argv[1], "verify") == 0) {
		struct hfw_buf out = HFW_BUF_INIT(1 << 20);
		struct hfw_verify_result vr;
		hfw_trust *trust = NULL;
		struct hfw_verify_options o = { NULL, 0, 0, NULL, NULL, 0 };
		long i;

		r.body = HFW_BODY_ACTIVATE_FIRMWARE;
		r.id.counter = 1;
		if (hfw_duis_sign_request(&out, s, &r, NULL, &err) < 0 || hfw_trust_new(&trust, &err) < 0 ||
		    hfw_trust_add_file(trust, argv[3], &err) < 0)
			die(&err);
		o.trust = trust;
		t0 = now();
		for (i = 0; i < n; i++)
			if (hfw_xmldsig_verify(&vr, (uint8_t *)out.data, out.len, &o, &err) < 0)
				die(&err);
		t = now() - t0;
		printf("%.0f\n", (double)n / t);
		hfw_trust_free(trust);
		hfw_buf_release(&out);
	} else {
		struct hfw_buf out = HFW_BUF_INIT(16u << 20);
		struct hfw_eui dev;
		uint8_t *image = malloc((size_t)n);

		memset(image, 0xA5, (size_t)n);
		hfw_eui_parse(&dev, "00-DB-12-34-56-78-90-A4", "d", &err);
		hfw_eui_parse(&r.id.target, "90-B3-D5-1F-30-00-00-02", "t", &err);
		r.body = HFW_BODY_UPDATE_PPMID_FIRMWARE;
		r.image = image;
		r.image_len = (size_t)n;
		r.firmware_version = "01020304";
		r.devices = &dev;
		r.ndevices = 1;
		r.id.counter = 1;
		t0 = now();
		if (hfw_duis_sign_request(&out, s, &r, NULL, &err) < 0)
			die(&err);
		t = now() - t0;
		printf("%.3f %zu\n", t, out.len);
		free(image);
		hfw_buf_release(&out);
	}
	hfw_signer_free(s);
	return 0;
}
