/*
 * libFuzzer target: DUIS parsing, canonicalisation, signature checking and
 * schema validation (hfw_xmldsig_verify), trusting the certificates in
 * $HFW_FUZZ_TRUST (the ZAZ1 set, so DCC Boxed's own messages seed it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_verify_result r;
	struct hfw_verify_options o = { trust, size > 0 && (data[size - 1] & 1), 0, NULL, NULL, 0 };
	int ret = hfw_xmldsig_verify(&r, data, size, &o, &err);

	/* Every refusal is a classified, described error. */
	if (ret < 0 && (!err.text[0] || (ret != HFW_EINPUT && ret != HFW_EVERIFY && ret != HFW_ELIMIT &&
					  ret != HFW_ENOMEM)))
		abort();
	return 0;
}
