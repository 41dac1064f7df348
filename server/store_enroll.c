/*
 * store_enroll.c — enrollment tables through store_ops.query (see
 * store_enroll.h).  The conditions (uses left, expiry, revocation, a name
 * held, a disabled device) are in the statements themselves, so two
 * laps-escrowd instances on one database never both win.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "server/fmt.h"
#include "server/store_enroll.h"

#define I64(buf, v) (snprintf((buf), sizeof(buf), "%lld", (long long)(v)), (const char *)(buf))

static int
q(struct store *s, const char *sql, size_t n, const char *const *p, const struct store_audit *a,
  struct store_rows *out)
{
	struct store_rows tmp;
	int rc;

	if (s->ops->query == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "this store has no enrollment tables");
	rc = s->ops->query(s->ctx, sql, n, p, a, out != NULL ? out : &tmp);
	if (out == NULL && rc == 0)
		store_rows_free(&tmp);
	return rc;
}

static void
cpy(char *dst, size_t size, const char *src)
{
	fmt_trunc(dst, size, "%s", src != NULL ? src : "");
}

static int64_t
num(const char *s)
{
	long long v = 0;

	return s != NULL && laps_parse_int64(s, INT64_MIN, INT64_MAX, &v) == 0 ? (int64_t)v : 0;
}

#define TOKEN_COLS                                                                                 \
	"id, hash, unit, name_pattern, created_by, uses_max, uses_left, expires_at,"               \
	" created_at, revoked_at"

static void
token_of(char *const *c, struct enroll_token *t)
{
	memset(t, 0, sizeof *t);
	cpy(t->id, sizeof t->id, c[0]);
	cpy(t->hash, sizeof t->hash, c[1]);
	cpy(t->unit, sizeof t->unit, c[2]);
	cpy(t->pattern, sizeof t->pattern, c[3]);
	cpy(t->created_by, sizeof t->created_by, c[4]);
	t->uses_max = num(c[5]);
	t->uses_left = num(c[6]);
	t->expires_at = num(c[7]);
	t->created_at = num(c[8]);
	t->revoked_at = num(c[9]);
}

int
store_enroll_token_add(struct store *s, const struct enroll_token *t, const struct store_audit *a)
{
	char u[24], e[24], c[24];
	const char *p[] = {t->id,
			   t->hash,
			   t->unit,
			   t->pattern[0] != '\0' ? t->pattern : NULL,
			   t->created_by,
			   I64(u, t->uses_max),
			   I64(e, t->expires_at),
			   I64(c, t->created_at)};

	return q(s,
		 "INSERT INTO enroll_tokens (" TOKEN_COLS ") VALUES ($1, $2, $3, $4, $5,"
		 " CAST($6 AS BIGINT), CAST($6 AS BIGINT), CAST($7 AS BIGINT),"
		 " CAST($8 AS BIGINT), NULL)",
		 8, p, a, NULL);
}

int
store_enroll_token_get(struct store *s, const char *id, struct enroll_token *t)
{
	struct store_rows r;
	const char *p[] = {id};
	int rc;

	if ((rc = q(s, "SELECT " TOKEN_COLS " FROM enroll_tokens WHERE id = $1", 1, p, NULL, &r)) !=
	    0)
		return rc;
	if (r.rows == 1 && r.cols == 10)
		token_of(r.cell, t);
	else
		rc = LAPS_ERR_NOTFOUND;
	store_rows_free(&r);
	return rc;
}

int
store_enroll_token_use(struct store *s, const char *id, int64_t now)
{
	struct store_rows r;
	char n[24];
	const char *p[] = {id, I64(n, now)};
	int rc;

	rc = q(s,
	       "UPDATE enroll_tokens SET uses_left = uses_left - 1 WHERE id = $1 AND uses_left > 0"
	       " AND expires_at > CAST($2 AS BIGINT) AND revoked_at IS NULL",
	       2, p, NULL, &r);
	if (rc == 0 && r.changed != 1)
		rc = laps_seterr(LAPS_ERR_CONFLICT, "the token is used up, expired or revoked");
	store_rows_free(&r);
	return rc;
}

int
store_enroll_token_list(struct store *s, struct enroll_token **v, size_t *n)
{
	struct store_rows r;
	size_t i;
	int rc;

	*v = NULL;
	*n = 0;
	if ((rc = q(s, "SELECT " TOKEN_COLS " FROM enroll_tokens ORDER BY created_at DESC, id", 0,
		    NULL, NULL, &r)) != 0)
		return rc;
	if (r.rows > 0 && r.cols == 10 && (*v = calloc(r.rows, sizeof **v)) == NULL)
		rc = LAPS_ERR_NOMEM;
	for (i = 0; rc == 0 && *v != NULL && i < r.rows; i++)
		token_of(r.cell + i * 10, &(*v)[i]);
	if (rc == 0 && *v != NULL)
		*n = r.rows;
	store_rows_free(&r);
	return rc;
}

int
store_enroll_token_revoke(struct store *s, const char *id, int64_t now, const struct store_audit *a)
{
	struct store_rows r;
	char n[24];
	const char *p[] = {id, I64(n, now)};
	int rc;

	rc = q(s,
	       "UPDATE enroll_tokens SET revoked_at = COALESCE(revoked_at, CAST($2 AS BIGINT))"
	       " WHERE id = $1",
	       2, p, a, &r);
	if (rc == 0 && r.changed != 1)
		rc = LAPS_ERR_NOTFOUND;
	store_rows_free(&r);
	return rc;
}

#define DEVICE_COLS                                                                                \
	"device, serial, via, enrolled_at, renewed_at, not_after, disabled_at,"                    \
	" reenroll_allowed"

static void
device_of(char *const *c, struct enrolled_device *d)
{
	memset(d, 0, sizeof *d);
	cpy(d->device, sizeof d->device, c[0]);
	cpy(d->serial, sizeof d->serial, c[1]);
	cpy(d->via, sizeof d->via, c[2]);
	d->enrolled_at = num(c[3]);
	d->renewed_at = num(c[4]);
	d->not_after = num(c[5]);
	d->disabled_at = num(c[6]);
	d->reenroll_allowed = num(c[7]) != 0;
}

int
store_enrolled_get(struct store *s, const char *device, struct enrolled_device *d)
{
	struct store_rows r;
	const char *p[] = {device};
	int rc;

	if ((rc = q(s, "SELECT " DEVICE_COLS " FROM enrolled_devices WHERE device = $1", 1, p, NULL,
		    &r)) != 0)
		return rc;
	if (r.rows == 1 && r.cols == 8)
		device_of(r.cell, d);
	else
		rc = LAPS_ERR_NOTFOUND;
	store_rows_free(&r);
	return rc;
}

int
store_enrolled_list(struct store *s, const char *after, size_t max, struct enrolled_device **v,
		    size_t *n)
{
	struct store_rows r;
	char m[24];
	const char *p[] = {after, I64(m, max)};
	size_t i;
	int rc;

	*v = NULL;
	*n = 0;
	if ((rc = q(s,
		    "SELECT " DEVICE_COLS " FROM enrolled_devices WHERE (CAST($1 AS TEXT) IS NULL "
					  "OR device > CAST($1 AS TEXT))"
		    " ORDER BY device LIMIT CAST($2 AS BIGINT)",
		    2, p, NULL, &r)) != 0)
		return rc;
	if (r.rows > 0 && r.cols == 8 && (*v = calloc(r.rows, sizeof **v)) == NULL)
		rc = LAPS_ERR_NOMEM;
	for (i = 0; rc == 0 && *v != NULL && i < r.rows; i++)
		device_of(r.cell + i * 8, &(*v)[i]);
	if (rc == 0 && *v != NULL)
		*n = r.rows;
	store_rows_free(&r);
	return rc;
}

int
store_enrolled_change(struct store *s, const char *device, enum enrolled_change what, int64_t now,
		      const struct store_audit *a)
{
	static const char *const sql[] = {
	    "UPDATE enrolled_devices SET disabled_at = COALESCE(disabled_at, CAST($2 AS BIGINT))"
	    " WHERE device = $1",
	    "UPDATE enrolled_devices SET disabled_at = NULL WHERE device = $1 AND CAST($2 AS "
	    "BIGINT) IS NOT NULL",
	    "UPDATE enrolled_devices SET reenroll_allowed = 1 WHERE device = $1 AND CAST($2 AS "
	    "BIGINT) IS NOT NULL"};
	struct store_rows r;
	char n[24];
	const char *p[] = {device, I64(n, now)};
	int rc;

	if ((rc = q(s, sql[what], 2, p, a, &r)) != 0)
		return rc;
	if (r.changed != 1)
		rc = LAPS_ERR_NOTFOUND; /* callers check the device first; rows are never deleted */
	store_rows_free(&r);
	return rc;
}

static int
enrolled_write(struct store *s, const char *sql, const struct enrolled_device *d,
	       const struct store_audit *a)
{
	struct store_rows r;
	char e[24], n[24];
	const char *p[] = {d->device, d->serial, d->via, I64(e, d->enrolled_at),
			   I64(n, d->not_after)};
	int rc;

	/* the audit row ("allowed") only when the conditional write happened;
	 * it is appended right after, before the certificate is answered */
	if ((rc = q(s, sql, 5, p, NULL, &r)) != 0)
		return rc;
	if (r.changed != 1)
		rc = laps_seterr(LAPS_ERR_CONFLICT, "the device name is held or disabled");
	store_rows_free(&r);
	if (rc == 0 && a != NULL)
		rc = s->ops->audit_append(s->ctx, a);
	return rc;
}

int
store_enrolled_new(struct store *s, const struct enrolled_device *d, const struct store_audit *a)
{
	return enrolled_write(
	    s,
	    "INSERT INTO enrolled_devices (device, serial, via, enrolled_at, renewed_at, not_after,"
	    " disabled_at, reenroll_allowed) VALUES ($1, $2, $3, CAST($4 AS BIGINT),"
	    " CAST($4 AS BIGINT), CAST($5 AS BIGINT), NULL, 0)"
	    " ON CONFLICT (device) DO UPDATE SET serial = excluded.serial, via = excluded.via,"
	    " enrolled_at = excluded.enrolled_at, renewed_at = excluded.renewed_at,"
	    " not_after = excluded.not_after, disabled_at = NULL, reenroll_allowed = 0"
	    " WHERE enrolled_devices.reenroll_allowed = 1",
	    d, a);
}

int
store_enrolled_renew(struct store *s, const struct enrolled_device *d, const struct store_audit *a)
{
	return enrolled_write(
	    s,
	    "INSERT INTO enrolled_devices (device, serial, via, enrolled_at, renewed_at, not_after,"
	    " disabled_at, reenroll_allowed) VALUES ($1, $2, $3, CAST($4 AS BIGINT),"
	    " CAST($4 AS BIGINT), CAST($5 AS BIGINT), NULL, 0)"
	    " ON CONFLICT (device) DO UPDATE SET serial = excluded.serial,"
	    " renewed_at = excluded.renewed_at, not_after = excluded.not_after"
	    " WHERE enrolled_devices.disabled_at IS NULL",
	    d, a);
}
