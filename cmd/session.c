/*
 * session.c - set-up, in one place for every command: the settings resolved
 * once (struct cmd_settings), then what the command's row in commands[]
 * says it needs (NEED_*: user, XML signer, GBCS key, ledger, adapter,
 * trust) checked and opened, one missing setting always HFW_ECONFIG naming
 * it; the dispatcher closes it all after the command.  Also what the
 * commands acting on many devices share: the device list and the
 * per-device report.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/flow.h"
#include "../lib/config.h"
#include "../lib/devlist.h"
#include "../lib/estate.h"
#include "../lib/fileio.h"
#include "../lib/thread.h"
#include "../lib/xml.h"
#include "cmd.h"

int cmd_load_devices(struct hfw_devlist *list, char **euis, size_t n, const char *devices_file,
		     const char *estate_file, struct hfw_error *err)
{
	hfw_estate *estate = NULL;
	uint8_t *text = NULL;
	size_t tlen, i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		struct hfw_eui e;

		if ((ret = hfw_eui_parse(&e, euis[i], "device", err)) < 0 || (ret = hfw_devlist_add(list, &e, NULL, err)) < 0)
			goto out;
	}
	if (devices_file &&
	    ((ret = hfw_file_read(&text, &tlen, devices_file, 64u * 1024 * 1024, "device list", err)) < 0 ||
	     (ret = hfw_devlist_parse(list, (const char *)text, tlen, devices_file, err)) < 0))
		goto out;
	if ((ret = hfw_devlist_finish(list, err)) < 0)
		goto out;
	if (estate_file && (ret = hfw_estate_read(&estate, estate_file, err)) < 0)
		goto out;
	/* Where the list does not say a device's type, the estate may. */
	for (i = 0; estate && i < list->n; i++) {
		const struct hfw_device *d = hfw_estate_find(estate, &list->v[i].eui);

		if (!list->v[i].type && d)
			list->v[i].type = d->type;
	}
out:
	hfw_estate_free(estate);
	free(text);
	return ret;
}

/* ---- set-up: the one place settings are checked and things opened ---- */

static int cmd_config_load(struct hfw_ctx *ctx, struct hfw_error *err)
{
	struct hfw_config_options o = { ctx->config_path, ctx->profile };
	struct cmd_session *s = &ctx->session;
	int i, ret;

	if (s->cfg)
		return 0;
	if ((ret = hfw_config_load(&s->cfg, &o, err)) < 0)
		return ret;
	/* Options that stand for settings win over every other source. */
	for (i = 0; i < HFW_SET_COUNT; i++)
		if (ctx->flag_value[i] && (ret = hfw_config_set_flag(s->cfg, (enum hfw_setting)i, ctx->flag_value[i], err)) < 0)
			return ret;
	s->set.user_eui = hfw_config_get(s->cfg, HFW_SET_USER_EUI);
	s->set.dcc_eui = hfw_config_get(s->cfg, HFW_SET_DCC_EUI);
	s->set.schema_version = hfw_config_get(s->cfg, HFW_SET_SCHEMA_VERSION);
	s->set.endpoint = hfw_config_get(s->cfg, HFW_SET_ENDPOINT);
	s->set.xml_signing_key = hfw_config_get(s->cfg, HFW_SET_XML_SIGNING_KEY);
	s->set.xml_signing_cert = hfw_config_get(s->cfg, HFW_SET_XML_SIGNING_CERT);
	s->set.gbcs_signing_key = hfw_config_get(s->cfg, HFW_SET_GBCS_SIGNING_KEY);
	s->set.gbcs_signing_cert = hfw_config_get(s->cfg, HFW_SET_GBCS_SIGNING_CERT);
	s->set.passphrase_env = hfw_config_get(s->cfg, HFW_SET_PASSPHRASE_ENV);
	s->set.trust_dir = hfw_config_get(s->cfg, HFW_SET_TRUST_DIR);
	s->set.tls_ca = hfw_config_get(s->cfg, HFW_SET_TLS_CA);
	s->set.tls_client_cert = hfw_config_get(s->cfg, HFW_SET_TLS_CLIENT_CERT);
	s->set.tls_client_key = hfw_config_get(s->cfg, HFW_SET_TLS_CLIENT_KEY);
	s->set.ledger = hfw_config_get(s->cfg, HFW_SET_LEDGER);
	s->set.duis_schema = hfw_config_get(s->cfg, HFW_SET_DUIS_SCHEMA);
	s->set.smki_url = hfw_config_get(s->cfg, HFW_SET_SMKI_URL);
	s->set.dcc_signer_eui = hfw_config_get(s->cfg, HFW_SET_DCC_SIGNER_EUI);
	s->set.hub_capacity = hfw_config_get_uint(s->cfg, HFW_SET_HUB_CAPACITY);
	return 0;
}

void cmd_setting_flag(struct hfw_ctx *ctx, enum hfw_setting s, const char *flag, const char *value)
{
	ctx->flag_name[s] = flag;
	ctx->flag_value[s] = value;
}

int cmd_setting_missing(const struct hfw_ctx *ctx, enum hfw_setting s, struct hfw_error *err)
{
	const struct hfw_setting_info *si = hfw_setting_info(s);

	return hfw_error_set(err, HFW_ECONFIG, "missing setting '%s' (%s): %s%s%sset it in the profile or %s", si->key,
			     si->help, ctx->flag_name[s] ? "give " : "", ctx->flag_name[s] ? ctx->flag_name[s] : "",
			     ctx->flag_name[s] ? " or " : "", si->env);
}

/* mkdir -p of path's directory, each directory made 0700: the ledger's home is private. */
static int make_parent(const char *path, struct hfw_error *err)
{
	char dir[4096], *p;
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return hfw_error_set(err, HFW_EIO, "ledger path '%.80s...' is too long", path);
	if (!(p = strrchr(dir, '/')) || p == dir)
		return 0;
	*p = '\0';
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : hfw_error_set(err, HFW_EIO, "cannot make the ledger's directory '%s': not a directory", dir);
	for (p = dir + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		{
			char c = *p;

			*p = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST)
				return hfw_error_set(err, HFW_EIO, "cannot make the ledger's directory '%s': %s", dir, strerror(errno));
			*p = c;
		}
		if (!*p)
			break;
	}
	return 0;
}

static int open_ledger(struct hfw_ctx *ctx, unsigned need, struct hfw_error *err)
{
	struct cmd_session *s = &ctx->session;
	struct stat st;

	if (!s->set.ledger)	/* no profile ledger, no XDG_DATA_HOME and no HOME */
		return cmd_setting_missing(ctx, HFW_SET_LEDGER, err);
	if (hfw_ledger_is_uri(s->set.ledger)) {	/* PostgreSQL: no file to find or directory to make */
		if (need == NEED_LEDGER_DIR)
			return 0;
	} else if (need == NEED_LEDGER_RO) {
		/* Like git outside a repository: a reader never makes one. */
		if (stat(s->set.ledger, &st) != 0)
			return hfw_error_set(err, HFW_ECONFIG, errno == ENOENT
					     ? "no ledger at '%s' (nothing has been sent from this profile; set 'ledger' or HANFW_LEDGER)"
					     : "cannot use the ledger at '%s': %s", s->set.ledger, strerror(errno));
	} else {
		int ret = make_parent(s->set.ledger, err);

		if (ret < 0 || need == NEED_LEDGER_DIR)
			return ret;
	}
	if (need == NEED_LEDGER_RO)
		return hfw_ledger_open_existing(&s->ledger, s->set.ledger, err);
	return hfw_ledger_open(&s->ledger, s->set.ledger, err);
}

static int open_gbcs_key(struct cmd_session *s, const struct hfw_key_options *ko, struct hfw_error *err)
{
	hfw_cert *cert = NULL;
	struct hfw_cert_info ci;
	int ret;

	if ((ret = hfw_key_load(&s->gbcs_key, s->set.gbcs_signing_key, ko, err)) < 0 || !s->set.gbcs_signing_cert)
		return ret;
	/* The GBCS key must be the user's own: the device checks the signature against it. */
	if ((ret = hfw_cert_load(&cert, s->set.gbcs_signing_cert, err)) < 0 ||
	    (ret = hfw_cert_check_key(cert, s->gbcs_key, err)) < 0)
		goto out;
	hfw_cert_info(cert, &ci);
	if (ci.eui[0] && s->set.user_eui && strcasecmp(ci.eui, s->set.user_eui) != 0)
		ret = hfw_error_set(err, HFW_EKEY, "gbcs_signing_cert is for %s, not the user %s", ci.eui, s->set.user_eui);
out:
	hfw_cert_free(cert);
	return ret;
}

static int open_adapter(struct hfw_ctx *ctx, struct hfw_error *err)
{
	struct cmd_session *s = &ctx->session;
	struct hfw_transport_options to = { NULL, NULL, NULL, NULL, 0, 0, 0, -1, 0 };

	to.base_url = s->set.endpoint;
	to.ca = s->set.tls_ca;
	to.client_cert = s->set.tls_client_cert;
	to.client_key = s->set.tls_client_key;
	to.insecure = s->insecure;
	if (to.insecure)
		cmd_warn(ctx, "--insecure: the adapter's TLS certificate is not verified");
	if (s->in_flight && s->both && hfw_transport_open(&s->transport, &to, err) < 0)
		return err->code;
	return s->in_flight ? hfw_pool_open(&s->pool, &to, s->in_flight, err) : hfw_transport_open(&s->transport, &to, err);
}

/* Every required setting of needs, checked before anything is opened: the first missing one is named. */
static int check_settings(const struct hfw_ctx *ctx, unsigned needs, struct hfw_error *err)
{
	static const struct { unsigned need; enum hfw_setting s; } required[] = {
		{ NEED_USER, HFW_SET_USER_EUI },
		{ NEED_SIGNER, HFW_SET_XML_SIGNING_KEY },
		{ NEED_SIGNER, HFW_SET_XML_SIGNING_CERT },
		{ NEED_GBCS_KEY, HFW_SET_GBCS_SIGNING_KEY },
		{ NEED_TRUST, HFW_SET_TRUST_DIR },
		{ NEED_ADAPTER, HFW_SET_ENDPOINT },
		{ NEED_LEDGER | NEED_LEDGER_RO | NEED_LEDGER_DIR, HFW_SET_LEDGER },
	};
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if ((needs & required[i].need) && !hfw_config_get(ctx->session.cfg, required[i].s))
			return cmd_setting_missing(ctx, required[i].s, err);
	return 0;
}

/* The trust directory's certificates, the DCC's signer pinned when dcc_signer_eui says which. */
int cmd_load_trust(struct hfw_ctx *ctx, const char *dir, hfw_trust **out, struct hfw_error *err)
{
	int ret;

	if ((ret = hfw_trust_load_dir(out, dir, err)) < 0 ||
	    (ret = hfw_trust_pin_dcc_eui(*out, ctx->session.set.dcc_signer_eui, err)) < 0) {
		hfw_trust_free(*out);
		*out = NULL;
	}
	return ret;
}

/*
 * A ledger file that is already at this hanfw's schema version opens on a
 * thread of its own while the keys load and the schema is parsed: each
 * took a short command a fifth of its time, and none needs another.  Any
 * other ledger (missing, older, on PostgreSQL) is opened, made or migrated
 * only after the keys are accepted, as before: a refused key changes
 * nothing, and waits on no database.
 */
struct ledger_job {
	const char *path;
	hfw_ledger *ledger;
	struct hfw_error err;
	int ret;
};

static void *open_current_ledger(void *arg)
{
	struct ledger_job *j = arg;

	j->ret = hfw_ledger_open_current(&j->ledger, j->path, &j->err);
	return NULL;
}

static int start_ledger_job(struct ledger_job *j, pthread_t *tid, const struct cmd_session *s, unsigned wanted)
{
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct stat st;

	if (!(wanted & (NEED_SIGNER | NEED_GBCS_KEY | NEED_REQUEST_XSD)) || !(wanted & (NEED_LEDGER | NEED_LEDGER_RO)) ||
	    s->ledger || !s->set.ledger || hfw_ledger_is_uri(s->set.ledger) || stat(s->set.ledger, &st) != 0)
		return 0;
	j->path = s->set.ledger;
	return hfw_thread_start(tid, open_current_ledger, j, &ignored) == 0;	/* else opened after the keys */
}

/*
 * The ledger job's result, once the keys and schema are settled (ret:
 * theirs, which comes first).  One it did not open (1) is left to
 * open_ledger.
 */
static int finish_ledger_job(struct ledger_job *j, pthread_t tid, struct cmd_session *s, int ret,
			     struct hfw_error *err)
{
	pthread_join(tid, NULL);
	if (ret < 0 || j->ret > 0) {
		hfw_ledger_close(j->ledger);
		return ret;
	}
	if (j->ret < 0) {
		*err = j->err;
		return j->ret;
	}
	s->ledger = j->ledger;
	return 0;
}

static int setup(struct hfw_ctx *ctx, unsigned needs, struct hfw_error *err)
{
	struct cmd_session *s = &ctx->session;
	struct hfw_key_options ko = HFW_KEY_OPTIONS_INIT;
	struct ledger_job job = { NULL, NULL, HFW_ERROR_INIT, 0 };
	pthread_t tid;
	unsigned wanted;
	int ret, threaded;

	if (needs & ~NEED_CONFIG)
		needs |= NEED_CONFIG;
	wanted = needs & ~s->opened;
	if (!wanted)
		return 0;
	if ((ret = cmd_config_load(ctx, err)) < 0 || (ret = check_settings(ctx, wanted, err)) < 0)
		return ret;
	s->opened |= NEED_CONFIG;
	ko.passphrase_env = s->set.passphrase_env;
	if ((wanted & NEED_USER) && (ret = hfw_eui_parse(&s->user, s->set.user_eui, "user_eui", err)) < 0)
		return ret;
	s->opened |= wanted & NEED_USER;
	threaded = start_ledger_job(&job, &tid, s, wanted);
	if ((wanted & NEED_SIGNER) &&
	    (ret = hfw_signer_open(&s->signer, s->set.xml_signing_key, s->set.xml_signing_cert, &ko, err)) == 0)
		s->opened |= NEED_SIGNER;
	if (ret == 0 && (wanted & NEED_GBCS_KEY) && (ret = open_gbcs_key(s, &ko, err)) == 0)
		s->opened |= NEED_GBCS_KEY;
	if (ret == 0 && (wanted & NEED_REQUEST_XSD) && (ret = hfw_xml_load_request_schema(err)) == 0)
		s->opened |= NEED_REQUEST_XSD;
	if (threaded)
		ret = finish_ledger_job(&job, tid, s, ret, err);
	if (ret < 0)
		return ret;
	if ((wanted & (NEED_LEDGER | NEED_LEDGER_RO | NEED_LEDGER_DIR)) && !s->ledger &&
	    (ret = open_ledger(ctx, wanted & NEED_LEDGER ? NEED_LEDGER : wanted & NEED_LEDGER_DIR ? NEED_LEDGER_DIR
											 : NEED_LEDGER_RO, err)) < 0)
		return ret;
	s->opened |= wanted & (NEED_LEDGER | NEED_LEDGER_RO | NEED_LEDGER_DIR);
	if ((wanted & NEED_ADAPTER) && (ret = open_adapter(ctx, err)) < 0)
		return ret;
	s->opened |= wanted & NEED_ADAPTER;
	if ((wanted & NEED_TRUST) && (ret = cmd_load_trust(ctx, s->set.trust_dir, &s->trust, err)) < 0)
		return ret;
	s->opened |= wanted & NEED_TRUST;
	return 0;
}

int cmd_setup(struct hfw_ctx *ctx, unsigned needs)
{
	struct hfw_error err = HFW_ERROR_INIT;

	return setup(ctx, needs, &err) < 0 ? cmd_report(&err) : HFW_EXIT_OK;
}

void cmd_session_fill(const struct cmd_session *s, struct hfw_flow_options *o)
{
	o->user = s->user;
	o->signer = s->signer;
	o->trust = s->trust;
	o->ledger = s->ledger;
	o->pool = s->pool;
	o->schema_version = s->set.schema_version;
}

void cmd_session_close(struct cmd_session *s)
{
	hfw_signer_free(s->signer);
	hfw_key_free(s->gbcs_key);
	hfw_trust_free(s->trust);
	hfw_ledger_close(s->ledger);
	hfw_transport_free(s->transport);
	hfw_pool_free(s->pool);
	hfw_config_free(s->cfg);
	memset(s, 0, sizeof(*s));
}

static int print_name(void *arg, const char *name)
{
	(void)arg;
	printf("%s\n", name);
	return 0;
}

/*
 * --list-values campaign: the campaigns of the ledger, for completion.
 * No ledger yet is no campaigns (nothing printed, and none made); a ledger
 * or configuration that cannot be read is an error like any other.
 */
enum cmd_parse cmd_list_campaigns(struct hfw_ctx *ctx)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *ledger = NULL;
	const char *path;
	struct stat st;
	enum cmd_parse ret = PARSE_DONE;

	if (cmd_config_load(ctx, &err) < 0)
		goto fail;
	path = ctx->session.set.ledger;
	if (!path || (!hfw_ledger_is_uri(path) && stat(path, &st) != 0))
		goto out;
	if (hfw_ledger_open_existing(&ledger, path, &err) < 0) {
		/* A PostgreSQL database without a ledger: no campaigns, like a missing file. */
		if (err.code == HFW_ECONFIG && strncmp(err.text, "no ledger at ", 13) == 0)
			goto out;
		goto fail;
	}
	if (hfw_ledger_each_campaign_name(ledger, print_name, NULL, &err) < 0)
		goto fail;
	goto out;
fail:
	ret = cmd_parse_failed(ctx, &err);
out:
	hfw_ledger_close(ledger);
	return ret;
}


int cmd_output_dir(const char *dir, struct hfw_error *err)
{
	struct stat st;

	if (hfw_output_dir_check(dir, err) < 0)
		return err->code;
	if (mkdir(dir, 0777) == 0 || (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	return hfw_error_set(err, HFW_EIO, "cannot use '%s' as the output directory: %s", dir,
			     errno == EEXIST ? "not a directory" : strerror(errno));
}

void cmd_block_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

static void progress(void *arg, size_t done, size_t n, const size_t *counts)
{
	fprintf(stderr, "\rhanfw: %s: %zu/%zu devices: %zu sent, %zu refused pre-commands, %zu rejected%s",
		(const char *)arg, done, n, counts[HFW_FLOW_SENT], counts[HFW_FLOW_PRECOMMAND_REFUSED], counts[HFW_FLOW_REJECTED],
		done == n ? "\n" : "");
}

int cmd_run_devices(struct hfw_ctx *ctx, struct hfw_flow_options *o, cmd_flow_run run, const void *run_arg,
		    const struct hfw_devlist *list, size_t refused, const char *what, json_t *summary, int *gravest,
		    struct hfw_error *err)
{
	struct hfw_flow_result *results = NULL;
	size_t counts[HFW_FLOW_OUTCOMES], i;
	int k, ret;

	memset(counts, 0, sizeof(counts));
	*gravest = 0;
	if (!(results = calloc(list->n + 1, sizeof(*results)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	for (i = 0; i < list->n; i++)
		results[i].device = list->v[i].eui;
	if (isatty(2) && !ctx->quiet) {
		o->progress = progress;
		o->progress_arg = (void *)what;
	}
	if ((ret = run(run_arg, results, list->n, counts, err)) < 0)
		goto out;
	/* One line per device that did not get through, then the totals. */
	if (ctx->json) {
		json_t *devs = json_array(), *t = json_object(), *failed = json_array();

		for (i = 0; i < list->n && devs; i++) {
			char eui[HFW_EUI_TEXT_MAX];

			hfw_eui_format(eui, &results[i].device);
			json_array_append_new(devs, json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "device", eui, "request_id",
							      results[i].request_id, "outcome",
							      hfw_flow_outcome_name(results[i].outcome), "response_code",
							      results[i].code[0] ? results[i].code : NULL, "detail",
							      results[i].detail));
		}
		/* The devices that did not get through, by EUI and outcome (a subset of results, for scripts). */
		for (i = 0; i < list->n && failed; i++) {
			char eui[HFW_EUI_TEXT_MAX];

			if (results[i].outcome == HFW_FLOW_SENT || results[i].outcome == HFW_FLOW_DRY_RUN)
				continue;
			hfw_eui_format(eui, &results[i].device);
			json_array_append_new(failed, json_pack("{s:s,s:s,s:s,s:s?}", "device", eui, "reason",
								hfw_flow_outcome_name(results[i].outcome), "request_id",
								results[i].request_id, "response_code",
								results[i].code[0] ? results[i].code : NULL));
		}
		for (k = HFW_FLOW_SENT; k < HFW_FLOW_OUTCOMES && t; k++)
			json_object_set_new(t, hfw_flow_outcome_name((enum hfw_flow_outcome)k),
					    json_integer((json_int_t)counts[k]));
		json_object_set_new(summary, "devices", json_integer((json_int_t)(list->n + refused)));
		if (refused)
			json_object_set_new(t, "refused_at_distribution", json_integer((json_int_t)refused));
		json_object_set_new(summary, "outcomes", t);
		json_object_set_new(summary, "results", devs);
		json_object_set_new(summary, "failed", failed);
		json_incref(summary);
		if ((ret = cmd_print_json(summary, err)) < 0)
			goto out;
	} else {
		for (i = 0; i < list->n; i++) {
			char eui[HFW_EUI_TEXT_MAX];

			if (results[i].outcome == HFW_FLOW_SENT || results[i].outcome == HFW_FLOW_DRY_RUN)
				continue;
			/* The device by its EUI first, then its RequestID (if one was signed) and why; even with -q. */
			hfw_eui_format(eui, &results[i].device);
			fprintf(stderr, "hanfw: %s: %s: %s%s%s%s%s%s%s%s\n", ctx->cmd_path ? ctx->cmd_path : what, eui,
				results[i].request_id[0] ? "RequestID " : "", results[i].request_id,
				results[i].request_id[0] ? ": " : "", hfw_flow_outcome_name(results[i].outcome),
				results[i].code[0] ? " " : "", results[i].code, results[i].detail ? ": " : "",
				results[i].detail ? results[i].detail : "");
		}
		/* Devices refused at distribution were taken out before the run, but are still the operator's devices. */
		if (!ctx->quiet) {
			printf("%s: %zu devices: %zu sent, ", what, list->n + refused, counts[HFW_FLOW_SENT]);
			if (refused)
				printf("%zu refused at distribution, ", refused);
			printf("%zu dry-run, %zu pre-commands refused, %zu rejected, %zu unverified, %zu not sent, %zu unknown\n",
			       counts[HFW_FLOW_DRY_RUN], counts[HFW_FLOW_PRECOMMAND_REFUSED], counts[HFW_FLOW_REJECTED],
			       counts[HFW_FLOW_UNVERIFIED], counts[HFW_FLOW_NOT_SENT], counts[HFW_FLOW_UNKNOWN]);
		}
	}
	/* The gravest thing that happened to any device (as distribute's). */
	if (counts[HFW_FLOW_NOT_SENT] || counts[HFW_FLOW_UNKNOWN])
		*gravest = HFW_ETRANSPORT;
	else if (counts[HFW_FLOW_PRECOMMAND_REFUSED] || counts[HFW_FLOW_UNVERIFIED])
		*gravest = HFW_EVERIFY;
	else if (counts[HFW_FLOW_REJECTED])
		*gravest = HFW_EREJECTED;
	else if (refused)
		*gravest = HFW_EPARTIAL;
	ret = 0;
out:
	hfw_flow_results_release(results, list->n);
	free(results);
	return ret;
}
