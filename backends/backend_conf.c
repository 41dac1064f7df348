/*
 * backend_conf.c — the table of the backends' configurations, and the
 * [escrow] backend rule that picks one of them.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "backends/backend_conf.h"
#include "backends/file_conf.h"
#include "backends/graph_conf.h"
#include "backends/ldap_conf.h"
#include "backends/rest_conf.h"
#include "escrow/err.h"
#include "escrow/escrow_conf.h"

/* One line per backend. */
const struct laps_backend_conf *const laps_backend_confs[] = {
    &laps_file_backend_conf,
    &laps_ldap_backend_conf,
    &laps_rest_backend_conf,
    &laps_graph_backend_conf,
    NULL,
};

const struct laps_conf_section *const laps_backend_sections[] = {
    &laps_file_section, &laps_ldap_section, &laps_rest_section, &laps_graph_section, NULL,
};

const struct laps_backend_conf *
laps_backend_conf_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && laps_backend_confs[i] != NULL; i++)
		if (strcmp(laps_backend_confs[i]->name, name) == 0)
			return laps_backend_confs[i];
	return NULL;
}

/* "file, ldap, rest": the backends that role may name, from the table (the
 * agent cannot use a read-only one). */
static void
known_list(enum laps_backend_role role, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; laps_backend_confs[i] != NULL; i++) {
		if (role == LAPS_ROLE_AGENT &&
		    (laps_backend_confs[i]->flags & LAPS_BACKEND_CONF_READONLY))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
			     laps_backend_confs[i]->name);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

int
laps_backend_conf_validate(const struct laps_conf *c, enum laps_backend_role role)
{
	const struct laps_escrow_conf *e = laps_escrow_conf(c);
	const struct laps_backend_conf *b;
	char known[128];

	if (e == NULL || e->backend == NULL)
		return laps_conf_err(c, "escrow", "backend", "not set");
	if ((b = laps_backend_conf_find(e->backend)) != NULL &&
	    laps_conf_get(c, b->section) == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "%s: [%s] is not part of this configuration",
				   laps_conf_name(c), b->name);
	if (b == NULL) {
		known_list(role, known, sizeof known);
		return laps_seterr(LAPS_ERR_CONFIG,
				   "%s: [escrow] backend: unknown backend '%s' (%s: %s)",
				   laps_conf_name(c), e->backend,
				   role == LAPS_ROLE_AGENT ? "the agent uses" : "known", known);
	}
	if (role == LAPS_ROLE_AGENT && (b->flags & LAPS_BACKEND_CONF_READONLY))
		return laps_seterr(LAPS_ERR_CONFIG,
				   "%s: [escrow] backend: %s is read-only (laps-get only); the "
				   "agent needs file, ldap or rest",
				   laps_conf_name(c), b->name);
	return b->validate(c, role);
}

bool
laps_backend_conf_cleartext(const struct laps_conf *c)
{
	const struct laps_escrow_conf *e = laps_escrow_conf(c);
	const struct laps_backend_conf *b = e != NULL ? laps_backend_conf_find(e->backend) : NULL;

	return b != NULL && b->cleartext != NULL && laps_conf_get(c, b->section) != NULL &&
	       b->cleartext(c);
}
