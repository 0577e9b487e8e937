/* thread.c - a helper thread that starts on another core (see thread.h). */
#define _GNU_SOURCE	/* sched_getcpu, pthread_attr_setaffinity_np */
#include "thread.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

struct start {
	void *(*fn)(void *);
	void *arg;
	cpu_set_t all;
	int widen;
};

/* Back onto every core the process may use, then the caller's function. */
static void *begin(void *p)
{
	struct start s = *(struct start *)p;

	free(p);
	if (s.widen)
		(void)pthread_setaffinity_np(pthread_self(), sizeof(s.all), &s.all);
	return s.fn(s.arg);
}

int hfw_thread_start(pthread_t *tid, void *(*fn)(void *), void *arg, struct hfw_error *err)
{
	struct start *s = calloc(1, sizeof(*s));
	pthread_attr_t attr;
	cpu_set_t others;
	int here = sched_getcpu(), attr_ok, ret = 0;

	if (!s)
		return hfw_error_oom(err);
	s->fn = fn;
	s->arg = arg;
	attr_ok = pthread_attr_init(&attr) == 0;
	if (attr_ok && here >= 0 && sched_getaffinity(0, sizeof(s->all), &s->all) == 0) {
		others = s->all;
		CPU_CLR(here, &others);
		/* One core only, or a failure: the thread starts wherever Linux puts it. */
		s->widen = CPU_COUNT(&others) > 0 &&
			   pthread_attr_setaffinity_np(&attr, sizeof(others), &others) == 0;
	}
	if (pthread_create(tid, attr_ok ? &attr : NULL, begin, s) != 0) {
		free(s);
		ret = hfw_error_set(err, HFW_ERROR, "cannot start a thread");
	}
	if (attr_ok)
		pthread_attr_destroy(&attr);
	return ret;
}

struct share {
	void (*fn)(void *arg, size_t i);
	void *arg;
	size_t n, first, step;
};

static void *run_share(void *p)
{
	const struct share *s = p;
	size_t i;

	for (i = s->first; i < s->n; i += s->step)
		s->fn(s->arg, i);
	return NULL;
}

void hfw_thread_for(size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
	pthread_t tid[HFW_THREADS_MAX];
	struct share sh[HFW_THREADS_MAX];
	long cores = n > 1 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;	/* one call: no thread, no /sys read */
	size_t k, t, started = 0;

	k = cores < 1 ? 1 : cores > HFW_THREADS_MAX ? HFW_THREADS_MAX : (size_t)cores;
	if (k > n)
		k = n ? n : 1;
	for (t = 0; t < k; t++)
		sh[t] = (struct share){ fn, arg, n, t, k };
	for (t = 1; t < k; t++) {
		struct hfw_error ignored = HFW_ERROR_INIT;

		if (hfw_thread_start(&tid[t], run_share, &sh[t], &ignored) < 0)
			break;
		started = t;
	}
	for (t = started + 1; t < k; t++)	/* not started: done here */
		run_share(&sh[t]);
	run_share(&sh[0]);
	for (t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
}
