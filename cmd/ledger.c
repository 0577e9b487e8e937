/*
 * ledger.c - "hanfw ledger migrate" (bring the ledger's schema up to date,
 * saying from which version) and "hanfw ledger copy FROM TO" (move a
 * ledger between SQLite and PostgreSQL, verified table by table).
 */
#include <inttypes.h>
#include <stdio.h>

#include <jansson.h>

#include "../lib/ledger.h"
#include "cmd.h"

static int ledger_migrate(int argc, char **argv, struct hfw_ctx *ctx)
{
	static const struct hfw_usage usage = {
		"ledger migrate [--json]",
		"Bring the ledger the configuration names (a file, or a postgresql:// URI) to this hanfw's schema.",
	};
	const struct hfw_option opts[] = { HFW_OPT_END() };
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *l;
	const char *where;
	enum cmd_parse pr;
	int n, from, to, ret;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 0)
		return cmd_usage_error(ctx, "takes no arguments");
	/* Opening migrates (under the ledger's write lock, or an advisory lock on PostgreSQL). */
	if ((ret = cmd_setup(ctx, NEED_CONFIG | NEED_LEDGER)) != 0)
		return ret;
	l = ctx->session.ledger;
	where = ctx->session.set.ledger;
	if (hfw_ledger_schema(l, &from, &to, &err) < 0)
		return cmd_report(&err);
	if (ctx->json)
		return cmd_print_json(json_pack("{s:s,s:s,s:i,s:i}", "ledger", where, "backend", hfw_ledger_backend(l),
						"from", from, "to", to), &err) < 0 ? cmd_report(&err) : HFW_EXIT_OK;
	if (ctx->quiet)
		return HFW_EXIT_OK;
	if (from == to)
		printf("ledger '%s' (%s): schema version %d, up to date\n", where, hfw_ledger_backend(l), to);
	else if (from < 0)
		printf("ledger '%s' (%s): made at schema version %d\n", where, hfw_ledger_backend(l), to);
	else
		printf("ledger '%s' (%s): schema version %d -> %d\n", where, hfw_ledger_backend(l), from, to);
	return HFW_EXIT_OK;
}

struct copy_out {
	struct hfw_ctx *ctx;
	json_t *tables;
};

static void copied(void *arg, const char *table, int64_t rows, const char *sha256)
{
	struct copy_out *o = arg;

	if (o->tables)
		json_array_append_new(o->tables, json_pack("{s:s,s:I,s:s}", "table", table, "rows", (json_int_t)rows,
							   "sha256", sha256));
	else if (!o->ctx->quiet)
		printf("%-18s %10" PRId64 " rows  sha256 %s\n", table, rows, sha256);
}

static int ledger_copy(int argc, char **argv, struct hfw_ctx *ctx)
{
	static const struct hfw_usage usage = {
		"ledger copy [--json] FROM TO",
		"Copy every row of ledger FROM into the new, empty ledger TO (files or postgresql:// URIs), verified.",
	};
	const struct hfw_option opts[] = { HFW_OPT_END() };
	struct hfw_error err = HFW_ERROR_INIT;
	struct copy_out o = { ctx, NULL };
	enum cmd_parse pr;
	int n, ret = HFW_EXIT_OK;

	if ((pr = cmd_parse_options(ctx, argc, argv, opts, &usage, &n)) != PARSE_OK)
		return cmd_parse_exit(ctx, pr);
	if (n != 2)
		return cmd_usage_error(ctx, "takes the ledger to copy and the ledger to copy it into");
	if (ctx->json && !(o.tables = json_array()))
		return cmd_report(&(struct hfw_error){ HFW_ENOMEM, "out of memory" });
	if (hfw_ledger_copy(argv[0], argv[1], copied, &o, &err) < 0) {
		json_decref(o.tables);
		return cmd_report(&err);
	}
	if (ctx->json) {
		if (cmd_print_json(json_pack("{s:s,s:s,s:o}", "from", argv[0], "to", argv[1], "tables", o.tables), &err) < 0)
			ret = cmd_report(&err);
	} else if (!ctx->quiet)
		printf("copied '%s' into '%s': every table's rows and SHA-256 match\n", argv[0], argv[1]);
	return ret;
}

int cmd_ledger(int argc, char **argv, struct hfw_ctx *ctx)
{
	static const struct hfw_verb verbs[] = {
		{ "copy", ledger_copy, "copy a ledger into a new one (SQLite and PostgreSQL), verified", 0 },
		{ "migrate", ledger_migrate, "bring the ledger's schema up to date", NEED_CONFIG | NEED_LEDGER },
		{ NULL, NULL, NULL, 0 },
	};

	return cmd_run_verbs(ctx, argc, argv, verbs, "Migrate and copy the ledger (SQLite or PostgreSQL).");
}
