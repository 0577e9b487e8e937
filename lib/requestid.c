/* requestid.c - RequestIDs (see requestid.h). */
#include "requestid.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hfw_request_id_format(char out[HFW_REQUEST_ID_MAX], const struct hfw_request_id *id)
{
	char o[HFW_EUI_TEXT_MAX], t[HFW_EUI_TEXT_MAX];

	hfw_eui_format(o, &id->originator);
	hfw_eui_format(t, &id->target);
	snprintf(out, HFW_REQUEST_ID_MAX, "%s:%s:%" PRIu64, o, t, id->counter);
}

int hfw_request_id_parse(struct hfw_request_id *out, const char *text, struct hfw_error *err)
{
	char a[HFW_EUI_TEXT_MAX], b[HFW_EUI_TEXT_MAX];
	const char *c1 = strchr(text, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *p;
	unsigned long long v;
	char *end;

	if (!c1 || !c2 || c1 - text != 23 || c2 - c1 - 1 != 23)
		goto bad;
	memcpy(a, text, 23);
	a[23] = '\0';
	memcpy(b, c1 + 1, 23);
	b[23] = '\0';
	if (hfw_eui_parse(&out->originator, a, "originator", err) < 0 ||
	    hfw_eui_parse(&out->target, b, "target", err) < 0)
		goto bad;
	p = c2 + 1;
	if (!isdigit((unsigned char)*p) || (p[0] == '0' && p[1]) || strlen(p) > 20)
		goto bad;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno || *end)
		goto bad;
	out->counter = v;
	return 0;
bad:
	return hfw_error_set(err, HFW_EINPUT,
			     "RequestID '%.80s' is not originator:target:counter (EUIs as XX-XX-..., counter 0 to 18446744073709551615)",
			     text);
}
