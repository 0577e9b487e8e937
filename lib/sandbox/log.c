/* log.c - the emulator's log callback (log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void hfw_sandbox_logf(const struct hfw_sandbox_log *log, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!log || !log->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log->fn(log->arg, line);
}
