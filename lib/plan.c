/* plan.c - a campaign plan: one decision per device, then waves (see plan.h). */
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fileio.h"
#include "hex.h"

static const char *const reason_names[HFW_PLAN_REASON_COUNT] = {
	"included",
#define HFW_PLAN_X(n, s) s,
	HFW_PLAN_REASONS(HFW_PLAN_X)
#undef HFW_PLAN_X
};

/*
 * Precedence: the first that applies is the device's reason.  What the
 * device is comes first (no route, IHD, not commissioned, reached through
 * another bridge), then what the products file says of its model and of
 * the campaign's image for it, then what its installation says, then its
 * own versions, and last its hub, which only matters for a device that
 * would otherwise be sent the image.
 */
static const enum hfw_plan_reason precedence[HFW_PLAN_REASON_COUNT - 1] = {
	HFW_SKIP_NO_ROUTE,
	HFW_SKIP_IHD_OUT_OF_SCOPE,
	HFW_SKIP_NOT_COMMISSIONED,
	HFW_SKIP_COVERED_BY_ORCHESTRATOR,
	HFW_SKIP_UNSUPPORTED_MODEL,
	HFW_SKIP_MODEL_MISMATCH,
	HFW_SKIP_VERSION_WITHDRAWN,
	HFW_SKIP_SECURE_THIRD_PARTY,
	HFW_SKIP_SMETS1,
	HFW_SKIP_HARDWARE_OUT_OF_RANGE,
	HFW_SKIP_ALREADY_AT_TARGET,
	HFW_SKIP_NOT_ALLOWED_PREDECESSOR,
	HFW_SKIP_HUB_UNKNOWN,
	HFW_SKIP_HUB_NOT_CAPABLE,
	HFW_SKIP_IMAGE_TOO_LARGE_FOR_HUB,
	HFW_SKIP_HUB_METADATA_LOCKED,
};

const char *hfw_plan_reason_name(enum hfw_plan_reason r)
{
	return (unsigned)r < HFW_PLAN_REASON_COUNT ? reason_names[r] : "unknown";
}

const enum hfw_plan_reason *hfw_plan_precedence(void)
{
	return precedence;
}

/* One device's place: 24 bytes, indexed as the estate is. */
struct entry {
	uint64_t key;			/* the draw: a hash of the EUI */
	uint32_t wave;			/* 1-based; 0 when skipped */
	uint32_t hub;			/* index into hubs[] (included devices only) */
	uint8_t reason;
	int8_t image;
	uint8_t slot;			/* uses the hub's HAN image slot */
	uint8_t gsme;
};

/* An Alt HAN bridge and its site: the supplier's site, else its premises' hub. */
struct bridge {
	const char *site;
	uint64_t hub;
	uint64_t eui;
	uint32_t dev;
	uint8_t number;			/* 1..4 */
};

struct hfw_plan {
	const hfw_estate *e;
	const hfw_products *p;
	const struct hfw_plan_image *images;
	size_t n_images;
	struct hfw_plan_options o;
	size_t n;
	struct entry *entries;
	uint32_t *by_eui;		/* every device, in EUI order */
	uint32_t *included;		/* the included devices, by (wave, image, EUI) */
	size_t n_included;
	struct bridge *bridges;		/* sorted by site, then bridge number, then EUI */
	size_t n_bridges;
	uint64_t counts[HFW_PLAN_REASON_COUNT];
	uint64_t *waves;		/* devices per wave */
	size_t n_waves;
	uint64_t canary;
};

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finaliser: a fixed, well-spread draw order. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static int site_cmp(const char *sa, uint64_t ha, const char *sb, uint64_t hb)
{
	int c = strcmp(sa, sb);

	if (c)
		return c;
	return ha < hb ? -1 : ha > hb;
}

static int bridge_cmp(const void *a, const void *b)
{
	const struct bridge *x = a, *y = b;
	int c = site_cmp(x->site, x->hub, y->site, y->hub);

	if (c)
		return c;
	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return x->eui < y->eui ? -1 : x->eui > y->eui;
}

static void bridge_site(const struct hfw_device *d, const char **site, uint64_t *hub)
{
	*site = d->site ? d->site : "";
	*hub = **site ? 0 : (d->has_comms_hub ? hfw_eui_to_u64(&d->comms_hub) : hfw_eui_to_u64(&d->eui));
}

/* The first bridge number n at d's site, or NULL. */
static const struct bridge *bridge_at_site(const hfw_plan *plan, const struct hfw_device *d, int n)
{
	const char *site;
	uint64_t hub;
	size_t lo = 0, hi = plan->n_bridges;

	bridge_site(d, &site, &hub);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bridge *b = &plan->bridges[mid];
		int c = site_cmp(b->site, b->hub, site, hub);

		if (c < 0 || (c == 0 && b->number < n))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < plan->n_bridges && site_cmp(plan->bridges[lo].site, plan->bridges[lo].hub, site, hub) == 0 &&
	    plan->bridges[lo].number == n)
		return &plan->bridges[lo];
	return NULL;
}

static int is_han_variant(const struct hfw_device_type *t)
{
	return t->route == HFW_ROUTE_SR_11_4 || strcmp(t->name, "HCALCS") == 0;
}

static int is_smets1(const struct hfw_device *d)
{
	return (d->region && strcmp(d->region, "SMETS1") == 0) || (d->s1sp && *d->s1sp);
}

static const char *text_or(const char *s, const char *none)
{
	return s && *s ? s : none;
}

/* Facts are formatted only when wanted: planning a million devices needs the reasons alone. */
struct facts {
	struct hfw_plan_decision *d;	/* NULL: reasons only */
};

static void fact(struct facts *f, const char *name, int is_number, const char *fmt, ...) HFW_PRINTF(4, 5);
static void fact(struct facts *f, const char *name, int is_number, const char *fmt, ...)
{
	struct hfw_plan_fact *x;
	va_list ap;

	if (!f->d || f->d->n_facts == HFW_PLAN_MAX_FACTS)
		return;
	x = &f->d->facts[f->d->n_facts++];
	x->name = name;
	x->is_number = is_number;
	va_start(ap, fmt);
	if (strcmp(fmt, "%s") == 0) {
		/* Most facts are one string: copied, not formatted (a plan writes millions). */
		const char *v = va_arg(ap, const char *);
		size_t n = strlen(v);

		if (n >= sizeof(x->value))
			n = sizeof(x->value) - 1;
		memcpy(x->value, v, n);
		x->value[n] = '\0';
	} else {
		vsnprintf(x->value, sizeof(x->value), fmt, ap);
	}
	va_end(ap);
}

static void fact_eui(struct facts *f, const char *name, const struct hfw_eui *eui)
{
	char t[HFW_EUI_TEXT_MAX];

	if (!f->d)
		return;
	hfw_eui_format(t, eui);
	fact(f, name, 0, "%s", t);
}

static int image_for(const hfw_plan *plan, const struct hfw_product_model *m)
{
	size_t i;

	for (i = 0; i < plan->n_images; i++)
		if (plan->images[i].hdr.manufacturer_code == m->manufacturer_code &&
		    plan->images[i].hdr.image_type == m->image_type)
			return (int)i;
	return -1;
}

/*
 * The decision for device d (reason and image; with f->d, the facts too).
 * Each test below is one reason, in precedence order.
 */
static enum hfw_plan_reason decide(const hfw_plan *plan, const struct hfw_device *d, int *image_out, struct facts *f)
{
	const struct hfw_product_model *m;
	const struct hfw_product_version *v;
	const struct hfw_plan_image *img;
	const struct hfw_device *hub = NULL;
	const struct hfw_hub_model *hm = NULL;
	const struct bridge *orchestrator = NULL;
	int b, image;

	*image_out = -1;
	fact(f, "device_type", 0, "%s", d->type->name);
	if (d->type->route == HFW_ROUTE_NONE) {
		fact(f, "why", 0, "%s", d->type->refusal ? d->type->refusal : "no firmware route");
		return HFW_SKIP_NO_ROUTE;
	}
	/* An Alt HAN bridge another bridge orchestrates: covered by it, or with no route when it is not there. */
	if ((b = hfw_althan_bridge(d->type)) != 0) {
		struct hfw_althan_packaging pk = hfw_products_althan(plan->p, d->althan_option);

		if (pk.present && (pk.serves & (1u << (b - 1))) && pk.orchestrator != b) {
			fact(f, "althan_option", 0, "%s", hfw_althan_option_name(d->althan_option));
			fact(f, "orchestrator_type", 0, "ALTHAN-B%d", pk.orchestrator);
			orchestrator = bridge_at_site(plan, d, pk.orchestrator);
			if (!orchestrator) {
				fact(f, "why", 0, "no ALTHAN-B%d at the site to orchestrate this bridge's update", pk.orchestrator);
				return HFW_SKIP_NO_ROUTE;
			}
			fact_eui(f, "orchestrator", &hfw_estate_at(plan->e, orchestrator->dev)->eui);
		}
	}
	if (strcmp(d->type->name, "IHD") == 0 && !plan->o.allow_ihd) {
		fact(f, "why", 0, "IHDs were taken out of SECMP0007's scope (give --allow-ihd to plan them)");
		return HFW_SKIP_IHD_OUT_OF_SCOPE;
	}
	if (d->status != HFW_DEVSTAT_COMMISSIONED) {
		fact(f, "status", 0, "%s", text_or(hfw_device_status_name(d->status), "unknown"));
		return HFW_SKIP_NOT_COMMISSIONED;
	}
	if (orchestrator)
		return HFW_SKIP_COVERED_BY_ORCHESTRATOR;
	fact(f, "manufacturer", 0, "%s", d->manufacturer);
	fact(f, "model", 0, "%s", d->model);
	if (!(m = hfw_products_model(plan->p, d->manufacturer, d->model))) {
		fact(f, "why", 0, "the products file does not describe this model");
		return HFW_SKIP_UNSUPPORTED_MODEL;
	}
	if (m->unsupported) {
		fact(f, "why", 0, "%s", m->unsupported);
		return HFW_SKIP_UNSUPPORTED_MODEL;
	}
	if (m->type != d->type) {
		fact(f, "products_device_type", 0, "%s", m->type->name);
		return HFW_SKIP_MODEL_MISMATCH;
	}
	if ((image = image_for(plan, m)) < 0) {
		fact(f, "manufacturer_code", 1, "%u", m->manufacturer_code);
		fact(f, "image_type", 1, "%u", m->image_type);
		fact(f, "why", 0, "no image of this campaign has the model's manufacturer code and image type");
		return HFW_SKIP_MODEL_MISMATCH;
	}
	*image_out = image;
	img = &plan->images[image];
	fact(f, "target_version", 0, "%s", img->firmware_version);
	if (!(v = hfw_product_version_find(m, img->firmware_version)) || v->cpl_status != HFW_CPL_ACTIVE) {
		fact(f, "cpl_status", 0, "%s", v ? hfw_cpl_status_name(v->cpl_status) : "not listed for this model");
		return HFW_SKIP_VERSION_WITHDRAWN;
	}
	if (d->installation == HFW_INSTALL_SECURE && d->third_party) {
		fact(f, "installation", 0, "Secure");
		fact(f, "third_party", 1, "1");
		fact(f, "why", 0, "S1SR 18.63(c): firmware updates to third-party devices on Secure installations fail");
		return HFW_SKIP_SECURE_THIRD_PARTY;
	}
	if (is_smets1(d) && !plan->o.allow_smets1) {
		fact(f, "region", 0, "%s", text_or(d->region, "unknown"));
		fact(f, "s1sp", 0, "%s", text_or(d->s1sp, "unknown"));
		fact(f, "why", 0, "S1SR 18.63(d), 18.65(e): updates to SMETS1 devices fail or are uncertain (give --allow-smets1)");
		return HFW_SKIP_SMETS1;
	}
	if (d->has_hardware_version &&
	    ((m->has_hardware_range && (d->hardware_version < m->hardware_min || d->hardware_version > m->hardware_max)) ||
	     ((img->hdr.field_control & HFW_OTA_FC_HW_VERSIONS) &&
	      (d->hardware_version < img->hdr.hw_min || d->hardware_version > img->hdr.hw_max)))) {
		fact(f, "hardware_version", 1, "%u", d->hardware_version);
		if (m->has_hardware_range && (d->hardware_version < m->hardware_min || d->hardware_version > m->hardware_max))
			fact(f, "model_range", 0, "0x%04X-0x%04X", m->hardware_min, m->hardware_max);
		else
			fact(f, "image_range", 0, "0x%04X-0x%04X", img->hdr.hw_min, img->hdr.hw_max);
		return HFW_SKIP_HARDWARE_OUT_OF_RANGE;
	}
	if (hfw_version_equal(d->firmware_version, img->firmware_version)) {
		fact(f, "firmware_version", 0, "%s", d->firmware_version);
		return HFW_SKIP_ALREADY_AT_TARGET;
	}
	if (v->n_predecessors) {
		size_t i;
		char list[120] = "";
		size_t len = 0;

		for (i = 0; i < v->n_predecessors; i++)
			if (hfw_version_equal(v->predecessors[i], d->firmware_version))
				break;
		if (i == v->n_predecessors) {
			fact(f, "firmware_version", 0, "%s", text_or(d->firmware_version, "unknown"));
			for (i = 0; i < v->n_predecessors && len + 10 < sizeof(list); i++)
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? " " : "",
							v->predecessors[i]);
			fact(f, "allowed_predecessors", 0, "%s%s", list, i < v->n_predecessors ? " ..." : "");
			return HFW_SKIP_NOT_ALLOWED_PREDECESSOR;
		}
	}
	if (d->has_comms_hub)
		hub = hfw_estate_find(plan->e, &d->comms_hub);
	if (!hub || !(hm = hfw_products_hub(plan->p, hub->manufacturer, hub->model))) {
		if (!d->has_comms_hub) {
			fact(f, "why", 0, "the estate names no comms hub for the device");
		} else if (!hub) {
			fact_eui(f, "comms_hub", &d->comms_hub);
			fact(f, "why", 0, "the comms hub is not in the estate");
		} else {
			fact_eui(f, "comms_hub", &d->comms_hub);
			fact(f, "hub_manufacturer", 0, "%s", hub->manufacturer);
			fact(f, "hub_model", 0, "%s", hub->model);
			fact(f, "why", 0, "the products file does not describe the hub's model");
		}
		return HFW_SKIP_HUB_UNKNOWN;
	}
	fact_eui(f, "comms_hub", &d->comms_hub);
	fact(f, "hub_manufacturer", 0, "%s", hub->manufacturer);
	fact(f, "hub_model", 0, "%s", hub->model);
	if (is_han_variant(d->type) && !hfw_hub_han_ota(hm, hub->firmware_version)) {
		fact(f, "hub_firmware_version", 0, "%s", text_or(hub->firmware_version, "unknown"));
		fact(f, "why", 0, "the hub's firmware does not carry variant HAN OTA (SECMP0007)");
		return HFW_SKIP_HUB_NOT_CAPABLE;
	}
	if (img->size > hm->image_capacity) {
		fact(f, "image_size", 1, "%" PRIu64, img->size);
		fact(f, "hub_image_capacity", 1, "%" PRIu64, hm->image_capacity);
		return HFW_SKIP_IMAGE_TOO_LARGE_FOR_HUB;
	}
	if (v->locked_to_hub_manufacturer && strcmp(v->locked_to_hub_manufacturer, hub->manufacturer) != 0) {
		fact(f, "locked_to_hub_manufacturer", 0, "%s", v->locked_to_hub_manufacturer);
		return HFW_SKIP_HUB_METADATA_LOCKED;
	}
	return HFW_PLAN_INCLUDED;
}

void hfw_plan_free(hfw_plan *plan)
{
	if (!plan)
		return;
	free(plan->entries);
	free(plan->by_eui);
	free(plan->included);
	free(plan->bridges);
	free(plan->waves);
	free(plan);
}

/* Sort helpers: qsort has no context argument, so the keys are copied beside the index. */
struct pair {
	uint64_t a, b;
	uint32_t idx;
};

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;

	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/* The hubs of the included devices, as indices into a sorted list of hub EUIs. */
static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Strata for the canary: (device model, hub manufacturer) as small numbers, by sorting. */
struct stratum {
	const struct hfw_product_model *m;
	const char *hub_manufacturer;
	uint64_t key;
	uint32_t idx;
};

static int stratum_cmp(const void *x, const void *y)
{
	const struct stratum *p = x, *q = y;
	int c;

	if (p->m != q->m)
		return p->m < q->m ? -1 : 1;	/* the same products file: model pointers are in its sorted array */
	if ((c = strcmp(p->hub_manufacturer, q->hub_manufacturer)))
		return c;
	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* Waves over the included devices, drawn in order (see plan.h). */
static int make_waves(hfw_plan *plan, uint32_t *order, size_t n_inc, size_t n_hubs, struct hfw_error *err)
{
	uint32_t *han_wave = NULL, *gsme_last = NULL, *gsme_pending = NULL, *deferred = NULL;
	size_t n_def = 0, pos = 0, assigned = 0, i, cap_waves = 0;
	uint64_t cap = plan->canary;
	int ret = 0;

	if (n_inc == 0)
		return 0;
	if (!(han_wave = calloc(n_hubs, sizeof(*han_wave))) || !(gsme_last = calloc(n_hubs, sizeof(*gsme_last))) ||
	    !(gsme_pending = calloc(n_hubs, sizeof(*gsme_pending))) || !(deferred = malloc(n_inc * sizeof(*deferred)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	for (i = 0; i < n_inc; i++)
		if (plan->entries[order[i]].gsme)
			gsme_pending[plan->entries[order[i]].hub]++;
	while (assigned < n_inc) {
		uint32_t w = (uint32_t)plan->n_waves + 1;
		uint64_t filled = 0;
		size_t d, keep = 0;

		if (plan->n_waves == cap_waves) {
			size_t nc = cap_waves ? 2 * cap_waves : 16;
			uint64_t *nw = realloc(plan->waves, nc * sizeof(*nw));

			if (!nw) {
				ret = hfw_error_oom(err);
				goto out;
			}
			plan->waves = nw;
			cap_waves = nc;
		}
		/* Deferred devices first, in draw order; those still waiting keep their place. */
		for (d = 0; d < n_def + (n_inc - pos) && filled < cap;) {
			uint32_t idx = d < n_def ? deferred[d++] : order[pos++];
			struct entry *x = &plan->entries[idx];

			if (x->slot && (han_wave[x->hub] == w || gsme_pending[x->hub] || gsme_last[x->hub] >= w)) {
				deferred[keep++] = idx;
				continue;
			}
			x->wave = w;
			filled++;
			assigned++;
			if (x->slot)
				han_wave[x->hub] = w;
			if (x->gsme) {
				gsme_pending[x->hub]--;
				gsme_last[x->hub] = w;
			}
		}
		/* Deferred ones the wave had no room for stay, behind those that waited. */
		for (; d < n_def; d++)
			deferred[keep++] = deferred[d];
		n_def = keep;
		plan->waves[plan->n_waves++] = filled;
		cap = sat_mul(cap, plan->o.growth);
		if (plan->o.max_wave && cap > plan->o.max_wave)
			cap = plan->o.max_wave;
	}
out:
	free(han_wave);
	free(gsme_last);
	free(gsme_pending);
	free(deferred);
	return ret;
}

int hfw_plan_make(hfw_plan **out, const hfw_estate *e, const hfw_products *p, const struct hfw_plan_image *images,
		  size_t n_images, const struct hfw_plan_options *o, struct hfw_error *err)
{
	hfw_plan *plan = NULL;
	struct pair *pairs = NULL;
	struct stratum *strata = NULL;
	uint64_t *hubs = NULL;
	uint32_t *order = NULL;
	size_t i, j, n_inc = 0, n_hubs = 0;
	struct facts nofacts = { NULL };
	int ret;

	*out = NULL;
	if (n_images > HFW_PLAN_MAX_IMAGES)
		return hfw_error_set(err, HFW_ELIMIT, "more than %d images in one campaign", HFW_PLAN_MAX_IMAGES);
	for (i = 0; i < n_images; i++)
		for (j = 0; j < i; j++)
			if (images[i].hdr.manufacturer_code == images[j].hdr.manufacturer_code &&
			    images[i].hdr.image_type == images[j].hdr.image_type)
				return hfw_error_set(err, HFW_EINPUT,
						     "images '%.200s' and '%.200s' are both for manufacturer code 0x%04X, image type "
						     "0x%04X: a campaign sends one image per model",
						     images[j].path, images[i].path, images[i].hdr.manufacturer_code,
						     images[i].hdr.image_type);
	if (hfw_estate_count(e) > UINT32_MAX - 1)
		return hfw_error_set(err, HFW_ELIMIT, "an estate of more than %u devices", UINT32_MAX - 1);
	if (!(plan = calloc(1, sizeof(*plan))))
		return hfw_error_oom(err);
	plan->e = e;
	plan->p = p;
	plan->images = images;
	plan->n_images = n_images;
	plan->o = *o;
	if (plan->o.has_window && (plan->o.activate_at < 0 || plan->o.activate_at >= 24 * 60)) {
		ret = hfw_error_set(err, HFW_EINPUT, "an activation window is a time of day, 00:00 to 23:59");
		goto out;
	}
	if (!plan->o.growth)
		plan->o.growth = HFW_PLAN_DEFAULT_GROWTH;
	plan->n = hfw_estate_count(e);
	if (!(plan->entries = calloc(plan->n ? plan->n : 1, sizeof(*plan->entries))) ||
	    !(plan->by_eui = malloc((plan->n ? plan->n : 1) * sizeof(*plan->by_eui))) ||
	    !(pairs = malloc((plan->n ? plan->n : 1) * sizeof(*pairs)))) {
		ret = hfw_error_oom(err);
		goto out;
	}

	/* Alt HAN bridges by site, so a bridge's orchestrator is found by binary search. */
	for (i = 0; i < plan->n; i++)
		plan->n_bridges += hfw_althan_bridge(hfw_estate_at(e, i)->type) != 0;
	if (plan->n_bridges && !(plan->bridges = malloc(plan->n_bridges * sizeof(*plan->bridges)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	for (i = 0, j = 0; i < plan->n; i++) {
		const struct hfw_device *d = hfw_estate_at(e, i);
		int b = hfw_althan_bridge(d->type);

		if (!b)
			continue;
		bridge_site(d, &plan->bridges[j].site, &plan->bridges[j].hub);
		plan->bridges[j].eui = hfw_eui_to_u64(&d->eui);
		plan->bridges[j].dev = (uint32_t)i;
		plan->bridges[j].number = (uint8_t)b;
		j++;
	}
	if (plan->n_bridges)
		qsort(plan->bridges, plan->n_bridges, sizeof(*plan->bridges), bridge_cmp);

	/* Every device's decision. */
	for (i = 0; i < plan->n; i++) {
		const struct hfw_device *d = hfw_estate_at(e, i);
		struct entry *x = &plan->entries[i];
		int image;

		x->reason = (uint8_t)decide(plan, d, &image, &nofacts);
		x->image = (int8_t)image;
		x->key = mix(hfw_eui_to_u64(&d->eui));
		plan->counts[x->reason]++;
		pairs[i].a = hfw_eui_to_u64(&d->eui);
		pairs[i].b = 0;
		pairs[i].idx = (uint32_t)i;
		if (x->reason == HFW_PLAN_INCLUDED) {
			n_inc++;
			x->slot = is_han_variant(d->type);
			x->gsme = strcmp(d->type->name, "GSME") == 0;
		}
	}
	if (plan->n)
		qsort(pairs, plan->n, sizeof(*pairs), pair_cmp);
	for (i = 0; i < plan->n; i++) {
		if (i && pairs[i].a == pairs[i - 1].a) {
			ret = hfw_error_set(err, HFW_EINPUT, "the estate holds device %016" PRIX64 " twice", pairs[i].a);
			goto out;
		}
		plan->by_eui[i] = pairs[i].idx;
	}

	/* The hubs of included devices, numbered. */
	plan->n_included = n_inc;
	if (n_inc) {
		if (!(hubs = malloc(n_inc * sizeof(*hubs))) || !(strata = malloc(n_inc * sizeof(*strata))) ||
		    !(order = malloc(n_inc * sizeof(*order))) ||
		    !(plan->included = malloc(n_inc * sizeof(*plan->included)))) {
			ret = hfw_error_oom(err);
			goto out;
		}
		for (i = 0, j = 0; i < plan->n; i++)
			if (plan->entries[i].reason == HFW_PLAN_INCLUDED)
				hubs[j++] = hfw_eui_to_u64(&hfw_estate_at(e, i)->comms_hub);
		qsort(hubs, n_inc, sizeof(*hubs), u64_cmp);
		for (i = 0; i < n_inc; i++)
			if (i == 0 || hubs[i] != hubs[n_hubs - 1])
				hubs[n_hubs++] = hubs[i];
		for (i = 0, j = 0; i < plan->n; i++) {
			const struct hfw_device *d = hfw_estate_at(e, i);
			uint64_t h;
			uint64_t *at;

			if (plan->entries[i].reason != HFW_PLAN_INCLUDED)
				continue;
			h = hfw_eui_to_u64(&d->comms_hub);
			at = bsearch(&h, hubs, n_hubs, sizeof(*hubs), u64_cmp);
			plan->entries[i].hub = (uint32_t)(at - hubs);
			strata[j].m = hfw_products_model(p, d->manufacturer, d->model);
			strata[j].hub_manufacturer = hfw_estate_find(e, &d->comms_hub)->manufacturer;
			strata[j].key = plan->entries[i].key;
			strata[j].idx = (uint32_t)i;
			j++;
		}

		/* The canary: round-robin over the strata (each stratum's first draw, then its second...). */
		plan->canary = o->canary ? o->canary : (n_inc + 99) / 100;
		if (!o->canary && plan->canary > HFW_PLAN_CANARY_CAP)
			plan->canary = HFW_PLAN_CANARY_CAP;
		if (plan->canary > n_inc)
			plan->canary = n_inc;
		if (plan->o.max_wave && plan->canary > plan->o.max_wave)
			plan->canary = plan->o.max_wave;
		qsort(strata, n_inc, sizeof(*strata), stratum_cmp);
		for (i = 0, j = 0; i < n_inc; i++) {
			if (i == 0 || strata[i - 1].m != strata[i].m ||
			    strcmp(strata[i - 1].hub_manufacturer, strata[i].hub_manufacturer) != 0)
				j = 0;
			else
				j++;
			pairs[i].a = j;			/* rank within the stratum */
			pairs[i].b = strata[i].key;
			pairs[i].idx = strata[i].idx;
		}
		qsort(pairs, n_inc, sizeof(*pairs), pair_cmp);
		/* The rest in draw order. */
		for (i = plan->canary; i < n_inc; i++) {
			pairs[i].a = pairs[i].b;
			pairs[i].b = 0;
		}
		qsort(pairs + plan->canary, n_inc - plan->canary, sizeof(*pairs), pair_cmp);
		for (i = 0; i < n_inc; i++)
			order[i] = pairs[i].idx;
		if ((ret = make_waves(plan, order, n_inc, n_hubs, err)) < 0)
			goto out;

		/* For writing: by wave, then image, then EUI. */
		for (i = 0; i < n_inc; i++) {
			const struct entry *x = &plan->entries[order[i]];

			pairs[i].a = ((uint64_t)x->wave << 8) | (uint8_t)x->image;
			pairs[i].b = hfw_eui_to_u64(&hfw_estate_at(e, order[i])->eui);
			pairs[i].idx = order[i];
		}
		qsort(pairs, n_inc, sizeof(*pairs), pair_cmp);
		for (i = 0; i < n_inc; i++)
			plan->included[i] = pairs[i].idx;
	}
	*out = plan;
	plan = NULL;
	ret = 0;
out:
	free(pairs);
	free(strata);
	free(hubs);
	free(order);
	hfw_plan_free(plan);
	return ret;
}

uint64_t hfw_plan_reason_count(const hfw_plan *plan, enum hfw_plan_reason r)
{
	return (unsigned)r < HFW_PLAN_REASON_COUNT ? plan->counts[r] : 0;
}

size_t hfw_plan_wave_count(const hfw_plan *plan)
{
	return plan->n_waves;
}

uint64_t hfw_plan_wave_size(const hfw_plan *plan, size_t w)
{
	return w >= 1 && w <= plan->n_waves ? plan->waves[w - 1] : 0;
}

uint64_t hfw_plan_canary(const hfw_plan *plan)
{
	return plan->canary;
}

static void explain_device(const hfw_plan *plan, size_t i, struct hfw_plan_decision *out)
{
	struct facts f = { out };
	int image;

	memset(out, 0, sizeof(*out));
	out->device = hfw_estate_at(plan->e, i);
	out->reason = decide(plan, out->device, &image, &f);
	out->image = image;
	out->wave = plan->entries[i].wave;
}

int hfw_plan_explain(const hfw_plan *plan, const struct hfw_eui *eui, struct hfw_plan_decision *out,
		     struct hfw_error *err)
{
	uint64_t key = hfw_eui_to_u64(eui);
	size_t lo = 0, hi = plan->n;
	char t[HFW_EUI_TEXT_MAX];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (hfw_eui_to_u64(&hfw_estate_at(plan->e, plan->by_eui[mid])->eui) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == plan->n || hfw_eui_to_u64(&hfw_estate_at(plan->e, plan->by_eui[lo])->eui) != key) {
		hfw_eui_format(t, eui);
		return hfw_error_set(err, HFW_EINPUT, "device %s is not in the estate", t);
	}
	explain_device(plan, plan->by_eui[lo], out);
	return 0;
}

/* Streaming JSON: a buffer flushed to the sink. */
struct out {
	hfw_plan_sink sink;
	void *arg;
	struct hfw_error *err;
	int ret;
	size_t len;
	char buf[1 << 16];
};

static void put(struct out *w, const char *s, size_t n)
{
	if (w->ret)
		return;
	if (w->len + n > sizeof(w->buf)) {
		if ((w->ret = w->sink(w->arg, w->buf, w->len, w->err)) < 0)
			return;
		w->len = 0;
		if (n > sizeof(w->buf)) {
			w->ret = w->sink(w->arg, s, n, w->err);
			return;
		}
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void puts_(struct out *w, const char *s)
{
	put(w, s, strlen(s));
}

static void putf(struct out *w, const char *fmt, ...) HFW_PRINTF(2, 3);
static void putf(struct out *w, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(w, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string: quotes, backslashes and control characters escaped; other bytes as they are. */
static void put_str(struct out *w, const char *s)
{
	const char *run = s;

	put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		put(w, run, (size_t)(s - run));
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			put(w, e, 2);
		} else {
			putf(w, "\\u%04x", c);
		}
		run = s + 1;
	}
	put(w, run, (size_t)(s - run));
	put(w, "\"", 1);
}

/* "XX-XX-...", quoted: as hfw_eui_format writes it, without printf (a plan writes a million). */
static void put_eui(struct out *w, const struct hfw_eui *eui)
{
	static const char hex[] = "0123456789ABCDEF";
	char t[2 + 3 * HFW_EUI_LEN];
	size_t i;

	t[0] = '"';
	for (i = 0; i < HFW_EUI_LEN; i++) {
		t[1 + 3 * i] = hex[eui->b[i] >> 4];
		t[2 + 3 * i] = hex[eui->b[i] & 15];
		t[3 + 3 * i] = i + 1 < HFW_EUI_LEN ? '-' : '"';
	}
	put(w, t, sizeof(t) - 1);
}

static void put_hex(struct out *w, const uint8_t *b, size_t n)
{
	char t[2 * 64 + 1];

	hfw_hex_encode(t, b, n);
	put(w, "\"", 1);
	put(w, t, 2 * n);
	put(w, "\"", 1);
}

static void put_facts(struct out *w, const struct hfw_plan_decision *d)
{
	size_t i;

	put(w, "{", 1);
	for (i = 0; i < d->n_facts; i++) {
		if (i)
			put(w, ", ", 2);
		put_str(w, d->facts[i].name);
		put(w, ": ", 2);
		if (d->facts[i].is_number)
			puts_(w, d->facts[i].value);
		else
			put_str(w, d->facts[i].value);
	}
	put(w, "}", 1);
}

/* The Alt HAN sites: per included orchestrator, the bridges its package serves. */
static void put_althan(struct out *w, const hfw_plan *plan)
{
	size_t i, k, first = 1;

	puts_(w, "  \"althan_sites\": [");
	for (i = 0; i < plan->n; i++) {
		size_t dev = plan->by_eui[i];
		const struct hfw_device *d = hfw_estate_at(plan->e, dev);
		struct hfw_althan_packaging pk;
		const struct bridge *b;
		int n = hfw_althan_bridge(d->type), any = 0;

		if (!n || plan->entries[dev].reason != HFW_PLAN_INCLUDED)
			continue;
		pk = hfw_products_althan(plan->p, d->althan_option);
		if (!pk.present || pk.orchestrator != n)
			continue;
		puts_(w, first ? "\n    {\"orchestrator\": " : ",\n    {\"orchestrator\": ");
		first = 0;
		put_eui(w, &d->eui);
		putf(w, ", \"option\": \"%s\", \"image\": %d, \"serves\": [", hfw_althan_option_name(d->althan_option),
		     plan->entries[dev].image);
		/* Every bridge at the site the package serves, itself first. */
		for (k = 1; k <= 4; k++) {
			const char *site;
			uint64_t hub;

			if (!(pk.serves & (1u << (k - 1))) || !(b = bridge_at_site(plan, d, (int)k)))
				continue;
			bridge_site(d, &site, &hub);
			for (; b < plan->bridges + plan->n_bridges && b->number == k &&
			       site_cmp(b->site, b->hub, site, hub) == 0; b++) {
				if (any++)
					put(w, ", ", 2);
				put_eui(w, &hfw_estate_at(plan->e, b->dev)->eui);
			}
		}
		puts_(w, "]}");
	}
	puts_(w, first ? "],\n" : "\n  ],\n");
}

int hfw_plan_write(const hfw_plan *plan, const struct hfw_plan_inputs *in, hfw_plan_sink sink, void *arg,
		   struct hfw_error *err)
{
	struct out *w;
	size_t i, r, k;
	int ret;

	if (!(w = malloc(sizeof(*w))))
		return hfw_error_oom(err);
	w->sink = sink;
	w->arg = arg;
	w->err = err;
	w->ret = 0;
	w->len = 0;
	putf(w, "{\n  \"format\": \"%s\",\n  \"inputs\": {\n    \"estate\": {\"path\": ", HFW_PLAN_FORMAT);
	put_str(w, in->estate_path);
	puts_(w, ", \"sha256\": ");
	put_hex(w, in->estate_sha256, HFW_SHA256_LEN);
	puts_(w, "},\n    \"products\": {\"path\": ");
	put_str(w, in->products_path);
	puts_(w, ", \"sha256\": ");
	put_hex(w, in->products_sha256, HFW_SHA256_LEN);
	puts_(w, "},\n    \"images\": [");
	for (i = 0; i < plan->n_images; i++) {
		const struct hfw_plan_image *m = &plan->images[i];

		puts_(w, i ? ",\n      {\"path\": " : "\n      {\"path\": ");
		put_str(w, m->path);
		puts_(w, ", \"sha256\": ");
		put_hex(w, m->file_sha256, HFW_SHA256_LEN);
		puts_(w, ", \"firmware_hash\": ");
		put_hex(w, m->firmware_hash, HFW_SHA256_LEN);
		putf(w, ", \"firmware_version\": \"%s\", \"manufacturer_code\": %u, \"image_type\": %u, "
			"\"device_type\": \"%s\", \"service_reference\": \"%s\", \"size\": %" PRIu64 "}",
		     m->firmware_version, m->hdr.manufacturer_code, m->hdr.image_type, m->type->name,
		     hfw_route_sr(m->route), m->size);
	}
	puts_(w, plan->n_images ? "\n    ]\n  },\n" : "]\n  },\n");
	putf(w, "  \"options\": {\"allow_ihd\": %s, \"allow_smets1\": %s, \"canary\": %" PRIu64 ", \"growth\": %u, "
		"\"max_wave\": %" PRIu64 ", \"max_request\": %u},\n",
	     plan->o.allow_ihd ? "true" : "false", plan->o.allow_smets1 ? "true" : "false", plan->canary, plan->o.growth,
	     plan->o.max_wave, HFW_PLAN_MAX_REQUEST);
	/* Only when set: a plan without a window reads (and hashes) as before. */
	if (plan->o.has_window)
		putf(w, "  \"activation\": {\"at\": \"%02d:%02d\", \"every\": \"day\", \"zone\": \"UTC\"},\n",
		     plan->o.activate_at / 60, plan->o.activate_at % 60);
	puts_(w, "  \"precedence\": [");
	for (i = 0; i < HFW_PLAN_REASON_COUNT - 1; i++)
		putf(w, "%s\"%s\"", i ? ", " : "", reason_names[precedence[i]]);
	putf(w, "],\n  \"counts\": {\"devices\": %zu, \"included\": %" PRIu64 ", \"skipped\": %" PRIu64 ", \"reasons\": {",
	     plan->n, plan->counts[0], (uint64_t)plan->n - plan->counts[0]);
	for (r = 1; r < HFW_PLAN_REASON_COUNT; r++)
		putf(w, "%s\"%s\": %" PRIu64, r > 1 ? ", " : "", reason_names[r], plan->counts[r]);
	puts_(w, "}},\n  \"waves\": [");
	/* Waves: requests by image, at most HFW_PLAN_MAX_REQUEST devices each. */
	for (i = 0, k = 0; k < plan->n_waves; k++) {
		uint32_t wave = (uint32_t)k + 1;

		putf(w, "%s\n    {\"wave\": %u, \"devices\": %" PRIu64 ", \"requests\": [", k ? "," : "", wave,
		     plan->waves[k]);
		r = 0;
		while (i < plan->n_included && plan->entries[plan->included[i]].wave == wave) {
			int image = plan->entries[plan->included[i]].image;
			size_t in_request = 0;

			putf(w, "%s\n      {\"image\": %d, \"service_reference\": \"%s\", \"devices\": [", r++ ? "," : "", image,
			     hfw_route_sr(plan->images[image].route));
			while (i < plan->n_included && plan->entries[plan->included[i]].wave == wave &&
			       plan->entries[plan->included[i]].image == image && in_request < HFW_PLAN_MAX_REQUEST) {
				if (in_request++)
					put(w, ", ", 2);
				put_eui(w, &hfw_estate_at(plan->e, plan->included[i])->eui);
				i++;
			}
			puts_(w, "]}");
		}
		puts_(w, r ? "\n    ]}" : "]}");
	}
	puts_(w, plan->n_waves ? "\n  ],\n" : "],\n");
	put_althan(w, plan);
	puts_(w, "  \"skipped\": [");
	for (i = 0, k = 0; i < plan->n; i++) {
		struct hfw_plan_decision d;

		if (plan->entries[plan->by_eui[i]].reason == HFW_PLAN_INCLUDED)
			continue;
		explain_device(plan, plan->by_eui[i], &d);
		puts_(w, k++ ? ",\n    {\"eui\": " : "\n    {\"eui\": ");
		put_eui(w, &d.device->eui);
		puts_(w, ", \"reason\": \"");
		puts_(w, reason_names[d.reason]);
		puts_(w, "\", \"facts\": ");
		put_facts(w, &d);
		put(w, "}", 1);
	}
	puts_(w, k ? "\n  ]\n}\n" : "]\n}\n");
	if (!w->ret && w->len)
		w->ret = sink(arg, w->buf, w->len, err);
	ret = w->ret;
	free(w);
	return ret;
}

int hfw_plan_file_sha256(uint8_t out[HFW_SHA256_LEN], const char *path, struct hfw_error *err)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	unsigned int outlen = 0;
	ssize_t n;
	int fd = -1, ret;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return hfw_error_set(err, HFW_EIO, "cannot read '%s': %s", path, strerror(errno));
	if (!(buf = malloc(1 << 20)) || !(ctx = EVP_MD_CTX_new())) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		ret = hfw_error_openssl(err, HFW_ERROR, "sha-256");
		goto out;
	}
	while ((n = read(fd, buf, 1 << 20)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = hfw_error_set(err, HFW_EIO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			ret = hfw_error_openssl(err, HFW_ERROR, "sha-256");
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(ctx, out, &outlen)) {
		ret = hfw_error_openssl(err, HFW_ERROR, "sha-256");
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return ret;
}

int hfw_plan_image_load(struct hfw_plan_image *out, const char *path, const hfw_products *p, struct hfw_error *err)
{
	const struct hfw_product_model *m = NULL;
	struct hfw_image img;
	uint8_t *buf = NULL;
	size_t len, i;
	int ret;

	memset(out, 0, sizeof(*out));
	out->path = path;
	if ((ret = hfw_file_read(&buf, &len, path, HFW_IMAGE_MAX_BYTES, "image", err)) < 0)
		return ret;
	if ((ret = hfw_image_parse(&img, buf, len, HFW_TRAILER_DETECT, err)) < 0) {
		char tmp[HFW_ERROR_TEXT_MAX];

		snprintf(tmp, sizeof(tmp), "%s", err->text);
		ret = hfw_error_set(err, ret, "image '%.200s': %s", path, tmp);
		goto out;
	}
	for (i = 0; i < hfw_products_model_count(p); i++) {
		const struct hfw_product_model *x = hfw_products_model_at(p, i);

		if (x->manufacturer_code != img.hdr.manufacturer_code || x->image_type != img.hdr.image_type)
			continue;
		if (m && x->type->route != m->type->route) {
			ret = hfw_error_set(err, HFW_EINPUT,
					    "image '%.200s': the products file's models for manufacturer code 0x%04X, image type "
					    "0x%04X take different routes (%s and %s)",
					    path, img.hdr.manufacturer_code, img.hdr.image_type, m->type->name, x->type->name);
			goto out;
		}
		if (!m)
			m = x;
	}
	if (!m) {
		ret = hfw_error_set(err, HFW_EINPUT,
				    "image '%.200s': no model in the products file has manufacturer code 0x%04X and image type 0x%04X",
				    path, img.hdr.manufacturer_code, img.hdr.image_type);
		goto out;
	}
	/* Checked again for the route its models take: SR 11.1 images carry the supplier's trailer, 11.4 ones none. */
	if ((ret = hfw_image_parse(&img, buf, len,
				   m->type->route == HFW_ROUTE_SR_11_1 ? HFW_TRAILER_REQUIRED : HFW_TRAILER_ABSENT, err)) < 0) {
		char tmp[HFW_ERROR_TEXT_MAX];

		snprintf(tmp, sizeof(tmp), "%s", err->text);
		ret = hfw_error_set(err, ret, "image '%.200s' for %s (SR %s): %s", path, m->type->name,
				    hfw_route_sr(m->type->route), tmp);
		goto out;
	}
	out->hdr = img.hdr;
	out->type = m->type;
	out->route = m->type->route;
	out->size = len;
	snprintf(out->firmware_version, sizeof(out->firmware_version), "%08X", img.hdr.file_version);
	hfw_image_hashes(&img, buf, len, out->firmware_hash, out->file_sha256);
	ret = 0;
out:
	free(buf);
	return ret;
}

int hfw_plan_parse_window(const char *text, const char *what, int *minute, struct hfw_error *err)
{
	int h, m;

	if (!text || strlen(text) != 5 || text[2] != ':' || text[0] < '0' || text[0] > '9' || text[1] < '0' ||
	    text[1] > '9' || text[3] < '0' || text[3] > '9' || text[4] < '0' || text[4] > '9')
		return hfw_error_set(err, HFW_EINPUT, "%s '%.40s' is not HH:MM (a daily time, UTC, e.g. 02:30)", what,
				     text ? text : "");
	h = (text[0] - '0') * 10 + (text[1] - '0');
	m = (text[3] - '0') * 10 + (text[4] - '0');
	if (h > 23 || m > 59)
		return hfw_error_set(err, HFW_EINPUT, "%s '%.40s' is not a time of day (00:00 to 23:59, UTC)", what, text);
	*minute = h * 60 + m;
	return 0;
}

int64_t hfw_plan_next_window(int64_t now_s, int minute, int64_t lead_s)
{
	int64_t earliest = now_s + (lead_s > 0 ? lead_s : 0);
	int64_t day = earliest - ((earliest % 86400) + 86400) % 86400;	/* midnight UTC of that day */
	int64_t t = day + (int64_t)minute * 60;

	return t >= earliest ? t : t + 86400;
}
