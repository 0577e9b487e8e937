/* manifest.c - the image manifest, JSON via jansson (see manifest.h). */
#include "manifest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fileio.h"
#include "hex.h"

int hfw_firmware_version_valid(const char *t)
{
	size_t i;

	for (i = 0; i < HFW_FIRMWARE_VERSION_LEN; i++)
		if (!isxdigit((unsigned char)t[i]))
			return 0;
	return t[i] == '\0';
}

json_t *hfw_manifest_header_json(const struct hfw_ota_header *h)
{
	char text[4 * HFW_OTA_HEADER_STRING_LEN + 1];
	json_t *o;

	hfw_ota_header_string_text(text, h);
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:I}",
		      "file_identifier", (json_int_t)h->file_identifier,
		      "header_version", (json_int_t)h->header_version,
		      "header_length", (json_int_t)h->header_length,
		      "field_control", (json_int_t)h->field_control,
		      "manufacturer_code", (json_int_t)h->manufacturer_code,
		      "image_type", (json_int_t)h->image_type,
		      "file_version", (json_int_t)h->file_version,
		      "stack_version", (json_int_t)h->stack_version,
		      "header_string", text,
		      "total_image_size", (json_int_t)h->total_size);
	if (!o)
		return NULL;
	if (h->field_control & HFW_OTA_FC_SECURITY_CREDENTIAL)
		json_object_set_new(o, "security_credential_version",
				    json_integer(h->security_credential_version));
	if (h->field_control & HFW_OTA_FC_DESTINATION) {
		char eui[HFW_EUI_TEXT_MAX];

		hfw_eui_format(eui, &h->destination);
		json_object_set_new(o, "upgrade_file_destination", json_string(eui));
	}
	if (h->field_control & HFW_OTA_FC_HW_VERSIONS) {
		json_object_set_new(o, "hardware_version_min", json_integer(h->hw_min));
		json_object_set_new(o, "hardware_version_max", json_integer(h->hw_max));
	}
	return o;
}

int hfw_manifest_format(char **out, const struct hfw_manifest *m, struct hfw_error *err)
{
	char mi_hex[2 * HFW_SHA256_LEN + 1], file_hex[2 * HFW_SHA256_LEN + 1];
	json_t *root = NULL, *hdr = NULL, *signer;
	int ret = 0;

	*out = NULL;
	hfw_hex_encode(mi_hex, m->firmware_hash, HFW_SHA256_LEN);
	hfw_hex_encode(file_hex, m->file_sha256, HFW_SHA256_LEN);
	if (!(hdr = hfw_manifest_header_json(&m->hdr)))
		goto oom;
	if (m->is_signed)
		signer = json_pack("{s:s,s:s,s:s,s:s}", "eui", m->signer.eui,
				   "role", m->signer.role, "issuer", m->signer.issuer,
				   "serial", m->signer.serial);
	else
		signer = json_null();
	root = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:b,s:s},s:s,s:o,s:{s:I,s:I,s:I,s:I},s:s,s:s,s:o,s:{s:I,s:b},s:s}",
			 "format", HFW_MANIFEST_FORMAT,
			 "image", m->image,
			 "device_type", m->type->name,
			 "route",
			 "service_reference", hfw_route_sr(m->route),
			 "service", hfw_route_name(m->route),
			 "signature_trailer", m->route == HFW_ROUTE_SR_11_1,
			 "activation", hfw_activation_name(m->type->activation),
			 "firmware_version", m->firmware_version,
			 "ota_header", hdr,
			 "sizes",
			 "header", (json_int_t)m->header_len,
			 "manufacturer_image", (json_int_t)m->mi_len,
			 "trailer", (json_int_t)m->trailer_len,
			 "total", (json_int_t)m->total_len,
			 "manufacturer_image_sha256", mi_hex,
			 "file_sha256", file_hex,
			 "signer", signer,
			 "hub_capacity",
			 "bytes", (json_int_t)m->hub_capacity,
			 "exceeded", m->total_len > m->hub_capacity,
			 "created_by", m->created_by);
	hdr = NULL;	/* "o" stole both references, even on failure */
	if (!root)
		goto oom;
	if (!(*out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		goto oom;
	goto done;
oom:
	ret = hfw_error_oom(err);
done:
	json_decref(hdr);
	json_decref(root);
	return ret;
}

int hfw_manifest_write(const char *path, const struct hfw_manifest *m, struct hfw_error *err)
{
	char *text = NULL;
	size_t len;
	int ret;

	if ((ret = hfw_manifest_format(&text, m, err)) < 0)
		goto out;
	len = strlen(text);
	text[len] = '\n';	/* json_dumps leaves room: we replace the NUL and write len+1 */
	ret = hfw_file_write_atomic(path, text, len + 1, err);
out:
	free(text);
	return ret;
}

/* --- parsing ------------------------------------------------------------ */

struct reader {
	const char *what;
	struct hfw_error *err;
};

static int bad(struct reader *r, const char *member, const char *why)
{
	return hfw_error_set(r->err, HFW_EINPUT, "manifest '%s': %s %s", r->what, member, why);
}

static int only_members(struct reader *r, json_t *obj, const char *ctx,
			const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *a;

		(void)v;
		for (a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (!*a) {
			char name[128];

			snprintf(name, sizeof(name), "%s%s'%.60s'", ctx, *ctx ? "." : "", key);
			return bad(r, name, "is not a manifest member");
		}
	}
	return 0;
}

static int get_uint(struct reader *r, json_t *obj, const char *ctx, const char *name,
		    uint64_t max, int required, uint64_t *out, int *present)
{
	json_t *v = json_object_get(obj, name);
	char full[96];

	snprintf(full, sizeof(full), "%s.%s", ctx, name);
	if (present)
		*present = v != NULL;
	if (!v)
		return required ? bad(r, full, "is missing") : 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return bad(r, full, "is not an integer in range");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_str(struct reader *r, json_t *obj, const char *name, const char **out)
{
	json_t *v = json_object_get(obj, name);

	if (!v || !json_is_string(v))
		return bad(r, name, v ? "is not a string" : "is missing");
	*out = json_string_value(v);
	return 0;
}

static int get_hash(struct reader *r, json_t *obj, const char *name, uint8_t out[HFW_SHA256_LEN])
{
	const char *s;
	int ret;

	if ((ret = get_str(r, obj, name, &s)) < 0)
		return ret;
	if (hfw_hex_decode(out, HFW_SHA256_LEN, s, strlen(s)) < 0)
		return bad(r, name, "is not 64 hex digits");
	return 0;
}

static int copy_str(struct reader *r, json_t *obj, const char *name, char *out, size_t size)
{
	const char *s;
	int ret;

	if ((ret = get_str(r, obj, name, &s)) < 0)
		return ret;
	if (strlen(s) >= size)
		return bad(r, name, "is too long");
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* Undo hfw_ota_header_string_text: printable ASCII with \xHH escapes. */
static int header_string_bytes(struct reader *r, const char *s, uint8_t out[HFW_OTA_HEADER_STRING_LEN])
{
	size_t n = 0;

	memset(out, 0, HFW_OTA_HEADER_STRING_LEN);
	while (*s) {
		uint8_t c;

		if (n == HFW_OTA_HEADER_STRING_LEN)
			return bad(r, "ota_header.header_string", "is longer than 32 bytes");
		if (s[0] == '\\') {
			if (s[1] != 'x' || hfw_hex_decode(&c, 1, s + 2, 2) < 0 || !s[2] || !s[3])
				return bad(r, "ota_header.header_string", "has a bad escape");
			s += 4;
		} else {
			c = (uint8_t)*s++;
		}
		out[n++] = c;
	}
	return 0;
}

static int parse_header(struct reader *r, json_t *o, struct hfw_ota_header *h)
{
	static const char *const allowed[] = {
		"file_identifier", "header_version", "header_length", "field_control",
		"manufacturer_code", "image_type", "file_version", "stack_version",
		"header_string", "total_image_size", "security_credential_version",
		"upgrade_file_destination", "hardware_version_min", "hardware_version_max", NULL
	};
	uint64_t v[10], sc = 0, hmin = 0, hmax = 0;
	const char *hs, *dest;
	int ret, has_sc, has_min, has_max, i;
	static const char *const names[] = {
		"file_identifier", "header_version", "header_length", "field_control",
		"manufacturer_code", "image_type", "file_version", "stack_version",
		"total_image_size",
	};
	static const uint64_t max[] = {
		0xFFFFFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFF, 0xFFFFFFFF,
	};

	if (!json_is_object(o))
		return bad(r, "ota_header", "is not an object");
	if ((ret = only_members(r, o, "ota_header", allowed)) < 0)
		return ret;
	for (i = 0; i < 9; i++)
		if ((ret = get_uint(r, o, "ota_header", names[i], max[i], 1, &v[i], NULL)) < 0)
			return ret;
	h->file_identifier = (uint32_t)v[0];
	h->header_version = (uint16_t)v[1];
	h->header_length = (uint16_t)v[2];
	h->field_control = (uint16_t)v[3];
	h->manufacturer_code = (uint16_t)v[4];
	h->image_type = (uint16_t)v[5];
	h->file_version = (uint32_t)v[6];
	h->stack_version = (uint16_t)v[7];
	h->total_size = (uint32_t)v[8];
	if ((ret = get_str(r, o, "header_string", &hs)) < 0 ||
	    (ret = header_string_bytes(r, hs, h->header_string)) < 0)
		return ret;
	if ((ret = get_uint(r, o, "ota_header", "security_credential_version", 0xFF, 0, &sc, &has_sc)) < 0 ||
	    (ret = get_uint(r, o, "ota_header", "hardware_version_min", 0xFFFF, 0, &hmin, &has_min)) < 0 ||
	    (ret = get_uint(r, o, "ota_header", "hardware_version_max", 0xFFFF, 0, &hmax, &has_max)) < 0)
		return ret;
	if (has_sc != !!(h->field_control & HFW_OTA_FC_SECURITY_CREDENTIAL))
		return bad(r, "ota_header.security_credential_version", "disagrees with field_control");
	if (has_min != has_max || has_min != !!(h->field_control & HFW_OTA_FC_HW_VERSIONS))
		return bad(r, "ota_header.hardware_version_min/max", "disagree with field_control");
	h->security_credential_version = (uint8_t)sc;
	h->hw_min = (uint16_t)hmin;
	h->hw_max = (uint16_t)hmax;
	if (json_object_get(o, "upgrade_file_destination")) {
		if (!(h->field_control & HFW_OTA_FC_DESTINATION))
			return bad(r, "ota_header.upgrade_file_destination", "disagrees with field_control");
		if ((ret = get_str(r, o, "upgrade_file_destination", &dest)) < 0 ||
		    hfw_eui_parse(&h->destination, dest, "upgrade_file_destination", r->err) < 0)
			return bad(r, "ota_header.upgrade_file_destination", "is not an EUI-64");
	} else if (h->field_control & HFW_OTA_FC_DESTINATION) {
		return bad(r, "ota_header.upgrade_file_destination", "is missing");
	}
	return 0;
}

int hfw_manifest_parse(struct hfw_manifest *m, const char *text, size_t len,
		       const char *what, struct hfw_error *err)
{
	static const char *const allowed[] = {
		"format", "image", "device_type", "route", "firmware_version", "ota_header",
		"sizes", "manufacturer_image_sha256", "file_sha256", "signer",
		"hub_capacity", "created_by", NULL
	};
	struct reader r = { what, err };
	json_error_t jerr;
	json_t *root = NULL, *o;
	const char *s;
	uint64_t v;
	int ret;

	memset(m, 0, sizeof(*m));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		ret = hfw_error_set(err, HFW_EINPUT, "manifest '%s': line %d: %s",
				    what, jerr.line, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		ret = bad(&r, "top level", "is not an object");
		goto out;
	}
	if ((ret = only_members(&r, root, "", allowed)) < 0 ||
	    (ret = get_str(&r, root, "format", &s)) < 0)
		goto out;
	if (strcmp(s, HFW_MANIFEST_FORMAT) != 0) {
		ret = bad(&r, "format", "is not " HFW_MANIFEST_FORMAT);
		goto out;
	}
	if ((ret = copy_str(&r, root, "image", m->image, sizeof(m->image))) < 0 ||
	    (ret = get_str(&r, root, "device_type", &s)) < 0)
		goto out;
	if (hfw_device_type_find(&m->type, s, err) < 0 || m->type->route == HFW_ROUTE_NONE) {
		ret = bad(&r, "device_type", "is not a device type with a firmware route");
		goto out;
	}
	m->route = m->type->route;
	o = json_object_get(root, "route");
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "service_reference")) ||
	    strcmp(json_string_value(json_object_get(o, "service_reference")), hfw_route_sr(m->route)) != 0) {
		ret = bad(&r, "route.service_reference", "does not match the device type's route");
		goto out;
	}
	if ((ret = copy_str(&r, root, "firmware_version", m->firmware_version,
			    sizeof(m->firmware_version))) < 0)
		goto out;
	if (!hfw_firmware_version_valid(m->firmware_version)) {
		ret = bad(&r, "firmware_version", "is not 8 hex digits");
		goto out;
	}
	if ((ret = parse_header(&r, json_object_get(root, "ota_header"), &m->hdr)) < 0)
		goto out;
	o = json_object_get(root, "sizes");
	if (!json_is_object(o)) {
		ret = bad(&r, "sizes", "is missing or not an object");
		goto out;
	}
	if ((ret = get_uint(&r, o, "sizes", "header", HFW_OTA_MAX_HEADER_LEN, 1, &v, NULL)) < 0)
		goto out;
	m->header_len = (size_t)v;
	if ((ret = get_uint(&r, o, "sizes", "manufacturer_image", HFW_IMAGE_MAX_BYTES, 1, &v, NULL)) < 0)
		goto out;
	m->mi_len = (size_t)v;
	if ((ret = get_uint(&r, o, "sizes", "trailer", HFW_TRAILER_LEN, 1, &v, NULL)) < 0)
		goto out;
	m->trailer_len = (size_t)v;
	if ((ret = get_uint(&r, o, "sizes", "total", HFW_IMAGE_MAX_BYTES, 1, &v, NULL)) < 0)
		goto out;
	m->total_len = (size_t)v;
	if (m->header_len + m->mi_len + m->trailer_len != m->total_len) {
		ret = bad(&r, "sizes", "do not add up");
		goto out;
	}
	if ((ret = get_hash(&r, root, "manufacturer_image_sha256", m->firmware_hash)) < 0 ||
	    (ret = get_hash(&r, root, "file_sha256", m->file_sha256)) < 0)
		goto out;
	o = json_object_get(root, "signer");
	if (json_is_object(o)) {
		m->is_signed = 1;
		if ((ret = copy_str(&r, o, "eui", m->signer.eui, sizeof(m->signer.eui))) < 0 ||
		    (ret = copy_str(&r, o, "role", m->signer.role, sizeof(m->signer.role))) < 0 ||
		    (ret = copy_str(&r, o, "issuer", m->signer.issuer, sizeof(m->signer.issuer))) < 0 ||
		    (ret = copy_str(&r, o, "serial", m->signer.serial, sizeof(m->signer.serial))) < 0)
			goto out;
	} else if (!json_is_null(o)) {
		ret = bad(&r, "signer", "is neither an object nor null");
		goto out;
	}
	o = json_object_get(root, "hub_capacity");
	if (!json_is_object(o)) {
		ret = bad(&r, "hub_capacity", "is missing or not an object");
		goto out;
	}
	if ((ret = get_uint(&r, o, "hub_capacity", "bytes", 0xFFFFFFFF, 1, &v, NULL)) < 0)
		goto out;
	m->hub_capacity = (uint32_t)v;
	if (json_object_get(root, "created_by") &&
	    (ret = copy_str(&r, root, "created_by", m->created_by, sizeof(m->created_by))) < 0)
		goto out;
	ret = 0;
out:
	json_decref(root);
	return ret;
}

int hfw_manifest_read(struct hfw_manifest *m, const char *path, struct hfw_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	if ((ret = hfw_file_read(&data, &len, path, HFW_MANIFEST_MAX_BYTES, "manifest", err)) == 0)
		ret = hfw_manifest_parse(m, (const char *)data, len, path, err);
	free(data);
	return ret;
}

int hfw_manifest_check_image(const struct hfw_manifest *m, const struct hfw_image *img,
			     const hfw_firmware_hash firmware_hash,
			     const uint8_t file_sha256[HFW_SHA256_LEN],
			     const char *what, struct hfw_error *err)
{
	const struct hfw_ota_header *a = &m->hdr, *b = &img->hdr;
	const char *field = NULL;

#define DIFF(cond, name) if (!field && (cond)) field = name
	DIFF(memcmp(file_sha256, m->file_sha256, HFW_SHA256_LEN) != 0, "file_sha256");
	DIFF(memcmp(firmware_hash, m->firmware_hash, HFW_SHA256_LEN) != 0, "manufacturer_image_sha256");
	DIFF(m->total_len != img->file_len, "sizes.total");
	DIFF(m->header_len != img->mi_offset, "sizes.header");
	DIFF(m->mi_len != img->mi_len, "sizes.manufacturer_image");
	DIFF(m->trailer_len != (img->has_trailer ? HFW_TRAILER_LEN : 0), "sizes.trailer");
	DIFF(a->header_length != b->header_length, "ota_header.header_length");
	DIFF(a->field_control != b->field_control, "ota_header.field_control");
	DIFF(a->manufacturer_code != b->manufacturer_code, "ota_header.manufacturer_code");
	DIFF(a->image_type != b->image_type, "ota_header.image_type");
	DIFF(a->file_version != b->file_version, "ota_header.file_version");
	DIFF(a->stack_version != b->stack_version, "ota_header.stack_version");
	DIFF(memcmp(a->header_string, b->header_string, HFW_OTA_HEADER_STRING_LEN) != 0,
	     "ota_header.header_string");
	DIFF(a->total_size != b->total_size, "ota_header.total_image_size");
	DIFF(a->security_credential_version != b->security_credential_version,
	     "ota_header.security_credential_version");
	DIFF(memcmp(&a->destination, &b->destination, sizeof(a->destination)) != 0,
	     "ota_header.upgrade_file_destination");
	DIFF(a->hw_min != b->hw_min, "ota_header.hardware_version_min");
	DIFF(a->hw_max != b->hw_max, "ota_header.hardware_version_max");
#undef DIFF
	if (field)
		return hfw_error_set(err, HFW_EINPUT,
				     "manifest '%s' does not match the image: %s differs", what, field);
	return 0;
}

int hfw_manifest_load_image(struct hfw_manifest *m, uint8_t **data, size_t *len,
			    struct hfw_image *img, const char *image_path, struct hfw_error *err)
{
	uint8_t mi_hash[HFW_SHA256_LEN], file_hash[HFW_SHA256_LEN];
	char *manifest_path = NULL;
	size_t n = strlen(image_path) + sizeof(".json");
	int ret;

	*data = NULL;
	*len = 0;
	if (!(manifest_path = malloc(n)))
		return hfw_error_oom(err);
	snprintf(manifest_path, n, "%s.json", image_path);
	if ((ret = hfw_manifest_read(m, manifest_path, err)) < 0 ||
	    (ret = hfw_file_read(data, len, image_path, HFW_IMAGE_MAX_BYTES, "image", err)) < 0 ||
	    (ret = hfw_image_parse(img, *data, *len, m->route == HFW_ROUTE_SR_11_1 ? HFW_TRAILER_REQUIRED
				   : HFW_TRAILER_ABSENT, err)) < 0)
		goto out;
	hfw_image_hashes(img, *data, *len, mi_hash, file_hash);
	ret = hfw_manifest_check_image(m, img, mi_hash, file_hash, manifest_path, err);
out:
	if (ret < 0) {
		free(*data);
		*data = NULL;
		*len = 0;
	}
	free(manifest_path);
	return ret;
}
