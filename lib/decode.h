/*
 * decode.h - what a DUIS response or alert says, as JSON: the header and
 * the meaning of its response code, the body by element name, and the
 * GBCS payloads inside (General Signing header; CS06 command, response and
 * 0x00CA alert; CS08, ECS52 and GCS38 version reads; CCS08 transfer and CS09
 * PPMID activation alerts; 0x8F72/0x8F1C verification alerts in DLMS and GBZ
 * forms).  A device's error answer decodes as outcome "error" with its DLMS,
 * GBZ (ZCL), CS08 or CS06 code; a use case hanfw has no decoder for, to its
 * header and raw content.  Used by "hanfw status decode" and the receiver.
 */
#ifndef HFW_DECODE_H
#define HFW_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"
#include "xmldsig.h"

/*
 * A GBCS message (General Signing, or General Ciphering around one).  A
 * signature is checked when trust holds a certificate for the originator's
 * EUI (a device's, say); otherwise reported as not checked.
 */
int hfw_decode_gbcs(json_t **out, const uint8_t *buf, size_t len, const hfw_trust *trust, struct hfw_error *err);

/*
 * A DUIS Response document.  With trust, its signature is verified
 * (HFW_EVERIFY if it does not; an unsigned E-code reply is reported as
 * unsigned); without, it is only parsed and validated.
 */
int hfw_decode_response(json_t **out, const uint8_t *xml, size_t len, const hfw_trust *trust,
			struct hfw_error *err);

/* What a DUIS response code means ("I0": "success"), or NULL when unknown. */
const char *hfw_response_code_meaning(const char *code);

#endif
