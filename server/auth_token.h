/*
 * auth_token.h — bearer access tokens (RFC 9068 JWTs from the [oidc]
 * issuer) to identities, through the JWT/JWKS verifier in server/jwt.h.
 */
#ifndef LAPS_SERVER_AUTH_TOKEN_H
#define LAPS_SERVER_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "escrow/conf.h"
#include "server/authz.h"

struct auth_token;

/* cfg [oidc] and [authz]; cfg and a must outlive *out. */
int auth_token_new(const struct laps_conf *cfg, const struct authz *a, struct auth_token **out)
    __attribute__((warn_unused_result));
void auth_token_free(struct auth_token *t);
/* An http_token_fn (server/http.h). */
int auth_token_verify(void *ctx, const char *token, size_t len, int64_t now, struct identity *id,
		      char *why, size_t whylen);

#endif
