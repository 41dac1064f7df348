/*
 * rest_auth_impl.h — private to rest_auth.c, rest_auth_device.c and
 * rest_token.c.  rest_auth.c calls the other two, rest_auth_device.c calls
 * rest_token.c, and rest_token.c calls neither.
 */
#ifndef LAPS_BACKEND_REST_AUTH_IMPL_H
#define LAPS_BACKEND_REST_AUTH_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/rest_auth.h"
#include "backends/rest_http.h"

struct rest_auth {
	const struct laps_conf *cfg;
	enum laps_backend_role role;
	struct rest_http *http; /* borrowed */
	char *header;		/* "Authorization: Bearer ..." (laps_secret), NULL = none */
	char *refresh;		/* device_code: the refresh token (laps_secret) */
	bool fetched;		/* header is what this run uses */
	bool refreshed;		/* the one refresh after a 401 is spent */
	bool skip_cache;	/* device_code: the cached access token was refused */
};

/* Take token (laps_secret; freed here) as the bearer token; NULL forgets it. */
void rest_auth_set_token(struct rest_auth *a, char *token);
/* rest_token.c: POST a form to a token endpoint: the token answer, or
 * LAPS_ERR_AUTH naming the OAuth error.  r keeps the answer (for the device
 * flow's errors). */
int rest_auth_post_token(struct rest_auth *a, const char *url, const char *auth,
			 const char *form, struct rest_resp *r, char **access,
			 int64_t *expires_in, char **refresh) __attribute__((warn_unused_result));

/* rest_auth_device.c: an administrator's access token (cache, refresh token
 * or a new sign-in); *token in laps_secret memory. */
int rest_auth_device_token(struct rest_auth *a, char **token) __attribute__((warn_unused_result));
/* After a 401: do not trust the cached access token again. */
void rest_auth_device_forget(struct rest_auth *a);

#endif
