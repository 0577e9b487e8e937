/*
 * mkestate - a mixed estate of about N devices in DIR, as "hanfw sandbox
 * init --mixed N" makes it but without the sandbox's PKI (a key per meter
 * would take minutes for a million devices): estate.json, supplier.csv,
 * products.json, images.txt and truth.json (lib/sandbox/estategen.h).
 * For the benchmarks.  Usage: mkestate DIR N [SEED]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/sandbox/estategen.h"

int main(int argc, char **argv)
{
	struct hfw_error err = HFW_ERROR_INIT;
	unsigned long long n, seed = 1;
	char *end;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: mkestate DIR N [SEED]\n");
		return 2;
	}
	errno = 0;
	n = strtoull(argv[2], &end, 10);
	if (errno || *end || n == 0 || (argc == 4 && ((seed = strtoull(argv[3], &end, 10)), errno || *end))) {
		fprintf(stderr, "mkestate: N and SEED are numbers\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "mkestate: %s: %s\n", argv[1], strerror(errno));
		return 9;
	}
	if (hfw_estategen_mixed_files(argv[1], n, seed, 1, &err) < 0) {
		fprintf(stderr, "mkestate: %s\n", err.text);
		return -err.code;
	}
	return 0;
}
