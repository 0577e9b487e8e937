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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_does_not_matter),
		cmocka_unit_test(further_on_stays),
	};

	return cmocka_run_group_tests_name("campaign", tests, setup, teardown);
}
