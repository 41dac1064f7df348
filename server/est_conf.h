/*
 * est_conf.h — laps-escrowd.conf [est]: the EST enrollment service
 * (server/est_api.c; man/laps-escrowd.8).  Off unless ca_cert is set.
 */
#ifndef LAPS_SERVER_EST_CONF_H
#define LAPS_SERVER_EST_CONF_H

#include <stdint.h>

#include "escrow/conf.h"

struct laps_est_conf {
	char *ca_cert;	  /* issuing CA certificate (+ chain), PEM; NULL = EST off */
	char *ca_key;	  /* its private key, PEM, 0600; or a pkcs11: URI (est_key.c) */
	int64_t lifetime; /* issued certificates: 60s..397d (default 30d) */
	char
	    *bootstrap_ca; /* CA(s) whose certificates may simpleenroll (est_boot.h); NULL = none */
};

extern const struct laps_conf_section laps_est_section;

static inline struct laps_est_conf *
laps_est_conf(const struct laps_conf *c)
{
	return (struct laps_est_conf *)laps_conf_get(c, &laps_est_section);
}

/* ca_cert and ca_key go together.  0 or LAPS_ERR_CONFIG naming the key. */
int laps_est_conf_validate(const struct laps_conf *c) __attribute__((warn_unused_result));

#endif
