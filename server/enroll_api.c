/*
 * enroll_api.c — enrollment tokens (see enroll_api.h).
 *
 * A token is "laps-et-" + 16 hex digits (its id, for lookup and for the
 * admin routes) + "." + 43 base64url characters (32 random bytes).  The
 * store keeps only the SHA-256 of the whole token; it is shown once, in
 * the answer of its creation.  Creating, listing and revoking need the
 * enroll right on the token's unit ([authz] enroll_value@UNIT or
 * globally); every creation and revocation is an audit row.
 */
#include "config.h"

#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "server/api_impl.h"
#include "server/enroll_api.h"
#include "server/fmt.h"

#define PATH_BASE "/v1/enroll-tokens"
#define SECRET_BYTES 32
#define USES_MAX 1000000
#define EXPIRES_MAX (366LL * 86400)

bool
enroll_path(const char *path)
{
	size_t n = sizeof PATH_BASE - 1;

	return strncmp(path, PATH_BASE, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

static void
token_hash(const char *token, char hex[ENROLL_HASH_HEX + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(hex, ENROLL_HASH_HEX + 1, h, sizeof h);
}

static bool
well_formed(const char *tok)
{
	size_t p = sizeof ENROLL_TOKEN_PREFIX - 1, i;

	if (strncmp(tok, ENROLL_TOKEN_PREFIX, p) != 0 || strlen(tok) > ENROLL_TOKEN_MAX)
		return false;
	for (i = 0; i < ENROLL_ID_HEX; i++)
		if (strchr("0123456789abcdef", tok[p + i]) == NULL || tok[p + i] == '\0')
			return false;
	return tok[p + ENROLL_ID_HEX] == '.' && tok[p + ENROLL_ID_HEX + 1] != '\0';
}

bool
enroll_token_of(const char *authorization, char out[ENROLL_TOKEN_MAX + 1])
{
	char dec[ENROLL_TOKEN_MAX * 2];
	const char *colon, *end;
	size_t len = 0;

	out[0] = '\0';
	if (authorization == NULL)
		return false;
	if (strncasecmp(authorization, "Bearer ", 7) == 0) {
		fmt_trunc(out, ENROLL_TOKEN_MAX + 1, "%s", authorization + 7);
	} else if (strncasecmp(authorization, "Basic ", 6) == 0) {
		if (strlen(authorization + 6) > sizeof dec ||
		    sodium_base642bin((unsigned char *)dec, sizeof dec - 1, authorization + 6,
				      strlen(authorization + 6), NULL, &len, &end,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    *end != '\0')
			return false;
		dec[len] = '\0';
		if ((colon = memchr(dec, ':', len)) == NULL)
			return false;
		fmt_trunc(out, ENROLL_TOKEN_MAX + 1, "%s", colon + 1);
		sodium_memzero(dec, sizeof dec);
	}
	if (!well_formed(out)) {
		sodium_memzero(out, ENROLL_TOKEN_MAX + 1);
		return false;
	}
	return true;
}

int
enroll_token_check(struct api *api, const char *token, int64_t now, struct enroll_token *t,
		   char *why, size_t whylen)
{
	char id[ENROLL_ID_HEX + 1], hash[ENROLL_HASH_HEX + 1];
	int rc;

	memcpy(id, token + sizeof ENROLL_TOKEN_PREFIX - 1, ENROLL_ID_HEX);
	id[ENROLL_ID_HEX] = '\0';
	rc = store_enroll_token_get(api->store, id, t);
	if (rc == LAPS_ERR_NOTFOUND) {
		fmt_trunc(why, whylen, "unknown enrollment token");
		return LAPS_ERR_AUTH;
	}
	if (rc != 0)
		return rc;
	token_hash(token, hash);
	if (sodium_memcmp(hash, t->hash, ENROLL_HASH_HEX) != 0)
		fmt_trunc(why, whylen, "enrollment token %s: wrong secret", id);
	else if (t->revoked_at != 0)
		fmt_trunc(why, whylen, "enrollment token %s: revoked", id);
	else if (t->expires_at <= now)
		fmt_trunc(why, whylen, "enrollment token %s: expired", id);
	else if (t->uses_left <= 0)
		fmt_trunc(why, whylen, "enrollment token %s: no uses left", id);
	else
		return 0;
	return LAPS_ERR_AUTH;
}

/* ------------------------------------------------------------------ */
/* Admin routes                                                        */

/* May the admin make/see/revoke tokens of unit? */
static bool
may_unit(const struct api *api, const struct identity *id, const char *unit)
{
	size_t u;

	if (id->kind != ID_ADMIN)
		return false;
	if (id->global & AUTHZ_ENROLL)
		return true;
	for (u = 0; u < api->authz.n_units; u++)
		if (strcmp(api->authz.unit_names[u], unit) == 0)
			return (id->unit_rights[u] & AUTHZ_ENROLL) != 0;
	return false;
}

static bool
unit_known(const struct api *api, const char *unit)
{
	size_t u;

	for (u = 0; u < api->authz.n_units; u++)
		if (strcmp(api->authz.unit_names[u], unit) == 0)
			return true;
	return false;
}

static json_object *
token_json(const struct enroll_token *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(t->id));
	json_object_object_add(o, "unit", json_object_new_string(t->unit));
	json_object_object_add(o, "name_pattern",
			       t->pattern[0] != '\0' ? json_object_new_string(t->pattern) : NULL);
	json_object_object_add(o, "uses", json_object_new_int64(t->uses_max));
	json_object_object_add(o, "uses_left", json_object_new_int64(t->uses_left));
	json_object_object_add(o, "expires_at", json_object_new_int64(t->expires_at));
	json_object_object_add(o, "created_at", json_object_new_int64(t->created_at));
	json_object_object_add(o, "created_by", json_object_new_string(t->created_by));
	json_object_object_add(o, "revoked_at",
			       t->revoked_at != 0 ? json_object_new_int64(t->revoked_at) : NULL);
	return o;
}

static void
answer_json(struct api_response *resp, int status, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	api_take_body(resp, status, s != NULL ? strdup(s) : NULL);
	json_object_put(o);
}

/* The create body into t; 0 or a 400 answered. */
static int
create_body(struct api *api, const struct api_request *req, struct enroll_token *t,
	    struct api_response *resp)
{
	json_object *o = NULL, *v;
	const char *unit = NULL, *pat = NULL;
	int64_t uses = 0, expires_in = 0;
	int rc = -1;

	if (req->body_len == 0 || (o = json_tokener_parse(req->body)) == NULL ||
	    !json_object_is_type(o, json_type_object))
		goto bad;
	if (json_object_object_get_ex(o, "unit", &v) && json_object_is_type(v, json_type_string))
		unit = json_object_get_string(v);
	if (json_object_object_get_ex(o, "name_pattern", &v) &&
	    json_object_is_type(v, json_type_string))
		pat = json_object_get_string(v);
	if (json_object_object_get_ex(o, "uses", &v) && json_object_is_type(v, json_type_int))
		uses = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "expires_in", &v) && json_object_is_type(v, json_type_int))
		expires_in = json_object_get_int64(v);
	if (unit == NULL || strlen(unit) > ENROLL_UNIT_MAX || !unit_known(api, unit) || uses < 1 ||
	    uses > USES_MAX || expires_in < 1 || expires_in > EXPIRES_MAX ||
	    (pat != NULL && (strlen(pat) == 0 || strlen(pat) > ENROLL_PATTERN_MAX)))
		goto bad;
	fmt_trunc(t->unit, sizeof t->unit, "%s", unit);
	fmt_trunc(t->pattern, sizeof t->pattern, "%s", pat != NULL ? pat : "");
	t->uses_max = t->uses_left = uses;
	t->created_at = req->now;
	t->expires_at = req->now + expires_in;
	rc = 0;
	goto out;
bad:
	api_problem(
	    resp, 400, "invalid_body",
	    "send {\"unit\": a unit of [authz] units, \"uses\": 1..1000000, "
	    "\"expires_in\": 1..31622400 seconds, \"name_pattern\": optional shell pattern}");
out:
	json_object_put(o);
	return rc;
}

static void
token_create(struct api *api, const struct api_request *req, struct api_response *resp)
{
	unsigned char secret[SECRET_BYTES], idb[ENROLL_ID_HEX / 2];
	char b64[64], token[ENROLL_TOKEN_MAX + 1], detail[128];
	struct enroll_token t;
	struct store_audit a;
	json_object *o;
	int rc;

	memset(&t, 0, sizeof t);
	if (create_body(api, req, &t, resp) != 0)
		return;
	if (!may_unit(api, req->id, t.unit)) {
		(void)api_deny(api, req, 403, "forbidden",
			       "the enroll right on this unit is missing", "enroll_token_create",
			       NULL, resp);
		return;
	}
	randombytes_buf(idb, sizeof idb);
	randombytes_buf(secret, sizeof secret);
	sodium_bin2hex(t.id, sizeof t.id, idb, sizeof idb);
	sodium_bin2base64(b64, sizeof b64, secret, sizeof secret,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	fmt_trunc(token, sizeof token, ENROLL_TOKEN_PREFIX "%s.%s", t.id, b64);
	token_hash(token, t.hash);
	fmt_trunc(t.created_by, sizeof t.created_by, "%s", req->id->actor);
	fmt_trunc(detail, sizeof detail, "token=%s unit=%s uses=%lld", t.id, t.unit,
		  (long long)t.uses_max);
	api_audit_fill(req, "enroll_token_create", "allowed", NULL, NULL, 201, detail, &a);
	if ((rc = store_enroll_token_add(api->store, &t, &a)) != 0) {
		api_store_problem(resp, rc);
	} else {
		api_audit_log(&a);
		o = token_json(&t);
		json_object_object_add(o, "token", json_object_new_string(token));
		answer_json(resp, 201, o);
	}
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(b64, sizeof b64);
	sodium_memzero(token, sizeof token);
}

static void
token_list(struct api *api, const struct api_request *req, struct api_response *resp)
{
	struct enroll_token *v = NULL;
	json_object *o, *arr;
	size_t n = 0, i;
	int rc;

	if ((rc = store_enroll_token_list(api->store, &v, &n)) != 0) {
		api_store_problem(resp, rc);
		return;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		if (may_unit(api, req->id, v[i].unit))
			json_object_array_add(arr, token_json(&v[i]));
	json_object_object_add(o, "tokens", arr);
	free(v);
	answer_json(resp, 200, o);
}

static void
token_revoke(struct api *api, const struct api_request *req, const char *id,
	     struct api_response *resp)
{
	struct enroll_token t;
	struct store_audit a;
	char detail[64];
	int rc;

	rc = strlen(id) == ENROLL_ID_HEX ? store_enroll_token_get(api->store, id, &t)
					 : LAPS_ERR_NOTFOUND;
	if (rc == 0 && !may_unit(api, req->id, t.unit))
		rc = LAPS_ERR_NOTFOUND; /* invisible, as devices are */
	if (rc == LAPS_ERR_NOTFOUND) {
		api_problem(resp, 404, "not_found", "no such enrollment token");
		return;
	}
	fmt_trunc(detail, sizeof detail, "token=%s", t.id);
	api_audit_fill(req, "enroll_token_revoke", "allowed", NULL, NULL, 200, detail, &a);
	if (rc != 0 || (rc = store_enroll_token_revoke(api->store, t.id, req->now, &a)) != 0) {
		api_store_problem(resp, rc);
		return;
	}
	api_audit_log(&a);
	if (store_enroll_token_get(api->store, t.id, &t) != 0)
		t.revoked_at = req->now;
	answer_json(resp, 200, token_json(&t));
}

void
enroll_handle(struct api *api, const struct api_request *req, struct api_response *resp)
{
	const char *rest = req->path + sizeof PATH_BASE - 1;
	bool post = strcmp(req->method, "POST") == 0;
	char id[ENROLL_ID_HEX + 2];

	if (req->id == NULL) {
		api_unauthenticated(api, req, resp);
		return;
	}
	if (req->id->kind != ID_ADMIN) {
		(void)api_deny_device(api, req, "enroll_token", NULL, resp);
		return;
	}
	if (*rest == '\0') {
		if (!post && strcmp(req->method, "GET") != 0) {
			resp->allow = "GET, POST";
			api_problem(resp, 405, "method_not_allowed", "GET or POST");
		} else if (post) {
			token_create(api, req, resp);
		} else {
			token_list(api, req, resp);
		}
		return;
	}
	/* /{id}/revoke */
	if (strlen(rest) != 1 + ENROLL_ID_HEX + 7 ||
	    strcmp(rest + 1 + ENROLL_ID_HEX, "/revoke") != 0) {
		api_problem(resp, 404, "not_found", "no such resource");
		return;
	}
	if (!post) {
		resp->allow = "POST";
		api_problem(resp, 405, "method_not_allowed", "POST");
		return;
	}
	memcpy(id, rest + 1, ENROLL_ID_HEX);
	id[ENROLL_ID_HEX] = '\0';
	token_revoke(api, req, id, resp);
}
