/*
 * report.c - everything hanfw says on the terminal that is not a command's
 * own output: one-line errors (and the exit status each maps to), usage
 * errors, warnings, JSON documents and a server's start-up line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"

int cmd_report(const struct hfw_error *err)
{
	int code = err->code ? err->code : HFW_ERROR;

	fprintf(stderr, "hanfw: %s\n", err->text[0] ? err->text : hfw_strerror(code));
	return -code;
}

/* An error reported while options were parsed (completion's listings): its exit status kept for cmd_parse_exit. */
enum cmd_parse cmd_parse_failed(struct hfw_ctx *ctx, const struct hfw_error *err)
{
	ctx->failed = cmd_report(err);
	return PARSE_FAILED;
}

int cmd_usage_error(const struct hfw_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hanfw: %s%s", ctx->cmd_path ? ctx->cmd_path : "",
		ctx->cmd_path ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return HFW_EXIT_USAGE;
}

void cmd_warn(const struct hfw_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet)
		return;
	fputs("hanfw: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_print_json(json_t *o, struct hfw_error *err)
{
	char *text;

	if (!o || !(text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		json_decref(o);
		return hfw_error_oom(err);
	}
	printf("%s\n", text);
	free(text);
	json_decref(o);
	return 0;
}

void cmd_print_listening(const struct hfw_ctx *ctx, int tls, const char *address, int port, const char *path)
{
	char url[512], *text = NULL;
	json_t *o;

	snprintf(url, sizeof(url), "%s://%s:%d%s", tls ? "https" : "http", address, port, path);
	if (ctx->json && (o = json_pack("{s:s, s:s, s:i, s:b, s:I}", "url", url, "address", address, "port", port,
					"tls", tls, "pid", (json_int_t)getpid()))) {
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
	}
	printf("%s\n", text ? text : url);	/* out of memory: the URL still tells a script where */
	free(text);
	fflush(stdout);
}
