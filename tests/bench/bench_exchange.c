/*
 * bench_exchange - signed DUIS exchanges per second with "hanfw sandbox
 * serve" over one reused mutual-TLS connection (make bench).
 *   bench_exchange SANDBOX_DIR URL N [CONNECTIONS]
 * Each connection is a process of its own with its own devices; each exchange: build and sign an 11.4 request for one device, POST it,
 * verify the DCC's signed answer.  Client and server share this machine.
 * All connections take their RequestID counters from one shared counter, so
 * what reaches the sandbox is never further out of order than the requests
 * in flight (two independent sequences drifted beyond --counter-window).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/duis.h"
#include "../../lib/estate.h"
#include "../../lib/transport.h"
#include "../../lib/xmldsig.h"

static void die(const struct hfw_error *err)
{
	fprintf(stderr, "bench_exchange: %s\n", err->text);
	_exit(1);
}

static long run(const char *dir, const char *url, long n, int slot, int slots, atomic_uint_least64_t *counter);

int main(int argc, char **argv)
{
	int conns = argc > 4 ? atoi(argv[4]) : 1, c, status;
	int fds[2];
	long n, total = 0, got;
	struct timespec a, b;
	FILE *f;
	atomic_uint_least64_t *counter;

	if (argc < 4 || conns < 1)
		return 2;
	n = strtol(argv[3], NULL, 10);
	/* One counter for every connection (they are processes), above anything a ledger has used. */
	counter = mmap(NULL, sizeof(*counter), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counter == MAP_FAILED || pipe(fds) != 0)
		return 1;
	atomic_init(counter, (uint_least64_t)time(NULL) * 1000u * 1000u);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (c = 0; c < conns; c++)
		if (fork() == 0) {
			close(fds[0]);
			got = run(argv[1], argv[2], n / conns, c, conns, counter);
			dprintf(fds[1], "%ld\n", got);
			_exit(got < 0);
		}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	while (fscanf(f, "%ld", &got) == 1)
		total += got;
	fclose(f);
	for (c = 0; c < conns; c++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.0f\n", (double)total / ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9));
	return 0;
}

static long run(const char *dir, const char *url, long n, int slot, int slots, atomic_uint_least64_t *counter)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_transport_options to = { NULL, NULL, NULL, NULL, 0, 0, 0, -1, 0 };
	struct hfw_verify_options vo = { NULL, 0, 0, NULL, NULL, 0 };
	char p[4][4096];
	hfw_signer *s = NULL;
	hfw_transport *t = NULL;
	hfw_trust *trust = NULL;
	hfw_estate *estate = NULL;
	struct hfw_duis_request r;
	static const uint8_t image[] = "\x1e\xf1\xee\x0b bench";
	long i, done = 0;
	size_t k = 0;

	snprintf(p[0], sizeof(p[0]), "%s/pki/supplier-xml.key", dir);
	snprintf(p[1], sizeof(p[1]), "%s/pki/supplier-xml.pem", dir);
	snprintf(p[2], sizeof(p[2]), "%s/estate.json", dir);
	if (hfw_signer_open(&s, p[0], p[1], NULL, &err) < 0 || hfw_estate_read(&estate, p[2], &err) < 0)
		die(&err);
	snprintf(p[0], sizeof(p[0]), "%s/tls/ca.pem", dir);
	snprintf(p[1], sizeof(p[1]), "%s/tls/client.pem", dir);
	snprintf(p[2], sizeof(p[2]), "%s/tls/client.key", dir);
	snprintf(p[3], sizeof(p[3]), "%s/trust", dir);
	to.base_url = url;
	to.ca = p[0];
	to.client_cert = p[1];
	to.client_key = p[2];
	if (hfw_transport_open(&t, &to, &err) < 0 || hfw_trust_load_dir(&trust, p[3], &err) < 0)
		die(&err);
	vo.trust = trust;
	memset(&r, 0, sizeof(r));
	r.body = HFW_BODY_UPDATE_PPMID_FIRMWARE;
	r.schema_version = "5.4";
	r.image = image;
	r.image_len = sizeof(image) - 1;
	r.firmware_version = "01020304";
	r.ndevices = 1;
	hfw_eui_parse(&r.id.originator, "90-B3-D5-1F-30-01-00-00", "o", &err);
	hfw_eui_parse(&r.id.target, "90-B3-D5-1F-30-00-00-02", "t", &err);
	for (i = 0; i < n; i++) {
		struct hfw_buf out = HFW_BUF_INIT(1 << 20);
		struct hfw_reply reply;
		struct hfw_verify_result vr;
		enum hfw_delivery d;

		/* Every connection its own devices: the k-th PPMID goes to connection k % slots. */
		while (k < hfw_estate_count(estate) && (strcmp(hfw_estate_at(estate, k)->type->name, "PPMID") != 0 ||
							(k / 2) % (size_t)slots != (size_t)slot))
			k++;
		if (k == hfw_estate_count(estate))
			break;
		r.devices = &hfw_estate_at(estate, k++)->eui;
		r.id.counter = (uint64_t)atomic_fetch_add(counter, 1) + 1;
		if (hfw_duis_sign_request(&out, s, &r, NULL, &err) < 0 ||
		    hfw_transport_post(t, "/serviceD", out.data, out.len, &reply, &d, &err) < 0 ||
		    hfw_xmldsig_verify(&vr, (uint8_t *)reply.body, reply.len, &vo, &err) < 0)
			die(&err);
		if (strcmp(vr.response_code, "I99") != 0) {
			fprintf(stderr, "bench_exchange: answered %s\n", vr.response_code);
			return -1;
		}
		hfw_reply_release(&reply);
		hfw_buf_release(&out);
		done++;
	}
	hfw_signer_free(s);
	hfw_transport_free(t);
	hfw_trust_free(trust);
	hfw_estate_free(estate);
	return done;
}
