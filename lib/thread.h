/*
 * thread.h - a helper thread that starts on another core.
 *
 * hanfw's threads are short (a ledger opening while the keys load, a
 * batch's self-verifications): worth having only if they run beside the
 * thread that started them.  Linux placed a process's first new thread on
 * its parent's core, where it ran while its parent waited (measured: two
 * half-millisecond tasks took 1.1 ms, not 0.55).  So the thread is started
 * on the other online cores, then allowed onto all of them again.
 */
#ifndef HFW_THREAD_H
#define HFW_THREAD_H

#include <pthread.h>
#include <stddef.h>

#include "error.h"

/*
 * pthread_create(tid, NULL, fn, arg) on a core other than the caller's if
 * there is one; HFW_ERROR (or HFW_ENOMEM) if it cannot start.
 */
int hfw_thread_start(pthread_t *tid, void *(*fn)(void *), void *arg, struct hfw_error *err);

/*
 * fn(arg, i) for every i in [0, n), on up to HFW_THREADS_MAX threads (one
 * per online core, the caller's thread among them), thread t taking t,
 * t + k, t + 2k, ...; returns when every call has.  One call or one core:
 * no thread.  A thread that cannot start leaves its share to the caller.
 */
#define HFW_THREADS_MAX 8
void hfw_thread_for(size_t n, void (*fn)(void *arg, size_t i), void *arg);

#endif
