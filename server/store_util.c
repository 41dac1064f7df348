/*
 * store_util.c — helpers shared by the store implementations
 * (store_sqlite.c, store_pg.c) and their callers: freeing what a store
 * returned, and the record changes of confirm and expire.  The registry
 * (store.c) names the implementations; they call this file, never store.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "server/store.h"

void
store_entry_clear(struct store_entry *e)
{
	if (e == NULL)
		return;
	free(e->json);
	memset(e, 0, sizeof *e);
}

void
store_entry_list_free(struct store_entry_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		store_entry_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
store_rows_free(struct store_rows *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; r->cell != NULL && i < r->rows * r->cols; i++)
		free(r->cell[i]);
	free(r->cell);
	memset(r, 0, sizeof *r);
}

void
store_audit_row_clear(struct store_audit_row *r)
{
	if (r == NULL)
		return;
	free(r->actor);
	free(r->kind);
	free(r->device);
	free(r->account);
	free(r->action);
	free(r->outcome);
	free(r->peer);
	free(r->jti);
	memset(r, 0, sizeof *r);
}

bool
store_record_same_secret(const struct laps_record *a, const struct laps_record *b)
{
	size_t i;

	if (a->envelope_len != b->envelope_len || a->n_key_ids != b->n_key_ids)
		return false;
	if (a->envelope_len > 0 && memcmp(a->envelope, b->envelope, a->envelope_len) != 0)
		return false;
	for (i = 0; i < a->n_key_ids; i++)
		if (strcmp(a->key_ids[i], b->key_ids[i]) != 0)
			return false;
	return a->uid == b->uid && a->rotated_at == b->rotated_at;
}

/* Parse, change state/expiry, serialise. */
static int
record_change(const char *json, size_t len, const char *rotation_id, bool confirm,
	      int64_t expires_at, bool *mismatch, char **out)
{
	struct laps_record r;
	int rc;

	laps_record_init(&r);
	if ((rc = laps_record_parse(json, len, &r)) != 0)
		goto out;
	if (rotation_id != NULL && strcmp(r.rotation_id, rotation_id) != 0) {
		*mismatch = true;
		rc = laps_seterr(LAPS_ERR_CONFLICT, "the current record is another rotation");
		goto out;
	}
	/* A pending record's expiry moved earlier while it was pending (an
	 * admin's expire, or a read under [policy] rotate_after_read, which
	 * handed out the pending password too) survives the device's confirm:
	 * the password confirmed now is the one that was seen. */
	if (!confirm || r.state != LAPS_STATE_PENDING || r.expires_at <= 0 ||
	    r.expires_at > expires_at)
		r.expires_at = expires_at;
	if (confirm)
		r.state = LAPS_STATE_CONFIRMED;
	rc = laps_record_serialise(&r, out);
out:
	laps_record_clear(&r);
	return rc;
}

int
store_record_confirm(const char *json, size_t len, const char *rotation_id, int64_t expires_at,
		     bool *mismatch, char **out)
{
	*mismatch = false;
	return record_change(json, len, rotation_id, true, expires_at, mismatch, out);
}

int
store_record_expire(const char *json, size_t len, int64_t expires_at, char **out)
{
	bool mismatch = false;

	return record_change(json, len, NULL, false, expires_at, &mismatch, out);
}

int
store_record_cap(const char *json, size_t len, int64_t expire_by, char **out)
{
	struct laps_record r;
	int rc;

	*out = NULL;
	laps_record_init(&r);
	if ((rc = laps_record_parse(json, len, &r)) == 0 && r.expires_at > expire_by) {
		r.expires_at = expire_by;
		rc = laps_record_serialise(&r, out);
	}
	laps_record_clear(&r);
	return rc;
}
