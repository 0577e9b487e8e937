/*
 * fuzz_trust.h - the certificates a fuzz target verifies with: those in
 * $HFW_FUZZ_TRUST (the ZAZ1 set, so DCC Boxed's own messages seed it), or
 * none, which still exercises everything before the certificate lookup.
 */
#ifndef HFW_FUZZ_TRUST_H
#define HFW_FUZZ_TRUST_H

#include <stdlib.h>

#include "../../lib/xmldsig.h"

static hfw_trust *trust;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hfw_error err = HFW_ERROR_INIT;
	const char *dir = getenv("HFW_FUZZ_TRUST");

	(void)argc;
	(void)argv;
	if (!dir || hfw_trust_load_dir(&trust, dir, &err) < 0)
		hfw_trust_new(&trust, &err);
	return 0;
}

#endif
