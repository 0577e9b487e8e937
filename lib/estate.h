/*
 * estate.h - the devices a campaign can reach: EUI, type, comms hub,
 * hardware and firmware versions, sleepy and offline flags (JSON, schema
 * schemas/estate.schema.json).  The sandbox simulates an estate; distribute
 * and activate read one to refuse devices of the wrong type.
 */
#ifndef HFW_ESTATE_H
#define HFW_ESTATE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "eui.h"
#include "route.h"

#define HFW_ESTATE_FORMAT "hanfw-estate-1"
#define HFW_ESTATE_MAX_BYTES (64u * 1024 * 1024)

struct hfw_device {
	struct hfw_eui eui;
	const struct hfw_device_type *type;	/* from the route table; CHF for comms hubs */
	struct hfw_eui comms_hub;		/* itself, for a CHF */
	uint16_t hardware_version;
	char firmware_version[9];		/* 8 hex digits */
	int sleepy, offline;
};

typedef struct hfw_estate hfw_estate;

int hfw_estate_new(hfw_estate **out, struct hfw_error *err);
void hfw_estate_free(hfw_estate *e);

int hfw_estate_add(hfw_estate *e, const struct hfw_device *d, struct hfw_error *err);
size_t hfw_estate_count(const hfw_estate *e);
const struct hfw_device *hfw_estate_at(const hfw_estate *e, size_t i);

/* Find a device by EUI (NULL if the estate does not have it). */
const struct hfw_device *hfw_estate_find(const hfw_estate *e, const struct hfw_eui *eui);

int hfw_estate_write(const hfw_estate *e, const char *path, struct hfw_error *err);
int hfw_estate_read(hfw_estate **out, const char *path, struct hfw_error *err);
int hfw_estate_parse(hfw_estate **out, const char *text, size_t len, const char *what,
		     struct hfw_error *err);

#endif
