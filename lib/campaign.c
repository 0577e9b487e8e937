/* campaign.c - what messages say about devices, and where each device stands (see campaign.h). */
#include "campaign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eui.h"

/* ---- events from a decoded message ---- */

static const char *str(const json_t *j, const char *path)
{
	char buf[160], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p && j; p = strtok_r(NULL, ".", &save))
		j = json_object_get(j, p);
	return json_is_string(j) ? json_string_value(j) : NULL;
}

static int add(struct hfw_event_list *l, const char *device, const char *request_id, const char *event,
	       const char *detail, const char *at, struct hfw_error *err)
{
	if (!device || !*device)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct hfw_ledger_event *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return hfw_error_oom(err);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct hfw_ledger_event){ device, request_id, event, detail, at };
	return 0;
}

/* The target of a RequestID (its second field), kept in the list's own strings. */
static const char *target_of(struct hfw_event_list *l, const char *request_id)
{
	const char *a = request_id ? strchr(request_id, ':') : NULL, *b = a ? strchr(a + 1, ':') : NULL;
	size_t n = b ? (size_t)(b - a - 1) : 0;

	if (!n || n > 23)
		return NULL;
	/* One target per message: a fixed place, so earlier pointers stay valid. */
	if (!l->strings && !(l->strings = malloc(32)))
		return NULL;
	memcpy(l->strings, a + 1, n);
	l->strings[n] = '\0';
	return l->strings;
}

void hfw_campaign_kind(char *out, size_t size, const json_t *d)
{
	const char *body = str(d, "body");
	const char *key;
	json_t *v;

	if (body && !strcmp(body, "DCCAlertMessage")) {
		json_object_foreach(json_object_get(json_object_get(d, "message"), "DCCAlert"), key, v) {
			snprintf(out, size, "DCCAlertMessage/%s", key);
			return;
		}
	}
	snprintf(out, size, "%s", body ? body : "unknown");
}

int hfw_campaign_events(struct hfw_event_list *l, const json_t *d, struct hfw_error *err)
{
	const json_t *msg = json_object_get(d, "message");
	const char *body = str(d, "body"), *rid = str(d, "request_id"), *code = str(d, "response_code");
	const char *at = str(d, "response_datetime");
	int ret = 0;

	l->n = 0;
	if (!body)
		return 0;
	if (!strcmp(body, "ResponseMessage")) {
		const char *sr = str(msg, "ServiceReference");
		const char *device = str(msg, "GBCSPayload.originator");
		const json_t *fd = json_object_get(msg, "FutureDatedDeviceAlertMessage");

		if (!device)
			device = fd ? str(fd, "GBCSPayload.originator") : NULL;
		if (!device)
			device = target_of(l, rid);
		if (code && code[0] == 'E')
			return add(l, device, rid, sr && !strcmp(sr, "11.2") ? "version_read_failed" : "activation_failed", code,
				   at, err);
		if (sr && !strcmp(sr, "11.3")) {
			const char *outcome = str(msg, "GBCSPayload.content.outcome");

			if (fd) {
				const char *o = str(fd, "GBCSPayload.content.execution_outcome.outcome");

				return add(l, device, rid, o && !strcmp(o, "success") ? "activated" : "activation_failed",
					   o && !strcmp(o, "success") ? str(fd, "GBCSPayload.content.execution_outcome.firmware_version")
								      : o, at, err);
			}
			if (!outcome)
				return 0;
			if (!strcmp(outcome, "accepted"))
				return add(l, device, rid, "activation_scheduled", NULL, at, err);
			return add(l, device, rid, !strcmp(outcome, "success") ? "activated" : "activation_failed",
				   !strcmp(outcome, "success") ? str(msg, "GBCSPayload.content.firmware_version") : outcome, at, err);
		}
		if (sr && !strcmp(sr, "11.2")) {
			const char *v = str(msg, "GBCSPayload.content.firmware_version");

			return v ? add(l, device, rid, "version_read", v, at, err) : 0;
		}
		return 0;
	}
	if (!strcmp(body, "DeviceAlertMessage")) {
		const char *alert = str(msg, "AlertCode"), *device = str(msg, "GBCSPayload.originator");

		if (alert && !strcasecmp(alert, "8F72"))
			return add(l, device, NULL, "verified_hash", str(msg, "GBCSPayload.content.calculated_hash"), at, err);
		if (alert && !strcasecmp(alert, "8F1C"))
			return add(l, device, NULL, "verification_failed", "8F1C", at, err);
		return 0;
	}
	if (!strcmp(body, "DCCAlertMessage")) {
		const json_t *a = json_object_get(msg, "DCCAlert"), *e;

		if ((e = json_object_get(a, "CSPFirmwareDeliveryStatus"))) {
			const char *s = str(e, "CommsHubTransferStatus");

			return add(l, str(e, "TargetDeviceID"), str(e, "UpdateFirmwareRequestID"),
				   s && !strcmp(s, "Success") ? "delivered_to_hub" : "hub_delivery_failed", s, at, err);
		}
		if ((e = json_object_get(json_object_get(a, "CommsHubAlert"), "FirmwareTransferAlert"))) {
			static const struct { const char *code, *event; } map[] = {
				{ "FileTransferSuccess", "transferred" }, { "FirmwareImageDiscarded", "image_discarded" },
				{ "HardwareVersionMismatch", "hardware_mismatch" }, { "FileTransferFailure", "transfer_failed" },
			};
			const char *s = str(e, "TransferResponseCode");
			size_t i;

			for (i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
				if (!strcmp(s, map[i].code))
					return add(l, str(e, "OtherDeviceID"), str(e, "UpdateFirmwareRequestID"), map[i].event,
						   str(e, "FirmwareVersion"), at, err);
			return 0;
		}
		if ((e = json_object_get(a, "PPMIDAlert"))) {
			const char *s = str(e, "PPMIDFirmwareUpgradeAlert.ActivateImageResultCode");

			return add(l, str(e, "DeviceID"), NULL, s && !strcmp(s, "ActivationSuccess") ? "activated" : "activation_failed",
				   s && !strcmp(s, "ActivationSuccess") ? str(e, "PPMIDFirmwareUpgradeAlert.FirmwareVersion") : s,
				   at, err);
		}
		if ((e = json_object_get(a, "FirmwareDistributionFailure"))) {
			/* MeterIDs: one or several EUIs; each is kept in the JSON as given, so split a copy. */
			const char *ids = str(e, "MeterIDs");
			char *copy, *p, *save = NULL;

			if (!ids)
				return 0;
			if (!(copy = strdup(ids)))
				return hfw_error_oom(err);
			free(l->strings);
			l->strings = copy;	/* the events point into it */
			for (p = strtok_r(copy, ", ", &save); p && ret == 0; p = strtok_r(NULL, ", ", &save))
				ret = add(l, p, str(e, "UpdateFirmwareRequestID"), "distribution_failed", NULL, at, err);
			return ret;
		}
		if ((e = json_object_get(a, "FirmwareVersionMismatch")))
			return add(l, str(e, "DeviceID"), NULL, "version_mismatch", str(e, "FirmwareVersionDevice"), at, err);
	}
	return 0;
}

void hfw_event_list_release(struct hfw_event_list *l)
{
	free(l->v);
	free(l->strings);
	memset(l, 0, sizeof(*l));
}

/* ---- where each device stands ---- */

/* The lifecycle: each state's stage, and whether it is a failure. */
static const struct stage {
	const char *state;
	int rank, failed;
} stages[] = {
	{ "distribution_requested", 1, 0 },
	{ "distribution_refused", 2, 1 },
	{ "accepted", 2, 0 },
	{ "delivered_to_hub", 3, 0 },
	{ "hub_delivery_failed", 3, 1 },
	{ "transferred", 4, 0 },
	{ "image_discarded", 4, 1 },
	{ "hardware_mismatch", 4, 1 },
	{ "transfer_failed", 4, 1 },
	{ "verified", 5, 0 },
	{ "hash_mismatch", 5, 1 },
	{ "verification_failed", 5, 1 },
	{ "distribution_failed", 5, 1 },
	{ "activation_requested", 6, 0 },
	{ "activation_scheduled", 6, 0 },
	{ "activation_not_sent", 6, 1 },
	{ "activated", 7, 0 },
	{ "activation_failed", 7, 1 },
	{ "version_confirmed", 8, 0 },
	{ "version_mismatch", 8, 1 },
};
#define NSTAGES (sizeof(stages) / sizeof(stages[0]))

int hfw_campaign_state_valid(const char *state)
{
	size_t i;

	for (i = 0; i < NSTAGES; i++)
		if (!strcmp(stages[i].state, state))
			return 1;
	return 0;
}

static const struct stage *stage_of(const char *state)
{
	size_t i;

	for (i = 0; i < NSTAGES; i++)
		if (!strcmp(stages[i].state, state))
			return &stages[i];
	return NULL;
}

struct device {
	uint64_t key;			/* EUI as a number; 0: empty slot */
	char eui[HFW_EUI_TEXT_MAX];
	const struct stage *stage;
	char reason[48];
	char at[40];
	char version[16];		/* the campaign's firmware version */
	char image[65];			/* the campaign's image hash */
	char distribution[HFW_REQUEST_ID_MAX], activation[HFW_REQUEST_ID_MAX];
};

struct status {
	struct device *v;
	size_t cap, n;
	struct device **order;		/* in order of first appearance */
};

static uint64_t key_of(const char *eui)
{
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct hfw_eui e;
	uint64_t k = 0;
	int i;

	if (hfw_eui_parse(&e, eui, "device", &ignored) < 0)
		return 0;
	for (i = 0; i < 8; i++)
		k = k << 8 | e.b[i];
	return k ? k : 1;
}

static struct device *find(struct status *s, const char *eui, int create)
{
	uint64_t k = key_of(eui);
	size_t i;

	if (!k)
		return NULL;
	if (create && 2 * (s->n + 1) > s->cap) {
		struct status bigger = { NULL, s->cap ? 2 * s->cap : 1024, 0, NULL };
		size_t j;

		if (!(bigger.v = calloc(bigger.cap, sizeof(*bigger.v))) ||
		    !(bigger.order = calloc(bigger.cap / 2, sizeof(*bigger.order)))) {
			free(bigger.v);
			free(bigger.order);
			return NULL;
		}
		for (j = 0; j < s->n; j++) {
			struct device *d = s->order[j];

			i = (size_t)(d->key * 0x9E3779B97F4A7C15ull >> 17) & (bigger.cap - 1);
			while (bigger.v[i].key)
				i = (i + 1) & (bigger.cap - 1);
			bigger.v[i] = *d;
			bigger.order[bigger.n++] = &bigger.v[i];
		}
		free(s->v);
		free(s->order);
		*s = bigger;
	}
	if (!s->cap)
		return NULL;
	i = (size_t)(k * 0x9E3779B97F4A7C15ull >> 17) & (s->cap - 1);
	while (s->v[i].key && s->v[i].key != k)
		i = (i + 1) & (s->cap - 1);
	if (s->v[i].key)
		return &s->v[i];
	if (!create)
		return NULL;
	s->v[i].key = k;
	snprintf(s->v[i].eui, sizeof(s->v[i].eui), "%s", eui);
	s->order[s->n++] = &s->v[i];
	return &s->v[i];
}

/* Move a device on: to a later stage, or at the same stage to what was heard last. */
static void advance(struct device *d, const char *state, const char *reason, const char *at)
{
	const struct stage *st = stage_of(state);

	if (!st || (d->stage && st->rank < d->stage->rank))
		return;
	d->stage = st;
	snprintf(d->reason, sizeof(d->reason), "%s", st->failed && reason ? reason : "");
	snprintf(d->at, sizeof(d->at), "%s", at ? at : "");
}

static int on_row(void *arg, const struct hfw_ledger_row *r)
{
	struct status *s = arg;
	int is_event = !strcmp(r->source, "event");
	struct device *d = find(s, r->device, !is_event);

	if (!d)
		return is_event ? 0 : -1;
	if (!strcmp(r->source, "distribute")) {
		snprintf(d->distribution, sizeof(d->distribution), "%s", r->request_id);
		snprintf(d->version, sizeof(d->version), "%s", r->firmware_version ? r->firmware_version : "");
		snprintf(d->image, sizeof(d->image), "%s", r->image_sha256 ? r->image_sha256 : "");
		if (!strcmp(r->state, "accepted"))
			advance(d, "accepted", NULL, r->at);
		else if (!strcmp(r->state, "pending") || !strcmp(r->state, "dry-run"))
			advance(d, "distribution_requested", NULL, r->at);
		else
			advance(d, "distribution_refused", r->state, r->at);
	} else if (!strcmp(r->source, "activate")) {
		if (!strcmp(r->state, "dry-run"))
			return 0;
		snprintf(d->activation, sizeof(d->activation), "%s", r->request_id);
		if (!strcmp(r->state, "sent") || !strcmp(r->state, "transform_signed"))
			advance(d, "activation_requested", NULL, r->at);
		else
			advance(d, "activation_not_sent", r->state, r->at);
	} else if (is_event) {
		/* An event that names a request must name one of this device's in the campaign. */
		if (r->request_id && strcmp(r->request_id, d->distribution) && strcmp(r->request_id, d->activation) &&
		    strcmp(r->state, "version_read") && strcmp(r->state, "version_read_failed"))
			return 0;
		if (!strcmp(r->state, "verified_hash")) {
			/* The device's hash against the image's: only a match is this campaign's verification. */
			if (r->detail && d->image[0] && !strcasecmp(r->detail, d->image))
				advance(d, "verified", NULL, r->at);
			else if (d->stage && d->stage->rank >= 4 && d->stage->rank < 6)
				advance(d, "hash_mismatch", "device computed another hash", r->at);
		} else if (!strcmp(r->state, "version_read")) {
			if (d->version[0] && r->detail && !strcasecmp(r->detail, d->version))
				advance(d, "version_confirmed", NULL, r->at);
			else
				advance(d, "version_mismatch", r->detail, r->at);
		} else if (!strcmp(r->state, "version_read_failed")) {
			/* Nothing learnt about the version. */
		} else if (!strcmp(r->state, "activated") && d->version[0] && r->detail &&
			   strcasecmp(r->detail, d->version) != 0) {
			advance(d, "activation_failed", "runs another version", r->at);
		} else {
			advance(d, r->state, r->detail, r->at);
		}
	}
	return 0;
}

int hfw_campaign_status(json_t **out, hfw_ledger *l, const char *campaign, const char *device, int *all_at_goal,
			struct hfw_error *err)
{
	struct status s = { NULL, 0, 0, NULL };
	json_t *o = NULL, *states = NULL, *reasons = NULL, *devices = NULL;
	size_t i, at_goal = 0;
	int ret;

	*out = NULL;
	*all_at_goal = 0;
	if ((ret = hfw_ledger_each_campaign_row(l, campaign, device, on_row, &s, err)) != 0) {
		if (ret > 0 || ret == -1)
			ret = hfw_error_oom(err);
		goto out;
	}
	if (!(states = json_object()) || !(reasons = json_object()) || !(devices = json_array())) {
		ret = hfw_error_oom(err);
		goto out;
	}
	for (i = 0; i < NSTAGES; i++)
		json_object_set_new(states, stages[i].state, json_integer(0));
	for (i = 0; i < s.n; i++) {
		struct device *d = s.order[i];
		const char *state = d->stage ? d->stage->state : "distribution_requested";
		json_t *count = json_object_get(states, state);

		json_integer_set(count, json_integer_value(count) + 1);
		if (d->reason[0]) {
			json_t *r = json_object_get(reasons, d->reason);

			if (r)
				json_integer_set(r, json_integer_value(r) + 1);
			else
				json_object_set_new(reasons, d->reason, json_integer(1));
		}
		if (d->stage && !d->stage->failed && d->stage->rank >= 7)
			at_goal++;
		json_array_append_new(devices, json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s?}", "device", d->eui, "state", state,
							 "reason", d->reason[0] ? d->reason : NULL, "distribution_request",
							 d->distribution[0] ? d->distribution : NULL, "activation_request",
							 d->activation[0] ? d->activation : NULL, "at", d->at[0] ? d->at : NULL));
	}
	if (!(o = json_pack("{s:s?,s:I,s:I,s:o,s:o,s:o}", "campaign", campaign, "devices", (json_int_t)s.n, "at_goal",
			    (json_int_t)at_goal, "states", states, "reasons", reasons, "device_states", devices))) {
		states = reasons = devices = NULL;
		ret = hfw_error_oom(err);
		goto out;
	}
	states = reasons = devices = NULL;
	*all_at_goal = s.n > 0 && at_goal == s.n;
	*out = o;
	ret = 0;
out:
	json_decref(states);
	json_decref(reasons);
	json_decref(devices);
	free(s.v);
	free(s.order);
	return ret;
}
