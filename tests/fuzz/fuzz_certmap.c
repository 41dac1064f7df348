/*
 * fuzz_certmap.c — client certificates to identities (server/http_tls.c
 * http_tls_identity(), server/authz.c authz_from_cert() and
 * authz_device_name()), against an [authz] config parsed from text.
 *
 * Input: byte 0 picks the config (certificate name from the CN or the DNS
 * subjectAltName; a device prefix or none); the rest is a DER certificate
 * (as GnuTLS hands it over after verification) and, read as text, a
 * certificate name mapped directly.  Properties: an identity is a device
 * whose name passes the record's device check, or an admin with rights;
 * nothing else.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/record.h"
#include "server/escrowd_conf.h"
#include "server/authz.h"
#include "server/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const texts[] = {
    "[authz]\ncert_name = cn\nunits = eu:*.eu.example.test\n"
    "cert_admins = admin-all=laps.read,laps.secret,laps.expire,laps.audit "
    "helpdesk-eu=laps.read@eu,laps.secret@eu auditor=laps.audit@eu\n",
    "[authz]\ncert_name = san\ndevice_prefix = host/\nunits = eu:*.eu.example.test lab:lab-*\n"
    "cert_admins = admin.example.test=laps.secret\n",
};
static struct laps_conf cfgs[2];
static struct authz authz[2];

static void
check(const struct identity *id)
{
	if (id->kind == ID_DEVICE) {
		if (!laps_record_device_ok(id->device))
			abort();
	} else if (id->kind != ID_ADMIN) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct identity id;
	char why[256], *name, dev[LAPS_DEVICE_MAX + 1];
	unsigned i;

	if (!ready) {
		for (i = 0; i < 2; i++)
			if (laps_conf_init(&cfgs[i], &laps_escrowd_schema) != 0 ||
			    laps_conf_parse(&cfgs[i], "fuzz.conf", texts[i], strlen(texts[i])) !=
				0 ||
			    authz_init(&authz[i], &cfgs[i]) != 0)
				abort();
		ready = true;
	}
	if (size < 1 || size > 16384)
		return 0;
	i = data[0] & 1;
	memset(&id, 0, sizeof id);
	if (http_tls_identity(&authz[i], data + 1, size - 1, &id, why, sizeof why) == 0)
		check(&id);
	if (size - 1 <= 300 && (name = strndup((const char *)data + 1, size - 1)) != NULL) {
		memset(&id, 0, sizeof id);
		if (authz_from_cert(&authz[i], name, "CN=fuzz", &id) == 0)
			check(&id);
		if (authz_device_name(name, (data[0] & 2) ? "host/" : NULL, dev) == 0 &&
		    !laps_record_device_ok(dev))
			abort();
		free(name);
	}
	laps_clearerr();
	return 0;
}
