/*
 * libFuzzer target: GBCS CS06 (command, response, 0x00CA alert), the
 * pre-command check, and the GBCS decoder.  DER has one encoding for each
 * value, so whatever parses must encode back to exactly the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/cs06.h"
#include "../../lib/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_precommand_expect e;
	struct hfw_cs06_command c;
	struct hfw_cs06_outcome o;
	struct hfw_cs06_alert a;
	uint8_t out[HFW_CS06_MAX], *copy = malloc(size ? size : 1);
	size_t n;
	json_t *j = NULL;

	if (!copy)
		return 0;
	memcpy(copy, data, size);	/* exact size, so overreads are caught */
	if (hfw_cs06_command_parse(&c, copy, size, &err) == 0) {
		hfw_cs06_command_encode(out, &n, &c);
		if (n != size || memcmp(out, copy, n) != 0)
			abort();
	} else if (err.code != HFW_EINPUT) {
		abort();
	}
	if (hfw_cs06_response_parse(&o, copy, size, &err) == 0) {
		hfw_cs06_response_encode(out, &n, &o);
		if (n != size || memcmp(out, copy, n) != 0)
			abort();
	}
	if (hfw_cs06_alert_parse(&a, copy, size, &err) == 0) {
		hfw_cs06_alert_encode(out, &n, &a);
		if (n != size || memcmp(out, copy, n) != 0)
			abort();
	}
	/* The RTDS immediate pre-command's expectation: only that exact message may pass. */
	memset(&e, 0, sizeof(e));
	memcpy(e.originator.b, "\x90\xB3\xD5\x1F\x30\x01\x00\x00", 8);
	memcpy(e.recipient.b, "\x00\xDB\x12\x34\x56\x78\x90\xA0", 8);
	e.counter = 1000;
	memcpy(e.hash, "\xAA\x75\x86\x90\x73\x09\x34\xFF\x06\x85\xAA\x75\x86\x90\x73\x09\x34\xFF\x06\x85\x65\x77\x88\x99"
			"\x00\x11\x22\x33\x44\x55\x66\x77", 32);
	if (hfw_cs06_check_precommand(copy, size, &e, &err) == 0 && !(size == 74 || size == 75))
		abort();
	if (hfw_decode_gbcs(&j, copy, size, NULL, &err) == 0)
		json_decref(j);
	free(copy);
	return 0;
}
