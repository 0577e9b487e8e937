/* devlist.c - lists of target devices (see devlist.h). */
#include "devlist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hfw_devlist_add(struct hfw_devlist *l, const struct hfw_eui *eui,
		    const struct hfw_device_type *type, struct hfw_error *err)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct hfw_target *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return hfw_error_oom(err);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].eui = *eui;
	l->v[l->n].type = type;
	l->n++;
	return 0;
}

int hfw_devlist_parse(struct hfw_devlist *l, const char *text, size_t len, const char *what,
		      struct hfw_error *err)
{
	size_t pos = 0, line = 0;
	int ret;

	while (pos < len) {
		const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		char buf[128], *tok, *save = NULL, *eui_text, *type_text;
		const struct hfw_device_type *type = NULL;
		struct hfw_eui eui;

		pos += n + (nl ? 1 : 0);
		line++;
		if (memchr(start, '#', n))
			n = (size_t)((const char *)memchr(start, '#', n) - start);
		if (n >= sizeof(buf))
			return hfw_error_set(err, HFW_EINPUT, "%s line %zu is too long", what, line);
		memcpy(buf, start, n);
		buf[n] = '\0';
		if (!(eui_text = strtok_r(buf, " \t\r,", &save)))
			continue;	/* blank */
		type_text = strtok_r(NULL, " \t\r,", &save);
		if ((tok = strtok_r(NULL, " \t\r,", &save)))
			return hfw_error_set(err, HFW_EINPUT, "%s line %zu: unexpected '%.20s' after the device", what,
					     line, tok);
		if (hfw_eui_parse(&eui, eui_text, "device", err) < 0)
			return hfw_error_set(err, HFW_EINPUT, "%s line %zu: '%.30s' is not an EUI-64", what, line, eui_text);
		if (type_text && hfw_device_type_find(&type, type_text, err) < 0)
			return hfw_error_set(err, HFW_EINPUT, "%s line %zu: unknown device type '%.20s'", what, line,
					     type_text);
		if ((ret = hfw_devlist_add(l, &eui, type, err)) < 0)
			return ret;
	}
	return 0;
}

static int by_eui(const void *a, const void *b)
{
	return memcmp(&((const struct hfw_target *)a)->eui, &((const struct hfw_target *)b)->eui,
		      sizeof(struct hfw_eui));
}

int hfw_devlist_finish(struct hfw_devlist *l, struct hfw_error *err)
{
	size_t i, o = 0;

	if (l->n == 0)
		return hfw_error_set(err, HFW_EINPUT, "no devices given");
	qsort(l->v, l->n, sizeof(*l->v), by_eui);
	for (i = 0; i < l->n; i++) {
		if (o && memcmp(&l->v[o - 1].eui, &l->v[i].eui, sizeof(struct hfw_eui)) == 0) {
			if (l->v[i].type && l->v[o - 1].type && l->v[i].type != l->v[o - 1].type) {
				char eui[HFW_EUI_TEXT_MAX];

				hfw_eui_format(eui, &l->v[i].eui);
				return hfw_error_set(err, HFW_EINPUT, "device %s is listed as both %s and %s", eui,
						     l->v[o - 1].type->name, l->v[i].type->name);
			}
			if (!l->v[o - 1].type)
				l->v[o - 1].type = l->v[i].type;
			l->duplicates++;
			continue;
		}
		l->v[o++] = l->v[i];
	}
	l->n = o;
	return 0;
}

void hfw_devlist_release(struct hfw_devlist *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = l->cap = l->duplicates = 0;
}
