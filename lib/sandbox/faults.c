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
		else if (!strcmp(item, "ecode"))
			ret = ecode(f, v, err);
		else if (!strcmp(item, "tamper"))
			ret = tamper(f, v, err);
		else
			ret = hfw_error_set(err, HFW_EINPUT,
					    "unknown fault '%s' (drop, dup, reorder, delay, rrs-down, http503, slow, offline, "
					    "sleepy, transfer-fail, bad-hash, read-error, ecode, tamper)", item);
	}
	free(copy);
	return ret;
}
