/*
 * cs06.h - GBCS use case CS06, Activate Firmware (SR 11.3): the command's
 * content, the device's response, the future-dated outcome alert, and the
 * check a supplier makes on the DCC's pre-command before signing it.
 * firmware-protocol.md §4.4 and §6.2-6.3; DER throughout, parsed strictly.
 *
 *   command   SEQUENCE { hash OCTET STRING(32), originatorCounter INTEGER,
 *                        executionDateTime GeneralizedTime OPTIONAL }
 *   response  NULL (future-dated: accepted) |
 *             SEQUENCE { responseCode INTEGER, firmwareVersion OCTET STRING(4) }
 *   alert     SEQUENCE { alertCode INTEGER (0x8F66 | 0x8F67),
 *                        executionDateTime GeneralizedTime,
 *                        originatorCounter INTEGER, outcome SEQUENCE {...} }
 */
#ifndef HFW_CS06_H
#define HFW_CS06_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "eui.h"

#define HFW_CS06_MESSAGE_CODE 0x0012	/* command and response */
#define HFW_CS06_ALERT_CODE_MSG 0x00CA	/* future-dated outcome alert */
#define HFW_CS06_ALERT_SUCCESS 0x8F66
#define HFW_CS06_ALERT_FAILURE 0x8F67
#define HFW_CS06_CANCEL_GBCS "99991231235959Z"	/* what the cancel sentinel becomes */
#define HFW_CS06_CANCEL_DUIS "3000-12-31T00:00:00Z"
#define HFW_CS06_MAX 96			/* octets of any CS06 content hanfw builds */

/* GeneralizedTime as GBCS writes it: YYYYMMDDHHMMSSZ. */
#define HFW_GENTIME_LEN 15

struct hfw_cs06_command {
	uint8_t hash[32];		/* SHA-256 of the Manufacturer Image */
	uint64_t counter;		/* the RequestID counter */
	char time[HFW_GENTIME_LEN + 1];	/* "" for immediate */
};

enum hfw_cs06_code {
	HFW_CS06_SUCCESS = 0,
	HFW_CS06_NO_IMAGE_HELD = 1,
	HFW_CS06_HASH_MISMATCH = 2,
	HFW_CS06_ACTIVATION_FAILURE = 3,
};

struct hfw_cs06_outcome {
	int accepted;			/* NULL: a future-dated command was stored */
	int code;			/* enum hfw_cs06_code, when not accepted */
	uint8_t version[4];		/* firmware the device runs after it */
};

struct hfw_cs06_alert {
	uint32_t alert_code;		/* 0x8F66 or 0x8F67 */
	char time[HFW_GENTIME_LEN + 1];
	uint64_t counter;		/* of the 11.3 it reports on */
	struct hfw_cs06_outcome outcome;
};

/* "success", "noImageHeld", "hashMismatch", "activationFailure", or "unknown". */
const char *hfw_cs06_code_name(int code);

/* Encoders write at most HFW_CS06_MAX octets to out. */
void hfw_cs06_command_encode(uint8_t *out, size_t *len, const struct hfw_cs06_command *c);
void hfw_cs06_response_encode(uint8_t *out, size_t *len, const struct hfw_cs06_outcome *o);
void hfw_cs06_alert_encode(uint8_t *out, size_t *len, const struct hfw_cs06_alert *a);

/* Parsers: HFW_EINPUT names the field that is wrong. */
int hfw_cs06_command_parse(struct hfw_cs06_command *out, const uint8_t *p, size_t len, struct hfw_error *err);
int hfw_cs06_response_parse(struct hfw_cs06_outcome *out, const uint8_t *p, size_t len, struct hfw_error *err);
int hfw_cs06_alert_parse(struct hfw_cs06_alert *out, const uint8_t *p, size_t len, struct hfw_error *err);

/*
 * A DUIS ExecutionDateTime (xs:dateTime, Z or an offset) as the
 * GeneralizedTime of the command, in UTC: the cancel sentinel
 * 3000-12-31T00:00:00Z becomes 99991231235959Z.  Fractions of a second are
 * refused unless zero (GBCS times are whole seconds).  *unix_s (may be
 * NULL) receives the instant.
 */
int hfw_cs06_time_from_duis(char out[HFW_GENTIME_LEN + 1], int64_t *unix_s, const char *duis,
			    struct hfw_error *err);

/* A GeneralizedTime as seconds since the epoch. */
int hfw_gentime_to_unix(int64_t *out, const char *gentime, struct hfw_error *err);

/* What the supplier asked the DCC for, to hold the pre-command against. */
struct hfw_precommand_expect {
	struct hfw_eui originator;	/* the supplier */
	struct hfw_eui recipient;	/* the device */
	uint64_t counter;		/* the RequestID counter */
	uint8_t hash[32];
	const char *time;		/* GeneralizedTime, or NULL for immediate */
};

/*
 * The check before signing: a General Signing command from us to the
 * device, message code 0x0012 and nothing else in other-information, our
 * counter, no date-time and no signature, and content byte for byte the
 * CS06 command we asked for.  HFW_EVERIFY names the first difference.
 */
int hfw_cs06_check_precommand(const uint8_t *pre, size_t len, const struct hfw_precommand_expect *e,
			      struct hfw_error *err);

#endif
