/*
 * hostile.h - hostile XML shapes built in memory, for the limits
 * hfw_xml_parse enforces (issue 11).  One copy serves the unit tests
 * (tests/unit/test_xml.c: each limit refuses) and the benchmark
 * (tests/bench/bench_xmllimits.c: what a refusal costs).  Header-only.
 * An includer may define HOSTILE_FAIL(what) before including it (the unit
 * tests fail the test); otherwise a failure to build a shape exits 1.
 */
#ifndef HFW_HOSTILE_H
#define HFW_HOSTILE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/error.h"

#ifndef HOSTILE_FAIL
#define HOSTILE_FAIL(what) exit(1)
#endif

/* A growing text buffer (the shapes are up to a few MB). */
struct text {
	char *s;
	size_t n, cap;
};

static inline void put(struct text *t, const char *fmt, ...) HFW_PRINTF(2, 3);

static inline void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			HOSTILE_FAIL("vsnprintf failed");
		if (t->s && t->n + (size_t)n < t->cap)
			break;
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		if (!t->s)
			HOSTILE_FAIL("out of memory");
	}
	t->n += (size_t)n;
}

/* The text freed and emptied, ready for the next shape. */
static inline void text_free(struct text *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}

/* levels nested <tagI>, each declaring decls namespaces pI_J="urn:x:J", then closed. */
static inline void hostile_nested_namespaces(struct text *t, const char *tag, unsigned levels, unsigned decls)
{
	unsigned i, j;

	for (i = 0; i < levels; i++) {
		put(t, "<%s%u", tag, i);
		for (j = 0; j < decls; j++)
			put(t, " xmlns:p%u_%u=\"urn:x:%u\"", i, j, j);
		put(t, ">");
	}
	for (i = levels; i-- > 0;)
		put(t, "</%s%u>", tag, i);
}

/* levels nested <tag>, then closed. */
static inline void hostile_deep(struct text *t, const char *tag, size_t levels)
{
	size_t k;

	for (k = 0; k < levels; k++)
		put(t, "<%s>", tag);
	for (k = 0; k < levels; k++)
		put(t, "</%s>", tag);
}

/* open, then attributes " nameI=''" until the text holds until bytes; the caller closes the tag. */
static inline void hostile_attributes(struct text *t, const char *open, const char *name, size_t until)
{
	unsigned i;

	put(t, "%s", open);
	for (i = 0; t->n < until; i++)
		put(t, " %s%u=''", name, i);
}

/* unit again and again until the text holds until bytes. */
static inline void hostile_repeat(struct text *t, const char *unit, size_t until)
{
	while (t->n < until)
		put(t, "%s", unit);
}

#endif
