/*
 * agent_schema.h — what laps.conf holds for the agent, and the rules a
 * configuration must follow before the agent runs (agent_schema.c).
 */
#ifndef LAPS_AGENT_SCHEMA_H
#define LAPS_AGENT_SCHEMA_H

#include "escrow/conf.h"

/* The agent's sections, [escrow], the backends' sections; [laps-get] is
 * another program's (laps-get checks it). */
extern const struct laps_conf_schema laps_agent_schema;

/*
 * Everything the agent needs: its own sections' rules
 * (laps_agent_conf_validate), at least one recipient unless the backend
 * stores clear text, and a backend the agent may use with its rules.
 * 0 or LAPS_ERR_CONFIG naming the key.
 */
int laps_agent_validate(const struct laps_conf *c) __attribute__((warn_unused_result));

#endif
