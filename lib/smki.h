/*
 * smki.h - device certificates from the adapter's SMKI certificate service
 * (DCC Boxed serves one on port 8083; the DCC's own client libraries look
 * device certificates up there), the API of dccboxed-keystore's
 * certificateSearch.ts:
 *
 *   POST {smki_url}/services/certificatesearch?apikey=KEY
 *        <CertificateSearchRequest><CertificateSubjectAltName>EUI</...>
 *     200: <CertificateSearchResponse><Result>{CertificateSerial,
 *          CertificateUsage DS|KA, CertificateStatus P|I|N|E|R, CertificateRole}
 *     402: none
 *   POST {smki_url}/services/retrievecertificate?apikey=KEY
 *        <CertificateDataRequest><CertificateSerial>S</...>
 *     200: <CertificateDataResponse><CertificateResponse><CertificateBody>
 *          base64 DER</...>
 *
 * Both application/xml, over lib/transport (libcurl, loaded on first use;
 * HTTPS certificates verified unless told otherwise).  A device's in-use
 * digital-signing (DS) certificate is fetched, checked to be an SMKI device
 * certificate for that EUI (empty subject, subjectAltName hardwareModuleName
 * holding the EUI, P-256), and stored where the device store finds it:
 * <devices dir>/<eui in hex>-ds.pem, written atomically.
 */
#ifndef HFW_SMKI_H
#define HFW_SMKI_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "eui.h"

/* The key DCC Boxed's SMKI service expects (dccboxed-keystore hard-codes it). */
#define HFW_SMKI_APIKEY "u3bg9gt38htd0j2"
#define HFW_SMKI_MAX_RESULTS 64		/* results of one search looked at */

typedef struct hfw_smki hfw_smki;

struct hfw_smki_options {
	const char *url;		/* e.g. http://127.0.0.1:8083 */
	const char *ca;			/* CA file or directory for https; NULL: the system's */
	int insecure;			/* do not verify the service's TLS certificate */
};

int hfw_smki_open(hfw_smki **out, const struct hfw_smki_options *o, struct hfw_error *err);
void hfw_smki_free(hfw_smki *s);

/*
 * From a CertificateSearchResponse: the serial of the in-use (I) DS
 * certificate, into serial (size bytes); "" when there is none.  HFW_EINPUT
 * if the text is not such a response, or names two in-use DS certificates.
 */
int hfw_smki_pick_serial(char *serial, size_t size, const char *xml, size_t len, struct hfw_error *err);

/*
 * Check der is an SMKI device certificate of eui: empty subject,
 * subjectAltName hardwareModuleName holding the EUI, a P-256 key.
 * HFW_EKEY naming the rule otherwise.
 */
int hfw_smki_check_device_cert(const uint8_t *der, size_t len, const struct hfw_eui *eui, struct hfw_error *err);

/*
 * Fetch eui's in-use DS certificate and store it as devices_dir/<eui>-ds.pem
 * (made 0755 if missing): *found 1 once stored, 0 when the service has none
 * (nothing written).  HFW_ETRANSPORT when the service cannot be asked,
 * HFW_EKEY when what it returned is not that device's certificate.
 */
int hfw_smki_fetch_device(hfw_smki *s, const struct hfw_eui *eui, const char *devices_dir, int *found,
			  struct hfw_error *err);

#endif
