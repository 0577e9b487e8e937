/* dcc.c - the sandbox's DCC, synchronous part (see dcc.h). */
#define _POSIX_C_SOURCE 200809L
#include "dcc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "duis.h"
#include "estate.h"
#include "fileio.h"
#include "xml.h"
#include "xmldsig.h"

/* Open addressing on the EUI: estates run to tens of thousands of devices. */
struct slot {
	uint64_t key;
	size_t index;	/* into the estate, + 1 (0: empty) */
};

struct hfw_dcc {
	pthread_mutex_t lock;
	hfw_estate *estate;
	struct slot *index;
	size_t nslots;
	unsigned char *busy;		/* per device: a firmware request in progress */
	hfw_signer *signer;		/* the DCC's XML-signing identity */
	hfw_trust *users;		/* users' XML-signing certificates */
	struct { struct hfw_eui who; uint64_t last; } counters[16];
	size_t ncounters;
	uint64_t window;		/* see hfw_dcc_set_counter_window */
	uint64_t recent[4096];		/* counters accepted lately, to refuse repeats within the window */
	size_t nrecent;
	unsigned long accepted;
	FILE *log;			/* requests.log: every request accepted, one RequestID a line */
};

static uint64_t key_of(const struct hfw_eui *e)
{
	uint64_t k = 0;
	int i;

	for (i = 0; i < 8; i++)
		k = k << 8 | e->b[i];
	return k;
}

static size_t slot_of(const hfw_dcc *d, uint64_t k)
{
	size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & (d->nslots - 1);

	while (d->index[i].index && d->index[i].key != k)
		i = (i + 1) & (d->nslots - 1);
	return i;
}

static const struct hfw_device *find(const hfw_dcc *d, const struct hfw_eui *e, size_t *at)
{
	size_t i = slot_of(d, key_of(e));

	if (!d->index[i].index)
		return NULL;
	*at = d->index[i].index - 1;
	return hfw_estate_at(d->estate, *at);
}

static const char *path_in(char *buf, size_t size, const char *dir, const char *rel)
{
	if (rel[0] == '/')
		snprintf(buf, size, "%s", rel);
	else
		snprintf(buf, size, "%s/%s", dir, rel);
	return buf;
}

int hfw_dcc_open(hfw_dcc **out, const char *dir, struct hfw_error *err)
{
	hfw_dcc *d = NULL;
	uint8_t *text = NULL;
	size_t len, i;
	json_t *cfg = NULL, *users, *u;
	json_error_t jerr;
	char p[4096], q[4096];
	int ret;

	*out = NULL;
	if (!(d = calloc(1, sizeof(*d))))
		return hfw_error_oom(err);
	pthread_mutex_init(&d->lock, NULL);
	if ((ret = hfw_file_read(&text, &len, path_in(p, sizeof(p), dir, "sandbox.json"), 1 << 20,
				 "sandbox settings", err)) < 0)
		goto out;
	if (!(cfg = json_loadb((const char *)text, len, 0, &jerr)) ||
	    !json_is_string(json_object_get(cfg, "dcc_xml_key")) ||
	    !json_is_string(json_object_get(cfg, "dcc_xml_cert")) ||
	    !json_is_array(users = json_object_get(cfg, "user_xml_certs"))) {
		ret = hfw_error_set(err, HFW_ECONFIG, "'%s' is not a sandbox's settings: run 'hanfw sandbox init'", p);
		goto out;
	}
	if ((ret = hfw_signer_open(&d->signer, path_in(p, sizeof(p), dir, json_string_value(json_object_get(cfg, "dcc_xml_key"))),
				   path_in(q, sizeof(q), dir, json_string_value(json_object_get(cfg, "dcc_xml_cert"))),
				   NULL, err)) < 0 ||
	    (ret = hfw_trust_new(&d->users, err)) < 0)
		goto out;
	json_array_foreach(users, i, u)
		if ((ret = hfw_trust_add_file(d->users, path_in(p, sizeof(p), dir, json_string_value(u) ? json_string_value(u) : ""),
					      err)) < 0)
			goto out;
	if ((ret = hfw_estate_read(&d->estate, path_in(p, sizeof(p), dir, "estate.json"), err)) < 0)
		goto out;
	for (d->nslots = 64; d->nslots < 2 * hfw_estate_count(d->estate); d->nslots *= 2)
		;
	if (!(d->index = calloc(d->nslots, sizeof(*d->index))) ||
	    !(d->busy = calloc(hfw_estate_count(d->estate) + 1, 1))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if (!(d->log = fopen(path_in(p, sizeof(p), dir, "requests.log"), "a"))) {
		ret = hfw_error_set(err, HFW_EIO, "cannot open '%s'", p);
		goto out;
	}
	for (i = 0; i < hfw_estate_count(d->estate); i++) {
		uint64_t k = key_of(&hfw_estate_at(d->estate, i)->eui);
		size_t s = slot_of(d, k);

		d->index[s].key = k;
		d->index[s].index = i + 1;
	}
	*out = d;
	d = NULL;
out:
	json_decref(cfg);
	free(text);
	hfw_dcc_free(d);
	return ret;
}

void hfw_dcc_free(hfw_dcc *d)
{
	if (!d)
		return;
	if (d->log)
		fclose(d->log);
	hfw_signer_free(d->signer);
	hfw_trust_free(d->users);
	hfw_estate_free(d->estate);
	free(d->index);
	free(d->busy);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void hfw_dcc_set_counter_window(hfw_dcc *d, uint64_t window)
{
	d->window = window;
}

/* A repeat of a counter accepted lately (only needed when the window lets counters arrive late). */
static int seen(const hfw_dcc *d, uint64_t counter)
{
	size_t i, n = d->nrecent < 4096 ? d->nrecent : 4096;

	for (i = 0; i < n; i++)
		if (d->recent[i] == counter)
			return 1;
	return 0;
}

unsigned long hfw_dcc_accepted(hfw_dcc *d)
{
	unsigned long n;

	pthread_mutex_lock(&d->lock);
	n = d->accepted;
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* The warning lists of DSPUpdateFirmwareWarning, in schema order. */
enum { W_INVALID, W_NOT_COMMISSIONED, W_NOT_APPLICABLE, W_IN_PROGRESS, W_GBCS_VERSION, W_LISTS };
static const char *const warning_names[W_LISTS] = {
	"InvalidDeviceIDList", "NotCommissionedDeviceIDList", "NotApplicableFirmwareDeviceIDList",
	"OtherRequestInProgressList", "InvalidGBCSVersionList",
};

/* Response header and the start of its ResponseMessage, canonical. */
static int response_head(struct hfw_buf *b, const char *request_id, const char *code, const char *sr,
			 struct hfw_error *err)
{
	struct timespec ts;
	struct tm tm;
	char when[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	return hfw_buf_printf(b, err,
			      "<sr:Response xmlns:sr=\"" HFW_NS_DUIS "\" schemaVersion=\"5.4\"><sr:Header>"
			      "%s%s%s<sr:ResponseCode>%s</sr:ResponseCode><sr:ResponseDateTime>%s</sr:ResponseDateTime>"
			      "</sr:Header><sr:Body><sr:ResponseMessage><sr:ServiceReference>%s</sr:ServiceReference>"
			      "<sr:ServiceReferenceVariant>%s</sr:ServiceReferenceVariant>",
			      request_id[0] ? "<sr:RequestID>" : "", request_id, request_id[0] ? "</sr:RequestID>" : "",
			      code, when, sr, sr);
}

/* An unsigned E-code reply, as the DCC sends them. */
static int error_reply(struct hfw_buf *b, const char *request_id, const char *code, const char *sr,
		       struct hfw_error *err)
{
	int ret;

	if ((ret = hfw_buf_puts(b, HFW_XML_DECL, err)) < 0 ||
	    (ret = response_head(b, request_id, code, sr, err)) < 0)
		return ret;
	return hfw_buf_puts(b, "</sr:ResponseMessage></sr:Body></sr:Response>", err);
}

static char *child_text(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = hfw_xml_child(parent, HFW_NS_DUIS, name);

	return n ? (char *)xmlNodeGetContent(n) : NULL;
}

/* 11.1 and 11.4: sort each device into accepted or one of the warning lists. */
static int update_firmware(hfw_dcc *d, xmlDocPtr doc, const char *sr, const char *rid, struct hfw_buf *reply,
			   struct hfw_error *err)
{
	xmlNodePtr body = hfw_xml_child(xmlDocGetRootElement(doc), HFW_NS_DUIS, "Body");
	xmlNodePtr uf = hfw_xml_first_element(body);
	char *list = child_text(uf, "DeviceIDList"), *p, *save = NULL;
	enum hfw_route want = strcmp(sr, "11.1") == 0 ? HFW_ROUTE_SR_11_1 : HFW_ROUTE_SR_11_4;
	struct hfw_buf lists[W_LISTS];
	size_t body_off, i, at;
	int any = 0, ret = 0;

	for (i = 0; i < W_LISTS; i++)
		lists[i] = (struct hfw_buf)HFW_BUF_INIT(2u * 1024 * 1024);
	pthread_mutex_lock(&d->lock);
	for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		struct hfw_eui e;
		const struct hfw_device *dev;
		int w = -1;

		if (hfw_eui_parse(&e, p, "device", err) < 0 || !(dev = find(d, &e, &at)))
			w = W_INVALID;
		else if (dev->type->route != want)
			w = W_NOT_APPLICABLE;	/* not a device this service request's firmware is for */
		else if (d->busy[at])
			w = W_IN_PROGRESS;
		else
			d->busy[at] = 1;
		if (w >= 0) {
			char eui[HFW_EUI_TEXT_MAX];

			hfw_eui_format(eui, &e);
			if ((lists[w].len && (ret = hfw_buf_puts(&lists[w], ",", err)) < 0) ||
			    (ret = hfw_buf_puts(&lists[w], eui, err)) < 0)
				goto unlock;
			any = 1;
		}
	}
	pthread_mutex_unlock(&d->lock);
	if ((ret = hfw_buf_puts(reply, HFW_XML_DECL, err)) < 0)
		goto out;
	body_off = reply->len;
	if ((ret = response_head(reply, rid, !any ? "I99" : want == HFW_ROUTE_SR_11_1 ? "W110101" : "W110401", sr, err)) < 0)
		goto out;
	if (any) {
		const char *el = want == HFW_ROUTE_SR_11_1 ? "DSPUpdateFirmwareWarning" : "DSPUpdatePPMIDFirmwareWarning";

		if ((ret = hfw_buf_printf(reply, err, "<sr:%s>", el)) < 0)
			goto out;
		for (i = 0; i < W_LISTS; i++)
			if (lists[i].len && (ret = hfw_buf_printf(reply, err, "<sr:%s>%s</sr:%s>", warning_names[i],
								   lists[i].data, warning_names[i])) < 0)
				goto out;
		if ((ret = hfw_buf_printf(reply, err, "</sr:%s>", el)) < 0)
			goto out;
	}
	if ((ret = hfw_buf_puts(reply, "</sr:ResponseMessage></sr:Body></sr:Response>", err)) < 0 ||
	    (ret = hfw_xmldsig_sign_canonical(reply, body_off, d->signer, err)) < 0)
		goto out;
	pthread_mutex_lock(&d->lock);
	d->accepted++;
	/* Written before the answer goes back, so a test can hold hanfw's ledger against it. */
	fprintf(d->log, "%s\n", rid);
	fflush(d->log);
	pthread_mutex_unlock(&d->lock);
	goto out;
unlock:
	pthread_mutex_unlock(&d->lock);
out:
	for (i = 0; i < W_LISTS; i++)
		hfw_buf_release(&lists[i]);
	xmlFree(list);
	return ret;
}

int hfw_dcc_handle(hfw_dcc *d, const char *path, const char *body, size_t len,
		   struct hfw_buf *reply, int *http_status, struct hfw_error *err)
{
	struct hfw_verify_options vo = { d->users, 0, 0, NULL, NULL };
	struct hfw_verify_result r;
	struct hfw_request_id id;
	xmlDocPtr doc = NULL;
	const char *endpoint, *code = NULL;
	const char *signer = NULL;
	char originator[HFW_EUI_TEXT_MAX];
	long cv;
	size_t i;
	int ret = 0;

	*http_status = 200;
	endpoint = strrchr(path, '/');
	if (strncmp(path, "/api/v1/service", 15) != 0 || !endpoint || strlen(endpoint) != 9 ||
	    !strchr("STD", endpoint[8])) {
		*http_status = 404;
		return hfw_buf_puts(reply, "<error>no such service</error>", err);
	}
	vo.doc_out = &doc;
	/* Parsing and signature checks need no shared state: only counters and devices do. */
	ret = hfw_xmldsig_verify(&r, (const uint8_t *)body, len, &vo, err);
	if (ret < 0 && !r.service_reference[0]) {
		/* Not a DUIS request at all: refused at the gateway. */
		*http_status = 400;
		ret = hfw_buf_printf(reply, err, "<error>%s</error>", "not a DUIS request");
		goto out;
	}
	if (ret == HFW_EVERIFY)
		code = "E40";
	else if (ret < 0)
		code = "E41";
	else if (strcmp(r.root, "Request") != 0)
		code = "E41";
	ret = 0;
	if (!code && hfw_request_id_parse(&id, r.request_id, err) < 0)
		code = "E41";
	if (!code) {
		hfw_eui_format(originator, &id.originator);
		signer = r.signer.eui;
		/* The user must sign its own requests. */
		if (strcmp(signer, originator) != 0)
			code = "E1";
	}
	cv = strtol(r.command_variant, NULL, 10);
	if (!code && ((cv == 8 && endpoint[8] != 'D') || ((cv == 1 || cv == 5) && endpoint[8] != 'S') ||
		      (cv == 4 && endpoint[8] != 'T')))
		code = "E13";
	if (!code && !((cv == 8 && (!strcmp(r.service_reference, "11.1") || !strcmp(r.service_reference, "11.4")))))
		code = "E12";	/* 11.2 and 11.3 are not served yet (see hanfw-sandbox(1)) */
	if (!code) {
		pthread_mutex_lock(&d->lock);
		for (i = 0; i < d->ncounters && memcmp(&d->counters[i].who, &id.originator, 8); i++)
			;
		if (i < d->ncounters && (id.counter + d->window <= d->counters[i].last ||
					 (!d->window && id.counter <= d->counters[i].last) ||
					 (d->window && seen(d, id.counter))))
			code = "E42";
		else if (i < d->ncounters && id.counter > d->counters[i].last)
			d->counters[i].last = id.counter;
		else if (i < sizeof(d->counters) / sizeof(d->counters[0])) {
			d->counters[i].who = id.originator;
			d->counters[i].last = id.counter;
			d->ncounters++;
		} else {
			code = "E1";	/* more users than a sandbox serves */
		}
		if (!code && d->window)
			d->recent[d->nrecent++ % 4096] = id.counter;
		pthread_mutex_unlock(&d->lock);
	}
	if (code)
		ret = error_reply(reply, r.request_id, code, r.service_reference[0] ? r.service_reference : "11.1", err);
	else
		ret = update_firmware(d, doc, r.service_reference, r.request_id, reply, err);
out:
	xmlFreeDoc(doc);
	return ret;
}
