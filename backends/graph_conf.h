/*
 * graph_conf.h — [graph]: Windows LAPS in Entra ID through Microsoft Graph,
 * for laps-get --source graph (read-only; graph_conf.c declares the keys).
 */
#ifndef LAPS_GRAPH_CONF_H
#define LAPS_GRAPH_CONF_H

#include <stdint.h>

#include "backends/backend_conf.h"
#include "escrow/conf.h"

/* Every string is malloc'd or NULL (unset). */
struct laps_graph_conf {
	char *url;	 /* default https://graph.microsoft.com/v1.0 */
	char *token_url; /* OAuth2 token endpoint (client credentials) */
	char *client_id;
	char *client_secret_file; /* root/owner-only file */
	char *scope;		  /* default https://graph.microsoft.com/.default */
	char *ca_file;		  /* extra CA bundle (tests) */
	int64_t timeout;	  /* 1s..300s (default 10s) */
};

extern const struct laps_conf_section laps_graph_section;
extern const struct laps_backend_conf laps_graph_backend_conf;

static inline struct laps_graph_conf *
laps_graph_conf(const struct laps_conf *c)
{
	return (struct laps_graph_conf *)laps_conf_get(c, &laps_graph_section);
}

#endif
