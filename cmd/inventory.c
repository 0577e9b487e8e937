/*
 * inventory.c - "hanfw inventory": the estate from the DCC's own inventory
 * (SR 8.2 Read Inventory, asked live or read from saved answers), the
 * supplier's records merged after it, and each device's digital-signing
 * certificate fetched from the SMKI service into the device trust store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../lib/devlist.h"
#include "../lib/estate.h"
#include "../lib/fileio.h"
#include "../lib/inventory.h"
#include "../lib/smki.h"
#include "../lib/supplier.h"
#include "cmd.h"

#define MPXN_MAX_BYTES (64u * 1024 * 1024)

struct report {
	struct hfw_ctx *ctx;
	json_t *keys;			/* --json: one object per key or file */
	size_t devices;			/* answered devices (with repeats) */
	size_t missing;			/* supplier records of devices not in the inventory */
};

static void key_text(char *out, size_t size, const struct hfw_inventory_key *k)
{
	if (k->mpxn)
		snprintf(out, size, "MPxN %s", k->mpxn);
	else {
		char eui[HFW_EUI_TEXT_MAX];

		hfw_eui_format(eui, &k->eui);
		snprintf(out, size, "%s", eui);
	}
}

static void on_key(void *arg, const struct hfw_inventory_key *key, enum hfw_inventory_outcome o,
		   const struct hfw_inventory_answer *ans, const char *detail)
{
	struct report *rep = arg;
	char k[64];

	key_text(k, sizeof(k), key);
	if (ans)
		rep->devices += ans->ndevices;
	if (rep->keys)
		json_array_append_new(rep->keys, json_pack("{s:s,s:s,s:s?,s:s?,s:i,s:s?}", "key", k, "outcome",
							   hfw_inventory_outcome_name(o), "request_id",
							   ans && ans->request_id[0] ? ans->request_id : NULL,
							   "response_code", ans && ans->response_code[0] ? ans->response_code : NULL,
							   "devices", ans ? (int)ans->ndevices : 0, "detail", detail));
	if (o == HFW_INV_NOT_FOUND)
		cmd_warn(rep->ctx, "%s: not found: the DCC does not know it (E19)", k);
	else if (o == HFW_INV_REJECTED || o == HFW_INV_UNVERIFIED)
		fprintf(stderr, "hanfw: %s: %s: %s\n", k, hfw_inventory_outcome_name(o), detail ? detail : "");
}

static void on_file(void *arg, const char *path, const struct hfw_inventory_answer *ans)
{
	struct report *rep = arg;

	rep->devices += ans->ndevices;
	if (rep->keys)
		json_array_append_new(rep->keys, json_pack("{s:s,s:s,s:s?,s:s,s:i}", "file", path, "outcome",
							   ans->not_found ? "not_found" : "found", "request_id",
							   ans->request_id[0] ? ans->request_id : NULL, "response_code",
							   ans->response_code, "devices", (int)ans->ndevices));
	if (ans->not_found)
		cmd_warn(rep->ctx, "'%s': not found: the DCC answered E19", path);
}

static void on_missing(void *arg, const struct hfw_supplier_record *r)
{
	struct report *rep = arg;
	char eui[HFW_EUI_TEXT_MAX];

	hfw_eui_format(eui, &r->eui);
	rep->missing++;
	cmd_warn(rep->ctx, "supplier record %zu: %s is not in the DCC's inventory: not added", r->line, eui);
}

/* --mpxn FILE: one MPxN a line (1-13 letters and digits), blank lines passed over. */
static int read_mpxns(char ***out, size_t *n, const char *path, struct hfw_error *err)
{
	uint8_t *data = NULL;
	char **v = NULL, *p, *eol;
	size_t len, cap = 0, line = 0;
	int ret;

	*out = NULL;
	*n = 0;
	if ((ret = hfw_file_read(&data, &len, path, MPXN_MAX_BYTES, "MPxN list", err)) < 0)
		return ret;
	for (p = (char *)data; p < (char *)data + len; p = eol + 1) {
		size_t k, m;

		line++;
		if (!(eol = memchr(p, '\n', (size_t)((char *)data + len - p))))
			eol = (char *)data + len;
		*eol = '\0';
		m = strlen(p);
		while (m && (p[m - 1] == '\r' || p[m - 1] == ' ' || p[m - 1] == '\t'))
			p[--m] = '\0';
		if (!m)
			continue;
		for (k = 0; k < m; k++)
			if (!((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= 'a' && p[k] <= 'z')))
				break;
		if (k < m || m > 13) {
			ret = hfw_error_set(err, HFW_EINPUT, "'%s' line %zu: '%.20s' is not an MPxN (1-13 letters and digits)",
					    path, line, p);
			goto fail;
		}
		if (*n == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));

			if (!nv) {
				ret = hfw_error_oom(err);
				goto fail;
			}
			v = nv;
		}
		if (!(v[*n] = strdup(p))) {
			ret = hfw_error_oom(err);
			goto fail;
		}
		(*n)++;
	}
	free(data);
	if (!*n) {
		free(v);
		return hfw_error_set(err, HFW_EINPUT, "'%s' lists no MPxN", path);
	}
	*out = v;
	return 0;
fail:
	while (*n)
		free(v[--*n]);
	free(v);
	free(data);
	return ret;
}

/* Each device's DS certificate from the SMKI service into trust_dir/devices. */
static int fetch_certificates(struct hfw_ctx *ctx, const hfw_estate *e, int insecure, size_t *stored, size_t *none,
			      struct hfw_error *err)
{
	const struct cmd_settings *set = &ctx->session.set;
	struct hfw_smki_options so = { set->smki_url, set->tls_ca, insecure };
	hfw_smki *s = NULL;
	char dir[4200];
	size_t i;
	int ret;

	*stored = *none = 0;
	snprintf(dir, sizeof(dir), "%s/devices", set->trust_dir);
	if ((ret = hfw_smki_open(&s, &so, err)) < 0)
		return ret;
	for (i = 0; i < hfw_estate_count(e); i++) {
		const struct hfw_device *d = hfw_estate_at(e, i);
		int found;

		if ((ret = hfw_smki_fetch_device(s, &d->eui, dir, &found, err)) < 0)
			break;
		if (found)
			(*stored)++;
		else
			(*none)++;
	}
	hfw_smki_free(s);
	return ret;
}

int cmd_inventory(int argc, char **argv, struct hfw_ctx *ctx)
{
	const char *devices_file = NULL, *mpxn_file = NULL, *out_file = NULL, *supplier_file = NULL, *trust_dir = NULL;
	int from = 0, no_certs = 0, insecure = 0;
	const struct hfw_option opts[] = {
		HFW_OPT_STRING(0, "devices", &devices_file, "FILE", "search keys: devices, one per line: EUI [TYPE] ('-': standard input)"),
		HFW_OPT_STRING(0, "mpxn", &mpxn_file, "FILE", "search keys: MPxNs, one per line"),
		HFW_OPT_FLAG(0, "from", &from, "build the estate from the saved SR 8.2 answers named as arguments, asking nothing"),
		HFW_OPT_STRING(0, "supplier", &supplier_file, "FILE", "the supplier's own records (CSV or JSON), merged after the DCC's"),
		HFW_OPT_STRING('o', "output", &out_file, "ESTATE.json", "where the estate is written (atomically)"),
		HFW_OPT_STRING(0, "trust", &trust_dir, "DIR", "the DCC's certificates; devices' go in DIR/devices (default: trust_dir)"),
		HFW_OPT_FLAG(0, "no-certificates", &no_certs, "do not fetch device certificates from the SMKI service"),
		HFW_OPT_FLAG(0, "insecure", &insecure, "do not verify the adapter's or SMKI service's TLS certificate (testing only)"),
		HFW_OPT_END()
	};
	static const struct hfw_usage usage = {
		"inventory (EUI... | --devices FILE|- | --mpxn FILE | --from ANSWER...) -o ESTATE.json\n"
		"                 [--supplier FILE] [--trust DIR] [--no-certificates] [--json]",
		"Build an estate from the DCC's inventory (SR 8.2), the supplier's records and the SMKI\n"
		"service's device certificates.",
	};
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_devlist list = HFW_DEVLIST_INIT;
	struct hfw_supplier sup = HFW_SUPPLIER_INIT;
	struct hfw_inventory_key *keys = NULL;
	struct report rep = { ctx, NULL, 0, 0 };
	size_t counts[HFW_INV_OUTCOMES] = { 0 }, nkeys = 0, nmpxn = 0, applied = 0, stored = 0, none = 0, i;
	struct cmd_session *sess = &ctx->session;
	hfw_estate *e = NULL;
	char **mpxns = NULL;
	enum cmd_parse pr;
	int n, ret = HFW_EXIT_OK, gravest = 0, certs;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (!out_file)
		return cmd_usage_error(ctx, "expected -o ESTATE.json (see --help)");
	if (from && (devices_file || mpxn_file))
		return cmd_usage_error(ctx, "--from reads saved answers: no --devices or --mpxn with it");
	if (from && n < 1)
		return cmd_usage_error(ctx, "--from needs the saved SR 8.2 answers as arguments");
	if (!from && n < 1 && !devices_file && !mpxn_file)
		return cmd_usage_error(ctx, "expected search keys: EUI..., --devices FILE or --mpxn FILE (see --help)");
	/* Inputs first, and where the estate goes: a bad file is refused before anything is signed or sent. */
	if (hfw_output_check(NULL, out_file, &err) < 0 ||
	    (supplier_file && hfw_supplier_read(&sup, supplier_file, &err) < 0))
		goto fail;
	if (!from) {
		if ((n || devices_file) && cmd_load_devices(&list, argv, (size_t)n, devices_file, NULL, &err) < 0)
			goto fail;
		if (mpxn_file && read_mpxns(&mpxns, &nmpxn, mpxn_file, &err) < 0)
			goto fail;
		if (!(keys = calloc(list.n + nmpxn + 1, sizeof(*keys)))) {
			hfw_error_oom(&err);
			goto fail;
		}
		for (i = 0; i < list.n; i++)
			keys[nkeys++].eui = list.v[i].eui;
		for (i = 0; i < nmpxn; i++)
			keys[nkeys++].mpxn = mpxns[i];
	}
	sess->insecure = insecure;
	cmd_setting_flag(ctx, HFW_SET_TRUST_DIR, "--trust", trust_dir);
	/* --from asks the DCC nothing: no signer, ledger or adapter. */
	if ((ret = cmd_setup(ctx, from ? NEED_CONFIG | NEED_TRUST : ctx->needs)) != 0)
		goto out;
	certs = !no_certs && sess->set.smki_url;
	if (!no_certs && !certs)
		cmd_warn(ctx, "smki_url is not set: no device certificates fetched (device GBCS signatures stay unchecked)");
	if (ctx->json && !(rep.keys = json_array())) {
		hfw_error_oom(&err);
		goto fail;
	}
	if (hfw_estate_new(&e, &err) < 0)
		goto fail;
	if (from) {
		/* Fail closed: one refused file stops it all, and nothing is written. */
		if (hfw_inventory_from_files(e, sess->trust, (const char *const *)argv, (size_t)n, on_file, &rep, &err) < 0)
			goto fail;
	} else {
		struct hfw_inventory_options io;

		memset(&io, 0, sizeof(io));
		io.signer = sess->signer;
		io.trust = sess->trust;
		io.ledger = sess->ledger;
		io.send_arg = sess->transport;
		io.schema_version = sess->set.schema_version;
		io.user = sess->user;
		if (hfw_eui_parse(&io.dcc, sess->set.dcc_eui, "dcc_eui", &err) < 0)
			goto fail;
		io.event = on_key;
		io.event_arg = &rep;
		if (hfw_inventory_run(&io, e, keys, nkeys, counts, &err) < 0)
			goto fail;
		gravest = counts[HFW_INV_UNVERIFIED] ? HFW_EVERIFY : counts[HFW_INV_REJECTED] ? HFW_EREJECTED : 0;
	}
	if (supplier_file) {
		char what[1100];

		snprintf(what, sizeof(what), "supplier records '%s'", supplier_file);
		if (hfw_supplier_apply(e, &sup, what, on_missing, &rep, &applied, &err) < 0)
			goto fail;
	}
	if (hfw_estate_sort(e, &err) < 0 || hfw_estate_write(e, out_file, &err) < 0)
		goto fail;
	if (certs && fetch_certificates(ctx, e, insecure, &stored, &none, &err) < 0) {
		/* The estate is written; the certificates stop at the first failure. */
		gravest = err.code;
		fprintf(stderr, "hanfw: %s (estate written to '%s')\n", err.text, out_file);
	}
	if (ctx->json) {
		json_t *t = json_object(), *o;

		for (i = 0; !from && i < HFW_INV_OUTCOMES; i++)
			json_object_set_new(t, hfw_inventory_outcome_name((enum hfw_inventory_outcome)i),
					    json_integer((json_int_t)counts[i]));
		o = json_pack("{s:s,s:s,s:I,s:o,s:o,s:{s:I,s:I},s:{s:b,s:I,s:I}}", "estate", out_file, "source",
			      from ? "files" : "dcc", "devices", (json_int_t)hfw_estate_count(e), "outcomes", t, "answers", rep.keys,
			      "supplier", "applied", (json_int_t)applied, "not_in_inventory", (json_int_t)rep.missing,
			      "certificates", "fetched", certs, "stored", (json_int_t)stored, "none", (json_int_t)none);
		rep.keys = NULL;
		if (cmd_print_json(o, &err) < 0)
			goto fail;
	} else if (!ctx->quiet) {
		if (from)
			printf("inventory: %zu answers, %zu devices into '%s'", (size_t)n, hfw_estate_count(e), out_file);
		else
			printf("inventory: %zu search keys: %zu found, %zu covered, %zu not found, %zu rejected, %zu unverified; %zu devices into '%s'",
			       nkeys, counts[HFW_INV_FOUND], counts[HFW_INV_COVERED], counts[HFW_INV_NOT_FOUND],
			       counts[HFW_INV_REJECTED], counts[HFW_INV_UNVERIFIED], hfw_estate_count(e), out_file);
		if (supplier_file)
			printf("; %zu supplier records applied, %zu not in the inventory", applied, rep.missing);
		if (certs)
			printf("; %zu device certificates stored, %zu devices without one", stored, none);
		printf("\n");
	}
	ret = -gravest;
	goto out;
fail:
	ret = cmd_report(&err);
out:
	json_decref(rep.keys);
	hfw_estate_free(e);
	hfw_supplier_release(&sup);
	hfw_devlist_release(&list);
	free(keys);
	while (nmpxn)
		free(mpxns[--nmpxn]);
	free(mpxns);
	return ret;
}
