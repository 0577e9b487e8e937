/*
 * simclock.h - the sandbox's simulated time: wall-clock time at start, then
 * running "scale" times faster, so a day of firmware delivery can pass in
 * seconds in a test.  All times are milliseconds since the Unix epoch.
 */
#ifndef HFW_SIMCLOCK_H
#define HFW_SIMCLOCK_H

#include <stdint.h>
#include <time.h>

struct hfw_simclock {
	double scale;		/* simulated ms per real ms, >= 1 */
	int64_t real0, sim0;	/* CLOCK_MONOTONIC and CLOCK_REALTIME at start, ms */
};

static inline int64_t hfw_clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void hfw_simclock_start(struct hfw_simclock *c, double scale)
{
	c->scale = scale < 1 ? 1 : scale;
	c->real0 = hfw_clock_ms(CLOCK_MONOTONIC);
	c->sim0 = hfw_clock_ms(CLOCK_REALTIME);
}

/* Simulated now. */
static inline int64_t hfw_simclock_now(const struct hfw_simclock *c)
{
	return c->sim0 + (int64_t)((double)(hfw_clock_ms(CLOCK_MONOTONIC) - c->real0) * c->scale);
}

/* The CLOCK_MONOTONIC time (ms) at which simulated time reaches sim. */
static inline int64_t hfw_simclock_real_at(const struct hfw_simclock *c, int64_t sim)
{
	return c->real0 + (int64_t)((double)(sim - c->sim0) / c->scale);
}

#endif
