/* libFuzzer target: the products file parser; what parses must answer its own lookups. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/products.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_products *p = NULL;
	size_t i, j;

	if (hfw_products_parse(&p, (const char *)data, size, "fuzz", &err) != 0) {
		if ((err.code != HFW_EINPUT && err.code != HFW_ELIMIT && err.code != HFW_ENOMEM) || !err.text[0] || p)
			abort();
		return 0;
	}
	for (i = 0; i < hfw_products_model_count(p); i++) {
		const struct hfw_product_model *m = hfw_products_model_at(p, i);

		if (hfw_products_model(p, m->manufacturer, m->model) != m || m->type->route == HFW_ROUTE_NONE)
			abort();
		if (m->has_hardware_range && m->hardware_min > m->hardware_max)
			abort();
		for (j = 0; j < m->n_versions; j++)
			if (hfw_product_version_find(m, m->versions[j].version) != &m->versions[j] ||
			    m->versions[j].cpl_status == HFW_CPL_UNKNOWN)
				abort();
	}
	for (i = 0; i < 2; i++) {
		struct hfw_althan_packaging a = hfw_products_althan(p, i ? HFW_ALTHAN_B : HFW_ALTHAN_A);

		if (a.present && !(a.serves & (1u << (a.orchestrator - 1))))
			abort();
	}
	hfw_products_free(p);
	return 0;
}
