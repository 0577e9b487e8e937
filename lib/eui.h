/*
 * eui.h - EUI-64 device and party identifiers.
 *
 * DUIS writes them as eight hex pairs joined by '-' ("90-B3-D5-1F-30-01-00-00",
 * either case); GBCS carries the eight octets most significant first.
 */
#ifndef HFW_EUI_H
#define HFW_EUI_H

#include <stdint.h>

#include "error.h"

#define HFW_EUI_LEN 8
#define HFW_EUI_TEXT_MAX 24	/* "XX-XX-XX-XX-XX-XX-XX-XX" + NUL */

struct hfw_eui {
	uint8_t b[HFW_EUI_LEN];	/* most significant octet first */
};

/*
 * Parse "XX-XX-XX-XX-XX-XX-XX-XX" or 16 bare hex digits.  Anything else
 * (other separators, wrong length, stray characters) is HFW_EINPUT, with
 * what names the value in the message ("device ID", "--destination").
 */
int hfw_eui_parse(struct hfw_eui *out, const char *text, const char *what,
		  struct hfw_error *err);

/* The eight octets as one number, most significant first: a key for hash tables and draws. */
uint64_t hfw_eui_to_u64(const struct hfw_eui *eui);

/* Canonical DUIS form, upper case with dashes. */
void hfw_eui_format(char out[HFW_EUI_TEXT_MAX], const struct hfw_eui *eui);

#endif
