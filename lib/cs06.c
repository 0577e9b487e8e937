/* cs06.c - GBCS CS06, Activate Firmware, in DER (see cs06.h). */
#include "cs06.h"
#include "clock.h"

#include <stdio.h>
#include <string.h>

#include "gbcs.h"

enum { TAG_INTEGER = 0x02, TAG_OCTETS = 0x04, TAG_NULL = 0x05, TAG_GENTIME = 0x18, TAG_SEQUENCE = 0x30 };

const char *hfw_cs06_code_name(int code)
{
	switch (code) {
	case HFW_CS06_SUCCESS: return "success";
	case HFW_CS06_NO_IMAGE_HELD: return "noImageHeld";
	case HFW_CS06_HASH_MISMATCH: return "hashMismatch";
	case HFW_CS06_ACTIVATION_FAILURE: return "activationFailure";
	default: return "unknown";
	}
}

/* ---- encoding (lengths here are always below 128) ---- */

static void put_tlv(uint8_t *out, size_t *n, uint8_t tag, const void *v, size_t len)
{
	out[(*n)++] = tag;
	out[(*n)++] = (uint8_t)len;
	memcpy(out + *n, v, len);
	*n += len;
}

/* A non-negative INTEGER, minimal, with a leading 00 when the top bit is set. */
static void put_uint(uint8_t *out, size_t *n, uint64_t v)
{
	uint8_t b[9];
	size_t k = 0, i;
	int started = 0;

	for (i = 0; i < 8; i++) {
		uint8_t byte = (uint8_t)(v >> (56 - 8 * i));

		if (!started && byte == 0 && i < 7)
			continue;
		if (!started && (byte & 0x80))
			b[k++] = 0;
		started = 1;
		b[k++] = byte;
	}
	put_tlv(out, n, TAG_INTEGER, b, k);
}

static void put_outcome(uint8_t *out, size_t *n, const struct hfw_cs06_outcome *o)
{
	uint8_t inner[16];
	size_t k = 0;

	put_uint(inner, &k, (uint64_t)o->code);
	put_tlv(inner, &k, TAG_OCTETS, o->version, 4);
	put_tlv(out, n, TAG_SEQUENCE, inner, k);
}

void hfw_cs06_command_encode(uint8_t *out, size_t *len, const struct hfw_cs06_command *c)
{
	uint8_t inner[HFW_CS06_MAX];
	size_t k = 0;

	put_tlv(inner, &k, TAG_OCTETS, c->hash, 32);
	put_uint(inner, &k, c->counter);
	if (c->time[0])
		put_tlv(inner, &k, TAG_GENTIME, c->time, HFW_GENTIME_LEN);
	*len = 0;
	put_tlv(out, len, TAG_SEQUENCE, inner, k);
}

void hfw_cs06_response_encode(uint8_t *out, size_t *len, const struct hfw_cs06_outcome *o)
{
	*len = 0;
	if (o->accepted) {
		out[(*len)++] = TAG_NULL;
		out[(*len)++] = 0;
		return;
	}
	put_outcome(out, len, o);
}

void hfw_cs06_alert_encode(uint8_t *out, size_t *len, const struct hfw_cs06_alert *a)
{
	uint8_t inner[HFW_CS06_MAX];
	size_t k = 0;

	put_uint(inner, &k, a->alert_code);
	put_tlv(inner, &k, TAG_GENTIME, a->time, HFW_GENTIME_LEN);
	put_uint(inner, &k, a->counter);
	put_outcome(inner, &k, &a->outcome);
	*len = 0;
	put_tlv(out, len, TAG_SEQUENCE, inner, k);
}

/* ---- parsing ---- */

struct der {
	const uint8_t *p;
	size_t len, off;
};

/* The next element, which must have tag; DER lengths only (minimal, definite). */
static int next(struct der *d, uint8_t tag, struct der *value, const char *what, struct hfw_error *err)
{
	size_t n, used = 1;

	if (d->len - d->off < 2)
		return hfw_error_set(err, HFW_EINPUT, "CS06 %s is missing", what);
	if (d->p[d->off] != tag)
		return hfw_error_set(err, HFW_EINPUT, "CS06 %s has tag 0x%02X, expected 0x%02X", what, d->p[d->off], tag);
	n = d->p[d->off + 1];
	if (n == 0x81 && d->len - d->off >= 3 && d->p[d->off + 2] >= 0x80) {
		n = d->p[d->off + 2];
		used = 2;
	} else if (n >= 0x80) {
		return hfw_error_set(err, HFW_EINPUT, "CS06 %s has a length that is not DER", what);
	}
	if (d->len - d->off - 1 - used < n)
		return hfw_error_set(err, HFW_EINPUT, "CS06 %s is truncated", what);
	value->p = d->p + d->off + 1 + used;
	value->len = n;
	value->off = 0;
	d->off += 1 + used + n;
	return 0;
}

static int end(const struct der *d, const char *what, struct hfw_error *err)
{
	if (d->off != d->len)
		return hfw_error_set(err, HFW_EINPUT, "CS06 %s has %zu octets too many", what, d->len - d->off);
	return 0;
}

static int get_uint(struct der *d, uint64_t *v, const char *what, struct hfw_error *err)
{
	struct der x;
	size_t i;
	int ret;

	if ((ret = next(d, TAG_INTEGER, &x, what, err)) < 0)
		return ret;
	if (x.len == 0 || (x.p[0] & 0x80))
		return hfw_error_set(err, HFW_EINPUT, "CS06 %s is not a non-negative integer", what);
	if (x.len > 1 && x.p[0] == 0 && !(x.p[1] & 0x80))
		return hfw_error_set(err, HFW_EINPUT, "CS06 %s is not minimally encoded", what);
	if (x.len > 9 || (x.len == 9 && x.p[0] != 0))
		return hfw_error_set(err, HFW_EINPUT, "CS06 %s is larger than 64 bits", what);
	*v = 0;
	for (i = 0; i < x.len; i++)
		*v = *v << 8 | x.p[i];
	return 0;
}

static int digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int get_time(struct der *d, char out[HFW_GENTIME_LEN + 1], const char *what, struct hfw_error *err)
{
	struct der x;
	int64_t ignored;
	int ret;

	if ((ret = next(d, TAG_GENTIME, &x, what, err)) < 0)
		return ret;
	if (x.len != HFW_GENTIME_LEN || !digits((const char *)x.p, 14) || x.p[14] != 'Z')
		return hfw_error_set(err, HFW_EINPUT, "CS06 %s is not a time of the form YYYYMMDDHHMMSSZ", what);
	memcpy(out, x.p, HFW_GENTIME_LEN);
	out[HFW_GENTIME_LEN] = '\0';
	if (strcmp(out, HFW_CS06_CANCEL_GBCS) != 0 && hfw_gentime_to_unix(&ignored, out, err) < 0)
		return hfw_error_set(err, HFW_EINPUT, "CS06 %s '%s' is not a valid time", what, out);
	return 0;
}

static int get_outcome(struct der *d, struct hfw_cs06_outcome *o, struct hfw_error *err)
{
	struct der s, v;
	uint64_t code;
	int ret;

	memset(o, 0, sizeof(*o));
	if ((ret = next(d, TAG_SEQUENCE, &s, "execution outcome", err)) < 0 ||
	    (ret = get_uint(&s, &code, "response code", err)) < 0 ||
	    (ret = next(&s, TAG_OCTETS, &v, "firmware version", err)) < 0 ||
	    (ret = end(&s, "execution outcome", err)) < 0)
		return ret;
	if (code > HFW_CS06_ACTIVATION_FAILURE)
		return hfw_error_set(err, HFW_EINPUT, "CS06 response code %llu is not one GBCS defines",
				     (unsigned long long)code);
	if (v.len != 4)
		return hfw_error_set(err, HFW_EINPUT, "CS06 firmware version is %zu octets, expected 4", v.len);
	o->code = (int)code;
	memcpy(o->version, v.p, 4);
	return 0;
}

int hfw_cs06_command_parse(struct hfw_cs06_command *out, const uint8_t *p, size_t len, struct hfw_error *err)
{
	struct der d = { p, len, 0 }, s, h;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = next(&d, TAG_SEQUENCE, &s, "command", err)) < 0 || (ret = end(&d, "command", err)) < 0 ||
	    (ret = next(&s, TAG_OCTETS, &h, "manufacturer image hash", err)) < 0)
		return ret;
	if (h.len != 32)
		return hfw_error_set(err, HFW_EINPUT, "CS06 manufacturer image hash is %zu octets, expected 32", h.len);
	memcpy(out->hash, h.p, 32);
	if ((ret = get_uint(&s, &out->counter, "originator counter", err)) < 0)
		return ret;
	if (s.off < s.len && (ret = get_time(&s, out->time, "execution date-time", err)) < 0)
		return ret;
	return end(&s, "command", err);
}

int hfw_cs06_response_parse(struct hfw_cs06_outcome *out, const uint8_t *p, size_t len, struct hfw_error *err)
{
	struct der d = { p, len, 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if (len == 2 && p[0] == TAG_NULL && p[1] == 0) {
		out->accepted = 1;
		return 0;
	}
	if ((ret = get_outcome(&d, out, err)) < 0)
		return ret;
	return end(&d, "response", err);
}

int hfw_cs06_alert_parse(struct hfw_cs06_alert *out, const uint8_t *p, size_t len, struct hfw_error *err)
{
	struct der d = { p, len, 0 }, s;
	uint64_t code;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = next(&d, TAG_SEQUENCE, &s, "alert", err)) < 0 || (ret = end(&d, "alert", err)) < 0 ||
	    (ret = get_uint(&s, &code, "alert code", err)) < 0)
		return ret;
	if (code != HFW_CS06_ALERT_SUCCESS && code != HFW_CS06_ALERT_FAILURE)
		return hfw_error_set(err, HFW_EINPUT, "CS06 alert code 0x%llX is neither 8F66 nor 8F67",
				     (unsigned long long)code);
	out->alert_code = (uint32_t)code;
	if ((ret = get_time(&s, out->time, "execution date-time", err)) < 0 ||
	    (ret = get_uint(&s, &out->counter, "originator counter", err)) < 0 ||
	    (ret = get_outcome(&s, &out->outcome, err)) < 0)
		return ret;
	return end(&s, "alert", err);
}

/* ---- times ---- */

static int valid_date(int y, int m, int d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (m == 2 && leap);
}

static int num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static void days_to_civil(int64_t z, int *y, int *m, int *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

int hfw_gentime_to_unix(int64_t *out, const char *t, struct hfw_error *err)
{
	int y, mo, d, h, mi, s;

	if (strlen(t) != HFW_GENTIME_LEN || !digits(t, 14) || t[14] != 'Z')
		return hfw_error_set(err, HFW_EINPUT, "'%s' is not a time of the form YYYYMMDDHHMMSSZ", t);
	y = num(t, 4), mo = num(t + 4, 2), d = num(t + 6, 2), h = num(t + 8, 2), mi = num(t + 10, 2), s = num(t + 12, 2);
	if (!valid_date(y, mo, d) || h > 23 || mi > 59 || s > 59)
		return hfw_error_set(err, HFW_EINPUT, "'%s' is not a valid date and time", t);
	*out = hfw_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

int hfw_cs06_time_from_duis(char out[HFW_GENTIME_LEN + 1], int64_t *unix_s, const char *t,
			    struct hfw_error *err)
{
	int y, mo, d, h, mi, s, off = 0;
	size_t n = strlen(t), i = 19;
	int64_t when;

	if (n < 19 || !digits(t, 4) || t[4] != '-' || !digits(t + 5, 2) || t[7] != '-' || !digits(t + 8, 2) ||
	    t[10] != 'T' || !digits(t + 11, 2) || t[13] != ':' || !digits(t + 14, 2) || t[16] != ':' ||
	    !digits(t + 17, 2))
		goto bad;
	y = num(t, 4), mo = num(t + 5, 2), d = num(t + 8, 2), h = num(t + 11, 2), mi = num(t + 14, 2), s = num(t + 17, 2);
	if (!valid_date(y, mo, d) || h > 23 || mi > 59 || s > 59)
		goto bad;
	if (t[i] == '.') {
		for (i++; i < n && t[i] >= '0' && t[i] <= '9'; i++)
			if (t[i] != '0')
				return hfw_error_set(err, HFW_EINPUT,
						     "execution time '%s' has a fraction of a second: GBCS times are whole seconds", t);
		if (t[i - 1] == '.')
			goto bad;
	}
	if (t[i] == 'Z' && i + 1 == n) {
		off = 0;
	} else if ((t[i] == '+' || t[i] == '-') && i + 6 == n && digits(t + i + 1, 2) && t[i + 3] == ':' &&
		   digits(t + i + 4, 2) && num(t + i + 1, 2) <= 14 && num(t + i + 4, 2) <= 59) {
		off = (num(t + i + 1, 2) * 60 + num(t + i + 4, 2)) * 60 * (t[i] == '-' ? -1 : 1);
	} else {
		return hfw_error_set(err, HFW_EINPUT, "execution time '%s' has no time zone: end it with Z or +HH:MM", t);
	}
	when = hfw_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s - off;
	if (unix_s)
		*unix_s = when;
	if (when == hfw_days_from_civil(3000, 12, 31) * 86400) {
		memcpy(out, HFW_CS06_CANCEL_GBCS, HFW_GENTIME_LEN + 1);
		return 0;
	}
	days_to_civil(when >= 0 ? when / 86400 : (when - 86399) / 86400, &y, &mo, &d);
	if (y < 1 || y > 9999)
		goto bad;
	{
		int64_t sec = when - hfw_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400;
		char text[64];

		snprintf(text, sizeof(text), "%04d%02d%02d%02d%02d%02dZ", y, mo, d, (int)(sec / 3600),
			 (int)(sec / 60 % 60), (int)(sec % 60));
		memcpy(out, text, HFW_GENTIME_LEN + 1);
	}
	return 0;
bad:
	return hfw_error_set(err, HFW_EINPUT, "execution time '%.64s' is not an ISO 8601 date-time such as "
			     "2030-01-15T09:00:00Z", t);
}

/* ---- the check before signing ---- */

static int differs(struct hfw_error *err, const char *what, const struct hfw_eui *got, const struct hfw_eui *want)
{
	char g[HFW_EUI_TEXT_MAX], w[HFW_EUI_TEXT_MAX];

	hfw_eui_format(g, got);
	hfw_eui_format(w, want);
	return hfw_error_set(err, HFW_EVERIFY, "pre-command %s is %s, not %s", what, g, w);
}

int hfw_cs06_check_precommand(const uint8_t *pre, size_t len, const struct hfw_precommand_expect *e,
			      struct hfw_error *err)
{
	struct hfw_gbcs_message m;
	struct hfw_cs06_command got, want;
	struct hfw_eui who;
	uint8_t expect[HFW_CS06_MAX];
	size_t elen;
	int ret;

	if ((ret = hfw_gbcs_parse(&m, pre, len, err)) < 0)
		return hfw_error_set(err, HFW_EVERIFY, "pre-command is not a GBCS message: %s", err->text);
	if (m.cra != HFW_CRA_COMMAND)
		return hfw_error_set(err, HFW_EVERIFY, "pre-command CRA flag is %u, not a command", m.cra);
	memcpy(who.b, m.originator, 8);
	if (memcmp(m.originator, e->originator.b, 8) != 0)
		return differs(err, "originator", &who, &e->originator);
	memcpy(who.b, m.recipient, 8);
	if (memcmp(m.recipient, e->recipient.b, 8) != 0)
		return differs(err, "recipient", &who, &e->recipient);
	if (m.counter != e->counter)
		return hfw_error_set(err, HFW_EVERIFY, "pre-command originator counter is %llu, not %llu",
				     (unsigned long long)m.counter, (unsigned long long)e->counter);
	if (m.other_len != 2 || m.message_code != HFW_CS06_MESSAGE_CODE)
		return hfw_error_set(err, HFW_EVERIFY,
				     "pre-command message code is 0x%04X (%zu octets of other-information), not CS06 0x0012",
				     m.message_code, m.other_len);
	if (m.has_datetime)
		return hfw_error_set(err, HFW_EVERIFY, "pre-command header carries a date-time, which CS06 has not");
	if (m.sig == HFW_GBCS_SIG_PRESENT)
		return hfw_error_set(err, HFW_EVERIFY, "pre-command is already signed");
	if ((ret = hfw_cs06_command_parse(&got, m.content, m.content_len, err)) < 0)
		return hfw_error_set(err, HFW_EVERIFY, "pre-command content: %s", err->text);
	if (memcmp(got.hash, e->hash, 32) != 0)
		return hfw_error_set(err, HFW_EVERIFY, "pre-command activates another image (hash %02X%02X%02X%02X...)",
				     got.hash[0], got.hash[1], got.hash[2], got.hash[3]);
	if (got.counter != e->counter)
		return hfw_error_set(err, HFW_EVERIFY, "pre-command content counter is %llu, not %llu",
				     (unsigned long long)got.counter, (unsigned long long)e->counter);
	if (strcmp(got.time, e->time ? e->time : "") != 0)
		return hfw_error_set(err, HFW_EVERIFY, "pre-command execution time is '%s', not '%s'",
				     got.time[0] ? got.time : "immediate", e->time ? e->time : "immediate");
	/* Same fields; the bytes must be the one DER encoding of them too. */
	memset(&want, 0, sizeof(want));
	memcpy(want.hash, e->hash, 32);
	want.counter = e->counter;
	if (e->time)
		memcpy(want.time, e->time, HFW_GENTIME_LEN + 1);
	hfw_cs06_command_encode(expect, &elen, &want);
	if (elen != m.content_len || memcmp(expect, m.content, elen) != 0)
		return hfw_error_set(err, HFW_EVERIFY, "pre-command content is not the CS06 command asked for");
	return 0;
}
