/*
 * estate.c - the estate of devices, JSON (see estate.h).
 *
 * Written one device per line and read one device at a time: a jansson
 * tree of a million devices would take gigabytes, so the reader finds each
 * device object's extent itself and hands jansson only that object.
 */
#include "estate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "fileio.h"

#define POOL_CHUNK (64u * 1024)
#define DEVICE_MAX_BYTES (64u * 1024)	/* one device object; real ones are ~500 bytes */
#define READ_CHUNK (4u * 1024 * 1024)
#define TEXT_MAX 64			/* any text member; DUIS's own are at most 30 */

struct pool_chunk {
	struct pool_chunk *next;
	size_t used, size;
	char data[];
};

struct hfw_estate {
	struct hfw_device *v;
	size_t n, cap;
	uint32_t *index;		/* EUI hash -> device index + 1; 0 is empty */
	size_t index_cap;		/* power of two, at least 2n */
	const char **strings;		/* interned texts, open addressing */
	size_t strings_n, strings_cap;
	struct pool_chunk *pool;
};

static const char empty[] = "";

int hfw_estate_new(hfw_estate **out, struct hfw_error *err)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return hfw_error_oom(err);
	return 0;
}

void hfw_estate_free(hfw_estate *e)
{
	struct pool_chunk *c, *next;

	if (!e)
		return;
	for (c = e->pool; c; c = next) {
		next = c->next;
		free(c);
	}
	free(e->strings);
	free(e->index);
	free(e->v);
	free(e);
}

/* ---- interned texts ---- */

static uint64_t text_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3u;
	return h;
}

static char *pool_copy(hfw_estate *e, const char *s, size_t len)
{
	struct pool_chunk *c = e->pool;
	char *p;

	if (!c || c->size - c->used < len + 1) {
		size_t size = len + 1 > POOL_CHUNK ? len + 1 : POOL_CHUNK;

		if (!(c = malloc(sizeof(*c) + size)))
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = e->pool;
		e->pool = c;
	}
	p = c->data + c->used;
	memcpy(p, s, len + 1);
	c->used += len + 1;
	return p;
}

static int strings_grow(hfw_estate *e)
{
	size_t cap = e->strings_cap ? 2 * e->strings_cap : 256, i;
	const char **t = calloc(cap, sizeof(*t));

	if (!t)
		return -1;
	for (i = 0; i < e->strings_cap; i++) {
		size_t j;

		if (!e->strings[i])
			continue;
		for (j = text_hash(e->strings[i]) & (cap - 1); t[j]; j = (j + 1) & (cap - 1))
			;
		t[j] = e->strings[i];
	}
	free(e->strings);
	e->strings = t;
	e->strings_cap = cap;
	return 0;
}

const char *hfw_estate_intern(hfw_estate *e, const char *s)
{
	size_t j;
	char *copy;

	if (!s || !*s)
		return empty;
	if (2 * (e->strings_n + 1) > e->strings_cap && strings_grow(e) < 0)
		return NULL;
	for (j = text_hash(s) & (e->strings_cap - 1); e->strings[j]; j = (j + 1) & (e->strings_cap - 1))
		if (strcmp(e->strings[j], s) == 0)
			return e->strings[j];
	if (!(copy = pool_copy(e, s, strlen(s))))
		return NULL;
	e->strings[j] = copy;
	e->strings_n++;
	return copy;
}

/* Every text member, so intern/merge treat them alike. */
#define TEXT_MEMBERS(X) \
	X(manufacturer) X(model) X(chts_version) X(gbcs_version) X(region) X(s1sp) \
	X(han_variant) X(connectivity) X(date_commissioned) X(mpxn) X(uprn) X(site)

static int intern_all(hfw_estate *e, struct hfw_device *d)
{
#define INTERN(m) if (!(d->m = hfw_estate_intern(e, d->m))) return -1;
	TEXT_MEMBERS(INTERN)
#undef INTERN
	return 0;
}

/* ---- the EUI index ---- */

static size_t eui_slot(const struct hfw_eui *eui, size_t cap)
{
	return (size_t)((hfw_eui_to_u64(eui) * 0x9E3779B97F4A7C15u) >> 17) & (cap - 1);
}

static int index_rebuild(hfw_estate *e, size_t cap)
{
	uint32_t *t = calloc(cap, sizeof(*t));
	size_t i, j;

	if (!t)
		return -1;
	for (i = 0; i < e->n; i++) {
		for (j = eui_slot(&e->v[i].eui, cap); t[j]; j = (j + 1) & (cap - 1))
			;
		t[j] = (uint32_t)(i + 1);
	}
	free(e->index);
	e->index = t;
	e->index_cap = cap;
	return 0;
}

static size_t index_lookup(const hfw_estate *e, const struct hfw_eui *eui)
{
	size_t j;

	if (!e->index_cap)
		return 0;
	for (j = eui_slot(eui, e->index_cap); e->index[j]; j = (j + 1) & (e->index_cap - 1))
		if (memcmp(&e->v[e->index[j] - 1].eui, eui, sizeof(*eui)) == 0)
			return e->index[j];
	return 0;
}

const struct hfw_device *hfw_estate_find(const hfw_estate *e, const struct hfw_eui *eui)
{
	size_t i = index_lookup(e, eui);

	return i ? &e->v[i - 1] : NULL;
}

/* ---- adding and merging ---- */

int hfw_estate_add(hfw_estate *e, const struct hfw_device *d, struct hfw_error *err)
{
	char eui[HFW_EUI_TEXT_MAX];
	size_t j;

	if (index_lookup(e, &d->eui)) {
		hfw_eui_format(eui, &d->eui);
		return hfw_error_set(err, HFW_EINPUT, "device %s appears twice in the estate", eui);
	}
	if (e->n >= UINT32_MAX - 1)
		return hfw_error_set(err, HFW_ELIMIT, "an estate holds at most %u devices", UINT32_MAX - 2);
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 64;
		struct hfw_device *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return hfw_error_oom(err);
		e->v = v;
		e->cap = cap;
	}
	if (2 * (e->n + 1) > e->index_cap && index_rebuild(e, e->index_cap ? 2 * e->index_cap : 128) < 0)
		return hfw_error_oom(err);
	e->v[e->n] = *d;
	if (intern_all(e, &e->v[e->n]) < 0)
		return hfw_error_oom(err);
	for (j = eui_slot(&d->eui, e->index_cap); e->index[j]; j = (j + 1) & (e->index_cap - 1))
		;
	e->index[j] = (uint32_t)(e->n + 1);
	e->n++;
	return 0;
}

int hfw_estate_merge(hfw_estate *e, const struct hfw_device *d, struct hfw_error *err)
{
	size_t i = index_lookup(e, &d->eui);
	struct hfw_device *o;

	if (!i)
		return hfw_estate_add(e, d, err);
	o = &e->v[i - 1];
	if (d->type)
		o->type = d->type;
	if (d->has_comms_hub) {
		o->has_comms_hub = 1;
		o->comms_hub = d->comms_hub;
	}
#define KEEP(m, unknown) if (d->m != (unknown)) o->m = d->m;
	KEEP(status, HFW_DEVSTAT_UNKNOWN)
	KEEP(firmware_status, HFW_CPL_UNKNOWN)
	KEEP(cpl_status, HFW_CPL_UNKNOWN)
	KEEP(installation, HFW_INSTALL_UNKNOWN)
	KEEP(althan_option, HFW_ALTHAN_NONE)
	KEEP(third_party, 0)
	KEEP(sleepy, 0)
	KEEP(offline, 0)
#undef KEEP
	if (d->firmware_version[0])
		memcpy(o->firmware_version, d->firmware_version, sizeof(o->firmware_version));
	if (d->has_hardware_version) {
		o->has_hardware_version = 1;
		o->hardware_version = d->hardware_version;
	}
#define TEXT(m) if (d->m && *d->m && !(o->m = hfw_estate_intern(e, d->m))) return hfw_error_oom(err);
	TEXT_MEMBERS(TEXT)
#undef TEXT
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

static int by_eui(const void *a, const void *b)
{
	return memcmp(&((const struct hfw_device *)a)->eui, &((const struct hfw_device *)b)->eui,
		      sizeof(struct hfw_eui));
}

int hfw_estate_sort(hfw_estate *e, struct hfw_error *err)
{
	if (e->n > 1)
		qsort(e->v, e->n, sizeof(*e->v), by_eui);
	if (e->index_cap && index_rebuild(e, e->index_cap) < 0)
		return hfw_error_oom(err);
	return 0;
}

/* ---- names ---- */

static const char *const status_names[] = {
	"", "Pending", "Whitelisted", "InstalledNotCommissioned", "Commissioned", "Decommissioned",
	"Withdrawn", "Suspended", "Recovery", "Recovered", NULL
};
static const char *const cpl_names[] = { "", "Active", "Cancelled", "Expired", "Withdrawn", NULL };
static const char *const install_names[] = { "", "FOC", "IOC", "MOC", "Secure", NULL };
static const char *const althan_names[] = { "", "A", "B", NULL };

static int name_parse(int *out, const char *const *names, const char *text, const char *what,
		      struct hfw_error *err)
{
	int i;

	for (i = 1; names[i]; i++)
		if (strcmp(names[i], text) == 0) {
			*out = i;
			return 0;
		}
	return hfw_error_set(err, HFW_EINPUT, "'%.40s' is not a %s", text, what);
}

const char *hfw_device_status_name(enum hfw_device_status s)
{
	return (unsigned)s <= HFW_DEVSTAT_RECOVERED ? status_names[s] : "";
}

int hfw_device_status_parse(enum hfw_device_status *out, const char *text, struct hfw_error *err)
{
	int v = 0, ret = name_parse(&v, status_names, text, "DUIS DeviceStatus", err);

	*out = (enum hfw_device_status)v;
	return ret;
}

const char *hfw_cpl_status_name(enum hfw_cpl_status s)
{
	return (unsigned)s <= HFW_CPL_WITHDRAWN ? cpl_names[s] : "";
}

int hfw_cpl_status_parse(enum hfw_cpl_status *out, const char *text, struct hfw_error *err)
{
	int v = 0, ret = name_parse(&v, cpl_names, text, "CPL status (Active, Cancelled, Expired, Withdrawn)", err);

	*out = (enum hfw_cpl_status)v;
	return ret;
}

const char *hfw_install_type_name(enum hfw_install_type t)
{
	return (unsigned)t <= HFW_INSTALL_SECURE ? install_names[t] : "";
}

int hfw_install_type_parse(enum hfw_install_type *out, const char *text, struct hfw_error *err)
{
	int v = 0, ret = name_parse(&v, install_names, text, "installation type (FOC, IOC, MOC, Secure)", err);

	*out = (enum hfw_install_type)v;
	return ret;
}

const char *hfw_althan_option_name(enum hfw_althan_option o)
{
	return (unsigned)o <= HFW_ALTHAN_B ? althan_names[o] : "";
}

int hfw_althan_option_parse(enum hfw_althan_option *out, const char *text, struct hfw_error *err)
{
	int v = 0, ret = name_parse(&v, althan_names, text, "Alt HAN option (A, B)", err);

	*out = (enum hfw_althan_option)v;
	return ret;
}

/* ---- writing: one device per line ---- */

static int put_text(json_t *o, const char *key, const char *v)
{
	return v && *v ? json_object_set_new(o, key, json_string(v)) : 0;
}

static json_t *device_json(const struct hfw_device *d)
{
	char eui[HFW_EUI_TEXT_MAX], hub[HFW_EUI_TEXT_MAX];
	json_t *o = json_object();
	int bad = 0;

	if (!o)
		return NULL;
	hfw_eui_format(eui, &d->eui);
	bad |= json_object_set_new(o, "eui", json_string(eui));
	bad |= json_object_set_new(o, "type", json_string(d->type->name));
	if (d->has_comms_hub) {
		hfw_eui_format(hub, &d->comms_hub);
		bad |= json_object_set_new(o, "comms_hub", json_string(hub));
	}
	bad |= put_text(o, "status", hfw_device_status_name(d->status));
	bad |= put_text(o, "manufacturer", d->manufacturer);
	bad |= put_text(o, "model", d->model);
	bad |= put_text(o, "firmware_version", d->firmware_version);
	bad |= put_text(o, "firmware_status", hfw_cpl_status_name(d->firmware_status));
	bad |= put_text(o, "cpl_status", hfw_cpl_status_name(d->cpl_status));
#define PUT(m) bad |= put_text(o, #m, d->m);
	PUT(chts_version) PUT(gbcs_version) PUT(region) PUT(s1sp) PUT(han_variant)
	PUT(connectivity) PUT(date_commissioned) PUT(mpxn) PUT(uprn) PUT(site)
#undef PUT
	bad |= put_text(o, "installation", hfw_install_type_name(d->installation));
	bad |= put_text(o, "althan_option", hfw_althan_option_name(d->althan_option));
	if (d->third_party)
		bad |= json_object_set_new(o, "third_party", json_true());
	if (d->has_hardware_version)
		bad |= json_object_set_new(o, "hardware_version", json_integer(d->hardware_version));
	if (d->sleepy)
		bad |= json_object_set_new(o, "sleepy", json_true());
	if (d->offline)
		bad |= json_object_set_new(o, "offline", json_true());
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int flush_out(struct hfw_atomic *a, char *buf, size_t *len, struct hfw_error *err)
{
	int ret = hfw_atomic_write(a, buf, *len, err);

	*len = 0;
	return ret;
}

int hfw_estate_write(const hfw_estate *e, const char *path, struct hfw_error *err)
{
	static const char head[] = "{\"format\": \"" HFW_ESTATE_FORMAT "\", \"devices\": [";
	struct hfw_atomic a = HFW_ATOMIC_INIT;
	char *target = NULL, *buf = NULL, *text = NULL;
	size_t len = 0, i;
	int ret;

	if ((ret = hfw_output_check(&target, path, err)) < 0 ||
	    (ret = hfw_atomic_open(&a, target, err)) < 0)
		goto out;
	if (!(buf = malloc(READ_CHUNK))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	memcpy(buf, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	for (i = 0; i < e->n; i++) {
		json_t *o = device_json(&e->v[i]);
		size_t tl;

		text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		if (!text) {
			ret = hfw_error_oom(err);
			goto out;
		}
		tl = strlen(text);
		if (len + tl + 3 > READ_CHUNK && (ret = flush_out(&a, buf, &len, err)) < 0)
			goto out;
		buf[len++] = '\n';
		memcpy(buf + len, text, tl);
		len += tl;
		if (i + 1 < e->n)
			buf[len++] = ',';
		free(text);
		text = NULL;
	}
	memcpy(buf + len, "\n]}\n", 4);
	len += 4;
	if ((ret = flush_out(&a, buf, &len, err)) < 0 || (ret = hfw_atomic_commit(&a, err)) < 0)
		goto out;
out:
	hfw_atomic_release(&a);
	free(text);
	free(buf);
	free(target);
	return ret;
}

/* ---- reading: a scanner over a window of the file ---- */

struct reader {
	const char *what;	/* the file, in messages */
	char *buf;		/* owned when reading a file */
	const char *p;		/* window start */
	size_t pos, len;	/* next unread byte, bytes in the window */
	size_t consumed;	/* bytes before the window, for the size limit */
	int fd;			/* -1: the whole text is in the window */
	int eof;
	int format;		/* 0 not seen yet, 1 or 2 */
	size_t v1_missing;	/* devices without the members format 1 requires */
	size_t index;		/* device number, for messages */
	char *scratch;		/* the fast reader's copies of one device's texts */
	struct members *members;
};

static int r_fill(struct reader *r, struct hfw_error *err)
{
	ssize_t got;

	if (r->fd < 0 || r->eof)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->consumed += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	do
		got = read(r->fd, r->buf + r->len, READ_CHUNK - r->len);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return hfw_error_set(err, HFW_EIO, "estate '%s': %s", r->what, strerror(errno));
	if (got == 0)
		r->eof = 1;
	r->len += (size_t)got;
	if (r->consumed + r->len > HFW_ESTATE_MAX_BYTES)
		return hfw_error_set(err, HFW_ELIMIT, "estate '%s' is larger than %u MiB", r->what,
				     HFW_ESTATE_MAX_BYTES >> 20);
	return 1;
}

/* The next byte that is not JSON whitespace; -1 at the end. */
static int r_peek(struct reader *r, struct hfw_error *err, int *ret)
{
	for (;;) {
		while (r->pos < r->len && strchr(" \t\r\n", r->p[r->pos]) && r->p[r->pos])
			r->pos++;
		if (r->pos < r->len)
			return (unsigned char)r->p[r->pos];
		if ((*ret = r_fill(r, err)) <= 0)
			return -1;
		r->p = r->buf;
	}
}

/*
 * Where the JSON value starting at pos ends (index one past it): 1 found,
 * 0 the window ends inside it, -1 malformed.
 */
static int value_end(const struct reader *r, size_t *end)
{
	size_t i = r->pos;
	int depth = 0, in_string = 0;
	char c = r->p[i];

	if (c != '{' && c != '[' && c != '"') {
		while (i < r->len && !strchr(",}] \t\r\n", r->p[i]))
			i++;
		if (i == r->len && !r->eof && r->fd >= 0)
			return 0;
		*end = i;
		return i > r->pos ? 1 : -1;
	}
	for (; i < r->len; i++) {
		c = r->p[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
			if (!in_string && depth == 0) {
				*end = i + 1;
				return 1;
			}
			continue;
		}
		if (c == '"')
			in_string = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0) {
			*end = i + 1;
			return 1;
		}
	}
	return 0;
}

/* Find the extent [r->pos, *end) of the next whole value, reading more as needed. */
static int r_extent(struct reader *r, const char *in, size_t *end, struct hfw_error *err)
{
	int ret = 0, c = r_peek(r, err, &ret), found;

	if (ret < 0)
		return ret;
	if (c < 0)
		return hfw_error_set(err, HFW_EINPUT, "estate '%s' ends inside %s", r->what, in);
	while ((found = value_end(r, end)) == 0) {
		if (r->len - r->pos >= DEVICE_MAX_BYTES)
			return hfw_error_set(err, HFW_ELIMIT, "estate '%s': %s is larger than %u KiB", r->what, in,
					     DEVICE_MAX_BYTES >> 10);
		if ((ret = r_fill(r, err)) < 0)
			return ret;
		r->p = r->buf;
		if (ret == 0)
			return hfw_error_set(err, HFW_EINPUT, "estate '%s' ends inside %s", r->what, in);
	}
	if (found < 0)
		return hfw_error_set(err, HFW_EINPUT, "estate '%s': %s is not valid JSON", r->what, in);
	return 0;
}

/* The next whole value, decoded by jansson.  NULL with err set otherwise. */
static json_t *r_value(struct reader *r, const char *in, struct hfw_error *err)
{
	json_error_t jerr;
	json_t *v;
	size_t end = 0;

	if (r_extent(r, in, &end, err) < 0)
		return NULL;
	if (!(v = json_loadb(r->p + r->pos, end - r->pos, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr))) {
		hfw_error_set(err, HFW_EINPUT, "estate '%s': %s is not valid JSON", r->what, in);
		return NULL;
	}
	r->pos = end;
	return v;
}

static int bad(const struct reader *r, const char *member, const char *why, struct hfw_error *err)
{
	return hfw_error_set(err, HFW_EINPUT, "estate '%s': device %zu: %s %s", r->what, r->index, member, why);
}

/*
 * A device object's members, however they were read: the fast scanner
 * below for the flat objects hanfw writes, jansson for anything else.
 * Both fill this, and one function checks it.
 */
enum member_id {
	M_EUI, M_TYPE, M_COMMS_HUB, M_STATUS, M_MANUFACTURER, M_MODEL, M_FIRMWARE_VERSION,
	M_FIRMWARE_STATUS, M_CPL_STATUS, M_CHTS_VERSION, M_GBCS_VERSION, M_REGION, M_S1SP,
	M_HAN_VARIANT, M_CONNECTIVITY, M_DATE_COMMISSIONED, M_MPXN, M_UPRN, M_SITE, M_INSTALLATION,
	M_ALTHAN_OPTION, M_THIRD_PARTY, M_HARDWARE_VERSION, M_SLEEPY, M_OFFLINE, M_COUNT
};

/* Sorted, for bsearch; the id says which member. */
static const struct member_name { const char *name; enum member_id id; } member_names[] = {
	{ "althan_option", M_ALTHAN_OPTION }, { "chts_version", M_CHTS_VERSION },
	{ "comms_hub", M_COMMS_HUB }, { "connectivity", M_CONNECTIVITY },
	{ "cpl_status", M_CPL_STATUS }, { "date_commissioned", M_DATE_COMMISSIONED },
	{ "eui", M_EUI }, { "firmware_status", M_FIRMWARE_STATUS },
	{ "firmware_version", M_FIRMWARE_VERSION }, { "gbcs_version", M_GBCS_VERSION },
	{ "han_variant", M_HAN_VARIANT }, { "hardware_version", M_HARDWARE_VERSION },
	{ "installation", M_INSTALLATION }, { "manufacturer", M_MANUFACTURER }, { "model", M_MODEL },
	{ "mpxn", M_MPXN }, { "offline", M_OFFLINE }, { "region", M_REGION }, { "s1sp", M_S1SP },
	{ "site", M_SITE }, { "sleepy", M_SLEEPY }, { "status", M_STATUS },
	{ "third_party", M_THIRD_PARTY }, { "type", M_TYPE }, { "uprn", M_UPRN },
};

enum member_kind { K_ABSENT = 0, K_STRING, K_INT, K_BOOL, K_OTHER };

struct member {
	enum member_kind kind;
	const char *s;		/* K_STRING: NUL-terminated */
	size_t len;
	long long i;		/* K_INT, K_BOOL */
};

struct members {
	struct member m[M_COUNT];
};

static int name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct member_name *)elem)->name);
}

static int member_slot(struct reader *r, struct members *ms, const char *key, struct member **out,
		       struct hfw_error *err)
{
	const struct member_name *n = bsearch(key, member_names, M_COUNT, sizeof(member_names[0]), name_cmp);

	if (!n)
		return hfw_error_set(err, HFW_EINPUT, "estate '%s': device %zu: %.40s is not an estate member",
				     r->what, r->index, key);
	if (ms->m[n->id].kind != K_ABSENT)
		return hfw_error_set(err, HFW_EINPUT, "estate '%s': device %zu: %s appears twice", r->what,
				     r->index, n->name);
	*out = &ms->m[n->id];
	return 0;
}

static int bad_id(const struct reader *r, enum member_id id, const char *why, struct hfw_error *err)
{
	size_t i;

	for (i = 0; member_names[i].id != id; i++)
		;
	return bad(r, member_names[i].name, why, err);
}

static int get_text(const struct reader *r, const struct members *ms, enum member_id id, const char **out,
		    struct hfw_error *err)
{
	const struct member *m = &ms->m[id];
	size_t i;

	*out = empty;
	if (m->kind == K_ABSENT)
		return 0;
	if (m->kind != K_STRING || m->len > TEXT_MAX)
		return bad_id(r, id, "is not text of at most the allowed length", err);
	for (i = 0; i < m->len; i++)
		if ((unsigned char)m->s[i] < 0x20)
			return bad_id(r, id, m->s[i] ? "holds a control character" : "holds a NUL", err);
	*out = m->s;
	return 0;
}

static int get_enum(const struct reader *r, const struct members *ms, enum member_id id,
		    const char *const *names, int *out, struct hfw_error *err)
{
	const struct member *m = &ms->m[id];
	int i;

	*out = 0;
	if (m->kind == K_ABSENT)
		return 0;
	for (i = 1; m->kind == K_STRING && names[i]; i++)
		if (strcmp(names[i], m->s) == 0) {
			*out = i;
			return 0;
		}
	return bad_id(r, id, "is not one of the values DUIS or the schema allows", err);
}

static int get_bool(const struct reader *r, const struct members *ms, enum member_id id, int *out,
		    struct hfw_error *err)
{
	const struct member *m = &ms->m[id];

	*out = m->kind == K_BOOL && m->i;
	return m->kind == K_ABSENT || m->kind == K_BOOL ? 0 : bad_id(r, id, "is not true or false", err);
}

static int device_from_members(struct reader *r, const struct members *ms, struct hfw_device *dev,
			       struct hfw_error *err)
{
	const struct member *m;
	int st = 0, fs = 0, cs = 0, it = 0, ao = 0, ret;
	size_t i;

	memset(dev, 0, sizeof(*dev));
	m = &ms->m[M_EUI];
	if (m->kind != K_STRING || hfw_eui_parse(&dev->eui, m->s, "eui", err) < 0)
		return bad(r, "eui", "is missing or not an EUI-64", err);
	m = &ms->m[M_TYPE];
	if (m->kind != K_STRING || hfw_device_type_find(&dev->type, m->s, err) < 0)
		return bad(r, "type", "is missing or not a device type", err);
	m = &ms->m[M_COMMS_HUB];
	if (m->kind != K_ABSENT) {
		if (m->kind != K_STRING || hfw_eui_parse(&dev->comms_hub, m->s, "comms_hub", err) < 0)
			return bad(r, "comms_hub", "is not an EUI-64", err);
		dev->has_comms_hub = 1;
	} else if (strcmp(dev->type->name, "CHF") == 0) {
		dev->comms_hub = dev->eui;	/* a hub is its own */
		dev->has_comms_hub = 1;
	}
	m = &ms->m[M_HARDWARE_VERSION];
	if (m->kind != K_ABSENT) {
		if (m->kind != K_INT || m->i < 0 || m->i > 0xFFFF)
			return bad(r, "hardware_version", "is not a 16-bit number", err);
		dev->hardware_version = (uint16_t)m->i;
		dev->has_hardware_version = 1;
	}
	m = &ms->m[M_FIRMWARE_VERSION];
	if (m->kind != K_ABSENT) {
		if (m->kind != K_STRING || m->len == 0 || m->len > 8)
			return bad(r, "firmware_version", "is not 1 to 8 characters", err);
		for (i = 0; i < m->len; i++)
			if (m->s[i] <= ' ' || m->s[i] > '~')
				return bad(r, "firmware_version", "holds a character DUIS versions never have", err);
		memcpy(dev->firmware_version, m->s, m->len + 1);
	}
	if (!dev->has_hardware_version || ms->m[M_COMMS_HUB].kind == K_ABSENT ||
	    strlen(dev->firmware_version) != 8 || strspn(dev->firmware_version, "0123456789ABCDEFabcdef") != 8)
		r->v1_missing++;
	if ((ret = get_enum(r, ms, M_STATUS, status_names, &st, err)) < 0 ||
	    (ret = get_enum(r, ms, M_FIRMWARE_STATUS, cpl_names, &fs, err)) < 0 ||
	    (ret = get_enum(r, ms, M_CPL_STATUS, cpl_names, &cs, err)) < 0 ||
	    (ret = get_enum(r, ms, M_INSTALLATION, install_names, &it, err)) < 0 ||
	    (ret = get_enum(r, ms, M_ALTHAN_OPTION, althan_names, &ao, err)) < 0 ||
	    (ret = get_bool(r, ms, M_THIRD_PARTY, &dev->third_party, err)) < 0 ||
	    (ret = get_bool(r, ms, M_SLEEPY, &dev->sleepy, err)) < 0 ||
	    (ret = get_bool(r, ms, M_OFFLINE, &dev->offline, err)) < 0)
		return ret;
	dev->status = (enum hfw_device_status)st;
	dev->firmware_status = (enum hfw_cpl_status)fs;
	dev->cpl_status = (enum hfw_cpl_status)cs;
	dev->installation = (enum hfw_install_type)it;
	dev->althan_option = (enum hfw_althan_option)ao;
	if ((ret = get_text(r, ms, M_MANUFACTURER, &dev->manufacturer, err)) < 0 ||
	    (ret = get_text(r, ms, M_MODEL, &dev->model, err)) < 0 ||
	    (ret = get_text(r, ms, M_CHTS_VERSION, &dev->chts_version, err)) < 0 ||
	    (ret = get_text(r, ms, M_GBCS_VERSION, &dev->gbcs_version, err)) < 0 ||
	    (ret = get_text(r, ms, M_REGION, &dev->region, err)) < 0 ||
	    (ret = get_text(r, ms, M_S1SP, &dev->s1sp, err)) < 0 ||
	    (ret = get_text(r, ms, M_HAN_VARIANT, &dev->han_variant, err)) < 0 ||
	    (ret = get_text(r, ms, M_CONNECTIVITY, &dev->connectivity, err)) < 0 ||
	    (ret = get_text(r, ms, M_DATE_COMMISSIONED, &dev->date_commissioned, err)) < 0 ||
	    (ret = get_text(r, ms, M_MPXN, &dev->mpxn, err)) < 0 ||
	    (ret = get_text(r, ms, M_UPRN, &dev->uprn, err)) < 0 ||
	    (ret = get_text(r, ms, M_SITE, &dev->site, err)) < 0)
		return ret;
	return 0;
}

/* jansson's reading of a device object into members (strings stay in d). */
static int members_from_json(struct reader *r, json_t *d, struct members *ms, struct hfw_error *err)
{
	const char *key;
	json_t *v;
	int ret;

	memset(ms, 0, sizeof(*ms));
	if (!json_is_object(d))
		return bad(r, "entry", "is not an object", err);
	json_object_foreach(d, key, v) {
		struct member *m;

		if ((ret = member_slot(r, ms, key, &m, err)) < 0)
			return ret;
		if (json_is_string(v)) {
			m->kind = K_STRING;
			m->s = json_string_value(v);
			m->len = json_string_length(v);
		} else if (json_is_integer(v)) {
			m->kind = K_INT;
			m->i = json_integer_value(v);
		} else if (json_is_boolean(v)) {
			m->kind = K_BOOL;
			m->i = json_is_true(v);
		} else {
			m->kind = K_OTHER;
		}
	}
	return 0;
}

/*
 * The fast reading of a flat device object in [p, end): plain strings,
 * small integers, true and false.  0 done, 1 "not that simple, ask
 * jansson" (escapes, nesting, null, fractions...), <0 an estate error.
 * Strings are copied NUL-terminated into scratch (as long as the object).
 */
static int members_fast(struct reader *r, const char *p, const char *end, char *scratch,
			struct members *ms, struct hfw_error *err)
{
	int ret;

	memset(ms, 0, sizeof(*ms));
#define WS() while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++
	WS();
	if (p == end || *p++ != '{')
		return 1;
	WS();
	if (p < end && *p == '}')
		return 0;
	for (;;) {
		const char *k, *q;
		struct member *m;
		char key[24];

		WS();
		if (p == end || *p++ != '"')
			return 1;
		for (k = p; p < end && *p != '"' && *p != '\\'; p++)
			;
		if (p == end || *p != '"' || (size_t)(p - k) >= sizeof(key))
			return 1;
		memcpy(key, k, (size_t)(p - k));
		key[p - k] = '\0';
		p++;
		WS();
		if (p == end || *p++ != ':')
			return 1;
		WS();
		if ((ret = member_slot(r, ms, key, &m, err)) < 0)
			return ret;
		if (p < end && *p == '"') {
			for (q = ++p; p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20; p++)
				;
			if (p == end || *p != '"')
				return 1;
			m->kind = K_STRING;
			m->len = (size_t)(p - q);
			memcpy(scratch, q, m->len);
			scratch[m->len] = '\0';
			m->s = scratch;
			scratch += m->len + 1;
			p++;
		} else if (p < end && *p >= '0' && *p <= '9') {
			long long v = 0;

			for (q = p; p < end && *p >= '0' && *p <= '9' && p - q < 12; p++)
				v = v * 10 + (*p - '0');
			if ((p < end && strchr(".eE0123456789", *p)) || (*q == '0' && p - q > 1))
				return 1;
			m->kind = K_INT;
			m->i = v;
		} else if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
			m->kind = K_BOOL;
			m->i = 1;
			p += 4;
		} else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
			m->kind = K_BOOL;
			p += 5;
		} else {
			return 1;
		}
		WS();
		if (p == end)
			return 1;
		if (*p == '}') {
			p++;
			WS();
			return p == end ? 0 : 1;
		}
		if (*p++ != ',')
			return 1;
	}
#undef WS
}

static int expect(struct reader *r, char want, const char *where, struct hfw_error *err)
{
	int ret = 0, c = r_peek(r, err, &ret);

	if (ret < 0)
		return ret;
	if (c != want)
		return hfw_error_set(err, HFW_EINPUT, "estate '%s': expected '%c' %s", r->what, want, where);
	r->pos++;
	return 0;
}

static int read_devices(struct reader *r, hfw_estate *e, struct hfw_error *err)
{
	int ret, c;

	if ((ret = expect(r, '[', "after \"devices\":", err)) < 0)
		return ret;
	ret = 0;
	if ((c = r_peek(r, err, &ret)) == ']') {
		r->pos++;
		return 0;
	}
	for (;;) {
		struct hfw_device dev;
		json_t *d = NULL;
		size_t end = 0;

		if (ret < 0)
			return ret;
		if ((ret = r_extent(r, "a device", &end, err)) < 0)
			return ret;
		if (end - r->pos > DEVICE_MAX_BYTES)
			return hfw_error_set(err, HFW_ELIMIT, "estate '%s': a device is larger than %u KiB", r->what,
					     DEVICE_MAX_BYTES >> 10);
		ret = members_fast(r, r->p + r->pos, r->p + end, r->scratch, r->members, err);
		if (ret > 0) {
			json_error_t jerr;

			if (!(d = json_loadb(r->p + r->pos, end - r->pos, JSON_REJECT_DUPLICATES, &jerr)))
				return hfw_error_set(err, HFW_EINPUT, "estate '%s': device %zu is not a valid JSON object",
						     r->what, r->index);
			ret = members_from_json(r, d, r->members, err);
		}
		r->pos = end;
		if (ret == 0)
			ret = device_from_members(r, r->members, &dev, err);
		if (ret == 0 && (ret = hfw_estate_add(e, &dev, err)) < 0 && ret == HFW_EINPUT)
			ret = bad(r, "eui", "appears twice", err);
		json_decref(d);	/* after add: dev's texts point into d or scratch until interned */
		if (ret < 0)
			return ret;
		r->index++;
		c = r_peek(r, err, &ret);
		if (ret < 0)
			return ret;
		if (c == ']') {
			r->pos++;
			return 0;
		}
		if (c != ',')
			return hfw_error_set(err, HFW_EINPUT, "estate '%s': expected ',' or ']' after device %zu",
					     r->what, r->index - 1);
		r->pos++;
	}
}

static int read_estate(struct reader *r, hfw_estate *e, struct hfw_error *err)
{
	int ret = 0, c, seen_devices = 0;

	if ((ret = expect(r, '{', "at the start", err)) < 0)
		return ret;
	for (;;) {
		json_t *k, *v;
		char key[16];

		c = r_peek(r, err, &ret);
		if (ret < 0)
			return ret;
		if (c == '}' && !seen_devices && !r->format)
			break;
		if (!(k = r_value(r, "a member name", err)))
			return err->code;
		if (!json_is_string(k) || json_string_length(k) >= sizeof(key)) {
			json_decref(k);
			goto shape;
		}
		memcpy(key, json_string_value(k), json_string_length(k) + 1);
		json_decref(k);
		if ((ret = expect(r, ':', "after a member name", err)) < 0)
			return ret;
		if (strcmp(key, "devices") == 0 && !seen_devices) {
			if ((ret = read_devices(r, e, err)) < 0)
				return ret;
			seen_devices = 1;
		} else if (strcmp(key, "format") == 0 && !r->format) {
			const char *f;

			if (!(v = r_value(r, "the format", err)))
				return err->code;
			f = json_string_value(v);
			r->format = f && strcmp(f, HFW_ESTATE_FORMAT) == 0 ? 2 :
				    f && strcmp(f, HFW_ESTATE_FORMAT_1) == 0 ? 1 : -1;
			json_decref(v);
			if (r->format < 0)
				goto shape;
		} else {
			goto shape;
		}
		c = r_peek(r, err, &ret);
		if (ret < 0)
			return ret;
		if (c < 0)
			goto shape;
		r->pos++;
		if (c == '}')
			break;
		if (c != ',')
			goto shape;
	}
	if (!seen_devices || r->format <= 0)
		goto shape;
	if (r_peek(r, err, &ret) >= 0 || ret < 0)
		return ret < 0 ? ret : hfw_error_set(err, HFW_EINPUT, "estate '%s' has text after its end", r->what);
	if (r->format == 1 && r->v1_missing)
		return hfw_error_set(err, HFW_EINPUT,
				     "estate '%s': %zu device(s) lack comms_hub, hardware_version or an 8-hex-digit firmware_version, which %s requires",
				     r->what, r->v1_missing, HFW_ESTATE_FORMAT_1);
	return 0;
shape:
	return hfw_error_set(err, HFW_EINPUT,
			     "estate '%s' is not {\"format\": \"%s\" (or \"%s\"), \"devices\": [...]}",
			     r->what, HFW_ESTATE_FORMAT, HFW_ESTATE_FORMAT_1);
}

int hfw_estate_parse(hfw_estate **out, const char *text, size_t len, const char *what,
		     struct hfw_error *err)
{
	struct reader r;
	hfw_estate *e = NULL;
	int ret;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.what = what;
	r.p = text;
	r.len = len;
	r.fd = -1;
	r.eof = 1;
	if (len > HFW_ESTATE_MAX_BYTES)
		return hfw_error_set(err, HFW_ELIMIT, "estate '%s' is larger than %u MiB", what,
				     HFW_ESTATE_MAX_BYTES >> 20);
	if (!(r.scratch = malloc(DEVICE_MAX_BYTES + 1)) || !(r.members = malloc(sizeof(*r.members)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if ((ret = hfw_estate_new(&e, err)) < 0 || (ret = read_estate(&r, e, err)) < 0)
		goto out;
	*out = e;
	e = NULL;
out:
	hfw_estate_free(e);
	free(r.members);
	free(r.scratch);
	return ret;
}

int hfw_estate_read(hfw_estate **out, const char *path, struct hfw_error *err)
{
	struct reader r;
	hfw_estate *e = NULL;
	int ret;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.what = path;
	r.fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0)
		return hfw_error_set(err, HFW_EIO, "cannot read estate '%s': %s", path, strerror(errno));
	if (!(r.buf = malloc(READ_CHUNK)) || !(r.scratch = malloc(DEVICE_MAX_BYTES + 1)) ||
	    !(r.members = malloc(sizeof(*r.members)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	r.p = r.buf;
	if ((ret = hfw_estate_new(&e, err)) < 0 || (ret = read_estate(&r, e, err)) < 0)
		goto out;
	*out = e;
	e = NULL;
out:
	hfw_estate_free(e);
	free(r.members);
	free(r.scratch);
	free(r.buf);
	if (r.fd > STDIN_FILENO)
		close(r.fd);
	return ret;
}
