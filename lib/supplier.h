/*
 * supplier.h - the supplier's own records of its devices: what the DCC's
 * inventory does not hold (DUIS 5.4 has no PPMIDVariant, no installation
 * type, no site).  hanfw inventory --supplier FILE merges them into the
 * estate after the DCC's data.
 *
 * CSV, whose first line is exactly the header
 *     eui,bridge,site,installation,third_party,hardware_version,althan_option,sleepy
 * (no quoting: a field holds no comma or quote), or JSON
 *     {"format":"hanfw-supplier-1","devices":[{"eui":...,"bridge":...}, ...]}
 * with the same member names (schemas/supplier.schema.json).  bridge: empty
 * or B1..B4 (a PPMID that is an Alt HAN bridge: type ALTHAN-Bn);
 * installation FOC|IOC|MOC|Secure or empty; third_party 0/1;
 * hardware_version 0..65535 or empty; althan_option empty, A or B; sleepy
 * 0/1.  Every refusal is one line naming the file, the line (CSV) or the
 * device's index (JSON), and the field.
 */
#ifndef HFW_SUPPLIER_H
#define HFW_SUPPLIER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "estate.h"
#include "eui.h"

#define HFW_SUPPLIER_FORMAT "hanfw-supplier-1"
#define HFW_SUPPLIER_MAX_BYTES (512u * 1024 * 1024)	/* ~8 million CSV records */
#define HFW_SUPPLIER_MAX_RECORDS 10000000u
#define HFW_SUPPLIER_SITE_MAX 64			/* characters of a site reference */

struct hfw_supplier_record {
	struct hfw_eui eui;
	size_t line;				/* CSV line, or JSON device index + 1, for messages */
	int bridge;				/* 0: not a bridge; 1..4: Alt HAN bridge Bn */
	char site[HFW_SUPPLIER_SITE_MAX + 1];
	enum hfw_install_type installation;
	int third_party;
	int has_hardware_version;
	uint16_t hardware_version;
	enum hfw_althan_option althan_option;
	int sleepy;
};

struct hfw_supplier {
	struct hfw_supplier_record *v;
	size_t n, cap;
	int json;				/* it came as JSON (messages say "device N", not "line N") */
};

#define HFW_SUPPLIER_INIT { NULL, 0, 0, 0 }

/* Parse text (CSV or JSON, told apart by its first character); what names it in messages. */
int hfw_supplier_parse(struct hfw_supplier *s, const char *text, size_t len, const char *what,
		       struct hfw_error *err);
int hfw_supplier_read(struct hfw_supplier *s, const char *path, struct hfw_error *err);
void hfw_supplier_release(struct hfw_supplier *s);

/*
 * Merge the records into e, after the DCC's data: each record's members
 * over its device's (a bridge turns a PPMID into ALTHAN-Bn; HFW_EINPUT,
 * naming the line, for a bridge on a device the DCC lists as anything but
 * a PPMID).  A record whose EUI the estate does not hold is not added:
 * missing (may be NULL) is told, and *applied counts the rest.
 */
int hfw_supplier_apply(hfw_estate *e, const struct hfw_supplier *s, const char *what,
		       void (*missing)(void *arg, const struct hfw_supplier_record *r), void *arg, size_t *applied,
		       struct hfw_error *err);

#endif
