/*
 * Unit tests: the OTA image format, against the DCC's own sample images in
 * ../shared/dcc/templates (firmware-protocol.md §1.4) and against every
 * malformation the parser must name.
 */
#include "testutil.h"

#include "../../lib/bytes.h"
#include "../../lib/crypto.h"
#include "../../lib/hex.h"
#include "../../lib/image.h"

#define T11_1 "11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML"
#define T11_4 "11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML"
#define MI_SHA256 "7542f475e3f12eae887d81e32c46d313741d67076b13caec2f82e00ba5e1bb36"

static void check_sample_header(const struct hfw_image *img, uint16_t image_type, size_t len)
{
	const struct hfw_ota_header *h = &img->hdr;

	assert_int_equal(h->file_identifier, 0x0BEEF11E);
	assert_int_equal(h->header_version, 0x0100);
	assert_int_equal(h->header_length, 60);
	assert_int_equal(h->field_control, 0x0004);
	assert_int_equal(h->manufacturer_code, 0x121D);
	assert_int_equal(h->image_type, image_type);
	assert_int_equal(h->file_version, 0xACDCACDC);
	assert_int_equal(h->stack_version, 0x0002);
	assert_int_equal(h->total_size, len);
	assert_int_equal(h->hw_min, 0x1111);
	assert_int_equal(h->hw_max, 0x1211);
	assert_int_equal(img->mi_offset, 60);
	assert_int_equal(img->mi_len, 235);
}

static void sample_11_1(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_image img;
	hfw_cert *cert = NULL;
	uint8_t *buf, hash[32];
	char hex[65];
	size_t len;

	(void)state;
	buf = template_image(T11_1, &len);
	assert_int_equal(len, 361);
	assert_int_equal(hfw_image_parse(&img, buf, len, HFW_TRAILER_REQUIRED, &err), 0);
	check_sample_header(&img, 0x0000, 361);
	assert_memory_equal(img.hdr.header_string, "I am a GFI ESME[] firmware image", 32);
	assert_true(img.has_trailer);
	assert_int_equal(img.trailer_offset, 0x127);
	assert_int_equal(img.sig - buf, 0x129);
	hfw_sha256(hash, img.mi, img.mi_len);
	hfw_hex_encode(hex, hash, 32);
	assert_string_equal(hex, MI_SHA256);
	/* The trailer is the supplier's signature over the ManufacturerImage only. */
	assert_int_equal(hfw_cert_load(&cert, shared_path("dcc/zaz1/Z1-supplier-ds.pem"), &err), 0);
	assert_int_equal(hfw_ecdsa_verify_digest(cert, hash, img.sig, &err), 0);
	hfw_sha256(hash, buf, len - HFW_TRAILER_LEN);
	assert_int_equal(hfw_ecdsa_verify_digest(cert, hash, img.sig, &err), HFW_EVERIFY);
	/* Detection finds the same trailer. */
	assert_int_equal(hfw_image_parse(&img, buf, len, HFW_TRAILER_DETECT, &err), 0);
	assert_true(img.has_trailer);
	hfw_cert_free(cert);
	free(buf);
}

static void sample_11_4(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_image img;
	uint8_t *buf, hash[32];
	char hex[65];
	size_t len;

	(void)state;
	buf = template_image(T11_4, &len);
	assert_int_equal(len, 295);
	assert_int_equal(hfw_image_parse(&img, buf, len, HFW_TRAILER_ABSENT, &err), 0);
	check_sample_header(&img, 0x0084, 295);
	assert_memory_equal(img.hdr.header_string, "I am a GFI PPMID firmware image ", 32);
	assert_false(img.has_trailer);
	hfw_sha256(hash, img.mi, img.mi_len);
	hfw_hex_encode(hex, hash, 32);
	assert_string_equal(hex, MI_SHA256);
	assert_int_equal(hfw_image_parse(&img, buf, len, HFW_TRAILER_DETECT, &err), 0);
	assert_false(img.has_trailer);
	/* Demanding a trailer of a PPMID image is refused with the reason. */
	assert_int_equal(hfw_image_parse(&img, buf, len, HFW_TRAILER_REQUIRED, &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "no signature trailer"));
	free(buf);
}

static void build_reproduces_11_4(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_image img;
	struct hfw_image_built b;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = template_image(T11_4, &len);
	assert_int_equal(hfw_image_parse(&img, buf, len, HFW_TRAILER_ABSENT, &err), 0);
	assert_int_equal(hfw_image_build(&b, &img.hdr, img.mi, img.mi_len, NULL, &err), 0);
	assert_int_equal(b.total_len, len);
	assert_int_equal(b.trailer_len, 0);
	assert_memory_equal(b.header, buf, b.header_len);
	free(buf);
}

static void build_with_every_optional_field(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_ota_header h = { 0 };
	struct hfw_image_built b;
	struct hfw_image img;
	uint8_t mi[100], file[300];

	(void)state;
	memset(mi, 0xA5, sizeof(mi));
	h.file_identifier = HFW_OTA_FILE_IDENTIFIER;
	h.header_version = HFW_OTA_HEADER_VERSION;
	h.field_control = HFW_OTA_FC_KNOWN;
	h.manufacturer_code = 0x1234;
	h.image_type = 0xFFBF;
	h.file_version = 0x01020304;
	h.stack_version = 2;
	memcpy(h.header_string, "short", 5);
	h.security_credential_version = 0x7E;
	assert_int_equal(hfw_eui_parse(&h.destination, "00-DB-12-34-56-78-90-A4", "d", &err), 0);
	h.hw_min = 1;
	h.hw_max = 1;
	assert_int_equal(hfw_image_build(&b, &h, mi, sizeof(mi), NULL, &err), 0);
	assert_int_equal(b.header_len, 69);
	assert_int_equal(b.total_len, 169);
	/* Optional fields in order; the IEEE address least significant octet first. */
	assert_int_equal(b.header[56], 0x7E);
	assert_int_equal(b.header[57], 0xA4);
	assert_int_equal(b.header[64], 0x00);
	assert_int_equal(hfw_load_le16(b.header + 65), 1);
	assert_memory_equal(b.header + 20, "short\0\0\0", 8);
	memcpy(file, b.header, b.header_len);
	memcpy(file + b.header_len, mi, sizeof(mi));
	assert_int_equal(hfw_image_parse(&img, file, b.total_len, HFW_TRAILER_ABSENT, &err), 0);
	assert_int_equal(img.hdr.security_credential_version, 0x7E);
	assert_memory_equal(img.hdr.destination.b, h.destination.b, 8);
	assert_int_equal(img.mi_len, 100);
}

/* A valid small PPMID-route image to break in each test. */
static size_t good_image(uint8_t *out)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_ota_header h = { 0 };
	struct hfw_image_built b;
	uint8_t mi[200];

	memset(mi, 0x11, sizeof(mi));
	h.file_identifier = HFW_OTA_FILE_IDENTIFIER;
	h.header_version = HFW_OTA_HEADER_VERSION;
	h.field_control = HFW_OTA_FC_HW_VERSIONS;
	h.manufacturer_code = 0x121D;
	h.image_type = 0x84;
	h.file_version = 1;
	h.hw_min = 1;
	h.hw_max = 2;
	assert_int_equal(hfw_image_build(&b, &h, mi, sizeof(mi), NULL, &err), 0);
	memcpy(out, b.header, b.header_len);
	memcpy(out + b.header_len, mi, sizeof(mi));
	return b.total_len;
}

static void expect_error(const uint8_t *buf, size_t len, enum hfw_trailer_mode mode, const char *text)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_image img;

	assert_int_equal(hfw_image_parse(&img, buf, len, mode, &err), HFW_EINPUT);
	if (!strstr(err.text, text))
		fail_msg("expected \"%s\" in \"%s\"", text, err.text);
}

static void malformations_are_named(void **state)
{
	uint8_t buf[400], bad[400];
	size_t len = good_image(buf), i;

	(void)state;
	for (i = 0; i < 56; i++)
		expect_error(buf, i, HFW_TRAILER_DETECT, "truncated OTA header");
	memcpy(bad, buf, len);
	bad[0] = 0x1F;
	expect_error(bad, len, HFW_TRAILER_DETECT, "bytes 0-3 are 1F F1 EE 0B");
	memcpy(bad, buf, len);
	hfw_store_le16(bad + 4, 0x0200);
	expect_error(bad, len, HFW_TRAILER_DETECT, "header version 0x0200");
	memcpy(bad, buf, len);
	hfw_store_le16(bad + 6, 55);
	expect_error(bad, len, HFW_TRAILER_DETECT, "less than the minimum of 56");
	memcpy(bad, buf, len);
	hfw_store_le16(bad + 6, 56);
	expect_error(bad, len, HFW_TRAILER_DETECT, "does not match field control 0x0004");
	memcpy(bad, buf, len);
	hfw_store_le16(bad + 8, 0x0008 | 0x0004);
	expect_error(bad, len, HFW_TRAILER_DETECT, "unknown bits 0x0008");
	memcpy(bad, buf, len);
	hfw_store_le32(bad + 52, (uint32_t)len + 1);
	expect_error(bad, len, HFW_TRAILER_DETECT, "total image size field says");
	expect_error(buf, 59, HFW_TRAILER_DETECT, "header length is 60 but the file is 59");
	memcpy(bad, buf, len);
	hfw_store_le32(bad + 52, 60);
	expect_error(bad, 60, HFW_TRAILER_DETECT, "empty manufacturer image");
	memcpy(bad, buf, len);
	hfw_store_le16(bad + 56, 3);	/* min 3 > max 2 */
	expect_error(bad, len, HFW_TRAILER_DETECT, "inverted");
	memcpy(bad, buf, len);
	hfw_store_le16(bad + 12, 0xFFC0);
	expect_error(bad, len, HFW_TRAILER_DETECT, "image type 0xFFC0");
	/* Required trailer, with a 72-byte signature announced instead of 64. */
	memcpy(bad, buf, len);
	hfw_store_be16(bad + len - 74, 72);
	expect_error(bad, len, HFW_TRAILER_REQUIRED, "signature trailer length is 72 bytes");
	memset(bad + 60, 0x11, len - 60);
	expect_error(bad, len, HFW_TRAILER_REQUIRED, "no signature trailer: expected 00 40");
	/* Header plus a trailer and nothing else. */
	memcpy(bad, buf, 60);
	hfw_store_be16(bad + 60, 64);
	memset(bad + 62, 0x22, 64);
	hfw_store_le32(bad + 52, 126);
	expect_error(bad, 126, HFW_TRAILER_REQUIRED, "empty manufacturer image");
}

static void header_string_text(void **state)
{
	struct hfw_ota_header h = { 0 };
	char text[4 * 32 + 1];

	(void)state;
	memcpy(h.header_string, "ok\\\x01\xff", 5);
	hfw_ota_header_string_text(text, &h);
	assert_string_equal(text, "ok\\x5C\\x01\\xFF");
	memset(h.header_string, ' ', 32);
	hfw_ota_header_string_text(text, &h);
	assert_int_equal(strlen(text), 32);
}

static void build_limits(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_ota_header h = { 0 };
	struct hfw_image_built b;
	static uint8_t mi[HFW_IMAGE_MAX_BYTES];

	(void)state;
	h.file_identifier = HFW_OTA_FILE_IDENTIFIER;
	h.header_version = HFW_OTA_HEADER_VERSION;
	assert_int_equal(hfw_image_build(&b, &h, mi, 0, NULL, &err), HFW_EINPUT);
	assert_int_equal(hfw_image_build(&b, &h, mi, HFW_IMAGE_MAX_BYTES - 56, NULL, &err), 0);
	assert_int_equal(b.total_len, HFW_IMAGE_MAX_BYTES);
	assert_int_equal(hfw_image_build(&b, &h, mi, HFW_IMAGE_MAX_BYTES - 55, NULL, &err), HFW_ELIMIT);
	assert_non_null(strstr(err.text, "10240000"));
	h.image_type = 0xFFFF;
	assert_int_equal(hfw_image_build(&b, &h, mi, 10, NULL, &err), HFW_EINPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sample_11_1),
		cmocka_unit_test(sample_11_4),
		cmocka_unit_test(build_reproduces_11_4),
		cmocka_unit_test(build_with_every_optional_field),
		cmocka_unit_test(malformations_are_named),
		cmocka_unit_test(header_string_text),
		cmocka_unit_test(build_limits),
	};

	return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
