/*
 * est_boot.h — the bootstrap CA of laps-escrowd's EST service ([est]
 * bootstrap_ca): a device holding a certificate chained to it (a fleet's
 * existing PKI) may simpleenroll its own name once; that certificate
 * authenticates nothing else (docs/ENROLL.md, docs/REST-API.md §11).
 * OpenSSL 3; no HTTP here.
 */
#ifndef LAPS_SERVER_EST_BOOT_H
#define LAPS_SERVER_EST_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/record.h"

#define EST_BOOT_CHAIN_MAX 8   /* certificates of a presented chain looked at */
#define EST_BOOT_SERIAL_MAX 64 /* hex digits of a serial number kept */

struct est_boot;

/* Load file (PEM, at most EST_CA_PEM_MAX bytes): one or more CA
 * certificates, each one a trust anchor.  0 or LAPS_ERR_CONFIG/IO naming
 * the file.  *out freed with est_boot_free. */
int est_boot_load(const char *file, struct est_boot **out) __attribute__((warn_unused_result));
void est_boot_free(struct est_boot *b);
/* The file's text, for the TLS trust list; borrowed. */
const char *est_boot_pem(const struct est_boot *b);

/* What a verified bootstrap certificate says. */
struct est_boot_peer {
	char name[LAPS_DEVICE_MAX + 1];	      /* its subject CN, lower-case */
	char serial[EST_BOOT_SERIAL_MAX + 1]; /* hex */
};

/* Does the presented chain (der[0] the leaf, then any intermediates, at
 * most EST_BOOT_CHAIN_MAX looked at) verify under the bootstrap CAs for
 * TLS client authentication now, with a subject CN that is a valid device
 * name?  False for anything else (unreadable, another CA, expired, no or
 * a bad name). */
bool est_boot_verify(const struct est_boot *b, const void *const der[], const size_t len[],
		     size_t n, struct est_boot_peer *out);

#endif
