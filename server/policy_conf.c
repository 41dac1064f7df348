/*
 * policy_conf.c — the [policy] section of laps-escrowd.conf (policy.h);
 * the decisions taken from it are in policy.c.  Knows no other section:
 * whether a unit exists is asked of the caller (escrowd_conf.c), so the
 * configuration files form no cycle with authz.c.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "server/policy.h"

static const char *check_unit_duration(const char *v);

/* clang-format off */
#define S struct laps_policy_conf
static const struct laps_conf_key policy_keys[] = {
    LAPS_CONF_KEY_DURATION("rotate_after_read", S, rotate_after_read, 0, POLICY_GRACE_MAX),
    LAPS_CONF_KEY_LIST("rotate_after_read_units", S, read_units, n_read_units,
		       check_unit_duration),
    LAPS_CONF_KEY_LIST("approval", S, approval, n_approval, NULL),
    LAPS_CONF_KEY_DURATION("approval_ttl", S, approval_ttl, 60, 7 * 86400),
    LAPS_CONF_KEY_YESNO("break_glass", S, break_glass),
};
#undef S
/* clang-format on */

static int
policy_defaults(void *p)
{
	struct laps_policy_conf *c = p;

	c->rotate_after_read = -1;
	c->approval_ttl = 3600;
	c->break_glass = LAPS_NO;
	return 0;
}

const struct laps_conf_section laps_policy_section = {
    "policy", policy_keys, sizeof policy_keys / sizeof policy_keys[0],
    sizeof(struct laps_policy_conf), policy_defaults};

int
policy_split_unit_item(const char *item, char unit[POLICY_UNIT_MAX], int64_t *secs)
{
	size_t n = strcspn(item, ":");

	if (n == 0 || n >= POLICY_UNIT_MAX || item[n] != ':')
		return LAPS_ERR_INVALID;
	memcpy(unit, item, n);
	unit[n] = '\0';
	if (laps_config_parse_duration(item + n + 1, secs) != 0 || *secs < 0 ||
	    *secs > POLICY_GRACE_MAX)
		return LAPS_ERR_INVALID;
	return 0;
}

/* A list item's shape, checked by the parser (file:line in its message). */
static const char *
check_unit_duration(const char *v)
{
	char unit[POLICY_UNIT_MAX];
	int64_t secs;

	if (policy_split_unit_item(v, unit, &secs) != 0)
		return "must be UNIT:DURATION (a unit of [authz] units, 0..30d)";
	return NULL;
}

int
policy_conf_validate(const struct laps_conf *c, policy_unit_known_fn unit_known)
{
	const struct laps_policy_conf *p = laps_policy_conf(c);
	char unit[POLICY_UNIT_MAX];
	int64_t secs;
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < p->n_read_units; i++) {
		if (policy_split_unit_item(p->read_units[i], unit, &secs) != 0)
			return laps_conf_err(c, "policy", "rotate_after_read_units",
					     "each item must be UNIT:DURATION (0..30d)");
		if (!unit_known(c, unit))
			return laps_conf_err(c, "policy", "rotate_after_read_units",
					     "names a unit that [authz] units does not define");
	}
	for (i = 0; i < p->n_approval; i++)
		if (strcmp(p->approval[i], "*") != 0 && !unit_known(c, p->approval[i]))
			return laps_conf_err(c, "policy", "approval",
					     "names a unit that [authz] units does not define "
					     "(or * for every device)");
	return 0;
}

void
policy_describe(const struct laps_conf *c, FILE *f)
{
	const struct laps_policy_conf *p = laps_policy_conf(c);
	char buf[32];
	size_t i;

	if (p == NULL)
		return;
	if (p->rotate_after_read < 0) {
		fprintf(f, "policy: rotate_after_read off for every device\n");
	} else {
		laps_conf_format_duration(p->rotate_after_read, buf, sizeof buf);
		fprintf(f, "policy: rotate_after_read %s for every device\n", buf);
	}
	for (i = 0; i < p->n_read_units; i++)
		fprintf(f, "policy: rotate_after_read in unit %.*s: %s\n",
			(int)strcspn(p->read_units[i], ":"), p->read_units[i],
			strchr(p->read_units[i], ':') + 1);
	if (p->n_approval == 0)
		fprintf(f, "policy: approval off (no unit needs a second person)\n");
	for (i = 0; i < p->n_approval; i++)
		fprintf(f, "policy: approval needed in %s%s\n",
			strcmp(p->approval[i], "*") == 0 ? "every device" : "unit ",
			strcmp(p->approval[i], "*") == 0 ? "" : p->approval[i]);
	laps_conf_format_duration(p->approval_ttl, buf, sizeof buf);
	fprintf(f, "policy: approval_ttl %s\n", buf);
	fprintf(f, "policy: break_glass %s\n", p->break_glass == LAPS_YES ? "yes" : "no");
}
