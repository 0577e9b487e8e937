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
#include "../lib/crypto.h"
#include "../lib/request.h"
#include "../lib/fileio.h"
#include "../lib/gbcs.h"
#include "../lib/thread.h"
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

/* Many files are signed in batches: one ledger commit each, and bounded memory. */
#define SIGN_BATCH_FILES 256
#define SIGN_BATCH_BYTES (16u * 1024 * 1024)	/* a batch's trees live from parse to signature */

/* One input of "hanfw sign FILE...": where it goes and how it went. */
struct sign_file {
	const char *in;
	char *out;		/* "-", the input itself, the one -o, or DIR/its name */
	uint8_t *xml;
	size_t len;
};

/*
 * Where each input's signed form goes; refuses two inputs that would land
 * on one name.  Returns 0 or an exit status.
 */
static int plan_outputs(struct hfw_ctx *ctx, struct sign_file *f, size_t n, const char *out, int in_place, int many)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const char *base = strrchr(f[i].in, '/');
		size_t need;

		base = base ? base + 1 : f[i].in;
		if (in_place || !many) {
			f[i].out = strdup(in_place ? f[i].in : out ? out : "-");
		} else {
			if (!*base || strcmp(f[i].in, "-") == 0)
				return cmd_usage_error(ctx, "'%s' has no file name to write under '%s'", f[i].in, out);
			need = strlen(out) + strlen(base) + 2;
			if ((f[i].out = malloc(need)))
				snprintf(f[i].out, need, "%s/%s", out, base);
		}
		if (!f[i].out) {
			fprintf(stderr, "hanfw: %s\n", hfw_strerror(HFW_ENOMEM));
			return -HFW_ENOMEM;	/* its exit status */
		}
		for (j = 0; many && j < i; j++)
			if (strcmp(f[j].out, f[i].out) == 0)
				return cmd_usage_error(ctx, "'%s' and '%s' would both be written to '%s'", f[j].in, f[i].in,
						       f[i].out);
	}
	return 0;
}

/* One batch's outputs, written by write_output on several threads. */
struct write_job {
	const struct sign_file *files;
	struct hfw_sign_item *items;
	struct hfw_atomic *outs;
};

/* The i-th signed document written to its output, not yet named: touches only item i. */
static void write_output(void *arg, size_t i)
{
	struct write_job *j = arg;
	struct hfw_sign_item *it = &j->items[i];

	if (it->ret < 0 || strcmp(j->files[i].out, "-") == 0)
		return;
	if ((it->ret = hfw_atomic_open(&j->outs[i], j->files[i].out, &it->err)) == 0 &&
	    (it->ret = hfw_atomic_write(&j->outs[i], it->out, it->outlen, &it->err)) < 0)
		hfw_atomic_release(&j->outs[i]);
}

/*
 * Sign files[0..n) in batches (lib/request.c: one durable commit each,
 * before any output of the batch is written), then write each output
 * atomically.  A file that fails is reported on its own line and the
 * others go on; returns the first failure's exit status, or 0.
 */
static int sign_files(struct hfw_ctx *ctx, struct sign_file *files, size_t n, const hfw_signer *signer,
		      const struct hfw_request_sign_options *so, json_t *report)
{
	struct hfw_sign_item *items = calloc(SIGN_BATCH_FILES, sizeof(*items));
	struct hfw_atomic *outs = calloc(SIGN_BATCH_FILES, sizeof(*outs));
	struct hfw_error *errs = calloc(SIGN_BATCH_FILES, sizeof(*errs)), err = HFW_ERROR_INIT;
	int *rets = calloc(SIGN_BATCH_FILES, sizeof(*rets));
	size_t at = 0, i, k, bytes;
	int status = HFW_EXIT_OK, committed;

	if (!items || !outs || !errs || !rets) {
		hfw_error_oom(&err);
		status = cmd_report(&err);
		goto out;
	}
	while (at < n) {
		/* Read a batch; a file that cannot be read or written to fails alone, before any counter. */
		for (k = 0, bytes = 0; at + k < n && k < SIGN_BATCH_FILES && bytes < SIGN_BATCH_BYTES; k++) {
			struct sign_file *f = &files[at + k];
			struct hfw_sign_item *it = &items[k];

			memset(it, 0, sizeof(*it));
			if ((strcmp(f->out, "-") != 0 && hfw_output_check(NULL, f->out, &it->err) < 0) ||
			    hfw_file_read(&f->xml, &f->len, f->in, HFW_MAX_DUIS_BYTES, "request", &it->err) < 0) {
				it->ret = it->err.code;
				continue;
			}
			it->xml = f->xml;
			it->len = f->len;
			bytes += f->len;
		}
		committed = hfw_request_sign_batch(signer, items, k, so, &err) == 0;
		if (!committed)
			status = cmd_report(&err);	/* nothing of the batch was committed: nothing is written */
		/*
		 * Every output of the batch written, on every core (creating a file
		 * was most of a batch's time on a busy ext4), then put in place
		 * together (lib/fileio.c).
		 */
		for (i = 0; i < k; i++)
			outs[i] = (struct hfw_atomic)HFW_ATOMIC_INIT;
		if (committed) {
			struct write_job job = { files + at, items, outs };

			hfw_thread_for(k, write_output, &job);
		}
		for (i = 0; committed && i < k; i++)
			if (items[i].ret == 0 && strcmp(files[at + i].out, "-") == 0)
				items[i].ret = emit("-", items[i].out, items[i].outlen, &items[i].err);
		if (committed) {
			for (i = 0; i < k; i++)
				rets[i] = items[i].ret;
			(void)hfw_atomic_commit_many(outs, k, rets, errs);
			for (i = 0; i < k; i++) {
				if (rets[i] < 0 && items[i].ret == 0) {
					items[i].ret = rets[i];
					items[i].err = errs[i];
				}
				hfw_atomic_release(&outs[i]);
			}
		}
		for (i = 0; committed && i < k; i++) {
			struct sign_file *f = &files[at + i];
			struct hfw_sign_item *it = &items[i];
			char rid[HFW_REQUEST_ID_MAX];

			if (it->ret < 0) {
				fprintf(stderr, "hanfw: %s: %s\n", f->in, it->err.text[0] ? it->err.text : hfw_strerror(it->ret));
				if (status == HFW_EXIT_OK)
					status = -it->ret;
				if (report)
					json_array_append_new(report, json_pack("{s:s, s:s, s:i}", "input", f->in, "error",
										it->err.text, "exit", -it->ret));
			} else {
				hfw_request_id_format(rid, &it->id);
				if (report)
					json_array_append_new(report, json_pack("{s:s, s:s, s:s, s:s}", "input", f->in, "output",
										f->out, "request_id", rid, "signer",
										hfw_signer_info(signer)->eui));
				if (ctx->verbose)
					fprintf(stderr, "hanfw: signed %s as %s\n", rid, hfw_signer_info(signer)->eui);
			}
		}
		for (i = 0; i < k; i++) {
			free(items[i].out);
			free(files[at + i].xml);
			files[at + i].xml = NULL;
		}
		if (!committed)
			break;	/* the ledger refused a commit: stop there */
		at += k;
	}
out:
	free(items);
	free(outs);
	free(errs);
	free(rets);
	return status;
}

int cmd_sign(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *out = NULL, *key_path = NULL, *cert_path = NULL, *xsd = NULL, *ledger_path = NULL;
	int in_place = 0, gbcs = 0, hex = 0, b64 = 0, new_counter = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING('o', "output", &out, "FILE", "where to write: a FILE for one input ('-', the default, is standard output), the DIR for several"),
		HFW_OPT_FLAG(0, "in-place", &in_place, "replace each input file"),
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
		"       hanfw sign FILE... (-o DIR | --in-place) [--key KEY --cert CERT] [--new-counter] [--schema XSD]\n"
		"       hanfw sign --gbcs [--hex | --base64] FILE|- [-o OUT] [--key KEY [--cert CERT]]",
		"XML-sign DUIS requests in the DCC's profile (compact, enveloped, ECDSA P-256), settling their\n"
		"RequestID counters in the ledger first (many files: one commit per batch); or sign a GBCS\n"
		"pre-command of a critical command.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_request_sign_options so = { NULL, 0, NULL };
	const struct cmd_settings *set = &ctx->session.set;
	struct sign_file *files = NULL;
	json_t *report = NULL;
	enum cmd_parse pr;
	int n, i, many, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n < 1)
		return cmd_usage_error(ctx, "expected FILE... (or - for standard input)");
	many = n > 1;
	if (gbcs && many)
		return cmd_usage_error(ctx, "--gbcs signs one FILE, got %d", n);
	if (in_place && out)
		return cmd_usage_error(ctx, "give -o or --in-place, not both");
	for (i = 0; i < n; i++) {
		if (in_place && strcmp(argv[i], "-") == 0)
			return cmd_usage_error(ctx, "--in-place needs a file, not standard input");
		if (many && strcmp(argv[i], "-") == 0)
			return cmd_usage_error(ctx, "- (standard input) is signed alone, not among other files");
	}
	if (many && !out && !in_place)
		return cmd_usage_error(ctx, "signing several files needs -o DIR or --in-place");
	if ((hex || b64) && !gbcs)
		return cmd_usage_error(ctx, "--hex and --base64 go with --gbcs");
	if (hex && b64)
		return cmd_usage_error(ctx, "give --hex or --base64, not both");
	if (gbcs && (new_counter || xsd || ledger_path))
		return cmd_usage_error(ctx, "--new-counter, --schema and --ledger are for DUIS requests, not --gbcs");
	if (in_place && !many)
		out = argv[0];
	/* The signed message goes to standard output unless -o: JSON there would spoil it. */
	if (ctx->json && !many && (!out || strcmp(out, "-") == 0))
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

	/* Many files go to -o DIR (made if missing) or in place; refused destinations are refused before a counter. */
	if (many && !in_place && cmd_output_dir(out, &err) < 0)
		goto fail;
	if (!(files = calloc((size_t)n, sizeof(*files)))) {
		hfw_error_oom(&err);
		goto fail;
	}
	for (i = 0; i < n; i++)
		files[i].in = argv[i];
	if ((ret = plan_outputs(ctx, files, (size_t)n, out, in_place, many)) != 0)
		goto done;
	/* The signer's key is the only key this process loads (lib/crypto.h). */
	hfw_key_load_one_only();
	/*
	 * The signer, then the ledger: a refused certificate takes no counter
	 * and makes no ledger (cmd/session.c opens one that exists meanwhile,
	 * on another thread, while the key loads and the schema is parsed).
	 */
	if ((ret = cmd_setup(ctx, ctx->needs | (xsd ? 0 : NEED_REQUEST_XSD))) != 0)
		goto done;
	so.ledger = ctx->session.ledger;
	so.new_counter = new_counter;
	so.xsd_path = xsd;
	if (ctx->json && !(report = json_array())) {
		hfw_error_oom(&err);
		goto fail;
	}
	ret = sign_files(ctx, files, (size_t)n, ctx->session.signer, &so, report);
	/*
	 * sign --json (schemas/sign.schema.json): for one file, where the message
	 * went, its RequestID and its signer; for many, every file.
	 */
	if (report && !many && json_array_size(report) == 1 && json_object_get(json_array_get(report, 0), "output")) {
		json_t *o = json_array_get(report, 0);

		if (cmd_print_json(json_pack("{s:O, s:s, s:O, s:O}", "output", json_object_get(o, "output"), "kind", "duis",
					     "request_id", json_object_get(o, "request_id"), "signer",
					     json_object_get(o, "signer")), &err) < 0)
			goto fail;
	} else if (report && many) {
		size_t failed = 0, j;
		json_t *o;

		json_array_foreach(report, j, o)
			failed += json_object_get(o, "error") != NULL;
		if (cmd_print_json(json_pack("{s:s, s:I, s:I, s:O}", "kind", "duis", "signed",
					     (json_int_t)(json_array_size(report) - failed), "failed", (json_int_t)failed,
					     "files", report), &err) < 0)
			goto fail;
	}
	goto done;
fail:
	ret = cmd_report(&err);
done:
	for (i = 0; files && i < n; i++) {
		free(files[i].out);
		free(files[i].xml);
	}
	free(files);
	json_decref(report);
	return ret;
}
