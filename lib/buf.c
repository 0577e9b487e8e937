/* buf.c - growable buffer with a ceiling (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *hfw_buf_reserve(struct hfw_buf *b, size_t n, struct hfw_error *err)
{
	size_t need = b->len + n + 1, cap;
	char *p;

	if (n > b->max || b->len > b->max - n) {
		hfw_error_set(err, HFW_ELIMIT, "message would be more than %zu bytes", b->max);
		return NULL;
	}
	if (need > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < need)
			cap *= 2;
		if (!(p = realloc(b->data, cap))) {
			hfw_error_oom(err);
			return NULL;
		}
		b->data = p;
		b->cap = cap;
	}
	return b->data + b->len;
}

void hfw_buf_grew(struct hfw_buf *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

int hfw_buf_append(struct hfw_buf *b, const void *data, size_t len, struct hfw_error *err)
{
	char *p = hfw_buf_reserve(b, len, err);

	if (!p)
		return err->code;
	memcpy(p, data, len);
	hfw_buf_grew(b, len);
	return 0;
}

int hfw_buf_puts(struct hfw_buf *b, const char *s, struct hfw_error *err)
{
	return hfw_buf_append(b, s, strlen(s), err);
}

int hfw_buf_printf(struct hfw_buf *b, struct hfw_error *err, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return hfw_error_set(err, HFW_ERROR, "formatting failed");
	if (!(p = hfw_buf_reserve(b, (size_t)n, err)))
		return err->code;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	hfw_buf_grew(b, (size_t)n);
	return 0;
}

int hfw_buf_put_escaped(struct hfw_buf *b, const char *s, struct hfw_error *err)
{
	int ret = 0;

	for (; *s && ret == 0; s++) {
		switch (*s) {
		case '&': ret = hfw_buf_puts(b, "&amp;", err); break;
		case '<': ret = hfw_buf_puts(b, "&lt;", err); break;
		case '>': ret = hfw_buf_puts(b, "&gt;", err); break;
		case '\r': ret = hfw_buf_puts(b, "&#xD;", err); break;
		default: ret = hfw_buf_append(b, s, 1, err); break;
		}
	}
	return ret;
}

char *hfw_buf_detach(struct hfw_buf *b, size_t *len)
{
	char *d = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

void hfw_buf_release(struct hfw_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
