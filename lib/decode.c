/* decode.c - DUIS responses and their GBCS payloads as JSON (see decode.h). */
#include "decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* A tiny strict reader for the fixed DER shapes of CS08, CS09 and CCS08 content. */
struct rd {
	const uint8_t *p;
	size_t n, off;
	int bad;
};

static const uint8_t *take(struct rd *r, uint8_t tag, size_t len)
{
	const uint8_t *v;

	if (r->bad || r->n - r->off < 2 + len || r->p[r->off] != tag || r->p[r->off + 1] != len) {
		r->bad = 1;
		return NULL;
	}
	v = r->p + r->off + 2;
	r->off += 2 + len;
	return v;
}

/* A small non-negative INTEGER (1 to 3 octets, as alert codes are). */
static long small_int(struct rd *r)
{
	size_t len, i;
	long v = 0;

	if (r->bad || r->n - r->off < 2 || r->p[r->off] != 0x02 || (len = r->p[r->off + 1]) < 1 || len > 3 ||
	    r->n - r->off < 2 + len) {
		r->bad = 1;
		return -1;
	}
	for (i = 0; i < len; i++)
		v = v << 8 | r->p[r->off + 2 + i];
	r->off += 2 + len;
	return v;
}

static json_t *time_json(const uint8_t *t)
{
	char text[HFW_GENTIME_LEN + 1];

	memcpy(text, t, HFW_GENTIME_LEN);
	text[HFW_GENTIME_LEN] = '\0';
	return json_string(text);
}

static json_t *code_json(long code)
{
	char text[24];

	snprintf(text, sizeof(text), "%04lX", code);
	return json_string(text);
}

/* A DLMS date-time (12 octets) as ISO 8601, or the hex when it is not a plain one. */
static json_t *dlms_time_json(const uint8_t *t)
{
	char text[32];

	if (t[2] < 1 || t[2] > 12 || t[3] < 1 || t[3] > 31 || t[5] > 23 || t[6] > 59 || t[7] > 59)
		return hex_json(t, 12);
	snprintf(text, sizeof(text), "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)(t[0] << 8 | t[1]), t[2], t[3], t[5],
		 t[6], t[7]);
	return json_string(text);
}

/* Firmware verification alerts (0x8F72 successful, 0x8F1C failed): DLMS data-notification or GBZ. */
static json_t *receipt_json(const struct hfw_gbcs_message *m)
{
	const uint8_t *c = m->content;
	size_t n = m->content_len;
	char when[32];

	if (m->message_code == 0x00CE && n == 59 && c[0] == 0x0F && c[5] == 0x00 && c[6] == 0x02 && c[7] == 0x03 &&
	    c[8] == 0x12 && c[11] == 0x09 && c[12] == 0x0C && c[25] == 0x09 && c[26] == 0x20)
		return json_pack("{s:s,s:o,s:o,s:o}", "form", "DLMS", "alert_code", code_json(c[9] << 8 | c[10]),
				 "timestamp", dlms_time_json(c + 13), "calculated_hash", hex_json(c + 27, 32));
	if (m->message_code == 0x00CF && n == 43 && c[0] == 0x01 && c[1] == 0x09 && c[2] == 0x01 && c[9] == 0x09 &&
	    c[10] == 0x20) {
		/* UTC seconds since 2000-01-01. */
		long long secs = 946684800ll + ((long long)c[5] << 24 | c[6] << 16 | c[7] << 8 | c[8]);
		time_t t = (time_t)secs;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		return json_pack("{s:s,s:o,s:s,s:o}", "form", "GBZ", "alert_code", code_json(c[3] << 8 | c[4]),
				 "timestamp", when, "calculated_hash", hex_json(c + 11, 32));
	}
	return NULL;
}

/* ---- a device's error answers (GBCS: DLMS Data-Access-Result, ZCL status, the use case's own code) ---- */

static const char *dlms_result_name(unsigned v)
{
	static const struct { unsigned v; const char *name; } t[] = {
		{ 0, "success" }, { 1, "hardware-fault" }, { 2, "temporary-failure" }, { 3, "read-write-denied" },
		{ 4, "object-undefined" }, { 9, "object-class-inconsistent" }, { 11, "object-unavailable" },
		{ 12, "type-unmatched" }, { 13, "scope-of-access-violated" }, { 14, "data-block-unavailable" },
		{ 15, "long-get-aborted" }, { 16, "no-long-get-in-progress" }, { 17, "long-set-aborted" },
		{ 18, "no-long-set-in-progress" }, { 19, "data-block-number-invalid" }, { 250, "other-reason" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].v == v)
			return t[i].name;
	return "unknown";
}

static const char *zcl_status_name(unsigned v)
{
	static const struct { unsigned v; const char *name; } t[] = {
		{ 0x01, "FAILURE" }, { 0x7E, "NOT_AUTHORIZED" }, { 0x80, "MALFORMED_COMMAND" },
		{ 0x81, "UNSUP_CLUSTER_COMMAND" }, { 0x82, "UNSUP_GENERAL_COMMAND" }, { 0x85, "INVALID_FIELD" },
		{ 0x86, "UNSUPPORTED_ATTRIBUTE" }, { 0x87, "INVALID_VALUE" }, { 0x88, "READ_ONLY" },
		{ 0x89, "INSUFFICIENT_SPACE" }, { 0x8B, "NOT_FOUND" }, { 0x8D, "INVALID_DATA_TYPE" }, { 0x8F, "WRITE_ONLY" },
		{ 0x94, "TIMEOUT" }, { 0x95, "ABORT" }, { 0x96, "INVALID_IMAGE" }, { 0x98, "NO_IMAGE_AVAILABLE" },
		{ 0xC0, "HARDWARE_FAILURE" }, { 0xC1, "SOFTWARE_FAILURE" }, { 0xC3, "UNSUPPORTED_CLUSTER" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].v == v)
			return t[i].name;
	return "unknown";
}

/* {"outcome": "error", member: "name (code)"}. */
static json_t *error_json(const char *member, const char *name, unsigned code, int hex)
{
	char text[96];

	snprintf(text, sizeof(text), hex ? "%s (0x%02X)" : "%s (%u)", name, code);
	return json_pack("{s:s,s:s}", "outcome", "error", member, text);
}

/*
 * ECS52's answer, a DLMS Access-Response (GBCS 0xDA): long-invoke-id (4),
 * date-time (00, or 0C + 12), no request specification (00), one Data (an
 * octet-string of 4, or null-data 00 when it failed), one response
 * specification: access-response-get (01) + Data-Access-Result.  Or a DLMS
 * exception-response (D8 state-error service-error).  NULL when neither.
 */
static json_t *ecs52_json(const uint8_t *c, size_t n)
{
	const uint8_t *version = NULL;
	size_t p = 5;

	if (n == 3 && c[0] == 0xD8) {
		char text[64];

		snprintf(text, sizeof(text), "exception-response (state-error %u, service-error %u)", c[1], c[2]);
		return json_pack("{s:s,s:s}", "outcome", "error", "dlms_error", text);
	}
	if (n < 12 || c[0] != 0xDA)
		return NULL;
	if (c[p] == 0x0C && n >= p + 13)
		p += 13;
	else if (c[p] == 0x00)
		p += 1;
	else
		return NULL;
	if (n - p < 6 || c[p] != 0x00 || c[p + 1] != 0x01)
		return NULL;
	p += 2;
	if (c[p] == 0x09 && n - p >= 2 + 4 + 3 && c[p + 1] == 0x04) {
		version = c + p + 2;
		p += 6;
	} else if (c[p] == 0x00) {
		p += 1;
	} else {
		return NULL;
	}
	if (n - p != 3 || c[p] != 0x01 || c[p + 1] != 0x01)
		return NULL;
	if (c[p + 2] != 0)
		return error_json("dlms_error", dlms_result_name(c[p + 2]), c[p + 2], 0);
	if (!version)
		return NULL;	/* success, but no version */
	return json_pack("{s:o,s:s}", "firmware_version", hex_json(version, 4), "outcome", "success");
}

/*
 * GCS38's success answer, GBZ as GBCS frames it (the RTDS's
 * GCS38_11.2_SUCCESS_RESPONSE; firmware-protocol.md 6.9): profile 01 09,
 * one component: extended header control, cluster ID (2), GBZ command
 * length (2); then the ZCL frame: frame control (and a manufacturer code
 * when it says so), sequence number, command 01 Read Attributes Response,
 * and one record: attribute ID (2), status 00 SUCCESS, data type 41
 * octet string, length 04, the version.  The version's four octets, or
 * NULL when the content is not exactly that.
 */
static const uint8_t *gcs38_version(const uint8_t *c, size_t n)
{
	const uint8_t *z = c + 8;
	size_t len, hdr;

	if (n < 8 + 3 || c[0] != 0x01 || c[1] != 0x09 || c[2] != 0x01)
		return NULL;
	len = (size_t)c[6] << 8 | c[7];
	hdr = (z[0] & 0x04) ? 5 : 3;
	if (len != n - 8 || len != hdr + 9)
		return NULL;
	z += hdr - 1;	/* the command ID */
	if (z[0] != 0x01 || z[3] != 0x00 || z[4] != 0x41 || z[5] != 0x04)
		return NULL;
	return z + 6;
}

/*
 * GCS38's error answer, GBZ: profile 01 09, one or more components.  Either
 * the sandbox's own minimal form (01 09 01 + attribute id (2) + ZCL status)
 * or GBCS component framing (control, cluster (2), length (2), then the ZCL
 * frame: control, sequence number, command) carrying a Default Response
 * (0B: command id, status) or a Read Attributes Response whose first record
 * failed (01: attribute id (2), status).  NULL when it is none of these.
 */
static json_t *gbz_error_json(const uint8_t *c, size_t n)
{
	size_t len;
	const uint8_t *z;

	if (n < 6 || c[0] != 0x01 || c[1] != 0x09 || c[2] < 1)
		return NULL;
	if (n == 6)
		return c[5] ? error_json("gbz_error", zcl_status_name(c[5]), c[5], 1) : NULL;
	if (n < 3 + 5 + 3)
		return NULL;
	len = (size_t)c[6] << 8 | c[7];
	z = c + 8;
	if (len > n - 8 || len < 5)
		return NULL;
	if (z[2] == 0x0B && len == 5 && z[4])
		return error_json("gbz_error", zcl_status_name(z[4]), z[4], 1);
	if (z[2] == 0x01 && len >= 6 && z[5])
		return error_json("gbz_error", zcl_status_name(z[5]), z[5], 1);
	return NULL;
}

/* An OCTET STRING of at most max octets: its length in *len. */
static const uint8_t *take_upto(struct rd *r, uint8_t tag, size_t max, size_t *len)
{
	if (r->bad || r->n - r->off < 2 || r->p[r->off] != tag || r->p[r->off + 1] > max ||
	    r->n - r->off - 2 < r->p[r->off + 1]) {
		r->bad = 1;
		return NULL;
	}
	*len = r->p[r->off + 1];
	r->off += 2 + *len;
	return r->p + r->off - *len;
}

/*
 * CS08's answer { firmwareVersion OCTET STRING, responseCode INTEGER }:
 * readSuccess (0) with the version, or an error with the device's code
 * (1 readFailure; the version then carries nothing: RTDS sends 00000000).
 */
static json_t *cs08_json(const uint8_t *c, size_t n)
{
	struct rd r = { c, n, 0, 0 }, s;
	const uint8_t *seq = take(&r, 0x30, n >= 2 ? c[1] : 0), *v;
	size_t vlen = 0;
	long code;

	s = (struct rd){ seq, seq ? c[1] : 0, 0, !seq };
	v = take_upto(&s, 0x04, 4, &vlen);
	code = small_int(&s);
	if (s.bad || s.off != s.n || r.off != r.n)
		return NULL;
	if (code != 0)
		return error_json("cs08_error", code == 1 ? "readFailure" : "response code", (unsigned)code, 0);
	if (vlen != 4)
		return NULL;
	return json_pack("{s:o,s:s}", "firmware_version", hex_json(v, 4), "outcome", "readSuccess");
}

/* A CS06 answer with a response code GBCS does not list, or no version: an error, with the code. */
static json_t *cs06_error_json(const uint8_t *c, size_t n)
{
	struct rd r = { c, n, 0, 0 }, s;
	const uint8_t *seq = take(&r, 0x30, n >= 2 ? c[1] : 0);
	size_t vlen = 0;
	long code;

	s = (struct rd){ seq, seq ? c[1] : 0, 0, !seq };
	code = small_int(&s);
	if (s.off < s.n)
		take_upto(&s, 0x04, 4, &vlen);
	if (s.bad || s.off != s.n || r.off != r.n || code == 0)
		return NULL;
	return error_json("cs06_error", hfw_cs06_code_name((int)code), (unsigned)code, 0);
}

/* An alert hanfw has no decoder for: its alert code, when the DLMS or GBZ form shows it. */
static json_t *other_alert_json(const struct hfw_gbcs_message *m)
{
	const uint8_t *c = m->content;
	size_t n = m->content_len;

	if (m->cra != HFW_CRA_ALERT)
		return NULL;
	if (n >= 11 && c[0] == 0x0F && c[5] == 0x00 && c[6] == 0x02 && c[8] == 0x12)
		return json_pack("{s:s,s:o}", "form", "DLMS", "alert_code", code_json(c[9] << 8 | c[10]));
	if (n >= 5 && c[0] == 0x01 && c[1] == 0x09)
		return json_pack("{s:s,s:o}", "form", "GBZ", "alert_code", code_json(c[3] << 8 | c[4]));
	return NULL;
}

/* The content, by message code (and CRA): what hanfw understands of it. */
static int content_json(json_t *o, const struct hfw_gbcs_message *m, struct hfw_error *err)
{
	struct rd r = { m->content, m->content_len, 0, 0 };
	const char *use_case = NULL;
	json_t *content = NULL;
	int ret = 0;

	if (m->message_code == HFW_CS06_MESSAGE_CODE && m->cra == HFW_CRA_COMMAND) {
		struct hfw_cs06_command c;

		if ((ret = hfw_cs06_command_parse(&c, m->content, m->content_len, err)) < 0)
			return ret;
		use_case = "CS06 activate firmware";
		content = json_pack("{s:o,s:I,s:s?}", "manufacturer_image_hash", hex_json(c.hash, 32), "originator_counter",
				    (json_int_t)c.counter, "execution_datetime", c.time[0] ? c.time : NULL);
	} else if (m->message_code == HFW_CS06_MESSAGE_CODE && m->cra == HFW_CRA_RESPONSE) {
		struct hfw_cs06_outcome out;

		use_case = "CS06 activate firmware response";
		if ((ret = hfw_cs06_response_parse(&out, m->content, m->content_len, err)) == 0)
			content = outcome_json(&out);
		else if (!(content = cs06_error_json(m->content, m->content_len)))
			return ret;
		ret = 0;
	} else if (m->message_code == HFW_CS06_ALERT_CODE_MSG) {
		struct hfw_cs06_alert a;

		if ((ret = hfw_cs06_alert_parse(&a, m->content, m->content_len, err)) < 0)
			return ret;
		use_case = "CS06 future-dated activation alert";
		content = json_pack("{s:o,s:s,s:I,s:o}", "alert_code", code_json(a.alert_code), "execution_datetime", a.time,
				    "originator_counter", (json_int_t)a.counter, "execution_outcome", outcome_json(&a.outcome));
	} else if ((m->message_code == 0x0129 || m->message_code == 0x012B) && m->cra == HFW_CRA_ALERT) {
		/* CS09 PPMID firmware activation alert (0x012B in RTDS; 0x0129 tolerated). */
		struct rd s;
		const uint8_t *seq = take(&r, 0x30, r.n >= 2 ? r.p[1] : 0);
		long code, result;
		const uint8_t *t, *v;

		s = (struct rd){ seq, seq ? r.p[1] : 0, 0, !seq };
		code = small_int(&s);
		t = take(&s, 0x18, HFW_GENTIME_LEN);
		v = take(&s, 0x04, 4);
		result = small_int(&s);
		if (s.bad || s.off != s.n || r.off != r.n)
			return hfw_error_set(err, HFW_EINPUT, "CS09 alert content is not the shape GBCS gives it");
		use_case = "CS09 PPMID firmware activation alert";
		content = json_pack("{s:o,s:o,s:o,s:s}", "alert_code", code_json(code), "timestamp", time_json(t),
				    "firmware_version", hex_json(v, 4), "outcome", result == 0 ? "ActivationSuccess" : "ActivationFailure");
	} else if (m->message_code == 0x0129 && m->cra == HFW_CRA_RESPONSE) {
		/* CS08 read PPMID/HCALCS firmware version: { firmwareVersion, responseCode }. */
		if (!(content = cs08_json(m->content, m->content_len)))
			return hfw_error_set(err, HFW_EINPUT, "CS08 response content is not the shape GBCS gives it");
		use_case = "CS08 read firmware version response";
	} else if (m->message_code == 0x0128) {
		/* CCS08 firmware transfer alert from the comms hub. */
		static const char *const outcomes[] = { "FileTransferSuccess", "FirmwareImageDiscarded",
							"HardwareVersionMismatch", "FileTransferFailure" };
		const uint8_t *seq = take(&r, 0x30, r.n >= 2 ? r.p[1] : 0), *t, *e, *v;
		struct rd s = { seq, seq ? r.p[1] : 0, 0, !seq };
		long code, result;

		code = small_int(&s);
		t = take(&s, 0x18, HFW_GENTIME_LEN);
		e = take(&s, 0x04, 8);
		v = take(&s, 0x04, 4);
		result = small_int(&s);
		if (s.bad || s.off != s.n || r.off != r.n || result < 0 || result > 3)
			return hfw_error_set(err, HFW_EINPUT, "CCS08 alert content is not the shape GBCS gives it");
		use_case = "CCS08 firmware transfer alert";
		content = json_pack("{s:o,s:o,s:o,s:o,s:s}", "alert_code", code_json(code), "timestamp", time_json(t),
				    "device", eui_json(e), "firmware_version", hex_json(v, 4), "outcome", outcomes[result]);
	} else if (m->message_code == 0x0059 && m->cra == HFW_CRA_RESPONSE) {
		/* ECS52 read ESME/CHF firmware version: DLMS access-response, an octet-string of 4 or an error. */
		if (!(content = ecs52_json(m->content, m->content_len)))
			return hfw_error_set(err, HFW_EINPUT, "ECS52 response content is not the DLMS shape GBCS gives it");
		use_case = "ECS52 read firmware version response";
	} else if (m->message_code == 0x0084 && m->cra == HFW_CRA_RESPONSE) {
		/* GCS38 read GSME firmware version: a GBZ Read Attributes Response, the version a ZCL octet string. */
		const uint8_t *c = m->content, *v;
		size_t n = m->content_len;

		use_case = "GCS38 read firmware version response";
		if ((v = gcs38_version(c, n)))
			content = json_pack("{s:o,s:s}", "firmware_version", hex_json(v, 4), "outcome", "success");
		else if (!(content = gbz_error_json(c, n)))
			return hfw_error_set(err, HFW_EINPUT, "GCS38 response content is not the GBZ shape GBCS gives it");
	} else if ((m->message_code == 0x00CE || m->message_code == 0x00CF) && m->cra == HFW_CRA_ALERT) {
		if (!(content = receipt_json(m)))
			return hfw_error_set(err, HFW_EINPUT, "firmware verification alert content is not the shape GBCS gives it");
		use_case = "firmware verification alert";
	}
	if (use_case) {
		json_object_set_new(o, "use_case", json_string(use_case));
		json_object_set_new(o, "content", content);
	} else {
		/* A use case hanfw has no decoder for: its header (above), its alert code if it shows, the bytes. */
		json_object_set_new(o, "use_case", json_string("not decoded by hanfw"));
		if ((content = other_alert_json(m)))
			json_object_set_new(o, "content", content);
		json_object_set_new(o, "content_hex", hex_json(m->content, m->content_len));
	}
	return 0;
}

int hfw_decode_gbcs(json_t **out, const uint8_t *buf, size_t len, const hfw_trust *trust, struct hfw_error *err)
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
	/* The originator's own signature, when its certificate is trusted. */
	if (m.sig == HFW_GBCS_SIG_PRESENT) {
		char eui[HFW_EUI_TEXT_MAX];
		hfw_cert *cert = NULL;
		struct hfw_error verr = HFW_ERROR_INIT;
		struct hfw_eui e;
		int found, valid = 0;

		memcpy(e.b, m.originator, 8);
		hfw_eui_format(eui, &e);
		/* A certificate file for the originator that is not its certificate fails the signature: never "not checked". */
		if ((ret = hfw_trust_device_cert(&cert, trust, eui, &verr)) == HFW_ENOMEM) {
			json_decref(o);
			return hfw_error_oom(err);
		}
		found = ret < 0 || cert;
		valid = cert && hfw_gbcs_verify(&m, inner, cert, &verr) == 0;
		hfw_cert_free(cert);
		json_object_set_new(o, "signature", json_string(!found ? "present, not checked (no certificate for the originator)"
								 : valid ? "valid" : "INVALID"));
		if (found && !valid && ret < 0)
			json_object_set_new(o, "signature_problem", json_string(verr.text));
	}
	*out = o;
	return 0;
}

/* A GBCSPayload element's text, decoded. */
static json_t *payload_json(xmlNodePtr n, const hfw_trust *trust, struct hfw_error *err)
{
	xmlChar *text = n ? xmlNodeGetContent(n) : NULL;
	uint8_t *bytes = NULL;
	size_t len;
	json_t *j = NULL;

	if (text && hfw_base64_decode(&bytes, &len, (const char *)text, strlen((const char *)text), "GBCSPayload", err) == 0 &&
	    hfw_decode_gbcs(&j, bytes, len, trust, err) < 0)
		j = json_pack("{s:s}", "error", err->text);
	xmlFree(text);
	free(bytes);
	return j;
}

/* Any element as JSON by name: text, or an object of its children (GBCSPayload decoded). */
static json_t *element_json(xmlNodePtr n, const hfw_trust *trust, struct hfw_error *err)
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
				    !strcmp((const char *)c->name, "GBCSPayload") ? payload_json(c, trust, err)
										   : element_json(c, trust, err));
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

static const char *jstr(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/*
 * What a DCC alert that concerns a campaign says, by element name (the
 * N-codes are not public): "dcc_event" {event, device, reason | breach,
 * request_id, quarantine_event_ref}.  event is left_campaign (reason
 * change_of_supplier, suspended, decommissioned_or_withdrawn,
 * removed_from_inventory, chf_decommissioned, ppmid_removed), restored,
 * or request_quarantined.  NULL for other alerts.
 */
static json_t *dcc_event_json(const json_t *alert)
{
	const json_t *e, *v;
	const char *key;

	if ((e = json_object_get(alert, "QuarantinedRequest"))) {
		json_object_foreach((json_t *)e, key, v)
			return json_pack("{s:s,s:s,s:s?,s:s?}", "event", "request_quarantined", "breach", key, "request_id",
					 jstr(v, "RequestID"), "quarantine_event_ref", jstr(v, "QuarantineEventRef"));
		return NULL;
	}
	if ((e = json_object_get(json_object_get(alert, "ChangeOfSupplier"), "DeviceChangeOfSupplier")))
		return json_pack("{s:s,s:s?,s:s,s:s?}", "event", "left_campaign", "device", jstr(e, "DeviceID"), "reason",
				 "change_of_supplier", "device_type", jstr(e, "DeviceType"));
	if ((e = json_object_get(alert, "PPMIDRemoval")))
		return json_pack("{s:s,s:s?,s:s,s:s?}", "event", "left_campaign", "device", jstr(e, "PPMIDDeviceID"), "reason",
				 "ppmid_removed", "comms_hub", jstr(e, "CHFDeviceID"));
	if ((e = json_object_get(alert, "DeviceStatusChangeEvent"))) {
		static const struct { const char *element, *reason; } map[] = {
			{ "DeviceSuspended", "suspended" },
			{ "MeterDecommissioningOrWithdrawal", "decommissioned_or_withdrawn" },
			{ "DeviceRemovedFromInventory", "removed_from_inventory" },
			{ "CHFDecommissioning", "chf_decommissioned" },
		};
		const json_t *change = json_object_get(e, "DeviceStatusChange");
		size_t i;

		if (json_object_get(change, "DeviceRestored"))
			return json_pack("{s:s,s:s?}", "event", "restored", "device", jstr(e, "DeviceID"));
		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (json_object_get(change, map[i].element))
				return json_pack("{s:s,s:s?,s:s}", "event", "left_campaign", "device", jstr(e, "DeviceID"), "reason",
						 map[i].reason);
	}
	return NULL;
}

int hfw_decode_response(json_t **out, const uint8_t *xml, size_t len, const hfw_trust *trust,
			struct hfw_error *err)
{
	struct hfw_verify_options vo = { trust, 1, 0, NULL, NULL, 0 };
	struct hfw_verify_result r;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, header, msg;
	json_t *o = NULL;
	char rid[128], resp[128], code[32], when[64];
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
	if (!(o = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?}", "request_id", header_text(header, "RequestID", rid, sizeof(rid)),
			    "response_id", header_text(header, "ResponseID", resp, sizeof(resp)), "response_code",
			    code[0] ? code : NULL, "meaning", hfw_response_code_meaning(code), "response_datetime",
			    header_text(header, "ResponseDateTime", when, sizeof(when))))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	json_object_set_new(o, "signature", !trust ? json_string("not checked")
					    : r.is_signed ? json_pack("{s:s,s:s}", "signer", r.signer.eui, "serial", r.signer.serial)
							  : json_string("unsigned"));
	msg = hfw_xml_first_element(hfw_xml_child(root, HFW_NS_DUIS, "Body"));
	if (msg) {
		json_object_set_new(o, "body", json_string((const char *)msg->name));
		json_object_set_new(o, "message", element_json(msg, trust, err));
		if (hfw_xml_is(msg, HFW_NS_DUIS, "DCCAlertMessage")) {
			json_t *ev = dcc_event_json(json_object_get(json_object_get(o, "message"), "DCCAlert"));

			if (ev)
				json_object_set_new(o, "dcc_event", ev);
		}
	}
	*out = o;
	o = NULL;
	ret = 0;
out:
	json_decref(o);
	xmlFreeDoc(doc);
	return ret;
}
