/* supplier.c - the supplier's own device records, CSV or JSON (see supplier.h). */
#include "supplier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fileio.h"

#define CSV_HEADER "eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy"
#define NFIELDS 8

/* Where a record came from, for messages: "'f' line 3" or "'f' device 3". */
struct where {
	const char *what;
	const char *unit;
	size_t at;
};

static int bad(struct hfw_error *err, const struct where *w, const char *field, const char *why)
{
	return hfw_error_set(err, HFW_EINPUT, "%s %s %zu: %s %s", w->what, w->unit, w->at, field, why);
}

/* A 0/1 flag. */
static int flag(int *out, const char *v, const struct where *w, const char *field, struct hfw_error *err)
{
	if (!strcmp(v, "0") || !strcmp(v, ""))
		*out = 0;
	else if (!strcmp(v, "1"))
		*out = 1;
	else {
		char msg[96];

		snprintf(msg, sizeof(msg), "'%.40s' is not 0 or 1", v);
		return bad(err, w, field, msg);
	}
	return 0;
}

/* Check and set one field (by column) of r from text v. */
static int set_field(struct hfw_supplier_record *r, int col, const char *v, const struct where *w,
		     struct hfw_error *err)
{
	struct hfw_error ignored = HFW_ERROR_INIT;
	char msg[128];

	switch (col) {
	case 0:
		if (hfw_eui_parse(&r->eui, v, "eui", &ignored) < 0) {
			snprintf(msg, sizeof(msg), "'%.40s' is not an EUI like 00-DB-12-34-56-78-90-A1", v);
			return bad(err, w, "eui", msg);
		}
		return 0;
	case 1:
		if (!v[0])
			r->bridge = 0;
		else if ((v[0] == 'B' || v[0] == 'b') && v[1] >= '1' && v[1] <= '4' && !v[2])
			r->bridge = v[1] - '0';
		else {
			snprintf(msg, sizeof(msg), "'%.40s' is not empty or B1..B4", v);
			return bad(err, w, "bridge", msg);
		}
		return 0;
	case 2:
		if (strlen(v) > HFW_SUPPLIER_SITE_MAX) {
			snprintf(msg, sizeof(msg), "is longer than %d characters", HFW_SUPPLIER_SITE_MAX);
			return bad(err, w, "site", msg);
		}
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return bad(err, w, "site", "holds a control character");
		snprintf(r->site, sizeof(r->site), "%s", v);
		return 0;
	case 3:
		if (v[0] && hfw_install_type_parse(&r->installation, v, &ignored) < 0) {
			snprintf(msg, sizeof(msg), "'%.40s' is not empty, FOC, IOC, MOC or Secure", v);
			return bad(err, w, "installation", msg);
		}
		return 0;
	case 4:
		return flag(&r->third_party, v, w, "third_party", err);
	case 5: {
		char *end;
		unsigned long n;

		if (!v[0])
			return 0;
		n = (v[0] >= '0' && v[0] <= '9') ? strtoul(v, &end, 10) : 70000;
		if (n > 65535 || *end || strlen(v) > 5) {
			snprintf(msg, sizeof(msg), "'%.40s' is not empty or a number 0..65535", v);
			return bad(err, w, "hardware_version", msg);
		}
		r->has_hardware_version = 1;
		r->hardware_version = (uint16_t)n;
		return 0;
	}
	case 6:
		if (v[0] && (strcmp(v, "A") && strcmp(v, "B"))) {
			snprintf(msg, sizeof(msg), "'%.40s' is not empty, A or B", v);
			return bad(err, w, "althan_option", msg);
		}
		r->althan_option = !v[0] ? HFW_ALTHAN_NONE : v[0] == 'A' ? HFW_ALTHAN_A : HFW_ALTHAN_B;
		return 0;
	default:
		return flag(&r->sleepy, v, w, "sleepy", err);
	}
}

static int push(struct hfw_supplier *s, struct hfw_supplier_record **out, struct hfw_error *err)
{
	if (s->n == HFW_SUPPLIER_MAX_RECORDS)
		return hfw_error_set(err, HFW_ELIMIT, "more than %u supplier records", HFW_SUPPLIER_MAX_RECORDS);
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		struct hfw_supplier_record *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return hfw_error_oom(err);
		s->v = v;
		s->cap = cap;
	}
	*out = &s->v[s->n++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static int parse_csv(struct hfw_supplier *s, const char *text, size_t len, const char *what, struct hfw_error *err)
{
	struct where w = { what, "line", 1 };
	const char *p = text, *end = text + len;
	int ret;

	for (; p < end; w.at++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q;
		size_t n = (size_t)((eol ? eol : end) - p);
		char line[512], *fields[NFIELDS], *f;
		int col;

		if (n && p[n - 1] == '\r')
			n--;
		if (n >= sizeof(line))
			return hfw_error_set(err, HFW_ELIMIT, "%s line %zu: longer than %zu characters", what, w.at,
					     sizeof(line) - 1);
		memcpy(line, p, n);
		line[n] = '\0';
		p = eol ? eol + 1 : end;
		if (memchr(line, '\0', n))
			return hfw_error_set(err, HFW_EINPUT, "%s line %zu: holds a NUL byte", what, w.at);
		if (w.at == 1) {
			if (strcmp(line, CSV_HEADER) != 0)
				return hfw_error_set(err, HFW_EINPUT, "%s line 1: the header must be exactly '%s'", what,
						     CSV_HEADER);
			continue;
		}
		if (!n)
			continue;	/* a blank line */
		if ((q = strchr(line, '"')))
			return hfw_error_set(err, HFW_EINPUT, "%s line %zu: quoted fields are not supported (no field holds a comma)",
					     what, w.at);
		for (col = 0, f = line; col < NFIELDS; col++) {
			fields[col] = f;
			if (!(f = strchr(f, ','))) {
				col++;
				break;
			}
			*f++ = '\0';
		}
		if (col != NFIELDS || f)
			return hfw_error_set(err, HFW_EINPUT, "%s line %zu: %s fields, not %d", what, w.at,
					     f ? "more than 8" : "fewer", NFIELDS);
		{
			struct hfw_supplier_record *r;

			if ((ret = push(s, &r, err)) < 0)
				return ret;
			r->line = w.at;
			for (col = 0; col < NFIELDS; col++)
				if ((ret = set_field(r, col, fields[col], &w, err)) < 0)
					return ret;
		}
	}
	if (w.at == 1)
		return hfw_error_set(err, HFW_EINPUT, "%s is empty: the header '%s' is missing", what, CSV_HEADER);
	return 0;
}

static const char *const members[NFIELDS] = {
	"eui", "bridge", "site", "installation", "third_party", "hardware_version", "althan_option", "sleepy",
};

static int parse_json(struct hfw_supplier *s, const char *text, size_t len, const char *what, struct hfw_error *err)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *devs, *d, *v;
	struct where w = { what, "device", 0 };
	const char *key;
	size_t i;
	int ret = 0;

	s->json = 1;
	if (!root)
		return hfw_error_set(err, HFW_EINPUT, "%s line %d: not JSON: %s", what, je.line, je.text);
	json_object_foreach(root, key, v)
		if (strcmp(key, "format") && strcmp(key, "devices")) {
			ret = hfw_error_set(err, HFW_EINPUT, "%s: unknown member '%.40s'", what, key);
			goto out;
		}
	if (!json_is_string(v = json_object_get(root, "format")) || strcmp(json_string_value(v), HFW_SUPPLIER_FORMAT)) {
		ret = hfw_error_set(err, HFW_EINPUT, "%s: format must be \"%s\"", what, HFW_SUPPLIER_FORMAT);
		goto out;
	}
	if (!json_is_array(devs = json_object_get(root, "devices"))) {
		ret = hfw_error_set(err, HFW_EINPUT, "%s: 'devices' must be an array", what);
		goto out;
	}
	json_array_foreach(devs, i, d) {
		struct hfw_supplier_record *r;
		int col;

		w.at = i + 1;
		if (!json_is_object(d)) {
			ret = hfw_error_set(err, HFW_EINPUT, "%s device %zu: not an object", what, w.at);
			goto out;
		}
		if ((ret = push(s, &r, err)) < 0)
			goto out;
		r->line = w.at;
		json_object_foreach(d, key, v) {
			char num[32];
			const char *text_v;

			for (col = 0; col < NFIELDS && strcmp(key, members[col]); col++)
				;
			if (col == NFIELDS) {
				ret = hfw_error_set(err, HFW_EINPUT, "%s device %zu: unknown member '%.40s'", what, w.at, key);
				goto out;
			}
			/* Flags and the hardware version may be numbers (or true/false); everything may be a string. */
			if (json_is_string(v))
				text_v = json_string_value(v);
			else if (json_is_null(v))
				text_v = "";
			else if (json_is_boolean(v) && (col == 4 || col == 7))
				text_v = json_is_true(v) ? "1" : "0";
			else if (json_is_integer(v) && (col == 4 || col == 5 || col == 7)) {
				snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
				text_v = num;
			} else {
				ret = hfw_error_set(err, HFW_EINPUT, "%s device %zu: %s has the wrong JSON type", what, w.at, key);
				goto out;
			}
			if (json_is_string(v) && strlen(text_v) != json_string_length(v)) {
				ret = hfw_error_set(err, HFW_EINPUT, "%s device %zu: %s holds a NUL character", what, w.at, key);
				goto out;
			}
			if ((ret = set_field(r, col, text_v, &w, err)) < 0)
				goto out;
		}
		if (!json_object_get(d, "eui")) {
			ret = hfw_error_set(err, HFW_EINPUT, "%s device %zu: no eui", what, w.at);
			goto out;
		}
	}
out:
	json_decref(root);
	return ret;
}

int hfw_supplier_parse(struct hfw_supplier *s, const char *text, size_t len, const char *what,
		       struct hfw_error *err)
{
	size_t i = 0;
	int ret;

	if (len > HFW_SUPPLIER_MAX_BYTES)
		return hfw_error_set(err, HFW_ELIMIT, "%s is more than %u bytes", what, HFW_SUPPLIER_MAX_BYTES);
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	ret = (i < len && text[i] == '{') ? parse_json(s, text, len, what, err) : parse_csv(s, text, len, what, err);
	if (ret < 0)
		hfw_supplier_release(s);
	return ret;
}

int hfw_supplier_read(struct hfw_supplier *s, const char *path, struct hfw_error *err)
{
	uint8_t *data = NULL;
	char what[1100];
	size_t len;
	int ret;

	snprintf(what, sizeof(what), "supplier records '%s'", path);
	if ((ret = hfw_file_read(&data, &len, path, HFW_SUPPLIER_MAX_BYTES, "supplier records", err)) < 0)
		return ret;
	ret = hfw_supplier_parse(s, (const char *)data, len, what, err);
	free(data);
	return ret;
}

void hfw_supplier_release(struct hfw_supplier *s)
{
	if (s) {
		free(s->v);
		s->v = NULL;
		s->n = s->cap = 0;
	}
}

int hfw_supplier_apply(hfw_estate *e, const struct hfw_supplier *s, const char *what,
		       void (*missing)(void *arg, const struct hfw_supplier_record *r), void *arg, size_t *applied,
		       struct hfw_error *err)
{
	size_t i;
	int ret;

	*applied = 0;
	for (i = 0; i < s->n; i++) {
		const struct hfw_supplier_record *r = &s->v[i];
		const struct hfw_device *have = hfw_estate_find(e, &r->eui);
		struct hfw_device d;

		if (!have) {
			/* The DCC's inventory is the estate: a record cannot add a device to it. */
			if (missing)
				missing(arg, r);
			continue;
		}
		d = *have;
		if (r->bridge) {
			char name[16];
			char eui[HFW_EUI_TEXT_MAX];

			snprintf(name, sizeof(name), "ALTHAN-B%d", r->bridge);
			if (strcmp(have->type->name, "PPMID") && strcmp(have->type->name, name)) {
				hfw_eui_format(eui, &r->eui);
				return hfw_error_set(err, HFW_EINPUT,
						     "%s %s %zu: bridge B%d for %s, which the DCC lists as %s: only a PPMID can be an Alt HAN bridge",
						     what, s->json ? "device" : "line", r->line, r->bridge, eui, have->type->name);
			}
			if ((ret = hfw_device_type_find(&d.type, name, err)) < 0)
				return ret;
		}
		d.site = r->site;
		d.installation = r->installation;
		d.third_party = r->third_party;
		if (r->has_hardware_version) {
			d.has_hardware_version = 1;
			d.hardware_version = r->hardware_version;
		}
		d.althan_option = r->althan_option;
		d.sleepy = r->sleepy;
		if ((ret = hfw_estate_merge(e, &d, err)) < 0)
			return ret;
		(*applied)++;
	}
	return 0;
}
