/* dynlib.c - load a shared library on first use (see dynlib.h). */
#include "dynlib.h"

#include <dlfcn.h>
#include <pthread.h>

/*
 * One load at a time.  glibc already serialises dlopen (and the libraries'
 * constructors) under its loader lock, but ThreadSanitizer cannot see that
 * lock: "sandbox serve" loads libmicrohttpd on its main thread while an
 * outbox thread loads libcurl, both bringing GnuTLS, and TSan took GnuTLS's
 * start-up for a race.  This lock makes the order visible to it.
 */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

int hfw_dynlib_load(const char *soname, const struct hfw_dynsym *syms, struct hfw_error *err)
{
	int ret = 0;
	void *h;

	pthread_mutex_lock(&load_lock);
	if (!(h = dlopen(soname, RTLD_NOW | RTLD_LOCAL))) {
		ret = hfw_error_set(err, HFW_ECONFIG, "cannot load %s: %s (run scripts/bootstrap)", soname, dlerror());
		goto out;
	}
	for (; syms->name; syms++)
		if (!(*syms->slot = dlsym(h, syms->name))) {
			ret = hfw_error_set(err, HFW_ECONFIG, "%s has no %s: too old?", soname, syms->name);
			goto out;
		}
out:
	pthread_mutex_unlock(&load_lock);
	return ret;	/* the library stays loaded for the life of the process */
}
