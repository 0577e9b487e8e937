/*
 * gbcs.h - GBCS message framing: the General Signing APDU (tag 0xDF) that
 * carries commands, responses and alerts, and the General Ciphering wrapper
 * (0xDD) the DCC puts around it.  See ../shared/docs/firmware-protocol.md §6.
 *
 *   DF 09 CRA counter(8) 08 originator(8) 08 recipient(8)
 *      date-time(00 | 0C+12) other-info(len+n) content-length(BER) content
 *      [ 00 | 40 r||s ]
 *
 * The signature covers everything after the DF tag up to the end of the
 * content.  Every length is checked against what is left before it is used.
 */
#ifndef HFW_GBCS_H
#define HFW_GBCS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

#define HFW_GBCS_TAG_SIGNING 0xDF
#define HFW_GBCS_TAG_CIPHERING 0xDD

enum hfw_gbcs_cra { HFW_CRA_COMMAND = 1, HFW_CRA_RESPONSE = 2, HFW_CRA_ALERT = 3 };

enum hfw_gbcs_sig {
	HFW_GBCS_SIG_ABSENT,	/* the message ends with its content (pre-commands, DCC Boxed < 1.4.1) */
	HFW_GBCS_SIG_NULL,	/* signature length 00 */
	HFW_GBCS_SIG_PRESENT,	/* 40 + 64-byte r||s */
};

struct hfw_gbcs_message {
	uint8_t cra;
	uint64_t counter;
	uint8_t originator[8], recipient[8];
	int has_datetime;
	uint8_t datetime[12];
	const uint8_t *other;		/* other-information */
	size_t other_len;
	uint16_t message_code;		/* first two octets of other-information, if there */
	const uint8_t *content;
	size_t content_len;
	size_t signed_end;		/* offset just past the content */
	enum hfw_gbcs_sig sig;
	const uint8_t *signature;	/* 64 bytes if HFW_GBCS_SIG_PRESENT */
	size_t len;			/* bytes of the whole APDU */
};

/* Parse a General Signing APDU occupying all of buf.  HFW_EINPUT names the field. */
int hfw_gbcs_parse(struct hfw_gbcs_message *out, const uint8_t *buf, size_t len,
		   struct hfw_error *err);

/* Find the General Signing APDU inside a General Ciphering (DD) message. */
int hfw_gbcs_unwrap(const uint8_t **inner, size_t *inner_len, const uint8_t *buf, size_t len,
		    struct hfw_error *err);

/*
 * Sign a pre-command: drop a trailing null signature length if present,
 * sign bytes [1, end of content) with key, append 40 || r || s.  *out is a
 * new buffer.  The pre-command must be a command (CRA 01) with no signature.
 */
int hfw_gbcs_sign_precommand(uint8_t **out, size_t *outlen, const hfw_key *key,
			     const uint8_t *pre, size_t len, struct hfw_error *err);

/* What hfw_gbcs_encode frames. */
struct hfw_gbcs_frame {
	uint8_t cra;
	uint64_t counter;
	uint8_t originator[8], recipient[8];
	const uint8_t *datetime;	/* 12-octet DLMS date-time, or NULL for none */
	uint16_t message_code;		/* other-information starts with this code */
	const uint8_t *other_extra;	/* then these (supplementary remote party and counter), or NULL */
	size_t other_extra_len;		/* <= 64 */
	const uint8_t *content;
	size_t content_len;		/* < 65536 */
};

/*
 * Frame a General Signing APDU and sign it with key (40 || r || s), or end
 * it with a null signature length (00) when key is NULL.  *out is new.
 */
int hfw_gbcs_encode(uint8_t **out, size_t *outlen, const struct hfw_gbcs_frame *f, const hfw_key *key,
		    struct hfw_error *err);

/*
 * Wrap a General Signing APDU in General Ciphering (DD) as the DCC does for
 * MAC-protected messages, with a zero MAC: hanfw's sandbox has no key
 * agreement keys to compute the GMAC, and hanfw never checks it.
 */
int hfw_gbcs_wrap(uint8_t **out, size_t *outlen, const uint8_t *apdu, size_t len, struct hfw_error *err);

/* A DLMS date-time (12 octets, deviation unspecified, as devices send it) for a Unix time in ms. */
void hfw_gbcs_dlms_datetime(uint8_t out[12], int64_t unix_ms);

/* Verify a signed message's signature with cert.  HFW_EVERIFY if it does not. */
int hfw_gbcs_verify(const struct hfw_gbcs_message *m, const uint8_t *buf, const hfw_cert *cert,
		    struct hfw_error *err);

/* Decode hex text, ignoring white space (the RTDS .HEX files).  *out is new. */
int hfw_gbcs_from_hex(uint8_t **out, size_t *len, const char *text, size_t tlen,
		      struct hfw_error *err);

#endif
