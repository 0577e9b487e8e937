/* products.c - the products file (see products.h). */
#include "products.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fileio.h"

struct hfw_products {
	struct hfw_product_model *models;	/* sorted by (manufacturer, model) */
	size_t n_models;
	struct hfw_hub_model *hubs;		/* likewise */
	size_t n_hubs;
	struct hfw_althan_packaging althan[2];	/* A, B */
	char **strings;				/* every string the models and hubs point to */
	size_t n_strings, cap_strings;
};

/* A copy of s owned by p. */
static const char *keep(hfw_products *p, const char *s)
{
	char *c;

	if (p->n_strings == p->cap_strings) {
		size_t cap = p->cap_strings ? 2 * p->cap_strings : 64;
		char **n = realloc(p->strings, cap * sizeof(*n));

		if (!n)
			return NULL;
		p->strings = n;
		p->cap_strings = cap;
	}
	if (!(c = strdup(s)))
		return NULL;
	p->strings[p->n_strings++] = c;
	return c;
}

void hfw_products_free(hfw_products *p)
{
	size_t i, j;

	if (!p)
		return;
	for (i = 0; i < p->n_models; i++) {
		for (j = 0; j < p->models[i].n_versions; j++)
			free(p->models[i].versions[j].predecessors);
		free(p->models[i].versions);
	}
	for (i = 0; i < p->n_hubs; i++)
		free(p->hubs[i].han_ota_firmware);
	for (i = 0; i < p->n_strings; i++)
		free(p->strings[i]);
	free(p->strings);
	free(p->models);
	free(p->hubs);
	free(p);
}

int hfw_version_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int hfw_althan_bridge(const struct hfw_device_type *t)
{
	if (t && strncmp(t->name, "ALTHAN-B", 8) == 0 && t->name[8] >= '1' && t->name[8] <= '4' && !t->name[9])
		return t->name[8] - '0';
	return 0;
}

/* Members of o must all be in allowed (NULL-terminated): a typo is an error, never a default. */
static int only_members(json_t *o, const char *const *allowed, const char *where, struct hfw_error *err)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v) {
		for (i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (!allowed[i])
			return hfw_error_set(err, HFW_EINPUT, "%s: unknown member '%.40s'", where, key);
	}
	return 0;
}

/* A required (or, with optional, absent: *out NULL) non-empty string of at most max bytes without control characters. */
static int get_text(json_t *o, const char *name, int optional, size_t max, const char **out, const char *where,
		    struct hfw_error *err)
{
	json_t *v = json_object_get(o, name);
	const char *s;
	size_t i, n;

	*out = NULL;
	if (!v && optional)
		return 0;
	if (!json_is_string(v))
		return hfw_error_set(err, HFW_EINPUT, "%s: '%s' must be a string", where, name);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > max || strlen(s) != n)
		return hfw_error_set(err, HFW_EINPUT, "%s: '%s' must be 1 to %zu characters", where, name, max);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return hfw_error_set(err, HFW_EINPUT, "%s: '%s' has a control character", where, name);
	*out = s;
	return 0;
}

/* A firmware version as the CPL writes it: 1-8 characters, letters and digits. */
static int get_version(const char *s, char out[9], const char *where, const char *name, struct hfw_error *err)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 8)
		return hfw_error_set(err, HFW_EINPUT, "%s: %s '%.20s' is not 1 to 8 characters", where, name, s);
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      s[i] == '.' || s[i] == '-' || s[i] == '_'))
			return hfw_error_set(err, HFW_EINPUT, "%s: %s '%.20s' has a character other than letters, digits, '.', '-', '_'",
					     where, name, s);
	memcpy(out, s, n + 1);
	return 0;
}

/* A 16-bit number: a JSON integer or a string "0x..." of hex digits. */
static int get_u16(json_t *o, const char *name, uint16_t *out, const char *where, struct hfw_error *err)
{
	json_t *v = json_object_get(o, name);
	unsigned long x;
	char *end;

	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 0xFFFF) {
		*out = (uint16_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) && s[2] && strlen(s) <= 6 && s[2] != '-' && s[2] != '+' &&
		    s[2] != ' ') {
			x = strtoul(s + 2, &end, 16);
			if (!*end && x <= 0xFFFF) {
				*out = (uint16_t)x;
				return 0;
			}
		}
	}
	return hfw_error_set(err, HFW_EINPUT, "%s: '%s' must be 0 to 65535 (a number, or a string 0x0000 to 0xFFFF)", where,
			     name);
}

/* A list of versions (at most HFW_PRODUCTS_MAX_ITEMS). */
static int get_versions(json_t *a, char (**out)[9], size_t *n, const char *where, const char *name,
			struct hfw_error *err)
{
	size_t i;
	json_t *v;
	int ret;

	*out = NULL;
	*n = 0;
	if (!json_is_array(a))
		return hfw_error_set(err, HFW_EINPUT, "%s: '%s' must be an array of versions", where, name);
	if (json_array_size(a) > HFW_PRODUCTS_MAX_ITEMS)
		return hfw_error_set(err, HFW_ELIMIT, "%s: '%s' has more than %u versions", where, name, HFW_PRODUCTS_MAX_ITEMS);
	if (json_array_size(a) == 0)
		return 0;
	if (!(*out = calloc(json_array_size(a), sizeof(**out))))
		return hfw_error_oom(err);
	json_array_foreach(a, i, v) {
		size_t j;

		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return hfw_error_set(err, HFW_EINPUT, "%s: '%s' must be an array of versions", where, name);
		if ((ret = get_version(json_string_value(v), (*out)[i], where, name, err)) < 0)
			return ret;
		for (j = 0; j < i; j++)
			if (hfw_version_equal((*out)[j], (*out)[i]))
				return hfw_error_set(err, HFW_EINPUT, "%s: '%s' lists '%s' twice", where, name, (*out)[i]);
		*n = i + 1;
	}
	return 0;
}

static int cmp_model(const void *a, const void *b)
{
	const struct hfw_product_model *x = a, *y = b;
	int c = strcmp(x->manufacturer, y->manufacturer);

	return c ? c : strcmp(x->model, y->model);
}

static int cmp_hub(const void *a, const void *b)
{
	const struct hfw_hub_model *x = a, *y = b;
	int c = strcmp(x->manufacturer, y->manufacturer);

	return c ? c : strcmp(x->model, y->model);
}

static int parse_model(hfw_products *p, json_t *o, size_t idx, struct hfw_product_model *m, struct hfw_error *err)
{
	static const char *const members[] = { "manufacturer", "model", "name", "device_type", "manufacturer_code",
					       "image_type", "hardware_version", "unsupported", "versions", NULL };
	static const char *const vmembers[] = { "version", "cpl_status", "predecessors", "locked_to_hub_manufacturer", NULL };
	char where[96];
	const char *s, *t;
	json_t *a, *v, *hw;
	size_t i;
	int ret;

	snprintf(where, sizeof(where), "device_models[%zu]", idx);
	if (!json_is_object(o))
		return hfw_error_set(err, HFW_EINPUT, "%s: must be an object", where);
	if ((ret = only_members(o, members, where, err)) < 0 ||
	    (ret = get_text(o, "manufacturer", 0, 64, &s, where, err)) < 0 ||
	    !(m->manufacturer = keep(p, s)) || (ret = get_text(o, "model", 0, 64, &s, where, err)) < 0 ||
	    !(m->model = keep(p, s)) || (ret = get_text(o, "name", 1, 128, &s, where, err)) < 0 ||
	    !(m->name = keep(p, s ? s : "")) || (ret = get_text(o, "device_type", 0, 16, &t, where, err)) < 0)
		return ret < 0 ? ret : hfw_error_oom(err);
	if ((ret = hfw_device_type_find(&m->type, t, err)) < 0 || strcmp(m->type->name, t) != 0)
		return hfw_error_set(err, HFW_EINPUT, "%s: device_type '%.16s' is not a hanfw device type", where, t);
	if (m->type->route == HFW_ROUTE_NONE)
		return hfw_error_set(err, HFW_EINPUT, "%s: device_type '%s' takes no firmware from a supplier", where,
				     m->type->name);
	if ((ret = get_u16(o, "manufacturer_code", &m->manufacturer_code, where, err)) < 0 ||
	    (ret = get_u16(o, "image_type", &m->image_type, where, err)) < 0)
		return ret;
	if (m->image_type > 0xFFBF)
		return hfw_error_set(err, HFW_EINPUT, "%s: image_type 0x%04X is not firmware (0xFFC0 and above never are)", where,
				     m->image_type);
	if ((hw = json_object_get(o, "hardware_version"))) {
		static const char *const hmembers[] = { "min", "max", NULL };

		if (!json_is_object(hw) || (ret = only_members(hw, hmembers, where, err)) < 0 ||
		    (ret = get_u16(hw, "min", &m->hardware_min, where, err)) < 0 ||
		    (ret = get_u16(hw, "max", &m->hardware_max, where, err)) < 0)
			return ret < 0 ? ret : hfw_error_set(err, HFW_EINPUT, "%s: 'hardware_version' must be {\"min\", \"max\"}", where);
		if (m->hardware_min > m->hardware_max)
			return hfw_error_set(err, HFW_EINPUT, "%s: hardware_version min 0x%04X is above max 0x%04X", where,
					     m->hardware_min, m->hardware_max);
		m->has_hardware_range = 1;
	}
	if ((ret = get_text(o, "unsupported", 1, 256, &s, where, err)) < 0)
		return ret;
	if (s && !(m->unsupported = keep(p, s)))
		return hfw_error_oom(err);
	a = json_object_get(o, "versions");
	if (!json_is_array(a))
		return hfw_error_set(err, HFW_EINPUT, "%s: 'versions' must be an array", where);
	if (json_array_size(a) > HFW_PRODUCTS_MAX_ITEMS)
		return hfw_error_set(err, HFW_ELIMIT, "%s: more than %u versions", where, HFW_PRODUCTS_MAX_ITEMS);
	if (json_array_size(a) && !(m->versions = calloc(json_array_size(a), sizeof(*m->versions))))
		return hfw_error_oom(err);
	json_array_foreach(a, i, v) {
		struct hfw_product_version *pv = &m->versions[i];
		char vwhere[128];
		size_t j;
		json_t *pred;

		m->n_versions = i + 1;
		snprintf(vwhere, sizeof(vwhere), "%s.versions[%zu]", where, i);
		if (!json_is_object(v))
			return hfw_error_set(err, HFW_EINPUT, "%s: must be an object", vwhere);
		if ((ret = only_members(v, vmembers, vwhere, err)) < 0 ||
		    (ret = get_text(v, "version", 0, 8, &s, vwhere, err)) < 0 ||
		    (ret = get_version(s, pv->version, vwhere, "version", err)) < 0 ||
		    (ret = get_text(v, "cpl_status", 0, 16, &s, vwhere, err)) < 0)
			return ret;
		if (hfw_cpl_status_parse(&pv->cpl_status, s, err) < 0 || pv->cpl_status == HFW_CPL_UNKNOWN)
			return hfw_error_set(err, HFW_EINPUT, "%s: cpl_status '%.16s' is not Active, Cancelled, Expired or Withdrawn",
					     vwhere, s);
		if ((pred = json_object_get(v, "predecessors"))) {
			if ((ret = get_versions(pred, &pv->predecessors, &pv->n_predecessors, vwhere, "predecessors", err)) < 0)
				return ret;
			if (pv->n_predecessors == 0)
				return hfw_error_set(err, HFW_EINPUT,
						     "%s: 'predecessors' is empty (leave it out when any version may precede)", vwhere);
		}
		if ((ret = get_text(v, "locked_to_hub_manufacturer", 1, 64, &s, vwhere, err)) < 0)
			return ret;
		if (s && !(pv->locked_to_hub_manufacturer = keep(p, s)))
			return hfw_error_oom(err);
		for (j = 0; j < i; j++)
			if (hfw_version_equal(m->versions[j].version, pv->version))
				return hfw_error_set(err, HFW_EINPUT, "%s: version '%s' is listed twice", where, pv->version);
	}
	return 0;
}

static int parse_hub(hfw_products *p, json_t *o, size_t idx, struct hfw_hub_model *h, struct hfw_error *err)
{
	static const char *const members[] = { "manufacturer", "model", "name", "image_capacity", "han_ota_firmware", NULL };
	char where[64];
	const char *s;
	json_t *v;
	int ret;

	snprintf(where, sizeof(where), "hub_models[%zu]", idx);
	if (!json_is_object(o))
		return hfw_error_set(err, HFW_EINPUT, "%s: must be an object", where);
	if ((ret = only_members(o, members, where, err)) < 0 ||
	    (ret = get_text(o, "manufacturer", 0, 64, &s, where, err)) < 0 ||
	    !(h->manufacturer = keep(p, s)) || (ret = get_text(o, "model", 0, 64, &s, where, err)) < 0 ||
	    !(h->model = keep(p, s)) || (ret = get_text(o, "name", 1, 128, &s, where, err)) < 0 ||
	    !(h->name = keep(p, s ? s : "")))
		return ret < 0 ? ret : hfw_error_oom(err);
	v = json_object_get(o, "image_capacity");
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 0xFFFFFFFFLL)
		return hfw_error_set(err, HFW_EINPUT, "%s: 'image_capacity' must be a number of bytes from 1 to 4294967295", where);
	h->image_capacity = (uint64_t)json_integer_value(v);
	return get_versions(json_object_get(o, "han_ota_firmware"), &h->han_ota_firmware, &h->n_han_ota_firmware, where,
			    "han_ota_firmware", err);
}

static int parse_althan(hfw_products *p, json_t *a, struct hfw_error *err)
{
	static const char *const members[] = { "option", "orchestrator", "serves", NULL };
	json_t *o, *s;
	size_t i, j;
	int ret;

	if (!json_is_array(a) || json_array_size(a) > 2)
		return hfw_error_set(err, HFW_EINPUT, "'althan_packaging' must be an array of at most two options (A, B)");
	json_array_foreach(a, i, o) {
		const struct hfw_device_type *t;
		struct hfw_althan_packaging pk = { 1, 0, 0 };
		enum hfw_althan_option opt;
		const char *text;
		char where[48];
		int b;

		snprintf(where, sizeof(where), "althan_packaging[%zu]", i);
		if (!json_is_object(o))
			return hfw_error_set(err, HFW_EINPUT, "%s: must be an object", where);
		if ((ret = only_members(o, members, where, err)) < 0 || (ret = get_text(o, "option", 0, 1, &text, where, err)) < 0)
			return ret;
		if (hfw_althan_option_parse(&opt, text, err) < 0 || opt == HFW_ALTHAN_NONE)
			return hfw_error_set(err, HFW_EINPUT, "%s: option '%s' is not A or B", where, text);
		if (p->althan[opt == HFW_ALTHAN_B].present)
			return hfw_error_set(err, HFW_EINPUT, "%s: option %s is described twice", where, text);
		if ((ret = get_text(o, "orchestrator", 0, 16, &text, where, err)) < 0)
			return ret;
		if (hfw_device_type_find(&t, text, err) < 0 || strcmp(t->name, text) || !(pk.orchestrator = hfw_althan_bridge(t)))
			return hfw_error_set(err, HFW_EINPUT, "%s: orchestrator '%.16s' is not ALTHAN-B1..B4", where, text);
		s = json_object_get(o, "serves");
		if (!json_is_array(s) || json_array_size(s) == 0 || json_array_size(s) > 4)
			return hfw_error_set(err, HFW_EINPUT, "%s: 'serves' must list 1 to 4 bridges", where);
		for (j = 0; j < json_array_size(s); j++) {
			text = json_string_value(json_array_get(s, j));
			if (!text || hfw_device_type_find(&t, text, err) < 0 || strcmp(t->name, text) || !(b = hfw_althan_bridge(t)))
				return hfw_error_set(err, HFW_EINPUT, "%s: 'serves' must list ALTHAN-B1..B4", where);
			if (pk.serves & (1u << (b - 1)))
				return hfw_error_set(err, HFW_EINPUT, "%s: 'serves' lists ALTHAN-B%d twice", where, b);
			pk.serves |= 1u << (b - 1);
		}
		if (!(pk.serves & (1u << (pk.orchestrator - 1))))
			return hfw_error_set(err, HFW_EINPUT, "%s: the orchestrator ALTHAN-B%d must be among the bridges it serves",
					     where, pk.orchestrator);
		p->althan[opt == HFW_ALTHAN_B] = pk;
	}
	return 0;
}

int hfw_products_parse(hfw_products **out, const char *text, size_t len, const char *what, struct hfw_error *err)
{
	static const char *const members[] = { "format", "device_models", "hub_models", "althan_packaging", NULL };
	hfw_products *p = NULL;
	json_error_t jerr;
	json_t *root = NULL, *a, *o;
	size_t i;
	int ret;

	*out = NULL;
	if (len > HFW_PRODUCTS_MAX_BYTES)
		return hfw_error_set(err, HFW_ELIMIT, "products file '%s' is larger than %u bytes", what, HFW_PRODUCTS_MAX_BYTES);
	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr))) {
		return hfw_error_set(err, HFW_EINPUT, "products file '%s': line %d: %.200s", what, jerr.line, jerr.text);
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if (!json_is_object(root)) {
		ret = hfw_error_set(err, HFW_EINPUT, "products file '%s' is not a JSON object", what);
		goto out;
	}
	if ((ret = only_members(root, members, "products file", err)) < 0)
		goto out;
	o = json_object_get(root, "format");
	if (!json_is_string(o) || strcmp(json_string_value(o), HFW_PRODUCTS_FORMAT) != 0) {
		ret = hfw_error_set(err, HFW_EINPUT, "products file '%s': 'format' must be \"%s\"", what, HFW_PRODUCTS_FORMAT);
		goto out;
	}
	a = json_object_get(root, "device_models");
	if (!json_is_array(a) || json_array_size(a) > HFW_PRODUCTS_MAX_ITEMS) {
		ret = hfw_error_set(err, json_is_array(a) ? HFW_ELIMIT : HFW_EINPUT,
				    "products file '%s': 'device_models' must be an array of at most %u models", what,
				    HFW_PRODUCTS_MAX_ITEMS);
		goto out;
	}
	if (json_array_size(a) && !(p->models = calloc(json_array_size(a), sizeof(*p->models)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	json_array_foreach(a, i, o) {
		p->n_models = i + 1;
		if ((ret = parse_model(p, o, i, &p->models[i], err)) < 0)
			goto out;
	}
	a = json_object_get(root, "hub_models");
	if (!json_is_array(a) || json_array_size(a) > HFW_PRODUCTS_MAX_ITEMS) {
		ret = hfw_error_set(err, json_is_array(a) ? HFW_ELIMIT : HFW_EINPUT,
				    "products file '%s': 'hub_models' must be an array of at most %u models", what,
				    HFW_PRODUCTS_MAX_ITEMS);
		goto out;
	}
	if (json_array_size(a) && !(p->hubs = calloc(json_array_size(a), sizeof(*p->hubs)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	json_array_foreach(a, i, o) {
		p->n_hubs = i + 1;
		if ((ret = parse_hub(p, o, i, &p->hubs[i], err)) < 0)
			goto out;
	}
	if ((a = json_object_get(root, "althan_packaging")) && (ret = parse_althan(p, a, err)) < 0)
		goto out;
	/* Sorted for lookups; a model or hub described twice would make the answer depend on the order. */
	if (p->n_models)
		qsort(p->models, p->n_models, sizeof(*p->models), cmp_model);
	for (i = 1; i < p->n_models; i++)
		if (cmp_model(&p->models[i - 1], &p->models[i]) == 0) {
			ret = hfw_error_set(err, HFW_EINPUT, "products file '%s': device model '%.64s' '%.64s' is described twice",
					    what, p->models[i].manufacturer, p->models[i].model);
			goto out;
		}
	if (p->n_hubs)
		qsort(p->hubs, p->n_hubs, sizeof(*p->hubs), cmp_hub);
	for (i = 1; i < p->n_hubs; i++)
		if (cmp_hub(&p->hubs[i - 1], &p->hubs[i]) == 0) {
			ret = hfw_error_set(err, HFW_EINPUT, "products file '%s': hub model '%.64s' '%.64s' is described twice",
					    what, p->hubs[i].manufacturer, p->hubs[i].model);
			goto out;
		}
	*out = p;
	p = NULL;
	ret = 0;
out:
	if (ret < 0 && err->code == HFW_EINPUT && strncmp(err->text, "products file", 13) != 0) {
		char tmp[HFW_ERROR_TEXT_MAX];

		snprintf(tmp, sizeof(tmp), "%s", err->text);
		hfw_error_set(err, HFW_EINPUT, "products file '%.200s': %s", what, tmp);
	}
	json_decref(root);
	hfw_products_free(p);
	return ret;
}

int hfw_products_read(hfw_products **out, const char *path, struct hfw_error *err)
{
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	*out = NULL;
	if ((ret = hfw_file_read(&buf, &len, path, HFW_PRODUCTS_MAX_BYTES, "products file", err)) < 0)
		return ret;
	ret = hfw_products_parse(out, (const char *)buf, len, path, err);
	free(buf);
	return ret;
}

const struct hfw_product_model *hfw_products_model(const hfw_products *p, const char *manufacturer, const char *model)
{
	struct hfw_product_model key;

	if (!p->n_models)
		return NULL;
	key.manufacturer = manufacturer;
	key.model = model;
	return bsearch(&key, p->models, p->n_models, sizeof(key), cmp_model);
}

const struct hfw_hub_model *hfw_products_hub(const hfw_products *p, const char *manufacturer, const char *model)
{
	struct hfw_hub_model key;

	if (!p->n_hubs)
		return NULL;
	key.manufacturer = manufacturer;
	key.model = model;
	return bsearch(&key, p->hubs, p->n_hubs, sizeof(key), cmp_hub);
}

size_t hfw_products_model_count(const hfw_products *p)
{
	return p->n_models;
}

const struct hfw_product_model *hfw_products_model_at(const hfw_products *p, size_t i)
{
	return i < p->n_models ? &p->models[i] : NULL;
}

const struct hfw_product_version *hfw_product_version_find(const struct hfw_product_model *m, const char *version)
{
	size_t i;

	for (i = 0; i < m->n_versions; i++)
		if (hfw_version_equal(m->versions[i].version, version))
			return &m->versions[i];
	return NULL;
}

int hfw_hub_han_ota(const struct hfw_hub_model *h, const char *version)
{
	size_t i;

	for (i = 0; i < h->n_han_ota_firmware; i++)
		if (hfw_version_equal(h->han_ota_firmware[i], version))
			return 1;
	return 0;
}

struct hfw_althan_packaging hfw_products_althan(const hfw_products *p, enum hfw_althan_option o)
{
	static const struct hfw_althan_packaging none = { 0, 0, 0 };

	if (o == HFW_ALTHAN_A)
		return p->althan[0];
	if (o == HFW_ALTHAN_B)
		return p->althan[1];
	return none;
}
