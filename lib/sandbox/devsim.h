/*
 * devsim.h - the sandbox's simulated estate: every device and comms hub of
 * estate.json, what firmware each holds and runs, and the asynchronous
 * messages a firmware distribution causes, in simulated time (simclock.h):
 *
 *   accepted 11.1/11.4 --30-90 s--> CSP delivers to the hub
 *     CSPFirmwareDeliveryStatus Success (Failure + FirmwareDistributionFailure
 *     when the hub is offline)
 *   hub --120 s + 10 ms an octet (+ up to 30 min if sleepy)--> HAN transfer
 *     CommsHubAlert 8F8A/FirmwareTransferAlert FileTransferSuccess, or 8F89
 *     with FirmwareImageDiscarded (slot collision), HardwareVersionMismatch
 *     (OTA header range) or FileTransferFailure (offline for 6 h, or the
 *     transfer-fail fault; then FirmwareDistributionFailure too)
 *   11.1 devices --10 s--> DeviceAlertMessage 8F72 (GBCS, signed by the
 *     device's key) carrying the hash the device computed
 *   11.4 devices --60 s--> PPMIDAlert 8F8B/PPMIDFirmwareUpgradeAlert: the
 *     device activated the image itself and now runs it
 *
 * A comms hub has one HAN image slot: a GSME image takes it over any other,
 * and PPMID and HCALCS (and Alt HAN) images overwrite each other, the newer
 * winning; an image overwritten while devices still wait for it is
 * discarded for them.  ESME images do not share the slot.
 *
 * Each outcome is logged as a JSON line in events.log.  Thread-safe.
 */
#ifndef HFW_DEVSIM_H
#define HFW_DEVSIM_H

#include <stddef.h>
#include <stdint.h>

#include "../cs06.h"
#include "../duis.h"
#include "../error.h"
#include "../estate.h"
#include "../products.h"
#include "faults.h"
#include "log.h"
#include "outbox.h"
#include "simclock.h"
#include "../xmldsig.h"

typedef struct hfw_devsim hfw_devsim;

struct hfw_devsim_options {
	const char *dir;			/* devices/<eui>-ds.key, events.log */
	const hfw_signer *dcc_signer;		/* signs DCC alerts */
	const struct hfw_faults *faults;
	const struct hfw_simclock *clock;
	hfw_outbox *outbox;
	struct hfw_sandbox_log log;		/* what goes wrong as it happens */
	const struct hfw_products *products;	/* the sandbox's products.json, NULL if none (see below) */
};

/*
 * With products (a mixed sandbox), devices behave as the documents say
 * (issue 13; hanfw-sandbox(1)): an image larger than the device's hub's
 * image_capacity fails at the hub (8F89 FileTransferFailure); an image
 * whose version is locked to another hub manufacturer fails verification
 * (11.1: 8F72 with another hash; 11.4: ActivationFailure); a HAN device
 * behind a hub whose firmware lacks variant HAN OTA fails at the hub; a model marked
 * unsupported never answers (uncertain); a SMETS1 PPMID fails, and so does
 * a third-party PPMID on a Secure installation (8F89); an Alt HAN bridge 4
 * targeted itself never answers, and takes the version its site's bridge 3
 * activates (option A).  Without, none of this applies.
 */

/* Takes the estate in every case. */
int hfw_devsim_open(hfw_devsim **out, hfw_estate *estate, const struct hfw_devsim_options *o,
		    struct hfw_error *err);
void hfw_devsim_free(hfw_devsim *s);	/* stops the lifecycle thread */

enum hfw_claim {
	HFW_CLAIM_OK,			/* claimed: a firmware request is now in progress */
	HFW_CLAIM_UNKNOWN,		/* not in the estate */
	HFW_CLAIM_NOT_APPLICABLE,	/* its firmware does not go by this route */
	HFW_CLAIM_BUSY,			/* another firmware request is in progress */
};

/* Claim a device for a distribution by route; *index identifies it. */
enum hfw_claim hfw_devsim_claim(hfw_devsim *s, const struct hfw_eui *eui, enum hfw_route route,
				size_t *index);
/* Give claims back (the request was not accepted after all). */
void hfw_devsim_release(hfw_devsim *s, const size_t *devices, size_t n);

/*
 * Start the lifecycle of an accepted distribution on the claimed devices.
 * image is the FirmwareImage as sent (parsed here: an image the hub cannot
 * read fails its transfer); version is the request's FirmwareVersion.
 */
int hfw_devsim_distribute(hfw_devsim *s, const char *request_id, const uint8_t *image, size_t len,
			  const char *version, const size_t *devices, size_t n, struct hfw_error *err);

/* What a device holds and runs (for activation and version reads). */
struct hfw_device_state {
	int holds_image;
	uint8_t held_hash[32];		/* SHA-256 of the ManufacturerImage held */
	char held_version[9];
	char running_version[9];
	int busy;
};
int hfw_devsim_state(hfw_devsim *s, const struct hfw_eui *eui, struct hfw_device_state *out);

/* A device of the estate by EUI: its index and record; -1 if there is none. */
int hfw_devsim_find(hfw_devsim *s, const struct hfw_eui *eui, size_t *index, const struct hfw_device **device);

/*
 * The premises of a device as the DCC's inventory (SR 8.2) lists them: its
 * hub's CHF first, then the asked device, then the hub's other devices in
 * estate order, at most max of them (DUIS: 17); each with the version it
 * runs now.  A device the inventory puts behind no hub is its premises
 * alone.  The number written, or -1 if the estate has no such device.
 */
struct hfw_devsim_member {
	const struct hfw_device *device;
	char running_version[9];
};
int hfw_devsim_premises(hfw_devsim *s, const struct hfw_eui *eui, struct hfw_devsim_member *out, size_t max);

/*
 * The first device (in estate order) whose ImportMPxN (uprn 0) or UPRN
 * (uprn 1) is text, as SR 8.2's other search keys find premises; -1 if
 * none.  A linear search: SR 8.2 by MPxN or UPRN is rare beside DeviceID.
 */
int hfw_devsim_find_by(hfw_devsim *s, int uprn, const char *text, struct hfw_eui *out);

/* A signed CS06 command (SR 11.3) the DCC sends a device. */
struct hfw_devsim_command {
	char request_id[HFW_REQUEST_ID_MAX];
	struct hfw_eui user;
	uint64_t counter;			/* the RequestID's, echoed in the device's answer */
	uint8_t hash[32];
	char time[HFW_GENTIME_LEN + 1];		/* "" immediate; 99991231235959Z cancels */
	int read_version;			/* SR 11.2 instead: read the running version */
};

/*
 * Deliver it after the WAN's 2-5 s.  A version read is answered with the
 * version the device runs, in the GBCS the DCC forwards (MAC-only, DD-
 * wrapped with a zero MAC): ECS52 DLMS from an ESME or comms hub, GCS38 GBZ
 * from a GSME, CS08 from PPMIDs, HCALCS and Alt HAN bridges (through the
 * ACB on the supplier's behalf, as in the RTDS vectors).  The device then answers with a signed
 * CS06 response in a Response to the request (I0 + GBCSPayload): outcome
 * and running version for an immediate one (noImageHeld, hashMismatch or
 * success, switching to the image it holds); "accepted" (NULL) for a
 * future-dated one, stored until its time, then FutureDatedDeviceAlertMessage
 * 8F66/8F67 with the 0x00CA alert; "accepted" for the cancel sentinel, which
 * drops a stored one.  An offline device never answers: the DCC sends E21.
 */
int hfw_devsim_command(hfw_devsim *s, size_t device, const struct hfw_devsim_command *c, struct hfw_error *err);

/*
 * The quarantine fault: a QuarantinedRequest DCC alert to user naming the
 * held RequestID, the breach (ADUserThresholdBreach, ...) and the DCC's
 * QuarantineEventRef, signed as the DCC's other alerts.
 */
void hfw_devsim_quarantine_alert(hfw_devsim *s, const struct hfw_eui *user, const char *request_id, const char *breach,
				 uint64_t ref);

#endif
