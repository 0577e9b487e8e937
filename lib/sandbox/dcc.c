/* dcc.c - the sandbox's DCC, synchronous part (see dcc.h). */
#define _POSIX_C_SOURCE 200809L
#include "dcc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "../base64.h"
#include "../cs06.h"
#include "../gbcs.h"
#include "../hex.h"
#include "devsim.h"
#include "../duis.h"
#include "../estate.h"
#include "outbox.h"
#include "../fileio.h"
#include "../xml.h"
#include "../xmldsig.h"

struct hfw_dcc {
	pthread_mutex_t lock;		/* counters and the log; devices lock themselves */
	hfw_signer *signer;		/* the DCC's XML-signing identity */
	hfw_trust *users;		/* users' XML-signing certificates */
	struct hfw_faults faults;
	struct hfw_simclock clock;
	hfw_outbox *outbox;		/* asynchronous messages to the receive URL */
	hfw_devsim *devices;		/* the estate, simulated */
	hfw_products *products;		/* products.json of a mixed sandbox, NULL if none */
	struct { struct hfw_eui who; uint64_t last; } counters[16];
	size_t ncounters;
	uint64_t window;		/* see struct hfw_dcc_options */
	uint64_t recent[4096];		/* counters accepted lately, to refuse repeats within the window */
	size_t nrecent;
	unsigned long accepted;
	uint64_t served;		/* requests seen, for the http503 fault */
	FILE *log;			/* requests.log: every request accepted, one RequestID a line */
	FILE *received;			/* received.log: every request, its arrival and answer */
	unsigned busy;			/* requests being handled now */
	struct user_ds { struct hfw_eui eui; hfw_cert *cert; } ds[16];	/* users' GBCS digital-signing certificates */
	size_t nds;
	struct devrec *devs;		/* per device of the estate: SR 11.3 state */
	size_t ndevs;
	int64_t window_start;		/* the quarantine fault's current window (simulated ms) */
	uint64_t window_count;		/* requests counted in it */
	uint64_t quarantine_ref;	/* the last QuarantineEventRef */
	FILE *quarantined;		/* quarantined.log: every request held, its breach and reference */
};

/* What the DCC holds for a device between Transform and Send Command. */
struct devrec {
	uint64_t last_counter;		/* the device refuses counters not above it (GBCS anti-replay) */
	uint64_t pre_counter;		/* the RequestID counter of the outstanding pre-command */
	uint8_t *pre;			/* the pre-command issued, NULL if none outstanding */
	size_t prelen;
};

int hfw_dcc_open(hfw_dcc **out, const char *dir, const struct hfw_dcc_options *o, struct hfw_error *err)
{
	hfw_dcc *d = NULL;
	hfw_estate *estate = NULL;
	uint8_t *text = NULL;
	size_t len, i;
	json_t *cfg = NULL, *users, *u;
	json_error_t jerr;
	char p[4096], q[4096];
	const char *url;
	int ret;

	*out = NULL;
	if (!(d = calloc(1, sizeof(*d))))
		return hfw_error_oom(err);
	pthread_mutex_init(&d->lock, NULL);
	d->window = o->counter_window;
	if ((ret = hfw_faults_parse(&d->faults, o->faults, o->seed, err)) < 0)
		goto out;
	hfw_simclock_start(&d->clock, o->time_scale);
	if ((ret = hfw_file_read(&text, &len, hfw_path_in(p, sizeof(p), dir, "sandbox.json"), 1 << 20,
				 "sandbox settings", err)) < 0)
		goto out;
	if (!(cfg = json_loadb((const char *)text, len, 0, &jerr)) ||
	    !json_is_string(json_object_get(cfg, "dcc_xml_key")) ||
	    !json_is_string(json_object_get(cfg, "dcc_xml_cert")) ||
	    !json_is_array(users = json_object_get(cfg, "user_xml_certs"))) {
		ret = hfw_error_set(err, HFW_ECONFIG, "'%s' is not a sandbox's settings: run 'hanfw sandbox init'", p);
		goto out;
	}
	if ((ret = hfw_signer_open(&d->signer, hfw_path_in(p, sizeof(p), dir, json_string_value(json_object_get(cfg, "dcc_xml_key"))),
				   hfw_path_in(q, sizeof(q), dir, json_string_value(json_object_get(cfg, "dcc_xml_cert"))),
				   NULL, err)) < 0 ||
	    (ret = hfw_trust_new(&d->users, err)) < 0)
		goto out;
	json_array_foreach(users, i, u)
		if ((ret = hfw_trust_add_file(d->users, hfw_path_in(p, sizeof(p), dir, json_string_value(u) ? json_string_value(u) : ""),
					      err)) < 0)
			goto out;
	/* Users' digital-signing certificates check signed pre-commands (none: every SR 11.3 send is E44). */
	json_array_foreach(json_object_get(cfg, "user_ds_certs"), i, u) {
		struct hfw_cert_info ci;

		if (d->nds == sizeof(d->ds) / sizeof(d->ds[0]))
			break;
		if ((ret = hfw_cert_load(&d->ds[d->nds].cert, hfw_path_in(p, sizeof(p), dir, json_string_value(u) ? json_string_value(u) : ""),
					 err)) < 0)
			goto out;
		hfw_cert_info(d->ds[d->nds].cert, &ci);
		if (!ci.eui[0] || hfw_eui_parse(&d->ds[d->nds++].eui, ci.eui, "user", err) < 0) {
			ret = hfw_error_set(err, HFW_EKEY, "digital-signing certificate '%s' names no EUI", p);
			goto out;
		}
	}
	if ((ret = hfw_estate_read(&estate, hfw_path_in(p, sizeof(p), dir, "estate.json"), err)) < 0)
		goto out;
	/* A mixed sandbox's products file: its devices then behave as the documents say (devsim.h). */
	if (access(hfw_path_in(p, sizeof(p), dir, "products.json"), F_OK) == 0 &&
	    (ret = hfw_products_read(&d->products, p, err)) < 0)
		goto out;
	d->ndevs = hfw_estate_count(estate);
	if (!(d->devs = calloc(d->ndevs + 1, sizeof(*d->devs)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if (!(d->received = fopen(hfw_path_in(p, sizeof(p), dir, "received.log"), "a"))) {
		ret = hfw_error_set(err, HFW_EIO, "cannot open '%s'", p);
		goto out;
	}
	if (d->faults.quarantine_window_ms &&
	    !(d->quarantined = fopen(hfw_path_in(p, sizeof(p), dir, "quarantined.log"), "a"))) {
		ret = hfw_error_set(err, HFW_EIO, "cannot open '%s'", p);
		goto out;
	}
	if (!(d->log = fopen(hfw_path_in(p, sizeof(p), dir, "requests.log"), "a"))) {
		ret = hfw_error_set(err, HFW_EIO, "cannot open '%s'", p);
		goto out;
	}
	/* The receive URL: the option, else the sandbox's settings; none means logged, not sent. */
	url = o->receive_url ? o->receive_url : json_string_value(json_object_get(cfg, "receive_url"));
	{
		struct hfw_outbox_options oo = { url && *url ? url : NULL, NULL, NULL, NULL, &d->faults, &d->clock,
						 hfw_path_in(p, sizeof(p), dir, "deliveries.log"), 0, o->log };
		struct hfw_devsim_options so = { dir, d->signer, &d->faults, &d->clock, NULL, o->log, d->products };
		char ca[4096], cert[4096], key[4096];

		if (oo.url && !strncmp(oo.url, "https://", 8)) {
			/* The DCC is the TLS client here, with the sandbox's client certificate. */
			oo.ca = hfw_path_in(ca, sizeof(ca), dir, "tls/ca.pem");
			oo.client_cert = hfw_path_in(cert, sizeof(cert), dir, "tls/client.pem");
			oo.client_key = hfw_path_in(key, sizeof(key), dir, "tls/client.key");
		}
		if ((ret = hfw_outbox_start(&d->outbox, &oo, err)) < 0)
			goto out;
		so.outbox = d->outbox;
		ret = hfw_devsim_open(&d->devices, estate, &so, err);
		estate = NULL;
		if (ret < 0)
			goto out;
	}
	*out = d;
	d = NULL;
out:
	hfw_estate_free(estate);
	json_decref(cfg);
	free(text);
	hfw_dcc_free(d);
	return ret;
}

void hfw_dcc_free(hfw_dcc *d)
{
	if (!d)
		return;
	/* Devices first: they post to the outbox. */
	hfw_devsim_free(d->devices);
	hfw_products_free(d->products);
	hfw_outbox_stop(d->outbox);
	if (d->log)
		fclose(d->log);
	if (d->received)
		fclose(d->received);
	if (d->quarantined)
		fclose(d->quarantined);
	for (size_t i = 0; i < d->nds; i++)
		hfw_cert_free(d->ds[i].cert);
	for (size_t i = 0; d->devs && i < d->ndevs; i++)
		free(d->devs[i].pre);
	free(d->devs);
	hfw_signer_free(d->signer);
	hfw_trust_free(d->users);
	pthread_mutex_destroy(&d->lock);
	free(d);
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
static int response_head(const hfw_dcc *d, struct hfw_buf *b, const char *request_id, const char *code, const char *sr,
			 struct hfw_error *err)
{
	int64_t now = hfw_simclock_now(&d->clock);	/* the sandbox lives in simulated time */
	time_t secs = (time_t)(now / 1000);
	struct tm tm;
	char when[64];

	gmtime_r(&secs, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now % 1000));
	return hfw_buf_printf(b, err,
			      "<sr:Response xmlns:sr=\"" HFW_NS_DUIS "\" schemaVersion=\"5.4\"><sr:Header>"
			      "%s%s%s<sr:ResponseCode>%s</sr:ResponseCode><sr:ResponseDateTime>%s</sr:ResponseDateTime>"
			      "</sr:Header><sr:Body><sr:ResponseMessage><sr:ServiceReference>%s</sr:ServiceReference>"
			      "<sr:ServiceReferenceVariant>%s</sr:ServiceReferenceVariant>",
			      request_id[0] ? "<sr:RequestID>" : "", request_id, request_id[0] ? "</sr:RequestID>" : "",
			      code, when, sr, sr);
}

/* An unsigned E-code reply, as the DCC sends them. */
static int error_reply(const hfw_dcc *d, struct hfw_buf *b, const char *request_id, const char *code, const char *sr,
		       struct hfw_error *err)
{
	int ret;

	if ((ret = hfw_buf_puts(b, HFW_XML_DECL, err)) < 0 ||
	    (ret = response_head(d, b, request_id, code, sr, err)) < 0)
		return ret;
	return hfw_buf_puts(b, "</sr:ResponseMessage></sr:Body></sr:Response>", err);
}

static char *child_text(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = hfw_xml_child(parent, HFW_NS_DUIS, name);

	return n ? (char *)xmlNodeGetContent(n) : NULL;
}

/* 11.1 and 11.4: sort each device into accepted or one of the warning lists, then start delivery. */
static int update_firmware(hfw_dcc *d, xmlDocPtr doc, const char *sr, const char *rid, struct hfw_buf *reply,
			   struct hfw_error *err)
{
	xmlNodePtr body = hfw_xml_child(xmlDocGetRootElement(doc), HFW_NS_DUIS, "Body");
	xmlNodePtr uf = hfw_xml_first_element(body);
	char *list = child_text(uf, "DeviceIDList"), *p, *save = NULL;
	char *image_text = child_text(uf, "FirmwareImage"), *version = child_text(uf, "FirmwareVersion");
	enum hfw_route want = strcmp(sr, "11.1") == 0 ? HFW_ROUTE_SR_11_1 : HFW_ROUTE_SR_11_4;
	struct hfw_buf lists[W_LISTS];
	size_t body_off, i, nclaimed = 0, capclaimed = 0, *claimed = NULL;
	uint8_t *image = NULL;
	size_t image_len = 0;
	int any = 0, ret = 0;

	for (i = 0; i < W_LISTS; i++)
		lists[i] = (struct hfw_buf)HFW_BUF_INIT(2u * 1024 * 1024);
	/* The schema has checked it is base64 of at most 10,240,000 octets. */
	if ((ret = hfw_base64_decode(&image, &image_len, image_text, strlen(image_text), "FirmwareImage", err)) < 0)
		goto out;
	for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		struct hfw_eui e;
		size_t at = 0;
		int w = -1;

		if (hfw_eui_parse(&e, p, "device", err) < 0) {
			w = W_INVALID;
		} else {
			switch (hfw_devsim_claim(d->devices, &e, want, &at)) {
			case HFW_CLAIM_OK:
				break;
			case HFW_CLAIM_UNKNOWN:
				w = W_INVALID;
				break;
			case HFW_CLAIM_NOT_APPLICABLE:
				w = W_NOT_APPLICABLE;	/* not a device this service request's firmware is for */
				break;
			case HFW_CLAIM_BUSY:
				w = W_IN_PROGRESS;
				break;
			}
		}
		if (w >= 0) {
			if ((lists[w].len && (ret = hfw_buf_puts(&lists[w], ",", err)) < 0) ||
			    (ret = hfw_buf_puts(&lists[w], p, err)) < 0)
				goto out;
			any = 1;
			continue;
		}
		if (nclaimed == capclaimed) {
			size_t cap = capclaimed ? 2 * capclaimed : 256, *c = realloc(claimed, cap * sizeof(*c));

			if (!c) {
				hfw_devsim_release(d->devices, &at, 1);
				ret = hfw_error_oom(err);
				goto out;
			}
			claimed = c;
			capclaimed = cap;
		}
		claimed[nclaimed++] = at;
	}
	if ((ret = hfw_buf_puts(reply, HFW_XML_DECL, err)) < 0)
		goto out;
	body_off = reply->len;
	if ((ret = response_head(d, reply, rid, !any ? "I99" : want == HFW_ROUTE_SR_11_1 ? "W110101" : "W110401", sr, err)) < 0)
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
	if (nclaimed && (ret = hfw_devsim_distribute(d->devices, rid, image, image_len, version, claimed, nclaimed, err)) < 0)
		goto out;
	nclaimed = 0;	/* the lifecycle has them now */
out:
	if (nclaimed)
		hfw_devsim_release(d->devices, claimed, nclaimed);
	for (i = 0; i < W_LISTS; i++)
		hfw_buf_release(&lists[i]);
	free(claimed);
	free(image);
	xmlFree(list);
	xmlFree(image_text);
	xmlFree(version);
	return ret;
}

/* A signed ResponseMessage for a device request (SR sr) with inner after the variant. */
static int device_reply(hfw_dcc *d, struct hfw_buf *reply, const char *rid, const char *sr, const char *code,
			const char *inner, struct hfw_error *err)
{
	size_t body_off;
	int ret;

	if ((ret = hfw_buf_puts(reply, HFW_XML_DECL, err)) < 0)
		return ret;
	body_off = reply->len;
	if ((ret = response_head(d, reply, rid, code, sr, err)) < 0 ||
	    (ret = hfw_buf_printf(reply, err, "%s</sr:ResponseMessage></sr:Body></sr:Response>", inner)) < 0)
		return ret;
	return hfw_xmldsig_sign_canonical(reply, body_off, d->signer, err);
}

/* The request's body element of that name, or NULL. */
static xmlNodePtr body_element(xmlDocPtr doc, const char *name)
{
	return hfw_xml_child(hfw_xml_child(xmlDocGetRootElement(doc), HFW_NS_DUIS, "Body"), HFW_NS_DUIS, name);
}

/*
 * A device request's counter: it must rise per user and device, as the
 * device's own anti-replay check demands.  NULL if it does (and is now the
 * last), else the E-code.
 */
static const char *take_device_counter(hfw_dcc *d, struct devrec *r, uint64_t counter)
{
	const char *code = NULL;

	pthread_mutex_lock(&d->lock);
	if (counter <= r->last_counter)
		code = "E42";
	else
		r->last_counter = counter;
	pthread_mutex_unlock(&d->lock);
	return code;
}

/* The tamper fault: what a compromised DCC would slip into a pre-command. */
static void tamper(const hfw_dcc *d, struct hfw_gbcs_frame *f, struct hfw_cs06_command *c)
{
	enum hfw_tamper t = d->faults.tamper;

	if (t == HFW_TAMPER_MIXED)
		t = (enum hfw_tamper)(HFW_TAMPER_HASH + (int)(c->counter % 5));
	switch (t) {
	case HFW_TAMPER_HASH:
		c->hash[31] ^= 0x5A;
		break;
	case HFW_TAMPER_RECIPIENT:
		f->recipient[7] ^= 0x01;
		break;
	case HFW_TAMPER_COUNTER:
		f->counter += 1;
		c->counter += 1;
		break;
	case HFW_TAMPER_CODE:
		f->message_code = 0x0013;
		break;
	case HFW_TAMPER_TIME:
		/* A future-dated activation made immediate, or an immediate one put off. */
		if (c->time[0])
			c->time[0] = '\0';
		else
			memcpy(c->time, "20991231235959Z", HFW_GENTIME_LEN + 1);
		break;
	default:
		break;
	}
}

/*
 * SR 11.3 with CV 4 (Transform): check the device, then build the CS06
 * pre-command the supplier is to sign (ending with a null signature
 * length, as DCC Boxed 1.4.1 on does) and keep it until Send Command.
 */
static int transform(hfw_dcc *d, xmlDocPtr doc, const struct hfw_request_id *id, const char *rid, size_t device,
		     struct hfw_buf *reply, const char **code, struct hfw_error *err)
{
	xmlNodePtr af = body_element(doc, "ActivateFirmware");
	char *hash = af ? child_text(af, "FirmwareHash") : NULL, *when = af ? child_text(af, "ExecutionDateTime") : NULL;
	struct hfw_cs06_command c;
	struct hfw_gbcs_frame f;
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct devrec *r = &d->devs[device];
	uint8_t content[HFW_CS06_MAX], *pre = NULL;
	size_t n, prelen = 0;
	char *inner = NULL;
	int ret = 0;

	memset(&c, 0, sizeof(c));
	if (!af || !hash) {
		*code = "E12";	/* CV 4 of SR 11.3 carries ActivateFirmware */
		goto out;
	}
	if (strlen(hash) != 64 || hfw_hex_decode(c.hash, 32, hash, 64) < 0 ||
	    (when && hfw_cs06_time_from_duis(c.time, NULL, when, &ignored) < 0)) {
		*code = "E41";
		goto out;
	}
	if ((*code = take_device_counter(d, r, id->counter)))
		goto out;
	c.counter = id->counter;
	memset(&f, 0, sizeof(f));
	f.cra = HFW_CRA_COMMAND;
	f.counter = id->counter;
	memcpy(f.originator, id->originator.b, 8);
	memcpy(f.recipient, id->target.b, 8);
	f.message_code = HFW_CS06_MESSAGE_CODE;
	tamper(d, &f, &c);
	hfw_cs06_command_encode(content, &n, &c);
	f.content = content;
	f.content_len = n;
	if ((ret = hfw_gbcs_encode(&pre, &prelen, &f, NULL, err)) < 0)
		goto out;
	if (!(inner = malloc(hfw_base64_len(prelen) + 128))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	n = (size_t)snprintf(inner, 128, "<sr:PreCommand><sr:GBCSVersion>4.0</sr:GBCSVersion><sr:GBCSPayload>");
	hfw_base64_encode(inner + n, pre, prelen);
	n += hfw_base64_len(prelen);
	memcpy(inner + n, "</sr:GBCSPayload></sr:PreCommand>", sizeof("</sr:GBCSPayload></sr:PreCommand>"));
	if ((ret = device_reply(d, reply, rid, "11.3", "I0", inner, err)) < 0)
		goto out;
	pthread_mutex_lock(&d->lock);
	free(r->pre);	/* a newer transform replaces an outstanding one */
	r->pre = pre;
	r->prelen = prelen;
	r->pre_counter = id->counter;
	pthread_mutex_unlock(&d->lock);
	pre = NULL;
out:
	free(pre);
	free(inner);
	xmlFree(hash);
	xmlFree(when);
	return ret;
}

/*
 * SR 11.3 with CV 5 (Send Command): the signed pre-command must be the one
 * issued for this RequestID (E43 if none is outstanding), signed by the
 * originator's digital-signing certificate (E44 if not); then it goes to
 * the device it is addressed to, and the answer is I99.
 */
static int send_command(hfw_dcc *d, xmlDocPtr doc, const struct hfw_request_id *id, const char *rid, size_t device,
			struct hfw_buf *reply, const char **code, struct hfw_error *err)
{
	xmlNodePtr spc = body_element(doc, "SignedPreCommand");
	char *b64 = spc ? child_text(spc, "GBCSPayload") : NULL;
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct devrec *r = &d->devs[device];
	struct hfw_gbcs_message m, pm;
	struct hfw_devsim_command cmd;
	struct hfw_cs06_command c;
	const struct hfw_device *target;
	const hfw_cert *cert = NULL;
	uint8_t pre[256], *payload = NULL;
	size_t prelen = 0, plen = 0, i, at;
	int ret = 0;

	if (!spc || !b64) {
		*code = "E12";	/* CV 5 of SR 11.3 carries SignedPreCommand */
		goto out;
	}
	pthread_mutex_lock(&d->lock);
	if (r->pre && r->pre_counter == id->counter && r->prelen <= sizeof(pre)) {
		memcpy(pre, r->pre, r->prelen);
		prelen = r->prelen;
	}
	pthread_mutex_unlock(&d->lock);
	if (!prelen) {
		*code = "E43";
		goto out;
	}
	for (i = 0; i < d->nds && !cert; i++)
		if (!memcmp(&d->ds[i].eui, &id->originator, sizeof(id->originator)))
			cert = d->ds[i].cert;
	/* Exactly the pre-command issued (without its null signature length), then 40 || r || s. */
	if (hfw_base64_decode(&payload, &plen, b64, strlen(b64), "GBCSPayload", &ignored) < 0 ||
	    hfw_gbcs_parse(&pm, pre, prelen, &ignored) < 0 || plen != pm.signed_end + 1 + HFW_ECDSA_SIG_LEN ||
	    memcmp(payload, pre, pm.signed_end) != 0 || hfw_gbcs_parse(&m, payload, plen, &ignored) < 0 || !cert ||
	    hfw_gbcs_verify(&m, payload, cert, &ignored) < 0 ||
	    hfw_cs06_command_parse(&c, m.content, m.content_len, &ignored) < 0) {
		*code = "E44";
		goto out;
	}
	pthread_mutex_lock(&d->lock);
	if (r->pre && r->pre_counter == id->counter) {
		free(r->pre);	/* used: a second send of it is E43 */
		r->pre = NULL;
	} else {
		*code = "E43";
	}
	pthread_mutex_unlock(&d->lock);
	if (*code)
		goto out;
	if ((ret = device_reply(d, reply, rid, "11.3", "I99", "", err)) < 0)
		goto out;
	/* The command goes where it is addressed: what the supplier signed is what runs. */
	memset(&cmd, 0, sizeof(cmd));
	snprintf(cmd.request_id, sizeof(cmd.request_id), "%.*s", (int)sizeof(cmd.request_id) - 1, rid);
	cmd.user = id->originator;
	cmd.counter = m.counter;
	memcpy(cmd.hash, c.hash, 32);
	memcpy(cmd.time, c.time, sizeof(cmd.time));
	{
		struct hfw_eui to;

		memcpy(to.b, m.recipient, 8);
		if (hfw_devsim_find(d->devices, &to, &at, &target) == 0 && m.message_code == HFW_CS06_MESSAGE_CODE)
			ret = hfw_devsim_command(d->devices, at, &cmd, err);
	}
out:
	free(payload);
	xmlFree(b64);
	return ret;
}

/* SR 11.2 with CV 1: I99, then the device's answer (devsim.h) with the version it runs. */
static int read_version(hfw_dcc *d, xmlDocPtr doc, const struct hfw_request_id *id, const char *rid, size_t device,
			struct hfw_buf *reply, const char **code, struct hfw_error *err)
{
	xmlNodePtr rf = body_element(doc, "ReadFirmwareVersion");
	struct devrec *r = &d->devs[device];
	struct hfw_devsim_command cmd;
	int ret;

	if (!rf) {
		*code = "E12";
		return 0;
	}
	if ((*code = take_device_counter(d, r, id->counter)))
		return 0;
	if ((ret = device_reply(d, reply, rid, "11.2", "I99", "", err)) < 0)
		return ret;
	memset(&cmd, 0, sizeof(cmd));
	snprintf(cmd.request_id, sizeof(cmd.request_id), "%.*s", (int)sizeof(cmd.request_id) - 1, rid);
	cmd.user = id->originator;
	cmd.counter = id->counter;
	cmd.read_version = 1;
	return hfw_devsim_command(d->devices, device, &cmd, err);
}

/* <sr:NAME>text</sr:NAME>, text escaped; nothing when text is empty and the element optional. */
static int inventory_element(struct hfw_buf *b, const char *name, const char *text, int optional, struct hfw_error *err)
{
	int ret;

	if (optional && (!text || !text[0]))
		return 0;
	if ((ret = hfw_buf_printf(b, err, "<sr:%s>", name)) < 0 || (ret = hfw_buf_put_escaped(b, text ? text : "", err)) < 0)
		return ret;
	return hfw_buf_printf(b, err, "</sr:%s>", name);
}

#ifdef HFW_ESTATE_FORMAT_1	/* estate v2 */
/* text if it is one of the NULL-terminated values, else "". */
static const char *one_of(const char *text, const char *const *values)
{
	for (; *values; values++)
		if (!strcmp(text, *values))
			return text;
	return "";
}

/* text if it has min..max characters all in set (NULL: any), else "". */
static const char *sized(const char *text, size_t min, size_t max, const char *set)
{
	size_t n = strlen(text);

	return n >= min && n <= max && (!set || strspn(text, set) == n) ? text : "";
}

/* An xs:date as DUIS writes DateCommissioned (YYYY-MM-DD), else "". */
static const char *date_only(const char *text)
{
	return strlen(text) == 10 && strspn(text, "0123456789") == 4 && text[4] == '-' &&
	       strspn(text + 5, "0123456789") == 2 && text[7] == '-' && strspn(text + 8, "0123456789") == 2 ? text : "";
}
#endif

/*
 * One sr:Device of DSPInventory in the DUIS 5.4 element order, with only
 * what the estate knows and DUIS's types allow (a value outside them is
 * left out, so the answer always validates; DeviceManufacturer and
 * DeviceModel are required: empty when unknown).  An Alt HAN bridge is a
 * PPMID to the DCC (DUIS has no PPMIDVariant); the firmware version is
 * the one the device runs now.
 */
static int inventory_device(struct hfw_buf *b, const struct hfw_devsim_member *m, struct hfw_error *err)
{
	const struct hfw_device *d = m->device;
	const char *type = strncmp(d->type->name, "ALTHAN-", 7) ? d->type->name : "PPMID";
	const char *version = m->running_version[0] ? m->running_version : d->firmware_version;
	char eui[HFW_EUI_TEXT_MAX];
	int ret;

	hfw_eui_format(eui, &d->eui);
	if ((ret = hfw_buf_puts(b, "<sr:Device>", err)) < 0 || (ret = inventory_element(b, "DeviceID", eui, 0, err)) < 0 ||
	    (ret = inventory_element(b, "DeviceType", type, 0, err)) < 0)
		return ret;
#ifdef HFW_ESTATE_FORMAT_1	/* estate v2: what the DCC's inventory holds */
	{
		static const char *const regions[] = { "North", "Central", "South", "4G North", "4G Central", "4G South",
						       "Unknown", "SMETS1", NULL };
		static const char *const connectivity[] = { "Cellular", "Virtual", NULL };

		if ((ret = inventory_element(b, "DeviceStatus", d->status ? hfw_device_status_name(d->status) : "", 1, err)) < 0 ||
		    (ret = inventory_element(b, "DeviceManufacturer", sized(d->manufacturer, 0, 30, NULL), 0, err)) < 0 ||
		    (ret = inventory_element(b, "DeviceModel", sized(d->model, 0, 30, NULL), 0, err)) < 0 ||
		    (ret = inventory_element(b, "SMETSCHTSVersion", sized(d->chts_version, 1, 20, NULL), 1, err)) < 0 ||
		    (ret = inventory_element(b, "DeviceFirmwareVersion", sized(version, 1, 8, NULL), 1, err)) < 0 ||
		    (ret = inventory_element(b, "DeviceFirmwareVersionStatus",
					     d->firmware_status ? hfw_cpl_status_name(d->firmware_status) : "", 1, err)) < 0 ||
		    (ret = inventory_element(b, "CPLStatus", d->cpl_status ? hfw_cpl_status_name(d->cpl_status) : "", 1, err)) < 0 ||
		    (ret = inventory_element(b, "DateCommissioned", date_only(d->date_commissioned), 1, err)) < 0 ||
		    (ret = inventory_element(b, "ImportMPxN", sized(d->mpxn, 1, 13, NULL), 1, err)) < 0 ||
		    (ret = inventory_element(b, "UPRN", d->uprn[0] != '0' ? sized(d->uprn, 1, 12, "0123456789") : "", 1, err)) < 0 ||
		    (ret = inventory_element(b, "CSPRegion", one_of(d->region, regions), 1, err)) < 0 ||
		    (ret = inventory_element(b, "DeviceGBCSVersion", d->gbcs_version, 1, err)) < 0 ||
		    (ret = inventory_element(b, "HANVariant", d->han_variant, 1, err)) < 0 ||
		    (ret = inventory_element(b, "S1SP", d->s1sp, 1, err)) < 0 ||
		    (ret = inventory_element(b, "Connectivity", one_of(d->connectivity, connectivity), 1, err)) < 0)
			return ret;
	}
#else
	if ((ret = inventory_element(b, "DeviceManufacturer", "", 0, err)) < 0 ||
	    (ret = inventory_element(b, "DeviceModel", "", 0, err)) < 0 ||
	    (ret = inventory_element(b, "DeviceFirmwareVersion", version, 1, err)) < 0)
		return ret;
#endif
	return hfw_buf_puts(b, "</sr:Device>", err);
}

/*
 * SR 8.2 Read Inventory, answered synchronously as DCC Boxed does: I0 and
 * DSPInventory listing the premises of the device searched for (its hub's
 * CHF first), signed.  The search key is a DeviceID, or an MPxN or UPRN
 * (the premises of the first device in the estate that has it); nothing
 * found is E19, and so is a PropertyFilter, which the sandbox does not
 * search by.
 */
static int read_inventory(hfw_dcc *d, xmlDocPtr doc, const char *rid, struct hfw_buf *reply, const char **code,
			  struct hfw_error *err)
{
	xmlNodePtr ri = body_element(doc, "ReadInventory");
	char *id = ri ? child_text(ri, "DeviceID") : NULL, *mpxn = ri ? child_text(ri, "MPxN") : NULL;
	char *uprn = ri ? child_text(ri, "UPRN") : NULL;
	struct hfw_devsim_member m[17];
	struct hfw_error ignored = HFW_ERROR_INIT;
	struct hfw_buf inner = HFW_BUF_INIT(64u * 1024);
	struct hfw_eui e;
	int n, i, ret = 0;

	if (!ri) {
		*code = "E12";	/* CV 8 of SR 8.2 carries ReadInventory */
		goto out;
	}
	if ((id ? hfw_eui_parse(&e, id, "DeviceID", &ignored)
		: mpxn ? hfw_devsim_find_by(d->devices, 0, mpxn, &e)
		: uprn ? hfw_devsim_find_by(d->devices, 1, uprn, &e) : -1) < 0 ||
	    (n = hfw_devsim_premises(d->devices, &e, m, sizeof(m) / sizeof(m[0]))) <= 0) {
		*code = "E19";
		goto out;
	}
	if ((ret = hfw_buf_puts(&inner, "<sr:DSPInventory>", err)) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((ret = inventory_device(&inner, &m[i], err)) < 0)
			goto out;
	if ((ret = hfw_buf_puts(&inner, "</sr:DSPInventory>", err)) < 0 ||
	    (ret = device_reply(d, reply, rid, "8.2", "I0", inner.data, err)) < 0)
		goto out;
	pthread_mutex_lock(&d->lock);
	d->accepted++;
	fprintf(d->log, "%s\n", rid);
	fflush(d->log);
	pthread_mutex_unlock(&d->lock);
out:
	hfw_buf_release(&inner);
	xmlFree(id);
	xmlFree(mpxn);
	xmlFree(uprn);
	return ret;
}

/* The E-code the ecode fault chose for this request's target or one of its devices, or NULL. */
static const char *chosen_ecode(const hfw_dcc *d, xmlDocPtr doc, const struct hfw_request_id *id)
{
	xmlNodePtr body = hfw_xml_child(xmlDocGetRootElement(doc), HFW_NS_DUIS, "Body");
	char *list = child_text(hfw_xml_first_element(body), "DeviceIDList"), *p, *save = NULL;
	const char *code = hfw_faults_ecode(&d->faults, &id->target);
	struct hfw_error err = HFW_ERROR_INIT;

	for (p = list ? strtok_r(list, ",", &save) : NULL; p && !code; p = strtok_r(NULL, ",", &save)) {
		struct hfw_eui e;

		if (hfw_eui_parse(&e, p, "device", &err) == 0)
			code = hfw_faults_ecode(&d->faults, &e);
	}
	xmlFree(list);
	return code;
}

/*
 * The quarantine fault: the DCC's anomaly detection counts the requests
 * that passed its checks (but Transform's) in windows of simulated time, each opened by the
 * first request after the last one closed; above the
 * threshold it acknowledges the request (I99, signed), holds it (it is
 * never processed nor written to requests.log) and alerts the user with
 * QuarantinedRequest.  Whether the request was held.
 */
static int quarantine(hfw_dcc *d, const struct hfw_request_id *id, const char *rid, const char *sr, struct hfw_buf *reply,
		      int *ret, struct hfw_error *err)
{
	int64_t now = hfw_simclock_now(&d->clock);
	uint64_t ref = 0;
	int held = 0;

	pthread_mutex_lock(&d->lock);
	if (!d->window_count || now - d->window_start >= (int64_t)d->faults.quarantine_window_ms) {
		d->window_start = now;	/* a window opens with the first request counted in it */
		d->window_count = 0;
	}
	if (++d->window_count > d->faults.quarantine_max) {
		held = 1;
		ref = ++d->quarantine_ref;
		fprintf(d->quarantined, "{\"request\":\"%s\",\"breach\":\"%s\",\"quarantine_event_ref\":%llu}\n", rid,
			hfw_breach_name(d->faults.breach), (unsigned long long)ref);
		fflush(d->quarantined);
	}
	pthread_mutex_unlock(&d->lock);
	if (!held)
		return 0;
	*ret = device_reply(d, reply, rid, sr, "I99", "", err);
	hfw_devsim_quarantine_alert(d->devices, &id->originator, rid, hfw_breach_name(d->faults.breach), ref);
	return 1;
}

/* One line in received.log per request: when it came, what it was, what it got, how many were in hand. */
static void log_received(hfw_dcc *d, const char *path, long cv, const char *rid, int http_status,
			 const struct hfw_buf *reply, unsigned busy)
{
	const char *rc = http_status == 200 && reply->data ? strstr(reply->data, "<sr:ResponseCode>") : NULL;
	char code[16] = "";

	if (rc)
		sscanf(rc + 17, "%15[A-Z0-9]", code);
	else
		snprintf(code, sizeof(code), "HTTP %d", http_status);
	fprintf(d->received, "{\"t\":%lld,\"path\":\"%s\",\"cv\":%ld,\"request\":\"%s\",\"code\":\"%s\",\"busy\":%u}\n",
		(long long)hfw_clock_ms(CLOCK_REALTIME), path[0] == '/' && strlen(path) < 64 ? path : "?", cv, rid, code, busy);
	fflush(d->received);
}

int hfw_dcc_handle(hfw_dcc *d, const char *path, const char *body, size_t len,
		   struct hfw_buf *reply, int *http_status, struct hfw_error *err)
{
	struct hfw_verify_options vo = { d->users, 0, 0, NULL, NULL, 0 };
	struct hfw_verify_result r;
	struct hfw_request_id id;
	const struct hfw_device *dev = NULL;
	xmlDocPtr doc = NULL;
	const char *endpoint, *code = NULL;
	const char *signer = NULL;
	char originator[HFW_EUI_TEXT_MAX], rid[HFW_REQUEST_ID_MAX] = "";
	long cv = 0;
	size_t i, device = 0;
	unsigned busy;
	int ret = 0;

	*http_status = 200;
	pthread_mutex_lock(&d->lock);
	busy = ++d->busy;
	pthread_mutex_unlock(&d->lock);
	if (d->faults.slow_ms) {
		struct timespec ts = { (time_t)(d->faults.slow_ms / 1000), (long)(d->faults.slow_ms % 1000) * 1000000 };

		nanosleep(&ts, NULL);
	}
	if (d->faults.http503 > 0) {
		uint64_t n;

		pthread_mutex_lock(&d->lock);
		n = ++d->served;
		pthread_mutex_unlock(&d->lock);
		if (hfw_faults_chance(&d->faults, "http503", n, d->faults.http503)) {
			*http_status = 503;
			ret = hfw_buf_puts(reply, "<error>service unavailable</error>", err);
			goto out;
		}
	}
	endpoint = strrchr(path, '/');
	if (strncmp(path, "/api/v1/service", 15) != 0 || !endpoint || strlen(endpoint) != 9 ||
	    !strchr("STD", endpoint[8])) {
		*http_status = 404;
		ret = hfw_buf_puts(reply, "<error>no such service</error>", err);
		goto out;
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
		code = r.role_refused ? "E1" : "E40";	/* signed, but not by whom the rules allow */
	else if (ret < 0)
		code = "E41";
	else if (strcmp(r.root, "Request") != 0)
		code = "E41";
	ret = 0;
	if (!code && hfw_request_id_parse(&id, r.request_id, err) < 0)
		code = "E41";
	if (!code) {
		hfw_request_id_format(rid, &id);
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
	if (!code && !(cv == 8 && (!strcmp(r.service_reference, "11.1") || !strcmp(r.service_reference, "11.4") ||
				   !strcmp(r.service_reference, "8.2"))) &&
	    !((cv == 4 || cv == 5) && !strcmp(r.service_reference, "11.3")) &&
	    !(cv == 1 && !strcmp(r.service_reference, "11.2")))
		code = "E12";
	if (!code && cv != 8) {
		/* A device request: the device must exist, and be of a type the service request serves. */
		if (hfw_devsim_find(d->devices, &id.target, &device, &dev) < 0)
			code = "E19";
		else if (cv == 1 ? !strcmp(dev->type->name, "IHD") || !strcmp(dev->type->name, "GPF")
				 : dev->type->activation != HFW_ACTIVATE_SR_11_3)
			code = "E11";
	}
	if (!code && cv == 8) {
		/* Non-device requests: counters rise per user (device requests: per user and device). */
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
	if (!code && d->faults.necodes) {
		/* The ecode fault: a chosen E-code for requests naming a chosen device. */
		code = chosen_ecode(d, doc, &id);
	}
	/* Transform (CV 4) sends nothing to a device: anomaly detection holds what would. */
	if (!code && cv != 4 && d->faults.quarantine_window_ms &&
	    quarantine(d, &id, r.request_id, r.service_reference, reply, &ret, err))
		goto out;
	if (!code) {
		if (cv == 8 && !strcmp(r.service_reference, "8.2"))
			ret = read_inventory(d, doc, r.request_id, reply, &code, err);
		else if (cv == 8)
			ret = update_firmware(d, doc, r.service_reference, r.request_id, reply, err);
		else if (cv == 1)
			ret = read_version(d, doc, &id, r.request_id, device, reply, &code, err);
		else if (cv == 4)
			ret = transform(d, doc, &id, r.request_id, device, reply, &code, err);
		else
			ret = send_command(d, doc, &id, r.request_id, device, reply, &code, err);
	}
	if (code && ret == 0)
		ret = error_reply(d, reply, r.request_id, code, r.service_reference[0] ? r.service_reference : "11.1", err);
out:
	pthread_mutex_lock(&d->lock);
	log_received(d, path, cv, rid, *http_status, reply, busy);
	d->busy--;
	pthread_mutex_unlock(&d->lock);
	xmlFreeDoc(doc);
	return ret;
}

int hfw_dcc_device_state(hfw_dcc *d, const struct hfw_eui *eui, struct hfw_device_state *out)
{
	return hfw_devsim_state(d->devices, eui, out);
}
