/*
 * noicu.c - libxml2 without ICU, for the statically linked hanfw binary
 * (Makefile, STATIC_DEPS).  Not part of libhanfw.a.
 *
 * Debian's libxml2 is built with ICU, but only its encoding module calls it,
 * and only as the last resort for an encoding that neither libxml2's own
 * converters nor iconv know: seven entry points (ucnv_open, ucnv_close,
 * ucnv_convertEx, the two callback setters and the two STOP callbacks).
 * Linking libicuuc.a and its 30 MB of data for that would make every start
 * slower and the binary 30 MB larger, for a path hanfw never takes: it parses
 * only UTF-8 (hfw_xml_parse refuses any other declared encoding, a UTF-16 or
 * UTF-32 byte order mark and NUL bytes before libxml2 sees a byte, and tells
 * libxml2 to ignore the declaration) and serialises only UTF-8.
 *
 * So the converter cannot be opened: ucnv_open fails with
 * U_UNSUPPORTED_ERROR, and libxml2 reports the encoding as unsupported, as it
 * does for a name nothing knows.  Fail closed; nothing here converts a byte.
 * The names are ICU's (unicode/ucnv.h renames them to the installed ICU's
 * versioned symbols, e.g. ucnv_open_72), so they match what libxml2.a wants.
 */
#include <stddef.h>

#include <unicode/ucnv.h>

static void unsupported(UErrorCode *err)
{
	if (err && U_SUCCESS(*err))
		*err = U_UNSUPPORTED_ERROR;
}

UConverter *ucnv_open(const char *name, UErrorCode *err)
{
	(void)name;
	unsupported(err);
	return NULL;
}

void ucnv_close(UConverter *cnv)
{
	(void)cnv;
}

void ucnv_setToUCallBack(UConverter *cnv, UConverterToUCallback cb, const void *ctx,
			 UConverterToUCallback *old_cb, const void **old_ctx, UErrorCode *err)
{
	(void)cnv;
	(void)cb;
	(void)ctx;
	(void)old_cb;
	(void)old_ctx;
	unsupported(err);
}

void ucnv_setFromUCallBack(UConverter *cnv, UConverterFromUCallback cb, const void *ctx,
			   UConverterFromUCallback *old_cb, const void **old_ctx, UErrorCode *err)
{
	(void)cnv;
	(void)cb;
	(void)ctx;
	(void)old_cb;
	(void)old_ctx;
	unsupported(err);
}

void ucnv_convertEx(UConverter *target_cnv, UConverter *source_cnv, char **target,
		    const char *target_limit, const char **source, const char *source_limit,
		    UChar *pivot_start, UChar **pivot_source, UChar **pivot_target,
		    const UChar *pivot_limit, UBool reset, UBool flush, UErrorCode *err)
{
	(void)target_cnv;
	(void)source_cnv;
	(void)target;
	(void)target_limit;
	(void)source;
	(void)source_limit;
	(void)pivot_start;
	(void)pivot_source;
	(void)pivot_target;
	(void)pivot_limit;
	(void)reset;
	(void)flush;
	unsupported(err);
}

void UCNV_FROM_U_CALLBACK_STOP(const void *ctx, UConverterFromUnicodeArgs *args,
			       const UChar *code_units, int32_t length, UChar32 code_point,
			       UConverterCallbackReason reason, UErrorCode *err)
{
	(void)ctx;
	(void)args;
	(void)code_units;
	(void)length;
	(void)code_point;
	(void)reason;
	(void)err;
}

void UCNV_TO_U_CALLBACK_STOP(const void *ctx, UConverterToUnicodeArgs *args,
			     const char *code_units, int32_t length,
			     UConverterCallbackReason reason, UErrorCode *err)
{
	(void)ctx;
	(void)args;
	(void)code_units;
	(void)length;
	(void)reason;
	(void)err;
}
