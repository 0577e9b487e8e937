/* duis.c - DUIS requests in canonical form, and RequestIDs (see duis.h). */
#include "duis.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "hex.h"
#include "image.h"
#include "ledger.h"
#include "xml.h"

void hfw_request_id_format(char out[HFW_REQUEST_ID_MAX], const struct hfw_request_id *id)
{
	char o[HFW_EUI_TEXT_MAX], t[HFW_EUI_TEXT_MAX];

	hfw_eui_format(o, &id->originator);
	hfw_eui_format(t, &id->target);
	snprintf(out, HFW_REQUEST_ID_MAX, "%s:%s:%" PRIu64, o, t, id->counter);
}

int hfw_request_id_parse(struct hfw_request_id *out, const char *text, struct hfw_error *err)
{
	char a[HFW_EUI_TEXT_MAX], b[HFW_EUI_TEXT_MAX];
	const char *c1 = strchr(text, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *p;
	unsigned long long v;
	char *end;

	if (!c1 || !c2 || c1 - text != 23 || c2 - c1 - 1 != 23)
		goto bad;
	memcpy(a, text, 23);
	a[23] = '\0';
	memcpy(b, c1 + 1, 23);
	b[23] = '\0';
	if (hfw_eui_parse(&out->originator, a, "originator", err) < 0 ||
	    hfw_eui_parse(&out->target, b, "target", err) < 0)
		goto bad;
	p = c2 + 1;
	if (!isdigit((unsigned char)*p) || (p[0] == '0' && p[1]) || strlen(p) > 20)
		goto bad;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno || *end)
		goto bad;
	out->counter = v;
	return 0;
bad:
	return hfw_error_set(err, HFW_EINPUT,
			     "RequestID '%.80s' is not originator:target:counter (EUIs as XX-XX-..., counter 0 to 18446744073709551615)",
			     text);
}

const char *hfw_duis_service_reference(enum hfw_duis_body body)
{
	switch (body) {
	case HFW_BODY_UPDATE_FIRMWARE: return "11.1";
	case HFW_BODY_READ_FIRMWARE_VERSION: return "11.2";
	case HFW_BODY_ACTIVATE_FIRMWARE: return "11.3";
	case HFW_BODY_UPDATE_PPMID_FIRMWARE: return "11.4";
	case HFW_BODY_SIGNED_PRECOMMAND: return "11.3";
	}
	return "?";
}

int hfw_duis_command_variant(enum hfw_duis_body body)
{
	switch (body) {
	case HFW_BODY_UPDATE_FIRMWARE: return 8;
	case HFW_BODY_READ_FIRMWARE_VERSION: return 1;
	case HFW_BODY_ACTIVATE_FIRMWARE: return 4;
	case HFW_BODY_UPDATE_PPMID_FIRMWARE: return 8;
	case HFW_BODY_SIGNED_PRECOMMAND: return 5;
	}
	return 0;
}

/* schemaVersion goes into an attribute: allow only a decimal like "5.4". */
static int decimal_text(const char *s)
{
	int dot = 0;

	if (!s || !*s || strlen(s) > 10)
		return 0;
	for (; *s; s++)
		if (*s == '.' && !dot++)
			continue;
		else if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int put_base64(struct hfw_buf *b, const uint8_t *data, size_t len, struct hfw_error *err)
{
	size_t n = hfw_base64_len(len);
	char *p = hfw_buf_reserve(b, n, err);

	if (!p)
		return err->code;
	hfw_base64_encode(p, data, len);
	hfw_buf_grew(b, n);
	return 0;
}

static int put_exec_time(struct hfw_buf *b, const char *t, struct hfw_error *err)
{
	int ret;

	if (!t)
		return 0;
	if ((ret = hfw_buf_puts(b, "<sr:ExecutionDateTime>", err)) < 0 ||
	    (ret = hfw_buf_put_escaped(b, t, err)) < 0)
		return ret;
	return hfw_buf_puts(b, "</sr:ExecutionDateTime>", err);
}

int hfw_duis_build(struct hfw_buf *b, const struct hfw_duis_request *r, struct hfw_error *err)
{
	char rid[HFW_REQUEST_ID_MAX], eui[HFW_EUI_TEXT_MAX], hash[2 * HFW_SHA256_LEN + 1];
	const char *sr = hfw_duis_service_reference(r->body);
	const char *element = NULL;
	size_t i;
	int ret;

	if (!decimal_text(r->schema_version))
		return hfw_error_set(err, HFW_ECONFIG, "schema version '%.20s' is not a decimal like 5.4",
				     r->schema_version ? r->schema_version : "");
	hfw_request_id_format(rid, &r->id);
	if ((ret = hfw_buf_printf(b, err,
				  "<sr:Request xmlns:sr=\"" HFW_NS_DUIS "\" schemaVersion=\"%s\">"
				  "<sr:Header><sr:RequestID>%s</sr:RequestID><sr:CommandVariant>%d</sr:CommandVariant>"
				  "<sr:ServiceReference>%s</sr:ServiceReference>"
				  "<sr:ServiceReferenceVariant>%s</sr:ServiceReferenceVariant></sr:Header><sr:Body>",
				  r->schema_version, rid, hfw_duis_command_variant(r->body), sr, sr)) < 0)
		return ret;
	switch (r->body) {
	case HFW_BODY_UPDATE_FIRMWARE:
	case HFW_BODY_UPDATE_PPMID_FIRMWARE:
		element = r->body == HFW_BODY_UPDATE_FIRMWARE ? "UpdateFirmware" : "UpdatePPMIDFirmware";
		if (r->ndevices == 0 || r->ndevices > HFW_MAX_DEVICES_PER_REQUEST)
			return hfw_error_set(err, HFW_ELIMIT, "a request names 1 to %u devices, not %zu",
					     HFW_MAX_DEVICES_PER_REQUEST, r->ndevices);
		if ((ret = hfw_buf_printf(b, err, "<sr:%s><sr:FirmwareImage>", element)) < 0 ||
		    (ret = put_base64(b, r->image, r->image_len, err)) < 0 ||
		    (ret = hfw_buf_puts(b, "</sr:FirmwareImage><sr:FirmwareVersion>", err)) < 0 ||
		    (ret = hfw_buf_put_escaped(b, r->firmware_version ? r->firmware_version : "", err)) < 0 ||
		    (ret = hfw_buf_puts(b, "</sr:FirmwareVersion><sr:DeviceIDList>", err)) < 0)
			return ret;
		for (i = 0; i < r->ndevices; i++) {
			hfw_eui_format(eui, &r->devices[i]);
			if ((i && (ret = hfw_buf_append(b, ",", 1, err)) < 0) ||
			    (ret = hfw_buf_append(b, eui, 23, err)) < 0)
				return ret;
		}
		ret = hfw_buf_printf(b, err, "</sr:DeviceIDList></sr:%s>", element);
		break;
	case HFW_BODY_READ_FIRMWARE_VERSION:
		if ((ret = hfw_buf_puts(b, "<sr:ReadFirmwareVersion>", err)) < 0 ||
		    (ret = put_exec_time(b, r->execution_datetime, err)) < 0)
			return ret;
		ret = hfw_buf_puts(b, "</sr:ReadFirmwareVersion>", err);
		break;
	case HFW_BODY_ACTIVATE_FIRMWARE:
		hfw_hex_encode_upper(hash, r->firmware_hash, HFW_SHA256_LEN);
		if ((ret = hfw_buf_puts(b, "<sr:ActivateFirmware>", err)) < 0 ||
		    (ret = put_exec_time(b, r->execution_datetime, err)) < 0)
			return ret;
		ret = hfw_buf_printf(b, err, "<sr:FirmwareHash>%s</sr:FirmwareHash></sr:ActivateFirmware>", hash);
		break;
	case HFW_BODY_SIGNED_PRECOMMAND:
		if ((ret = hfw_buf_puts(b, "<sr:SignedPreCommand>", err)) < 0 ||
		    (ret = put_exec_time(b, r->execution_datetime, err)) < 0 ||
		    (ret = hfw_buf_puts(b, "<sr:GBCSPayload>", err)) < 0 ||
		    (ret = put_base64(b, r->gbcs_payload, r->gbcs_len, err)) < 0)
			return ret;
		ret = hfw_buf_puts(b, "</sr:GBCSPayload></sr:SignedPreCommand>", err);
		break;
	}
	if (ret < 0)
		return ret;
	return hfw_buf_puts(b, "</sr:Body></sr:Request>", err);
}

/* Validate a request against hanfw's schema. */
static int validate(const char *text, size_t len, struct hfw_error *err)
{
	xmlDocPtr doc = NULL;
	int ret;

	if ((ret = hfw_xml_parse(&doc, (const uint8_t *)text, len, "request", err)) == 0 &&
	    (ret = hfw_xml_validate(doc, NULL, err)) < 0)
		ret = err->code = HFW_EINPUT;
	xmlFreeDoc(doc);
	return ret;
}

/* Images above this are schema-checked through a stand-in (see below). */
#define VALIDATE_IMAGE_INLINE_MAX 4096

int hfw_duis_sign_request(struct hfw_buf *out, const hfw_signer *signer,
			  const struct hfw_duis_request *req,
			  uint8_t body_sha256[HFW_SHA256_LEN], struct hfw_error *err)
{
	size_t start = out->len, body_off;
	int big = (req->body == HFW_BODY_UPDATE_FIRMWARE || req->body == HFW_BODY_UPDATE_PPMID_FIRMWARE) &&
		  req->image_len > VALIDATE_IMAGE_INLINE_MAX;
	int ret;

	/*
	 * A 10 MB image is 13.7 MB of base64 that libxml2 would copy twice to
	 * validate.  hanfw's own encoder wrote it, so it is valid base64 by
	 * construction and its size limit is checked in code; the rest of the
	 * request is validated with a short stand-in image instead.
	 */
	if (big) {
		struct hfw_buf probe = HFW_BUF_INIT(HFW_MAX_DUIS_BYTES);
		struct hfw_duis_request small = *req;

		if (req->image_len > HFW_IMAGE_MAX_BYTES)
			return hfw_error_set(err, HFW_ELIMIT, "firmware image is %zu bytes, more than the DUIS maximum of %u",
					     req->image_len, HFW_IMAGE_MAX_BYTES);
		small.image = (const uint8_t *)"GB\x1e";
		small.image_len = 3;
		ret = hfw_duis_build(&probe, &small, err);
		if (ret == 0)
			ret = validate(probe.data, probe.len, err);
		hfw_buf_release(&probe);
		if (ret < 0)
			return ret;
	}
	/* Room for everything at once: no doubling slack on a 13 MB request. */
	if (!hfw_buf_reserve(out, sizeof(HFW_XML_DECL) + hfw_base64_len(req->image_len) +
			     req->ndevices * 24 + hfw_base64_len(req->gbcs_len) + 4096, err))
		return err->code;
	if ((ret = hfw_buf_puts(out, HFW_XML_DECL, err)) < 0)
		goto fail;
	body_off = out->len;
	if ((ret = hfw_duis_build(out, req, err)) < 0 ||
	    (!big && (ret = validate(out->data + body_off, out->len - body_off, err)) < 0))
		goto fail;
	if (body_sha256)
		hfw_sha256(body_sha256, out->data + body_off, out->len - body_off);
	if ((ret = hfw_xmldsig_sign_canonical(out, body_off, signer, err)) < 0)
		goto fail;
	return 0;
fail:
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	return ret;
}

struct prepare_state {
	const hfw_signer *signer;
	const struct hfw_duis_sign_file_options *o;
	struct hfw_request_id id;
	char service_reference[16];
	int command_variant;
};

static int header_text(xmlNodePtr hdr, const char *name, char *out, size_t size)
{
	xmlNodePtr n = hfw_xml_child(hdr, HFW_NS_DUIS, name);
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;

	out[0] = '\0';
	if (!t)
		return -1;
	snprintf(out, size, "%s", (const char *)t);
	xmlFree(t);
	return 0;
}

/* Check the RequestID against the signer, and settle its counter in the ledger. */
static int prepare_request(void *arg, xmlDocPtr doc, struct hfw_error *err)
{
	struct prepare_state *ps = arg;
	xmlNodePtr hdr = hfw_xml_child(xmlDocGetRootElement(doc), HFW_NS_DUIS, "Header"), rid;
	char text[128], signer_eui[HFW_EUI_TEXT_MAX], cv[8];
	struct hfw_eui se;
	int ret;

	if (!(rid = hfw_xml_child(hdr, HFW_NS_DUIS, "RequestID")) ||
	    header_text(hdr, "RequestID", text, sizeof(text)) < 0)
		return hfw_error_set(err, HFW_EINPUT, "request has no Header/RequestID");
	if ((ret = hfw_request_id_parse(&ps->id, text, err)) < 0)
		return ret;
	header_text(hdr, "ServiceReference", ps->service_reference, sizeof(ps->service_reference));
	header_text(hdr, "CommandVariant", cv, sizeof(cv));
	ps->command_variant = (int)strtol(cv, NULL, 10);
	snprintf(signer_eui, sizeof(signer_eui), "%s", hfw_signer_info(ps->signer)->eui);
	/* The DCC picks the verifying certificate by the RequestID's originator. */
	if (!signer_eui[0] || hfw_eui_parse(&se, signer_eui, "signer EUI", err) < 0 ||
	    memcmp(&se, &ps->id.originator, sizeof(se)) != 0)
		return hfw_error_set(err, HFW_EINPUT,
				     "RequestID originator %.23s is not the signer's EUI %s",
				     text, signer_eui[0] ? signer_eui : "(none in the certificate)");
	if (ps->o->new_counter) {
		char fresh[HFW_REQUEST_ID_MAX];

		if ((ret = hfw_ledger_reserve(ps->o->ledger, &ps->id.originator, hfw_now_ms(), 1,
					      &ps->id.counter, err)) < 0)
			return ret;
		hfw_request_id_format(fresh, &ps->id);
		xmlNodeSetContent(rid, (const xmlChar *)fresh);
		return 0;
	}
	return hfw_ledger_claim(ps->o->ledger, &ps->id.originator, ps->id.counter, err);
}

int hfw_duis_sign_document(char **out, size_t *outlen, struct hfw_request_id *id,
			   const hfw_signer *signer, const uint8_t *xml, size_t len,
			   const struct hfw_duis_sign_file_options *o, struct hfw_error *err)
{
	struct prepare_state ps = { signer, o, { { { 0 } }, { { 0 } }, 0 }, "", 0 };
	struct hfw_ledger_request rec;
	int signed_over = 0, burn = 0;
	struct hfw_sign_options so = { o->xsd_path, prepare_request, &ps, rec.body_sha256, &signed_over };
	struct hfw_error ignored = HFW_ERROR_INIT;
	int ret;

	*out = NULL;
	memset(&rec, 0, sizeof(rec));
	/*
	 * Counter and record in one transaction, committed before the signed
	 * request is handed back: one sync, and nothing leaves unrecorded.
	 */
	if ((ret = hfw_ledger_begin(o->ledger, err)) < 0)
		return ret;
	if ((ret = hfw_xmldsig_sign_document(out, outlen, signer, xml, len, &so, err)) < 0) {
		/*
		 * A counter that was signed over is burned even though the result
		 * was refused and never handed out: the counter is committed, the
		 * request is not recorded.  One refused before signing is not.
		 */
		burn = signed_over;
		goto out;
	}
	rec.id = ps.id;
	rec.service_reference = ps.service_reference;
	rec.command_variant = ps.command_variant;
	rec.state = "signed";
	if ((ret = hfw_ledger_record(o->ledger, &rec, 1, err)) < 0 ||
	    (ret = hfw_ledger_commit(o->ledger, err)) < 0)
		goto out;
	*id = ps.id;
out:
	if (ret < 0) {
		if (!burn || hfw_ledger_commit(o->ledger, &ignored) < 0)
			hfw_ledger_rollback(o->ledger);
		free(*out);
		*out = NULL;
	}
	return ret;
}
