/*
 * graph_conf.c — [graph]: its keys, defaults and rules.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "backends/graph_conf.h"
#include "escrow/err.h"

/* clang-format off */
#define S struct laps_graph_conf
static const struct laps_conf_key graph_keys[] = {
    LAPS_CONF_KEY_STR("url", LAPS_CONF_URL, S, url, NULL),
    LAPS_CONF_KEY_STR("token_url", LAPS_CONF_URL, S, token_url, NULL),
    LAPS_CONF_KEY_STR("client_id", LAPS_CONF_STRING, S, client_id, NULL),
    LAPS_CONF_KEY_STR("client_secret_file", LAPS_CONF_PATH, S, client_secret_file, NULL),
    LAPS_CONF_KEY_STR("scope", LAPS_CONF_STRING, S, scope, NULL),
    LAPS_CONF_KEY_STR("ca_file", LAPS_CONF_PATH, S, ca_file, NULL),
    LAPS_CONF_KEY_DURATION("timeout", S, timeout, 1, 300),
};
#undef S
/* clang-format on */

static int
graph_defaults(void *p)
{
	struct laps_graph_conf *g = p;

	g->timeout = 10;
	if ((g->url = strdup("https://graph.microsoft.com/v1.0")) == NULL ||
	    (g->scope = strdup("https://graph.microsoft.com/.default")) == NULL)
		return LAPS_ERR_NOMEM;
	return 0;
}

const struct laps_conf_section laps_graph_section = {
    "graph", graph_keys, sizeof graph_keys / sizeof graph_keys[0], sizeof(struct laps_graph_conf),
    graph_defaults};

static int
graph_validate(const struct laps_conf *c, enum laps_backend_role role)
{
	const struct laps_graph_conf *g = laps_graph_conf(c);

	(void)role;
	if (g->url == NULL)
		return laps_conf_err(c, "graph", "url", "required for --source graph");
	if (g->token_url == NULL)
		return laps_conf_err(c, "graph", "token_url", "required for --source graph");
	if (g->client_id == NULL)
		return laps_conf_err(c, "graph", "client_id", "required for --source graph");
	if (g->client_secret_file == NULL)
		return laps_conf_err(c, "graph", "client_secret_file",
				     "required for --source graph");
	return 0;
}

const struct laps_backend_conf laps_graph_backend_conf = {
    "graph", &laps_graph_section, graph_validate, NULL, LAPS_BACKEND_CONF_READONLY};
