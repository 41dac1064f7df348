/*
 * enroll_api.h — enrollment tokens (server/enroll_api.c): the bootstrap
 * credential of EST simpleenroll, and the admin routes that make, list
 * and revoke them (/v1/enroll-tokens, docs/REST-API.md §11.1).
 */
#ifndef LAPS_SERVER_ENROLL_API_H
#define LAPS_SERVER_ENROLL_API_H

#include <stdbool.h>
#include <stddef.h>

#include "server/api.h"
#include "server/store_enroll.h"

#define ENROLL_TOKEN_PREFIX "laps-et-"
#define ENROLL_TOKEN_MAX 128

/* Is path /v1/enroll-tokens or below? */
bool enroll_path(const char *path);
/* Answer a /v1/enroll-tokens request. */
void enroll_handle(struct api *api, const struct api_request *req, struct api_response *resp);

/*
 * The enrollment token of an Authorization header value ("Bearer TOKEN",
 * or "Basic" with TOKEN as the password, RFC 7030 §3.2.3), copied to
 * out.  False when the value holds none (another kind of credential).
 */
bool enroll_token_of(const char *authorization, char out[ENROLL_TOKEN_MAX + 1]);
/*
 * Check token against the store: *t filled and 0 when it exists, matches,
 * is not revoked or expired and has uses left (none is taken here);
 * LAPS_ERR_AUTH with a reason (never the token) otherwise, or a store
 * error.
 */
int enroll_token_check(struct api *api, const char *token, int64_t now, struct enroll_token *t,
		       char *why, size_t whylen) __attribute__((warn_unused_result));

#endif
