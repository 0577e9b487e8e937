/* error.c - result codes and messages (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

struct code_info {
	int code;
	const char *name;
	const char *text;
};

static const struct code_info codes[] = {
#define HFW_ERR(name, num, text) { -(num), #name, text },
#include "errors.def"
#undef HFW_ERR
};

static const struct code_info *find(int code)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return &codes[i];
	return NULL;
}

const char *hfw_strerror(int code)
{
	const struct code_info *ci = find(code);

	return ci ? ci->text : "unknown error";
}

const char *hfw_error_name(int code)
{
	const struct code_info *ci = find(code);

	return ci ? ci->name : NULL;
}

static void vset(struct hfw_error *err, int code, const char *fmt, va_list ap)
{
	char *p;

	if (!err)
		return;
	err->code = code;
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	/* Messages are one line: fold anything a caller or library let in. */
	for (p = err->text; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

int hfw_error_set(struct hfw_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int hfw_error_openssl(struct hfw_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	unsigned long e, last = 0;
	char reason[160];
	size_t n;

	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (err && last) {
		const char *r = ERR_reason_error_string(last);

		if (r)
			snprintf(reason, sizeof(reason), "%s", r);
		else
			ERR_error_string_n(last, reason, sizeof(reason));
		n = strlen(err->text);
		snprintf(err->text + n, sizeof(err->text) - n, ": %s", reason);
	}
	ERR_clear_error();
	return code;
}

int hfw_error_oom(struct hfw_error *err)
{
	return hfw_error_set(err, HFW_ENOMEM, "out of memory");
}
