/*
 * estategen.h - the sandbox's estates: made up from a spec for "sandbox
 * init --devices".  Only the emulator invents devices; the core reads and
 * writes estates (estate.h).
 */
#ifndef HFW_ESTATEGEN_H
#define HFW_ESTATEGEN_H

#include "../error.h"
#include "../estate.h"

/*
 * Generate an estate from a spec of hub groups: "PPMID=1000;HCALCS=200"
 * puts 1000 PPMIDs on 1000 hubs and 200 HCALCS on 200 other hubs;
 * "PPMID=10,HCALCS=10" puts a PPMID and an HCALCS on each of 10 hubs.
 * EUIs are deterministic.  HFW_EINPUT for a malformed spec.
 */
int hfw_estate_generate(hfw_estate **out, const char *spec, struct hfw_error *err);

#endif
