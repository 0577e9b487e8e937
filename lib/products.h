/*
 * products.h - what the supplier knows about the products in its estate
 * (JSON "hanfw-products-1", schema schemas/products.schema.json, described
 * in hanfw-campaign(1)): per device model, which images are for it (the
 * OTA manufacturer code and image type), its hardware range, the versions
 * it may run with their CPL status and allowed predecessors (MP231
 * pathways), whether it is unsupported, and which versions are locked to
 * one hub manufacturer (the SMETS1 PPMID consultation's metadata issue);
 * per comms hub model, how large an image it holds and which of its
 * firmware versions carry variant HAN OTA (SECMP0007); per Alt HAN option,
 * which bridge orchestrates and which bridges its package serves (MP170).
 * campaign plan decides with it; it is read whole (it is small) and strictly.
 */
#ifndef HFW_PRODUCTS_H
#define HFW_PRODUCTS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "estate.h"
#include "route.h"

#define HFW_PRODUCTS_FORMAT "hanfw-products-1"
#define HFW_PRODUCTS_MAX_BYTES (16u * 1024 * 1024)
#define HFW_PRODUCTS_MAX_ITEMS 100000u	/* models, hubs, versions or predecessors in one list */

struct hfw_product_version {
	char version[9];			/* as the CPL writes it, 1-8 characters */
	enum hfw_cpl_status cpl_status;		/* only Active versions are distributed */
	size_t n_predecessors;			/* 0: any predecessor */
	char (*predecessors)[9];		/* the versions a device may run before this one */
	const char *locked_to_hub_manufacturer;	/* NULL: any hub manufacturer */
};

struct hfw_product_model {
	const char *manufacturer, *model;	/* as the DCC's inventory writes them */
	const char *name;			/* for people; "" when not given */
	const struct hfw_device_type *type;
	uint16_t manufacturer_code, image_type;	/* the OTA header fields of its images */
	int has_hardware_range;
	uint16_t hardware_min, hardware_max;
	const char *unsupported;		/* why the model is not updated, or NULL */
	size_t n_versions;
	struct hfw_product_version *versions;
};

struct hfw_hub_model {
	const char *manufacturer, *model, *name;
	uint64_t image_capacity;		/* bytes of image the hub holds */
	size_t n_han_ota_firmware;
	char (*han_ota_firmware)[9];		/* hub firmware versions that carry variant HAN OTA */
};

/* Alt HAN bridges as bits: 1 << (n - 1) for bridge Bn. */
struct hfw_althan_packaging {
	int present;
	int orchestrator;			/* 1..4 */
	unsigned serves;			/* bridges the orchestrator's package serves, itself included */
};

typedef struct hfw_products hfw_products;

int hfw_products_read(hfw_products **out, const char *path, struct hfw_error *err);
int hfw_products_parse(hfw_products **out, const char *text, size_t len, const char *what,
		       struct hfw_error *err);
void hfw_products_free(hfw_products *p);

/* NULL when the file does not describe it.  O(log n). */
const struct hfw_product_model *hfw_products_model(const hfw_products *p, const char *manufacturer,
						  const char *model);
const struct hfw_hub_model *hfw_products_hub(const hfw_products *p, const char *manufacturer, const char *model);

size_t hfw_products_model_count(const hfw_products *p);
const struct hfw_product_model *hfw_products_model_at(const hfw_products *p, size_t i);

/* The model's entry for version (compared case-insensitively), or NULL. */
const struct hfw_product_version *hfw_product_version_find(const struct hfw_product_model *m, const char *version);

/* Does hub firmware version v carry variant HAN OTA? */
int hfw_hub_han_ota(const struct hfw_hub_model *h, const char *version);

/* Option A or B; .present 0 when the file says nothing for it. */
struct hfw_althan_packaging hfw_products_althan(const hfw_products *p, enum hfw_althan_option o);

/* The bridge number of an Alt HAN device type (ALTHAN-B3: 3), 0 for any other type. */
int hfw_althan_bridge(const struct hfw_device_type *t);

/* Firmware versions compare case-insensitively ("0a" is "0A"). */
int hfw_version_equal(const char *a, const char *b);

#endif
