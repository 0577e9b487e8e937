/*
 * devlist.h - lists of target devices, as operators write them: one device
 * per line, "EUI" or "EUI TYPE" (white space or a comma between), '#'
 * comments and blank lines allowed.  A type given here is checked against
 * the image's route before anything is sent.
 */
#ifndef HFW_DEVLIST_H
#define HFW_DEVLIST_H

#include <stddef.h>

#include "error.h"
#include "eui.h"
#include "route.h"

struct hfw_target {
	struct hfw_eui eui;
	const struct hfw_device_type *type;	/* NULL if the list does not say */
};

struct hfw_devlist {
	struct hfw_target *v;
	size_t n, cap;
	size_t duplicates;	/* repeats dropped by hfw_devlist_finish */
};

#define HFW_DEVLIST_INIT { NULL, 0, 0, 0 }

/* Add one device. */
int hfw_devlist_add(struct hfw_devlist *l, const struct hfw_eui *eui,
		    const struct hfw_device_type *type, struct hfw_error *err);

/* Parse text (what names it in messages, with the line). */
int hfw_devlist_parse(struct hfw_devlist *l, const char *text, size_t len, const char *what,
		      struct hfw_error *err);

/*
 * When all are added: sort, drop repeats (counted in duplicates), refuse a
 * device listed with two types, and refuse an empty list (HFW_EINPUT).
 */
int hfw_devlist_finish(struct hfw_devlist *l, struct hfw_error *err);

void hfw_devlist_release(struct hfw_devlist *l);

#endif
