/* base64.c - base64 encode/decode (see base64.h). */
#include "base64.h"

#include <stdlib.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t hfw_base64_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

void hfw_base64_encode(char *out, const uint8_t *in, size_t len)
{
	size_t i = 0, o = 0;

	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int hfw_base64_decode(uint8_t **out, size_t *outlen, const char *text, size_t len,
		      const char *what, struct hfw_error *err)
{
	uint8_t *buf;
	uint32_t acc = 0;
	size_t i, n = 0, digits = 0, pad = 0;

	*out = NULL;
	*outlen = 0;
	if (!(buf = malloc(len / 4 * 3 + 3)))
		return hfw_error_oom(err);
	for (i = 0; i < len; i++) {
		char c = text[i];
		int v;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || (v = value(c)) < 0)
			goto bad;	/* data after padding, or not the alphabet */
		acc = acc << 6 | (uint32_t)v;
		if (++digits % 4 == 0) {
			buf[n++] = (uint8_t)(acc >> 16);
			buf[n++] = (uint8_t)(acc >> 8);
			buf[n++] = (uint8_t)acc;
			acc = 0;
		}
	}
	switch (digits % 4) {
	case 0:
		if (pad)
			goto bad;
		break;
	case 2:
		if (pad != 2 || (acc & 0x0f))
			goto bad;
		buf[n++] = (uint8_t)(acc >> 4);
		break;
	case 3:
		if (pad != 1 || (acc & 0x03))
			goto bad;
		buf[n++] = (uint8_t)(acc >> 10);
		buf[n++] = (uint8_t)(acc >> 2);
		break;
	default:
		goto bad;
	}
	*out = buf;
	*outlen = n;
	return 0;
bad:
	free(buf);
	return hfw_error_set(err, HFW_EINPUT, "%s is not valid base64", what);
}
