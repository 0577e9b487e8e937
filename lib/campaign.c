/* campaign.c - what messages say about devices, and where each device stands (see campaign.h). */
#include "campaign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
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
				ret = add(l, p, str(e, "UpdateFirmwareRequestID"), "distribution_failed", "FirmwareDistributionFailure",
					  at, err);
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

/* Interned text: the few distinct reasons, request IDs, versions and hashes a campaign has. */
struct strtab {
	char **v;
	size_t n, cap;
	uint32_t *slots;		/* index + 1; 0 empty */
	size_t nslots;
};

static uint64_t text_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

/* The index + 1 of s in t (added if new); 0 for NULL, or when out of memory. */
static uint32_t intern(struct strtab *t, const char *s)
{
	size_t i;

	if (!s)
		return 0;
	if (2 * (t->n + 1) > t->nslots) {
		size_t ns = t->nslots ? 2 * t->nslots : 64, k;
		uint32_t *slots = calloc(ns, sizeof(*slots));

		if (!slots)
			return 0;
		for (k = 0; k < t->n; k++) {
			i = (size_t)text_hash(t->v[k]) & (ns - 1);
			while (slots[i])
				i = (i + 1) & (ns - 1);
			slots[i] = (uint32_t)k + 1;
		}
		free(t->slots);
		t->slots = slots;
		t->nslots = ns;
	}
	i = (size_t)text_hash(s) & (t->nslots - 1);
	while (t->slots[i] && strcmp(t->v[t->slots[i] - 1], s) != 0)
		i = (i + 1) & (t->nslots - 1);
	if (t->slots[i])
		return t->slots[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		char **v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return 0;
		t->v = v;
		t->cap = cap;
	}
	if (!(t->v[t->n] = strdup(s)))
		return 0;
	t->slots[i] = (uint32_t)++t->n;
	return t->slots[i];
}

static const char *text(const struct strtab *t, uint32_t id)
{
	return id ? t->v[id - 1] : NULL;
}

static void strtab_release(struct strtab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->slots);
}

/* A device, small: a campaign of 100,000 fits in a few megabytes. */
struct device {
	uint64_t key;			/* the EUI's 8 octets; 0: empty slot */
	const struct stage *stage;
	uint32_t reason, distribution, version, image;	/* interned */
	uint32_t act_user;		/* interned originator of the activation request */
	uint64_t act_counter;		/* its counter (the target is the device) */
	uint32_t order;			/* first seen */
	uint8_t hash_match, hash_other;	/* 8F72s seen with the campaign's image hash, or another */
	char at[32];
};

struct status {
	struct device *v;
	size_t cap, n;
	struct strtab strings;
	int oom;
};

/* The EUI text's octets as a number (0 when it is not an EUI). */
static uint64_t key_of(const char *eui)
{
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct hfw_eui e;
	uint64_t k = 0;
	int i;

	if (!eui || hfw_eui_parse(&e, eui, "device", &ignored) < 0)
		return 0;
	for (i = 0; i < 8; i++)
		k = k << 8 | e.b[i];
	return k ? k : 0;
}

static size_t slot_of(uint64_t k, size_t cap)
{
	return (size_t)(k * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
}

static struct device *find(struct status *s, const char *eui, int create)
{
	uint64_t k = key_of(eui);
	size_t i;

	if (!k || (!s->cap && !create))
		return NULL;
	if (create && 2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024, j;
		struct device *v = calloc(cap, sizeof(*v));

		if (!v) {
			s->oom = 1;
			return NULL;
		}
		for (j = 0; j < s->cap; j++) {
			if (!s->v[j].key)
				continue;
			i = slot_of(s->v[j].key, cap);
			while (v[i].key)
				i = (i + 1) & (cap - 1);
			v[i] = s->v[j];
		}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	i = slot_of(k, s->cap);
	while (s->v[i].key && s->v[i].key != k)
		i = (i + 1) & (s->cap - 1);
	if (s->v[i].key)
		return &s->v[i];
	if (!create)
		return NULL;
	s->v[i].key = k;
	s->v[i].order = (uint32_t)s->n++;
	return &s->v[i];
}

/* Move a device on: to a later stage, or at the same stage to what was heard last. */
static void advance(struct status *s, struct device *d, const char *state, const char *reason, const char *at)
{
	const struct stage *st = stage_of(state);

	if (!st || (d->stage && st->rank < d->stage->rank))
		return;
	d->stage = st;
	d->reason = st->failed && reason ? intern(&s->strings, reason) : 0;
	if (at)
		snprintf(d->at, sizeof(d->at), "%s", at);
}

/* Does the event's request belong to this device in the campaign? */
static int is_ours(struct status *s, const struct device *d, const char *request_id)
{
	const char *last = strrchr(request_id, ':');
	const char *dist = text(&s->strings, d->distribution);

	if (dist && !strcmp(dist, request_id))
		return 1;
	/* The activation: user:device:counter. */
	return d->act_user && last && strtoull(last + 1, NULL, 10) == d->act_counter &&
	       !strncmp(request_id, text(&s->strings, d->act_user), strlen(text(&s->strings, d->act_user)));
}

static int on_row(void *arg, const struct hfw_ledger_row *r)
{
	struct status *s = arg;
	int is_event = !strcmp(r->source, "event");
	/* Distributions and activations make a device part of the campaign; reads and events do not. */
	struct device *d = find(s, r->device, !is_event && strcmp(r->source, "read-version") != 0);

	if (!d)
		return s->oom ? -1 : 0;
	if (!strcmp(r->source, "distribute")) {
		d->distribution = intern(&s->strings, r->request_id);
		d->version = intern(&s->strings, r->firmware_version);
		d->image = intern(&s->strings, r->image_sha256);
		if (!strcmp(r->state, "accepted"))
			advance(s, d, "accepted", NULL, r->at);
		else if (!strcmp(r->state, "pending") || !strcmp(r->state, "dry-run"))
			advance(s, d, "distribution_requested", NULL, r->at);
		else
			advance(s, d, "distribution_refused", r->state, r->at);
	} else if (!strcmp(r->source, "activate")) {
		const char *colon = strchr(r->request_id, ':'), *last = strrchr(r->request_id, ':');
		char user[32];

		if (!strcmp(r->state, "dry-run") || !colon || (size_t)(colon - r->request_id) >= sizeof(user))
			return 0;
		snprintf(user, sizeof(user), "%.*s", (int)(colon - r->request_id), r->request_id);
		d->act_user = intern(&s->strings, user);
		d->act_counter = strtoull(last + 1, NULL, 10);
		if (!d->version)
			d->version = intern(&s->strings, r->firmware_version);
		if (!strcmp(r->state, "sent") || !strcmp(r->state, "transform_signed"))
			advance(s, d, "activation_requested", NULL, r->at);
		else
			advance(s, d, "activation_not_sent", r->state, r->at);
	} else if (is_event) {
		const char *version = text(&s->strings, d->version), *image = text(&s->strings, d->image);

		/* An event that names a request must name one of this device's in the campaign (version reads aside). */
		if (r->request_id && strcmp(r->state, "version_read") && strcmp(r->state, "version_read_failed") &&
		    !is_ours(s, d, r->request_id))
			return 0;
		if (!strcmp(r->state, "verified_hash")) {
			/* Judged once every row is in (verdicts()), so the order alerts arrive in cannot matter. */
			if (r->detail && image && !strcasecmp(r->detail, image))
				d->hash_match = 1;
			else
				d->hash_other = 1;
		} else if (!strcmp(r->state, "version_read")) {
			if (version && r->detail && !strcasecmp(r->detail, version))
				advance(s, d, "version_confirmed", NULL, r->at);
			else
				advance(s, d, "version_mismatch", r->detail, r->at);
		} else if (!strcmp(r->state, "version_read_failed")) {
			/* Nothing learnt about the version. */
		} else if (!strcmp(r->state, "activated") && version && r->detail && strcasecmp(r->detail, version) != 0) {
			advance(s, d, "activation_failed", "runs another version", r->at);
		} else {
			advance(s, d, r->state, r->detail, r->at);
		}
	}
	return s->oom ? -1 : 0;
}

static int by_order(const void *a, const void *b)
{
	const struct device *x = *(const struct device *const *)a, *y = *(const struct device *const *)b;

	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * The devices' own hashes: one carrying the campaign's image hash verifies
 * it; only others mean the device computed another hash.  Neither moves a
 * device that is already further on, or failed at verification otherwise.
 */
static void verdicts(struct status *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++) {
		struct device *d = &s->v[i];

		if (!d->key || (d->stage && d->stage->rank >= 5))
			continue;
		if (d->hash_match)
			advance(s, d, "verified", NULL, NULL);
		else if (d->hash_other && d->distribution)
			advance(s, d, "hash_mismatch", "device computed another hash", NULL);
	}
}

/* Read the campaign's rows and put its devices in the order first seen. */
static int collect(struct status *s, struct device ***order, hfw_ledger *l, const char *campaign, const char *device,
		   struct hfw_error *err)
{
	size_t i, k;
	int ret;

	memset(s, 0, sizeof(*s));
	*order = NULL;
	if ((ret = hfw_ledger_each_campaign_row(l, campaign, device, on_row, s, err)) != 0)
		return ret > 0 || ret == -1 ? hfw_error_oom(err) : ret;
	verdicts(s);
	if (!(*order = calloc(s->n + 1, sizeof(**order))))
		return hfw_error_oom(err);
	for (i = 0, k = 0; i < s->cap; i++)
		if (s->v[i].key)
			(*order)[k++] = &s->v[i];
	qsort(*order, s->n, sizeof(**order), by_order);
	return 0;
}

static void release(struct status *s, struct device **order)
{
	free(order);
	free(s->v);
	strtab_release(&s->strings);
}

static const struct stage *stage_or_first(const struct device *d)
{
	return d->stage ? d->stage : &stages[0];
}

static int at_goal(const struct device *d)
{
	return !stage_or_first(d)->failed && stage_or_first(d)->rank >= 7;
}

/* A device's fields as text. */
struct device_text {
	char eui[HFW_EUI_TEXT_MAX], act[HFW_REQUEST_ID_MAX];
	const char *state, *reason, *distribution, *activation, *at;
};

static void device_text(struct device_text *t, const struct status *s, const struct device *d)
{
	struct hfw_eui e;
	int b;

	for (b = 0; b < 8; b++)
		e.b[b] = (uint8_t)(d->key >> (56 - 8 * b));
	hfw_eui_format(t->eui, &e);
	t->state = stage_or_first(d)->state;
	t->reason = text(&s->strings, d->reason);
	t->distribution = text(&s->strings, d->distribution);
	t->activation = NULL;
	if (d->act_user) {
		snprintf(t->act, sizeof(t->act), "%s:%s:%llu", text(&s->strings, d->act_user), t->eui,
			 (unsigned long long)d->act_counter);
		t->activation = t->act;
	}
	t->at = d->at[0] ? d->at : NULL;
}

/* Counts per state and reason, and (with list) the devices: all, or those not at goal. */
static json_t *report(const struct status *s, struct device **order, const char *campaign, int list, int all_devices,
		      int *all_at_goal)
{
	json_t *o, *states = json_object(), *reasons = json_object(), *devices = list ? json_array() : NULL;
	json_int_t counts[NSTAGES];
	size_t i, goal = 0;

	memset(counts, 0, sizeof(counts));
	for (i = 0; i < s->n; i++) {
		struct device *d = order[i];

		counts[stage_or_first(d) - stages]++;
		goal += at_goal(d);
		if (d->reason && reasons) {
			json_t *r = json_object_get(reasons, text(&s->strings, d->reason));

			if (r)
				json_integer_set(r, json_integer_value(r) + 1);
			else
				json_object_set_new(reasons, text(&s->strings, d->reason), json_integer(1));
		}
		if (devices && (all_devices || !at_goal(d))) {
			struct device_text t;

			device_text(&t, s, d);
			json_array_append_new(devices, json_pack("{s:s,s:s,s:s*,s:s*,s:s*,s:s*}", "device", t.eui, "state",
								 t.state, "reason", t.reason, "distribution_request",
								 t.distribution, "activation_request", t.activation, "at",
								 t.at));
		}
	}
	for (i = 0; i < NSTAGES && states; i++)
		json_object_set_new(states, stages[i].state, json_integer(counts[i]));
	*all_at_goal = s->n > 0 && goal == s->n;
	o = json_pack("{s:s*,s:I,s:I,s:o,s:o}", "campaign", campaign, "devices", (json_int_t)s->n, "at_goal",
		      (json_int_t)goal, "states", states, "reasons", reasons);
	if (o && devices)
		json_object_set_new(o, "device_states", devices);
	else
		json_decref(devices);
	return o;
}

int hfw_campaign_status(json_t **out, hfw_ledger *l, const char *campaign, const char *device, int all_devices,
			int *all_at_goal, struct hfw_error *err)
{
	struct status s;
	struct device **order = NULL;
	int ret;

	*out = NULL;
	*all_at_goal = 0;
	if ((ret = collect(&s, &order, l, campaign, device, err)) == 0 &&
	    !(*out = report(&s, order, campaign, 1, all_devices, all_at_goal)))
		ret = hfw_error_oom(err);
	release(&s, order);
	return ret;
}

/* A JSON string, escaped. */
static void put_string(FILE *f, const char *v)
{
	if (!v) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			putc(c, f);
	}
	putc('"', f);
}

static void put_member(FILE *f, const char *name, const char *v)
{
	if (!v)
		return;
	fprintf(f, ",\"%s\":", name);
	put_string(f, v);
}

int hfw_campaign_write_json(FILE *f, hfw_ledger *l, const char *campaign, const char *device, json_t **summary,
			    int *all_at_goal, struct hfw_error *err)
{
	struct status s;
	struct device **order = NULL;
	char *head = NULL;
	size_t i;
	int ret;

	*summary = NULL;
	*all_at_goal = 0;
	if ((ret = collect(&s, &order, l, campaign, device, err)) < 0)
		goto out;
	if (!(*summary = report(&s, order, campaign, 0, 0, all_at_goal)) ||
	    !(head = json_dumps(*summary, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	/* The summary, then every device a line each: 100,000 of them print in a blink. */
	head[strlen(head) - 2] = '\0';	/* drop "\n}" */
	fputs(head, f);
	fputs(",\n  \"device_states\": [", f);
	for (i = 0; i < s.n; i++) {
		struct device_text t;

		device_text(&t, &s, order[i]);
		fputs(i ? ",\n    {\"device\":" : "\n    {\"device\":", f);
		put_string(f, t.eui);
		put_member(f, "state", t.state);
		put_member(f, "reason", t.reason);
		put_member(f, "distribution_request", t.distribution);
		put_member(f, "activation_request", t.activation);
		put_member(f, "at", t.at);
		putc('}', f);
	}
	fputs(s.n ? "\n  ]\n}\n" : "]\n}\n", f);
	if (ferror(f))
		ret = hfw_error_set(err, HFW_EIO, "cannot write standard output");
out:
	free(head);
	release(&s, order);
	return ret;
}
