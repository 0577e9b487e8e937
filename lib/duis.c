/* duis.c - DUIS requests in canonical form (see duis.h). */
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
#include "xml.h"

const char *hfw_duis_service_reference(enum hfw_duis_body body)
{
	switch (body) {
	case HFW_BODY_UPDATE_FIRMWARE: return "11.1";
	case HFW_BODY_READ_FIRMWARE_VERSION: return "11.2";
	case HFW_BODY_ACTIVATE_FIRMWARE: return "11.3";
	case HFW_BODY_UPDATE_PPMID_FIRMWARE: return "11.4";
	case HFW_BODY_SIGNED_PRECOMMAND: return "11.3";
	case HFW_BODY_READ_INVENTORY: return "8.2";
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
	case HFW_BODY_READ_INVENTORY: return 8;
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
	case HFW_BODY_READ_INVENTORY:
		/* One search key per request, as DUIS allows. */
		if (r->mpxn) {
			if ((ret = hfw_buf_puts(b, "<sr:ReadInventory><sr:MPxN>", err)) < 0 ||
			    (ret = hfw_buf_put_escaped(b, r->mpxn, err)) < 0)
				return ret;
			ret = hfw_buf_puts(b, "</sr:MPxN></sr:ReadInventory>", err);
			break;
		}
		if (r->ndevices != 1)
			return hfw_error_set(err, HFW_ELIMIT, "an SR 8.2 request names one DeviceID, not %zu", r->ndevices);
		hfw_eui_format(eui, &r->devices[0]);
		ret = hfw_buf_printf(b, err, "<sr:ReadInventory><sr:DeviceID>%s</sr:DeviceID></sr:ReadInventory>", eui);
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
