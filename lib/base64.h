/* base64.h - base64 as XML signatures and DUIS carry it. */
#ifndef HFW_BASE64_H
#define HFW_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Characters needed to encode len bytes, without a NUL. */
size_t hfw_base64_len(size_t len);

/* Encode without line breaks; writes hfw_base64_len(len) chars and a NUL. */
void hfw_base64_encode(char *out, const uint8_t *in, size_t len);

/*
 * Decode text, ignoring ASCII white space anywhere (the DCC's Java signer
 * breaks lines with CR LF, written as "&#13;").  On success *out is a new
 * buffer (caller frees).  HFW_EINPUT, naming what, if the text is not base64.
 */
int hfw_base64_decode(uint8_t **out, size_t *outlen, const char *text, size_t len,
		      const char *what, struct hfw_error *err);

#endif
