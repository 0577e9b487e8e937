/* libFuzzer target: device lists and estates, the two ways devices reach hanfw. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/devlist.h"
#include "../../lib/estate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_devlist l = HFW_DEVLIST_INIT;
	hfw_estate *e = NULL;
	size_t i;

	if (hfw_devlist_parse(&l, (const char *)data, size, "fuzz", &err) == 0 &&
	    hfw_devlist_finish(&l, &err) == 0) {
		for (i = 1; i < l.n; i++)	/* sorted and unique */
			if (memcmp(&l.v[i - 1].eui, &l.v[i].eui, sizeof(struct hfw_eui)) >= 0)
				abort();
	} else if (err.code != HFW_EINPUT && err.code != HFW_ENOMEM) {
		abort();
	}
	hfw_devlist_release(&l);
	if (hfw_estate_parse(&e, (const char *)data, size, "fuzz", &err) == 0) {
		for (i = 0; i < hfw_estate_count(e); i++)
			if (!hfw_estate_at(e, i)->type)
				abort();
		hfw_estate_free(e);
	} else if (e) {
		abort();
	}
	return 0;
}
