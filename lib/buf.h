/*
 * buf.h - a growable byte buffer with a hard ceiling, for building
 * messages.  data is always NUL-terminated (not counted in len).
 */
#ifndef HFW_BUF_H
#define HFW_BUF_H

#include <stddef.h>

#include "error.h"

struct hfw_buf {
	char *data;
	size_t len, cap, max;
};

#define HFW_BUF_INIT(max) { NULL, 0, 0, (max) }

int hfw_buf_append(struct hfw_buf *b, const void *data, size_t len,
		   struct hfw_error *err) HFW_MUST_CHECK;
int hfw_buf_puts(struct hfw_buf *b, const char *s, struct hfw_error *err) HFW_MUST_CHECK;
int hfw_buf_printf(struct hfw_buf *b, struct hfw_error *err, const char *fmt, ...)
	HFW_PRINTF(3, 4) HFW_MUST_CHECK;

/* Make room for n more bytes; returns where they go (commit with hfw_buf_grew). */
char *hfw_buf_reserve(struct hfw_buf *b, size_t n, struct hfw_error *err);
void hfw_buf_grew(struct hfw_buf *b, size_t n);

/* Append s as XML text content in canonical form: &, <, > and CR escaped. */
int hfw_buf_put_escaped(struct hfw_buf *b, const char *s, struct hfw_error *err) HFW_MUST_CHECK;

/* Take the bytes (caller frees); b is empty afterwards. */
char *hfw_buf_detach(struct hfw_buf *b, size_t *len);

void hfw_buf_release(struct hfw_buf *b);

#endif
