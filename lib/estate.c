/* estate.c - the estate of devices, JSON (see estate.h). */
#include "estate.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fileio.h"

struct hfw_estate {
	struct hfw_device *v;
	size_t n, cap;
};

int hfw_estate_new(hfw_estate **out, struct hfw_error *err)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return hfw_error_oom(err);
	return 0;
}

void hfw_estate_free(hfw_estate *e)
{
	if (!e)
		return;
	free(e->v);
	free(e);
}

int hfw_estate_add(hfw_estate *e, const struct hfw_device *d, struct hfw_error *err)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 64;
		struct hfw_device *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return hfw_error_oom(err);
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = *d;
	return 0;
}

size_t hfw_estate_count(const hfw_estate *e)
{
	return e->n;
}

const struct hfw_device *hfw_estate_at(const hfw_estate *e, size_t i)
{
	return i < e->n ? &e->v[i] : NULL;
}

const struct hfw_device *hfw_estate_find(const hfw_estate *e, const struct hfw_eui *eui)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (memcmp(&e->v[i].eui, eui, sizeof(*eui)) == 0)
			return &e->v[i];
	return NULL;
}

int hfw_estate_write(const hfw_estate *e, const char *path, struct hfw_error *err)
{
	json_t *root = json_pack("{s:s,s:[]}", "format", HFW_ESTATE_FORMAT, "devices"), *arr;
	char *text = NULL;
	size_t i;
	int ret = 0;

	if (!root)
		return hfw_error_oom(err);
	arr = json_object_get(root, "devices");
	for (i = 0; i < e->n; i++) {
		const struct hfw_device *d = &e->v[i];
		char eui[HFW_EUI_TEXT_MAX], hub[HFW_EUI_TEXT_MAX];

		hfw_eui_format(eui, &d->eui);
		hfw_eui_format(hub, &d->comms_hub);
		if (json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:i,s:s,s:b,s:b}", "eui", eui,
							 "type", d->type->name, "comms_hub", hub,
							 "hardware_version", d->hardware_version,
							 "firmware_version", d->firmware_version,
							 "sleepy", d->sleepy, "offline", d->offline)) < 0) {
			ret = hfw_error_oom(err);
			goto out;
		}
	}
	if (!(text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	ret = hfw_file_write_atomic(path, text, strlen(text), err);
out:
	free(text);
	json_decref(root);
	return ret;
}

static int bad(const char *what, size_t i, const char *member, const char *why, struct hfw_error *err)
{
	return hfw_error_set(err, HFW_EINPUT, "estate '%s': device %zu: %s %s", what, i, member, why);
}

int hfw_estate_parse(hfw_estate **out, const char *text, size_t len, const char *what,
		     struct hfw_error *err)
{
	static const char *const allowed[] = {
		"eui", "type", "comms_hub", "hardware_version", "firmware_version", "sleepy", "offline", NULL
	};
	hfw_estate *e = NULL;
	json_error_t jerr;
	json_t *root, *devs, *d, *v;
	const char *key;
	size_t i;
	int ret;

	*out = NULL;
	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)))
		return hfw_error_set(err, HFW_EINPUT, "estate '%s': line %d: %s", what, jerr.line, jerr.text);
	if ((ret = hfw_estate_new(&e, err)) < 0)
		goto out;
	if (!json_is_object(root) || !json_is_string(json_object_get(root, "format")) ||
	    strcmp(json_string_value(json_object_get(root, "format")), HFW_ESTATE_FORMAT) != 0 ||
	    !json_is_array(devs = json_object_get(root, "devices")) || json_object_size(root) != 2) {
		ret = hfw_error_set(err, HFW_EINPUT, "estate '%s' is not {\"format\": \"%s\", \"devices\": [...]}",
				    what, HFW_ESTATE_FORMAT);
		goto out;
	}
	json_array_foreach(devs, i, d) {
		struct hfw_device dev;
		const char *s;

		memset(&dev, 0, sizeof(dev));
		if (!json_is_object(d)) {
			ret = bad(what, i, "entry", "is not an object", err);
			goto out;
		}
		json_object_foreach(d, key, v) {
			const char *const *a;

			for (a = allowed; *a && strcmp(*a, key); a++)
				;
			if (!*a) {
				ret = bad(what, i, key, "is not an estate member", err);
				goto out;
			}
		}
		if (!(s = json_string_value(json_object_get(d, "eui"))) ||
		    hfw_eui_parse(&dev.eui, s, "eui", err) < 0) {
			ret = bad(what, i, "eui", "is missing or not an EUI-64", err);
			goto out;
		}
		if (!(s = json_string_value(json_object_get(d, "type"))) ||
		    hfw_device_type_find(&dev.type, s, err) < 0) {
			ret = bad(what, i, "type", "is missing or not a device type", err);
			goto out;
		}
		if (!(s = json_string_value(json_object_get(d, "comms_hub"))) ||
		    hfw_eui_parse(&dev.comms_hub, s, "comms_hub", err) < 0) {
			ret = bad(what, i, "comms_hub", "is missing or not an EUI-64", err);
			goto out;
		}
		v = json_object_get(d, "hardware_version");
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xFFFF) {
			ret = bad(what, i, "hardware_version", "is not a 16-bit number", err);
			goto out;
		}
		dev.hardware_version = (uint16_t)json_integer_value(v);
		s = json_string_value(json_object_get(d, "firmware_version"));
		if (!s || strlen(s) != 8 || strspn(s, "0123456789ABCDEFabcdef") != 8) {
			ret = bad(what, i, "firmware_version", "is not 8 hex digits", err);
			goto out;
		}
		memcpy(dev.firmware_version, s, 9);
		dev.sleepy = json_is_true(json_object_get(d, "sleepy"));
		dev.offline = json_is_true(json_object_get(d, "offline"));
		if ((ret = hfw_estate_add(e, &dev, err)) < 0)
			goto out;
	}
	*out = e;
	e = NULL;
	ret = 0;
out:
	hfw_estate_free(e);
	json_decref(root);
	return ret;
}

int hfw_estate_read(hfw_estate **out, const char *path, struct hfw_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	if ((ret = hfw_file_read(&data, &len, path, HFW_ESTATE_MAX_BYTES, "estate", err)) == 0)
		ret = hfw_estate_parse(out, (const char *)data, len, path, err);
	free(data);
	return ret;
}
