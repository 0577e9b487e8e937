/* libFuzzer target: the manifest parser; what parses must re-serialise and re-parse the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_manifest a, b;
	char *text = NULL;

	if (hfw_manifest_parse(&a, (const char *)data, size, "fuzz", &err) != 0) {
		if (err.code != HFW_EINPUT || !err.text[0])
			abort();
		return 0;
	}
	if (hfw_manifest_format(&text, &a, &err) != 0)
		abort();
	if (hfw_manifest_parse(&b, text, strlen(text), "again", &err) != 0)
		abort();
	if (memcmp(&a.hdr, &b.hdr, sizeof(a.hdr)) != 0 || a.total_len != b.total_len)
		abort();
	free(text);
	return 0;
}
