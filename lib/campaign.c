/* campaign.c - what messages say about devices, and where each device stands (see campaign.h). */
#include "campaign.h"
#include "clock.h"

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

/*
 * Why a device's answer is an error, from its decoded content (decode.c:
 * outcome "error" with the DLMS, GBZ, CS08 or CS06 code), in l's own text.
 */
static const char *error_reason(struct hfw_event_list *l, const json_t *content)
{
	static const struct { const char *member, *prefix; } kinds[] = {
		{ "dlms_error", "DLMS" }, { "gbz_error", "GBZ" }, { "cs08_error", "CS08" }, { "cs06_error", "CS06" },
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *v = str(content, kinds[i].member);

		if (v) {
			snprintf(l->text[1], sizeof(l->text[1]), "%s %s", kinds[i].prefix, v);
			return l->text[1];
		}
	}
	return "error";
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
				json_t *c = json_object_get(json_object_get(json_object_get(fd, "GBCSPayload"), "content"),
							    "originator_counter");

				/* No RequestID on the alert: the CS06 alert names the 11.3's counter, and its recipient the user. */
				if (!rid && json_is_integer(c) && str(fd, "GBCSPayload.recipient") && device) {
					snprintf(l->text[0], sizeof(l->text[0]), "%s:%s:%lld", str(fd, "GBCSPayload.recipient"), device,
						 (long long)json_integer_value(c));
					rid = l->text[0];
				}
				return add(l, device, rid, o && !strcmp(o, "success") ? "activated" : "activation_failed",
					   o && !strcmp(o, "success") ? str(fd, "GBCSPayload.content.execution_outcome.firmware_version")
					   : o && !strcmp(o, "error") ? error_reason(l, json_object_get(json_object_get(json_object_get(
										fd, "GBCSPayload"), "content"), "execution_outcome"))
					   : o, at, err);
			}
			if (!outcome)	/* a payload that does not decode says the device answered, not how */
				return str(msg, "GBCSPayload.error") ? add(l, device, rid, "activation_failed", "answer not decoded", at, err)
								     : 0;
			if (!strcmp(outcome, "accepted"))
				return add(l, device, rid, "activation_scheduled", NULL, at, err);
			return add(l, device, rid, !strcmp(outcome, "success") ? "activated" : "activation_failed",
				   !strcmp(outcome, "success") ? str(msg, "GBCSPayload.content.firmware_version")
				   : !strcmp(outcome, "error") ? error_reason(l, json_object_get(json_object_get(msg, "GBCSPayload"),
										"content"))
				   : outcome, at, err);
		}
		if (sr && !strcmp(sr, "11.2")) {
			const json_t *content = json_object_get(json_object_get(msg, "GBCSPayload"), "content");
			const char *v = str(content, "firmware_version"), *outcome = str(content, "outcome");

			/* A device's error answer: the read failed, with the device's own code. */
			if (outcome && !strcmp(outcome, "error"))
				return add(l, device, rid, "version_read_failed", error_reason(l, content), at, err);
			if (v)
				return add(l, device, rid, "version_read", v, at, err);
			return str(msg, "GBCSPayload.error") ? add(l, device, rid, "version_read_failed", "answer not decoded", at, err)
							     : 0;
		}
		return 0;
	}
	if (!strcmp(body, "DeviceAlertMessage")) {
		const char *alert = str(msg, "AlertCode"), *device = str(msg, "GBCSPayload.originator");

		if (alert && !strcasecmp(alert, "8F72"))
			return add(l, device, NULL, "verified_hash", str(msg, "GBCSPayload.content.calculated_hash"), at, err);
		if (alert && !strcasecmp(alert, "8F1C"))
			return add(l, device, NULL, "verification_failed", "8F1C", at, err);
		/* An alert hanfw gives no meaning to: kept, and shown by its codes. */
		snprintf(l->text[1], sizeof(l->text[1]), "%.8s (GBCS message code %.8s)", alert ? alert : "?",
			 str(msg, "GBCSPayload.message_code") ? str(msg, "GBCSPayload.message_code") : "?");
		return add(l, device, NULL, "device_alert", l->text[1], at, err);
	}
	if (!strcmp(body, "DCCAlertMessage")) {
		const json_t *a = json_object_get(msg, "DCCAlert"), *e;
		const json_t *ev = json_object_get(d, "dcc_event");	/* decode.c: quarantine and mid-campaign events */

		if (ev && str(ev, "event") && !strcmp(str(ev, "event"), "request_quarantined")) {
			const char *held = str(ev, "request_id");

			/* Under the held request's target (a distribution's is the DCC): placed by RequestID (on_row). */
			snprintf(l->text[1], sizeof(l->text[1]), "%.40s QuarantineEventRef %.24s", str(ev, "breach"),
				 str(ev, "quarantine_event_ref") ? str(ev, "quarantine_event_ref") : "?");
			return add(l, target_of(l, held), held, "request_quarantined", l->text[1], at, err);
		}
		if (ev && str(ev, "event"))
			return add(l, str(ev, "device"), NULL, str(ev, "event"), str(ev, "reason"), at, err);

		if ((e = json_object_get(a, "CSPFirmwareDeliveryStatus"))) {
			const char *s = str(e, "CommsHubTransferStatus");

			snprintf(l->text[1], sizeof(l->text[1]), "CSPFirmwareDeliveryStatus %.40s", s ? s : "?");
			return add(l, str(e, "TargetDeviceID"), str(e, "UpdateFirmwareRequestID"),
				   s && !strcmp(s, "Success") ? "delivered_to_hub" : "hub_delivery_failed", l->text[1], at, err);
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
						   i ? map[i].code : str(e, "FirmwareVersion"), at, err);
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
	{ "distribution_quarantined", 2, 1 },
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
	{ "activation_quarantined", 6, 1 },
	{ "activated", 7, 0 },
	{ "activation_failed", 7, 1 },
	{ "version_confirmed", 8, 0 },
	{ "version_mismatch", 8, 1 },
	{ "version_read_failed", 8, 1 },
	{ "left_campaign", 9, 1 },	/* a mid-campaign event: whatever else it reached */
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

void hfw_campaign_state_names(char *buf, size_t size)
{
	size_t i, used = 0;
	int n;

	if (size)
		buf[0] = '\0';
	for (i = 0; i < NSTAGES && used < size; i++) {
		n = snprintf(buf + used, size - used, "%s%s", i ? " " : "", stages[i].state);
		if (n < 0)
			break;
		used += (size_t)n;
	}
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

static const char *text_of(const struct strtab *t, uint32_t id)
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

/*
 * What is known of one part of a device's life: its distribution (the
 * furthest stage reached), its activation (the latest outcome), its
 * version (the latest read).  Where it sits in time: the RequestID counter
 * of the request it answers (a user's counters only rise, so they order
 * its requests), the message's own time as the ledger has it
 * (ResponseDateTime), and the order it was stored in.
 */
#define NO_TIME INT64_MIN
struct fact {
	const struct stage *stage;	/* NULL: nothing known */
	uint64_t counter;		/* of the request it answers; 0 when it names none */
	int64_t ms;			/* message time, ms since the epoch; NO_TIME for requests and unknown */
	int64_t arrival;		/* message id; 0 for requests */
	uint32_t reason;		/* interned */
};

/* A device: a campaign of 100,000 fits in about 20 megabytes. */
struct device {
	uint64_t key;			/* the EUI's 8 octets; 0: empty slot */
	struct fact dist, act, ver;
	const struct stage *stage;	/* where it stands, once resolved */
	uint32_t reason;
	int64_t at;			/* the time of the message that put it there (NO_TIME: none) */
	uint32_t distribution, version, image;	/* interned */
	uint32_t refused;		/* why its distribution was refused */
	uint32_t earlier;		/* the latest failure a later outcome superseded */
	uint64_t earlier_counter;
	int64_t earlier_arrival;
	uint32_t alert;			/* the last alert hanfw has no meaning for */
	uint32_t act_user;		/* interned originator of the latest activation request */
	uint64_t act_counter;		/* its counter (the target is the device) */
	uint64_t dist_counter;		/* counter of the latest accepted distribution */
	uint64_t dist_latest;		/* counter of the latest distribution request, whatever its outcome */
	struct fact dist_best;		/* the furthest an earlier distribution got, transferred or further */
	const struct stage *dist_cause;	/* the latest distribution's most specific failure (under distribution_failed) */
	uint8_t accepted, hash_match, hash_other;	/* 8F72s seen with the campaign's image hash, or another */
	uint32_t left;			/* why a mid-campaign event took it out (interned), 0 if none */
	int64_t left_ms;
	uint8_t by_event;		/* known only by a mid-campaign event (hfw_campaign_states_of) */
};

/* The campaign's own requests, by the hash of their canonical RequestID: which kinds each is. */
enum { REQ_DISTRIBUTE = 1, REQ_ACTIVATE = 2 };
struct reqset {
	uint64_t *keys;
	uint8_t *kinds;
	size_t n, cap;
};

struct status {
	struct device *v;		/* dense, in the order first seen */
	size_t n, vcap;
	uint32_t *slots;		/* index + 1 into v, by EUI; 0 empty */
	size_t cap;
	struct strtab strings;
	struct reqset reqs;
	struct held { uint32_t request_id, why; } *held;	/* requests the DCC quarantined (interned) */
	size_t nheld, capheld;
	int oom;
	int events_name_devices;	/* a left_campaign event names a device of the rows (one wave's) */
};

/* The EUI text's octets as a number (0 when it is not an EUI). */
static uint64_t key_of(const char *eui)
{
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct hfw_eui e;

	if (!eui || hfw_eui_parse(&e, eui, "device", &ignored) < 0)
		return 0;
	return hfw_eui_to_u64(&e);
}

static size_t slot_of(uint64_t k, size_t cap)
{
	return (size_t)(k * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
}

/* The device with this EUI (made if create); pointers last until the next find with create. */
static struct device *find(struct status *s, const char *eui, int create)
{
	uint64_t k = key_of(eui);
	size_t i;

	if (!k || (!s->cap && !create))
		return NULL;
	if (create && 2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024, j;
		uint32_t *slots = calloc(cap, sizeof(*slots));

		if (!slots) {
			s->oom = 1;
			return NULL;
		}
		for (j = 0; j < s->n; j++) {
			i = slot_of(s->v[j].key, cap);
			while (slots[i])
				i = (i + 1) & (cap - 1);
			slots[i] = (uint32_t)j + 1;
		}
		free(s->slots);
		s->slots = slots;
		s->cap = cap;
	}
	i = slot_of(k, s->cap);
	while (s->slots[i] && s->v[s->slots[i] - 1].key != k)
		i = (i + 1) & (s->cap - 1);
	if (s->slots[i])
		return &s->v[s->slots[i] - 1];
	if (!create)
		return NULL;
	if (s->n == s->vcap) {
		size_t vcap = s->vcap ? 2 * s->vcap : 1024;
		struct device *v = realloc(s->v, vcap * sizeof(*v));

		if (!v) {
			s->oom = 1;
			return NULL;
		}
		s->v = v;
		s->vcap = vcap;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[s->n]));
	s->v[s->n].key = k;
	s->v[s->n].at = NO_TIME;
	s->slots[i] = (uint32_t)++s->n;
	return &s->v[s->n - 1];
}

/* A RequestID, parsed; 0 when it is not one. */
static int parse_rid(struct hfw_request_id *id, const char *rid)
{
	struct hfw_error ignored = HFW_ERROR_INIT;

	return rid && hfw_request_id_parse(id, rid, &ignored) == 0;
}

/* splitmix64's finaliser. */
static uint64_t mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* A RequestID's hash (its three fields: text case and form do not matter); never 0. */
static uint64_t rid_hash(const struct hfw_request_id *id)
{
	uint64_t h = mix(hfw_eui_to_u64(&id->originator) ^ mix(hfw_eui_to_u64(&id->target) ^ mix(id->counter)));

	return h ? h : 1;
}

/* Add kind to the request's kinds (insert), or (kind 0) look its kinds up. */
static uint8_t reqset_kinds(struct status *s, const struct hfw_request_id *id, uint8_t kind)
{
	struct reqset *r = &s->reqs;
	uint64_t h = rid_hash(id);
	size_t i;

	if (kind && 2 * (r->n + 1) > r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 1024, j;
		uint64_t *keys = calloc(cap, sizeof(*keys));
		uint8_t *kinds = calloc(cap, 1);

		if (!keys || !kinds) {
			free(keys);
			free(kinds);
			s->oom = 1;
			return 0;
		}
		for (j = 0; j < r->cap; j++) {
			if (!r->keys[j])
				continue;
			i = slot_of(r->keys[j], cap);
			while (keys[i])
				i = (i + 1) & (cap - 1);
			keys[i] = r->keys[j];
			kinds[i] = r->kinds[j];
		}
		free(r->keys);
		free(r->kinds);
		r->keys = keys;
		r->kinds = kinds;
		r->cap = cap;
	}
	if (!r->cap)
		return 0;
	i = slot_of(h, r->cap);
	while (r->keys[i] && r->keys[i] != h)
		i = (i + 1) & (r->cap - 1);
	if (!kind)
		return r->keys[i] ? r->kinds[i] : 0;
	if (!r->keys[i]) {
		r->keys[i] = h;
		r->n++;
	}
	r->kinds[i] |= kind;
	return r->kinds[i];
}

/* n decimal digits at t, or -1. */
static int digits_at(const char *t, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (*t < '0' || *t > '9')
			return -1;
		v = v * 10 + (*t++ - '0');
	}
	return v;
}

/*
 * Milliseconds since the epoch of an xs:dateTime (a fraction and a zone
 * offset allowed; no zone is taken as UTC), or NO_TIME.  By hand: it runs
 * for every message of a campaign.
 */
static int64_t time_ms(const char *t)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, frac = 0, digits = 0, oh, om;
	int64_t days, ms;

	if (!t || strlen(t) < 19 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
	    (y = digits_at(t, 4)) < 1 || (mo = digits_at(t + 5, 2)) < 1 || mo > 12 || (d = digits_at(t + 8, 2)) < 1 ||
	    d > mdays[mo - 1] || (h = digits_at(t + 11, 2)) < 0 || h > 23 || (mi = digits_at(t + 14, 2)) < 0 || mi > 59 ||
	    (sec = digits_at(t + 17, 2)) < 0 || sec > 60)
		return NO_TIME;
	t += 19;
	if (*t == '.') {
		for (t++; *t >= '0' && *t <= '9'; t++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*t - '0');
		if (!digits)
			return NO_TIME;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	days = hfw_days_from_civil((int64_t)y, (unsigned)mo, (unsigned)d);
	ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + frac;
	if (!*t || (*t == 'Z' && !t[1]))
		return ms;
	if ((*t == '+' || *t == '-') && strlen(t) == 6 && t[3] == ':' && (oh = digits_at(t + 1, 2)) >= 0 && oh <= 14 &&
	    (om = digits_at(t + 4, 2)) >= 0 && om <= 59)
		return ms - (*t == '+' ? 1 : -1) * ((int64_t)oh * 60 + om) * 60000;
	return NO_TIME;
}

/* A time as xs:dateTime in UTC (milliseconds only when there are some). */
static void format_ms(char out[64], int64_t ms)
{
	int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000), rest = ms - days * 86400000;
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097), yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
	unsigned secs = (unsigned)(rest / 1000), milli = (unsigned)(rest % 1000);

	if (milli)
		snprintf(out, 64, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)y, m, d, secs / 3600, secs / 60 % 60,
			 secs % 60, milli);
	else
		snprintf(out, 64, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d, secs / 3600, secs / 60 % 60,
			 secs % 60);
}

static void set_fact(struct status *s, struct fact *f, const struct stage *st, const char *reason, uint64_t counter,
		     const struct hfw_ledger_row *r)
{
	f->stage = st;
	f->reason = st->failed && reason ? intern(&s->strings, reason) : 0;
	f->counter = counter;
	f->ms = time_ms(r->at);
	f->arrival = r->message_id;
}

/* Is b later than a by message time, else by the order stored? */
static int later(const struct fact *a, const struct fact *b)
{
	if (a->ms != NO_TIME && b->ms != NO_TIME && a->ms != b->ms)
		return b->ms > a->ms;
	return b->arrival >= a->arrival;
}

/* Keep a failure that a later outcome superseded (the latest such), for the device's reason history. */
static void supersede(struct status *s, struct device *d, const struct fact *f)
{
	char text[200];

	if (!f->stage || !f->stage->failed || (d->earlier && (f->counter < d->earlier_counter ||
							      (f->counter == d->earlier_counter && f->arrival < d->earlier_arrival))))
		return;
	snprintf(text, sizeof(text), "%s: %s", f->stage->state, f->reason ? text_of(&s->strings, f->reason) : "-");
	d->earlier = intern(&s->strings, text);
	d->earlier_counter = f->counter;
	d->earlier_arrival = f->arrival;
}

/* Distribution: the furthest stage any message puts it at; of two at one stage, the later. */
static void dist_offer(struct status *s, struct device *d, const char *state, const char *reason, const struct hfw_ledger_row *r)
{
	const struct stage *st = stage_of(state);

	if (st && st->failed && strcmp(st->state, "distribution_failed") != 0 &&
	    (!d->dist_cause || st->rank < d->dist_cause->rank))
		d->dist_cause = st;
	if (!st || (d->dist.stage && st->rank < d->dist.stage->rank))
		return;
	set_fact(s, &d->dist, st, reason, d->dist_latest, r);
}

/*
 * A new distribution request for the device (a re-drive): its outcome is
 * the device's from now on.  What the earlier one got to is kept: a failure
 * as the device's history, transferred or further as its best, which a
 * later failure does not undo.
 */
static void dist_new_request(struct status *s, struct device *d, uint64_t counter)
{
	if (counter <= d->dist_latest)
		return;
	if (d->dist.stage && d->dist.stage->failed)
		supersede(s, d, &d->dist);
	else if (d->dist.stage && d->dist.stage->rank >= 4 &&
		 (!d->dist_best.stage || d->dist.stage->rank > d->dist_best.stage->rank))
		d->dist_best = d->dist;
	memset(&d->dist, 0, sizeof(d->dist));
	d->dist_cause = NULL;
	d->dist_latest = counter;
}

/* An outcome of an earlier distribution than the latest: history, or the device's best. */
static void dist_earlier(struct status *s, struct device *d, const char *state, const char *reason, uint64_t counter,
			 const struct hfw_ledger_row *r)
{
	const struct stage *st = stage_of(state);
	struct fact f;

	if (!st)
		return;
	set_fact(s, &f, st, reason, counter, r);
	if (st->failed)
		supersede(s, d, &f);
	else if (st->rank >= 4 && (!d->dist_best.stage || st->rank > d->dist_best.stage->rank))
		d->dist_best = f;
}

/*
 * Activation: the outcome for the latest request (highest counter) wins;
 * for one request the further stage, then the later message.  An outcome
 * naming no request (a PPMID's own alert) goes by message time.
 */
static void act_offer(struct status *s, struct device *d, const char *state, const char *reason, uint64_t counter,
		      const struct hfw_ledger_row *r)
{
	const struct stage *st = stage_of(state);
	struct fact f, *a = &d->act;
	int wins;

	if (!st)
		return;
	set_fact(s, &f, st, reason, counter, r);
	if (!a->stage)
		wins = 1;
	else if (a->counter && f.counter && a->counter != f.counter)
		wins = f.counter > a->counter;
	else if (a->counter == f.counter && st->rank != a->stage->rank)
		wins = st->rank > a->stage->rank;
	else
		wins = later(a, &f);
	if (wins) {
		supersede(s, d, a);
		*a = f;
	} else {
		supersede(s, d, &f);
	}
}

/* Version: the latest read, by request order (RequestID counter), else by message time. */
static void ver_offer(struct status *s, struct device *d, const char *state, const char *reason, uint64_t counter,
		      const struct hfw_ledger_row *r)
{
	struct fact f, *v = &d->ver;
	int wins;

	set_fact(s, &f, stage_of(state), reason, counter, r);
	if (!v->stage)
		wins = 1;
	else if (v->counter && f.counter && v->counter != f.counter)
		wins = f.counter > v->counter;
	else
		wins = later(v, &f);
	if (wins)
		*v = f;
}

/*
 * Does the device's latest version read count in this campaign?  Only when
 * the device was distributed the campaign's image (accepted), the read was
 * asked after that distribution, and it follows the latest activation:
 * asked after its request and answered no earlier than its outcome.  While
 * an activation is still to happen (requested, scheduled) only a read of
 * the campaign's version counts: another is what the device should run.
 */
static int ver_counts(const struct device *d)
{
	const struct fact *v = &d->ver, *a = &d->act;

	if (!v->stage || !d->accepted || (v->counter && v->counter <= d->dist_counter))
		return 0;
	if (!a->stage)
		return 1;
	if (a->stage->rank == 6 && !a->stage->failed && strcmp(v->stage->state, "version_confirmed") != 0)
		return 0;
	if (v->counter && a->counter && v->counter <= a->counter)
		return 0;
	if (!a->arrival)
		return 1;	/* a request with no outcome yet: request order alone */
	if (v->ms != NO_TIME && a->ms != NO_TIME)
		return v->ms >= a->ms;
	return v->arrival > a->arrival;
}

/* Is the DCC's response code an E-code (a refusal), not the W-code of a request that listed warnings? */
static int e_code(const char *code)
{
	return code && code[0] == 'E';
}

static int on_row(void *arg, const struct hfw_ledger_row *r)
{
	struct status *s = arg;
	int is_event = !strcmp(r->source, "event");
	/* Distributions and activations make a device part of the campaign; reads and events do not. */
	struct device *d;
	struct hfw_request_id id;
	int has_rid = parse_rid(&id, r->request_id);
	char why[160];

	if (is_event && has_rid && !strcmp(r->state, "request_quarantined")) {
		/* Placed once every row is in (resolve()): the held request may be any device's. */
		if (s->nheld == s->capheld) {
			size_t cap = s->capheld ? 2 * s->capheld : 16;
			struct held *h = realloc(s->held, cap * sizeof(*h));

			if (!h)
				return -1;
			s->held = h;
			s->capheld = cap;
		}
		s->held[s->nheld].request_id = intern(&s->strings, r->request_id);
		s->held[s->nheld++].why = intern(&s->strings, r->detail ? r->detail : "QuarantinedRequest");
		return s->oom ? -1 : 0;
	}
	d = find(s, r->device, !is_event && strcmp(r->source, "read-version") != 0);
	if (!d && is_event && s->events_name_devices && !strcmp(r->state, "left_campaign") && (d = find(s, r->device, 1)))
		d->by_event = 1;	/* it left before any request of the campaign named it */
	if (!d)
		return s->oom ? -1 : 0;
	if (!strcmp(r->source, "distribute")) {
		/* The image: the latest accepted distribution's (campaigns shown together: the latest campaign's). */
		if (!d->version || !strcmp(r->state, "accepted"))
			d->version = intern(&s->strings, r->firmware_version);
		if (!d->image || !strcmp(r->state, "accepted"))
			d->image = intern(&s->strings, r->firmware_hash);
		if (has_rid) {
			reqset_kinds(s, &id, REQ_DISTRIBUTE);
			dist_new_request(s, d, id.counter);
		}
		if (!strcmp(r->state, "accepted") || !strcmp(r->state, "pending") || !strcmp(r->state, "dry-run")) {
			int accepted = !strcmp(r->state, "accepted");

			if (accepted || !d->accepted)
				d->distribution = intern(&s->strings, r->request_id);
			if (accepted) {
				d->accepted = 1;
				if (has_rid && id.counter > d->dist_counter)
					d->dist_counter = id.counter;
			}
			dist_offer(s, d, accepted ? "accepted" : "distribution_requested", NULL, r);
		} else {
			/* Refused: the DCC's warning list, or its E-code. */
			snprintf(why, sizeof(why), "%s%s%s", r->state, e_code(r->detail) ? " " : "", e_code(r->detail) ? r->detail : "");
			d->refused = intern(&s->strings, why);
			if (!d->distribution)
				d->distribution = intern(&s->strings, r->request_id);
			dist_offer(s, d, "distribution_refused", why, r);
		}
	} else if (!strcmp(r->source, "activate")) {
		const struct stage *st;

		if (!strcmp(r->state, "dry-run") || !has_rid || hfw_eui_to_u64(&id.target) != d->key)
			return 0;
		reqset_kinds(s, &id, REQ_ACTIVATE);
		if (!d->act_user || id.counter > d->act_counter) {
			char user[HFW_EUI_TEXT_MAX];

			hfw_eui_format(user, &id.originator);
			d->act_user = intern(&s->strings, user);
			d->act_counter = id.counter;
		}
		if (!d->version)
			d->version = intern(&s->strings, r->firmware_version);
		st = stage_of(!strcmp(r->state, "sent") || !strcmp(r->state, "transform_signed") || !strcmp(r->state, "signed")
				      ? "activation_requested" : "activation_not_sent");
		snprintf(why, sizeof(why), "%s%s%s", r->state, r->detail ? " " : "", r->detail ? r->detail : "");
		act_offer(s, d, st->state, why, id.counter, r);
	} else if (is_event) {
		const char *version = text_of(&s->strings, d->version), *image = text_of(&s->strings, d->image);
		const char *ev = r->state;
		uint8_t kinds = has_rid ? reqset_kinds(s, &id, 0) : 0;

		if (r->request_id && !has_rid)
			return 0;
		if (!strcmp(ev, "version_read") || !strcmp(ev, "version_read_failed") || !strcmp(ev, "version_mismatch")) {
			/* Reads are the device's own requests (any campaign's): they must be for this device. */
			if (has_rid && hfw_eui_to_u64(&id.target) != d->key)
				return 0;
			if (!strcmp(ev, "version_read"))
				ev = version && r->detail && !strcasecmp(r->detail, version) ? "version_confirmed" : "version_mismatch";
			ver_offer(s, d, ev, r->detail, has_rid ? id.counter : 0, r);
		} else if (!strcmp(ev, "activation_scheduled") || !strcmp(ev, "activated") || !strcmp(ev, "activation_failed")) {
			/* An outcome that names a request must name one of this device's activations here. */
			if (has_rid && (!(kinds & REQ_ACTIVATE) || hfw_eui_to_u64(&id.target) != d->key))
				return 0;
			if (!strcmp(ev, "activated") && version && r->detail && strcasecmp(r->detail, version) != 0)
				act_offer(s, d, "activation_failed", "runs another version", has_rid ? id.counter : 0, r);
			else
				act_offer(s, d, ev, r->detail, has_rid ? id.counter : 0, r);
		} else if (!strcmp(ev, "left_campaign")) {
			/* Change of supplier, status change, PPMID removed: out of the campaign, whatever it reached. */
			d->left = intern(&s->strings, r->detail ? r->detail : "left");
			d->left_ms = time_ms(r->at);
		} else if (!strcmp(ev, "restored")) {
			/* A suspended device restored rejoins (the others do not come back). */
			if (d->left && !strcmp(text_of(&s->strings, d->left), "suspended"))
				d->left = 0;
		} else if (!strcmp(ev, "device_alert")) {
			d->alert = intern(&s->strings, r->detail ? r->detail : "?");
		} else if (has_rid && !(kinds & REQ_DISTRIBUTE)) {
			return 0;	/* another campaign's distribution */
		} else if (!strcmp(ev, "verified_hash")) {
			/* Judged once every row is in (resolve()), so the order alerts arrive in cannot matter. */
			if (r->detail && image && !strcasecmp(r->detail, image))
				d->hash_match = 1;
			else
				d->hash_other = 1;
		} else if (has_rid && id.counter < d->dist_latest) {
			dist_earlier(s, d, ev, r->detail, id.counter, r);
		} else {
			dist_offer(s, d, ev, r->detail, r);
		}
	}
	return s->oom ? -1 : 0;
}

/*
 * Where each device stands, once every row is in.  A device refused at
 * distribution (and never accepted) stays refused.  Else its version, when
 * the latest read counts here; else its latest activation outcome; else
 * how far its distribution got.  The devices' own hashes: one carrying the
 * campaign's image hash verifies it; only others mean the device computed
 * another hash; neither moves a distribution already further on, or failed
 * at verification otherwise.
 */
/*
 * The DCC's QuarantinedRequest alerts: a device whose latest distribution
 * (not yet further than accepted) or latest activation was held is
 * distribution_quarantined or activation_quarantined, with the breach and
 * QuarantineEventRef as its reason.
 */
static void quarantined(struct status *s, struct device *d)
{
	static const struct hfw_ledger_row none = { NULL, NULL, "event", "", NULL, NULL, 0, NULL, NULL, NULL, NULL };
	char eui[HFW_EUI_TEXT_MAX], act[HFW_REQUEST_ID_MAX + 64] = "";
	struct hfw_eui e;
	size_t i;
	int b;

	if (!s->nheld)
		return;
	if (d->act_user) {
		for (b = 0; b < 8; b++)
			e.b[b] = (uint8_t)(d->key >> (56 - 8 * b));
		hfw_eui_format(eui, &e);
		snprintf(act, sizeof(act), "%s:%s:%llu", text_of(&s->strings, d->act_user), eui,
			 (unsigned long long)d->act_counter);
	}
	for (i = 0; i < s->nheld; i++) {
		const char *rid = text_of(&s->strings, s->held[i].request_id), *why = text_of(&s->strings, s->held[i].why);

		if (d->distribution && !strcasecmp(rid, text_of(&s->strings, d->distribution)) &&
		    (!d->dist.stage || d->dist.stage->rank <= 2))
			dist_offer(s, d, "distribution_quarantined", why, &none);
		if (act[0] && !strcasecmp(rid, act) && d->act.stage && !strcmp(d->act.stage->state, "activation_requested"))
			set_fact(s, &d->act, stage_of("activation_quarantined"), why, d->act_counter, &none);
	}
}

static void resolve(struct status *s)
{
	static const struct hfw_ledger_row none = { NULL, NULL, "event", "", NULL, NULL, 0, NULL, NULL, NULL, NULL };
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct device *d = &s->v[i];
		const struct fact *f = &d->dist;

		if (!d->key)
			continue;
		quarantined(s, d);
		if (d->dist_best.stage && (!d->dist.stage || d->dist.stage->failed ||
					   d->dist.stage->rank < d->dist_best.stage->rank)) {
			/* A re-drive that failed after an earlier distribution got the image there: no regress. */
			supersede(s, d, &d->dist);
			d->dist = d->dist_best;
			d->dist_cause = NULL;
		}
		if (!d->dist.stage || d->dist.stage->rank < 5) {
			int64_t ms = d->dist.ms;

			if (d->hash_match)
				dist_offer(s, d, "verified", NULL, &none);
			else if (d->hash_other && d->distribution)
				dist_offer(s, d, "hash_mismatch", "device computed another hash", &none);
			d->dist.ms = ms;	/* an alert's verdict keeps the last time */
		}
		if (d->refused && !d->accepted) {
			d->stage = stage_of("distribution_refused");
			d->reason = d->refused;
			d->at = d->dist.ms;
			continue;
		}
		if (d->act.stage) {
			if (d->dist.stage && d->dist.stage->failed)
				supersede(s, d, &d->dist);
			f = &d->act;
		}
		if (ver_counts(d)) {
			if (d->act.stage && d->act.stage->failed)
				supersede(s, d, &d->act);
			f = &d->ver;
		}
		d->stage = f->stage;
		d->reason = f->stage ? f->reason : 0;
		d->at = f->ms;
		if (d->left) {
			d->stage = stage_of("left_campaign");
			d->reason = d->left;
			d->at = d->left_ms;
		}
	}
}

/* Read the campaign's rows and put its devices in the order first seen. */
static int collect(struct status *s, struct device ***order, hfw_ledger *l, const char *campaign, const char *device,
		   struct hfw_error *err)
{
	size_t i;
	int ret;

	memset(s, 0, sizeof(*s));
	*order = NULL;
	if ((ret = hfw_ledger_each_campaign_row(l, campaign, device, on_row, s, err)) != 0)
		return ret > 0 || ret == -1 ? hfw_error_oom(err) : ret;
	resolve(s);
	if (!(*order = calloc(s->n + 1, sizeof(**order))))
		return hfw_error_oom(err);
	for (i = 0; i < s->n; i++)
		(*order)[i] = &s->v[i];	/* already in the order first seen */
	return 0;
}

static void release(struct status *s, struct device **order)
{
	free(order);
	free(s->v);
	free(s->slots);
	free(s->reqs.keys);
	free(s->reqs.kinds);
	free(s->held);
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
	char eui[HFW_EUI_TEXT_MAX], act[HFW_REQUEST_ID_MAX], at_text[64];
	const char *state, *reason, *distribution, *activation, *at, *earlier, *alert;
};

static void device_text(struct device_text *t, const struct status *s, const struct device *d)
{
	struct hfw_eui e;
	int b;

	for (b = 0; b < 8; b++)
		e.b[b] = (uint8_t)(d->key >> (56 - 8 * b));
	hfw_eui_format(t->eui, &e);
	t->state = stage_or_first(d)->state;
	t->reason = text_of(&s->strings, d->reason);
	t->distribution = text_of(&s->strings, d->distribution);
	t->activation = NULL;
	if (d->act_user) {
		snprintf(t->act, sizeof(t->act), "%s:%s:%llu", text_of(&s->strings, d->act_user), t->eui,
			 (unsigned long long)d->act_counter);
		t->activation = t->act;
	}
	t->at = NULL;
	if (d->at != NO_TIME) {
		format_ms(t->at_text, d->at);
		t->at = t->at_text;
	}
	t->earlier = text_of(&s->strings, d->earlier);
	t->alert = text_of(&s->strings, d->alert);
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
			json_t *r = json_object_get(reasons, text_of(&s->strings, d->reason));

			if (r)
				json_integer_set(r, json_integer_value(r) + 1);
			else
				json_object_set_new(reasons, text_of(&s->strings, d->reason), json_integer(1));
		}
		if (devices && (all_devices || !at_goal(d))) {
			struct device_text t;

			device_text(&t, s, d);
			json_array_append_new(devices, json_pack("{s:s,s:s,s:s*,s:s*,s:s*,s:s*,s:s*,s:s*}", "device", t.eui,
								 "state", t.state, "reason", t.reason, "distribution_request",
								 t.distribution, "activation_request", t.activation, "at",
								 t.at, "earlier_failure", t.earlier, "last_alert", t.alert));
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

static int count_quarantined(void *arg, const struct hfw_ledger_quarantined *q)
{
	*(json_int_t *)arg += (json_int_t)q->count;
	return 0;
}

/*
 * "quarantined": what listen refused since the campaign's first request, so
 * a device that looks stuck is seen beside the messages that never counted.
 */
static int add_quarantined(json_t *summary, hfw_ledger *l, const char *campaign, struct hfw_error *err)
{
	char since[40];
	json_int_t n = 0;
	int ret;

	if ((ret = hfw_ledger_campaign_start(l, campaign, since, sizeof(since), err)) < 0 ||
	    (ret = hfw_ledger_each_quarantined(l, since, count_quarantined, &n, err)) < 0)
		return ret;
	if (json_object_set_new(summary, "quarantined", json_integer(n)) < 0)
		return hfw_error_oom(err);
	return 0;
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
	if (ret == 0 && (ret = add_quarantined(*out, l, campaign, err)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
	release(&s, order);
	return ret;
}

/* Under a failed distribution, the most specific failure its request met (NULL: none). */
static const char *latest_cause(const struct device *d)
{
	return d->stage && !strcmp(d->stage->state, "distribution_failed") && d->stage == d->dist.stage && d->dist_cause ?
		       d->dist_cause->state : NULL;
}

int hfw_campaign_each_latest(hfw_ledger *l, const char *campaign,
			     int (*fn)(void *arg, const struct hfw_campaign_latest *d), void *arg, struct hfw_error *err)
{
	struct status s;
	struct device **order = NULL;
	size_t i;
	int ret;

	if ((ret = collect(&s, &order, l, campaign, NULL, err)) == 0) {
		for (i = 0; i < s.n && ret == 0; i++) {
			const struct device *d = order[i];
			struct device_text t;
			struct hfw_campaign_latest x;

			device_text(&t, &s, d);
			x.device = t.eui;
			x.state = t.state;
			x.reason = t.reason;
			x.cause = latest_cause(d);
			ret = fn(arg, &x);
		}
	}
	release(&s, order);
	return ret;
}

/* Each device's distributions: accepted (or pending) at least once, or only refused, and why. */
static int on_distribution(void *arg, const struct hfw_ledger_row *r)
{
	struct status *s = arg;
	struct device *d = find(s, r->device, 1);
	char why[200];

	if (!d)
		return s->oom ? -1 : 0;
	if (!strcmp(r->state, "accepted") || !strcmp(r->state, "pending") || !strcmp(r->state, "dry-run")) {
		d->accepted = 1;
	} else {
		snprintf(why, sizeof(why), "%s%s%s, RequestID %s", r->state, e_code(r->detail) ? " " : "",
			 e_code(r->detail) ? r->detail : "", r->request_id);
		d->refused = intern(&s->strings, why);
	}
	return s->oom ? -1 : 0;
}

int hfw_campaign_refused(hfw_ledger *l, const char *campaign,
			 int (*fn)(void *arg, const char *device, const char *why), void *arg, struct hfw_error *err)
{
	struct status s;
	struct device **order = NULL;
	size_t i;
	int ret;

	memset(&s, 0, sizeof(s));
	if ((ret = hfw_ledger_each_distribution(l, campaign, on_distribution, &s, err)) != 0) {
		if (ret > 0 || ret == -1)
			ret = hfw_error_oom(err);
		goto out;
	}
	if (!(order = calloc(s.n + 1, sizeof(*order)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	for (i = 0; i < s.n; i++)
		order[i] = &s.v[i];
	for (i = 0; i < s.n && ret == 0; i++) {
		struct device_text t;

		if (!order[i]->refused || order[i]->accepted)
			continue;
		device_text(&t, &s, order[i]);
		ret = fn(arg, t.eui, text_of(&s.strings, order[i]->refused));
	}
out:
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
	if (!(*summary = report(&s, order, campaign, 0, 0, all_at_goal))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if ((ret = add_quarantined(*summary, l, campaign, err)) < 0)
		goto out;
	if (!(head = json_dumps(*summary, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
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
		put_member(f, "earlier_failure", t.earlier);
		put_member(f, "last_alert", t.alert);
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

int hfw_campaign_states_of(int (*each_row)(void *src, int (*fn)(void *arg, const struct hfw_ledger_row *row),
					   void *arg, struct hfw_error *err),
			   void *src, int (*fn)(void *arg, const struct hfw_campaign_latest *d), void *arg,
			   struct hfw_error *err)
{
	struct status s;
	size_t i;
	int ret;

	memset(&s, 0, sizeof(s));
	/* The rows are the run's devices' own (one wave's): one that left before its first request leaves too. */
	s.events_name_devices = 1;
	if ((ret = each_row(src, on_row, &s, err)) != 0) {
		ret = ret > 0 || ret == -1 ? hfw_error_oom(err) : ret;
		goto out;
	}
	resolve(&s);
	for (i = 0; i < s.n && ret == 0; i++) {
		struct device_text t;

		struct hfw_campaign_latest x;

		if (s.v[i].by_event && !s.v[i].left)
			continue;	/* restored after a suspension, before any request: nothing to say */
		device_text(&t, &s, &s.v[i]);
		x.device = t.eui;
		x.state = t.state;
		x.reason = t.reason;
		x.cause = latest_cause(&s.v[i]);
		ret = fn(arg, &x);
	}
out:
	release(&s, NULL);
	return ret;
}
