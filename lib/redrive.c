/* redrive.c - the re-drive policy of a campaign run (see redrive.h). */
#include "redrive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const class_names[HFW_REDRIVE_CLASSES] = {
	"none", "terminal", "hub", "offline", "busy", "slot", "sleepy",
};

const char *hfw_redrive_class_name(enum hfw_redrive_class c)
{
	return (unsigned)c < HFW_REDRIVE_CLASSES ? class_names[c] : "?";
}

/* Each class's two settings (config.h), in class order from HFW_REDRIVE_HUB. */
static const enum hfw_setting class_settings[][2] = {
	{ HFW_SET_REDRIVE_HUB_ATTEMPTS, HFW_SET_REDRIVE_HUB_BACKOFF },
	{ HFW_SET_REDRIVE_OFFLINE_ATTEMPTS, HFW_SET_REDRIVE_OFFLINE_BACKOFF },
	{ HFW_SET_REDRIVE_BUSY_ATTEMPTS, HFW_SET_REDRIVE_BUSY_BACKOFF },
	{ HFW_SET_REDRIVE_SLOT_ATTEMPTS, HFW_SET_REDRIVE_SLOT_BACKOFF },
	{ HFW_SET_REDRIVE_SLEEPY_ATTEMPTS, HFW_SET_REDRIVE_SLEEPY_BACKOFF },
};

/* A whole-number setting, else its documented default (the settings table's fallback). */
static uint64_t setting(const hfw_config *cfg, enum hfw_setting s)
{
	const char *v = cfg ? hfw_config_get(cfg, s) : NULL;

	if (!v)
		v = hfw_setting_info(s)->fallback;
	return v ? strtoull(v, NULL, 10) : 0;
}

void hfw_redrive_policy_load(struct hfw_redrive_policy *p, const hfw_config *cfg)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < sizeof(class_settings) / sizeof(class_settings[0]); i++) {
		p->c[HFW_REDRIVE_HUB + i].attempts = setting(cfg, class_settings[i][0]);
		p->c[HFW_REDRIVE_HUB + i].backoff_ms = setting(cfg, class_settings[i][1]) * 1000;
	}
	p->backoff_max_ms = setting(cfg, HFW_SET_REDRIVE_BACKOFF_MAX) * 1000;
}

int hfw_redrive_sleepy_type(const char *type_name)
{
	return type_name && (!strcmp(type_name, "GSME") || !strcmp(type_name, "PPMID") || !strcmp(type_name, "IHD"));
}

/* E20 cannot communicate with the device, E21 no response from it (DUIS response codes). */
static int no_contact(const char *code)
{
	return code && (!strcmp(code, "E20") || !strcmp(code, "E21"));
}

/* Campaign states (campaign.h) that are failures. */
static int failed_state(const char *state)
{
	static const char *const failures[] = {
		"distribution_refused", "hub_delivery_failed", "image_discarded", "hardware_mismatch", "transfer_failed",
		"hash_mismatch", "verification_failed", "distribution_failed", "activation_not_sent", "activation_failed",
		"version_mismatch", "version_read_failed", NULL,
	};
	size_t i;

	for (i = 0; state && failures[i]; i++)
		if (!strcmp(state, failures[i]))
			return 1;
	return 0;
}

enum hfw_redrive_class hfw_redrive_classify(const char *state, const char *reason, const char *cause, int sleepy)
{
	enum hfw_redrive_class offline = sleepy ? HFW_REDRIVE_SLEEPY : HFW_REDRIVE_OFFLINE;

	if (!failed_state(state))
		return HFW_REDRIVE_NONE;
	/* FirmwareDistributionFailure says only that it failed: the request's first failure says how. */
	if (!strcmp(state, "distribution_failed")) {
		/* Alone (its cause may still be on its way: alerts come in any order), a failure at the hub. */
		if (!cause || !strcmp(cause, "distribution_failed"))
			return HFW_REDRIVE_HUB;
		state = cause;
	}
	if (!strcmp(state, "hub_delivery_failed"))
		return HFW_REDRIVE_HUB;
	if (!strcmp(state, "transfer_failed"))
		return offline;
	if (!strcmp(state, "image_discarded"))
		return HFW_REDRIVE_SLOT;
	if (!strcmp(state, "distribution_refused"))
		return reason && !strncmp(reason, "other_request_in_progress", 25) ? HFW_REDRIVE_BUSY : HFW_REDRIVE_TERMINAL;
	if ((!strcmp(state, "activation_failed") || !strcmp(state, "version_read_failed")) && no_contact(reason))
		return offline;
	return HFW_REDRIVE_TERMINAL;
}

uint64_t hfw_redrive_backoff_ms(const struct hfw_redrive_policy *p, enum hfw_redrive_class c, uint64_t n)
{
	uint64_t ms = (unsigned)c < HFW_REDRIVE_CLASSES ? p->c[c].backoff_ms : 0;

	for (; n > 0 && ms < p->backoff_max_ms; n--)
		ms = ms > UINT64_MAX / 2 ? UINT64_MAX : 2 * ms;
	return p->backoff_max_ms && ms > p->backoff_max_ms ? p->backoff_max_ms : ms;
}

enum hfw_redrive_verdict hfw_redrive_due(const struct hfw_redrive_policy *p, enum hfw_redrive_class c, uint64_t n,
					 int64_t seen_ms, int64_t now_ms, int64_t *due_ms)
{
	uint64_t wait;

	*due_ms = seen_ms;
	if (c < HFW_REDRIVE_HUB || c >= HFW_REDRIVE_CLASSES || n >= p->c[c].attempts)
		return HFW_REDRIVE_EXHAUSTED;
	wait = hfw_redrive_backoff_ms(p, c, n);
	*due_ms = wait > (uint64_t)(INT64_MAX - seen_ms) ? INT64_MAX : seen_ms + (int64_t)wait;
	return now_ms >= *due_ms ? HFW_REDRIVE_DUE : HFW_REDRIVE_WAIT;
}

void hfw_redrive_reason(char *out, size_t size, enum hfw_redrive_class c, const char *state, const char *reason,
			uint64_t n)
{
	if (c < HFW_REDRIVE_HUB || c >= HFW_REDRIVE_CLASSES)
		snprintf(out, size, "%s%s%s", state ? state : "failed", reason ? ": " : "", reason ? reason : "");
	else
		snprintf(out, size, "redrive_exhausted (%s: %s%s%s, re-driven %llu time%s)", hfw_redrive_class_name(c),
			 state ? state : "failed", reason ? " " : "", reason ? reason : "", (unsigned long long)n,
			 n == 1 ? "" : "s");
}
