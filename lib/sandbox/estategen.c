/* estategen.c - the sandbox's estates, generated from a spec (see estategen.h). */
#include "estategen.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Second-from-left octet of a generated EUI names the device type. */
static uint8_t type_octet(const char *name)
{
	static const struct { const char *name; uint8_t code; } codes[] = {
		{ "ESME", 0x10 }, { "GSME", 0x20 }, { "HCALCS", 0x30 }, { "PPMID", 0x40 }, { "IHD", 0x50 },
		{ "ALTHAN-B1", 0x61 }, { "ALTHAN-B2", 0x62 }, { "ALTHAN-B3", 0x63 }, { "ALTHAN-B4", 0x64 },
		{ "CHF", 0xC0 }, { "GPF", 0xD0 },
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].name, name) == 0)
			return codes[i].code;
	return 0xEE;
}

static struct hfw_eui make_eui(uint8_t type, unsigned group, unsigned index)
{
	struct hfw_eui e = { { 0x00, 0xDB, 0x12, type, (uint8_t)group, (uint8_t)(index >> 16),
			       (uint8_t)(index >> 8), (uint8_t)index } };

	return e;
}

static void fill(struct hfw_device *d, const struct hfw_device_type *t, struct hfw_eui eui,
		 struct hfw_eui hub)
{
	memset(d, 0, sizeof(*d));
	d->eui = eui;
	d->type = t;
	d->has_comms_hub = 1;
	d->comms_hub = hub;
	d->status = HFW_DEVSTAT_COMMISSIONED;
	d->has_hardware_version = 1;
	d->hardware_version = 0x1111;
	snprintf(d->firmware_version, sizeof(d->firmware_version), "01000000");
	/* Gas meters sleep; the GPF keeps their image until they wake (GBCS). */
	d->sleepy = strcmp(t->name, "GSME") == 0;
}

int hfw_estate_generate(hfw_estate **out, const char *spec, struct hfw_error *err)
{
	hfw_estate *e = NULL;
	char *copy = NULL, *group, *gsave = NULL;
	const struct hfw_device_type *chf;
	unsigned g = 0;
	int ret;

	*out = NULL;
	if ((ret = hfw_estate_new(&e, err)) < 0)
		return ret;
	/* strtok_r would skip empty groups and items silently; a typo should not pass. */
	{
		size_t n = strlen(spec);

		if (n == 0 || strstr(spec, ";;") || strstr(spec, ",,") || strstr(spec, ";,") || strstr(spec, ",;") ||
		    strchr(";,", spec[0]) || strchr(";,", spec[n - 1]))
			goto bad;
	}
	if (!(copy = strdup(spec))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	hfw_device_type_find(&chf, "CHF", err);
	for (group = strtok_r(copy, ";", &gsave); group; group = strtok_r(NULL, ";", &gsave), g++) {
		char *item, *isave = NULL;
		unsigned long hubs = 0;
		struct { const struct hfw_device_type *t; unsigned long n; } items[16];
		size_t ni = 0, i;
		unsigned long h;

		for (item = strtok_r(group, ",", &isave); item; item = strtok_r(NULL, ",", &isave)) {
			char *eq = strchr(item, '='), *end;

			if (!eq || ni == 16)
				goto bad;
			*eq = '\0';
			if (hfw_device_type_find(&items[ni].t, item, err) < 0 ||
			    items[ni].t->route == HFW_ROUTE_NONE)
				goto bad;
			errno = 0;
			items[ni].n = strtoul(eq + 1, &end, 10);
			if (errno || *end || !isdigit((unsigned char)eq[1]) || items[ni].n > 0xFFFFFF)
				goto bad;
			if (items[ni].n > hubs)
				hubs = items[ni].n;
			ni++;
		}
		if (ni == 0 || g > 0xFF)
			goto bad;
		for (h = 0; h < hubs; h++) {
			struct hfw_device d;
			struct hfw_eui hub = make_eui(0xC0, g, (unsigned)h);

			fill(&d, chf, hub, hub);
			if ((ret = hfw_estate_add(e, &d, err)) < 0)
				goto out;
			for (i = 0; i < ni; i++) {
				if (h >= items[i].n)
					continue;
				fill(&d, items[i].t, make_eui(type_octet(items[i].t->name), g, (unsigned)h), hub);
				if ((ret = hfw_estate_add(e, &d, err)) < 0)
					goto out;
			}
		}
	}
	if (hfw_estate_count(e) == 0)
		goto bad;
	*out = e;
	e = NULL;
	ret = 0;
	goto out;
bad:
	ret = hfw_error_set(err, HFW_EINPUT,
			    "device spec '%.80s' is not TYPE=COUNT[,TYPE=COUNT...][;...] with types that take firmware",
			    spec);
out:
	free(copy);
	hfw_estate_free(e);
	return ret;
}
