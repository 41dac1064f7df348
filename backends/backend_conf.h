/*
 * backend_conf.h — the backends' configuration sections, known to every
 * program that loads backends whether or not the backend's module is
 * installed.
 *
 * Each backend declares its section (its keys, struct, enums and rules) in
 * backends/NAME_conf.c, which is compiled into libbackends — not into the
 * module — so that `check-config` validates [ldap] on a host without the
 * ldap module and says the module is missing rather than "unknown section";
 * the module's code reads the same struct through the backend's accessor
 * (laps_ldap_conf() ...).  docs/HACKING.md, "to add a configuration key".
 */
#ifndef LAPS_BACKEND_CONF_H
#define LAPS_BACKEND_CONF_H

#include <stdbool.h>

#include "escrow/backend.h"
#include "escrow/conf.h"

/* laps_backend_conf flags */
#define LAPS_BACKEND_CONF_READONLY 0x1 /* laps-get only (graph): the agent refuses it */

/* A backend's configuration: its section and its rules. */
struct laps_backend_conf {
	const char *name;			 /* as in [escrow] backend */
	const struct laps_conf_section *section; /* its [NAME] section */
	/* required: the cross-field rules of its section for who opens it
	 * (LAPS_ROLE_AGENT: the device's own entry; LAPS_ROLE_ADMIN: lookups).
	 * 0 or LAPS_ERR_CONFIG naming the key. */
	int (*validate)(const struct laps_conf *c, enum laps_backend_role role);
	/* optional: whether it stores the password in clear as configured
	 * (ldap with a Microsoft schema); then [escrow] recipients are
	 * optional for the agent. */
	bool (*cleartext)(const struct laps_conf *c);
	unsigned flags; /* LAPS_BACKEND_CONF_* */
};

/* Every backend's configuration, NULL-terminated (backend_conf.c). */
extern const struct laps_backend_conf *const laps_backend_confs[];
/* Their sections, NULL-terminated (for a struct laps_conf_schema). */
extern const struct laps_conf_section *const laps_backend_sections[];

/* The configuration of the backend called name, or NULL. */
const struct laps_backend_conf *laps_backend_conf_find(const char *name);

/*
 * [escrow] backend names a known backend that role may use, and its section
 * follows its rules.  0 or LAPS_ERR_CONFIG with a detail naming the key.
 */
int laps_backend_conf_validate(const struct laps_conf *c, enum laps_backend_role role)
    __attribute__((warn_unused_result));

/* Whether [escrow] backend stores the password in clear as configured. */
bool laps_backend_conf_cleartext(const struct laps_conf *c);

#endif
