/*
 * log.h - how the emulator tells its command something as it happens (a
 * device key that will not load, a message it cannot sign or deliver).
 * Like the rest of lib/, the emulator never prints: cmd/sandbox.c supplies
 * the callback and decides where the line goes.  The callback may be called
 * from any of the emulator's threads, one whole line at a time.
 */
#ifndef HFW_SANDBOX_LOG_H
#define HFW_SANDBOX_LOG_H

#include "../error.h"

struct hfw_sandbox_log {
	void (*fn)(void *arg, const char *line);	/* NULL: lines are dropped */
	void *arg;
};

/* Format one line (no newline) and hand it to log->fn; log may be NULL. */
void hfw_sandbox_logf(const struct hfw_sandbox_log *log, const char *fmt, ...) HFW_PRINTF(2, 3);

#endif
