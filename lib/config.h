/*
 * config.h - hanfw's configuration: a JSON file with named profiles.
 *
 * Where the file comes from: --config FILE, else $HANFW_CONFIG, else
 * ./hanfw.json, else $XDG_CONFIG_HOME/hanfw/config.json (~/.config if
 * unset); none at all is fine (defaults).  Which profile: --profile, else
 * $HANFW_PROFILE, else the file's "default_profile", else the only one.
 * Precedence for each setting: command-line flag > environment variable >
 * profile > built-in default.  Relative paths in the file are relative to
 * the file.  The schema is schemas/config.schema.json; unknown members are
 * errors, so a typo cannot silently fall back to a default.
 */
#ifndef HFW_CONFIG_H
#define HFW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HFW_CONFIG_MAX_BYTES (1024 * 1024)

/* Where a setting's value came from. */
enum hfw_origin { HFW_ORIGIN_DEFAULT, HFW_ORIGIN_FILE, HFW_ORIGIN_ENV, HFW_ORIGIN_FLAG };

/* Every setting, in the order "hanfw config show" lists them. */
enum hfw_setting {
	HFW_SET_USER_EUI,		/* the supplier's DUIS User ID (RequestID originator) */
	HFW_SET_DCC_EUI,		/* the DCC's EUI, target of non-device requests */
	HFW_SET_SCHEMA_VERSION,		/* DUIS schemaVersion */
	HFW_SET_ENDPOINT,		/* adapter base URL, e.g. https://host:8079/api/v1 */
	HFW_SET_GBCS_SIGNING_KEY,	/* supplier digital-signing key (OU=02) */
	HFW_SET_GBCS_SIGNING_CERT,
	HFW_SET_XML_SIGNING_KEY,	/* DUIS XML-signing key (OU=87) */
	HFW_SET_XML_SIGNING_CERT,
	HFW_SET_PASSPHRASE_ENV,		/* variable holding key passphrases */
	HFW_SET_TRUST_DIR,		/* certificates trusted for verification */
	HFW_SET_DCC_SIGNER_EUI,		/* the EUI the DCC's XML-signing certificate must carry (unset: any) */
	HFW_SET_TLS_CA,
	HFW_SET_TLS_CLIENT_CERT,
	HFW_SET_TLS_CLIENT_KEY,
	HFW_SET_LEDGER,			/* SQLite ledger path */
	HFW_SET_HUB_CAPACITY,		/* comms hub image capacity, bytes */
	HFW_SET_DUIS_SCHEMA,		/* XSD "verify" validates every message against */
	HFW_SET_SMKI_URL,		/* the adapter's SMKI certificate service, e.g. http://127.0.0.1:8083 */
	/* campaign run's pacing: the supplier's filed thresholds (0 or unset: no limit). */
	HFW_SET_BUDGET_11_1_PER_HOUR,	/* SR 11.1 requests an hour */
	HFW_SET_BUDGET_11_4_PER_HOUR,	/* SR 11.4 requests an hour */
	HFW_SET_BUDGET_11_3_PER_HOUR,	/* SR 11.3 requests an hour */
	HFW_SET_BUDGET_11_2_PER_HOUR,	/* SR 11.2 requests an hour */
	HFW_SET_RATE_PER_MINUTE,	/* every request, a minute */
	/* campaign run's re-drive (redrive.h): per class, re-drives allowed and the backoff's base, seconds. */
	HFW_SET_REDRIVE_HUB_ATTEMPTS,
	HFW_SET_REDRIVE_HUB_BACKOFF,
	HFW_SET_REDRIVE_OFFLINE_ATTEMPTS,
	HFW_SET_REDRIVE_OFFLINE_BACKOFF,
	HFW_SET_REDRIVE_BUSY_ATTEMPTS,
	HFW_SET_REDRIVE_BUSY_BACKOFF,
	HFW_SET_REDRIVE_SLOT_ATTEMPTS,
	HFW_SET_REDRIVE_SLOT_BACKOFF,
	HFW_SET_REDRIVE_SLEEPY_ATTEMPTS,
	HFW_SET_REDRIVE_SLEEPY_BACKOFF,
	HFW_SET_REDRIVE_BACKOFF_MAX,	/* the cap of every class's doubling backoff, seconds */
	HFW_SET_ACTIVATION_LEAD,	/* a future-dated activation is at least this many seconds ahead */
	HFW_SET_COUNT
};

enum hfw_setting_type { HFW_TYPE_STRING, HFW_TYPE_PATH, HFW_TYPE_EUI, HFW_TYPE_URL, HFW_TYPE_UINT };

struct hfw_setting_info {
	const char *key;		/* member name in a profile */
	const char *env;		/* environment variable */
	enum hfw_setting_type type;
	const char *fallback;		/* built-in default, or NULL */
	const char *help;
};

typedef struct hfw_config hfw_config;

struct hfw_config_options {
	const char *path;		/* --config, or NULL */
	const char *profile;		/* --profile, or NULL */
};

/* Load file (if any), profile and environment.  HFW_ECONFIG names the problem. */
int hfw_config_load(hfw_config **out, const struct hfw_config_options *opts,
		    struct hfw_error *err);
void hfw_config_free(hfw_config *cfg);

/* Parse config text alone: no defaults, no environment (tests, fuzzing). */
int hfw_config_parse(hfw_config **out, const char *text, size_t len, const char *name,
		     const char *profile, struct hfw_error *err);

/* Apply a command-line flag; value is validated like any other source. */
int hfw_config_set_flag(hfw_config *cfg, enum hfw_setting s, const char *value,
			struct hfw_error *err);

/* The value (NULL if unset) and where it came from. */
const char *hfw_config_get(const hfw_config *cfg, enum hfw_setting s);
enum hfw_origin hfw_config_origin(const hfw_config *cfg, enum hfw_setting s);
uint64_t hfw_config_get_uint(const hfw_config *cfg, enum hfw_setting s);

const struct hfw_setting_info *hfw_setting_info(enum hfw_setting s);
const char *hfw_origin_name(enum hfw_origin o);

/* The file that was read ("" if none) and the profile chosen ("" if none). */
const char *hfw_config_file(const hfw_config *cfg);
const char *hfw_config_profile(const hfw_config *cfg);

#endif
