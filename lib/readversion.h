/*
 * readversion.h - SR 11.2, Read Firmware Version, for many devices: CV 1
 * to Send Command -> I99 (the device's answer comes later, to the receive
 * URL: hanfw listen).  On the per-device engine of flow.h.
 */
#ifndef HFW_READVERSION_H
#define HFW_READVERSION_H

#include <stddef.h>

#include "error.h"
#include "flow.h"

/* Read results[i].device's firmware version for each i (see hfw_flow_run). */
int hfw_read_version_run(const struct hfw_flow_options *o, struct hfw_flow_result *results, size_t n,
			 size_t *counts, struct hfw_error *err);

#endif
