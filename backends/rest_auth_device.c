/*
 * rest_auth_device.c — an administrator signs in with the OAuth 2.0 device
 * authorization grant (RFC 8628): laps-get prints the verification URL and
 * the user code on standard error, polls the token endpoint (honouring
 * interval and slow_down), and caches the access and refresh tokens in
 *   $XDG_CACHE_HOME/laps/token-<hash>.json  (or ~/.cache/laps/...)
 * mode 0600 in a 0700 directory; a cache file that is group/world
 * accessible or owned by someone else is refused.  <hash> is taken over the
 * token endpoint, client id and scope, so two configurations never share
 * tokens.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "backends/rest_auth_impl.h"
#include "backends/rest_json.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/json_secret.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "backends/rest_conf.h"

#define CACHE_MAX (64 * 1024)
#define EARLY_EXPIRY 30 /* a token this close to its expiry is not used */
#define FORM_MAX (REST_TOKEN_MAX * 3 + 4096)

struct cached {
	char *access;  /* laps_secret */
	char *refresh; /* laps_secret or NULL */
	int64_t expires_at;
};

static void
cached_clear(struct cached *c)
{
	laps_secret_free(c->access);
	laps_secret_free(c->refresh);
	memset(c, 0, sizeof *c);
}

static int
cache_path(const struct laps_conf *cfg, char *dir, char *path, size_t len)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	unsigned char h[16];
	char hex[33];
	crypto_generichash_state st;

	if (home == NULL || home[0] != '/')
		home = (pw = getpwuid(geteuid())) != NULL ? pw->pw_dir : NULL;
	if (x != NULL && x[0] == '/') {
		if (laps_snprintf(dir, len, "%s/laps", x) != 0)
			return laps_seterr(LAPS_ERR_CONFIG, "XDG_CACHE_HOME is too long");
	} else if (home == NULL || laps_snprintf(dir, len, "%s/.cache/laps", home) != 0) {
		return laps_seterr(LAPS_ERR_CONFIG, "no home directory for the token cache");
	}
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)laps_rest_conf(cfg)->token_url,
				  strlen(laps_rest_conf(cfg)->token_url) + 1);
	crypto_generichash_update(&st, (const unsigned char *)laps_rest_conf(cfg)->client_id,
				  strlen(laps_rest_conf(cfg)->client_id) + 1);
	if (laps_rest_conf(cfg)->scope != NULL)
		crypto_generichash_update(&st, (const unsigned char *)laps_rest_conf(cfg)->scope,
					  strlen(laps_rest_conf(cfg)->scope));
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	if (laps_snprintf(path, len, "%s/token-%s.json", dir, hex) != 0)
		return laps_seterr(LAPS_ERR_CONFIG, "token cache path too long");
	return 0;
}

static int
cache_parse(const char *buf, size_t n, const char *path, struct cached *c)
{
	struct json_object *o = NULL, *v;
	int rc;

	if ((rc = laps_json_parse_secret(buf, n, CACHE_MAX, 4, path, &o)) != 0)
		return rc;
	rc = laps_seterr(LAPS_ERR_FORMAT, "%s: not a token cache", path);
	if (!json_object_object_get_ex(o, "access_token", &v) ||
	    !json_object_is_type(v, json_type_string) || !rest_token_ok(json_object_get_string(v)))
		goto out;
	if ((c->access = laps_secret_strdup(json_object_get_string(v))) == NULL)
		goto out;
	if (json_object_object_get_ex(o, "refresh_token", &v) &&
	    json_object_is_type(v, json_type_string) && rest_token_ok(json_object_get_string(v)) &&
	    (c->refresh = laps_secret_strdup(json_object_get_string(v))) == NULL)
		goto out;
	if (json_object_object_get_ex(o, "expires_at", &v) && json_object_is_type(v, json_type_int))
		c->expires_at = json_object_get_int64(v);
	rc = 0;
out:
	laps_json_free_secret(o);
	return rc;
}

static int
cache_load(const char *path, struct cached *c)
{
	const unsigned flags = LAPS_FILE_SECRET | LAPS_FILE_OWNER_SELF | LAPS_FILE_MISSING_OK;
	char *buf = NULL;
	size_t n = 0;
	int rc;

	if ((rc = laps_file_read(path, CACHE_MAX, flags, &buf, &n)) != 0)
		return rc;
	rc = cache_parse(buf, n, path, c);
	laps_file_free(buf, n, flags);
	if (rc != 0)
		cached_clear(c);
	return rc;
}

int
rest_auth_cache_check(const char *buf, size_t n, int64_t *expires_at, bool *has_refresh)
{
	struct cached c = {0};
	int rc;

	if ((rc = cache_parse(buf, n, "token cache", &c)) == 0) {
		*expires_at = c.expires_at;
		*has_refresh = c.refresh != NULL;
	}
	cached_clear(&c);
	return rc;
}

static int
cache_save(const char *dir, const char *path, const struct cached *c)
{
	struct json_object *o = json_object_new_object();
	const char *s;
	int rc = LAPS_ERR_NOMEM;

	if (o == NULL ||
	    json_object_object_add(o, "access_token", json_object_new_string(c->access)) ||
	    json_object_object_add(o, "expires_at", json_object_new_int64(c->expires_at)) ||
	    (c->refresh != NULL &&
	     json_object_object_add(o, "refresh_token", json_object_new_string(c->refresh))) ||
	    (s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) == NULL)
		goto out;
	if ((rc = laps_mkdir_p(dir, 0700)) == 0)
		rc = laps_file_write_atomic(path, s, strlen(s), 0600);
	laps_wipe((void *)s, strlen(s));
out:
	laps_json_free_secret(o);
	return rc;
}

/* ------------------------------------------------------------------ */

static int
client_params(const struct laps_conf *cfg, char *buf, size_t len)
{
	char id[768], s[1024] = "", r[1024] = "";

	if (rest_urlencode(laps_rest_conf(cfg)->client_id, id, sizeof id) != 0 ||
	    (laps_rest_conf(cfg)->scope != NULL &&
	     rest_urlencode(laps_rest_conf(cfg)->scope, s, sizeof s) != 0) ||
	    (laps_rest_conf(cfg)->resource != NULL &&
	     rest_urlencode(laps_rest_conf(cfg)->resource, r, sizeof r) != 0))
		return laps_seterr(LAPS_ERR_CONFIG, "[rest] client_id, scope or resource too long");
	return laps_snprintf(buf, len, "client_id=%s%s%s%s%s", id, s[0] ? "&scope=" : "", s,
			     r[0] ? "&resource=" : "", r);
}

static int
refresh_grant(struct rest_auth *a, struct cached *c)
{
	struct rest_resp r;
	char *form = NULL, *acc = NULL, *ref = NULL;
	int64_t exp = 0;
	int rc;

	rest_resp_init(&r);
	if ((form = laps_secret_alloc(FORM_MAX)) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "rest: out of memory");
	if ((rc = client_params(a->cfg, form, FORM_MAX)) != 0 ||
	    (rc = laps_snprintf(form + strlen(form), FORM_MAX - strlen(form),
				"&grant_type=refresh_token&refresh_token=%s", c->refresh)) != 0)
		goto out;
	if ((rc = rest_auth_post_token(a, laps_rest_conf(a->cfg)->token_url, NULL, form, &r, &acc,
				       &exp, &ref)) != 0)
		goto out;
	laps_secret_free(c->access);
	c->access = acc;
	acc = NULL;
	if (ref != NULL) {
		laps_secret_free(c->refresh);
		c->refresh = ref;
		ref = NULL;
	}
	c->expires_at = (int64_t)time(NULL) + (exp > 0 ? exp : 300);
out:
	laps_secret_free(acc);
	laps_secret_free(ref);
	laps_secret_free(form);
	rest_resp_clear(&r);
	return rc;
}

/* One poll: 0 with the tokens, 1 to poll again (interval updated), or an error. */
static int
poll_once(struct rest_auth *a, const char *form, int64_t *interval, struct cached *c)
{
	struct rest_resp r;
	char err[REST_CODE_MAX];
	int64_t exp = 0;
	int rc;

	rest_resp_init(&r);
	rc = rest_auth_post_token(a, laps_rest_conf(a->cfg)->token_url, NULL, form, &r, &c->access,
				  &exp, &c->refresh);
	if (rc == 0) {
		c->expires_at = (int64_t)time(NULL) + (exp > 0 ? exp : 300);
	} else if (r.status == 400 && r.body != NULL &&
		   rest_parse_oauth_error(r.body, r.len, err) == 0) {
		if (strcmp(err, "authorization_pending") == 0) {
			rc = 1;
		} else if (strcmp(err, "slow_down") == 0) {
			*interval += 5; /* RFC 8628 3.5 */
			rc = 1;
		} else {
			rc = laps_seterr(LAPS_ERR_AUTH, "sign-in failed: %s", err);
		}
	}
	rest_resp_clear(&r);
	return rc;
}

static int
device_authorize(struct rest_auth *a, struct rest_device_auth *d)
{
	struct rest_req q = {"POST",
			     laps_rest_conf(a->cfg)->device_auth_url,
			     NULL,
			     NULL,
			     "application/x-www-form-urlencoded",
			     NULL,
			     0,
			     NULL,
			     false,
			     REST_SMALL_BODY};
	struct rest_resp r;
	char form[4096], what[300];
	int rc;

	rest_resp_init(&r);
	snprintf(what, sizeof what, "POST %s", laps_rest_conf(a->cfg)->device_auth_url);
	q.what = what;
	if ((rc = client_params(a->cfg, form, sizeof form)) != 0)
		return rc;
	q.body = form;
	q.body_len = strlen(form);
	if ((rc = rest_http_send(a->http, &q, &r)) != 0)
		goto out;
	if (r.status != 200) {
		rc = laps_seterr(LAPS_ERR_AUTH, "%s: HTTP %ld (is [rest] client_id registered for "
						"the device flow?)",
				 what, r.status);
		goto out;
	}
	rc = rest_parse_device_auth(r.body, r.len, what, d);
out:
	rest_resp_clear(&r);
	return rc;
}

static int
device_signin(struct rest_auth *a, struct cached *c)
{
	struct rest_device_auth d;
	char *form = NULL;
	int64_t end, interval;
	int rc;

	memset(&d, 0, sizeof d);
	if ((rc = device_authorize(a, &d)) != 0)
		return rc;
	fprintf(stderr, "To sign in, open %s and enter the code %s\n", d.verification_uri,
		d.user_code);
	if (d.verification_uri_complete[0])
		fprintf(stderr, "(or open %s)\n", d.verification_uri_complete);
	fprintf(stderr, "Waiting for the sign-in (%lld s) ...\n", (long long)d.expires_in);
	fflush(stderr);
	if ((form = laps_secret_alloc(FORM_MAX)) == NULL) {
		rc = laps_seterr(LAPS_ERR_NOMEM, "rest: out of memory");
		goto out;
	}
	if ((rc = client_params(a->cfg, form, FORM_MAX)) != 0 ||
	    (rc = laps_snprintf(form + strlen(form), FORM_MAX - strlen(form),
				"&grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Adevice_"
				"code&device_code=%s",
				d.device_code)) != 0)
		goto out;
	end = rest_now_ms() + d.expires_in * 1000;
	interval = d.interval;
	do {
		rest_sleep_ms(interval * 1000);
		rest_http_reset_budget(a->http); /* waiting for a human is not network time */
		rc = poll_once(a, form, &interval, c);
	} while (rc == 1 && rest_now_ms() + interval * 1000 < end);
	if (rc == 1)
		rc = laps_seterr(LAPS_ERR_AUTH, "sign-in: the code expired before it was approved");
out:
	laps_secret_free(form);
	rest_device_auth_clear(&d);
	return rc;
}

int
rest_auth_device_token(struct rest_auth *a, char **token)
{
	struct cached c;
	char dir[4096], path[4200];
	int64_t now = (int64_t)time(NULL);
	int rc;

	memset(&c, 0, sizeof c);
	if ((rc = cache_path(a->cfg, dir, path, sizeof dir)) != 0)
		return rc;
	rc = cache_load(path, &c);
	if (rc != 0 && rc != LAPS_ERR_NOTFOUND)
		return rc; /* unsafe owner or mode: refuse, say why */
	if (rc == 0 && !a->skip_cache && c.expires_at > now + EARLY_EXPIRY)
		goto done;
	if (c.refresh != NULL && (rc = refresh_grant(a, &c)) == 0)
		goto save;
	if (c.refresh != NULL)
		log_info("rest: the refresh token was refused; signing in again");
	cached_clear(&c);
	if ((rc = device_signin(a, &c)) != 0)
		goto out;
save:
	if ((rc = cache_save(dir, path, &c)) != 0)
		log_warn("cannot cache the tokens in %s: %s", path, laps_strerror(rc));
done:
	*token = c.access; /* success: passes to the caller */
	c.access = NULL;
	rc = 0;
out:
	cached_clear(&c);
	return rc;
}

void
rest_auth_device_forget(struct rest_auth *a)
{
	a->skip_cache = true;
}
