/*
 * verify.c - "hanfw verify": check a DUIS message's XML signature strictly
 * in the DCC's profile, against certificates in a trust directory chosen by
 * issuer and serial and allowed by the signer-role rules (xmldsig.h), then
 * validate what was signed against the schema: --schema or duis_schema when
 * given, else hanfw's own for the services it covers; any other service's
 * signature is still verified, and its schema reported as not checked.
 * An unsigned message fails unless --allow-unsigned, and even then it is
 * reported as unsigned, never as verified.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../lib/config.h"
#include "../lib/fileio.h"
#include "../lib/xml.h"
#include "../lib/xmldsig.h"
#include "cmd.h"

static void print_human(const char *file, const struct hfw_verify_result *r, const char *xsd)
{
	if (r->is_signed)
		printf("%s: verified %s, signed by %s (OU=%s, issuer %s, serial %s)\n", file, r->root,
		       r->signer.eui[0] ? r->signer.eui : "(no EUI)", r->signer.role, r->signer.issuer,
		       r->signer.serial);
	else
		printf("%s: UNSIGNED %s: accepted because of --allow-unsigned, not verified\n", file, r->root);
	if (r->request_id[0])
		printf("  RequestID         %s\n", r->request_id);
	if (r->response_id[0])
		printf("  ResponseID        %s\n", r->response_id);
	if (r->response_code[0])
		printf("  ResponseCode      %s\n", r->response_code);
	if (r->service_reference[0])
		printf("  ServiceReference  %s\n", r->service_reference);
	if (r->command_variant[0])
		printf("  CommandVariant    %s\n", r->command_variant);
	if (r->schema_checked)
		printf("schema: valid against %s\n", xsd ? xsd : "hanfw's firmware schema");
	else
		printf("schema: not checked (%s)\n", r->schema_skipped);
}

static int print_json(const char *file, const struct hfw_verify_result *r, const char *xsd, struct hfw_error *err)
{
	json_t *o;

#define OPT(s) ((s)[0] ? (s) : NULL)
	o = json_pack("{s:s,s:b,s:b,s:s,s:s?,s:s?,s:s?,s:s?,s:s?}", "file", file, "verified", r->is_signed,
		      "signed", r->is_signed, "root", r->root, "request_id", OPT(r->request_id),
		      "response_id", OPT(r->response_id), "response_code", OPT(r->response_code),
		      "service_reference", OPT(r->service_reference), "command_variant", OPT(r->command_variant));
	if (o && r->is_signed)
		json_object_set_new(o, "signer", json_pack("{s:s?,s:s,s:s,s:s}", "eui", OPT(r->signer.eui),
							   "role", r->signer.role, "issuer", r->signer.issuer,
							   "serial", r->signer.serial));
	if (o)
		json_object_set_new(o, "schema", r->schema_checked
				    ? json_pack("{s:b,s:s}", "checked", 1, "against", xsd ? xsd : "hanfw")
				    : json_pack("{s:b,s:s}", "checked", 0, "why", r->schema_skipped));
#undef OPT
	return cmd_print_json(o, err);
}

int cmd_verify(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *trust_dir = NULL, *xsd = NULL;
	int allow_unsigned = 0, check_validity = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "trust", &trust_dir, "DIR", "trusted XML-signing certificates, devices' in DIR/devices (default: the trust_dir setting)"),
		HFW_OPT_FLAG(0, "allow-unsigned", &allow_unsigned, "report an unsigned message instead of failing"),
		HFW_OPT_FLAG(0, "check-validity", &check_validity, "also refuse a certificate outside its validity dates"),
		HFW_OPT_STRING(0, "schema", &xsd, "XSD", "validate against this schema, any service (default: duis_schema, else hanfw's own)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"verify FILE...|- [--trust DIR] [--allow-unsigned] [--check-validity] [--schema XSD] [--json]",
		"Verify DUIS messages' XML signatures in the DCC's profile and who may sign them, name each\n"
		"signer, then validate each message against the DUIS schema (hanfw's firmware schema, or --schema\n"
		"for any service; otherwise reported as not checked).  The exit status is the first failure's.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_verify_options vo = { NULL, 0, 0, NULL, NULL, 0 };
	struct hfw_verify_result r;
	hfw_trust *trust = NULL;
	uint8_t *xml = NULL;
	size_t len = 0;
	enum cmd_parse pr;
	int i, n, rc, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n < 1)
		return cmd_usage_error(ctx, "expected a FILE (or - for standard input)");
	cmd_setting_flag(ctx, HFW_SET_TRUST_DIR, "--trust", trust_dir);
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)
		return ret;
	trust = ctx->session.trust;
	if (!xsd)
		xsd = ctx->session.set.duis_schema;
	vo.trust = trust;
	vo.allow_unsigned = allow_unsigned;
	vo.check_validity = check_validity;
	vo.xsd_path = xsd;
	vo.schema_if_known = 1;
	/* Each file on its own: one that fails is reported, and the others still checked. */
	for (i = 0; i < n; i++) {
		free(xml);
		xml = NULL;
		if (hfw_file_read(&xml, &len, argv[i], HFW_MAX_DUIS_BYTES, "message", &err) < 0 ||
		    hfw_xmldsig_verify(&r, xml, len, &vo, &err) < 0 ||
		    (ctx->json && print_json(argv[i], &r, xsd, &err) < 0)) {
			if (n > 1 && err.text[0] && strncmp(err.text, argv[i], strlen(argv[i])) != 0) {
				/* Name the file in the one line, unless the message already does. */
				char text[HFW_ERROR_TEXT_MAX];

				snprintf(text, sizeof(text), "%s", err.text);
				hfw_error_set(&err, err.code, "%s: %s", argv[i], text);
			}
			rc = cmd_report(&err);
			if (ret == HFW_EXIT_OK)
				ret = rc;
			continue;
		}
		if (!ctx->json && !ctx->quiet)
			print_human(argv[i], &r, xsd);
	}
	free(xml);
	return ret;
}
