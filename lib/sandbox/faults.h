/*
 * faults.h - the sandbox's seeded, reproducible faults, from a spec such as
 * "drop=0.1,dup=0.05,delay=2000,offline=0.02,ecode=00-DB-12-10-01-00-00-01:E20".
 *
 * Every decision is a pure function of (seed, what, key): the same seed
 * makes the same devices offline and the same messages dropped, whatever
 * order threads happen to run in.  See hanfw-sandbox(1) for each fault.
 */
#ifndef HFW_FAULTS_H
#define HFW_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "../error.h"
#include "../eui.h"

enum hfw_tamper {
	HFW_TAMPER_NONE,
	HFW_TAMPER_HASH,	/* pre-command carries another image hash */
	HFW_TAMPER_RECIPIENT,	/* ... is addressed to another device */
	HFW_TAMPER_COUNTER,	/* ... has another originator counter */
	HFW_TAMPER_CODE,	/* ... has another message code */
	HFW_TAMPER_TIME,	/* ... has another execution time */
	HFW_TAMPER_MIXED,	/* each pre-command one of the above, by its counter */
};

#define HFW_FAULTS_MAX_ECODES 64
#define HFW_FAULTS_MAX_MODELS 32
#define HFW_FAULTS_MAX_EVENTS 64

/*
 * Per DeviceModel: fractions of that model's devices
 * (model=433100AC:hash=0.1:offline=0.05:slot=0.2/1:flaky=0.5/2).
 */
struct hfw_model_faults {
	char model[32];
	double hash;			/* the image arrives corrupted: 8F72 with another hash (11.4: ActivationFailure) */
	double offline;			/* off the HAN: transfer fails, commands get E21 */
	double slot;			/* another image takes the hub's slot: FirmwareImageDiscarded */
	unsigned slot_times;		/* slot=P/K: only the device's first K deliveries (the other image is then done); 0: all */
	double flaky;			/* flaky=P/K: the device misses its first K deliveries and commands, then answers */
	unsigned flaky_times;
};

/* Mid-campaign DCC alerts, sent once the device's image has reached its hub. */
enum hfw_fault_event {
	HFW_EVENT_COS,			/* ChangeOfSupplier/DeviceChangeOfSupplier */
	HFW_EVENT_SUSPENDED,		/* DeviceStatusChangeEvent/DeviceSuspended */
	HFW_EVENT_DECOMMISSIONED,	/* .../MeterDecommissioningOrWithdrawal (decommissioned) */
	HFW_EVENT_WITHDRAWN,		/* .../MeterDecommissioningOrWithdrawal (withdrawn) */
	HFW_EVENT_PPMID_REMOVED,	/* PPMIDRemoval (PPMIDs only) */
};

struct hfw_fault_event_rule {
	enum hfw_fault_event kind;
	int by_eui;			/* eui given, else fraction */
	struct hfw_eui eui;
	double fraction;
};

/* The DUIS anomaly-detection breach a quarantine alert names. */
enum hfw_breach { HFW_BREACH_USER, HFW_BREACH_DCC, HFW_BREACH_ATTRIBUTE };

struct hfw_faults {
	uint64_t seed;
	/* Deliveries to the receive URL (probabilities per message, times in simulated ms). */
	double drop, dup, reorder;
	uint64_t delay_ms;		/* extra delay, uniform in [0, delay_ms] */
	uint64_t rrs_down_ms;		/* receive URL unreachable for this long after start */
	/* The adapter's own replies. */
	double http503;			/* answer 503 without processing */
	uint64_t slow_ms;		/* real milliseconds before each reply */
	/* Devices (probability per device). */
	double offline, sleepy, transfer_fail, bad_hash;
	double read_error;		/* a device answers SR 11.2 with its use case's error form */
	double busy;			/* its first distribution finds another request in progress (OtherRequestInProgressList) */
	struct { struct hfw_eui eui; char code[12]; } ecodes[HFW_FAULTS_MAX_ECODES];
	size_t necodes;
	enum hfw_tamper tamper;
	struct hfw_model_faults models[HFW_FAULTS_MAX_MODELS];
	size_t nmodels;
	struct hfw_fault_event_rule events[HFW_FAULTS_MAX_EVENTS];
	size_t nevents;
	/* quarantine=N/WINDOW: above N requests in a window of simulated time, hold the excess. */
	uint64_t quarantine_max, quarantine_window_ms;	/* window 0: no quarantine */
	enum hfw_breach breach;
};

/* Parse spec (NULL or "" for none).  HFW_EINPUT names the item at fault (the command makes it a usage error). */
int hfw_faults_parse(struct hfw_faults *f, const char *spec, uint64_t seed, struct hfw_error *err);

/* A uniform 64-bit value for (what, key). */
uint64_t hfw_faults_draw(const struct hfw_faults *f, const char *what, uint64_t key);

/* True with probability p for (what, key). */
int hfw_faults_chance(const struct hfw_faults *f, const char *what, uint64_t key, double p);

/* The E-code chosen for a device, or NULL. */
const char *hfw_faults_ecode(const struct hfw_faults *f, const struct hfw_eui *eui);

/* The faults of a DeviceModel, or NULL. */
const struct hfw_model_faults *hfw_faults_model(const struct hfw_faults *f, const char *model);

/*
 * The mid-campaign event chosen for a device (by its EUI first, then by
 * fraction in spec order; is_ppmid: PPMIDRemoval applies), or -1.
 */
int hfw_faults_event(const struct hfw_faults *f, const struct hfw_eui *eui, int is_ppmid);

/* The names of events and breaches as DUIS and the spec write them. */
const char *hfw_fault_event_name(enum hfw_fault_event e);
const char *hfw_breach_name(enum hfw_breach b);

#endif
