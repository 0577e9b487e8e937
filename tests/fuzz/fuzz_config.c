/* libFuzzer target: the configuration parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	hfw_config *cfg = NULL;
	int s;

	if (hfw_config_parse(&cfg, (const char *)data, size, "fuzz/hanfw.json", NULL, &err) != 0) {
		if (err.code != HFW_ECONFIG || !err.text[0] || cfg)
			abort();
		return 0;
	}
	for (s = 0; s < HFW_SET_COUNT; s++)
		(void)hfw_config_get(cfg, (enum hfw_setting)s);
	hfw_config_free(cfg);
	return 0;
}
