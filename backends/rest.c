/*
 * rest.c — the REST escrow backend: laps-escrowd's protocol v1
 * (docs/REST-API.md) over rest_http.c, authenticated by rest_auth.c.
 *
 *   read        agent: GET …/accounts/A (metadata, no envelope); admin:
 *               GET …/accounts/A/record (the sealed record).  The ETag is
 *               the version tag.
 *   write       PUT …/record with If-Match: TAG, or If-None-Match: * for a
 *               first record.  412: the metadata is read once more — if the
 *               current record is ours (an earlier attempt landed) that is
 *               success, otherwise LAPS_ERR_CONFLICT.
 *   confirm     POST …/confirm {"rotation_id","expires_at"}
 *   history     GET …/history?limit=N
 *   set_expiry  POST …/expire {"expires_at"}
 *   find        GET /v1/devices?name=Q (every page)
 *   admin       GET/POST of the administration API (laps-get enroll-token,
 *               device): the answer's body, or the status as LAPS_ERR_*
 *   report      GET /v1/report?page_size=N, page after page: each page's
 *               rows go to the caller before the next is asked for, so
 *               memory stays at one page whatever the fleet's size
 *
 * A 401 refreshes the token once; statuses and problem codes map to
 * LAPS_ERR_*; every message names the endpoint, never a token.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sodium.h>

#include "backends/rest_auth.h"
#include "backends/rest_backend.h"
#include "backends/rest_http.h"
#include "backends/rest_json.h"
#include "backends/rest_keystore.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "backends/rest_conf.h"

#define URL_MAX 2048
#define WHAT_MAX 600
#define RECORD_BODY_MAX (LAPS_RECORD_MAX_JSON + 1024)
#define HISTORY_MAX_N 100
#define KEY_FILE_MAX 65536
#define REPORT_PAGE 500		       /* rows asked for per report page */
#define REPORT_BODY_MAX (1024 * 1024) /* a page of 500 rows is < 300 KiB */
#define ADMIN_BODY_MAX (4 * 1024 * 1024) /* admin listings (tokens, enrolled devices) */

struct rest_ctx {
	const struct laps_conf *cfg;
	enum laps_backend_role role;
	struct rest_http *http;
	struct rest_auth *auth;
	char *key_pem; /* mtls: the client key (laps_secret memory) */
	size_t key_len;
	struct rest_keystore_tls tls; /* mtls with key_store = tpm: the TPM key */
	bool curl_init;
	char base[URL_MAX]; /* [rest] url without a trailing '/' */
	char describe[96];
	char break_glass[240]; /* "Laps-Break-Glass: REASON" or "" */
};

/* One request's URL and its name for messages. */
struct target {
	char url[URL_MAX];
	char what[WHAT_MAX];
};

static int
target_account(const struct rest_ctx *c, struct target *t, const char *method,
	       const char *device, const char *account, const char *suffix)
{
	char d[3 * LAPS_DEVICE_MAX + 1], a[3 * LAPS_ACCOUNT_MAX + 1];

	if (rest_urlencode(device, d, sizeof d) != 0 || rest_urlencode(account, a, sizeof a) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "rest: device or account too long");
	if (laps_snprintf(t->url, sizeof t->url, "%s/v1/devices/%s/accounts/%s%s", c->base, d, a,
			  suffix) != 0)
		return laps_seterr(LAPS_ERR_CONFIG, "[rest] url too long");
	return laps_snprintf(t->what, sizeof t->what, "%s /v1/devices/%s/accounts/%s%s", method,
			     d, a, suffix) == 0
		   ? 0
		   : laps_seterr(LAPS_ERR_INTERNAL, "rest: endpoint name too long");
}

/* ------------------------------------------------------------------ */
/* Status → LAPS_ERR_*                                                  */

static int
status_err(long s, const char *code)
{
	if (s == 401)
		return LAPS_ERR_AUTH;
	if (s == 403)
		return LAPS_ERR_ACCESS;
	if (s == 404)
		return LAPS_ERR_NOTFOUND;
	if (s == 409 || s == 412)
		return LAPS_ERR_CONFLICT;
	if (s == 413)
		return LAPS_ERR_TOOBIG;
	if (s == 422 || strcmp(code, "malformed_json") == 0)
		return LAPS_ERR_FORMAT;
	if (s == 429)
		return LAPS_ERR_BUSY;
	if (s == 502 || s == 503 || s == 504)
		return LAPS_ERR_UNAVAILABLE;
	return LAPS_ERR_BACKEND;
}

static int
fail_status(const char *what, const struct rest_resp *r)
{
	char code[REST_CODE_MAX] = "", detail[REST_DETAIL_MAX] = "", tries[48] = "";

	if (r->body == NULL || rest_parse_problem(r->body, r->len, code, detail) != 0) {
		code[0] = detail[0] = '\0';
	}
	if (r->attempts > 1)
		snprintf(tries, sizeof tries, " (gave up after %u attempts)",
				    r->attempts);
	return laps_seterr(status_err(r->status, code), "%s: HTTP %ld%s%s%s%s%s", what, r->status,
			   code[0] ? " " : "", code, detail[0] ? ": " : "", detail, tries);
}

/* ------------------------------------------------------------------ */
/* One authenticated request, with one token refresh after a 401.       */

/* A 401 that a new credential cannot cure: the server's reason (untrusted,
 * expired, wrong purpose ...) when its problem document gives one. */
static int
refused(const char *what, const struct rest_resp *r)
{
	char code[REST_CODE_MAX] = "", detail[REST_DETAIL_MAX] = "";

	if (r->body == NULL || rest_parse_problem(r->body, r->len, code, detail) != 0 ||
	    detail[0] == '\0')
		return laps_seterr_prefix(LAPS_ERR_AUTH, "%s: HTTP 401", what);
	return laps_seterr_prefix(LAPS_ERR_AUTH, "%s: HTTP 401 (the server says: %s)", what,
				  detail);
}

static int
call(struct rest_ctx *c, struct rest_req *q, struct rest_resp *r)
{
	const char *hdr;
	int rc, round;

	if (c->break_glass[0] != '\0')
		q->extra = c->break_glass;
	for (round = 0; round < 2; round++) {
		if ((rc = rest_auth_header(c->auth, &hdr)) != 0)
			return rc;
		q->auth = hdr;
		if ((rc = rest_http_send(c->http, q, r)) != 0)
			return rc;
		if (r->status != 401 || round == 1)
			break;
		if ((rc = rest_auth_refresh(c->auth)) != 0)
			return refused(q->what, r);
	}
	return 0;
}

static int
get(struct rest_ctx *c, const struct target *t, size_t max, struct rest_resp *r)
{
	struct rest_req q = {"GET", t->url, t->what, NULL, NULL, NULL, 0, NULL, false, max};
	int rc;

	if ((rc = call(c, &q, r)) != 0)
		return rc;
	return r->status == 200 ? 0 : fail_status(t->what, r);
}

static int
post_json(struct rest_ctx *c, const struct target *t, const char *body, struct rest_resp *r)
{
	struct rest_req q = {"POST", t->url, t->what, NULL, "application/json", body,
			     strlen(body), NULL, false, REST_SMALL_BODY};
	int rc;

	if ((rc = call(c, &q, r)) != 0)
		return rc;
	return r->status == 200 ? 0 : fail_status(t->what, r);
}

static int
take_etag(const char *what, const struct rest_resp *r, struct laps_version *ver)
{
	if (!rest_etag_ok(r->etag))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: answer without a usable ETag", what);
	memcpy(ver->tag, r->etag, strlen(r->etag) + 1);
	return 0;
}

/* Laps-Rotate-By: unix seconds (digits only, FORMAT.md's range), else 0. */
static int64_t
rotate_by_of(const struct rest_resp *r)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; r->rotate_by[i] != '\0'; i++) {
		if (r->rotate_by[i] < '0' || r->rotate_by[i] > '9' || i >= 12)
			return 0;
		v = v * 10 + (r->rotate_by[i] - '0');
	}
	return v <= 253402300799LL ? v : 0;
}

/* ------------------------------------------------------------------ */
/* Slots                                                                */

static int
read_meta(struct rest_ctx *c, const char *device, const char *account, struct laps_record *out,
	  struct laps_version *ver)
{
	struct target t;
	struct rest_resp r;
	int64_t seq;
	int rc;

	rest_resp_init(&r);
	/* the record's place is checked in laps_backend_read (escrow/backend.c) */
	if ((rc = target_account(c, &t, "GET", device, account, "")) == 0 &&
	    (rc = get(c, &t, REST_SMALL_BODY, &r)) == 0 &&
	    (rc = rest_parse_meta(r.body, r.len, t.what, out, &seq)) == 0)
		rc = take_etag(t.what, &r, ver);
	rest_resp_clear(&r);
	return rc;
}

static int
read_record(struct rest_ctx *c, const char *device, const char *account,
	    struct laps_record *out, struct laps_version *ver)
{
	struct target t;
	struct rest_resp r;
	int rc;

	rest_resp_init(&r);
	if ((rc = target_account(c, &t, "GET", device, account, "/record")) != 0 ||
	    (rc = get(c, &t, RECORD_BODY_MAX, &r)) != 0)
		goto out;
	if ((rc = laps_record_parse(r.body, r.len, out)) != 0) {
		rc = laps_seterr_prefix(rc, "%s", t.what);
		goto out;
	}
	/* that the record is the one asked for is checked once for every
	 * backend, in laps_backend_read (escrow/backend.c) */
	out->rotate_by = rotate_by_of(&r);
	rc = take_etag(t.what, &r, ver);
out:
	rest_resp_clear(&r);
	return rc;
}

static int
slot_read(void *ctx, const char *device, const char *account, struct laps_record *out,
	  struct laps_version *ver)
{
	struct rest_ctx *c = ctx;
	int rc;

	/* a device may read only metadata; an admin reads the sealed record */
	if (c->role == LAPS_ROLE_AGENT)
		rc = read_meta(c, device, account, out, ver);
	else
		rc = read_record(c, device, account, out, ver);
	if (rc == 0)
		snprintf(out->source, sizeof out->source, "%.63s", c->describe);
	else
		ver->tag[0] = '\0';
	return rc;
}

/* After a 412: did our own write land (an earlier attempt whose answer was
 * lost)?  Then its ETag is the new version. */
static int
write_recheck(struct rest_ctx *c, const struct laps_record *rec, const char *what,
	      struct laps_version *newver)
{
	struct laps_record cur;
	struct laps_version v;
	int rc;

	laps_record_init(&cur);
	rc = read_meta(c, rec->device, rec->account, &cur, &v);
	if (rc == 0 && strcmp(cur.rotation_id, rec->rotation_id) == 0) {
		*newver = v;
	} else if (rc == 0 || rc == LAPS_ERR_NOTFOUND) {
		rc = laps_seterr(LAPS_ERR_CONFLICT,
				 "%s: the record changed since it was read (now rotation %s); "
				 "nothing was written",
				 what, rc == 0 ? cur.rotation_id : "none");
	}
	laps_record_clear(&cur);
	return rc;
}

static int
slot_write(void *ctx, const struct laps_record *rec, const char *password,
	   const struct laps_version *expected, struct laps_version *newver)
{
	struct rest_ctx *c = ctx;
	struct rest_req q = {"PUT", NULL, NULL, NULL, "application/json", NULL, 0, NULL, false,
			     REST_SMALL_BODY};
	struct rest_resp r;
	struct target t;
	char *body = NULL;
	int rc;

	(void)password; /* sealed records only */
	rest_resp_init(&r);
	if ((rc = target_account(c, &t, "PUT", rec->device, rec->account, "/record")) != 0 ||
	    (rc = laps_record_serialise(rec, &body)) != 0)
		goto out;
	q.url = t.url;
	q.what = t.what;
	q.body = body;
	q.body_len = strlen(body);
	q.if_none_match = expected->tag[0] == '\0';
	q.if_match = q.if_none_match ? "*" : expected->tag;
	if ((rc = call(c, &q, &r)) != 0)
		goto out;
	if (r.status == 412)
		rc = write_recheck(c, rec, t.what, newver);
	else if (r.status != 200 && r.status != 201)
		rc = fail_status(t.what, &r);
	else
		rc = take_etag(t.what, &r, newver);
out:
	if (body != NULL)
		laps_freezero(body, strlen(body));
	rest_resp_clear(&r);
	return rc;
}

static int
slot_confirm(void *ctx, const char *device, const char *account, const char *rotation_id,
	     int64_t expires_at)
{
	struct rest_ctx *c = ctx;
	struct rest_resp r;
	struct target t;
	char body[128];
	int rc;

	rest_resp_init(&r);
	if ((rc = target_account(c, &t, "POST", device, account, "/confirm")) != 0 ||
	    (rc = laps_snprintf(body, sizeof body, "{\"rotation_id\":\"%s\",\"expires_at\":%lld}",
				rotation_id, (long long)expires_at)) != 0)
		goto out;
	rc = post_json(c, &t, body, &r);
out:
	rest_resp_clear(&r);
	return rc;
}

static int
slot_history(void *ctx, const char *device, const char *account, size_t n,
	     struct laps_record_list *out)
{
	struct rest_ctx *c = ctx;
	struct rest_resp r;
	struct target t;
	char suffix[40];
	size_t lim = n == 0 ? 1 : (n > HISTORY_MAX_N ? HISTORY_MAX_N : n), i;
	int rc;

	if (n == 0)
		return 0;
	rest_resp_init(&r);
	if ((rc = laps_snprintf(suffix, sizeof suffix, "/history?limit=%zu", lim)) != 0 ||
	    (rc = target_account(c, &t, "GET", device, account, suffix)) != 0 ||
	    (rc = get(c, &t, (lim + 1) * RECORD_BODY_MAX, &r)) != 0)
		goto out;
	if ((rc = rest_parse_history(r.body, r.len, t.what, lim, out)) == 0)
		for (i = 0; i < out->n; i++)
			out->v[i].rotate_by = rotate_by_of(&r);
out:
	rest_resp_clear(&r);
	return rc;
}

static int
slot_set_expiry(void *ctx, const char *device, const char *account, int64_t when)
{
	struct rest_ctx *c = ctx;
	struct rest_resp r;
	struct target t;
	char body[64];
	int rc;

	rest_resp_init(&r);
	if ((rc = target_account(c, &t, "POST", device, account, "/expire")) != 0 ||
	    (rc = laps_snprintf(body, sizeof body, "{\"expires_at\":%lld}", (long long)when)) != 0)
		goto out;
	rc = post_json(c, &t, body, &r);
out:
	rest_resp_clear(&r);
	return rc;
}

/* The page tokens a listing has followed, so that a server whose pages
 * form a cycle (t1, t2, t1, ...) is refused at its first repeat, not
 * followed until the run's budget is spent.  Kept as keyed short hashes
 * (a random SipHash key per listing, so a server cannot make two tokens
 * collide on purpose); at most PAGES_MAX of them. */
#define PAGES_MAX 2000 /* pages of one listing: 1,000,000 report rows */

struct page_seen {
	unsigned char key[crypto_shorthash_KEYBYTES];
	uint64_t h[PAGES_MAX];
	unsigned n;
};

static void
page_seen_init(struct page_seen *ps)
{
	crypto_shorthash_keygen(ps->key);
	ps->n = 0;
}

/* 0: a new token, remembered; else an error naming what (cut after n pages). */
static int
page_seen_add(struct page_seen *ps, const char *what, const char *listing, const char *token)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;
	unsigned i;

	if (ps->n == PAGES_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG,
				   "%s: more than %u pages: the %s was cut (a server that never "
				   "ends its pages)",
				   what, PAGES_MAX, listing);
	crypto_shorthash(out, (const unsigned char *)token, strlen(token), ps->key);
	memcpy(&h, out, sizeof h);
	for (i = 0; i < ps->n; i++)
		if (ps->h[i] == h)
			return laps_seterr(LAPS_ERR_FORMAT,
					   "%s: next_page_token repeated after %u pages (the "
					   "server's pages form a cycle): the %s was cut",
					   what, ps->n + 1, listing);
	ps->h[ps->n++] = h;
	return 0;
}

static int
slot_find(void *ctx, const char *name, char (*devices)[LAPS_DEVICE_MAX + 1], size_t max,
	  size_t *n)
{
	struct rest_ctx *c = ctx;
	struct rest_resp r;
	struct target t;
	char q[3 * LAPS_DEVICE_MAX + 1], page[REST_PAGE_TOKEN_MAX + 1] = "",
					 pe[3 * REST_PAGE_TOKEN_MAX + 1];
	struct page_seen *seen;
	size_t k = 0;
	int rc;

	rest_resp_init(&r);
	if ((rc = rest_urlencode(name, q, sizeof q)) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "rest: host name too long");
	if ((seen = malloc(sizeof *seen)) == NULL)
		return LAPS_ERR_NOMEM;
	page_seen_init(seen);
	for (;;) {
		if ((rc = rest_urlencode_query(page, pe, sizeof pe)) != 0 ||
		    (rc = laps_snprintf(t.url, sizeof t.url, "%s/v1/devices?name=%s%s%s", c->base,
					q, page[0] ? "&page_token=" : "", pe)) != 0 ||
		    (rc = laps_snprintf(t.what, sizeof t.what, "GET /v1/devices?name=%s", q)) != 0)
			break;
		rest_resp_clear(&r);
		if ((rc = get(c, &t, 4 * 1024 * 1024, &r)) != 0 ||
		    (rc = rest_parse_devices(r.body, r.len, t.what, devices, max, &k, page)) != 0 ||
		    page[0] == '\0' || (rc = page_seen_add(seen, t.what, "search", page)) != 0)
			break;
	}
	free(seen);
	rest_resp_clear(&r);
	if (rc == 0)
		*n = k;
	return rc;
}

static int
slot_report(void *ctx, laps_report_cb cb, void *arg)
{
	struct rest_ctx *c = ctx;
	struct rest_resp r;
	struct target t;
	char page[REST_PAGE_TOKEN_MAX + 1] = "", pe[3 * REST_PAGE_TOKEN_MAX + 1];
	struct page_seen *seen;
	size_t n;
	int rc;

	rest_resp_init(&r);
	if ((seen = malloc(sizeof *seen)) == NULL)
		return LAPS_ERR_NOMEM;
	page_seen_init(seen);
	for (;;) {
		if ((rc = rest_urlencode_query(page, pe, sizeof pe)) != 0 ||
		    (rc = laps_snprintf(t.url, sizeof t.url, "%s/v1/report?page_size=%d%s%s",
					c->base, REPORT_PAGE, page[0] ? "&page_token=" : "",
					pe)) != 0 ||
		    (rc = laps_snprintf(t.what, sizeof t.what, "GET /v1/report")) != 0)
			break;
		rest_resp_clear(&r);
		if ((rc = get(c, &t, REPORT_BODY_MAX, &r)) != 0 ||
		    (rc = rest_parse_report(r.body, r.len, t.what, cb, arg, &n, page)) != 0 ||
		    page[0] == '\0' || (rc = page_seen_add(seen, t.what, "report", page)) != 0)
			break;
	}
	free(seen);
	rest_resp_clear(&r);
	return rc;
}

/* A filter string the server accepts as it is (no JSON escaping needed). */
static bool
filter_word(const char *v, const char *extra)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || strchr(extra, v[i]) != NULL))
			return false;
	return i > 0 && i <= LAPS_DEVICE_MAX;
}

/* {"filter":{...},"dry_run":B[,"expires_at":N]} into buf. */
static int
expire_body(const struct laps_expire_filter *f, char *buf, size_t len)
{
	char fb[700] = "", part[300];
	const char *keys[4] = {"unit", "name", "account", "status"};
	const char *vals[4] = {f->unit, f->name, f->account, f->status};
	const char *extra[4] = {"_-", ".-_*?[]!", "._-", ""};
	size_t i;
	int rc;

	for (i = 0; i < 4; i++) {
		if (vals[i] == NULL)
			continue;
		if (!filter_word(vals[i], extra[i]))
			return laps_seterr(LAPS_ERR_INVALID, "expire filter: bad %s '%.64s'",
					   keys[i], vals[i]);
		if ((rc = laps_snprintf(part, sizeof part, "%s\"%s\":\"%s\"", fb[0] ? "," : "",
					keys[i], vals[i])) != 0 ||
		    (rc = laps_snprintf(fb + strlen(fb), sizeof fb - strlen(fb), "%s", part)) != 0)
			return rc;
	}
	if (f->rotated_before > 0 &&
	    (rc =
		 laps_snprintf(fb + strlen(fb), sizeof fb - strlen(fb), "%s\"rotated_before\":%lld",
			       fb[0] ? "," : "", (long long)f->rotated_before)) != 0)
		return rc;
	if (fb[0] == '\0')
		return laps_seterr(LAPS_ERR_INVALID, "expire: give at least one filter");
	if (f->expires_at > 0)
		return laps_snprintf(buf, len,
				     "{\"filter\":{%s},\"dry_run\":%s,\"expires_at\":%lld}", fb,
				     f->dry_run ? "true" : "false", (long long)f->expires_at);
	return laps_snprintf(buf, len, "{\"filter\":{%s},\"dry_run\":%s}", fb,
			     f->dry_run ? "true" : "false");
}

static int
slot_expire_many(void *ctx, const struct laps_expire_filter *f, laps_report_cb cb, void *arg,
		 size_t *count)
{
	struct rest_ctx *c = ctx;
	struct rest_req q = {"POST", NULL, NULL, NULL,	"application/json",
			     NULL,   0,	   NULL, false, 4 * 1024 * 1024};
	struct rest_resp r;
	struct target t;
	char body[1024];
	int rc;

	rest_resp_init(&r);
	if ((rc = expire_body(f, body, sizeof body)) != 0 ||
	    (rc = laps_snprintf(t.url, sizeof t.url, "%s/v1/expire", c->base)) != 0 ||
	    (rc = laps_snprintf(t.what, sizeof t.what, "POST /v1/expire")) != 0)
		goto out;
	q.url = t.url;
	q.what = t.what;
	q.body = body;
	q.body_len = strlen(body);
	if ((rc = call(c, &q, &r)) != 0)
		goto out;
	if (r.status != 200) {
		rc = fail_status(t.what, &r);
		goto out;
	}
	rc = rest_parse_expire_many(r.body, r.len, t.what, cb, arg, count);
out:
	rest_resp_clear(&r);
	return rc;
}

/* ------------------------------------------------------------------ */

/* The server's administration API (laps-get enroll-token, device). */
static int
slot_admin(void *ctx, const char *method, const char *path, const char *body, char **answer,
	   size_t *len)
{
	struct rest_ctx *c = ctx;
	struct rest_req q = {method, NULL, NULL, NULL, NULL, NULL, 0, NULL, false, ADMIN_BODY_MAX};
	struct rest_resp r;
	struct target t;
	int rc;

	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		return laps_seterr(LAPS_ERR_INVALID, "rest: admin method %s", method);
	if (laps_snprintf(t.url, sizeof t.url, "%s%s", c->base, path) != 0 ||
	    laps_snprintf(t.what, sizeof t.what, "%s %s", method, path) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "rest: admin path too long");
	q.url = t.url;
	q.what = t.what;
	if (strcmp(method, "POST") == 0) {
		q.ctype = "application/json";
		q.body = body != NULL ? body : "{}";
		q.body_len = strlen(q.body);
	}
	rest_resp_init(&r);
	if ((rc = call(c, &q, &r)) != 0)
		goto out;
	if (r.status < 200 || r.status > 299) {
		rc = fail_status(t.what, &r);
		goto out;
	}
	if (r.body != NULL && r.len > 0) {
		if ((*answer = malloc(r.len + 1)) == NULL) {
			rc = LAPS_ERR_NOMEM;
			goto out;
		}
		memcpy(*answer, r.body, r.len);
		(*answer)[r.len] = '\0';
		*len = r.len;
	}
out:
	rest_resp_clear(&r);
	return rc;
}

static void
slot_close(void *ctx)
{
	struct rest_ctx *c = ctx;

	if (c == NULL)
		return;
	rest_auth_free(c->auth);
	rest_http_free(c->http);
	if (c->key_pem != NULL)
		laps_file_free(c->key_pem, c->key_len, LAPS_FILE_SECRET);
	EVP_PKEY_free(c->tls.key);
	if (c->curl_init)
		rest_http_global_cleanup();
	free(c);
}

/* [rest] ca_file, cert_file: they open (libcurl would only say "error
 * setting certificate file"). */
static int
file_opens(const char *key, const char *path)
{
	int fd;

	if (path == NULL)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return laps_seterr(LAPS_ERR_CONFIG, "rest: [rest] %s %s: %s", key, path,
				   strerror(errno));
	close(fd);
	return 0;
}

/* pem_password_cb: never prompt on the terminal for an encrypted key. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* The client certificate and the key read from key_file are a pair
 * (libcurl would say "unable to set private key file: '(memory blob)'"). */
static int
cert_key_match(const char *cert_file, const char *key_file, const char *pem, size_t len)
{
	BIO *kb = NULL;
	FILE *f = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int rc = LAPS_ERR_CONFIG;

	if ((f = fopen(cert_file, "re")) == NULL ||
	    (x = PEM_read_X509(f, NULL, no_passphrase, NULL)) == NULL) {
		rc = laps_seterr(LAPS_ERR_CONFIG, "rest: [rest] cert_file %s: %s", cert_file,
				 f == NULL ? strerror(errno) : "no PEM certificate in it");
		goto out;
	}
	if ((kb = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (k = PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL)) == NULL) {
		rc = laps_seterr(LAPS_ERR_CONFIG,
				 "rest: [rest] key_file %s: no PEM private key in it", key_file);
		goto out;
	}
	if (X509_check_private_key(x, k) != 1) {
		rc = laps_seterr(
		    LAPS_ERR_CONFIG,
		    "rest: [rest] cert_file %s and key_file %s do not match (the key is "
		    "not the certificate's)",
		    cert_file, key_file);
		goto out;
	}
	rc = 0; /* success */
out:
	ERR_clear_error();
	EVP_PKEY_free(k);
	BIO_free(kb);
	X509_free(x);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* mtls with the key in the TPM: loaded once, checked against cert_file,
 * handed to every connection's SSL_CTX (rest_keystore.h). */
static int
open_tpm_key(struct rest_ctx *c, struct rest_http_opts *o)
{
	const struct laps_rest_conf *r = laps_rest_conf(c->cfg);
	int rc;

	if ((rc = rest_keystore_load(r->key_file, true, &c->tls.key)) != 0 ||
	    (rc = rest_keystore_match(r->cert_file, r->key_file, c->tls.key)) != 0)
		return rc;
	c->tls.cert_file = r->cert_file;
	o->key_tls = &c->tls;
	return 0;
}

static int
open_http(struct rest_ctx *c)
{
	const struct laps_conf *cfg = c->cfg;
	struct rest_http_opts o;
	int rc;

	memset(&o, 0, sizeof o);
	if ((rc = file_opens("ca_file", laps_rest_conf(cfg)->ca_file)) != 0)
		return rc;
	if (laps_rest_conf(cfg)->auth == LAPS_REST_AUTH_MTLS &&
	    (rc = file_opens("cert_file", laps_rest_conf(cfg)->cert_file)) != 0)
		return rc;
	o.ca_file = laps_rest_conf(cfg)->ca_file;
	o.pin = laps_rest_conf(cfg)->pin;
	o.timeout_ms = laps_rest_conf(cfg)->timeout * 1000;
	o.retries = laps_rest_conf(cfg)->retries;
	o.budget_ms = laps_rest_conf(cfg)->budget * 1000;
	if (laps_rest_conf(cfg)->auth == LAPS_REST_AUTH_MTLS &&
	    laps_rest_conf(cfg)->key_uri != NULL) {
		/* the key stays in its token; the engine signs with it */
		o.cert_file = laps_rest_conf(cfg)->cert_file;
		o.key_engine = laps_rest_conf(cfg)->key_engine;
		o.key_uri = laps_rest_conf(cfg)->key_uri;
	} else if (laps_rest_conf(cfg)->auth == LAPS_REST_AUTH_MTLS &&
		   rest_keystore_is_tpm(laps_rest_conf(cfg)->key_store)) {
		if ((rc = open_tpm_key(c, &o)) != 0)
			return rc;
	} else if (laps_rest_conf(cfg)->auth == LAPS_REST_AUTH_MTLS) {
		/* the key is read here, with the owner/mode checks, and handed to
		 * libcurl from memory */
		if ((rc = rest_auth_read_secret(laps_rest_conf(cfg)->key_file, "key_file",
						KEY_FILE_MAX, &c->key_pem, &c->key_len)) != 0)
			return rc;
		if ((rc = cert_key_match(laps_rest_conf(cfg)->cert_file,
					 laps_rest_conf(cfg)->key_file, c->key_pem, c->key_len)) !=
		    0)
			return rc;
		o.cert_file = laps_rest_conf(cfg)->cert_file;
		o.key_pem = c->key_pem;
		o.key_len = c->key_len;
	}
	return rest_http_new(&o, &c->http);
}

/* A reason (break-glass, approval request): printable ASCII without quotes
 * or backslashes, 1..200 characters (laps-escrowd's rule). */
static int
reason_check(const char *reason)
{
	size_t i;

	for (i = 0; reason[i] != '\0'; i++)
		if ((unsigned char)reason[i] < 0x20 || (unsigned char)reason[i] > 0x7e ||
		    reason[i] == '"' || reason[i] == '\\')
			break;
	if (i == 0 || i > 200 || reason[i] != '\0')
		return laps_seterr(LAPS_ERR_INVALID, "--reason: printable text without quotes, "
						     "1 to 200 characters");
	return 0;
}

static int
break_glass_header(struct rest_ctx *c, const char *reason)
{
	int rc;

	if ((rc = reason_check(reason)) != 0)
		return rc;
	return laps_snprintf(c->break_glass, sizeof c->break_glass, "Laps-Break-Glass: %s", reason);
}

/* POST body to url (201 or 200 expected); the answer's body into *answer. */
static int
approval_post(struct rest_ctx *c, struct target *t, const char *body, char **answer)
{
	struct rest_req q = {"POST", t->url,	   t->what, NULL,  "application/json",
			     body,   strlen(body), NULL,    false, REST_SMALL_BODY};
	struct rest_resp r;
	int rc;

	rest_resp_init(&r);
	if ((rc = call(c, &q, &r)) == 0 && r.status != 200 && r.status != 201)
		rc = fail_status(t->what, &r);
	if (rc == 0 && (*answer = strdup(r.body != NULL ? r.body : "{}")) == NULL)
		rc = LAPS_ERR_NOMEM;
	rest_resp_clear(&r);
	return rc;
}

static int
slot_approval(void *ctx, const struct laps_approval_op *op, char **answer)
{
	struct rest_ctx *c = ctx;
	struct rest_resp r;
	struct target t;
	char body[300];
	int rc;

	if (strcmp(op->verb, "request") == 0) {
		if ((rc = target_account(c, &t, "POST", op->device, op->account,
					 "/approval-request")) != 0 ||
		    (rc = reason_check(op->reason != NULL ? op->reason : "")) != 0)
			return rc;
		if ((rc = laps_snprintf(body, sizeof body, "{\"reason\":\"%s\"}", op->reason)) != 0)
			return rc;
		return approval_post(c, &t, body, answer);
	}
	if (strcmp(op->verb, "approve") == 0 || strcmp(op->verb, "deny") == 0) {
		if ((rc = laps_snprintf(t.url, sizeof t.url, "%s/v1/approvals/%lld/%s", c->base,
					(long long)op->id, op->verb)) != 0 ||
		    (rc = laps_snprintf(t.what, sizeof t.what, "POST /v1/approvals/%lld/%s",
					(long long)op->id, op->verb)) != 0)
			return rc;
		return approval_post(c, &t, "{}", answer);
	}
	if ((rc = laps_snprintf(t.url, sizeof t.url, "%s/v1/approvals", c->base)) != 0 ||
	    (rc = laps_snprintf(t.what, sizeof t.what, "GET /v1/approvals")) != 0)
		return rc;
	rest_resp_init(&r);
	if ((rc = get(c, &t, REPORT_BODY_MAX, &r)) == 0 &&
	    (*answer = strdup(r.body != NULL ? r.body : "{}")) == NULL)
		rc = LAPS_ERR_NOMEM;
	rest_resp_clear(&r);
	return rc;
}

static int
slot_open(const struct laps_conf *cfg, enum laps_backend_role role,
	  const struct laps_backend_env *env, void **ctx)
{
	struct rest_ctx *c;
	size_t n;
	int rc;

	*ctx = NULL;
	if ((rc = laps_rest_backend_conf.validate(cfg, role)) != 0) /* [rest] keys */
		return rc;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "rest: out of memory");
	if (env->break_glass != NULL && (rc = break_glass_header(c, env->break_glass)) != 0)
		goto fail;
	c->cfg = cfg;
	c->role = role;
	if ((rc = rest_http_global_init()) != 0)
		goto fail;
	c->curl_init = true;
	if ((rc = laps_snprintf(c->base, sizeof c->base, "%s", laps_rest_conf(cfg)->url)) != 0) {
		rc = laps_seterr(LAPS_ERR_CONFIG, "[rest] url too long");
		goto fail;
	}
	for (n = strlen(c->base); n > 0 && c->base[n - 1] == '/'; n--)
		c->base[n - 1] = '\0';
	if (n > 3 && strcmp(c->base + n - 3, "/v1") == 0) /* "https://host/v1" is fine too */
		c->base[n - 3] = '\0';
	snprintf(c->describe, sizeof c->describe, "rest (%.80s)", c->base);
	if ((rc = open_http(c)) != 0 || (rc = rest_auth_new(cfg, role, c->http, &c->auth)) != 0)
		goto fail;
	*ctx = c;
	return 0;
fail:
	slot_close(c);
	return rc;
}

static unsigned
slot_caps_of(void *ctx)
{
	const struct rest_ctx *c = ctx;

	return laps_backend_rest.caps | (c->role == LAPS_ROLE_AGENT ? LAPS_BCAP_WRITEONLY : 0);
}

static const char *
slot_describe(void *ctx)
{
	return ((const struct rest_ctx *)ctx)->describe;
}

const struct laps_backend_ops laps_backend_rest = {
    .name = "rest",
    .caps = LAPS_BCAP_HISTORY | LAPS_BCAP_EXPIRY | LAPS_BCAP_CAS | LAPS_BCAP_AUDIT |
	    LAPS_BCAP_FIND | LAPS_BCAP_REPORT | LAPS_BCAP_EXACTNAME | LAPS_BCAP_LOCALOPEN,
    .open = slot_open,
    .close = slot_close,
    .read = slot_read,
    .write = slot_write,
    .confirm = slot_confirm,
    .history = slot_history,
    .set_expiry = slot_set_expiry,
    .find = slot_find,
    .report = slot_report,
    .expire_many = slot_expire_many,
    .approval = slot_approval,
    .caps_of = slot_caps_of,
    .describe = slot_describe,
    .admin = slot_admin,
};
