/*
 * bench_xmllimits - what a hostile body costs the receiver before it is
 * refused (make bench; issue 11).
 *   bench_xmllimits TRUST_DIR SIGNED_SAMPLE SHAPE [BYTES]
 * Builds SHAPE (up to BYTES, default 2 MB: listen's body limit) inside the
 * Body of DCC Boxed's signed response, whose issuer and serial TRUST_DIR
 * trusts, so whatever passes the parser's limits is canonicalised and only
 * then refused (its digest no longer matches): the worst a sender without
 * the DCC's key can do.  Hands it to hfw_decode_response as listen does,
 * best of 3, and prints "SHAPE BYTES SECONDS PEAK_RSS_KB BASE_RSS_KB REASON".
 * One shape per process, so the peak RSS is that shape's.  "utf16-SHAPE"
 * is SHAPE in a document re-encoded as UTF-16 (BOM, encoding="UTF-16"),
 * in the same number of bytes: it once slipped past the byte-level limits.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "../../lib/decode.h"
#include "../../lib/fileio.h"
#include "../../lib/xml.h"
#include "../unit/hostile.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/*
 * Within every limit, the most namespace work: decls declared on one element
 * of the Body (3 more are in scope from the root), then as many empty
 * children as the namespace-work budget and the element cap allow.
 */
static void ns_heavy(struct text *t, unsigned decls, size_t room)
{
	unsigned scope = decls + 3, i;
	size_t n = (HFW_XML_MAX_NS_WORK - 5000) / ((size_t)scope * (scope + 4)), k;

	if (n > HFW_XML_MAX_ELEMENTS - 100)
		n = HFW_XML_MAX_ELEMENTS - 100;
	put(t, "<sr:x");
	for (i = 0; i < decls; i++)
		put(t, " xmlns:q%u=\"urn:x:%u\"", i, i);
	put(t, ">");
	for (k = 0; k < n && t->n + 16 < room; k++)
		put(t, "<q0:a/>");
	put(t, "</sr:x>");
}

/* The hostile part, at most about room bytes. */
static int shape(struct text *t, const char *name, size_t room)
{
	size_t k;
	unsigned i, j;

	if (!strcmp(name, "nested-namespaces")) {	/* the 177 KB body that took 13 s */
		hostile_nested_namespaces(t, "sr:x", 100, 80);
	} else if (!strcmp(name, "nested-namespaces-2mb")) {
		for (i = 0; t->n + 2200 < room; i++) {
			put(t, "<sr:x%u", i);
			for (j = 0; j < 80; j++)
				put(t, " xmlns:p%u_%u=\"urn:x:%u\"", i, j, j);
			put(t, ">");
		}
		while (i-- > 0)
			put(t, "</sr:x%u>", i);
	} else if (!strcmp(name, "deep")) {
		hostile_deep(t, "sr:a", room ? (room - 1) / 13 : 0);	/* 13 bytes a level */
	} else if (!strcmp(name, "attributes")) {
		hostile_attributes(t, "<sr:a", "a", room);
		put(t, "/>");
	} else if (!strcmp(name, "declarations")) {
		hostile_attributes(t, "<sr:a", "xmlns:a", room);
		put(t, "/>");
	} else if (!strcmp(name, "empty-elements")) {
		hostile_repeat(t, "<a/>", room);
	} else if (!strcmp(name, "comments")) {
		hostile_repeat(t, "<!---->", room);
	} else if (!strcmp(name, "within-limits-elements")) {	/* accepted by the parser, refused by the digest */
		for (k = 0; k < HFW_XML_MAX_ELEMENTS - 100 && t->n + 8 < room; k++)
			put(t, "<a/>");
	} else if (!strcmp(name, "within-limits-deep-elements")) {	/* the root's 3 declarations, depth 31 */
		for (i = 0; i < HFW_XML_MAX_DEPTH - 4; i++)
			put(t, "<b>");
		for (k = 0; k < (HFW_XML_MAX_NS_WORK - 20000) / (3 * (3 + HFW_XML_MAX_DEPTH + 1)) && t->n + 8 < room; k++)
			put(t, "<a/>");
		for (i = 0; i < HFW_XML_MAX_DEPTH - 4; i++)
			put(t, "</b>");
	} else if (!strcmp(name, "within-limits-attributes")) {
		for (k = 0; k < (HFW_XML_MAX_ATTRIBUTES_TOTAL - 100) / HFW_XML_MAX_ATTRIBUTES && t->n + 300 < room; k++) {
			put(t, "<a");
			for (i = 0; i < HFW_XML_MAX_ATTRIBUTES; i++)
				put(t, " a%u=''", i);
			put(t, "/>");
		}
	} else if (!strncmp(name, "within-limits-namespaces-", 25)) {
		ns_heavy(t, (unsigned)strtoul(name + 25, NULL, 10), room);
	} else {
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_trust *trust = NULL;
	struct text t = { NULL, 0, 0 };
	uint8_t *sample = NULL;
	size_t len, room = argc > 4 ? strtoul(argv[4], NULL, 10) : 2u * 1024 * 1024;
	const char *body, *name;
	long base;
	int utf16;
	double best = 1e9;
	int run;

	if (argc < 4)
		return 2;
	name = argv[3];
	if ((utf16 = !strncmp(name, "utf16-", 6)))
		name += 6, room /= 2;
	if (hfw_trust_load_dir(&trust, argv[1], &err) < 0 ||
	    hfw_file_read(&sample, &len, argv[2], 1 << 20, "sample", &err) < 0) {
		fprintf(stderr, "bench_xmllimits: %s\n", err.text);
		return 1;
	}
	if (!(body = strstr((char *)sample, "<sr:Body>")))
		return 1;
	body += strlen("<sr:Body>");
	put(&t, "%.*s", (int)(body - (char *)sample), (char *)sample);
	if (shape(&t, name, room - (len - (size_t)(body - (char *)sample))) < 0) {
		fprintf(stderr, "bench_xmllimits: no shape '%s'\n", argv[3]);
		return 2;
	}
	put(&t, "%s", body);
	if (utf16) {	/* the sample is ASCII: each byte becomes two, after a byte order mark */
		static const char decl[] = "encoding=\"UTF-16\"";
		char *w = malloc(2 * t.n + 64), *at;
		size_t i, n = 2;

		if (!w || !(at = strstr(t.s, "encoding=\"UTF-8\"")))
			return 1;
		w[0] = '\xFF', w[1] = '\xFE';
		for (i = 0; i < t.n; i++) {
			if (t.s + i == at) {
				size_t j;

				for (j = 0; decl[j]; j++)
					w[n++] = decl[j], w[n++] = 0;
				i += strlen("encoding=\"UTF-8\"") - 1;
				continue;
			}
			w[n++] = t.s[i], w[n++] = 0;
		}
		free(t.s);
		t.s = w, t.n = n;
	}
	base = peak_rss_kb();
	for (run = 0; run < 3; run++) {
		json_t *d = NULL;
		double t0 = now(), dt;

		err.text[0] = '\0';
		if (hfw_decode_response(&d, (uint8_t *)t.s, t.n, trust, &err) == 0) {
			fprintf(stderr, "bench_xmllimits: %s was accepted\n", argv[3]);
			return 1;
		}
		dt = now() - t0;
		if (dt < best)
			best = dt;
	}
	printf("%s %zu %.4f %ld %ld %s\n", argv[3], t.n, best, peak_rss_kb(), base, err.text);
	free(t.s);
	free(sample);
	hfw_trust_free(trust);
	return 0;
}
