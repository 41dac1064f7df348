/*
 * api_parse.c — the parsers of REST v1 request bodies and headers
 * (docs/REST-API.md): the confirm and expire bodies, If-Match.  Untrusted
 * input: depth-capped JSON, exact members, ranges checked.  Called by the
 * handlers (api_routes.c) and the fuzz target; calls nothing of server/.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/record.h"
#include "server/api.h"
#include "server/api_impl.h"

/* Parse a small JSON object body (depth-capped, nothing after it). */
static int
parse_object(const char *body, size_t len, json_object **out)
{
	struct json_tokener *tok;
	json_object *o;
	size_t i;

	*out = NULL;
	if (len == 0 || len > API_BODY_MAX_OTHER || memchr(body, '\0', len) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "the body is not a JSON object");
	if ((tok = json_tokener_new_ex(API_JSON_DEPTH)) == NULL)
		return LAPS_ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success) {
		for (i = json_tokener_get_parse_end(tok); i < len; i++)
			if (strchr(" \t\r\n", body[i]) == NULL)
				break;
		if (i == len && json_object_is_type(o, json_type_object)) {
			json_tokener_free(tok);
			*out = o;
			return 0;
		}
	}
	json_object_put(o);
	json_tokener_free(tok);
	return laps_seterr(LAPS_ERR_FORMAT, "the body is not a JSON object");
}

int
api_parse_json_object(const char *body, size_t len, json_object **out)
{
	return parse_object(body, len, out);
}

static int
get_time(json_object *o, const char *name, int64_t *out)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return laps_seterr(LAPS_ERR_FORMAT, "'%s' must be an integer", name);
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno != 0 || *out < 0 || *out > 253402300799LL)
		return laps_seterr(LAPS_ERR_FORMAT, "'%s' is out of range", name);
	return 0;
}

static bool
is_rotid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == LAPS_ROTID_HEX;
}

int
api_parse_confirm(const char *body, size_t len, char rotid[LAPS_ROTID_HEX + 1], int64_t *expires_at)
{
	json_object *o = NULL, *v = NULL;
	const char *s;
	int rc;

	if ((rc = parse_object(body, len, &o)) != 0)
		return rc;
	rc = laps_seterr(LAPS_ERR_FORMAT, "expected exactly rotation_id and expires_at");
	if (json_object_object_length(o) != 2 || !json_object_object_get_ex(o, "rotation_id", &v) ||
	    !json_object_is_type(v, json_type_string))
		goto out;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v) || !is_rotid(s)) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "rotation_id must be 32 lower-case hex digits");
		goto out;
	}
	if ((rc = get_time(o, "expires_at", expires_at)) != 0)
		goto out;
	memcpy(rotid, s, LAPS_ROTID_HEX + 1);
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

int
api_parse_expire(const char *body, size_t len, bool *has, int64_t *expires_at)
{
	json_object *o = NULL;
	int rc;

	*has = false;
	if ((rc = parse_object(body, len, &o)) != 0)
		return rc;
	if (json_object_object_length(o) == 0) {
		rc = 0;
	} else if (json_object_object_length(o) == 1) {
		if ((rc = get_time(o, "expires_at", expires_at)) == 0)
			*has = true;
	} else {
		rc = laps_seterr(LAPS_ERR_FORMAT, "expected {} or {\"expires_at\":N}");
	}
	json_object_put(o);
	return rc;
}

int
api_parse_etag(const char *v, int64_t *version)
{
	size_t len, i;
	long long n;
	char digits[24];

	*version = 0;
	len = strlen(v);
	if (len < 2 || v[0] != '"' || v[len - 1] != '"')
		return laps_seterr(LAPS_ERR_FORMAT, "If-Match must be one strong entity tag");
	for (i = 1; i + 1 < len; i++)
		if (v[i] == '"' || (unsigned char)v[i] < 0x21 || (unsigned char)v[i] == 0x7f)
			return laps_seterr(LAPS_ERR_FORMAT,
					   "If-Match must be one strong entity tag");
	if (len < 4 || v[1] != 'v' || len - 3 >= sizeof digits)
		return 0; /* well-formed, not ours: never matches */
	memcpy(digits, v + 2, len - 3);
	digits[len - 3] = '\0';
	if (digits[0] < '1' || digits[0] > '9' || laps_parse_int64(digits, 1, INT64_MAX, &n) != 0)
		return 0;
	*version = n;
	return 0;
}
