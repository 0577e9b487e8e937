/* image.c - ZigBee OTA / GB firmware image encode and decode (see image.h). */
#include "image.h"

#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "fileio.h"

/* Offsets of the fixed header fields. */
enum {
	OFF_IDENTIFIER = 0,
	OFF_HEADER_VERSION = 4,
	OFF_HEADER_LENGTH = 6,
	OFF_FIELD_CONTROL = 8,
	OFF_MANUFACTURER = 10,
	OFF_IMAGE_TYPE = 12,
	OFF_FILE_VERSION = 14,
	OFF_STACK_VERSION = 18,
	OFF_HEADER_STRING = 20,
	OFF_TOTAL_SIZE = 52,
	OFF_OPTIONAL = 56,
};

size_t hfw_ota_header_length_for(uint16_t fc)
{
	return HFW_OTA_MIN_HEADER_LEN +
	       ((fc & HFW_OTA_FC_SECURITY_CREDENTIAL) ? 1 : 0) +
	       ((fc & HFW_OTA_FC_DESTINATION) ? HFW_EUI_LEN : 0) +
	       ((fc & HFW_OTA_FC_HW_VERSIONS) ? 4 : 0);
}

/* Checks shared by parse and build. */
static int check_fields(const struct hfw_ota_header *h, struct hfw_error *err)
{
	if (h->field_control & ~HFW_OTA_FC_KNOWN)
		return hfw_error_set(err, HFW_EINPUT,
				     "field control 0x%04X has unknown bits 0x%04X",
				     h->field_control, h->field_control & ~HFW_OTA_FC_KNOWN);
	if (h->image_type > HFW_OTA_IMAGE_TYPE_MAX_FIRMWARE)
		return hfw_error_set(err, HFW_EINPUT,
				     "image type 0x%04X is not a firmware image (0xFFC0 and above are security credentials, configuration, logs and the wildcard)",
				     h->image_type);
	if ((h->field_control & HFW_OTA_FC_HW_VERSIONS) && h->hw_min > h->hw_max)
		return hfw_error_set(err, HFW_EINPUT,
				     "hardware version range is inverted: minimum 0x%04X > maximum 0x%04X",
				     h->hw_min, h->hw_max);
	return 0;
}

int hfw_ota_header_encode(uint8_t *out, const struct hfw_ota_header *h,
			  struct hfw_error *err)
{
	size_t want = hfw_ota_header_length_for(h->field_control), off = OFF_OPTIONAL, i;
	int ret;

	if ((ret = check_fields(h, err)) < 0)
		return ret;
	if (h->header_length != want)
		return hfw_error_set(err, HFW_EINPUT,
				     "header length %u does not match field control 0x%04X (which implies %zu bytes)",
				     h->header_length, h->field_control, want);
	hfw_store_le32(out + OFF_IDENTIFIER, h->file_identifier);
	hfw_store_le16(out + OFF_HEADER_VERSION, h->header_version);
	hfw_store_le16(out + OFF_HEADER_LENGTH, h->header_length);
	hfw_store_le16(out + OFF_FIELD_CONTROL, h->field_control);
	hfw_store_le16(out + OFF_MANUFACTURER, h->manufacturer_code);
	hfw_store_le16(out + OFF_IMAGE_TYPE, h->image_type);
	hfw_store_le32(out + OFF_FILE_VERSION, h->file_version);
	hfw_store_le16(out + OFF_STACK_VERSION, h->stack_version);
	memcpy(out + OFF_HEADER_STRING, h->header_string, HFW_OTA_HEADER_STRING_LEN);
	hfw_store_le32(out + OFF_TOTAL_SIZE, h->total_size);
	if (h->field_control & HFW_OTA_FC_SECURITY_CREDENTIAL)
		out[off++] = h->security_credential_version;
	if (h->field_control & HFW_OTA_FC_DESTINATION) {
		/* An IEEE address travels least significant octet first, like every ZigBee integer. */
		for (i = 0; i < HFW_EUI_LEN; i++)
			out[off + i] = h->destination.b[HFW_EUI_LEN - 1 - i];
		off += HFW_EUI_LEN;
	}
	if (h->field_control & HFW_OTA_FC_HW_VERSIONS) {
		hfw_store_le16(out + off, h->hw_min);
		hfw_store_le16(out + off + 2, h->hw_max);
		off += 4;
	}
	return (int)off;
}

/*
 * Find why an SR 11.1 image has no "00 40" 66 bytes from its end: a length
 * field for some other signature size, or nothing at all.
 */
static int explain_missing_trailer(const uint8_t *buf, size_t len, size_t body,
				   struct hfw_error *err)
{
	size_t avail = len - body, l;

	/* Smallest L whose 2-byte length field stands exactly L bytes before the end. */
	for (l = 1; l <= 0xFFFF && l + 2 < avail; l++)
		if (hfw_load_be16(buf + len - 2 - l) == l)
			return hfw_error_set(err, HFW_EINPUT,
					     "signature trailer length is %zu bytes (field at offset %zu); GB images carry 64 (00 40)",
					     l, len - 2 - l);
	return hfw_error_set(err, HFW_EINPUT,
			     "no signature trailer: expected 00 40 at offset %zu, found %02X %02X",
			     len - HFW_TRAILER_LEN, buf[len - HFW_TRAILER_LEN],
			     buf[len - HFW_TRAILER_LEN + 1]);
}

int hfw_image_parse(struct hfw_image *out, const uint8_t *buf, size_t len,
		    enum hfw_trailer_mode mode, struct hfw_error *err)
{
	struct hfw_ota_header *h = &out->hdr;
	size_t want, off = OFF_OPTIONAL, i;
	int ret;

	memset(out, 0, sizeof(*out));
	out->file_len = len;
	if (len < HFW_OTA_MIN_HEADER_LEN)
		return hfw_error_set(err, HFW_EINPUT,
				     "truncated OTA header: %zu bytes, the header alone needs at least 56",
				     len);
	h->file_identifier = hfw_load_le32(buf + OFF_IDENTIFIER);
	if (h->file_identifier != HFW_OTA_FILE_IDENTIFIER)
		return hfw_error_set(err, HFW_EINPUT,
				     "not a ZigBee OTA file: bytes 0-3 are %02X %02X %02X %02X, expected 1E F1 EE 0B",
				     buf[0], buf[1], buf[2], buf[3]);
	h->header_version = hfw_load_le16(buf + OFF_HEADER_VERSION);
	if (h->header_version != HFW_OTA_HEADER_VERSION)
		return hfw_error_set(err, HFW_EINPUT,
				     "unsupported OTA header version 0x%04X (expected 0x0100)",
				     h->header_version);
	h->header_length = hfw_load_le16(buf + OFF_HEADER_LENGTH);
	h->field_control = hfw_load_le16(buf + OFF_FIELD_CONTROL);
	h->manufacturer_code = hfw_load_le16(buf + OFF_MANUFACTURER);
	h->image_type = hfw_load_le16(buf + OFF_IMAGE_TYPE);
	h->file_version = hfw_load_le32(buf + OFF_FILE_VERSION);
	h->stack_version = hfw_load_le16(buf + OFF_STACK_VERSION);
	memcpy(h->header_string, buf + OFF_HEADER_STRING, HFW_OTA_HEADER_STRING_LEN);
	h->total_size = hfw_load_le32(buf + OFF_TOTAL_SIZE);

	if (h->header_length < HFW_OTA_MIN_HEADER_LEN)
		return hfw_error_set(err, HFW_EINPUT,
				     "header length %u is less than the minimum of 56", h->header_length);
	if (h->field_control & ~HFW_OTA_FC_KNOWN)
		return hfw_error_set(err, HFW_EINPUT,
				     "field control 0x%04X has unknown bits 0x%04X",
				     h->field_control, h->field_control & ~HFW_OTA_FC_KNOWN);
	want = hfw_ota_header_length_for(h->field_control);
	if (h->header_length != want)
		return hfw_error_set(err, HFW_EINPUT,
				     "header length %u does not match field control 0x%04X (which implies %zu bytes)",
				     h->header_length, h->field_control, want);
	if (h->header_length > len)
		return hfw_error_set(err, HFW_EINPUT,
				     "truncated OTA header: header length is %u but the file is %zu bytes",
				     h->header_length, len);
	if (h->total_size != len)
		return hfw_error_set(err, HFW_EINPUT,
				     "total image size field says %u bytes but the file is %zu bytes",
				     h->total_size, len);
	if (h->field_control & HFW_OTA_FC_SECURITY_CREDENTIAL)
		h->security_credential_version = buf[off++];
	if (h->field_control & HFW_OTA_FC_DESTINATION) {
		for (i = 0; i < HFW_EUI_LEN; i++)
			h->destination.b[HFW_EUI_LEN - 1 - i] = buf[off + i];
		off += HFW_EUI_LEN;
	}
	if (h->field_control & HFW_OTA_FC_HW_VERSIONS) {
		h->hw_min = hfw_load_le16(buf + off);
		h->hw_max = hfw_load_le16(buf + off + 2);
		off += 4;
	}
	if ((ret = check_fields(h, err)) < 0)
		return ret;

	out->mi_offset = h->header_length;
	out->mi = buf + out->mi_offset;
	out->mi_len = len - out->mi_offset;
	if (mode == HFW_TRAILER_REQUIRED ||
	    (mode == HFW_TRAILER_DETECT && out->mi_len > HFW_TRAILER_LEN &&
	     hfw_load_be16(buf + len - HFW_TRAILER_LEN) == HFW_ECDSA_SIG_LEN)) {
		if (out->mi_len < HFW_TRAILER_LEN)
			return hfw_error_set(err, HFW_EINPUT,
					     "no signature trailer: only %zu bytes follow the header, a trailer needs 66",
					     out->mi_len);
		if (hfw_load_be16(buf + len - HFW_TRAILER_LEN) != HFW_ECDSA_SIG_LEN)
			return explain_missing_trailer(buf, len, out->mi_offset, err);
		out->has_trailer = 1;
		out->trailer_offset = len - HFW_TRAILER_LEN;
		out->sig = buf + out->trailer_offset + 2;
		out->mi_len -= HFW_TRAILER_LEN;
	}
	if (out->mi_len == 0)
		return hfw_error_set(err, HFW_EINPUT, "empty manufacturer image: nothing follows the %s",
				     out->has_trailer ? "header but the trailer" : "OTA header");
	return 0;
}

void hfw_image_hashes(const struct hfw_image *img, const uint8_t *file, size_t len,
		      hfw_firmware_hash firmware_hash, uint8_t file_sha256[HFW_SHA256_LEN])
{
	hfw_sha256(firmware_hash, img->mi, img->mi_len);
	hfw_sha256(file_sha256, file, len);
}

int hfw_image_build(struct hfw_image_built *out, const struct hfw_ota_header *in,
		    const uint8_t *mi, size_t mi_len, const hfw_key *signer,
		    struct hfw_error *err)
{
	struct hfw_ota_header h = *in;
	struct hfw_span parts[3];
	uint64_t total;
	int n;

	memset(out, 0, sizeof(*out));
	if (mi_len == 0)
		return hfw_error_set(err, HFW_EINPUT, "empty manufacturer image");
	h.header_length = (uint16_t)hfw_ota_header_length_for(h.field_control);
	total = (uint64_t)h.header_length + mi_len + (signer ? HFW_TRAILER_LEN : 0);
	if (total > HFW_IMAGE_MAX_BYTES)
		return hfw_error_set(err, HFW_ELIMIT,
				     "image would be %llu bytes, more than the DUIS maximum of %u",
				     (unsigned long long)total, HFW_IMAGE_MAX_BYTES);
	h.total_size = (uint32_t)total;
	if ((n = hfw_ota_header_encode(out->header, &h, err)) < 0)
		return n;
	out->header_len = (size_t)n;
	out->total_len = (size_t)total;
	hfw_sha256(out->firmware_hash, mi, mi_len);
	if (signer) {
		int ret;

		hfw_store_be16(out->trailer, HFW_ECDSA_SIG_LEN);
		if ((ret = hfw_ecdsa_sign_digest(signer, out->firmware_hash, out->trailer + 2, err)) < 0)
			return ret;
		out->trailer_len = HFW_TRAILER_LEN;
	}
	parts[0] = (struct hfw_span){ out->header, out->header_len };
	parts[1] = (struct hfw_span){ mi, mi_len };
	parts[2] = (struct hfw_span){ out->trailer, out->trailer_len };
	return hfw_sha256_parts(out->file_sha256, parts, 3, err);
}

int hfw_image_write(const char *path, const struct hfw_image_built *b,
		    const uint8_t *mi, size_t mi_len, struct hfw_error *err)
{
	struct hfw_atomic a = HFW_ATOMIC_INIT;
	int ret;

	if ((ret = hfw_atomic_open(&a, path, err)) < 0 ||
	    (ret = hfw_atomic_write(&a, b->header, b->header_len, err)) < 0 ||
	    (ret = hfw_atomic_write(&a, mi, mi_len, err)) < 0 ||
	    (ret = hfw_atomic_write(&a, b->trailer, b->trailer_len, err)) < 0 ||
	    (ret = hfw_atomic_commit(&a, err)) < 0)
		goto out;
out:
	hfw_atomic_release(&a);
	return ret;
}

void hfw_ota_header_string_text(char out[4 * HFW_OTA_HEADER_STRING_LEN + 1],
				const struct hfw_ota_header *h)
{
	size_t n = HFW_OTA_HEADER_STRING_LEN, i, o = 0;

	while (n > 0 && h->header_string[n - 1] == 0)
		n--;
	for (i = 0; i < n; i++) {
		uint8_t c = h->header_string[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02X", c);
	}
	out[o] = '\0';
}
