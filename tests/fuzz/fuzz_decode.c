/*
 * libFuzzer target: what hanfw listen does with a POSTed body before it
 * stores it: parse and decode the DUIS response (GBCS payloads included),
 * then take out what it says about devices.  Run both without a trust
 * (parse only, so every decoder is reached) and with the ZAZ1 set.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../lib/campaign.h"
#include "../../lib/decode.h"
#include "fuzz_trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	json_t *d = NULL;
	int ret, k;

	for (k = 0; k < 2; k++) {
		ret = hfw_decode_response(&d, data, size, k ? trust : NULL, &err);
		if (ret < 0) {
			if (!err.text[0])
				abort();	/* every refusal says why */
			continue;
		}
		{
			struct hfw_event_list events = HFW_EVENT_LIST_INIT;
			char kind[96];
			size_t i;

			hfw_campaign_kind(kind, sizeof(kind), d);
			if (hfw_campaign_events(&events, d, &err) == 0)
				for (i = 0; i < events.n; i++)
					if (!events.v[i].device || !events.v[i].event)
						abort();
			hfw_event_list_release(&events);
		}
		json_decref(d);
		d = NULL;
	}
	return 0;
}
