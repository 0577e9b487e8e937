/* config.c - configuration file, profiles and precedence (see config.h). */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "eui.h"
#include "fileio.h"
#include "ledger.h"

static const struct hfw_setting_info settings[HFW_SET_COUNT] = {
	[HFW_SET_USER_EUI] = { "user_eui", "HANFW_USER_EUI", HFW_TYPE_EUI, NULL,
		"the supplier's DUIS User ID, originator of every RequestID" },
	[HFW_SET_DCC_EUI] = { "dcc_eui", "HANFW_DCC_EUI", HFW_TYPE_EUI, "90-B3-D5-1F-30-00-00-02",
		"the DCC's EUI, target of non-device requests (11.1, 11.4)" },
	[HFW_SET_SCHEMA_VERSION] = { "schema_version", "HANFW_SCHEMA_VERSION", HFW_TYPE_STRING, "5.4",
		"DUIS schemaVersion written on requests" },
	[HFW_SET_ENDPOINT] = { "endpoint", "HANFW_ENDPOINT", HFW_TYPE_URL, NULL,
		"DCC adapter base URL, e.g. https://127.0.0.1:8079/api/v1" },
	[HFW_SET_GBCS_SIGNING_KEY] = { "gbcs_signing_key", "HANFW_GBCS_SIGNING_KEY", HFW_TYPE_PATH, NULL,
		"supplier GBCS digital-signing private key (image trailers, pre-commands)" },
	[HFW_SET_GBCS_SIGNING_CERT] = { "gbcs_signing_cert", "HANFW_GBCS_SIGNING_CERT", HFW_TYPE_PATH, NULL,
		"its certificate (role OU=02)" },
	[HFW_SET_XML_SIGNING_KEY] = { "xml_signing_key", "HANFW_XML_SIGNING_KEY", HFW_TYPE_PATH, NULL,
		"DUIS XML-signing private key" },
	[HFW_SET_XML_SIGNING_CERT] = { "xml_signing_cert", "HANFW_XML_SIGNING_CERT", HFW_TYPE_PATH, NULL,
		"its certificate (role OU=87)" },
	[HFW_SET_PASSPHRASE_ENV] = { "passphrase_env", "HANFW_PASSPHRASE_ENV", HFW_TYPE_STRING,
		"HANFW_KEY_PASSPHRASE",
		"name of the environment variable holding passphrases of encrypted keys" },
	[HFW_SET_TRUST_DIR] = { "trust_dir", "HANFW_TRUST_DIR", HFW_TYPE_PATH, NULL,
		"trust directory: XML-signing certificates; devices' certificates in its devices/" },
	[HFW_SET_DCC_SIGNER_EUI] = { "dcc_signer_eui", "HANFW_DCC_SIGNER_EUI", HFW_TYPE_EUI, NULL,
		"EUI the DCC's XML-signing certificate must carry; unset: any role 89/137 certificate trusted" },
	[HFW_SET_TLS_CA] = { "tls_ca", "HANFW_TLS_CA", HFW_TYPE_PATH, NULL,
		"CA file or directory for the adapter's TLS certificate" },
	[HFW_SET_TLS_CLIENT_CERT] = { "tls_client_cert", "HANFW_TLS_CLIENT_CERT", HFW_TYPE_PATH, NULL,
		"client certificate for mutual TLS" },
	[HFW_SET_TLS_CLIENT_KEY] = { "tls_client_key", "HANFW_TLS_CLIENT_KEY", HFW_TYPE_PATH, NULL,
		"client key for mutual TLS" },
	[HFW_SET_LEDGER] = { "ledger", "HANFW_LEDGER", HFW_TYPE_PATH, NULL,	/* default: data_home() */
		"SQLite ledger of request IDs, requests and device states" },
	[HFW_SET_HUB_CAPACITY] = { "hub_capacity", "HANFW_HUB_CAPACITY", HFW_TYPE_UINT, "750000",
		"bytes a comms hub is sure to hold per image; larger images warn (or fail with --strict)" },
	[HFW_SET_DUIS_SCHEMA] = { "duis_schema", "HANFW_DUIS_SCHEMA", HFW_TYPE_PATH, NULL,
		"DUIS XSD (the DCC's) that verify checks every message against, any service" },
	[HFW_SET_SMKI_URL] = { "smki_url", "HANFW_SMKI_URL", HFW_TYPE_URL, NULL,
		"SMKI certificate service base URL (DCC Boxed: http://HOST:8083); inventory fetches device certificates there" },
	[HFW_SET_BUDGET_11_1_PER_HOUR] = { "budget_11_1_per_hour", "HANFW_BUDGET_11_1_PER_HOUR", HFW_TYPE_UINT, NULL,
		"campaign run: at most this many SR 11.1 requests in any hour (unset or 0: no limit)" },
	[HFW_SET_BUDGET_11_4_PER_HOUR] = { "budget_11_4_per_hour", "HANFW_BUDGET_11_4_PER_HOUR", HFW_TYPE_UINT, NULL,
		"campaign run: at most this many SR 11.4 requests in any hour (unset or 0: no limit)" },
	[HFW_SET_BUDGET_11_3_PER_HOUR] = { "budget_11_3_per_hour", "HANFW_BUDGET_11_3_PER_HOUR", HFW_TYPE_UINT, NULL,
		"campaign run: at most this many SR 11.3 requests in any hour (unset or 0: no limit)" },
	[HFW_SET_BUDGET_11_2_PER_HOUR] = { "budget_11_2_per_hour", "HANFW_BUDGET_11_2_PER_HOUR", HFW_TYPE_UINT, NULL,
		"campaign run: at most this many SR 11.2 requests in any hour (unset or 0: no limit)" },
	[HFW_SET_RATE_PER_MINUTE] = { "rate_per_minute", "HANFW_RATE_PER_MINUTE", HFW_TYPE_UINT, NULL,
		"campaign run: at most this many requests of any service in any minute (unset or 0: no limit)" },
	[HFW_SET_REDRIVE_HUB_ATTEMPTS] = { "redrive_hub_attempts", "HANFW_REDRIVE_HUB_ATTEMPTS", HFW_TYPE_UINT, "3",
		"campaign run: times a step is sent again after hub delivery failures (CSPFirmwareDeliveryStatus Failure)" },
	[HFW_SET_REDRIVE_HUB_BACKOFF] = { "redrive_hub_backoff", "HANFW_REDRIVE_HUB_BACKOFF", HFW_TYPE_UINT, "300",
		"campaign run: seconds before the first such re-drive, doubled for each next one" },
	[HFW_SET_REDRIVE_OFFLINE_ATTEMPTS] = { "redrive_offline_attempts", "HANFW_REDRIVE_OFFLINE_ATTEMPTS", HFW_TYPE_UINT, "3",
		"campaign run: times a step is sent again after devices that could not be reached (E20, E21, FileTransferFailure)" },
	[HFW_SET_REDRIVE_OFFLINE_BACKOFF] = { "redrive_offline_backoff", "HANFW_REDRIVE_OFFLINE_BACKOFF", HFW_TYPE_UINT, "900",
		"campaign run: seconds before the first such re-drive, doubled for each next one" },
	[HFW_SET_REDRIVE_BUSY_ATTEMPTS] = { "redrive_busy_attempts", "HANFW_REDRIVE_BUSY_ATTEMPTS", HFW_TYPE_UINT, "5",
		"campaign run: times a step is sent again after devices with another request in progress (OtherRequestInProgressList)" },
	[HFW_SET_REDRIVE_BUSY_BACKOFF] = { "redrive_busy_backoff", "HANFW_REDRIVE_BUSY_BACKOFF", HFW_TYPE_UINT, "60",
		"campaign run: seconds before the first such re-drive, doubled for each next one" },
	[HFW_SET_REDRIVE_SLOT_ATTEMPTS] = { "redrive_slot_attempts", "HANFW_REDRIVE_SLOT_ATTEMPTS", HFW_TYPE_UINT, "3",
		"campaign run: times a step is sent again after images discarded for another in the hub's slot (FirmwareImageDiscarded), once the other is settled" },
	[HFW_SET_REDRIVE_SLOT_BACKOFF] = { "redrive_slot_backoff", "HANFW_REDRIVE_SLOT_BACKOFF", HFW_TYPE_UINT, "600",
		"campaign run: seconds before the first such re-drive, doubled for each next one" },
	[HFW_SET_REDRIVE_SLEEPY_ATTEMPTS] = { "redrive_sleepy_attempts", "HANFW_REDRIVE_SLEEPY_ATTEMPTS", HFW_TYPE_UINT, "4",
		"campaign run: times a step is sent again after unreachable GSME, PPMID and IHD devices (sleepy or switched off)" },
	[HFW_SET_REDRIVE_SLEEPY_BACKOFF] = { "redrive_sleepy_backoff", "HANFW_REDRIVE_SLEEPY_BACKOFF", HFW_TYPE_UINT, "3600",
		"campaign run: seconds before the first such re-drive, doubled for each next one" },
	[HFW_SET_REDRIVE_BACKOFF_MAX] = { "redrive_backoff_max", "HANFW_REDRIVE_BACKOFF_MAX", HFW_TYPE_UINT, "21600",
		"campaign run: the longest wait before any re-drive, seconds" },
	[HFW_SET_ACTIVATION_LEAD] = { "activation_lead", "HANFW_ACTIVATION_LEAD", HFW_TYPE_UINT, "900",
		"campaign run: an activation window's SR 11.3 is dated at least this many seconds ahead" },
};

struct hfw_config {
	char *value[HFW_SET_COUNT];
	enum hfw_origin origin[HFW_SET_COUNT];
	char *file;
	char *profile;
	char *base_dir;		/* directory of the file, for relative paths */
};

const struct hfw_setting_info *hfw_setting_info(enum hfw_setting s)
{
	return &settings[s];
}

const char *hfw_origin_name(enum hfw_origin o)
{
	static const char *const names[] = { "default", "file", "environment", "flag" };

	return names[o];
}

/* Validate a value for a setting, and normalise it (EUIs to canonical form). */
static int normalise(char **out, enum hfw_setting s, const char *value, const char *source,
		     const char *base_dir, struct hfw_error *err)
{
	const struct hfw_setting_info *si = &settings[s];
	char buf[HFW_EUI_TEXT_MAX];
	struct hfw_eui eui;
	char *end;
	size_t n;

	*out = NULL;
	switch (si->type) {
	case HFW_TYPE_EUI:
		if (hfw_eui_parse(&eui, value, si->key, err) < 0)
			return hfw_error_set(err, HFW_ECONFIG, "%s: %s '%.40s' is not an EUI-64 (XX-XX-XX-XX-XX-XX-XX-XX)",
					     source, si->key, value);
		hfw_eui_format(buf, &eui);
		value = buf;
		break;
	case HFW_TYPE_URL:
		if (strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0)
			return hfw_error_set(err, HFW_ECONFIG, "%s: %s '%.80s' is not an http:// or https:// URL",
					     source, si->key, value);
		break;
	case HFW_TYPE_UINT:
		errno = 0;
		(void)strtoull(value, &end, 10);
		if (!*value || *end || errno || value[0] == '-')
			return hfw_error_set(err, HFW_ECONFIG, "%s: %s '%.40s' is not a whole number",
					     source, si->key, value);
		break;
	case HFW_TYPE_PATH:
		if (!*value)
			return hfw_error_set(err, HFW_ECONFIG, "%s: %s is empty", source, si->key);
		/* A PostgreSQL ledger is a URI, not a path relative to the file that names it. */
		if (base_dir && value[0] != '/' && !(s == HFW_SET_LEDGER && hfw_ledger_is_uri(value))) {
			n = strlen(base_dir) + strlen(value) + 2;
			if (!(*out = malloc(n)))
				return hfw_error_oom(err);
			snprintf(*out, n, "%s/%s", base_dir, value);
			return 0;
		}
		break;
	case HFW_TYPE_STRING:
		break;
	}
	if (!(*out = strdup(value)))
		return hfw_error_oom(err);
	return 0;
}

static int set(hfw_config *cfg, enum hfw_setting s, const char *value, enum hfw_origin origin,
	       const char *source, const char *base_dir, struct hfw_error *err)
{
	char *v;
	int ret;

	if ((ret = normalise(&v, s, value, source, base_dir, err)) < 0)
		return ret;
	free(cfg->value[s]);
	cfg->value[s] = v;
	cfg->origin[s] = origin;
	return 0;
}

int hfw_config_set_flag(hfw_config *cfg, enum hfw_setting s, const char *value,
			struct hfw_error *err)
{
	return set(cfg, s, value, HFW_ORIGIN_FLAG, "command line", NULL, err);
}

static int apply_profile(hfw_config *cfg, json_t *prof, struct hfw_error *err)
{
	const char *key;
	json_t *v;
	char source[512], num[32];
	int s, ret;

	snprintf(source, sizeof(source), "config '%s' profile '%s'", cfg->file, cfg->profile);
	if (!json_is_object(prof))
		return hfw_error_set(err, HFW_ECONFIG, "%s is not an object", source);
	json_object_foreach(prof, key, v) {
		const char *text;

		for (s = 0; s < HFW_SET_COUNT; s++)
			if (strcmp(settings[s].key, key) == 0)
				break;
		if (s == HFW_SET_COUNT)
			return hfw_error_set(err, HFW_ECONFIG, "%s: unknown setting '%.60s'", source, key);
		if (settings[s].type == HFW_TYPE_UINT) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return hfw_error_set(err, HFW_ECONFIG, "%s: %s must be a whole number",
						     source, key);
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			text = num;
		} else {
			if (!json_is_string(v))
				return hfw_error_set(err, HFW_ECONFIG, "%s: %s must be a string", source, key);
			text = json_string_value(v);
		}
		if ((ret = set(cfg, (enum hfw_setting)s, text, HFW_ORIGIN_FILE, source,
			       cfg->base_dir, err)) < 0)
			return ret;
	}
	return 0;
}

/* Parse config text named path (for messages and relative paths) into cfg. */
static int parse_text(hfw_config *cfg, const char *text, size_t len, const char *path,
		      const char *want_profile, struct hfw_error *err)
{
	json_error_t jerr;
	json_t *root = NULL, *profiles, *prof, *v;
	const char *key, *slash;
	int ret;

	free(cfg->file);
	free(cfg->base_dir);
	cfg->base_dir = NULL;
	if (!(cfg->file = strdup(path)))
		goto oom;
	slash = strrchr(path, '/');
	if (!(cfg->base_dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path))
				    : strdup(".")))
		goto oom;
	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr))) {
		ret = hfw_error_set(err, HFW_ECONFIG, "config '%s': line %d: %s", path, jerr.line, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		ret = hfw_error_set(err, HFW_ECONFIG, "config '%s' is not a JSON object", path);
		goto out;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "default_profile") && strcmp(key, "profiles") && strcmp(key, "$schema")) {
			ret = hfw_error_set(err, HFW_ECONFIG, "config '%s': unknown member '%.60s' (expected default_profile, profiles)",
					    path, key);
			goto out;
		}
	}
	profiles = json_object_get(root, "profiles");
	if (profiles && !json_is_object(profiles)) {
		ret = hfw_error_set(err, HFW_ECONFIG, "config '%s': profiles is not an object", path);
		goto out;
	}
	if (!want_profile) {
		v = json_object_get(root, "default_profile");
		if (v && !json_is_string(v)) {
			ret = hfw_error_set(err, HFW_ECONFIG, "config '%s': default_profile is not a string", path);
			goto out;
		}
		if (v)
			want_profile = json_string_value(v);
		else if (profiles && json_object_size(profiles) == 1)
			want_profile = json_object_iter_key(json_object_iter(profiles));
	}
	if (!want_profile) {
		if (profiles && json_object_size(profiles) > 1) {
			ret = hfw_error_set(err, HFW_ECONFIG,
					    "config '%s' has several profiles and no default_profile: choose one with --profile",
					    path);
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (!profiles || !(prof = json_object_get(profiles, want_profile))) {
		ret = hfw_error_set(err, HFW_ECONFIG, "config '%s' has no profile '%.60s'", path, want_profile);
		goto out;
	}
	free(cfg->profile);
	if (!(cfg->profile = strdup(want_profile)))
		goto oom;
	ret = apply_profile(cfg, prof, err);
	goto out;
oom:
	ret = hfw_error_oom(err);
out:
	json_decref(root);
	return ret;
}

static int load_file(hfw_config *cfg, const char *path, const char *want_profile,
		     struct hfw_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	if ((ret = hfw_file_read(&data, &len, path, HFW_CONFIG_MAX_BYTES, "config", err)) < 0)
		ret = err->code = HFW_ECONFIG;
	else
		ret = parse_text(cfg, (const char *)data, len, path, want_profile, err);
	free(data);
	return ret;
}

int hfw_config_parse(hfw_config **out, const char *text, size_t len, const char *name,
		     const char *profile, struct hfw_error *err)
{
	hfw_config *cfg = calloc(1, sizeof(*cfg));
	int ret;

	*out = NULL;
	if (!cfg)
		return hfw_error_oom(err);
	if ((ret = parse_text(cfg, text, len, name, profile, err)) < 0) {
		hfw_config_free(cfg);
		return ret;
	}
	*out = cfg;
	return 0;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/*
 * The ledger's default home: $XDG_DATA_HOME/hanfw/ledger.sqlite, else
 * ~/.local/share/hanfw/ledger.sqlite; never the current directory, where
 * each run from elsewhere would start a new, silent ledger.  "" when
 * neither variable is set (then the ledger must be configured).
 */
static void default_ledger(char *out, size_t size)
{
	const char *env;

	if ((env = getenv("XDG_DATA_HOME")) && env[0] == '/')
		snprintf(out, size, "%s/hanfw/ledger.sqlite", env);
	else if ((env = getenv("HOME")) && *env)
		snprintf(out, size, "%s/.local/share/hanfw/ledger.sqlite", env);
	else
		out[0] = '\0';
}

int hfw_config_load(hfw_config **out, const struct hfw_config_options *opts,
		    struct hfw_error *err)
{
	hfw_config *cfg = NULL;
	const char *path = opts ? opts->path : NULL, *env;
	const char *profile = opts ? opts->profile : NULL;
	char xdg[4096];
	int s, ret = 0;

	*out = NULL;
	if (!(cfg = calloc(1, sizeof(*cfg))))
		return hfw_error_oom(err);
	for (s = 0; s < HFW_SET_COUNT; s++)
		if (settings[s].fallback &&
		    (ret = set(cfg, (enum hfw_setting)s, settings[s].fallback, HFW_ORIGIN_DEFAULT,
			       "default", NULL, err)) < 0)
			goto out;
	default_ledger(xdg, sizeof(xdg));
	if (xdg[0] && (ret = set(cfg, HFW_SET_LEDGER, xdg, HFW_ORIGIN_DEFAULT, "default", NULL, err)) < 0)
		goto out;
	if (!profile && (env = getenv("HANFW_PROFILE")) && *env)
		profile = env;
	if (!path && (env = getenv("HANFW_CONFIG")) && *env)
		path = env;
	if (!path) {
		if (exists("hanfw.json")) {
			path = "hanfw.json";
		} else {
			if ((env = getenv("XDG_CONFIG_HOME")) && *env)
				snprintf(xdg, sizeof(xdg), "%s/hanfw/config.json", env);
			else if ((env = getenv("HOME")) && *env)
				snprintf(xdg, sizeof(xdg), "%s/.config/hanfw/config.json", env);
			else
				xdg[0] = '\0';
			if (xdg[0] && exists(xdg))
				path = xdg;
		}
	}
	if (path && (ret = load_file(cfg, path, profile, err)) < 0)
		goto out;
	if (!path && profile) {
		ret = hfw_error_set(err, HFW_ECONFIG, "profile '%.60s' asked for, but there is no config file",
				    profile);
		goto out;
	}
	for (s = 0; s < HFW_SET_COUNT; s++) {
		char source[64];

		if (!(env = getenv(settings[s].env)) || !*env)
			continue;
		snprintf(source, sizeof(source), "environment %s", settings[s].env);
		if ((ret = set(cfg, (enum hfw_setting)s, env, HFW_ORIGIN_ENV, source, NULL, err)) < 0)
			goto out;
	}
	*out = cfg;
	cfg = NULL;
out:
	hfw_config_free(cfg);
	return ret;
}

void hfw_config_free(hfw_config *cfg)
{
	int s;

	if (!cfg)
		return;
	for (s = 0; s < HFW_SET_COUNT; s++)
		free(cfg->value[s]);
	free(cfg->file);
	free(cfg->profile);
	free(cfg->base_dir);
	free(cfg);
}

const char *hfw_config_get(const hfw_config *cfg, enum hfw_setting s)
{
	return cfg->value[s];
}

enum hfw_origin hfw_config_origin(const hfw_config *cfg, enum hfw_setting s)
{
	return cfg->origin[s];
}

uint64_t hfw_config_get_uint(const hfw_config *cfg, enum hfw_setting s)
{
	return cfg->value[s] ? strtoull(cfg->value[s], NULL, 10) : 0;
}

const char *hfw_config_file(const hfw_config *cfg)
{
	return cfg->file ? cfg->file : "";
}

const char *hfw_config_profile(const hfw_config *cfg)
{
	return cfg->profile ? cfg->profile : "";
}
