/*
 * progress.h - what "hanfw campaign run" shows on a terminal: one status
 * line (wave k/n, the wave's devices per state, devices finished per
 * minute over the last minute, ETA, paused/halted), redrawn in place.
 * Pure functions, so the line is tested without a terminal.
 */
#ifndef HFW_CMD_PROGRESS_H
#define HFW_CMD_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/rollout.h"

/* Devices finished (done, failed, left) in the whole run so far, at ms. */
struct cmd_progress_sample {
	uint64_t ms;
	uint64_t finished;
};

/*
 * Devices finished per minute over the last minute before now_ms, from
 * samples s[0..n) oldest first: the finished between the oldest sample
 * in that minute (or the newest before it) and the newest, per minute of
 * time between them.  0 with fewer than two samples or no time between.
 */
double cmd_progress_rate(const struct cmd_progress_sample *s, size_t n, uint64_t now_ms);

/*
 * Seconds until devices_left are finished at per_min, or the budgets'
 * lower bound budget_s when that is longer; -1 when unknown (no rate and
 * no bound).  *at_least: only the budgets' bound is known.
 */
int64_t cmd_progress_eta(size_t devices_left, double per_min, int64_t budget_s, int *at_least);

/* "1 h 20 min", "3 min 5 s", "45 s". */
void cmd_progress_duration(char *out, size_t size, int64_t s);

/*
 * The status line (no carriage return, no newline): state is NULL while
 * running, else "halted", "paused", "completed" and so on.
 */
void cmd_progress_format(char *out, size_t size, const struct hfw_rollout_progress *p, double per_min,
			 const char *state);

#endif
