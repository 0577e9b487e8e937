/*
 * package.c - "hanfw package": build a GB firmware image from a
 * ManufacturerImage, or inspect one.
 *
 * build wraps the ManufacturerImage in a ZigBee OTA header, appends the
 * supplier's signature trailer when the device type's route is SR 11.1,
 * checks the DUIS and comms-hub size limits, and writes the image and its
 * manifest (IMAGE.json) atomically.  inspect re-derives everything from
 * the bytes and checks it against the manifest and, given a certificate,
 * the trailer's signature.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/config.h"
#include "../lib/crypto.h"
#include "../lib/fileio.h"
#include "../lib/hex.h"
#include "../lib/image.h"
#include "../lib/manifest.h"
#include "../lib/route.h"
#include "../lib/version.h"
#include "cmd.h"

#define DEVICE_TYPES "ESME GSME HCALCS PPMID IHD ALTHAN-B1 ALTHAN-B2 ALTHAN-B3 ALTHAN-B4"

/* Load the signing key (and its certificate) for an SR 11.1 trailer. */
static int load_signer(hfw_key **key, hfw_cert **cert, const char *key_path,
		       const char *cert_path, const hfw_config *cfg, struct hfw_error *err)
{
	struct hfw_key_options ko = HFW_KEY_OPTIONS_INIT;
	struct hfw_cert_info ci;
	int ret;

	ko.passphrase_env = hfw_config_get(cfg, HFW_SET_PASSPHRASE_ENV);
	if ((ret = hfw_key_load(key, key_path, &ko, err)) < 0 ||
	    (ret = hfw_cert_load(cert, cert_path, err)) < 0 ||
	    (ret = hfw_cert_check_key(*cert, *key, err)) < 0)
		return ret;
	hfw_cert_info(*cert, &ci);
	/* A trailer signed with the XML-signing or any non-supplier key bricks a campaign. */
	if (strcmp(ci.role, "02") != 0)
		return hfw_error_set(err, HFW_EKEY,
				     "certificate '%s' has role OU=%s; image trailers need the supplier's digital-signing certificate (OU=02)",
				     cert_path, ci.role[0] ? ci.role : "(none)");
	if (!ci.eui[0])
		return hfw_error_set(err, HFW_EKEY,
				     "certificate '%s' names no EUI (x500UniqueIdentifier)", cert_path);
	return 0;
}

static void print_manifest_human(const struct hfw_manifest *m, const char *img_path,
				 const char *manifest_path)
{
	char hash[2 * HFW_SHA256_LEN + 1];

	hfw_hex_encode(hash, m->firmware_hash, HFW_SHA256_LEN);
	printf("packaged '%s' for %s: SR %s %s, %s\n", img_path, m->type->name,
	       hfw_route_sr(m->route), hfw_route_name(m->route),
	       m->trailer_len ? "signature trailer appended" : "no signature trailer");
	printf("  size              %zu bytes (header %zu, manufacturer image %zu, trailer %zu)\n",
	       m->total_len, m->header_len, m->mi_len, m->trailer_len);
	printf("  firmware hash     %s\n", hash);
	printf("  firmware version  %s\n", m->firmware_version);
	if (m->is_signed)
		printf("  signed by         %s (OU=%s, issuer %s, serial %s)\n", m->signer.eui,
		       m->signer.role, m->signer.issuer, m->signer.serial);
	printf("  manifest          %s\n", manifest_path);
}

static int package_build(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *out = NULL, *type_name = NULL, *mcode = NULL, *itype = NULL, *fver = NULL;
	const char *stack = NULL, *hstring = NULL, *hwmin = NULL, *hwmax = NULL, *scv = NULL;
	const char *dest = NULL, *fwver = NULL, *key_path = NULL, *cert_path = NULL, *cap = NULL;
	int strict = 0, allow_ihd = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING('o', "output", &out, "FILE", "image to write; the manifest goes to FILE.json"),
		HFW_OPT_CHOICE(0, "device-type", &type_name, "TYPE",
			       "ESME GSME HCALCS (SR 11.1) or PPMID IHD ALTHAN-B1..B4 (SR 11.4)", DEVICE_TYPES),
		HFW_OPT_STRING(0, "manufacturer-code", &mcode, "N", "ZigBee manufacturer code (16 bits)"),
		HFW_OPT_STRING(0, "image-type", &itype, "N", "OTA image type, up to 0xFFBF"),
		HFW_OPT_STRING(0, "file-version", &fver, "N", "OTA file version (32 bits)"),
		HFW_OPT_STRING(0, "stack-version", &stack, "N", "ZigBee stack version (default 0x0002, PRO)"),
		HFW_OPT_STRING(0, "header-string", &hstring, "TEXT", "OTA header string, at most 32 bytes"),
		HFW_OPT_STRING(0, "hw-min", &hwmin, "N", "minimum hardware version (with --hw-max)"),
		HFW_OPT_STRING(0, "hw-max", &hwmax, "N", "maximum hardware version (with --hw-min)"),
		HFW_OPT_STRING(0, "security-credential-version", &scv, "N", "security credential version (8 bits)"),
		HFW_OPT_STRING(0, "destination", &dest, "EUI", "upgrade file destination: a device-specific image"),
		HFW_OPT_STRING(0, "firmware-version", &fwver, "HEX8", "DUIS FirmwareVersion (default: the file version)"),
		HFW_OPT_STRING(0, "key", &key_path, "FILE", "supplier GBCS digital-signing key (SR 11.1 route)"),
		HFW_OPT_STRING(0, "cert", &cert_path, "FILE", "its certificate (OU=02)"),
		HFW_OPT_STRING(0, "hub-capacity", &cap, "BYTES", "comms hub image capacity (default 750000)"),
		HFW_OPT_FLAG(0, "strict", &strict, "refuse images above the hub capacity instead of warning"),
		HFW_OPT_FLAG(0, "allow-ihd", &allow_ihd, "build an IHD image (IHDs are out of the DCC's firmware scope)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"package build MANUFACTURER_IMAGE -o OUT.img --device-type TYPE --manufacturer-code N\n"
		"                   --image-type N --file-version N [--stack-version N] [--header-string TEXT]\n"
		"                   [--hw-min N --hw-max N] [--security-credential-version N] [--destination EUI]\n"
		"                   [--firmware-version HEX8] [--key KEY --cert CERT] [--strict] [--allow-ihd]",
		"Wrap a manufacturer image as a GB firmware image (ZigBee OTA upgrade file), check it\n"
		"against the DUIS and comms hub limits, and write it with its manifest (OUT.img.json).",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_ota_header h = { 0 };
	struct hfw_image_built built;
	struct hfw_manifest m;
	const struct hfw_device_type *type = NULL;
	hfw_config *cfg = NULL;
	hfw_key *key = NULL;
	hfw_cert *cert = NULL;
	uint8_t *mi = NULL;
	size_t mi_len = 0;
	unsigned long long v, capacity;
	char *manifest_path = NULL, *text = NULL;
	const char *base;
	enum cmd_parse pr;
	int n, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 1)
		return cmd_usage_error(ctx, "expected one MANUFACTURER_IMAGE, got %d (see --help)", n);
	if (!out)
		return cmd_usage_error(ctx, "option '--output' is required");
	if (strcmp(out, "-") == 0)
		return cmd_usage_error(ctx, "--output must be a file: the manifest is written beside it");
	if (!type_name || !mcode || !itype || !fver)
		return cmd_usage_error(ctx, "options --device-type, --manufacturer-code, --image-type and --file-version are required");
	if (!!hwmin != !!hwmax)
		return cmd_usage_error(ctx, "give --hw-min and --hw-max together");
	if (hfw_device_type_find(&type, type_name, &err) < 0)
		return cmd_usage_error(ctx, "%s", err.text);
	if (type->route == HFW_ROUTE_NONE)
		return cmd_usage_error(ctx, "no supplier firmware route for %s: %s", type->name, type->refusal);
	if (hfw_ihd_check(type, NULL, allow_ihd, "no image built", &err) < 0)
		return cmd_report(&err);
	if (type->route == HFW_ROUTE_SR_11_4 && (key_path || cert_path))
		return cmd_usage_error(ctx, "%s images go by SR 11.4 and carry no signature trailer: drop --key/--cert",
				       type->name);

	h.file_identifier = HFW_OTA_FILE_IDENTIFIER;
	h.header_version = HFW_OTA_HEADER_VERSION;
	h.stack_version = 0x0002;
	if (cmd_parse_uint(ctx, "manufacturer-code", mcode, 0xFFFF, &v))
		return HFW_EXIT_USAGE;
	h.manufacturer_code = (uint16_t)v;
	if (cmd_parse_uint(ctx, "image-type", itype, 0xFFFF, &v))
		return HFW_EXIT_USAGE;
	h.image_type = (uint16_t)v;
	if (cmd_parse_uint(ctx, "file-version", fver, 0xFFFFFFFF, &v))
		return HFW_EXIT_USAGE;
	h.file_version = (uint32_t)v;
	if (stack) {
		if (cmd_parse_uint(ctx, "stack-version", stack, 0xFFFF, &v))
			return HFW_EXIT_USAGE;
		h.stack_version = (uint16_t)v;
	}
	if (hstring) {
		if (strlen(hstring) > HFW_OTA_HEADER_STRING_LEN)
			return cmd_usage_error(ctx, "--header-string is %zu bytes; the OTA header holds 32",
					       strlen(hstring));
		memcpy(h.header_string, hstring, strlen(hstring));
	}
	if (hwmin) {
		if (cmd_parse_uint(ctx, "hw-min", hwmin, 0xFFFF, &v))
			return HFW_EXIT_USAGE;
		h.hw_min = (uint16_t)v;
		if (cmd_parse_uint(ctx, "hw-max", hwmax, 0xFFFF, &v))
			return HFW_EXIT_USAGE;
		h.hw_max = (uint16_t)v;
		h.field_control |= HFW_OTA_FC_HW_VERSIONS;
	}
	if (scv) {
		if (cmd_parse_uint(ctx, "security-credential-version", scv, 0xFF, &v))
			return HFW_EXIT_USAGE;
		h.security_credential_version = (uint8_t)v;
		h.field_control |= HFW_OTA_FC_SECURITY_CREDENTIAL;
	}
	if (dest) {
		if (hfw_eui_parse(&h.destination, dest, "--destination", &err) < 0)
			return cmd_usage_error(ctx, "%s", err.text);
		h.field_control |= HFW_OTA_FC_DESTINATION;
	}
	if (fwver && !hfw_firmware_version_valid(fwver))
		return cmd_usage_error(ctx, "--firmware-version '%s' is not 8 hex digits", fwver);

	if ((ret = cmd_setup(ctx, NEED_CONFIG)) != 0)
		goto out;
	cfg = ctx->session.cfg;
	if (cap && (ret = hfw_config_set_flag(cfg, HFW_SET_HUB_CAPACITY, cap, &err)) < 0) {
		ret = cmd_usage_error(ctx, "%s", err.text);
		goto out;
	}
	capacity = hfw_config_get_uint(cfg, HFW_SET_HUB_CAPACITY);
	if (type->route == HFW_ROUTE_SR_11_1) {
		if (!key_path)
			key_path = hfw_config_get(cfg, HFW_SET_GBCS_SIGNING_KEY);
		if (!cert_path)
			cert_path = hfw_config_get(cfg, HFW_SET_GBCS_SIGNING_CERT);
		if (!key_path || !cert_path) {
			/* A missing setting, as for every command: exit 11 naming it. */
			char what[HFW_ERROR_TEXT_MAX];

			cmd_setting_flag(ctx, HFW_SET_GBCS_SIGNING_KEY, "--key", NULL);
			cmd_setting_flag(ctx, HFW_SET_GBCS_SIGNING_CERT, "--cert", NULL);
			cmd_setting_missing(ctx, key_path ? HFW_SET_GBCS_SIGNING_CERT : HFW_SET_GBCS_SIGNING_KEY, &err);
			snprintf(what, sizeof(what), "%s", err.text);
			hfw_error_set(&err, HFW_ECONFIG, "%s images go by SR 11.1 and need the supplier's signature: %s",
				      type->name, what);
			goto fail;
		}
		if (load_signer(&key, &cert, key_path, cert_path, cfg, &err) < 0)
			goto fail;
	}

	if (hfw_file_read(&mi, &mi_len, argv[0], HFW_IMAGE_MAX_BYTES, "manufacturer image", &err) < 0 ||
	    hfw_image_build(&built, &h, mi, mi_len, key, &err) < 0)
		goto fail;
	if (built.total_len > capacity) {
		if (strict) {
			hfw_error_set(&err, HFW_ELIMIT, "image would be %zu bytes, more than the comms hub capacity of %llu (--strict)",
				      built.total_len, capacity);
			goto fail;
		}
		cmd_warn(ctx, "image is %zu bytes, more than the comms hub capacity of %llu: hubs may discard it",
			 built.total_len, capacity);
	}

	memset(&m, 0, sizeof(m));
	base = strrchr(out, '/');
	snprintf(m.image, sizeof(m.image), "%s", base ? base + 1 : out);
	m.type = type;
	m.route = type->route;
	if (fwver) {
		size_t i;

		for (i = 0; i < HFW_FIRMWARE_VERSION_LEN; i++)
			m.firmware_version[i] = (char)(fwver[i] >= 'a' && fwver[i] <= 'f' ? fwver[i] - 32 : fwver[i]);
		if (strtoul(m.firmware_version, NULL, 16) != h.file_version)
			cmd_warn(ctx, "--firmware-version %s differs from the OTA file version 0x%08X",
				 m.firmware_version, h.file_version);
	} else {
		snprintf(m.firmware_version, sizeof(m.firmware_version), "%08X", h.file_version);
	}
	m.hdr = h;
	m.hdr.header_length = (uint16_t)built.header_len;
	m.hdr.total_size = (uint32_t)built.total_len;
	m.header_len = built.header_len;
	m.mi_len = mi_len;
	m.trailer_len = built.trailer_len;
	m.total_len = built.total_len;
	memcpy(m.firmware_hash, built.firmware_hash, HFW_SHA256_LEN);
	memcpy(m.file_sha256, built.file_sha256, HFW_SHA256_LEN);
	if (cert) {
		m.is_signed = 1;
		hfw_cert_info(cert, &m.signer);
	}
	m.hub_capacity = (uint32_t)capacity;
	snprintf(m.created_by, sizeof(m.created_by), "hanfw %s", HFW_VERSION);

	if (!(manifest_path = malloc(strlen(out) + sizeof(".json")))) {
		hfw_error_oom(&err);
		goto fail;
	}
	snprintf(manifest_path, strlen(out) + sizeof(".json"), "%s.json", out);
	/*
	 * Both destinations checked before either is written; then the image
	 * first: a manifest never describes bytes that are not there.
	 */
	if (hfw_output_check(NULL, out, &err) < 0 || hfw_output_check(NULL, manifest_path, &err) < 0 ||
	    hfw_image_write(out, &built, mi, mi_len, &err) < 0 ||
	    hfw_manifest_write(manifest_path, &m, &err) < 0)
		goto fail;
	if (ctx->json) {
		if (hfw_manifest_format(&text, &m, &err) < 0)
			goto fail;
		printf("%s\n", text);
	} else if (!ctx->quiet) {
		print_manifest_human(&m, out, manifest_path);
	}
	goto out;
fail:
	ret = cmd_report(&err);
out:
	free(text);
	free(manifest_path);
	free(mi);
	hfw_key_free(key);
	hfw_cert_free(cert);
	return ret;
}

/* --- inspect ------------------------------------------------------------ */

struct inspection {
	struct hfw_image img;
	const struct hfw_device_type *type;	/* if known */
	enum hfw_route route;
	const char *route_source;		/* "--route", "manifest", "detected" */
	uint8_t firmware_hash[HFW_SHA256_LEN], file_sha256[HFW_SHA256_LEN];
	const char *manifest_path;		/* checked manifest, or NULL */
	const char *signature;			/* "verified", "not checked", "none" */
	struct hfw_cert_info signer;
};

static void print_inspection_human(const char *path, const struct inspection *in)
{
	const struct hfw_ota_header *h = &in->img.hdr;
	char hs[4 * HFW_OTA_HEADER_STRING_LEN + 1], hex[2 * HFW_SHA256_LEN + 1], eui[HFW_EUI_TEXT_MAX];

	hfw_ota_header_string_text(hs, h);
	printf("%s: GB firmware image, %zu bytes, route SR %s (%s)\n", path, in->img.file_len,
	       hfw_route_sr(in->route), in->route_source);
	printf("  upgrade file identifier      0x%08X\n", h->file_identifier);
	printf("  header version               0x%04X\n", h->header_version);
	printf("  header length                %u\n", h->header_length);
	printf("  field control                0x%04X\n", h->field_control);
	printf("  manufacturer code            0x%04X\n", h->manufacturer_code);
	printf("  image type                   0x%04X\n", h->image_type);
	printf("  file version                 0x%08X\n", h->file_version);
	printf("  zigbee stack version         0x%04X\n", h->stack_version);
	printf("  header string                \"%s\"\n", hs);
	printf("  total image size             %u\n", h->total_size);
	if (h->field_control & HFW_OTA_FC_SECURITY_CREDENTIAL)
		printf("  security credential version  0x%02X\n", h->security_credential_version);
	if (h->field_control & HFW_OTA_FC_DESTINATION) {
		hfw_eui_format(eui, &h->destination);
		printf("  upgrade file destination     %s\n", eui);
	}
	if (h->field_control & HFW_OTA_FC_HW_VERSIONS)
		printf("  hardware versions            0x%04X to 0x%04X\n", h->hw_min, h->hw_max);
	printf("  manufacturer image           %zu bytes at offset %zu\n", in->img.mi_len, in->img.mi_offset);
	if (in->img.has_trailer)
		printf("  signature trailer            64 bytes at offset %zu, %s\n",
		       in->img.trailer_offset + 2, in->signature);
	else
		printf("  signature trailer            none\n");
	if (in->signer.eui[0])
		printf("  signer                       %s (OU=%s, issuer %s, serial %s)\n", in->signer.eui,
		       in->signer.role, in->signer.issuer, in->signer.serial);
	hfw_hex_encode(hex, in->firmware_hash, HFW_SHA256_LEN);
	printf("  manufacturer image sha256    %s\n", hex);
	hfw_hex_encode(hex, in->file_sha256, HFW_SHA256_LEN);
	printf("  file sha256                  %s\n", hex);
	printf("  manifest                     %s\n", in->manifest_path ? in->manifest_path : "none");
}

static int print_inspection_json(const char *path, const struct inspection *in, struct hfw_error *err)
{
	char mhex[2 * HFW_SHA256_LEN + 1], fhex[2 * HFW_SHA256_LEN + 1];
	json_t *o, *signer = json_null();

	hfw_hex_encode(mhex, in->firmware_hash, HFW_SHA256_LEN);
	hfw_hex_encode(fhex, in->file_sha256, HFW_SHA256_LEN);
	if (in->signer.eui[0])
		signer = json_pack("{s:s,s:s,s:s,s:s}", "eui", in->signer.eui, "role", in->signer.role,
				   "issuer", in->signer.issuer, "serial", in->signer.serial);
	o = json_pack("{s:s,s:s,s:s,s:s?,s:o,s:{s:I,s:I,s:I,s:I},s:s,s:s,s:s,s:o,s:s?}",
		      "file", path,
		      "route", hfw_route_sr(in->route),
		      "route_source", in->route_source,
		      "device_type", in->type ? in->type->name : NULL,
		      "ota_header", hfw_manifest_header_json(&in->img.hdr),
		      "sizes",
		      "header", (json_int_t)in->img.mi_offset,
		      "manufacturer_image", (json_int_t)in->img.mi_len,
		      "trailer", (json_int_t)(in->img.has_trailer ? HFW_TRAILER_LEN : 0),
		      "total", (json_int_t)in->img.file_len,
		      "manufacturer_image_sha256", mhex,
		      "file_sha256", fhex,
		      "signature", in->signature,
		      "signer", signer,
		      "manifest", in->manifest_path);
	return cmd_print_json(o, err);
}

static int package_inspect(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *cert_path = NULL, *route_name = NULL, *type_name = NULL, *manifest_opt = NULL;
	int no_manifest = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "cert", &cert_path, "FILE", "verify the signature trailer with this certificate"),
		HFW_OPT_CHOICE(0, "route", &route_name, "SR", "expect route 11.1 (trailer) or 11.4 (none)", "11.1 11.4"),
		HFW_OPT_CHOICE(0, "device-type", &type_name, "TYPE", "expect the route of this device type", DEVICE_TYPES),
		HFW_OPT_STRING(0, "manifest", &manifest_opt, "FILE", "manifest to check against (default: FILE.json if present)"),
		HFW_OPT_FLAG(0, "no-manifest", &no_manifest, "do not read a manifest"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"package inspect FILE [--cert CERT] [--route 11.1|11.4 | --device-type TYPE]\n"
		"                   [--manifest FILE | --no-manifest] [--json]",
		"Parse and check a GB firmware image: magic, header version, header length against field\n"
		"control, total size against file length, the signature trailer (verified with --cert),\n"
		"and the manifest beside it.  Prints every field and the manufacturer image hash.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct inspection in;
	struct hfw_manifest m;
	enum hfw_route want = HFW_ROUTE_NONE;
	enum hfw_trailer_mode mode = HFW_TRAILER_DETECT;
	hfw_cert *cert = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	char *default_manifest = NULL;
	const char *manifest_path = NULL;
	enum cmd_parse pr;
	int n, have_manifest = 0, ret = HFW_EXIT_OK;

	memset(&in, 0, sizeof(in));
	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 1)
		return cmd_usage_error(ctx, "expected one FILE, got %d (see --help)", n);
	if (route_name && type_name)
		return cmd_usage_error(ctx, "give --route or --device-type, not both");
	if (no_manifest && manifest_opt)
		return cmd_usage_error(ctx, "give --manifest or --no-manifest, not both");
	if (route_name && hfw_route_parse(&want, route_name, &err) < 0)
		return cmd_usage_error(ctx, "%s", err.text);
	if (type_name) {
		if (hfw_device_type_find(&in.type, type_name, &err) < 0)
			return cmd_usage_error(ctx, "%s", err.text);
		if (in.type->route == HFW_ROUTE_NONE)
			return cmd_usage_error(ctx, "no supplier firmware route for %s: %s",
					       in.type->name, in.type->refusal);
		want = in.type->route;
	}
	in.route_source = route_name ? "--route" : "--device-type";

	if (!no_manifest) {
		if (manifest_opt) {
			manifest_path = manifest_opt;
		} else if (strcmp(argv[0], "-") != 0) {
			if (!(default_manifest = malloc(strlen(argv[0]) + sizeof(".json")))) {
				hfw_error_oom(&err);
				goto fail;
			}
			snprintf(default_manifest, strlen(argv[0]) + sizeof(".json"), "%s.json", argv[0]);
			if (access(default_manifest, F_OK) == 0)
				manifest_path = default_manifest;
		}
	}
	if (manifest_path) {
		if (hfw_manifest_read(&m, manifest_path, &err) < 0)
			goto fail;
		have_manifest = 1;
		if (want != HFW_ROUTE_NONE && want != m.route) {
			hfw_error_set(&err, HFW_EINPUT, "manifest '%s' says route SR %s, but SR %s was expected",
				      manifest_path, hfw_route_sr(m.route), hfw_route_sr(want));
			goto fail;
		}
		if (want == HFW_ROUTE_NONE) {
			want = m.route;
			in.type = m.type;
			in.route_source = "manifest";
		}
	}
	if (want == HFW_ROUTE_SR_11_1)
		mode = HFW_TRAILER_REQUIRED;
	else if (want == HFW_ROUTE_SR_11_4)
		mode = HFW_TRAILER_ABSENT;
	else
		in.route_source = "detected";

	if (hfw_file_read(&data, &len, argv[0], HFW_IMAGE_MAX_BYTES, "image", &err) < 0 ||
	    hfw_image_parse(&in.img, data, len, mode, &err) < 0)
		goto fail;
	in.route = want != HFW_ROUTE_NONE ? want
		   : in.img.has_trailer ? HFW_ROUTE_SR_11_1 : HFW_ROUTE_SR_11_4;
	hfw_image_hashes(&in.img, data, len, in.firmware_hash, in.file_sha256);
	if (have_manifest) {
		if (hfw_manifest_check_image(&m, &in.img, in.firmware_hash, in.file_sha256, manifest_path, &err) < 0)
			goto fail;
		in.manifest_path = manifest_path;
	}

	in.signature = in.img.has_trailer ? "not checked (no --cert)" : "none";
	if (cert_path) {
		if (!in.img.has_trailer) {
			hfw_error_set(&err, HFW_EVERIFY, "image '%s' has no signature trailer to verify with '%s'",
				      argv[0], cert_path);
			goto fail;
		}
		if (hfw_cert_load(&cert, cert_path, &err) < 0)
			goto fail;
		if (hfw_ecdsa_verify_digest(cert, in.firmware_hash, in.img.sig, &err) < 0) {
			hfw_error_set(&err, HFW_EVERIFY,
				      "signature trailer of '%s' does not verify with certificate '%s'",
				      argv[0], cert_path);
			goto fail;
		}
		in.signature = "verified";
		hfw_cert_info(cert, &in.signer);
	}

	if (ctx->json) {
		if (print_inspection_json(argv[0], &in, &err) < 0)
			goto fail;
	} else if (!ctx->quiet) {
		print_inspection_human(argv[0], &in);
	}
	goto out;
fail:
	ret = cmd_report(&err);
out:
	hfw_cert_free(cert);
	free(default_manifest);
	free(data);
	return ret;
}

int cmd_package(int argc, char **argv, struct hfw_ctx *ctx)
{
	static const struct hfw_verb verbs[] = {
		{ "build", package_build, "wrap a manufacturer image as a GB firmware image with its manifest", NEED_CONFIG },
		{ "inspect", package_inspect, "parse and check an image, its trailer and its manifest", 0 },
		{ NULL, NULL, NULL, 0 },
	};

	return cmd_run_verbs(ctx, argc, argv, verbs,
			     "Build and inspect GB firmware images (ZigBee OTA upgrade files).");
}
