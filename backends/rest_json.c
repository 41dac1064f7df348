/*
 * rest_json.c — parsing laps-escrowd's and the authorization server's
 * answers (see rest_json.h).  Answers that may carry a secret (tokens,
 * device codes) go through laps_json_parse_secret and are wiped.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "backends/rest_json.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/json_secret.h"
#include "escrow/secret.h"

#define HISTORY_BODY_MAX (101 * (LAPS_RECORD_MAX_JSON + 1024))
#define PAGE_BODY_MAX (4 * 1024 * 1024)
#define TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z, as FORMAT.md */

static struct json_object *
member(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL || !json_object_is_type(v, t))
		return NULL;
	return v;
}

/* A string member of at most max bytes into buf[max + 1]. */
static int
get_str(struct json_object *o, const char *what, const char *key, char *buf, size_t max)
{
	struct json_object *v = member(o, key, json_type_string);
	size_t n;

	if (v == NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: answer without a string \"%s\"", what, key);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n > max || memchr(json_object_get_string(v), '\0', n) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: \"%s\" is empty or longer than %zu bytes",
				   what, key, max);
	memcpy(buf, json_object_get_string(v), n + 1);
	return 0;
}

static int
get_int(struct json_object *o, const char *what, const char *key, int64_t lo, int64_t hi,
	int64_t *out)
{
	struct json_object *v = member(o, key, json_type_int);
	int64_t x;

	if (v == NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: answer without an integer \"%s\"", what,
				   key);
	x = json_object_get_int64(v);
	if (x < lo || x > hi)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: \"%s\" out of range", what, key);
	*out = x;
	return 0;
}

static int
parse(const char *json, size_t len, size_t max, const char *what, struct json_object **o)
{
	return laps_json_parse_secret(json, len, max, REST_JSON_DEPTH, what, o);
}

static int
meta_keyids(struct json_object *o, const char *what, struct laps_record *r)
{
	struct json_object *a = member(o, "key_ids", json_type_array), *v;
	size_t i, n;

	if (a == NULL)
		return 0; /* optional in a metadata answer */
	n = json_object_array_length(a);
	if (n > LAPS_MAX_RECIPIENTS)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: more than %d key ids", what,
				   LAPS_MAX_RECIPIENTS);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		if (v == NULL || !json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) != LAPS_KEYID_MAX ||
		    strspn(json_object_get_string(v), "0123456789abcdef") != LAPS_KEYID_MAX)
			return laps_seterr(LAPS_ERR_FORMAT, "%s: key_ids[%zu] is not a key id",
					   what, i);
		memcpy(r->key_ids[i], json_object_get_string(v), LAPS_KEYID_MAX + 1);
	}
	r->n_key_ids = n;
	return 0;
}

static int
meta_fields(struct json_object *o, const char *what, struct laps_record *r, int64_t *seq)
{
	char state[16];
	int64_t uid = 0;
	int rc;

	if ((rc = get_str(o, what, "device", r->device, LAPS_DEVICE_MAX)) != 0 ||
	    (rc = get_str(o, what, "account", r->account, LAPS_ACCOUNT_MAX)) != 0 ||
	    (rc = get_str(o, what, "rotation_id", r->rotation_id, LAPS_ROTID_HEX)) != 0 ||
	    (rc = get_str(o, what, "state", state, sizeof state - 1)) != 0 ||
	    (rc = get_int(o, what, "rotated_at", 0, TIME_MAX, &r->rotated_at)) != 0 ||
	    (rc = get_int(o, what, "expires_at", 0, TIME_MAX, &r->expires_at)) != 0 ||
	    (rc = get_int(o, what, "seq", 0, INT64_MAX, seq)) != 0)
		return rc;
	if (member(o, "uid", json_type_int) != NULL &&
	    (rc = get_int(o, what, "uid", 0, UINT32_MAX, &uid)) != 0)
		return rc;
	r->uid = (uint32_t)uid;
	if (!laps_record_device_ok(r->device) || !laps_record_account_ok(r->account))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad device or account name", what);
	if (strlen(r->rotation_id) != LAPS_ROTID_HEX ||
	    strspn(r->rotation_id, "0123456789abcdef") != LAPS_ROTID_HEX)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: \"rotation_id\" is not 32 hex digits",
				   what);
	if (strcmp(state, "pending") == 0)
		r->state = LAPS_STATE_PENDING;
	else if (strcmp(state, "confirmed") == 0)
		r->state = LAPS_STATE_CONFIRMED;
	else
		return laps_seterr(LAPS_ERR_FORMAT, "%s: unknown \"state\"", what);
	return meta_keyids(o, what, r);
}

int
rest_parse_meta(const char *json, size_t len, const char *what, struct laps_record *out,
		int64_t *seq)
{
	struct json_object *o = NULL;
	struct laps_record r;
	int64_t s = 0;
	int rc;

	laps_record_init(&r);
	if ((rc = parse(json, len, REST_SMALL_BODY, what, &o)) != 0)
		goto out;
	if ((rc = meta_fields(o, what, &r, &s)) != 0)
		goto out;
	r.seq = (uint64_t)s; /* the server's sequence number is the record's */
	laps_record_clear(out);
	*out = r; /* success: no pointers inside (envelope and password NULL) */
	*seq = s;
out:
	json_object_put(o);
	return rc;
}

static void
copy_clean(char *dst, size_t dlen, const char *src, size_t slen)
{
	size_t i;

	if (slen >= dlen)
		slen = dlen - 1;
	for (i = 0; i < slen; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	dst[slen] = '\0';
}

int
rest_parse_problem(const char *json, size_t len, char code[REST_CODE_MAX],
		   char detail[REST_DETAIL_MAX])
{
	struct json_object *o = NULL, *c, *d;
	int rc;

	if ((rc = parse(json, len, REST_SMALL_BODY, "problem", &o)) != 0)
		return rc;
	c = member(o, "code", json_type_string);
	d = member(o, "detail", json_type_string);
	if (c == NULL || json_object_get_string_len(c) == 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "problem: no \"code\"");
		goto out;
	}
	copy_clean(code, REST_CODE_MAX, json_object_get_string(c),
		   (size_t)json_object_get_string_len(c));
	detail[0] = '\0';
	if (d != NULL)
		copy_clean(detail, REST_DETAIL_MAX, json_object_get_string(d),
			   (size_t)json_object_get_string_len(d));
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

static bool
page_token_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return false;
	return true;
}

static int
next_token(struct json_object *o, const char *what, char next[REST_PAGE_TOKEN_MAX + 1])
{
	struct json_object *v = NULL;

	next[0] = '\0';
	if (!json_object_object_get_ex(o, "next_page_token", &v) || v == NULL)
		return 0; /* null or absent: the last page */
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
	    json_object_get_string_len(v) > REST_PAGE_TOKEN_MAX ||
	    !page_token_ok(json_object_get_string(v)))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad \"next_page_token\"", what);
	memcpy(next, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
	return 0;
}

int
rest_parse_devices(const char *json, size_t len, const char *what,
		   char (*devs)[LAPS_DEVICE_MAX + 1], size_t max, size_t *n,
		   char next[REST_PAGE_TOKEN_MAX + 1])
{
	struct json_object *o = NULL, *a, *v;
	char tok[REST_PAGE_TOKEN_MAX + 1];
	size_t i, cnt, k = *n;
	int rc;

	if ((rc = parse(json, len, PAGE_BODY_MAX, what, &o)) != 0)
		return rc;
	if ((a = member(o, "devices", json_type_array)) == NULL) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: answer without a \"devices\" array", what);
		goto out;
	}
	if ((rc = next_token(o, what, tok)) != 0)
		goto out;
	cnt = json_object_array_length(a);
	for (i = 0; i < cnt; i++) {
		v = json_object_array_get_idx(a, i);
		if (v == NULL || !json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > LAPS_DEVICE_MAX ||
		    !laps_record_device_ok(json_object_get_string(v))) {
			rc = laps_seterr(LAPS_ERR_FORMAT, "%s: devices[%zu] is not a device name",
					 what, i);
			goto out;
		}
		if (k >= max) {
			rc = laps_seterr(LAPS_ERR_TOOBIG, "%s: more than %zu devices", what, max);
			goto out;
		}
		memcpy(devs[k++], json_object_get_string(v),
		       (size_t)json_object_get_string_len(v) + 1);
	}
	*n = k;
	memcpy(next, tok, sizeof tok);
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

/* One report entry (REST-API.md 5.5) into row. */
static int
report_entry(struct json_object *e, const char *what, struct laps_report_row *row)
{
	char state[16];
	int64_t seq;
	int rc;

	memset(row, 0, sizeof *row);
	if (!json_object_is_type(e, json_type_object))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: not an object", what);
	if ((rc = get_str(e, what, "device", row->device, LAPS_DEVICE_MAX)) != 0 ||
	    (rc = get_str(e, what, "account", row->account, LAPS_ACCOUNT_MAX)) != 0 ||
	    (rc = get_str(e, what, "state", state, sizeof state - 1)) != 0 ||
	    (rc = get_int(e, what, "rotated_at", 0, TIME_MAX, &row->rotated_at)) != 0 ||
	    (rc = get_int(e, what, "expires_at", 0, TIME_MAX, &row->expires_at)) != 0 ||
	    (rc = get_int(e, what, "seq", 0, INT64_MAX, &seq)) != 0)
		return rc;
	if (!laps_record_device_ok(row->device) || !laps_record_account_ok(row->account))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad device or account name", what);
	if (strcmp(state, "pending") == 0)
		row->state = LAPS_STATE_PENDING;
	else if (strcmp(state, "confirmed") == 0)
		row->state = LAPS_STATE_CONFIRMED;
	else
		return laps_seterr(LAPS_ERR_FORMAT, "%s: unknown \"state\"", what);
	row->seq = (uint64_t)seq;
	row->has_record = true;
	return 0;
}

int
rest_parse_report(const char *json, size_t len, const char *what, laps_report_cb cb, void *arg,
		  size_t *n, char next[REST_PAGE_TOKEN_MAX + 1])
{
	struct json_object *o = NULL, *a;
	struct laps_report_row row;
	char tok[REST_PAGE_TOKEN_MAX + 1], ew[640];
	size_t i, cnt;
	int rc;

	*n = 0;
	if ((rc = parse(json, len, PAGE_BODY_MAX, what, &o)) != 0)
		return rc;
	if ((a = member(o, "entries", json_type_array)) == NULL) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: answer without an \"entries\" array", what);
		goto out;
	}
	if ((rc = next_token(o, what, tok)) != 0)
		goto out;
	cnt = json_object_array_length(a);
	if (cnt == 0 && tok[0] != '\0') {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: an empty page names a next page", what);
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		snprintf(ew, sizeof ew, "%.600s: entries[%zu]", what, i);
		if ((rc = report_entry(json_object_array_get_idx(a, i), ew, &row)) != 0 ||
		    (rc = cb(arg, &row)) != 0)
			goto out;
		++*n;
	}
	memcpy(next, tok, sizeof tok);
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

int
rest_parse_expire_many(const char *json, size_t len, const char *what, laps_report_cb cb, void *arg,
		       size_t *count)
{
	struct json_object *o = NULL, *a;
	struct laps_report_row row;
	char ew[640];
	int64_t cnt;
	size_t i;
	int rc;

	*count = 0;
	if ((rc = parse(json, len, PAGE_BODY_MAX, what, &o)) != 0)
		return rc;
	if ((a = member(o, "entries", json_type_array)) == NULL ||
	    (rc = get_int(o, what, "count", 0, 1000000, &cnt)) != 0 ||
	    (size_t)cnt != json_object_array_length(a)) {
		rc = laps_seterr(LAPS_ERR_FORMAT,
				 "%s: answer without \"entries\" and a matching "
				 "\"count\"",
				 what);
		goto out;
	}
	for (i = 0; i < (size_t)cnt; i++) {
		snprintf(ew, sizeof ew, "%.600s: entries[%zu]", what, i);
		if ((rc = report_entry(json_object_array_get_idx(a, i), ew, &row)) != 0 ||
		    (rc = cb(arg, &row)) != 0)
			goto out;
	}
	*count = (size_t)cnt;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

int
rest_parse_history(const char *json, size_t len, const char *what, size_t max,
		   struct laps_record_list *out)
{
	struct json_object *o = NULL, *a, *v;
	struct laps_record_list l = {NULL, 0};
	struct laps_record r;
	const char *s;
	size_t i, cnt, slen;
	int rc;

	laps_record_init(&r);
	if ((rc = parse(json, len, HISTORY_BODY_MAX, what, &o)) != 0)
		return rc;
	if ((a = member(o, "records", json_type_array)) == NULL) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: answer without a \"records\" array", what);
		goto out;
	}
	cnt = json_object_array_length(a);
	for (i = 0; i < cnt && i < max; i++) {
		v = json_object_array_get_idx(a, i);
		if (v == NULL || !json_object_is_type(v, json_type_object) ||
		    (s = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &slen)) ==
			NULL) {
			rc = laps_seterr(LAPS_ERR_FORMAT, "%s: records[%zu] is not an object", what,
					 i);
			goto out;
		}
		if ((rc = laps_record_parse(s, slen, &r)) != 0) {
			rc = laps_seterr_prefix(rc, "%s: records[%zu]", what, i);
			goto out;
		}
		if ((rc = laps_record_list_push(&l, &r)) != 0)
			goto out;
		laps_record_clear(&r);
	}
	laps_record_list_free(out);
	*out = l; /* success */
	l.v = NULL;
	l.n = 0;
	rc = 0;
out:
	laps_record_clear(&r);
	laps_record_list_free(&l);
	json_object_put(o);
	return rc;
}

bool
rest_token_ok(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n > REST_TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = t[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-._~+/", c) != NULL)
			continue;
		if (c == '=' && i > 0) { /* only trailing '=' */
			while (t[i] == '=')
				i++;
			return t[i] == '\0';
		}
		return false;
	}
	return true;
}

/* A token member into laps_secret memory; checked with rest_token_ok. */
static int
get_token(struct json_object *o, const char *what, const char *key, bool required, char **out)
{
	struct json_object *v = member(o, key, json_type_string);

	*out = NULL;
	if (v == NULL) {
		if (!required)
			return 0;
		return laps_seterr(LAPS_ERR_FORMAT, "%s: answer without a string \"%s\"", what,
				   key);
	}
	if ((size_t)json_object_get_string_len(v) > REST_TOKEN_MAX ||
	    !rest_token_ok(json_object_get_string(v)))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: \"%s\" is not a usable token", what,
				   key);
	if ((*out = laps_secret_strdup(json_object_get_string(v))) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "%s: out of memory", what);
	return 0;
}

int
rest_parse_token(const char *json, size_t len, const char *what, char **access,
		 int64_t *expires_in, char **refresh)
{
	struct json_object *o = NULL, *tt;
	char *a = NULL, *r = NULL;
	int64_t exp = 0;
	int rc;

	if ((rc = parse(json, len, REST_SMALL_BODY, what, &o)) != 0)
		return rc;
	tt = member(o, "token_type", json_type_string);
	if (tt == NULL || strcasecmp(json_object_get_string(tt), "bearer") != 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: \"token_type\" is not Bearer", what);
		goto out;
	}
	if ((rc = get_token(o, what, "access_token", true, &a)) != 0)
		goto out;
	if (refresh != NULL && (rc = get_token(o, what, "refresh_token", false, &r)) != 0)
		goto out;
	if (member(o, "expires_in", json_type_int) != NULL &&
	    (rc = get_int(o, what, "expires_in", 0, 10 * 365 * 86400LL, &exp)) != 0)
		goto out;
	*access = a; /* success: the caller frees both with laps_secret_free */
	a = NULL;
	if (refresh != NULL)
		*refresh = r;
	r = NULL;
	*expires_in = exp;
	rc = 0;
out:
	laps_secret_free(a);
	laps_secret_free(r);
	laps_json_free_secret(o);
	return rc;
}

int
rest_parse_oauth_error(const char *json, size_t len, char err[REST_CODE_MAX])
{
	struct json_object *o = NULL, *e;
	int rc;

	if ((rc = parse(json, len, REST_SMALL_BODY, "OAuth error", &o)) != 0)
		return rc;
	if ((e = member(o, "error", json_type_string)) == NULL ||
	    json_object_get_string_len(e) == 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "OAuth error: no \"error\"");
		goto out;
	}
	copy_clean(err, REST_CODE_MAX, json_object_get_string(e),
		   (size_t)json_object_get_string_len(e));
	rc = 0;
out:
	laps_json_free_secret(o);
	return rc;
}

void
rest_device_auth_clear(struct rest_device_auth *d)
{
	if (d == NULL)
		return;
	laps_secret_free(d->device_code);
	memset(d, 0, sizeof *d);
}

static int
device_auth_fields(struct json_object *o, const char *what, struct rest_device_auth *d)
{
	int rc;

	if ((rc = get_token(o, what, "device_code", true, &d->device_code)) != 0 ||
	    (rc = get_str(o, what, "user_code", d->user_code, REST_USER_CODE_MAX)) != 0 ||
	    (rc = get_str(o, what, "verification_uri", d->verification_uri, REST_URI_MAX)) != 0 ||
	    (rc = get_int(o, what, "expires_in", 1, 86400, &d->expires_in)) != 0)
		return rc;
	if (strncmp(d->verification_uri, "https://", 8) != 0 ||
	    !page_token_ok(d->verification_uri) || !page_token_ok(d->user_code))
		return laps_seterr(LAPS_ERR_FORMAT,
				   "%s: \"verification_uri\" or \"user_code\" is not printable "
				   "https",
				   what);
	if (member(o, "verification_uri_complete", json_type_string) != NULL &&
	    ((rc = get_str(o, what, "verification_uri_complete", d->verification_uri_complete,
			   REST_URI_MAX)) != 0 ||
	     !page_token_ok(d->verification_uri_complete)))
		return rc != 0 ? rc
			       : laps_seterr(LAPS_ERR_FORMAT,
					     "%s: \"verification_uri_complete\" not printable",
					     what);
	d->interval = 5;
	if (member(o, "interval", json_type_int) != NULL &&
	    (rc = get_int(o, what, "interval", 1, 300, &d->interval)) != 0)
		return rc;
	return 0;
}

int
rest_parse_device_auth(const char *json, size_t len, const char *what,
		       struct rest_device_auth *out)
{
	struct json_object *o = NULL;
	struct rest_device_auth d;
	int rc;

	memset(&d, 0, sizeof d);
	if ((rc = parse(json, len, REST_SMALL_BODY, what, &o)) != 0)
		return rc;
	if ((rc = device_auth_fields(o, what, &d)) != 0)
		goto out;
	rest_device_auth_clear(out);
	*out = d; /* success: device_code passes to the caller */
	d.device_code = NULL;
	rc = 0;
out:
	rest_device_auth_clear(&d);
	laps_json_free_secret(o);
	return rc;
}

int
rest_parse_retry_after(const char *value, int64_t now, int64_t *secs)
{
	long long v;
	time_t t;

	if (value == NULL || value[0] == '\0' || strlen(value) > 64)
		return laps_seterr(LAPS_ERR_FORMAT, "Retry-After: empty or too long");
	if (value[0] >= '0' && value[0] <= '9') {
		if (laps_parse_int64(value, 0, 365LL * 86400, &v) != 0)
			return laps_seterr(LAPS_ERR_FORMAT, "Retry-After: bad delay-seconds");
		*secs = v;
		return 0;
	}
	if ((t = curl_getdate(value, NULL)) == (time_t)-1)
		return laps_seterr(LAPS_ERR_FORMAT, "Retry-After: neither seconds nor an HTTP-date");
	*secs = (int64_t)t > now ? (int64_t)t - now : 0;
	return 0;
}

bool
rest_etag_ok(const char *tag)
{
	size_t i, n = strlen(tag);

	if (n < 2 || n >= LAPS_VERSION_MAX || tag[0] != '"' || tag[n - 1] != '"')
		return false;
	for (i = 1; i + 1 < n; i++)
		if ((unsigned char)tag[i] < 0x21 || (unsigned char)tag[i] > 0x7e || tag[i] == '"')
			return false;
	return true;
}
