/*
 * lapsget_conf.h — [laps-get] and the sections laps-get reads
 * (lapsget_conf.c).
 *
 * laps-get reads ~/.config/laps/laps-get.conf or, without one, the host's
 * laps.conf: its own [laps-get], the escrow core's [escrow], the backends'
 * sections, and the agent's (the first of [agent] accounts is the default
 * account).
 */
#ifndef LAPS_GET_CONF_H
#define LAPS_GET_CONF_H

#include "escrow/conf.h"

struct laps_get_conf {
	char *key; /* admin private key file; NULL = ~/.config/laps/admin.key */
};

extern const struct laps_conf_section laps_get_section;
/* laps-get's files: [laps-get], the agent's, [escrow] and the backends'. */
extern const struct laps_conf_schema laps_get_schema;

static inline struct laps_get_conf *
laps_get_conf(const struct laps_conf *c)
{
	return (struct laps_get_conf *)laps_conf_get(c, &laps_get_section);
}

#endif
