/*
 * dynlib.h - load a shared library on first use.
 *
 * libcurl, libmicrohttpd and GnuTLS bring some thirty libraries with them;
 * linking them would make every hanfw command (package, sign, verify...)
 * pay for loading them at start-up, several milliseconds each time.  Only
 * the commands that talk over the network load them, through this.
 */
#ifndef HFW_DYNLIB_H
#define HFW_DYNLIB_H

#include "error.h"

struct hfw_dynsym {
	const char *name;
	void **slot;	/* where the address goes; function pointers, POSIX-style */
};

/* dlopen soname and resolve every symbol (NULL-terminated list).  HFW_ECONFIG names what is missing. */
int hfw_dynlib_load(const char *soname, const struct hfw_dynsym *syms, struct hfw_error *err);

#endif
