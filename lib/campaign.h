/*
 * campaign.h - where each device of a firmware campaign stands, from what
 * hanfw sent (the ledger's requests) and what came back (messages the
 * receiver stored, decoded by decode.h):
 *
 *   distribution_requested -> accepted | distribution_refused
 *   -> delivered_to_hub | hub_delivery_failed
 *   -> transferred | image_discarded | hardware_mismatch | transfer_failed
 *   -> verified (the device's 8F72 hash is the image's) | hash_mismatch |
 *      verification_failed | distribution_failed
 *   -> activation_requested | activation_scheduled | activation_not_sent
 *   -> activated | activation_failed
 *   -> version_confirmed | version_mismatch | version_read_failed
 *
 * Only the campaign's own requests for a device, and the messages that
 * answer them, place it.  Refused at distribution (never accepted) stays
 * refused.  Distribution goes by the latest distribution request (a
 * re-drive: RequestID counters rise), and within it by the furthest stage
 * reached (of two at one stage, the later), so duplicates and reordering
 * change nothing; an earlier request's failure stays as earlier_failure,
 * and a later failure never undoes an earlier request that got the image
 * to the device (transferred or further).  The
 * outcome of the latest activation request (RequestIDs counters rise)
 * supersedes earlier ones.  A version read counts only after the accepted
 * distribution and the latest activation (request order and message time).
 * The goal is activated, or version_confirmed.  Device alerts with no
 * meaning to hanfw are kept as the device's last alert.
 */
#ifndef HFW_CAMPAIGN_H
#define HFW_CAMPAIGN_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"
#include "ledger.h"

/* What a decoded message (hfw_decode_response) says about devices. */
struct hfw_event_list {
	struct hfw_ledger_event *v;
	size_t n, cap;
	char *strings;			/* backing for text that is not in the JSON */
	size_t slen, scap;
	char text[2][HFW_REQUEST_ID_MAX + 64];	/* a RequestID or reason made up from the message */
};

#define HFW_EVENT_LIST_INIT { NULL, 0, 0, NULL, 0, 0, { "", "" } }

/*
 * Fill events from decoded (which must outlive them); also the message's
 * identity for duplicates (its ResponseID, else key_fallback) and kind.
 */
int hfw_campaign_events(struct hfw_event_list *events, const json_t *decoded, struct hfw_error *err);
void hfw_event_list_release(struct hfw_event_list *events);

/* The kind of a decoded message: "ResponseMessage", "DeviceAlertMessage", "DCCAlertMessage/<element>". */
void hfw_campaign_kind(char *out, size_t size, const json_t *decoded);

/*
 * Each device of campaign (NULL: every campaign) or just device, as JSON
 * (schemas/status.schema.json): counts per state and per reason, and each
 * device (all_devices: every one; else those not at their goal) with its
 * state, reason, request IDs and time.  *all_at_goal is whether every
 * device reached its goal.
 */
int hfw_campaign_status(json_t **out, hfw_ledger *l, const char *campaign, const char *device, int all_devices,
			int *all_at_goal, struct hfw_error *err);

/*
 * The same, every device included, written to f as JSON as it goes (a
 * campaign of 100,000 devices need not be built in memory first);
 * *summary receives the counts without the devices.
 */
#include <stdio.h>
int hfw_campaign_write_json(FILE *f, hfw_ledger *l, const char *campaign, const char *device, json_t **summary,
			    int *all_at_goal, struct hfw_error *err);

/*
 * The devices refused at distribution in campaign (every distribution of
 * theirs there refused, none accepted or pending): fn(arg, device, why)
 * for each, why naming the DCC's list or E-code and the RequestID.  What
 * activate consults before it sends SR 11.3.
 */
int hfw_campaign_refused(hfw_ledger *l, const char *campaign,
			 int (*fn)(void *arg, const char *device, const char *why), void *arg, struct hfw_error *err);

/*
 * Each device of campaign where it stands, as hfw_campaign_status has it:
 * the outcome of the latest request of the part it is at (a later
 * distribution's outcome replaces an earlier failure, which stays the
 * device's earlier_failure; a later failure does not undo an earlier
 * distribution that got the image to the device), and with a failed
 * distribution the most specific failure that request met (cause: e.g.
 * transfer_failed or hub_delivery_failed under distribution_failed; NULL
 * when none).  What campaign run's re-drive classifies (redrive.h).
 */
struct hfw_campaign_latest {
	const char *device, *state, *reason, *cause;
};
int hfw_campaign_each_latest(hfw_ledger *l, const char *campaign,
			     int (*fn)(void *arg, const struct hfw_campaign_latest *d), void *arg, struct hfw_error *err);

/*
 * The state and reason (as hfw_campaign_status has them) of each device
 * the rows name, the rows coming from each_row(src, ...) in the order
 * hfw_ledger_each_campaign_row gives them, for a subset of devices (a
 * campaign run's wave: hfw_run_each_wave_row): fn(arg, d) for each, as
 * hfw_campaign_each_latest gives it; non-zero from fn stops and is returned.
 * As the rows are the run's own devices', a device that a mid-campaign
 * event took out before any request of the campaign named it is given too
 * (left_campaign, with the event's reason), so the run never sends it its
 * distribution.
 */
int hfw_campaign_states_of(int (*each_row)(void *src, int (*fn)(void *arg, const struct hfw_ledger_row *row),
					   void *arg, struct hfw_error *err),
			   void *src, int (*fn)(void *arg, const struct hfw_campaign_latest *d), void *arg,
			   struct hfw_error *err);

/* Is state one of the lifecycle's state names? */
int hfw_campaign_state_valid(const char *state);

/* The state names in lifecycle order, space-separated, into buf (truncated to size): completion, manual. */
void hfw_campaign_state_names(char *buf, size_t size);

#endif
