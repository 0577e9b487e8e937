/*
 * estategen.h - the sandbox's estates: made up from a spec for "sandbox
 * init --devices".  Only the emulator invents devices; the core reads and
 * writes estates (estate.h).
 */
#ifndef HFW_ESTATEGEN_H
#define HFW_ESTATEGEN_H

#include "../error.h"
#include "../estate.h"

#include <stdint.h>

/*
 * Generate an estate from a spec of hub groups: "PPMID=1000;HCALCS=200"
 * puts 1000 PPMIDs on 1000 hubs and 200 HCALCS on 200 other hubs;
 * "PPMID=10,HCALCS=10" puts a PPMID and an HCALCS on each of 10 hubs.
 * EUIs are deterministic.  HFW_EINPUT for a malformed spec.
 */
int hfw_estate_generate(hfw_estate **out, const char *spec, struct hfw_error *err);

/*
 * A mixed estate ("mixed:N[:SEED]" as a spec, sandbox init --mixed N):
 * premises of up to 17 devices behind comms hubs of several manufacturers
 * and models (one too small for the sandbox's images, one whose firmware
 * lacks variant HAN OTA, one the products file does not know), SMETS1
 * premises (FOC, IOC, MOC and Secure installations, third-party PPMIDs),
 * IHDs, Alt HAN sites of options A and B, devices not commissioned or
 * already at the target, a model on a pathway, a withdrawn version, an
 * image locked to one hub manufacturer, an unsupported model (the L+G P450
 * Pebble), a model no image is for, consumer access devices.  About N
 * devices (whole premises); the same N and seed give the same estate.
 */
#define HFW_ESTATEGEN_MIXED_MAX 20000000u
int hfw_estate_generate_mixed(hfw_estate **out, uint64_t n, uint64_t seed, struct hfw_error *err);

/*
 * Beside a mixed estate, in dir: supplier.csv (the supplier's records, the
 * format "hanfw inventory --supplier" reads), products.json (its device and
 * hub models, schemas/products.schema.json), images.txt (one line per
 * sample image to make with hanfw package build: device type, manufacturer
 * code, image type, file version, file name) and truth.json (per device,
 * the decision "campaign plan" must reach with those images and its default
 * options: "included" or the reason; format "hanfw-plan-truth-1").  With
 * write_estate, estate.json too.
 */
int hfw_estategen_mixed_files(const char *dir, uint64_t n, uint64_t seed, int write_estate, struct hfw_error *err);

/* Parse "mixed:N[:SEED]": 1 and n, seed set; 0 for another spec; HFW_EINPUT for a malformed one. */
int hfw_estategen_mixed_spec(const char *spec, uint64_t *n, uint64_t *seed, struct hfw_error *err);

#endif
