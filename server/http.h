/*
 * http.h — laps-escrowd's HTTPS transport on libmicrohttpd (GnuTLS):
 * thread pool, connection limits and timeouts, request bodies capped while
 * they arrive, client certificates verified by the server itself
 * (http_tls.c), bearer tokens handed to a verifier, then api_handle().
 */
#ifndef LAPS_SERVER_HTTP_H
#define LAPS_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/conf.h"
#include "server/api.h"

/* Token verifier: fill id from a bearer token, or return LAPS_ERR_AUTH with
 * a reason (never containing the token) in why. */
typedef int (*http_token_fn)(void *ctx, const char *token, size_t len, int64_t now,
			     struct identity *id, char *why, size_t whylen);

struct http_server;

/* Start serving (cfg [server]; api and cfg must outlive the server).
 * token_fn NULL: bearer tokens are refused.  *out on success. */
int http_start(const struct laps_conf *cfg, struct api *api, http_token_fn token_fn,
	       void *token_ctx, struct http_server **out) __attribute__((warn_unused_result));
/* The port bound (useful with listen = ADDR:0). */
unsigned http_port(const struct http_server *s);
/* Stop accepting, let requests in flight finish (at most grace_ms), stop. */
void http_stop(struct http_server *s, unsigned grace_ms);

/* Identity of the connection's client certificate: 1 when there is none,
 * 0 with *id filled, LAPS_ERR_AUTH (reason in why) when it does not verify
 * or maps to no identity.  (http_tls.c) */
int http_tls_peer(const struct authz *a, void *tls_session, struct identity *id, char *why,
		  size_t whylen);

#endif
