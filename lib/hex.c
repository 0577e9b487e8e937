/* hex.c - hexadecimal text <-> bytes. */
#include "hex.h"

static void encode(char *out, const uint8_t *in, size_t len, const char *digits)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

void hfw_hex_encode(char *out, const uint8_t *in, size_t len)
{
	encode(out, in, len, "0123456789abcdef");
}

void hfw_hex_encode_upper(char *out, const uint8_t *in, size_t len)
{
	encode(out, in, len, "0123456789ABCDEF");
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hfw_hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen)
{
	size_t i;

	if (inlen != 2 * outlen)
		return -1;
	for (i = 0; i < outlen; i++) {
		int hi = nibble(in[2 * i]), lo = nibble(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
