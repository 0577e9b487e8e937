/*
 * parse.c - option tables -> getopt_long, help text and completion lists,
 * so that parsing, -h output and shell completion come from one table; and
 * the few option values several commands share (numbers, --listen, pace).
 * Everything here returns enum cmd_parse, never an exit status: only a
 * command's entry point turns a result into one (cmd_parse_exit).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define MAX_OPTS 64

/* Options every command accepts; targets are filled in per call. */
enum { COMMON_JSON, COMMON_QUIET, COMMON_VERBOSE, COMMON_CONFIG, COMMON_PROFILE,
       COMMON_HELP, COMMON_COUNT };

static void common_options(struct hfw_option *out, struct hfw_ctx *ctx, int *help)
{
	const struct hfw_option common[COMMON_COUNT] = {
		HFW_OPT_FLAG(0, "json", &ctx->json, "machine-readable output on standard output"),
		HFW_OPT_FLAG('q', "quiet", &ctx->quiet, "print errors only"),
		HFW_OPT_FLAG('v', "verbose", &ctx->verbose, "print more detail"),
		HFW_OPT_STRING(0, "config", &ctx->config_path, "FILE", "configuration file"),
		HFW_OPT_STRING(0, "profile", &ctx->profile, "NAME", "configuration profile"),
		HFW_OPT_FLAG('h', "help", help, "show this help"),
	};

	memcpy(out, common, sizeof(common));
}

static void print_option_list(FILE *f, const struct hfw_option *o)
{
	for (; o->long_name; o++) {
		char left[64];

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->long_name,
				 o->argname ? " " : "", o->argname ? o->argname : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->long_name,
				 o->argname ? " " : "", o->argname ? o->argname : "");
		fprintf(f, "  %-32s %s\n", left, o->help);
	}
}

static void print_help(const struct hfw_usage *u, const struct hfw_option *opts,
		       const struct hfw_option *common)
{
	printf("usage: hanfw %s\n\n%s\n", u->synopsis, u->summary);
	if (opts[0].long_name) {
		printf("\nOptions:\n");
		print_option_list(stdout, opts);
	}
	printf("\nCommon options:\n");
	print_option_list(stdout, common);
}


/*
 * --dump-options: the table, tab-separated, for the man page generator
 * (scripts/genman.sh).  Lines: "usage" SYNOPSIS SUMMARY, with newlines
 * as "\n"; then per option "option" SHORT LONG KIND ARGNAME VALUES SCOPE
 * HELP, "-" for an empty field, KIND flag|value|choice, SCOPE own|common.
 */
static void dump_text(const char *s)
{
	for (; *s; s++)
		if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\t')
			putchar(' ');
		else
			putchar(*s);
}

static void dump_table(const struct hfw_usage *u, const struct hfw_option *all, int n)
{
	int i;

	fputs("usage\t", stdout);
	dump_text(u->synopsis);
	putchar('\t');
	dump_text(u->summary);
	putchar('\n');
	for (i = 0; i < n; i++) {
		const struct hfw_option *o = &all[i];

		printf("option\t%c\t%s\t%s\t%s\t%s\t%s\t", o->short_name ? o->short_name : '-', o->long_name,
		       o->kind == HFW_OPT_FLAG ? "flag" : o->values ? "choice" : "value",
		       o->argname ? o->argname : "-", o->values ? o->values : "-",
		       i >= n - COMMON_COUNT ? "common" : "own");
		dump_text(o->help);
		putchar('\n');
	}
}

enum cmd_parse cmd_parse_options(struct hfw_ctx *ctx, int argc, char **argv, const struct hfw_option *opts,
				 const struct hfw_usage *usage, int *npositional)
{
	struct hfw_option all[MAX_OPTS];
	struct option longs[MAX_OPTS + 4];
	char shorts[3 * MAX_OPTS + 2], *sp = shorts;
	const char *list_values = NULL;
	int help = 0, list_options = 0, dump_options = 0, n = 0, i, c, idx, npos = 0;
	char **pos = NULL;

	for (i = 0; opts[i].long_name; i++)
		if (n < MAX_OPTS - COMMON_COUNT - 1)
			all[n++] = opts[i];
	common_options(all + n, ctx, &help);
	n += COMMON_COUNT;
	all[n] = (struct hfw_option)HFW_OPT_END();	/* print_option_list walks to here */
	*sp++ = ':';	/* report missing arguments as ':' */
	for (i = 0; i < n; i++) {
		longs[i].name = all[i].long_name;
		longs[i].has_arg = all[i].kind == HFW_OPT_STRING ? required_argument : no_argument;
		longs[i].flag = NULL;
		longs[i].val = 1000 + i;
		if (all[i].short_name) {
			*sp++ = (char)all[i].short_name;
			if (all[i].kind == HFW_OPT_STRING)
				*sp++ = ':';
		}
	}
	*sp = '\0';
	/* Hidden: completion support. */
	longs[n] = (struct option){ "list-options", no_argument, NULL, 900 };
	longs[n + 1] = (struct option){ "list-values", required_argument, NULL, 901 };
	longs[n + 2] = (struct option){ "dump-options", no_argument, NULL, 902 };
	longs[n + 3] = (struct option){ NULL, 0, NULL, 0 };

	if (!(pos = calloc((size_t)argc + 1, sizeof(*pos)))) {
		struct hfw_error err = HFW_ERROR_INIT;

		hfw_error_oom(&err);
		return cmd_parse_failed(ctx, &err);
	}
	optind = 0;	/* glibc: full re-initialisation, since several parses share getopt */
	opterr = 0;
	/* A leading '-' in the short list makes getopt hand back positionals in order (value 1). */
	{
		char withpos[sizeof(shorts) + 1];

		snprintf(withpos, sizeof(withpos), "-%s", shorts);
		while ((c = getopt_long(argc, argv, withpos, longs, &idx)) != -1) {
			const struct hfw_option *o = NULL;

			if (c == 1) {
				pos[npos++] = optarg;
				continue;
			}
			if (c == 900) {
				list_options = 1;
				continue;
			}
			if (c == 901) {
				list_values = optarg;
				continue;
			}
			if (c == 902) {
				dump_options = 1;
				continue;
			}
			if (c == '?' || c == ':') {
				const char *bad = argv[optind - 1];
				if (c == ':')
					cmd_usage_error(ctx, "option '%s' needs a value", bad);
				else if (optopt && optopt < 256 && isprint(optopt))
					cmd_usage_error(ctx, "unknown option '-%c'", optopt);
				else
					cmd_usage_error(ctx, "unknown option '%s'", bad);
				free(pos);
				return PARSE_USAGE;
			}
			if (c >= 1000)
				o = &all[c - 1000];
			else
				for (i = 0; i < n; i++)
					if (all[i].short_name == c)
						o = &all[i];
			if (!o)
				continue;
			if (o->kind == HFW_OPT_FLAG)
				(*(int *)o->target)++;
			else
				*(const char **)o->target = optarg;
		}
	}
	/* After "--" getopt stops: what is left is positional, even "-weird-name.xml". */
	while (optind < argc)
		pos[npos++] = argv[optind++];
	if (dump_options) {
		dump_table(usage, all, n);
		free(pos);
		return PARSE_DONE;
	}
	if (list_options) {
		for (i = 0; i < n; i++)
			printf("--%s%s\n", all[i].long_name, all[i].kind == HFW_OPT_STRING ? "=" : "");
		free(pos);
		return PARSE_DONE;
	}
	if (list_values) {
		enum cmd_parse ret = PARSE_DONE;

		for (i = 0; i < n; i++)
			if (strcmp(all[i].long_name, list_values) == 0 && all[i].values)
				printf("%s\n", all[i].values);
		if (strcmp(list_values, "campaign") == 0)
			ret = cmd_list_campaigns(ctx);
		free(pos);
		return ret;
	}
	if (help) {
		print_help(usage, opts, all + (n - COMMON_COUNT));
		free(pos);
		return PARSE_DONE;
	}
	for (i = 0; i < npos; i++)
		argv[i] = pos[i];
	argv[npos] = NULL;
	free(pos);
	*npositional = npos;
	return PARSE_OK;
}

int cmd_run_verbs(struct hfw_ctx *ctx, int argc, char **argv,
		  const struct hfw_verb *verbs, const char *summary)
{
	const struct hfw_verb *v;
	const char *name = argc > 1 ? argv[1] : NULL;
	char path[128];

	if (!name || strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
		printf("usage: hanfw %s <verb> [options]\n\n%s\n\nVerbs:\n", argv[0], summary);
		for (v = verbs; v->name; v++)
			printf("  %-12s %s\n", v->name, v->summary);
		printf("\nSee 'hanfw %s <verb> --help'.\n", argv[0]);
		return name ? HFW_EXIT_OK : HFW_EXIT_USAGE;
	}
	if (strcmp(name, "--list-options") == 0) {
		for (v = verbs; v->name; v++)
			printf("%s\n", v->name);
		return HFW_EXIT_OK;
	}
	if (strcmp(name, "--dump-options") == 0) {	/* for scripts/genman.sh: "verb" NAME SUMMARY */
		printf("command\t%s\t", argv[0]);
		dump_text(summary);
		putchar('\n');
		for (v = verbs; v->name; v++) {
			printf("verb\t%s\t", v->name);
			dump_text(v->summary);
			putchar('\n');
		}
		return HFW_EXIT_OK;
	}
	for (v = verbs; v->name; v++)
		if (strcmp(v->name, name) == 0) {
			snprintf(path, sizeof(path), "%s %s", argv[0], v->name);
			ctx->cmd_path = path;
			ctx->needs = v->needs;	/* the verb's set-up, as commands[] gives a command's */
			return v->fn(argc - 1, argv + 1, ctx);
		}
	return cmd_usage_error(ctx, "unknown verb '%s' (see 'hanfw %s --help')", name, argv[0]);
}


enum cmd_parse cmd_parse_uint(const struct hfw_ctx *ctx, const char *option, const char *text,
			      unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!text || !*text || text[0] == '-' || isspace((unsigned char)text[0]))
		goto bad;
	/* Hex with 0x, otherwise decimal: a leading zero must not mean octal. */
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		v = text[2] ? strtoull(text + 2, &end, 16) : (end = (char *)text + 1, 0);
	else
		v = strtoull(text, &end, 10);
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X') && !isxdigit((unsigned char)text[2]))
		goto bad;
	if (errno || *end || v > max)
		goto bad;
	*out = v;
	return PARSE_OK;
bad:
	cmd_usage_error(ctx, "option '--%s': '%s' is not a number from 0 to %llu (0x%llX)", option, text ? text : "",
			max, max);
	return PARSE_USAGE;
}


enum cmd_parse cmd_parse_listen(const struct hfw_ctx *ctx, const char *text, char *addr, size_t size, int *port)
{
	const char *colon = strrchr(text, ':');
	unsigned long long p;

	if (!colon || colon == text || (size_t)(colon - text) >= size || cmd_parse_uint(ctx, "listen", colon + 1, 65535, &p)) {
		cmd_usage_error(ctx, "--listen '%s' is not ADDR:PORT", text);
		return PARSE_USAGE;
	}
	snprintf(addr, size, "%.*s", (int)(colon - text), text);
	*port = (int)p;
	return PARSE_OK;
}

enum cmd_parse cmd_parse_pace(const struct hfw_ctx *ctx, const char *in_flight_text, const char *rate_text,
			      unsigned *in_flight, double *rate)
{
	unsigned long long n = CMD_DEFAULT_IN_FLIGHT;
	char *end;

	if (in_flight_text && (cmd_parse_uint(ctx, "max-in-flight", in_flight_text, CMD_MAX_IN_FLIGHT, &n) || !n)) {
		if (!n)
			cmd_usage_error(ctx, "--max-in-flight must be 1 to %d", CMD_MAX_IN_FLIGHT);
		return PARSE_USAGE;
	}
	*in_flight = (unsigned)n;
	*rate = 0;
	if (rate_text) {
		*rate = strtod(rate_text, &end);
		if (end == rate_text || *end || !(*rate >= 0.01 && *rate <= 100000)) {
			cmd_usage_error(ctx, "--rate '%s' is not a number from 0.01 to 100000", rate_text);
			return PARSE_USAGE;
		}
	}
	return PARSE_OK;
}

int cmd_parse_exit(const struct hfw_ctx *ctx, enum cmd_parse r)
{
	switch (r) {
	case PARSE_OK:
	case PARSE_DONE:
		return HFW_EXIT_OK;
	case PARSE_USAGE:
		return HFW_EXIT_USAGE;
	case PARSE_FAILED:
		break;
	}
	return ctx->failed ? ctx->failed : -HFW_ERROR;
}
