/*
 * plan.h - a campaign plan: for every device of an estate, one decision,
 * made from the estate (the DCC's inventory and the supplier's records), the
 * products file and the campaign's images.  A device is either in a wave,
 * or skipped for exactly one reason, the first in HFW_PLAN_REASONS' order
 * that applies (the order is the precedence; hanfw-campaign(1) says why),
 * with the facts it rests on.
 *
 * Waves: a canary drawn across (device model, hub manufacturer) strata,
 * then waves growing by a factor; never two HAN-slot devices (PPMID, IHD,
 * Alt HAN bridges, HCALCS share the hub's one image slot) of one hub in one
 * wave, and a HAN-slot device always in a later wave than its hub's GSME
 * when the campaign updates that GSME (a GSME image takes the slot over).
 * Within a wave, devices are grouped by image into SR 11.1/11.4 requests of
 * at most 50,000.  Everything is sorted or drawn from a hash of the EUI, so
 * the same inputs give a byte-identical plan.  O(n log n) time; the plan
 * keeps 24 bytes per device and re-derives facts when it writes them.
 */
#ifndef HFW_PLAN_H
#define HFW_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "estate.h"
#include "image.h"
#include "products.h"

#define HFW_PLAN_FORMAT "hanfw-plan-1"
#define HFW_PLAN_MAX_IMAGES 64
#define HFW_PLAN_MAX_REQUEST 50000u	/* devices per SR 11.1/11.4 (DUIS) */
#define HFW_PLAN_DEFAULT_GROWTH 5u
#define HFW_PLAN_CANARY_CAP 100u

/*
 * The reasons, append-only (never renumber: plans and scripts name them).
 * Precedence is HFW_PLAN_PRECEDENCE in plan.c, documented in hanfw-campaign(1).
 */
#define HFW_PLAN_REASONS(X) \
	X(NOT_COMMISSIONED, "not_commissioned") \
	X(ALREADY_AT_TARGET, "already_at_target") \
	X(NOT_ALLOWED_PREDECESSOR, "not_allowed_predecessor") \
	X(MODEL_MISMATCH, "model_mismatch") \
	X(HARDWARE_OUT_OF_RANGE, "hardware_out_of_range") \
	X(VERSION_WITHDRAWN, "version_withdrawn") \
	X(SMETS1, "smets1") \
	X(SECURE_THIRD_PARTY, "secure_third_party") \
	X(UNSUPPORTED_MODEL, "unsupported_model") \
	X(IHD_OUT_OF_SCOPE, "ihd_out_of_scope") \
	X(IMAGE_TOO_LARGE_FOR_HUB, "image_too_large_for_hub") \
	X(HUB_NOT_CAPABLE, "hub_not_capable") \
	X(HUB_METADATA_LOCKED, "hub_metadata_locked") \
	X(COVERED_BY_ORCHESTRATOR, "covered_by_orchestrator") \
	X(NO_ROUTE, "no_route") \
	X(HUB_UNKNOWN, "hub_unknown")

enum hfw_plan_reason {
	HFW_PLAN_INCLUDED = 0,
#define HFW_PLAN_X(n, s) HFW_SKIP_##n,
	HFW_PLAN_REASONS(HFW_PLAN_X)
#undef HFW_PLAN_X
	HFW_PLAN_REASON_COUNT
};

/* "not_commissioned", ...; "included" for HFW_PLAN_INCLUDED. */
const char *hfw_plan_reason_name(enum hfw_plan_reason r);
/* The reasons in precedence order (HFW_PLAN_REASON_COUNT - 1 of them). */
const enum hfw_plan_reason *hfw_plan_precedence(void);

/* An image of the campaign, as campaign plan reads it. */
struct hfw_plan_image {
	const char *path;			/* as given */
	struct hfw_ota_header hdr;
	char firmware_version[9];		/* the OTA file version, 8 upper-case hex digits */
	const struct hfw_device_type *type;	/* the products file's models with its code and type */
	enum hfw_route route;
	uint64_t size;				/* bytes of the whole file: what the hub must hold */
	hfw_firmware_hash firmware_hash;	/* SHA-256 of the Manufacturer Image */
	uint8_t file_sha256[HFW_SHA256_LEN];
};

/*
 * Read an image: its OTA header, then the route the products file's models
 * of its manufacturer code and image type take (they must agree), then the
 * image checked for that route's trailer.  HFW_EINPUT when no model is
 * for it, or its models disagree.
 */
int hfw_plan_image_load(struct hfw_plan_image *out, const char *path, const hfw_products *p, struct hfw_error *err);

/* SHA-256 of a whole file, read in pieces (estates are large). */
int hfw_plan_file_sha256(uint8_t out[HFW_SHA256_LEN], const char *path, struct hfw_error *err);

struct hfw_plan_options {
	int allow_ihd;			/* plan IHDs (out of SECMP0007's scope) */
	int allow_smets1;		/* plan SMETS1 devices (the S1SR says their updates fail or are uncertain) */
	uint64_t canary;		/* 0: 1% of the included devices, at least 1, at most 100 */
	unsigned growth;		/* each wave after the canary is growth times the one before (0: 5) */
	uint64_t max_wave;		/* 0: no cap on a wave's size */
	/*
	 * The activation window: each SR 11.3 of the campaign is future-dated
	 * to the next HH:MM (UTC, every day) a lead time ahead (campaign run).
	 * has_window 0: none (activate at once); activate_at: minutes after
	 * midnight UTC.
	 */
	int has_window;
	int activate_at;
};

/*
 * "HH:MM" (UTC, 00:00 to 23:59, two digits each, nothing else) to minutes
 * after midnight; HFW_EINPUT naming the rule otherwise.  what names the
 * option in the error ("--activate-at").
 */
int hfw_plan_parse_window(const char *text, const char *what, int *minute, struct hfw_error *err);

/*
 * The first time (Unix seconds) at least lead_s after now_s whose UTC time
 * of day is minute (after midnight): the next occurrence of a daily
 * window.  Pure.
 */
int64_t hfw_plan_next_window(int64_t now_s, int minute, int64_t lead_s);

typedef struct hfw_plan hfw_plan;

int hfw_plan_make(hfw_plan **out, const hfw_estate *e, const hfw_products *p, const struct hfw_plan_image *images,
		  size_t n_images, const struct hfw_plan_options *o, struct hfw_error *err);
void hfw_plan_free(hfw_plan *plan);

/* Counts: per reason (HFW_PLAN_INCLUDED: devices in waves), waves, and devices in wave w (1-based). */
uint64_t hfw_plan_reason_count(const hfw_plan *plan, enum hfw_plan_reason r);
size_t hfw_plan_wave_count(const hfw_plan *plan);
uint64_t hfw_plan_wave_size(const hfw_plan *plan, size_t w);
uint64_t hfw_plan_canary(const hfw_plan *plan);

/* One fact a decision rests on: a name and a value (a JSON number when is_number). */
#define HFW_PLAN_MAX_FACTS 12
struct hfw_plan_fact {
	const char *name;
	char value[160];
	int is_number;
};

struct hfw_plan_decision {
	const struct hfw_device *device;
	enum hfw_plan_reason reason;
	int image;				/* index into the images, -1 when none was chosen */
	size_t wave;				/* 1-based, with HFW_PLAN_INCLUDED */
	size_t n_facts;
	struct hfw_plan_fact facts[HFW_PLAN_MAX_FACTS];
};

/* One device's decision (HFW_EINPUT if the estate does not hold eui). */
int hfw_plan_explain(const hfw_plan *plan, const struct hfw_eui *eui, struct hfw_plan_decision *out,
		     struct hfw_error *err);

/* What the plan file records of its inputs, so campaign run can check them. */
struct hfw_plan_inputs {
	const char *estate_path, *products_path;
	uint8_t estate_sha256[HFW_SHA256_LEN], products_sha256[HFW_SHA256_LEN];
};

/* Where the plan's text goes, piece by piece (a file being written, standard output). */
typedef int (*hfw_plan_sink)(void *arg, const char *data, size_t len, struct hfw_error *err);

/* The plan as JSON (schemas/plan.schema.json), streamed to sink. */
int hfw_plan_write(const hfw_plan *plan, const struct hfw_plan_inputs *in, hfw_plan_sink sink, void *arg,
		   struct hfw_error *err);

#endif
