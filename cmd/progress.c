/*
 * progress.c - the campaign run's status line (progress.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "progress.h"

double cmd_progress_rate(const struct cmd_progress_sample *s, size_t n, uint64_t now_ms)
{
	size_t i = 0;
	uint64_t from = now_ms > 60000 ? now_ms - 60000 : 0;

	if (n < 2)
		return 0;
	/* The newest sample at or before the minute's start, else the oldest in it. */
	while (i + 1 < n - 1 && s[i + 1].ms <= from)
		i++;
	if (s[n - 1].ms <= s[i].ms || s[n - 1].finished < s[i].finished)
		return 0;
	return (double)(s[n - 1].finished - s[i].finished) * 60000.0 / (double)(s[n - 1].ms - s[i].ms);
}

int64_t cmd_progress_eta(size_t devices_left, double per_min, int64_t budget_s, int *at_least)
{
	int64_t eta;

	*at_least = 0;
	if (!devices_left)
		return 0;
	if (per_min <= 0) {
		if (budget_s <= 0)
			return -1;
		*at_least = 1;
		return budget_s;
	}
	eta = (int64_t)((double)devices_left * 60.0 / per_min + 0.999);
	return eta > budget_s ? eta : budget_s;
}

void cmd_progress_duration(char *out, size_t size, int64_t s)
{
	if (s >= 3600)
		snprintf(out, size, "%" PRId64 " h %" PRId64 " min", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, size, "%" PRId64 " min %" PRId64 " s", s / 60, s % 60);
	else
		snprintf(out, size, "%" PRId64 " s", s < 0 ? 0 : s);
}

void cmd_progress_format(char *out, size_t size, const struct hfw_rollout_progress *p, double per_min,
			 const char *state)
{
	size_t busy = p->steps[HFW_RUN_DISTRIBUTE] + p->steps[HFW_RUN_ACTIVATE] + p->steps[HFW_RUN_READ_VERSION];
	char eta[64] = "unknown";
	int64_t s;
	int at_least, n;

	s = cmd_progress_eta(p->devices_left, per_min, p->budget_left_s, &at_least);
	if (s >= 0) {
		char d[48];

		cmd_progress_duration(d, sizeof(d), s);
		snprintf(eta, sizeof(eta), "%s%s", at_least ? "at least " : "", d);
	}
	if (!state)
		state = p->paused ? "paused" : p->paced ? "waiting for budget room" : NULL;
	n = snprintf(out, size,
		     "campaign %s: wave %" PRId64 "/%" PRId64 ": pending %zu, in progress %zu, done %zu, failed %zu, "
		     "left %zu, skipped %zu; %.1f devices/min; ETA %s%s%s",
		     p->campaign ? p->campaign : "?", p->wave, p->waves, p->steps[HFW_RUN_PENDING], busy,
		     p->steps[HFW_RUN_DONE], p->steps[HFW_RUN_FAILED], p->steps[HFW_RUN_LEFT], p->steps[HFW_RUN_SKIPPED],
		     per_min, eta, state ? "; " : "", state ? state : "");
	if (n < 0 && size)
		out[0] = 0;
}
