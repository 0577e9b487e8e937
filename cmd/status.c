/*
 * status.c - "hanfw status": where devices stand.  For now the decode verb:
 * what saved DUIS responses and alerts say, GBCS payloads included, with
 * their signatures checked against the trust directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../lib/config.h"
#include "../lib/decode.h"
#include "../lib/fileio.h"
#include "../lib/gbcs.h"
#include "../lib/xmldsig.h"
#include "cmd.h"

/* A DUIS document, or a bare GBCS message in hexadecimal (the RTDS files) or binary. */
static int decode_file(json_t **o, const uint8_t *text, size_t len, const hfw_trust *trust, struct hfw_error *err)
{
	size_t i = 0;
	uint8_t *bytes = NULL;
	size_t blen;
	int ret;

	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	if (i < len && text[i] == '<')
		return hfw_decode_response(o, text, len, trust, err);
	if (hfw_gbcs_from_hex(&bytes, &blen, (const char *)text, len, err) == 0) {
		ret = hfw_decode_gbcs(o, bytes, blen, trust, err);
		free(bytes);
		return ret;
	}
	return hfw_decode_gbcs(o, text, len, trust, err);
}

static int status_decode(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *trust_dir = NULL;
	int no_verify = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "trust", &trust_dir, "DIR", "certificates to verify signatures with (default: trust_dir)"),
		HFW_OPT_FLAG(0, "no-verify", &no_verify, "decode without checking signatures"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"status decode FILE... [--trust DIR | --no-verify]",
		"Decode saved DUIS responses and alerts (and the GBCS payloads in them), or bare GBCS messages\n"
		"(hexadecimal or binary), as JSON, one object per file, after checking each signature.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_config *cfg = NULL;
	hfw_trust *trust = NULL;
	json_t *all = NULL;
	int n, i, ret = HFW_EXIT_OK;

	if ((n = cmd_parse_options(ctx, argc, argv, opts, &usage)) < 0)
		return n == HFW_PARSE_DONE ? HFW_EXIT_OK : HFW_EXIT_USAGE;
	if (n < 1)
		return cmd_usage_error(ctx, "expected FILE... (see --help)");
	if (!no_verify) {
		if (!trust_dir) {
			if (cmd_config(ctx, &cfg, &err) < 0)
				goto fail;
			trust_dir = hfw_config_get(cfg, HFW_SET_TRUST_DIR);
		}
		if (!trust_dir) {
			ret = cmd_usage_error(ctx, "no trust directory to verify with: give --trust DIR, set trust_dir, or --no-verify");
			goto out;
		}
		if (hfw_trust_load_dir(&trust, trust_dir, &err) < 0)
			goto fail;
	}
	if (!(all = json_array())) {
		hfw_error_oom(&err);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct hfw_error ferr = HFW_ERROR_INIT;
		uint8_t *text = NULL;
		size_t len;
		json_t *o = NULL;

		if (hfw_file_read(&text, &len, argv[i], 16u * 1024 * 1024, "DUIS message", &ferr) < 0 ||
		    decode_file(&o, text, len, trust, &ferr) < 0) {
			fprintf(stderr, "hanfw: %s: %s\n", argv[i], ferr.text);
			if (ret == HFW_EXIT_OK)
				ret = -ferr.code;
			free(text);
			continue;
		}
		free(text);
		json_object_set_new(o, "file", json_string(argv[i]));
		json_array_append_new(all, o);
	}
	if (cmd_print_json(all, &err) < 0)
		goto fail;
	all = NULL;
	goto out;
fail:
	ret = cmd_report(&err);
out:
	json_decref(all);
	hfw_trust_free(trust);
	return ret;
}

int cmd_status(int argc, char **argv, struct hfw_ctx *ctx)
{
	static const struct hfw_verb verbs[] = {
		{ "decode", status_decode, "decode saved DUIS responses and alerts, GBCS payloads included" },
		{ NULL, NULL, NULL },
	};

	return cmd_run_verbs(ctx, argc, argv, verbs, "Where devices stand (per-device campaign state comes with hanfw listen).");
}
