/*
 * record.c — the escrow record and its JSON form (docs/FORMAT.md section 1).
 *
 * Parsing is strict: the input is size-capped, must be one JSON object with
 * exactly the members of its format version, 1 or 2 (each once), and every value is
 * checked for type, range and charset.  Errors carry a detail naming the
 * member.  Serialisation writes the members in a fixed order, compact, so the
 * bytes are reproducible.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "escrow/err.h"
#include "escrow/record.h"
#include "escrow/secret.h"

/* json-c's depth limit: it refuses a 4th level of objects/arrays, so a record
 * nests at most 3 (object > key_ids array > one spare), docs/FORMAT.md 1.2 */
#define RECORD_MAX_DEPTH 4
#define RECORD_TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
#define RECORD_UID_MAX 4294967294LL    /* (uid_t)-1 is not a uid */
#define RECORD_MEMBERS 11	       /* members of version 2; version 1 lacks "seq" */

static const char *const record_members[RECORD_MEMBERS] = {
    "v",	  "device",	"account", "uid",      "rotation_id", "seq",
    "rotated_at", "expires_at", "state",   "envelope", "key_ids",
};

void
laps_record_init(struct laps_record *r)
{
	memset(r, 0, sizeof(*r));
	r->state = LAPS_STATE_PENDING;
}

void
laps_record_clear(struct laps_record *r)
{
	if (r == NULL)
		return;
	free(r->envelope);
	laps_secret_free(r->password);
	laps_record_init(r);
}

int
laps_record_copy(struct laps_record *dst, const struct laps_record *src)
{
	uint8_t *env = NULL;
	char *pw = NULL;

	if (dst == src)
		return 0;
	laps_record_clear(dst);
	if (src->envelope != NULL && src->envelope_len > 0) {
		if ((env = malloc(src->envelope_len)) == NULL)
			return laps_seterr(LAPS_ERR_NOMEM, "record copy");
		memcpy(env, src->envelope, src->envelope_len);
	}
	if (src->password != NULL && (pw = laps_secret_strdup(src->password)) == NULL) {
		free(env);
		return laps_seterr(LAPS_ERR_NOMEM, "record copy");
	}
	memcpy(dst, src, sizeof(*dst));
	dst->envelope = env;
	dst->envelope_len = env != NULL ? src->envelope_len : 0;
	dst->password = pw;
	/* success */
	return 0;
}

void
laps_record_new_rotation_id(char id[LAPS_ROTID_HEX + 1])
{
	unsigned char b[LAPS_ROTID_BYTES];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(id, LAPS_ROTID_HEX + 1, b, sizeof(b));
	sodium_memzero(b, sizeof(b));
}

const char *
laps_record_state_name(enum laps_record_state s)
{
	switch (s) {
	case LAPS_STATE_PENDING:
		return "pending";
	case LAPS_STATE_CONFIRMED:
		return "confirmed";
	}
	return "unknown";
}

/* ---------------------------------------------------------------------- */
/* Field checks shared by the parser and laps_record_validate               */

static bool
is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static bool
hex_ok(const char *s, size_t want)
{
	return strnlen(s, want + 1) == want && is_lower_hex(s, want);
}

bool
laps_record_device_ok(const char *s)
{
	size_t i, label = 0, len;

	if (s == NULL || (len = strnlen(s, LAPS_DEVICE_MAX + 1)) == 0 || len > LAPS_DEVICE_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false; /* leading or double dot */
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0; /* no trailing dot */
}

bool
laps_record_account_ok(const char *s)
{
	size_t i, len;

	if (s == NULL || (len = strnlen(s, LAPS_ACCOUNT_MAX + 1)) == 0 || len > LAPS_ACCOUNT_MAX)
		return false;
	if (s[0] == '.' || s[0] == '-' || s[0] == '$')
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-')
			continue;
		if (c == '$' && i == len - 1)
			continue;
		return false;
	}
	return true;
}

static int
check_time(const char *name, int64_t t)
{
	if (t < 0 || t > RECORD_TIME_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "record: %s: %" PRId64 " out of range 0..%lld",
				   name, t, RECORD_TIME_MAX);
	return 0;
}

static int
check_key_ids(const struct laps_record *r)
{
	size_t i, j;

	if (r->n_key_ids > LAPS_MAX_RECIPIENTS)
		return laps_seterr(LAPS_ERR_FORMAT, "record: key_ids: more than %d entries",
				   LAPS_MAX_RECIPIENTS);
	for (i = 0; i < r->n_key_ids; i++) {
		if (!hex_ok(r->key_ids[i], LAPS_KEYID_MAX))
			return laps_seterr(LAPS_ERR_FORMAT,
					   "record: key_ids[%zu]: not %d lowercase hex digits", i,
					   LAPS_KEYID_MAX);
		for (j = 0; j < i; j++) {
			if (strcmp(r->key_ids[i], r->key_ids[j]) == 0)
				return laps_seterr(LAPS_ERR_FORMAT,
						   "record: key_ids[%zu]: duplicate key id", i);
		}
	}
	return 0;
}

int
laps_record_validate(const struct laps_record *r)
{
	int rc;

	if (r == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "record: NULL");
	if (!laps_record_device_ok(r->device))
		return laps_seterr(LAPS_ERR_FORMAT,
				   "record: device: not a lower-case host name of 1..%d chars",
				   LAPS_DEVICE_MAX);
	if (!laps_record_account_ok(r->account))
		return laps_seterr(LAPS_ERR_FORMAT, "record: account: not a valid account name");
	if ((uint64_t)r->uid > (uint64_t)RECORD_UID_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "record: uid: out of range");
	if (!hex_ok(r->rotation_id, LAPS_ROTID_HEX))
		return laps_seterr(LAPS_ERR_FORMAT,
				   "record: rotation_id: not %d lowercase hex digits",
				   LAPS_ROTID_HEX);
	if (r->seq > LAPS_RECORD_SEQ_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "record: seq: out of range");
	if ((rc = check_time("rotated_at", r->rotated_at)) != 0 ||
	    (rc = check_time("expires_at", r->expires_at)) != 0)
		return rc;
	if (r->state != LAPS_STATE_PENDING && r->state != LAPS_STATE_CONFIRMED)
		return laps_seterr(LAPS_ERR_FORMAT, "record: state: invalid");
	/* An in-memory record read from a clear-text schema has no envelope
	 * (and so no key ids); otherwise both are present. */
	if ((r->envelope == NULL) != (r->envelope_len == 0))
		return laps_seterr(LAPS_ERR_FORMAT, "record: envelope: pointer/length mismatch");
	if (r->envelope_len > LAPS_ENVELOPE_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "record: envelope: longer than %d bytes",
				   LAPS_ENVELOPE_MAX);
	if (r->envelope != NULL && r->n_key_ids == 0)
		return laps_seterr(LAPS_ERR_FORMAT, "record: key_ids: empty");
	if (r->envelope == NULL && r->n_key_ids != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "record: key_ids: set without an envelope");
	return check_key_ids(r);
}

/* ---------------------------------------------------------------------- */
/* Serialise                                                              */

int
laps_record_serialise(const struct laps_record *r, char **json)
{
	char *buf = NULL, *p, seq[32] = "";
	size_t b64len, cap, left, i;
	int n, rc;

	*json = NULL;
	if ((rc = laps_record_validate(r)) != 0)
		return rc;
	if (r->envelope == NULL)
		return laps_seterr(
		    LAPS_ERR_INVALID,
		    "record: envelope: missing (clear-text records have no JSON form)");

	b64len = sodium_base64_ENCODED_LEN(r->envelope_len, sodium_base64_VARIANT_ORIGINAL);
	cap = 1024 + LAPS_DEVICE_MAX + LAPS_ACCOUNT_MAX + b64len +
	      r->n_key_ids * (LAPS_KEYID_MAX + 4);
	if ((buf = malloc(cap)) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "record: serialise");

	if (r->seq > 0)
		(void)snprintf(seq, sizeof(seq), ",\"seq\":%" PRIu64, r->seq);
	n = snprintf(buf, cap,
		     "{\"v\":%d,\"device\":\"%s\",\"account\":\"%s\",\"uid\":%" PRIu32
		     ",\"rotation_id\":\"%s\"%s,\"rotated_at\":%" PRId64 ",\"expires_at\":%" PRId64
		     ",\"state\":\"%s\",\"envelope\":\"",
		     r->seq > 0 ? LAPS_RECORD_VERSION : 1, r->device, r->account, r->uid,
		     r->rotation_id, seq, r->rotated_at, r->expires_at,
		     laps_record_state_name(r->state));
	if (n < 0 || (size_t)n >= cap)
		goto toobig;
	p = buf + n;
	left = cap - (size_t)n;
	if (b64len > left)
		goto toobig;
	sodium_bin2base64(p, b64len, r->envelope, r->envelope_len, sodium_base64_VARIANT_ORIGINAL);
	p += b64len - 1; /* b64len counts the NUL */
	left -= b64len - 1;
	n = snprintf(p, left, "\",\"key_ids\":[");
	if (n < 0 || (size_t)n >= left)
		goto toobig;
	p += n;
	left -= (size_t)n;
	for (i = 0; i < r->n_key_ids; i++) {
		n = snprintf(p, left, "%s\"%s\"", i > 0 ? "," : "", r->key_ids[i]);
		if (n < 0 || (size_t)n >= left)
			goto toobig;
		p += n;
		left -= (size_t)n;
	}
	n = snprintf(p, left, "]}");
	if (n < 0 || (size_t)n >= left)
		goto toobig;
	*json = buf;
	/* success */
	return 0;
toobig:
	free(buf);
	return laps_seterr(LAPS_ERR_INTERNAL, "record: serialise: buffer too small");
}

/* ---------------------------------------------------------------------- */
/* Parse                                                                  */

/*
 * json-c has no option to reject duplicate member names (it keeps the last)
 * and accepts single-quoted strings even in strict mode.  The input has
 * already been accepted by json-c, so a small scan suffices: reject a quote
 * character outside double-quoted strings, and count the member names of the
 * top-level object (strings at depth 1 followed by ':').
 */
static int
prescan(const char *s, size_t len, size_t *nkeys)
{
	size_t i, j, depth = 0, keys = 0;
	bool in_str = false, in_obj[RECORD_MAX_DEPTH + 2] = {false};

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			if (depth == 1 && in_obj[1]) {
				/* find the closing quote, then look for ':' */
				for (j = i + 1; j < len && s[j] != '"'; j++) {
					if (s[j] == '\\')
						j++;
				}
				for (j++; j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' ||
						      s[j] == '\r');
				     j++)
					;
				if (j < len && s[j] == ':')
					keys++;
			}
			break;
		case '\'':
			return laps_seterr(LAPS_ERR_FORMAT,
					   "record: not JSON: single quote at offset %zu", i);
		case '-':
			/* -0 is JSON but not canonical (written as 0); -0.0 and -0e1
			 * are not integers and fail the type check */
			if (i + 1 < len && s[i + 1] == '0' &&
			    (i + 2 >= len || (s[i + 2] != '.' && s[i + 2] != 'e' && s[i + 2] != 'E')))
				return laps_seterr(LAPS_ERR_FORMAT,
						   "record: negative zero at offset %zu", i);
			break;
		case '{':
		case '[':
			if (++depth > RECORD_MAX_DEPTH + 1)
				return laps_seterr(LAPS_ERR_FORMAT, "record: nesting too deep");
			in_obj[depth] = c == '{';
			break;
		case '}':
		case ']':
			if (depth == 0)
				return laps_seterr(LAPS_ERR_FORMAT, "record: not JSON");
			depth--;
			break;
		default:
			break;
		}
	}
	*nkeys = keys;
	return 0;
}

/* Member name for a message: printable ASCII only, truncated. */
static void
safe_name(char *dst, size_t dlen, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < dlen && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f && src[i] != '\'') ? src[i] : '?';
	dst[i] = '\0';
	if (src[i] != '\0' && dlen > 4)
		memcpy(dst + dlen - 4, "...", 4);
}

static int
get_member(json_object *o, const char *name, json_type type, const char *tname, json_object **v)
{
	if (!json_object_object_get_ex(o, name, v))
		return laps_seterr(LAPS_ERR_FORMAT, "record: %s: missing", name);
	if (*v == NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "record: %s: null", name);
	if (!json_object_is_type(*v, type))
		return laps_seterr(LAPS_ERR_FORMAT, "record: %s: not %s", name, tname);
	return 0;
}

static int
get_int(json_object *o, const char *name, long long min, long long max, int64_t *out)
{
	json_object *v;
	int64_t x;
	int rc;

	if ((rc = get_member(o, name, json_type_int, "an integer", &v)) != 0)
		return rc;
	x = json_object_get_int64(v);
	/* json-c saturates out-of-range values; those are out of range anyway */
	if (x < min || x > max)
		return laps_seterr(LAPS_ERR_FORMAT, "record: %s: out of range %lld..%lld", name,
				   min, max);
	*out = x;
	return 0;
}

/* A string member of 1..max bytes without NUL; *s borrowed from o. */
static int
get_str(json_object *o, const char *name, size_t max, const char **s)
{
	json_object *v;
	const char *p;
	int len, rc;

	if ((rc = get_member(o, name, json_type_string, "a string", &v)) != 0)
		return rc;
	p = json_object_get_string(v);
	len = json_object_get_string_len(v);
	if (p == NULL || len <= 0)
		return laps_seterr(LAPS_ERR_FORMAT, "record: %s: empty", name);
	if ((size_t)len > max)
		return laps_seterr(LAPS_ERR_FORMAT, "record: %s: longer than %zu chars", name, max);
	if (memchr(p, '\0', (size_t)len) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "record: %s: contains a NUL character", name);
	*s = p;
	return 0;
}

static int
parse_envelope(json_object *o, struct laps_record *r)
{
	const char *s, *end = NULL;
	uint8_t *bin = NULL;
	char *check = NULL;
	size_t slen, binlen = 0, cap;
	int rc;

	if ((rc = get_str(
		 o, "envelope",
		 sodium_base64_ENCODED_LEN(LAPS_ENVELOPE_MAX, sodium_base64_VARIANT_ORIGINAL) - 1,
		 &s)) != 0)
		return rc;
	slen = strlen(s);
	cap = slen / 4 * 3 + 3;
	if ((bin = malloc(cap)) == NULL || (check = malloc(slen + 1)) == NULL) {
		rc = laps_seterr(LAPS_ERR_NOMEM, "record: envelope");
		goto out;
	}
	if (sodium_base642bin(bin, cap, s, slen, NULL, &binlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + slen || binlen == 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "record: envelope: invalid base64");
		goto out;
	}
	/* canonical form only: re-encoding must give the same text */
	if (sodium_base64_ENCODED_LEN(binlen, sodium_base64_VARIANT_ORIGINAL) != slen + 1) {
		rc = laps_seterr(LAPS_ERR_FORMAT,
				 "record: envelope: invalid base64 (not canonical)");
		goto out;
	}
	sodium_bin2base64(check, slen + 1, bin, binlen, sodium_base64_VARIANT_ORIGINAL);
	if (memcmp(check, s, slen) != 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT,
				 "record: envelope: invalid base64 (not canonical)");
		goto out;
	}
	if (binlen > LAPS_ENVELOPE_MAX) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "record: envelope: longer than %d bytes",
				 LAPS_ENVELOPE_MAX);
		goto out;
	}
	r->envelope = bin;
	r->envelope_len = binlen;
	bin = NULL;
	rc = 0;
out:
	free(bin);
	free(check);
	return rc;
}

static int
parse_key_ids(json_object *o, struct laps_record *r)
{
	json_object *a, *e;
	size_t i, n;
	int rc;

	if ((rc = get_member(o, "key_ids", json_type_array, "an array", &a)) != 0)
		return rc;
	n = json_object_array_length(a);
	if (n == 0)
		return laps_seterr(LAPS_ERR_FORMAT, "record: key_ids: empty");
	if (n > LAPS_MAX_RECIPIENTS)
		return laps_seterr(LAPS_ERR_FORMAT, "record: key_ids: more than %d entries",
				   LAPS_MAX_RECIPIENTS);
	for (i = 0; i < n; i++) {
		const char *s;
		int len;

		e = json_object_array_get_idx(a, i);
		if (e == NULL || !json_object_is_type(e, json_type_string))
			return laps_seterr(LAPS_ERR_FORMAT, "record: key_ids[%zu]: not a string",
					   i);
		s = json_object_get_string(e);
		len = json_object_get_string_len(e);
		if (len != LAPS_KEYID_MAX || !is_lower_hex(s, LAPS_KEYID_MAX))
			return laps_seterr(LAPS_ERR_FORMAT,
					   "record: key_ids[%zu]: not %d lowercase hex digits", i,
					   LAPS_KEYID_MAX);
		memcpy(r->key_ids[i], s, LAPS_KEYID_MAX);
		r->key_ids[i][LAPS_KEYID_MAX] = '\0';
	}
	r->n_key_ids = n;
	return check_key_ids(r); /* duplicates */
}

/*
 * The version first (a newer format may have other members), then that
 * every member belongs to it.  *version: 1 or 2.
 */
static int
check_version_members(json_object *o, size_t nkeys, int64_t *version)
{
	json_object *v;
	size_t i;

	/* json-c kept only the last of duplicates: compare with the text */
	if (nkeys != (size_t)json_object_object_length(o))
		return laps_seterr(LAPS_ERR_FORMAT, "record: duplicate member");
	if (!json_object_object_get_ex(o, "v", &v))
		return laps_seterr(LAPS_ERR_FORMAT, "record: v: missing (format version)");
	if (v == NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "record: v: null");
	if (!json_object_is_type(v, json_type_int))
		return laps_seterr(LAPS_ERR_FORMAT, "record: v: not an integer");
	*version = json_object_get_int64(v);
	if (*version < LAPS_RECORD_VERSION_MIN || *version > LAPS_RECORD_VERSION)
		return laps_seterr(LAPS_ERR_VERSION,
				   "record: v: unsupported format version %" PRId64
				   " (this reader knows %d to %d)",
				   *version, LAPS_RECORD_VERSION_MIN, LAPS_RECORD_VERSION);
	{
		json_object_object_foreach(o, key, val)
		{
			bool known = false;
			char name[40];

			(void)val;
			for (i = 0; i < RECORD_MEMBERS; i++) {
				/* "seq" is a member of version 2 only */
				if (strcmp(key, record_members[i]) == 0 &&
				    (*version >= 2 || strcmp(key, "seq") != 0))
					known = true;
			}
			if (!known) {
				safe_name(name, sizeof(name), key);
				return laps_seterr(LAPS_ERR_FORMAT, "record: unknown member '%s'",
						   name);
			}
		}
	}
	return 0;
}

static int
parse_object(json_object *o, size_t nkeys, struct laps_record *r)
{
	const char *s;
	int64_t x, seq, version = 0;
	int rc;

	if ((rc = check_version_members(o, nkeys, &version)) != 0)
		return rc;
	if ((rc = get_str(o, "device", LAPS_DEVICE_MAX, &s)) != 0)
		return rc;
	if (!laps_record_device_ok(s))
		return laps_seterr(LAPS_ERR_FORMAT, "record: device: not a lower-case host name");
	memcpy(r->device, s, strlen(s) + 1);

	if ((rc = get_str(o, "account", LAPS_ACCOUNT_MAX, &s)) != 0)
		return rc;
	if (!laps_record_account_ok(s))
		return laps_seterr(LAPS_ERR_FORMAT, "record: account: not a valid account name");
	memcpy(r->account, s, strlen(s) + 1);

	if ((rc = get_int(o, "uid", 0, RECORD_UID_MAX, &x)) != 0)
		return rc;
	r->uid = (uint32_t)x;

	if ((rc = get_str(o, "rotation_id", LAPS_ROTID_HEX, &s)) != 0)
		return rc;
	if (!hex_ok(s, LAPS_ROTID_HEX))
		return laps_seterr(LAPS_ERR_FORMAT,
				   "record: rotation_id: not %d lowercase hex digits",
				   LAPS_ROTID_HEX);
	memcpy(r->rotation_id, s, LAPS_ROTID_HEX + 1);

	if (version >= 2) {
		if ((rc = get_int(o, "seq", 1, (long long)LAPS_RECORD_SEQ_MAX, &seq)) != 0)
			return rc;
		r->seq = (uint64_t)seq;
	}

	if ((rc = get_int(o, "rotated_at", 0, RECORD_TIME_MAX, &r->rotated_at)) != 0 ||
	    (rc = get_int(o, "expires_at", 0, RECORD_TIME_MAX, &r->expires_at)) != 0)
		return rc;

	if ((rc = get_str(o, "state", 16, &s)) != 0)
		return rc;
	if (strcmp(s, "pending") == 0)
		r->state = LAPS_STATE_PENDING;
	else if (strcmp(s, "confirmed") == 0)
		r->state = LAPS_STATE_CONFIRMED;
	else
		return laps_seterr(LAPS_ERR_FORMAT,
				   "record: state: neither \"pending\" nor \"confirmed\"");

	if ((rc = parse_envelope(o, r)) != 0)
		return rc;
	return parse_key_ids(o, r);
}

int
laps_record_parse(const char *json, size_t len, struct laps_record *out)
{
	struct json_tokener *tok = NULL;
	json_object *o = NULL;
	enum json_tokener_error jerr;
	struct laps_record r;
	size_t end, nkeys = 0;
	const char *nul;
	int rc;

	laps_record_init(&r);
	laps_record_clear(out);
	if (json == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "record: NULL input");
	if (len > LAPS_RECORD_MAX_JSON)
		return laps_seterr(LAPS_ERR_TOOBIG, "record: larger than %d bytes",
				   LAPS_RECORD_MAX_JSON);
	if ((nul = memchr(json, '\0', len)) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "record: NUL byte at offset %zu",
				   (size_t)(nul - json));
	if ((tok = json_tokener_new_ex(RECORD_MAX_DEPTH)) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "record: parse");
	/* trailing bytes are checked below, for a clearer message */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
					JSON_TOKENER_ALLOW_TRAILING_CHARS);
	o = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (o == NULL) {
		if (jerr == json_tokener_continue || jerr == json_tokener_success)
			rc = laps_seterr(LAPS_ERR_FORMAT, "record: truncated JSON");
		else if (jerr == json_tokener_error_depth)
			rc = laps_seterr(LAPS_ERR_FORMAT,
					 "record: nesting too deep (at most %d levels of objects "
					 "and arrays)",
					 RECORD_MAX_DEPTH - 1);
		else
			rc = laps_seterr(LAPS_ERR_FORMAT, "record: not JSON: %s at offset %zu",
					 json_tokener_error_desc(jerr), end);
		goto out;
	}
	/* only white space may follow the object */
	for (; end < len; end++) {
		if (json[end] != ' ' && json[end] != '\t' && json[end] != '\n' &&
		    json[end] != '\r') {
			rc = laps_seterr(LAPS_ERR_FORMAT, "record: trailing data at offset %zu",
					 end);
			goto out;
		}
	}
	if (!json_object_is_type(o, json_type_object)) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "record: not a JSON object");
		goto out;
	}
	if ((rc = prescan(json, len, &nkeys)) != 0)
		goto out;
	if ((rc = parse_object(o, nkeys, &r)) != 0)
		goto out;
	memcpy(out, &r, sizeof(r));
	laps_record_init(&r);
	/* success */
	rc = 0;
out:
	laps_record_clear(&r);
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Lists                                                                  */

int
laps_record_cmp_newest_first(const struct laps_record *x, const struct laps_record *y)
{
	if (x->seq != y->seq)
		return x->seq > y->seq ? -1 : 1;
	if (x->rotated_at != y->rotated_at)
		return x->rotated_at > y->rotated_at ? -1 : 1;
	return -strcmp(x->rotation_id, y->rotation_id);
}

static int
record_cmp_newest_first(const void *a, const void *b)
{
	return laps_record_cmp_newest_first(a, b);
}

void
laps_record_list_sort(struct laps_record_list *l)
{
	if (l == NULL || l->v == NULL || l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(l->v[0]), record_cmp_newest_first);
}

int
laps_record_list_push(struct laps_record_list *l, const struct laps_record *r)
{
	struct laps_record *v;
	int rc;

	if (l->n >= SIZE_MAX / sizeof(*v) - 1)
		return laps_seterr(LAPS_ERR_NOMEM, "record list");
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "record list");
	l->v = v;
	laps_record_init(&v[l->n]);
	if ((rc = laps_record_copy(&v[l->n], r)) != 0)
		return rc;
	l->n++;
	return 0;
}

void
laps_record_list_free(struct laps_record_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		laps_record_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
