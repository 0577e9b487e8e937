/*
 * cmd.h - what every hanfw subcommand shares.
 *
 * Adding a subcommand:
 *   1. cmd/<name>.c defining int cmd_<name>(int argc, char **argv, struct hfw_ctx *ctx),
 *      its only non-static symbol, with an opening comment saying what it does;
 *   2. declare it below and add a row to commands[] in cmd/hanfw.c (alphabetical) with
 *      what it needs set up (NEED_* below; a verb's row in its hfw_verb table);
 *   3. in it: cmd_parse_options(), then cmd_setup(ctx, ctx->needs) (less what its options
 *      make unnecessary, e.g. NEED_ADAPTER with --dry-run; cmd_setting_flag() first for
 *      an option that overrides a setting), then lib/ with ctx->session's ledger, signer,
 *      adapter and trust; never open them, close them or check settings yourself;
 *   4. add cmd/<name>.c to CMD_SRCS in the Makefile;
 *   5. man/hanfw-<name>.1.in (prose and the @SYNOPSIS@/@OPTIONS@ markers: see README), and
 *      a line in man/hanfw.1.in's command list;
 *   6. tests/cli/<name>.bats.
 * Completions need nothing: they ask the option tables (--list-options).
 *
 * Where things are: parse.c (option tables, numbers, enum cmd_parse),
 * report.c (the terminal: errors, warnings, JSON), session.c (set-up: the
 * settings, ledger, signer, adapter and trust a command needs, opened
 * once and closed by the dispatcher; the per-device report).
 *
 * Commands are thin: parse options, set up, call lib/, report.  Only a
 * command's entry point turns a result into its exit status: 0,
 * HFW_EXIT_USAGE (cmd_parse_exit(), cmd_usage_error()), or cmd_report()'s
 * value for a lib/ error (the error's number from lib/errors.def).  A
 * missing setting is always HFW_ECONFIG (11), naming the setting.
 */
#ifndef HFW_CMD_H
#define HFW_CMD_H

#include "../lib/config.h"
#include "../lib/error.h"

#define HFW_EXIT_OK 0
#define HFW_EXIT_USAGE 2

#include "../lib/eui.h"
#include "../lib/ledger.h"
#include "../lib/transport.h"
#include "../lib/xmldsig.h"

/*
 * What a command needs set up (commands[] in hanfw.c, a verb's table, or
 * less after its options: cmd_setup).  Each need names the settings it
 * requires; one that is missing is HFW_ECONFIG, naming the setting.
 */
#define NEED_CONFIG	0x001u	/* the configuration, resolved into struct cmd_settings */
#define NEED_USER	0x002u	/* user_eui, parsed */
#define NEED_SIGNER	0x004u	/* xml_signing_key and xml_signing_cert: the XML signer */
#define NEED_GBCS_KEY	0x008u	/* gbcs_signing_key (checked against gbcs_signing_cert and user_eui) */
#define NEED_LEDGER	0x010u	/* the ledger, read-write: made (its directory 0700) if missing */
#define NEED_LEDGER_RO	0x020u	/* the ledger, which must exist: never made */
#define NEED_LEDGER_DIR	0x040u	/* the ledger's path and directory (made 0700); lib/ opens it (listen) */
#define NEED_ADAPTER	0x080u	/* endpoint: the transport (a pool with session.in_flight > 0) */
#define NEED_TRUST	0x100u	/* trust_dir: the certificates answers are verified with */
#define NEED_REQUEST_XSD 0x200u	/* the built-in schema's Request part, parsed at set-up (while the ledger opens) */
#define NEED_FLOW	(NEED_CONFIG | NEED_USER | NEED_SIGNER | NEED_LEDGER | NEED_ADAPTER | NEED_TRUST)

/* Every setting, resolved once from lib/config (flags > environment > profile > defaults). */
struct cmd_settings {
	const char *user_eui, *dcc_eui, *schema_version, *endpoint;
	const char *xml_signing_key, *xml_signing_cert, *gbcs_signing_key, *gbcs_signing_cert;
	const char *passphrase_env, *trust_dir, *tls_ca, *tls_client_cert, *tls_client_key;
	const char *ledger, *duis_schema, *dcc_signer_eui, *smki_url;
	unsigned long long hub_capacity;
};

/* What cmd_setup() opened; the dispatcher closes it after the command returns. */
struct cmd_session {
	unsigned opened;		/* NEED_* done */
	hfw_config *cfg;
	struct cmd_settings set;
	struct hfw_eui user;		/* with NEED_USER */
	hfw_signer *signer;		/* with NEED_SIGNER */
	hfw_key *gbcs_key;		/* with NEED_GBCS_KEY */
	hfw_ledger *ledger;		/* with NEED_LEDGER or NEED_LEDGER_RO */
	hfw_transport *transport;	/* with NEED_ADAPTER and in_flight 0 */
	hfw_transport_pool *pool;	/* with NEED_ADAPTER and in_flight > 0 */
	hfw_trust *trust;		/* with NEED_TRUST */
	unsigned in_flight;		/* set by the command before cmd_setup */
	int insecure;			/* --insecure, likewise */
	int both;			/* with in_flight > 0: the single transport too (campaign run) */
};

struct hfw_ctx;
/* Load a trust directory as every command does (dcc_signer_eui applied): listen's own, or NEED_TRUST's. */
int cmd_load_trust(struct hfw_ctx *ctx, const char *dir, hfw_trust **out, struct hfw_error *err);

struct hfw_ctx {
	const char *config_path;	/* --config */
	const char *profile;		/* --profile */
	int json;			/* --json: machine output on stdout */
	int quiet;			/* -q: errors only */
	int verbose;			/* -v: more detail */
	const char *cmd_path;		/* "package build", for messages */
	unsigned needs;			/* the command's (or verb's) row: NEED_* */
	int failed;			/* exit status of an error reported while parsing (PARSE_FAILED) */
	struct cmd_session session;	/* cmd_setup() */
	const char *flag_value[HFW_SET_COUNT];	/* cmd_setting_flag() */
	const char *flag_name[HFW_SET_COUNT];
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

/* What parsing found; never an exit status (cmd_parse_exit makes one). */
enum cmd_parse {
	PARSE_OK,			/* go on */
	PARSE_DONE,			/* --help or a --list-* was answered: exit 0 */
	PARSE_USAGE,			/* a usage error was reported: exit 2 */
	PARSE_FAILED,			/* another error was reported (ctx->failed) */
};

/*
 * Parse argv (argv[0] is the command or verb name) against opts plus the
 * common options (--json -q -v --config --profile -h).  Positional
 * arguments are left in argv[0..*n).  Options may come before or after
 * positionals.
 */
enum cmd_parse cmd_parse_options(struct hfw_ctx *ctx, int argc, char **argv, const struct hfw_option *opts,
				 const struct hfw_usage *usage, int *n);

/* The exit status for a parse result: 0, HFW_EXIT_USAGE, or the reported error's. */
int cmd_parse_exit(const struct hfw_ctx *ctx, enum cmd_parse r);

/* Report err and return PARSE_FAILED (its exit status kept in ctx->failed). */
enum cmd_parse cmd_parse_failed(struct hfw_ctx *ctx, const struct hfw_error *err);

/* A verb of a command with sub-verbs ("package build"). */
struct hfw_verb {
	const char *name;
	int (*fn)(int argc, char **argv, struct hfw_ctx *ctx);
	const char *summary;
	unsigned needs;			/* NEED_*: what the verb needs set up */
};

/* Dispatch argv[1] among verbs; handles --help and --list-options itself. */
int cmd_run_verbs(struct hfw_ctx *ctx, int argc, char **argv,
		  const struct hfw_verb *verbs, const char *summary);

/*
 * Set up what needs says (NEED_*) and ctx->session does not hold yet: the
 * configuration resolved into ctx->session.set, then the user, signer,
 * GBCS key, ledger, adapter and trust.  May be called again to add more.
 * Returns 0, or the exit status of the one line it reported: HFW_ECONFIG
 * naming a missing setting (or a read-only ledger that does not exist),
 * else the failing lib/ call's code.  The dispatcher closes the session.
 */
int cmd_setup(struct hfw_ctx *ctx, unsigned needs);
void cmd_session_close(struct cmd_session *s);

/*
 * An option that stands for a setting (--trust DIR for trust_dir): value
 * (NULL: not given) overrides the setting at cmd_setup, and a missing
 * setting's message names flag ("--trust").  Call before cmd_setup.
 */
void cmd_setting_flag(struct hfw_ctx *ctx, enum hfw_setting s, const char *flag, const char *value);

/* HFW_ECONFIG in err naming setting s as missing (and its flag, if the command has one). */
int cmd_setting_missing(const struct hfw_ctx *ctx, enum hfw_setting s, struct hfw_error *err);

/* --list-values campaign: the ledger's campaigns; nothing, and no ledger made, when there is none. */
enum cmd_parse cmd_list_campaigns(struct hfw_ctx *ctx);

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
 * for option name; a usage error (reported) otherwise.
 */
enum cmd_parse cmd_parse_uint(const struct hfw_ctx *ctx, const char *option, const char *text,
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

struct hfw_flow_options;
struct hfw_flow_result;

/* --max-in-flight (default 16, at most 256) and --rate (0: none); a usage error reported otherwise. */
#define CMD_DEFAULT_IN_FLIGHT 16
#define CMD_MAX_IN_FLIGHT 256
enum cmd_parse cmd_parse_pace(const struct hfw_ctx *ctx, const char *in_flight_text, const char *rate_text,
			      unsigned *in_flight, double *rate);
/* Who signs, the ledger, the adapter and the schema version, into a flow's options (lib/flow.h). */
void cmd_session_fill(const struct cmd_session *s, struct hfw_flow_options *o);

/*
 * Run a flow (run(run_arg, ...): hfw_activation_run, hfw_read_version_run)
 * whose options are o over the devices of list and report: a line on
 * stderr per device that did not get as far as I99, then the totals (or,
 * with --json, summary with "devices", "outcomes" and "results" added).
 * refused devices were left out of list before it (refused at
 * distribution): they count among the devices and in the totals.
 * Returns 0 with *gravest the gravest outcome of any device as an HFW_E*
 * code (0: every device sent; HFW_EPARTIAL when only refused devices were
 * left out), or an HFW_E* code with err set when hanfw itself could not go on.
 */
struct hfw_devlist;
struct json_t;
typedef int (*cmd_flow_run)(const void *arg, struct hfw_flow_result *results, size_t n, size_t *counts,
			    struct hfw_error *err);
int cmd_run_devices(struct hfw_ctx *ctx, struct hfw_flow_options *o, cmd_flow_run run, const void *run_arg,
		    const struct hfw_devlist *list, size_t refused, const char *what, struct json_t *summary,
		    int *gravest, struct hfw_error *err);

/*
 * -o DIR for written requests: made if it does not exist.  HFW_EIO if it
 * cannot be, or is not a directory (hfw_output_dir_check: nothing under
 * /proc, /sys or /dev, a symlink only to a directory elsewhere).
 */
int cmd_output_dir(const char *dir, struct hfw_error *err);

/* --listen ADDR:PORT into addr (size bytes) and *port; a usage error reported otherwise. */
enum cmd_parse cmd_parse_listen(const struct hfw_ctx *ctx, const char *text, char *addr, size_t size, int *port);

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
int cmd_campaign(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_config_cmd(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_ledger(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_distribute(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_inventory(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_listen(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_package(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_read_version(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_sandbox(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_status(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_sign(int argc, char **argv, struct hfw_ctx *ctx);
int cmd_verify(int argc, char **argv, struct hfw_ctx *ctx);

#endif
