/* version.h - hanfw's version, and the libraries it was built with. */
#ifndef HFW_VERSION_H
#define HFW_VERSION_H

#define HFW_VERSION "0.1.0"

/* What --version names: so that cmd/ needs no library's own headers. */
struct hfw_versions {
	const char *hanfw, *openssl, *libxml2, *jansson, *sqlite3;
};

void hfw_versions(struct hfw_versions *out);

#endif
