/*
 * libFuzzer target: the sandbox's SMKI certificate service (smkisvc.h), a
 * server anyone on the address may POST to.  The first octet picks the
 * path and whether the apikey is right; the rest is the body.  Every
 * answer is one of the statuses the service documents.
 */
#define _DEFAULT_SOURCE	/* mkdtemp */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/fileio.h"
#include "../../lib/sandbox/pki.h"
#include "../../lib/sandbox/smkisvc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/fuzz_smkisvc.XXXXXX";

/* The service has read its files: none is left behind. */
static void clean(void)
{
	static const char *const files[] = { "devices/00db123456789000-ds.pem", "devices/00db123456789000-ds.key",
					     "sandbox.json", "devices", "" };
	char p[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		remove(p);
	}
}

/* A service with one device's ds certificate and no organisations, made once. */
static hfw_smki_service *service(void)
{
	static hfw_smki_service *s;
	static int tried;
	char p[256], k[256];
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_pki_request r = { .eui = "00-DB-12-34-56-78-90-00", .days = 30 };

	if (tried)
		return s;
	tried = 1;
	if (!mkdtemp(dir))
		abort();
	snprintf(p, sizeof(p), "%s/devices", dir);
	if (mkdir(p, 0700) != 0)
		abort();
	snprintf(p, sizeof(p), "%s/sandbox.json", dir);
	snprintf(k, sizeof(k), "%s/devices/00db123456789000-ds.key", dir);
	if (hfw_file_write_atomic(p, "{}", 2, &err) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/devices/00db123456789000-ds.pem", dir);
	if (hfw_pki_issue_device(k, p, &r, &err) < 0 || hfw_smki_service_open(&s, dir, &err) < 0 ||
	    hfw_smki_service_count(s) != 1)
		abort();
	clean();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
		"/services/certificatesearch?apikey=" HFW_SANDBOX_SMKI_APIKEY,
		"/services/retrievecertificate?apikey=" HFW_SANDBOX_SMKI_APIKEY,
		"/services/certificatesearch?apikey=wrong",
		"/services/retrievecertificate",
		"/services/other?apikey=" HFW_SANDBOX_SMKI_APIKEY,
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_buf reply = HFW_BUF_INIT(1024 * 1024);
	hfw_smki_service *s = service();
	int status = 0;

	if (size < 1)
		return 0;
	if (hfw_smki_service_handle(s, paths[data[0] % 5], (const char *)data + 1, size - 1, &reply, &status, &err) == 0 &&
	    status != 200 && status != 401 && status != 402 && status != 404)
		abort();
	/* Only the two services with the right key ever find anything. */
	if (status == 200 && data[0] % 5 > 1)
		abort();
	hfw_buf_release(&reply);
	return 0;
}
