/*
 * sign.c - "hanfw sign": XML-sign a DUIS request in the DCC's profile, or
 * (--gbcs) sign a GBCS pre-command of a critical command.
 *
 * A request keeps its RequestID unless --new-counter asks for a fresh one;
 * either way the counter is settled in the ledger first, so hanfw never
 * signs two requests with one counter (unlike the DCC's own tool, which
 * silently rewrites counters).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../lib/base64.h"
#include "../lib/config.h"
#include "../lib/request.h"
#include "../lib/fileio.h"
#include "../lib/gbcs.h"
#include "../lib/hex.h"
#include "../lib/ledger.h"
#include "../lib/xml.h"
#include "../lib/xmldsig.h"
#include "cmd.h"

/* Write data to path atomically, or to standard output for "-". */
static int emit(const char *path, const void *data, size_t len, struct hfw_error *err)
{
	if (!path || strcmp(path, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len)
			return hfw_error_set(err, HFW_EIO, "cannot write standard output");
		return 0;
	}
	return hfw_file_write_atomic(path, data, len, err);
}

static int sign_gbcs(const char *in, const char *out, int hex, int b64, const char *key_path,
		     const char *cert_path, const char *passphrase_env, struct hfw_error *err)
{
	struct hfw_key_options ko = HFW_KEY_OPTIONS_INIT;
	struct hfw_gbcs_message m;
	hfw_key *key = NULL;
	hfw_cert *cert = NULL;
	uint8_t *text = NULL, *pre = NULL, *signed_ = NULL;
	size_t tlen = 0, plen = 0, slen = 0;
	char *enc = NULL;
	int ret;

	ko.passphrase_env = passphrase_env;
	if ((ret = hfw_file_read(&text, &tlen, in, 1024 * 1024, "pre-command", err)) < 0)
		goto out;
	if (hex) {
		if ((ret = hfw_gbcs_from_hex(&pre, &plen, (const char *)text, tlen, err)) < 0)
			goto out;
	} else if (b64) {
		if ((ret = hfw_base64_decode(&pre, &plen, (const char *)text, tlen, "pre-command", err)) < 0)
			goto out;
	} else {
		pre = text;
		plen = tlen;
		text = NULL;
	}
	if ((ret = hfw_key_load(&key, key_path, &ko, err)) < 0)
		goto out;
	if ((ret = hfw_gbcs_parse(&m, pre, plen, err)) < 0)
		goto out;
	if (cert_path) {
		struct hfw_cert_info ci;
		struct hfw_eui e;

		if ((ret = hfw_cert_load(&cert, cert_path, err)) < 0 ||
		    (ret = hfw_cert_check_key(cert, key, err)) < 0)
			goto out;
		hfw_cert_info(cert, &ci);
		if (!ci.eui[0] || hfw_eui_parse(&e, ci.eui, "signer", err) < 0 ||
		    memcmp(e.b, m.originator, 8) != 0) {
			char orig[HFW_EUI_TEXT_MAX];

			memcpy(e.b, m.originator, 8);
			hfw_eui_format(orig, &e);
			ret = hfw_error_set(err, HFW_EINPUT, "pre-command originator %s is not the signer %s",
					    orig, ci.eui[0] ? ci.eui : "(no EUI in the certificate)");
			goto out;
		}
	}
	if ((ret = hfw_gbcs_sign_precommand(&signed_, &slen, key, pre, plen, err)) < 0)
		goto out;
	if (hex || b64) {
		size_t n = hex ? 2 * slen : hfw_base64_len(slen);

		if (!(enc = malloc(n + 2))) {
			ret = hfw_error_oom(err);
			goto out;
		}
		if (hex)
			hfw_hex_encode_upper(enc, signed_, slen);
		else
			hfw_base64_encode(enc, signed_, slen);
		enc[n] = '\n';
		ret = emit(out, enc, n + 1, err);
	} else {
		ret = emit(out, signed_, slen, err);
	}
out:
	free(enc);
	free(signed_);
	free(pre);
	free(text);
	hfw_key_free(key);
	hfw_cert_free(cert);
	return ret;
}

int cmd_sign(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *out = NULL, *key_path = NULL, *cert_path = NULL, *xsd = NULL, *ledger_path = NULL;
	int in_place = 0, gbcs = 0, hex = 0, b64 = 0, new_counter = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING('o', "output", &out, "FILE", "where to write ('-', the default, is standard output)"),
		HFW_OPT_FLAG(0, "in-place", &in_place, "replace the input file"),
		HFW_OPT_STRING(0, "key", &key_path, "FILE", "signing key (default: xml_signing_key, or gbcs_signing_key with --gbcs)"),
		HFW_OPT_STRING(0, "cert", &cert_path, "FILE", "its certificate"),
		HFW_OPT_FLAG(0, "new-counter", &new_counter, "give the RequestID a fresh counter from the ledger"),
		HFW_OPT_STRING(0, "ledger", &ledger_path, "FILE", "ledger of RequestIDs (default: the ledger setting)"),
		HFW_OPT_STRING(0, "schema", &xsd, "XSD", "validate against this schema instead of hanfw's own"),
		HFW_OPT_FLAG(0, "gbcs", &gbcs, "sign a GBCS pre-command with the supplier's digital-signing key"),
		HFW_OPT_FLAG(0, "hex", &hex, "with --gbcs: read and write hexadecimal"),
		HFW_OPT_FLAG(0, "base64", &b64, "with --gbcs: read and write base64"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"sign FILE|- [-o OUT | --in-place] [--key KEY --cert CERT] [--new-counter] [--schema XSD]\n"
		"       hanfw sign --gbcs [--hex | --base64] FILE|- [-o OUT] [--key KEY [--cert CERT]]",
		"XML-sign a DUIS request in the DCC's profile (compact, enveloped, ECDSA P-256), settling its\n"
		"RequestID counter in the ledger first; or sign a GBCS pre-command of a critical command.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_request_sign_options so = { NULL, 0, NULL };
	struct hfw_request_id id;
	const struct cmd_settings *set = &ctx->session.set;
	hfw_signer *signer = NULL;
	hfw_ledger *ledger = NULL;
	uint8_t *xml = NULL;
	size_t len = 0, slen = 0;
	char *signed_ = NULL, rid[HFW_REQUEST_ID_MAX];
	enum cmd_parse pr;
	int n, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 1)
		return cmd_usage_error(ctx, "expected one FILE (or - for standard input), got %d", n);
	if (in_place && out)
		return cmd_usage_error(ctx, "give -o or --in-place, not both");
	if (in_place && strcmp(argv[0], "-") == 0)
		return cmd_usage_error(ctx, "--in-place needs a file, not standard input");
	if ((hex || b64) && !gbcs)
		return cmd_usage_error(ctx, "--hex and --base64 go with --gbcs");
	if (hex && b64)
		return cmd_usage_error(ctx, "give --hex or --base64, not both");
	if (gbcs && (new_counter || xsd || ledger_path))
		return cmd_usage_error(ctx, "--new-counter, --schema and --ledger are for DUIS requests, not --gbcs");
	if (in_place)
		out = argv[0];
	/* The signed message goes to standard output unless -o: JSON there would spoil it. */
	if (ctx->json && (!out || strcmp(out, "-") == 0))
		return cmd_usage_error(ctx, "--json needs -o FILE or --in-place (standard output carries the signed message)");
	/* Set-up (cmd/session.c): --key, --cert and --ledger stand for their settings. */
	cmd_setting_flag(ctx, gbcs ? HFW_SET_GBCS_SIGNING_KEY : HFW_SET_XML_SIGNING_KEY, "--key", key_path);
	cmd_setting_flag(ctx, gbcs ? HFW_SET_GBCS_SIGNING_CERT : HFW_SET_XML_SIGNING_CERT, "--cert", cert_path);
	cmd_setting_flag(ctx, HFW_SET_LEDGER, "--ledger", ledger_path);
	if ((ret = cmd_setup(ctx, NEED_CONFIG)) != 0)
		goto done;

	if (gbcs) {
		/* The configured certificate goes with the configured key, not with one given by flag. */
		key_path = set->gbcs_signing_key;
		if (!cert_path && hfw_config_origin(ctx->session.cfg, HFW_SET_GBCS_SIGNING_KEY) != HFW_ORIGIN_FLAG)
			cert_path = set->gbcs_signing_cert;
		if (!key_path) {
			cmd_setting_missing(ctx, HFW_SET_GBCS_SIGNING_KEY, &err);
			goto fail;
		}
		if (out && strcmp(out, "-") != 0 && hfw_output_check(NULL, out, &err) < 0)
			goto fail;
		if (sign_gbcs(argv[0], out, hex, b64, key_path, cert_path, set->passphrase_env, &err) < 0 ||
		    (ctx->json && cmd_print_json(json_pack("{s:s, s:s}", "output", out, "kind", "gbcs"), &err) < 0))
			goto fail;
		goto done;
	}

	/* A destination that would be refused is refused before a counter is taken. */
	if (out && strcmp(out, "-") != 0 && hfw_output_check(NULL, out, &err) < 0)
		goto fail;
	if ((ret = cmd_setup(ctx, NEED_CONFIG | NEED_SIGNER)) != 0)
		goto done;
	signer = ctx->session.signer;
	if (hfw_file_read(&xml, &len, argv[0], HFW_MAX_DUIS_BYTES, "request", &err) < 0)
		goto fail;
	if ((ret = cmd_setup(ctx, ctx->needs)) != 0)	/* the ledger, once there is something to sign */
		goto done;
	ledger = ctx->session.ledger;
	so.ledger = ledger;
	so.new_counter = new_counter;
	so.xsd_path = xsd;
	if (hfw_request_sign_document(&signed_, &slen, &id, signer, xml, len, &so, &err) < 0 ||
	    emit(out, signed_, slen, &err) < 0)
		goto fail;
	hfw_request_id_format(rid, &id);
	/* sign --json (schemas/sign.schema.json): where the message went, its RequestID and its signer. */
	if (ctx->json && cmd_print_json(json_pack("{s:s, s:s, s:s, s:s}", "output", out, "kind", "duis", "request_id", rid,
						  "signer", hfw_signer_info(signer)->eui), &err) < 0)
		goto fail;
	if (ctx->verbose) {
		fprintf(stderr, "hanfw: signed %s as %s\n", rid, hfw_signer_info(signer)->eui);
	}
	goto done;
fail:
	ret = cmd_report(&err);
done:
	free(signed_);
	free(xml);
	return ret;
}
