/* smki.c - device certificates from the SMKI certificate service (see smki.h). */
#include "smki.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/tree.h>

#include "base64.h"
#include "buf.h"
#include "crypto.h"
#include "fileio.h"
#include "transport.h"
#include "xml.h"

#define SMKI_MAX_CERT_BYTES (16u * 1024)	/* an SMKI device certificate is ~500 bytes */

struct hfw_smki {
	hfw_transport *t;
};

int hfw_smki_open(hfw_smki **out, const struct hfw_smki_options *o, struct hfw_error *err)
{
	struct hfw_transport_options to;
	hfw_smki *s;
	int ret;

	*out = NULL;
	memset(&to, 0, sizeof(to));
	to.base_url = o->url;
	to.ca = o->ca;
	to.insecure = o->insecure;
	to.retries = -1;
	/* The service answers at once (keystore: 4 s for the whole request). */
	to.total_timeout_ms = 10000;
	if (!(s = calloc(1, sizeof(*s))))
		return hfw_error_oom(err);
	if ((ret = hfw_transport_open(&s->t, &to, err)) < 0) {
		char why[HFW_ERROR_TEXT_MAX];

		snprintf(why, sizeof(why), "%s", err->text);
		hfw_error_set(err, ret, "SMKI service (smki_url): %s", why);
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void hfw_smki_free(hfw_smki *s)
{
	if (s) {
		hfw_transport_free(s->t);
		free(s);
	}
}

/* The SMKI service's XML has no namespace: elements are matched by local name. */
static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr c;

	for (c = parent ? hfw_xml_first_element(parent) : NULL; c; c = hfw_xml_next_element(c))
		if (!strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

static void text_of(xmlNodePtr parent, const char *name, char *buf, size_t size)
{
	xmlNodePtr n = child(parent, name);
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;

	buf[0] = '\0';
	if (t) {
		/* Trimmed: the keystore's parser keeps text as written, servers may indent. */
		const char *p = (const char *)t;
		size_t len;

		while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			p++;
		len = strlen(p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == '\t'))
			len--;
		snprintf(buf, size, "%.*s", (int)len, p);
		xmlFree(t);
	}
}

int hfw_smki_pick_serial(char *serial, size_t size, const char *xml, size_t len, struct hfw_error *err)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, r;
	size_t seen = 0;
	int ret;

	serial[0] = '\0';
	if ((ret = hfw_xml_parse(&doc, (const uint8_t *)xml, len, "SMKI search answer", err)) < 0)
		return ret;
	root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "CertificateSearchResponse") != 0) {
		ret = hfw_error_set(err, HFW_EINPUT, "SMKI search answer is not a CertificateSearchResponse");
		goto out;
	}
	for (r = hfw_xml_first_element(root); r; r = hfw_xml_next_element(r)) {
		char usage[8], status[8], s[80];

		if (strcmp((const char *)r->name, "Result") != 0)
			continue;
		if (++seen > HFW_SMKI_MAX_RESULTS) {
			ret = hfw_error_set(err, HFW_ELIMIT, "SMKI search answer has more than %d results", HFW_SMKI_MAX_RESULTS);
			goto out;
		}
		text_of(r, "CertificateUsage", usage, sizeof(usage));
		text_of(r, "CertificateStatus", status, sizeof(status));
		text_of(r, "CertificateSerial", s, sizeof(s));
		/* The in-use digital-signing one: what the device signs with today. */
		if (strcmp(usage, "DS") || strcmp(status, "I") || !s[0])
			continue;
		if (strspn(s, "0123456789ABCDEFabcdef") != strlen(s) || strlen(s) >= size) {
			ret = hfw_error_set(err, HFW_EINPUT, "SMKI search answer: serial '%.40s' is not a serial number", s);
			goto out;
		}
		if (serial[0] && strcmp(serial, s)) {
			ret = hfw_error_set(err, HFW_EINPUT,
					    "SMKI search answer names two in-use DS certificates (%s and %s): which one the device signs with is not known",
					    serial, s);
			goto out;
		}
		snprintf(serial, size, "%s", s);
	}
out:
	if (ret < 0)
		serial[0] = '\0';
	xmlFreeDoc(doc);
	return ret;
}

int hfw_smki_check_device_cert(const uint8_t *der, size_t len, const struct hfw_eui *eui, struct hfw_error *err)
{
	struct hfw_cert_info ci;
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct hfw_eui have;
	hfw_cert *c = NULL;
	char want[HFW_EUI_TEXT_MAX];
	int ret;

	hfw_eui_format(want, eui);
	if ((ret = hfw_cert_load_mem(&c, der, len, "SMKI device certificate", err)) < 0)
		return ret;
	hfw_cert_info(c, &ci);
	hfw_cert_free(c);
	if (ci.subject[0])
		return hfw_error_set(err, HFW_EKEY, "the SMKI certificate for %s has subject '%.80s': a device certificate's subject is empty",
				     want, ci.subject);
	if (!ci.hw_module_name || !ci.eui[0] || hfw_eui_parse(&have, ci.eui, "eui", &ignored) < 0)
		return hfw_error_set(err, HFW_EKEY,
				     "the SMKI certificate for %s names no EUI in a subjectAltName hardwareModuleName: not a device certificate",
				     want);
	if (memcmp(have.b, eui->b, HFW_EUI_LEN) != 0)
		return hfw_error_set(err, HFW_EKEY, "the SMKI certificate asked for %s is the device certificate of %s: not stored",
				     want, ci.eui);
	return 0;
}

/* POST body to path; *none 1 on 402 (nothing there). */
static int post(hfw_smki *s, const char *path, const char *body, struct hfw_reply *reply, int *none,
		struct hfw_error *err)
{
	enum hfw_delivery delivery;
	char full[256];
	int ret;

	*none = 0;
	snprintf(full, sizeof(full), "%s?apikey=%s", path, HFW_SMKI_APIKEY);
	ret = hfw_transport_post(s->t, full, body, strlen(body), reply, &delivery, err);
	if (ret < 0 && delivery == HFW_REFUSED && reply->http_status == 402) {
		*none = 1;
		return 0;
	}
	if (ret < 0) {
		char why[HFW_ERROR_TEXT_MAX];

		snprintf(why, sizeof(why), "%s", err->text);
		return hfw_error_set(err, ret, "SMKI service: %s", why);
	}
	return 0;
}

/* PEM of der, 64 characters a line. */
static int pem_of(struct hfw_buf *out, const uint8_t *der, size_t len, struct hfw_error *err)
{
	char *b64 = malloc(hfw_base64_len(len) + 1);
	size_t n, i;
	int ret;

	if (!b64)
		return hfw_error_oom(err);
	hfw_base64_encode(b64, der, len);
	n = hfw_base64_len(len);
	if ((ret = hfw_buf_puts(out, "-----BEGIN CERTIFICATE-----\n", err)) < 0)
		goto out;
	for (i = 0; i < n; i += 64)
		if ((ret = hfw_buf_append(out, b64 + i, n - i < 64 ? n - i : 64, err)) < 0 ||
		    (ret = hfw_buf_append(out, "\n", 1, err)) < 0)
			goto out;
	ret = hfw_buf_puts(out, "-----END CERTIFICATE-----\n", err);
out:
	free(b64);
	return ret;
}

int hfw_smki_fetch_device(hfw_smki *s, const struct hfw_eui *eui, const char *devices_dir, int *found,
			  struct hfw_error *err)
{
	struct hfw_reply reply;
	struct hfw_buf pem = HFW_BUF_INIT(64 * 1024);
	xmlDocPtr doc = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0;
	char eui_text[HFW_EUI_TEXT_MAX], serial[80], body[512], path[4200], hex[17];
	char *b64 = NULL;
	int none, ret, i;

	*found = 0;
	memset(&reply, 0, sizeof(reply));
	hfw_eui_format(eui_text, eui);
	snprintf(body, sizeof(body),
		 "<?xml version=\"1.0\" encoding=\"utf-8\"?><CertificateSearchRequest><CertificateSubjectAltName>%s"
		 "</CertificateSubjectAltName></CertificateSearchRequest>", eui_text);
	if ((ret = post(s, "/services/certificatesearch", body, &reply, &none, err)) < 0 || none)
		goto out;
	if ((ret = hfw_smki_pick_serial(serial, sizeof(serial), reply.body, reply.len, err)) < 0 || !serial[0])
		goto out;
	hfw_reply_release(&reply);
	snprintf(body, sizeof(body),
		 "<?xml version=\"1.0\" encoding=\"utf-8\"?><CertificateDataRequest><CertificateSerial>%s"
		 "</CertificateSerial></CertificateDataRequest>", serial);
	if ((ret = post(s, "/services/retrievecertificate", body, &reply, &none, err)) < 0 || none)
		goto out;
	if ((ret = hfw_xml_parse(&doc, (const uint8_t *)reply.body, reply.len, "SMKI retrieve answer", err)) < 0)
		goto out;
	{
		xmlNodePtr root = xmlDocGetRootElement(doc);
		xmlNodePtr cr = (root && !strcmp((const char *)root->name, "CertificateDataResponse"))
				? child(root, "CertificateResponse") : NULL;
		xmlNodePtr cb = child(cr, "CertificateBody");

		if (!cb || !(b64 = (char *)xmlNodeGetContent(cb))) {
			ret = hfw_error_set(err, HFW_EINPUT, "SMKI retrieve answer for %s holds no CertificateResponse/CertificateBody",
					    eui_text);
			goto out;
		}
	}
	if (strlen(b64) > 2 * SMKI_MAX_CERT_BYTES) {
		ret = hfw_error_set(err, HFW_ELIMIT, "SMKI certificate for %s is larger than %u bytes", eui_text,
				    SMKI_MAX_CERT_BYTES);
		goto out;
	}
	if ((ret = hfw_base64_decode(&der, &derlen, b64, strlen(b64), "SMKI CertificateBody", err)) < 0 ||
	    (ret = hfw_smki_check_device_cert(der, derlen, eui, err)) < 0 ||
	    (ret = pem_of(&pem, der, derlen, err)) < 0)
		goto out;
	if (mkdir(devices_dir, 0755) != 0 && errno != EEXIST) {
		ret = hfw_error_set(err, HFW_EIO, "cannot create the device store '%s'", devices_dir);
		goto out;
	}
	for (i = 0; i < HFW_EUI_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", eui->b[i]);
	snprintf(path, sizeof(path), "%s/%s-ds.pem", devices_dir, hex);
	if ((ret = hfw_file_write_atomic(path, pem.data, pem.len, err)) < 0)
		goto out;
	*found = 1;
out:
	xmlFree(b64);
	xmlFreeDoc(doc);
	free(der);
	hfw_buf_release(&pem);
	hfw_reply_release(&reply);
	return ret;
}
