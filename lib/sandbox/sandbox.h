/*
 * sandbox.h - hanfw's own DCC adapter emulator: the self-contained world
 * it runs in.  hfw_sandbox_init creates, in one directory:
 *   pki/     an SMKI-shaped test PKI: issuer (OU=07), supplier digital
 *            signing (02) and XML signing (87), DCC XML signing (89) and
 *            access control broker (04) for 90-B3-D5-1F-30-00-00-02
 *   devices/ a digital-signing key and certificate (device-shaped: empty
 *            subject, hardwareModuleName) per device that signs
 *            its own alerts and responses (ESME, GSME, HCALCS), or per
 *            device of every type with device_keys
 *   trust/   what hanfw trusts when verifying the sandbox's messages: the
 *            DCC's XML-signing certificate, and in trust/devices/ the
 *            devices' certificates (for their GBCS signatures only)
 *   tls/     a TLS CA, the server's certificate (127.0.0.1, localhost) and
 *            a client certificate for mutual TLS
 *   estate.json, and hanfw.json with a profile "sandbox" pointing at it all
 *            (smki_url: the SMKI certificate service "sandbox serve" runs,
 *            smkisvc.h)
 * With zaz1_dir the public ZAZ1 identities (DCC Boxed's) are used in place,
 * so the sandbox signs as DCC Boxed does.
 */
#ifndef HFW_SANDBOX_H
#define HFW_SANDBOX_H

#include "../error.h"

#define HFW_SANDBOX_SUPPLIER_EUI "90-B3-D5-1F-30-01-00-00"
#define HFW_SANDBOX_DCC_EUI "90-B3-D5-1F-30-00-00-02"
#define HFW_SANDBOX_DEFAULT_DEVICES "ESME=4,GSME=4,HCALCS=2,PPMID=2,IHD=1"
#define HFW_SANDBOX_DEFAULT_PORT 8079

struct hfw_sandbox_init_options {
	const char *devices;		/* estate spec, see hfw_estate_generate */
	const char *zaz1_dir;		/* use the public ZAZ1 identities from here */
	int port;			/* for the profile's endpoint */
	int force;			/* initialise a directory that is not empty */
	int device_keys;		/* a signing identity for devices of every type, not just meters and HCALCS */
	const char *receive_url;	/* where "sandbox serve" POSTs asynchronous messages, or NULL */
};

int hfw_sandbox_init(const char *dir, const struct hfw_sandbox_init_options *o,
		     struct hfw_error *err);

/* The port the profile's smki_url names, after init (which names 8083, DCC Boxed's). */
int hfw_sandbox_set_smki_port(const char *dir, int port, struct hfw_error *err);

#endif
