/* xmldsig.c - XML signatures in the DCC's DUIS profile (see xmldsig.h). */
#define _POSIX_C_SOURCE 200809L
#include "xmldsig.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "base64.h"
#include "eui.h"
#include "fileio.h"
#include "xml.h"

#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define TRUST_MAX_FILES 4096
#define CERT_MAX_BYTES (64 * 1024)

/* --- trust ---------------------------------------------------------------- */

struct trusted {
	hfw_cert *cert;			/* NULL: kept only to name it in a refusal */
	struct hfw_cert_info info;
	enum hfw_signer_role role;
};

/*
 * XML trust is loaded whole (a handful of certificates, at most
 * TRUST_MAX_FILES files, more is an error).  The device store is not: an
 * estate has millions of devices, so devices/ is only listed at load (names
 * checked, nothing read) and a device's certificate is read when a message
 * needs it, from the file named by its EUI.
 */
struct hfw_trust {
	struct trusted *v;		/* the XML trust directory's certificates */
	size_t n, cap;
	size_t nxml;			/* usable XML-signing certificates */
	size_t ndevice;			/* <eui>-ds.pem files in the device store */
	int have_dcc_eui;		/* the DCC's certificate must carry dcc_eui */
	struct hfw_eui dcc_eui;
	char dir[1024];			/* the trust directory, for messages ("" if none) */
	char devices[1100];		/* the device store ("" if none) */
};

enum hfw_signer_role hfw_signer_role_of(const struct hfw_cert_info *ci)
{
	/* A device's certificate has an empty subject and names its EUI as a hardwareModuleName. */
	if (ci->hw_module_name || !ci->subject[0])
		return HFW_ROLE_DEVICE;
	if (!strcmp(ci->role, "87"))
		return HFW_ROLE_USER_XML;
	/* 89 (hex, as SMKI writes roles); DCC Boxed's pre-1.4.1 DSP certificate wrote it in decimal. */
	if (!strcmp(ci->role, "89") || !strcmp(ci->role, "137"))
		return HFW_ROLE_DCC_XML;
	return HFW_ROLE_OTHER;
}

static int is_xml_role(enum hfw_signer_role r)
{
	return r == HFW_ROLE_USER_XML || r == HFW_ROLE_DCC_XML;
}

int hfw_trust_new(hfw_trust **out, struct hfw_error *err)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return hfw_error_oom(err);
	return 0;
}

void hfw_trust_free(hfw_trust *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		hfw_cert_free(t->v[i].cert);
	free(t->v);
	free(t);
}

size_t hfw_trust_count(const hfw_trust *t)
{
	return t ? t->nxml : 0;
}

size_t hfw_trust_device_count(const hfw_trust *t)
{
	return t ? t->ndevice : 0;
}

int hfw_trust_pin_dcc_eui(hfw_trust *t, const char *eui, struct hfw_error *err)
{
	int ret;

	if (!eui || !*eui) {
		t->have_dcc_eui = 0;
		return 0;
	}
	if ((ret = hfw_eui_parse(&t->dcc_eui, eui, "dcc_signer_eui", err)) < 0)
		return ret;
	t->have_dcc_eui = 1;
	return 0;
}

/* Keep cert (owned; NULL to keep only its name) in the XML trust. */
static int trust_push(hfw_trust *t, hfw_cert *cert, const struct hfw_cert_info *ci, struct hfw_error *err)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct trusted *v = realloc(t->v, cap * sizeof(*v));

		if (!v) {
			hfw_cert_free(cert);
			return hfw_error_oom(err);
		}
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].cert = cert;
	t->v[t->n].info = *ci;
	t->v[t->n].role = hfw_signer_role_of(ci);
	t->n++;
	if (cert)
		t->nxml++;
	return 0;
}

/* "'subject' (role 02)", or "the device certificate of EUI" for a device. */
static void describe(char *out, size_t size, const struct hfw_cert_info *ci)
{
	if (hfw_signer_role_of(ci) == HFW_ROLE_DEVICE)
		snprintf(out, size, "the device certificate of %s", ci->eui[0] ? ci->eui : "an unnamed device");
	else
		snprintf(out, size, "'%.200s' (role %s)", ci->subject, ci->role[0] ? ci->role : "none");
}

int hfw_trust_add_file(hfw_trust *t, const char *path, struct hfw_error *err)
{
	hfw_cert *cert = NULL;
	struct hfw_cert_info ci;
	char who[256];
	int ret;

	if ((ret = hfw_cert_load(&cert, path, err)) < 0)
		return ret;
	hfw_cert_info(cert, &ci);
	if (!is_xml_role(hfw_signer_role_of(&ci))) {
		hfw_cert_free(cert);
		describe(who, sizeof(who), &ci);
		return hfw_error_set(err, HFW_EKEY,
				     "certificate '%s' is %s, not an XML-signing certificate: XML signatures need role 87 (a user's) or 89 (the DCC's)",
				     path, who);
	}
	return trust_push(t, cert, &ci, err);
}

/* The XML trust directory's certificate files; anything that is not one is passed over. */
static int scan_xml_trust(hfw_trust *t, const char *dir, struct hfw_error *err)
{
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct hfw_cert_info ci;
	struct dirent *e;
	hfw_cert *cert;
	DIR *d;
	char path[4096];
	int ret = 0, files = 0;

	if (!(d = opendir(dir)))
		return hfw_error_set(err, HFW_EIO, "cannot read trust directory '%s'", dir);
	while ((e = readdir(d))) {
		enum hfw_signer_role role;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "devices"))
			continue;
		if (++files > TRUST_MAX_FILES) {
			ret = hfw_error_set(err, HFW_ELIMIT,
					    "trust directory '%s' has more than %d files: refused (device certificates go in '%s/devices/', which has no limit)",
					    dir, TRUST_MAX_FILES, dir);
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		/* Keys, sub-directories and anything else that is not a P-256 certificate are passed over. */
		cert = NULL;
		if ((ret = hfw_cert_load(&cert, path, &ignored)) == HFW_ENOMEM) {
			ret = hfw_error_oom(err);
			goto out;
		}
		ret = 0;
		if (!cert)
			continue;
		hfw_cert_info(cert, &ci);
		role = hfw_signer_role_of(&ci);
		if (role == HFW_ROLE_DEVICE) {
			/*
			 * Where the README once said to put them: set aside, its
			 * device's GBCS signatures would go unchecked.  Fail closed.
			 */
			hfw_cert_free(cert);
			ret = hfw_error_set(err, HFW_EKEY,
					    "trust: '%s' is the device certificate of %s: device certificates go in '%s/devices/' (move it there, as <eui in hex>-ds.pem)",
					    path, ci.eui[0] ? ci.eui : "an unnamed device", dir);
			goto out;
		}
		if (!is_xml_role(role)) {
			/* Kept by name only, so that a refusal can say what it is; never used to verify. */
			hfw_cert_free(cert);
			cert = NULL;
		}
		if ((ret = trust_push(t, cert, &ci, err)) < 0)
			goto out;
	}
out:
	closedir(d);
	return ret;
}

/* Is name "<16 hex digits, all lower- or all upper-case>" followed by rest? */
static int named_by_eui(const char *name, const char *rest)
{
	int lower = 0, upper = 0, i;

	for (i = 0; i < 16; i++) {
		if (!isxdigit((unsigned char)name[i]))
			return 0;
		lower |= name[i] >= 'a' && name[i] <= 'f';
		upper |= name[i] >= 'A' && name[i] <= 'F';
	}
	return !(lower && upper) && (!rest || !strcmp(name + 16, rest));
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

/*
 * List the device store: a device's digital-signing certificate is
 * "<eui>-ds.pem" (the RTDS keystore's and hanfw sandbox's name), found by
 * name when needed.  Other "<eui>-..." files (key agreement certificates,
 * keys) never check a signature; any other certificate there is an error,
 * since it would never be found.
 */
static int scan_devices(hfw_trust *t, const char *dir, struct hfw_error *err)
{
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct hfw_cert_info ci;
	struct dirent *e;
	hfw_cert *cert = NULL;
	DIR *d;
	char path[4096];
	int ret = 0;

	if (!(d = opendir(dir)))
		return hfw_error_set(err, HFW_EIO, "cannot read the device store '%s'", dir);
	snprintf(t->devices, sizeof(t->devices), "%s", dir);
	t->ndevice = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (named_by_eui(e->d_name, "-ds.pem")) {
			t->ndevice++;
			continue;
		}
		if (named_by_eui(e->d_name, NULL) && e->d_name[16] == '-')
			continue;	/* <eui>-ka.pem, <eui>-ds.key ...: never checks a signature */
		if (!has_suffix(e->d_name, ".pem") && !has_suffix(e->d_name, ".der") &&
		    !has_suffix(e->d_name, ".crt") && !has_suffix(e->d_name, ".cer"))
			continue;	/* not a certificate's name */
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((ret = hfw_cert_load(&cert, path, &ignored)) == HFW_ENOMEM) {
			ret = hfw_error_oom(err);
			goto out;
		}
		ret = 0;
		if (!cert)
			continue;	/* a key, say */
		hfw_cert_info(cert, &ci);
		hfw_cert_free(cert);
		cert = NULL;
		if (is_xml_role(hfw_signer_role_of(&ci)))
			ret = hfw_error_set(err, HFW_EKEY,
					    "trust: '%s' is an XML-signing certificate (role %s): it belongs in the trust directory itself, not among device certificates",
					    path, ci.role);
		else {
			char want[40] = "<eui in hex>-ds.pem";
			struct hfw_eui eui;
			int i;

			if (ci.eui[0] && hfw_eui_parse(&eui, ci.eui, "eui", &ignored) == 0) {
				for (i = 0; i < HFW_EUI_LEN; i++)
					snprintf(want + 2 * i, 3, "%02x", eui.b[i]);
				snprintf(want + 16, sizeof(want) - 16, "-ds.pem");
			}
			ret = hfw_error_set(err, HFW_EKEY,
					    "trust: '%s' is a certificate not named by its EUI: device certificates are found by name, '%s/<eui in hex>-ds.pem' (rename it '%s')",
					    path, dir, want);
		}
		goto out;
	}
out:
	closedir(d);
	return ret;
}

int hfw_trust_add_device_dir(hfw_trust *t, const char *dir, struct hfw_error *err)
{
	return scan_devices(t, dir, err);
}

int hfw_trust_load_dir(hfw_trust **out, const char *dir, struct hfw_error *err)
{
	hfw_trust *t = NULL;
	char devices[4096];
	struct stat st;
	int ret;

	*out = NULL;
	if ((ret = hfw_trust_new(&t, err)) < 0)
		return ret;
	snprintf(t->dir, sizeof(t->dir), "%s", dir);
	if ((ret = scan_xml_trust(t, dir, err)) < 0)
		goto out;
	snprintf(devices, sizeof(devices), "%s/devices", dir);
	if (lstat(devices, &st) == 0 || errno != ENOENT) {
		if (stat(devices, &st) != 0 || !S_ISDIR(st.st_mode)) {
			ret = hfw_error_set(err, HFW_EIO, "trust: '%s' cannot be read or is not a directory: it must be the device store (a directory of <eui>-ds.pem files) or absent", devices);
			goto out;
		}
		if ((ret = scan_devices(t, devices, err)) < 0)
			goto out;
	}
	if (t->nxml == 0) {
		ret = hfw_error_set(err, HFW_EKEY,
				    "trust directory '%s' holds no usable certificate: no XML-signing certificate (role 87 or 89)", dir);
		goto out;
	}
	*out = t;
	t = NULL;
out:
	hfw_trust_free(t);
	return ret;
}

int hfw_trust_device_cert(hfw_cert **out, const hfw_trust *t, const char *eui, struct hfw_error *err)
{
	struct hfw_cert_info ci;
	struct hfw_eui want, have;
	char path[1200], hex[17];
	int ret, i, upper;

	*out = NULL;
	if (!t || !t->devices[0])
		return 0;
	if ((ret = hfw_eui_parse(&want, eui, "originator", err)) < 0)
		return ret;
	for (upper = 0; upper < 2; upper++) {
		for (i = 0; i < HFW_EUI_LEN; i++)
			snprintf(hex + 2 * i, 3, upper ? "%02X" : "%02x", want.b[i]);
		snprintf(path, sizeof(path), "%s/%s-ds.pem", t->devices, hex);
		if (access(path, F_OK) == 0)
			break;
		if (errno != ENOENT)
			return hfw_error_set(err, HFW_EIO, "cannot read '%s'", path);
	}
	if (upper == 2)
		return 0;
	if ((ret = hfw_cert_load(out, path, err)) < 0)
		return ret;
	hfw_cert_info(*out, &ci);
	if (is_xml_role(hfw_signer_role_of(&ci)) || !ci.eui[0] || hfw_eui_parse(&have, ci.eui, "eui", err) < 0 ||
	    memcmp(have.b, want.b, HFW_EUI_LEN) != 0) {
		hfw_cert_free(*out);
		*out = NULL;
		return hfw_error_set(err, HFW_EKEY, "'%s' is not the GBCS digital-signing certificate of %s (it names %s%s)",
				     path, eui, ci.eui[0] ? ci.eui : "no EUI",
				     is_xml_role(hfw_signer_role_of(&ci)) ? ", an XML-signing certificate" : "");
	}
	return 0;
}

/* Serial numbers compare as integers: decimal text without leading zeros. */
static int normal_serial(char *out, size_t size, const char *in)
{
	size_t n = 0;

	while (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r')
		in++;
	while (*in == '0' && isdigit((unsigned char)in[1]))
		in++;
	for (; isdigit((unsigned char)*in); in++) {
		if (n + 1 >= size)
			return -1;
		out[n++] = *in;
	}
	while (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r')
		in++;
	out[n] = '\0';
	return (*in || n == 0) ? -1 : 0;
}

/* Issuer names compare without the spaces writers put around ',' and '='. */
static void normal_name(char *out, size_t size, const char *in)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++) {
		if (isspace((unsigned char)*in)) {
			const char *p = in;

			while (isspace((unsigned char)*p))
				p++;
			if (*p == ',' || *p == '=' || *p == '\0' || n == 0 ||
			    out[n - 1] == ',' || out[n - 1] == '=')
				continue;
		}
		out[n++] = *in;
	}
	out[n] = '\0';
}

/*
 * The certificate an X509IssuerSerial names: a usable XML-signing one
 * first; else one kept by name, only so that the refusal can say what it
 * is.  (The device store is never searched: it is read by EUI only.)
 */
static const struct trusted *trust_find(const hfw_trust *t, const char *issuer, const char *serial)
{
	const struct trusted *other = NULL;
	char want[512], have[512];
	size_t i;

	normal_name(want, sizeof(want), issuer);
	for (i = 0; t && i < t->n; i++) {
		if (strcmp(t->v[i].info.serial, serial) != 0)
			continue;
		normal_name(have, sizeof(have), t->v[i].info.issuer);
		if (strcasecmp(want, have) != 0)
			continue;
		if (t->v[i].cert)
			return &t->v[i];
		if (!other)
			other = &t->v[i];
	}
	return other;
}

/* --- signing -------------------------------------------------------------- */

struct hfw_signer {
	hfw_key *key;
	struct hfw_cert_info info;
	hfw_trust *self;	/* the signer's own certificate: what its output must verify with */
};

int hfw_signer_open(hfw_signer **out, const char *key_path, const char *cert_path,
		    const struct hfw_key_options *ko, struct hfw_error *err)
{
	hfw_signer *s = NULL;
	hfw_cert *cert = NULL;
	int ret;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return hfw_error_oom(err);
	if ((ret = hfw_key_load(&s->key, key_path, ko, err)) < 0 ||
	    (ret = hfw_cert_load(&cert, cert_path, err)) < 0 ||
	    (ret = hfw_cert_check_key(cert, s->key, err)) < 0 ||
	    (ret = hfw_trust_new(&s->self, err)) < 0)
		goto out;
	hfw_cert_info(cert, &s->info);
	/* What verifiers refuse is refused here first (a GBCS OU=02 certificate, say). */
	if (!is_xml_role(hfw_signer_role_of(&s->info))) {
		char who[256];

		describe(who, sizeof(who), &s->info);
		ret = hfw_error_set(err, HFW_EKEY,
				    "certificate '%s' is %s, not an XML-signing certificate: XML signatures need role 87 (a user's) or 89 (the DCC's)",
				    cert_path, who);
		goto out;
	}
	/* Its own certificate is what its output must verify with: kept, not read again. */
	ret = trust_push(s->self, cert, &s->info, err);
	cert = NULL;
	if (ret < 0)
		goto out;
	*out = s;
	s = NULL;
out:
	hfw_cert_free(cert);
	hfw_signer_free(s);
	return ret;
}

void hfw_signer_free(hfw_signer *s)
{
	if (!s)
		return;
	hfw_key_free(s->key);
	hfw_trust_free(s->self);
	free(s);
}

const struct hfw_cert_info *hfw_signer_info(const hfw_signer *s)
{
	return &s->info;
}

/*
 * SignedInfo as the profile fixes it.  In the document it inherits xmlns:ds
 * from ds:Signature; its exclusive canonical form carries the declaration
 * itself, so that is what is hashed.
 */
#define SIGNED_INFO_OPEN_CANONICAL "<ds:SignedInfo xmlns:ds=\"" HFW_NS_DSIG "\">"
#define SIGNED_INFO_OPEN "<ds:SignedInfo>"
#define SIGNED_INFO_HEAD \
	"<ds:CanonicalizationMethod Algorithm=\"" ALG_EXC_C14N "\"></ds:CanonicalizationMethod>" \
	"<ds:SignatureMethod Algorithm=\"" ALG_ECDSA_SHA256 "\"></ds:SignatureMethod>" \
	"<ds:Reference URI=\"\"><ds:Transforms>" \
	"<ds:Transform Algorithm=\"" ALG_ENVELOPED "\"></ds:Transform></ds:Transforms>" \
	"<ds:DigestMethod Algorithm=\"" ALG_SHA256 "\"></ds:DigestMethod><ds:DigestValue>"
#define SIGNED_INFO_TAIL "</ds:DigestValue></ds:Reference></ds:SignedInfo>"

/* Append the ds:Signature element for a document whose C14N digest is given. */
static int append_signature(struct hfw_buf *out, const hfw_signer *s,
			    const uint8_t digest[HFW_SHA256_LEN], struct hfw_error *err)
{
	char digest64[45], sig64[89];
	uint8_t si_hash[HFW_SHA256_LEN], sig[HFW_ECDSA_SIG_LEN];
	struct hfw_span parts[4];
	int ret;

	hfw_base64_encode(digest64, digest, HFW_SHA256_LEN);
	parts[0] = (struct hfw_span){ (const uint8_t *)SIGNED_INFO_OPEN_CANONICAL,
				      sizeof(SIGNED_INFO_OPEN_CANONICAL) - 1 };
	parts[1] = (struct hfw_span){ (const uint8_t *)SIGNED_INFO_HEAD, sizeof(SIGNED_INFO_HEAD) - 1 };
	parts[2] = (struct hfw_span){ (const uint8_t *)digest64, 44 };
	parts[3] = (struct hfw_span){ (const uint8_t *)SIGNED_INFO_TAIL, sizeof(SIGNED_INFO_TAIL) - 1 };
	if ((ret = hfw_sha256_parts(si_hash, parts, 4, err)) < 0 ||
	    (ret = hfw_ecdsa_sign_digest(s->key, si_hash, sig, err)) < 0)
		return ret;
	hfw_base64_encode(sig64, sig, HFW_ECDSA_SIG_LEN);
	if ((ret = hfw_buf_puts(out, "<ds:Signature xmlns:ds=\"" HFW_NS_DSIG "\">" SIGNED_INFO_OPEN
				SIGNED_INFO_HEAD, err)) < 0 ||
	    (ret = hfw_buf_append(out, digest64, 44, err)) < 0 ||
	    (ret = hfw_buf_puts(out, SIGNED_INFO_TAIL "<ds:SignatureValue>", err)) < 0 ||
	    (ret = hfw_buf_append(out, sig64, 88, err)) < 0 ||
	    (ret = hfw_buf_puts(out, "</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial>"
				"<ds:X509IssuerName>", err)) < 0 ||
	    (ret = hfw_buf_put_escaped(out, s->info.issuer, err)) < 0 ||
	    (ret = hfw_buf_puts(out, "</ds:X509IssuerName><ds:X509SerialNumber>", err)) < 0 ||
	    (ret = hfw_buf_puts(out, s->info.serial, err)) < 0 ||
	    (ret = hfw_buf_puts(out, "</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data>"
				"</ds:KeyInfo></ds:Signature>", err)) < 0)
		return ret;
	return 0;
}

/*
 * Where the root's end tag starts in text, the root element alone as hanfw
 * wrote or serialised it: the text must open with "<NAME" and end with
 * exactly "</NAME>".  Never a search for the last "</", which a comment or
 * processing instruction after the root could hold.  NULL if it does not.
 */
static const char *root_end_tag(const char *text, size_t len)
{
	size_t n = 1;

	if (len < 4 || text[0] != '<')
		return NULL;
	while (n < len && n < 256 && !strchr(" \t\r\n/>", text[n]))
		n++;
	n--;	/* the name's length */
	if (n == 0 || len < 2 * n + 5 || text[len - 1] != '>' || text[len - n - 3] != '<' ||
	    text[len - n - 2] != '/' || memcmp(text + len - n - 1, text + 1, n) != 0)
		return NULL;
	return text + len - n - 3;
}

/*
 * Insert the ds:Signature for digest before the root's end tag of the
 * document in buf[body_off, len), in place: the body is not copied.
 */
static int insert_signature(struct hfw_buf *buf, size_t body_off, const hfw_signer *s,
			    const uint8_t digest[HFW_SHA256_LEN], struct hfw_error *err)
{
	const char *end = root_end_tag(buf->data + body_off, buf->len - body_off);
	char tail[256];
	size_t tlen;
	int ret;

	if (!end || (tlen = buf->len - (size_t)(end - buf->data)) >= sizeof(tail))
		return hfw_error_set(err, HFW_EINPUT, "document does not end with its root's end tag: nothing signed");
	memcpy(tail, end, tlen);
	buf->len -= tlen;
	if ((ret = append_signature(buf, s, digest, err)) < 0 ||
	    (ret = hfw_buf_append(buf, tail, tlen, err)) < 0)
		return ret;
	return 0;
}

int hfw_xmldsig_sign_canonical(struct hfw_buf *buf, size_t body_off, const hfw_signer *s,
			       struct hfw_error *err)
{
	uint8_t digest[HFW_SHA256_LEN];

	/* The text is its own canonical form, so its digest is the Reference's. */
	hfw_sha256(digest, buf->data + body_off, buf->len - body_off);
	return insert_signature(buf, body_off, s, digest, err);
}

/* Remove signatures, comments and whitespace-only text: what the DCC's verifier would drop. */
static void compact(xmlNodePtr node)
{
	xmlNodePtr c = node->children, next;

	for (; c; c = next) {
		next = c->next;
		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE ||
		    (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) ||
		    hfw_xml_is(c, HFW_NS_DSIG, "Signature")) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE) {
			compact(c);
		}
	}
}

/*
 * Comments and processing instructions beside the root are not part of the
 * request; a PI would even be signed (C14N keeps PIs), so they go too.
 */
static void strip_outside_root(xmlDocPtr doc)
{
	xmlNodePtr c, next;

	for (c = doc->children; c; c = next) {
		next = c->next;
		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
}

/* Serialise the root element alone (UTF-8, compact) onto b. */
static int append_root(struct hfw_buf *b, xmlDocPtr doc, struct hfw_error *err)
{
	xmlBufferPtr xb = xmlBufferCreate();
	xmlSaveCtxtPtr save = xb ? xmlSaveToBuffer(xb, "UTF-8", 0) : NULL;
	int ret;

	if (!save) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if (xmlSaveTree(save, xmlDocGetRootElement(doc)) < 0 || xmlSaveClose(save) < 0) {
		save = NULL;
		ret = hfw_error_set(err, HFW_ENOMEM, "cannot serialise the request");
		goto out;
	}
	save = NULL;
	ret = hfw_buf_append(b, xmlBufferContent(xb), (size_t)xmlBufferLength(xb), err);
out:
	if (save)
		xmlSaveClose(save);
	xmlBufferFree(xb);
	return ret;
}

/*
 * What hanfw writes must pass what hanfw verify checks, with nothing trusted
 * but the signer's own certificate; otherwise it is not handed out.
 */
int hfw_xmldsig_check_own(const hfw_signer *s, const char *text, size_t len, const char *xsd_path,
			  struct hfw_error *err)
{
	struct hfw_verify_options vo;
	struct hfw_verify_result r;
	struct hfw_error why = HFW_ERROR_INIT;

	memset(&vo, 0, sizeof(vo));
	vo.trust = s->self;
	vo.xsd_path = xsd_path;
	if (hfw_xmldsig_verify(&r, (const uint8_t *)text, len, &vo, &why) < 0)
		return hfw_error_set(err, HFW_EVERIFY, "signed request failed its own verification, so it was not written: %s",
				     why.text);
	return 0;
}

int hfw_xmldsig_sign_open(struct _xmlDoc **out, const uint8_t *xml, size_t len, const char *xsd_path,
			  struct hfw_error *err)
{
	xmlDocPtr doc = NULL;
	int ret;

	*out = NULL;
	if ((ret = hfw_xml_parse(&doc, xml, len, "request", err)) < 0)
		goto out;
	if (!hfw_xml_is(xmlDocGetRootElement(doc), HFW_NS_DUIS, "Request")) {
		ret = hfw_error_set(err, HFW_EINPUT, "not a DUIS request: the root is not sr:Request");
		goto out;
	}
	compact(xmlDocGetRootElement(doc));
	strip_outside_root(doc);
	if ((ret = hfw_xml_validate(doc, xsd_path, err)) < 0)
		goto out;
	*out = doc;
	doc = NULL;
out:
	xmlFreeDoc(doc);
	return ret;
}

int hfw_xmldsig_sign_tree(char **out, size_t *outlen, const hfw_signer *s, struct _xmlDoc *doc,
			  const struct hfw_sign_options *o, struct hfw_error *err)
{
	struct hfw_buf b = HFW_BUF_INIT(HFW_MAX_DUIS_BYTES + 4096);
	xmlChar *canon = NULL;
	size_t body_off;
	int clen = 0, ret;
	uint8_t digest[HFW_SHA256_LEN];

	*out = NULL;
	strip_outside_root(doc);
	if ((ret = hfw_xml_c14n_document(&canon, &clen, doc, NULL, err)) < 0)
		goto out;
	hfw_sha256(digest, canon, (size_t)clen);
	if (o && o->digest_out)
		memcpy(o->digest_out, digest, HFW_SHA256_LEN);
	/*
	 * Our own declaration, then the root element as the serialiser writes
	 * it: its end tag is where the serialiser put it, the text's end.  The
	 * serialised text need not be canonical: the digest is libxml2's C14N
	 * of the tree.
	 */
	if ((ret = hfw_buf_puts(&b, HFW_XML_DECL, err)) < 0)
		goto out;
	body_off = b.len;
	if ((ret = append_root(&b, doc, err)) < 0)
		goto out;
	if ((ret = insert_signature(&b, body_off, s, digest, err)) < 0 ||
	    (!(o && o->defer_check) && (ret = hfw_xmldsig_check_own(s, b.data, b.len, o ? o->xsd_path : NULL, err)) < 0))
		goto out;
	*out = hfw_buf_detach(&b, outlen);
out:
	xmlFree(canon);
	hfw_buf_release(&b);
	return ret;
}

int hfw_xmldsig_sign_document(char **out, size_t *outlen, const hfw_signer *s,
			      const uint8_t *xml, size_t len, const struct hfw_sign_options *o,
			      struct hfw_error *err)
{
	xmlDocPtr doc = NULL;
	int ret;

	*out = NULL;
	if ((ret = hfw_xmldsig_sign_open(&doc, xml, len, o ? o->xsd_path : NULL, err)) == 0)
		ret = hfw_xmldsig_sign_tree(out, outlen, s, doc, o, err);
	xmlFreeDoc(doc);
	return ret;
}

/* --- verification --------------------------------------------------------- */

static const char *attr(xmlNodePtr n, const char *name, char *buf, size_t size)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);

	if (!v)
		return NULL;
	snprintf(buf, size, "%s", (const char *)v);
	xmlFree(v);
	return buf;
}

/* The element's only attributes may be the named ones. */
static int only_attrs(xmlNodePtr n, const char *a, const char *b)
{
	xmlAttrPtr p;

	for (p = n->properties; p; p = p->next)
		if (p->ns || !((a && strcmp((const char *)p->name, a) == 0) ||
			       (b && strcmp((const char *)p->name, b) == 0)))
			return 0;
	return 1;
}

static int expect_algorithm(xmlNodePtr n, const char *name, const char *want, struct hfw_error *err)
{
	char buf[256];
	const char *got;

	if (!hfw_xml_is(n, HFW_NS_DSIG, name))
		return hfw_error_set(err, HFW_EVERIFY, "signature: expected ds:%s, found %s", name,
				     n ? (const char *)n->name : "nothing");
	got = attr(n, "Algorithm", buf, sizeof(buf));
	if (!got || strcmp(got, want) != 0)
		return hfw_error_set(err, HFW_EVERIFY, "signature: %s algorithm '%.120s' is not the DUIS profile's '%s'",
				     name, got ? got : "(none)", want);
	if (hfw_xml_first_element(n) || !only_attrs(n, "Algorithm", NULL))
		return hfw_error_set(err, HFW_EVERIFY, "signature: %s carries parameters the profile does not allow",
				     name);
	return 0;
}

static char *text_of(xmlNodePtr n)
{
	xmlChar *t = xmlNodeGetContent(n);

	return (char *)t;
}

static void header_fields(struct hfw_verify_result *r, xmlNodePtr root)
{
	xmlNodePtr hdr = hfw_xml_child(root, HFW_NS_DUIS, "Header");
	xmlNodePtr body = hfw_xml_child(root, HFW_NS_DUIS, "Body"), msg;
	static const struct { const char *name; size_t off, size; } f[] = {
		{ "RequestID", offsetof(struct hfw_verify_result, request_id), sizeof(((struct hfw_verify_result *)0)->request_id) },
		{ "ResponseID", offsetof(struct hfw_verify_result, response_id), sizeof(((struct hfw_verify_result *)0)->response_id) },
		{ "ResponseCode", offsetof(struct hfw_verify_result, response_code), sizeof(((struct hfw_verify_result *)0)->response_code) },
		{ "ServiceReference", offsetof(struct hfw_verify_result, service_reference), sizeof(((struct hfw_verify_result *)0)->service_reference) },
		{ "CommandVariant", offsetof(struct hfw_verify_result, command_variant), sizeof(((struct hfw_verify_result *)0)->command_variant) },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		xmlNodePtr n = hfw_xml_child(hdr, HFW_NS_DUIS, f[i].name);
		char *t;

		/* Responses carry ServiceReference in the ResponseMessage, not the header. */
		if (!n && (msg = hfw_xml_child(body, HFW_NS_DUIS, "ResponseMessage")))
			n = hfw_xml_child(msg, HFW_NS_DUIS, f[i].name);
		if (n && (t = text_of(n))) {
			snprintf((char *)r + f[i].off, f[i].size, "%s", t);
			xmlFree(t);
		}
	}
}

static int count_signatures(xmlNodePtr n)
{
	int c = 0;

	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			c += hfw_xml_is(n, HFW_NS_DSIG, "Signature") + count_signatures(n->children);
	return c;
}

/* The RequestID's originator: its first field. */
static int request_originator(struct hfw_eui *out, const char *request_id, struct hfw_error *err)
{
	char first[64];
	size_t n = strcspn(request_id, ":");

	if (!request_id[0])
		return hfw_error_set(err, HFW_EVERIFY, "signature refused: the Request has no RequestID, so no originator to match its signer against");
	snprintf(first, sizeof(first), "%.*s", (int)(n < sizeof(first) ? n : sizeof(first) - 1), request_id);
	return hfw_eui_parse(out, first, "RequestID originator", err);
}

/*
 * The signer-role rules: a Request is signed by its originator's XML-signing
 * certificate (role 87); a Response (response, device or DCC alert) by the
 * DCC's (89, or 137); a device's certificate signs no XML at all.
 */
static int check_role(struct hfw_verify_result *r, const hfw_trust *t, const struct trusted *tc, struct hfw_error *err)
{
	enum hfw_signer_role role = tc->role;
	int request = !strcmp(r->root, "Request");
	struct hfw_eui originator, signer;
	char who[256], want[HFW_EUI_TEXT_MAX];
	const char *rule = request ? "a Request must be signed by its originator's XML-signing certificate (role 87)"
				   : "a Response must be signed by the DCC's XML-signing certificate (role 89)";
	int ret;

	describe(who, sizeof(who), &tc->info);
	if (role == HFW_ROLE_DEVICE) {
		r->role_refused = 1;
		return hfw_error_set(err, HFW_EVERIFY,
				     "signature by %s refused: device certificates only ever check GBCS signatures, never XML ones; %s",
				     who, rule);
	}
	if (role != (request ? HFW_ROLE_USER_XML : HFW_ROLE_DCC_XML)) {
		r->role_refused = 1;
		return hfw_error_set(err, HFW_EVERIFY, "signature by %s refused: %s", who, rule);
	}
	if (!request) {
		/* The DCC's certificate names the DCC: an EUI, and the one dcc_signer_eui pins if set. */
		if (!tc->info.eui[0] || hfw_eui_parse(&signer, tc->info.eui, "signer", err) < 0) {
			r->role_refused = 1;
			return hfw_error_set(err, HFW_EVERIFY,
					     "signature by %s, with no EUI, refused: a Response must be signed by the DCC's XML-signing certificate (role 89), which carries the DCC's EUI",
					     who);
		}
		if (t->have_dcc_eui && memcmp(signer.b, t->dcc_eui.b, HFW_EUI_LEN) != 0) {
			hfw_eui_format(want, &t->dcc_eui);
			r->role_refused = 1;
			return hfw_error_set(err, HFW_EVERIFY,
					     "signature by %s, EUI %s, refused: a Response must be signed by the DCC's XML-signing certificate, whose EUI dcc_signer_eui sets to %s",
					     who, tc->info.eui, want);
		}
		return tc->cert ? 0 : hfw_error_set(err, HFW_EVERIFY, "signature by %s refused: not trusted", who);
	}
	if ((ret = request_originator(&originator, r->request_id, err)) < 0)
		return ret == HFW_EINPUT ? (err->code = HFW_EVERIFY) : ret;
	hfw_eui_format(want, &originator);
	if (!tc->info.eui[0] || hfw_eui_parse(&signer, tc->info.eui, "signer", err) < 0 ||
	    memcmp(signer.b, originator.b, HFW_EUI_LEN) != 0) {
		r->role_refused = 1;
		return hfw_error_set(err, HFW_EVERIFY,
				     "signature by %s, EUI %s, refused: a Request must be signed by the XML-signing certificate of its RequestID's originator, %s",
				     who, tc->info.eui[0] ? tc->info.eui : "(none)", want);
	}
	return tc->cert ? 0 : hfw_error_set(err, HFW_EVERIFY, "signature by %s refused: not trusted", who);
}

/* No certificate has that issuer and serial: say which to add, and where. */
static int unknown_signer(const struct hfw_verify_result *r, const hfw_trust *t, const char *issuer,
			  const char *serial, struct hfw_error *err)
{
	char where[1100], whose[128];
	struct hfw_eui originator;
	struct hfw_error ignored = HFW_ERROR_INIT;

	if (t && t->dir[0])
		snprintf(where, sizeof(where), "the trust directory '%.1000s'", t->dir);
	else
		snprintf(where, sizeof(where), "the trusted certificates");
	if (strcmp(r->root, "Request") != 0)
		snprintf(whose, sizeof(whose), "the DCC's XML-signing certificate");
	else if (request_originator(&originator, r->request_id, &ignored) == 0) {
		char eui[HFW_EUI_TEXT_MAX];

		hfw_eui_format(eui, &originator);
		snprintf(whose, sizeof(whose), "the XML-signing certificate (role 87) of %s, the RequestID's originator,", eui);
	} else
		snprintf(whose, sizeof(whose), "the signer's XML-signing certificate");
	return hfw_error_set(err, HFW_EVERIFY,
			     "signature: signed by issuer '%.100s' serial %s: no such certificate in %s; add %s with that serial",
			     issuer, serial, where, whose);
}

static int check_signature(struct hfw_verify_result *r, xmlDocPtr doc, xmlNodePtr sig,
			   const struct hfw_verify_options *o, struct hfw_error *err)
{
	xmlNodePtr si, sv, ki, n, ref, tr, dv, is, iname, iserial;
	xmlChar *canon = NULL;
	uint8_t *raw = NULL, digest[HFW_SHA256_LEN];
	size_t rawlen = 0;
	char buf[8], *t = NULL, serial[64];
	const struct trusted *tc;
	int clen = 0, ret = 0;

	/* Structure: exactly the profile, nothing more. */
	si = hfw_xml_first_element(sig);
	sv = hfw_xml_next_element(si);
	ki = hfw_xml_next_element(sv);
	if (!hfw_xml_is(si, HFW_NS_DSIG, "SignedInfo") || !hfw_xml_is(sv, HFW_NS_DSIG, "SignatureValue") ||
	    !hfw_xml_is(ki, HFW_NS_DSIG, "KeyInfo") || hfw_xml_next_element(ki))
		return hfw_error_set(err, HFW_EVERIFY,
				     "signature: expected SignedInfo, SignatureValue and KeyInfo, and nothing else");
	n = hfw_xml_first_element(si);
	if ((ret = expect_algorithm(n, "CanonicalizationMethod", ALG_EXC_C14N, err)) < 0 ||
	    (ret = expect_algorithm(n = hfw_xml_next_element(n), "SignatureMethod", ALG_ECDSA_SHA256, err)) < 0)
		return ret;
	ref = hfw_xml_next_element(n);
	if (!hfw_xml_is(ref, HFW_NS_DSIG, "Reference"))
		return hfw_error_set(err, HFW_EVERIFY, "signature: SignedInfo has no Reference");
	if (hfw_xml_next_element(ref))
		return hfw_error_set(err, HFW_EVERIFY,
				     "signature: SignedInfo has more than one Reference; the profile allows exactly one");
	if (!attr(ref, "URI", buf, sizeof(buf)) || buf[0] || !only_attrs(ref, "URI", NULL))
		return hfw_error_set(err, HFW_EVERIFY, "signature: the Reference must be URI=\"\" (the whole document) and nothing else");
	tr = hfw_xml_first_element(ref);
	if (!hfw_xml_is(tr, HFW_NS_DSIG, "Transforms") || !hfw_xml_first_element(tr) ||
	    hfw_xml_next_element(hfw_xml_first_element(tr)))
		return hfw_error_set(err, HFW_EVERIFY, "signature: the Reference must have exactly one Transform");
	if ((ret = expect_algorithm(hfw_xml_first_element(tr), "Transform", ALG_ENVELOPED, err)) < 0 ||
	    (ret = expect_algorithm(n = hfw_xml_next_element(tr), "DigestMethod", ALG_SHA256, err)) < 0)
		return ret;
	dv = hfw_xml_next_element(n);
	if (!hfw_xml_is(dv, HFW_NS_DSIG, "DigestValue") || hfw_xml_next_element(dv))
		return hfw_error_set(err, HFW_EVERIFY, "signature: the Reference must end with its DigestValue");
	n = hfw_xml_first_element(ki);
	is = hfw_xml_first_element(n);
	iname = hfw_xml_first_element(is);
	iserial = hfw_xml_next_element(iname);
	if (!hfw_xml_is(n, HFW_NS_DSIG, "X509Data") || hfw_xml_next_element(n) ||
	    !hfw_xml_is(is, HFW_NS_DSIG, "X509IssuerSerial") || hfw_xml_next_element(is) ||
	    !hfw_xml_is(iname, HFW_NS_DSIG, "X509IssuerName") ||
	    !hfw_xml_is(iserial, HFW_NS_DSIG, "X509SerialNumber") || hfw_xml_next_element(iserial))
		return hfw_error_set(err, HFW_EVERIFY, "signature: KeyInfo must hold only X509Data/X509IssuerSerial");

	/* The certificate, by issuer and serial. */
	t = text_of(iserial);
	if (!t || normal_serial(serial, sizeof(serial), t) < 0) {
		ret = hfw_error_set(err, HFW_EVERIFY, "signature: X509SerialNumber '%.60s' is not a decimal integer",
				    t ? t : "");
		goto out;
	}
	xmlFree(t);
	t = text_of(iname);
	if (!(tc = trust_find(o->trust, t ? t : "", serial))) {
		ret = unknown_signer(r, o->trust, t ? t : "", serial, err);
		goto out;
	}
	/* Who may sign this message, before any work on its content. */
	if ((ret = check_role(r, o->trust, tc, err)) < 0)
		goto out;
	if (o->check_validity && (ret = hfw_cert_check_validity(tc->cert, err)) < 0)
		goto out;

	/* The Reference: inclusive C14N of the document without the signature. */
	if ((ret = hfw_xml_c14n_document(&canon, &clen, doc, sig, err)) < 0)
		goto out;
	hfw_sha256(digest, canon, (size_t)clen);
	xmlFree(canon);
	canon = NULL;
	xmlFree(t);
	t = text_of(dv);
	if ((ret = hfw_base64_decode(&raw, &rawlen, t ? t : "", t ? strlen(t) : 0, "DigestValue", err)) < 0) {
		ret = err->code = HFW_EVERIFY;
		goto out;
	}
	if (rawlen != HFW_SHA256_LEN || memcmp(raw, digest, HFW_SHA256_LEN) != 0) {
		ret = hfw_error_set(err, HFW_EVERIFY,
				    "signature: DigestValue does not match the document: it was changed after signing");
		goto out;
	}
	free(raw);
	raw = NULL;

	/* The signature over SignedInfo. */
	xmlFree(t);
	t = text_of(sv);
	if ((ret = hfw_base64_decode(&raw, &rawlen, t ? t : "", t ? strlen(t) : 0, "SignatureValue", err)) < 0) {
		ret = err->code = HFW_EVERIFY;
		goto out;
	}
	if (rawlen != HFW_ECDSA_SIG_LEN) {
		ret = hfw_error_set(err, HFW_EVERIFY, "signature: SignatureValue is %zu bytes, not the 64 of r||s", rawlen);
		goto out;
	}
	if ((ret = hfw_xml_c14n_exclusive(&canon, &clen, doc, si, err)) < 0)
		goto out;
	hfw_sha256(digest, canon, (size_t)clen);
	if (hfw_ecdsa_verify_digest(tc->cert, digest, raw, err) < 0) {
		ret = hfw_error_set(err, HFW_EVERIFY,
				    "signature: SignatureValue does not verify with the certificate of serial %s",
				    serial);
		goto out;
	}
	r->is_signed = 1;
	r->signer = tc->info;
out:
	xmlFree(t);
	xmlFree(canon);
	free(raw);
	return ret;
}

/*
 * Is the message one hanfw's firmware schema describes?  Its services
 * (11.1-11.4), device alerts, and the DCC alerts it lists; keep in step
 * with schemas/duis-firmware.xsd.  If not, why goes in why.
 */
static int in_firmware_schema(const struct hfw_verify_result *r, xmlNodePtr root, char *why, size_t size)
{
	static const char *const services[] = { "11.1", "11.2", "11.3", "11.4" };
	static const char *const dcc_alerts[] = {
		"PowerOutageEvent", "FirmwareDistributionFailure", "PPMIDAlert", "QuarantinedRequest",
		"DeviceStatusChangeEvent", "ChangeOfSupplier", "PPMIDRemoval",
		"FirmwareVersionMismatch", "FirmwareUpgradeRequested", "CSPFirmwareDeliveryStatus",
		"CommsHubAlert", "CommsHubFirmwareActivation",
	};
	xmlNodePtr msg = hfw_xml_first_element(hfw_xml_child(root, HFW_NS_DUIS, "Body")), alert;
	size_t i;

	if (hfw_xml_is(msg, HFW_NS_DUIS, "DCCAlertMessage")) {
		alert = hfw_xml_first_element(hfw_xml_child(msg, HFW_NS_DUIS, "DCCAlert"));
		for (i = 0; alert && i < sizeof(dcc_alerts) / sizeof(dcc_alerts[0]); i++)
			if (hfw_xml_is(alert, HFW_NS_DUIS, dcc_alerts[i]))
				return 1;
		if (!alert)
			return 1;	/* malformed: the schema says so */
		snprintf(why, size, "DCC alert %.40s is outside hanfw's firmware schema", (const char *)alert->name);
		return 0;
	}
	if (msg && !hfw_xml_is(msg, HFW_NS_DUIS, "ResponseMessage") && !hfw_xml_is(msg, HFW_NS_DUIS, "DeviceAlertMessage") &&
	    !strcmp(r->root, "Response")) {
		snprintf(why, size, "%.40s is outside hanfw's firmware schema", (const char *)msg->name);
		return 0;
	}
	if (!r->service_reference[0])
		return 1;
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (!strcmp(r->service_reference, services[i]))
			return 1;
	snprintf(why, size, "service %.16s is outside hanfw's firmware schema", r->service_reference);
	return 0;
}

int hfw_xmldsig_verify(struct hfw_verify_result *r, const uint8_t *xml, size_t len,
		       const struct hfw_verify_options *o, struct hfw_error *err)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, sig = NULL, n;
	int count, ret;

	memset(r, 0, sizeof(*r));
	if ((ret = hfw_xml_parse(&doc, xml, len, "document", err)) < 0)
		goto out;
	root = xmlDocGetRootElement(doc);
	if (!hfw_xml_is(root, HFW_NS_DUIS, "Request") && !hfw_xml_is(root, HFW_NS_DUIS, "Response")) {
		ret = hfw_error_set(err, HFW_EINPUT, "not a DUIS message: the root is '%.40s', not sr:Request or sr:Response",
				    (const char *)root->name);
		goto out;
	}
	snprintf(r->root, sizeof(r->root), "%s", (const char *)root->name);
	header_fields(r, root);
	count = count_signatures(root);
	for (n = hfw_xml_first_element(root); n; n = hfw_xml_next_element(n))
		sig = n;	/* the last element child */
	if (count == 0) {
		if (!o->allow_unsigned) {
			ret = hfw_error_set(err, HFW_EVERIFY, "the %s is not signed", r->root);
			goto out;
		}
	} else if (count > 1) {
		ret = hfw_error_set(err, HFW_EVERIFY, "signature: %d Signature elements; exactly one is allowed", count);
		goto out;
	} else if (!hfw_xml_is(sig, HFW_NS_DSIG, "Signature")) {
		ret = hfw_error_set(err, HFW_EVERIFY, "signature: ds:Signature is not the last child of the root");
		goto out;
	} else {
		if ((ret = check_signature(r, doc, sig, o, err)) < 0)
			goto out;
		/* Validate what was signed, without the signature (libxml2 cannot take its serial). */
		xmlUnlinkNode(sig);
		xmlFreeNode(sig);
	}
	if (!o->xsd_path && o->schema_if_known && !in_firmware_schema(r, root, r->schema_skipped, sizeof(r->schema_skipped)))
		ret = 0;
	else if ((ret = hfw_xml_validate(doc, o->xsd_path, err)) == 0)
		r->schema_checked = 1;
	if (ret == 0 && o->doc_out) {
		*o->doc_out = doc;
		doc = NULL;
	}
out:
	xmlFreeDoc(doc);
	return ret;
}
