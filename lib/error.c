/* error.c - result codes and messages (see error.h). */
#include "error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The per-library text loaders below are deprecated in OpenSSL 3.0, not removed. */
#define OPENSSL_SUPPRESS_DEPRECATED
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

/*
 * OpenSSL's error texts, if the process asked OpenSSL not to load them at
 * start (hfw_key_load_one_only: a short "hanfw sign" does not pay for texts
 * it never shows).  That choice cannot be undone, but each library's texts
 * can still be loaded by its own (deprecated, still exported) loader: those
 * of the libraries hanfw's errors come from.  Once; cheap when loaded.
 */
static pthread_once_t texts_once = PTHREAD_ONCE_INIT;

static void load_texts(void)
{
	ERR_load_ERR_strings();
	ERR_load_ASN1_strings();
	ERR_load_BIO_strings();
	ERR_load_BN_strings();
	ERR_load_BUF_strings();
	ERR_load_CRYPTO_strings();
	ERR_load_EC_strings();
	ERR_load_EVP_strings();
	ERR_load_OBJ_strings();
	ERR_load_PEM_strings();
	ERR_load_PKCS12_strings();
	ERR_load_RAND_strings();
	ERR_load_X509_strings();
	ERR_load_X509V3_strings();
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

		if (!r) {
			pthread_once(&texts_once, load_texts);
			r = ERR_reason_error_string(last);
		}

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
