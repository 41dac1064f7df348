/*
 * file_conf.h — [file]: the `file` backend's directory (file_conf.c).
 */
#ifndef LAPS_FILE_CONF_H
#define LAPS_FILE_CONF_H

#include "backends/backend_conf.h"
#include "escrow/conf.h"

struct laps_file_conf {
	char *dir; /* default LOCALSTATEDIR/lib/laps/escrow */
};

extern const struct laps_conf_section laps_file_section;
extern const struct laps_backend_conf laps_file_backend_conf;

static inline struct laps_file_conf *
laps_file_conf(const struct laps_conf *c)
{
	return (struct laps_file_conf *)laps_conf_get(c, &laps_file_section);
}

#endif
