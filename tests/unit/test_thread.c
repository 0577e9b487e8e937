/* test_thread.c - lib/thread.c: a helper thread that starts on another core. */
#define _GNU_SOURCE	/* sched_getaffinity, pthread_getaffinity_np */
#include <sched.h>

#include "testutil.h"

#include "../../lib/thread.h"

struct probe {
	int ran;
	cpu_set_t mask;		/* the thread's cores while it runs */
};

static void *run(void *arg)
{
	struct probe *p = arg;

	p->ran = 1;
	(void)pthread_getaffinity_np(pthread_self(), sizeof(p->mask), &p->mask);
	return p;
}

/* It runs the function with its argument, and may then run on every core the caller may. */
static void runs_on_every_core_it_may(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct probe p = { 0 };
	cpu_set_t all;
	pthread_t tid;
	void *back = NULL;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	if (CPU_COUNT(&all) < 2)
		skip();	/* one core: nothing to start elsewhere, nothing to widen (one_core_still_starts) */
	assert_int_equal(hfw_thread_start(&tid, run, &p, &err), 0);
	assert_int_equal(pthread_join(tid, &back), 0);
	assert_ptr_equal(back, &p);
	assert_int_equal(p.ran, 1);
	assert_true(CPU_EQUAL(&p.mask, &all));
}

/* A caller held to one core (or a one-core machine): the thread still starts, on that core. */
static void one_core_still_starts(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct probe p = { 0 };
	cpu_set_t all, one;
	pthread_t tid;
	int here = sched_getcpu();

	(void)state;
	assert_true(here >= 0);
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	CPU_ZERO(&one);
	CPU_SET(here, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(hfw_thread_start(&tid, run, &p, &err), 0);
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	assert_int_equal(p.ran, 1);
	assert_true(CPU_EQUAL(&p.mask, &one));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runs_on_every_core_it_may),
		cmocka_unit_test(one_core_still_starts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
