/* dynlib.c - load a shared library on first use (see dynlib.h). */
#include "dynlib.h"

#include <dlfcn.h>

int hfw_dynlib_load(const char *soname, const struct hfw_dynsym *syms, struct hfw_error *err)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return hfw_error_set(err, HFW_ECONFIG, "cannot load %s: %s (run scripts/bootstrap)", soname, dlerror());
	for (; syms->name; syms++)
		if (!(*syms->slot = dlsym(h, syms->name)))
			return hfw_error_set(err, HFW_ECONFIG, "%s has no %s: too old?", soname, syms->name);
	return 0;	/* the library stays loaded for the life of the process */
}
