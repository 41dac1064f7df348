/*
 * escrow_conf.c — the [escrow] section's keys and defaults.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/escrow_conf.h"

#define S struct laps_escrow_conf
/* clang-format off */
static const struct laps_conf_key escrow_keys[] = {
    LAPS_CONF_KEY_STR("backend", LAPS_CONF_NAME, S, backend, NULL),
    LAPS_CONF_KEY_LIST("recipients", S, recipients, n_recipients, laps_conf_check_path),
    LAPS_CONF_KEY_UINT("history", S, history, 0, 100),
    LAPS_CONF_KEY_STRF("device", LAPS_CONF_STRING, S, device, laps_conf_check_host,
		       LAPS_CONF_LOWER),
};
/* clang-format on */

static int
escrow_defaults(void *p)
{
	S *e = p;

	e->history = 10;
	if ((e->backend = strdup("file")) == NULL)
		return LAPS_ERR_NOMEM;
	return 0;
}
#undef S

const struct laps_conf_section laps_escrow_section = {
    "escrow",
    escrow_keys,
    sizeof escrow_keys / sizeof escrow_keys[0],
    sizeof(struct laps_escrow_conf),
    escrow_defaults,
};

const struct laps_conf_section *const laps_escrow_sections[] = {&laps_escrow_section, NULL};
