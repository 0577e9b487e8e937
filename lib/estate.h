/*
 * estate.h - the devices a campaign can reach, as the DCC's inventory
 * (SR 8.2, DUIS 5.4 "Device") and the supplier's own records describe them.
 * JSON, schema schemas/estate.schema.json: "hanfw-estate-2" is written,
 * "hanfw-estate-1" (EUI, type, hub, versions, sleepy/offline) still read.
 *
 * Estates reach millions of devices, so reading streams one device at a
 * time and text members are interned: every const char * below points
 * into the estate's own string pool (never NULL; "" when unknown), and
 * hfw_estate_add copies whatever the caller's pointers hold.
 */
#ifndef HFW_ESTATE_H
#define HFW_ESTATE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "eui.h"
#include "route.h"

#define HFW_ESTATE_FORMAT "hanfw-estate-2"
#define HFW_ESTATE_FORMAT_1 "hanfw-estate-1"
#define HFW_ESTATE_MAX_BYTES (2048u * 1024 * 1024)

/* DUIS DeviceStatus (XSD ~2651); UNKNOWN when the source did not say. */
enum hfw_device_status {
	HFW_DEVSTAT_UNKNOWN = 0,
	HFW_DEVSTAT_PENDING,
	HFW_DEVSTAT_WHITELISTED,
	HFW_DEVSTAT_INSTALLED_NOT_COMMISSIONED,
	HFW_DEVSTAT_COMMISSIONED,
	HFW_DEVSTAT_DECOMMISSIONED,
	HFW_DEVSTAT_WITHDRAWN,
	HFW_DEVSTAT_SUSPENDED,
	HFW_DEVSTAT_RECOVERY,
	HFW_DEVSTAT_RECOVERED,
};

/* DUIS FirmwareVersionStatus and CPLStatus share these values (XSD ~3377). */
enum hfw_cpl_status {
	HFW_CPL_UNKNOWN = 0,
	HFW_CPL_ACTIVE,
	HFW_CPL_CANCELLED,
	HFW_CPL_EXPIRED,
	HFW_CPL_WITHDRAWN,
};

/* The supplier's installation type (S4: third-party PPMIDs on Secure fail). */
enum hfw_install_type {
	HFW_INSTALL_UNKNOWN = 0,
	HFW_INSTALL_FOC,
	HFW_INSTALL_IOC,
	HFW_INSTALL_MOC,
	HFW_INSTALL_SECURE,
};

/* The Alt HAN packaging option a site uses (MP170: A or B). */
enum hfw_althan_option {
	HFW_ALTHAN_NONE = 0,
	HFW_ALTHAN_A,
	HFW_ALTHAN_B,
};

struct hfw_device {
	/* From the DCC's inventory (SR 8.2). */
	struct hfw_eui eui;			/* DeviceID */
	const struct hfw_device_type *type;	/* DeviceType, refined by the supplier's Alt HAN bridge type */
	int has_comms_hub;			/* 0: the inventory named no hub at the premises */
	struct hfw_eui comms_hub;		/* the premises' CHF; itself for a CHF */
	enum hfw_device_status status;		/* DeviceStatus */
	const char *manufacturer;		/* DeviceManufacturer, e.g. "106C" */
	const char *model;			/* DeviceModel, e.g. "433100AC" */
	char firmware_version[9];		/* DeviceFirmwareVersion: 1-8 characters as the CPL writes it; "" unknown */
	enum hfw_cpl_status firmware_status;	/* DeviceFirmwareVersionStatus */
	enum hfw_cpl_status cpl_status;		/* CPLStatus */
	const char *chts_version;		/* SMETSCHTSVersion */
	const char *gbcs_version;		/* DeviceGBCSVersion */
	const char *region;			/* CSPRegion, "SMETS1" for SMETS1 devices */
	const char *s1sp;			/* S1SP */
	const char *han_variant;		/* HANVariant (a radio band, e.g. "Single Band") */
	const char *connectivity;		/* Connectivity */
	const char *date_commissioned;		/* DateCommissioned as the DCC wrote it */
	const char *mpxn;			/* ImportMPxN */
	const char *uprn;			/* UPRN */

	/* From the supplier's own records (DUIS 5.4 has no PPMIDVariant). */
	const char *site;			/* the supplier's site reference ("" unknown) */
	enum hfw_install_type installation;
	enum hfw_althan_option althan_option;	/* the site's Alt HAN packaging option */
	int third_party;			/* a PPMID the supplier did not install */
	int has_hardware_version;
	uint16_t hardware_version;
	int sleepy, offline;			/* the sandbox's simulation; hints for pacing */
};

typedef struct hfw_estate hfw_estate;

int hfw_estate_new(hfw_estate **out, struct hfw_error *err);
void hfw_estate_free(hfw_estate *e);

/* A copy of s kept as long as the estate ("" for NULL).  NULL only when out of memory. */
const char *hfw_estate_intern(hfw_estate *e, const char *s);

/*
 * Add a device (its text members are interned).  HFW_EINPUT if the EUI is
 * already there: an estate holds each device once.
 */
int hfw_estate_add(hfw_estate *e, const struct hfw_device *d, struct hfw_error *err);

/*
 * Add or replace: a device already there is overwritten by d except for the
 * members d leaves unknown (0, "", UNKNOWN), which keep their old values.
 * How inventory merges the DCC's answers and the supplier's records.
 */
int hfw_estate_merge(hfw_estate *e, const struct hfw_device *d, struct hfw_error *err);

size_t hfw_estate_count(const hfw_estate *e);
const struct hfw_device *hfw_estate_at(const hfw_estate *e, size_t i);

/* Find a device by EUI (NULL if the estate does not have it).  O(1). */
const struct hfw_device *hfw_estate_find(const hfw_estate *e, const struct hfw_eui *eui);

/* Devices in EUI order, so written estates are byte-identical for the same devices. */
int hfw_estate_sort(hfw_estate *e, struct hfw_error *err);

int hfw_estate_write(const hfw_estate *e, const char *path, struct hfw_error *err);
int hfw_estate_read(hfw_estate **out, const char *path, struct hfw_error *err);
int hfw_estate_parse(hfw_estate **out, const char *text, size_t len, const char *what,
		     struct hfw_error *err);

/* Names as DUIS spells them ("Commissioned", "Active", ...) and back; parse gives HFW_EINPUT. */
const char *hfw_device_status_name(enum hfw_device_status s);
int hfw_device_status_parse(enum hfw_device_status *out, const char *text, struct hfw_error *err);
const char *hfw_cpl_status_name(enum hfw_cpl_status s);
int hfw_cpl_status_parse(enum hfw_cpl_status *out, const char *text, struct hfw_error *err);
const char *hfw_install_type_name(enum hfw_install_type t);	/* "FOC", "IOC", "MOC", "Secure" */
int hfw_install_type_parse(enum hfw_install_type *out, const char *text, struct hfw_error *err);
const char *hfw_althan_option_name(enum hfw_althan_option o);	/* "", "A", "B" */
int hfw_althan_option_parse(enum hfw_althan_option *out, const char *text, struct hfw_error *err);

#endif
