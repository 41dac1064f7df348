/*
 * state.c — the per-account state file, state.<account>: what this host
 * last confirmed (rotation id, time, digest of the hash it set, last
 * error).  Format: docs/AGENT.md.
 */
#include "config.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kvfile.h"
#include "agent/state.h"
#include "escrow/err.h"
#include "escrow/fileio.h"

#define STATE_MAGIC "laps-state 1"

int
laps_state_path(const char *state_dir, const char *account, char *buf, size_t len)
{
	return laps_kvfile_path(state_dir, "state", account, buf, len);
}

void
laps_state_init(struct laps_agent_state *s, const char *account)
{
	memset(s, 0, sizeof *s);
	if (account != NULL)
		snprintf(s->account, sizeof s->account, "%s", account);
}

static int
state_kv(void *ctx, const char *key, const char *v, size_t n)
{
	struct laps_agent_state *s = ctx;
	const char *w = "state";
	char hex[2 * LAPS_HASH_DIGEST_BYTES + 1];
	long long x;
	size_t bl;
	int rc;

	if (strcmp(key, "account") == 0)
		return laps_kvfile_copy_str(s->account, sizeof s->account, v, n, w, key);
	if (strcmp(key, "rotation_id") == 0) {
		if ((rc = laps_kvfile_copy_str(s->rotation_id, sizeof s->rotation_id, v, n, w,
					       key)) != 0)
			return rc;
		if (n != 0 && !laps_kvfile_valid_rotid(s->rotation_id))
			return laps_seterr(LAPS_ERR_FORMAT, "state: bad rotation_id");
		return 0;
	}
	if (strcmp(key, "backend") == 0)
		return laps_kvfile_copy_str(s->backend, sizeof s->backend, v, n, w, key);
	if (strcmp(key, "last_error") == 0)
		return laps_kvfile_copy_str(s->last_error, sizeof s->last_error, v, n, w, key);
	if (strcmp(key, "hash_digest") == 0) {
		if (n == 0) {
			s->have_digest = false;
			return 0;
		}
		if ((rc = laps_kvfile_copy_str(hex, sizeof hex, v, n, w, key)) != 0)
			return rc;
		if (n != 2 * LAPS_HASH_DIGEST_BYTES ||
		    sodium_hex2bin(s->digest, sizeof s->digest, hex, n, NULL, &bl, NULL) != 0 ||
		    bl != LAPS_HASH_DIGEST_BYTES)
			return laps_seterr(LAPS_ERR_FORMAT, "state: bad hash_digest");
		s->have_digest = true;
		return 0;
	}
	if (strcmp(key, "rotated_at") == 0 || strcmp(key, "expires_at") == 0 ||
	    strcmp(key, "last_run") == 0 || strcmp(key, "last_error_at") == 0) {
		if ((rc = laps_kvfile_copy_int(&x, v, n, 0, INT64_MAX / 2, w, key)) != 0)
			return rc;
		if (key[0] == 'r')
			s->rotated_at = x;
		else if (key[0] == 'e')
			s->expires_at = x;
		else if (strcmp(key, "last_run") == 0)
			s->last_run = x;
		else
			s->last_error_at = x;
		return 0;
	}
	if (strcmp(key, "last_error_code") == 0) {
		if ((rc = laps_kvfile_copy_int(&x, v, n, -9999, 0, w, key)) != 0)
			return rc;
		s->last_error_code = (int)x;
		return 0;
	}
	return laps_seterr(LAPS_ERR_FORMAT, "state: unknown key '%.31s'", key);
}

int
laps_state_parse(const char *buf, size_t len, struct laps_agent_state *s)
{
	char account[LAPS_ACCOUNT_MAX + 1];
	int rc;

	memcpy(account, s->account, sizeof account);
	laps_state_init(s, account);
	if ((rc = laps_kvfile_parse(buf, len, STATE_MAGIC, "state", state_kv, s)) != 0)
		return rc;
	if (account[0] != '\0' && strcmp(account, s->account) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "state: file is for account '%s'", s->account);
	return 0;
}

int
laps_state_load(const char *path, const char *account, struct laps_agent_state *s)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	laps_state_init(s, account);
	rc = laps_file_read(path, LAPS_STATE_MAX, LAPS_FILE_OWNER_ROOT | LAPS_FILE_MISSING_OK, &buf,
			    &len);
	if (rc != 0)
		return rc;
	rc = laps_state_parse(buf, len, s);
	if (rc != 0) {
		rc = laps_kvfile_prefix_err(rc, path);
		laps_state_init(s, account);
	}
	free(buf);
	return rc;
}

int
laps_state_store(const char *path, const struct laps_agent_state *s)
{
	char buf[LAPS_STATE_MAX];
	char hex[2 * LAPS_HASH_DIGEST_BYTES + 1] = "";
	char err[LAPS_STATE_ERR_MAX + 1];
	size_t off = 0, i;
	int rc;

	if (s->have_digest)
		sodium_bin2hex(hex, sizeof hex, s->digest, sizeof s->digest);
	/* the error text must stay on one line */
	for (i = 0; s->last_error[i] != '\0' && i < LAPS_STATE_ERR_MAX; i++)
		err[i] = ((unsigned char)s->last_error[i] < 0x20 ||
			  (unsigned char)s->last_error[i] >= 0x7f)
			     ? ' '
			     : s->last_error[i];
	err[i] = '\0';
	if ((rc = laps_kvfile_put(
		 buf, sizeof buf, &off,
		 STATE_MAGIC "\naccount=%s\nrotation_id=%s\nrotated_at=%lld\nexpires_at=%lld\n"
			     "hash_digest=%s\nbackend=%s\nlast_run=%lld\nlast_error_at=%lld\n"
			     "last_error=%s\nlast_error_code=%d\n",
		 s->account, s->rotation_id, (long long)s->rotated_at, (long long)s->expires_at,
		 hex, s->backend, (long long)s->last_run, (long long)s->last_error_at, err,
		 s->last_error_code)) != 0)
		return rc;
	return laps_file_write_atomic(path, buf, off, 0600);
}
