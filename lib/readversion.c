/* readversion.c - SR 11.2 for many devices (see readversion.h). */
#include "readversion.h"

#include <string.h>

#include "duis.h"

#define STEP_READ 1	/* CV 1 in flight to Send Command */

static void first(void *arg, struct hfw_request *r)
{
	(void)arg;
	r->duis.body = HFW_BODY_READ_FIRMWARE_VERSION;
	r->state = "signed";
	r->action = "read-version";
	r->firmware_hash = NULL;
}

static void answered(void *arg, hfw_flow *f, struct hfw_flow_job *j, const struct hfw_answer *a)
{
	const char *code = a->vr.response_code;

	(void)arg;
	if (strcmp(code, "I99") == 0)
		hfw_flow_finish(f, j, HFW_FLOW_SENT, code, NULL);
	else
		hfw_flow_finish(f, j, HFW_FLOW_UNVERIFIED, code, "the DCC's answer is not I99");
}

int hfw_read_version_run(const struct hfw_flow_options *o, struct hfw_flow_result *results, size_t n,
			 size_t *counts, struct hfw_error *err)
{
	struct hfw_flow_steps s = { "/serviceS", STEP_READ, first, answered, NULL };

	return hfw_flow_run(o, &s, results, n, counts, err);
}
