/* libFuzzer target: the sandbox's --faults specs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/sandbox/faults.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hfw_error err = HFW_ERROR_INIT;
	struct hfw_faults f;
	char *spec = malloc(size + 1);

	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (hfw_faults_parse(&f, spec, 1, &err) == 0) {
		/* Whatever parsed is in range. */
		if (f.drop < 0 || f.drop > 1 || f.dup < 0 || f.dup > 1 || f.offline < 0 || f.offline > 1 ||
		    f.necodes > HFW_FAULTS_MAX_ECODES || f.tamper > HFW_TAMPER_MIXED || f.nmodels > HFW_FAULTS_MAX_MODELS ||
		    f.nevents > HFW_FAULTS_MAX_EVENTS || f.breach > HFW_BREACH_ATTRIBUTE ||
		    (f.quarantine_window_ms == 0 && f.quarantine_max != 0))
			abort();
		for (size_t i = 0; i < f.nmodels; i++)
			if (!f.models[i].model[0] || f.models[i].hash < 0 || f.models[i].hash > 1 || f.models[i].slot < 0 ||
			    f.models[i].slot > 1 || f.models[i].offline < 0 || f.models[i].offline > 1)
				abort();
	} else if (err.code != HFW_EINPUT && err.code != HFW_ENOMEM) {
		abort();
	}
	free(spec);
	return 0;
}
