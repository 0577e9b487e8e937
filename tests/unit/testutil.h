/*
 * testutil.h - helpers shared by the cmocka unit tests.  The reference data
 * in ../shared is read in place (SHARED points at it); nothing from it is
 * copied into the project.
 */
#ifndef HFW_TESTUTIL_H
#define HFW_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "../../lib/fileio.h"
#include "../../lib/gbcs.h"

static inline const char *shared_dir(void)
{
	const char *s = getenv("SHARED");

	return s && *s ? s : "../shared";
}

static inline char *shared_path(const char *rel)
{
	static char buf[8][4096];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 4096, "%s/%s", shared_dir(), rel);
	return p;
}

/* An RTDS vector from ../shared/gbcs/rtds ("CS06_..._GBCS.HEX"), as bytes. */
static inline uint8_t *rtds_vector(const char *name, size_t *len)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char rel[512];
	uint8_t *text, *bytes;
	size_t tlen;

	snprintf(rel, sizeof(rel), "gbcs/rtds/%s", name);
	if (hfw_file_read(&text, &tlen, shared_path(rel), 1 << 20, "vector", &err) < 0 ||
	    hfw_gbcs_from_hex(&bytes, len, (char *)text, tlen, &err) < 0)
		fail_msg("%s: %s", name, err.text);
	free(text);
	return bytes;
}

/* The FirmwareImage inside one of ../shared/dcc/templates, base64-decoded. */
static inline uint8_t *template_image(const char *name, size_t *len)
{
	struct hfw_error err = HFW_ERROR_INIT;
	char rel[256];
	uint8_t *xml = NULL, *out;
	size_t xlen;
	const char *a, *b;
	int n;

	snprintf(rel, sizeof(rel), "dcc/templates/%s", name);
	if (hfw_file_read(&xml, &xlen, shared_path(rel), 1 << 20, "template", &err) < 0)
		fail_msg("%s", err.text);
	a = strstr((char *)xml, "<sr:FirmwareImage>");
	assert_non_null(a);
	a += strlen("<sr:FirmwareImage>");
	b = strstr(a, "</sr:FirmwareImage>");
	assert_non_null(b);
	out = malloc((size_t)(b - a));
	n = EVP_DecodeBlock(out, (const unsigned char *)a, (int)(b - a));
	assert_true(n > 0);
	/* EVP_DecodeBlock counts '=' padding as zero bytes. */
	if (b[-1] == '=')
		n--;
	if (b[-2] == '=')
		n--;
	*len = (size_t)n;
	free(xml);
	return out;
}

/* A fresh private directory under $TMPDIR; removed by the caller with rm_rf. */
static inline char *make_tmpdir(void)
{
	char *t = malloc(4096);
	const char *base = getenv("TMPDIR");

	snprintf(t, 4096, "%s/hfw-unit-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(t));
	return t;
}

static inline void rm_rf(char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static inline void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}


/* dir/name, in one of eight rotating buffers, so a call may name several paths at once. */
static inline const char *path_in(const char *dir, const char *name)
{
	static char buf[8][4096];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 4096, "%s/%s", dir, name);
	return p;
}

#ifdef TESTUTIL_PKI
/*
 * Only for the tests that link the emulator's archive (SANDBOX_UNIT_TESTS in
 * the Makefile): they define TESTUTIL_PKI before including this header.
 */
#include "../../lib/ledger.h"
#include "../../lib/sandbox/pki.h"
#include "../../lib/xmldsig.h"

/*
 * A fresh directory (returned; test_pki_dir_free removes it) holding our own
 * throw-away PKI: a root CA of role 07 (ca.key, ca.pem) and an XML signing
 * leaf of role 87 for supplier (xml.key, xml.pem); *signer opened on the
 * leaf and, when ledger is not NULL, *ledger on ledger.sqlite there.
 * Any error fails the test.
 */
static inline char *test_pki_dir(hfw_signer **signer, hfw_ledger **ledger, const char *supplier)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_pki_request ca = { .cn = "T1", .role = "07", .is_ca = 1, .days = 365 };
	struct hfw_pki_request leaf = { .role = "87", .eui = supplier, .days = 365 };
	char *dir = make_tmpdir();

	leaf.ca_key = path_in(dir, "ca.key");
	leaf.ca_cert = path_in(dir, "ca.pem");
	if (hfw_pki_issue(path_in(dir, "ca.key"), path_in(dir, "ca.pem"), &ca, &err) < 0 ||
	    hfw_pki_issue(path_in(dir, "xml.key"), path_in(dir, "xml.pem"), &leaf, &err) < 0 ||
	    hfw_signer_open(signer, path_in(dir, "xml.key"), path_in(dir, "xml.pem"), NULL, &err) < 0 ||
	    (ledger && hfw_ledger_open(ledger, path_in(dir, "ledger.sqlite"), &err) < 0))
		fail_msg("%s", err.text);
	return dir;
}

/* What test_pki_dir made, closed and removed. */
static inline void test_pki_dir_free(char *dir, hfw_signer *signer, hfw_ledger *ledger)
{
	hfw_signer_free(signer);
	hfw_ledger_close(ledger);
	rm_rf(dir);
}
#endif

#endif
