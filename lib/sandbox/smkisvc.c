/* smkisvc.c - the sandbox's SMKI certificate service (see smkisvc.h). */
#define _DEFAULT_SOURCE	/* strcasecmp */
#include "smkisvc.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/tree.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../base64.h"
#include "../crypto.h"
#include "../eui.h"
#include "../fileio.h"
#include "../xml.h"

struct smki_cert {
	char serial[80];		/* upper-case hex, as DCC Boxed writes it */
	struct hfw_eui eui;
	int device;			/* SubjectAltName (a device) or SubjectName (an organisation) */
	int key_agreement;		/* KA, else DS */
	int role;			/* organisations: the OU's role code (hex "87" is 135) */
	char *body;			/* base64 of the DER */
};

struct hfw_smki_service {
	struct smki_cert *certs;
	size_t n, cap;
	atomic_ulong audit;		/* AuditReference of each answer */
};

static void cert_release(struct smki_cert *c)
{
	free(c->body);
}

/* Load one PEM certificate and add it; device: whether its EUI is in a hardwareModuleName. */
static int add_file(hfw_smki_service *s, const char *path, int device, struct hfw_error *err)
{
	struct smki_cert c;
	struct hfw_cert_info ci;
	hfw_cert *hc = NULL;
	uint8_t *pem = NULL, *der = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int dlen, ret = 0;

	memset(&c, 0, sizeof(c));
	if ((ret = hfw_file_read(&pem, &len, path, 1024 * 1024, "certificate", err)) < 0)
		goto out;
	if (!(bio = BIO_new_mem_buf(pem, (int)len)) || !(x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) ||
	    (dlen = i2d_X509(x, &der)) <= 0 || !(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ||
	    !(hex = BN_bn2hex(bn))) {
		ret = hfw_error_openssl(err, HFW_EKEY, "SMKI service: cannot read certificate '%s'", path);
		goto out;
	}
	if ((ret = hfw_cert_load_mem(&hc, der, (size_t)dlen, path, err)) < 0)
		goto out;
	hfw_cert_info(hc, &ci);
	if (!ci.eui[0] || hfw_eui_parse(&c.eui, ci.eui, "certificate", err) < 0 || (device && !ci.hw_module_name)) {
		ret = hfw_error_set(err, HFW_EKEY, "SMKI service: certificate '%s' names no %s", path,
				    device ? "device EUI in a hardwareModuleName" : "EUI");
		goto out;
	}
	/* Without leading zeros: as numbers, as the retrieve request is matched. */
	snprintf(c.serial, sizeof(c.serial), "%s", hex + strspn(hex, "0") - (hex[strspn(hex, "0")] == '\0'));
	c.device = device;
	c.key_agreement = (X509_get_key_usage(x) & KU_KEY_AGREEMENT) != 0;
	c.role = device ? 0 : (int)strtol(ci.role, NULL, 16);
	if (!(c.body = malloc(hfw_base64_len((size_t)dlen) + 1))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	hfw_base64_encode(c.body, der, (size_t)dlen);
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct smki_cert *p = realloc(s->certs, cap * sizeof(*p));

		if (!p) {
			ret = hfw_error_oom(err);
			goto out;
		}
		s->certs = p;
		s->cap = cap;
	}
	s->certs[s->n++] = c;
	c.body = NULL;
out:
	cert_release(&c);
	OPENSSL_free(hex);
	BN_free(bn);
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	hfw_cert_free(hc);
	free(pem);
	return ret;
}

/* devices/<16 hex>-ds.pem and -ka.pem. */
static int device_file(const char *name)
{
	size_t i;

	if (strlen(name) != 23)
		return 0;
	for (i = 0; i < 16; i++)
		if (!strchr("0123456789abcdefABCDEF", name[i]))
			return 0;
	return !strcmp(name + 16, "-ds.pem") || !strcmp(name + 16, "-ka.pem");
}

/* A stable order: by name, so answers list certificates the same way on every run. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int hfw_smki_service_open(hfw_smki_service **out, const char *dir, struct hfw_error *err)
{
	hfw_smki_service *s = NULL;
	struct dirent **names = NULL;
	uint8_t *text = NULL;
	json_t *cfg = NULL, *v;
	json_error_t jerr;
	char p[4096];
	size_t len, i;
	int n = 0, k, ret = 0;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return hfw_error_oom(err);
	/* The organisations: those the sandbox's DCC trusts and signs with (sandbox.json), and its ACB. */
	if ((ret = hfw_file_read(&text, &len, hfw_path_in(p, sizeof(p), dir, "sandbox.json"), 1 << 20, "sandbox settings",
				 err)) < 0)
		goto out;
	if (!(cfg = json_loadb((const char *)text, len, 0, &jerr))) {
		ret = hfw_error_set(err, HFW_ECONFIG, "'%s' is not a sandbox's settings: run 'hanfw sandbox init'", p);
		goto out;
	}
	json_array_foreach(json_object_get(cfg, "user_ds_certs"), i, v)
		if (json_is_string(v) && (ret = add_file(s, hfw_path_in(p, sizeof(p), dir, json_string_value(v)), 0, err)) < 0)
			goto out;
	json_array_foreach(json_object_get(cfg, "user_xml_certs"), i, v)
		if (json_is_string(v) && (ret = add_file(s, hfw_path_in(p, sizeof(p), dir, json_string_value(v)), 0, err)) < 0)
			goto out;
	if (json_is_string(v = json_object_get(cfg, "dcc_xml_cert")) &&
	    (ret = add_file(s, hfw_path_in(p, sizeof(p), dir, json_string_value(v)), 0, err)) < 0)
		goto out;
	if (access(hfw_path_in(p, sizeof(p), dir, "pki/acb-ds.pem"), F_OK) == 0 && (ret = add_file(s, p, 0, err)) < 0)
		goto out;
	/* The devices'. */
	if ((n = scandir(hfw_path_in(p, sizeof(p), dir, "devices"), &names, NULL, by_name)) < 0) {
		n = 0;
		ret = hfw_error_set(err, HFW_EIO, "cannot read '%s'", p);
		goto out;
	}
	for (k = 0; k < n; k++) {
		char f[4400];

		if (!device_file(names[k]->d_name))
			continue;
		snprintf(f, sizeof(f), "%s/%s", p, names[k]->d_name);
		if ((ret = add_file(s, f, 1, err)) < 0)
			goto out;
	}
	*out = s;
	s = NULL;
out:
	for (k = 0; k < n; k++)
		free(names[k]);
	free(names);
	json_decref(cfg);
	free(text);
	hfw_smki_service_free(s);
	return ret;
}

void hfw_smki_service_free(hfw_smki_service *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		cert_release(&s->certs[i]);
	free(s->certs);
	free(s);
}

size_t hfw_smki_service_count(const hfw_smki_service *s)
{
	return s->n;
}

/* A certificate's members, in DCC Boxed's order; with the body for retrievecertificate. */
static int members(struct hfw_buf *b, const struct smki_cert *c, int body, struct hfw_error *err)
{
	char eui[HFW_EUI_TEXT_MAX], role[64] = "";
	int ret;

	hfw_eui_format(eui, &c->eui);
	if (!c->device)
		snprintf(role, sizeof(role), "<CertificateRole>%d</CertificateRole>", c->role);
	if ((ret = hfw_buf_printf(b, err, "<CertificateSerial>%s</CertificateSerial><%s>%s</%s>"
				  "<CertificateStatus>I</CertificateStatus>", c->serial,
				  c->device ? "CertificateSubjectAltName" : "CertificateSubjectName", eui,
				  c->device ? "CertificateSubjectAltName" : "CertificateSubjectName")) < 0)
		return ret;
	if (body && ((ret = hfw_buf_puts(b, "<CertificateBody>", err)) < 0 || (ret = hfw_buf_puts(b, c->body, err)) < 0 ||
		     (ret = hfw_buf_puts(b, "</CertificateBody>", err)) < 0))
		return ret;
	return hfw_buf_printf(b, err, "%s<CertificateUsage>%s</CertificateUsage><ManufacturingFlag>false</ManufacturingFlag>",
			      role, c->key_agreement ? "KA" : "DS");
}

static int head(hfw_smki_service *s, struct hfw_buf *b, const char *root, struct hfw_error *err)
{
	unsigned long audit = atomic_fetch_add(&s->audit, 1) + 1;

	return hfw_buf_printf(b, err,
			      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<%s><ResponseCode>200</ResponseCode>"
			      "<ResponseMessage>Success</ResponseMessage><AuditReference>%lu-hanfwsandbox</AuditReference>",
			      root, audit);
}

/* The only element child of root, if root is called name: its name and text; NULL otherwise. */
static xmlChar *only_child(xmlDocPtr doc, const char *name, const char **child)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), c, found = NULL;

	if (!root || root->ns || strcmp((const char *)root->name, name))
		return NULL;
	for (c = root->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (found || c->ns)
			return NULL;
		found = c;
	}
	if (!found)
		return NULL;
	*child = (const char *)found->name;
	return xmlNodeGetContent(found);
}

/* What XML parsers of the answer take as the same text: surrounding white space dropped. */
static const char *trimmed(char *t)
{
	size_t n;

	while (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n')
		t++;
	n = strlen(t);
	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r' || t[n - 1] == '\n'))
		t[--n] = '\0';
	return t;
}

int hfw_smki_service_handle(hfw_smki_service *s, const char *path, const char *body, size_t len,
			    struct hfw_buf *reply, int *http_status, struct hfw_error *err)
{
	struct hfw_error ignored = HFW_ERROR_INIT;
	const char *q = strchr(path, '?'), *child = NULL, *value;
	size_t plen = q ? (size_t)(q - path) : strlen(path), i, found = 0;
	xmlDocPtr doc = NULL;
	xmlChar *text = NULL;
	struct hfw_eui eui;
	int search, ret = 0;

	*http_status = 401;
	if (plen == strlen("/services/certificatesearch") && !strncmp(path, "/services/certificatesearch", plen))
		search = 1;
	else if (plen == strlen("/services/retrievecertificate") && !strncmp(path, "/services/retrievecertificate", plen))
		search = 0;
	else {
		*http_status = 404;
		return hfw_buf_puts(reply, "<error>no such service</error>", err);
	}
	if (!q || strcmp(q + 1, "apikey=" HFW_SANDBOX_SMKI_APIKEY) != 0)
		return hfw_buf_puts(reply, "<error>invalid apikey</error>", err);
	if (hfw_xml_parse(&doc, (const uint8_t *)body, len, "SMKI request", &ignored) < 0 ||
	    !(text = only_child(doc, search ? "CertificateSearchRequest" : "CertificateDataRequest", &child))) {
		ret = hfw_buf_puts(reply, "<error>invalid search parameters</error>", err);
		goto out;
	}
	value = trimmed((char *)text);
	if (search) {
		int device = !strcmp(child, "CertificateSubjectAltName");

		if ((!device && strcmp(child, "CertificateSubjectName")) || hfw_eui_parse(&eui, value, "EUI", &ignored) < 0) {
			ret = hfw_buf_puts(reply, "<error>invalid search parameters</error>", err);
			goto out;
		}
		for (i = 0; i < s->n; i++) {
			const struct smki_cert *c = &s->certs[i];

			if (c->device != device || memcmp(c->eui.b, eui.b, HFW_EUI_LEN))
				continue;
			if ((!found++ && (ret = head(s, reply, "CertificateSearchResponse", err)) < 0) ||
			    (ret = hfw_buf_puts(reply, "<Result>", err)) < 0 || (ret = members(reply, c, 0, err)) < 0 ||
			    (ret = hfw_buf_puts(reply, "</Result>", err)) < 0)
				goto out;
		}
		if (found)
			ret = hfw_buf_puts(reply, "</CertificateSearchResponse>", err);
	} else {
		size_t k, n = strlen(value);

		for (k = 0; k < n && strchr("0123456789abcdefABCDEF", value[k]); k++)
			;
		if (strcmp(child, "CertificateSerial") || n == 0 || k != n || n >= sizeof(s->certs[0].serial)) {
			ret = hfw_buf_puts(reply, "<error>invalid search parameters</error>", err);
			goto out;
		}
		while (n > 1 && value[0] == '0')	/* serials are numbers: leading zeros say nothing */
			value++, n--;
		for (i = 0; i < s->n && !found; i++) {
			if (strcasecmp(s->certs[i].serial, value))
				continue;
			found = 1;
			if ((ret = head(s, reply, "CertificateDataResponse", err)) < 0 ||
			    (ret = hfw_buf_puts(reply, "<CertificateResponse>", err)) < 0 ||
			    (ret = members(reply, &s->certs[i], 1, err)) < 0 ||
			    (ret = hfw_buf_puts(reply, "</CertificateResponse></CertificateDataResponse>", err)) < 0)
				goto out;
		}
	}
	if (found) {
		*http_status = 200;
	} else {
		*http_status = 402;
		ret = hfw_buf_puts(reply, "<error>no certificate found</error>", err);
	}
out:
	xmlFree(text);
	xmlFreeDoc(doc);
	return ret;
}
