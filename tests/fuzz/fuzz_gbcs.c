/* libFuzzer target: GBCS General Signing and Ciphering framing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/gbcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *buf, size_t len)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_message m;

	if (hfw_gbcs_parse(&m, buf, len, &err) == 0) {
		if (m.content < buf || m.content + m.content_len > buf + len || m.signed_end > len ||
		    m.other + m.other_len > buf + len ||
		    (m.sig == HFW_GBCS_SIG_PRESENT && m.signature + HFW_ECDSA_SIG_LEN != buf + len))
			abort();
	} else if (err.code != HFW_EINPUT) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	const uint8_t *inner;
	uint8_t *copy = malloc(size ? size : 1), *hex = NULL;
	size_t ilen, hlen;

	if (!copy)
		return 0;
	memcpy(copy, data, size);	/* exact size, so overreads are caught */
	check(copy, size);
	if (hfw_gbcs_unwrap(&inner, &ilen, copy, size, &err) == 0) {
		if (inner < copy || inner + ilen > copy + size)
			abort();
		check(inner, ilen);
	}
	if (hfw_gbcs_from_hex(&hex, &hlen, (const char *)copy, size, &err) == 0) {
		check(hex, hlen);
		free(hex);
	}
	free(copy);
	return 0;
}
