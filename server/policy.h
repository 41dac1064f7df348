/*
 * policy.h — laps-escrowd's escrow policies: the [policy] section of
 * laps-escrowd.conf and the decisions made from it (man/laps-escrowd.8,
 * docs/REST-API.md §5.2, §5.3).
 *
 * Rotate after read: a secret or history read moves the account's expiry
 * to at most now + grace, in the read's store transaction (store.h,
 * struct store_audit.expire_by), so that the agent's next run rotates the
 * password the admin has seen.  The grace is [policy] rotate_after_read
 * for every device and, per administrative unit ([authz] units),
 * rotate_after_read_units = UNIT:DURATION ...; a device in several of
 * these gets the shortest grace.
 */
#ifndef LAPS_SERVER_POLICY_H
#define LAPS_SERVER_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "escrow/conf.h"
#include "server/authz.h"

#define POLICY_GRACE_MAX (30LL * 86400) /* 30d */

/* [policy].  Durations in seconds; -1 = unset. */
struct laps_policy_conf {
	int64_t rotate_after_read; /* 0..30d; unset = off (0 = at the next agent run) */
	char *read_units[LAPS_CONFIG_MAX_LIST]; /* rotate_after_read_units: UNIT:DURATION */
	size_t n_read_units;
	char
	    *approval[LAPS_CONFIG_MAX_LIST]; /* units whose secret reads need approval; "*" = all */
	size_t n_approval;
	int64_t approval_ttl;	     /* 1m..7d (default 1h) */
	enum laps_yesno break_glass; /* yes | no (default no) */
};

extern const struct laps_conf_section laps_policy_section;

static inline struct laps_policy_conf *
laps_policy_conf(const struct laps_conf *c)
{
	return (struct laps_policy_conf *)laps_conf_get(c, &laps_policy_section);
}

/* [policy]'s rules (units named in [authz] units, durations in range).
 * 0 or LAPS_ERR_CONFIG naming the key. */
#define POLICY_UNIT_MAX 64
/* "UNIT:DURATION" -> unit (copied) and seconds.  0 or LAPS_ERR_INVALID. */
int policy_split_unit_item(const char *item, char unit[POLICY_UNIT_MAX], int64_t *secs);

/* Is unit defined (in [authz] units)?  Asked by policy_conf_validate. */
typedef bool (*policy_unit_known_fn)(const struct laps_conf *c, const char *unit);
int policy_conf_validate(const struct laps_conf *c, policy_unit_known_fn unit_known)
    __attribute__((warn_unused_result));

/* The rotate-after-read grace of device in seconds, or -1 when no policy
 * applies to it.  a->cfg holds [policy]. */
int64_t policy_read_grace(const struct authz *a, const char *device);

/* Does a secret read of device need an approval (two-person rule)? */
bool policy_needs_approval(const struct authz *a, const char *device);

/* The effective policy, one "policy: ..." line per setting (check-config). */
void policy_describe(const struct laps_conf *c, FILE *f);

#endif
