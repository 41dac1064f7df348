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

/*
 * For tests/fuzz/fuzz_http.c: the request-target decoding the server does
 * through libmicrohttpd, without a connection.  target (modified) is the
 * raw "path?query"; the path is decoded into req->path and each query
 * argument into req->params (up to API_MAX_PARAMS, then too_many_params),
 * by the same callbacks the server gives libmicrohttpd.  False when the
 * target holds an encoded '/' or NUL in the path or a NUL in the query
 * (the server answers 400).
 */
bool http_decode_target(char *target, struct api_request *req);
/* The token of an Authorization header value, NULL unless "Bearer TOKEN". */
const char *http_bearer(const char *authz);

/* Identity of the connection's client certificate: 1 when there is none,
 * 0 with *id filled, LAPS_ERR_AUTH (reason in why) when it does not verify
 * or maps to no identity.  (http_tls.c) */
int http_tls_peer(const struct authz *a, void *tls_session, struct identity *id, char *why,
		  size_t whylen);
/* The connection's client certificate (DER, borrowed from the session);
 * false when there is none.  (http_tls.c) */
bool http_tls_peer_der(void *tls_session, const void **der, size_t *len);
/* The connection's client certificate chain as sent (leaf first, at most
 * max, borrowed from the session); the number filled, 0 when none. */
size_t http_tls_peer_chain(void *tls_session, const void *der[], size_t len[], size_t max);
/* The identity of an already verified client certificate (DER): the
 * configured name (CN or DNS subjectAltName) mapped by authz_from_cert().
 * 0 or LAPS_ERR_AUTH (reason in why).  (http_tls.c; the fuzzer calls it.) */
int http_tls_identity(const struct authz *a, const void *der, size_t len, struct identity *id,
		      char *why, size_t whylen);

#endif
