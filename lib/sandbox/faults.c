/* faults.c - seeded faults for the sandbox (see faults.h). */
#define _POSIX_C_SOURCE 200809L
#include "faults.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t z)
{
	/* splitmix64's finaliser: every input bit reaches every output bit. */
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

uint64_t hfw_faults_draw(const struct hfw_faults *f, const char *what, uint64_t key)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a of the purpose, so purposes draw apart */

	for (; *what; what++)
		h = (h ^ (unsigned char)*what) * 0x100000001b3ull;
	return mix(mix(f->seed ^ h) ^ key);
}

int hfw_faults_chance(const struct hfw_faults *f, const char *what, uint64_t key, double p)
{
	if (p <= 0)
		return 0;
	if (p >= 1)
		return 1;
	return (double)(hfw_faults_draw(f, what, key) >> 11) * 0x1p-53 < p;
}

const char *hfw_faults_ecode(const struct hfw_faults *f, const struct hfw_eui *eui)
{
	size_t i;

	for (i = 0; i < f->necodes; i++)
		if (!memcmp(f->ecodes[i].eui.b, eui->b, HFW_EUI_LEN))
			return f->ecodes[i].code;
	return NULL;
}

static int probability(double *out, const char *name, const char *v, struct hfw_error *err)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (errno || end == v || *end || !(*out >= 0 && *out <= 1))
		return hfw_error_set(err, HFW_EINPUT, "fault '%s=%s': give a probability from 0 to 1", name, v);
	return 0;
}

static int millis(uint64_t *out, const char *name, const char *v, struct hfw_error *err)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || n > 1000ull * 86400 * 366)
		return hfw_error_set(err, HFW_EINPUT, "fault '%s=%s': give milliseconds", name, v);
	*out = n;
	return 0;
}

static int ecode(struct hfw_faults *f, const char *v, struct hfw_error *err)
{
	const char *colon = strrchr(v, ':');
	char eui[64];
	size_t n;

	if (!colon || (size_t)(colon - v) >= sizeof(eui) || colon[1] != 'E' || strlen(colon + 1) >= sizeof(f->ecodes[0].code))
		return hfw_error_set(err, HFW_EINPUT, "fault 'ecode=%s': give EUI:ECODE, e.g. ecode=00-DB-12-10-01-00-00-01:E20", v);
	for (n = 2; colon[n]; n++)
		if (colon[n] < '0' || colon[n] > '9')
			return hfw_error_set(err, HFW_EINPUT, "fault 'ecode=%s': '%s' is not an E-code", v, colon + 1);
	if (f->necodes == HFW_FAULTS_MAX_ECODES)
		return hfw_error_set(err, HFW_EINPUT, "fault 'ecode': at most %d devices", HFW_FAULTS_MAX_ECODES);
	memcpy(eui, v, (size_t)(colon - v));
	eui[colon - v] = '\0';
	if (hfw_eui_parse(&f->ecodes[f->necodes].eui, eui, "device", err) < 0)
		return hfw_error_set(err, HFW_EINPUT, "fault 'ecode=%s': '%s' is not an EUI-64", v, eui);
	memcpy(f->ecodes[f->necodes++].code, colon + 1, strlen(colon + 1) + 1);	/* length checked above */
	return 0;
}

static const char *const event_names[] = { "cos", "suspended", "decommissioned", "withdrawn", "ppmid-removed" };
static const char *const breach_names[] = { "ADUserThresholdBreach", "ADDCCThresholdBreach", "ADAttributeLimitsBreach" };

const char *hfw_fault_event_name(enum hfw_fault_event e)
{
	return (size_t)e < sizeof(event_names) / sizeof(event_names[0]) ? event_names[e] : "?";
}

const char *hfw_breach_name(enum hfw_breach b)
{
	return (size_t)b < sizeof(breach_names) / sizeof(breach_names[0]) ? breach_names[b] : "?";
}

const struct hfw_model_faults *hfw_faults_model(const struct hfw_faults *f, const char *model)
{
	size_t i;

	for (i = 0; model && i < f->nmodels; i++)
		if (!strcmp(f->models[i].model, model))
			return &f->models[i];
	return NULL;
}

int hfw_faults_event(const struct hfw_faults *f, const struct hfw_eui *eui, int is_ppmid)
{
	size_t i;

	for (i = 0; i < f->nevents; i++)
		if (f->events[i].by_eui && !memcmp(f->events[i].eui.b, eui->b, HFW_EUI_LEN) &&
		    (f->events[i].kind != HFW_EVENT_PPMID_REMOVED || is_ppmid))
			return (int)f->events[i].kind;
	for (i = 0; i < f->nevents; i++)
		if (!f->events[i].by_eui && (f->events[i].kind != HFW_EVENT_PPMID_REMOVED || is_ppmid) &&
		    hfw_faults_chance(f, event_names[f->events[i].kind], hfw_eui_to_u64(eui), f->events[i].fraction))
			return (int)f->events[i].kind;
	return -1;
}

/* P/K: a probability and a count of times, 1 to 255 (K required unless optional). */
static int times(double *p, unsigned *k, const char *name, char *v, int optional, struct hfw_error *err)
{
	char *slash = strchr(v, '/'), *end;
	unsigned long n;

	if (!slash && optional) {
		*k = 0;
		return probability(p, name, v, err);
	}
	if (!slash)
		return hfw_error_set(err, HFW_EINPUT, "fault '%s=%s': give P/K, a probability and a count of times", name, v);
	*slash = '\0';
	if (probability(p, name, v, err) < 0)
		return err->code;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || n < 1 || n > 255 || slash[1] == '-')
		return hfw_error_set(err, HFW_EINPUT, "fault '%s=%s/%s': give a count of times from 1 to 255", name, v,
				     slash + 1);
	*k = (unsigned)n;
	return 0;
}

/* model=MODEL:NAME=P[:NAME=P...], NAME one of hash, offline, slot (P or P/K), flaky (P/K). */
static int model(struct hfw_faults *f, const char *v, struct hfw_error *err)
{
	const char *colon = strchr(v, ':');
	struct hfw_model_faults *m;
	char *copy = NULL, *item, *save = NULL;
	size_t n = colon ? (size_t)(colon - v) : 0;
	int ret = 0;

	if (!colon || !n || n >= sizeof(m->model) || !colon[1])
		return hfw_error_set(err, HFW_EINPUT, "fault 'model=%s': give MODEL:hash=P, :offline=P or :slot=P", v);
	for (m = NULL, n = 0; n < f->nmodels; n++)
		if (!strncmp(f->models[n].model, v, (size_t)(colon - v)) && !f->models[n].model[colon - v])
			m = &f->models[n];
	if (!m) {
		if (f->nmodels == HFW_FAULTS_MAX_MODELS)
			return hfw_error_set(err, HFW_EINPUT, "fault 'model': at most %d models", HFW_FAULTS_MAX_MODELS);
		m = &f->models[f->nmodels++];
		memcpy(m->model, v, (size_t)(colon - v));
		m->model[colon - v] = '\0';
	}
	if (!(copy = strdup(colon + 1)))
		return hfw_error_oom(err);
	for (item = strtok_r(copy, ":", &save); item && ret == 0; item = strtok_r(NULL, ":", &save)) {
		char *p = strchr(item, '=');

		if (!p) {
			ret = hfw_error_set(err, HFW_EINPUT, "fault 'model=%s': give MODEL:hash=P, :offline=P or :slot=P", v);
			break;
		}
		*p++ = '\0';
		if (!strcmp(item, "hash"))
			ret = probability(&m->hash, item, p, err);
		else if (!strcmp(item, "offline"))
			ret = probability(&m->offline, item, p, err);
		else if (!strcmp(item, "slot"))
			ret = times(&m->slot, &m->slot_times, item, p, 1, err);
		else if (!strcmp(item, "flaky"))
			ret = times(&m->flaky, &m->flaky_times, item, p, 0, err);
		else
			ret = hfw_error_set(err, HFW_EINPUT, "fault 'model=%s': unknown '%s' (hash, offline, slot, flaky)", v,
					    item);
	}
	free(copy);
	return ret;
}

/* event=KIND:EUI or event=KIND:FRACTION. */
static int event(struct hfw_faults *f, const char *v, struct hfw_error *err)
{
	const char *colon = strchr(v, ':');
	struct hfw_fault_event_rule *r;
	size_t i;

	if (f->nevents == HFW_FAULTS_MAX_EVENTS)
		return hfw_error_set(err, HFW_EINPUT, "fault 'event': at most %d rules", HFW_FAULTS_MAX_EVENTS);
	r = &f->events[f->nevents];
	memset(r, 0, sizeof(*r));
	for (i = 0; colon && i < sizeof(event_names) / sizeof(event_names[0]); i++)
		if (strlen(event_names[i]) == (size_t)(colon - v) && !strncmp(v, event_names[i], (size_t)(colon - v)))
			break;
	if (!colon || i == sizeof(event_names) / sizeof(event_names[0]))
		return hfw_error_set(err, HFW_EINPUT, "fault 'event=%s': give KIND:EUI or KIND:FRACTION, KIND one of cos, "
				     "suspended, decommissioned, withdrawn, ppmid-removed", v);
	r->kind = (enum hfw_fault_event)i;
	if (probability(&r->fraction, "event", colon + 1, err) < 0) {
		if (hfw_eui_parse(&r->eui, colon + 1, "device", err) < 0)
			return hfw_error_set(err, HFW_EINPUT, "fault 'event=%s': give an EUI-64 or a fraction from 0 to 1", v);
		r->by_eui = 1;
	}
	f->nevents++;
	return 0;
}

/* quarantine=N/WINDOW, WINDOW in milliseconds or with s, m or h. */
static int quarantine(struct hfw_faults *f, const char *v, struct hfw_error *err)
{
	const char *spec = v;
	char *end;
	unsigned long long n, w;
	uint64_t unit = 1;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v || v[0] == '-' || *end != '/' || !end[1] || end[1] == '-')
		goto bad;
	v = end + 1;
	w = strtoull(v, &end, 10);
	if (errno || end == v)
		goto bad;
	if (*end == 's' || *end == 'm' || *end == 'h')
		unit = *end == 's' ? 1000 : *end == 'm' ? 60000 : 3600000, end++;
	if (*end || w == 0 || w > 366ull * 86400 * 1000 / unit || n > 1000000000ull)
		goto bad;
	f->quarantine_max = n;
	f->quarantine_window_ms = w * unit;
	return 0;
bad:
	return hfw_error_set(err, HFW_EINPUT, "fault 'quarantine=%s': give N/WINDOW, e.g. quarantine=10/1h", spec);
}

static int breach(struct hfw_faults *f, const char *v, struct hfw_error *err)
{
	static const char *const names[] = { "user", "dcc", "attribute" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(v, names[i])) {
			f->breach = (enum hfw_breach)i;
			return 0;
		}
	return hfw_error_set(err, HFW_EINPUT, "fault 'breach=%s': give user, dcc or attribute", v);
}

static int tamper(struct hfw_faults *f, const char *v, struct hfw_error *err)
{
	static const char *const names[] = { "none", "hash", "recipient", "counter", "code", "time", "mixed" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(v, names[i])) {
			f->tamper = (enum hfw_tamper)i;
			return 0;
		}
	return hfw_error_set(err, HFW_EINPUT, "fault 'tamper=%s': give hash, recipient, counter, code, time or mixed", v);
}

int hfw_faults_parse(struct hfw_faults *f, const char *spec, uint64_t seed, struct hfw_error *err)
{
	char *copy = NULL, *item, *save = NULL;
	int ret = 0;

	memset(f, 0, sizeof(*f));
	f->seed = seed;
	if (!spec || !*spec)
		return 0;
	if (!(copy = strdup(spec)))
		return hfw_error_oom(err);
	for (item = strtok_r(copy, ",", &save); item && ret == 0; item = strtok_r(NULL, ",", &save)) {
		char *v = strchr(item, '=');

		if (!v) {
			ret = hfw_error_set(err, HFW_EINPUT, "fault '%s': give NAME=VALUE", item);
			break;
		}
		*v++ = '\0';
		if (!strcmp(item, "drop"))
			ret = probability(&f->drop, item, v, err);
		else if (!strcmp(item, "dup"))
			ret = probability(&f->dup, item, v, err);
		else if (!strcmp(item, "reorder"))
			ret = probability(&f->reorder, item, v, err);
		else if (!strcmp(item, "delay"))
			ret = millis(&f->delay_ms, item, v, err);
		else if (!strcmp(item, "rrs-down"))
			ret = millis(&f->rrs_down_ms, item, v, err);
		else if (!strcmp(item, "http503"))
			ret = probability(&f->http503, item, v, err);
		else if (!strcmp(item, "slow"))
			ret = millis(&f->slow_ms, item, v, err);
		else if (!strcmp(item, "offline"))
			ret = probability(&f->offline, item, v, err);
		else if (!strcmp(item, "sleepy"))
			ret = probability(&f->sleepy, item, v, err);
		else if (!strcmp(item, "transfer-fail"))
			ret = probability(&f->transfer_fail, item, v, err);
		else if (!strcmp(item, "bad-hash"))
			ret = probability(&f->bad_hash, item, v, err);
		else if (!strcmp(item, "read-error"))
			ret = probability(&f->read_error, item, v, err);
		else if (!strcmp(item, "busy"))
			ret = probability(&f->busy, item, v, err);
		else if (!strcmp(item, "ecode"))
			ret = ecode(f, v, err);
		else if (!strcmp(item, "tamper"))
			ret = tamper(f, v, err);
		else if (!strcmp(item, "model"))
			ret = model(f, v, err);
		else if (!strcmp(item, "event"))
			ret = event(f, v, err);
		else if (!strcmp(item, "quarantine"))
			ret = quarantine(f, v, err);
		else if (!strcmp(item, "breach"))
			ret = breach(f, v, err);
		else
			ret = hfw_error_set(err, HFW_EINPUT,
					    "unknown fault '%s' (drop, dup, reorder, delay, rrs-down, http503, slow, offline, "
					    "sleepy, transfer-fail, bad-hash, read-error, busy, ecode, tamper, model, event, "
					    "quarantine, breach)", item);
	}
	free(copy);
	return ret;
}
