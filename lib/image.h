/*
 * image.h - GB firmware images: a ZigBee OTA upgrade file wrapping a
 * ManufacturerImage, with the supplier's signature trailer on the SR 11.1
 * route.
 *
 *   OTA header (little-endian, 56..69 bytes) || ManufacturerImage
 *   [ || len16be(64) || ECDSA-P256-SHA256(ManufacturerImage) as r||s ]
 *
 * The trailer signs the ManufacturerImage only; the 11.3 FirmwareHash is
 * SHA-256 of the ManufacturerImage only (../shared/docs/firmware-protocol.md
 * §1-2).  Parsing never reads past the input and names the first
 * inconsistency it finds.
 */
#ifndef HFW_IMAGE_H
#define HFW_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "eui.h"

#define HFW_OTA_FILE_IDENTIFIER 0x0BEEF11Eu
#define HFW_OTA_HEADER_VERSION 0x0100u
#define HFW_OTA_MIN_HEADER_LEN 56u
#define HFW_OTA_MAX_HEADER_LEN (56u + 1u + 8u + 4u)
#define HFW_OTA_HEADER_STRING_LEN 32u

/* Field control bits: which optional header fields follow the fixed 56 bytes. */
#define HFW_OTA_FC_SECURITY_CREDENTIAL 0x0001u
#define HFW_OTA_FC_DESTINATION 0x0002u
#define HFW_OTA_FC_HW_VERSIONS 0x0004u
#define HFW_OTA_FC_KNOWN 0x0007u

/* Image types from 0xFFC0 are credentials, configuration, logs, wildcard. */
#define HFW_OTA_IMAGE_TYPE_MAX_FIRMWARE 0xFFBFu

#define HFW_TRAILER_LEN (2u + HFW_ECDSA_SIG_LEN)

/* DUIS FirmwareImage maxLength (decoded octets). */
#define HFW_IMAGE_MAX_BYTES 10240000u
/* Comms hub minimum capability per image (CHTS via SECMP0007: "750 kbytes"). */
#define HFW_HUB_CAPACITY_DEFAULT 750000u

struct hfw_ota_header {
	uint32_t file_identifier;
	uint16_t header_version;
	uint16_t header_length;
	uint16_t field_control;
	uint16_t manufacturer_code;
	uint16_t image_type;
	uint32_t file_version;
	uint16_t stack_version;
	uint8_t header_string[HFW_OTA_HEADER_STRING_LEN];	/* NUL padded */
	uint32_t total_size;
	uint8_t security_credential_version;	/* if HFW_OTA_FC_SECURITY_CREDENTIAL */
	struct hfw_eui destination;		/* if HFW_OTA_FC_DESTINATION */
	uint16_t hw_min, hw_max;		/* if HFW_OTA_FC_HW_VERSIONS */
};

/* Header length implied by a field control word (known bits only). */
size_t hfw_ota_header_length_for(uint16_t field_control);

/*
 * Encode h into out (at least HFW_OTA_MAX_HEADER_LEN bytes); header_length
 * is taken from h and must match field_control.  Returns bytes written or
 * a negative HFW_E* code.
 */
int hfw_ota_header_encode(uint8_t *out, const struct hfw_ota_header *h,
			  struct hfw_error *err);

enum hfw_trailer_mode {
	HFW_TRAILER_DETECT,	/* trailer iff the bytes 66 from the end are 00 40 */
	HFW_TRAILER_REQUIRED,	/* SR 11.1 route */
	HFW_TRAILER_ABSENT,	/* SR 11.4 route */
};

/* A parsed image: a view into the caller's buffer. */
struct hfw_image {
	struct hfw_ota_header hdr;
	size_t file_len;
	const uint8_t *mi;		/* ManufacturerImage */
	size_t mi_offset, mi_len;
	int has_trailer;
	size_t trailer_offset;
	const uint8_t *sig;		/* 64 bytes r||s, if has_trailer */
};

/* Parse and check buf.  HFW_EINPUT names the first problem found. */
int hfw_image_parse(struct hfw_image *out, const uint8_t *buf, size_t len,
		    enum hfw_trailer_mode mode, struct hfw_error *err);

/* SHA-256 of the ManufacturerImage (the 11.3 FirmwareHash) and of the whole file. */
void hfw_image_hashes(const struct hfw_image *img, const uint8_t *file, size_t len,
		      hfw_firmware_hash firmware_hash, uint8_t file_sha256[HFW_SHA256_LEN]);

/* What hfw_image_build produces besides the ManufacturerImage itself. */
struct hfw_image_built {
	uint8_t header[HFW_OTA_MAX_HEADER_LEN];
	size_t header_len;
	uint8_t trailer[HFW_TRAILER_LEN];
	size_t trailer_len;		/* 0 or HFW_TRAILER_LEN */
	size_t total_len;
	hfw_firmware_hash firmware_hash;	/* SHA-256 of the Manufacturer Image */
	uint8_t file_sha256[HFW_SHA256_LEN];
};

/*
 * Build an image around mi.  h supplies every header field except
 * header_length and total_size, which are computed.  With signer, a
 * trailer is appended.  HFW_EINPUT for inconsistent header fields or an
 * empty ManufacturerImage, HFW_ELIMIT above HFW_IMAGE_MAX_BYTES.
 */
int hfw_image_build(struct hfw_image_built *out, const struct hfw_ota_header *h,
		    const uint8_t *mi, size_t mi_len, const hfw_key *signer,
		    struct hfw_error *err);

/* Write header || mi || trailer to path atomically. */
int hfw_image_write(const char *path, const struct hfw_image_built *b,
		    const uint8_t *mi, size_t mi_len, struct hfw_error *err);

/* Header string as printable text: C-style escapes for anything else, trailing NULs dropped. */
void hfw_ota_header_string_text(char out[4 * HFW_OTA_HEADER_STRING_LEN + 1],
				const struct hfw_ota_header *h);

#endif
