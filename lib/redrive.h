/*
 * redrive.h - campaign run's re-drive policy: which answered failures are
 * transient, how often and how soon a device's step is sent again.  Pure:
 * the run (campaign_run.c) feeds it the device's latest outcome for its
 * step (campaign.h: hfw_campaign_latest) and its own state (run.h).
 *
 * Classes (the DCC's own codes, DUIS response codes and DCC alerts):
 *   hub      CSPFirmwareDeliveryStatus with CommsHubTransferStatus Failure
 *            (N61): the CSP could not deliver the image to the comms hub;
 *            and a FirmwareDistributionFailure whose cause is not known
 *            (yet: the cause's alert may come later, and is classified
 *            again each round, so a terminal cause still ends it).
 *   offline  E20 (cannot communicate with the device), E21 (no response
 *            from the device), and the hub's FileTransferFailure (CCS08
 *            responseCode 3), what a switched-off device gives.
 *   busy     the device was in the DCC's OtherRequestInProgressList
 *            (DSPUpdateFirmwareWarning, W110101/W110401).
 *   slot     FirmwareImageDiscarded (CCS08 responseCode 1): another image
 *            took the hub's one HAN image slot; sent again only once the
 *            competing distribution is settled.
 *   sleepy   offline, for device types that sleep or that consumers switch
 *            off (GSME, PPMID, IHD): a longer window.
 * Everything else that failed is terminal (hash mismatch, hardware
 * mismatch, refused on any other list or E-code, version mismatch, ...).
 * A request of unknown fate is never a failure here: the run waits.
 */
#ifndef HFW_REDRIVE_H
#define HFW_REDRIVE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum hfw_redrive_class {
	HFW_REDRIVE_NONE,	/* not a failure */
	HFW_REDRIVE_TERMINAL,	/* never re-driven */
	HFW_REDRIVE_HUB,
	HFW_REDRIVE_OFFLINE,
	HFW_REDRIVE_BUSY,
	HFW_REDRIVE_SLOT,
	HFW_REDRIVE_SLEEPY,
	HFW_REDRIVE_CLASSES
};

/* Per class: re-drives allowed after the first send, and the backoff's base (doubling, capped). */
struct hfw_redrive_policy {
	struct {
		uint64_t attempts;
		uint64_t backoff_ms;
	} c[HFW_REDRIVE_CLASSES];
	uint64_t backoff_max_ms;
};

/* "hub", "offline", ... ("none", "terminal"). */
const char *hfw_redrive_class_name(enum hfw_redrive_class c);

/* The policy from cfg's redrive_* settings (hanfw-config(1)); unset ones take their documented defaults. */
void hfw_redrive_policy_load(struct hfw_redrive_policy *p, const hfw_config *cfg);

/* Does a device of this type (route.h's name) sleep or get switched off (GSME, PPMID, IHD)? */
int hfw_redrive_sleepy_type(const char *type_name);

/*
 * The class of a device's latest outcome for its step: state and reason as
 * campaign.h has them for the latest request, cause the first failure that
 * request met (e.g. transfer_failed under distribution_failed; NULL: none).
 */
enum hfw_redrive_class hfw_redrive_classify(const char *state, const char *reason, const char *cause, int sleepy);

/* The wait before re-drive number n + 1 (n re-drives done): base * 2^n, capped. */
uint64_t hfw_redrive_backoff_ms(const struct hfw_redrive_policy *p, enum hfw_redrive_class c, uint64_t n);

enum hfw_redrive_verdict {
	HFW_REDRIVE_DUE,	/* send the step again now */
	HFW_REDRIVE_WAIT,	/* its window is not over: *due_ms says when */
	HFW_REDRIVE_EXHAUSTED,	/* the class's limit is reached: fail (hfw_redrive_reason) */
};

/*
 * Given n re-drives of the step done and the failure first seen at
 * seen_ms, is the next one due at now_ms?  *due_ms: seen_ms + backoff.
 */
enum hfw_redrive_verdict hfw_redrive_due(const struct hfw_redrive_policy *p, enum hfw_redrive_class c, uint64_t n,
					 int64_t seen_ms, int64_t now_ms, int64_t *due_ms);

/* The failure reason when the limit is reached: "redrive_exhausted (offline: E21, re-driven 3 times)". */
void hfw_redrive_reason(char *out, size_t size, enum hfw_redrive_class c, const char *state, const char *reason,
			uint64_t n);

#endif
