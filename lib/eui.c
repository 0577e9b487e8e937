/* eui.c - EUI-64 parse and format. */
#include "eui.h"

#include <stdio.h>
#include <string.h>

#include "hex.h"

int hfw_eui_parse(struct hfw_eui *out, const char *text, const char *what,
		  struct hfw_error *err)
{
	size_t len = strlen(text), i;
	char digits[16];

	if (len == 16) {
		memcpy(digits, text, 16);
	} else if (len == 23) {
		for (i = 0; i < 8; i++) {
			if (i < 7 && text[3 * i + 2] != '-')
				goto bad;
			digits[2 * i] = text[3 * i];
			digits[2 * i + 1] = text[3 * i + 1];
		}
	} else {
		goto bad;
	}
	if (hfw_hex_decode(out->b, HFW_EUI_LEN, digits, sizeof(digits)) == 0)
		return 0;
bad:
	return hfw_error_set(err, HFW_EINPUT,
			     "%s '%.40s' is not an EUI-64 (expected XX-XX-XX-XX-XX-XX-XX-XX)",
			     what, text);
}

uint64_t hfw_eui_to_u64(const struct hfw_eui *e)
{
	uint64_t k = 0;
	int i;

	for (i = 0; i < HFW_EUI_LEN; i++)
		k = k << 8 | e->b[i];
	return k;
}

void hfw_eui_format(char out[HFW_EUI_TEXT_MAX], const struct hfw_eui *e)
{
	snprintf(out, HFW_EUI_TEXT_MAX, "%02X-%02X-%02X-%02X-%02X-%02X-%02X-%02X",
		 e->b[0], e->b[1], e->b[2], e->b[3], e->b[4], e->b[5], e->b[6], e->b[7]);
}
