/*
 * error.h - hanfw's single error convention.
 *
 * Every lib/ function that can fail returns int: 0 on success or a negative
 * HFW_E* code, and fills a caller-owned struct hfw_error with a one-line
 * message (lower case, no full stop, subject in single quotes).  Higher
 * layers propagate the code and leave the text alone.  lib/ never prints
 * and never exits; cmd/ turns the code into the exit status (-code).
 */
#ifndef HFW_ERROR_H
#define HFW_ERROR_H

#include <stddef.h>

enum hfw_code {
#define HFW_ERR(name, num, text) HFW_E##name = -(num),
#include "errors.def"
#undef HFW_ERR
	HFW_ERROR = HFW_EERROR,	/* the generic failure reads better without the doubled E */
};

#define HFW_ERROR_TEXT_MAX 512

struct hfw_error {
	int code;			/* last HFW_E* set, 0 if none */
	char text[HFW_ERROR_TEXT_MAX];	/* one line, no trailing newline */
};

#define HFW_ERROR_INIT { 0, "" }

#if defined(__GNUC__)
#define HFW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define HFW_MUST_CHECK __attribute__((warn_unused_result))
#else
#define HFW_PRINTF(f, a)
#define HFW_MUST_CHECK
#endif

/* Set code and message; returns code so that "return hfw_error_set(...)" works. */
int hfw_error_set(struct hfw_error *err, int code, const char *fmt, ...)
	HFW_PRINTF(3, 4);

/*
 * Like hfw_error_set, then append ": <reason>" from the deepest OpenSSL
 * error on the queue, and clear the queue so it cannot leak into a later
 * message.
 */
int hfw_error_openssl(struct hfw_error *err, int code, const char *fmt, ...)
	HFW_PRINTF(3, 4);

/* Fixed text, no allocation. */
int hfw_error_oom(struct hfw_error *err);

/* What a code means ("invalid input: ..."), for any code in errors.def. */
const char *hfw_strerror(int code);

/* The symbolic name without prefix ("INPUT"), or NULL if unknown. */
const char *hfw_error_name(int code);

#endif
