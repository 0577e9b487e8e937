/* sandbox.c - creating the sandbox's world (see sandbox.h). */
#define _DEFAULT_SOURCE	/* realpath */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "../estate.h"
#include "estategen.h"
#include "../fileio.h"
#include "pki.h"
#include "smkisvc.h"

static int make_dir(const char *path, struct hfw_error *err)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return hfw_error_set(err, HFW_EIO, "cannot create '%s': %s", path, strerror(errno));
	return 0;
}

static int empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/* path = dir/rel, into a fixed buffer. */
static const char *at(char *buf, size_t size, const char *dir, const char *rel)
{
	snprintf(buf, size, "%s/%s", dir, rel);
	return buf;
}

/* device: shaped as a device's certificate (empty subject, hardwareModuleName); 1 digital signing, 2 key agreement. */
static int issue_as(const char *dir, const char *stem, const char *cn, const char *role, const char *eui,
		    int is_ca, const char *san, const char *eku, const char *ca_stem, int device, struct hfw_error *err)
{
	char k[8200], c[8200], ck[4096], cc[4096];
	struct hfw_pki_request r = { cn, role, eui, is_ca, 3650, san, eku, NULL, NULL, device == 2 };

	snprintf(k, sizeof(k), "%s/%s.key", dir, stem);
	snprintf(c, sizeof(c), "%s/%s.pem", dir, stem);
	if (ca_stem) {
		snprintf(ck, sizeof(ck), "%s.key", ca_stem);
		snprintf(cc, sizeof(cc), "%s.pem", ca_stem);
		r.ca_key = ck;
		r.ca_cert = cc;
	}
	return device ? hfw_pki_issue_device(k, c, &r, err) : hfw_pki_issue(k, c, &r, err);
}

static int issue(const char *dir, const char *stem, const char *cn, const char *role, const char *eui,
		 int is_ca, const char *san, const char *eku, const char *ca_stem, struct hfw_error *err)
{
	return issue_as(dir, stem, cn, role, eui, is_ca, san, eku, ca_stem, 0, err);
}

static int copy_file(const char *from, const char *to, struct hfw_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	if ((ret = hfw_file_read(&data, &len, from, 1024 * 1024, "certificate", err)) == 0)
		ret = hfw_file_write_atomic(to, data, len, err);
	free(data);
	return ret;
}

int hfw_sandbox_init(const char *dir, const struct hfw_sandbox_init_options *o,
		     struct hfw_error *err)
{
	char p[4096], q[4096], ca[4096], dca[4096], tca[4096], endpoint[64], smki[64];
	const char *spec = o->devices ? o->devices : HFW_SANDBOX_DEFAULT_DEVICES;
	hfw_estate *estate = NULL;
	json_t *cfg = NULL, *prof;
	char *text = NULL, *zaz1 = NULL;
	size_t i;
	int ret;

	/* The profile names ZAZ1 files in place, so the directory must be absolute. */
	if (o->zaz1_dir && !(zaz1 = realpath(o->zaz1_dir, NULL)))
		return hfw_error_set(err, HFW_EIO, "cannot use ZAZ1 directory '%s': %s", o->zaz1_dir, strerror(errno));

	if ((ret = hfw_output_dir_check(dir, err)) < 0)
		goto out;
	if (!o->force && !empty_dir(dir)) {
		ret = hfw_error_set(err, HFW_EIO, "'%s' is not empty: give --force to initialise it anyway", dir);
		goto out;
	}
	if ((ret = hfw_estate_generate(&estate, spec, err)) < 0)
		goto out;
	if ((ret = make_dir(dir, err)) < 0 || (ret = make_dir(at(p, sizeof(p), dir, "pki"), err)) < 0 ||
	    (ret = make_dir(at(p, sizeof(p), dir, "devices"), err)) < 0 ||
	    (ret = make_dir(at(p, sizeof(p), dir, "trust"), err)) < 0 ||
	    (ret = make_dir(at(p, sizeof(p), dir, "trust/devices"), err)) < 0 ||
	    (ret = make_dir(at(p, sizeof(p), dir, "tls"), err)) < 0)
		goto out;

	/* SMKI-shaped identities. */
	at(p, sizeof(p), dir, "pki");
	at(ca, sizeof(ca), dir, "pki/ca");
	if ((ret = issue(p, "ca", "T1", "07", NULL, 1, NULL, NULL, NULL, err)) < 0 ||
	    (ret = issue(p, "supplier-ds", "HANFW SANDBOX SUPPLIER", "02", HFW_SANDBOX_SUPPLIER_EUI, 0, NULL, NULL, ca, err)) < 0 ||
	    (ret = issue(p, "supplier-xml", NULL, "87", HFW_SANDBOX_SUPPLIER_EUI, 0, NULL, NULL, ca, err)) < 0 ||
	    (ret = issue(p, "dcc-xml", NULL, "89", HFW_SANDBOX_DCC_EUI, 0, NULL, NULL, ca, err)) < 0 ||
	    (ret = issue(p, "acb-ds", "HANFW SANDBOX ACB", "04", HFW_SANDBOX_DCC_EUI, 0, NULL, NULL, ca, err)) < 0 ||
	    /* The device CA under the root, as SMKI's; named by its CN only, as the RTDS's "E357" is. */
	    (ret = issue(p, "device-ca", "D1", NULL, NULL, 1, NULL, NULL, ca, err)) < 0)
		goto out;
	at(dca, sizeof(dca), dir, "pki/device-ca");
	/* A signing identity per device, for the alerts and responses devices sign. */
	at(q, sizeof(q), dir, "devices");
	for (i = 0; i < hfw_estate_count(estate); i++) {
		char eui[HFW_EUI_TEXT_MAX], stem[32], from[4200], to[4200];
		const struct hfw_device *d = hfw_estate_at(estate, i);

		/* Meters and HCALCS sign what they send the supplier (GBCS); others only with device_keys. */
		if (!o->device_keys && d->type->activation != HFW_ACTIVATE_SR_11_3)
			continue;
		hfw_eui_format(eui, &d->eui);
		snprintf(stem, sizeof(stem), "%02x%02x%02x%02x%02x%02x%02x%02x-ds", d->eui.b[0], d->eui.b[1],
			 d->eui.b[2], d->eui.b[3], d->eui.b[4], d->eui.b[5], d->eui.b[6], d->eui.b[7]);
		if ((ret = issue_as(q, stem, NULL, NULL, eui, 0, NULL, NULL, dca, 1, err)) < 0)
			goto out;
		/* Its key agreement certificate too, as SMKI holds both (served by the SMKI service, smki.h). */
		stem[17] = 'k';
		stem[18] = 'a';
		if ((ret = issue_as(q, stem, NULL, NULL, eui, 0, NULL, NULL, dca, 2, err)) < 0)
			goto out;
		stem[17] = 'd';
		stem[18] = 's';
		/* Trusted for the devices' GBCS signatures only: apart from the XML trust. */
		snprintf(from, sizeof(from), "%s/%s.pem", q, stem);
		snprintf(to, sizeof(to), "%s/trust/devices/%s.pem", dir, stem);
		if ((ret = copy_file(from, to, err)) < 0)
			goto out;
	}
	/* TLS, under a CA of its own: DCCKI is a PKI apart from SMKI. */
	at(p, sizeof(p), dir, "tls");
	at(tca, sizeof(tca), dir, "tls/ca");
	if ((ret = issue(p, "ca", "hanfw sandbox TLS CA", NULL, NULL, 1, NULL, NULL, NULL, err)) < 0 ||
	    (ret = issue(p, "server", "127.0.0.1", NULL, NULL, 0, "IP:127.0.0.1,DNS:localhost", "serverAuth", tca, err)) < 0 ||
	    (ret = issue(p, "client", "hanfw sandbox client", NULL, NULL, 0, NULL, "clientAuth", tca, err)) < 0)
		goto out;

	/* What the supplier trusts: the DCC's XML-signing certificate (ours, or ZAZ1's). */
	if (zaz1) {
		/* DCC Boxed has signed with all three over the years (the same key re-issued, and its predecessor). */
		static const char *const dsp[] = {
			"dsp-xml-sign-90B3D51F30000002-ds", "dsp-xml-sign-90B3D51F30000002-ds-pre-1.4.1",
			"Z1-accessControlBroker-dSPXmlSign",
		};
		char from[4096], to[64];
		size_t k;

		for (k = 0, ret = 0; k < sizeof(dsp) / sizeof(dsp[0]) && ret == 0; k++) {
			snprintf(from, sizeof(from), "%s/%s.pem", zaz1, dsp[k]);
			snprintf(to, sizeof(to), "trust/%s.pem", k == 0 ? "dcc-xml" : dsp[k]);
			ret = copy_file(from, at(q, sizeof(q), dir, to), err);
		}
	} else {
		ret = copy_file(at(p, sizeof(p), dir, "pki/dcc-xml.pem"), at(q, sizeof(q), dir, "trust/dcc-xml.pem"), err);
	}
	if (ret < 0)
		goto out;
	if ((ret = hfw_estate_write(estate, at(p, sizeof(p), dir, "estate.json"), err)) < 0)
		goto out;

	/* The configuration profile; paths relative to the file. */
	snprintf(endpoint, sizeof(endpoint), "https://127.0.0.1:%d/api/v1",
		 o->port ? o->port : HFW_SANDBOX_DEFAULT_PORT);
	snprintf(smki, sizeof(smki), "https://127.0.0.1:%d", HFW_SANDBOX_SMKI_DEFAULT_PORT);
	cfg = json_pack("{s:s,s:{s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}}}",
			"default_profile", "sandbox", "profiles", "sandbox",
			"user_eui", HFW_SANDBOX_SUPPLIER_EUI, "dcc_eui", HFW_SANDBOX_DCC_EUI,
			"schema_version", "5.4", "endpoint", endpoint,
			"gbcs_signing_key", "pki/supplier-ds.key", "gbcs_signing_cert", "pki/supplier-ds.pem",
			"xml_signing_key", "pki/supplier-xml.key", "xml_signing_cert", "pki/supplier-xml.pem",
			"trust_dir", "trust", "tls_ca", "tls/ca.pem", "tls_client_cert", "tls/client.pem",
			"tls_client_key", "tls/client.key", "ledger", "ledger.sqlite", "smki_url", smki);
	if (!cfg) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if (zaz1) {
		char k[4096];

		prof = json_object_get(json_object_get(cfg, "profiles"), "sandbox");
		snprintf(k, sizeof(k), "%s/Z1-supplier-ds.key", zaz1);
		json_object_set_new(prof, "gbcs_signing_key", json_string(k));
		snprintf(k, sizeof(k), "%s/Z1-supplier-ds.pem", zaz1);
		json_object_set_new(prof, "gbcs_signing_cert", json_string(k));
		snprintf(k, sizeof(k), "%s/xml-sign-90B3D51F30010000-ds.key", zaz1);
		json_object_set_new(prof, "xml_signing_key", json_string(k));
		snprintf(k, sizeof(k), "%s/xml-sign-90B3D51F30010000-ds.pem", zaz1);
		json_object_set_new(prof, "xml_signing_cert", json_string(k));
	}
	if (!(text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	if ((ret = hfw_file_write_atomic(at(p, sizeof(p), dir, "hanfw.json"), text, strlen(text), err)) < 0)
		goto out;
	free(text);
	text = NULL;
	json_decref(cfg);

	/* The sandbox's own settings: which key the DCC signs with, which users it trusts. */
	if (zaz1) {
		char k[4096], c[4096], u[4096], g[4096];

		snprintf(k, sizeof(k), "%s/dsp-xml-sign-90B3D51F30000002-ds.key", zaz1);
		snprintf(c, sizeof(c), "%s/dsp-xml-sign-90B3D51F30000002-ds.pem", zaz1);
		snprintf(u, sizeof(u), "%s/xml-sign-90B3D51F30010000-ds.pem", zaz1);
		snprintf(g, sizeof(g), "%s/Z1-supplier-ds.pem", zaz1);
		cfg = json_pack("{s:s,s:s,s:[s],s:[s],s:s}", "dcc_xml_key", k, "dcc_xml_cert", c, "user_xml_certs", u,
				"user_ds_certs", g, "receive_url", o->receive_url ? o->receive_url : "");
	} else {
		cfg = json_pack("{s:s,s:s,s:[s],s:[s],s:s}", "dcc_xml_key", "pki/dcc-xml.key", "dcc_xml_cert", "pki/dcc-xml.pem",
				"user_xml_certs", "pki/supplier-xml.pem", "user_ds_certs", "pki/supplier-ds.pem",
				"receive_url", o->receive_url ? o->receive_url : "");
	}
	if (!cfg || !(text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	ret = hfw_file_write_atomic(at(p, sizeof(p), dir, "sandbox.json"), text, strlen(text), err);
out:
	free(zaz1);
	free(text);
	json_decref(cfg);
	hfw_estate_free(estate);
	return ret;
}

int hfw_sandbox_set_smki_port(const char *dir, int port, struct hfw_error *err)
{
	char p[4096], url[64];
	uint8_t *text = NULL;
	char *out = NULL;
	json_t *cfg = NULL, *prof;
	json_error_t jerr;
	size_t len;
	int ret;

	if ((ret = hfw_file_read(&text, &len, at(p, sizeof(p), dir, "hanfw.json"), 1 << 20, "configuration", err)) < 0)
		goto out;
	if (!(cfg = json_loadb((const char *)text, len, 0, &jerr)) ||
	    !json_is_object(prof = json_object_get(json_object_get(cfg, "profiles"), "sandbox"))) {
		ret = hfw_error_set(err, HFW_ECONFIG, "'%s' has no profile \"sandbox\": run 'hanfw sandbox init'", p);
		goto out;
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
	if (json_object_set_new(prof, "smki_url", json_string(url)) < 0 ||
	    !(out = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		ret = hfw_error_oom(err);
		goto out;
	}
	ret = hfw_file_write_atomic(p, out, strlen(out), err);
out:
	free(out);
	json_decref(cfg);
	free(text);
	return ret;
}
