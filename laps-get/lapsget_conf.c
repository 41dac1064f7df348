/*
 * lapsget_conf.c — [laps-get]'s key, and laps-get's schema.
 */
#include "config.h"

#include <stddef.h>

#include "agent/agent_conf.h"
#include "backends/backend_conf.h"
#include "escrow/escrow_conf.h"
#include "laps-get/lapsget_conf.h"

static const struct laps_conf_key get_keys[] = {
    LAPS_CONF_KEY_STR("key", LAPS_CONF_PATH, struct laps_get_conf, key, NULL),
};

const struct laps_conf_section laps_get_section = {
    "laps-get", get_keys, sizeof get_keys / sizeof get_keys[0], sizeof(struct laps_get_conf), NULL};

static const struct laps_conf_section *const get_sections[] = {&laps_get_section, NULL};

const struct laps_conf_schema laps_get_schema = {
    {laps_agent_sections, get_sections, laps_escrow_sections, laps_backend_sections}, NULL, 0};
