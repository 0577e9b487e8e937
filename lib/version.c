/* version.c - the versions --version prints (see version.h). */
#include "version.h"

#include <jansson.h>
#include <sqlite3.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>

void hfw_versions(struct hfw_versions *out)
{
	out->hanfw = HFW_VERSION;
	out->openssl = OpenSSL_version(OPENSSL_VERSION);
	out->libxml2 = LIBXML_DOTTED_VERSION;
	out->jansson = JANSSON_VERSION;
	out->sqlite3 = sqlite3_libversion();
}
