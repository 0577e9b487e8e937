/*
 * manifest.h - the JSON manifest written beside every packaged image
 * (IMAGE.json; schema in schemas/manifest.schema.json).
 *
 * It records what was built and for whom: device type and route, every
 * OTA header field, sizes, SHA-256 of the ManufacturerImage (the 11.3
 * FirmwareHash) and of the whole file, the DUIS FirmwareVersion and the
 * signer.  distribute and activate read it back, so parsing is strict.
 */
#ifndef HFW_MANIFEST_H
#define HFW_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto.h"
#include "error.h"
#include "image.h"
#include "route.h"

#define HFW_MANIFEST_FORMAT "hanfw-manifest-1"
#define HFW_MANIFEST_MAX_BYTES (64 * 1024)
#define HFW_FIRMWARE_VERSION_LEN 8

struct hfw_manifest {
	char image[256];			/* file name of the image, no directory */
	const struct hfw_device_type *type;
	enum hfw_route route;
	char firmware_version[HFW_FIRMWARE_VERSION_LEN + 1];	/* DUIS FirmwareVersion */
	struct hfw_ota_header hdr;
	size_t header_len, mi_len, trailer_len, total_len;
	hfw_firmware_hash firmware_hash;		/* SHA-256 of the Manufacturer Image (JSON: manufacturer_image_sha256) */
	uint8_t file_sha256[HFW_SHA256_LEN];
	int is_signed;
	struct hfw_cert_info signer;		/* eui, role, issuer, serial */
	uint32_t hub_capacity;
	char created_by[64];
};

/* Serialise to compact-but-readable JSON text (caller frees). */
int hfw_manifest_format(char **out, const struct hfw_manifest *m, struct hfw_error *err);

/* The ota_header member as a new JSON object (NULL when out of memory). */
json_t *hfw_manifest_header_json(const struct hfw_ota_header *h);

/* Write atomically to path. */
int hfw_manifest_write(const char *path, const struct hfw_manifest *m, struct hfw_error *err);

/* Parse manifest text; HFW_EINPUT names the offending member. */
int hfw_manifest_parse(struct hfw_manifest *out, const char *text, size_t len,
		       const char *what, struct hfw_error *err);

/* Read and parse path. */
int hfw_manifest_read(struct hfw_manifest *out, const char *path, struct hfw_error *err);

/*
 * Compare a manifest with a parsed image and its hashes; HFW_EINPUT names
 * the first member that differs.
 */
int hfw_manifest_check_image(const struct hfw_manifest *m, const struct hfw_image *img,
			     const hfw_firmware_hash firmware_hash,
			     const uint8_t file_sha256[HFW_SHA256_LEN],
			     const char *what, struct hfw_error *err);

/*
 * Read image_path and the manifest beside it (image_path.json), and check
 * the bytes are exactly what the manifest describes.  *data is the image
 * (caller frees); img is a view into it.  HFW_EINPUT names the difference.
 */
int hfw_manifest_load_image(struct hfw_manifest *m, uint8_t **data, size_t *len,
			    struct hfw_image *img, const char *image_path, struct hfw_error *err);

/* Is text a DUIS FirmwareVersion hanfw accepts: exactly 8 hex digits? */
int hfw_firmware_version_valid(const char *text);

#endif
