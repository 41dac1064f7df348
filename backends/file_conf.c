/*
 * file_conf.c — [file]: its key, default and rule.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "backends/file_conf.h"
#include "escrow/err.h"

static const struct laps_conf_key file_keys[] = {
    LAPS_CONF_KEY_STR("dir", LAPS_CONF_PATH, struct laps_file_conf, dir, NULL),
};

static int
file_defaults(void *p)
{
	struct laps_file_conf *f = p;

	return (f->dir = strdup(LAPS_STATE_DIR_DEFAULT "/escrow")) == NULL ? LAPS_ERR_NOMEM : 0;
}

const struct laps_conf_section laps_file_section = {"file", file_keys,
						    sizeof file_keys / sizeof file_keys[0],
						    sizeof(struct laps_file_conf), file_defaults};

static int
file_validate(const struct laps_conf *c, enum laps_backend_role role)
{
	(void)role;
	if (laps_file_conf(c) == NULL || laps_file_conf(c)->dir == NULL)
		return laps_conf_err(c, "file", "dir", "required when backend = file");
	return 0;
}

const struct laps_backend_conf laps_file_backend_conf = {"file", &laps_file_section, file_validate,
							 NULL, 0};
