/*
 * smkisvc.h - the sandbox's SMKI certificate service, as DCC Boxed's on port
 * 8083 (the API dccboxed-keystore's certificateSearch.ts uses; the DCC's
 * own client libraries look device certificates up there):
 *
 *   POST /services/certificatesearch?apikey=KEY
 *        <CertificateSearchRequest><CertificateSubjectAltName>EUI</...>
 *        (a device's certificates) or <CertificateSubjectName>EUI</...>
 *        (an organisation's)
 *     200 <CertificateSearchResponse> ResponseCode, ResponseMessage,
 *         AuditReference, then per certificate a Result: CertificateSerial,
 *         CertificateSubjectAltName | CertificateSubjectName,
 *         CertificateStatus (I), CertificateRole (organisations),
 *         CertificateUsage (DS | KA), ManufacturingFlag (false)
 *   POST /services/retrievecertificate?apikey=KEY
 *        <CertificateDataRequest><CertificateSerial>HEX</...>
 *     200 <CertificateDataResponse> ResponseCode, ResponseMessage,
 *         AuditReference, CertificateResponse: the same members and
 *         CertificateBody, the base64 DER
 *
 * 402 when nothing matches; 401 for a wrong or missing apikey and for a
 * request that is not one of these two shapes; 404 for any other path.
 * Served from the sandbox's own certificates: every device's ds and ka
 * (devices/<eui>-ds.pem, -ka.pem) and the organisations' in sandbox.json
 * (users' digital-signing and XML-signing, the DCC's XML-signing) and
 * pki/acb-ds.pem.  Read-only once open, so thread-safe.
 */
#ifndef HFW_SANDBOX_SMKI_H
#define HFW_SANDBOX_SMKI_H

#include <stddef.h>

#include "../buf.h"
#include "../error.h"

/* The key DCC Boxed's SMKI service expects (dccboxed-keystore hard-codes it). */
#define HFW_SANDBOX_SMKI_APIKEY "u3bg9gt38htd0j2"
#define HFW_SANDBOX_SMKI_DEFAULT_PORT 8083

typedef struct hfw_smki_service hfw_smki_service;

int hfw_smki_service_open(hfw_smki_service **out, const char *dir, struct hfw_error *err);
void hfw_smki_service_free(hfw_smki_service *s);

/* Certificates served. */
size_t hfw_smki_service_count(const hfw_smki_service *s);

/*
 * One POST: path as the server gives it, "?apikey=VALUE" appended when the
 * query had one (hfw_httpd_options.query_key).  Fills reply and status.
 */
int hfw_smki_service_handle(hfw_smki_service *s, const char *path, const char *body, size_t len,
			    struct hfw_buf *reply, int *http_status, struct hfw_error *err);

#endif
