/*
 * route.h - which DUIS service request carries a device type's firmware.
 *
 * One table (route.c) decides, for every device type hanfw knows, whether
 * its image goes by SR 11.1 Update Firmware (with the supplier's signature
 * trailer after the Manufacturer Image) or SR 11.4 Update PPMID Firmware
 * (no trailer), and how it is activated.  package, distribute and activate
 * all ask this table; man/hanfw-package.1 prints it.
 */
#ifndef HFW_ROUTE_H
#define HFW_ROUTE_H

#include "error.h"

enum hfw_route {
	HFW_ROUTE_NONE = 0,	/* not a supplier firmware route */
	HFW_ROUTE_SR_11_1,	/* Update Firmware; image carries a signature trailer */
	HFW_ROUTE_SR_11_4,	/* Update PPMID Firmware; no trailer */
};

enum hfw_activation {
	HFW_ACTIVATE_NONE = 0,	/* not applicable */
	HFW_ACTIVATE_SR_11_3,	/* a critical SR 11.3 per device */
	HFW_ACTIVATE_SELF,	/* the device activates itself after transfer */
};

struct hfw_device_type {
	const char *name;		/* "ESME", "PPMID", "ALTHAN-B1", ... */
	const char *description;
	enum hfw_route route;
	enum hfw_activation activation;
	const char *refusal;		/* why there is no route, if route is NONE */
};

/* Look a device type up by name (case-insensitive).  HFW_EINPUT if unknown. */
int hfw_device_type_find(const struct hfw_device_type **out, const char *name,
			 struct hfw_error *err);

/* The whole table, NULL-terminated by a row whose name is NULL. */
const struct hfw_device_type *hfw_device_types(void);

/* "11.1" / "11.4" / "none". */
const char *hfw_route_sr(enum hfw_route route);

/* "Update Firmware" / "Update PPMID Firmware". */
const char *hfw_route_name(enum hfw_route route);

/* "11.3" / "self" / "none". */
const char *hfw_activation_name(enum hfw_activation a);

/*
 * SECMP0007 dropped IHDs from the DCC's firmware scope: package, distribute
 * and read-version refuse an IHD target alike unless allowed (--allow-ihd).
 * HFW_EINPUT, one line naming the device (eui, or the type alone when NULL)
 * and saying what was not done ("nothing sent"); 0 for any other type.
 */
int hfw_ihd_check(const struct hfw_device_type *type, const char *eui, int allow_ihd, const char *not_done,
		  struct hfw_error *err);

/* Parse "11.1" / "11.4" (as given to --route).  HFW_EINPUT otherwise. */
int hfw_route_parse(enum hfw_route *out, const char *text, struct hfw_error *err);

#endif
