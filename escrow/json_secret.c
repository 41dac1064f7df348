/*
 * json_secret.c — parsing and freeing json-c documents that hold secrets.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "escrow/err.h"
#include "escrow/json_secret.h"
#include "escrow/secret.h"

void
laps_json_wipe(struct json_object *o)
{
	size_t i, n;

	if (o == NULL)
		return;
	switch (json_object_get_type(o)) {
	case json_type_string:
		laps_wipe((void *)(uintptr_t)json_object_get_string(o),
			  (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			laps_json_wipe(json_object_array_get_idx(o, i));
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			laps_json_wipe(val);
		}
		break;
	}
	default:
		break;
	}
}

void
laps_json_free_secret(struct json_object *o)
{
	if (o == NULL)
		return;
	laps_json_wipe(o);
	json_object_put(o);
}

/* Room for the whole input up front, so the printbuf never reallocates. */
static int
tok_presize(struct json_tokener *tok, size_t len)
{
	if (tok->pb == NULL || len > (size_t)INT_MAX - 64 ||
	    printbuf_memset(tok->pb, 0, 0, (int)len + 1) < 0)
		return LAPS_ERR_NOMEM;
	printbuf_reset(tok->pb);
	return 0;
}

/* Wipe the buffer and the objects of an unfinished parse, then free. */
static void
tok_wipe_free(struct json_tokener *tok)
{
	int i;

	if (tok == NULL)
		return;
	for (i = 0; tok->stack != NULL && i <= tok->depth && i < tok->max_depth; i++)
		laps_json_wipe(tok->stack[i].current);
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		laps_wipe(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
}

int
laps_json_parse_secret(const char *json, size_t len, size_t max, int depth, const char *what,
		       struct json_object **out)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	size_t end;
	int rc;

	if (out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "json: no result pointer");
	*out = NULL;
	if (what == NULL)
		what = "JSON";
	if (json == NULL || len == 0)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: empty", what);
	if (len > max || len > (size_t)INT_MAX - 64)
		return laps_seterr(LAPS_ERR_TOOBIG, "%s: larger than %zu bytes", what, max);
	if (memchr(json, '\0', len) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: contains a NUL byte", what);
	if ((tok = json_tokener_new_ex(depth)) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "%s: out of memory", what);
	if ((rc = tok_presize(tok, len)) != 0) {
		rc = laps_seterr(rc, "%s: out of memory", what);
		goto out;
	}
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: malformed JSON (%s)", what,
				 json_tokener_error_desc(json_tokener_get_error(tok)));
		goto out;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (!isspace((unsigned char)json[end])) {
			rc = laps_seterr(LAPS_ERR_FORMAT, "%s: trailing data after the JSON", what);
			goto out;
		}
	}
	if (!json_object_is_type(o, json_type_object)) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: not a JSON object", what);
		goto out;
	}
	*out = o; /* success: the caller frees with laps_json_free_secret */
	o = NULL;
	rc = 0;
out:
	laps_json_free_secret(o);
	tok_wipe_free(tok);
	return rc;
}
