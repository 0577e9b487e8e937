/* libFuzzer target: the supplier's records (CSV or JSON), refused in one line or read whole. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/estate.h"
#include "../../lib/supplier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_supplier s = HFW_SUPPLIER_INIT;
	struct hfw_device d;
	hfw_estate *e = NULL;
	size_t i, applied;

	if (hfw_supplier_parse(&s, (const char *)data, size, "fuzz", &err) < 0) {
		/* One line, one of the input codes, nothing kept. */
		if ((err.code != HFW_EINPUT && err.code != HFW_ELIMIT && err.code != HFW_ENOMEM) || !err.text[0] ||
		    strchr(err.text, '\n') || s.n || s.v)
			abort();
		return 0;
	}
	for (i = 0; i < s.n; i++)
		if (s.v[i].bridge < 0 || s.v[i].bridge > 4 || strlen(s.v[i].site) > HFW_SUPPLIER_SITE_MAX ||
		    (s.v[i].third_party != 0 && s.v[i].third_party != 1) || (s.v[i].sleepy != 0 && s.v[i].sleepy != 1))
			abort();
	/* Applied to an estate holding the first record's device as a PPMID: never adds one. */
	if (s.n && hfw_estate_new(&e, &err) == 0) {
		memset(&d, 0, sizeof(d));
		d.eui = s.v[0].eui;
		if (hfw_device_type_find(&d.type, "PPMID", &err) == 0 && hfw_estate_add(e, &d, &err) == 0 &&
		    hfw_supplier_apply(e, &s, "fuzz", NULL, NULL, &applied, &err) == 0 && hfw_estate_count(e) != 1)
			abort();
		hfw_estate_free(e);
	}
	hfw_supplier_release(&s);
	return 0;
}
