/*
 * est_conf.c — laps-escrowd.conf [est] (see est_conf.h).
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "server/est_conf.h"

#define DAY_S 86400LL

/* A file (absolute path) or a PKCS#11 URI (est_key.c). */
static const char *
check_key(const char *v)
{
	if (strncmp(v, "pkcs11:", 7) == 0)
		return strlen(v) < 4096 ? NULL : "a PKCS#11 URI of at most 4095 characters";
	return laps_conf_check_path(v);
}

/* clang-format off */
#define S struct laps_est_conf
static const struct laps_conf_key est_keys[] = {
    LAPS_CONF_KEY_STR("ca_cert", LAPS_CONF_PATH, S, ca_cert, NULL),
    LAPS_CONF_KEY_STR("ca_key", LAPS_CONF_STRING, S, ca_key, check_key),
    LAPS_CONF_KEY_DURATION("lifetime", S, lifetime, 60, 397 * DAY_S),
    LAPS_CONF_KEY_STR("bootstrap_ca", LAPS_CONF_PATH, S, bootstrap_ca, NULL),
};
#undef S
/* clang-format on */

static int
est_defaults(void *p)
{
	struct laps_est_conf *e = p;

	e->lifetime = 30 * DAY_S;
	return 0;
}

const struct laps_conf_section laps_est_section = {"est", est_keys,
						   sizeof est_keys / sizeof est_keys[0],
						   sizeof(struct laps_est_conf), est_defaults};

int
laps_est_conf_validate(const struct laps_conf *c)
{
	const struct laps_est_conf *e = laps_est_conf(c);

	if (e == NULL)
		return 0;
	if (e->ca_cert != NULL && e->ca_key == NULL)
		return laps_conf_err(c, "est", "ca_key", "required with [est] ca_cert");
	if (e->ca_key != NULL && e->ca_cert == NULL)
		return laps_conf_err(c, "est", "ca_cert", "required with [est] ca_key");
	if (e->bootstrap_ca != NULL && e->ca_cert == NULL)
		return laps_conf_err(c, "est", "ca_cert", "required with [est] bootstrap_ca");
	return 0;
}
