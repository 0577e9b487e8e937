/*
 * clock.h - the core's one clock: wall time for RequestID counters and the
 * ledger's timestamps, monotonic time for rates and timeouts.  (The
 * emulator's simulated clock is the sandbox's own, simclock.h.)
 */
#ifndef HFW_CLOCK_H
#define HFW_CLOCK_H

#include <stdint.h>

#define HFW_UTC_TEXT_MAX 32

/* Milliseconds since the epoch, the DCC tooling's RequestID counter base. */
uint64_t hfw_now_ms(void);

/* Milliseconds on a clock that never goes back (for rates and deadlines). */
int64_t hfw_monotonic_ms(void);

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
int64_t hfw_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Now as UTC xs:dateTime with milliseconds, "2026-01-02T03:04:05.678Z". */
void hfw_utc_now_text(char out[HFW_UTC_TEXT_MAX]);

#endif
