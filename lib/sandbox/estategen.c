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
	uint64_t mixed_n, mixed_seed;
	int ret;

	*out = NULL;
	if ((ret = hfw_estategen_mixed_spec(spec, &mixed_n, &mixed_seed, err)) != 0)
		return ret < 0 ? ret : hfw_estate_generate_mixed(out, mixed_n, mixed_seed, err);
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

/* ---- Mixed estates (see estategen.h) ---- */

#include <inttypes.h>

#include <jansson.h>

#include "../buf.h"
#include "../fileio.h"

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

/* The products of a mixed estate: device models, hub models, the sample images. */
struct gen_model {
	const char *key, *type, *manufacturer, *model, *name;
	unsigned mc, it;
};

static const struct gen_model gen_models[] = {
	{ "esme", "ESME", "1039", "E470A001", "Landis+Gyr E470 single-phase ESME", 0x1039, 0x0001 },
	{ "esme_old", "ESME", "1039", "E350A001", "Landis+Gyr E350 ESME (no image in this campaign)", 0x1039, 0x0011 },
	{ "gsme", "GSME", "1039", "G470A001", "Landis+Gyr G470 GSME", 0x1039, 0x0002 },
	{ "ppmid", "PPMID", "121D", "P300B001", "Chameleon P300 PPMID", 0x121D, 0x0084 },
	{ "ppmid_path", "PPMID", "121D", "P310B001", "Chameleon P310 PPMID (upgrade pathway)", 0x121D, 0x0084 },
	{ "ppmid_withdrawn", "PPMID", "121D", "P290B001", "Chameleon P290 PPMID (target version withdrawn)", 0x121D, 0x0084 },
	{ "ppmid_locked", "PPMID", "121D", "P320B001", "Chameleon P320 PPMID (image locked to one hub manufacturer)", 0x121D, 0x0084 },
	{ "ppmid_s1", "PPMID", "121D", "P300S101", "Chameleon P300 bilingual PPMID, SMETS1 CPL entry", 0x121D, 0x0084 },
	{ "pebble", "PPMID", "1039", "P4500001", "Landis+Gyr P450 Pebble PPMID", 0x1039, 0x0084 },
	{ "hcalcs", "HCALCS", "1234", "H100C001", "Sunamp H100 HCALCS", 0x1234, 0x0030 },
	{ "ihd", "IHD", "121D", "D200A001", "Chameleon IHD6", 0x121D, 0x0050 },
	{ "b1", "ALTHAN-B1", "1235", "AHB10001", "Alt HAN bridge 1", 0x1235, 0x0061 },
	{ "b2", "ALTHAN-B2", "1235", "AHB20001", "Alt HAN bridge 2", 0x1235, 0x0062 },
	{ "b3", "ALTHAN-B3", "1235", "AHB30001", "Alt HAN bridge 3 (with bridge 4)", 0x1235, 0x0063 },
	{ "b4", "ALTHAN-B4", "1235", "AHB40001", "Alt HAN bridge 4 (sleepy)", 0x1235, 0x0064 },
};

#define GEN_TARGET "02000000"
#define GEN_TARGET_VERSION 0x02000000u
#define GEN_OLD "01000000"

/* The sample images: one per model family the campaign updates. */
static const struct { const char *type; unsigned mc, it; const char *file; } gen_images[] = {
	{ "ESME", 0x1039, 0x0001, "esme.img" },	{ "GSME", 0x1039, 0x0002, "gsme.img" },
	{ "PPMID", 0x121D, 0x0084, "ppmid.img" },	{ "HCALCS", 0x1234, 0x0030, "hcalcs.img" },
	{ "IHD", 0x121D, 0x0050, "ihd.img" },	{ "ALTHAN-B1", 0x1235, 0x0061, "b1.img" },
	{ "ALTHAN-B2", 0x1235, 0x0062, "b2.img" },	{ "ALTHAN-B3", 0x1235, 0x0063, "b3.img" },
};

/* Hubs: capable ones of two manufacturers, one too small for any image, one not in the products file. */
enum gen_hub { HUB_TB, HUB_WN, HUB_TB_OLD, HUB_SMALL, HUB_UNKNOWN };
static const struct { const char *manufacturer, *model, *firmware; } gen_hubs[] = {
	[HUB_TB] = { "1069", "CHF-TB42", "00030401" },
	[HUB_WN] = { "1050", "CHF-WN31", "00020103" },
	[HUB_TB_OLD] = { "1069", "CHF-TB42", "00030300" },
	[HUB_SMALL] = { "1050", "CHF-WN20", "00020103" },
	[HUB_UNKNOWN] = { "10FF", "CHF-XX01", "00010000" },
};

static const struct gen_model *gen_model(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(gen_models) / sizeof(gen_models[0]); i++)
		if (strcmp(gen_models[i].key, key) == 0)
			return &gen_models[i];
	return NULL;
}

struct gen {
	hfw_estate *e;
	struct rng r;
	struct hfw_buf *truth, *supplier;	/* NULL: estate only */
	uint64_t premises;
	unsigned slot;
	/* this premises */
	enum gen_hub hub_kind;
	struct hfw_eui hub;
	int smets1;
	const char *site, *uprn, *region, *s1sp;
	char site_buf[16], uprn_buf[16];
};

/* The device types' octet in a mixed estate's EUIs (00-DB-13-TT-PP-PP-PP-SS). */
static uint8_t gen_type_octet(const char *type)
{
	uint8_t t = type_octet(type);

	return t == 0xEE ? (strcmp(type, "CAD") == 0 ? 0xCA : 0xEE) : t;
}

/*
 * Add one device and its expected decision.  expect is the device's own
 * reason (NULL: none of its own), to which the hub's reasons are added in
 * the documented precedence when the device would otherwise be included.
 */
static int gen_add(struct gen *g, const char *type, const char *model_key, const char *status, const char *fw,
		   const char *expect, int hardware, const char *bridge, const char *althan, const char *installation,
		   int third_party, struct hfw_error *err)
{
	const struct gen_model *m = model_key ? gen_model(model_key) : NULL;
	struct hfw_device d;
	char eui[HFW_EUI_TEXT_MAX];
	const char *outcome = expect;
	int ret;

	memset(&d, 0, sizeof(d));
	d.eui = (struct hfw_eui){ { 0x00, 0xDB, 0x13, gen_type_octet(type), (uint8_t)(g->premises >> 16),
				    (uint8_t)(g->premises >> 8), (uint8_t)g->premises, (uint8_t)g->slot++ } };
	if ((ret = hfw_device_type_find(&d.type, type, err)) < 0)
		return ret;
	if (strcmp(type, "CHF") == 0)
		g->hub = d.eui;
	d.has_comms_hub = 1;
	d.comms_hub = g->hub;
	if ((ret = hfw_device_status_parse(&d.status, status, err)) < 0)
		return ret;
	if (strcmp(type, "CHF") == 0) {
		d.manufacturer = gen_hubs[g->hub_kind].manufacturer;
		d.model = gen_hubs[g->hub_kind].model;
		fw = gen_hubs[g->hub_kind].firmware;
	} else if (strcmp(type, "GPF") == 0) {
		d.manufacturer = gen_hubs[g->hub_kind].manufacturer;
		d.model = "GPF-0001";
	} else if (strcmp(type, "CAD") == 0) {
		d.manufacturer = "4C47";
		d.model = "CAD-GL01";
	} else {
		d.manufacturer = m->manufacturer;
		d.model = m->model;
	}
	snprintf(d.firmware_version, sizeof(d.firmware_version), "%s", fw);
	d.firmware_status = HFW_CPL_ACTIVE;
	d.cpl_status = HFW_CPL_ACTIVE;
	d.chts_version = "";
	d.gbcs_version = g->smets1 ? "" : "3.2";
	d.region = g->region;
	d.s1sp = g->s1sp;
	d.han_variant = strcmp(type, "CHF") == 0 ? "Single Band" : "";
	d.connectivity = "";
	d.date_commissioned = strcmp(status, "Commissioned") == 0 ? "2024-03-01" : "";
	d.mpxn = "";
	d.uprn = g->uprn;
	d.site = g->site;
	if (installation)
		hfw_install_type_parse(&d.installation, installation, err);
	if (althan)
		hfw_althan_option_parse(&d.althan_option, althan, err);
	d.third_party = third_party;
	if (hardware >= 0) {
		d.has_hardware_version = 1;
		d.hardware_version = (uint16_t)hardware;
	}
	d.sleepy = strcmp(type, "GSME") == 0 || strcmp(type, "ALTHAN-B4") == 0;
	if ((ret = hfw_estate_add(g->e, &d, err)) < 0)
		return ret;

	/* The hub's reasons, for a device that would otherwise be included. */
	if (!outcome) {
		int han = strcmp(type, "PPMID") == 0 || strcmp(type, "IHD") == 0 || strcmp(type, "HCALCS") == 0 ||
			  strncmp(type, "ALTHAN-", 7) == 0;

		if (g->hub_kind == HUB_UNKNOWN)
			outcome = "hub_unknown";
		else if (han && g->hub_kind == HUB_TB_OLD)
			outcome = "hub_not_capable";
		else if (g->hub_kind == HUB_SMALL)
			outcome = "image_too_large_for_hub";
		else if (model_key && strcmp(model_key, "ppmid_locked") == 0 &&
			 strcmp(gen_hubs[g->hub_kind].manufacturer, "1069") != 0)
			outcome = "hub_metadata_locked";
		else
			outcome = "included";
	}
	hfw_eui_format(eui, &d.eui);
	if (g->truth && (ret = hfw_buf_printf(g->truth, err, "%s\n    \"%s\": \"%s\"", g->truth->len > 64 ? "," : "", eui,
					      outcome)) < 0)
		return ret;
	if (g->supplier) {
		char hw[12] = "";

		if (hardware >= 0)
			snprintf(hw, sizeof(hw), "%d", hardware);
		ret = hfw_buf_printf(g->supplier, err, "%s,%s,%s,%s,%d,%s,%s,%d\n", eui, bridge ? bridge : "", g->site,
				     installation ? installation : "", third_party, hw, althan ? althan : "", d.sleepy);
		if (ret < 0)
			return ret;
	}
	return 0;
}

#define ADD(type, key, status, fw, expect, hw, bridge, althan, inst, tp) \
	do { \
		if ((ret = gen_add(g, type, key, status, fw, expect, hw, bridge, althan, inst, tp, err)) < 0) \
			return ret; \
	} while (0)

/* One premises: its hub, meters, IHD and one HAN arrangement drawn from the mix. */
static int gen_premises(struct gen *g, struct hfw_error *err)
{
	static const char *const regions[] = { "North", "Central", "South" };
	const char *c = "Commissioned";
	unsigned h = rng_below(&g->r, 100), k = rng_below(&g->r, 100);
	int ret;

	g->slot = 0;
	g->smets1 = rng_below(&g->r, 100) < 8;
	g->hub_kind = h < 38 ? HUB_TB : h < 76 ? HUB_WN : h < 84 ? HUB_TB_OLD : h < 90 ? HUB_SMALL : h < 94 ? HUB_UNKNOWN
		      : (h & 1) ? HUB_TB : HUB_WN;
	snprintf(g->site_buf, sizeof(g->site_buf), "S%07" PRIu64, g->premises);
	snprintf(g->uprn_buf, sizeof(g->uprn_buf), "10%09" PRIu64, g->premises);
	g->site = g->site_buf;
	g->uprn = g->uprn_buf;
	g->region = g->smets1 ? "SMETS1" : regions[g->premises % 3];
	g->s1sp = "";
	ADD("CHF", NULL, c, "", "no_route", -1, NULL, NULL, NULL, 0);
	ADD("GPF", NULL, c, "00010000", "no_route", -1, NULL, NULL, NULL, 0);
	if (g->smets1) {
		/* A SMETS1 installation: FOC, IOC, MOC or Secure, with a bilingual PPMID. */
		static const char *const inst[] = { "FOC", "IOC", "MOC", "Secure" };
		static const char *const s1sp[] = { "S1SP-FOC", "S1SP-IOC", "S1SP-MOC", "S1SP-Secure" };
		unsigned i = rng_below(&g->r, 4);
		int third = i == 3 && rng_below(&g->r, 2);

		g->s1sp = s1sp[i];
		ADD("ESME", "esme", c, GEN_OLD, "smets1", -1, NULL, NULL, inst[i], 0);
		ADD("GSME", "gsme", c, GEN_OLD, "smets1", -1, NULL, NULL, inst[i], 0);
		ADD("PPMID", "ppmid_s1", c, GEN_OLD, third ? "secure_third_party" : "smets1", 0x10, NULL, NULL, inst[i], third);
		return 0;
	}
	if (k >= 86 && k < 90)
		ADD("ESME", "esme_old", c, GEN_OLD, "model_mismatch", -1, NULL, NULL, NULL, 0);
	else if (rng_below(&g->r, 100) < 95) {
		int at = rng_below(&g->r, 100) < 4;

		ADD("ESME", "esme", c, at ? GEN_TARGET : GEN_OLD, at ? "already_at_target" : NULL, -1, NULL, NULL, NULL, 0);
	}
	if (rng_below(&g->r, 100) < 60)
		ADD("GSME", "gsme", c, GEN_OLD, NULL, -1, NULL, NULL, NULL, 0);
	if (rng_below(&g->r, 100) < 50)
		ADD("IHD", "ihd", c, GEN_OLD, "ihd_out_of_scope", -1, NULL, NULL, NULL, 0);
	if (k < 30) {
		ADD("PPMID", "ppmid", c, GEN_OLD, NULL, 0x10, NULL, NULL, NULL, 0);
	} else if (k < 40) {
		ADD("PPMID", "ppmid", c, GEN_OLD, NULL, 0x10, NULL, NULL, NULL, 0);
		ADD("HCALCS", "hcalcs", c, GEN_OLD, NULL, -1, NULL, NULL, NULL, 0);
	} else if (k < 45) {
		ADD("HCALCS", "hcalcs", c, GEN_OLD, NULL, -1, NULL, NULL, NULL, 0);
	} else if (k < 50) {
		int allowed = rng_below(&g->r, 2);

		ADD("PPMID", "ppmid_path", c, allowed ? "01500000" : "00900000", allowed ? NULL : "not_allowed_predecessor",
		    0x10, NULL, NULL, NULL, 0);
	} else if (k < 53) {
		ADD("PPMID", "ppmid_withdrawn", c, GEN_OLD, "version_withdrawn", 0x10, NULL, NULL, NULL, 0);
	} else if (k < 58) {
		ADD("PPMID", "ppmid_locked", c, GEN_OLD, NULL, 0x10, NULL, NULL, NULL, 0);
	} else if (k < 61) {
		ADD("PPMID", "pebble", c, GEN_OLD, "unsupported_model", -1, NULL, NULL, NULL, 0);
	} else if (k < 64) {
		ADD("PPMID", "ppmid", c, GEN_OLD, "hardware_out_of_range", 0x300, NULL, NULL, NULL, 0);
	} else if (k < 69) {
		ADD("PPMID", "ppmid", c, GEN_TARGET, "already_at_target", 0x10, NULL, NULL, NULL, 0);
	} else if (k < 73) {
		ADD("PPMID", "ppmid", rng_below(&g->r, 2) ? "InstalledNotCommissioned" : "Pending", GEN_OLD,
		    "not_commissioned", 0x10, NULL, NULL, NULL, 0);
	} else if (k < 78) {
		/* Option A: B1 and B2 packaged alone; B3 orchestrates the sleepy B4, packaged with it. */
		ADD("ALTHAN-B1", "b1", c, GEN_OLD, NULL, -1, "B1", "A", NULL, 0);
		ADD("ALTHAN-B2", "b2", c, GEN_OLD, NULL, -1, "B2", "A", NULL, 0);
		ADD("ALTHAN-B3", "b3", c, GEN_OLD, NULL, -1, "B3", "A", NULL, 0);
		ADD("ALTHAN-B4", "b4", c, GEN_OLD, "covered_by_orchestrator", -1, "B4", "A", NULL, 0);
	} else if (k < 83) {
		/* Option B: B1 orchestrates every bridge at the site; most sites have B1 and B2 only. */
		int four = rng_below(&g->r, 4) == 0;

		ADD("ALTHAN-B1", "b1", c, GEN_OLD, NULL, -1, "B1", "B", NULL, 0);
		ADD("ALTHAN-B2", "b2", c, GEN_OLD, "covered_by_orchestrator", -1, "B2", "B", NULL, 0);
		if (four) {
			ADD("ALTHAN-B3", "b3", c, GEN_OLD, "covered_by_orchestrator", -1, "B3", "B", NULL, 0);
			ADD("ALTHAN-B4", "b4", c, GEN_OLD, "covered_by_orchestrator", -1, "B4", "B", NULL, 0);
		}
	} else if (k < 86) {
		ADD("CAD", NULL, c, "00010000", "no_route", -1, NULL, NULL, NULL, 0);
		ADD("PPMID", "ppmid", c, GEN_OLD, NULL, 0x10, NULL, NULL, NULL, 0);
	} else if (k < 90) {
		ADD("PPMID", "ppmid", c, GEN_OLD, NULL, 0x10, NULL, NULL, NULL, 0);
	}
	return 0;
}

int hfw_estategen_mixed_spec(const char *spec, uint64_t *n, uint64_t *seed, struct hfw_error *err)
{
	char *end;

	if (strncmp(spec, "mixed:", 6) != 0)
		return 0;
	*seed = 1;
	errno = 0;
	*n = isdigit((unsigned char)spec[6]) ? strtoull(spec + 6, &end, 10) : 0;
	if (errno || !isdigit((unsigned char)spec[6]) || *n == 0 || *n > HFW_ESTATEGEN_MIXED_MAX)
		goto bad;
	if (*end == ':') {
		if (!isdigit((unsigned char)end[1]))
			goto bad;
		*seed = strtoull(end + 1, &end, 10);
		if (errno)
			goto bad;
	}
	if (*end)
		goto bad;
	return 1;
bad:
	return hfw_error_set(err, HFW_EINPUT, "mixed estate spec '%.40s' is not mixed:N[:SEED] with N from 1 to %u", spec,
			     HFW_ESTATEGEN_MIXED_MAX);
}

static int generate_mixed(hfw_estate **out, uint64_t n, uint64_t seed, struct hfw_buf *truth, struct hfw_buf *supplier,
			  struct hfw_error *err)
{
	struct gen g;
	int ret;

	*out = NULL;
	memset(&g, 0, sizeof(g));
	if (n == 0 || n > HFW_ESTATEGEN_MIXED_MAX)
		return hfw_error_set(err, HFW_EINPUT, "a mixed estate has 1 to %u devices", HFW_ESTATEGEN_MIXED_MAX);
	if ((ret = hfw_estate_new(&g.e, err)) < 0)
		return ret;
	g.r.s = seed;
	g.truth = truth;
	g.supplier = supplier;
	if (truth && (ret = hfw_buf_puts(truth, "{\n  \"format\": \"hanfw-plan-truth-1\",\n  \"devices\": {", err)) < 0)
		goto out;
	if (supplier && (ret = hfw_buf_puts(supplier, "eui,bridge,site,installation,third_party,hardware_version,"
						      "althan_option,sleepy\n", err)) < 0)
		goto out;
	while (hfw_estate_count(g.e) < n) {
		if ((ret = gen_premises(&g, err)) < 0)
			goto out;
		g.premises++;
	}
	if (truth && (ret = hfw_buf_puts(truth, "\n  }\n}\n", err)) < 0)
		goto out;
	if ((ret = hfw_estate_sort(g.e, err)) < 0)
		goto out;
	*out = g.e;
	g.e = NULL;
out:
	hfw_estate_free(g.e);
	return ret;
}

int hfw_estate_generate_mixed(hfw_estate **out, uint64_t n, uint64_t seed, struct hfw_error *err)
{
	return generate_mixed(out, n, seed, NULL, NULL, err);
}

/* products.json for the mixed estate's models and hubs. */
static json_t *mixed_products(void)
{
	json_t *models = json_array(), *hubs = json_array(), *o;
	size_t i;

	for (i = 0; i < sizeof(gen_models) / sizeof(gen_models[0]); i++) {
		const struct gen_model *m = &gen_models[i];
		json_t *v, *versions = json_array();

		o = json_pack("{s:s, s:s, s:s, s:s, s:s+, s:s+}", "manufacturer", m->manufacturer, "model", m->model, "name",
			      m->name, "device_type", m->type, "manufacturer_code", "0x", "", "image_type", "0x", "");
		json_object_set_new(o, "manufacturer_code", json_sprintf("0x%04X", m->mc));
		json_object_set_new(o, "image_type", json_sprintf("0x%04X", m->it));
		v = json_pack("{s:s, s:s}", "version", GEN_TARGET, "cpl_status", "Active");
		if (strcmp(m->key, "ppmid") == 0)
			json_object_set_new(o, "hardware_version", json_pack("{s:i, s:i}", "min", 1, "max", 0xFF));
		if (strcmp(m->key, "ppmid_path") == 0)
			json_object_set_new(v, "predecessors", json_pack("[s]", "01500000"));
		if (strcmp(m->key, "ppmid_withdrawn") == 0)
			json_object_set_new(v, "cpl_status", json_string("Withdrawn"));
		if (strcmp(m->key, "ppmid_locked") == 0)
			json_object_set_new(v, "locked_to_hub_manufacturer", json_string("1069"));
		if (strcmp(m->key, "pebble") == 0)
			json_object_set_new(o, "unsupported",
					    json_string("legacy model: its manufacturer no longer supplies images to test "
							"firmware updates with (DCC SMETS1 PPMID consultation, section 6)"));
		json_array_append_new(versions, json_pack("{s:s, s:s}", "version", GEN_OLD, "cpl_status", "Active"));
		json_array_append_new(versions, v);
		json_object_set_new(o, "versions", versions);
		json_array_append_new(models, o);
	}
	json_array_append_new(hubs, json_pack("{s:s, s:s, s:s, s:i, s:[s, s]}", "manufacturer", "1069", "model",
					      "CHF-TB42", "name", "Toshiba comms hub, variant HAN OTA from 3.4.1",
					      "image_capacity", 1000000, "han_ota_firmware", "00030401", "00030500"));
	json_array_append_new(hubs, json_pack("{s:s, s:s, s:s, s:i, s:[s]}", "manufacturer", "1050", "model", "CHF-WN31",
					      "name", "WNC comms hub", "image_capacity", 800000, "han_ota_firmware",
					      "00020103"));
	json_array_append_new(hubs, json_pack("{s:s, s:s, s:s, s:i, s:[s]}", "manufacturer", "1050", "model", "CHF-WN20",
					      "name", "WNC comms hub, small image store", "image_capacity", 2048,
					      "han_ota_firmware", "00020103"));
	return json_pack("{s:s, s:o, s:o, s:[{s:s, s:s, s:[s, s]}, {s:s, s:s, s:[s, s, s, s]}]}", "format",
			 "hanfw-products-1", "device_models", models, "hub_models", hubs, "althan_packaging", "option", "A",
			 "orchestrator", "ALTHAN-B3", "serves", "ALTHAN-B3", "ALTHAN-B4", "option", "B", "orchestrator",
			 "ALTHAN-B1", "serves", "ALTHAN-B1", "ALTHAN-B2", "ALTHAN-B3", "ALTHAN-B4");
}

static int write_in(const char *dir, const char *name, const void *data, size_t len, struct hfw_error *err)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return hfw_file_write_atomic(p, data, len, err);
}

int hfw_estategen_mixed_files(const char *dir, uint64_t n, uint64_t seed, int write_estate, struct hfw_error *err)
{
	struct hfw_buf truth = HFW_BUF_INIT(SIZE_MAX / 2), supplier = HFW_BUF_INIT(SIZE_MAX / 2), images = HFW_BUF_INIT(SIZE_MAX / 2);
	hfw_estate *e = NULL;
	json_t *products = NULL;
	char *text = NULL, p[4096];
	size_t i;
	int ret;

	if ((ret = generate_mixed(&e, n, seed, &truth, &supplier, err)) < 0)
		goto out;
	for (i = 0; i < sizeof(gen_images) / sizeof(gen_images[0]); i++)
		if ((ret = hfw_buf_printf(&images, err, "%s 0x%04X 0x%04X 0x%08X %s\n", gen_images[i].type, gen_images[i].mc,
					  gen_images[i].it, GEN_TARGET_VERSION, gen_images[i].file)) < 0)
			goto out;
	if (!(products = mixed_products()) || !(text = json_dumps(products, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if ((ret = write_in(dir, "products.json", text, strlen(text), err)) < 0 ||
	    (ret = write_in(dir, "supplier.csv", supplier.data, supplier.len, err)) < 0 ||
	    (ret = write_in(dir, "truth.json", truth.data, truth.len, err)) < 0 ||
	    (ret = write_in(dir, "images.txt", images.data, images.len, err)) < 0)
		goto out;
	if (write_estate) {
		snprintf(p, sizeof(p), "%s/estate.json", dir);
		ret = hfw_estate_write(e, p, err);
	}
out:
	free(text);
	json_decref(products);
	hfw_buf_release(&truth);
	hfw_buf_release(&supplier);
	hfw_buf_release(&images);
	hfw_estate_free(e);
	return ret;
}
