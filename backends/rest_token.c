/*
 * rest_token.c — the REST backend's token endpoint: POST a form, turn the
 * authorization server's refusal into LAPS_ERR_AUTH (or _UNAVAILABLE) naming
 * the OAuth error, parse the token answer.  Shared by every way rest_auth.c
 * gets a token and by the device flow (rest_auth_device.c); calls neither.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "backends/rest_auth_impl.h"
#include "backends/rest_json.h"
#include "escrow/err.h"

static int
token_error(const struct rest_resp *r, const char *what)
{
	char err[REST_CODE_MAX];

	if (r->body != NULL && rest_parse_oauth_error(r->body, r->len, err) == 0)
		return laps_seterr(r->status >= 500 ? LAPS_ERR_UNAVAILABLE : LAPS_ERR_AUTH,
				   "%s: the authorization server refused: %s (HTTP %ld)", what, err,
				   r->status);
	return laps_seterr(r->status >= 500 || r->status == 429 ? LAPS_ERR_UNAVAILABLE
								: LAPS_ERR_AUTH,
			   "%s: HTTP %ld from the authorization server", what, r->status);
}

/* POST form (secret) to url; the token answer's access (and refresh) token. */
int
rest_auth_post_token(struct rest_auth *a, const char *url, const char *auth, const char *form,
		     struct rest_resp *r, char **access, int64_t *expires_in, char **refresh)
{
	struct rest_req q = {"POST", url,	   NULL, auth,	"application/x-www-form-urlencoded",
			     form,   strlen(form), NULL, false, REST_SMALL_BODY};
	char what[300];
	int rc;

	snprintf(what, sizeof what, "POST %s", url);
	q.what = what;
	if ((rc = rest_http_send(a->http, &q, r)) != 0)
		return rc;
	if (r->status != 200)
		return token_error(r, what);
	return rest_parse_token(r->body, r->len, what, access, expires_in, refresh);
}
