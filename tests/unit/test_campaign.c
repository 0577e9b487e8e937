/*
 * Unit tests: a device's state in its campaign does not depend on the
 * order its messages arrive in, nor on duplicates; its own hash decides
 * whether it verified this campaign's image.
 */
#include "testutil.h"

#include "../../lib/campaign.h"
#include "../../lib/ledger.h"

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = make_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

#define DEVICE "00-DB-12-10-00-00-00-01"
#define RID "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1000"

static const uint8_t image[32] = { 0xC3, 0x0A };	/* the campaign's image hash: C30A00...00 */
#define IMAGE_HEX "C30A000000000000000000000000000000000000000000000000000000000000"

/* A ledger with one device distributed in campaign C, then these events, in this order, one message each. */
static const char *state_after(const char *name, const struct hfw_ledger_event *events, size_t n, json_t **report)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_ledger_request rec;
	struct hfw_eui dev;
	const char *accepted = "accepted";
	hfw_ledger *l = NULL;
	char path[4200], key[32];
	size_t i;
	int dup, goal;

	snprintf(path, sizeof(path), "%s/%s.sqlite", dir, name);
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(hfw_request_id_parse(&rec.id, RID, &err), 0);
	rec.service_reference = "11.1";
	rec.command_variant = 8;
	rec.state = "accepted";
	assert_int_equal(hfw_eui_parse(&dev, DEVICE, "device", &err), 0);
	assert_int_equal(hfw_ledger_record(l, &rec, 1, &err), 0);
	assert_int_equal(hfw_ledger_record_devices(l, RID, &dev, &accepted, 1, &err), 0);
	assert_int_equal(hfw_ledger_campaign_request(l, RID, "C", "distribute", "ESME", "01020304", image, &err), 0);
	for (i = 0; i < n; i++) {
		struct hfw_ledger_message m = { key, NULL, "test", "I0", (const uint8_t *)"<raw/>", 6, "{}", &events[i], 1 };

		snprintf(key, sizeof(key), "m%zu", i);
		assert_int_equal(hfw_ledger_store_message(l, &m, &dup, &err), 0);
		assert_false(dup);
	}
	assert_int_equal(hfw_campaign_status(report, l, "C", NULL, 1, &goal, &err), 0);
	hfw_ledger_close(l);
	return json_string_value(json_object_get(json_array_get(json_object_get(*report, "device_states"), 0), "state"));
}

static void order_does_not_matter(void **state)
{
	const struct hfw_ledger_event delivered = { DEVICE, RID, "delivered_to_hub", "Success", NULL };
	const struct hfw_ledger_event transferred = { DEVICE, RID, "transferred", "01020304", NULL };
	const struct hfw_ledger_event wrong = { DEVICE, NULL, "verified_hash", "AB00", NULL };
	const struct hfw_ledger_event right = { DEVICE, NULL, "verified_hash", IMAGE_HEX, NULL };
	const struct hfw_ledger_event in_order[] = { delivered, transferred, wrong };
	const struct hfw_ledger_event alert_first[] = { wrong, transferred, delivered };
	const struct hfw_ledger_event good_first[] = { right, delivered, transferred, delivered };
	json_t *a = NULL, *b = NULL, *c = NULL;

	(void)state;
	assert_string_equal(state_after("a", in_order, 3, &a), "hash_mismatch");
	assert_string_equal(state_after("b", alert_first, 3, &b), "hash_mismatch");
	assert_string_equal(state_after("c", good_first, 4, &c), "verified");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "reasons"), "device computed another hash")), 1);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

static void further_on_stays(void **state)
{
	const struct hfw_ledger_event activated = { DEVICE, NULL, "activated", "01020304", NULL };
	const struct hfw_ledger_event wrong = { DEVICE, NULL, "verified_hash", "AB00", NULL };
	const struct hfw_ledger_event delivered = { DEVICE, RID, "delivered_to_hub", "Success", NULL };
	const struct hfw_ledger_event events[] = { activated, wrong, delivered };
	json_t *r = NULL;

	(void)state;
	/* Activated with the campaign's version: a late stray hash does not undo it. */
	assert_string_equal(state_after("d", events, 3, &r), "activated");
	assert_int_equal(json_integer_value(json_object_get(r, "at_goal")), 1);
	json_decref(r);
}

/* ---- a ledger built request by request, then one device's state in a campaign ---- */

#define USER "90-B3-D5-1F-30-01-00-00"
#define DCC "90-B3-D5-1F-30-00-00-02"
#define ESME "00-DB-12-10-00-00-00-01"
#define PPMID "00-DB-12-10-00-00-00-02"

static hfw_ledger *fresh(const char *name)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *l = NULL;
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s.sqlite", dir, name);
	assert_int_equal(hfw_ledger_open(&l, path, &err), 0);
	return l;
}

/* A request rid (USER:target:counter) for device with this outcome in campaign, as the commands record it. */
static void request(hfw_ledger *l, const char *target, unsigned counter, const char *campaign, const char *action,
		    const char *device, const char *outcome, const char *code)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_ledger_request rec;
	struct hfw_eui dev;
	char rid[HFW_REQUEST_ID_MAX];
	int dist = !strcmp(action, "distribute"), read = !strcmp(action, "read-version");

	snprintf(rid, sizeof(rid), "%s:%s:%u", USER, target, counter);
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(hfw_request_id_parse(&rec.id, rid, &err), 0);
	rec.service_reference = dist ? "11.1" : read ? "11.2" : "11.3";
	rec.command_variant = dist ? 8 : read ? 1 : 4;
	rec.state = "signed";
	/* The request may already be there (a distribution to several devices). */
	if (hfw_ledger_record(l, &rec, 1, &err) == 0)
		assert_int_equal(hfw_ledger_campaign_request(l, rid, campaign, action, "ESME", read ? NULL : "01020304",
							     read ? NULL : image, &err), 0);
	assert_int_equal(hfw_eui_parse(&dev, device, "device", &err), 0);
	assert_int_equal(hfw_ledger_record_devices(l, rid, &dev, &outcome, 1, &err), 0);
	if (code)
		assert_int_equal(hfw_ledger_set_state(l, rid, "rejected", code, &err), 0);
}

/* A message saying event about device, answering USER:target:counter (counter 0: naming no request), sent at "at". */
static void message(hfw_ledger *l, const char *device, const char *target, unsigned counter, const char *event,
		    const char *detail, const char *at)
{
	static unsigned serial;
	struct hfw_error err = HFW_ERROR_INIT;
	char rid[HFW_REQUEST_ID_MAX], key[32];
	struct hfw_ledger_event e = { device, counter ? rid : NULL, event, detail, at };
	struct hfw_ledger_message m = { key, NULL, "test", "I0", (const uint8_t *)"<raw/>", 6, "{}", &e, 1 };
	int dup;

	snprintf(rid, sizeof(rid), "%s:%s:%u", USER, target, counter);
	snprintf(key, sizeof(key), "k%u", ++serial);
	assert_int_equal(hfw_ledger_store_message(l, &m, &dup, &err), 0);
	assert_false(dup);
}

/* The one device's entry in campaign's status (every device listed); *report keeps it alive. */
static json_t *device_in(hfw_ledger *l, const char *campaign, const char *device, json_t **report)
{
	struct hfw_error err = HFW_ERROR_INIT;
	json_t *v;
	size_t i;
	int goal;

	json_decref(*report);
	assert_int_equal(hfw_campaign_status(report, l, campaign, NULL, 1, &goal, &err), 0);
	json_array_foreach(json_object_get(*report, "device_states"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "device")), device))
			return v;
	fail_msg("%s is not in campaign %s", device, campaign);
	return NULL;
}

static const char *field(json_t *device, const char *name)
{
	const char *v = json_string_value(json_object_get(device, name));

	return v ? v : "(none)";
}

static void refused_stays_refused(void **state)
{
	hfw_ledger *l = fresh("refused");
	json_t *r = NULL, *d;

	(void)state;
	/* An ESME distribution listing a PPMID: the DCC says not applicable. */
	request(l, DCC, 1000, "ESME-01020304", "distribute", ESME, "accepted", NULL);
	request(l, DCC, 1000, "ESME-01020304", "distribute", PPMID, "not_applicable", NULL);
	/* The PPMID read later, running a version that happens to be the ESME target. */
	request(l, PPMID, 1001, "read-version", "read-version", PPMID, "sent", NULL);
	message(l, PPMID, PPMID, 1001, "version_read", "01020304", "2026-01-01T10:00:00Z");
	d = device_in(l, "ESME-01020304", PPMID, &r);
	assert_string_equal(field(d, "state"), "distribution_refused");
	assert_string_equal(field(d, "reason"), "not_applicable");
	/* Whatever later messages say about it. */
	message(l, PPMID, PPMID, 1001, "activated", "01020304", "2026-01-01T11:00:00Z");
	message(l, PPMID, NULL, 0, "verified_hash", IMAGE_HEX, "2026-01-01T11:00:00Z");
	assert_string_equal(field(device_in(l, "ESME-01020304", PPMID, &r), "state"), "distribution_refused");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "states"), "distribution_refused")), 1);
	/* Refused with an E-code: the code is the reason. */
	request(l, DCC, 1002, "GSME-01", "distribute", ESME, "rejected", "E12");
	assert_string_equal(field(device_in(l, "GSME-01", ESME, &r), "reason"), "rejected E12");
	json_decref(r);
	hfw_ledger_close(l);
}

static void later_activation_supersedes(void **state)
{
	hfw_ledger *l = fresh("retry");
	json_t *r = NULL, *d;

	(void)state;
	request(l, DCC, 1000, "C", "distribute", ESME, "accepted", NULL);
	request(l, ESME, 1001, "C", "activate", ESME, "sent", NULL);
	message(l, ESME, ESME, 1001, "activation_failed", "hashMismatch", "2026-01-01T10:00:00Z");
	d = device_in(l, "C", ESME, &r);
	assert_string_equal(field(d, "state"), "activation_failed");
	assert_string_equal(field(d, "reason"), "hashMismatch");
	/* A version read after the failure: the old version; the failure's cause stays in sight. */
	request(l, ESME, 1002, "read-version", "read-version", ESME, "sent", NULL);
	message(l, ESME, ESME, 1002, "version_read", "01010101", "2026-01-01T10:05:00Z");
	d = device_in(l, "C", ESME, &r);
	assert_string_equal(field(d, "state"), "version_mismatch");
	assert_string_equal(field(d, "earlier_failure"), "activation_failed: hashMismatch");
	/* Activated again, successfully: the read before it no longer counts. */
	request(l, ESME, 1003, "C", "activate", ESME, "sent", NULL);
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "activation_requested");
	message(l, ESME, ESME, 1003, "activated", "01020304", "2026-01-01T10:10:00Z");
	d = device_in(l, "C", ESME, &r);
	assert_string_equal(field(d, "state"), "activated");
	assert_string_equal(field(d, "activation_request"), USER ":" ESME ":1003");
	assert_string_equal(field(d, "earlier_failure"), "activation_failed: hashMismatch");
	assert_int_equal(json_integer_value(json_object_get(r, "at_goal")), 1);
	/* A read after it confirms it. */
	request(l, ESME, 1004, "read-version", "read-version", ESME, "sent", NULL);
	message(l, ESME, ESME, 1004, "version_read", "01020304", "2026-01-01T10:15:00Z");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "version_confirmed");
	json_decref(r);
	hfw_ledger_close(l);
}

/* The one device's latest outcome as campaign run's re-drive reads it. */
static int latest_of(void *arg, const struct hfw_campaign_latest *d)
{
	char *out = arg;

	if (!strcmp(d->device, ESME))
		snprintf(out, 160, "%s %s %s", d->state, d->reason ? d->reason : "-", d->cause ? d->cause : "-");
	return 0;
}

static const char *latest(hfw_ledger *l, char out[160])
{
	struct hfw_error err = HFW_ERROR_INIT;

	out[0] = 0;
	assert_int_equal(hfw_campaign_each_latest(l, "C", latest_of, out, &err), 0);
	return out;
}

/* A re-drive (a later distribution request) wins over the earlier failure, which stays in history. */
static void redriven_distribution(void **state)
{
	hfw_ledger *l = fresh("redrive");
	json_t *r = NULL, *d;
	char buf[160];

	(void)state;
	request(l, DCC, 1000, "C", "distribute", ESME, "accepted", NULL);
	message(l, ESME, DCC, 1000, "hub_delivery_failed", "CSPFirmwareDeliveryStatus Failure", "2026-01-01T10:00:00Z");
	message(l, ESME, DCC, 1000, "distribution_failed", "FirmwareDistributionFailure", "2026-01-01T10:00:01Z");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "distribution_failed");
	assert_string_equal(latest(l, buf), "distribution_failed FirmwareDistributionFailure hub_delivery_failed");
	/* Sent again: the new request is where the device stands; a stale answer to the old changes nothing. */
	request(l, DCC, 1005, "C", "distribute", ESME, "accepted", NULL);
	message(l, ESME, DCC, 1000, "transfer_failed", "FileTransferFailure", "2026-01-01T10:01:00Z");
	d = device_in(l, "C", ESME, &r);
	assert_string_equal(field(d, "state"), "accepted");
	assert_string_equal(field(d, "distribution_request"), USER ":" DCC ":1005");
	assert_string_equal(field(d, "earlier_failure"), "transfer_failed: FileTransferFailure");
	assert_string_equal(latest(l, buf), "accepted - -");
	message(l, ESME, DCC, 1005, "delivered_to_hub", "CSPFirmwareDeliveryStatus Success", "2026-01-01T11:00:00Z");
	message(l, ESME, DCC, 1005, "transferred", "01020304", "2026-01-01T11:10:00Z");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "transferred");
	/* A later distribution that fails does not undo one that got the image to the device. */
	request(l, DCC, 1010, "C", "distribute", ESME, "accepted", NULL);
	message(l, ESME, DCC, 1010, "image_discarded", "FirmwareImageDiscarded", "2026-01-01T12:00:00Z");
	d = device_in(l, "C", ESME, &r);
	assert_string_equal(field(d, "state"), "transferred");
	assert_string_equal(field(d, "earlier_failure"), "image_discarded: FirmwareImageDiscarded");
	message(l, ESME, NULL, 0, "verified_hash", IMAGE_HEX, "2026-01-01T12:10:00Z");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "verified");
	json_decref(r);
	hfw_ledger_close(l);
}

/* Refused busy (OtherRequestInProgressList), then accepted: the later answer is the device's. */
static void busy_then_accepted(void **state)
{
	hfw_ledger *l = fresh("busy");
	json_t *r = NULL;
	char buf[160];

	(void)state;
	request(l, DCC, 1000, "C", "distribute", ESME, "other_request_in_progress", NULL);
	assert_string_equal(latest(l, buf), "distribution_refused other_request_in_progress -");
	request(l, DCC, 1001, "C", "distribute", ESME, "accepted", NULL);
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "accepted");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "earlier_failure"),
			    "distribution_refused: other_request_in_progress");
	json_decref(r);
	hfw_ledger_close(l);
}

static void activation_outcomes_out_of_order(void **state)
{
	hfw_ledger *l = fresh("reorder");
	json_t *r = NULL;

	(void)state;
	/* The same history, its answers arriving in the worst order: the success first. */
	request(l, DCC, 1000, "C", "distribute", ESME, "accepted", NULL);
	request(l, ESME, 1001, "C", "activate", ESME, "sent", NULL);
	request(l, ESME, 1002, "read-version", "read-version", ESME, "sent", NULL);
	request(l, ESME, 1003, "C", "activate", ESME, "sent", NULL);
	message(l, ESME, ESME, 1003, "activated", "01020304", "2026-01-01T10:10:00Z");
	message(l, ESME, ESME, 1002, "version_read", "01010101", "2026-01-01T10:05:00Z");
	message(l, ESME, ESME, 1001, "activation_failed", "hashMismatch", "2026-01-01T10:00:00Z");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "activated");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "earlier_failure"), "activation_failed: hashMismatch");
	/* An outcome for another campaign's activation of the device changes nothing here. */
	request(l, ESME, 1004, "D", "activate", ESME, "sent", NULL);
	message(l, ESME, ESME, 1004, "activation_failed", "noImageHeld", "2026-01-01T10:20:00Z");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "activated");
	json_decref(r);
	hfw_ledger_close(l);
}

static void reads_must_follow(void **state)
{
	hfw_ledger *l = fresh("follow");
	json_t *r = NULL, *d;

	(void)state;
	/* A read asked before the distribution says nothing about it, even with the right version. */
	request(l, ESME, 999, "read-version", "read-version", ESME, "sent", NULL);
	request(l, DCC, 1000, "C", "distribute", ESME, "accepted", NULL);
	message(l, ESME, ESME, 999, "version_read", "01020304", "2026-01-01T10:00:00Z");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "accepted");
	/* Scheduled for later: a read of the old version meanwhile is no mismatch. */
	request(l, ESME, 1001, "C", "activate", ESME, "sent", NULL);
	message(l, ESME, ESME, 1001, "activation_scheduled", NULL, "2026-01-01T10:01:00Z");
	request(l, ESME, 1002, "read-version", "read-version", ESME, "sent", NULL);
	message(l, ESME, ESME, 1002, "version_read", "01010101", "2026-01-01T10:02:00Z");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "activation_scheduled");
	/* Activated at the time (the alert's time, offset given), then a read that fails: its code shows. */
	message(l, ESME, ESME, 1001, "activated", "01020304", "2026-01-01T12:00:00+01:00");
	d = device_in(l, "C", ESME, &r);
	assert_string_equal(field(d, "state"), "activated");
	assert_string_equal(field(d, "at"), "2026-01-01T11:00:00Z");	/* in UTC */
	request(l, ESME, 1003, "read-version", "read-version", ESME, "sent", NULL);
	message(l, ESME, ESME, 1003, "version_read_failed", "DLMS object-unavailable (11)", "2026-01-01T11:30:00Z");
	d = device_in(l, "C", ESME, &r);
	assert_string_equal(field(d, "state"), "version_read_failed");
	assert_string_equal(field(d, "reason"), "DLMS object-unavailable (11)");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "reasons"), "DLMS object-unavailable (11)")), 1);
	json_decref(r);
	hfw_ledger_close(l);
}

static void unknown_alert_is_shown(void **state)
{
	hfw_ledger *l = fresh("alert");
	json_t *r = NULL, *d;

	(void)state;
	request(l, DCC, 1000, "C", "distribute", ESME, "accepted", NULL);
	message(l, ESME, NULL, 0, "device_alert", "8F12 (GBCS message code 0018)", "2026-01-01T10:00:00Z");
	d = device_in(l, "C", ESME, &r);
	assert_string_equal(field(d, "state"), "accepted");
	assert_string_equal(field(d, "last_alert"), "8F12 (GBCS message code 0018)");
	json_decref(r);
	hfw_ledger_close(l);
}

static int collect_refused(void *arg, const char *device, const char *why)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s %s;", device, why);
	return 0;
}

static void refused_devices_for_activate(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *l = fresh("activate");
	char out[512] = "";

	(void)state;
	request(l, DCC, 1000, "C", "distribute", ESME, "accepted", NULL);
	request(l, DCC, 1000, "C", "distribute", PPMID, "not_applicable", NULL);
	/* Refused once, then accepted in a second distribution: it holds the image. */
	request(l, DCC, 1001, "C", "distribute", "00-DB-12-10-00-00-00-03", "other_request_in_progress", NULL);
	request(l, DCC, 1002, "C", "distribute", "00-DB-12-10-00-00-00-03", "accepted", NULL);
	/* Another campaign's refusal is not this one's. */
	request(l, DCC, 1003, "D", "distribute", ESME, "rejected", "E12");
	assert_int_equal(hfw_campaign_refused(l, "C", collect_refused, out, &err), 0);
	assert_string_equal(out, PPMID " not_applicable, RequestID " USER ":" DCC ":1000;");
	out[0] = '\0';
	assert_int_equal(hfw_campaign_refused(l, "D", collect_refused, out, &err), 0);
	assert_string_equal(out, ESME " rejected E12, RequestID " USER ":" DCC ":1003;");
	hfw_ledger_close(l);
}

/* Mid-campaign events take a device out with their reason; a suspended device restored rejoins. */
static void mid_campaign_events(void **state)
{
	hfw_ledger *l = fresh("left");
	json_t *r = NULL, *d;

	(void)state;
	request(l, DCC, 1000, "C", "distribute", ESME, "accepted", NULL);
	request(l, DCC, 1000, "C", "distribute", PPMID, "accepted", NULL);
	message(l, ESME, DCC, 1000, "delivered_to_hub", "Success", "2026-01-01T10:00:00Z");
	message(l, ESME, NULL, 0, "left_campaign", "change_of_supplier", "2026-01-01T10:01:00Z");
	d = device_in(l, "C", ESME, &r);
	assert_string_equal(field(d, "state"), "left_campaign");
	assert_string_equal(field(d, "reason"), "change_of_supplier");
	/* Whatever comes after. */
	message(l, ESME, NULL, 0, "verified_hash", IMAGE_HEX, "2026-01-01T10:02:00Z");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "left_campaign");
	/* Suspended, then restored: back where its distribution stands. */
	message(l, PPMID, NULL, 0, "left_campaign", "suspended", "2026-01-01T10:01:00Z");
	assert_string_equal(field(device_in(l, "C", PPMID, &r), "reason"), "suspended");
	message(l, PPMID, NULL, 0, "restored", NULL, "2026-01-01T10:05:00Z");
	assert_string_equal(field(device_in(l, "C", PPMID, &r), "state"), "accepted");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "states"), "left_campaign")), 1);
	/* Another campaign's device is not placed by it. */
	message(l, "00-DB-12-10-00-00-00-09", NULL, 0, "left_campaign", "ppmid_removed", "2026-01-01T10:01:00Z");
	assert_int_equal(json_integer_value(json_object_get(r, "devices")), 2);
	json_decref(r);
	hfw_ledger_close(l);
}

/*
 * Two campaigns carrying the same image (one FirmwareHash) in one ledger:
 * A distributed it to the ESME, B to the PPMID.  Events for A's device
 * only, those naming A's request and those naming none (8F72 with the
 * image's hash, a PPMID-style activation, a change of supplier), leave
 * B's device where it was and do not bring A's device into B; and the
 * campaign an activation joins is found by FirmwareHash AND device.
 */
static void two_campaigns_one_image(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_ledger *l = fresh("twoc");
	json_t *r = NULL, *a = NULL;
	char *before, *after, campaign[64];

	(void)state;
	request(l, DCC, 1000, "A", "distribute", ESME, "accepted", NULL);
	request(l, DCC, 1001, "B", "distribute", PPMID, "accepted", NULL);
	message(l, PPMID, DCC, 1001, "delivered_to_hub", "Success", "2026-01-01T10:00:00Z");
	before = json_dumps(device_in(l, "B", PPMID, &r), JSON_SORT_KEYS);
	message(l, ESME, DCC, 1000, "delivered_to_hub", "Success", "2026-01-01T10:01:00Z");
	message(l, ESME, DCC, 1000, "transferred", "01020304", "2026-01-01T10:02:00Z");
	message(l, ESME, NULL, 0, "verified_hash", IMAGE_HEX, "2026-01-01T10:03:00Z");
	message(l, ESME, NULL, 0, "activated", "01020304", "2026-01-01T10:04:00Z");
	message(l, ESME, NULL, 0, "left_campaign", "change_of_supplier", "2026-01-01T10:05:00Z");
	after = json_dumps(device_in(l, "B", PPMID, &r), JSON_SORT_KEYS);
	assert_string_equal(after, before);
	assert_string_equal(field(device_in(l, "B", PPMID, &r), "state"), "delivered_to_hub");
	assert_int_equal(json_integer_value(json_object_get(r, "devices")), 1);
	assert_string_equal(field(device_in(l, "A", ESME, &a), "state"), "left_campaign");
	/* By FirmwareHash alone, the latest campaign that distributed it: B; by device, each its own. */
	assert_int_equal(hfw_ledger_campaign_by_hash(l, image, NULL, campaign, sizeof(campaign), &err), 0);
	assert_string_equal(campaign, "B");
	assert_int_equal(hfw_ledger_campaign_by_hash(l, image, ESME, campaign, sizeof(campaign), &err), 0);
	assert_string_equal(campaign, "A");
	assert_int_equal(hfw_ledger_campaign_by_hash(l, image, PPMID, campaign, sizeof(campaign), &err), 0);
	assert_string_equal(campaign, "B");
	assert_int_equal(hfw_ledger_campaign_by_hash(l, image, "00-DB-12-00-00-00-00-99", campaign, sizeof(campaign), &err), 0);
	assert_string_equal(campaign, "");
	free(before);
	free(after);
	json_decref(r);
	json_decref(a);
	hfw_ledger_close(l);
}

/* A QuarantinedRequest names the held RequestID: its devices' distribution or activation was held. */
static void quarantined_requests(void **state)
{
	hfw_ledger *l = fresh("held");
	json_t *r = NULL, *d;

	(void)state;
	request(l, DCC, 1000, "C", "distribute", ESME, "accepted", NULL);
	request(l, DCC, 1001, "C", "distribute", PPMID, "accepted", NULL);
	message(l, DCC, DCC, 1001, "request_quarantined", "ADUserThresholdBreach QuarantineEventRef 7", "2026-01-01T10:00:00Z");
	d = device_in(l, "C", PPMID, &r);
	assert_string_equal(field(d, "state"), "distribution_quarantined");
	assert_string_equal(field(d, "reason"), "ADUserThresholdBreach QuarantineEventRef 7");
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "accepted");
	/* An activation held. */
	request(l, ESME, 1002, "C", "activate", ESME, "sent", NULL);
	assert_string_equal(field(device_in(l, "C", ESME, &r), "state"), "activation_requested");
	message(l, ESME, ESME, 1002, "request_quarantined", "ADDCCThresholdBreach QuarantineEventRef 8", "2026-01-01T10:00:00Z");
	d = device_in(l, "C", ESME, &r);
	assert_string_equal(field(d, "state"), "activation_quarantined");
	assert_string_equal(field(d, "reason"), "ADDCCThresholdBreach QuarantineEventRef 8");
	json_decref(r);
	hfw_ledger_close(l);
}

/* decode.c's dcc_event becomes the device's event. */
static void dcc_event_to_events(void **state)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_event_list ev = HFW_EVENT_LIST_INIT;
	json_t *d;

	(void)state;
	d = json_pack("{s:s,s:{s:{s:{}}},s:{s:s,s:s,s:s}}", "body", "DCCAlertMessage", "message", "DCCAlert", "ChangeOfSupplier",
		      "dcc_event", "event", "left_campaign", "device", ESME, "reason", "change_of_supplier");
	assert_int_equal(hfw_campaign_events(&ev, d, &err), 0);
	assert_int_equal(ev.n, 1);
	assert_string_equal(ev.v[0].device, ESME);
	assert_string_equal(ev.v[0].event, "left_campaign");
	assert_string_equal(ev.v[0].detail, "change_of_supplier");
	json_decref(d);
	d = json_pack("{s:s,s:{s:{s:{}}},s:{s:s,s:s,s:s,s:s}}", "body", "DCCAlertMessage", "message", "DCCAlert",
		      "QuarantinedRequest", "dcc_event", "event", "request_quarantined", "breach", "ADUserThresholdBreach",
		      "request_id", USER ":" DCC ":1001", "quarantine_event_ref", "7");
	assert_int_equal(hfw_campaign_events(&ev, d, &err), 0);
	assert_int_equal(ev.n, 1);
	assert_string_equal(ev.v[0].device, DCC);
	assert_string_equal(ev.v[0].request_id, USER ":" DCC ":1001");
	assert_string_equal(ev.v[0].event, "request_quarantined");
	assert_string_equal(ev.v[0].detail, "ADUserThresholdBreach QuarantineEventRef 7");
	json_decref(d);
	hfw_event_list_release(&ev);
}

/* --fail-on's choices: every state, valid, in order; a small buffer truncates, never overflows. */
static void state_names(void **state)
{
	char buf[1024], copy[1024], small[12], *p, *save = NULL;
	int n = 0;

	(void)state;
	hfw_campaign_state_names(buf, sizeof(buf));
	assert_true(strncmp(buf, "distribution_requested distribution_refused ", 44) == 0);
	snprintf(copy, sizeof(copy), "%s", buf);
	for (p = strtok_r(copy, " ", &save); p; p = strtok_r(NULL, " ", &save), n++)
		assert_true(hfw_campaign_state_valid(p));
	assert_int_equal(n, 24);
	assert_non_null(strstr(buf, " activated "));
	hfw_campaign_state_names(small, sizeof(small));
	assert_string_equal(small, "distributio");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_does_not_matter),
		cmocka_unit_test(further_on_stays),
		cmocka_unit_test(refused_stays_refused),
		cmocka_unit_test(later_activation_supersedes),
		cmocka_unit_test(redriven_distribution),
		cmocka_unit_test(busy_then_accepted),
		cmocka_unit_test(activation_outcomes_out_of_order),
		cmocka_unit_test(reads_must_follow),
		cmocka_unit_test(unknown_alert_is_shown),
		cmocka_unit_test(refused_devices_for_activate),
		cmocka_unit_test(state_names),
		cmocka_unit_test(mid_campaign_events),
		cmocka_unit_test(two_campaigns_one_image),
		cmocka_unit_test(quarantined_requests),
		cmocka_unit_test(dcc_event_to_events),
	};

	return cmocka_run_group_tests_name("campaign", tests, setup, teardown);
}
