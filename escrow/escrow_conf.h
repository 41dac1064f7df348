/*
 * escrow_conf.h — [escrow]: which backend, to whom records are sealed, how
 * much history, the device's name.  The part of laps.conf that the agent
 * and laps-get share (escrow_conf.c declares the keys).
 */
#ifndef LAPS_ESCROW_CONF_H
#define LAPS_ESCROW_CONF_H

#include <stddef.h>

#include "escrow/conf.h"

/* Every string is malloc'd or NULL (unset). */
struct laps_escrow_conf {
	char *backend;				/* file | ldap | rest | graph (default file) */
	char *recipients[LAPS_CONFIG_MAX_LIST]; /* files with public-key lines */
	size_t n_recipients;
	unsigned history; /* 0..100 (default 10) */
	char *device;	  /* NULL = this host's name, lower-cased (laps_device_name());
			   * a configured name is stored lower-cased */
};

extern const struct laps_conf_section laps_escrow_section;
/* The escrow core's sections, NULL-terminated (for a struct laps_conf_schema). */
extern const struct laps_conf_section *const laps_escrow_sections[];

static inline struct laps_escrow_conf *
laps_escrow_conf(const struct laps_conf *c)
{
	return (struct laps_escrow_conf *)laps_conf_get(c, &laps_escrow_section);
}

#endif
