/*
 * agent_schema.c — laps.conf as the agent reads it.
 */
#include "config.h"

#include <stddef.h>

#include "agent/agent_conf.h"
#include "agent/agent_schema.h"
#include "backends/backend_conf.h"
#include "escrow/err.h"
#include "escrow/escrow_conf.h"

static const char *const foreign[] = {"laps-get", NULL};

const struct laps_conf_schema laps_agent_schema = {
    {laps_agent_sections, laps_escrow_sections, laps_backend_sections}, foreign, 0};

int
laps_agent_validate(const struct laps_conf *c)
{
	int rc;

	if ((rc = laps_agent_conf_validate(c)) != 0)
		return rc;
	if (laps_escrow_conf(c)->n_recipients == 0 && !laps_backend_conf_cleartext(c))
		return laps_conf_err(c, "escrow", "recipients",
				     "at least one recipient key file is required (optional only "
				     "with backend = ldap and schema = mslaps or legacy)");
	return laps_backend_conf_validate(c, LAPS_ROLE_AGENT);
}
