/* devsim.c - the sandbox's simulated devices and comms hubs (see devsim.h). */
#define _POSIX_C_SOURCE 200809L
#include "devsim.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../base64.h"
#include "../buf.h"
#include "../crypto.h"
#include "../cs06.h"
#include "../duis.h"
#include "../eui.h"
#include "../gbcs.h"
#include "../hex.h"
#include "../image.h"
#include "../xml.h"

/* Simulated milliseconds. */
#define HUB_DELAY_MIN 30000
#define HUB_DELAY_SPREAD 60000
#define TRANSFER_BASE 120000
#define TRANSFER_MS_PER_OCTET 10
#define SLEEPY_WAIT_MAX 1800000
#define OFFLINE_GIVE_UP (6ll * 3600 * 1000)
#define VERIFY_AFTER 10000
#define ACTIVATE_AFTER 60000
#define WAN_DELAY_MIN 2000	/* a command's way to the device and its answer back */
#define WAN_DELAY_SPREAD 3000

/* Image events (gen-checked: void once the image is discarded), then command events. */
enum ev_kind { EV_HUB, EV_TRANSFER, EV_VERIFY, EV_ACTIVATE, EV_COMMAND, EV_FUTURE };

struct event {
	int64_t due;
	uint32_t device, image, gen;
	uint8_t kind;
};

/* An accepted distribution's image, as the hub and devices see it. */
struct image {
	char request_id[HFW_REQUEST_ID_MAX];
	struct hfw_eui user;
	char version[9];
	int readable;			/* a ZigBee OTA file the hub can serve */
	uint8_t mi_hash[32];
	int has_hw;
	uint16_t hw_min, hw_max;
	size_t len;
};

typedef struct hfw_devsim_command command;

struct device {
	uint32_t hub;			/* index into hubs */
	uint32_t future;		/* command + 1 of a stored future-dated activation, 0 if none */
	uint32_t gen;			/* bumped when a pending image is discarded */
	uint32_t pending;		/* image + 1 on its way, 0 if none */
	uint32_t held;			/* image + 1 held, 0 if none */
	char running[9];
	uint8_t busy, offline, sleepy;
	uint8_t left;			/* a mid-campaign event took it out (event fault): sent once */
	uint8_t flaky_left;		/* flaky fault: deliveries and commands it still misses */
	uint8_t flaky_now;		/* the delivery under way is one it misses */
	uint8_t slot_left;		/* slot=P/K fault: deliveries the other image still takes the slot from */
	uint8_t busy_left;		/* busy fault: distributions that still find another request in progress */
	hfw_key *key;			/* its digital-signing key, loaded on first use */
	uint8_t key_missing;
	uint64_t alert_counter;
};

struct hub {
	uint32_t chf;			/* the CHF's device index + 1, 0 if the estate lacks it */
	uint32_t slot;			/* image + 1 in the HAN slot, 0 if empty */
	uint32_t slot_waiting;		/* devices still waiting for it */
	uint32_t first, count;		/* its devices: members[first .. first + count) */
	int64_t last_delivery;		/* the CSP delivers to a hub in the order requests came */
};

struct slot_ix {
	uint64_t key;
	uint32_t value;			/* + 1; 0: empty */
};

struct hfw_devsim {
	struct hfw_devsim_options o;
	char dir[4096];
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running, stopping;
	hfw_estate *estate;
	size_t ndevices, nhubs;
	struct device *devices;
	struct hub *hubs;
	uint32_t *members;
	struct slot_ix *index;		/* EUI -> device */
	size_t nslots;
	struct image *images;
	size_t nimages, capimages;
	command *commands;
	size_t ncommands, capcommands;
	struct event *heap;
	size_t nev, capev;
	uint64_t dcc_counter;
	FILE *events;
};

/* Open addressing; table is twice the entries at least. */
static size_t probe(const struct slot_ix *t, size_t nslots, uint64_t k)
{
	size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & (nslots - 1);

	while (t[i].value && t[i].key != k)
		i = (i + 1) & (nslots - 1);
	return i;
}

static const char *dev_eui(const hfw_devsim *s, size_t d, char out[HFW_EUI_TEXT_MAX])
{
	hfw_eui_format(out, &hfw_estate_at(s->estate, d)->eui);
	return out;
}

/* ---- the event queue (a min-heap on due time) ---- */

static int schedule(hfw_devsim *s, int64_t due, enum ev_kind kind, uint32_t device, uint32_t image)
{
	struct event e = { due, device, image, s->devices[device].gen, (uint8_t)kind };
	size_t i;

	if (s->nev == s->capev) {
		size_t cap = s->capev ? 2 * s->capev : 4096;
		struct event *h = realloc(s->heap, cap * sizeof(*h));

		if (!h)
			return -1;
		s->heap = h;
		s->capev = cap;
	}
	i = s->nev++;
	s->heap[i] = e;
	while (i && s->heap[(i - 1) / 2].due > s->heap[i].due) {
		struct event t = s->heap[i];

		s->heap[i] = s->heap[(i - 1) / 2];
		s->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	pthread_cond_signal(&s->wake);
	return 0;
}

static struct event pop(hfw_devsim *s)
{
	struct event top = s->heap[0];
	size_t i = 0;

	s->heap[0] = s->heap[--s->nev];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct event t;

		if (l < s->nev && s->heap[l].due < s->heap[m].due)
			m = l;
		if (r < s->nev && s->heap[r].due < s->heap[m].due)
			m = r;
		if (m == i)
			break;
		t = s->heap[m];
		s->heap[m] = s->heap[i];
		s->heap[i] = t;
		i = m;
	}
	return top;
}

/* ---- messages ---- */

static void format_time(char out[48], int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* The per-model fault fractions of a device's DeviceModel (faults.h). */
enum { MODEL_HASH, MODEL_OFFLINE, MODEL_SLOT };

static int model_chance(const hfw_devsim *s, size_t device, const char *what, uint64_t key, int which)
{
	const struct hfw_model_faults *m = hfw_faults_model(s->o.faults, hfw_estate_at(s->estate, device)->model);

	if (!m)
		return 0;
	return hfw_faults_chance(s->o.faults, what, key,
				 which == MODEL_HASH ? m->hash : which == MODEL_OFFLINE ? m->offline : m->slot);
}

/*
 * The transient faults a device starts with (faults.h): flaky=P/K misses
 * its first K deliveries and commands; slot=P/K loses the hub's slot to
 * another image for its first K deliveries; busy=P finds another request
 * in progress on its first distribution.  Each then recovers.
 */
static void transient_faults(hfw_devsim *s, size_t device, uint64_t k)
{
	const struct hfw_model_faults *m = hfw_faults_model(s->o.faults, hfw_estate_at(s->estate, device)->model);
	struct device *dv = &s->devices[device];

	if (m && m->flaky_times && hfw_faults_chance(s->o.faults, "model-flaky", k, m->flaky))
		dv->flaky_left = (uint8_t)m->flaky_times;
	dv->slot_left = m ? (uint8_t)m->slot_times : 0;
	dv->busy_left = hfw_faults_chance(s->o.faults, "busy", k, s->o.faults->busy);
}

/* The slot fault chose this device: does the other image still hold the slot (slot=P/K: its first K deliveries)? */
static int slot_taken(hfw_devsim *s, size_t device)
{
	const struct hfw_model_faults *m = hfw_faults_model(s->o.faults, hfw_estate_at(s->estate, device)->model);
	struct device *dv = &s->devices[device];

	if (!m || !m->slot_times)
		return 1;
	if (!dv->slot_left)
		return 0;
	dv->slot_left--;
	return 1;
}

/* ---- what the documents say (with products.json: see devsim.h) ---- */

enum doc { DOC_OK, DOC_SILENT, DOC_HUB_FAIL, DOC_VERIFY_FAIL };

/* The CHF record of a device's hub, or NULL. */
static const struct hfw_device *hub_record(const hfw_devsim *s, size_t device)
{
	uint32_t chf = s->hubs[s->devices[device].hub].chf;

	return chf ? hfw_estate_at(s->estate, chf - 1) : NULL;
}

static int is_type(const hfw_devsim *s, size_t device, const char *type)
{
	return !strcmp(hfw_estate_at(s->estate, device)->type->name, type);
}

/* What becomes of this image on this device by the documents; *why says why not. */
static enum doc documented(const hfw_devsim *s, size_t device, const struct image *im, const char **why)
{
	const struct hfw_device *d = hfw_estate_at(s->estate, device), *hub;
	const struct hfw_product_model *m;
	const struct hfw_product_version *v;
	const struct hfw_hub_model *hm;

	*why = NULL;
	if (!s->o.products)
		return DOC_OK;
	m = d->manufacturer && d->model ? hfw_products_model(s->o.products, d->manufacturer, d->model) : NULL;
	hub = hub_record(s, device);
	hm = hub && hub->manufacturer && hub->model ? hfw_products_hub(s->o.products, hub->manufacturer, hub->model) : NULL;
	if (m && m->unsupported) {
		*why = "unsupported model: the outcome is uncertain";
		return DOC_SILENT;
	}
	if (is_type(s, device, "ALTHAN-B4")) {
		*why = "a bridge 4 updates only through its site's bridge 3";
		return DOC_SILENT;
	}
	/* The device's own reasons first, then its hub's (as the plan's ground truth orders them). */
	if (is_type(s, device, "PPMID") && d->third_party && d->installation == HFW_INSTALL_SECURE) {
		*why = "third-party PPMID on a Secure installation";
		return DOC_HUB_FAIL;
	}
	if (is_type(s, device, "PPMID") && d->region && !strcmp(d->region, "SMETS1")) {
		*why = "SMETS1 PPMID";
		return DOC_HUB_FAIL;
	}
	if (hm && hub && (is_type(s, device, "PPMID") || is_type(s, device, "HCALCS") || is_type(s, device, "IHD") ||
			  !strncmp(d->type->name, "ALTHAN-", 7)) &&
	    !hfw_hub_han_ota(hm, s->devices[s->hubs[s->devices[device].hub].chf - 1].running)) {
		*why = "the hub's firmware has no variant HAN OTA (SECMP0007)";
		return DOC_HUB_FAIL;
	}
	if (hm && im->len > hm->image_capacity) {
		*why = "image larger than the hub's image capacity";
		return DOC_HUB_FAIL;
	}
	if (m && hub && hub->manufacturer && (v = hfw_product_version_find(m, im->version)) && v->locked_to_hub_manufacturer &&
	    strcasecmp(v->locked_to_hub_manufacturer, hub->manufacturer) != 0) {
		*why = "image locked to another hub manufacturer";
		return DOC_VERIFY_FAIL;
	}
	return DOC_OK;
}

/* Counters for ResponseIDs and GBCS alerts: rising across restarts, like ms-epoch request counters. */
static uint64_t next_counter(uint64_t *last, int64_t now)
{
	*last = *last + 1 > (uint64_t)now ? *last + 1 : (uint64_t)now;
	return *last;
}

/* Sign a response whose text (after the XML declaration at 0) is in b, and queue it under label. */
static void send_as(hfw_devsim *s, struct hfw_buf *b, size_t body_off, int64_t now, const char *kind, const char *label)
{
	struct hfw_error err = HFW_ERROR_INIT;
	size_t len;
	char *xml;

	if (hfw_xmldsig_sign_canonical(b, body_off, s->o.dcc_signer, &err) < 0) {
		hfw_sandbox_logf(&s->o.log, "cannot sign a %s: %s", kind, err.text);
		hfw_buf_release(b);
		return;
	}
	xml = hfw_buf_detach(b, &len);
	if (hfw_outbox_post(s->o.outbox, xml, len, now, kind, label, &err) < 0)
		hfw_sandbox_logf(&s->o.log, "cannot queue a %s: %s", kind, err.text);
}

static void send(hfw_devsim *s, struct hfw_buf *b, size_t body_off, int64_t now, const char *kind, size_t device)
{
	char eui[HFW_EUI_TEXT_MAX];

	send_as(s, b, body_off, now, kind, dev_eui(s, device, eui));
}

/*
 * A Response header: RequestID if the message answers one, ResponseID
 * from:user:counter if from is given, then the code.
 */
static int response_head(struct hfw_buf *b, size_t *body_off, const char *request_id, const struct hfw_eui *from,
			 const struct hfw_eui *user, uint64_t counter, const char *code, int64_t now,
			 struct hfw_error *err)
{
	char when[48], f[HFW_EUI_TEXT_MAX], u[HFW_EUI_TEXT_MAX], rid[HFW_REQUEST_ID_MAX + 32] = "", resp[128] = "";
	int ret;

	format_time(when, now);
	if (request_id)
		snprintf(rid, sizeof(rid), "<sr:RequestID>%s</sr:RequestID>", request_id);
	if (from) {
		hfw_eui_format(f, from);
		hfw_eui_format(u, user);
		snprintf(resp, sizeof(resp), "<sr:ResponseID>%s:%s:%llu</sr:ResponseID>", f, u, (unsigned long long)counter);
	}
	if ((ret = hfw_buf_puts(b, HFW_XML_DECL, err)) < 0)
		return ret;
	*body_off = b->len;
	return hfw_buf_printf(b, err,
			      "<sr:Response xmlns:sr=\"" HFW_NS_DUIS "\" schemaVersion=\"5.4\"><sr:Header>"
			      "%s%s<sr:ResponseCode>%s</sr:ResponseCode><sr:ResponseDateTime>%s</sr:ResponseDateTime>"
			      "</sr:Header><sr:Body>", rid, resp, code, when);
}

/* The Response header of an alert: ResponseID originator:user:counter. */
static int alert_head(struct hfw_buf *b, size_t *body_off, const struct hfw_eui *from, const struct hfw_eui *user,
		      uint64_t counter, int64_t now, struct hfw_error *err)
{
	return response_head(b, body_off, NULL, from, user, counter, "I0", now, err);
}

/*
 * A DCCAlertMessage: code, then the DCCAlert element's content.  The
 * N-codes are not public apart from N60/N61 (CSP delivery) and AD1; the
 * others are sent as N999 and receivers go by the element's name.
 */
static void dcc_alert_v(hfw_devsim *s, const struct hfw_eui *user, const char *label, int64_t now, const char *code,
			const char *element, const char *fmt, va_list ap) HFW_PRINTF(7, 0);

static void dcc_alert_v(hfw_devsim *s, const struct hfw_eui *user, const char *label, int64_t now, const char *code,
			const char *element, const char *fmt, va_list ap)
{
	struct hfw_buf b = HFW_BUF_INIT(64 * 1024);
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_eui dcc;
	char inner[2048];
	size_t body_off;

	vsnprintf(inner, sizeof(inner), fmt, ap);
	hfw_eui_parse(&dcc, hfw_signer_info(s->o.dcc_signer)->eui, "DCC", &err);
	if (alert_head(&b, &body_off, &dcc, user, next_counter(&s->dcc_counter, now), now, &err) < 0 ||
	    hfw_buf_printf(&b, &err, "<sr:DCCAlertMessage><sr:DCCAlertCode>%s</sr:DCCAlertCode><sr:DCCAlert>"
			   "<sr:%s>%s</sr:%s></sr:DCCAlert></sr:DCCAlertMessage></sr:Body></sr:Response>",
			   code, element, inner, element) < 0) {
		hfw_buf_release(&b);
		return;
	}
	send_as(s, &b, body_off, now, element, label);
}

static void dcc_alert(hfw_devsim *s, const struct image *im, size_t device, int64_t now, const char *code,
		      const char *element, const char *fmt, ...) HFW_PRINTF(7, 8);

static void dcc_alert(hfw_devsim *s, const struct image *im, size_t device, int64_t now, const char *code,
		      const char *element, const char *fmt, ...)
{
	char eui[HFW_EUI_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	dcc_alert_v(s, &im->user, dev_eui(s, device, eui), now, code, element, fmt, ap);
	va_end(ap);
}

static void log_line(hfw_devsim *s, int64_t now, size_t device, const char *request_id, const char *what,
		     const char *detail)
{
	char eui[HFW_EUI_TEXT_MAX];

	if (!s->events)
		return;
	fprintf(s->events, "{\"at\":%lld,\"device\":\"%s\",\"type\":\"%s\",\"request\":\"%s\",\"event\":\"%s\"%s%s%s}\n",
		(long long)now, dev_eui(s, device, eui), hfw_estate_at(s->estate, device)->type->name, request_id,
		what, detail ? ",\"detail\":\"" : "", detail ? detail : "", detail ? "\"" : "");
	fflush(s->events);
}

static void log_event(hfw_devsim *s, int64_t now, size_t device, const struct image *im, const char *what,
		      const char *detail)
{
	log_line(s, now, device, im->request_id, what, detail);
}

static void transfer_alert(hfw_devsim *s, const struct image *im, size_t device, int64_t now, const char *outcome)
{
	const struct hfw_device *d = hfw_estate_at(s->estate, device);
	char hub[HFW_EUI_TEXT_MAX], eui[HFW_EUI_TEXT_MAX], when[48];

	hfw_eui_format(hub, &d->comms_hub);
	format_time(when, now);
	dcc_alert(s, im, device, now, "N999", "CommsHubAlert",
		  "<sr:CommsHubDeviceID>%s</sr:CommsHubDeviceID><sr:AlertCode>%s</sr:AlertCode>"
		  "<sr:TimeStamp>%s</sr:TimeStamp><sr:FirmwareTransferAlert>"
		  "<sr:UpdateFirmwareRequestID>%s</sr:UpdateFirmwareRequestID><sr:OtherDeviceID>%s</sr:OtherDeviceID>"
		  "<sr:FirmwareVersion>%s</sr:FirmwareVersion><sr:TransferResponseCode>%s</sr:TransferResponseCode>"
		  "</sr:FirmwareTransferAlert>",
		  hub, strcmp(outcome, "FileTransferSuccess") ? "8F89" : "8F8A", when, im->request_id,
		  dev_eui(s, device, eui), im->version, outcome);
}

static void distribution_failure(hfw_devsim *s, const struct image *im, size_t device, int64_t now)
{
	char eui[HFW_EUI_TEXT_MAX];

	dcc_alert(s, im, device, now, "N999", "FirmwareDistributionFailure",
		  "<sr:UpdateFirmwareRequestID>%s</sr:UpdateFirmwareRequestID><sr:MeterIDs>%s</sr:MeterIDs>",
		  im->request_id, dev_eui(s, device, eui));
}

/* The device is done with its request, whatever the outcome. */
static void finish(hfw_devsim *s, size_t device)
{
	s->devices[device].busy = 0;
	s->devices[device].pending = 0;
}

static hfw_key *device_key(hfw_devsim *s, size_t device)
{
	struct device *dv = &s->devices[device];
	const struct hfw_eui *e = &hfw_estate_at(s->estate, device)->eui;
	struct hfw_error err = HFW_ERROR_INIT;
	char path[4200];

	if (dv->key || dv->key_missing)
		return dv->key;
	snprintf(path, sizeof(path), "%s/devices/%02x%02x%02x%02x%02x%02x%02x%02x-ds.key", s->dir, e->b[0], e->b[1],
		 e->b[2], e->b[3], e->b[4], e->b[5], e->b[6], e->b[7]);
	if (hfw_key_load(&dv->key, path, NULL, &err) < 0) {
		dv->key_missing = 1;
		hfw_sandbox_logf(&s->o.log, "%s; its alerts go unsigned", err.text);
	}
	return dv->key;
}

/*
 * Firmware Verification Successful (0x8F72), the device's own alert to the
 * supplier with the hash it computed: DLMS data-notification (message code
 * 0x00CE) from an ESME, GBZ (0x00CF) from a GSME or HCALCS, both ZigBee
 * devices (the HCALCS form is this sandbox's choice).
 */
static void verified_alert(hfw_devsim *s, const struct image *im, size_t device, int64_t now)
{
	const struct hfw_device *d = hfw_estate_at(s->estate, device);
	struct device *dv = &s->devices[device];
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_buf b = HFW_BUF_INIT(64 * 1024);
	struct hfw_gbcs_frame f;
	uint8_t content[80], hash[32], *apdu = NULL;
	char b64[512];
	size_t n = 0, alen, body_off;
	uint64_t counter = next_counter(&dv->alert_counter, now);
	int dlms = !strcmp(d->type->name, "ESME");
	const char *why;

	memset(&f, 0, sizeof(f));
	memcpy(hash, im->mi_hash, 32);
	if (hfw_faults_chance(s->o.faults, "bad-hash", hfw_eui_to_u64(&d->eui) ^ counter, s->o.faults->bad_hash) ||
	    model_chance(s, device, "model-hash", hfw_eui_to_u64(&d->eui), MODEL_HASH) ||
	    documented(s, device, im, &why) == DOC_VERIFY_FAIL)
		hash[0] ^= 0x01;	/* the image arrived corrupted, or its hash is not the one this hub's metadata allows */
	if (dlms) {
		uint32_t invoke = 0x20000000u | (uint32_t)(counter & 0x0FFFFFFFu);
		uint8_t when[12];

		hfw_gbcs_dlms_datetime(when, now);
		content[n++] = 0x0F;	/* data-notification */
		content[n++] = (uint8_t)(invoke >> 24);
		content[n++] = (uint8_t)(invoke >> 16);
		content[n++] = (uint8_t)(invoke >> 8);
		content[n++] = (uint8_t)invoke;
		content[n++] = 0x00;	/* no date-time */
		content[n++] = 0x02;	/* structure of 3 */
		content[n++] = 0x03;
		content[n++] = 0x12;	/* long-unsigned alert code */
		content[n++] = 0x8F;
		content[n++] = 0x72;
		content[n++] = 0x09;	/* octet-string date-time */
		content[n++] = 0x0C;
		memcpy(content + n, when, 12);
		n += 12;
	} else {
		/* UTC seconds since 2000-01-01. */
		uint32_t secs = (uint32_t)(now / 1000 - 946684800);

		content[n++] = 0x01;	/* GBZ profile */
		content[n++] = 0x09;
		content[n++] = 0x01;	/* one component */
		content[n++] = 0x8F;
		content[n++] = 0x72;
		content[n++] = (uint8_t)(secs >> 24);
		content[n++] = (uint8_t)(secs >> 16);
		content[n++] = (uint8_t)(secs >> 8);
		content[n++] = (uint8_t)secs;
	}
	content[n++] = 0x09;
	content[n++] = 0x20;
	memcpy(content + n, hash, 32);
	n += 32;
	f.cra = HFW_CRA_ALERT;
	f.counter = counter;
	memcpy(f.originator, d->eui.b, 8);
	memcpy(f.recipient, im->user.b, 8);
	f.datetime = NULL;
	f.message_code = dlms ? 0x00CE : 0x00CF;
	f.content = content;
	f.content_len = n;
	if (hfw_gbcs_encode(&apdu, &alen, &f, device_key(s, device), &err) < 0) {
		hfw_sandbox_logf(&s->o.log, "%s", err.text);
		return;
	}
	hfw_base64_encode(b64, apdu, alen);
	free(apdu);
	if (alert_head(&b, &body_off, &d->eui, &im->user, counter, now, &err) < 0 ||
	    hfw_buf_printf(&b, &err, "<sr:DeviceAlertMessage><sr:AlertCode>8F72</sr:AlertCode>"
			   "<sr:GBCSPayload>%s</sr:GBCSPayload></sr:DeviceAlertMessage></sr:Body></sr:Response>", b64) < 0) {
		hfw_buf_release(&b);
		return;
	}
	send(s, &b, body_off, now, "DeviceAlertMessage", device);
}

static void dcc_alert_to(hfw_devsim *s, const struct hfw_eui *user, const char *label, int64_t now, const char *code,
			 const char *element, const char *fmt, ...) HFW_PRINTF(7, 8);

static void dcc_alert_to(hfw_devsim *s, const struct hfw_eui *user, const char *label, int64_t now, const char *code,
			 const char *element, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dcc_alert_v(s, user, label, now, code, element, fmt, ap);
	va_end(ap);
}

/* ---- the lifecycle ---- */

static int is_gsme(const hfw_devsim *s, size_t device)
{
	return !strcmp(hfw_estate_at(s->estate, device)->type->name, "GSME");
}

static int uses_slot(const hfw_devsim *s, size_t device)
{
	return strcmp(hfw_estate_at(s->estate, device)->type->name, "ESME") != 0;
}

/* Discard the image in a hub's slot for every device still waiting for it. */
static void discard_slot(hfw_devsim *s, struct hub *h, int64_t now)
{
	const struct image *old = &s->images[h->slot - 1];
	uint32_t i;

	for (i = 0; i < h->count; i++) {
		uint32_t m = s->members[h->first + i];
		struct device *dv = &s->devices[m];

		if (dv->pending == h->slot) {
			dv->gen++;	/* its transfer event is void now */
			transfer_alert(s, old, m, now, "FirmwareImageDiscarded");
			log_event(s, now, m, old, "discarded", "overwritten in the hub's image slot");
			finish(s, m);
		}
	}
	h->slot = 0;
	h->slot_waiting = 0;
}

/*
 * The event fault: a DCC alert that takes the device out of the supplier's
 * hands (DUIS 5.4 shapes; N-codes not being public, N999).  Decommissioning
 * and withdrawal of a meter share MeterDecommissioningOrWithdrawal; other
 * devices leave the inventory (DeviceRemovedFromInventory).  Whether one
 * was sent.
 */
static int mid_campaign_event(hfw_devsim *s, const struct image *im, size_t device, int64_t now)
{
	const struct hfw_device *d = hfw_estate_at(s->estate, device);
	const char *type = strncmp(d->type->name, "ALTHAN-", 7) ? d->type->name : "PPMID";
	int is_ppmid = !strcmp(type, "PPMID"), meter = !strcmp(type, "ESME") || !strcmp(type, "GSME");
	const char *mpxn = d->mpxn && d->mpxn[0] && strlen(d->mpxn) <= 13 ? d->mpxn : "0";
	char eui[HFW_EUI_TEXT_MAX], hub[HFW_EUI_TEXT_MAX];
	int kind;

	if (!s->o.faults->nevents || (kind = hfw_faults_event(s->o.faults, &d->eui, is_ppmid)) < 0)
		return 0;
	s->devices[device].left = 1;
	dev_eui(s, device, eui);
	hfw_eui_format(hub, &d->comms_hub);
	switch ((enum hfw_fault_event)kind) {
	case HFW_EVENT_COS:
		dcc_alert(s, im, device, now, "N999", "ChangeOfSupplier",
			  "<sr:DeviceChangeOfSupplier><sr:DeviceID>%s</sr:DeviceID><sr:DeviceType>%s</sr:DeviceType>"
			  "<sr:MPxNs><sr:ImportMPxN>%s</sr:ImportMPxN></sr:MPxNs></sr:DeviceChangeOfSupplier>", eui, type, mpxn);
		break;
	case HFW_EVENT_SUSPENDED:
		dcc_alert(s, im, device, now, "N999", "DeviceStatusChangeEvent",
			  "<sr:DeviceID>%s</sr:DeviceID><sr:DeviceStatusChange><sr:DeviceSuspended></sr:DeviceSuspended></sr:DeviceStatusChange>", eui);
		break;
	case HFW_EVENT_DECOMMISSIONED:
	case HFW_EVENT_WITHDRAWN:
		if (meter)
			dcc_alert(s, im, device, now, "N999", "DeviceStatusChangeEvent",
				  "<sr:DeviceID>%s</sr:DeviceID><sr:DeviceStatusChange><sr:MeterDecommissioningOrWithdrawal>"
				  "<sr:MeterDecommissionOrWithdrawal><sr:ImportMPxN>%s</sr:ImportMPxN></sr:MeterDecommissionOrWithdrawal>"
				  "</sr:MeterDecommissioningOrWithdrawal></sr:DeviceStatusChange>", eui, mpxn);
		else
			dcc_alert(s, im, device, now, "N999", "DeviceStatusChangeEvent",
				  "<sr:DeviceID>%s</sr:DeviceID><sr:DeviceStatusChange><sr:DeviceRemovedFromInventory></sr:DeviceRemovedFromInventory>"
				  "</sr:DeviceStatusChange>", eui);
		break;
	case HFW_EVENT_PPMID_REMOVED:
		dcc_alert(s, im, device, now, "N999", "PPMIDRemoval",
			  "<sr:PPMIDDeviceID>%s</sr:PPMIDDeviceID><sr:CHFDeviceID>%s</sr:CHFDeviceID>", eui, hub);
		break;
	}
	log_event(s, now, device, im, "left", hfw_fault_event_name((enum hfw_fault_event)kind));
	return 1;
}

static void on_hub(hfw_devsim *s, const struct event *e, int64_t now)
{
	const struct image *im = &s->images[e->image];
	const struct hfw_device *d = hfw_estate_at(s->estate, e->device);
	struct device *dv = &s->devices[e->device];
	struct hub *h = &s->hubs[dv->hub];
	char hub[HFW_EUI_TEXT_MAX], eui[HFW_EUI_TEXT_MAX], when[48];
	int hub_down = h->chf && s->devices[h->chf - 1].offline;
	const char *why;
	int64_t t;

	hfw_eui_format(hub, &d->comms_hub);
	format_time(when, now);
	dcc_alert(s, im, e->device, now, hub_down ? "N61" : "N60", "CSPFirmwareDeliveryStatus",
		  "<sr:UpdateFirmwareRequestID>%s</sr:UpdateFirmwareRequestID><sr:CommsHubDeviceID>%s</sr:CommsHubDeviceID>"
		  "<sr:TargetDeviceID>%s</sr:TargetDeviceID><sr:FirmwareVersion>%s</sr:FirmwareVersion>"
		  "<sr:TimeStamp>%s</sr:TimeStamp><sr:CommsHubTransferStatus>%s</sr:CommsHubTransferStatus>",
		  im->request_id, hub, dev_eui(s, e->device, eui), im->version, when, hub_down ? "Failure" : "Success");
	if (hub_down) {
		log_event(s, now, e->device, im, "hub-delivery-failed", "comms hub offline");
		distribution_failure(s, im, e->device, now);
		finish(s, e->device);
		return;
	}
	log_event(s, now, e->device, im, "delivered-to-hub", NULL);
	if (!dv->left && mid_campaign_event(s, im, e->device, now)) {
		/* The device is no longer this supplier's to update: its image goes no further. */
		dv->gen++;
		finish(s, e->device);
		return;
	}
	switch (documented(s, e->device, im, &why)) {
	case DOC_SILENT:
		/* Uncertain: nothing comes back for this device. */
		dv->gen++;
		log_event(s, now, e->device, im, "no-answer", why);
		finish(s, e->device);
		return;
	case DOC_HUB_FAIL:
		dv->gen++;
		transfer_alert(s, im, e->device, now, "FileTransferFailure");
		log_event(s, now, e->device, im, "transfer-failed", why);
		distribution_failure(s, im, e->device, now);
		finish(s, e->device);
		return;
	default:
		break;
	}
	if (uses_slot(s, e->device) &&
	    model_chance(s, e->device, "model-slot", hfw_eui_to_u64(&d->eui) ^ e->image, MODEL_SLOT) && slot_taken(s, e->device)) {
		/* The slot fault: another image (not in this sandbox) took the hub's slot meanwhile. */
		dv->gen++;
		transfer_alert(s, im, e->device, now, "FirmwareImageDiscarded");
		log_event(s, now, e->device, im, "discarded", "fault: another image took the hub's slot");
		finish(s, e->device);
		return;
	}
	if (uses_slot(s, e->device)) {
		if (h->slot && h->slot != e->image + 1 && h->slot_waiting) {
			/* A GSME image keeps the slot against HAN images; otherwise the newer wins. */
			uint32_t holder = 0, i;

			for (i = 0; i < h->count && !holder; i++)
				if (s->devices[s->members[h->first + i]].pending == h->slot)
					holder = s->members[h->first + i] + 1;
			if (holder && is_gsme(s, holder - 1) && !is_gsme(s, e->device)) {
				dv->gen++;
				transfer_alert(s, im, e->device, now, "FirmwareImageDiscarded");
				log_event(s, now, e->device, im, "discarded", "a gas meter's image holds the hub's slot");
				finish(s, e->device);
				return;
			}
			discard_slot(s, h, now);
		}
		if (h->slot != e->image + 1) {
			h->slot = e->image + 1;
			h->slot_waiting = 0;
		}
		h->slot_waiting++;
	}
	/* The flaky fault: this delivery finds the device off (a later one finds it on). */
	if (!dv->offline && dv->flaky_left) {
		dv->flaky_left--;
		dv->flaky_now = 1;
	}
	if (dv->offline || dv->flaky_now)
		t = now + OFFLINE_GIVE_UP;
	else
		t = now + TRANSFER_BASE + (int64_t)(im->len * TRANSFER_MS_PER_OCTET) +
		    (dv->sleepy ? (int64_t)(hfw_faults_draw(s->o.faults, "sleepy-wait", hfw_eui_to_u64(&d->eui) ^ e->image) %
					    SLEEPY_WAIT_MAX) : 0);
	if (schedule(s, t, EV_TRANSFER, e->device, e->image) < 0)
		finish(s, e->device);
}

static void on_transfer(hfw_devsim *s, const struct event *e, int64_t now)
{
	const struct image *im = &s->images[e->image];
	const struct hfw_device *d = hfw_estate_at(s->estate, e->device);
	struct device *dv = &s->devices[e->device];
	struct hub *h = &s->hubs[dv->hub];
	uint64_t k = hfw_eui_to_u64(&d->eui) ^ ((uint64_t)e->image << 40);

	int flaky = dv->flaky_now;

	dv->flaky_now = 0;
	if (h->slot == e->image + 1 && h->slot_waiting && --h->slot_waiting == 0)
		h->slot = 0;
	if (dv->offline || flaky || !im->readable ||
	    hfw_faults_chance(s->o.faults, "transfer-fail", k, s->o.faults->transfer_fail)) {
		transfer_alert(s, im, e->device, now, "FileTransferFailure");
		log_event(s, now, e->device, im, "transfer-failed",
			  dv->offline ? "device offline" : flaky ? "device offline (flaky fault)"
			  : !im->readable ? "not an OTA image the hub can serve" : "fault");
		distribution_failure(s, im, e->device, now);
		finish(s, e->device);
		return;
	}
	if (im->has_hw && (d->hardware_version < im->hw_min || d->hardware_version > im->hw_max)) {
		char why[64];

		snprintf(why, sizeof(why), "device hardware 0x%04X, image 0x%04X-0x%04X", d->hardware_version,
			 im->hw_min, im->hw_max);
		transfer_alert(s, im, e->device, now, "HardwareVersionMismatch");
		log_event(s, now, e->device, im, "hardware-mismatch", why);
		finish(s, e->device);
		return;
	}
	transfer_alert(s, im, e->device, now, "FileTransferSuccess");
	log_event(s, now, e->device, im, "transferred", NULL);
	dv->held = e->image + 1;
	finish(s, e->device);
	if (d->type->activation == HFW_ACTIVATE_SELF)
		schedule(s, now + ACTIVATE_AFTER, EV_ACTIVATE, e->device, e->image);
	else
		schedule(s, now + VERIFY_AFTER, EV_VERIFY, e->device, e->image);
}

/* Option A: bridge 3 orchestrates its site's sleepy bridge 4, packaged with it, which runs what bridge 3 activates. */
static void through_bridge3(hfw_devsim *s, size_t b3, const struct image *im, int64_t now)
{
	const struct hfw_device *d3 = hfw_estate_at(s->estate, b3);
	const struct hub *h = &s->hubs[s->devices[b3].hub];
	uint32_t i;

	if (!s->o.products || d3->althan_option == HFW_ALTHAN_B)
		return;
	for (i = 0; i < h->count; i++) {
		uint32_t m = s->members[h->first + i];
		const struct hfw_device *d4 = hfw_estate_at(s->estate, m);

		if (is_type(s, m, "ALTHAN-B4") && d3->site && d4->site && !strcmp(d3->site, d4->site)) {
			memcpy(s->devices[m].running, im->version, sizeof(s->devices[m].running));
			log_event(s, now, m, im, "activated", "through its site's bridge 3");
		}
	}
}

static void on_activate(hfw_devsim *s, const struct event *e, int64_t now)
{
	const struct image *im = &s->images[e->image];
	struct device *dv = &s->devices[e->device];
	char eui[HFW_EUI_TEXT_MAX], when[48];
	const char *why = NULL;
	int bad;

	if (dv->held != e->image + 1)
		return;		/* another image arrived meanwhile */
	/* The per-model hash fault: a corrupted image fails the device's own check, and it keeps what it ran. */
	bad = model_chance(s, e->device, "model-hash", hfw_eui_to_u64(&hfw_estate_at(s->estate, e->device)->eui), MODEL_HASH) ||
	      documented(s, e->device, im, &why) == DOC_VERIFY_FAIL;
	if (!bad)
		memcpy(dv->running, im->version, sizeof(dv->running));
	else
		dv->held = 0;
	format_time(when, now);
	log_event(s, now, e->device, im, bad ? "activation-failed" : "activated", bad ? why ? why : "fault: corrupted image" : NULL);
	if (!bad && is_type(s, e->device, "ALTHAN-B3"))
		through_bridge3(s, e->device, im, now);
	dcc_alert(s, im, e->device, now, "N999", "PPMIDAlert",
		  "<sr:DeviceID>%s</sr:DeviceID><sr:DeviceAlertCode>8F8B</sr:DeviceAlertCode><sr:Timestamp>%s</sr:Timestamp>"
		  "<sr:PPMIDFirmwareUpgradeAlert><sr:FirmwareVersion>%s</sr:FirmwareVersion>"
		  "<sr:ActivateImageResultCode>%s</sr:ActivateImageResultCode></sr:PPMIDFirmwareUpgradeAlert>",
		  dev_eui(s, e->device, eui), when, im->version, bad ? "ActivationFailure" : "ActivationSuccess");
}

/* ---- activation: SR 11.3 as GBCS CS06 ---- */

/* A GBCS message from a device to a user, signed with the device's key, in base64 (NULL if it cannot be). */
static char *device_payload(hfw_devsim *s, size_t device, const struct hfw_eui *user, uint8_t cra, uint64_t counter,
			    int64_t now, uint16_t code, const uint8_t *content, size_t n)
{
	const struct hfw_device *d = hfw_estate_at(s->estate, device);
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_frame f;
	uint8_t when[12], *apdu = NULL;
	size_t alen;
	char *b64;

	hfw_gbcs_dlms_datetime(when, now);
	memset(&f, 0, sizeof(f));
	f.cra = cra;
	f.counter = counter;
	memcpy(f.originator, d->eui.b, 8);
	memcpy(f.recipient, user->b, 8);
	f.datetime = cra == HFW_CRA_RESPONSE ? when : NULL;	/* as in the RTDS vectors */
	f.message_code = code;
	f.content = content;
	f.content_len = n;
	if (hfw_gbcs_encode(&apdu, &alen, &f, device_key(s, device), &err) < 0) {
		hfw_sandbox_logf(&s->o.log, "%s", err.text);
		return NULL;
	}
	if ((b64 = malloc(hfw_base64_len(alen) + 1)))
		hfw_base64_encode(b64, apdu, alen);
	free(apdu);
	return b64;
}

/* Sign and queue a Response to a device request whose message body (after ServiceReferenceVariant) is inner. */
static void activation_response(hfw_devsim *s, size_t device, const command *c, const struct hfw_eui *from,
				uint64_t counter, const char *code, const char *inner, int64_t now, const char *kind)
{
	struct hfw_buf b = HFW_BUF_INIT(64 * 1024);
	struct hfw_error err = HFW_ERROR_INIT;
	const char *sr = c->read_version ? "11.2" : "11.3";
	size_t body_off;

	if (response_head(&b, &body_off, c->request_id, from, &c->user, counter, code, now, &err) < 0 ||
	    hfw_buf_printf(&b, &err, "<sr:ResponseMessage><sr:ServiceReference>%s</sr:ServiceReference>"
			   "<sr:ServiceReferenceVariant>%s</sr:ServiceReferenceVariant>%s</sr:ResponseMessage>"
			   "</sr:Body></sr:Response>", sr, sr, inner) < 0) {
		hfw_buf_release(&b);
		return;
	}
	send(s, &b, body_off, now, kind, device);
}

/* What the device does with a due activation (GBCS CS06): no image, another hash, or switch to it. */
static void execute(hfw_devsim *s, size_t device, const command *c, struct hfw_cs06_outcome *o, int64_t now)
{
	struct device *dv = &s->devices[device];
	const struct image *held = dv->held ? &s->images[dv->held - 1] : NULL;

	memset(o, 0, sizeof(*o));
	if (!held)
		o->code = HFW_CS06_NO_IMAGE_HELD;
	else if (memcmp(held->mi_hash, c->hash, 32) != 0)
		o->code = HFW_CS06_HASH_MISMATCH;
	else
		memcpy(dv->running, held->version, sizeof(dv->running));
	hfw_hex_decode(o->version, 4, dv->running, 8);
	log_line(s, now, device, c->request_id, o->code ? "activation-failed" : "activated",
		 o->code ? hfw_cs06_code_name(o->code) : dv->running);
}

/* SR 11.2: the version the device runs, in the GBCS of its type (see devsim.h). */
static void on_read(hfw_devsim *s, const struct event *e, int64_t now)
{
	const command *c = &s->commands[e->image];
	const struct hfw_device *d = hfw_estate_at(s->estate, e->device);
	struct device *dv = &s->devices[e->device];
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_gbcs_frame f;
	struct hfw_eui acb;
	const char *type = d->type->name;
	uint8_t version[4], content[32], extra[16], *apdu = NULL, *wrapped = NULL;
	size_t n = 0, alen, wlen;
	char *inner = NULL;
	/* The read-error fault: the device answers with its use case's error form (see hanfw-sandbox(1)). */
	int failed = hfw_faults_chance(s->o.faults, "read-error", hfw_eui_to_u64(&d->eui), s->o.faults->read_error);
	int i;

	hfw_hex_decode(version, 4, dv->running, 8);
	memset(&f, 0, sizeof(f));
	f.cra = HFW_CRA_RESPONSE;
	f.counter = c->counter;
	memcpy(f.originator, d->eui.b, 8);
	memcpy(f.recipient, c->user.b, 8);
	if (!strcmp(type, "ESME") || !strcmp(type, "CHF")) {
		uint32_t invoke = 0x20000000u | (uint32_t)(c->counter & 0x0FFFFFFFu);

		f.message_code = 0x0059;	/* ECS52: DLMS get-response, one octet-string, success */
		content[n++] = 0xDA;
		for (i = 3; i >= 0; i--)
			content[n++] = (uint8_t)(invoke >> (8 * i));
		content[n++] = 0x00;
		content[n++] = 0x00;
		content[n++] = 0x01;
		if (failed) {
			content[n++] = 0x00;	/* null-data, and Data-Access-Result object-unavailable (11) */
		} else {
			content[n++] = 0x09;
			content[n++] = 0x04;
			memcpy(content + n, version, 4);
			n += 4;
		}
		content[n++] = 0x01;
		content[n++] = 0x01;
		content[n++] = failed ? 0x0B : 0x00;
	} else if (!strcmp(type, "GSME")) {
		/*
		 * GCS38: a GBZ Read Attributes Response byte for byte as the RTDS's
		 * (GCS38_11.2_SUCCESS_RESPONSE / _ERROR_RESPONSE): profile 01 09, one
		 * component (control 01, cluster 0x0702, length), ZCL 08 00 01 and the
		 * record for attribute 0x0206: status 00 and the version as an octet
		 * string (41 04), or the error status alone.
		 */
		static const uint8_t gbz[] = { 0x01, 0x09, 0x01, 0x01, 0x07, 0x02, 0x00, 0x0C,
					       0x08, 0x00, 0x01, 0x06, 0x02, 0x00, 0x41, 0x04 };

		f.message_code = 0x0084;	/* GCS38 */
		memcpy(content, gbz, sizeof(gbz));
		if (failed) {
			content[7] = 0x06;	/* the GBZ command length: ZCL header and a record without data */
			content[13] = 0x86;	/* ZCL status UNSUPPORTED_ATTRIBUTE */
			n = 14;
		} else {
			memcpy(content + sizeof(gbz), version, 4);
			n = sizeof(gbz) + 4;
		}
	} else {
		/* CS08: asked by the ACB on the user's behalf; the user and its counter ride in other-information. */
		hfw_eui_parse(&acb, hfw_signer_info(s->o.dcc_signer)->eui, "DCC", &err);
		f.message_code = 0x0129;
		f.counter = next_counter(&s->dcc_counter, now);
		memcpy(f.recipient, acb.b, 8);
		memcpy(extra, c->user.b, 8);
		for (i = 0; i < 8; i++)
			extra[8 + i] = (uint8_t)(c->counter >> (56 - 8 * i));
		f.other_extra = extra;
		f.other_extra_len = 16;
		content[n++] = 0x30;
		content[n++] = 0x09;
		content[n++] = 0x04;
		content[n++] = 0x04;
		if (failed)
			memset(content + n, 0, 4);	/* as RTDS's error pair: 00000000, readFailure */
		else
			memcpy(content + n, version, 4);
		n += 4;
		content[n++] = 0x02;
		content[n++] = 0x01;
		content[n++] = failed ? 0x01 : 0x00;
	}
	f.content = content;
	f.content_len = n;
	if (hfw_gbcs_encode(&apdu, &alen, &f, NULL, &err) < 0 || hfw_gbcs_wrap(&wrapped, &wlen, apdu, alen, &err) < 0 ||
	    !(inner = malloc(hfw_base64_len(wlen) + 64))) {
		hfw_sandbox_logf(&s->o.log, "%s", err.code ? err.text : "out of memory");
		goto out;
	}
	n = (size_t)snprintf(inner, 64, "<sr:GBCSPayload>");
	hfw_base64_encode(inner + n, wrapped, wlen);
	n += hfw_base64_len(wlen);
	memcpy(inner + n, "</sr:GBCSPayload>", sizeof("</sr:GBCSPayload>"));
	log_line(s, now, e->device, c->request_id, failed ? "version-read-failed" : "version-read", dv->running);
	activation_response(s, e->device, c, &d->eui, c->counter, "I0", inner, now, "ResponseMessage");
out:
	free(inner);
	free(apdu);
	free(wrapped);
}

static void on_command(hfw_devsim *s, const struct event *e, int64_t now)
{
	const command *c = &s->commands[e->image];
	const struct hfw_device *d = hfw_estate_at(s->estate, e->device);
	struct device *dv = &s->devices[e->device];
	struct hfw_cs06_outcome o;
	uint8_t content[HFW_CS06_MAX];
	char inner[512], *payload;
	size_t n;

	if (dv->offline || dv->flaky_left) {
		/* E21: no response from the device (the DCC gives up on it); a flaky one answers a later command. */
		if (!dv->offline)
			dv->flaky_left--;
		log_line(s, now, e->device, c->request_id, "no-response", dv->offline ? "device offline" : "device offline (flaky fault)");
		activation_response(s, e->device, c, NULL, 0, "E21", "", now, "ResponseMessage");
		return;
	}
	if (c->read_version) {
		on_read(s, e, now);
		return;
	}
	memset(&o, 0, sizeof(o));
	if (!c->time[0]) {
		execute(s, e->device, c, &o, now);
	} else if (!strcmp(c->time, HFW_CS06_CANCEL_GBCS)) {
		/* The far-future command replaces the stored one: nothing will happen. */
		o.accepted = 1;
		log_line(s, now, e->device, c->request_id, dv->future ? "cancelled" : "cancel-nothing-pending",
			 dv->future ? s->commands[dv->future - 1].request_id : NULL);
		dv->future = 0;
	} else {
		int64_t at = 0;
		struct hfw_error err = HFW_ERROR_INIT;

		o.accepted = 1;
		hfw_gentime_to_unix(&at, c->time, &err);
		dv->future = e->image + 1;
		log_line(s, now, e->device, c->request_id, "future-dated", c->time);
		if (schedule(s, at * 1000 > now ? at * 1000 : now, EV_FUTURE, e->device, e->image) < 0)
			dv->future = 0;
	}
	hfw_cs06_response_encode(content, &n, &o);
	if (!(payload = device_payload(s, e->device, &c->user, HFW_CRA_RESPONSE, c->counter, now, HFW_CS06_MESSAGE_CODE,
				       content, n)))
		return;
	snprintf(inner, sizeof(inner), "<sr:GBCSPayload>%s</sr:GBCSPayload>", payload);
	free(payload);
	activation_response(s, e->device, c, &d->eui, c->counter, "I0", inner, now, "ResponseMessage");
}

/* A stored future-dated activation falls due: activate, then alert 8F66 (success) or 8F67. */
static void on_future(hfw_devsim *s, const struct event *e, int64_t now)
{
	const command *c = &s->commands[e->image];
	const struct hfw_device *d = hfw_estate_at(s->estate, e->device);
	struct device *dv = &s->devices[e->device];
	struct hfw_cs06_alert a;
	uint8_t content[HFW_CS06_MAX];
	uint64_t counter;
	char inner[512], *payload;
	size_t n;

	if (dv->future != e->image + 1)
		return;		/* cancelled or replaced */
	dv->future = 0;
	memset(&a, 0, sizeof(a));
	execute(s, e->device, c, &a.outcome, now);
	a.alert_code = a.outcome.code ? HFW_CS06_ALERT_FAILURE : HFW_CS06_ALERT_SUCCESS;
	memcpy(a.time, c->time, sizeof(a.time));
	a.counter = c->counter;
	hfw_cs06_alert_encode(content, &n, &a);
	counter = next_counter(&dv->alert_counter, now);
	if (!(payload = device_payload(s, e->device, &c->user, HFW_CRA_ALERT, counter, now, HFW_CS06_ALERT_CODE_MSG,
				       content, n)))
		return;
	snprintf(inner, sizeof(inner), "<sr:FutureDatedDeviceAlertMessage><sr:FutureDatedAlertCode>%X</sr:FutureDatedAlertCode>"
		 "<sr:GBCSPayload>%s</sr:GBCSPayload><sr:InstructionNumber>1</sr:InstructionNumber>"
		 "<sr:TotalCommandInstructions>1</sr:TotalCommandInstructions></sr:FutureDatedDeviceAlertMessage>",
		 (unsigned)a.alert_code, payload);
	free(payload);
	activation_response(s, e->device, c, &d->eui, counter, "I0", inner, now, "FutureDatedDeviceAlertMessage");
}

static void *run(void *arg)
{
	hfw_devsim *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		int64_t now = hfw_simclock_now(s->o.clock);
		struct event e;

		if (!s->nev || s->heap[0].due > now) {
			int64_t real = s->nev ? hfw_simclock_real_at(s->o.clock, s->heap[0].due)
					      : hfw_clock_ms(CLOCK_MONOTONIC) + 1000;
			struct timespec ts = { (time_t)(real / 1000), (long)(real % 1000) * 1000000 };

			pthread_cond_timedwait(&s->wake, &s->lock, &ts);
			continue;
		}
		e = pop(s);
		if (e.kind < EV_COMMAND && e.gen != s->devices[e.device].gen)
			continue;	/* its image was discarded */
		switch (e.kind) {
		case EV_HUB:
			on_hub(s, &e, e.due);
			break;
		case EV_TRANSFER:
			on_transfer(s, &e, e.due);
			break;
		case EV_VERIFY:
			log_event(s, e.due, e.device, &s->images[e.image], "verified", NULL);
			verified_alert(s, &s->images[e.image], e.device, e.due);
			break;
		case EV_ACTIVATE:
			on_activate(s, &e, e.due);
			break;
		case EV_COMMAND:
			on_command(s, &e, e.due);
			break;
		case EV_FUTURE:
			on_future(s, &e, e.due);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- the interface ---- */

int hfw_devsim_open(hfw_devsim **out, hfw_estate *estate, const struct hfw_devsim_options *o,
		    struct hfw_error *err)
{
	hfw_devsim *s = NULL;
	struct slot_ix *hubix = NULL;
	pthread_condattr_t ca;
	char path[4200];
	size_t i, n, hslots;
	int ret = 0;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s)))) {
		hfw_estate_free(estate);
		return hfw_error_oom(err);
	}
	s->o = *o;
	s->estate = estate;
	snprintf(s->dir, sizeof(s->dir), "%s", o->dir);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	n = s->ndevices = hfw_estate_count(estate);
	for (s->nslots = 64; s->nslots < 2 * n; s->nslots *= 2)
		;
	hslots = s->nslots;
	if (!(s->devices = calloc(n + 1, sizeof(*s->devices))) || !(s->index = calloc(s->nslots, sizeof(*s->index))) ||
	    !(hubix = calloc(hslots, sizeof(*hubix))) || !(s->hubs = calloc(n + 1, sizeof(*s->hubs))) ||
	    !(s->members = calloc(n + 1, sizeof(*s->members)))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	/* Devices, hubs, and each hub's members, in two passes (count, then place). */
	for (i = 0; i < n; i++) {
		const struct hfw_device *d = hfw_estate_at(estate, i);
		uint64_t k = hfw_eui_to_u64(&d->eui), hk = hfw_eui_to_u64(&d->comms_hub);
		size_t at = probe(s->index, s->nslots, k), h = probe(hubix, hslots, hk);

		s->index[at].key = k;
		s->index[at].value = (uint32_t)i + 1;
		if (!hubix[h].value) {
			hubix[h].key = hk;
			hubix[h].value = (uint32_t)++s->nhubs;
		}
		s->devices[i].hub = hubix[h].value - 1;
		s->hubs[s->devices[i].hub].count++;
		memcpy(s->devices[i].running, d->firmware_version, sizeof(s->devices[i].running));
		/* The offline fault takes devices off the HAN; a hub goes offline only by the estate's flag. */
		s->devices[i].offline = d->offline || (d->type->route != HFW_ROUTE_NONE &&
						       (hfw_faults_chance(o->faults, "offline", k, o->faults->offline) ||
							model_chance(s, i, "model-offline", k, MODEL_OFFLINE)));
		s->devices[i].sleepy = d->sleepy || hfw_faults_chance(o->faults, "sleepy", k, o->faults->sleepy);
		transient_faults(s, i, k);
		if (d->type->route == HFW_ROUTE_NONE && !memcmp(d->eui.b, d->comms_hub.b, 8))
			s->hubs[s->devices[i].hub].chf = (uint32_t)i + 1;
	}
	for (i = 0, n = 0; i < s->nhubs; i++) {
		s->hubs[i].first = (uint32_t)n;
		n += s->hubs[i].count;
		s->hubs[i].count = 0;
	}
	for (i = 0; i < s->ndevices; i++) {
		struct hub *h = &s->hubs[s->devices[i].hub];

		s->members[h->first + h->count++] = (uint32_t)i;
	}
	snprintf(path, sizeof(path), "%s/events.log", o->dir);
	if (!(s->events = fopen(path, "a"))) {
		ret = hfw_error_set(err, HFW_EIO, "cannot open '%s'", path);
		goto out;
	}
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		ret = hfw_error_set(err, HFW_ERROR, "cannot start the device simulation");
		goto out;
	}
	s->running = 1;
	*out = s;
	s = NULL;
out:
	free(hubix);
	hfw_devsim_free(s);
	return ret;
}

void hfw_devsim_free(hfw_devsim *s)
{
	size_t i;

	if (!s)
		return;
	if (s->running) {
		pthread_mutex_lock(&s->lock);
		s->stopping = 1;
		pthread_cond_broadcast(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	for (i = 0; s->devices && i < s->ndevices; i++)
		hfw_key_free(s->devices[i].key);
	if (s->events)
		fclose(s->events);
	hfw_estate_free(s->estate);
	free(s->devices);
	free(s->hubs);
	free(s->members);
	free(s->index);
	free(s->images);
	free(s->commands);
	free(s->heap);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

enum hfw_claim hfw_devsim_claim(hfw_devsim *s, const struct hfw_eui *eui, enum hfw_route route, size_t *index)
{
	size_t at = probe(s->index, s->nslots, hfw_eui_to_u64(eui));
	enum hfw_claim c = HFW_CLAIM_OK;

	if (!s->index[at].value)
		return HFW_CLAIM_UNKNOWN;
	*index = s->index[at].value - 1;
	pthread_mutex_lock(&s->lock);
	if (hfw_estate_at(s->estate, *index)->type->route != route)
		c = HFW_CLAIM_NOT_APPLICABLE;
	else if (s->devices[*index].busy)
		c = HFW_CLAIM_BUSY;
	else if (s->devices[*index].busy_left) {
		/* The busy fault: another request (not in this sandbox) is in progress, this once. */
		s->devices[*index].busy_left--;
		c = HFW_CLAIM_BUSY;
	}
	else
		s->devices[*index].busy = 1;
	pthread_mutex_unlock(&s->lock);
	return c;
}

void hfw_devsim_release(hfw_devsim *s, const size_t *devices, size_t n)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n; i++)
		s->devices[devices[i]].busy = 0;
	pthread_mutex_unlock(&s->lock);
}

int hfw_devsim_distribute(hfw_devsim *s, const char *request_id, const uint8_t *image, size_t len,
			  const char *version, const size_t *devices, size_t n, struct hfw_error *err)
{
	struct image im;
	struct hfw_image parsed;
	struct hfw_request_id rid;
	struct hfw_error perr = HFW_ERROR_INIT;
	int64_t now = hfw_simclock_now(s->o.clock);
	size_t i;
	int ret = 0;

	memset(&im, 0, sizeof(im));
	snprintf(im.request_id, sizeof(im.request_id), "%s", request_id);
	snprintf(im.version, sizeof(im.version), "%s", version);
	if ((ret = hfw_request_id_parse(&rid, request_id, err)) < 0)
		return ret;
	im.user = rid.originator;
	im.len = len;
	if (hfw_image_parse(&parsed, image, len, HFW_TRAILER_DETECT, &perr) == 0) {
		uint8_t file_hash[32];

		im.readable = 1;
		hfw_image_hashes(&parsed, image, len, im.mi_hash, file_hash);
		im.has_hw = (parsed.hdr.field_control & HFW_OTA_FC_HW_VERSIONS) != 0;
		im.hw_min = parsed.hdr.hw_min;
		im.hw_max = parsed.hdr.hw_max;
	}
	pthread_mutex_lock(&s->lock);
	if (s->nimages == s->capimages) {
		size_t cap = s->capimages ? 2 * s->capimages : 64;
		struct image *p = realloc(s->images, cap * sizeof(*p));

		if (!p) {
			ret = hfw_error_oom(err);
			goto out;
		}
		s->images = p;
		s->capimages = cap;
	}
	s->images[s->nimages] = im;
	for (i = 0; i < n; i++) {
		const struct hfw_device *d = hfw_estate_at(s->estate, devices[i]);
		int64_t due = now + HUB_DELAY_MIN +
			      (int64_t)(hfw_faults_draw(s->o.faults, "hub-delay", hfw_eui_to_u64(&d->eui) ^ s->nimages) % HUB_DELAY_SPREAD);

		struct hub *h = &s->hubs[s->devices[devices[i]].hub];

		if (due <= h->last_delivery)
			due = h->last_delivery + 1;
		h->last_delivery = due;
		s->devices[devices[i]].pending = (uint32_t)s->nimages + 1;
		if (schedule(s, due, EV_HUB, (uint32_t)devices[i], (uint32_t)s->nimages) < 0) {
			ret = hfw_error_oom(err);
			goto out;
		}
	}
	s->nimages++;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int hfw_devsim_state(hfw_devsim *s, const struct hfw_eui *eui, struct hfw_device_state *out)
{
	size_t at = probe(s->index, s->nslots, hfw_eui_to_u64(eui));
	const struct device *dv;

	memset(out, 0, sizeof(*out));
	if (!s->index[at].value)
		return -1;
	pthread_mutex_lock(&s->lock);
	dv = &s->devices[s->index[at].value - 1];
	out->busy = dv->busy;
	memcpy(out->running_version, dv->running, sizeof(out->running_version));
	if (dv->held) {
		out->holds_image = 1;
		memcpy(out->held_hash, s->images[dv->held - 1].mi_hash, 32);
		memcpy(out->held_version, s->images[dv->held - 1].version, sizeof(out->held_version));
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int hfw_devsim_find(hfw_devsim *s, const struct hfw_eui *eui, size_t *index, const struct hfw_device **device)
{
	size_t at = probe(s->index, s->nslots, hfw_eui_to_u64(eui));

	if (!s->index[at].value)
		return -1;
	*index = s->index[at].value - 1;
	*device = hfw_estate_at(s->estate, *index);
	return 0;
}

static void premises_add(hfw_devsim *s, uint32_t i, struct hfw_devsim_member *out, size_t *n)
{
	out[*n].device = hfw_estate_at(s->estate, i);
	memcpy(out[*n].running_version, s->devices[i].running, sizeof(out[*n].running_version));
	++*n;
}

int hfw_devsim_premises(hfw_devsim *s, const struct hfw_eui *eui, struct hfw_devsim_member *out, size_t max)
{
	size_t at = probe(s->index, s->nslots, hfw_eui_to_u64(eui)), n = 0, k;
	const struct hub *h;
	uint32_t me;
	int alone = 0;

	if (!s->index[at].value)
		return -1;
	if (max == 0)
		return 0;
	me = s->index[at].value - 1;
	h = &s->hubs[s->devices[me].hub];
#ifdef HFW_ESTATE_FORMAT_1	/* estate v2: the inventory may name no hub */
	alone = !hfw_estate_at(s->estate, me)->has_comms_hub;
#endif
	pthread_mutex_lock(&s->lock);
	if (!alone && h->chf && h->chf - 1 != me)
		premises_add(s, h->chf - 1, out, &n);
	if (n < max)
		premises_add(s, me, out, &n);
	for (k = 0; !alone && k < h->count && n < max; k++) {
		uint32_t m = s->members[h->first + k];

		if (m != me && m + 1 != h->chf)
			premises_add(s, m, out, &n);
	}
	pthread_mutex_unlock(&s->lock);
	return (int)n;
}

int hfw_devsim_find_by(hfw_devsim *s, int uprn, const char *text, struct hfw_eui *out)
{
#ifdef HFW_ESTATE_FORMAT_1	/* estate v2 */
	for (size_t i = 0; text[0] && i < s->ndevices; i++) {
		const struct hfw_device *d = hfw_estate_at(s->estate, i);

		if (!strcmp(uprn ? d->uprn : d->mpxn, text)) {
			*out = d->eui;
			return 0;
		}
	}
#else
	(void)s, (void)uprn, (void)text, (void)out;
#endif
	return -1;
}

int hfw_devsim_command(hfw_devsim *s, size_t device, const struct hfw_devsim_command *c, struct hfw_error *err)
{
	int64_t now = hfw_simclock_now(s->o.clock);
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	if (s->ncommands == s->capcommands) {
		size_t cap = s->capcommands ? 2 * s->capcommands : 256;
		command *p = realloc(s->commands, cap * sizeof(*p));

		if (!p) {
			ret = hfw_error_oom(err);
			goto out;
		}
		s->commands = p;
		s->capcommands = cap;
	}
	s->commands[s->ncommands] = *c;
	if (schedule(s, now + WAN_DELAY_MIN + (int64_t)(hfw_faults_draw(s->o.faults, "wan-delay", c->counter) % WAN_DELAY_SPREAD),
		     EV_COMMAND, (uint32_t)device, (uint32_t)s->ncommands) < 0) {
		ret = hfw_error_oom(err);
		goto out;
	}
	s->ncommands++;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void hfw_devsim_quarantine_alert(hfw_devsim *s, const struct hfw_eui *user, const char *request_id, const char *breach,
				 uint64_t ref)
{
	char label[HFW_EUI_TEXT_MAX];

	hfw_eui_format(label, user);
	pthread_mutex_lock(&s->lock);
	/* ADBreach: the RequestID held and the DCC's QuarantineEventRef. */
	dcc_alert_to(s, user, label, hfw_simclock_now(s->o.clock), "N999", "QuarantinedRequest",
		     "<sr:%s><sr:RequestID>%s</sr:RequestID><sr:QuarantineEventRef>%llu</sr:QuarantineEventRef></sr:%s>",
		     breach, request_id, (unsigned long long)ref, breach);
	pthread_mutex_unlock(&s->lock);
}
