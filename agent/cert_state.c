/*
 * cert_state.c — <state_dir>/cert, the certificate's renewal outcomes
 * (see cert_state.h; format in docs/AGENT.md).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cert_state.h"
#include "agent/kvfile.h"
#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "escrow/log.h"

#define CERT_STATE_MAGIC "laps-cert-state 1"
#define CERT_STATE_MAX 2048

static int
cert_path(const char *state_dir, char *buf, size_t len)
{
	return laps_snprintf(buf, len, "%s/cert", state_dir);
}

static int
cert_kv(void *ctx, const char *key, const char *v, size_t n)
{
	struct laps_cert_state *s = ctx;
	const char *w = "cert state";
	long long x;
	int rc;

	if (strcmp(key, "failed") == 0)
		return laps_kvfile_copy_str(s->failed, sizeof s->failed, v, n, w, key);
	if (strcmp(key, "last") == 0) {
		if (n == 2 && memcmp(v, "ok", 2) == 0)
			s->last_ok = true;
		else if (!(n == 6 && memcmp(v, "failed", 6) == 0))
			return laps_seterr(LAPS_ERR_FORMAT, "cert state: last is neither ok nor failed");
		return 0;
	}
	if (strcmp(key, "failed_code") == 0) {
		if ((rc = laps_kvfile_copy_int(&x, v, n, -9999, 0, w, key)) != 0)
			return rc;
		s->failed_code = (int)x;
		return 0;
	}
	if (strcmp(key, "renewed_at") == 0 || strcmp(key, "failed_at") == 0) {
		if ((rc = laps_kvfile_copy_int(&x, v, n, 0, INT64_MAX / 2, w, key)) != 0)
			return rc;
		if (key[0] == 'r')
			s->renewed_at = x;
		else
			s->failed_at = x;
		return 0;
	}
	return laps_seterr(LAPS_ERR_FORMAT, "cert state: unknown key '%.31s'", key);
}

int
laps_cert_state_parse(const char *buf, size_t len, struct laps_cert_state *s)
{
	memset(s, 0, sizeof *s);
	return laps_kvfile_parse(buf, len, CERT_STATE_MAGIC, "cert state", cert_kv, s);
}

int
laps_cert_state_load(const char *state_dir, struct laps_cert_state *s)
{
	char path[4096], *buf = NULL;
	size_t len = 0;
	int rc;

	memset(s, 0, sizeof *s);
	if ((rc = cert_path(state_dir, path, sizeof path)) != 0)
		return rc;
	rc = laps_file_read(path, CERT_STATE_MAX, LAPS_FILE_OWNER_ROOT | LAPS_FILE_MISSING_OK, &buf,
			    &len);
	if (rc != 0)
		return rc;
	if ((rc = laps_cert_state_parse(buf, len, s)) != 0) {
		rc = laps_kvfile_prefix_err(rc, path);
		memset(s, 0, sizeof *s);
	}
	free(buf);
	return rc;
}

int
laps_cert_state_store(const char *state_dir, const struct laps_cert_state *s)
{
	char path[4096], buf[CERT_STATE_MAX], why[LAPS_STATE_ERR_MAX + 1];
	size_t off = 0, i;
	int rc;

	/* the reason must stay on one line of printable ASCII */
	for (i = 0; s->failed[i] != '\0' && i < LAPS_STATE_ERR_MAX; i++)
		why[i] = (unsigned char)s->failed[i] < 0x20 || (unsigned char)s->failed[i] >= 0x7f
			     ? ' '
			     : s->failed[i];
	why[i] = '\0';
	if ((rc = cert_path(state_dir, path, sizeof path)) != 0 ||
	    (rc = laps_kvfile_put(buf, sizeof buf, &off,
				  CERT_STATE_MAGIC "\nrenewed_at=%lld\nfailed_at=%lld\n"
						   "failed_code=%d\nfailed=%s\nlast=%s\n",
				  (long long)s->renewed_at, (long long)s->failed_at, s->failed_code,
				  why, s->last_ok ? "ok" : "failed")) != 0)
		return rc;
	return laps_file_write_atomic(path, buf, off, 0600);
}

void
laps_cert_state_note(const char *state_dir, int64_t now, int rc, const char *why)
{
	struct laps_cert_state s;
	char err[512];
	int r;

	if ((r = laps_cert_state_load(state_dir, &s)) != 0 && r != LAPS_ERR_NOTFOUND)
		log_event(LAPS_EV_STATE_UNREADABLE, "%s: starting it afresh",
			  laps_errstr(r, err, sizeof err));
	s.last_ok = rc == 0;
	if (rc == 0) {
		s.renewed_at = now;
	} else {
		s.failed_at = now;
		s.failed_code = rc;
		snprintf(s.failed, sizeof s.failed, "%s", why != NULL ? why : "");
	}
	if ((r = laps_cert_state_store(state_dir, &s)) != 0)
		log_event(LAPS_EV_STATE_WRITE_FAILED, "%s/cert: %s", state_dir,
			  laps_errstr(r, err, sizeof err));
}
