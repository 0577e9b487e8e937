/* Unit tests: manifest round trip, strict parsing, and checking against an image. */
#include "testutil.h"

#include <jansson.h>

#include "../../lib/manifest.h"

static void sample(struct hfw_manifest *m)
{
	struct hfw_error err = HFW_ERROR_INIT;

	memset(m, 0, sizeof(*m));
	snprintf(m->image, sizeof(m->image), "esme.img");
	assert_int_equal(hfw_device_type_find(&m->type, "ESME", &err), 0);
	m->route = HFW_ROUTE_SR_11_1;
	snprintf(m->firmware_version, sizeof(m->firmware_version), "ACDCACDC");
	m->hdr.file_identifier = HFW_OTA_FILE_IDENTIFIER;
	m->hdr.header_version = HFW_OTA_HEADER_VERSION;
	m->hdr.header_length = 69;
	m->hdr.field_control = 7;
	m->hdr.manufacturer_code = 0x121D;
	m->hdr.file_version = 0xACDCACDC;
	m->hdr.stack_version = 2;
	memcpy(m->hdr.header_string, "with \\ and \x01", 12);
	m->hdr.total_size = 69 + 235 + 66;
	m->hdr.security_credential_version = 9;
	assert_int_equal(hfw_eui_parse(&m->hdr.destination, "00-DB-12-34-56-78-90-A0", "d", &err), 0);
	m->hdr.hw_min = 0x1111;
	m->hdr.hw_max = 0x1211;
	m->header_len = 69;
	m->mi_len = 235;
	m->trailer_len = 66;
	m->total_len = 370;
	memset(m->firmware_hash, 0x75, 32);
	memset(m->file_sha256, 0xc4, 32);
	m->is_signed = 1;
	snprintf(m->signer.eui, sizeof(m->signer.eui), "90-B3-D5-1F-30-01-00-00");
	snprintf(m->signer.role, sizeof(m->signer.role), "02");
	snprintf(m->signer.issuer, sizeof(m->signer.issuer), "CN=Z1,OU=07");
	snprintf(m->signer.serial, sizeof(m->signer.serial), "105986833131214866166891566273223584671");
	m->hub_capacity = 750000;
	snprintf(m->created_by, sizeof(m->created_by), "hanfw test");
}

static void round_trip(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_manifest a, b;
	char *text = NULL;

	(void)state;
	sample(&a);
	assert_int_equal(hfw_manifest_format(&text, &a, &err), 0);
	assert_int_equal(hfw_manifest_parse(&b, text, strlen(text), "t", &err), 0);
	assert_string_equal(b.image, a.image);
	assert_ptr_equal(b.type, a.type);
	assert_int_equal(b.route, a.route);
	assert_string_equal(b.firmware_version, a.firmware_version);
	assert_memory_equal(&b.hdr, &a.hdr, sizeof(a.hdr));
	assert_int_equal(b.total_len, a.total_len);
	assert_memory_equal(b.firmware_hash, a.firmware_hash, 32);
	assert_memory_equal(b.file_sha256, a.file_sha256, 32);
	assert_true(b.is_signed);
	assert_string_equal(b.signer.serial, a.signer.serial);
	assert_int_equal(b.hub_capacity, 750000);
	free(text);
}

/* Change one member of a good manifest and expect the parser to name it. */
static void mutate_fails(const char *path, json_t *value, const char *text)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_manifest m;
	json_t *root, *obj;
	char *s = NULL, *dot, key[64];

	sample(&m);
	assert_int_equal(hfw_manifest_format(&s, &m, &err), 0);
	root = json_loads(s, 0, NULL);
	free(s);
	snprintf(key, sizeof(key), "%s", path);
	obj = root;
	if ((dot = strchr(key, '.'))) {
		*dot = '\0';
		obj = json_object_get(root, key);
		memmove(key, dot + 1, strlen(dot + 1) + 1);
	}
	if (value)
		json_object_set_new(obj, key, value);
	else
		json_object_del(obj, key);
	s = json_dumps(root, 0);
	assert_int_equal(hfw_manifest_parse(&m, s, strlen(s), "m.json", &err), HFW_EINPUT);
	if (!strstr(err.text, text))
		fail_msg("%s: expected \"%s\" in \"%s\"", path, text, err.text);
	free(s);
	json_decref(root);
}

static void strict_parsing(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_manifest m;

	(void)state;
	mutate_fails("format", json_string("hanfw-manifest-2"), "format is not");
	mutate_fails("extra", json_true(), "'extra' is not a manifest member");
	mutate_fails("device_type", json_string("CHF"), "device_type is not a device type");
	mutate_fails("device_type", json_string("PPMID"), "route.service_reference does not match");
	mutate_fails("firmware_version", json_string("ACDCACD"), "firmware_version is not 8 hex");
	mutate_fails("manufacturer_image_sha256", json_string("00"), "is not 64 hex digits");
	mutate_fails("file_sha256", NULL, "file_sha256 is missing");
	mutate_fails("ota_header.image_type", json_integer(0x10000), "ota_header.image_type is not an integer in range");
	mutate_fails("ota_header.image_type", json_string("0"), "ota_header.image_type is not an integer");
	mutate_fails("ota_header.hardware_version_max", NULL, "disagree with field_control");
	mutate_fails("ota_header.upgrade_file_destination", json_string("nope"), "is not an EUI-64");
	mutate_fails("ota_header.header_string", json_string("0123456789abcdef0123456789abcdefX"), "longer than 32");
	mutate_fails("ota_header.header_string", json_string("\\q"), "bad escape");
	mutate_fails("sizes.total", json_integer(1), "do not add up");
	mutate_fails("signer", json_integer(1), "neither an object nor null");
	assert_int_equal(hfw_manifest_parse(&m, "{\"format\":1,\"format\":2}", 24, "d", &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "duplicate"));
	assert_int_equal(hfw_manifest_parse(&m, "[", 1, "d", &err), HFW_EINPUT);
	assert_int_equal(hfw_manifest_parse(&m, "[]", 2, "d", &err), HFW_EINPUT);
}

static void check_against_image(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_manifest m;
	struct hfw_image img;

	(void)state;
	sample(&m);
	memset(&img, 0, sizeof(img));
	img.hdr = m.hdr;
	img.file_len = 370;
	img.mi_offset = 69;
	img.mi_len = 235;
	img.has_trailer = 1;
	assert_int_equal(hfw_manifest_check_image(&m, &img, m.firmware_hash, m.file_sha256, "m", &err), 0);
	img.hdr.hw_max = 0x1212;
	assert_int_equal(hfw_manifest_check_image(&m, &img, m.firmware_hash, m.file_sha256, "m", &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "ota_header.hardware_version_max differs"));
	img.hdr.hw_max = m.hdr.hw_max;
	m.file_sha256[5] ^= 1;
	assert_int_equal(hfw_manifest_check_image(&m, &img, m.firmware_hash, img.hdr.header_string, "m", &err), HFW_EINPUT);
	assert_non_null(strstr(err.text, "file_sha256 differs"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(strict_parsing),
		cmocka_unit_test(check_against_image),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
