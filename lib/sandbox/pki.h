/*
 * pki.h - a test PKI shaped like SMKI, for the sandbox, the demo and tests.
 *
 * Certificates carry what SMKI certificates carry and hanfw reads: an
 * ECDSA P-256 key, the party's EUI-64 as an x500UniqueIdentifier BIT
 * STRING, its role in the OU ("02" supplier digital signing, "87" XML
 * signing, "89" DCC XML signing, "04" access control broker, "07" issuer),
 * and a 16-byte serial (38-39 decimal digits, like real SMKI serials).
 * A device's certificate is shaped as SMKI (and the RTDS) shape them, field
 * for field: an empty subject, keyUsage (critical), an 8-octet key
 * identifier, the EUI in a critical subjectAltName hardwareModuleName, the
 * SMKI device certificate policy 1.2.826.0.1.1800000.1.2.1.4 (critical),
 * the issuer's key identifier, no basicConstraints, and no expiry
 * (9999-12-31); issued by a device CA.
 * Never for production: keys are written unencrypted (mode 0600).
 */
#ifndef HFW_PKI_H
#define HFW_PKI_H

#include "../error.h"

struct hfw_pki_request {
	const char *cn;			/* common name, or NULL */
	const char *role;		/* OU, e.g. "02", or NULL */
	const char *eui;		/* "XX-XX-..." for x500UniqueIdentifier, or NULL */
	int is_ca;			/* may sign certificates */
	int days;			/* validity from yesterday; negative: already expired */
	const char *san;		/* subjectAltName for TLS, e.g. "IP:127.0.0.1,DNS:localhost" */
	const char *eku;		/* extendedKeyUsage for TLS: "serverAuth" or "clientAuth" */
	const char *ca_key, *ca_cert;	/* issuer files; NULL for self-signed */
	int key_agreement;		/* a device's key agreement (KA) certificate, not its digital-signing one */
};

/* Generate a P-256 key and certificate, written atomically as PEM. */
int hfw_pki_issue(const char *key_path, const char *cert_path,
		  const struct hfw_pki_request *req, struct hfw_error *err);

/* A device's digital-signing (or, with key_agreement, KA) certificate; req's cn and role are not used. */
int hfw_pki_issue_device(const char *key_path, const char *cert_path,
			 const struct hfw_pki_request *req, struct hfw_error *err);

#endif
