/* libFuzzer target: the OTA image parser, in every trailer mode. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_image img;
	char text[4 * HFW_OTA_HEADER_STRING_LEN + 1];
	uint8_t *copy;
	int mode;

	/* An exact-size heap copy, so reading one byte too far is caught. */
	if (!(copy = malloc(size ? size : 1)))
		return 0;
	memcpy(copy, data, size);
	for (mode = HFW_TRAILER_DETECT; mode <= HFW_TRAILER_ABSENT; mode++) {
		if (hfw_image_parse(&img, copy, size, (enum hfw_trailer_mode)mode, &err) == 0) {
			/* Whatever parses must describe bytes inside the input. */
			if (img.mi < copy || img.mi + img.mi_len > copy + size || img.mi_len == 0)
				abort();
			if (img.has_trailer && img.sig + HFW_ECDSA_SIG_LEN != copy + size)
				abort();
			hfw_ota_header_string_text(text, &img.hdr);
		} else if (err.code != HFW_EINPUT || !err.text[0]) {
			abort();
		}
	}
	free(copy);
	return 0;
}
