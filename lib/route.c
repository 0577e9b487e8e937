/* route.c - the device type -> firmware route table (see route.h). */
#include "route.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct hfw_device_type types[] = {
	{ "ESME", "electricity smart metering equipment",
	  HFW_ROUTE_SR_11_1, HFW_ACTIVATE_SR_11_3, NULL },
	{ "GSME", "gas smart metering equipment",
	  HFW_ROUTE_SR_11_1, HFW_ACTIVATE_SR_11_3, NULL },
	{ "HCALCS", "HAN-connected auxiliary load control switch",
	  HFW_ROUTE_SR_11_1, HFW_ACTIVATE_SR_11_3, NULL },
	{ "PPMID", "prepayment interface device",
	  HFW_ROUTE_SR_11_4, HFW_ACTIVATE_SELF, NULL },
	/* SECMP0007 dropped IHDs from scope; kept on the PPMID route as the
	 * design asks, so a DCC that accepts them can be served. */
	{ "IHD", "in-home display",
	  HFW_ROUTE_SR_11_4, HFW_ACTIVATE_SELF, NULL },
	/* MP170: Alt HAN point-to-point bridges join as PPMIDs. */
	{ "ALTHAN-B1", "Alt HAN bridge B1 (joins as a PPMID)",
	  HFW_ROUTE_SR_11_4, HFW_ACTIVATE_SELF, NULL },
	{ "ALTHAN-B2", "Alt HAN bridge B2 (joins as a PPMID)",
	  HFW_ROUTE_SR_11_4, HFW_ACTIVATE_SELF, NULL },
	{ "ALTHAN-B3", "Alt HAN bridge B3 (joins as a PPMID)",
	  HFW_ROUTE_SR_11_4, HFW_ACTIVATE_SELF, NULL },
	{ "ALTHAN-B4", "Alt HAN bridge B4 (joins as a PPMID)",
	  HFW_ROUTE_SR_11_4, HFW_ACTIVATE_SELF, NULL },
	{ "CHF", "comms hub function",
	  HFW_ROUTE_NONE, HFW_ACTIVATE_NONE,
	  "comms hub firmware is distributed and activated by the DCC, not by a supplier's service request" },
	{ "GPF", "gas proxy function",
	  HFW_ROUTE_NONE, HFW_ACTIVATE_NONE,
	  "gas proxy function firmware comes with the comms hub's, distributed by the DCC" },
	/* In the DCC's inventory (SR 8.2) but outside every firmware SR. */
	{ "CAD", "consumer access device",
	  HFW_ROUTE_NONE, HFW_ACTIVATE_NONE,
	  "consumer access devices take no firmware through the DCC's service requests" },
	{ NULL, NULL, HFW_ROUTE_NONE, HFW_ACTIVATE_NONE, NULL },
};

const struct hfw_device_type *hfw_device_types(void)
{
	return types;
}

int hfw_device_type_find(const struct hfw_device_type **out, const char *name,
			 struct hfw_error *err)
{
	const struct hfw_device_type *t;

	*out = NULL;
	for (t = types; t->name; t++)
		if (strcasecmp(t->name, name) == 0) {
			*out = t;
			return 0;
		}
	return hfw_error_set(err, HFW_EINPUT,
			     "unknown device type '%.40s' (expected one of ESME, GSME, HCALCS, PPMID, IHD, ALTHAN-B1..B4)",
			     name);
}

const char *hfw_route_sr(enum hfw_route r)
{
	switch (r) {
	case HFW_ROUTE_SR_11_1: return "11.1";
	case HFW_ROUTE_SR_11_4: return "11.4";
	default: return "none";
	}
}

const char *hfw_route_name(enum hfw_route r)
{
	switch (r) {
	case HFW_ROUTE_SR_11_1: return "Update Firmware";
	case HFW_ROUTE_SR_11_4: return "Update PPMID Firmware";
	default: return "none";
	}
}

const char *hfw_activation_name(enum hfw_activation a)
{
	switch (a) {
	case HFW_ACTIVATE_SR_11_3: return "11.3";
	case HFW_ACTIVATE_SELF: return "self";
	default: return "none";
	}
}

int hfw_route_parse(enum hfw_route *out, const char *text, struct hfw_error *err)
{
	if (strcmp(text, "11.1") == 0)
		*out = HFW_ROUTE_SR_11_1;
	else if (strcmp(text, "11.4") == 0)
		*out = HFW_ROUTE_SR_11_4;
	else
		return hfw_error_set(err, HFW_EINPUT,
				     "unknown route '%.20s' (expected 11.1 or 11.4)", text);
	return 0;
}

int hfw_ihd_check(const struct hfw_device_type *type, const char *eui, int allow_ihd, const char *not_done,
		  struct hfw_error *err)
{
	if (!type || allow_ihd || strcmp(type->name, "IHD") != 0)
		return 0;
	if (eui)
		return hfw_error_set(err, HFW_EINPUT,
				     "device %s is an IHD: IHDs are out of the DCC's firmware scope (SECMP0007): %s "
				     "(--allow-ihd to override)", eui, not_done);
	return hfw_error_set(err, HFW_EINPUT,
			     "device type IHD is out of the DCC's firmware scope (SECMP0007): %s (--allow-ihd to override)",
			     not_done);
}
