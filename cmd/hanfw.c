/*
 * hanfw.c - the dispatcher: global options, then a command from the table.
 *
 *   hanfw [--config FILE] [--profile NAME] [--json] [-q] [-v] <command> [args]
 *   hanfw help [command]     hanfw <command> --help     hanfw --version
 *
 * Commands match exactly (no prefixes: "activate" must never be reached by
 * accident); a near miss gets a suggestion and the usage exit code.
 *
 * Each row says what its command needs set up (NEED_*, cmd.h), like git's
 * RUN_SETUP: the command parses its options, asks cmd_setup() for its
 * row's needs (less what an option makes unnecessary, such as the adapter
 * with --dry-run), and this file closes whatever was opened once it returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "../lib/fileio.h"
#include "../lib/version.h"
#include "cmd.h"

struct hfw_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct hfw_ctx *ctx);
	unsigned needs;			/* NEED_*; verbs' needs are in their own tables */
	const char *summary;
};

static int cmd_help(int argc, char **argv, struct hfw_ctx *ctx);

/* Alphabetical. */
static const struct hfw_cmd commands[] = {
	{ "activate", cmd_activate, NEED_FLOW | NEED_GBCS_KEY,
	  "activate firmware on devices (SR 11.3): checked pre-commands, signed, paced" },
	{ "campaign", cmd_campaign, 0, "plan, run and report a firmware campaign over an estate, wave by wave" },
	{ "config", cmd_config_cmd, 0, "show the effective configuration and where each value comes from" },
	{ "distribute", cmd_distribute, NEED_FLOW,
	  "send an image to many devices (SR 11.1 or 11.4) and record every outcome" },
	{ "help", cmd_help, 0, "show help for hanfw or one of its commands" },
	{ "inventory", cmd_inventory, NEED_FLOW,
	  "build an estate from the DCC's inventory (SR 8.2), the supplier's records and SMKI certificates" },
	{ "ledger", cmd_ledger, 0, "migrate the ledger's schema; copy a ledger between SQLite and PostgreSQL" },
	{ "listen", cmd_listen, NEED_CONFIG | NEED_LEDGER_DIR,
	  "receive the DCC's responses and alerts: verify, decode, store before acknowledging" },
	{ "package", cmd_package, 0, "build and inspect GB firmware images (ZigBee OTA) and their manifests" },
	{ "read-version", cmd_read_version, NEED_FLOW,
	  "read devices' firmware versions (SR 11.2); the answers go to hanfw listen" },
	{ "sandbox", cmd_sandbox, 0, "hanfw's own DCC adapter emulator: create its world, serve its endpoints" },
	{ "sign", cmd_sign, NEED_CONFIG | NEED_SIGNER | NEED_LEDGER,
	  "XML-sign a DUIS request, or sign a GBCS pre-command" },
	{ "status", cmd_status, NEED_CONFIG | NEED_LEDGER_RO, "decode DUIS responses and alerts; where devices stand" },
	{ "verify", cmd_verify, NEED_CONFIG | NEED_TRUST, "verify a DUIS message's XML signature and name its signer" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct hfw_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Damerau-free Levenshtein distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur[64], tmp;

	if (la >= 63 || lb >= 63)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		cur[j] = j;
	for (i = 1; i <= la; i++) {
		prev = cur[0];
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = cur[j];
			cur[j] = a[i - 1] == b[j - 1] ? prev
				 : 1 + (prev < cur[j] ? (prev < cur[j - 1] ? prev : cur[j - 1])
					: (cur[j] < cur[j - 1] ? cur[j] : cur[j - 1]));
			prev = tmp;
		}
	}
	return cur[lb];
}

static void print_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: hanfw [--config FILE] [--profile NAME] [--json] [-q] [-v] <command> [<args>]\n"
		   "       hanfw help [<command>] | --version\n\n"
		   "Firmware updates for GB smart-metering devices over the DCC.\n\nCommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nSee 'hanfw help <command>' or 'man hanfw'.\n");
}

static int cmd_help(int argc, char **argv, struct hfw_ctx *ctx)
{
	const struct hfw_cmd *c;
	char *help_argv[] = { NULL, "--help", NULL };

	(void)ctx;
	if (argc < 2) {
		print_usage(stdout);
		return HFW_EXIT_OK;
	}
	if (!(c = find_command(argv[1])) || c->fn == cmd_help) {
		if (!c) {
			fprintf(stderr, "hanfw: no help for '%s': not a hanfw command\n", argv[1]);
			return HFW_EXIT_USAGE;
		}
		print_usage(stdout);
		return HFW_EXIT_OK;
	}
	help_argv[0] = argv[1];
	return c->fn(2, help_argv, ctx);
}

static void on_fatal_signal(int sig)
{
	/* Leave no half-written file behind, then die of the same signal. */
	hfw_atomic_cleanup_signal_safe();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void ensure_std_fds(void)
{
	int fd;

	/* A closed 0-2 would let a later open() become "stdout". */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

/* Like git: a command that "succeeded" with unwritable output has failed. */
static int finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno == EPIPE)
			return status;
		fprintf(stderr, "hanfw: cannot write standard output: %s\n", strerror(errno));
		return status ? status : -HFW_EIO;
	}
	return status;
}

/* --version --json (schemas/version.schema.json): hanfw's and its linked libraries' versions. */
static int print_version_json(void)
{
	struct hfw_error err = { 0 };
	struct hfw_versions v;
	json_t *o;

	hfw_versions(&v);
	o = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "hanfw", v.hanfw, "libraries", "openssl", v.openssl,
		      "libxml2", v.libxml2, "jansson", v.jansson, "sqlite3", v.sqlite3);

	return cmd_print_json(o, &err) < 0 ? cmd_report(&err) : HFW_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct hfw_ctx ctx = { 0 };
	static const struct option globals[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "profile", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-commands", no_argument, NULL, 'L' },	/* completion */
		{ NULL, 0, NULL, 0 },
	};
	static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	const struct hfw_cmd *cmd, *best = NULL;
	size_t i, best_d = (size_t)-1;
	int c, status, version = 0;

	ensure_std_fds();
	/*
	 * hanfw needs nothing from the system's openssl.cnf, and reading it is a
	 * large part of a short command's run time; an operator who relies on
	 * one (a FIPS provider, say) names it in OPENSSL_CONF and it is loaded.
	 */
	if (!getenv("OPENSSL_CONF"))
		OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], on_fatal_signal);

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:qvh", globals, NULL)) != -1) {
		switch (c) {
		case 'c': ctx.config_path = optarg; break;
		case 'p': ctx.profile = optarg; break;
		case 'j': ctx.json = 1; break;
		case 'q': ctx.quiet = 1; break;
		case 'v': ctx.verbose = 1; break;
		case 'h':
			print_usage(stdout);
			return finish_stdout(HFW_EXIT_OK);
		case 'V':
			version = 1;	/* after the loop, so that "--version --json" is JSON */
			break;
		case 'L':
			for (i = 0; i < NCOMMANDS; i++)
				printf("%s\n", commands[i].name);
			return finish_stdout(HFW_EXIT_OK);
		case ':':
			fprintf(stderr, "hanfw: option '%s' needs a value\n", argv[optind - 1]);
			return HFW_EXIT_USAGE;
		default:
			fprintf(stderr, "hanfw: unknown option '%s' (see 'hanfw --help')\n", argv[optind - 1]);
			return HFW_EXIT_USAGE;
		}
	}
	if (version && ctx.json)
		return finish_stdout(print_version_json());
	if (version) {
		struct hfw_versions v;

		hfw_versions(&v);
		printf("hanfw %s (%s, libxml2 %s, jansson %s)\n", v.hanfw, v.openssl, v.libxml2, v.jansson);
		return finish_stdout(HFW_EXIT_OK);
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		print_usage(stderr);
		return HFW_EXIT_USAGE;
	}
	if (!(cmd = find_command(argv[0]))) {
		for (i = 0; i < NCOMMANDS; i++) {
			size_t d = distance(argv[0], commands[i].name);

			if (d < best_d) {
				best_d = d;
				best = &commands[i];
			}
		}
		if (best && best_d <= 3)
			fprintf(stderr, "hanfw: '%s' is not a hanfw command; did you mean '%s'?\n",
				argv[0], best->name);
		else
			fprintf(stderr, "hanfw: '%s' is not a hanfw command (see 'hanfw help')\n", argv[0]);
		return HFW_EXIT_USAGE;
	}
	ctx.cmd_path = cmd->name;
	ctx.needs = cmd->needs;
	status = cmd->fn(argc, argv, &ctx);
	cmd_session_close(&ctx.session);	/* whatever cmd_setup() opened, in one place */
	return finish_stdout(status);
}
