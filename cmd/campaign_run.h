/* campaign_run.h - the verbs of "hanfw campaign" that run a plan (campaign_run.c). */
#ifndef HFW_CMD_CAMPAIGN_RUN_H
#define HFW_CMD_CAMPAIGN_RUN_H

struct hfw_ctx;

int campaign_run(int argc, char **argv, struct hfw_ctx *ctx);
int campaign_resume(int argc, char **argv, struct hfw_ctx *ctx);
int campaign_abort(int argc, char **argv, struct hfw_ctx *ctx);
int campaign_status(int argc, char **argv, struct hfw_ctx *ctx);
int campaign_list(int argc, char **argv, struct hfw_ctx *ctx);

#endif
