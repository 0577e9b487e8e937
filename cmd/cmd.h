/*
 * cmd.h - what every hanfw subcommand shares.
 *
 * Adding a subcommand:
 *   1. cmd/<name>.c defining int cmd_<name>(int argc, char **argv, struct hfw_ctx *ctx),
 *      its only non-static symbol, with an opening comment saying what it does;
 *   2. declare it below and add a row to commands[] in cmd/hanfw.c (alphabetical);
 *   3. add cmd/<name>.o to CMD_OBJS in the Makefile;
 *   4. man/hanfw-<name>.1.in (prose and the @SYNOPSIS@/@OPTIONS@ markers: see README), and
 *      a line in man/hanfw.1.in's command list;
 *   5. tests/cli/<name>.bats.
 * Completions need nothing: they ask the option tables (--list-options).
 *
 * Commands are thin: parse options, call lib/, report.  A command returns
 * its exit status: 0, HFW_EXIT_USAGE, or cmd_report()'s value for a
 * lib/ error (the error's number from lib/errors.def).
 */
#ifndef HFW_CMD_H
#define HFW_CMD_H

#include "../lib/config.h"
#include "../lib/error.h"

#define HFW_EXIT_OK 0
#define HFW_EXIT_USAGE 2

struct hfw_ctx {
	const char *config_path;	/* --config */
	const char *profile;		/* --profile */
	int json;			/* --json: machine output on stdout */
	int quiet;			/* -q: errors only */
	int verbose;			/* -v: more detail */
	hfw_config *cfg;		/* loaded on first cmd_config() */
	const char *cmd_path;		/* "package build", for messages */
};

/* One row of a command's option table. */
enum hfw_opt_kind { HFW_OPT_FLAG, HFW_OPT_STRING };

struct hfw_option {
	int short_name;			/* 0 for none */
	const char *long_name;
	enum hfw_opt_kind kind;
	void *target;			/* int * for flags, const char ** for strings */
	const char *argname;		/* "FILE", for help */
	const char *help;
	const char *values;		/* space-separated choices for completion, or NULL */
};

#define HFW_OPT_FLAG(s, l, t, h) { s, l, HFW_OPT_FLAG, t, NULL, h, NULL }
#define HFW_OPT_STRING(s, l, t, a, h) { s, l, HFW_OPT_STRING, t, a, h, NULL }
#define HFW_OPT_CHOICE(s, l, t, a, h, v) { s, l, HFW_OPT_STRING, t, a, h, v }
#define HFW_OPT_END() { 0, NULL, HFW_OPT_FLAG, NULL, NULL, NULL, NULL }

struct hfw_usage {
	const char *synopsis;		/* after "usage: hanfw " */
	const char *summary;		/* one sentence */
};

/* cmd_parse_options() results besides a positional count. */
#define HFW_PARSE_DONE (-100)		/* --help or a --list-* was answered: exit 0 */
#define HFW_PARSE_USAGE (-2)		/* a usage error was reported: exit 2 */

/*
 * Parse argv (argv[0] is the command or verb name) against opts plus the
 * common options (--json -q -v --config --profile -h).  Positional
 * arguments are left in argv[0..n); returns n, HFW_PARSE_DONE or
 * HFW_PARSE_USAGE.  Options may come before or after positionals.
 */
int cmd_parse_options(struct hfw_ctx *ctx, int argc, char **argv,
		      const struct hfw_option *opts, const struct hfw_usage *usage);

/* A verb of a command with sub-verbs ("package build"). */
struct hfw_verb {
	const char *name;
	int (*fn)(int argc, char **argv, struct hfw_ctx *ctx);
	const char *summary;
};

/* Dispatch argv[1] among verbs; handles --help and --list-options itself. */
int cmd_run_verbs(struct hfw_ctx *ctx, int argc, char **argv,
		  const struct hfw_verb *verbs, const char *summary);

/* The configuration, loaded on first use.  Reports and returns <0 on error. */
int cmd_config(struct hfw_ctx *ctx, hfw_config **out, struct hfw_error *err);

/* Print o as indented JSON on stdout and release it; NULL (a failed json_pack) is out of memory. */
struct json_t;
int cmd_print_json(struct json_t *o, struct hfw_error *err);

/* "hanfw: <text>" on stderr; returns the exit status for err's code. */
int cmd_report(const struct hfw_error *err);

/* "hanfw: <cmd path>: <text>" on stderr; returns HFW_EXIT_USAGE. */
int cmd_usage_error(const struct hfw_ctx *ctx, const char *fmt, ...) HFW_PRINTF(2, 3);

/* "hanfw: warning: <text>" on stderr unless -q. */
void cmd_warn(const struct hfw_ctx *ctx, const char *fmt, ...) HFW_PRINTF(2, 3);

/*
 * Parse an unsigned number (decimal, or hex with 0x) no larger than max,
 * for option name; a usage error otherwise.  Returns 0 or HFW_EXIT_USAGE.
 */
int cmd_parse_uint(const struct hfw_ctx *ctx, const char *option, const char *text,
		   unsigned long long max, unsigned long long *out);

/*
 * The devices a command acts on: EUIs from the command line, then a
 * --devices file ("-": standard input; lines of EUI [TYPE]), duplicates
 * dropped and the rest sorted; types the list does not give are taken from
 * an --estate file when there is one.
 */
struct hfw_devlist;
int cmd_load_devices(struct hfw_devlist *list, char **euis, size_t n, const char *devices_file,
		     const char *estate_file, struct hfw_error *err);

/* A signing (and sending) session for the commands that act on many devices (devices.c). */
struct hfw_flow_options;
struct hfw_flow_result;
#include "../lib/eui.h"
#include "../lib/ledger.h"
#include "../lib/transport.h"
#include "../lib/xmldsig.h"
struct cmd_session {
	hfw_config *cfg;
	hfw_signer *signer;		/* XML signing */
	hfw_key *gbcs_key;		/* with CMD_SESSION_GBCS */
	hfw_ledger *ledger;
	hfw_transport_pool *pool;	/* with CMD_SESSION_SEND */
	hfw_trust *trust;		/* with CMD_SESSION_SEND */
	struct hfw_eui user;
};
#define CMD_SESSION_GBCS 1u		/* load the GBCS digital-signing key (checked against its certificate) */
#define CMD_SESSION_SEND 2u		/* open the adapter (in_flight connections) and the trust */
#define CMD_SESSION_INSECURE 4u		/* --insecure */
int cmd_session_open(struct hfw_ctx *ctx, struct cmd_session *s, unsigned flags, unsigned in_flight,
		     struct hfw_error *err);

/* --max-in-flight (default 16, at most 256) and --rate (0: none): 0, or HFW_EXIT_USAGE having said why. */
#define CMD_DEFAULT_IN_FLIGHT 16
#define CMD_MAX_IN_FLIGHT 256
int cmd_parse_pace(const struct hfw_ctx *ctx, const char *in_flight_text, const char *rate_text, unsigned *in_flight,
		   double *rate);
void cmd_session_close(struct cmd_session *s);
/* Who signs, the ledger, the adapter and the schema version, into a flow's options (lib/flow.h). */
void cmd_session_fill(const struct cmd_session *s, struct hfw_flow_options *o);

/*
 * Run a flow (run(run_arg, ...): hfw_activation_run, hfw_read_version_run)
 * whose options are o over the devices of list and report: a line on
 * stderr per device that did not get as far as I99, then the totals (or,
 * with --json, summary with "devices", "outcomes" and "results" added).
 * Returns the exit status (>= 0): the gravest outcome of any device; or <0
 * with err set when hanfw itself could not go on.
 */
struct hfw_devlist;
struct json_t;
typedef int (*cmd_flow_run)(const void *arg, struct hfw_flow_result *results, size_t n, size_t *counts,
			    struct hfw_error *err);
int cmd_run_devices(struct hfw_ctx *ctx, struct hfw_flow_options *o, cmd_flow_run run, const void *run_arg,
		    const struct hfw_devlist *list, const char *what, struct json_t *summary, struct hfw_error *err);

/*
 * -o DIR for written requests: made if it does not exist.  HFW_EIO if it
 * cannot be, or is not a directory (hfw_output_dir_check: nothing under
 * /proc, /sys or /dev, a symlink only to a directory elsewhere).
 */
int cmd_output_dir(const char *dir, struct hfw_error *err);

/* --listen ADDR:PORT into addr (size bytes) and *port: 0, or HFW_EXIT_USAGE having said why. */
int cmd_parse_listen(const struct hfw_ctx *ctx, const char *text, char *addr, size_t size, int *port);

/*
 * A server's start-up line on stdout, flushed: its URL, or with --json one
 * line of JSON (schemas/listening.schema.json): url, address, port, tls, pid.
 */
void cmd_print_listening(const struct hfw_ctx *ctx, int tls, const char *address, int port, const char *path);

/*
 * Block SIGINT, SIGTERM and SIGHUP in this thread and every thread it
 * starts after, so a server's main thread can sigwait(set) for them.
 */
#include <signal.h>
void cmd_block_stop_signals(sigset_t *set);

/* The commands. */
int cmd_activate(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_config_cmd(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_distribute(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_listen(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_package(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_read_version(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_sandbox(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_status(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_sign(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_verify(int argc, char **argv, struct hfw_ctx *ctx);

#endif
