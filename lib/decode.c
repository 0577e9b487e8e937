/* decode.c - DUIS responses and their GBCS payloads as JSON (see decode.h). */
#include "decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "base64.h"
#include "cs06.h"
#include "eui.h"
#include "gbcs.h"
#include "hex.h"
#include "xml.h"

const char *hfw_response_code_meaning(const char *code)
{
	/* dcc-interface.md §1.3; E40 on are this project's sandbox's (hanfw-sandbox(1)). */
	static const struct { const char *code, *meaning; } table[] = {
		{ "I0", "success" },
		{ "I99", "accepted: passed access control, the result follows" },
		{ "E1", "user not authorised for the request" },
		{ "E2", "role not authorised for the service request" },
		{ "E3", "user status does not allow it" },
		{ "E4", "user not authorised for the device" },
		{ "E5", "device status does not allow it" },
		{ "E11", "service request not valid for the device type" },
		{ "E12", "command variant not valid for the request" },
		{ "E13", "request type not valid for the URL" },
		{ "E17", "local delivery not permitted" },
		{ "E19", "device does not exist" },
		{ "E20", "cannot communicate with the device" },
		{ "E21", "no response from the device" },
		{ "E30", "future-dated command timed out" },
		{ "E40", "signature does not verify (hanfw sandbox)" },
		{ "E41", "request not valid against the schema (hanfw sandbox)" },
		{ "E42", "RequestID counter not above the last one (hanfw sandbox)" },
		{ "E43", "no pre-command outstanding for the RequestID (hanfw sandbox)" },
		{ "E44", "signed pre-command is not the one issued, or its GBCS signature fails (hanfw sandbox)" },
	};
	size_t i;

	if (!code)
		return NULL;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].code, code))
			return table[i].meaning;
	if (code[0] == 'W')
		return "warning: partly done (see the body)";
	return NULL;
}

static json_t *hex_json(const uint8_t *b, size_t n)
{
	char *text = malloc(2 * n + 1);
	json_t *j;

	if (!text)
		return NULL;
	hfw_hex_encode_upper(text, b, n);
	text[2 * n] = '\0';
	j = json_string(text);
	free(text);
	return j;
}

static json_t *eui_json(const uint8_t b[8])
{
	struct hfw_eui e;
	char text[HFW_EUI_TEXT_MAX];

	memcpy(e.b, b, 8);
	hfw_eui_format(text, &e);
	return json_string(text);
}

static json_t *outcome_json(const struct hfw_cs06_outcome *o)
{
	if (o->accepted)
		return json_pack("{s:s}", "outcome", "accepted");
	return json_pack("{s:s,s:i,s:o}", "outcome", hfw_cs06_code_name(o->code), "response_code", o->code,
			 "firmware_version", hex_json(o->version, 4));
}

/* The content, by message code (and CRA): what hanfw understands of it. */
static int content_json(json_t *o, const struct hfw_gbcs_message *m, struct hfw_error *err)
{
	int ret = 0;

	if (m->message_code == HFW_CS06_MESSAGE_CODE && m->cra == HFW_CRA_COMMAND) {
		struct hfw_cs06_command c;

		if ((ret = hfw_cs06_command_parse(&c, m->content, m->content_len, err)) < 0)
			return ret;
		json_object_set_new(o, "use_case", json_string("CS06 activate firmware"));
		json_object_set_new(o, "content", json_pack("{s:o,s:I,s:s?}", "manufacturer_image_hash", hex_json(c.hash, 32),
							    "originator_counter", (json_int_t)c.counter,
							    "execution_datetime", c.time[0] ? c.time : NULL));
	} else if (m->message_code == HFW_CS06_MESSAGE_CODE && m->cra == HFW_CRA_RESPONSE) {
		struct hfw_cs06_outcome out;

		if ((ret = hfw_cs06_response_parse(&out, m->content, m->content_len, err)) < 0)
			return ret;
		json_object_set_new(o, "use_case", json_string("CS06 activate firmware response"));
		json_object_set_new(o, "content", outcome_json(&out));
	} else if (m->message_code == HFW_CS06_ALERT_CODE_MSG) {
		struct hfw_cs06_alert a;
		char code[8];

		if ((ret = hfw_cs06_alert_parse(&a, m->content, m->content_len, err)) < 0)
			return ret;
		snprintf(code, sizeof(code), "%04X", (unsigned)a.alert_code);
		json_object_set_new(o, "use_case", json_string("CS06 future-dated activation alert"));
		json_object_set_new(o, "content", json_pack("{s:s,s:s,s:I,s:o}", "alert_code", code, "execution_datetime",
							    a.time, "originator_counter", (json_int_t)a.counter,
							    "execution_outcome", outcome_json(&a.outcome)));
	} else {
		json_object_set_new(o, "content_hex", hex_json(m->content, m->content_len));
	}
	return 0;
}

int hfw_decode_gbcs(json_t **out, const uint8_t *buf, size_t len, struct hfw_error *err)
{
	static const char *const cra_names[] = { "", "command", "response", "alert" };
	struct hfw_gbcs_message m;
	const uint8_t *inner = buf;
	size_t ilen = len;
	json_t *o = NULL;
	char code[8];
	int ciphered = len > 0 && buf[0] == HFW_GBCS_TAG_CIPHERING, ret;

	*out = NULL;
	if ((ciphered && (ret = hfw_gbcs_unwrap(&inner, &ilen, buf, len, err)) < 0) ||
	    (ret = hfw_gbcs_parse(&m, inner, ilen, err)) < 0)
		return ret;
	snprintf(code, sizeof(code), "%04X", m.message_code);
	if (!(o = json_pack("{s:b,s:s,s:I,s:o,s:o,s:s,s:s}", "ciphered", ciphered, "cra", cra_names[m.cra],
			    "originator_counter", (json_int_t)m.counter, "originator", eui_json(m.originator),
			    "recipient", eui_json(m.recipient), "message_code", code, "signature",
			    m.sig == HFW_GBCS_SIG_PRESENT ? "present" : m.sig == HFW_GBCS_SIG_NULL ? "null" : "absent")))
		return hfw_error_oom(err);
	if ((ret = content_json(o, &m, err)) < 0) {
		json_decref(o);
		return ret;
	}
	*out = o;
	return 0;
}

/* A GBCSPayload element's text, decoded. */
static json_t *payload_json(xmlNodePtr n, struct hfw_error *err)
{
	xmlChar *text = n ? xmlNodeGetContent(n) : NULL;
	uint8_t *bytes = NULL;
	size_t len;
	json_t *j = NULL;

	if (text && hfw_base64_decode(&bytes, &len, (const char *)text, strlen((const char *)text), "GBCSPayload", err) == 0 &&
	    hfw_decode_gbcs(&j, bytes, len, err) < 0)
		j = json_pack("{s:s}", "error", err->text);
	xmlFree(text);
	free(bytes);
	return j;
}

/* Any element as JSON by name: text, or an object of its children (GBCSPayload decoded). */
static json_t *element_json(xmlNodePtr n, struct hfw_error *err)
{
	xmlNodePtr c = hfw_xml_first_element(n);
	json_t *o;

	if (!c) {
		xmlChar *t = xmlNodeGetContent(n);
		json_t *s = json_string(t ? (const char *)t : "");

		xmlFree(t);
		return s;
	}
	if (!(o = json_object()))
		return NULL;
	for (; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		json_object_set_new(o, (const char *)c->name,
				    !strcmp((const char *)c->name, "GBCSPayload") ? payload_json(c, err) : element_json(c, err));
	}
	return o;
}

static const char *header_text(xmlNodePtr header, const char *name, char *buf, size_t size)
{
	xmlNodePtr n = hfw_xml_child(header, HFW_NS_DUIS, name);
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;

	snprintf(buf, size, "%s", t ? (const char *)t : "");
	xmlFree(t);
	return buf[0] ? buf : NULL;
}

int hfw_decode_response(json_t **out, const uint8_t *xml, size_t len, const hfw_trust *trust,
			struct hfw_error *err)
{
	struct hfw_verify_options vo = { trust, 1, 0, NULL, NULL };
	struct hfw_verify_result r;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, header, msg;
	json_t *o = NULL;
	char rid[128], resp[128], code[32];
	int ret;

	*out = NULL;
	vo.doc_out = &doc;
	/* With certificates, verified; without, only parsed (hostile input refused alike). */
	if ((ret = trust ? hfw_xmldsig_verify(&r, xml, len, &vo, err) : hfw_xml_parse(&doc, xml, len, "DUIS response", err)) < 0)
		goto out;
	root = xmlDocGetRootElement(doc);
	if (!hfw_xml_is(root, HFW_NS_DUIS, "Response")) {
		ret = hfw_error_set(err, HFW_EINPUT, "not a DUIS Response");
		goto out;
	}
	header = hfw_xml_child(root, HFW_NS_DUIS, "Header");
	header_text(header, "ResponseCode", code, sizeof(code));
	if (!(o = json_pack("{s:s?,s:s?,s:s?,s:s?}", "request_id", header_text(header, "RequestID", rid, sizeof(rid)),
			    "response_id", header_text(header, "ResponseID", resp, sizeof(resp)), "response_code",
			    code[0] ? code : NULL, "meaning", hfw_response_code_meaning(code)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	json_object_set_new(o, "signature", !trust ? json_string("not checked")
					    : r.is_signed ? json_pack("{s:s,s:s}", "signer", r.signer.eui, "serial", r.signer.serial)
							  : json_string("unsigned"));
	msg = hfw_xml_first_element(hfw_xml_child(root, HFW_NS_DUIS, "Body"));
	if (msg) {
		json_object_set_new(o, "body", json_string((const char *)msg->name));
		json_object_set_new(o, "message", element_json(msg, err));
	}
	*out = o;
	o = NULL;
	ret = 0;
out:
	json_decref(o);
	xmlFreeDoc(doc);
	return ret;
}
