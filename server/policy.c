/*
 * policy.c — the decisions taken from [policy] (policy.h); the section
 * itself is declared in policy_conf.c.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "escrow/conf.h"
#include "server/authz.h"
#include "server/policy.h"

bool
policy_needs_approval(const struct authz *a, const char *device)
{
	const struct laps_policy_conf *p = laps_policy_conf(a->cfg);
	size_t i;

	if (p == NULL)
		return false;
	for (i = 0; i < p->n_approval; i++)
		if (strcmp(p->approval[i], "*") == 0 ||
		    authz_device_in_unit(a, p->approval[i], device))
			return true;
	return false;
}

int64_t
policy_read_grace(const struct authz *a, const char *device)
{
	const struct laps_policy_conf *p = laps_policy_conf(a->cfg);
	char unit[POLICY_UNIT_MAX];
	int64_t best, secs;
	size_t i;

	if (p == NULL)
		return -1;
	best = p->rotate_after_read;
	for (i = 0; i < p->n_read_units; i++) {
		if (policy_split_unit_item(p->read_units[i], unit, &secs) != 0 ||
		    !authz_device_in_unit(a, unit, device))
			continue;
		if (best < 0 || secs < best)
			best = secs;
	}
	return best;
}
