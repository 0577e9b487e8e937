/* gbcs.c - GBCS General Signing and Ciphering framing (see gbcs.h). */
#define _POSIX_C_SOURCE 200809L
#include "gbcs.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "hex.h"

/* BER definite length: < 0x80, 81 xx, or 82 xx xx. */
static int ber_length(size_t *out, size_t *used, const uint8_t *p, size_t left)
{
	if (left < 1)
		return -1;
	if (p[0] < 0x80) {
		*out = p[0];
		*used = 1;
	} else if (p[0] == 0x81 && left >= 2) {
		*out = p[1];
		*used = 2;
	} else if (p[0] == 0x82 && left >= 3) {
		*out = (size_t)p[1] << 8 | p[2];
		*used = 3;
	} else {
		return -1;
	}
	return 0;
}

#define NEED(n, what) do { if (len - off < (size_t)(n)) return hfw_error_set(err, HFW_EINPUT, \
	"GBCS message truncated in the %s at offset %zu", what, off); } while (0)

int hfw_gbcs_parse(struct hfw_gbcs_message *m, const uint8_t *buf, size_t len,
		   struct hfw_error *err)
{
	size_t off = 0, n, used, i;

	memset(m, 0, sizeof(*m));
	NEED(1, "tag");
	if (buf[0] != HFW_GBCS_TAG_SIGNING)
		return hfw_error_set(err, HFW_EINPUT, "not a GBCS General Signing message: tag 0x%02X, expected 0xDF",
				     buf[0]);
	off = 1;
	NEED(1 + 1 + 8, "transaction ID");
	if (buf[off] != 0x09)
		return hfw_error_set(err, HFW_EINPUT, "GBCS transaction ID length is %u, expected 9", buf[off]);
	m->cra = buf[off + 1];
	if (m->cra < HFW_CRA_COMMAND || m->cra > HFW_CRA_ALERT)
		return hfw_error_set(err, HFW_EINPUT, "GBCS CRA flag 0x%02X is not command, response or alert", m->cra);
	for (i = 0; i < 8; i++)
		m->counter = m->counter << 8 | buf[off + 2 + i];
	off += 10;
	NEED(9, "originator system title");
	if (buf[off] != 0x08)
		return hfw_error_set(err, HFW_EINPUT, "GBCS originator system title length is %u, expected 8", buf[off]);
	memcpy(m->originator, buf + off + 1, 8);
	off += 9;
	NEED(9, "recipient system title");
	if (buf[off] != 0x08)
		return hfw_error_set(err, HFW_EINPUT, "GBCS recipient system title length is %u, expected 8", buf[off]);
	memcpy(m->recipient, buf + off + 1, 8);
	off += 9;
	NEED(1, "date-time");
	if (buf[off] == 0x0C) {
		NEED(13, "date-time");
		m->has_datetime = 1;
		memcpy(m->datetime, buf + off + 1, 12);
		off += 13;
	} else if (buf[off] == 0x00) {
		off += 1;
	} else {
		return hfw_error_set(err, HFW_EINPUT, "GBCS date-time length is %u, expected 0 or 12", buf[off]);
	}
	NEED(1, "other-information");
	n = buf[off];
	NEED(1 + n, "other-information");
	m->other = buf + off + 1;
	m->other_len = n;
	if (n >= 2)
		m->message_code = hfw_load_be16(m->other);
	off += 1 + n;
	if (ber_length(&n, &used, buf + off, len - off) < 0)
		return hfw_error_set(err, HFW_EINPUT, "GBCS content length at offset %zu is not a valid length", off);
	off += used;
	NEED(n, "content");
	m->content = buf + off;
	m->content_len = n;
	off += n;
	m->signed_end = off;
	if (off == len) {
		m->sig = HFW_GBCS_SIG_ABSENT;
	} else if (buf[off] == 0x00 && len - off == 1) {
		m->sig = HFW_GBCS_SIG_NULL;
	} else if (buf[off] == 0x40 && len - off == 1 + HFW_ECDSA_SIG_LEN) {
		m->sig = HFW_GBCS_SIG_PRESENT;
		m->signature = buf + off + 1;
	} else {
		return hfw_error_set(err, HFW_EINPUT,
				     "GBCS signature at offset %zu: length byte 0x%02X with %zu bytes left (expected 00, or 40 and 64 bytes)",
				     off, buf[off], len - off - 1);
	}
	m->len = len;
	return 0;
}

int hfw_gbcs_unwrap(const uint8_t **inner, size_t *inner_len, const uint8_t *buf, size_t len,
		    struct hfw_error *err)
{
	size_t off = 0, n, used;

	*inner = NULL;
	*inner_len = 0;
	if (len < 7 || buf[0] != HFW_GBCS_TAG_CIPHERING)
		return hfw_error_set(err, HFW_EINPUT, "not a GBCS General Ciphering message (tag 0xDD)");
	off = 7;	/* DD and the six-octet transaction-id / originator / recipient / date / other fields, all empty */
	if (ber_length(&n, &used, buf + off, len - off) < 0 || n > len - off - used)
		return hfw_error_set(err, HFW_EINPUT, "GBCS ciphered content length at offset %zu is wrong", off);
	off += used;
	/* security header 11 + invocation counter (4), then the APDU, then a 12-byte MAC */
	if (n < 5 + 1 + 12 || buf[off] != 0x11)
		return hfw_error_set(err, HFW_EINPUT, "GBCS ciphered content has no authenticated-only security header");
	*inner = buf + off + 5;
	*inner_len = n - 5 - 12;
	return 0;
}

int hfw_gbcs_sign_precommand(uint8_t **out, size_t *outlen, const hfw_key *key,
			     const uint8_t *pre, size_t len, struct hfw_error *err)
{
	struct hfw_gbcs_message m;
	uint8_t digest[HFW_SHA256_LEN], *buf;
	int ret;

	*out = NULL;
	*outlen = 0;
	if ((ret = hfw_gbcs_parse(&m, pre, len, err)) < 0)
		return ret;
	if (m.cra != HFW_CRA_COMMAND)
		return hfw_error_set(err, HFW_EINPUT, "GBCS message is not a command (CRA flag %u): not a pre-command",
				     m.cra);
	if (m.sig == HFW_GBCS_SIG_PRESENT)
		return hfw_error_set(err, HFW_EINPUT, "GBCS pre-command is already signed");
	hfw_sha256(digest, pre + 1, m.signed_end - 1);
	if (!(buf = malloc(m.signed_end + 1 + HFW_ECDSA_SIG_LEN)))
		return hfw_error_oom(err);
	memcpy(buf, pre, m.signed_end);
	buf[m.signed_end] = 0x40;
	if ((ret = hfw_ecdsa_sign_digest(key, digest, buf + m.signed_end + 1, err)) < 0) {
		free(buf);
		return ret;
	}
	*out = buf;
	*outlen = m.signed_end + 1 + HFW_ECDSA_SIG_LEN;
	return 0;
}

int hfw_gbcs_verify(const struct hfw_gbcs_message *m, const uint8_t *buf, const hfw_cert *cert,
		    struct hfw_error *err)
{
	uint8_t digest[HFW_SHA256_LEN];

	if (m->sig != HFW_GBCS_SIG_PRESENT)
		return hfw_error_set(err, HFW_EVERIFY, "GBCS message carries no signature");
	hfw_sha256(digest, buf + 1, m->signed_end - 1);
	return hfw_ecdsa_verify_digest(cert, digest, m->signature, err);
}

int hfw_gbcs_from_hex(uint8_t **out, size_t *len, const char *text, size_t tlen,
		      struct hfw_error *err)
{
	uint8_t *buf;
	char digits[2];
	size_t i, nd = 0, n = 0;

	*out = NULL;
	*len = 0;
	if (!(buf = malloc(tlen / 2 + 1)))
		return hfw_error_oom(err);
	for (i = 0; i < tlen; i++) {
		char c = text[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		digits[nd++] = c;
		if (nd == 2) {
			if (hfw_hex_decode(buf + n, 1, digits, 2) < 0)
				goto bad;
			n++;
			nd = 0;
		}
	}
	if (nd != 0 || n == 0)
		goto bad;
	*out = buf;
	*len = n;
	return 0;
bad:
	free(buf);
	return hfw_error_set(err, HFW_EINPUT, "not hexadecimal GBCS bytes");
}

int hfw_gbcs_encode(uint8_t **out, size_t *outlen, const struct hfw_gbcs_frame *f, const hfw_key *key,
		    struct hfw_error *err)
{
	uint8_t digest[HFW_SHA256_LEN], *b;
	size_t n = 0, cap = 45 + 64 + 3 + f->content_len + 1 + HFW_ECDSA_SIG_LEN;	/* header with date-time is 45 */
	int i, ret;

	*out = NULL;
	if (f->content_len > 0xFFFF || f->other_extra_len > 64)
		return hfw_error_set(err, HFW_ELIMIT, "GBCS content of %zu octets is too long", f->content_len);
	if (!(b = malloc(cap)))
		return hfw_error_oom(err);
	b[n++] = HFW_GBCS_TAG_SIGNING;
	b[n++] = 0x09;
	b[n++] = f->cra;
	for (i = 7; i >= 0; i--)
		b[n++] = (uint8_t)(f->counter >> (8 * i));
	b[n++] = 0x08;
	memcpy(b + n, f->originator, 8);
	n += 8;
	b[n++] = 0x08;
	memcpy(b + n, f->recipient, 8);
	n += 8;
	if (f->datetime) {
		b[n++] = 0x0C;
		memcpy(b + n, f->datetime, 12);
		n += 12;
	} else {
		b[n++] = 0x00;
	}
	b[n++] = (uint8_t)(2 + f->other_extra_len);
	b[n++] = (uint8_t)(f->message_code >> 8);
	b[n++] = (uint8_t)f->message_code;
	if (f->other_extra_len) {
		memcpy(b + n, f->other_extra, f->other_extra_len);
		n += f->other_extra_len;
	}
	/* BER length, as short as it goes. */
	if (f->content_len < 0x80) {
		b[n++] = (uint8_t)f->content_len;
	} else if (f->content_len < 0x100) {
		b[n++] = 0x81;
		b[n++] = (uint8_t)f->content_len;
	} else {
		b[n++] = 0x82;
		b[n++] = (uint8_t)(f->content_len >> 8);
		b[n++] = (uint8_t)f->content_len;
	}
	memcpy(b + n, f->content, f->content_len);
	n += f->content_len;
	if (!key) {
		b[n++] = 0x00;
	} else {
		hfw_sha256(digest, b + 1, n - 1);
		b[n++] = 0x40;
		if ((ret = hfw_ecdsa_sign_digest(key, digest, b + n, err)) < 0) {
			free(b);
			return ret;
		}
		n += HFW_ECDSA_SIG_LEN;
	}
	*out = b;
	*outlen = n;
	return 0;
}

int hfw_gbcs_wrap(uint8_t **out, size_t *outlen, const uint8_t *apdu, size_t len, struct hfw_error *err)
{
	size_t inner = 5 + len + 12, n = 0;
	uint8_t *b;

	*out = NULL;
	if (inner > 0xFFFF)
		return hfw_error_set(err, HFW_ELIMIT, "GBCS message of %zu octets is too long to wrap", len);
	if (!(b = calloc(1, 7 + 3 + inner)))
		return hfw_error_oom(err);
	b[n++] = HFW_GBCS_TAG_CIPHERING;
	n += 6;		/* transaction-id, originator, recipient, date-time, other-information: all empty */
	if (inner < 0x80) {
		b[n++] = (uint8_t)inner;
	} else if (inner < 0x100) {
		b[n++] = 0x81;
		b[n++] = (uint8_t)inner;
	} else {
		b[n++] = 0x82;
		b[n++] = (uint8_t)(inner >> 8);
		b[n++] = (uint8_t)inner;
	}
	b[n++] = 0x11;	/* authenticated only, suite 1; invocation counter 0 */
	n += 4;
	memcpy(b + n, apdu, len);
	n += len + 12;	/* the MAC, zero */
	*out = b;
	*outlen = n;
	return 0;
}

void hfw_gbcs_dlms_datetime(uint8_t out[12], int64_t unix_ms)
{
	time_t t = (time_t)(unix_ms / 1000);
	struct tm tm;
	int year;

	gmtime_r(&t, &tm);
	year = tm.tm_year + 1900;
	out[0] = (uint8_t)(year >> 8);
	out[1] = (uint8_t)year;
	out[2] = (uint8_t)(tm.tm_mon + 1);
	out[3] = (uint8_t)tm.tm_mday;
	out[4] = 0xFF;			/* day of week not specified */
	out[5] = (uint8_t)tm.tm_hour;
	out[6] = (uint8_t)tm.tm_min;
	out[7] = (uint8_t)tm.tm_sec;
	out[8] = 0x00;			/* hundredths */
	out[9] = 0x80;			/* deviation not specified */
	out[10] = 0x00;
	out[11] = 0xFF;			/* clock status not specified */
}
