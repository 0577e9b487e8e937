/* activate.c - SR 11.3 for many devices, checked before signing (see activate.h). */
#include "activate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "base64.h"
#include "duis.h"
#include "gbcs.h"
#include "xml.h"

#define STEP_TRANSFORM 4	/* CV 4 in flight to Transform */
#define STEP_SEND 5		/* CV 5 in flight to Send Command */

struct activation {
	const struct hfw_activation_options *o;
	char gbcs_time[HFW_GENTIME_LEN + 1];
};

static void first(void *arg, struct hfw_request *r)
{
	const struct activation *a = arg;

	r->duis.body = HFW_BODY_ACTIVATE_FIRMWARE;
	r->duis.execution_datetime = a->o->execution_datetime;
	memcpy(r->duis.firmware_hash, a->o->firmware_hash, HFW_SHA256_LEN);
	r->state = "transform_signed";
	r->action = "activate";
	r->firmware_hash = a->o->firmware_hash;
}

/* Transform answered: check the pre-command, sign it, and follow up with the send. */
static void on_transform(const struct activation *a, hfw_flow *f, struct hfw_flow_job *j, const struct hfw_answer *ans)
{
	const struct hfw_activation_options *o = a->o;
	const char *code = ans->vr.response_code;
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_precommand_expect e;
	struct hfw_duis_request req;
	xmlNodePtr pc;
	xmlChar *b64 = NULL;
	uint8_t *pre = NULL, *signed_ = NULL;
	size_t plen = 0, slen = 0;

	pc = hfw_xml_child(hfw_xml_child(hfw_xml_child(xmlDocGetRootElement(ans->doc), HFW_NS_DUIS, "Body"), HFW_NS_DUIS,
					 "ResponseMessage"), HFW_NS_DUIS, "PreCommand");
	b64 = pc ? xmlNodeGetContent(hfw_xml_child(pc, HFW_NS_DUIS, "GBCSPayload")) : NULL;
	if (strcmp(code, "I0") != 0 || !b64 ||
	    hfw_base64_decode(&pre, &plen, (const char *)b64, strlen((const char *)b64), "GBCSPayload", &err) < 0) {
		hfw_flow_finish(f, j, HFW_FLOW_UNVERIFIED, code,
				b64 ? err.text : "the DCC's answer to the transform has no PreCommand");
		goto out;
	}
	/* The whole point: sign only exactly what was asked for. */
	memset(&e, 0, sizeof(e));
	e.originator = o->flow.user;
	e.recipient = *hfw_flow_device(f, j);
	e.counter = j->req.duis.id.counter;
	memcpy(e.hash, o->firmware_hash, HFW_SHA256_LEN);
	e.time = o->execution_datetime ? a->gbcs_time : NULL;
	if (hfw_cs06_check_precommand(pre, plen, &e, &err) < 0) {
		hfw_flow_finish(f, j, HFW_FLOW_PRECOMMAND_REFUSED, code, err.text);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.body = HFW_BODY_SIGNED_PRECOMMAND;
	req.id = j->req.duis.id;
	req.schema_version = o->flow.schema_version;
	j->req.xml.len = 0;
	if (hfw_gbcs_sign_precommand(&signed_, &slen, o->gbcs_key, pre, plen, &err) < 0 ||
	    (req.gbcs_payload = signed_, req.gbcs_len = slen,
	     hfw_duis_sign_request(&j->req.xml, o->flow.signer, &req, NULL, &err) < 0)) {
		hfw_flow_fail(f, &err);
		goto out;
	}
	j->step = STEP_SEND;
	hfw_flow_follow(f, j, "precommand_signed", code, "/serviceS");
out:
	xmlFree(b64);
	free(pre);
	free(signed_);
}

static void answered(void *arg, hfw_flow *f, struct hfw_flow_job *j, const struct hfw_answer *ans)
{
	const char *code = ans->vr.response_code;

	if (j->step == STEP_TRANSFORM)
		on_transform(arg, f, j, ans);
	else if (strcmp(code, "I99") == 0)
		hfw_flow_finish(f, j, HFW_FLOW_SENT, code, NULL);
	else
		hfw_flow_finish(f, j, HFW_FLOW_UNVERIFIED, code, "the DCC's answer is not I99");
}

int hfw_activation_run(const struct hfw_activation_options *o, struct hfw_flow_result *results, size_t n,
		       size_t *counts, struct hfw_error *err)
{
	struct activation a;
	struct hfw_flow_steps s = { "/serviceT", STEP_TRANSFORM, first, answered, &a };
	int ret;

	memset(&a, 0, sizeof(a));
	a.o = o;
	if (o->execution_datetime &&
	    (ret = hfw_cs06_time_from_duis(a.gbcs_time, NULL, o->execution_datetime, err)) < 0)
		return ret;
	return hfw_flow_run(&o->flow, &s, results, n, counts, err);
}
