/* hex.h - hexadecimal text <-> bytes. */
#ifndef HFW_HEX_H
#define HFW_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Write 2*len lower-case hex digits and a NUL to out (size >= 2*len+1). */
void hfw_hex_encode(char *out, const uint8_t *in, size_t len);

/* Same, upper case (DUIS hexBinary as the DCC writes it). */
void hfw_hex_encode_upper(char *out, const uint8_t *in, size_t len);

/*
 * Decode exactly 2*outlen hex digits (either case) from the NUL-free text
 * in[0..inlen).  Returns 0, or -1 if the length is wrong or a character is
 * not a hex digit.
 */
int hfw_hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen);

#endif
